//! The local client record of each Omie client (seed 001): matched first by CNPJ/CPF (normalised,
//! check digits validated) and, once linked, by `codigo_cliente_omie`, so a sync never creates a
//! second record for the same client. An invalid CNPJ/CPF is quarantined with a plain reason and
//! the rest of the batch goes on.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::omie_connection;
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
pub fn match_clients(store: &Store, ctx: &JobCtx, conn: &Connection, since: &str) -> CoreResult<MatchCounts> {
    let rows: Vec<String> = store.read(|c| {
        let exists: bool = c
            .query_row("SELECT 1 FROM sqlite_master WHERE type='table' AND name='omie_clientes'", [], |_| Ok(()))
            .optional()?
            .is_some();
        if !exists {
            return Ok(vec![]);
        }
        let mut st = c.prepare(
            "SELECT raw FROM omie_clientes WHERE connection_id=?1 AND fetched_at>=?2 AND deleted_at IS NULL ORDER BY rowid",
        )?;
        let r = st.query_map(params![conn.id, since], |r| r.get::<_, String>(0))?;
        Ok(r.collect::<Result<Vec<_>, _>>()?)
    })?;
    let mut counts = MatchCounts::default();
    for chunk in rows.chunks(500) {
        let (c, problems) = store.write(|tx| {
            let mut c = MatchCounts::default();
            let mut problems = vec![];
            for raw in chunk {
                let Ok(v) = serde_json::from_str::<Value>(raw) else { continue };
                match upsert_one(tx, conn, &v)? {
                    Outcome::Linked => c.linked_by_document += 1,
                    Outcome::ByCode => c.matched_by_code += 1,
                    Outcome::Created => c.created += 1,
                    Outcome::Invalid(e) => {
                        c.invalid += 1;
                        let code = code_of(&v);
                        tx.execute(
                            "INSERT INTO sync_quarantine (connection_id, erp, resource, record_id, reason, raw, run_id, at)
                             VALUES (?1, 'omie', 'clientes', ?2, ?3, ?4, NULL, ?5)
                             ON CONFLICT(connection_id, erp, resource, record_id) DO UPDATE SET reason=excluded.reason, raw=excluded.raw, at=excluded.at",
                            params![conn.id, code, e.to_string(), raw, now_utc()],
                        )?;
                        problems.push(e);
                    }
                }
            }
            Ok((c, problems))
        })?;
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

enum Outcome {
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

fn upsert_one(tx: &rusqlite::Transaction<'_>, conn: &Connection, v: &Value) -> CoreResult<Outcome> {
    let code = code_of(v);
    let name = v.get("razao_social").and_then(Value::as_str).unwrap_or("").to_string();
    let email = v.get("email").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let raw_doc = v.get("cnpj_cpf").and_then(Value::as_str).unwrap_or("");
    let doc = normalize_document(raw_doc);
    let kind = document_kind(&doc);
    let now = now_utc();
    // 1. Already linked by Omie's code.
    let by_code: Option<String> = tx
        .query_row(
            "SELECT id FROM omie_local_clients WHERE connection_id=?1 AND omie_codigo=?2",
            params![conn.id, code],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = by_code {
        tx.execute(
            "UPDATE omie_local_clients SET name=?2, email=coalesce(?3, email), matched_by='omie_codigo', updated_at=?4,
                    document=CASE WHEN ?5 IS NOT NULL THEN ?5 ELSE document END,
                    document_kind=CASE WHEN ?5 IS NOT NULL THEN ?6 ELSE document_kind END
             WHERE id=?1",
            params![id, name, email, now, kind.map(|_| doc.clone()), kind],
        )?;
        if !doc.is_empty() && kind.is_none() {
            return Ok(Outcome::Invalid(OmieError::InvalidTaxId { document: raw_doc.to_string(), code, name }));
        }
        return Ok(Outcome::ByCode);
    }
    let Some(kind) = kind else {
        return Ok(Outcome::Invalid(OmieError::InvalidTaxId { document: raw_doc.to_string(), code, name }));
    };
    // 2. First time: a local record with the same document and no Omie code yet.
    let by_doc: Option<String> = tx
        .query_row(
            "SELECT id FROM omie_local_clients WHERE connection_id=?1 AND document=?2 AND omie_codigo IS NULL
             ORDER BY created_at LIMIT 1",
            params![conn.id, doc],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = by_doc {
        tx.execute(
            "UPDATE omie_local_clients SET omie_codigo=?2, name=CASE WHEN name='' THEN ?3 ELSE name END,
                    email=coalesce(email, ?4), matched_by='document', updated_at=?5, document_kind=?6 WHERE id=?1",
            params![id, code, name, email, now, kind],
        )?;
        return Ok(Outcome::Linked);
    }
    // 3. New client.
    tx.execute(
        "INSERT INTO omie_local_clients (id, connection_id, name, document, document_kind, omie_codigo, email, matched_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'created', ?8, ?8)",
        params![uuid::Uuid::new_v4().to_string(), conn.id, name, doc, kind, code, email, now],
    )?;
    Ok(Outcome::Created)
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OmieLocalClient> {
    Ok(OmieLocalClient {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        name: r.get(2)?,
        document: r.get(3)?,
        document_kind: r.get(4)?,
        omie_codigo: r.get(5)?,
        email: r.get(6)?,
        matched_by: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
    })
}

/// Local client records of an Omie connection.
pub fn omie_local_clients(cx: &Ctx, connection_id: &str) -> CoreResult<Vec<OmieLocalClient>> {
    cx.store.read(|c| {
        let mut st = c.prepare(
            "SELECT id, connection_id, name, document, document_kind, omie_codigo, email, matched_by, created_at, updated_at
             FROM omie_local_clients WHERE connection_id=?1 ORDER BY name COLLATE NOCASE, id",
        )?;
        let rows = st.query_map([connection_id], from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
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
    cx.store.write(|tx| {
        tx.execute(
            "INSERT INTO omie_local_clients (id, connection_id, name, document, document_kind, matched_by, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'manual', ?6, ?6)",
            params![id, conn.id, name.trim(), doc, kind, now],
        )?;
        Ok(())
    })?;
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
