//! Contífico: `Authorization: <raw API key>` (no prefix), v1 lists are plain arrays paged with
//! `result_size`/`result_page`; v2 lists are `{count, next, previous, results}`.

use serde_json::Value;

use crate::error::{CoreError, CoreResult};
use crate::http::{http_error, join, parse_json, Http};
use crate::model::{Connection, Credentials};

pub struct ContificoClient {
    pub(crate) http: Http,
    pub(crate) base_url: String,
    pub(crate) name: String,
    pub(crate) creds: Credentials,
}

impl ContificoClient {
    pub fn new(http: Http, conn: &Connection, creds: &Credentials) -> Self {
        ContificoClient { http, base_url: conn.base_url.clone(), name: conn.name.clone(), creds: creds.clone() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of a path relative to the v1 base (`registro/documento/`), or of a v2 path given as
    /// `v2:contabilidad/asiento/` (the base's trailing `v1/` replaced by `v2/`).
    pub fn url(&self, path: &str) -> String {
        match path.strip_prefix("v2:") {
            Some(p) => {
                let base = self.base_url.trim_end_matches('/');
                let base = base.strip_suffix("/v1").map(|b| format!("{b}/v2")).unwrap_or_else(|| base.to_string());
                join(&base, p)
            }
            None => join(&self.base_url, path),
        }
    }

    /// GET `url` (absolute) with the query; returns the status and parsed JSON, or an error naming the fix.
    /// 404 is returned as `Ok((404, Null))` because list endpoints answer it past the last page.
    pub async fn get_json(&self, url: &str, query: &[(String, String)]) -> CoreResult<(u16, Value)> {
        let (status, text) = self
            .http
            .send_with_retry(&self.name, url, || {
                self.http.client.get(url).query(query).header("Authorization", &self.creds.key)
            })
            .await?;
        if status.as_u16() == 404 {
            return Ok((404, Value::Null));
        }
        if !status.is_success() {
            return Err(http_error(&self.name, url, status, &text));
        }
        Ok((status.as_u16(), parse_json(&self.name, url, &text)?))
    }

    /// Test: a one-record document list.
    pub async fn test(&self) -> CoreResult<String> {
        let url = self.url("registro/documento/");
        let q = vec![("result_size".to_string(), "1".to_string()), ("result_page".to_string(), "1".to_string())];
        match self.get_json(&url, &q).await? {
            (404, _) => Err(CoreError::Http {
                connection: self.name.clone(),
                url,
                status: 404,
                detail: "the documents list was not found; check that the base URL ends in /sistema/api/v1/".into(),
            }),
            (_, Value::Array(_)) | (_, Value::Object(_)) => Ok("Contífico answered the documents list".into()),
            (_, other) => Err(CoreError::NotJson {
                connection: self.name.clone(),
                url,
                detail: format!("expected a list, got {}", crate::http::truncate(&other.to_string(), 200)),
            }),
        }
    }
}
