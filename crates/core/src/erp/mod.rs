//! The ERPs, one room each (`contifico/`, `omie/`, `erpnext/`: client, errors, resources and that
//! ERP's own features), and this registry: the one place with a `match` over every ERP kind. Adding
//! an ERP is a room, an arm in each function below, a [`ConnectionKind`] variant and its job kinds.

pub mod connections;
pub mod contifico;
pub mod erpnext;
pub mod omie;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{CoreError, CoreResult};
use crate::http::Http;
use crate::model::{Connection, ConnectionKind, Credentials, Job};
use crate::sync::{ResourceSpec, SyncOptions};
use crate::Ctx;

/// Every kind of job BackOffice runs. The string form is what the store, the scheduler and the UI
/// keep (`sync_omie`...); the UI gets this enum through the generated bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub enum JobKind {
    TestConnection,
    SyncContifico,
    SyncOmie,
    OmieAttachmentScan,
    OmiePoCloseScan,
    /// Runs (or compensates) ERPNext inter-company transfers of one site A.
    ErpnextWorkflow,
    SyncErpnext,
    /// A divergence processing session (every ERP's synced data).
    Divergences,
    /// Applies approved divergence corrections, or rolls applied ones back.
    DivergencesApply,
}

impl JobKind {
    pub const ALL: [JobKind; 9] = [
        JobKind::TestConnection,
        JobKind::SyncContifico,
        JobKind::SyncOmie,
        JobKind::OmieAttachmentScan,
        JobKind::OmiePoCloseScan,
        JobKind::ErpnextWorkflow,
        JobKind::SyncErpnext,
        JobKind::Divergences,
        JobKind::DivergencesApply,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::TestConnection => "test_connection",
            JobKind::SyncContifico => "sync_contifico",
            JobKind::SyncOmie => "sync_omie",
            JobKind::OmieAttachmentScan => "omie_attachment_scan",
            JobKind::OmiePoCloseScan => "omie_po_close_scan",
            JobKind::ErpnextWorkflow => "erpnext_workflow",
            JobKind::SyncErpnext => "sync_erpnext",
            JobKind::Divergences => "divergences",
            JobKind::DivergencesApply => "divergences_apply",
        }
    }

    pub fn parse(s: &str) -> CoreResult<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let known: Vec<&str> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
            CoreError::invalid(
                "kind",
                format!("\"{s}\" is not a job BackOffice knows. Use one of: {}", known.join(", ")),
            )
        })
    }

    /// Whether the job works on one connection (all but the transfer worker, which finds its own).
    pub fn needs_connection(self) -> bool {
        !matches!(self, JobKind::ErpnextWorkflow | JobKind::Divergences | JobKind::DivergencesApply)
    }
}

/// The ERP's name as users know it.
pub fn label(kind: ConnectionKind) -> &'static str {
    match kind {
        ConnectionKind::Omie => "Omie",
        ConnectionKind::Contifico => "Contífico",
        ConnectionKind::Erpnext => "ERPNext",
    }
}

/// The base URL of the real service, offered as the default in forms.
pub fn default_base_url(kind: ConnectionKind) -> &'static str {
    match kind {
        ConnectionKind::Omie => "https://app.omie.com.br/api/v1/",
        ConnectionKind::Contifico => "https://api.contifico.com/sistema/api/v1/",
        ConnectionKind::Erpnext => "",
    }
}

/// The ERP's documented time zone; empty when each installation keeps its own (an ERPNext site says
/// its own when reached; until then the desktop's zone is assumed, never silently UTC).
pub fn default_timezone(kind: ConnectionKind) -> &'static str {
    match kind {
        ConnectionKind::Omie => "America/Sao_Paulo",
        ConnectionKind::Contifico => "America/Guayaquil",
        ConnectionKind::Erpnext => "",
    }
}

/// What the two secret parts are called, for messages: (key, secret).
pub fn secret_labels(kind: ConnectionKind) -> (&'static str, &'static str) {
    match kind {
        ConnectionKind::Omie => ("The app key", "The app secret"),
        ConnectionKind::Contifico => ("The API key", "The POS token"),
        ConnectionKind::Erpnext => ("The API key", "The API secret"),
    }
}

