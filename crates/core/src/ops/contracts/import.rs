//! Contracts from a spreadsheet: CSV (comma, semicolon or tab; UTF-8 or the Windows-1252 a
//! Brazilian Excel writes) or the first sheet of an XLSX/ODS file (read with `calamine`). Header
//! names are recognised in Portuguese, Spanish and English. The preview says, row by row, what
//! would be created, updated, left as it is, or refused and why; applying writes every accepted row
//! in one transaction, so a file is never half-imported.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{pick_connection, source, store, validate, ContractInput, ContractProblem, Directory};
use crate::error::{CoreError, CoreResult};
use crate::ops::divergences::Actor;
use crate::Ctx;

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ImportRow {
    /// The line (CSV) or row (sheet) number, as the user's program shows it.
    pub line: u32,
    /// `create`, `update`, `unchanged` or `refuse`.
    pub action: String,
    pub client: String,
    pub client_name: String,
    pub description: String,
    pub mrr: String,
    pub start_date: String,
    pub contract_id: Option<String>,
    /// For an update: the fields that change.
    pub changes: Vec<String>,
    /// For a refused row: every reason.
    pub problems: Vec<ContractProblem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ImportPreview {
    pub file: String,
    pub connection_id: String,
    pub connection_name: String,
    /// The columns recognised (as the contract fields they fill) and the ones ignored.
    pub columns: Vec<String>,
    pub ignored_columns: Vec<String>,
    pub rows: Vec<ImportRow>,
    pub create: u32,
    pub update: u32,
    pub unchanged: u32,
    pub refused: u32,
    /// Written to the store (false for a preview).
    pub applied: bool,
}

/// Lower case, without accents, spaces and punctuation as `_`.
pub(super) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.trim().to_lowercase().chars() {
        let c = match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            c if c.is_alphanumeric() => c,
            _ => '_',
        };
        out.push(c);
    }
    out.trim_matches('_').to_string()
}

/// Header names per field (folded).
const HEADERS: &[(&str, &[&str])] = &[
    (
        "client",
        &[
            "client",
            "cliente",
            "cnpj",
            "cpf",
            "cnpj_cpf",
            "cpf_cnpj",
            "documento",
            "document",
            "ruc",
            "cedula",
            "client_document",
            "codigo_cliente",
            "client_code",
        ],
    ),
    (
        "description",
        &["description", "descricao", "descripcion", "contrato", "contract", "servico", "servicio", "service"],
    ),
    (
        "mrr",
        &[
            "mrr",
            "valor_mensal",
            "valor",
            "monto",
            "monto_mensual",
            "monthly",
            "monthly_value",
            "amount",
            "mensalidade",
        ],
    ),
    ("currency", &["currency", "moeda", "moneda"]),
    (
        "start_date",
        &[
            "start",
            "start_date",
            "inicio",
            "data_inicio",
            "data_de_inicio",
            "fecha_inicio",
            "fecha_de_inicio",
            "vigencia_inicio",
        ],
    ),
    (
        "end_date",
        &["end", "end_date", "fim", "data_fim", "data_de_fim", "termino", "fecha_fin", "fecha_de_fin", "vigencia_fim"],
    ),
    (
        "billing_day",
        &[
            "billing_day",
            "dia_faturamento",
            "dia_de_faturamento",
            "dia_facturacion",
            "dia_de_facturacion",
            "dia_cobro",
            "dia_vencimento",
        ],
    ),
    ("status", &["status", "situacao", "estado", "situacion"]),
    ("readjust_index", &["readjust_index", "indice", "indice_reajuste", "indice_de_reajuste", "index"]),
    ("readjust_month", &["readjust_month", "mes_reajuste", "mes_de_reajuste", "mes_aniversario"]),
    (
        "readjust_percent",
        &[
            "readjust_percent",
            "reajuste",
            "percentual_reajuste",
            "reajuste_percentual",
            "porcentaje_reajuste",
            "reajuste_porcentaje",
        ],
    ),
    ("tolerance_amount", &["tolerance_amount", "tolerancia_valor", "tolerancia_monto"]),
    ("tolerance_percent", &["tolerance_percent", "tolerancia_percentual", "tolerancia_porcentaje", "tolerancia_pct"]),
    ("notes", &["notes", "observacao", "observacoes", "observaciones", "notas", "nota"]),
];

