//! The rule kinds: what their parameters mean, how they are checked, and how the rows their
//! set-based query returns (`store.rs`) become candidates with a fingerprint, evidence, an
//! explanation's facts and a correction.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{store, Correction, EvidenceRef, Rule};
use crate::error::{CoreError, CoreResult};
use crate::Ctx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// A payable or receivable whose description (`text_patterns`), party (`party_documents`, CNPJ
    /// or CPF) or document type (`document_types`) matches, booked under another category than
    /// `expected_category`. Params: `resource` (`contas_pagar` | `contas_receber`),
    /// `expected_category`, `category_label`, and at least one of the three lists.
    Classification,
    /// Possible integration duplicates: the same supplier, document number, parcel and amount
    /// more than once (flag only). Params: `resource`.
    DuplicateTitles,
    /// An NF-e receipt whose payables do not add up to its value, beyond a tolerance of
    /// `tolerance_amount` or `tolerance_percent` of the receipt (whichever is larger).
    ReceiptValue,
    /// A client-month billed above or below what its contracts ask for beyond the tolerance, a
    /// client billed without a contract, or a contract without billing (`ops::contracts`; the
    /// tolerance, date basis and months are the contracts' billing settings). No params.
    BillingContract,
    /// Pending verification (RF-002): an Omie payable records a service NF taken against a purchase
    /// order (`numero_pedido`) that BackOffice has not closed (never tried, or the closure failed).
    /// The fix is the closure job, which reads the order first and does nothing to a closed one.
    /// Params: `from_date` (ISO date; payables emitted before it are not looked at; empty: all).
    ServiceOrderOpen,
    /// Pending verification (RF-001): an Omie payable born of an NF-e receipt (origin NFEP, same NF
    /// number and supplier) whose receipt's attachments BackOffice has no record of copying. The fix
    /// is the attachment transfer. Params: `from_date` as above.
    ReceiptAttachments,
    /// Value validation: a Contífico document whose lines (quantity × price less discount) do not
    /// add up to its taxable bases, or whose bases plus taxes are not its total, beyond
    /// `tolerance_amount`. Params: `resource` (`documentos_venta` | `documentos_compra` |
    /// `documentos`), `tolerance_amount`.
    DocumentLines,
    /// Pending verification (inter-company): a submitted ERPNext delivery note from site A to the
    /// company of site B, with no purchase receipt on site B naming it (`supplier_delivery_note`).
    /// The fix is the transfer run that made it (resume) or a new one. Params: `from_date`.
    DeliveryWithoutReceipt,
    /// Pending verification: a Contífico sales document (of `document_types`, default FAC) that no
    /// journal entry names in its description. Contífico documents no link between a document and
    /// its entry; the document number in the entry's `glosa` is the reading chosen here. A company
    /// whose entries were never synced is skipped and named. Params: `document_types`, `from_date`.
    SaleWithoutEntry,
}

