//! Reports a finance team hands on: divergences, operations and sessions as CSV (the `csv`
//! crate: quoting, UTF-8) with the money as plain decimals and dates as ISO text, so a spreadsheet
//! in any language reads them as numbers and dates.

use std::path::Path;

use super::{list, operations, sessions, DivergenceFilter};
use crate::error::{CoreError, CoreResult};
use crate::Ctx;

/// Where a report goes when the user did not choose: the Downloads folder (Documents, or home,
/// when there is none), named after what it holds and when.
pub fn default_path(what: &str) -> std::path::PathBuf {
    let dir =
        dirs::download_dir().or_else(dirs::document_dir).or_else(dirs::home_dir).unwrap_or_else(std::env::temp_dir);
    dir.join(format!("backoffice-{what}-{}.csv", chrono::Local::now().format("%Y%m%d-%H%M%S")))
}

fn io(path: &Path, e: impl std::fmt::Display) -> CoreError {
    CoreError::invalid("out", format!("could not write {}: {e}. Choose a folder you can write to.", path.display()))
}

/// Writes the divergences matching `filter` to `path`; returns how many rows.
pub fn divergences_csv(cx: &Ctx, filter: &DivergenceFilter, path: &Path) -> CoreResult<usize> {
    let page = list(cx, &DivergenceFilter { limit: Some(100_000), offset: Some(0), ..filter.clone() })?;
    let mut w = csv::Writer::from_path(path).map_err(|e| io(path, e))?;
    w.write_record([
        "id",
        "rule",
        "status",
        "confidence",
        "basis",
        "connection",
        "erp",
        "resource",
        "record_id",
        "record",
        "amount",
        "currency",
        "correction_field",
        "before",
        "after",
        "assignee",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
    ])
    .map_err(|e| io(path, e))?;
    for d in &page.items {
        let (f, b, a) = match &d.correction {
            Some(c) => (c.field.as_str(), c.before.as_str(), c.after.as_str()),
            None => ("", "", ""),
        };
        w.write_record([
            d.id.as_str(),
            &d.rule_name,
            &d.status,
            &d.confidence.to_string(),
            &d.basis,
            d.connection_name.as_deref().unwrap_or(""),
            &d.erp,
            &d.resource,
            &d.record_id,
            &d.record_label,
            d.amount.as_deref().unwrap_or(""),
            d.currency.as_deref().unwrap_or(""),
            f,
            b,
            a,
            d.assignee.as_deref().unwrap_or(""),
            &d.first_seen_at,
            &d.last_seen_at,
            d.resolved_at.as_deref().unwrap_or(""),
        ])
        .map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))?;
    Ok(page.items.len())
}

/// Writes the ERP operations (apply, rollback) to `path`.
pub fn operations_csv(cx: &Ctx, path: &Path) -> CoreResult<usize> {
    let ops = operations(cx, 1_000_000)?;
    let mut w = csv::Writer::from_path(path).map_err(|e| io(path, e))?;
    w.write_record([
        "id",
        "divergence_id",
        "kind",
        "erp",
        "resource",
        "record_id",
        "field",
        "before",
        "after",
        "status",
        "error",
        "who",
        "machine",
        "job_id",
        "created_at",
        "finished_at",
    ])
    .map_err(|e| io(path, e))?;
    for o in &ops {
        w.write_record([
            o.id.as_str(),
            &o.divergence_id,
            &o.kind,
            &o.erp,
            &o.resource,
            &o.record_id,
            &o.field,
            o.before.as_deref().unwrap_or(""),
            o.after.as_deref().unwrap_or(""),
            &o.status,
            o.error.as_ref().map(|e| e.message.as_str()).unwrap_or(""),
            &o.who,
            &o.machine,
            o.job_id.as_deref().unwrap_or(""),
            &o.created_at,
            o.finished_at.as_deref().unwrap_or(""),
        ])
        .map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))?;
    Ok(ops.len())
}

/// Writes the processing sessions to `path`, one row per session and rule.
pub fn sessions_csv(cx: &Ctx, path: &Path) -> CoreResult<usize> {
    let all = sessions(cx, 100_000)?;
    let mut w = csv::Writer::from_path(path).map_err(|e| io(path, e))?;
    w.write_record([
        "session",
        "mode",
        "status",
        "started_at",
        "finished_at",
        "who",
        "machine",
        "rule",
        "new",
        "still_open",
        "resolved",
        "reopened",
    ])
    .map_err(|e| io(path, e))?;
    let mut n = 0;
    for s in &all {
        for (rule, c) in &s.counts {
            let g = |k: &str| c.get(k).copied().unwrap_or(0).to_string();
            w.write_record([
                s.id.as_str(),
                &s.mode,
                &s.status,
                &s.started_at,
                s.finished_at.as_deref().unwrap_or(""),
                &s.who,
                &s.machine,
                rule,
                &g("new"),
                &g("still_open"),
                &g("resolved"),
                &g("reopened"),
            ])
            .map_err(|e| io(path, e))?;
            n += 1;
        }
    }
    w.flush().map_err(|e| io(path, e))?;
    Ok(n)
}
