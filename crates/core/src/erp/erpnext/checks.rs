//! Checks against the two sites before anything is sent: every name exists on the right site
//! (with the closest names when it does not), warehouses belong to the right company, items are
//! serialised on both sites, serials are not already in stock, currencies match, and the
//! idempotency field exists. Also the report and creation of that field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ts_rs::TS;

use super::{Problem, SiteRole, TransferInput, EXT_REF_EXPLANATION, EXT_REF_FIELD};
use crate::erp::erpnext::client::{plain_text, ErpError, ErpnextClient};

/// Edit distance (Levenshtein) of two short strings, by characters.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The (up to three) candidates closest to `wanted`: same letters in another case, one inside
/// the other, or a few typing mistakes away.
pub fn closest(wanted: &str, candidates: &[String]) -> Vec<String> {
    let w = wanted.trim().to_lowercase();
    if w.is_empty() {
        return vec![];
    }
    let mut scored: Vec<(usize, &String)> = candidates
        .iter()
        .filter_map(|c| {
            let l = c.to_lowercase();
            let d = distance(&w, &l);
            let limit = (w.chars().count() / 3).max(2);
            let contains = l.contains(&w) || (w.len() >= 3 && w.contains(&l) && l.len() >= 3);
            if d <= limit {
                Some((d, c))
            } else if contains {
                Some((limit + 1 + l.len().abs_diff(w.len()), c))
            } else {
                None
            }
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, c)| c.clone()).collect()
}

async fn names(c: &ErpnextClient, doctype: &str) -> Vec<String> {
    c.list(doctype, &["name"], &json!([]), "name asc", 0, 2000)
        .await
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn i(v: &Value, k: &str) -> i64 {
    v.get(k).and_then(|x| x.as_i64().or_else(|| x.as_f64().map(|f| f as i64))).unwrap_or(0)
}

/// Looks a record up by name (the site compares case-insensitively); `Ok(None)` if absent.
async fn find(c: &ErpnextClient, doctype: &str, name: &str, fields: &[&str]) -> Result<Option<Value>, ErpError> {
    let mut f = vec!["name"];
    f.extend_from_slice(fields);
    let rows = c.list(doctype, &f, &json!([["name", "=", name]]), "name asc", 0, 2).await?;
    Ok(rows.into_iter().next())
}

/// Collects problems for one site; stops at the first error that is not about the data.
struct SiteCheck<'a> {
    c: &'a ErpnextClient,
    role: SiteRole,
    problems: Vec<Problem>,
    notes: Vec<String>,
}

impl SiteCheck<'_> {
    fn label(&self) -> String {
        format!("site {} ({})", self.role.as_str(), self.c.name())
    }

    fn site_field(&self) -> &'static str {
        if self.role == SiteRole::A {
            "site_a"
        } else {
            "site_b"
        }
    }

    fn unreachable(&mut self, e: ErpError) -> Result<(), ()> {
        let core = e.into_core();
        self.problems.push(Problem::new(self.site_field(), format!("{} could not be checked: {core}", self.label())));
        Err(())
    }

    /// A named record that must exist; returns it, or records a problem with suggestions.
    async fn require(
        &mut self,
        field: &str,
        doctype: &str,
        value: &mut String,
        fields: &[&str],
        what: &str,
    ) -> Result<Option<Value>, ()> {
        if value.is_empty() {
            return Ok(None);
        }
        match find(self.c, doctype, value, fields).await {
            Ok(Some(v)) => {
                let real = s(&v, "name");
                if real != *value {
                    self.notes
                        .push(format!("{what} \"{value}\" is spelled \"{real}\" on {}; using that.", self.label()));
                    *value = real;
                }
                Ok(Some(v))
            }
            Ok(None) => {
                let all = names(self.c, doctype).await;
                let suggestions = super::checks::closest(value, &all);
                let hint = if suggestions.is_empty() {
                    String::new()
                } else {
                    format!(
                        " Did you mean {}?",
                        suggestions.iter().map(|x| format!("\"{x}\"")).collect::<Vec<_>>().join(", ")
                    )
                };
                self.problems.push(Problem {
                    field: field.to_string(),
                    message: format!("{} has no {doctype} \"{value}\".{hint}", self.label()),
                    suggestions,
                });
                Ok(None)
            }
            Err(e) => self.unreachable(e).map(|_| None),
        }
    }
}

