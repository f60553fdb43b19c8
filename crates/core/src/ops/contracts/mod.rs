//! Contracts and billing: was every client billed what its contracts say?
//!
//! A contract (client, MRR, dates, billing day, status, yearly readjustment, an optional tolerance
//! of its own) is kept here, typed in the window or imported from CSV/XLSX through a preview
//! (`import.rs`). Per client and month the reconciliation (`reconcile.rs` does the arithmetic)
//! sets what the contracts ask for against what the synced ERP data billed (Omie receivables,
//! Contífico sales documents), names what probably explains a gap, and gives a verdict. Months out
//! of tolerance, clients billed without a contract and contracts without billing become
//! divergences of the rule family "billing vs contract" (the divergences engine calls
//! [`divergent_months`]), reviewed like any other.

mod import;
pub mod reconcile;
pub mod report;
mod store;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{CoreError, CoreResult};
use crate::model::{Connection, ConnectionKind};
use crate::ops::divergences::Actor;
use crate::Ctx;
pub use import::{ImportPreview, ImportRow};
use reconcile::{Bucket, Month, Share, Terms, Verdict};

/// A contract as stored.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Contract {
    pub id: String,
    pub connection_id: String,
    /// CNPJ/CPF (Omie) or RUC/cédula (Contífico), digits only; empty when matched by code.
    pub client_document: String,
    /// The client's key in the ERP: Omie's client code, Contífico's RUC or cédula.
    pub client_code: String,
    pub client_name: String,
    pub description: String,
    /// Monthly recurring revenue at the start, exact decimal.
    pub mrr: String,
    pub currency: String,
    /// yyyy-mm-dd.
    pub start_date: String,
    pub end_date: Option<String>,
    pub billing_day: Option<u8>,
    /// `active`, `suspended` or `ended`.
    pub status: String,
    /// The index the readjustment follows (IPCA, IGP-M, ...), for the record.
    pub readjust_index: Option<String>,
    /// Month (1–12) in which the yearly readjustment takes effect.
    pub readjust_month: Option<u8>,
    /// The readjustment, in percent (e.g. 4.5).
    pub readjust_percent: Option<String>,
    /// This contract's tolerance, instead of the global one.
    pub tolerance_amount: Option<String>,
    pub tolerance_percent: Option<String>,
    pub notes: String,
    pub version: u32,
    pub updated_at: String,
    pub updated_by: String,
}

/// A contract as the form (or an imported row) gives it. Text fields are read the way a person
/// writes them: `1.234,56` or `1234.56`, `31/01/2026` or `2026-01-31`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default, PartialEq)]
#[serde(default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ContractInput {
    /// Set to change a stored contract.
    pub id: Option<String>,
    /// The company (connection); may be left out when there is only one Omie or Contífico company.
    pub connection_id: Option<String>,
    /// CNPJ/CPF or RUC/cédula (check digits are checked), or the ERP's client code.
    pub client: String,
    pub description: String,
    pub mrr: String,
    pub currency: Option<String>,
    pub start_date: String,
    pub end_date: Option<String>,
    pub billing_day: Option<String>,
    pub status: Option<String>,
    pub readjust_index: Option<String>,
    pub readjust_month: Option<String>,
    pub readjust_percent: Option<String>,
    pub tolerance_amount: Option<String>,
    pub tolerance_percent: Option<String>,
    pub notes: String,
    /// Why (kept in the contract's history).
    pub reason: String,
}

/// Something wrong with a field, said in words and as a dictionary key
/// (`contracts.problem.<key>` in the window) with its values.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ContractProblem {
    pub field: String,
    pub key: String,
    pub params: BTreeMap<String, String>,
    pub message: String,
}

/// A contract the user asked to save that cannot be: every problem, each with its dictionary key, so
/// the window says them in the user's language. Crosses IPC as `invalid_input` (field and English
/// reason like any refusal) with the problems as JSON in the `problems` parameter.
#[derive(Debug)]
pub struct ContractRefused(pub Vec<ContractProblem>);

impl std::fmt::Display for ContractRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field = self.0.first().map(|p| p.field.as_str()).unwrap_or("contract");
        let reasons: Vec<&str> = self.0.iter().map(|p| p.message.as_str()).collect();
        write!(f, "{field}: {}", reasons.join("; "))
    }
}

impl std::error::Error for ContractRefused {}

impl crate::error::FeatureError for ContractRefused {
    fn code(&self) -> &'static str {
        "invalid_input"
    }
    fn params(&self) -> Vec<(String, String)> {
        let field = self.0.first().map(|p| p.field.clone()).unwrap_or_default();
        let reason = self.0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; ");
        let problems = serde_json::to_string(&self.0).unwrap_or_default();
        vec![("field".into(), field), ("reason".into(), reason), ("problems".into(), problems)]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn refused(problems: Vec<ContractProblem>) -> CoreError {
    CoreError::Feature(Box::new(ContractRefused(problems)))
}

fn problem(field: &str, key: &str, params: &[(&str, &str)], message: String) -> ContractProblem {
    ContractProblem {
        field: field.into(),
        key: key.into(),
        params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        message,
    }
}

/// A validated contract, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draft {
    pub id: Option<String>,
    pub connection_id: String,
    pub client_document: String,
    pub client_code: String,
    pub client_name: String,
    pub description: String,
    pub mrr: Decimal,
    pub currency: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub billing_day: Option<u8>,
    pub status: String,
    pub readjust_index: Option<String>,
    pub readjust_month: Option<u8>,
    pub readjust_percent: Option<Decimal>,
    pub tolerance_amount: Option<Decimal>,
    pub tolerance_percent: Option<Decimal>,
    pub notes: String,
}

