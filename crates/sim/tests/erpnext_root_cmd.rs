//! The ERPNext simulator's `frappe.client.get_value` (erpnext.md section 2.3) and Frappe v15's
//! site-root handler: a form post with `cmd=<method>` at `/` runs the same method as
//! `/api/method/<method>` (what `FrappeClient` sends, section 2.2), and `cmd=login` starts a
//! cookie session.

mod common;

use serde_json::{json, Value};

const TOK: &str = "token demo-erpnext-key:demo-erpnext-secret";

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A form post, as `FrappeClient` and browsers send it.
async fn post_form(url: &str, auth: Option<&str>, cookie: Option<&str>, pairs: &[(&str, &str)]) -> reqwest::Response {
    let mut rq = common::client()
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(form(pairs));
    if let Some(a) = auth {
        rq = rq.header("Authorization", a);
    }
    if let Some(c) = cookie {
        rq = rq.header("Cookie", c);
    }
    rq.send().await.unwrap()
}

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let st = r.status().as_u16();
    let text = r.text().await.unwrap();
    (st, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn method(base: &str, path: &str, body: Value) -> (u16, Value) {
    let r = common::client()
        .post(format!("{base}/api/method/{path}"))
        .header("Authorization", TOK)
        .header("Accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    json_of(r).await
}

#[tokio::test]
async fn get_value_by_name_filters_and_field_lists() {
    let sim = common::sim().await;
    let a = sim.erpnext_a.clone();
    let gv = "frappe.client.get_value";
    // A name as filters, one field.
    let (st, v) =
        method(&a, gv, json!({"doctype": "Supplier", "fieldname": "supplier_group", "filters": "PINES Supplier"}))
            .await;
    assert_eq!((st, v), (200, json!({"message": {"supplier_group": "Raw Material"}})));
    // A field list and dict filters, as JSON text in a query string (GET is allowed).
    let q = format!(
        "{a}/api/method/{gv}?doctype=Item&fieldname={}&filters={}",
        url_enc(r#"["item_name","has_serial_no"]"#),
        url_enc(r#"{"item_code":"SKU-ROUTER-01"}"#)
    );
    let r = common::client().get(q).header("Authorization", TOK).send().await.unwrap();
    let (st, v) = json_of(r).await;
    assert_eq!((st, v), (200, json!({"message": {"item_name": "Serialized Router", "has_serial_no": 1}})));
    // List filters; several fields as a JSON list.
    let (st, v) = method(
        &a,
        gv,
        json!({"doctype": "Supplier", "fieldname": ["name", "supplier_group"], "filters": [["supplier_group", "=", "Services"]]}),
    )
    .await;
    assert_eq!((st, v), (200, json!({"message": {"name": "Pacific Freight Services", "supplier_group": "Services"}})));
    // Nothing matches: an empty dict. as_dict off: the bare value.
    let (st, v) = method(&a, gv, json!({"doctype": "Supplier", "fieldname": "name", "filters": "NOPE"})).await;
    assert_eq!((st, v), (200, json!({"message": {}})));
    let (_, v) =
        method(&a, gv, json!({"doctype": "Warehouse", "fieldname": "company", "filters": "Stores - A", "as_dict": 0}))
            .await;
    assert_eq!(v, json!({"message": "Company A"}));
    // An unknown column is the database's error, as in get_list.
    let (st, v) =
        method(&a, gv, json!({"doctype": "Supplier", "fieldname": "nope", "filters": "PINES Supplier"})).await;
    assert_eq!((st, v["exc_type"].as_str()), (500, Some("OperationalError")), "{v}");
    sim.shutdown().await;
}

fn url_enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn cmd_form_posts_at_the_site_root_run_the_method_handlers() {
    let sim = common::sim().await;
    let a = sim.erpnext_a.clone();
    let root = format!("{a}/");
    let pairs = [
        ("cmd", "frappe.client.get_value"),
        ("doctype", "Supplier"),
        ("fieldname", "supplier_group"),
        ("filters", "PINES Supplier"),
    ];
    let (st, v) = json_of(post_form(&root, Some(TOK), None, &pairs).await).await;
    assert_eq!((st, v), (200, json!({"message": {"supplier_group": "Raw Material"}})));
    // The same answer as /api/method.
    let (_, via_api) = method(
        &a,
        "frappe.client.get_value",
        json!({"doctype": "Supplier", "fieldname": "supplier_group", "filters": "PINES Supplier"}),
    )
    .await;
    assert_eq!(via_api, json!({"message": {"supplier_group": "Raw Material"}}));
    // As Guest: the method is not whitelisted for guests (403), like under /api/method.
    let (st, v) = json_of(post_form(&root, None, None, &pairs).await).await;
    assert_eq!((st, v["exc_type"].as_str()), (403, Some("PermissionError")), "{v}");
    // No cmd: the website, not simulated.
    let (st, _) = json_of(post_form(&root, Some(TOK), None, &[("doctype", "Supplier")]).await).await;
    assert_eq!(st, 404);

    // FrappeClient.submit: {"cmd": "frappe.client.submit", "doc": as_json(doc)} at the root.
    let draft = json!({
        "doctype": "Purchase Order", "company": "Company A", "supplier": "PINES Supplier",
        "transaction_date": "2026-01-10", "schedule_date": "2026-01-20", "currency": "USD", "conversion_rate": 1,
        "items": [{"item_code": "SKU-CABLE-01", "qty": 3, "rate": 2.5, "warehouse": "Stores - A", "schedule_date": "2026-01-20"}],
    })
    .to_string();
    let (st, v) =
        json_of(post_form(&root, Some(TOK), None, &[("cmd", "frappe.client.submit"), ("doc", &draft)]).await).await;
    assert_eq!((st, v["message"]["docstatus"].as_i64()), (200, Some(1)), "{v}");
    let name = v["message"]["name"].as_str().unwrap().to_string();
    assert_eq!(sim.erpnext_a().doc("Purchase Order", &name).unwrap()["docstatus"], 1);
    let (st, _) = json_of(
        post_form(
            &root,
            Some(TOK),
            None,
            &[("cmd", "frappe.client.cancel"), ("doctype", "Purchase Order"), ("name", &name)],
        )
        .await,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(sim.erpnext_a().doc("Purchase Order", &name).unwrap()["docstatus"], 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn cmd_login_at_the_root_starts_a_cookie_session() {
    let sim = common::sim().await;
    let b = sim.erpnext_b.clone();
    let root = format!("{b}/");
    let user = backoffice_sim::erpnext::Site::B.user();
    let password = backoffice_sim::SimCredentials::default().erpnext_password;

    let r = post_form(&root, None, None, &[("cmd", "login"), ("usr", user), ("pwd", "wrong")]).await;
    let (st, v) = json_of(r).await;
    assert_eq!((st, v["exc_type"].as_str()), (401, Some("AuthenticationError")), "{v}");
    assert_eq!(v["message"], "Invalid login credentials");

    let r = post_form(&root, None, None, &[("cmd", "login"), ("usr", user), ("pwd", &password)]).await;
    let sid = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|h| h.to_str().ok())
        .find_map(|c| c.split(';').next().filter(|kv| kv.starts_with("sid=")).map(str::to_string))
        .expect("a sid cookie");
    let (st, v) = json_of(r).await;
    assert_eq!((st, v["message"].as_str()), (200, Some("Logged In")), "{v}");

    // The session works at the root and under /api.
    let (st, v) = json_of(post_form(&root, None, Some(&sid), &[("cmd", "frappe.auth.get_logged_user")]).await).await;
    assert_eq!((st, v), (200, json!({"message": user})));
    let r = common::client().get(format!("{b}/api/resource/Supplier")).header("Cookie", &sid).send().await.unwrap();
    let (st, v) = json_of(r).await;
    assert_eq!(st, 200, "{v}");
    assert!(v["data"].as_array().unwrap().contains(&json!({"name": "Company A"})));
    // A made-up session is Guest.
    let (st, _) =
        json_of(post_form(&root, None, Some("sid=made-up"), &[("cmd", "frappe.auth.get_logged_user")]).await).await;
    assert_eq!(st, 403);
    // /api/method/login is the same login.
    let (st, v) =
        json_of(post_form(&format!("{b}/api/method/login"), None, None, &[("usr", user), ("pwd", &password)]).await)
            .await;
    assert_eq!((st, v["message"].as_str()), (200, Some("Logged In")));
    sim.shutdown().await;
}