/// What the remote checks decided besides the problems.
#[derive(Debug, Default)]
pub struct Resolved {
    pub notes: Vec<String>,
}

/// Checks the form against both sites; fills `company_b` (from site B's warehouse) and
/// `currency` (company A's) when empty, and corrects the spelling of names that differ only in case.
pub async fn remote_problems(
    a: &ErpnextClient,
    b: &ErpnextClient,
    input: &mut TransferInput,
) -> (Vec<Problem>, Resolved) {
    let mut ia = input.clone();
    let mut ib = input.clone();
    let (ra, rb) = tokio::join!(check_a(a, &mut ia), check_b(b, &mut ib));
    // Merge the corrections each side made.
    input.supplier = ia.supplier;
    input.company_a = ia.company_a;
    input.customer_b_on_a = ia.customer_b_on_a;
    input.warehouse_a = ia.warehouse_a;
    input.supplier_a_on_b = ib.supplier_a_on_b;
    input.warehouse_b = ib.warehouse_b;
    input.company_b = ib.company_b;
    let (mut problems, mut notes) = (ra.problems, ra.notes);
    problems.extend(rb.problems);
    notes.extend(rb.notes);
    let cur_a = ra.currency;
    let cur_b = rb.currency;
    match (&input.currency, &cur_a) {
        (Some(c), Some(ca)) if c != ca => problems.push(Problem::new(
            "currency",
            format!("Company A's currency on site A is {ca}, not {c}. BackOffice sends exchange rate 1, so the transfer must be in the companies' own currency."),
        )),
        (None, Some(ca)) => input.currency = Some(ca.clone()),
        _ => {}
    }
    if let (Some(ca), Some(cb)) = (&cur_a, &cur_b) {
        if ca != cb {
            problems.push(Problem::new(
                "company_b",
                format!("Company A uses {ca} and company B uses {cb}. BackOffice does not convert currencies between the sites; both companies must use the same one."),
            ));
        }
    }
    (problems, Resolved { notes })
}

struct Outcome {
    problems: Vec<Problem>,
    notes: Vec<String>,
    currency: Option<String>,
}

async fn items_and_serials(ck: &mut SiteCheck<'_>, input: &TransferInput, field_prefix: &str) -> Result<(), ()> {
    let codes: Vec<String> = input.items.iter().map(|i| i.item_code.clone()).filter(|c| !c.is_empty()).collect();
    if codes.is_empty() {
        return Ok(());
    }
    let found = match ck
        .c
        .list(
            "Item",
            &["name", "has_serial_no", "is_stock_item", "disabled"],
            &json!([["name", "in", codes]]),
            "name asc",
            0,
            0,
        )
        .await
    {
        Ok(v) => v,
        Err(e) => return ck.unreachable(e),
    };
    let by_name: BTreeMap<String, &Value> = found.iter().map(|v| (s(v, "name").to_lowercase(), v)).collect();
    let mut all: Option<Vec<String>> = None;
    for (n, it) in input.items.iter().enumerate() {
        let field = format!("items[{n}].item_code");
        match by_name.get(&it.item_code.to_lowercase()) {
            None => {
                if all.is_none() {
                    all = Some(names(ck.c, "Item").await);
                }
                let suggestions = closest(&it.item_code, all.as_deref().unwrap_or(&[]));
                let hint = if suggestions.is_empty() {
                    String::new()
                } else {
                    format!(" Did you mean \"{}\"?", suggestions[0])
                };
                ck.problems.push(Problem {
                    field,
                    message: format!("{} has no Item \"{}\"{field_prefix}.{hint}", ck.label(), it.item_code),
                    suggestions,
                });
            }
            Some(v) => {
                if i(v, "disabled") == 1 {
                    ck.problems
                        .push(Problem::new(field, format!("Item {} is disabled on {}.", it.item_code, ck.label())));
                } else if i(v, "has_serial_no") != 1 {
                    ck.problems.push(Problem::new(
                        field,
                        format!("Item {} is not serialised on {} (\"Has Serial No\" is off), so its serials would be ignored. Turn it on for the item, or transfer a serialised item.", it.item_code, ck.label()),
                    ));
                } else if i(v, "is_stock_item") != 1 {
                    ck.problems.push(Problem::new(
                        field,
                        format!("Item {} is not a stock item on {}.", it.item_code, ck.label()),
                    ));
                }
            }
        }
    }
    // Serials already in stock on this site cannot be received here again.
    let serials: Vec<String> =
        input.items.iter().flat_map(|i| i.serials.iter().cloned()).filter(|s| !s.is_empty()).collect();
    if serials.is_empty() {
        return Ok(());
    }
    let existing = match ck
        .c
        .list(
            "Serial No",
            &["name", "item_code", "warehouse", "status"],
            &json!([["name", "in", serials]]),
            "name asc",
            0,
            0,
        )
        .await
    {
        Ok(v) => v,
        Err(e) => return ck.unreachable(e),
    };
    for sn in existing {
        let wh = s(&sn, "warehouse");
        if wh.is_empty() {
            continue;
        }
        let name = s(&sn, "name");
        let n = input.items.iter().position(|i| i.serials.iter().any(|x| x.eq_ignore_ascii_case(&name))).unwrap_or(0);
        ck.problems.push(Problem::new(
            format!("items[{n}].serials"),
            format!("Serial {name} is already in stock on {} (warehouse {wh}); a serial cannot be received twice. Remove it, or check whether this transfer was done before.", ck.label()),
        ));
    }
    Ok(())
}

