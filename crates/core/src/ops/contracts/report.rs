//! The reconciliation of a month as CSV (plain decimals, ISO months: any spreadsheet reads them as
//! numbers) or XLSX (money as numbers in the company's currency format, a frozen header, filters).

use std::path::Path;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::ClientMonth;
use crate::error::{CoreError, CoreResult};

fn io(path: &Path, e: impl std::fmt::Display) -> CoreError {
    CoreError::invalid("out", format!("could not write {}: {e}. Choose a folder you can write to.", path.display()))
}

const HEADERS: [&str; 12] = [
    "Month",
    "Client",
    "Document",
    "Client code",
    "Contracted",
    "Billed",
    "Difference",
    "Tolerance",
    "Verdict",
    "Currency",
    "Contracts",
    "Probable explanations",
];

fn contracts_text(r: &ClientMonth) -> String {
    r.contracts.iter().map(|c| format!("{} ({})", c.description, c.amount)).collect::<Vec<_>>().join("; ")
}

fn explanations_text(r: &ClientMonth) -> String {
    r.explanations.iter().map(|e| e.key.clone()).collect::<Vec<_>>().join("; ")
}

/// The rows (one month's or a whole period's) as CSV.
pub fn csv(rows: &[ClientMonth], path: &Path) -> CoreResult<usize> {
    let mut w = csv::Writer::from_path(path).map_err(|e| io(path, e))?;
    w.write_record(HEADERS.map(|h| h.to_lowercase().replace(' ', "_"))).map_err(|e| io(path, e))?;
    for r in rows {
        w.write_record([
            r.month.as_str(),
            &r.client_name,
            &r.client_document,
            &r.client,
            &r.contracted,
            &r.billed,
            &r.difference,
            &r.tolerance,
            &r.verdict,
            &r.currency,
            &contracts_text(r),
            &explanations_text(r),
        ])
        .map_err(|e| io(path, e))?;
    }
    w.flush().map_err(|e| io(path, e))?;
    Ok(rows.len())
}

/// The rows as one sheet named `sheet`, money in `currency`'s format.
pub fn xlsx(rows: &[ClientMonth], sheet: &str, currency: &str, path: &Path) -> CoreResult<usize> {
    use rust_xlsxwriter::{Format, Workbook};
    let e = |x: rust_xlsxwriter::XlsxError| io(path, x);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(e)?;
    let bold = Format::new().set_bold();
    let symbol = if currency == "USD" { "US$" } else { "R$" };
    let money = Format::new().set_num_format(format!("\"{symbol}\" #,##0.00;[Red]-\"{symbol}\" #,##0.00"));
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(e)?;
    }
    // Excel keeps numbers as doubles: the exact decimal is converted only here, at the edge.
    let num = |s: &str| s.parse::<Decimal>().ok().and_then(|d| d.to_f64()).unwrap_or(0.0);
    for (i, r) in rows.iter().enumerate() {
        let row = (i + 1) as u32;
        ws.write_string(row, 0, &r.month).map_err(e)?;
        ws.write_string(row, 1, &r.client_name).map_err(e)?;
        ws.write_string(row, 2, &r.client_document).map_err(e)?;
        ws.write_string(row, 3, &r.client).map_err(e)?;
        for (col, v) in [(4u16, &r.contracted), (5, &r.billed), (6, &r.difference), (7, &r.tolerance)] {
            ws.write_number_with_format(row, col, num(v), &money).map_err(e)?;
        }
        ws.write_string(row, 8, &r.verdict).map_err(e)?;
        ws.write_string(row, 9, &r.currency).map_err(e)?;
        ws.write_string(row, 10, contracts_text(r)).map_err(e)?;
        ws.write_string(row, 11, explanations_text(r)).map_err(e)?;
    }
    ws.set_freeze_panes(1, 0).map_err(e)?;
    ws.autofilter(0, 0, rows.len() as u32, (HEADERS.len() - 1) as u16).map_err(e)?;
    ws.autofit();
    wb.save(path).map_err(e)?;
    Ok(rows.len())
}
