//! Clients of the three ERPs. Each takes a connection's public settings and its credentials.

pub mod contifico;
pub mod erpnext;
pub mod omie;

use crate::error::CoreResult;
use crate::http::Http;
use crate::model::{Connection, ConnectionKind, Credentials};

/// One cheap real call that proves the URL and the credentials work; returns a short description.
pub async fn test_connection(http: &Http, conn: &Connection, creds: &Credentials) -> CoreResult<String> {
    match conn.kind {
        ConnectionKind::Omie => omie::OmieClient::new(http.clone(), conn, creds).test().await,
        ConnectionKind::Contifico => contifico::ContificoClient::new(http.clone(), conn, creds).test().await,
        ConnectionKind::Erpnext => erpnext::ErpnextClient::new(http.clone(), conn, creds).test().await,
    }
}