async fn price_lists(ck: &mut SiteCheck<'_>, wanted: &[(&str, &str, String)]) -> Result<(), ()> {
    for (field, kind, name) in wanted {
        if name.is_empty() {
            continue;
        }
        match find(ck.c, "Price List", name, &["buying", "selling", "enabled"]).await {
            Ok(Some(v)) => {
                if i(&v, kind) != 1 {
                    ck.problems.push(Problem::new(
                        *field,
                        format!("Price list \"{name}\" on {} is not a {kind} price list.", ck.label()),
                    ));
                }
            }
            Ok(None) => {
                let all = names(ck.c, "Price List").await;
                let suggestions = closest(name, &all);
                ck.problems.push(Problem {
                    field: field.to_string(),
                    message: format!("{} has no Price List \"{name}\".", ck.label()),
                    suggestions,
                });
            }
            Err(e) => return ck.unreachable(e),
        }
    }
    Ok(())
}

async fn field_problem(ck: &mut SiteCheck<'_>) -> Result<(), ()> {
    match field_report(ck.c, ck.role).await {
        Ok(r) if r.missing.is_empty() && r.not_unique.is_empty() => Ok(()),
        Ok(r) => {
            let mut lacking = r.missing.clone();
            lacking.extend(r.not_unique.iter().map(|d| format!("{d} (not unique)")));
            ck.problems.push(Problem::new(
                ck.site_field(),
                format!(
                    "{} lacks the idempotency field \"{EXT_REF_FIELD}\" on {}. Create it first (\"Create the field\", or `backoffice erpnext ensure-field --site \"{}\"`). Why: {EXT_REF_EXPLANATION}",
                    ck.label(),
                    lacking.join(", "),
                    ck.c.name()
                ),
            ));
            Ok(())
        }
        Err(e) => ck.unreachable(e),
    }
}