/// The rules a new database starts with: (id, kind, name, params, confidence, show threshold).
pub const DEFAULT_RULES: &[(&str, &str, &str, &str, u8, u8)] = &[
    (
        "omie_trade_marketing",
        "classification",
        "Trade Marketing (Omie payables)",
        r#"{"resource":"contas_pagar","expected_category":"2.04.01","category_label":"Trade Marketing","text_patterns":["trade marketing"],"party_documents":[],"document_types":[]}"#,
        95,
        50,
    ),
    (
        "omie_duplicate_payables",
        "duplicate_titles",
        "Possible duplicate payables (Omie)",
        r#"{"resource":"contas_pagar"}"#,
        85,
        50,
    ),
    (
        "omie_receipt_value",
        "receipt_value",
        "NF-e receipt vs its payables (Omie)",
        r#"{"tolerance_amount":"0.05","tolerance_percent":"0"}"#,
        70,
        50,
    ),
    ("billing_vs_contract", "billing_contract", "Billing vs contract", r#"{}"#, 90, 50),
    (
        "contifico_advertising",
        "classification",
        "Advertising purchases (Contífico, local category)",
        r#"{"resource":"documentos_compra","expected_category":"5.2.04","category_label":"Publicidad y propaganda","text_patterns":["publicidad"],"party_documents":[],"document_types":[]}"#,
        95,
        50,
    ),
    (
        "omie_service_order_open",
        "service_order_open",
        "Service NF posted, order not closed (Omie)",
        r#"{"from_date":"{30_days_ago}"}"#,
        85,
        50,
    ),
    (
        "omie_receipt_attachments",
        "receipt_attachments",
        "NF-e receipt attachments not on its payable (Omie)",
        r#"{"from_date":"{30_days_ago}"}"#,
        85,
        50,
    ),
    (
        "erpnext_delivery_without_receipt",
        "delivery_without_receipt",
        "Delivery to the other company without its receipt (ERPNext)",
        r#"{"from_date":"{30_days_ago}"}"#,
        95,
        50,
    ),
    (
        "contifico_sale_without_entry",
        "sale_without_entry",
        "Sales invoice without its journal entry (Contífico)",
        r#"{"document_types":["FAC"],"from_date":"{30_days_ago}"}"#,
        85,
        50,
    ),
    (
        "contifico_document_lines",
        "document_lines",
        "Sales document total vs its lines (Contífico)",
        r#"{"resource":"documentos_venta","tolerance_amount":"0.02"}"#,
        70,
        50,
    ),
];

/// In a default rule's parameters, the date 30 days before the rule is created: the pending
/// checks look at what is recent when BackOffice starts watching, not at years of history.
pub const THIRTY_DAYS_AGO: &str = "{30_days_ago}";

impl RuleKind {
    pub fn parse(s: &str) -> CoreResult<RuleKind> {
        match s {
            "classification" => Ok(RuleKind::Classification),
            "duplicate_titles" => Ok(RuleKind::DuplicateTitles),
            "receipt_value" => Ok(RuleKind::ReceiptValue),
            "billing_contract" => Ok(RuleKind::BillingContract),
            "service_order_open" => Ok(RuleKind::ServiceOrderOpen),
            "receipt_attachments" => Ok(RuleKind::ReceiptAttachments),
            "document_lines" => Ok(RuleKind::DocumentLines),
            "delivery_without_receipt" => Ok(RuleKind::DeliveryWithoutReceipt),
            "sale_without_entry" => Ok(RuleKind::SaleWithoutEntry),
            other => Err(CoreError::invalid(
                "kind",
                format!(
                    "\"{other}\" is not a rule kind: use classification, duplicate_titles, receipt_value, billing_contract, service_order_open, receipt_attachments, document_lines, delivery_without_receipt or sale_without_entry"
                ),
            )),
        }
    }

    /// The ERP field a correction of this kind changes; none for a kind that only flags.
    pub fn correction_field(self) -> Option<&'static str> {
        match self {
            RuleKind::Classification => Some("codigo_categoria"),
            RuleKind::DuplicateTitles
            | RuleKind::ReceiptValue
            | RuleKind::BillingContract
            | RuleKind::ServiceOrderOpen
            | RuleKind::ReceiptAttachments
            | RuleKind::DocumentLines
            | RuleKind::DeliveryWithoutReceipt
            | RuleKind::SaleWithoutEntry => None,
        }
    }

    /// Checks a rule's parameters; the message names the rule and the parameter to fix.
    pub fn check(self, rule: &Rule) -> CoreResult<()> {
        let bad = |field: &str, why: String| CoreError::invalid(field, format!("rule \"{}\": {why}", rule.name));
        let p = &rule.params;
        match self {
            RuleKind::Classification => {
                let resource = text(p, "resource");
                let contifico = classification_erp(&resource) == Some("contifico");
                if classification_erp(&resource).is_none() {
                    return Err(bad(
                        "resource",
                        format!(
                            "\"{resource}\" is not contas_pagar or contas_receber (Omie), documentos_compra or documentos_venta (Contífico)"
                        ),
                    ));
                }
                let cat = text(p, "expected_category");
                if !is_category_code(&cat) {
                    return Err(bad(
                        "expected_category",
                        format!(
                            "\"{cat}\" is not a category code (like {}: digits separated by dots)",
                            if contifico { "5.2.04" } else { "2.04.01" }
                        ),
                    ));
                }
                let (texts, docs, types) =
                    (list(p, "text_patterns"), list(p, "party_documents"), list(p, "document_types"));
                if texts.iter().chain(&docs).chain(&types).all(|s| s.trim().is_empty()) {
                    return Err(bad(
                        "text_patterns",
                        "give at least one text pattern, party CNPJ/CPF or document type to match".into(),
                    ));
                }
                for d in docs.iter().filter(|_| contifico) {
                    let digits: String = d.chars().filter(char::is_ascii_digit).collect();
                    if digits.len() != 10 && digits.len() != 13 {
                        return Err(bad(
                            "party_documents",
                            format!("\"{d}\" is not a RUC (13 digits) or a cédula (10 digits)"),
                        ));
                    }
                }
                for d in docs.iter().filter(|_| !contifico) {
                    if crate::erp::omie::local_clients::document_kind(
                        &crate::erp::omie::local_clients::normalize_document(d),
                    )
                    .is_none()
                    {
                        return Err(bad(
                            "party_documents",
                            format!("\"{d}\" is not a valid CNPJ or CPF (check digits)"),
                        ));
                    }
                }
            }
            RuleKind::DuplicateTitles => {
                let resource = text(p, "resource");
                if !matches!(resource.as_str(), "contas_pagar" | "contas_receber") {
                    return Err(bad("resource", format!("\"{resource}\" is not contas_pagar or contas_receber")));
                }
            }
            RuleKind::BillingContract => {}
            RuleKind::ServiceOrderOpen
            | RuleKind::ReceiptAttachments
            | RuleKind::DeliveryWithoutReceipt
            | RuleKind::SaleWithoutEntry => {
                let d = text(p, "from_date");
                if !d.is_empty() && chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").is_err() {
                    return Err(bad(
                        "from_date",
                        format!("\"{d}\" is not a date (write it as 2026-11-30, or leave it empty)"),
                    ));
                }
                if self == RuleKind::SaleWithoutEntry && list(p, "document_types").is_empty() {
                    return Err(bad("document_types", "name at least one document type to check, like FAC".into()));
                }
            }
            RuleKind::DocumentLines => {
                let resource = text(p, "resource");
                if !matches!(resource.as_str(), "documentos_venta" | "documentos_compra" | "documentos") {
                    return Err(bad(
                        "resource",
                        format!("\"{resource}\" is not documentos_venta, documentos_compra or documentos"),
                    ));
                }
                let v = text(p, "tolerance_amount");
                match Decimal::from_str(if v.is_empty() { "0" } else { &v }) {
                    Ok(d) if d >= Decimal::ZERO => {}
                    _ => {
                        return Err(bad(
                            "tolerance_amount",
                            format!("\"{v}\" is not a positive amount (use a dot for decimals)"),
                        ))
                    }
                }
            }
            RuleKind::ReceiptValue => {
                for f in ["tolerance_amount", "tolerance_percent"] {
                    let v = text(p, f);
                    match Decimal::from_str(if v.is_empty() { "0" } else { &v }) {
                        Ok(d) if d >= Decimal::ZERO => {}
                        _ => return Err(bad(f, format!("\"{v}\" is not a positive amount (use a dot for decimals)"))),
                    }
                }
            }
        }
        Ok(())
    }
}

