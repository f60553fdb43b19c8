//! RF-002: close a purchase order when its service invoice is posted.
//!
//! Detection: payables changed since the last run that record a service taken
//! (`servico_tomado.numero_nf`) against an order (`numero_pedido`, the order's `cNumero`).
//! Closing: consult the order (ConsultarPedCompra); if it is already closed, log success and do
//! nothing; otherwise call the **configured** closing operation (Omie documents none: service path,
//! call name, parameter template and status value are settings), then read the order again and
//! report success only if it is now closed.
//!
//! "Closed" is read the documented way: the order appears in PesquisarPedCompra when only
//! `lExibirPedidosEncerrados` is set (reference omie.md §4), searched on its inclusion date; a
//! status field of ConsultarPedCompra's answer can be configured as well.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ts_rs::TS;

use super::store::{self, add_preview, ClosureEnd};
use super::sync::OmieScanOptions;
use super::{omie_client, omie_connection};
use super::{OmieError, OmiePreviewItem};
use crate::erp::omie::client::OmieClient;
use crate::error::{ApiError, CoreError, CoreResult};
use crate::jobs::JobCtx;
use crate::model::{Connection, Job};
use crate::store::now_utc;
use crate::store::settings::SettingFamily;
use crate::Ctx;

/// The closing configuration of each connection.
const PO_CLOSE: SettingFamily<OmiePoCloseConfig> = SettingFamily::json("omie.po_close");

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmiePoCloseConfig {
    /// Service path of the closing call, e.g. `produtos/pedidocompra/` (OMIE_PO_CLOSE_ENDPOINT).
    pub service_path: String,
    /// Call name (OMIE_PO_CLOSE_CALL). Empty: closing is not configured.
    pub call: String,
    /// JSON of the call's `param[0]`, with placeholders `{order_number}`, `{order_id}`, `{item}`,
    /// `{status}`, `{service_invoice_number}`, `{service_invoice_id}`. A key whose whole value is a
    /// placeholder without a value (e.g. no item) is left out.
    pub param_template: String,
    /// The status value this account uses, e.g. `Encerrado` or `Fechado` (OMIE_PO_CLOSE_STATUS).
    pub status_value: String,
    /// Optional dotted path in ConsultarPedCompra's answer holding a status to compare with
    /// `status_value` (the closed-orders search is always used too).
    pub status_field: String,
    pub max_attempts: u32,
}

pub const DEFAULT_TEMPLATE: &str = r#"{"cNumero": "{order_number}", "cStatus": "{status}", "cCodItem": "{item}"}"#;

impl Default for OmiePoCloseConfig {
    fn default() -> Self {
        OmiePoCloseConfig {
            service_path: "produtos/pedidocompra/".into(),
            call: String::new(),
            param_template: DEFAULT_TEMPLATE.into(),
            status_value: "Encerrado".into(),
            status_field: String::new(),
            max_attempts: 3,
        }
    }
}

/// `produtos/pedidocompra/` from a path or a full URL ending in it.
fn service_from(s: &str) -> String {
    let s = s.trim();
    let p = s.split("/api/v1/").nth(1).unwrap_or(s);
    let p = p.trim_matches('/');
    if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    }
}

impl OmiePoCloseConfig {
    /// The seed's environment variables override the stored settings (CLI, `.env`):
    /// OMIE_PO_CLOSE_ENDPOINT, OMIE_PO_CLOSE_CALL, OMIE_PO_CLOSE_STATUS, OMIE_PO_CLOSE_TEMPLATE.
    pub fn with_env(mut self) -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if let Some(v) = var("OMIE_PO_CLOSE_ENDPOINT") {
            self.service_path = service_from(&v);
        }
        if let Some(v) = var("OMIE_PO_CLOSE_CALL") {
            self.call = v.trim().to_string();
        }
        if let Some(v) = var("OMIE_PO_CLOSE_STATUS") {
            self.status_value = v.trim().to_string();
        }
        if let Some(v) = var("OMIE_PO_CLOSE_TEMPLATE") {
            self.param_template = v;
        }
        self
    }

    fn validate(&self) -> CoreResult<()> {
        serde_json::from_str::<Value>(&self.param_template)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| OmieError::BadTemplate { detail: "it must be a JSON object".into() })?;
        if !self.call.is_empty() && !self.call.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(CoreError::invalid(
                "call",
                format!("\"{}\" is not a call name (letters and digits only).", self.call),
            ));
        }
        if self.max_attempts == 0 || self.max_attempts > 20 {
            return Err(CoreError::invalid("max_attempts", "Choose between 1 and 20 attempts."));
        }
        Ok(())
    }
}