async fn check_a(c: &ErpnextClient, input: &mut TransferInput) -> Outcome {
    let mut ck = SiteCheck { c, role: SiteRole::A, problems: vec![], notes: vec![] };
    let mut currency = None;
    let _ = async {
        let company = ck.require("company_a", "Company", &mut input.company_a, &["default_currency"], "Company").await?;
        currency = company.as_ref().map(|v| s(v, "default_currency")).filter(|c| !c.is_empty());
        if let Some(v) = ck.require("supplier", "Supplier", &mut input.supplier, &["disabled"], "Supplier").await? {
            if i(&v, "disabled") == 1 {
                ck.problems.push(Problem::new("supplier", format!("Supplier {} is disabled on {}.", input.supplier, ck.label())));
            }
        }
        if let Some(v) =
            ck.require("customer_b_on_a", "Customer", &mut input.customer_b_on_a, &["disabled", "is_internal_customer"], "Customer").await?
        {
            if i(&v, "disabled") == 1 {
                ck.problems.push(Problem::new("customer_b_on_a", format!("Customer {} is disabled on {}.", input.customer_b_on_a, ck.label())));
            }
            if i(&v, "is_internal_customer") == 1 {
                ck.problems.push(Problem::new(
                    "customer_b_on_a",
                    format!("Customer {} is marked as an internal customer on {}. Across two sites it must be an ordinary customer: ERPNext's inter-company features only work within one site.", input.customer_b_on_a, ck.label()),
                ));
            }
        }
        if let Some(w) = ck.require("warehouse_a", "Warehouse", &mut input.warehouse_a, &["company", "is_group", "disabled"], "Warehouse").await? {
            if i(&w, "is_group") == 1 {
                ck.problems.push(Problem::new("warehouse_a", format!("{} is a group warehouse; choose one of the warehouses inside it.", input.warehouse_a)));
            } else if !input.company_a.is_empty() && !s(&w, "company").eq_ignore_ascii_case(&input.company_a) {
                ck.problems.push(Problem::new(
                    "warehouse_a",
                    format!("Warehouse {} belongs to {}, not to {}.", input.warehouse_a, s(&w, "company"), input.company_a),
                ));
            }
        }
        items_and_serials(&mut ck, input, " (site A)").await?;
        let lists = [
            ("buying_price_list", "buying", input.buying_price_list.clone().unwrap_or_default()),
            ("selling_price_list", "selling", input.selling_price_list.clone().unwrap_or_default()),
        ];
        price_lists(&mut ck, &lists).await?;
        field_problem(&mut ck).await
    }
    .await;
    Outcome { problems: ck.problems, notes: ck.notes, currency }
}

async fn check_b(c: &ErpnextClient, input: &mut TransferInput) -> Outcome {
    let mut ck = SiteCheck { c, role: SiteRole::B, problems: vec![], notes: vec![] };
    let mut currency = None;
    let _ = async {
        if let Some(v) = ck.require("supplier_a_on_b", "Supplier", &mut input.supplier_a_on_b, &["disabled", "is_internal_supplier"], "Supplier").await? {
            if i(&v, "disabled") == 1 {
                ck.problems.push(Problem::new("supplier_a_on_b", format!("Supplier {} is disabled on {}.", input.supplier_a_on_b, ck.label())));
            }
            if i(&v, "is_internal_supplier") == 1 {
                ck.problems.push(Problem::new(
                    "supplier_a_on_b",
                    format!("Supplier {} is marked as an internal supplier on {}; across two sites it must be an ordinary supplier.", input.supplier_a_on_b, ck.label()),
                ));
            }
        }
        let wh_company = match ck.require("warehouse_b", "Warehouse", &mut input.warehouse_b, &["company", "is_group"], "Warehouse").await? {
            Some(w) if i(&w, "is_group") == 1 => {
                ck.problems.push(Problem::new("warehouse_b", format!("{} is a group warehouse; choose one of the warehouses inside it.", input.warehouse_b)));
                None
            }
            Some(w) => Some(s(&w, "company")),
            None => None,
        };
        match (&mut input.company_b, wh_company) {
            (None, Some(wc)) => {
                ck.notes.push(format!("Company B on site B: {wc} (the company of warehouse {}).", input.warehouse_b));
                input.company_b = Some(wc);
            }
            (Some(cb), Some(wc)) if !cb.eq_ignore_ascii_case(&wc) => {
                ck.problems.push(Problem::new("warehouse_b", format!("Warehouse {} belongs to {wc}, not to {cb}.", input.warehouse_b)));
            }
            _ => {}
        }
        if let Some(mut cb) = input.company_b.clone() {
            if let Some(v) = ck.require("company_b", "Company", &mut cb, &["default_currency"], "Company").await? {
                currency = Some(s(&v, "default_currency")).filter(|c| !c.is_empty());
            }
            input.company_b = Some(cb);
        }
        items_and_serials(&mut ck, input, " (site B)").await?;
        let lists = [("buying_price_list", "buying", input.buying_price_list.clone().unwrap_or_default())];
        price_lists(&mut ck, &lists).await?;
        field_problem(&mut ck).await
    }
    .await;
    Outcome { problems: ck.problems, notes: ck.notes, currency }
}