const REQUIRED: [&str; 4] = ["client", "description", "mrr", "start_date"];

/// A table read from a file: its header and its rows (1-based row numbers as shown to the user).
pub(super) struct Table {
    pub header: Vec<String>,
    pub rows: Vec<(u32, Vec<String>)>,
}

fn unreadable(path: &Path, e: impl std::fmt::Display) -> CoreError {
    CoreError::invalid(
        "file",
        format!("{} could not be read ({e}). Save it as CSV or XLSX and try again.", path.display()),
    )
}

pub(super) fn read_table(path: &Path) -> CoreResult<Table> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
    if matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "ods") {
        read_sheet(path)
    } else {
        read_csv(path)
    }
}

fn read_sheet(path: &Path) -> CoreResult<Table> {
    use calamine::{Data, DataType, Reader};
    let mut wb = calamine::open_workbook_auto(path).map_err(|e| unreadable(path, e))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| unreadable(path, "it has no sheet"))?
        .map_err(|e| unreadable(path, e))?;
    let (row0, _) = range.start().unwrap_or((0, 0));
    let cell = |d: &Data| -> String {
        match d {
            Data::Empty => String::new(),
            Data::String(s) => s.trim().to_string(),
            Data::Int(i) => i.to_string(),
            // The shortest text that reads back as the same number: 1234.56 stays 1234.56.
            Data::Float(f) => f.to_string(),
            Data::Bool(b) => b.to_string(),
            Data::DateTime(_) | Data::DateTimeIso(_) => {
                d.as_date().map(|x| x.to_string()).unwrap_or_else(|| d.to_string())
            }
            other => other.to_string(),
        }
    };
    let mut rows = range.rows().enumerate();
    let header = rows.next().map(|(_, r)| r.iter().map(cell).collect()).unwrap_or_default();
    let rows = rows
        .map(|(i, r)| (row0 + i as u32 + 1, r.iter().map(cell).collect::<Vec<_>>()))
        .filter(|(_, r)| r.iter().any(|c| !c.is_empty()))
        .collect();
    Ok(Table { header, rows })
}

fn read_csv(path: &Path) -> CoreResult<Table> {
    let bytes = std::fs::read(path).map_err(|e| unreadable(path, e))?;
    let text = match String::from_utf8(bytes) {
        Ok(s) => s,
        // Windows-1252 / Latin-1, as Excel in Portuguese or Spanish saves "CSV".
        Err(e) => e.into_bytes().iter().map(|b| *b as char).collect(),
    };
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or("");
    let delimiter =
        [b';', b'\t', b','].into_iter().max_by_key(|d| first.bytes().filter(|b| b == d).count()).unwrap_or(b',');
    let mut rd =
        csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).has_headers(false).from_reader(text.as_bytes());
    let mut header = vec![];
    let mut rows = vec![];
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| unreadable(path, e))?;
        let line = rec.position().map(|p| p.line() as u32).unwrap_or(i as u32 + 1);
        let cells: Vec<String> = rec.iter().map(|c| c.trim().to_string()).collect();
        if i == 0 {
            header = cells;
        } else if cells.iter().any(|c| !c.is_empty()) {
            rows.push((line, cells));
        }
    }
    Ok(Table { header, rows })
}