/// Whether the second secret may stay empty (Contífico's POS token).
pub fn secret_optional(kind: ConnectionKind) -> bool {
    kind == ConnectionKind::Contifico
}

/// The resources the sync engine reads for an ERP.
pub fn resources(kind: ConnectionKind) -> &'static [ResourceSpec] {
    match kind {
        ConnectionKind::Omie => omie::sync::RESOURCES,
        ConnectionKind::Contifico => contifico::resources::RESOURCES,
        ConnectionKind::Erpnext => erpnext::sync::RESOURCES,
    }
}

/// Every ERP's resource tables, brought to their declared shape when the app opens its database
/// (versioned in `resource_tables`; see `sync/schema.rs`).
pub fn migrate_resource_tables(store: &crate::store::Store) -> CoreResult<()> {
    for specs in [omie::sync::RESOURCES, contifico::resources::RESOURCES, erpnext::sync::RESOURCES] {
        crate::sync::schema::migrate_resource_tables(store, specs)?;
    }
    Ok(())
}

/// The job that syncs a connection of this ERP.
pub fn sync_job(kind: ConnectionKind) -> JobKind {
    match kind {
        ConnectionKind::Omie => JobKind::SyncOmie,
        ConnectionKind::Contifico => JobKind::SyncContifico,
        ConnectionKind::Erpnext => JobKind::SyncErpnext,
    }
}

/// The schedules offered by default for a connection of this ERP: (job, cron in the connection's
/// zone, enabled). Contífico: sync hourly. Omie: sync every 30 min, attachment scan and order-closing
/// scan every 30 min, staggered by 10 minutes to spread the API calls. ERPNext: none (transfers are
/// started by people; its sync is offered in the Schedules form).
pub fn default_schedules(kind: ConnectionKind) -> &'static [(JobKind, &'static str, bool)] {
    match kind {
        ConnectionKind::Contifico => &[(JobKind::SyncContifico, "0 * * * *", true)],
        ConnectionKind::Omie => &[
            (JobKind::SyncOmie, "*/30 * * * *", true),
            (JobKind::OmieAttachmentScan, "10,40 * * * *", true),
            (JobKind::OmiePoCloseScan, "20,50 * * * *", true),
        ],
        ConnectionKind::Erpnext => &[],
    }
}

/// What a new demo company of this ERP syncs before the first divergence check (`None`: nothing
/// more; the demo Omie company is synced whole, with its contract book). Contífico: the documents
/// and journal entries its rules read. ERPNext: its demo sites hold no documents until a transfer.
pub fn demo_first_sync(kind: ConnectionKind) -> Option<&'static [&'static str]> {
    match kind {
        ConnectionKind::Contifico => Some(&["documentos_venta", "documentos_compra", "asientos"]),
        ConnectionKind::Omie | ConnectionKind::Erpnext => None,
    }
}

/// Which ERP a job kind belongs to (`None`: every ERP's, like the connection test).
pub fn erp_of(kind: JobKind) -> Option<ConnectionKind> {
    match kind {
        JobKind::TestConnection | JobKind::Divergences | JobKind::DivergencesApply => None,
        JobKind::SyncContifico => Some(ConnectionKind::Contifico),
        JobKind::SyncOmie | JobKind::OmieAttachmentScan | JobKind::OmiePoCloseScan => Some(ConnectionKind::Omie),
        JobKind::ErpnextWorkflow | JobKind::SyncErpnext => Some(ConnectionKind::Erpnext),
    }
}

/// Starts the sync job of a connection (options already checked).
pub(crate) fn start_sync(core: &Arc<Ctx>, conn: Connection, opts: SyncOptions) -> CoreResult<Job> {
    // Refused at once (naming the desks that keep the key) rather than failing inside the job.
    core.connections().require_key(&conn)?;
    match conn.kind {
        ConnectionKind::Omie => omie::sync::start_sync(core, conn, opts),
        ConnectionKind::Contifico => contifico::resources::start_sync(core, conn, opts),
        ConnectionKind::Erpnext => erpnext::sync::start_sync(core, conn, opts),
    }
}

