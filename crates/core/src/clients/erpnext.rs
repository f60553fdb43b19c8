//! ERPNext / Frappe v15: `Authorization: token <key>:<secret>`, `/api/resource/<DocType>` and
//! `/api/method/<dotted.path>`. Error bodies carry `exc_type` and a double-encoded `_server_messages`.

use serde_json::Value;

use crate::error::{CoreError, CoreResult};
use crate::http::{http_error, join, parse_json, Http};
use crate::model::{Connection, Credentials};

pub struct ErpnextClient {
    http: Http,
    base_url: String,
    name: String,
    creds: Credentials,
}

/// Decodes Frappe's `_server_messages`: a JSON string holding a list of JSON strings of `{message, title}`.
pub fn server_messages(body: &Value) -> Vec<String> {
    let Some(raw) = body.get("_server_messages").and_then(Value::as_str) else { return vec![] };
    let Ok(list) = serde_json::from_str::<Vec<String>>(raw) else { return vec![raw.to_string()] };
    list.iter()
        .map(|s| match serde_json::from_str::<Value>(s) {
            Ok(v) => v.get("message").and_then(Value::as_str).unwrap_or(s).to_string(),
            Err(_) => s.clone(),
        })
        .collect()
}

impl ErpnextClient {
    pub fn new(http: Http, conn: &Connection, creds: &Credentials) -> Self {
        ErpnextClient { http, base_url: conn.base_url.clone(), name: conn.name.clone(), creds: creds.clone() }
    }

    fn auth(&self) -> String {
        format!("token {}:{}", self.creds.key, self.creds.secret)
    }

    pub async fn get(&self, path: &str) -> CoreResult<Value> {
        let url = join(&self.base_url, path);
        let (status, text) = self
            .http
            .send_with_retry(&self.name, &url, || {
                self.http.client.get(&url).header("Authorization", self.auth()).header("Accept", "application/json")
            })
            .await?;
        if !status.is_success() {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                let msgs = server_messages(&v);
                if status.as_u16() == 417 || (!msgs.is_empty() && status.as_u16() != 401 && status.as_u16() != 403) {
                    return Err(CoreError::Remote {
                        connection: self.name.clone(),
                        remote_code: v.get("exc_type").and_then(Value::as_str).unwrap_or("").to_string(),
                        message: msgs.join(" "),
                    });
                }
            }
            return Err(http_error(&self.name, &url, status, &text));
        }
        parse_json(&self.name, &url, &text)
    }

    /// Test: `frappe.auth.get_logged_user`.
    pub async fn test(&self) -> CoreResult<String> {
        let v = self.get("/api/method/frappe.auth.get_logged_user").await?;
        match v.get("message").and_then(Value::as_str) {
            Some("Guest") | None => Err(CoreError::Unauthorized {
                connection: self.name.clone(),
                detail: "the site answered as Guest: the API key was not accepted".into(),
            }),
            Some(user) => Ok(format!("ERPNext answered; signed in as {user}")),
        }
    }
}
