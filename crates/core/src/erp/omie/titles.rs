//! One field of a payable or receivable, read and written: `ConsultarContaPagar` /
//! `ConsultarContaReceber` and `AlterarContaPagar` / `AlterarContaReceber` (omie.md §3 and §7).
//!
//! The reference documents the consult keys (`codigo_lancamento_omie`) and lists the Alterar
//! methods without their request shape; the documented reading used here is Omie's usual one: the
//! record's `codigo_lancamento_omie` with only the fields to change. Only fields BackOffice corrects
//! are accepted.

use serde_json::{json, Value};

use super::omie_client;
use crate::error::{CoreError, CoreResult};
use crate::model::Connection;
use crate::Ctx;

/// The fields a correction may change.
pub const WRITABLE: [&str; 1] = ["codigo_categoria"];

fn target(resource: &str) -> CoreResult<(&'static str, &'static str, &'static str)> {
    match resource {
        "contas_pagar" => Ok(("financas/contapagar/", "ConsultarContaPagar", "AlterarContaPagar")),
        "contas_receber" => Ok(("financas/contareceber/", "ConsultarContaReceber", "AlterarContaReceber")),
        other => Err(CoreError::invalid(
            "resource",
            format!("Omie records of \"{other}\" cannot be corrected by BackOffice (payables and receivables can)"),
        )),
    }
}

fn id_value(id: &str) -> Value {
    id.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::from(id))
}

/// The field's current value in Omie (as text; empty when absent).
pub async fn read_field(cx: &Ctx, conn: &Connection, resource: &str, id: &str, field: &str) -> CoreResult<String> {
    let (service, consult, _) = target(resource)?;
    let client = omie_client(cx, conn)?;
    let v = client.call_ok(service, consult, json!({ "codigo_lancamento_omie": id_value(id) })).await?;
    Ok(match v.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    })
}

/// Sets the field in Omie.
pub async fn write_field(
    cx: &Ctx,
    conn: &Connection,
    resource: &str,
    id: &str,
    field: &str,
    value: &str,
) -> CoreResult<()> {
    if !WRITABLE.contains(&field) {
        return Err(CoreError::invalid("field", format!("BackOffice does not write \"{field}\" to Omie")));
    }
    let (service, _, alter) = target(resource)?;
    let client = omie_client(cx, conn)?;
    client.call_ok(service, alter, json!({ "codigo_lancamento_omie": id_value(id), field: value })).await?;
    Ok(())
}