/// Fills the template's placeholders.
pub fn render(template: &str, vars: &[(&str, Option<String>)]) -> CoreResult<Value> {
    let v: Value = serde_json::from_str(template).map_err(|e| OmieError::BadTemplate { detail: e.to_string() })?;
    fn walk(v: Value, vars: &[(&str, Option<String>)]) -> Option<Value> {
        match v {
            Value::String(s) => {
                for (k, val) in vars {
                    if s == format!("{{{k}}}") {
                        return match val {
                            None => None,
                            Some(x) if *k == "order_id" => {
                                Some(x.parse::<u64>().map(Value::from).unwrap_or(Value::String(x.clone())))
                            }
                            Some(x) => Some(Value::String(x.clone())),
                        };
                    }
                }
                let mut out = s;
                for (k, val) in vars {
                    out = out.replace(&format!("{{{k}}}"), val.as_deref().unwrap_or(""));
                }
                Some(Value::String(out))
            }
            Value::Object(m) => {
                Some(Value::Object(m.into_iter().filter_map(|(k, v)| walk(v, vars).map(|v| (k, v))).collect()))
            }
            Value::Array(a) => Some(Value::Array(a.into_iter().filter_map(|v| walk(v, vars)).collect())),
            other => Some(other),
        }
    }
    Ok(walk(v, vars).unwrap_or(json!({})))
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmieCloseRequest {
    /// The order number (`cNumero`).
    pub order_number: String,
    pub item: Option<String>,
    pub service_invoice_number: Option<String>,
    pub service_invoice_id: Option<String>,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmiePoClosure {
    pub id: String,
    pub connection_id: String,
    pub order_number: String,
    pub item: String,
    pub order_id: Option<String>,
    pub service_invoice_number: Option<String>,
    pub service_invoice_id: Option<String>,
    /// The payable that revealed the service invoice (scan).
    pub payable_id: Option<String>,
    /// `manual` or `scan`.
    pub source: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// `closed`, `already_closed`, `not_closed`, `error`.
    pub outcome: Option<String>,
    pub attempts: u32,
    pub max_attempts: u32,
    pub previous_stage: Option<String>,
    pub previous_status: Option<String>,
    pub new_stage: Option<String>,
    pub new_status: Option<String>,
    pub call_used: Option<String>,
    pub error: Option<ApiError>,
    pub error_code: Option<String>,
    pub job_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// An order as read: id, stage, inclusion date, whether closed.
struct OrderState {
    id: String,
    stage: String,
    inc_date: Option<chrono::NaiveDate>,
    closed: bool,
}

fn status_word(closed: bool) -> String {
    if closed { "closed" } else { "open" }.to_string()
}

struct Run<'a> {
    core: &'a Arc<Ctx>,
    client: &'a OmieClient,
    conn: &'a Connection,
    job: &'a JobCtx,
    cfg: OmiePoCloseConfig,
    dry_run: bool,
}

impl Run<'_> {
    async fn consult(&self, order_number: &str, by_id: Option<&str>, widen: bool) -> CoreResult<OrderState> {
        let p = match by_id {
            Some(id) => json!({"nCodPed": id.parse::<u64>().map(Value::from).unwrap_or(json!(id))}),
            None => json!({"cNumero": order_number}),
        };
        let v = match self.client.call("produtos/pedidocompra/", "ConsultarPedCompra", p).await? {
            Ok(v) => v,
            Err(f) if f.is_not_found() => {
                return Err(OmieError::PoNotFound {
                    order: order_number.to_string(),
                    connection: self.conn.name.clone(),
                    detail: f.message,
                }
                .into())
            }
            Err(f) => return Err(self.client.fault_error("ConsultarPedCompra", f)),
        };
        let cab = &v["cabecalho_consulta"];
        let id = match &cab["nCodPed"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => String::new(),
        };
        let stage = cab["cEtapa"].as_str().unwrap_or("").to_string();
        let inc_date = cab["dIncData"].as_str().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%d/%m/%Y").ok());
        let mut closed = false;
        if !self.cfg.status_field.trim().is_empty() {
            let got = crate::sync::parse::get_path(&v, self.cfg.status_field.trim());
            closed = got.as_str().is_some_and(|s| s.eq_ignore_ascii_case(&self.cfg.status_value));
        }
        if !closed {
            closed = self.in_closed_search(&id, inc_date, widen).await?;
        }
        Ok(OrderState { id, stage, inc_date, closed })
    }

    /// Whether the order is listed among the closed ones ("encerrados").
    async fn in_closed_search(&self, id: &str, inc: Option<chrono::NaiveDate>, widen: bool) -> CoreResult<bool> {
        let mut page = 1u32;
        loop {
            let mut p = json!({"nPagina": page, "nRegsPorPagina": 100, "lExibirPedidosEncerrados": true});
            if let Some(d) = inc {
                // The re-check after closing asks a wider range, so it is not a redundant repeat.
                let pad = chrono::Duration::days(if widen { 1 } else { 0 });
                p["dDataInicial"] = json!((d - pad).format("%d/%m/%Y").to_string());
                p["dDataFinal"] = json!((d + pad).format("%d/%m/%Y").to_string());
            }
            let Some(v) = self.client.list_page("produtos/pedidocompra/", "PesquisarPedCompra", p).await? else {
                return Ok(false);
            };
            let list = v["pedidos_pesquisa"].as_array().cloned().unwrap_or_default();
            if list.iter().any(|o| {
                let n = &o["cabecalho_consulta"]["nCodPed"];
                n.as_u64().map(|x| x.to_string()).or_else(|| n.as_str().map(str::to_string)).as_deref() == Some(id)
            }) {
                return Ok(true);
            }
            let pages = v["nTotalPaginas"].as_u64().unwrap_or(1);
            if list.is_empty() || u64::from(page) >= pages {
                return Ok(false);
            }
            page += 1;
        }
    }

    fn log_row(
        &self,
        req: &OmieCloseRequest,
        source: &str,
        payable: Option<&str>,
    ) -> CoreResult<(String, String, u32, u32)> {
        let item = req.item.clone().unwrap_or_default();
        store::ensure_closure(&self.core.store, &self.conn.id, req, &item, source, payable, self.cfg.max_attempts)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_row(
        &self,
        rid: &str,
        ok: bool,
        outcome: &str,
        order_id: Option<&str>,
        prev: Option<(&str, bool)>,
        new: Option<(&str, bool)>,
        call: Option<&str>,
        err: Option<&CoreError>,
    ) -> CoreResult<()> {
        let end = ClosureEnd {
            status: if ok { "succeeded" } else { "failed" },
            outcome,
            order_id,
            previous_stage: prev.map(|p| p.0),
            previous_status: prev.map(|p| status_word(p.1)),
            new_stage: new.map(|p| p.0),
            new_status: new.map(|p| status_word(p.1)),
            call_used: call,
            error: err.map(|e| e.to_api().to_stored()),
            error_code: err.map(|e| e.code()),
            job_id: self.job.id(),
        };
        store::finish_closure(&self.core.store, rid, &end)
    }

    /// Closes one order; returns its outcome (`closed`, `already_closed`, `planned`).
    async fn close(&self, req: &OmieCloseRequest, source: &str, payable: Option<&str>) -> CoreResult<&'static str> {
        let order = req.order_number.trim();
        let (rid, _status, _attempts, _max) = if self.dry_run {
            (String::new(), String::new(), 0, 0)
        } else {
            let row = self.log_row(req, source, payable)?;
            store::start_closure_attempt(&self.core.store, &row.0, self.job.id())?;
            row
        };
        let r = self.close_inner(req, &rid).await;
        if let Err(e) = &r {
            if !self.dry_run {
                let outcome = if matches!(e.feature::<OmieError>(), Some(OmieError::PoNotClosed { .. })) {
                    "not_closed"
                } else {
                    "error"
                };
                self.finish_row(&rid, false, outcome, None, None, None, None, Some(e))?;
            }
            self.job.log_t(
                "error",
                "po_close.order_failed",
                &[
                    ("order", order.to_string()),
                    ("error", e.to_string()),
                    ("error_json", e.to_api().to_stored()),
                    ("code", e.code().to_string()),
                ],
                &format!("purchase order {order}: {e}"),
            );
        }
        r
    }

    async fn close_inner(&self, req: &OmieCloseRequest, rid: &str) -> CoreResult<&'static str> {
        let order = req.order_number.trim();
        let before = self.consult(order, None, false).await?;
        if before.closed {
            self.job.log_t(
                "info",
                "po_close.already_closed",
                &[("order", order.to_string()), ("stage", before.stage.clone())],
                &format!("purchase order {order} is already closed (stage {}); nothing to do", before.stage),
            );
            if self.dry_run {
                self.preview(order, "already_closed", format!("stage {}", before.stage))?;
            } else {
                let st = Some((before.stage.as_str(), true));
                self.finish_row(rid, true, "already_closed", Some(&before.id), st, st, None, None)?;
            }
            return Ok("already_closed");
        }
        let vars = [
            ("order_number", Some(order.to_string())),
            ("order_id", Some(before.id.clone())),
            ("item", req.item.clone().filter(|s| !s.trim().is_empty())),
            ("status", Some(self.cfg.status_value.clone())),
            ("service_invoice_number", req.service_invoice_number.clone().filter(|s| !s.is_empty())),
            ("service_invoice_id", req.service_invoice_id.clone().filter(|s| !s.is_empty())),
        ];
        if self.cfg.call.trim().is_empty() {
            return Err(OmieError::PoCloseNotConfigured { connection: self.conn.name.clone() }.into());
        }
        let param = render(&self.cfg.param_template, &vars)?;
        let call_desc = format!("{}{}", self.cfg.service_path, self.cfg.call);
        if self.dry_run {
            self.preview(order, "close", format!("would call {call_desc} with {param} (stage {} now)", before.stage))?;
            return Ok("planned");
        }
        let prev = Some((before.stage.as_str(), false));
        match self.client.call(&self.cfg.service_path, &self.cfg.call, param).await? {
            Ok(_) => {}
            Err(f) => {
                let e = CoreError::Remote {
                    connection: self.conn.name.clone(),
                    remote_code: f.code.clone(),
                    message: format!(
                        "the configured closing call {call_desc} was refused for purchase order {order}: {} (check the call name and parameters in the Omie settings)",
                        f.message
                    ),
                };
                self.finish_row(rid, false, "error", Some(&before.id), prev, None, Some(&call_desc), Some(&e))?;
                return Err(e);
            }
        }
        let after = self.consult(order, Some(&before.id), true).await?;
        let new = Some((after.stage.as_str(), after.closed));
        if after.closed {
            self.finish_row(rid, true, "closed", Some(&before.id), prev, new, Some(&call_desc), None)?;
            self.job.log_t(
                "info",
                "po_close.closed",
                &[
                    ("order", order.to_string()),
                    ("call", call_desc.clone()),
                    ("stage_before", before.stage.clone()),
                    ("stage_after", after.stage.clone()),
                ],
                &format!("purchase order {order} closed by {call_desc} (stage {} → {})", before.stage, after.stage),
            );
            Ok("closed")
        } else {
            let e: CoreError = OmieError::PoNotClosed {
                order: order.to_string(),
                call: call_desc.clone(),
                stage: after.stage.clone(),
                status: status_word(false),
                status_value: self.cfg.status_value.clone(),
            }
            .into();
            self.finish_row(rid, false, "not_closed", Some(&before.id), prev, new, Some(&call_desc), Some(&e))?;
            let _ = after.inc_date;
            Err(e)
        }
    }

    fn preview(&self, order: &str, action: &str, detail: String) -> CoreResult<()> {
        add_preview(
            &self.core.store,
            self.job.id(),
            &OmiePreviewItem {
                kind: "purchase_order".into(),
                action: action.into(),
                origin: format!("order {order}"),
                destination: self.conn.name.clone(),
                detail,
            },
        )
    }
}

