//! The local client record of each Omie client (seed 001): matched first by CNPJ/CPF (normalised,
//! check digits validated) and, once linked, by `codigo_cliente_omie`, so a sync never creates a
//! second record for the same client. An invalid CNPJ/CPF is quarantined with a plain reason and
//! the rest of the batch goes on.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::omie_connection;
use super::store;
use super::OmieError;
use crate::error::{CoreError, CoreResult};
use crate::jobs::JobCtx;
use crate::model::Connection;
use crate::store::{now_utc, Store};
use crate::Ctx;

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmieLocalClient {
    pub id: String,
    pub connection_id: String,
    pub name: String,
    /// CNPJ or CPF, normalised (digits; upper-case letters for the alphanumeric CNPJ).
    pub document: Option<String>,
    /// `cnpj` or `cpf`.
    pub document_kind: Option<String>,
    pub omie_codigo: Option<String>,
    pub email: Option<String>,
    /// How it was last matched: `document`, `omie_codigo`, `created` or `manual`.
    pub matched_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Keeps the characters of a CNPJ/CPF (digits; letters of the alphanumeric CNPJ, upper case).
pub fn normalize_document(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

fn cpf_ok(d: &[u32]) -> bool {
    if d.len() != 11 || d.iter().all(|x| *x == d[0]) {
        return false;
    }
    (9..11).all(|n| {
        let sum: u32 = d[..n].iter().enumerate().map(|(i, v)| v * (n as u32 + 1 - i as u32)).sum();
        let r = sum * 10 % 11;
        (if r == 10 { 0 } else { r }) == d[n]
    })
}

fn cnpj_ok(v: &[u32]) -> bool {
    if v.len() != 14 || v.iter().all(|x| *x == v[0]) {
        return false;
    }
    let dv = |n: usize| {
        // Weights 2..9 from the right, repeating.
        let sum: u32 = v[..n].iter().rev().enumerate().map(|(i, x)| x * (2 + (i as u32 % 8))).sum();
        let r = sum % 11;
        if r < 2 {
            0
        } else {
            11 - r
        }
    };
    dv(12) == v[12] && dv(13) == v[13]
}

/// `Some("cnpj" | "cpf")` when the normalised document is valid. The alphanumeric CNPJ (letters in
/// the first 12 positions, value = ASCII code − 48) is accepted too.
pub fn document_kind(doc: &str) -> Option<&'static str> {
    let b = doc.as_bytes();
    match b.len() {
        11 if b.iter().all(u8::is_ascii_digit) => {
            let d: Vec<u32> = b.iter().map(|c| (c - b'0') as u32).collect();
            cpf_ok(&d).then_some("cpf")
        }
        14 if b[12..].iter().all(u8::is_ascii_digit) && b.iter().all(u8::is_ascii_alphanumeric) => {
            let v: Vec<u32> = b.iter().map(|c| (*c as u32).saturating_sub(48)).collect();
            cnpj_ok(&v).then_some("cnpj")
        }
        _ => None,
    }
}

/// What a matching pass did.
#[derive(Debug, Default, Clone, Copy)]
pub struct MatchCounts {
    pub linked_by_document: u64,
    pub matched_by_code: u64,
    pub created: u64,
    pub invalid: u64,
}

/// Matches the clients fetched since `since` (RFC 3339) into local client records.
pub fn match_clients(db: &Store, ctx: &JobCtx, conn: &Connection, since: &str) -> CoreResult<MatchCounts> {
    let rows = store::clients_fetched_since(db, &conn.id, since)?;
    let mut counts = MatchCounts::default();
    for chunk in rows.chunks(500) {
        let fetched: Vec<FetchedClient<'_>> = chunk.iter().filter_map(|raw| FetchedClient::read(raw)).collect();
        // One transaction per chunk; invalid documents are quarantined in it.
        let mut c = MatchCounts::default();
        let mut problems = vec![];
        for outcome in store::match_client_batch(db, &conn.id, &fetched)? {
            match outcome {
                Outcome::Linked => c.linked_by_document += 1,
                Outcome::ByCode => c.matched_by_code += 1,
                Outcome::Created => c.created += 1,
                Outcome::Invalid(e) => {
                    c.invalid += 1;
                    problems.push(e);
                }
            }
        }
        for p in problems.iter().take(20) {
            match p {
                OmieError::InvalidTaxId { document, code, name } => ctx.log_t(
                    "warn",
                    "omie.invalid_tax_id",
                    &[("document", document.clone()), ("client", code.clone()), ("name", name.clone())],
                    &p.to_string(),
                ),
                other => ctx.log("warn", &other.to_string()),
            }
        }
        counts.linked_by_document += c.linked_by_document;
        counts.matched_by_code += c.matched_by_code;
        counts.created += c.created;
        counts.invalid += c.invalid;
    }
    ctx.add_count("clients_linked", counts.linked_by_document as i64);
    ctx.add_count("clients_matched", counts.matched_by_code as i64);
    ctx.add_count("clients_created", counts.created as i64);
    if counts.invalid > 0 {
        ctx.add_count("clients_invalid_document", counts.invalid as i64);
    }
    Ok(counts)
}

/// What matching one fetched client did.
pub(super) enum Outcome {
    Linked,
    ByCode,
    Created,
    Invalid(OmieError),
}

fn code_of(v: &Value) -> String {
    match v.get("codigo_cliente_omie") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// A client as fetched from Omie, read for matching: its raw JSON, Omie's code, and its CNPJ/CPF
/// normalised and checked (`kind` is `None` when the document is invalid or missing).
pub(super) struct FetchedClient<'a> {
    pub raw: &'a str,
    pub code: String,
    pub name: String,
    pub email: Option<String>,
    /// The CNPJ/CPF as Omie gave it.
    pub raw_doc: String,
    pub doc: String,
    pub kind: Option<&'static str>,
}

impl<'a> FetchedClient<'a> {
    /// Reads a stored client record (`None` when it is not JSON).
    fn read(raw: &'a str) -> Option<FetchedClient<'a>> {
        let v = serde_json::from_str::<Value>(raw).ok()?;
        let raw_doc = v.get("cnpj_cpf").and_then(Value::as_str).unwrap_or("").to_string();
        let doc = normalize_document(&raw_doc);
        let kind = document_kind(&doc);
        Some(FetchedClient {
            raw,
            code: code_of(&v),
            name: v.get("razao_social").and_then(Value::as_str).unwrap_or("").to_string(),
            email: v.get("email").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string),
            raw_doc,
            doc,
            kind,
        })
    }

    /// The problem of a client whose CNPJ/CPF is invalid.
    pub(super) fn invalid_tax_id(&self) -> OmieError {
        OmieError::InvalidTaxId { document: self.raw_doc.clone(), code: self.code.clone(), name: self.name.clone() }
    }
}

/// Local client records of an Omie connection.
pub fn omie_local_clients(cx: &Ctx, connection_id: &str) -> CoreResult<Vec<OmieLocalClient>> {
    store::local_clients(&cx.store, connection_id)
}

/// Adds a local client (e.g. imported from another system) to be matched to Omie by its CNPJ/CPF.
pub fn omie_add_local_client(cx: &Ctx, connection_id: &str, name: &str, document: &str) -> CoreResult<OmieLocalClient> {
    let conn = omie_connection(cx, connection_id)?;
    let doc = normalize_document(document);
    let kind = document_kind(&doc).ok_or_else(|| {
        CoreError::invalid(
            "document",
            format!("\"{document}\" is not a valid CNPJ or CPF (check digits do not match)."),
        )
    })?;
    if name.trim().is_empty() {
        return Err(CoreError::invalid("name", "Give the client a name."));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_utc();
    store::insert_manual_local_client(&cx.store, &id, &conn.id, name.trim(), &doc, kind, &now)?;
    Ok(omie_local_clients(cx, connection_id)?.into_iter().find(|c| c.id == id).expect("inserted"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_normalised_and_checked() {
        assert_eq!(normalize_document("11.222.333/0001-81"), "11222333000181");
        assert_eq!(document_kind("11222333000181"), Some("cnpj"));
        assert_eq!(document_kind("11222333000182"), None);
        assert_eq!(document_kind(&normalize_document("529.982.247-25")), Some("cpf"));
        assert_eq!(document_kind("52998224724"), None);
        assert_eq!(document_kind("11111111111"), None);
        // Alphanumeric CNPJ (published example): 12ABC34501DE35.
        assert_eq!(document_kind("12ABC34501DE35"), Some("cnpj"));
        assert_eq!(document_kind("12ABC34501DE36"), None);
    }
}
