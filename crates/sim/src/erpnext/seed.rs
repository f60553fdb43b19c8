//! Seed data of the two sites and the declared fields of the DocTypes the simulator writes.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{Doc, Site};

/// The transaction DocTypes the simulator inserts, submits and cancels.
pub(super) const TRANSACTIONS: &[&str] = &["Purchase Order", "Purchase Receipt", "Delivery Note"];

/// The child table DocType of a transaction's `items`.
pub(super) fn child_doctype(dt: &str) -> Option<&'static str> {
    match dt {
        "Purchase Order" => Some("Purchase Order Item"),
        "Purchase Receipt" => Some("Purchase Receipt Item"),
        "Delivery Note" => Some("Delivery Note Item"),
        _ => None,
    }
}

/// Columns every document has (`frappe/model/__init__.py::default_fields`, abridged).
pub(super) const STD_COLUMNS: &[&str] = &["name", "owner", "creation", "modified", "modified_by", "docstatus", "idx"];

/// Child rows carry these on top of the standard ones.
pub(super) const CHILD_STD: &[&str] = &["parent", "parentfield", "parenttype"];

/// Declared (non-standard) fields of the DocTypes the simulator writes. Keys a request sends
/// that are not columns are dropped silently, as `BaseDocument.get_valid_dict` does.
#[rustfmt::skip]
pub(super) fn declared_fields(dt: &str) -> &'static [&'static str] {
    match dt {
        "Purchase Order" => &[
            "naming_series", "title", "supplier", "supplier_name", "company", "transaction_date", "schedule_date",
            "currency", "conversion_rate", "buying_price_list", "price_list_currency", "plc_conversion_rate",
            "set_warehouse", "status", "per_received", "per_billed", "total_qty", "total", "net_total", "grand_total",
            "base_grand_total", "rounded_total", "order_confirmation_no", "remarks", "is_internal_supplier",
            "amended_from", "items",
        ],
        "Purchase Receipt" => &[
            "naming_series", "title", "supplier", "supplier_name", "company", "posting_date", "posting_time",
            "set_posting_time", "currency", "conversion_rate", "buying_price_list", "price_list_currency",
            "plc_conversion_rate", "set_warehouse", "supplier_delivery_note", "status", "per_billed", "total_qty",
            "total", "net_total", "grand_total", "base_grand_total", "rounded_total", "remarks", "is_return",
            "is_internal_supplier", "amended_from", "items",
        ],
        "Delivery Note" => &[
            "naming_series", "title", "customer", "customer_name", "company", "posting_date", "posting_time",
            "set_posting_time", "currency", "conversion_rate", "selling_price_list", "price_list_currency",
            "plc_conversion_rate", "set_warehouse", "po_no", "status", "per_billed", "total_qty", "total",
            "net_total", "grand_total", "base_grand_total", "rounded_total", "remarks", "is_return",
            "is_internal_customer", "amended_from", "items",
        ],
        "Purchase Order Item" => &[
            "item_code", "item_name", "schedule_date", "qty", "received_qty", "stock_qty", "uom", "stock_uom",
            "conversion_factor", "rate", "amount", "base_rate", "base_amount", "warehouse", "description",
        ],
        "Purchase Receipt Item" => &[
            "item_code", "item_name", "schedule_date", "qty", "received_qty", "rejected_qty", "stock_qty", "uom",
            "stock_uom", "conversion_factor", "rate", "amount", "base_rate", "base_amount", "warehouse",
            "purchase_order", "purchase_order_item", "serial_no", "use_serial_batch_fields",
            "serial_and_batch_bundle", "rejected_serial_no", "allow_zero_valuation_rate", "description",
        ],
        "Delivery Note Item" => &[
            "item_code", "item_name", "qty", "stock_qty", "uom", "stock_uom", "conversion_factor", "rate", "amount",
            "base_rate", "base_amount", "warehouse", "serial_no", "use_serial_batch_fields", "serial_and_batch_bundle",
            "against_sales_order", "so_detail", "description",
        ],
        "Serial No" => &[
            "serial_no", "item_code", "item_name", "status", "warehouse", "company", "purchase_document_type",
            "purchase_document_no", "delivery_document_type", "delivery_document_no",
        ],
        "Custom Field" => &[
            "dt", "fieldname", "label", "fieldtype", "options", "unique", "no_copy", "read_only", "search_index",
            "insert_after", "reqd", "description",
        ],
        "Price List" => &["price_list_name", "currency", "buying", "selling", "enabled"],
        _ => &[],
    }
}