/// Which column fills which field; the columns not recognised.
fn map_columns(header: &[String]) -> CoreResult<(HashMap<&'static str, usize>, Vec<String>)> {
    let mut map = HashMap::new();
    let mut ignored = vec![];
    for (i, h) in header.iter().enumerate() {
        let f = fold(h);
        match HEADERS.iter().find(|(_, names)| names.contains(&f.as_str())) {
            Some((field, _)) if !map.contains_key(field) => {
                map.insert(*field, i);
            }
            _ => {
                if !h.trim().is_empty() {
                    ignored.push(h.clone());
                }
            }
        }
    }
    let missing: Vec<&str> = REQUIRED.iter().filter(|f| !map.contains_key(*f)).copied().collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing
            .iter()
            .map(|m| {
                let alts = HEADERS
                    .iter()
                    .find(|(f, _)| f == m)
                    .map(|(_, n)| n[..4.min(n.len())].join(", "))
                    .unwrap_or_default();
                format!("{m} (a column named e.g. {alts})")
            })
            .collect();
        return Err(CoreError::invalid(
            "file",
            format!("the file has no column for {}. The first row must name the columns.", names.join("; ")),
        ));
    }
    Ok((map, ignored))
}

fn input_of(map: &HashMap<&'static str, usize>, row: &[String], connection: &str) -> ContractInput {
    let get = |f: &str| map.get(f).and_then(|i| row.get(*i)).map(|s| s.trim().to_string()).unwrap_or_default();
    let opt = |f: &str| Some(get(f)).filter(|s| !s.is_empty());
    ContractInput {
        id: None,
        connection_id: Some(connection.to_string()),
        client: get("client"),
        description: get("description"),
        mrr: get("mrr"),
        currency: opt("currency"),
        start_date: get("start_date"),
        end_date: opt("end_date"),
        billing_day: opt("billing_day"),
        status: opt("status"),
        readjust_index: opt("readjust_index"),
        readjust_month: opt("readjust_month"),
        readjust_percent: opt("readjust_percent"),
        tolerance_amount: opt("tolerance_amount"),
        tolerance_percent: opt("tolerance_percent"),
        notes: get("notes"),
        reason: String::new(),
    }
}

/// Reads and checks a file; returns the preview and the drafts it would write.
fn plan(cx: &Ctx, path: &Path, connection: Option<&str>) -> CoreResult<(ImportPreview, Vec<super::Draft>)> {
    let conn = pick_connection(cx, connection)?;
    let table = read_table(path)?;
    let (map, ignored) = map_columns(&table.header)?;
    if table.rows.is_empty() {
        return Err(CoreError::invalid("file", format!("{} has a header but no contracts below it", path.display())));
    }
    let dir = Directory::load(cx, source(&conn), &conn.id)?;
    let stored = store::list(&cx.store, Some(&conn.id))?;
    let mut seen: HashMap<(String, String, String), u32> = HashMap::new();
    let mut out = ImportPreview {
        file: path.display().to_string(),
        connection_id: conn.id.clone(),
        connection_name: conn.name.clone(),
        columns: {
            let mut c: Vec<(usize, String)> = map.iter().map(|(f, i)| (*i, f.to_string())).collect();
            c.sort();
            c.into_iter().map(|(_, f)| f).collect()
        },
        ignored_columns: ignored,
        rows: vec![],
        create: 0,
        update: 0,
        unchanged: 0,
        refused: 0,
        applied: false,
    };
    let mut drafts = vec![];
    for (line, cells) in &table.rows {
        let input = input_of(&map, cells, &conn.id);
        let mut row = ImportRow {
            line: *line,
            action: String::new(),
            client: input.client.clone(),
            client_name: String::new(),
            description: input.description.clone(),
            mrr: input.mrr.clone(),
            start_date: input.start_date.clone(),
            contract_id: None,
            changes: vec![],
            problems: vec![],
        };
        match validate(&input, &conn, &dir) {
            Err(p) => {
                row.action = "refuse".into();
                row.problems = p;
            }
            Ok(mut d) => {
                row.client_name = d.client_name.clone();
                let key = (d.client_code.clone(), d.description.clone(), d.start_date.clone());
                if let Some(first) = seen.get(&key) {
                    row.action = "refuse".into();
                    let first = first.to_string();
                    row.problems.push(super::problem(
                        "description",
                        "duplicate_in_file",
                        &[("line", &first)],
                        format!("the same client, description and start date are already on line {first}"),
                    ));
                } else {
                    seen.insert(key, *line);
                    let same = stored.iter().find(|c| {
                        c.client_code == d.client_code && c.description == d.description && c.start_date == d.start_date
                    });
                    match same {
                        None => row.action = "create".into(),
                        Some(c) => {
                            row.contract_id = Some(c.id.clone());
                            row.changes = d.changes(c);
                            row.action = if row.changes.is_empty() { "unchanged" } else { "update" }.into();
                            d.id = Some(c.id.clone());
                        }
                    }
                    if row.action != "unchanged" {
                        drafts.push(d);
                    }
                }
            }
        }
        match row.action.as_str() {
            "create" => out.create += 1,
            "update" => out.update += 1,
            "unchanged" => out.unchanged += 1,
            _ => out.refused += 1,
        }
        out.rows.push(row);
    }
    Ok((out, drafts))
}

