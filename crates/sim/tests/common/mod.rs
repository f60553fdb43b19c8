#![allow(dead_code)]

use backoffice_sim::{start, SimConfig, SimHandle};
use serde_json::Value;

pub const CONT_KEY: &str = "demo-contifico-key";

pub async fn sim() -> SimHandle {
    start(SimConfig::default()).await.expect("sim starts")
}

pub async fn sim_with(scale: u64, seed: u64) -> SimHandle {
    start(SimConfig { scale, seed, ..SimConfig::default() }).await.expect("sim starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(20)).build().expect("client")
}

/// GET a Contífico path (relative to the v1 base) with the right key.
pub async fn cget(sim: &SimHandle, rel: &str) -> (u16, Value) {
    let r = client()
        .get(format!("{}{}", sim.contifico, rel))
        .header("Authorization", CONT_KEY)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// GET a Contífico v2 path.
pub async fn cget2(sim: &SimHandle, rel: &str) -> (u16, Value) {
    let r = client()
        .get(format!("{}{}", sim.contifico_v2(), rel))
        .header("Authorization", CONT_KEY)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub fn ids(v: &Value) -> Vec<String> {
    v.as_array().expect("array").iter().map(|x| x["id"].as_str().expect("id").to_string()).collect()
}

/// Every page of a v1 list with `result_size`, until a short page.
pub async fn all_pages(sim: &SimHandle, path: &str, extra: &str, size: u64) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1..10_000u64 {
        let (st, v) = cget(sim, &format!("{path}?result_size={size}&result_page={page}{extra}")).await;
        assert_eq!(st, 200, "{path} page {page}: {v}");
        let rows = v.as_array().expect("v1 lists are arrays").clone();
        let n = rows.len() as u64;
        out.extend(rows);
        if n < size {
            break;
        }
    }
    out
}