pub(super) fn std_doc(doctype: &str, name: &str, n: u64, fields: Value) -> Doc {
    let mut d = Map::new();
    d.insert("name".into(), json!(name));
    d.insert("owner".into(), json!("Administrator"));
    d.insert("creation".into(), json!(format!("2024-11-{:02} 09:{:02}:12.{:06}", 4 + n % 20, n % 60, 104_500 + n)));
    d.insert("modified".into(), json!(format!("2025-01-{:02} 10:{:02}:41.{:06}", 6 + n % 20, n % 60, 337_200 + n)));
    d.insert("modified_by".into(), json!("Administrator"));
    d.insert("docstatus".into(), json!(0));
    d.insert("idx".into(), json!(0));
    if let Value::Object(f) = fields {
        d.extend(f);
    }
    d.insert("doctype".into(), json!(doctype));
    d
}

/// Suppliers and items added to each site's seed per `--scale`: one of each for every five units
/// above 1 (scale 1 is the hand-written seed alone), at most [`MAX_SCALED_MASTERS`] (the seed is
/// held in memory, unlike the other simulators' lazily generated records).
pub(super) fn scaled_masters(scale: u64) -> u64 {
    (scale.saturating_sub(1) / 5).min(MAX_SCALED_MASTERS)
}

pub(super) const MAX_SCALED_MASTERS: u64 = 500;

const PLACES: &[&str] = &["Quito", "Cuenca", "Manta", "Loja", "Ambato", "Machala", "Ibarra", "Riobamba"];
const TRADES: &[&str] =
    &["Electronics", "Networks", "Logistics", "Hardware", "Components", "Trading", "Imports", "Supplies"];
const GROUPS: &[&str] = &["Raw Material", "Hardware", "Services", "Distributor"];
/// (code part, name, serialised, rate) of the generated items.
const ITEM_KINDS: &[(&str, &str, u8, f64)] = &[
    ("AP", "Wireless Access Point", 1, 85.0),
    ("MODEM", "Fiber Modem", 1, 60.0),
    ("RACK", "Rack Cabinet 12U", 0, 240.0),
    ("UPS", "UPS 1500VA", 1, 180.0),
    ("PATCH", "Patch Panel 24p", 0, 35.0),
    ("SFP", "SFP Module 10G", 1, 45.0),
    ("FIBER", "Fiber Patch Cord 3m", 0, 6.5),
    ("CAMERA", "IP Camera", 1, 95.0),
];

/// The `i`-th generated supplier's name: a place and a trade, numbered after the first 64.
fn scaled_supplier(i: u64) -> String {
    let n = PLACES.len() as u64 * TRADES.len() as u64;
    let base = format!("{} {}", PLACES[(i % 8) as usize], TRADES[((i / 8) % 8) as usize]);
    if i < n {
        base
    } else {
        format!("{base} {}", i / n + 1)
    }
}