/// (order number, item, service invoice number and id, source, payable id).
pub(super) type PendingClosure = (String, String, Option<String>, Option<String>, String, Option<String>);

/// The stored closing configuration of a connection (defaults: nothing configured).
pub fn omie_po_close_config(cx: &Ctx, connection_id: &str) -> CoreResult<OmiePoCloseConfig> {
    Ok(cx.store.setting(&PO_CLOSE.of(connection_id))?.unwrap_or_default())
}

pub fn save_omie_po_close_config(
    cx: &Ctx,
    connection_id: &str,
    cfg: &OmiePoCloseConfig,
) -> CoreResult<OmiePoCloseConfig> {
    omie_connection(cx, connection_id)?;
    let mut cfg = cfg.clone();
    cfg.service_path = service_from(&cfg.service_path);
    if cfg.service_path.is_empty() {
        cfg.service_path = OmiePoCloseConfig::default().service_path;
    }
    cfg.call = cfg.call.trim().to_string();
    cfg.validate()?;
    cx.store.set_setting(&PO_CLOSE.of(connection_id), &cfg)?;
    omie_po_close_config(cx, connection_id)
}

fn spawn_po<F, Fut>(
    cx: &Arc<Ctx>,
    kind: &str,
    connection_id: &str,
    params: Value,
    dry_run: bool,
    config: Option<OmiePoCloseConfig>,
    f: F,
) -> CoreResult<Job>
where
    F: for<'a> FnOnce(Arc<Ctx>, OmieClient, Connection, JobCtx, OmiePoCloseConfig, bool) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = CoreResult<()>> + Send + 'static,
{
    let conn = omie_connection(cx, connection_id)?;
    // Refused at once (naming the desks that keep the key) rather than failing inside the job.
    cx.connections().require_key(&conn)?;
    let cfg = match config {
        Some(c) => c,
        None => omie_po_close_config(cx, connection_id)?,
    };
    cfg.validate()?;
    let core = cx.clone();
    let target = conn.clone();
    let (job, _h) = cx.jobs.spawn(kind, Some(&target), params, move |ctx| async move {
        let client = omie_client(&core, &conn)?;
        f(core, client, conn, ctx, cfg, dry_run).await
    })?;
    Ok(job)
}

