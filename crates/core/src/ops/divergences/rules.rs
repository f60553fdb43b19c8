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
];

impl RuleKind {
    pub fn parse(s: &str) -> CoreResult<RuleKind> {
        match s {
            "classification" => Ok(RuleKind::Classification),
            "duplicate_titles" => Ok(RuleKind::DuplicateTitles),
            "receipt_value" => Ok(RuleKind::ReceiptValue),
            "billing_contract" => Ok(RuleKind::BillingContract),
            other => Err(CoreError::invalid(
                "kind",
                format!(
                    "\"{other}\" is not a rule kind: use classification, duplicate_titles, receipt_value or billing_contract"
                ),
            )),
        }
    }

    /// The ERP field a correction of this kind changes; none for a kind that only flags.
    pub fn correction_field(self) -> Option<&'static str> {
        match self {
            RuleKind::Classification => Some("codigo_categoria"),
            RuleKind::DuplicateTitles | RuleKind::ReceiptValue | RuleKind::BillingContract => None,
        }
    }

    /// Checks a rule's parameters; the message names the rule and the parameter to fix.
    pub fn check(self, rule: &Rule) -> CoreResult<()> {
        let bad = |field: &str, why: String| CoreError::invalid(field, format!("rule \"{}\": {why}", rule.name));
        let p = &rule.params;
        match self {
            RuleKind::Classification => {
                let resource = text(p, "resource");
                if !matches!(resource.as_str(), "contas_pagar" | "contas_receber") {
                    return Err(bad("resource", format!("\"{resource}\" is not contas_pagar or contas_receber")));
                }
                let cat = text(p, "expected_category");
                if !is_category_code(&cat) {
                    return Err(bad(
                        "expected_category",
                        format!("\"{cat}\" is not an Omie category code (like 2.04.01: digits separated by dots)"),
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
                for d in &docs {
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
            for r in store::classification_rows(st, &resource, &expected, &texts, &docs, &types)? {
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
                    erp: "omie".into(),
                    resource: resource.clone(),
                    record_id: r.id.clone(),
                    record_label: if record_label.is_empty() { r.id.clone() } else { record_label },
                    confidence,
                    basis: basis.into(),
                    amount: r.amount.clone(),
                    currency: Some("BRL".into()),
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
                        field: "codigo_categoria".into(),
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
    }
    Ok(out)
}