pub(super) fn seed_docs(site: Site, scale: u64) -> BTreeMap<String, Vec<Doc>> {
    let abbr = match site {
        Site::A => "A",
        Site::B => "B",
    };
    let company = site.company();
    let mut n = 0u64;
    let mut next = || {
        n += 1;
        n
    };
    let mut m: BTreeMap<String, Vec<Doc>> = BTreeMap::new();

    m.insert(
        "Company".into(),
        vec![std_doc(
            "Company",
            company,
            next(),
            json!({"company_name": company, "abbr": abbr, "default_currency": "USD", "country": "Ecuador", "is_group": 0}),
        )],
    );

    let suppliers: Vec<(&str, &str)> = match site {
        Site::A => vec![
            ("PINES Supplier", "Raw Material"),
            ("Andes Components", "Hardware"),
            ("Pacific Freight Services", "Services"),
        ],
        // On site B, company A is an ordinary supplier (erpnext.md section 6).
        Site::B => vec![("Company A", "Distributor"), ("Quito Office Supplies", "Services")],
    };
    m.insert(
        "Supplier".into(),
        suppliers
            .into_iter()
            .map(|(s, g)| {
                std_doc(
                    "Supplier",
                    s,
                    next(),
                    json!({"supplier_name": s, "supplier_group": g, "supplier_type": "Company", "country": "Ecuador", "default_currency": "USD", "is_internal_supplier": 0, "disabled": 0, "naming_series": "SUP-.YYYY.-"}),
                )
            })
            .collect(),
    );

    let customers: Vec<&str> = match site {
        // On site A, company B is an ordinary customer.
        Site::A => vec!["Company B", "Guayaquil Retail"],
        Site::B => vec!["Cuenca Hardware Store"],
    };
    m.insert(
        "Customer".into(),
        customers
            .into_iter()
            .map(|c| {
                std_doc(
                    "Customer",
                    c,
                    next(),
                    json!({"customer_name": c, "customer_type": "Company", "customer_group": "Commercial", "territory": "Ecuador", "default_currency": "USD", "is_internal_customer": 0, "disabled": 0}),
                )
            })
            .collect(),
    );

    let items = [
        ("SKU-ROUTER-01", "Serialized Router", 1, Some("RTR-.#####"), 120.0),
        ("SKU-SWITCH-01", "Serialized Switch 24p", 1, Some("SWT-.#####"), 310.0),
        ("SKU-CABLE-01", "Patch Cable Cat6 2m", 0, None, 2.5),
    ];
    m.insert(
        "Item".into(),
        items
            .iter()
            .map(|(code, name, serial, series, rate)| {
                let mut f = json!({"item_code": code, "item_name": name, "item_group": "Products", "stock_uom": "Nos", "is_stock_item": 1, "has_serial_no": serial, "has_batch_no": 0, "disabled": 0, "valuation_rate": rate, "standard_rate": rate * 1.25, "description": name});
                if let Some(s) = series {
                    f["serial_no_series"] = json!(s);
                }
                std_doc("Item", code, next(), f)
            })
            .collect(),
    );

    let group = format!("All Warehouses - {abbr}");
    let mut whs = vec![std_doc(
        "Warehouse",
        &group,
        next(),
        json!({"warehouse_name": "All Warehouses", "is_group": 1, "company": company, "disabled": 0, "lft": 1, "rgt": 12}),
    )];
    for (i, (w, kind)) in
        [("Stores", None), ("Finished Goods", None), ("Work In Progress", None), ("Goods In Transit", Some("Transit"))]
            .iter()
            .enumerate()
    {
        let mut f = json!({"warehouse_name": w, "is_group": 0, "parent_warehouse": group, "company": company, "disabled": 0, "lft": 2 + 2 * i, "rgt": 3 + 2 * i});
        if let Some(k) = kind {
            f["warehouse_type"] = json!(k);
        }
        whs.push(std_doc("Warehouse", &format!("{w} - {abbr}"), next(), f));
    }
    m.insert("Warehouse".into(), whs);

    // reference: "Standard Buying" / "Standard Selling" are the price lists a new site's
    // setup wizard creates [inferred]; neither Selling Settings nor the customers name a
    // default here, so a Delivery Note must send `selling_price_list` (erpnext.md section 8).
    m.insert(
        "Price List".into(),
        vec![
            std_doc("Price List", "Standard Buying", next(), json!({"price_list_name": "Standard Buying", "currency": "USD", "buying": 1, "selling": 0, "enabled": 1})),
            std_doc("Price List", "Standard Selling", next(), json!({"price_list_name": "Standard Selling", "currency": "USD", "buying": 0, "selling": 1, "enabled": 1})),
        ],
    );
    for dt in TRANSACTIONS.iter().chain(["Serial No", "Custom Field"].iter()) {
        m.insert(dt.to_string(), Vec::new());
    }

    // Larger scales: more suppliers and items, after the hand-written ones (the same items on both
    // sites, as the workflow needs).
    for i in 0..scaled_masters(scale) {
        let s = scaled_supplier(i);
        let g = GROUPS[(i % 4) as usize];
        let d = std_doc(
            "Supplier",
            &s,
            next(),
            json!({"supplier_name": s, "supplier_group": g, "supplier_type": "Company", "country": "Ecuador", "default_currency": "USD", "is_internal_supplier": 0, "disabled": 0, "naming_series": "SUP-.YYYY.-"}),
        );
        m.entry("Supplier".into()).or_default().push(d);
        let (kind, label, serial, rate) = ITEM_KINDS[(i % 8) as usize];
        let k = i / 8 + 1;
        let code = format!("SKU-{kind}-{k:02}");
        let name = format!("{label} {k:02}");
        let rate = rate + (i / 8) as f64;
        let mut f = json!({"item_code": code, "item_name": name, "item_group": "Products", "stock_uom": "Nos", "is_stock_item": 1, "has_serial_no": serial, "has_batch_no": 0, "disabled": 0, "valuation_rate": rate, "standard_rate": rate * 1.25, "description": name});
        if serial == 1 {
            f["serial_no_series"] = json!(format!("{kind}{k:02}-.#####"));
        }
        let d = std_doc("Item", &code, next(), f);
        m.entry("Item".into()).or_default().push(d);
    }
    m
}