/// The ERP a classification rule's resource belongs to.
fn classification_erp(resource: &str) -> Option<&'static str> {
    match resource {
        "contas_pagar" | "contas_receber" => Some("omie"),
        "documentos_compra" | "documentos_venta" => Some("contifico"),
        _ => None,
    }
}

fn is_category_code(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn text(p: &Value, k: &str) -> String {
    match p.get(k) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn list(p: &Value, k: &str) -> Vec<String> {
    p.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(|s| s.trim().to_string())).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

/// Something a rule found, ready to be folded into the stored divergences.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub fingerprint: String,
    pub connection_id: String,
    pub erp: String,
    pub resource: String,
    pub record_id: String,
    pub record_label: String,
    pub confidence: u8,
    pub basis: String,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub evidence: Vec<EvidenceRef>,
    pub evidence_hash: String,
    pub facts: BTreeMap<String, String>,
    pub correction: Option<Correction>,
}

/// What one rule found, and the records it had to skip (id, why).
#[derive(Debug, Default)]
pub struct Found {
    pub candidates: Vec<Candidate>,
    pub problems: Vec<(String, String)>,
}

fn hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn facts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Runs one rule's query and turns its rows into candidates.
pub fn detect(cx: &Ctx, kind: RuleKind, rule: &Rule) -> CoreResult<Found> {
    kind.check(rule)?;
    let st = &cx.store;
    // The tables the queries read exist (and have their current columns) even before a first sync.
    crate::sync::ensure_tables(st, crate::erp::omie::sync::RESOURCES)?;
    let p = &rule.params;
    let mut out = Found::default();
    match kind {
        RuleKind::Classification => {
            let resource = text(p, "resource");
            let expected = text(p, "expected_category");
            let label = text(p, "category_label");
            let texts: Vec<String> = list(p, "text_patterns").into_iter().map(|s| s.to_lowercase()).collect();
            let docs: Vec<String> =
                list(p, "party_documents").iter().map(|d| d.chars().filter(char::is_ascii_digit).collect()).collect();
            let types = list(p, "document_types");
            // Omie has a category to write; Contífico does not, so there the correction is a
            // category BackOffice keeps for the record (a local reclassification its reports use).
            let (erp, field, currency) = match classification_erp(&resource) {
                Some("contifico") => ("contifico", store::LOCAL_CATEGORY, "USD"),
                _ => ("omie", "codigo_categoria", "BRL"),
            };
            let rows = if erp == "contifico" {
                crate::sync::ensure_tables(st, crate::erp::contifico::resources::RESOURCES)?;
                store::contifico_classification_rows(st, &resource, &expected, &texts, &docs, &types)?
            } else {
                store::classification_rows(st, &resource, &expected, &texts, &docs, &types)?
            };
            for r in rows {
                let doc_digits: String = r.party_document.chars().filter(char::is_ascii_digit).collect();
                let (basis, matched, confidence) = if !doc_digits.is_empty() && docs.contains(&doc_digits) {
                    ("party_document", r.party_document.clone(), rule.confidence)
                } else if let Some(t) = texts.iter().find(|t| r.description.to_lowercase().contains(t.as_str())) {
                    ("pattern", t.clone(), rule.confidence)
                } else {
                    ("document_type", r.document_type.clone(), rule.confidence.saturating_sub(10))
                };
                let record_label = format!("{} · {}", r.number, r.party_name).trim_matches([' ', '·']).to_string();
                out.candidates.push(Candidate {
                    fingerprint: format!("{}|{}|{}|{}", rule.id, r.connection_id, resource, r.id),
                    connection_id: r.connection_id.clone(),
                    erp: erp.into(),
                    resource: resource.clone(),
                    record_id: r.id.clone(),
                    record_label: if record_label.is_empty() { r.id.clone() } else { record_label },
                    confidence,
                    basis: basis.into(),
                    amount: r.amount.clone(),
                    currency: Some(currency.into()),
                    evidence: vec![EvidenceRef {
                        connection_id: r.connection_id.clone(),
                        resource: resource.clone(),
                        id: r.id.clone(),
                        label: r.number.clone(),
                    }],
                    evidence_hash: hash(&[
                        &r.category,
                        &r.description,
                        &r.party_document,
                        r.amount.as_deref().unwrap_or(""),
                    ]),
                    facts: facts(&[
                        ("category_now", &r.category),
                        ("category_expected", &expected),
                        ("category_label", &label),
                        ("matched", &matched),
                        ("party", &r.party_name),
                        ("description", &r.description),
                    ]),
                    correction: Some(Correction {
                        field: field.into(),
                        before: r.category.clone(),
                        after: expected.clone(),
                    }),
                });
            }
        }
        RuleKind::DuplicateTitles => {
            let resource = text(p, "resource");
            for g in store::duplicate_groups(st, &resource)? {
                let mut ids = g.ids.clone();
                ids.sort();
                let first = ids[0].clone();
                out.candidates.push(Candidate {
                    fingerprint: format!("{}|{}|{}|{}", rule.id, g.connection_id, resource, ids.join(",")),
                    connection_id: g.connection_id.clone(),
                    erp: "omie".into(),
                    resource: resource.clone(),
                    record_id: first,
                    record_label: format!("{} · {}", g.number, g.party_name).trim_matches([' ', '·']).to_string(),
                    confidence: rule.confidence,
                    basis: "number_party".into(),
                    amount: Some(g.amount.clone()),
                    currency: Some("BRL".into()),
                    evidence: ids
                        .iter()
                        .map(|id| EvidenceRef {
                            connection_id: g.connection_id.clone(),
                            resource: resource.clone(),
                            id: id.clone(),
                            label: format!("{} {}", g.number, g.parcel),
                        })
                        .collect(),
                    evidence_hash: hash(&[&ids.join(","), &g.amount, &g.number]),
                    facts: facts(&[
                        ("count", &ids.len().to_string()),
                        ("number", &g.number),
                        ("parcel", &g.parcel),
                        ("party", &g.party_name),
                        ("amount", &g.amount),
                    ]),
                    correction: None,
                });
            }
        }
        RuleKind::ReceiptValue => {
            let tol_amount = Decimal::from_str(&text(p, "tolerance_amount")).unwrap_or(Decimal::ZERO);
            let tol_pct = Decimal::from_str(&text(p, "tolerance_percent")).unwrap_or(Decimal::ZERO);
            for r in store::receipt_totals(st)? {
                let (Ok(value), Ok(sum)) = (Decimal::from_str(&r.value), Decimal::from_str(&r.payables_total)) else {
                    out.problems.push((
                        r.number.clone(),
                        format!("the amounts \"{}\" / \"{}\" are not numbers", r.value, r.payables_total),
                    ));
                    continue;
                };
                let gap = (value - sum).abs();
                let tolerance = tol_amount.max(value.abs() * tol_pct / Decimal::from(100));
                if gap <= tolerance {
                    continue;
                }
                let mut ids = r.payable_ids.clone();
                ids.sort();
                let mut evidence = vec![EvidenceRef {
                    connection_id: r.connection_id.clone(),
                    resource: "recebimentos".into(),
                    id: r.id.clone(),
                    label: format!("NF-e {}", r.number),
                }];
                evidence.extend(ids.iter().map(|id| EvidenceRef {
                    connection_id: r.connection_id.clone(),
                    resource: "contas_pagar".into(),
                    id: id.clone(),
                    label: String::new(),
                }));
                out.candidates.push(Candidate {
                    fingerprint: format!("{}|{}|recebimentos|{}", rule.id, r.connection_id, r.id),
                    connection_id: r.connection_id.clone(),
                    erp: "omie".into(),
                    resource: "recebimentos".into(),
                    record_id: r.id.clone(),
                    record_label: format!("NF-e {} · {}", r.number, r.party_name),
                    confidence: rule.confidence,
                    basis: "exact_key".into(),
                    amount: Some(gap.normalize().to_string()),
                    currency: Some("BRL".into()),
                    evidence,
                    evidence_hash: hash(&[&r.value, &r.payables_total, &ids.join(",")]),
                    facts: facts(&[
                        ("receipt_value", &value.normalize().to_string()),
                        ("payables_total", &sum.normalize().to_string()),
                        ("payables", &ids.len().to_string()),
                        ("gap", &gap.normalize().to_string()),
                        ("tolerance", &tolerance.normalize().to_string()),
                        ("number", &r.number),
                        ("party", &r.party_name),
                    ]),
                    correction: None,
                });
            }
        }
        RuleKind::BillingContract => {
            for r in crate::ops::contracts::divergent_months(cx)? {
                let erp = crate::ops::contracts::erp_of(cx, &r.connection_id)?;
                let resource = crate::ops::contracts::titles_resource(erp);
                let mut ids: Vec<&str> =
                    r.titles.iter().filter(|t| t.counted_as == "counted").map(|t| t.id.as_str()).collect();
                ids.sort_unstable();
                let gap = Decimal::from_str(&r.difference).unwrap_or_default().abs();
                let explanations: Vec<serde_json::Value> =
                    r.explanations.iter().map(|e| serde_json::json!({ "key": e.key, "params": e.params })).collect();
                out.candidates.push(Candidate {
                    fingerprint: format!("{}|{}|{}|{}", rule.id, r.connection_id, r.client, r.month),
                    connection_id: r.connection_id.clone(),
                    erp: erp.into(),
                    resource: "contracts_billing".into(),
                    record_id: format!("{}|{}", r.client, r.month),
                    record_label: format!("{} · {}", r.client_name, r.month),
                    confidence: rule.confidence,
                    basis: "contract_month".into(),
                    amount: Some(gap.to_string()),
                    currency: Some(r.currency.clone()),
                    evidence: r
                        .titles
                        .iter()
                        .filter(|t| t.counted_as != "excluded")
                        .take(50)
                        .map(|t| EvidenceRef {
                            connection_id: r.connection_id.clone(),
                            resource: resource.into(),
                            id: t.id.clone(),
                            label: t.number.clone(),
                        })
                        .collect(),
                    evidence_hash: hash(&[&r.contracted, &r.billed, &r.verdict, &r.tolerance, &ids.join(",")]),
                    facts: facts(&[
                        ("verdict", &r.verdict),
                        ("month", &r.month),
                        ("client", &r.client_name),
                        ("client_key", &r.client),
                        ("document", &r.client_document),
                        ("contracted", &r.contracted),
                        ("billed", &r.billed),
                        ("difference", &r.difference),
                        ("tolerance", &r.tolerance),
                        ("titles", &ids.len().to_string()),
                        ("explanations", &serde_json::Value::Array(explanations).to_string()),
                    ]),
                    correction: None,
                });
            }
        }
        RuleKind::ServiceOrderOpen => {
            let from = text(p, "from_date");
            for r in store::service_orders_open(st, &from)? {
                // The payable names the order by its number only: with the synced order of the same
                // supplier that is number + party; otherwise the number alone, a weaker match.
                let (basis, confidence) = if r.order_id.is_some() && r.same_supplier {
                    ("number_party", rule.confidence)
                } else {
                    ("order_number", rule.confidence.saturating_sub(25))
                };
                let mut evidence = vec![EvidenceRef {
                    connection_id: r.connection_id.clone(),
                    resource: "contas_pagar".into(),
                    id: r.payable_id.clone(),
                    label: format!("NFS {}", r.service_nf),
                }];
                if let Some(o) = &r.order_id {
                    evidence.push(EvidenceRef {
                        connection_id: r.connection_id.clone(),
                        resource: "pedidos_compra".into(),
                        id: o.clone(),
                        label: r.order_number.clone(),
                    });
                }
                out.candidates.push(Candidate {
                    fingerprint: format!("{}|{}|pedidos_compra|{}", rule.id, r.connection_id, r.order_number),
                    connection_id: r.connection_id.clone(),
                    erp: "omie".into(),
                    resource: "pedidos_compra".into(),
                    record_id: r.order_number.clone(),
                    record_label: format!("{} · {}", r.order_number, r.party_name).trim_matches([' ', '·']).to_string(),
                    confidence,
                    basis: basis.into(),
                    amount: r.amount.clone(),
                    currency: Some("BRL".into()),
                    evidence,
                    evidence_hash: hash(&[
                        &r.payable_id,
                        &r.service_nf,
                        r.order_id.as_deref().unwrap_or(""),
                        &r.closure_status,
                        &r.closure_error,
                    ]),
                    facts: facts(&[
                        ("order", &r.order_number),
                        ("service_nf", &r.service_nf),
                        ("party", &r.party_name),
                        ("payable", &r.payable_id),
                        ("closure", &r.closure_status),
                        ("closure_error", &r.closure_error),
                        ("fix", "omie_po_close"),
                    ]),
                    correction: None,
                });
            }
        }
        RuleKind::ReceiptAttachments => {
            let from = text(p, "from_date");
            for r in store::receipt_payables_without_attachments(st, &from)? {
                out.candidates.push(Candidate {
                    fingerprint: format!("{}|{}|contas_pagar|{}", rule.id, r.connection_id, r.payable_id),
                    connection_id: r.connection_id.clone(),
                    erp: "omie".into(),
                    resource: "contas_pagar".into(),
                    record_id: r.payable_id.clone(),
                    record_label: format!("NF-e {} · {}", r.number, r.party_name).trim_matches([' ', '·']).to_string(),
                    confidence: rule.confidence,
                    basis: "number_party".into(),
                    amount: r.amount.clone(),
                    currency: Some("BRL".into()),
                    evidence: vec![
                        EvidenceRef {
                            connection_id: r.connection_id.clone(),
                            resource: "recebimentos".into(),
                            id: r.receipt_id.clone(),
                            label: format!("NF-e {}", r.number),
                        },
                        EvidenceRef {
                            connection_id: r.connection_id.clone(),
                            resource: "contas_pagar".into(),
                            id: r.payable_id.clone(),
                            label: String::new(),
                        },
                    ],
                    evidence_hash: hash(&[&r.receipt_id, &r.transfer_status, &r.transfer_error]),
                    facts: facts(&[
                        ("number", &r.number),
                        ("party", &r.party_name),
                        ("receipt", &r.receipt_id),
                        ("payable", &r.payable_id),
                        ("transfer", &r.transfer_status),
                        ("transfer_error", &r.transfer_error),
                        ("fix", "omie_attachment_transfer"),
                    ]),
                    correction: None,
                });
            }
        }
        RuleKind::DeliveryWithoutReceipt => {
            crate::sync::ensure_tables(st, crate::erp::erpnext::sync::RESOURCES)?;
            let from = text(p, "from_date");
            for r in store::deliveries_without_receipt(st, &from)? {
                // No receipt names the delivery note: certain. A receipt of the same company, amount
                // and week without the reference makes it probably received, so less certain.
                let (basis, confidence) = match &r.probable_receipt {
                    None => ("exact_key", rule.confidence),
                    Some(_) => ("amount_date", rule.confidence.saturating_sub(35)),
                };
                let mut evidence = vec![EvidenceRef {
                    connection_id: r.connection_id.clone(),
                    resource: "delivery_notes".into(),
                    id: r.id.clone(),
                    label: r.id.clone(),
                }];
                if let Some(pr) = &r.probable_receipt {
                    evidence.push(EvidenceRef {
                        connection_id: r.site_b.clone(),
                        resource: "purchase_receipts".into(),
                        id: pr.clone(),
                        label: pr.clone(),
                    });
                }
                let run = r.run_id.clone().unwrap_or_default();
                out.candidates.push(Candidate {
                    fingerprint: format!("{}|{}|delivery_notes|{}", rule.id, r.connection_id, r.id),
                    connection_id: r.connection_id.clone(),
                    erp: "erpnext".into(),
                    resource: "delivery_notes".into(),
                    record_id: r.id.clone(),
                    record_label: format!("{} · {}", r.id, r.customer).trim_matches([' ', '·']).to_string(),
                    confidence,
                    basis: basis.into(),
                    amount: r.amount.clone(),
                    currency: Some(if r.currency.is_empty() { "USD".into() } else { r.currency.clone() }),
                    evidence,
                    evidence_hash: hash(&[
                        &r.site_b,
                        r.probable_receipt.as_deref().unwrap_or(""),
                        &run,
                        &r.run_status,
                        r.amount.as_deref().unwrap_or(""),
                    ]),
                    facts: facts(&[
                        ("delivery_note", &r.id),
                        ("customer", &r.customer),
                        ("company", &r.company),
                        ("posting_date", &r.posting_date),
                        ("site_b", &r.site_b_name),
                        ("site_b_id", &r.site_b),
                        ("run", &run),
                        ("run_status", &r.run_status),
                        ("probable_receipt", r.probable_receipt.as_deref().unwrap_or("")),
                        ("fix", "erpnext_run"),
                    ]),
                    correction: None,
                });
            }
        }
        RuleKind::SaleWithoutEntry => {
            crate::sync::ensure_tables(st, crate::erp::contifico::resources::RESOURCES)?;
            let types = list(p, "document_types");
            let store::EntryNumbers { named, synced } = store::entry_document_numbers(st)?;
            let mut skipped = std::collections::BTreeSet::new();
            for d in store::sales_documents(st, &types, &text(p, "from_date"))? {
                if !synced.contains(&d.connection_id) {
                    skipped.insert(d.connection_id.clone());
                    continue;
                }
                if named.contains(&(d.connection_id.clone(), d.number.clone())) {
                    continue;
                }
                out.candidates.push(Candidate {
                    fingerprint: format!("{}|{}|documentos_venta|{}", rule.id, d.connection_id, d.id),
                    connection_id: d.connection_id.clone(),
                    erp: "contifico".into(),
                    resource: "documentos_venta".into(),
                    record_id: d.id.clone(),
                    record_label: format!("{} {} · {}", d.kind, d.number, d.party_name)
                        .trim_matches([' ', '·'])
                        .to_string(),
                    confidence: rule.confidence,
                    basis: "document_number".into(),
                    amount: d.total.clone(),
                    currency: Some("USD".into()),
                    evidence: vec![EvidenceRef {
                        connection_id: d.connection_id.clone(),
                        resource: "documentos_venta".into(),
                        id: d.id.clone(),
                        label: d.number.clone(),
                    }],
                    evidence_hash: hash(&[&d.number, d.total.as_deref().unwrap_or(""), &d.date]),
                    facts: facts(&[
                        ("number", &d.number),
                        ("document_type", &d.kind),
                        ("date", &d.date),
                        ("party", &d.party_name),
                    ]),
                    correction: None,
                });
            }
            for conn in skipped {
                out.problems.push((
                    conn,
                    "its journal entries (asientos) were never synced: sync them before this check can say anything"
                        .into(),
                ));
            }
        }
        RuleKind::DocumentLines => {
            crate::sync::ensure_tables(st, crate::erp::contifico::resources::RESOURCES)?;
            let resource = text(p, "resource");
            let tolerance = Decimal::from_str(&text(p, "tolerance_amount")).unwrap_or(Decimal::ZERO);
            for d in store::document_lines(st, &resource)? {
                match document_gaps(&d) {
                    Err(field) => out.problems.push((
                        d.number.clone(),
                        format!("its {field} is not a number; fix the document in Contífico or sync it again"),
                    )),
                    Ok(g) => {
                        let (check, gap, expected, found) = if (g.lines - g.bases).abs() > tolerance {
                            ("lines", (g.lines - g.bases).abs(), g.bases, g.lines)
                        } else if (g.bases + g.taxes - g.total).abs() > tolerance {
                            ("total", (g.bases + g.taxes - g.total).abs(), g.total, g.bases + g.taxes)
                        } else {
                            continue;
                        };
                        let n = |x: Decimal| x.round_dp(2).normalize().to_string();
                        out.candidates.push(Candidate {
                            fingerprint: format!("{}|{}|{}|{}", rule.id, d.connection_id, resource, d.id),
                            connection_id: d.connection_id.clone(),
                            erp: "contifico".into(),
                            resource: resource.clone(),
                            record_id: d.id.clone(),
                            record_label: format!("{} {} · {}", d.kind, d.number, d.party_name)
                                .trim_matches([' ', '·'])
                                .to_string(),
                            confidence: rule.confidence,
                            basis: "exact_key".into(),
                            amount: Some(n(gap)),
                            currency: Some("USD".into()),
                            evidence: vec![EvidenceRef {
                                connection_id: d.connection_id.clone(),
                                resource: resource.clone(),
                                id: d.id.clone(),
                                label: d.number.clone(),
                            }],
                            evidence_hash: hash(&[&n(g.lines), &n(g.bases), &n(g.taxes), &n(g.total)]),
                            facts: facts(&[
                                ("check", check),
                                ("number", &d.number),
                                ("document_type", &d.kind),
                                ("party", &d.party_name),
                                ("lines", &d.lines.len().to_string()),
                                ("lines_total", &n(g.lines)),
                                ("bases", &n(g.bases)),
                                ("taxes", &n(g.taxes)),
                                ("total", &n(g.total)),
                                ("expected", &n(expected)),
                                ("found", &n(found)),
                                ("gap", &n(gap)),
                                ("tolerance", &n(tolerance)),
                            ]),
                            correction: None,
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A document's sums: its lines (each quantity × price less its discount, to the cent), its
/// taxable bases, its taxes and its total.
struct Gaps {
    lines: Decimal,
    bases: Decimal,
    taxes: Decimal,
    total: Decimal,
}

/// An amount as the ERP wrote it (text or a JSON number, possibly in exponent form).
fn amount(s: &str) -> Option<Decimal> {
    let s = s.trim();
    Decimal::from_str(s).ok().or_else(|| Decimal::from_scientific(s).ok())
}

/// The sums of a document, or the name of the first field that is not a number.
fn document_gaps(d: &store::DocumentLines) -> Result<Gaps, &'static str> {
    let mut lines = Decimal::ZERO;
    for (q, price, discount) in &d.lines {
        let q = amount(q).ok_or("line quantity")?;
        let price = amount(price).ok_or("line price")?;
        let discount =
            if discount.trim().is_empty() { Decimal::ZERO } else { amount(discount).ok_or("line discount")? };
        lines += (q * price * (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED).round_dp(2);
    }
    let bases = amount(&d.subtotal_0).ok_or("subtotal_0")? + amount(&d.subtotal_12).ok_or("subtotal_12")?;
    let mut taxes = Decimal::ZERO;
    for t in &d.taxes {
        taxes += amount(t).ok_or("tax")?;
    }
    Ok(Gaps { lines, bases, taxes, total: amount(&d.total).ok_or("total")? })
}