impl Draft {
    /// The fields that differ from a stored contract (empty: the same).
    fn changes(&self, c: &Contract) -> Vec<String> {
        let dec = |s: &Option<String>| s.as_deref().and_then(|x| Decimal::from_str(x).ok());
        let mut out = vec![];
        let mut check = |f: &str, same: bool| {
            if !same {
                out.push(f.to_string());
            }
        };
        check("client_name", self.client_name == c.client_name);
        check("mrr", Decimal::from_str(&c.mrr).ok() == Some(self.mrr));
        check("currency", self.currency == c.currency);
        check("end_date", self.end_date == c.end_date);
        check("billing_day", self.billing_day == c.billing_day);
        check("status", self.status == c.status);
        check("readjust_index", self.readjust_index == c.readjust_index);
        check("readjust_month", self.readjust_month == c.readjust_month);
        check("readjust_percent", self.readjust_percent == dec(&c.readjust_percent));
        check("tolerance_amount", self.tolerance_amount == dec(&c.tolerance_amount));
        check("tolerance_percent", self.tolerance_percent == dec(&c.tolerance_percent));
        check("notes", self.notes == c.notes);
        check("client_document", self.client_document == c.client_document);
        out
    }
}

/// Reads an amount the way people write it: `1234.56`, `1.234,56`, `1234,56`, `R$ 1.234,56`,
/// `$1,234.56`. With both separators, the last one is the decimal separator; a lone comma is a
/// decimal comma; a lone dot is a decimal point.
pub fn parse_amount(s: &str) -> Option<Decimal> {
    let t: String = s.chars().filter(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | '-')).collect();
    if t.is_empty() || t == "-" {
        return None;
    }
    let norm = match (t.rfind(','), t.rfind('.')) {
        (Some(c), Some(d)) if c > d => t.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => t.replace(',', ""),
        (Some(_), None) => {
            if t.matches(',').count() > 1 {
                return None;
            }
            t.replace(',', ".")
        }
        _ => t,
    };
    Decimal::from_str(&norm).ok()
}

/// `2026-01-31` or `31/01/2026` (also `31-01-2026`, `31.01.2026`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%d-%m-%Y"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .ok()
}

fn status_of(s: &str) -> Option<&'static str> {
    match import::fold(s).as_str() {
        "" | "active" | "ativo" | "activo" | "vigente" => Some("active"),
        "suspended" | "suspenso" | "suspendido" | "pausado" => Some("suspended"),
        "ended" | "encerrado" | "terminado" | "finalizado" | "cancelado" => Some("ended"),
        _ => None,
    }
}

/// Companies whose billing the reconciliation reads.
fn billing_connections(cx: &Ctx) -> CoreResult<Vec<Connection>> {
    Ok(cx
        .connections()
        .list()?
        .into_iter()
        .filter(|c| matches!(c.kind, ConnectionKind::Omie | ConnectionKind::Contifico))
        .collect())
}

fn pick_connection(cx: &Ctx, id: Option<&str>) -> CoreResult<Connection> {
    let all = billing_connections(cx)?;
    match id.filter(|s| !s.trim().is_empty()) {
        Some(id) => all.into_iter().find(|c| c.id == id || c.name == id).ok_or_else(|| {
            CoreError::invalid(
                "connection",
                format!(
                    "\"{id}\" is not an Omie or Contífico company here. Choose one of the companies in Connections."
                ),
            )
        }),
        None => {
            let mut it = all.into_iter();
            match (it.next(), it.next()) {
                (Some(c), None) => Ok(c),
                (None, _) => Err(CoreError::invalid(
                    "connection",
                    "there is no Omie or Contífico company yet. Add one in Connections (or try demo mode) first.",
                )),
                (Some(_), Some(_)) => Err(CoreError::invalid(
                    "connection",
                    "there are several companies: choose the one these contracts belong to.",
                )),
            }
        }
    }
}

/// The ERP's clients of a company, indexed by key and by document digits.
pub(crate) struct Directory {
    by_key: HashMap<String, (String, String)>,
    by_doc: HashMap<String, String>,
    /// CNPJ root (the company) → its clients (the branches), for roots with more than one.
    by_root: HashMap<String, Vec<String>>,
}

impl Directory {
    fn load(cx: &Ctx, src: &store::Source, connection: &str) -> CoreResult<Directory> {
        let mut by_key = HashMap::new();
        let mut by_doc = HashMap::new();
        for (k, name, doc) in store::clients(&cx.store, src, connection)? {
            let digits = crate::erp::omie::local_clients::normalize_document(&doc);
            if !digits.is_empty() {
                by_doc.insert(digits.clone(), k.clone());
            }
            by_key.insert(k, (name, digits));
        }
        let mut by_root: HashMap<String, Vec<String>> = HashMap::new();
        for (k, (_, d)) in &by_key {
            if let Some(r) = doc_root(d) {
                by_root.entry(r.to_string()).or_default().push(k.clone());
            }
        }
        by_root.retain(|_, v| v.len() > 1);
        Ok(Directory { by_key, by_doc, by_root })
    }
    fn name(&self, key: &str) -> Option<&str> {
        self.by_key.get(key).map(|(n, _)| n.as_str())
    }
    fn document(&self, key: &str) -> Option<&str> {
        self.by_key.get(key).map(|(_, d)| d.as_str())
    }
}

