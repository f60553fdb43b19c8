//! Contífico simulator over real loopback HTTP.

mod common;

use std::collections::HashSet;

use backoffice_sim::{Faults, Resource};
use common::*;
use serde_json::Value;

fn is_id(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.len() == 16 && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn is_ddmmyyyy(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        let b = s.as_bytes();
        b.len() == 10 && b[2] == b'/' && b[5] == b'/'
    })
}

/// (v1 path, keys every record must carry, date fields in dd/mm/yyyy)
const SHAPES: &[(&str, &[&str], &[&str])] = &[
    ("categoria/", &["id", "nombre", "padre_id", "tipo_producto", "cuenta_venta"], &[]),
    ("marca/", &["id", "nombre"], &[]),
    ("variante/", &["id", "nombre", "valores"], &[]),
    (
        "producto/",
        &[
            "id",
            "codigo",
            "nombre",
            "tipo",
            "tipo_producto",
            "estado",
            "pvp1",
            "porcentaje_iva",
            "cantidad_stock",
            "categoria_id",
            "detalle_variantes",
        ],
        &["fecha_creacion"],
    ),
    ("bodega/", &["id", "nombre", "codigo", "venta", "compra", "produccion"], &[]),
    ("movimiento-inventario/", &["id", "codigo", "tipo", "bodega_id", "estado", "detalles", "total"], &["fecha"]),
    (
        "inventario/guia/",
        &["id", "numero_documento", "estado", "transportista_id", "destinatario", "bodega_id"],
        &["fecha_emision", "fecha_inicio", "fecha_fin"],
    ),
    (
        "registro/documento/",
        &[
            "id",
            "tipo_registro",
            "tipo_documento",
            "documento",
            "estado",
            "persona_id",
            "subtotal_0",
            "subtotal_12",
            "iva",
            "total",
            "saldo",
            "detalles",
            "cobros",
        ],
        &["fecha_emision", "fecha_vencimiento", "fecha_creacion"],
    ),
    ("documento/", &["id", "tipo_registro", "tipo_documento", "documento", "estado", "total"], &["fecha_emision"]),
    (
        "registro/transaccion/",
        &["id", "tipo", "total", "numero_comprobante", "forma", "persona_id", "documento_id", "detalles"],
        &["fecha_emision"],
    ),
    (
        "persona/",
        &["id", "tipo", "razon_social", "cedula", "ruc", "es_cliente", "es_proveedor", "email", "id_categoria"],
        &[],
    ),
    ("contabilidad/centro-costo/", &["id", "tipo", "padre_id", "nombre", "codigo", "estado"], &[]),
    ("contabilidad/cuenta-contable/", &["id", "codigo", "nombre", "tipo"], &[]),
    ("banco/cuenta/", &["id", "nombre", "numero", "tipo_cuenta", "saldo_inicial", "estado"], &["fecha_corte"]),
    (
        "banco/movimiento/",
        &["id", "numero_comprobante", "persona", "tipo", "tipo_registro", "cuenta_bancaria_id", "detalles"],
        &["fecha_emision"],
    ),
];

#[tokio::test]
async fn auth_is_the_raw_key() {
    let sim = sim().await;
    let url = format!("{}registro/documento/?result_size=1&result_page=1", sim.contifico);
    let c = client();

    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(body["detail"].is_string());

    for bad in ["wrong-key", "Bearer demo-contifico-key", "Token demo-contifico-key"] {
        let r = c.get(&url).header("Authorization", bad).send().await.unwrap();
        assert_eq!(r.status(), 401, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains("incorrectas"));
    }

    let r = c.get(&url).header("Authorization", CONT_KEY).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 1, "test connection is a one-record list");
    sim.shutdown().await;
}