pub(super) fn preview(cx: &Ctx, path: &Path, connection: Option<&str>) -> CoreResult<ImportPreview> {
    Ok(plan(cx, path, connection)?.0)
}

pub(super) fn apply(cx: &Ctx, path: &Path, connection: Option<&str>, skip_refused: bool) -> CoreResult<ImportPreview> {
    let (mut out, drafts) = plan(cx, path, connection)?;
    if out.refused > 0 && !skip_refused {
        let lines: Vec<String> = out.rows.iter().filter(|r| r.action == "refuse").map(|r| r.line.to_string()).collect();
        return Err(CoreError::invalid(
            "file",
            format!(
                "{} row(s) cannot be imported (line {}); nothing was imported. Fix them, or import the other rows only.",
                out.refused,
                lines.join(", ")
            ),
        ));
    }
    let actor = Actor::current();
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let ids = store::save_all(&cx.store, &drafts, &actor.who, &actor.machine, &format!("imported from {name}"))?;
    // New rows learn their ids.
    let mut it = ids.into_iter();
    for r in out.rows.iter_mut().filter(|r| matches!(r.action.as_str(), "create" | "update")) {
        r.contract_id = it.next();
    }
    out.applied = true;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_recognised_in_three_languages_and_missing_ones_named() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (m, ignored) =
            map_columns(&h(&["CNPJ", "Descrição", "Valor Mensal", "Início", "Fim", "Observações", "Vendedor"]))
                .unwrap();
        assert_eq!(
            (m["client"], m["description"], m["mrr"], m["start_date"], m["end_date"], m["notes"]),
            (0, 1, 2, 3, 4, 5)
        );
        assert_eq!(ignored, ["Vendedor"]);
        let (m, _) = map_columns(&h(&["RUC", "Descripción", "Monto mensual", "Fecha de inicio", "Estado"])).unwrap();
        assert_eq!(m["status"], 4);
        let e = map_columns(&h(&["client", "description"])).unwrap_err().to_string();
        assert!(e.contains("mrr") && e.contains("start_date"), "{e}");
    }

    #[test]
    fn amounts_and_dates_are_read_as_people_write_them() {
        use rust_decimal::Decimal;
        use std::str::FromStr;
        let d = |s: &str| Some(Decimal::from_str(s).unwrap());
        assert_eq!(super::super::parse_amount("1.234,56"), d("1234.56"));
        assert_eq!(super::super::parse_amount("R$ 1.234,56"), d("1234.56"));
        assert_eq!(super::super::parse_amount("1234.56"), d("1234.56"));
        assert_eq!(super::super::parse_amount("$1,234.56"), d("1234.56"));
        assert_eq!(super::super::parse_amount("1234,5"), d("1234.5"));
        assert_eq!(super::super::parse_amount("-10"), d("-10"));
        assert_eq!(super::super::parse_amount("abc"), None);
        assert_eq!(super::super::parse_amount("1,2,3"), None);
        assert_eq!(super::super::parse_date("31/01/2026").unwrap().to_string(), "2026-01-31");
        assert_eq!(super::super::parse_date("2026-01-31").unwrap().to_string(), "2026-01-31");
        assert!(super::super::parse_date("31/02/2026").is_none());
        assert_eq!(fold("  Situação "), "situacao");
    }
}