/// Checks a contract input against the company's synced clients.
pub(crate) fn validate(
    input: &ContractInput,
    conn: &Connection,
    dir: &Directory,
) -> Result<Draft, Vec<ContractProblem>> {
    let mut p = vec![];
    let src = if conn.kind == ConnectionKind::Contifico { &store::CONTIFICO } else { &store::OMIE };
    // The client: a document with valid check digits that a synced client has, else a client code.
    let raw = input.client.trim();
    let digits = crate::erp::omie::local_clients::normalize_document(raw);
    let mut client = None;
    if raw.is_empty() {
        p.push(problem(
            "client",
            "client_missing",
            &[],
            "give the client's CNPJ/CPF (or RUC), or its code in the ERP".into(),
        ));
    } else if let Some(k) = dir.by_doc.get(&digits) {
        client = Some((digits.clone(), k.clone()));
    } else if dir.by_key.contains_key(raw) {
        client = Some((dir.document(raw).unwrap_or_default().to_string(), raw.to_string()));
    } else {
        let looks_like_doc = match src.erp {
            "omie" => matches!(digits.len(), 11 | 14),
            _ => matches!(digits.len(), 10 | 13),
        };
        let valid = match src.erp {
            "omie" => crate::erp::omie::local_clients::document_kind(&digits).is_some(),
            _ => digits.chars().all(|c| c.is_ascii_digit()),
        };
        if looks_like_doc && !valid {
            p.push(problem(
                "client",
                "client_document_invalid",
                &[("client", raw)],
                format!("\"{raw}\" is not a valid CNPJ or CPF: its check digits do not match. Check the number."),
            ));
        } else {
            p.push(problem(
                "client",
                "client_unknown",
                &[("client", raw), ("company", &conn.name)],
                format!(
                    "no client of {} has the document or code \"{raw}\". Sync the company's clients first, or check the number.",
                    conn.name
                ),
            ));
        }
    }
    let description = input.description.trim().to_string();
    if description.is_empty() {
        p.push(problem("description", "description_missing", &[], "describe the contract (e.g. the service)".into()));
    }
    let mrr = match parse_amount(&input.mrr) {
        Some(m) if m < Decimal::ZERO => {
            p.push(problem(
                "mrr",
                "mrr_negative",
                &[("value", input.mrr.trim())],
                format!("the monthly value {} is negative", input.mrr.trim()),
            ));
            None
        }
        Some(m) => Some(m),
        None => {
            p.push(problem(
                "mrr",
                "mrr_invalid",
                &[("value", input.mrr.trim())],
                format!("\"{}\" is not an amount (write it like 1.234,56 or 1234.56)", input.mrr.trim()),
            ));
            None
        }
    };
    let date = |field: &str, v: &str, p: &mut Vec<ContractProblem>| match parse_date(v) {
        Some(d) => Some(d),
        None => {
            p.push(problem(
                field,
                "date_invalid",
                &[("value", v.trim())],
                format!("\"{}\" is not a date (write it like 31/01/2026 or 2026-01-31)", v.trim()),
            ));
            None
        }
    };
    let start = if input.start_date.trim().is_empty() {
        p.push(problem("start_date", "start_missing", &[], "give the date the contract starts".into()));
        None
    } else {
        date("start_date", &input.start_date, &mut p)
    };
    let end = match input.end_date.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => date("end_date", v, &mut p),
        None => None,
    };
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            p.push(problem("end_date", "end_before_start", &[], "the end date is before the start date".into()));
        }
    }
    let small = |field: &str,
                 v: &Option<String>,
                 lo: u8,
                 hi: u8,
                 key: &str,
                 what: &str,
                 p: &mut Vec<ContractProblem>|
     -> Option<u8> {
        let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        match v.parse::<u8>() {
            Ok(n) if (lo..=hi).contains(&n) => Some(n),
            _ => {
                p.push(problem(field, key, &[("value", v)], format!("\"{v}\" is not {what}")));
                None
            }
        }
    };
    let billing_day =
        small("billing_day", &input.billing_day, 1, 31, "billing_day_invalid", "a day of the month (1 to 31)", &mut p);
    let readjust_month =
        small("readjust_month", &input.readjust_month, 1, 12, "readjust_month_invalid", "a month (1 to 12)", &mut p);
    let status = match status_of(input.status.as_deref().unwrap_or("")) {
        Some(s) => s.to_string(),
        None => {
            let v = input.status.clone().unwrap_or_default();
            p.push(problem(
                "status",
                "status_invalid",
                &[("value", &v)],
                format!("\"{v}\" is not a status: use active, suspended or ended"),
            ));
            String::new()
        }
    };
    if status == "ended" && end.is_none() && !p.iter().any(|x| x.field == "end_date") {
        p.push(problem("end_date", "ended_without_end", &[], "an ended contract needs its end date".into()));
    }
    let mut opt_amount = |field: &str, v: &Option<String>, key: &str| -> Option<Decimal> {
        let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        match parse_amount(v) {
            Some(d) if d >= Decimal::ZERO => Some(d),
            _ => {
                p.push(problem(field, key, &[("value", v)], format!("\"{v}\" is not a positive number")));
                None
            }
        }
    };
    let readjust_percent = opt_amount("readjust_percent", &input.readjust_percent, "readjust_percent_invalid");
    let tolerance_amount = opt_amount("tolerance_amount", &input.tolerance_amount, "tolerance_invalid");
    let tolerance_percent = opt_amount("tolerance_percent", &input.tolerance_percent, "tolerance_invalid");
    if readjust_percent.is_some() && readjust_month.is_none() && !p.iter().any(|x| x.field == "readjust_month") {
        p.push(problem(
            "readjust_month",
            "readjust_month_missing",
            &[],
            "say in which month the readjustment takes effect".into(),
        ));
    }
    let currency = input.currency.as_deref().map(|c| c.trim().to_uppercase()).filter(|c| !c.is_empty());
    let currency = match currency {
        Some(c) if c != src.currency => {
            p.push(problem(
                "currency",
                "currency_mismatch",
                &[("value", &c), ("expected", src.currency)],
                format!("{} bills in {}, not {c}", conn.name, src.currency),
            ));
            c
        }
        _ => src.currency.to_string(),
    };
    if !p.is_empty() {
        return Err(p);
    }
    let (client_document, client_code) = client.expect("checked above");
    Ok(Draft {
        id: input.id.clone().filter(|s| !s.is_empty()),
        connection_id: conn.id.clone(),
        client_name: dir.name(&client_code).unwrap_or_default().to_string(),
        client_document,
        client_code,
        description,
        mrr: mrr.expect("checked above"),
        currency,
        start_date: start.expect("checked above").to_string(),
        end_date: end.map(|e| e.to_string()),
        billing_day,
        status,
        readjust_index: input.readjust_index.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from),
        readjust_month,
        readjust_percent,
        tolerance_amount,
        tolerance_percent,
        notes: input.notes.trim().to_string(),
    })
}

