//! Commands for divergences: one call each into backoffice-core.

use std::sync::Arc;

use backoffice_core::model::Job;
use backoffice_core::ops::divergences::{
    ApplyParams, Decision, DecisionResult, DivergenceDetail, DivergenceFilter, DivergenceMetrics, DivergencePage,
    Operation, Rule, RuleInput, RuleVersion, Session, SessionParams,
};
use backoffice_core::{ApiError, Core};
use tauri::State;

type Res<T> = Result<T, ApiError>;
type CoreState<'a> = State<'a, Arc<Core>>;

#[tauri::command]
pub async fn divergence_rules(core: CoreState<'_>) -> Res<Vec<Rule>> {
    Ok(core.divergence_rules()?)
}

#[tauri::command]
pub async fn save_divergence_rule(core: CoreState<'_>, id: String, input: RuleInput) -> Res<Rule> {
    Ok(core.save_divergence_rule(&id, &input)?)
}

#[tauri::command]
pub async fn divergence_rule_history(core: CoreState<'_>, id: String) -> Res<Vec<RuleVersion>> {
    Ok(core.divergence_rule_history(&id)?)
}

#[tauri::command]
pub async fn start_divergence_session(core: CoreState<'_>, params: SessionParams) -> Res<Job> {
    Ok(core.start_divergence_session(params)?)
}

#[tauri::command]
pub async fn divergence_sessions(core: CoreState<'_>, limit: u32) -> Res<Vec<Session>> {
    Ok(core.divergence_sessions(limit)?)
}

#[tauri::command]
pub async fn divergences(core: CoreState<'_>, filter: DivergenceFilter) -> Res<DivergencePage> {
    Ok(core.divergences(&filter)?)
}

#[tauri::command]
pub async fn divergence(core: CoreState<'_>, id: String) -> Res<DivergenceDetail> {
    Ok(core.divergence(&id)?)
}

#[tauri::command]
pub async fn decide_divergences(core: CoreState<'_>, decision: Decision) -> Res<DecisionResult> {
    Ok(core.decide_divergences(&decision)?)
}

#[tauri::command]
pub async fn apply_divergences(core: CoreState<'_>, params: ApplyParams) -> Res<Job> {
    Ok(core.apply_divergences(params)?)
}

#[tauri::command]
pub async fn divergence_metrics(core: CoreState<'_>) -> Res<DivergenceMetrics> {
    Ok(core.divergence_metrics()?)
}

#[tauri::command]
pub async fn divergence_operations(core: CoreState<'_>, limit: u32) -> Res<Vec<Operation>> {
    Ok(core.divergence_operations(limit)?)
}

/// Saves the divergences matching `filter` in the user's Downloads folder, as `csv` or `xlsx`,
/// and returns the file's path for the window to show.
#[tauri::command]
pub async fn export_divergences(core: CoreState<'_>, filter: DivergenceFilter, format: String) -> Res<String> {
    let xlsx = match format.as_str() {
        "xlsx" => true,
        "csv" | "" => false,
        other => {
            return Err(backoffice_core::CoreError::invalid("format", format!("\"{other}\" is not csv or xlsx")).into())
        }
    };
    let path =
        backoffice_core::ops::divergences::report::default_path("divergences", if xlsx { "xlsx" } else { "csv" });
    if xlsx {
        core.export_divergences_xlsx(&filter, &path)?;
    } else {
        core.export_divergences_csv(&filter, &path)?;
    }
    Ok(path.display().to_string())
}
