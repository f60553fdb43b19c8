//! `--scale` grows the ERPNext sites' suppliers and items, as it grows the other simulators'
//! records; scale 1 is the hand-written seed.

mod common;

use common::*;
use serde_json::{json, Value};

const TOK: &str = "token demo-erpnext-key:demo-erpnext-secret";

/// Every name of a DocType on a site (`limit_page_length=0`: no limit; no `order_by`: as stored).
async fn names(base: &str, doctype: &str) -> Vec<String> {
    let r = client()
        .get(format!("{base}/api/resource/{doctype}?limit_page_length=0"))
        .header("Authorization", TOK)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    v["data"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_larger_scale_seeds_more_suppliers_and_items() {
    let small = sim_with(1, 7).await;
    let items = vec!["SKU-ROUTER-01", "SKU-SWITCH-01", "SKU-CABLE-01"];
    assert_eq!(names(&small.erpnext_a, "Item").await, items);
    assert_eq!(names(&small.erpnext_b, "Item").await, items);
    assert_eq!(
        names(&small.erpnext_a, "Supplier").await,
        vec!["PINES Supplier", "Andes Components", "Pacific Freight Services"]
    );
    assert_eq!(names(&small.erpnext_b, "Supplier").await, vec!["Company A", "Quito Office Supplies"]);
    small.shutdown().await;

    let big = sim_with(200, 7).await;
    for (base, suppliers) in [(&big.erpnext_a, 3), (&big.erpnext_b, 2)] {
        let it = names(base, "Item").await;
        let su = names(base, "Supplier").await;
        assert!(it.len() > 3 && su.len() > suppliers, "{} items, {} suppliers", it.len(), su.len());
        assert_eq!(&it[..3], &items[..], "the hand-written items come first");
        let mut unique = su.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), su.len(), "supplier names are unique");
    }
    let more = names(&big.erpnext_a, "Item").await.len();
    let bigger = sim_with(1000, 7).await;
    assert!(names(&bigger.erpnext_a, "Item").await.len() > more);
    assert!(names(&bigger.erpnext_a, "Supplier").await.len() > names(&big.erpnext_a, "Supplier").await.len());
    bigger.shutdown().await;

    // A generated supplier and serialised item work in a submitted order and receipt.
    let a = big.erpnext_a.clone();
    let supplier = names(&a, "Supplier").await[3].clone();
    let r = client()
        .get(format!("{a}/api/resource/Item?fields=%5B%22name%22%5D&filters=%5B%5B%22has_serial_no%22%2C%22%3D%22%2C1%5D%2C%5B%22name%22%2C%22like%22%2C%22SKU-AP-%25%22%5D%5D"))
        .header("Authorization", TOK)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let item = v["data"][0]["name"].as_str().expect("a generated serialised item").to_string();
    let pr = json!({
        "company": "Company A", "supplier": supplier, "currency": "USD", "conversion_rate": 1,
        "items": [{"item_code": item, "qty": 1, "rate": 80.0, "warehouse": "Stores - A", "serial_no": "GEN-SERIAL-1", "use_serial_batch_fields": 1}],
        "docstatus": 1,
    });
    let r = client()
        .post(format!("{a}/api/resource/Purchase Receipt"))
        .header("Authorization", TOK)
        .json(&pr)
        .send()
        .await
        .unwrap();
    let st = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    assert_eq!((st, v["data"]["docstatus"].as_i64()), (200, Some(1)), "{v}");
    big.shutdown().await;
}