/// Starts a job of an ERP's own (not the sync, not the connection test) by kind.
pub(crate) fn start_erp_job(
    core: &Arc<Ctx>,
    kind: JobKind,
    conn: Option<&str>,
    params: serde_json::Value,
) -> CoreResult<Job> {
    let need = || {
        conn.ok_or_else(|| CoreError::invalid("connection", format!("a \"{}\" job needs a connection", kind.as_str())))
    };
    match kind {
        JobKind::OmieAttachmentScan | JobKind::OmiePoCloseScan => {
            omie::sync::start_omie_job(core, kind.as_str(), need()?, params)
        }
        JobKind::ErpnextWorkflow => erpnext::api::start_erpnext_workflow_job(core, params),
        other => Err(CoreError::invalid("kind", format!("\"{}\" is started another way", other.as_str()))),
    }
}

/// The current value of one field of a synced record, read from the ERP itself (before a
/// correction is written, and to check what a lost answer did).
pub async fn read_field(cx: &Ctx, conn: &Connection, resource: &str, id: &str, field: &str) -> CoreResult<String> {
    match conn.kind {
        ConnectionKind::Omie => omie::titles::read_field(cx, conn, resource, id, field).await,
        other => Err(not_writable(other)),
    }
}

/// Writes one field of a record in the ERP (a divergence's correction or its rollback).
pub async fn write_field(
    cx: &Ctx,
    conn: &Connection,
    resource: &str,
    id: &str,
    field: &str,
    value: &str,
) -> CoreResult<()> {
    match conn.kind {
        ConnectionKind::Omie => omie::titles::write_field(cx, conn, resource, id, field, value).await,
        other => Err(not_writable(other)),
    }
}

fn not_writable(kind: ConnectionKind) -> CoreError {
    CoreError::invalid("connection", format!("BackOffice does not write corrections to {} yet", label(kind)))
}

/// One cheap real call that proves the URL and the credentials work; returns a short description.
pub async fn test_connection(http: &Http, conn: &Connection, creds: &Credentials) -> CoreResult<String> {
    match conn.kind {
        ConnectionKind::Omie => omie::client::OmieClient::new(http.clone(), conn, creds).test().await,
        ConnectionKind::Contifico => contifico::client::ContificoClient::new(http.clone(), conn, creds).test().await,
        ConnectionKind::Erpnext => erpnext::client::ErpnextClient::new(http.clone(), conn, creds).test().await,
    }
}

/// Starts a "test connection" job: one cheap real call, result kept on the connection.
pub fn start_test_connection(cx: &Arc<Ctx>, id: &str) -> CoreResult<Job> {
    let conn = cx.connections().get(id)?;
    cx.connections().require_key(&conn)?;
    let core = cx.clone();
    let target = conn.clone();
    let (job, _h) = cx.jobs.spawn(
        JobKind::TestConnection.as_str(),
        Some(&target),
        serde_json::json!({}),
        move |ctx| async move {
            ctx.log_t(
                "info",
                "connection.testing",
                &[("connection", conn.name.clone()), ("url", conn.base_url.clone())],
                &format!("testing \"{}\" at {}", conn.name, conn.base_url),
            );
            ctx.progress(None, "calling the ERP");
            let result: CoreResult<String> = async {
                let creds = core.connections().credentials(&conn)?;
                let said = test_connection(&core.http, &conn, &creds).await?;
                if conn.kind != ConnectionKind::Erpnext {
                    return Ok(said);
                }
                // An ERPNext site also says which zone it keeps its dates in.
                let zone = erpnext::site_time::erpnext_zone_of(&core, &conn).await?;
                Ok(match zone.note {
                    None => format!("{said}; the site keeps its dates in {}", zone.tz.name()),
                    Some(note) => {
                        ctx.log_t(
                            "warn",
                            "transfer.site_zone_unknown",
                            &[("site_name", conn.name.clone()), ("zone", zone.tz.name().to_string())],
                            &note,
                        );
                        format!("{said}; {note}")
                    }
                })
            }
            .await;
            match result {
                Ok(msg) => {
                    core.connections().record_test(&conn.id, true, &msg)?;
                    ctx.log("info", &msg);
                    Ok(())
                }
                Err(e) => {
                    core.connections().record_test(&conn.id, false, &e.to_string())?;
                    Err(e)
                }
            }
        },
    )?;
    Ok(job)
}