#[tokio::test]
async fn every_list_path_is_shape_correct() {
    let sim = sim().await;
    for (path, keys, dates) in SHAPES {
        let (st, v) = cget(&sim, path).await;
        assert_eq!(st, 200, "{path}");
        let rows = v.as_array().unwrap_or_else(|| panic!("{path} not an array: {v}"));
        assert_eq!(rows.len(), 50, "{path}: unpaged v1 list returns everything");
        for row in rows {
            assert!(is_id(&row["id"]), "{path}: id {}", row["id"]);
            for k in *keys {
                assert!(row.get(*k).is_some(), "{path}: missing {k} in {row}");
            }
            for d in *dates {
                assert!(is_ddmmyyyy(&row[*d]), "{path}: {d} = {}", row[*d]);
            }
        }
        let unique: HashSet<_> = ids(&v).into_iter().collect();
        assert_eq!(unique.len(), 50, "{path}: ids unique");
    }

    // Money comes back as strings mostly, as numbers for some records.
    let (_, docs) = cget(&sim, "registro/documento/").await;
    let docs = docs.as_array().unwrap();
    assert!(docs.iter().any(|d| d["total"].is_string()));
    assert!(docs.iter().any(|d| d["total"].is_number()));
    // CLI documents embed `cliente`, PRO documents `persona`.
    for d in docs {
        let key = if d["tipo_registro"] == "CLI" { "cliente" } else { "persona" };
        assert!(d[key].is_object(), "{key} in {d}");
    }

    // The guia list URL is shown without the trailing slash in the docs.
    let (st, v) = cget(&sim, "inventario/guia").await;
    assert_eq!(st, 200);
    assert_eq!(v.as_array().unwrap().len(), 50);

    // v1 has no asiento list; v2 does, in the DRF envelope.
    let (st, _) = cget(&sim, "contabilidad/asiento/").await;
    assert_eq!(st, 405);
    let (st, v) = cget2(&sim, "contabilidad/asiento/").await;
    assert_eq!(st, 200);
    assert_eq!(v["count"], 50);
    assert!(v["previous"].is_null() && v["next"].is_null());
    let first = &v["results"][0];
    assert!(is_id(&first["id"]) && is_ddmmyyyy(&first["fecha"]));
    let det = first["detalles"].as_array().unwrap();
    let sum = |t: &str| -> f64 {
        det.iter().filter(|x| x["tipo"] == t).map(|x| x["valor"].as_str().unwrap().parse::<f64>().unwrap()).sum()
    };
    assert!((sum("D") - sum("H")).abs() < 0.001, "asiento is balanced");

    // v2 persona carries an ISO fecha_modificacion.
    let (_, v) = cget2(&sim, "persona/").await;
    let fm = v["results"][0]["fecha_modificacion"].as_str().unwrap();
    assert!(chrono::NaiveDateTime::parse_from_str(fm, "%Y-%m-%dT%H:%M:%S").is_ok(), "{fm}");
    sim.shutdown().await;
}

#[tokio::test]
async fn result_paging_covers_each_record_once() {
    let sim = sim().await;
    for path in ["registro/documento/", "registro/transaccion/", "persona/", "producto/", "banco/movimiento/"] {
        let (_, full) = cget(&sim, path).await;
        let paged = all_pages(&sim, path, "", 7).await;
        let paged_ids: Vec<String> = paged.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
        assert_eq!(paged_ids, ids(&full), "{path}: pages concatenate to the full list, same order");
        assert_eq!(paged_ids.iter().collect::<HashSet<_>>().len(), 50, "{path}");
    }
    // Past the end: empty array.
    let (st, v) = cget(&sim, "persona/?result_size=10&result_page=6").await;
    assert_eq!((st, v), (200, Value::Array(vec![])));
    // Non-numeric paging parameter is rejected.
    let (st, _) = cget(&sim, "persona/?result_size=diez").await;
    assert_eq!(st, 400);

    // tipo_registro partitions the documents.
    let cli = all_pages(&sim, "registro/documento/", "&tipo_registro=CLI", 10).await;
    let pro = all_pages(&sim, "registro/documento/", "&tipo_registro=PRO", 10).await;
    assert!(!cli.is_empty() && !pro.is_empty());
    assert!(cli.iter().all(|d| d["tipo_registro"] == "CLI"));
    assert!(pro.iter().all(|d| d["tipo_registro"] == "PRO"));
    assert_eq!(cli.len() + pro.len(), 50);

    // v2 DRF paging: next links cover everything; past the end is 404.
    let mut url = Some(format!("{}persona/?page_size=15", sim.contifico_v2()));
    let mut seen = Vec::new();
    while let Some(u) = url {
        let v: Value = client().get(&u).header("Authorization", CONT_KEY).send().await.unwrap().json().await.unwrap();
        seen.extend(ids(&v["results"]));
        url = v["next"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len(), 50);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 50);
    let (st, v) = cget2(&sim, "persona/?page=2").await;
    assert_eq!((st, v["detail"].as_str()), (404, Some("Página inválida.")));
    sim.shutdown().await;
}

