//! Reports a finance team hands on: divergences, operations and sessions as CSV (the `csv`
//! crate: quoting, UTF-8) with the money as plain decimals and dates as ISO text, so a spreadsheet
//! in any language reads them as numbers and dates; and divergences as XLSX (`rust_xlsxwriter`):
//! money as numbers in the company's currency format, real dates, a frozen header and filters.

use std::path::Path;

use super::{list, operations, sessions, Divergence, DivergenceFilter};
use crate::error::{CoreError, CoreResult};
use crate::Ctx;

/// Where a report goes when the user did not choose: the Downloads folder (Documents, or home,
/// when there is none), named after what it holds and when.
pub fn default_path(what: &str, extension: &str) -> std::path::PathBuf {
    let dir =
        dirs::download_dir().or_else(dirs::document_dir).or_else(dirs::home_dir).unwrap_or_else(std::env::temp_dir);
    dir.join(format!("backoffice-{what}-{}.{extension}", chrono::Local::now().format("%Y%m%d-%H%M%S")))
}

fn io(path: &Path, e: impl std::fmt::Display) -> CoreError {
    CoreError::invalid("out", format!("could not write {}: {e}. Choose a folder you can write to.", path.display()))
}

/// Writes the divergences matching `filter` to `path`; returns how many rows.
pub fn divergences_csv(cx: &Ctx, filter: &DivergenceFilter, path: &Path) -> CoreResult<usize> {
    let page = list(cx, &DivergenceFilter { limit: Some(100_000), offset: Some(0), ..filter.clone() })?;
    let file = std::fs::File::create(path).map_err(|e| io(path, e))?;
    write_divergences_csv(&page.items, file).map_err(|e| io(path, e))?;
    Ok(page.items.len())
}

/// The CSV of `items` (one row each, amounts as exact decimals) into `out`: the file the window
/// saves and the attachment of the daily summary e-mail.
pub fn write_divergences_csv<W: std::io::Write>(items: &[Divergence], out: W) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
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
    ])?;
    for d in items {
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
        ])?;
    }
    w.flush()?;
    Ok(())
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

fn xlsx_err(path: &Path, e: rust_xlsxwriter::XlsxError) -> CoreError {
    io(path, e)
}

/// An RFC 3339 instant as an Excel date-time (UTC).
fn excel_time(t: &str) -> Option<rust_xlsxwriter::ExcelDateTime> {
    use chrono::{Datelike, Timelike};
    let d = chrono::DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&chrono::Utc);
    rust_xlsxwriter::ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
        .ok()?
        .and_hms(d.hour() as u16, d.minute() as u8, d.second() as f64)
        .ok()
}

/// The divergences matching `filter` as an Excel workbook; returns how many rows.
pub fn divergences_xlsx(cx: &Ctx, filter: &DivergenceFilter, path: &Path) -> CoreResult<usize> {
    use rust_xlsxwriter::{Format, Workbook};
    let page = list(cx, &DivergenceFilter { limit: Some(100_000), offset: Some(0), ..filter.clone() })?;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Divergences").map_err(|e| xlsx_err(path, e))?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let money = |currency: Option<&str>| {
        let symbol = match currency {
            Some("BRL") | None => "R$",
            Some("USD") => "US$",
            Some(other) => other,
        };
        Format::new().set_num_format(format!("\"{symbol}\" #,##0.00"))
    };
    let headers = [
        "Rule",
        "Status",
        "Confidence (%)",
        "Basis",
        "Connection",
        "ERP",
        "Resource",
        "Record id",
        "Record",
        "Amount",
        "Correction field",
        "Before",
        "After",
        "Assignee",
        "First seen (UTC)",
        "Last seen (UTC)",
        "Resolved (UTC)",
        "Id",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(|e| xlsx_err(path, e))?;
    }
    for (i, d) in page.items.iter().enumerate() {
        let r = (i + 1) as u32;
        let e = |x| xlsx_err(path, x);
        ws.write_string(r, 0, &d.rule_name).map_err(e)?;
        ws.write_string(r, 1, &d.status).map_err(e)?;
        ws.write_number(r, 2, d.confidence as f64).map_err(e)?;
        ws.write_string(r, 3, &d.basis).map_err(e)?;
        ws.write_string(r, 4, d.connection_name.as_deref().unwrap_or("")).map_err(e)?;
        ws.write_string(r, 5, &d.erp).map_err(e)?;
        ws.write_string(r, 6, &d.resource).map_err(e)?;
        ws.write_string(r, 7, &d.record_id).map_err(e)?;
        ws.write_string(r, 8, &d.record_label).map_err(e)?;
        // Excel keeps numbers as doubles: the exact decimal is converted only here, at the edge.
        if let Some(a) = d.amount.as_deref().and_then(|a| a.parse::<rust_decimal::Decimal>().ok()) {
            use rust_decimal::prelude::ToPrimitive;
            ws.write_number_with_format(r, 9, a.to_f64().unwrap_or(0.0), &money(d.currency.as_deref())).map_err(e)?;
        }
        if let Some(c) = &d.correction {
            ws.write_string(r, 10, &c.field).map_err(e)?;
            ws.write_string(r, 11, &c.before).map_err(e)?;
            ws.write_string(r, 12, &c.after).map_err(e)?;
        }
        ws.write_string(r, 13, d.assignee.as_deref().unwrap_or("")).map_err(e)?;
        for (col, t) in [
            (14u16, Some(d.first_seen_at.as_str())),
            (15, Some(d.last_seen_at.as_str())),
            (16, d.resolved_at.as_deref()),
        ] {
            if let Some(x) = t.and_then(excel_time) {
                ws.write_datetime_with_format(r, col, &x, &date).map_err(e)?;
            }
        }
        ws.write_string(r, 17, &d.id).map_err(e)?;
    }
    ws.set_freeze_panes(1, 0).map_err(|e| xlsx_err(path, e))?;
    ws.autofilter(0, 0, page.items.len() as u32, (headers.len() - 1) as u16).map_err(|e| xlsx_err(path, e))?;
    ws.autofit();
    wb.save(path).map_err(|e| xlsx_err(path, e))?;
    Ok(page.items.len())
}

/// Writes the local reclassifications (the categories BackOffice keeps for records of ERPs it does
/// not write to) to `path`: which record, which value, who set it and when.
pub fn reclassifications_csv(cx: &Ctx, path: &Path) -> CoreResult<usize> {
    let rows = super::store::reclassifications(&cx.store)?;
    let mut w = csv::Writer::from_path(path).map_err(|e| io(path, e))?;
    w.write_record([
        "connection",
        "resource",
        "record_id",
        "record",
        "field",
        "value",
        "updated_at",
        "updated_by",
        "machine",
    ])
    .map_err(|e| io(path, e))?;
    for r in &rows {
        w.write_record([
            &r.connection,
            &r.resource,
            &r.record_id,
            &r.record_label,
            &r.field,
            &r.value,
            &r.updated_at,
            &r.updated_by,
            &r.machine,
        ])
        .map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))?;
    Ok(rows.len())
}
