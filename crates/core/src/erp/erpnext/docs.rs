//! The four request bodies, built from the validated form, and their preview.
//!
//! Every body sets `docstatus: 1` (insert and submit in one transaction), the step's key in
//! `custom_ext_ref`, explicit posting date/time (`set_posting_time: 1`, otherwise ERPNext replaces
//! them with "now"), the price list, the currency with `conversion_rate: 1`, and the serials as
//! newline-joined `serial_no` text with `use_serial_batch_fields: 1` (reference section 4).

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use ts_rs::TS;

use super::{idempotency_key, TransferInput, EXT_REF_FIELD};

/// A decimal as a JSON number when that number prints back to the same digits, else as text
/// (Frappe casts numeric text for float fields).
pub fn num(d: Decimal) -> Value {
    let d = d.normalize();
    if d.fract().is_zero() {
        if let Ok(i) = i64::from_str(&d.trunc().to_string()) {
            return json!(i);
        }
    }
    let text = d.to_string();
    match serde_json::Number::from_str(&text) {
        Ok(n) if Decimal::from_str(&n.to_string()).ok() == Some(d) => Value::Number(n),
        _ => Value::String(text),
    }
}

/// The posting date and time a document is sent with, in the zone of the site that receives it
/// (see [`super::site_time`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// yyyy-mm-dd
    pub date: String,
    /// HH:MM:SS
    pub time: String,
}

impl Posting {
    pub fn at(t: chrono::NaiveDateTime) -> Posting {
        Posting { date: t.format("%Y-%m-%d").to_string(), time: t.format("%H:%M:%S").to_string() }
    }
}

fn currency(i: &TransferInput) -> String {
    i.currency.clone().unwrap_or_default()
}

fn serial_text(serials: &[String]) -> String {
    serials.join("\n")
}

fn remarks(run_id: &str, step: u8) -> String {
    format!("Created by BackOffice, inter-company transfer {run_id}, step {step} of 4.")
}

/// Step 1: the Purchase Order on site A.
pub fn purchase_order(i: &TransferInput, run_id: &str, p: &Posting) -> Value {
    let date = p.date.clone();
    let schedule = i.schedule_date.clone().unwrap_or_else(|| date.clone());
    let items: Vec<Value> = i
        .items
        .iter()
        .map(|it| {
            json!({
                "item_code": it.item_code,
                "qty": num(it.qty),
                "rate": num(it.rate),
                "warehouse": i.warehouse_a,
                "schedule_date": schedule,
            })
        })
        .collect();
    json!({
        "company": i.company_a,
        "supplier": i.supplier,
        "transaction_date": date,
        "schedule_date": schedule,
        "currency": currency(i),
        "conversion_rate": 1,
        "buying_price_list": i.buying_price_list,
        "set_warehouse": i.warehouse_a,
        "remarks": remarks(run_id, 1),
        EXT_REF_FIELD: idempotency_key(run_id, 1),
        "items": items,
        "docstatus": 1,
    })
}