/// Closes one purchase order (`omie_po_close`). `config` overrides the stored settings (the CLI
/// passes the environment's).
pub fn start_omie_po_close(
    cx: &Arc<Ctx>,
    connection_id: &str,
    req: OmieCloseRequest,
    config: Option<OmiePoCloseConfig>,
) -> CoreResult<Job> {
    if req.order_number.trim().is_empty() {
        return Err(OmieError::Missing {
            what: "order number".into(),
            fix: "Enter the purchase order number (cNumero).".into(),
        }
        .into());
    }
    let params = serde_json::to_value(&req).unwrap_or_default();
    spawn_po(
        cx,
        "omie_po_close",
        connection_id,
        params,
        req.dry_run,
        config,
        move |core, client, conn, ctx, cfg, dry_run| async move {
            let run = Run { core: &core, client: &client, conn: &conn, job: &ctx, cfg, dry_run };
            let outcome = run.close(&req, "manual", None).await?;
            ctx.add_count(outcome, 1);
            Ok(())
        },
    )
}

/// Closes the orders whose service invoice was posted on payables changed since the last run
/// (`omie_po_close_scan`).
pub fn start_omie_po_close_scan(
    cx: &Arc<Ctx>,
    connection_id: &str,
    opts: OmieScanOptions,
    config: Option<OmiePoCloseConfig>,
) -> CoreResult<Job> {
    let since_given = opts.since.as_deref().map(super::parse_since).transpose()?;
    let params = serde_json::to_value(&opts).unwrap_or_default();
    spawn_po(
        cx,
        "omie_po_close_scan",
        connection_id,
        params,
        opts.dry_run,
        config,
        move |core, client, conn, ctx, cfg, dry_run| async move {
            let tz: chrono_tz::Tz = conn.timezone.parse().unwrap_or(chrono_tz::America::Sao_Paulo);
            let started = now_utc();
            let today = chrono::Utc::now().with_timezone(&tz).date_naive();
            let since = match since_given {
                Some(d) => d,
                None => store::scan_last_run(&core.store, &conn.id, "po_close")?
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
                    .map(|d| d.with_timezone(&tz).date_naive())
                    .unwrap_or(today - chrono::Duration::days(7)),
            };
            let english = format!(
                "payables changed since {since} with a service invoice and an order{}",
                if dry_run { " (dry run)" } else { "" }
            );
            if dry_run {
                ctx.log_t("info", "po_close.scanning_dry_run", &[("since", since.to_string())], &english);
            } else {
                ctx.log_t("info", "po_close.scanning", &[("since", since.to_string())], &english);
            }
            // order number → (service invoice number, payable id)
            let mut found: Vec<(String, String, String)> = vec![];
            let mut page = 1u32;
            loop {
                ctx.checkpoint()?;
                let p = json!({
                    "pagina": page, "registros_por_pagina": 100, "apenas_importado_api": "N",
                    "filtrar_por_data_de": since.format("%d/%m/%Y").to_string(),
                    "filtrar_por_data_ate": (today + chrono::Duration::days(1)).format("%d/%m/%Y").to_string(),
                });
                let Some(v) = client.list_page("financas/contapagar/", "ListarContasPagar", p).await? else { break };
                let rows = v["conta_pagar_cadastro"].as_array().cloned().unwrap_or_default();
                for r in &rows {
                    ctx.add_count("payables", 1);
                    let nf = r["servico_tomado"]["numero_nf"].as_str().unwrap_or("").trim().to_string();
                    let order = r["numero_pedido"].as_str().unwrap_or("").trim().to_string();
                    if nf.is_empty() || order.is_empty() || found.iter().any(|(o, _, _)| *o == order) {
                        continue;
                    }
                    let pid = match &r["codigo_lancamento_omie"] {
                        Value::Number(n) => n.to_string(),
                        other => other.as_str().unwrap_or("").to_string(),
                    };
                    found.push((order, nf, pid));
                }
                let pages = v["total_de_paginas"].as_u64().unwrap_or(1);
                if rows.is_empty() || u64::from(page) >= pages {
                    break;
                }
                page += 1;
            }
            ctx.log_t(
                "info",
                "po_close.orders_found",
                &[("count", found.len().to_string())],
                &format!("{} orders have a posted service invoice", found.len()),
            );
            let run = Run { core: &core, client: &client, conn: &conn, job: &ctx, cfg, dry_run };
            for (order, nf, pid) in found {
                let done: Option<(String, u32, u32)> = store::order_closure_state(&core.store, &conn.id, &order)?;
                match &done {
                    Some((s, _, _)) if s == "succeeded" => {
                        ctx.add_count("already_handled", 1);
                        continue;
                    }
                    Some((s, a, m)) if s == "failed" && a >= m => {
                        ctx.log_t(
                            "warn",
                            "po_close.gave_up",
                            &[("order", order.to_string()), ("attempts", a.to_string())],
                            &format!("purchase order {order}: gave up after {a} attempts; see the closure log"),
                        );
                        ctx.add_count("gave_up", 1);
                        continue;
                    }
                    _ => {}
                }
                ctx.progress(None, format!("order {order}"));
                let req = OmieCloseRequest {
                    order_number: order.clone(),
                    item: None,
                    service_invoice_number: Some(nf),
                    service_invoice_id: None,
                    dry_run,
                };
                match run.close(&req, "scan", Some(&pid)).await {
                    Ok(outcome) => ctx.add_count(outcome, 1),
                    Err(e)
                        if matches!(e, CoreError::Cancelled | CoreError::Unauthorized { .. })
                            || OmieError::is_key_blocked(&e) =>
                    {
                        return Err(e)
                    }
                    Err(_) => ctx.add_count("failed", 1),
                }
            }
            if !dry_run {
                store::set_scan_last_run(&core.store, &conn.id, "po_close", &started)?;
            }
            Ok(())
        },
    )
}

