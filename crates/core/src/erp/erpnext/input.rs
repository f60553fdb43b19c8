//! The transfer form: what the user enters, parsed exactly (money as `rust_decimal`), and the
//! checks that need no network. Every problem is reported at once, each naming its field and the fix.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use ts_rs::TS;

/// One serialised item line.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct TransferItem {
    pub item_code: String,
    /// Units; a whole number ≥ 1 equal to the number of serials.
    #[ts(type = "string")]
    pub qty: Decimal,
    /// Purchase rate on site A, an exact decimal ("125.50").
    #[ts(type = "string")]
    pub rate: Decimal,
    /// Rate of the delivery A → B (Delivery Note and site B's receipt); the purchase rate if empty.
    #[serde(default)]
    #[ts(type = "string | null")]
    pub transfer_rate: Option<Decimal>,
    pub serials: Vec<String>,
}

/// The form. A payload file ([`parse_payload`]) may also use the seed design's spelling
/// (`company_a_name`, `company_b_customer_name`, `company_a_supplier_name`, `company_a_warehouse`,
/// `company_b_warehouse`).
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq, Default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct TransferInput {
    /// Connection id of company A's ERPNext site.
    #[serde(default)]
    pub site_a: String,
    /// Connection id of company B's ERPNext site.
    #[serde(default)]
    pub site_b: String,
    /// The supplier on site A.
    pub supplier: String,
    /// Company A, on site A.
    pub company_a: String,
    /// Company B on site B; empty: the company that owns `warehouse_b`.
    #[serde(default)]
    pub company_b: Option<String>,
    /// Company B's customer record on site A.
    pub customer_b_on_a: String,
    /// Company A's supplier record on site B.
    pub supplier_a_on_b: String,
    pub warehouse_a: String,
    pub warehouse_b: String,
    pub items: Vec<TransferItem>,
    /// yyyy-mm-dd; empty: today in site A's time zone.
    #[serde(default)]
    pub posting_date: Option<String>,
    /// HH:MM:SS; empty: now in site A's time zone (fixed when the run is created).
    #[serde(default)]
    pub posting_time: Option<String>,
    /// The PO's "required by" date; empty: the posting date.
    #[serde(default)]
    pub schedule_date: Option<String>,
    /// Empty: "Standard Buying".
    #[serde(default)]
    pub buying_price_list: Option<String>,
    /// Empty: "Standard Selling".
    #[serde(default)]
    pub selling_price_list: Option<String>,
    /// Empty: company A's default currency (company B's must be the same).
    #[serde(default)]
    pub currency: Option<String>,
}

/// One thing wrong with the form, with the field it belongs to and, for names that were not
/// found, the closest names the site has.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Problem {
    /// `supplier`, `items[0].serials`, `site_b`...
    pub field: String,
    pub message: String,
    pub suggestions: Vec<String>,
}

impl Problem {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { field: field.into(), message: message.into(), suggestions: vec![] }
    }
}

fn parse_exact(v: &serde_json::Value) -> Result<Option<Decimal>, String> {
    match v {
        serde_json::Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(None);
            }
            if t.contains(',') {
                return Err(format!("\"{s}\" is not a number: use a dot for decimals and no thousands separator"));
            }
            Decimal::from_str(t).map(Some).map_err(|_| format!("\"{s}\" is not a number"))
        }
        other => crate::sync::parse::decimal(other).map_err(String::from),
    }
}

fn exact<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    parse_exact(&v).map_err(serde::de::Error::custom)?.ok_or_else(|| serde::de::Error::custom("a number is required"))
}

fn exact_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    parse_exact(&v).map_err(serde::de::Error::custom)
}

#[derive(Deserialize)]
struct RawItem {
    item_code: String,
    #[serde(deserialize_with = "exact")]
    qty: Decimal,
    #[serde(deserialize_with = "exact")]
    rate: Decimal,
    #[serde(default, deserialize_with = "exact_opt")]
    transfer_rate: Option<Decimal>,
    #[serde(default)]
    serials: Vec<String>,
}