/// Step 2: the Purchase Receipt on site A from the mapper's unsaved document: serials per row
/// (matched by item code), the key, posting date/time, and submit. The mapper's temporary names,
/// `__islocal` flags and `received_qty` are dropped (ERPNext sets `received_qty` itself).
pub fn purchase_receipt_a(i: &TransferInput, run_id: &str, mapped: &Value, p: &Posting) -> Result<Value, String> {
    let Some(m) = mapped.as_object() else {
        return Err("the mapper did not return a document".into());
    };
    let (date, time) = (&p.date, &p.time);
    let mut doc: Map<String, Value> = m
        .iter()
        .filter(|(k, _)| !k.starts_with("__") && *k != "name" && *k != "items" && *k != "doctype")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let rows = m.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut out_rows = Vec::new();
    for it in &i.items {
        let row = rows
            .iter()
            .find(|r| r.get("item_code").and_then(Value::as_str) == Some(it.item_code.as_str()))
            .ok_or_else(|| {
                format!(
                    "the Purchase Order has nothing left to receive for item {}; it may have been received already by another Purchase Receipt",
                    it.item_code
                )
            })?;
        let pending = row.get("qty").map(|q| crate::sync::parse::decimal(q).ok().flatten()).unwrap_or(None);
        if pending != Some(it.qty) {
            return Err(format!(
                "the Purchase Order has {} left to receive for item {}, but the transfer is for {}; someone else may have received part of it",
                pending.map(|d| d.normalize().to_string()).unwrap_or_else(|| "nothing".into()),
                it.item_code,
                it.qty
            ));
        }
        let mut r: Map<String, Value> = row
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| {
                !k.starts_with("__") && !matches!(k.as_str(), "name" | "received_qty" | "parent" | "doctype" | "idx")
            })
            .collect();
        r.insert("warehouse".into(), json!(i.warehouse_a));
        r.insert("use_serial_batch_fields".into(), json!(1));
        r.insert("serial_no".into(), json!(serial_text(&it.serials)));
        out_rows.push(Value::Object(r));
    }
    doc.insert("items".into(), Value::Array(out_rows));
    doc.insert("set_warehouse".into(), json!(i.warehouse_a));
    doc.insert("set_posting_time".into(), json!(1));
    doc.insert("posting_date".into(), json!(date));
    doc.insert("posting_time".into(), json!(time));
    doc.insert("buying_price_list".into(), json!(i.buying_price_list));
    doc.insert("remarks".into(), json!(remarks(run_id, 2)));
    doc.insert(EXT_REF_FIELD.into(), json!(idempotency_key(run_id, 2)));
    doc.insert("docstatus".into(), json!(1));
    Ok(Value::Object(doc))
}

/// What step 2 will send, for the preview (the real body comes from the mapper once the
/// Purchase Order exists; the rows then also carry `purchase_order_item`).
pub fn purchase_receipt_a_preview(i: &TransferInput, run_id: &str, po_name: &str, p: &Posting) -> Value {
    let (date, time) = (&p.date, &p.time);
    let items: Vec<Value> = i
        .items
        .iter()
        .map(|it| {
            json!({
                "item_code": it.item_code,
                "qty": num(it.qty),
                "rate": num(it.rate),
                "warehouse": i.warehouse_a,
                "purchase_order": po_name,
                "purchase_order_item": "(row of the Purchase Order)",
                "use_serial_batch_fields": 1,
                "serial_no": serial_text(&it.serials),
            })
        })
        .collect();
    json!({
        "company": i.company_a,
        "supplier": i.supplier,
        "currency": currency(i),
        "conversion_rate": 1,
        "buying_price_list": i.buying_price_list,
        "set_warehouse": i.warehouse_a,
        "set_posting_time": 1,
        "posting_date": date,
        "posting_time": time,
        "remarks": remarks(run_id, 2),
        EXT_REF_FIELD: idempotency_key(run_id, 2),
        "items": items,
        "docstatus": 1,
    })
}

fn transfer_rate(it: &super::TransferItem) -> Decimal {
    it.transfer_rate.unwrap_or(it.rate)
}

/// Step 3: the Delivery Note on site A to company B's customer record.
pub fn delivery_note(i: &TransferInput, run_id: &str, p: &Posting) -> Value {
    let (date, time) = (&p.date, &p.time);
    let items: Vec<Value> = i
        .items
        .iter()
        .map(|it| {
            json!({
                "item_code": it.item_code,
                "qty": num(it.qty),
                "rate": num(transfer_rate(it)),
                "warehouse": i.warehouse_a,
                "use_serial_batch_fields": 1,
                "serial_no": serial_text(&it.serials),
            })
        })
        .collect();
    json!({
        "company": i.company_a,
        "customer": i.customer_b_on_a,
        "currency": currency(i),
        "conversion_rate": 1,
        "selling_price_list": i.selling_price_list,
        "plc_conversion_rate": 1,
        "set_warehouse": i.warehouse_a,
        "set_posting_time": 1,
        "posting_date": date,
        "posting_time": time,
        "remarks": remarks(run_id, 3),
        EXT_REF_FIELD: idempotency_key(run_id, 3),
        "items": items,
        "docstatus": 1,
    })
}