/// Reprocesses failed closures that still have attempts left (`omie_po_close_retry`).
pub fn start_omie_po_close_retry(
    cx: &Arc<Ctx>,
    connection_id: &str,
    config: Option<OmiePoCloseConfig>,
) -> CoreResult<Job> {
    spawn_po(
        cx,
        "omie_po_close_retry",
        connection_id,
        json!({}),
        false,
        config,
        move |core, client, conn, ctx, cfg, _| async move {
            let todo: Vec<PendingClosure> = store::pending_closures(&core.store, &conn.id)?;
            ctx.log_t(
                "info",
                "po_close.reprocessing",
                &[("count", todo.len().to_string())],
                &format!("{} closures to reprocess", todo.len()),
            );
            let run = Run { core: &core, client: &client, conn: &conn, job: &ctx, cfg, dry_run: false };
            for (order, item, nf, nf_id, source, pid) in todo {
                let req = OmieCloseRequest {
                    order_number: order,
                    item: Some(item).filter(|s| !s.is_empty()),
                    service_invoice_number: nf,
                    service_invoice_id: nf_id,
                    dry_run: false,
                };
                match run.close(&req, &source, pid.as_deref()).await {
                    Ok(outcome) => ctx.add_count(outcome, 1),
                    Err(e) if matches!(e, CoreError::Cancelled) || OmieError::is_key_blocked(&e) => return Err(e),
                    Err(_) => ctx.add_count("failed", 1),
                }
            }
            Ok(())
        },
    )
}