#[tokio::test]
async fn single_gets_and_sub_resources() {
    let sim = sim().await;
    let ctl = sim.contifico();
    let doc = ctl.id_of(Resource::Documento, 3);
    let (st, v) = cget(&sim, &format!("documento/{doc}")).await;
    assert_eq!((st, v["id"].as_str()), (200, Some(doc.as_str())));
    let (st, e) = cget(&sim, &format!("documento/{doc}/estado/")).await;
    assert_eq!(st, 200);
    assert_eq!(e["documento_id"], v["id"]);
    let (st, c) = cget(&sim, &format!("documento/{doc}/cobro/")).await;
    assert_eq!((st, &c), (200, &v["cobros"]));

    // The docs show persona/<ID>/ and banco/movimiento/<ID> as one-element arrays.
    let p = ctl.id_of(Resource::Persona, 0);
    let (st, v) = cget(&sim, &format!("persona/{p}/")).await;
    assert_eq!(st, 200);
    assert_eq!(v.as_array().unwrap()[0]["id"], p.as_str());
    let (st, v) = cget2(&sim, &format!("persona/{p}/")).await;
    assert_eq!((st, v["id"].as_str()), (200, Some(p.as_str())));

    let prod = ctl.id_of(Resource::Producto, 1);
    let (st, v) = cget(&sim, &format!("producto/{prod}/stock/")).await;
    assert_eq!(st, 200);
    for s in v.as_array().unwrap() {
        assert!(is_id(&s["bodega_id"]) && s["bodega_nombre"].is_string() && s["cantidad"].is_number());
    }

    // Unknown or foreign ids are 404 with a DRF detail; unknown URLs are Django 404 pages.
    let (st, v) = cget(&sim, "persona/7DkPb3333kWd5Y9L/").await;
    assert_eq!((st, v["detail"].as_str()), (404, Some("No encontrado.")));
    let (st, _) = cget(&sim, &format!("persona/{doc}/")).await;
    assert_eq!(st, 404);
    let (st, v) = cget(&sim, "no-existe/").await;
    assert_eq!(st, 404);
    assert!(v.as_str().unwrap().contains("Not Found"));
    sim.shutdown().await;
}