/// Step 4: the Purchase Receipt on site B from company A's supplier record, with the Delivery
/// Note's name in `supplier_delivery_note`.
pub fn purchase_receipt_b(i: &TransferInput, run_id: &str, dn_name: &str, p: &Posting) -> Value {
    let (date, time) = (&p.date, &p.time);
    let items: Vec<Value> = i
        .items
        .iter()
        .map(|it| {
            json!({
                "item_code": it.item_code,
                "qty": num(it.qty),
                "rate": num(transfer_rate(it)),
                "warehouse": i.warehouse_b,
                "use_serial_batch_fields": 1,
                "serial_no": serial_text(&it.serials),
            })
        })
        .collect();
    json!({
        "company": i.company_b.clone().unwrap_or_default(),
        "supplier": i.supplier_a_on_b,
        "supplier_delivery_note": dn_name,
        "currency": currency(i),
        "conversion_rate": 1,
        "buying_price_list": i.buying_price_list,
        "set_warehouse": i.warehouse_b,
        "set_posting_time": 1,
        "posting_date": date,
        "posting_time": time,
        "remarks": remarks(run_id, 4),
        EXT_REF_FIELD: idempotency_key(run_id, 4),
        "items": items,
        "docstatus": 1,
    })
}

/// One line of a document in the preview.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct PreviewLine {
    pub item_code: String,
    #[ts(type = "string")]
    pub qty: Decimal,
    #[ts(type = "string")]
    pub rate: Decimal,
    #[ts(type = "string")]
    pub amount: Decimal,
    pub warehouse: String,
    pub serials: Vec<String>,
}

/// One of the four documents as it will be created.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct DocumentPreview {
    pub step: u8,
    pub site: super::SiteRole,
    pub site_name: String,
    pub doctype: String,
    /// "Purchase Order from PINES Supplier to Company A".
    pub title: String,
    pub company: String,
    /// Supplier or customer.
    pub party: String,
    pub posting_date: String,
    /// HH:MM:SS on the receiving site's clock (recomputed when the document is sent).
    pub posting_time: String,
    /// The receiving site's time zone.
    pub timezone: String,
    pub currency: String,
    pub lines: Vec<PreviewLine>,
    #[ts(type = "string")]
    pub total: Decimal,
    /// What is linked to what ("against PUR-ORD-… (step 1)").
    pub links: Vec<String>,
    /// The request body (names of earlier steps as placeholders).
    #[ts(type = "unknown")]
    pub body: Value,
}

/// One site as the preview shows it: its name, its zone, and the posting a document sent now gets.
pub struct PreviewSite<'a> {
    pub name: &'a str,
    pub timezone: &'a str,
    pub posting: Posting,
}