// ---------------------------------------------------------------------------------------------
// The contract book

pub fn list(cx: &Ctx, connection: Option<&str>) -> CoreResult<Vec<Contract>> {
    store::list(&cx.store, connection)
}

pub fn get(cx: &Ctx, id: &str) -> CoreResult<Contract> {
    store::get(&cx.store, id)?.ok_or_else(|| CoreError::NotFound { what: format!("Contract {id}") })
}

/// Creates or changes one contract.
pub fn save(cx: &Ctx, input: &ContractInput) -> CoreResult<Contract> {
    let conn = match (&input.id, &input.connection_id) {
        (Some(id), None) if !id.is_empty() => pick_connection(cx, Some(&get(cx, id)?.connection_id))?,
        _ => pick_connection(cx, input.connection_id.as_deref())?,
    };
    let src = source(&conn);
    let dir = Directory::load(cx, src, &conn.id)?;
    let draft = validate(input, &conn, &dir).map_err(refused)?;
    if draft.id.is_none() {
        if let Some(same) = store::find_same(&cx.store, &draft)? {
            return Err(refused(vec![problem(
                "description",
                "duplicate_contract",
                &[("client", &same.client_name), ("description", &same.description), ("start", &same.start_date)],
                format!(
                    "{} already has a contract \"{}\" starting {}: open it to change it",
                    same.client_name, same.description, same.start_date
                ),
            )]));
        }
    }
    let actor = Actor::current();
    let reason = if input.reason.trim().is_empty() { "edited in BackOffice" } else { input.reason.trim() };
    let ids = store::save_all(&cx.store, &[draft], &actor.who, &actor.machine, reason)?;
    get(cx, &ids[0])
}

pub fn delete(cx: &Ctx, id: &str, reason: &str) -> CoreResult<()> {
    if reason.trim().is_empty() {
        return Err(CoreError::invalid("reason", "write why the contract is deleted; it is kept in its history"));
    }
    let actor = Actor::current();
    if !store::delete(&cx.store, id, &actor.who, &actor.machine, reason.trim())? {
        return Err(CoreError::NotFound { what: format!("Contract {id}") });
    }
    Ok(())
}

/// One change of a contract, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ContractChange {
    pub version: u32,
    pub changed_at: String,
    pub who: String,
    pub machine: String,
    pub reason: String,
    pub deleted: bool,
}

pub fn history(cx: &Ctx, id: &str) -> CoreResult<Vec<ContractChange>> {
    store::history(&cx.store, id)
}

pub fn import_preview(cx: &Ctx, file: &std::path::Path, connection: Option<&str>) -> CoreResult<ImportPreview> {
    import::preview(cx, file, connection)
}

/// Imports a file in one transaction. With refused rows nothing is written unless
/// `skip_refused`; then the other rows are imported and the refused ones listed.
pub fn import_apply(
    cx: &Ctx,
    file: &std::path::Path,
    connection: Option<&str>,
    skip_refused: bool,
) -> CoreResult<ImportPreview> {
    import::apply(cx, file, connection, skip_refused)
}

// ---------------------------------------------------------------------------------------------
// Settings

