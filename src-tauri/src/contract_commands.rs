//! Commands for contracts and billing: one call each into backoffice-core. A spreadsheet chosen in
//! the window arrives as its name and bytes; it is read from a private temporary copy.

use std::path::PathBuf;
use std::sync::Arc;

use backoffice_core::ops::contracts::{
    BillingSettings, Contract, ContractChange, ContractInput, ImportPreview, MonthFigure, ReconcileQuery,
    Reconciliation,
};
use backoffice_core::{ApiError, Core, CoreError};
use tauri::State;

type Res<T> = Result<T, ApiError>;
type CoreState<'a> = State<'a, Arc<Core>>;

#[tauri::command]
pub async fn contracts(core: CoreState<'_>, connection: Option<String>) -> Res<Vec<Contract>> {
    Ok(core.contracts(connection.as_deref())?)
}

#[tauri::command]
pub async fn save_contract(core: CoreState<'_>, input: ContractInput) -> Res<Contract> {
    Ok(core.save_contract(&input)?)
}

#[tauri::command]
pub async fn delete_contract(core: CoreState<'_>, id: String, reason: String) -> Res<()> {
    Ok(core.delete_contract(&id, &reason)?)
}

#[tauri::command]
pub async fn contract_history(core: CoreState<'_>, id: String) -> Res<Vec<ContractChange>> {
    Ok(core.contract_history(&id)?)
}

/// A private copy of the chosen file, removed when dropped.
struct Upload(PathBuf);

impl Upload {
    fn new(name: &str, content: &[u8]) -> Result<Upload, CoreError> {
        let safe: String =
            name.chars().map(|c| if c.is_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
        let dir = std::env::temp_dir().join(format!("backoffice-import-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| CoreError::invalid("file", format!("could not read the file: {e}")))?;
        let path = dir.join(format!("{}-{safe}", chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)));
        std::fs::write(&path, content)
            .map_err(|e| CoreError::invalid("file", format!("could not read the file: {e}")))?;
        Ok(Upload(path))
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tauri::command]
pub async fn preview_contracts_import(
    core: CoreState<'_>,
    name: String,
    content: Vec<u8>,
    connection: Option<String>,
) -> Res<ImportPreview> {
    let up = Upload::new(&name, &content)?;
    let mut p = core.preview_contracts_import(&up.0, connection.as_deref())?;
    p.file = name;
    Ok(p)
}

#[tauri::command]
pub async fn import_contracts(
    core: CoreState<'_>,
    name: String,
    content: Vec<u8>,
    connection: Option<String>,
    skip_refused: bool,
) -> Res<ImportPreview> {
    let up = Upload::new(&name, &content)?;
    let mut p = core.import_contracts(&up.0, connection.as_deref(), skip_refused)?;
    p.file = name;
    Ok(p)
}

#[tauri::command]
pub async fn billing_settings(core: CoreState<'_>) -> Res<BillingSettings> {
    Ok(core.billing_settings()?)
}

#[tauri::command]
pub async fn save_billing_settings(core: CoreState<'_>, settings: BillingSettings) -> Res<BillingSettings> {
    Ok(core.save_billing_settings(&settings)?)
}

#[tauri::command]
pub async fn reconcile_billing(core: CoreState<'_>, query: ReconcileQuery) -> Res<Reconciliation> {
    Ok(core.reconcile_billing(&query)?)
}

#[tauri::command]
pub async fn billing_strip(
    core: CoreState<'_>,
    connection: Option<String>,
    client: String,
    to: Option<String>,
    months: u32,
) -> Res<Vec<MonthFigure>> {
    Ok(core.billing_strip(connection.as_deref(), &client, to.as_deref(), months)?)
}

/// Saves the month's reconciliation in the user's Downloads folder as `csv` or `xlsx` and returns
/// the file's path for the window to show.
#[tauri::command]
pub async fn export_reconciliation(core: CoreState<'_>, query: ReconcileQuery, format: String) -> Res<String> {
    let ext = match format.as_str() {
        "xlsx" => "xlsx",
        "csv" | "" => "csv",
        other => return Err(CoreError::invalid("format", format!("\"{other}\" is not csv or xlsx")).into()),
    };
    let what = format!("billing-{}", query.month.clone().unwrap_or_default());
    let path = backoffice_core::ops::divergences::report::default_path(what.trim_end_matches('-'), ext);
    core.export_reconciliation(&query, ext, &path)?;
    Ok(path.display().to_string())
}