#[derive(Deserialize)]
struct RawInput {
    #[serde(default)]
    site_a: String,
    #[serde(default)]
    site_b: String,
    supplier: String,
    #[serde(alias = "company_a_name")]
    company_a: String,
    #[serde(default, alias = "company_b_name")]
    company_b: Option<String>,
    #[serde(alias = "company_b_customer_name")]
    customer_b_on_a: String,
    #[serde(alias = "company_a_supplier_name")]
    supplier_a_on_b: String,
    #[serde(alias = "company_a_warehouse")]
    warehouse_a: String,
    #[serde(alias = "company_b_warehouse")]
    warehouse_b: String,
    items: Vec<RawItem>,
    #[serde(default)]
    posting_date: Option<String>,
    #[serde(default)]
    posting_time: Option<String>,
    #[serde(default)]
    schedule_date: Option<String>,
    #[serde(default)]
    buying_price_list: Option<String>,
    #[serde(default)]
    selling_price_list: Option<String>,
    #[serde(default)]
    currency: Option<String>,
}

/// Parses a payload file (the form as JSON; numbers exact, from JSON numbers or text) with a
/// message that says where it is wrong.
pub fn parse_payload(text: &str) -> Result<TransferInput, String> {
    let r: RawInput =
        serde_json::from_str(text).map_err(|e| format!("the payload is not a valid transfer form: {e}"))?;
    Ok(TransferInput {
        site_a: r.site_a,
        site_b: r.site_b,
        supplier: r.supplier,
        company_a: r.company_a,
        company_b: r.company_b,
        customer_b_on_a: r.customer_b_on_a,
        supplier_a_on_b: r.supplier_a_on_b,
        warehouse_a: r.warehouse_a,
        warehouse_b: r.warehouse_b,
        items: r
            .items
            .into_iter()
            .map(|i| TransferItem {
                item_code: i.item_code,
                qty: i.qty,
                rate: i.rate,
                transfer_rate: i.transfer_rate,
                serials: i.serials,
            })
            .collect(),
        posting_date: r.posting_date,
        posting_time: r.posting_time,
        schedule_date: r.schedule_date,
        buying_price_list: r.buying_price_list,
        selling_price_list: r.selling_price_list,
        currency: r.currency,
    })
}

fn trimmed(o: &Option<String>) -> Option<String> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Trims every name and serial, and fills the defaults that need no site.
pub fn normalize(input: &TransferInput) -> TransferInput {
    let mut i = input.clone();
    for s in [
        &mut i.site_a,
        &mut i.site_b,
        &mut i.supplier,
        &mut i.company_a,
        &mut i.customer_b_on_a,
        &mut i.supplier_a_on_b,
        &mut i.warehouse_a,
        &mut i.warehouse_b,
    ] {
        *s = s.trim().to_string();
    }
    i.company_b = trimmed(&i.company_b);
    i.posting_date = trimmed(&i.posting_date);
    i.posting_time = trimmed(&i.posting_time);
    i.schedule_date = trimmed(&i.schedule_date);
    i.currency = trimmed(&i.currency);
    i.buying_price_list = Some(trimmed(&i.buying_price_list).unwrap_or_else(|| "Standard Buying".into()));
    i.selling_price_list = Some(trimmed(&i.selling_price_list).unwrap_or_else(|| "Standard Selling".into()));
    for it in &mut i.items {
        it.item_code = it.item_code.trim().to_string();
        it.serials = it.serials.iter().map(|s| s.trim().to_string()).collect();
        it.qty = it.qty.normalize();
    }
    i
}

