//! The Omie simulator's NF-e receipts describe one consistent company: each receipt's supplier is
//! a client record with the same id, name and CNPJ, and the purchase orders its items are linked to
//! were placed with that same supplier.

mod common;

use std::collections::HashMap;

use backoffice_sim::SimHandle;
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

/// Every receipt (with details), every order and every client, each in one page.
async fn company(sim: &SimHandle) -> (Vec<Value>, HashMap<u64, Value>, HashMap<u64, Value>) {
    let (st, v) = call(
        sim,
        "produtos/recebimentonfe",
        "ListarRecebimentos",
        json!({"nPagina": 1, "nRegistrosPorPagina": 500, "cExibirDetalhes": "S"}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["nTotalPaginas"], 1);
    let receipts = v["recebimentos"].as_array().unwrap().clone();
    let every_status = json!({
        "nPagina": 1, "nRegsPorPagina": 500,
        "lExibirPedidosPendentes": true, "lExibirPedidosFaturados": true, "lExibirPedidosRecebidos": true,
        "lExibirPedidosCancelados": true, "lExibirPedidosEncerrados": true, "lExibirPedidosRecParciais": true,
        "lExibirPedidosFatParciais": true,
    });
    let (st, v) = call(sim, "produtos/pedidocompra", "PesquisarPedCompra", every_status).await;
    assert_eq!(st, 200, "{v}");
    let orders = v["pedidos_pesquisa"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["cabecalho_consulta"]["nCodPed"].as_u64().unwrap(), p.clone()))
        .collect();
    let (st, v) =
        call(sim, "geral/clientes", "ListarClientes", json!({"pagina": 1, "registros_por_pagina": 500})).await;
    assert_eq!(st, 200, "{v}");
    let clients = v["clientes_cadastro"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["codigo_cliente_omie"].as_u64().unwrap(), c.clone()))
        .collect();
    (receipts, orders, clients)
}

#[tokio::test]
async fn every_receipt_links_orders_of_its_own_supplier() {
    for seed in [3, 11] {
        let sim = sim_with(200, seed).await;
        let (receipts, orders, clients) = company(&sim).await;
        assert_eq!(receipts.len() as u64, sim.omie().count(backoffice_sim::omie::Kind::Receipt));
        let mut links = 0;
        for r in &receipts {
            let cabec = &r["cabec"];
            let supplier = cabec["nIdFornecedor"].as_u64().unwrap();
            // The supplier as its client record says (earlier findings: empty CNPJ, another name).
            let party = clients.get(&supplier).unwrap_or_else(|| panic!("seed {seed}: no client {supplier}"));
            assert!(!cabec["cCNPJ_CPF"].as_str().unwrap().is_empty(), "seed {seed}: {cabec}");
            assert_eq!(cabec["cCNPJ_CPF"], party["cnpj_cpf"], "seed {seed}: {cabec}");
            assert_eq!(cabec["cRazaoSocial"], party["razao_social"], "seed {seed}: {cabec}");
            for item in r["itensRecebimento"].as_array().unwrap() {
                let order_id = item["itensCabec"]["nIdPedido"].as_u64().unwrap();
                let order = orders.get(&order_id).unwrap_or_else(|| panic!("seed {seed}: no order {order_id}"));
                assert_eq!(
                    order["cabecalho_consulta"]["nCodFor"].as_u64(),
                    Some(supplier),
                    "seed {seed}: receipt {} of supplier {supplier} links order {order_id} of another supplier",
                    cabec["nIdReceb"]
                );
                assert_eq!(item["itensInfoAdic"]["nNumPedCompra"], order["cabecalho_consulta"]["cNumero"]);
                links += 1;
            }
        }
        assert!(links >= receipts.len(), "every receipt links an order");

        // ConsultarRecebimento tells the same, and so does ConsultarPedCompra.
        let first = receipts[0]["cabec"]["nIdReceb"].clone();
        let (st, one) = call(&sim, "produtos/recebimentonfe", "ConsultarRecebimento", json!({"nIdReceb": first})).await;
        assert_eq!(st, 200, "{one}");
        let order_id = one["itensRecebimento"][0]["itensCabec"]["nIdPedido"].clone();
        let (st, po) = call(&sim, "produtos/pedidocompra", "ConsultarPedCompra", json!({"nCodPed": order_id})).await;
        assert_eq!(st, 200, "{po}");
        assert_eq!(po["cabecalho_consulta"]["nCodFor"], one["cabec"]["nIdFornecedor"]);
        sim.shutdown().await;
    }
}