/// The closure log, newest first.
pub fn omie_po_closures(
    cx: &Ctx,
    connection_id: &str,
    status: Option<&str>,
    limit: u32,
) -> CoreResult<Vec<OmiePoClosure>> {
    store::closures(&cx.store, connection_id, status, limit.clamp(1, 5000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_placeholders_and_missing_item() {
        let v = render(
            DEFAULT_TEMPLATE,
            &[("order_number", Some("1004".into())), ("status", Some("Fechado".into())), ("item", None)],
        )
        .unwrap();
        assert_eq!(v, json!({"cNumero": "1004", "cStatus": "Fechado"}));
        let v = render(
            r#"{"cabecalho_alterar": {"nCodPed": "{order_id}", "cObs": "NF {service_invoice_number}"}}"#,
            &[("order_id", Some("44".into())), ("service_invoice_number", Some("9001".into()))],
        )
        .unwrap();
        assert_eq!(v, json!({"cabecalho_alterar": {"nCodPed": 44, "cObs": "NF 9001"}}));
        assert_eq!(render("[1", &[]).unwrap_err().code(), "omie_bad_template");
        assert_eq!(service_from("https://app.omie.com.br/api/v1/produtos/pedidocompra/"), "produtos/pedidocompra/");
        assert_eq!(service_from("produtos/pedidocompra"), "produtos/pedidocompra/");
    }
}
