//! Demo mode, the core's half: creating or repointing the demo connections at simulators the shell
//! started (the simulators are never a dependency of the core; the desktop shell owns them). The
//! demo credentials still go through the keychain, like real ones.

use crate::erp::erpnext;
use crate::error::CoreResult;
use crate::model::{Connection, ConnectionInput, ConnectionKind, Credentials};
use crate::Ctx;

/// One demo connection: a name, an ERP, where its simulator listens and its made-up credentials.
#[derive(Debug, Clone)]
pub struct DemoConnection {
    pub name: String,
    pub kind: ConnectionKind,
    pub base_url: String,
    pub credentials: Credentials,
}

/// Creates or repoints the demo connections (marked `is_demo`); prepares the ERPNext sites (the
/// idempotency field, their time zones). A connection of the same name that is not a demo one is
/// left alone.
pub async fn setup_demo_connections(cx: &Ctx, wanted: Vec<DemoConnection>) -> CoreResult<Vec<Connection>> {
    // The demo's simulators run on this computer: their connections would mean nothing to the other
    // desks of a team.
    if cx.store.backend() == crate::store::Backend::Postgres {
        return Err(crate::error::CoreError::invalid(
            "demo",
            "The demo runs on this desk's own file, not on the team database: choose \"Work on this desk's file \
             again\" in Settings → Team database first.",
        ));
    }
    let mut out = Vec::new();
    for d in wanted {
        let input = ConnectionInput {
            name: d.name.clone(),
            kind: d.kind,
            base_url: d.base_url,
            timezone: crate::erp::default_timezone(d.kind).to_string(),
            credentials: Some(d.credentials),
        };
        let conn = match cx.connections().find_by_name(&d.name) {
            Ok(existing) if existing.is_demo => cx.connections().update(&existing.id, &input)?,
            Ok(existing) => existing,
            Err(_) => cx.connections().create(&input, true)?,
        };
        out.push(conn);
    }
    // The demo ERPNext sites get the idempotency field the transfer workflow needs, so the
    // ERPNext page works at once (a real site is offered the same, with an explanation).
    for c in out.iter().filter(|c| c.kind == ConnectionKind::Erpnext) {
        if let Err(e) = erpnext::api::erpnext_ensure_field(cx, &c.id).await {
            tracing::warn!(connection = %c.name, error = %e, "could not prepare the demo ERPNext site");
        }
        if let Err(e) = erpnext::site_time::erpnext_zone_of(cx, c).await {
            tracing::warn!(connection = %c.name, error = %e, "could not ask the demo ERPNext site its time zone");
        }
    }
    // Re-read: the ERPNext sites have said their time zones meanwhile.
    Ok(out.into_iter().map(|c| cx.connections().get(&c.id).unwrap_or(c)).collect())
}

/// Whether demo connections exist (the shell then restarts their simulators at start-up).
pub fn has_demo_connections(cx: &Ctx) -> CoreResult<bool> {
    // Never on a team database (a desk's copied demo connections there stay as they are).
    if cx.store.backend() == crate::store::Backend::Postgres {
        return Ok(false);
    }
    Ok(cx.connections().list()?.iter().any(|c| c.is_demo))
}

/// Fills a new demo: the demo Omie company is synced, its contract book (`contracts`, a file the
/// shell writes from the simulator) imported, the demo Contífico company's documents and journal
/// entries synced, and the divergence rules run over them, so the
/// Divergences inbox and the Contracts screen open populated (the simulator plants a divergence of every kind). Waits for
/// both jobs; a failure is logged in the job, not fatal to demo mode.
pub async fn populate(cx: &std::sync::Arc<Ctx>, contracts: Option<&std::path::Path>) -> CoreResult<()> {
    let Some(omie) = cx.connections().list()?.into_iter().find(|c| c.is_demo && c.kind == ConnectionKind::Omie) else {
        return Ok(());
    };
    let sync = crate::ops::data::sync_start(cx, &omie.id, crate::sync::SyncOptions::default())?;
    wait(cx, &sync.id).await?;
    // The demo company's contracts, imported like a user's spreadsheet (once).
    if let Some(file) = contracts {
        if crate::ops::contracts::list(cx, Some(&omie.id))?.is_empty() {
            if let Err(e) = crate::ops::contracts::import_apply(cx, file, Some(&omie.id), true) {
                tracing::warn!("the demo contracts were not imported: {e}");
            }
        }
    }
    // The other demo companies' data the rules read (the registry says which).
    for c in cx.connections().list()?.into_iter().filter(|c| c.is_demo && c.id != omie.id) {
        if let Some(names) = crate::erp::demo_first_sync(c.kind) {
            let resources = names.iter().map(|s| s.to_string()).collect();
            let sync =
                crate::ops::data::sync_start(cx, &c.id, crate::sync::SyncOptions { resources, ..Default::default() })?;
            wait(cx, &sync.id).await?;
        }
    }
    let session = crate::ops::divergences::start_session(cx, crate::ops::divergences::SessionParams::default())?;
    wait(cx, &session.id).await
}

async fn wait(cx: &Ctx, id: &str) -> CoreResult<()> {
    for _ in 0..1200 {
        if !cx.jobs.get(id)?.status.is_active() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}