#[tokio::test]
async fn fecha_filters_and_mutations() {
    let sim = sim().await;
    let ctl = sim.contifico();
    let today = ctl.today();

    // Seeded history ends before today: nothing was modified today yet.
    for path in ["persona/", "categoria/", "producto/", "bodega/", "variante/", "banco/movimiento/"] {
        let (st, v) = cget(&sim, &format!("{path}?fecha_inicial={today}")).await;
        assert_eq!((st, v.as_array().unwrap().len()), (200, 0), "{path}");
    }
    // Wrong date format is a 400 with a per-field message.
    let (st, v) = cget(&sim, "persona/?fecha_inicial=2024-01-01").await;
    assert_eq!(st, 400);
    assert!(v["fecha_inicial"].is_array());

    let (_, before) = cget(&sim, "persona/").await;
    let report = ctl.mutate(10.0);
    let (m, d) = report.per_resource["persona/"];
    assert_eq!((m, d), (5, 1));
    assert!(report.mutated >= 15 * 5);

    // Exactly the mutated personas come back for "modified since today".
    let (_, changed) = cget(&sim, &format!("persona/?fecha_inicial={today}&fecha_final={today}")).await;
    assert_eq!(changed.as_array().unwrap().len() as u64, m);
    let (_, changed_cat) = cget(&sim, &format!("categoria/?fecha_inicial={today}")).await;
    assert_eq!(changed_cat.as_array().unwrap().len() as u64, report.per_resource["categoria/"].0);

    // The list lost the deleted record and the mutated ones show different bodies.
    let (_, after) = cget(&sim, "persona/").await;
    assert_eq!(after.as_array().unwrap().len(), 49);
    let before_ids: HashSet<String> = ids(&before).into_iter().collect();
    let after_ids: HashSet<String> = ids(&after).into_iter().collect();
    let gone: Vec<_> = before_ids.difference(&after_ids).collect();
    assert_eq!(gone.len(), 1);
    let (st, _) = cget(&sim, &format!("persona/{}/", gone[0])).await;
    assert_eq!(st, 404, "deleted records are gone for single GETs too");
    for row in changed.as_array().unwrap() {
        let old = before.as_array().unwrap().iter().find(|b| b["id"] == row["id"]).unwrap();
        assert_ne!(old, row, "mutated record changed a field");
    }

    // v2 persona: modificados_desde_fecha (AAAA-MM-DD) and fecha_modificacion agree.
    let iso_today = chrono::NaiveDate::parse_from_str(&today, "%d/%m/%Y").unwrap().format("%Y-%m-%d").to_string();
    let (_, v) = cget2(&sim, &format!("persona/?modificados_desde_fecha={iso_today}")).await;
    assert_eq!(v["count"].as_u64().unwrap(), m);
    for r in v["results"].as_array().unwrap() {
        assert!(r["fecha_modificacion"].as_str().unwrap().starts_with(&iso_today));
    }
    // A range in the seeded past matches a manual count over the full v2 listing.
    let (_, v) = cget2(&sim, "persona/").await;
    let all = v["results"].as_array().unwrap().clone();
    assert_eq!(all.len(), 49, "one DRF page of 100 holds them all");
    let mut dates: Vec<String> =
        all.iter().map(|r| r["fecha_modificacion"].as_str().unwrap()[..10].to_string()).collect();
    dates.sort();
    let (lo, hi) = (dates[10].clone(), dates[30].clone());
    let expect = dates.iter().filter(|d| **d >= lo && **d <= hi).count();
    let (_, v) = cget2(&sim, &format!("persona/?fecha_inicial={lo}&fecha_final={hi}")).await;
    assert_eq!(v["count"].as_u64().unwrap() as usize, expect);

    // Inserted records appear at the end and count as modified today.
    let live = ctl.live_count(Resource::Persona);
    assert_eq!(ctl.insert(2), 30);
    assert_eq!(ctl.live_count(Resource::Persona), live + 2);
    let (_, v) = cget(&sim, "persona/").await;
    let v = v.as_array().unwrap();
    assert_eq!(v.len() as u64, live + 2);
    assert_eq!(v.last().unwrap()["id"], ctl.id_of(Resource::Persona, 51).as_str());
    let (_, changed) = cget(&sim, &format!("persona/?fecha_inicial={today}")).await;
    assert_eq!(changed.as_array().unwrap().len() as u64, m + 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn fail_next_and_random_faults() {
    let sim = sim().await;
    let ctl = sim.contifico();
    let url = format!("{}persona/?result_size=1&result_page=1", sim.contifico);
    let c = client();
    let get = || c.get(&url).header("Authorization", CONT_KEY).send();

    ctl.fail_next(2, 503);
    ctl.fail_next(1, 429);
    ctl.fail_next(1, 500);
    assert_eq!(get().await.unwrap().status(), 503);
    assert_eq!(get().await.unwrap().status(), 503);
    let r = get().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    let r = get().await.unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.text().await.unwrap().contains("Server Error (500)"));
    assert_eq!(get().await.unwrap().status(), 200);
    assert_eq!(ctl.request_count("/sistema/api/v1/persona/"), 5);

    ctl.set_faults(Faults { malformed_rate: 1.0, ..Faults::default() });
    let r = get().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());

    ctl.set_faults(Faults { rate_limit_rate: 1.0, ..Faults::default() });
    let r = get().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["retry-after"].to_str().unwrap()), (429, "1"));

    ctl.set_faults(Faults { fail_rate: 1.0, ..Faults::default() });
    assert_eq!(get().await.unwrap().status(), 500);

    ctl.set_faults(Faults { reset_rate: 1.0, ..Faults::default() });
    let err = get().await.expect_err("connection dropped without a response");
    assert!(!err.is_status() && err.status().is_none(), "{err}");

    // Half the requests fail at 0.5: seeded, so roughly half.
    ctl.set_faults(Faults { fail_rate: 0.5, ..Faults::default() });
    let mut failed = 0;
    for _ in 0..60 {
        if get().await.unwrap().status() == 500 {
            failed += 1;
        }
    }
    assert!((15..=45).contains(&failed), "{failed}");

    ctl.set_faults(Faults::default());
    assert_eq!(get().await.unwrap().status(), 200);
    assert_eq!(ctl.request_count("/sistema/api/v1/persona"), 5 + 4 + 60 + 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn control_over_http() {
    let sim = sim().await;
    let base = sim.contifico.split("/sistema").next().unwrap().to_string();
    let c = client();
    let rep: Value = c
        .post(format!("{base}/__sim/contifico/mutate?pct=20&resource=marca"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rep["per_resource"]["marca/"][0], 10);
    assert_eq!(rep["per_resource"].as_object().unwrap().len(), 1);
    let (_, v) = cget(&sim, "marca/").await;
    assert_eq!(v.as_array().unwrap().len(), 49);

    c.post(format!("{base}/__sim/contifico/fail_next?n=1&status=502")).send().await.unwrap();
    let (st, _) = cget(&sim, "marca/").await;
    assert_eq!(st, 502);

    let ins: Value = c
        .post(format!("{base}/__sim/contifico/insert?n=3&resource=persona"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ins["inserted"], 3);
    let stats: Value = c.get(format!("{base}/__sim/contifico/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["live"]["persona/"], 53);
    assert_eq!(stats["paths"]["/sistema/api/v1/marca"], 2);
    assert_eq!(stats["total"], 2, "control calls are not counted");
    sim.shutdown().await;
}
