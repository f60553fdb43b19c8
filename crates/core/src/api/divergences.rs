//! The facade for Divergences: rules, processing sessions, the inbox, decisions, apply and
//! rollback, the audit and reports. Each method hands the narrow context to the feature.

use std::path::Path;

use crate::error::CoreResult;
use crate::model::Job;
use crate::ops::divergences::{
    self as div, ApplyParams, Decision, DecisionResult, DivergenceDetail, DivergenceFilter, DivergenceMetrics,
    DivergencePage, Operation, Rule, RuleInput, RuleVersion, Session, SessionParams,
};
use crate::Core;

impl Core {
    pub fn divergence_rules(&self) -> CoreResult<Vec<Rule>> {
        div::list_rules(&self.ctx)
    }

    pub fn save_divergence_rule(&self, id: &str, input: &RuleInput) -> CoreResult<Rule> {
        div::save_rule(&self.ctx, id, input)
    }

    pub fn divergence_rule_history(&self, id: &str) -> CoreResult<Vec<RuleVersion>> {
        div::rule_history(&self.ctx, id)
    }

    pub fn start_divergence_session(&self, params: SessionParams) -> CoreResult<Job> {
        div::start_session(&self.ctx, params)
    }

    pub fn divergence_sessions(&self, limit: u32) -> CoreResult<Vec<Session>> {
        div::sessions(&self.ctx, limit)
    }

    pub fn divergences(&self, filter: &DivergenceFilter) -> CoreResult<DivergencePage> {
        div::list(&self.ctx, filter)
    }

    pub fn divergence(&self, id: &str) -> CoreResult<DivergenceDetail> {
        div::detail(&self.ctx, id)
    }

    pub fn decide_divergences(&self, decision: &Decision) -> CoreResult<DecisionResult> {
        div::decide(&self.ctx, decision)
    }

    pub fn apply_divergences(&self, params: ApplyParams) -> CoreResult<Job> {
        div::start_apply(&self.ctx, params)
    }

    pub fn divergence_metrics(&self) -> CoreResult<DivergenceMetrics> {
        div::metrics(&self.ctx)
    }

    pub fn divergence_operations(&self, limit: u32) -> CoreResult<Vec<Operation>> {
        div::operations(&self.ctx, limit)
    }

    pub fn export_divergences_csv(&self, filter: &DivergenceFilter, path: &Path) -> CoreResult<usize> {
        div::report::divergences_csv(&self.ctx, filter, path)
    }

    pub fn export_divergences_xlsx(&self, filter: &DivergenceFilter, path: &Path) -> CoreResult<usize> {
        div::report::divergences_xlsx(&self.ctx, filter, path)
    }

    pub fn export_divergence_operations_csv(&self, path: &Path) -> CoreResult<usize> {
        div::report::operations_csv(&self.ctx, path)
    }

    pub fn export_divergence_sessions_csv(&self, path: &Path) -> CoreResult<usize> {
        div::report::sessions_csv(&self.ctx, path)
    }

    pub fn export_reclassifications_csv(&self, path: &Path) -> CoreResult<usize> {
        crate::ops::divergences::report::reclassifications_csv(&self.ctx, path)
    }
}
