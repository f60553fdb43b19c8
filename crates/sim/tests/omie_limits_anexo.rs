//! The Omie simulator's limits, attachments and order closing over real loopback HTTP.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backoffice_sim::omie::{Kind, PoCloseRule};
use backoffice_sim::SimHandle;
use base64::Engine as _;
use common::*;
use serde_json::{json, Value};

async fn call(sim: &SimHandle, service: &str, call: &str, param: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}{service}/", sim.omie))
        .json(&json!({"call": call, "app_key": "demo-omie-key", "app_secret": "demo-omie-secret", "param": [param]}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn rate_redundancy_and_misuse_block_follow_the_reference() {
    let sim = sim_with(300, 3).await;
    let o = sim.omie();
    // Simulated time that stands still: 240 calls of one method fit in a minute, the 241st does not.
    let now = Arc::new(AtomicU64::new(1_000));
    let n2 = now.clone();
    o.set_time_source(Arc::new(move || Duration::from_millis(n2.load(Ordering::SeqCst))));
    for i in 0..240 {
        let (st, v) =
            call(&sim, "geral/clientes", "ConsultarCliente", json!({"codigo_cliente_omie": o.id_of(Kind::Client, i)}))
                .await;
        assert_eq!(st, 200, "{i}: {v}");
    }
    let (st, _) =
        call(&sim, "geral/clientes", "ConsultarCliente", json!({"codigo_cliente_omie": o.id_of(Kind::Client, 250)}))
            .await;
    assert_eq!(st, 429);
    // Another method has its own budget.
    let (st, _) = call(
        &sim,
        "financas/contapagar",
        "ConsultarContaPagar",
        json!({"codigo_lancamento_omie": o.id_of(Kind::Payable, 1)}),
    )
    .await;
    assert_eq!(st, 200);
    // A minute later: free again; the same call twice is redundant, with the seconds to wait.
    now.fetch_add(60_000, Ordering::SeqCst);
    let p = json!({"codigo_cliente_omie": o.id_of(Kind::Client, 260)});
    assert_eq!(call(&sim, "geral/clientes", "ConsultarCliente", p.clone()).await.0, 200);
    now.fetch_add(10_000, Ordering::SeqCst);
    let (st, v) = call(&sim, "geral/clientes", "ConsultarCliente", p.clone()).await;
    assert_eq!((st, v["faultcode"].as_str()), (500, Some("SOAP-ENV:Client-6")));
    assert!(v["faultstring"].as_str().unwrap().contains("Aguarde 50 segundos"), "{v}");
    // Hammering past the limits blocks the key: HTTP 425 MISUSE_API_PROCESS with the seconds left.
    for _ in 0..25 {
        let _ = call(&sim, "geral/clientes", "ConsultarCliente", p.clone()).await;
    }
    let (st, v) = call(&sim, "servicos/nfse", "ListarNFSEs", json!({"nPagina": 1})).await;
    assert_eq!((st, v["faultcode"].as_str()), (425, Some("MISUSE_API_PROCESS")));
    assert!(v["faultstring"].as_str().unwrap().contains("Tente novamente em 1800 segundos"), "{v}");
    let stats = o.limit_stats();
    assert_eq!((stats.blocks, stats.rate_limited >= 1, stats.redundant >= 1), (1, true, true));
    sim.shutdown().await;
}

#[tokio::test]
async fn attachments_include_list_obtain_and_links_expire() {
    let sim = sim_with(30, 3).await;
    let o = sim.omie();
    let rid = o.id_of(Kind::Receipt, 2);
    let (st, v) = call(
        &sim,
        "geral/anexo",
        "ListarAnexo",
        json!({"nPagina": 1, "nRegPorPagina": 50, "cTabela": "com-recebimento", "nId": rid}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["nTotRegistros"], 2);
    let first = &v["listaAnexos"][0];
    let (_, got) = call(
        &sim,
        "geral/anexo",
        "ObterAnexo",
        json!({"cTabela": "com-recebimento", "nId": rid, "nIdAnexo": first["nIdAnexo"]}),
    )
    .await;
    let link = got["cLinkDownload"].as_str().unwrap().to_string();
    assert!(link.starts_with("http://127.0.0.1:"));
    let bytes = client().get(&link).send().await.unwrap().bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    o.set_link_ttl(Duration::ZERO);
    let (_, got) = call(
        &sim,
        "geral/anexo",
        "ObterAnexo",
        json!({"cTabela": "com-recebimento", "nId": rid, "cNomeArquivo": first["cNomeArquivo"]}),
    )
    .await;
    let r = client().get(got["cLinkDownload"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);

    // IncluirAnexo: zip + base64 + MD5 of the base64 text; two dots, wrong MD5, unknown table refused.
    let pid = o.id_of(Kind::Payable, 20);
    let zipped = backoffice_sim::omie::anexo::zip_one("a.pdf", b"%PDF hello");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&zipped);
    let md5 = format!("{:x}", md5_of(b64.as_bytes()));
    let inc = |name: &str, md5: &str, table: &str| json!({"cCodIntAnexo": "BO123", "cTabela": table, "nId": pid, "cNomeArquivo": name, "cArquivo": b64, "cMd5": md5});
    let (st, v) = call(&sim, "geral/anexo", "IncluirAnexo", inc("a.b.pdf", &md5, "conta-pagar")).await;
    assert!(st == 500 && v["faultstring"].as_str().unwrap().contains("mais de um ponto"), "{v}");
    let (st, v) = call(&sim, "geral/anexo", "IncluirAnexo", inc("a.pdf", "00", "conta-pagar")).await;
    assert!(st == 500 && v["faultstring"].as_str().unwrap().contains("MD5"), "{v}");
    let (st, _) = call(&sim, "geral/anexo", "IncluirAnexo", inc("a.pdf", &md5, "conta_a_pagar")).await;
    assert_eq!(st, 500);
    let (st, v) = call(&sim, "geral/anexo", "IncluirAnexo", inc("a.pdf", &md5, "conta-pagar")).await;
    assert_eq!((st, v["cCodStatus"].as_str()), (200, Some("0")), "{v}");
    assert_eq!(o.attachments("conta-pagar", pid)[0].content, b"%PDF hello");
    let (st, v) = call(
        &sim,
        "geral/anexo",
        "ConsultarAnexo",
        json!({"cTabela": "conta-pagar", "nId": pid, "cCodIntAnexo": "BO123"}),
    )
    .await;
    assert_eq!((st, v["cNomeArquivo"].as_str()), (200, Some("a.pdf")));
    sim.shutdown().await;
}

/// omie.md section 8: a previous identical request answers `Client-8020` "Esta requisição já foi
/// processada ou está sendo processada e você pode tentar novamente às [hh:mm:ss]. (1)"; the
/// documented redundancy rule (`Client-6`) is for consults (section 9), and stays for reads.
#[tokio::test]
async fn an_identical_include_resent_within_the_window_was_already_processed() {
    let sim = sim_with(30, 3).await;
    let o = sim.omie();
    // The simulator's own clock, three hours ahead of the machine's and standing still.
    let now = Arc::new(AtomicU64::new(3 * 3600 * 1000));
    let n2 = now.clone();
    o.set_time_source(Arc::new(move || Duration::from_millis(n2.load(Ordering::SeqCst))));
    let pid = o.id_of(Kind::Payable, 7);
    let b64 = base64::engine::general_purpose::STANDARD
        .encode(backoffice_sim::omie::anexo::zip_one("nf.pdf", b"%PDF resent"));
    let md5 = format!("{:x}", md5_of(b64.as_bytes()));
    let inc = |cod: &str| json!({"cCodIntAnexo": cod, "cTabela": "conta-pagar", "nId": pid, "cNomeArquivo": "nf.pdf", "cArquivo": b64, "cMd5": md5});
    let (st, v) = call(&sim, "geral/anexo", "IncluirAnexo", inc("BO-R1")).await;
    assert_eq!((st, v["cCodStatus"].as_str()), (200, Some("0")), "{v}");
    let answered_at = o.wall_clock();
    now.fetch_add(10_000, Ordering::SeqCst);

    let (st, v) = call(&sim, "geral/anexo", "IncluirAnexo", inc("BO-R1")).await;
    assert_eq!((st, v["faultcode"].as_str()), (500, Some("SOAP-ENV:Client-8020")), "{v}");
    // The time named: the end of the 60 s window, to the second, in Brasília time, on the
    // simulator's clock (not the machine's).
    let at = answered_at + chrono::Duration::seconds(60);
    let at = at + chrono::Duration::nanoseconds((1_000_000_000 - at.timestamp_subsec_nanos() as i64) % 1_000_000_000);
    let hhmmss = at.with_timezone(&chrono_tz::America::Sao_Paulo).format("%H:%M:%S").to_string();
    assert_eq!(
        v["faultstring"].as_str().unwrap(),
        format!(
            "ERROR: Esta requisição já foi processada ou está sendo processada e você pode tentar novamente às [{hhmmss}]. (1)"
        )
    );
    let machine = (chrono::Utc::now() + chrono::Duration::seconds(50)).with_timezone(&chrono_tz::America::Sao_Paulo);
    assert_ne!(hhmmss, machine.format("%H:%M:%S").to_string());
    assert_eq!(o.attachments("conta-pagar", pid).len(), 1, "the resent include did nothing");
    let stats = o.limit_stats();
    assert_eq!((stats.already_processed, stats.redundant), (1, 0));

    // Another write of the same method is a different request.
    let (st, v) = call(&sim, "geral/anexo", "IncluirAnexo", inc("BO-R2")).await;
    assert_eq!(st, 200, "{v}");
    // Reads keep the redundancy rule: the same ListarAnexo twice is Client-6.
    let list = json!({"nPagina": 1, "nRegPorPagina": 50, "cTabela": "conta-pagar", "nId": pid});
    assert_eq!(call(&sim, "geral/anexo", "ListarAnexo", list.clone()).await.0, 200);
    let (st, v) = call(&sim, "geral/anexo", "ListarAnexo", list).await;
    assert_eq!((st, v["faultcode"].as_str()), (500, Some("SOAP-ENV:Client-6")), "{v}");

    // Once the window has passed the include is sent again, and the service finds the duplicate.
    now.fetch_add(60_000, Ordering::SeqCst);
    let (st, v) = call(&sim, "geral/anexo", "IncluirAnexo", inc("BO-R1")).await;
    assert_eq!((st, v["faultcode"].as_str()), (500, Some("SOAP-ENV:Client-104")), "{v}");
    assert_eq!(o.attachments("conta-pagar", pid).len(), 2);
    sim.shutdown().await;
}

fn md5_of(b: &[u8]) -> u128 {
    use md5::{Digest, Md5};
    u128::from_be_bytes(Md5::digest(b).into())
}

#[tokio::test]
async fn orders_close_only_through_the_configured_call() {
    let sim = sim_with(30, 3).await;
    let o = sim.omie();
    // Omie documents no closing call: the seed's guess is an unknown method.
    let (st, v) =
        call(&sim, "produtos/pedidocompra", "AlterarPedidoCompra", json!({"cNumero": "1000", "cStatus": "Encerrado"}))
            .await;
    assert_eq!(st, 500);
    assert!(v["faultstring"].as_str().unwrap().contains("AlterarPedidoCompra"), "{v}");
    o.set_po_close_rule(Some(PoCloseRule {
        service: "produtos/pedidocompra".into(),
        call: "AlterarPedidoCompra".into(),
        status_tag: "cStatus".into(),
        closes_with: "Fechado".into(),
    }));
    let (st, _) =
        call(&sim, "produtos/pedidocompra", "AlterarPedidoCompra", json!({"cNumero": "1000", "cStatus": "Encerrado"}))
            .await;
    assert_eq!(st, 200);
    assert_eq!(o.order_state(0).1, "pendente", "another status value changes nothing");
    let (_, _) =
        call(&sim, "produtos/pedidocompra", "AlterarPedidoCompra", json!({"cNumero": "1000", "cStatus": "Fechado"}))
            .await;
    assert_eq!(o.order_state(0).1, "encerrado");
    let (st, v) = call(
        &sim,
        "produtos/pedidocompra",
        "PesquisarPedCompra",
        json!({"nPagina": 1, "lExibirPedidosEncerrados": true}),
    )
    .await;
    assert_eq!(st, 200);
    let ids: Vec<u64> = v["pedidos_pesquisa"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["cabecalho_consulta"]["nCodPed"].as_u64().unwrap())
        .collect();
    assert!(ids.contains(&o.id_of(Kind::Order, 0)));
    // Payables carry service invoices against orders; receipts point at their payables.
    let p = (0..30).find(|p| o.payable_service_order(*p).is_some()).unwrap();
    let rec = o.record(Kind::Payable, p);
    assert!(
        !rec["servico_tomado"]["numero_nf"].as_str().unwrap().is_empty()
            && !rec["numero_pedido"].as_str().unwrap().is_empty()
    );
    let r = o.record(Kind::Receipt, 2);
    assert_eq!(r["parcelas"]["parcelasLista"][0]["nIdTitulo"].as_u64(), Some(o.receipt_payables(2)[0]));
    sim.shutdown().await;
}
