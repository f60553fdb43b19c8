//! Omie: JSON envelope `{call, app_key, app_secret, param:[{..}]}` POSTed to `{base}{module}/{service}/`.
//! Faults come back as `{faultstring, faultcode}` (HTTP 500 per the reference, sometimes 200).

use serde_json::{json, Value};

use crate::error::{CoreError, CoreResult};
use crate::http::{join, parse_json, Http};
use crate::model::{Connection, Credentials};

pub struct OmieClient {
    http: Http,
    base_url: String,
    name: String,
    creds: Credentials,
}

/// A fault answered by Omie.
#[derive(Debug, Clone, PartialEq)]
pub struct OmieFault {
    pub code: String,
    pub message: String,
}

impl OmieFault {
    /// `SOAP-ENV:Client-5113` means "no records on this page": an empty page, not an error.
    pub fn is_empty_page(&self) -> bool {
        self.code.ends_with("Client-5113")
    }
    pub fn is_auth(&self) -> bool {
        self.code.ends_with("Client-101")
    }
}

impl OmieClient {
    pub fn new(http: Http, conn: &Connection, creds: &Credentials) -> Self {
        OmieClient { http, base_url: conn.base_url.clone(), name: conn.name.clone(), creds: creds.clone() }
    }

    /// Calls `method` on `service_path` (e.g. `geral/clientes/`). `Ok(Err(fault))` is a fault Omie answered.
    pub async fn call(&self, service_path: &str, method: &str, param: Value) -> CoreResult<Result<Value, OmieFault>> {
        let url = join(&self.base_url, service_path);
        let url = if url.ends_with('/') { url } else { format!("{url}/") };
        let body = json!({
            "call": method,
            "app_key": self.creds.key,
            "app_secret": self.creds.secret,
            "param": [param],
        });
        tracing::debug!(connection = %self.name, url = %url, call = method, "omie request");
        let (status, text) =
            self.http.send_with_retry(&self.name, &url, || self.http.client.post(&url).json(&body)).await.or_else(
                |e| match e {
                    // Omie answers faults with HTTP 500: read them instead of treating them as a server failure.
                    CoreError::Http { status: 500, detail, .. } if detail.contains("faultstring") => {
                        Ok((reqwest::StatusCode::INTERNAL_SERVER_ERROR, detail))
                    }
                    other => Err(other),
                },
            )?;
        let v = parse_json(&self.name, &url, &text)?;
        if let Some(fs) = v.get("faultstring").and_then(Value::as_str) {
            let code = v.get("faultcode").and_then(Value::as_str).unwrap_or_default().to_string();
            return Ok(Err(OmieFault { code, message: fs.trim_start_matches("ERROR: ").to_string() }));
        }
        if !status.is_success() {
            return Err(crate::http::http_error(&self.name, &url, status, &text));
        }
        Ok(Ok(v))
    }

    fn fault_error(&self, f: OmieFault) -> CoreError {
        if f.is_auth() {
            CoreError::Unauthorized { connection: self.name.clone(), detail: f.message }
        } else {
            CoreError::Remote { connection: self.name.clone(), remote_code: f.code, message: f.message }
        }
    }

    /// Test: a one-record client list.
    pub async fn test(&self) -> CoreResult<String> {
        let r = self
            .call(
                "geral/clientes/",
                "ListarClientes",
                json!({"pagina": 1, "registros_por_pagina": 1, "apenas_importado_api": "N"}),
            )
            .await?;
        match r {
            Ok(v) => {
                let total = v.get("total_de_registros").and_then(Value::as_i64).unwrap_or(0);
                Ok(format!("Omie answered; {total} clients/suppliers registered"))
            }
            Err(f) if f.is_empty_page() => Ok("Omie answered; no clients registered yet".into()),
            Err(f) => Err(self.fault_error(f)),
        }
    }
}