/// How billing is counted, for every contract (a contract may have its own tolerance).
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[serde(default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct BillingSettings {
    /// Which date puts a title in a month: `emission` (default), `due` or `registration`.
    pub date_basis: String,
    /// Statuses that count as billed; empty: every status but cancelled. Cancelled titles
    /// (Omie CANCELADO, Contífico anulado) never count.
    pub statuses: Vec<String>,
    /// Within tolerance when the gap is at most this amount ...
    pub tolerance_amount: String,
    /// ... or at most this percent of what the contracts ask for.
    pub tolerance_percent: String,
    /// Closed months the divergence check looks at (before the current one).
    pub months_back: u32,
}

impl Default for BillingSettings {
    fn default() -> Self {
        BillingSettings {
            date_basis: "emission".into(),
            statuses: vec![],
            tolerance_amount: "50".into(),
            tolerance_percent: "5".into(),
            months_back: 3,
        }
    }
}

const SETTINGS: crate::store::settings::Setting<BillingSettings> =
    crate::store::settings::Setting::json("contracts.billing_settings");

pub fn settings(cx: &Ctx) -> CoreResult<BillingSettings> {
    Ok(cx.store.setting(&SETTINGS)?.unwrap_or_default())
}

pub fn save_settings(cx: &Ctx, s: &BillingSettings) -> CoreResult<BillingSettings> {
    let mut s = s.clone();
    if !matches!(s.date_basis.as_str(), "emission" | "due" | "registration") {
        return Err(CoreError::invalid(
            "date_basis",
            format!("\"{}\" is not a date basis: use emission, due or registration", s.date_basis),
        ));
    }
    for (f, v) in [("tolerance_amount", &s.tolerance_amount), ("tolerance_percent", &s.tolerance_percent)] {
        match parse_amount(v) {
            Some(d) if d >= Decimal::ZERO => {}
            _ => return Err(CoreError::invalid(f, format!("\"{v}\" is not a positive number"))),
        }
    }
    s.tolerance_amount = parse_amount(&s.tolerance_amount).unwrap_or_default().normalize().to_string();
    s.tolerance_percent = parse_amount(&s.tolerance_percent).unwrap_or_default().normalize().to_string();
    s.statuses = s.statuses.iter().map(|x| x.trim().to_uppercase()).filter(|x| !x.is_empty()).collect();
    if s.months_back == 0 || s.months_back > 36 {
        return Err(CoreError::invalid("months_back", "look back between 1 and 36 months"));
    }
    cx.store.set_setting(&SETTINGS, &s)?;
    Ok(s)
}

// ---------------------------------------------------------------------------------------------
// Reconciliation

/// What the reconciliation screen asks for.
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ReconcileQuery {
    /// YYYY-MM; default: the current month.
    pub month: Option<String>,
    pub connection_id: Option<String>,
    /// Only this client (document or ERP code).
    pub client: Option<String>,
    /// Only client-months with one of these verdicts (empty: all).
    pub verdicts: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ContractLine {
    pub contract_id: String,
    pub description: String,
    pub mrr: String,
    /// What it asks for this month.
    pub amount: String,
    pub days: u32,
    pub days_in_month: u32,
    pub readjustments: u32,
    pub prorated: bool,
    pub suspended: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct BilledTitle {
    pub id: String,
    pub number: String,
    /// The date that put it in the month (by the basis).
    pub date: String,
    pub status: String,
    pub amount: String,
    /// `counted`, `cancelled` or `excluded` (its status is not in the basis).
    pub counted_as: String,
}

/// A probable reason for a gap (`contracts.explain.<key>` in the window).
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Explanation {
    pub key: String,
    pub params: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ClientMonth {
    pub connection_id: String,
    /// The client's key in the ERP.
    pub client: String,
    pub client_name: String,
    pub client_document: String,
    pub month: String,
    pub contracted: String,
    pub billed: String,
    /// billed − contracted.
    pub difference: String,
    pub tolerance: String,
    /// `within`, `above`, `below`, `no_billing`, `no_contract`, or `pending` (this month, not
    /// billed yet, before its billing day).
    pub verdict: String,
    pub currency: String,
    pub contracts: Vec<ContractLine>,
    /// The titles behind the figure (filled for one month's detail).
    pub titles: Vec<BilledTitle>,
    pub explanations: Vec<Explanation>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq, Default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ReconcileTotals {
    pub clients: u32,
    pub contracted: String,
    pub billed: String,
    /// Per verdict.
    pub verdicts: BTreeMap<String, u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Reconciliation {
    pub month: String,
    pub connection_id: String,
    pub connection_name: String,
    pub currency: String,
    pub settings: BillingSettings,
    pub rows: Vec<ClientMonth>,
    pub totals: ReconcileTotals,
    /// When the billing data was last synced without error (RFC 3339, UTC); none: never.
    pub data_as_of: Option<String>,
    /// The billing data is older than a day (or was never synced).
    pub stale: bool,
    /// The newest sync of the company failed (what is shown is as of `data_as_of`).
    pub last_sync_failed: bool,
    /// Titles whose amount could not be read: (id, value).
    pub unreadable: Vec<(String, String)>,
}

/// A client's month in the 12-month strip.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct MonthFigure {
    pub month: String,
    pub contracted: String,
    pub billed: String,
    /// Empty when there was nothing to reconcile.
    pub verdict: String,
}

fn source(conn: &Connection) -> &'static store::Source {
    if conn.kind == ConnectionKind::Contifico {
        &store::CONTIFICO
    } else {
        &store::OMIE
    }
}

fn basis_index(s: &BillingSettings) -> usize {
    match s.date_basis.as_str() {
        "due" => 1,
        "registration" => 2,
        _ => 0,
    }
}

/// Money as text with two decimals (what the window formats and the reports write).
pub(crate) fn money(d: Decimal) -> String {
    let mut c = reconcile::cents(d);
    c.rescale(2);
    c.to_string()
}

fn doc_root(doc: &str) -> Option<&str> {
    (doc.len() == 14).then(|| &doc[..8])
}

/// Everything a company's reconciliation over a range of months reads, in memory once.
pub(crate) struct Book {
    conn: Connection,
    src: &'static store::Source,
    settings: BillingSettings,
    tol_amount: Decimal,
    tol_percent: Decimal,
    dir: Directory,
    /// client key → its contracts.
    contracts: BTreeMap<String, Vec<(Contract, Terms)>>,
    /// Per month, per client key: the month's figures and the amounts of its counted titles.
    buckets: HashMap<Month, HashMap<String, (Bucket, Vec<Decimal>)>>,
    /// Titles kept whole for these months.
    detail: HashMap<(String, Month), Vec<BilledTitle>>,
    unreadable: Vec<(String, String)>,
    /// The company's today: a current month whose billing day has not come is `pending`.
    today: NaiveDate,
}

fn terms_of(c: &Contract) -> Option<Terms> {
    Some(Terms {
        mrr: Decimal::from_str(&c.mrr).ok()?,
        start: NaiveDate::parse_from_str(&c.start_date, "%Y-%m-%d").ok()?,
        end: c.end_date.as_deref().and_then(|e| NaiveDate::parse_from_str(e, "%Y-%m-%d").ok()),
        status: c.status.clone(),
        readjust_month: c.readjust_month.map(u32::from),
        readjust_percent: c.readjust_percent.as_deref().and_then(|p| Decimal::from_str(p).ok()),
    })
}

impl Book {
    /// Reads the contracts and the titles of `[from − 1, to + 1]` (neighbours explain gaps),
    /// keeping whole titles for the months in `detail` (all clients, or one).
    pub(crate) fn load(
        cx: &Ctx,
        conn: Connection,
        from: Month,
        to: Month,
        detail: &[Month],
        client: Option<&str>,
    ) -> CoreResult<Book> {
        let src = source(&conn);
        let settings = settings(cx)?;
        let dir = Directory::load(cx, src, &conn.id)?;
        let mut contracts: BTreeMap<String, Vec<(Contract, Terms)>> = BTreeMap::new();
        for c in store::list(&cx.store, Some(&conn.id))? {
            if client.is_some_and(|k| k != c.client_code) {
                continue;
            }
            if let Some(t) = terms_of(&c) {
                contracts.entry(c.client_code.clone()).or_default().push((c, t));
            }
        }
        let statuses: BTreeSet<String> = settings.statuses.iter().cloned().collect();
        let mut buckets: HashMap<Month, HashMap<String, (Bucket, Vec<Decimal>)>> = HashMap::new();
        let mut detail_rows: HashMap<(String, Month), Vec<BilledTitle>> = HashMap::new();
        let (lo, hi) = (from.shift(-1).first().to_string(), to.shift(1).last().to_string());
        let reach = if from.until(to) >= 6 { store::Reach::Period } else { store::Reach::Months };
        let unreadable =
            store::each_title(&cx.store, src, &conn.id, basis_index(&settings), &lo, &hi, client, reach, |t| {
                let Some(m) = t.date.get(..7).and_then(|s| Month::parse(s).ok()) else { return };
                let counted_as = if src.cancelled.contains(&t.status) {
                    "cancelled"
                } else if !statuses.is_empty() && !statuses.contains(t.status) {
                    "excluded"
                } else {
                    "counted"
                };
                // Looked up by the borrowed key; a client's key is copied once, when first seen.
                let month = buckets.entry(m).or_default();
                let e = match month.get_mut(t.client) {
                    Some(e) => e,
                    None => month.entry(t.client.to_string()).or_default(),
                };
                match counted_as {
                    "cancelled" => {
                        e.0.cancelled += t.amount;
                        e.0.cancelled_n += 1;
                    }
                    "excluded" => {
                        e.0.excluded += t.amount;
                        e.0.excluded_n += 1;
                    }
                    _ => {
                        e.0.counted += t.amount;
                        e.0.counted_n += 1;
                        e.1.push(t.amount);
                        if src.partial.contains(&t.status) {
                            e.0.partial_n += 1;
                        }
                    }
                }
                if detail.contains(&m) {
                    detail_rows.entry((t.client.to_string(), m)).or_default().push(BilledTitle {
                        id: t.id.to_string(),
                        number: t.number.to_string(),
                        date: t.date.to_string(),
                        status: t.status.to_string(),
                        amount: t.amount.to_string(),
                        counted_as: counted_as.into(),
                    });
                }
            })?;
        Ok(Book {
            today: today(cx, &conn),
            tol_amount: parse_amount(&settings.tolerance_amount).unwrap_or(Decimal::from(50)),
            tol_percent: parse_amount(&settings.tolerance_percent).unwrap_or(Decimal::from(5)),
            conn,
            src,
            settings,
            dir,
            contracts,
            buckets,
            detail: detail_rows,
            unreadable,
        })
    }

    fn shares(&self, client: &str, m: Month) -> Vec<(&Contract, Share)> {
        self.contracts
            .get(client)
            .map(|v| v.iter().map(|(c, t)| (c, reconcile::contracted(t, m))).collect())
            .unwrap_or_default()
    }

    fn figures(&self, client: &str, m: Month) -> (Decimal, Decimal) {
        let contracted = self.shares(client, m).iter().map(|(_, s)| s.amount).sum();
        (contracted, self.billed(client, m))
    }

    fn billed(&self, client: &str, m: Month) -> Decimal {
        self.bucket(client, m).map(|b| b.0.counted).unwrap_or_default()
    }

    fn bucket(&self, client: &str, m: Month) -> Option<&(Bucket, Vec<Decimal>)> {
        self.buckets.get(&m).and_then(|b| b.get(client))
    }

    /// The clients the month concerns: every client with a contract, and every client billed.
    fn clients_of(&self, m: Month) -> BTreeSet<&str> {
        let mut out: BTreeSet<&str> = self.contracts.keys().map(String::as_str).collect();
        if let Some(month) = self.buckets.get(&m) {
            out.extend(month.iter().filter(|(_, b)| b.0.counted_n > 0).map(|(k, _)| k.as_str()));
        }
        out
    }

    fn tolerance_for(&self, shares: &[(&Contract, Share)], contracted: Decimal) -> Decimal {
        let own_amount = shares.iter().filter_map(|(c, _)| c.tolerance_amount.as_deref().and_then(parse_amount)).max();
        let own_percent =
            shares.iter().filter_map(|(c, _)| c.tolerance_percent.as_deref().and_then(parse_amount)).max();
        reconcile::tolerance(contracted, own_amount.unwrap_or(self.tol_amount), own_percent.unwrap_or(self.tol_percent))
    }

    /// The reconciliation of one client-month; none when there is nothing to say.
    pub(crate) fn client_month(&self, client: &str, m: Month, explain_always: bool) -> Option<ClientMonth> {
        let shares = self.shares(client, m);
        let contracted: Decimal = shares.iter().map(|(_, s)| s.amount).sum();
        let billed = self.billed(client, m);
        let tol = self.tolerance_for(&shares, contracted);
        let verdict = reconcile::verdict(!shares.is_empty(), contracted, billed, tol)?;
        // Not billed yet, but the month is not over and no billing day has come.
        let pending = verdict == Verdict::NoBilling
            && m == Month::of(self.today)
            && shares
                .iter()
                .filter(|(_, s)| !s.amount.is_zero())
                .all(|(c, _)| c.billing_day.is_none_or(|d| u32::from(d) > chrono::Datelike::day(&self.today)));
        let explanations = if (verdict.is_divergent() && !pending) || explain_always {
            let empty = (Bucket::default(), vec![]);
            let bucket = self.bucket(client, m).unwrap_or(&empty);
            let plain: Vec<Share> = shares.iter().map(|(_, s)| s.clone()).collect();
            let neighbours = [m.shift(-1), m.shift(1)].map(|n| {
                let (c, b) = self.figures(client, n);
                (n, c, b)
            });
            let doc = self.dir.document(client).unwrap_or_default();
            let siblings: Vec<(String, Decimal, Decimal)> = match doc_root(doc).and_then(|r| self.dir.by_root.get(r)) {
                Some(keys) => keys
                    .iter()
                    .filter(|k| k.as_str() != client)
                    .map(|k| {
                        let (c, b) = self.figures(k, m);
                        (self.dir.name(k).unwrap_or_default().to_string(), c, b)
                    })
                    .filter(|(_, c, b)| !(c.is_zero() && b.is_zero()))
                    .collect(),
                None => vec![],
            };
            reconcile::explain(&reconcile::Evidence {
                contracted,
                billed,
                tolerance: tol,
                bucket: &bucket.0,
                title_amounts: &bucket.1,
                neighbours,
                shares: &plain,
                siblings: &siblings,
            })
            .into_iter()
            .map(|h| Explanation { key: h.key.to_string(), params: h.params })
            .collect()
        } else {
            vec![]
        };
        // Titles are kept only for the months asked in detail (none over a long period).
        let mut titles = if self.detail.is_empty() {
            vec![]
        } else {
            self.detail.get(&(client.to_string(), m)).cloned().unwrap_or_default()
        };
        titles.sort_by(|a, b| a.date.cmp(&b.date).then(a.number.cmp(&b.number)));
        let name = self
            .dir
            .name(client)
            .map(str::to_string)
            .or_else(|| shares.first().map(|(c, _)| c.client_name.clone()))
            .unwrap_or_else(|| client.to_string());
        Some(ClientMonth {
            connection_id: self.conn.id.clone(),
            client: client.to_string(),
            client_name: name,
            client_document: self
                .dir
                .document(client)
                .map(str::to_string)
                .or_else(|| shares.first().map(|(c, _)| c.client_document.clone()))
                .unwrap_or_default(),
            month: m.to_string(),
            contracted: money(contracted),
            billed: money(billed),
            difference: money(billed - contracted),
            tolerance: money(tol),
            verdict: if pending { "pending".into() } else { verdict.as_str().to_string() },
            currency: self.src.currency.to_string(),
            contracts: shares
                .iter()
                .map(|(c, s)| ContractLine {
                    contract_id: c.id.clone(),
                    description: c.description.clone(),
                    mrr: c.mrr.clone(),
                    amount: money(s.amount),
                    days: s.days,
                    days_in_month: s.days_in_month,
                    readjustments: s.readjustments,
                    prorated: s.prorated,
                    suspended: s.suspended,
                })
                .collect(),
            titles,
            explanations,
        })
    }

    /// Every client-month of `m`.
    pub(crate) fn month(&self, m: Month, explain_always: bool) -> Vec<ClientMonth> {
        self.clients_of(m).into_iter().filter_map(|c| self.client_month(c, m, explain_always)).collect()
    }

    /// Every client-month of `months`, in their order; the months are shared among the machine's
    /// cores (each month reads only the book, which nothing changes any more).
    pub(crate) fn months(&self, months: &[Month]) -> Vec<ClientMonth> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per = months.len().div_ceil(cores.min(months.len()).max(1)).max(1);
        if months.len() <= per {
            return months.iter().flat_map(|m| self.month(*m, false)).collect();
        }
        std::thread::scope(|s| {
            let parts: Vec<_> = months
                .chunks(per)
                .map(|chunk| s.spawn(move || chunk.iter().flat_map(|m| self.month(*m, false)).collect::<Vec<_>>()))
                .collect();
            let mut out = vec![];
            for p in parts {
                match p.join() {
                    Ok(rows) => out.extend(rows),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            out
        })
    }
}

fn today(cx: &Ctx, conn: &Connection) -> NaiveDate {
    let tz: chrono_tz::Tz = conn.timezone.parse().unwrap_or(chrono_tz::America::Sao_Paulo);
    cx.clock.now().with_timezone(&tz).date_naive()
}

fn resolve_client(book_dir: &Directory, client: &str) -> String {
    let digits = crate::erp::omie::local_clients::normalize_document(client);
    book_dir.by_doc.get(&digits).cloned().unwrap_or_else(|| client.trim().to_string())
}

/// One month of one company: every client's contracted vs billed, with the titles behind it.
pub fn reconcile_month(cx: &Ctx, q: &ReconcileQuery) -> CoreResult<Reconciliation> {
    let conn = pick_connection(cx, q.connection_id.as_deref())?;
    let m = match q.month.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => Month::parse(s)?,
        None => Month::of(today(cx, &conn)),
    };
    let client = match &q.client {
        Some(c) if !c.trim().is_empty() => Some(resolve_client(&Directory::load(cx, source(&conn), &conn.id)?, c)),
        _ => None,
    };
    let book = Book::load(cx, conn.clone(), m, m, &[m], client.as_deref())?;
    let mut rows: Vec<ClientMonth> = match &client {
        Some(k) => book.client_month(k, m, true).into_iter().collect(),
        None => book.month(m, false),
    };
    if !q.verdicts.is_empty() {
        rows.retain(|r| q.verdicts.contains(&r.verdict));
    }
    rows.sort_by_key(|r| r.client_name.to_lowercase());
    let mut totals = ReconcileTotals { clients: rows.len() as u32, ..Default::default() };
    let (mut tc, mut tb) = (Decimal::ZERO, Decimal::ZERO);
    for r in &rows {
        tc += Decimal::from_str(&r.contracted).unwrap_or_default();
        tb += Decimal::from_str(&r.billed).unwrap_or_default();
        *totals.verdicts.entry(r.verdict.clone()).or_default() += 1;
    }
    totals.contracted = money(tc);
    totals.billed = money(tb);
    let as_of = store::last_good_sync(&cx.store, &conn.id)?;
    let last = store::billing_as_of(&cx.store, &conn.id)?;
    let now = cx.clock.now();
    let stale = as_of
        .as_deref()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .is_none_or(|t| now.signed_duration_since(t) > chrono::Duration::days(1));
    Ok(Reconciliation {
        month: m.to_string(),
        connection_id: conn.id.clone(),
        connection_name: conn.name.clone(),
        currency: book.src.currency.to_string(),
        settings: book.settings.clone(),
        rows,
        totals,
        data_as_of: as_of,
        stale,
        last_sync_failed: last.is_some_and(|(_, s)| s != "succeeded"),
        unreadable: book.unreadable.clone(),
    })
}

/// A client's last `months` months up to `to` (the 12-month strip).
pub fn client_strip(
    cx: &Ctx,
    connection: Option<&str>,
    client: &str,
    to: Option<&str>,
    months: u32,
) -> CoreResult<Vec<MonthFigure>> {
    let conn = pick_connection(cx, connection)?;
    let to = match to.filter(|s| !s.trim().is_empty()) {
        Some(s) => Month::parse(s)?,
        None => Month::of(today(cx, &conn)),
    };
    let months = months.clamp(1, 36) as i32;
    let from = to.shift(1 - months);
    let key = resolve_client(&Directory::load(cx, source(&conn), &conn.id)?, client);
    let book = Book::load(cx, conn, from, to, &[], Some(&key))?;
    Ok((0..months)
        .map(|i| {
            let m = from.shift(i);
            let (c, b) = book.figures(&key, m);
            MonthFigure {
                month: m.to_string(),
                contracted: money(c),
                billed: money(b),
                verdict: book.client_month(&key, m, false).map(|r| r.verdict).unwrap_or_default(),
            }
        })
        .collect())
}

/// Every client-month of a company from `from` to `to` (YYYY-MM), without the titles behind them:
/// the whole reconciliation of a period in one read of the billing data, in month order, each
/// month's clients by key; only `verdicts` when some are named.
pub fn reconcile_range(
    cx: &Ctx,
    connection: Option<&str>,
    from: &str,
    to: &str,
    verdicts: &[String],
) -> CoreResult<Vec<ClientMonth>> {
    let conn = pick_connection(cx, connection)?;
    let (from, to) = (Month::parse(from)?, Month::parse(to)?);
    if to < from {
        return Err(CoreError::invalid("to", "the last month is before the first"));
    }
    if from.until(to) >= 120 {
        return Err(CoreError::invalid("from", "a period of at most ten years (120 months) at a time"));
    }
    let book = Book::load(cx, conn, from, to, &[], None)?;
    let months: Vec<Month> = (0..=from.until(to)).map(|i| from.shift(i)).collect();
    let mut rows = book.months(&months);
    if !verdicts.is_empty() {
        rows.retain(|r| verdicts.contains(&r.verdict));
    }
    Ok(rows)
}

/// What the divergence rule "billing vs contract" reads: the divergent client-months of the last
/// `months_back` closed months of every company with contracts, with the titles behind them.
pub(crate) fn divergent_months(cx: &Ctx) -> CoreResult<Vec<ClientMonth>> {
    let s = settings(cx)?;
    let mut out = vec![];
    for conn in billing_connections(cx)? {
        if store::list(&cx.store, Some(&conn.id))?.is_empty() {
            continue;
        }
        let current = Month::of(today(cx, &conn));
        let (from, to) = (current.shift(-(s.months_back as i32)), current.shift(-1));
        let months: Vec<Month> = (0..=from.until(to)).map(|i| from.shift(i)).collect();
        let conn_id = conn.id.clone();
        let book = Book::load(cx, conn, from, to, &months, None)?;
        let every: Vec<ClientMonth> = months.into_iter().flat_map(|m| book.month(m, false)).collect();
        // Every client-month, within tolerance or not, is what a BI tool reads billing against
        // contracts from; the divergences are the ones outside it.
        let now = cx.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        store::save_months(&cx.store, &conn_id, (&from.to_string(), &to.to_string()), &every, &now)?;
        out.extend(every.into_iter().filter(|r| !matches!(r.verdict.as_str(), "within" | "pending")));
    }
    Ok(out)
}

/// What the contracts and their settings are as of now (a divergence check re-runs when it changes).
pub(crate) fn stamp(cx: &Ctx) -> CoreResult<String> {
    let s = settings(cx)?;
    let months: Vec<String> = billing_connections(cx)?.iter().map(|c| Month::of(today(cx, c)).to_string()).collect();
    Ok(format!("{}|{}|{}", store::stamp(&cx.store)?, serde_json::to_string(&s).unwrap_or_default(), months.join(",")))
}

/// The resource name of the titles an ERP bills with (evidence links into the data browser).
pub(crate) fn titles_resource(erp: &str) -> &'static str {
    store::source_of(erp).map(|s| s.resource).unwrap_or("contas_receber")
}

/// The ERP of a company.
pub(crate) fn erp_of(cx: &Ctx, connection: &str) -> CoreResult<&'static str> {
    Ok(cx.connections().list()?.into_iter().find(|c| c.id == connection).map(|c| source(&c).erp).unwrap_or("omie"))
}