/// Whether a site has the idempotency field on the DocTypes the transfer writes there.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct FieldStatus {
    pub connection_id: String,
    pub connection_name: String,
    pub fieldname: String,
    /// DocTypes that have it (unique).
    pub present: Vec<String>,
    /// DocTypes that lack it.
    pub missing: Vec<String>,
    /// DocTypes where it exists but is not unique (it then does not stop duplicates).
    pub not_unique: Vec<String>,
    /// DocTypes this call created or made unique.
    pub created: Vec<String>,
    /// Why BackOffice asks for the field.
    pub explanation: String,
}

/// The DocTypes checked on a connection: all three transfer DocTypes, so one connection can
/// serve as site A in one transfer and site B in another.
pub const FIELD_DOCTYPES: [&str; 3] = ["Purchase Order", "Purchase Receipt", "Delivery Note"];

pub(crate) async fn field_report(c: &ErpnextClient, role: SiteRole) -> Result<FieldStatus, ErpError> {
    field_report_for(c, &super::doctypes_for(role)).await
}

pub(crate) async fn field_report_for(c: &ErpnextClient, doctypes: &[&str]) -> Result<FieldStatus, ErpError> {
    let rows = c
        .list(
            "Custom Field",
            &["name", "dt", "unique"],
            &json!([["fieldname", "=", EXT_REF_FIELD], ["dt", "in", doctypes]]),
            "name asc",
            0,
            0,
        )
        .await?;
    let mut st = FieldStatus {
        connection_id: String::new(),
        connection_name: c.name().to_string(),
        fieldname: EXT_REF_FIELD.into(),
        present: vec![],
        missing: vec![],
        not_unique: vec![],
        created: vec![],
        explanation: EXT_REF_EXPLANATION.into(),
    };
    for dt in doctypes {
        match rows.iter().find(|r| s(r, "dt") == *dt) {
            None => st.missing.push(dt.to_string()),
            Some(r) if i(r, "unique") != 1 => st.not_unique.push(dt.to_string()),
            Some(_) => st.present.push(dt.to_string()),
        }
    }
    Ok(st)
}

/// Creates the field where it is missing (`POST /api/resource/Custom Field`, reference sample 43)
/// and makes an existing one unique.
pub(crate) async fn ensure_fields(c: &ErpnextClient, doctypes: &[&str]) -> Result<FieldStatus, ErpError> {
    let before = field_report_for(c, doctypes).await?;
    let mut created = vec![];
    for dt in &before.missing {
        let insert_after = match dt.as_str() {
            "Purchase Receipt" => "supplier_delivery_note",
            "Delivery Note" => "po_no",
            _ => "order_confirmation_no",
        };
        let body = json!({
            "dt": dt, "fieldname": EXT_REF_FIELD, "label": "Ext Ref", "fieldtype": "Data",
            "unique": 1, "no_copy": 1, "read_only": 1, "search_index": 1, "insert_after": insert_after,
            "description": "Idempotency key written by BackOffice; do not edit."
        });
        c.insert("Custom Field", &body).await?;
        created.push(dt.clone());
    }
    for dt in &before.not_unique {
        c.update("Custom Field", &format!("{dt}-{EXT_REF_FIELD}"), &json!({"unique": 1})).await?;
        created.push(dt.clone());
    }
    let mut after = field_report_for(c, doctypes).await?;
    after.created = created;
    Ok(after)
}

/// A site's error when creating the field, in plain language.
pub(crate) fn field_error(site: &str, e: ErpError) -> crate::error::CoreError {
    if e.status() == Some(403) {
        return crate::error::CoreError::Forbidden {
            connection: site.to_string(),
            detail: format!(
                "creating the Custom Field \"{EXT_REF_FIELD}\" needs the System Manager role; ask an administrator to grant it to the API user or to create the field ({})",
                e.site().and_then(|s| s.error_message.clone()).map(|m| plain_text(&m)).unwrap_or_default()
            ),
        };
    }
    e.into_core()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested() {
        let c: Vec<String> = ["PINES Supplier", "Andes Components", "Pacific Freight Services", "Company A"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(closest("Pines Suplier", &c), vec!["PINES Supplier"]);
        assert_eq!(closest("pines", &c), vec!["PINES Supplier"]);
        assert_eq!(closest("Company", &c)[0], "Company A");
        assert!(closest("Zzz Unknown", &c).is_empty());
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