/// The checks that need no network: required fields, quantities, rates, serials, dates.
pub fn local_problems(i: &TransferInput, today_a: chrono::NaiveDate) -> Vec<Problem> {
    let mut p = Vec::new();
    let required = [
        ("site_a", &i.site_a, "Choose site A, the ERPNext connection of company A."),
        ("site_b", &i.site_b, "Choose site B, the ERPNext connection of company B."),
        ("supplier", &i.supplier, "Enter the supplier on site A (who sells the items to company A)."),
        ("company_a", &i.company_a, "Enter company A's name as it is on site A."),
        ("customer_b_on_a", &i.customer_b_on_a, "Enter the customer record that stands for company B on site A."),
        ("supplier_a_on_b", &i.supplier_a_on_b, "Enter the supplier record that stands for company A on site B."),
        ("warehouse_a", &i.warehouse_a, "Enter the warehouse on site A that receives and ships the items."),
        ("warehouse_b", &i.warehouse_b, "Enter the warehouse on site B that receives the items."),
    ];
    for (field, v, msg) in required {
        if v.is_empty() {
            p.push(Problem::new(field, msg));
        }
    }
    if !i.site_a.is_empty() && i.site_a == i.site_b {
        p.push(Problem::new(
            "site_b",
            "Site A and site B are the same connection. The transfer goes from one ERPNext site to another; choose company B's site.",
        ));
    }
    if i.items.is_empty() {
        p.push(Problem::new("items", "Add at least one item with its serial numbers."));
    }
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut serial_owner: BTreeMap<String, usize> = BTreeMap::new();
    for (n, it) in i.items.iter().enumerate() {
        let f = |x: &str| format!("items[{n}].{x}");
        let line = n + 1;
        if it.item_code.is_empty() {
            p.push(Problem::new(f("item_code"), format!("Line {line}: enter the item code.")));
        } else if let Some(first) = codes.insert(it.item_code.to_lowercase(), n) {
            p.push(Problem::new(
                f("item_code"),
                format!(
                    "Item {} is on lines {} and {line}. Put it on one line with all its serials (ERPNext refuses the same item twice on a Purchase Order unless allowed).",
                    it.item_code,
                    first + 1
                ),
            ));
        }
        let qty_ok = it.qty >= Decimal::ONE && it.qty.fract().is_zero();
        if !qty_ok {
            p.push(Problem::new(
                f("qty"),
                format!("Line {line}: the quantity must be a whole number of at least 1 (got {}).", it.qty),
            ));
        }
        if it.rate <= Decimal::ZERO {
            p.push(Problem::new(
                f("rate"),
                format!(
                    "Line {line}: the rate must be more than zero (got {}); ERPNext cannot value stock at zero.",
                    it.rate
                ),
            ));
        }
        if let Some(t) = it.transfer_rate {
            if t <= Decimal::ZERO {
                p.push(Problem::new(
                    f("transfer_rate"),
                    format!("Line {line}: the transfer rate must be more than zero, or left empty to use the purchase rate."),
                ));
            }
        }
        let mut seen_here = BTreeMap::new();
        for s in &it.serials {
            if s.is_empty() {
                p.push(Problem::new(
                    f("serials"),
                    format!("Line {line}: a serial number is empty; remove the blank entry."),
                ));
            } else if s.contains(',') || s.contains('\n') {
                p.push(Problem::new(
                    f("serials"),
                    format!("Line {line}: \"{s}\" holds a comma or a line break; ERPNext splits serials on those, so enter one serial per entry."),
                ));
            } else if seen_here.insert(s.to_lowercase(), ()).is_some() {
                p.push(Problem::new(f("serials"), format!("Line {line}: serial {s} is entered twice.")));
            } else if let Some(other) = serial_owner.insert(s.to_lowercase(), n) {
                p.push(Problem::new(
                    f("serials"),
                    format!("Serial {s} is on line {} and on line {line}; a serial belongs to one item.", other + 1),
                ));
            }
        }
        if qty_ok && Decimal::from(it.serials.len()) != it.qty {
            p.push(Problem::new(
                f("serials"),
                format!(
                    "Line {line}: {} serial numbers for a quantity of {}. Enter exactly one serial per unit, or change the quantity.",
                    it.serials.len(),
                    it.qty
                ),
            ));
        }
    }
    let date = |field: &str, v: &Option<String>, p: &mut Vec<Problem>| -> Option<chrono::NaiveDate> {
        let s = v.as_deref()?;
        match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                p.push(Problem::new(field, format!("\"{s}\" is not a date like 2026-03-31.")));
                None
            }
        }
    };
    let posting = date("posting_date", &i.posting_date, &mut p);
    let schedule = date("schedule_date", &i.schedule_date, &mut p);
    if let Some(d) = posting {
        if d > today_a {
            p.push(Problem::new(
                "posting_date",
                format!("{d} is in the future on site A; ERPNext refuses stock postings dated after today."),
            ));
        }
    }
    if let (Some(s), Some(d)) = (schedule, posting.or(Some(today_a))) {
        if s < d {
            p.push(Problem::new("schedule_date", format!("The required-by date {s} is before the posting date {d}.")));
        }
    }
    if let Some(t) = &i.posting_time {
        if chrono::NaiveTime::parse_from_str(t, "%H:%M:%S").is_err() {
            p.push(Problem::new("posting_time", format!("\"{t}\" is not a time like 09:30:00.")));
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> TransferInput {
        TransferInput {
            site_a: "a".into(),
            site_b: "b".into(),
            supplier: "S".into(),
            company_a: "Company A".into(),
            company_b: None,
            customer_b_on_a: "Company B".into(),
            supplier_a_on_b: "Company A".into(),
            warehouse_a: "Stores - A".into(),
            warehouse_b: "Stores - B".into(),
            items: vec![TransferItem {
                item_code: "X".into(),
                qty: Decimal::from(2),
                rate: Decimal::from_str("10.10").unwrap(),
                transfer_rate: None,
                serials: vec!["S1".into(), "S2".into()],
            }],
            ..Default::default()
        }
    }

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
    }

    #[test]
    fn seed_spelling_and_exact_rates_are_accepted() {
        let v = json!({
            "supplier": "S", "company_a_name": "Company A", "company_b_customer_name": "Company B",
            "company_a_supplier_name": "Company A", "company_a_warehouse": "Stores - A", "company_b_warehouse": "Stores - B",
            "items": [{"item_code": "X", "qty": 2, "rate": 19.99, "serials": ["a", "b"]}, {"item_code": "Y", "qty": "1", "rate": "0.10", "serials": ["c"]}]
        });
        let i = parse_payload(&v.to_string()).unwrap();
        assert_eq!(i.items[0].rate.to_string(), "19.99");
        assert_eq!(i.items[1].rate.to_string(), "0.10");
        assert_eq!(i.customer_b_on_a, "Company B");
        assert!(parse_payload(r#"{"items":[{"item_code":"X","qty":1,"rate":"1,5","serials":[]}]}"#).is_err());
    }

    #[test]
    fn serial_count_repeats_and_quantities_are_checked() {
        assert!(local_problems(&normalize(&base()), today()).is_empty());
        let mut i = base();
        i.items[0].serials = vec!["S1".into(), "S1".into()];
        let p = local_problems(&normalize(&i), today());
        assert!(p.iter().any(|p| p.message.contains("entered twice")), "{p:?}");
        let mut i = base();
        i.items[0].serials.pop();
        let p = local_problems(&normalize(&i), today());
        assert!(p
            .iter()
            .any(|p| p.field == "items[0].serials" && p.message.contains("1 serial numbers for a quantity of 2")));
        let mut i = base();
        i.items[0].qty = Decimal::from_str("1.5").unwrap();
        assert!(local_problems(&normalize(&i), today()).iter().any(|p| p.field == "items[0].qty"));
        let mut i = base();
        i.items[0].qty = Decimal::ZERO;
        i.items[0].serials.clear();
        assert!(local_problems(&normalize(&i), today()).iter().any(|p| p.field == "items[0].qty"));
        let mut i = base();
        i.items[0].rate = Decimal::ZERO;
        assert!(local_problems(&normalize(&i), today()).iter().any(|p| p.field == "items[0].rate"));
        let mut i = base();
        i.items.push(i.items[0].clone());
        i.items[1].serials = vec!["S2".into(), "S3".into()];
        let p = local_problems(&normalize(&i), today());
        assert!(p.iter().any(|p| p.message.contains("lines 1 and 2")));
        assert!(p.iter().any(|p| p.message.contains("Serial S2 is on line 1 and on line 2")));
        let mut i = base();
        i.site_b = "a".into();
        i.posting_date = Some("2026-03-02".into());
        let p = local_problems(&normalize(&i), today());
        assert!(p.iter().any(|p| p.field == "site_b"));
        assert!(p.iter().any(|p| p.field == "posting_date" && p.message.contains("future")));
    }
}
