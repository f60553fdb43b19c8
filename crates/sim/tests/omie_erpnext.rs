//! Omie and ERPNext simulators over real loopback HTTP.

mod common;

use backoffice_sim::erpnext::Site;
use backoffice_sim::util::valid_cpf_cnpj;
use backoffice_sim::SimHandle;
use common::*;
use serde_json::{json, Value};

async fn omie(sim: &SimHandle, call: &str, key: &str, secret: &str, param: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}geral/clientes/", sim.omie))
        .json(&json!({"call": call, "app_key": key, "app_secret": secret, "param": [param]}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn omie_auth_paging_and_faults() {
    let sim = sim().await;
    let (k, s) = ("demo-omie-key", "demo-omie-secret");

    let (st, v) = omie(&sim, "ListarClientes", k, s, json!({"pagina": 1, "registros_por_pagina": 1})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (
            v["pagina"].as_u64(),
            v["total_de_paginas"].as_u64(),
            v["registros"].as_u64(),
            v["total_de_registros"].as_u64()
        ),
        (Some(1), Some(50), Some(1), Some(50))
    );

    for (bk, bs) in [("wrong", s), (k, "wrong"), ("", "")] {
        let (st, v) = omie(&sim, "ListarClientes", bk, bs, json!({"pagina": 1})).await;
        assert_eq!(st, 500);
        assert_eq!(v["faultcode"], "SOAP-ENV:Client-101");
        assert!(v["faultstring"].as_str().unwrap().starts_with("ERROR:"));
    }

    // Paging: 50 clients over 3 pages of 20, each exactly once, valid CNPJ/CPF.
    let mut codes = std::collections::HashSet::new();
    for p in 1..=3 {
        let (st, v) = omie(
            &sim,
            "ListarClientes",
            k,
            s,
            json!({"pagina": p, "registros_por_pagina": 20, "apenas_importado_api": "N"}),
        )
        .await;
        assert_eq!(st, 200);
        assert_eq!(v["total_de_paginas"], 3);
        let rows = v["clientes_cadastro"].as_array().unwrap();
        assert_eq!(rows.len() as u64, v["registros"].as_u64().unwrap());
        assert_eq!(rows.len(), if p < 3 { 20 } else { 10 });
        for c in rows {
            assert!(valid_cpf_cnpj(c["cnpj_cpf"].as_str().unwrap()), "{}", c["cnpj_cpf"]);
            assert!(codes.insert(c["codigo_cliente_omie"].as_u64().unwrap()));
            assert!(c["info"]["dInc"].as_str().unwrap().len() == 10);
        }
    }
    assert_eq!(codes.len(), 50);

    let (st, v) = omie(&sim, "ListarClientes", k, s, json!({"pagina": 4, "registros_por_pagina": 20})).await;
    assert_eq!(st, 500);
    assert_eq!(v["faultcode"], "SOAP-ENV:Client-5113");
    assert_eq!(v["faultstring"], "ERROR: Não existem registros para a página [4]!");

    // ConsultarCliente round-trips a listed code.
    let code = *codes.iter().next().unwrap();
    let (st, v) = omie(&sim, "ConsultarCliente", k, s, json!({"codigo_cliente_omie": code})).await;
    assert_eq!((st, v["codigo_cliente_omie"].as_u64()), (200, Some(code)));

    // Unknown method and unknown tag.
    let (st, v) = omie(&sim, "ListarClientesX", k, s, json!({})).await;
    assert_eq!(st, 500);
    assert!(v["faultstring"].as_str().unwrap().contains("ListarClientesX"));
    assert!(v["faultcode"].as_str().unwrap().starts_with("SOAP-ENV:Client"));
    let (st, v) = omie(&sim, "ListarClientes", k, s, json!({"nPagina": 1})).await;
    assert_eq!((st, v["faultcode"].as_str()), (500, Some("SOAP-ENV:Client-5001")));

    // Injected 500 uses Omie's "broken response" fault.
    sim.omie_control().fail_next(1, 500);
    let (st, v) = omie(&sim, "ListarClientes", k, s, json!({})).await;
    assert_eq!(st, 500);
    assert!(v["faultstring"].as_str().unwrap().contains("Broken response"));
    assert_eq!(sim.omie_control().request_count("/api/v1/geral/clientes/"), 12);
    sim.shutdown().await;
}

async fn erp(base: &str, path: &str, auth: Option<&str>) -> (u16, Value) {
    let mut rq = client().get(format!("{base}{path}")).header("Accept", "application/json");
    if let Some(a) = auth {
        rq = rq.header("Authorization", a);
    }
    let r = rq.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn erpnext_auth_and_lists() {
    let sim = sim().await;
    let tok = "token demo-erpnext-key:demo-erpnext-secret";
    let who = "/api/method/frappe.auth.get_logged_user";

    let (st, v) = erp(&sim.erpnext_a, who, Some(tok)).await;
    assert_eq!((st, v), (200, json!({"message": Site::A.user()})));
    let (st, v) = erp(&sim.erpnext_b, who, Some(tok)).await;
    assert_eq!((st, v), (200, json!({"message": Site::B.user()})));
    let basic = format!("Basic {}", base64_of("demo-erpnext-key:demo-erpnext-secret"));
    let (st, _) = erp(&sim.erpnext_a, who, Some(&basic)).await;
    assert_eq!(st, 200);

    for bad in ["token demo-erpnext-key:nope", "token nope:demo-erpnext-secret", "token abc", "Bearer xyz"] {
        let (st, v) = erp(&sim.erpnext_a, who, Some(bad)).await;
        assert_eq!(st, 401, "{bad}");
        assert_eq!(v["exc_type"], "AuthenticationError");
        assert!(v.get("_server_messages").is_none());
        let exc: Vec<String> = serde_json::from_str(v["exc"].as_str().unwrap()).unwrap();
        assert!(exc[0].contains("AuthenticationError"));
    }
    // No header (or not exactly two parts) runs as Guest → 403.
    for h in [None, Some("token"), Some("token a:b extra")] {
        let (st, v) = erp(&sim.erpnext_a, who, h).await;
        assert_eq!((st, v["exc_type"].as_str()), (403, Some("PermissionError")), "{h:?}");
        let msgs: Vec<String> = serde_json::from_str(v["_server_messages"].as_str().unwrap()).unwrap();
        let m: Value = serde_json::from_str(&msgs[0]).unwrap();
        assert!(m["message"].as_str().unwrap().contains("not whitelisted"));
    }
    let (st, _) = erp(&sim.erpnext_a, "/api/resource/Supplier", None).await;
    assert_eq!(st, 403);

    // Lists: default field `name`, filters, order, paging, per-site data.
    let (st, v) = erp(&sim.erpnext_a, "/api/resource/Supplier", Some(tok)).await;
    assert_eq!(st, 200);
    assert!(v["data"].as_array().unwrap().contains(&json!({"name": "PINES Supplier"})));
    let (_, v) = erp(&sim.erpnext_b, "/api/resource/Supplier", Some(tok)).await;
    assert!(v["data"].as_array().unwrap().contains(&json!({"name": "Company A"})));
    let (_, v) =
        erp(&sim.erpnext_a, "/api/resource/Customer?fields=%5B%22name%22%2C%22customer_type%22%5D", Some(tok)).await;
    assert!(v["data"].as_array().unwrap().contains(&json!({"name": "Company B", "customer_type": "Company"})));
    let q = "/api/resource/Warehouse?fields=%5B%22name%22%5D&filters=%5B%5B%22is_group%22%2C%22%3D%22%2C0%5D%5D&order_by=name%20asc&limit_start=1&limit_page_length=2";
    let (_, v) = erp(&sim.erpnext_a, q, Some(tok)).await;
    assert_eq!(v, json!({"data": [{"name": "Goods In Transit - A"}, {"name": "Stores - A"}]}));
    let (_, v) = erp(&sim.erpnext_b, "/api/resource/Company?fields=%5B%22*%22%5D", Some(tok)).await;
    assert_eq!(v["data"][0]["name"], "Company B");
    assert_eq!(v["data"][0]["abbr"], "B");
    let (st, v) = erp(&sim.erpnext_a, "/api/resource/Item/SKU-ROUTER-01", Some(tok)).await;
    assert_eq!((st, v["data"]["has_serial_no"].as_i64()), (200, Some(1)));
    let (st, v) = erp(&sim.erpnext_a, "/api/resource/Item/NOPE", Some(tok)).await;
    assert_eq!((st, v["exc_type"].as_str()), (404, Some("DoesNotExistError")));
    assert!(v.get("exc").is_none());
    sim.shutdown().await;
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
