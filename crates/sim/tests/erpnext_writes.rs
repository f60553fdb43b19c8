//! The ERPNext simulator's writes against the reference (erpnext.md): insert-and-submit,
//! the PR mapper, serial rules, link and mandatory validation, unique custom fields,
//! cancels, and the "commit, then answer after the client's timeout" fault.

mod common;

use std::time::Duration;

use backoffice_sim::erpnext::Op;
use serde_json::{json, Value};

const TOK: &str = "token demo-erpnext-key:demo-erpnext-secret";

async fn call(base: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{base}{path}");
    let c = common::client();
    let mut rq = match method {
        "GET" => c.get(&url),
        "PUT" => c.put(&url),
        "DELETE" => c.delete(&url),
        _ => c.post(&url),
    }
    .header("Authorization", TOK)
    .header("Accept", "application/json");
    if let Some(b) = body {
        rq = rq.json(&b);
    }
    let r = rq.send().await.unwrap();
    let st = r.status().as_u16();
    let text = r.text().await.unwrap();
    (st, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Decodes `_server_messages` twice (erpnext.md section 3).
fn messages(v: &Value) -> Vec<String> {
    let outer: Vec<String> = serde_json::from_str(v["_server_messages"].as_str().unwrap_or("[]")).unwrap();
    outer.iter().map(|s| serde_json::from_str::<Value>(s).unwrap()["message"].as_str().unwrap().to_string()).collect()
}

fn po_body(ext: &str) -> Value {
    json!({
        "company": "Company A", "supplier": "PINES Supplier", "transaction_date": "2026-01-10",
        "schedule_date": "2026-01-20", "currency": "USD", "conversion_rate": 1, "set_warehouse": "Stores - A",
        "custom_ext_ref": ext,
        "items": [{"item_code": "SKU-ROUTER-01", "qty": 2, "rate": 100.0, "warehouse": "Stores - A", "schedule_date": "2026-01-20"}],
        "docstatus": 1
    })
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn the_four_documents_serials_and_links_behave_as_the_reference() {
    let sim = common::sim().await;
    let (a, b) = (sim.erpnext_a.clone(), sim.erpnext_b.clone());
    for dt in ["Purchase Order", "Purchase Receipt", "Delivery Note"] {
        sim.erpnext_a().add_ext_ref_field(dt);
    }
    sim.erpnext_b().add_ext_ref_field("Purchase Receipt");

    // (1) PO inserted and submitted in one call; nulls left out; naming series.
    let (st, v) = call(&a, "POST", "/api/resource/Purchase Order", Some(po_body("wf-1:po"))).await;
    assert_eq!(st, 200, "{v}");
    let po = &v["data"];
    assert_eq!(po["name"], "PUR-ORD-2026-00001".replace("2026", &chrono::Utc::now().format("%Y").to_string()));
    assert_eq!((po["docstatus"].as_i64(), po["status"].as_str()), (Some(1), Some("To Receive and Bill")));
    assert!(po.as_object().unwrap().values().all(|x| !x.is_null()), "no nulls: {po}");
    assert_eq!(po["items"][0]["docstatus"], 1);
    let po_name = po["name"].as_str().unwrap().to_string();
    let po_item = po["items"][0]["name"].as_str().unwrap().to_string();
    assert_eq!(po_item.len(), 10);

    // (2) The mapper writes nothing and links the rows.
    let mapper = "/api/method/erpnext.buying.doctype.purchase_order.purchase_order.make_purchase_receipt";
    let (st, v) = call(&a, "POST", mapper, Some(json!({"source_name": po_name}))).await;
    assert_eq!(st, 200, "{v}");
    let mut pr = v["message"].clone();
    assert_eq!(pr["__islocal"], 1);
    assert_eq!(pr["items"][0]["purchase_order_item"], po_item.as_str());
    assert_eq!(sim.erpnext_a().count("Purchase Receipt"), 0);
    // Wrong serial count is refused at submit; nothing is written.
    pr["items"][0]["serial_no"] = json!("SN-1");
    pr["docstatus"] = json!(1);
    pr["custom_ext_ref"] = json!("wf-1:pr-a");
    let (st, v) = call(&a, "POST", "/api/resource/Purchase Receipt", Some(pr.clone())).await;
    assert_eq!(st, 417, "{v}");
    assert!(messages(&v)[0].contains("is not equal to Actual Qty 2"), "{v}");
    assert_eq!(sim.erpnext_a().count("Purchase Receipt"), 0);
    pr["items"][0]["serial_no"] = json!("SN-1, SN-2");
    let (st, v) = call(&a, "POST", "/api/resource/Purchase Receipt", Some(pr.clone())).await;
    assert_eq!(st, 200, "{v}");
    let pr_name = v["data"]["name"].as_str().unwrap().to_string();
    assert!(pr_name.starts_with("MAT-PRE-"), "{pr_name}");
    assert_eq!(v["data"]["items"][0]["serial_no"], "SN-1\nSN-2");
    assert!(v["data"]["items"][0]["serial_and_batch_bundle"].is_string());
    // The same key again: UniqueValidationError 417 with a plain "Ext Ref must be unique".
    let (st, v) = call(&a, "POST", "/api/resource/Purchase Receipt", Some(pr.clone())).await;
    assert_eq!((st, v["exc_type"].as_str()), (417, Some("UniqueValidationError")), "{v}");
    assert_eq!(messages(&v), vec!["Ext Ref must be unique"]);
    // The PO counts the receipt and its `modified` moved.
    let (_, v) = call(&a, "GET", &format!("/api/resource/Purchase Order/{}", enc(&po_name)), None).await;
    assert_eq!((v["data"]["per_received"].as_f64(), v["data"]["status"].as_str()), (Some(100.0), Some("To Bill")));
    assert!(v["data"]["modified"].as_str().unwrap() > po["modified"].as_str().unwrap());
    // A serial cannot be received twice.
    let mut again = po_body("wf-2:po");
    again["items"][0]["qty"] = json!(1);
    let (_, v) = call(&a, "POST", "/api/resource/Purchase Order", Some(again)).await;
    let po2 = v["data"]["name"].as_str().unwrap().to_string();
    let (_, v) = call(&a, "POST", mapper, Some(json!({"source_name": po2}))).await;
    let mut pr2 = v["message"].clone();
    pr2["items"][0]["serial_no"] = json!("SN-2");
    pr2["docstatus"] = json!(1);
    let (st, v) = call(&a, "POST", "/api/resource/Purchase Receipt", Some(pr2)).await;
    assert_eq!((st, v["exc_type"].as_str()), (417, Some("SerialNoDuplicateError")), "{v}");

    // (3) DN: the price list is mandatory (plain messages), unknown links are 417s.
    let dn = json!({
        "company": "Company A", "customer": "Company B", "currency": "USD", "conversion_rate": 1,
        "set_warehouse": "Stores - A", "custom_ext_ref": "wf-1:dn-a", "docstatus": 1,
        "items": [{"item_code": "SKU-ROUTER-01", "qty": 2, "rate": 130, "warehouse": "Stores - A", "use_serial_batch_fields": 1, "serial_no": "SN-1\nSN-2"}]
    });
    let (st, v) = call(&a, "POST", "/api/resource/Delivery Note", Some(dn.clone())).await;
    assert_eq!((st, v["exc_type"].as_str()), (417, Some("MandatoryError")), "{v}");
    assert_eq!(messages(&v)[0], "Error: Value missing for Delivery Note: Price List");
    let mut bad = dn.clone();
    bad["customer"] = json!("Compny B");
    bad["items"][0]["item_code"] = json!("NOPE");
    let (st, v) = call(&a, "POST", "/api/resource/Delivery Note", Some(bad)).await;
    assert_eq!((st, v["exc_type"].as_str()), (417, Some("LinkValidationError")), "{v}");
    assert_eq!(messages(&v), vec!["Could not find Customer: Compny B, Row #1: Item Code: NOPE"]);
    let mut dn = dn;
    dn["selling_price_list"] = json!("Standard Selling");
    let (st, v) = call(&a, "POST", "/api/resource/Delivery Note", Some(dn.clone())).await;
    assert_eq!(st, 200, "{v}");
    let dn_name = v["data"]["name"].as_str().unwrap().to_string();
    assert!(dn_name.starts_with("MAT-DN-"));
    // A serial cannot be delivered twice.
    dn["custom_ext_ref"] = json!("wf-3:dn-a");
    let (st, v) = call(&a, "POST", "/api/resource/Delivery Note", Some(dn)).await;
    assert_eq!((st, v["exc_type"].as_str()), (417, Some("SerialNoWarehouseError")), "{v}");
    assert!(messages(&v)[0].contains("is not present in the warehouse"));

    // (4) Site B: serials it never saw are created by the receipt.
    let prb = json!({
        "company": "Company B", "supplier": "Company A", "supplier_delivery_note": dn_name, "currency": "USD",
        "conversion_rate": 1, "set_posting_time": 1, "posting_date": "2026-01-16", "posting_time": "09:00:00",
        "set_warehouse": "Stores - B", "custom_ext_ref": "wf-1:pr-b", "docstatus": 1,
        "items": [{"item_code": "SKU-ROUTER-01", "qty": 2, "rate": 130, "warehouse": "Stores - B", "use_serial_batch_fields": 1, "serial_no": "SN-1\nSN-2"}]
    });
    let (st, v) = call(&b, "POST", "/api/resource/Purchase Receipt", Some(prb)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"]["posting_date"], "2026-01-16");
    let sb = sim.erpnext_b().doc("Serial No", "SN-1").unwrap();
    assert_eq!((sb["status"].as_str(), sb["warehouse"].as_str()), (Some("Active"), Some("Stores - B")));
    let sa = sim.erpnext_a().doc("Serial No", "SN-1").unwrap();
    assert_eq!(sa["status"], "Delivered");
    assert!(sa.get("warehouse").is_none(), "nulls are left out: {sa}");

    // Listing: filters on the custom field, order_by, child fields.
    let q = format!(
        "/api/resource/Delivery Note?fields={}&filters={}&order_by=modified%20asc",
        enc(r#"["name","docstatus","items.serial_no as serial_no"]"#),
        enc(r#"[["custom_ext_ref","=","wf-1:dn-a"]]"#)
    );
    let (st, v) = call(&a, "GET", &q, None).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["data"], json!([{"name": dn_name, "docstatus": 1, "serial_no": "SN-1\nSN-2"}]));

    // Cancel rules: the PO is still linked by a submitted PR; the PR's serials left with the
    // DN; so cancel in reverse order.
    let cancel = |dt: &str, name: &str| json!({"doctype": dt, "name": name});
    let (st, v) = call(&a, "POST", "/api/method/frappe.client.cancel", Some(cancel("Purchase Order", &po_name))).await;
    assert_eq!((st, v["exc_type"].as_str()), (417, Some("LinkExistsError")), "{v}");
    let (st, v) =
        call(&a, "POST", "/api/method/frappe.client.cancel", Some(cancel("Purchase Receipt", &pr_name))).await;
    assert_eq!(st, 417, "{v}");
    assert!(messages(&v)[0].contains(&dn_name), "{v}");
    let (st, _) = call(&a, "POST", "/api/method/frappe.client.cancel", Some(cancel("Delivery Note", &dn_name))).await;
    assert_eq!(st, 200);
    assert_eq!(sim.erpnext_a().doc("Serial No", "SN-1").unwrap()["warehouse"], "Stores - A");
    let (st, v) =
        call(&a, "PUT", &format!("/api/resource/Purchase Receipt/{}", enc(&pr_name)), Some(json!({"docstatus": 2})))
            .await;
    assert_eq!((st, v["data"]["docstatus"].as_i64()), (200, Some(2)), "{v}");
    let (st, _) = call(&a, "POST", "/api/method/frappe.client.cancel", Some(cancel("Purchase Order", &po_name))).await;
    assert_eq!(st, 200);
    let (st, v) = call(&a, "POST", "/api/method/frappe.client.cancel", Some(cancel("Purchase Order", &po_name))).await;
    assert_eq!(st, 417, "cancelling twice: {v}");
    // A cancelled document keeps its key: the same key cannot be used again.
    let (st, v) = call(&a, "POST", "/api/resource/Purchase Order", Some(po_body("wf-1:po"))).await;
    assert_eq!((st, v["exc_type"].as_str()), (417, Some("UniqueValidationError")));
    // GET on a POST-only method is refused.
    let (st, _) = call(&a, "GET", "/api/method/frappe.client.cancel", None).await;
    assert_eq!(st, 403);
    sim.shutdown().await;
}

#[tokio::test]
async fn submit_calls_and_the_seed_mistake() {
    let sim = common::sim().await;
    let a = sim.erpnext_a.clone();
    let mut draft = po_body("x");
    draft["docstatus"] = json!(0);
    draft.as_object_mut().unwrap().remove("custom_ext_ref");
    let (st, v) = call(&a, "POST", "/api/resource/Purchase Order", Some(draft.clone())).await;
    assert_eq!((st, v["data"]["docstatus"].as_i64(), v["data"]["status"].as_str()), (200, Some(0), Some("Draft")));
    assert!(v["data"].get("custom_ext_ref").is_none(), "a field the site lacks is ignored");
    let name = v["data"]["name"].as_str().unwrap().to_string();
    // The seed's {doctype, docname} body: TypeError, HTTP 500, nothing submitted (sample 11).
    let (st, v) = call(
        &a,
        "POST",
        "/api/method/frappe.client.submit",
        Some(json!({"doctype": "Purchase Order", "docname": name})),
    )
    .await;
    assert_eq!((st, v["exc_type"].as_str()), (500, Some("TypeError")));
    // A partial doc: TimestampMismatchError (sample 12).
    let (st, v) = call(
        &a,
        "POST",
        "/api/method/frappe.client.submit",
        Some(json!({"doc": {"doctype": "Purchase Order", "name": name}})),
    )
    .await;
    assert_eq!((st, v["exc_type"].as_str()), (417, Some("TimestampMismatchError")));
    assert_eq!(sim.erpnext_a().doc("Purchase Order", &name).unwrap()["docstatus"], 0);
    // PUT {"docstatus": 1} submits.
    let (st, v) =
        call(&a, "PUT", &format!("/api/resource/Purchase Order/{}", enc(&name)), Some(json!({"docstatus": 1}))).await;
    assert_eq!((st, v["data"]["docstatus"].as_i64()), (200, Some(1)), "{v}");
    // run_method submit on another draft; and the full-doc frappe.client.submit on a third.
    let (_, v) = call(&a, "POST", "/api/resource/Purchase Order", Some(draft.clone())).await;
    let n2 = v["data"]["name"].as_str().unwrap().to_string();
    let (st, v) =
        call(&a, "POST", &format!("/api/resource/Purchase Order/{}", enc(&n2)), Some(json!({"run_method": "submit"})))
            .await;
    assert_eq!((st, v["data"]["docstatus"].as_i64()), (200, Some(1)), "{v}");
    let (_, v) = call(&a, "POST", "/api/resource/Purchase Order", Some(draft)).await;
    let full = v["data"].clone();
    let (st, v) = call(&a, "POST", "/api/method/frappe.client.submit", Some(json!({"doc": full}))).await;
    assert_eq!((st, v["message"]["docstatus"].as_i64()), (200, Some(1)), "{v}");
    // Missing schedule date: "Please enter Reqd by Date" (sample 23).
    let mut nodate = po_body("y");
    nodate.as_object_mut().unwrap().remove("schedule_date");
    nodate["items"][0].as_object_mut().unwrap().remove("schedule_date");
    let (st, v) = call(&a, "POST", "/api/resource/Purchase Order", Some(nodate)).await;
    assert_eq!(st, 417);
    assert_eq!(messages(&v), vec!["Please enter Reqd by Date"]);
    sim.shutdown().await;
}

/// erpnext.md section 2.2: `frappe.client.submit(doc)` is `frappe.get_doc(doc)` then
/// `doc.submit()`. A stored draft sent whole is submitted under its own name; a new document is
/// inserted with a new name and submitted. Either way the answer carries the name, and the
/// document can then be read and cancelled by that name.
#[tokio::test]
async fn client_submit_of_a_full_document_keeps_its_name() {
    let sim = common::sim().await;
    let a = sim.erpnext_a.clone();
    let mut draft = po_body("x");
    draft["docstatus"] = json!(0);
    draft.as_object_mut().unwrap().remove("custom_ext_ref");
    let (_, v) = call(&a, "POST", "/api/resource/Purchase Order", Some(draft.clone())).await;
    let full = v["data"].clone();
    let name = full["name"].as_str().unwrap().to_string();

    let (st, v) = call(&a, "POST", "/api/method/frappe.client.submit", Some(json!({"doc": full}))).await;
    assert_eq!((st, v["message"]["docstatus"].as_i64()), (200, Some(1)), "{v}");
    assert_eq!(v["message"]["name"].as_str(), Some(name.as_str()), "{v}");
    let path = format!("/api/resource/Purchase Order/{}", enc(&name));
    let (st, v) = call(&a, "GET", &path, None).await;
    assert_eq!((st, v["data"]["name"].as_str(), v["data"]["docstatus"].as_i64()), (200, Some(name.as_str()), Some(1)));
    assert_eq!(sim.erpnext_a().count("Purchase Order"), 1, "submitted in place, not copied");
    let cancel = json!({"doctype": "Purchase Order", "name": name});
    let (st, v) = call(&a, "POST", "/api/method/frappe.client.cancel", Some(cancel)).await;
    assert_eq!(st, 200, "{v}");
    let (_, v) = call(&a, "GET", &path, None).await;
    assert_eq!(v["data"]["docstatus"].as_i64(), Some(2));

    // A new document (no name): inserted with a name of its series, submitted.
    let mut new = draft.clone();
    new["doctype"] = json!("Purchase Order");
    let (st, v) = call(&a, "POST", "/api/method/frappe.client.submit", Some(json!({"doc": new.clone()}))).await;
    assert_eq!((st, v["message"]["docstatus"].as_i64()), (200, Some(1)), "{v}");
    let n2 = v["message"]["name"].as_str().unwrap().to_string();
    assert!(n2.starts_with("PUR-ORD-") && n2 != name, "{n2}");
    let (st, v) = call(&a, "GET", &format!("/api/resource/Purchase Order/{}", enc(&n2)), None).await;
    assert_eq!((st, v["data"]["docstatus"].as_i64()), (200, Some(1)), "{v}");
    let (st, _) =
        call(&a, "POST", "/api/method/frappe.client.cancel", Some(json!({"doctype": "Purchase Order", "name": n2})))
            .await;
    assert_eq!(st, 200);
    // An unsaved document (`__islocal`, a temporary name) likewise gets a name of its series.
    new["name"] = json!("new-purchase-order-1");
    new["__islocal"] = json!(1);
    let (st, v) = call(&a, "POST", "/api/method/frappe.client.submit", Some(json!({"doc": new}))).await;
    assert_eq!((st, v["message"]["docstatus"].as_i64()), (200, Some(1)), "{v}");
    let n3 = v["message"]["name"].as_str().unwrap().to_string();
    assert!(n3.starts_with("PUR-ORD-") && n3 != n2, "{n3}");
    assert!(sim.erpnext_a().doc("Purchase Order", &n3).is_some());
    assert_eq!(sim.erpnext_a().count("Purchase Order"), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn custom_fields_and_injected_faults() {
    let sim = common::sim().await;
    let a = sim.erpnext_a.clone();
    let cf = json!({"dt": "Purchase Order", "fieldname": "custom_ext_ref", "label": "Ext Ref", "fieldtype": "Data", "unique": 1, "no_copy": 1, "read_only": 1, "search_index": 1});
    // Without System Manager: 403.
    sim.erpnext_a().set_system_manager(false);
    let (st, _) = call(&a, "POST", "/api/resource/Custom Field", Some(cf.clone())).await;
    assert_eq!(st, 403);
    sim.erpnext_a().set_system_manager(true);
    let (st, v) = call(&a, "POST", "/api/resource/Custom Field", Some(cf.clone())).await;
    assert_eq!((st, v["data"]["name"].as_str()), (200, Some("Purchase Order-custom_ext_ref")), "{v}");
    let (st, _) = call(&a, "POST", "/api/resource/Custom Field", Some(cf)).await;
    assert_eq!(st, 417, "a second field of the same name is refused");
    let q = format!(
        "/api/resource/Custom Field?fields={}&filters={}",
        enc(r#"["name","unique"]"#),
        enc(r#"[["dt","=","Purchase Order"]]"#)
    );
    let (_, v) = call(&a, "GET", &q, None).await;
    assert_eq!(v["data"], json!([{"name": "Purchase Order-custom_ext_ref", "unique": 1}]));
    // Filtering on a field a DocType lacks is a database error (500).
    let q = format!("/api/resource/Delivery Note?filters={}", enc(r#"[["custom_ext_ref","=","k"]]"#));
    let (st, v) = call(&a, "GET", &q, None).await;
    assert_eq!((st, v["exc_type"].as_str()), (500, Some("OperationalError")));

    // 500 deadlock and 429 with Retry-After, nothing written.
    sim.erpnext_a().fail_inserts("Purchase Order", 1, 500);
    let (st, v) = call(&a, "POST", "/api/resource/Purchase Order", Some(po_body("k1"))).await;
    assert_eq!((st, v["exc_type"].as_str()), (500, Some("QueryDeadlockError")));
    sim.erpnext_a().fail_inserts("Purchase Order", 1, 429);
    let r = common::client()
        .post(format!("{a}/api/resource/Purchase Order"))
        .header("Authorization", TOK)
        .json(&po_body("k1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(sim.erpnext_a().count("Purchase Order"), 0);
    // A rejection with a chosen class and message.
    sim.erpnext_a().reject_inserts(
        "Purchase Order",
        1,
        "SerialNoWarehouseError",
        "Serial No <strong>S</strong> is gone",
    );
    let (st, v) = call(&a, "POST", "/api/resource/Purchase Order", Some(po_body("k1"))).await;
    assert_eq!((st, v["exc_type"].as_str()), (417, Some("SerialNoWarehouseError")));
    assert_eq!(messages(&v), vec!["Serial No <strong>S</strong> is gone"]);

    // Commit, then answer after the client's timeout: the client sees a timeout, the site has it.
    // The late answer is the fault armed here: the insert consumes it, and the request ends by the
    // client's own timeout (the site holds its answer far longer), never by an answer.
    sim.erpnext_a().reply_late_after_commit("Purchase Order", 1, Duration::from_millis(1500));
    assert_eq!(sim.erpnext_a().pending_faults(), 1);
    let r = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .post(format!("{a}/api/resource/Purchase Order"))
        .header("Authorization", TOK)
        .json(&po_body("k1"))
        .send()
        .await;
    let err = r.expect_err("the site answered before the client's timeout");
    assert!(err.is_timeout(), "the request ended otherwise than by the client's timeout: {err:?}");
    assert_eq!(sim.erpnext_a().pending_faults(), 0, "the insert met the late-answer fault");
    assert_eq!(sim.erpnext_a().count("Purchase Order"), 1, "committed although the client gave up");
    // The HTTP control endpoint arms the same faults.
    let r = common::client()
        .post(format!("{a}/__sim/erpnext/fault"))
        .json(&json!({"op": "insert", "doctype": "Purchase Order", "status": 503}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(sim.erpnext_a().pending_faults(), 1);
    sim.erpnext_a().arm(Op::Cancel, "", 1, backoffice_sim::erpnext::Fault::Status(500));
    sim.erpnext_a().clear_faults();
    assert_eq!(sim.erpnext_a().pending_faults(), 0);
    sim.shutdown().await;
}