/// The four documents a run of `i` will create.
pub fn preview(i: &TransferInput, run_id: &str, a: &PreviewSite<'_>, b: &PreviewSite<'_>) -> Vec<DocumentPreview> {
    let cur = currency(i);
    let lines = |rate: &dyn Fn(&super::TransferItem) -> Decimal, wh: &str| -> Vec<PreviewLine> {
        i.items
            .iter()
            .map(|it| PreviewLine {
                item_code: it.item_code.clone(),
                qty: it.qty,
                rate: rate(it),
                amount: it.qty * rate(it),
                warehouse: wh.to_string(),
                serials: it.serials.clone(),
            })
            .collect()
    };
    let total = |ls: &[PreviewLine]| ls.iter().map(|l| l.amount).sum::<Decimal>();
    let po_ph = "(Purchase Order of step 1)";
    let dn_ph = "(Delivery Note of step 3)";
    let buy = lines(&|it| it.rate, &i.warehouse_a);
    let sell = lines(&transfer_rate, &i.warehouse_a);
    let recv_b = lines(&transfer_rate, &i.warehouse_b);
    let company_b = i.company_b.clone().unwrap_or_default();
    let mk = |step: u8,
              site: super::SiteRole,
              title: String,
              company: &str,
              party: &str,
              ls: Vec<PreviewLine>,
              links: Vec<String>,
              body: Value| {
        let on = if site == super::SiteRole::A { a } else { b };
        DocumentPreview {
            step,
            site,
            site_name: on.name.to_string(),
            doctype: super::step_def(step).doctype.to_string(),
            title,
            company: company.to_string(),
            party: party.to_string(),
            posting_date: on.posting.date.clone(),
            posting_time: on.posting.time.clone(),
            timezone: on.timezone.to_string(),
            currency: cur.clone(),
            total: total(&ls),
            lines: ls,
            links,
            body,
        }
    };
    vec![
        mk(
            1,
            super::SiteRole::A,
            format!("Purchase Order from {} to {}", i.supplier, i.company_a),
            &i.company_a,
            &i.supplier,
            buy.clone(),
            vec![],
            purchase_order(i, run_id, &a.posting),
        ),
        mk(
            2,
            super::SiteRole::A,
            format!("Purchase Receipt of {} from {} into {}", i.company_a, i.supplier, i.warehouse_a),
            &i.company_a,
            &i.supplier,
            buy,
            vec![format!("every row against {po_ph}")],
            purchase_receipt_a_preview(i, run_id, po_ph, &a.posting),
        ),
        mk(
            3,
            super::SiteRole::A,
            format!("Delivery Note from {} to {}", i.company_a, i.customer_b_on_a),
            &i.company_a,
            &i.customer_b_on_a,
            sell,
            vec!["the same serials as step 2".into()],
            delivery_note(i, run_id, &a.posting),
        ),
        mk(
            4,
            super::SiteRole::B,
            format!("Purchase Receipt of {company_b} from {} into {}", i.supplier_a_on_b, i.warehouse_b),
            &company_b,
            &i.supplier_a_on_b,
            recv_b,
            vec![format!("supplier delivery note = {dn_ph}"), "the same serials as step 3".into()],
            purchase_receipt_b(i, run_id, dn_ph, &b.posting),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_go_out_exactly() {
        assert_eq!(num(Decimal::from_str("2").unwrap()), json!(2));
        assert_eq!(num(Decimal::from_str("2.50").unwrap()), json!(2.5));
        assert_eq!(num(Decimal::from_str("19.99").unwrap()), json!(19.99));
        assert_eq!(num(Decimal::from_str("0.1").unwrap()).to_string(), "0.1");
        // More digits than a double holds: sent as text.
        assert_eq!(num(Decimal::from_str("12345678901234.123456789").unwrap()), json!("12345678901234.123456789"));
    }

    #[test]
    fn the_mapper_output_gets_serials_key_and_submit() {
        let i = TransferInput {
            items: vec![super::super::TransferItem {
                item_code: "X".into(),
                qty: Decimal::from(2),
                rate: Decimal::from(10),
                transfer_rate: None,
                serials: vec!["A".into(), "B".into()],
            }],
            warehouse_a: "Stores - A".into(),
            ..Default::default()
        };
        let p = Posting { date: "2026-01-02".into(), time: "10:00:00".into() };
        let mapped = json!({"name": "new-purchase-receipt-1", "__islocal": 1, "supplier": "S", "items": [
            {"name": "new-row", "__islocal": 1, "item_code": "X", "qty": 2.0, "received_qty": 0.0, "purchase_order": "PO-1", "purchase_order_item": "abc"}
        ]});
        let pr = purchase_receipt_a(&i, "r1", &mapped, &p).unwrap();
        assert_eq!((pr["posting_date"].as_str(), pr["posting_time"].as_str()), (Some("2026-01-02"), Some("10:00:00")));
        assert!(pr.get("name").is_none() && pr.get("__islocal").is_none());
        assert_eq!(pr["items"][0]["serial_no"], "A\nB");
        assert_eq!(pr["items"][0]["purchase_order_item"], "abc");
        assert!(pr["items"][0].get("received_qty").is_none());
        assert_eq!(pr[EXT_REF_FIELD], "bo-r1:pr-a");
        assert_eq!((pr["docstatus"].as_i64(), pr["set_posting_time"].as_i64()), (Some(1), Some(1)));
        let partly = json!({"items": [{"item_code": "X", "qty": 1.0}]});
        assert!(purchase_receipt_a(&i, "r1", &partly, &p).unwrap_err().contains("1 left to receive"));
    }
}
