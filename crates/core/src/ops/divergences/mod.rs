//! Divergences: records in the synced ERP data that break a rule, explained, reviewed by people,
//! corrected in the ERP exactly once, and rolled back from their audit record.
//!
//! The rules are data (`divergence_rules`): a kind, its parameters, a default confidence, a *show*
//! and an *auto-apply* threshold, enabled, and a version whose every change is kept with who, when
//! and why. Three families, after the user's seed (002): **classification** (a payable or receivable
//! that matches a pattern but is booked under another category; the correction is the expected
//! category), **pending verification** (possible duplicate titles: flag only; an order with a posted
//! service NF not closed; an NF-e receipt's attachments not copied to its payable: each names the
//! RF-002 / RF-001 job that fixes it), and **value validation** (an NF-e receipt whose payables do
//! not add up to its value; a Contífico document whose lines or taxes do not add up). Each kind is one
//! set-based query over the synced tables (`store.rs`), never a loop over records.
//!
//! A processing session (a job) runs the enabled rules, gives each candidate a stable fingerprint
//! (rule + evidence keys) and folds the candidates into the stored divergences in one transaction:
//! new ones open, an open one is left alone unless its evidence changed, a rejected one comes back
//! only when its evidence changed, and an open one no longer seen is closed as resolved at source.
//! A session in which nothing changed writes nothing but its own record.
//!
//! Applying is a job too. An operation row is written *before* the ERP is called and marked sent,
//! then committed after; a retry (after a crash or a timeout) first re-reads the ERP record, so a
//! write that landed is recognised and never sent twice. A rollback re-reads the record first and
//! refuses, saying what changed, when someone edited it after our write.

pub mod report;
mod rules;
mod store;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::erp::JobKind;
use crate::error::{ApiError, CoreError, CoreResult};
use crate::jobs::JobCtx;
use crate::model::Job;
use crate::Ctx;

pub use rules::{RuleKind, DEFAULT_RULES};

/// A rule as stored.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Rule {
    pub id: String,
    /// `classification`, `duplicate_titles`, `receipt_value`, `billing_contract`,
    /// `service_order_open`, `receipt_attachments`, `document_lines`, `delivery_without_receipt` or
    /// `sale_without_entry` ([`RuleKind`]).
    pub kind: String,
    pub name: String,
    /// The kind's parameters (patterns, category codes, tolerances); see [`RuleKind`].
    #[ts(type = "Record<string, unknown>")]
    pub params: serde_json::Value,
    /// Default confidence of what the rule finds, 0–100.
    pub confidence: u8,
    /// Divergences below this confidence are kept but not listed in the inbox.
    pub show_threshold: u8,
    /// At or above this confidence an automatic session applies the correction; none: never.
    pub auto_apply_threshold: Option<u8>,
    pub enabled: bool,
    pub version: u32,
    pub updated_at: String,
    pub updated_by: String,
}

/// A change to a rule, from the window or the CLI. `reason` is kept in the rule's history.
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct RuleInput {
    pub name: Option<String>,
    #[ts(type = "Record<string, unknown> | null")]
    pub params: Option<serde_json::Value>,
    pub confidence: Option<u8>,
    pub show_threshold: Option<u8>,
    /// `Some(None)` is not expressible over JSON; use `auto_apply_off` to turn auto-apply off.
    pub auto_apply_threshold: Option<u8>,
    pub auto_apply_off: bool,
    pub enabled: Option<bool>,
    pub reason: String,
}

/// One version of a rule, as it was.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct RuleVersion {
    pub version: u32,
    pub rule: Rule,
    pub changed_at: String,
    pub changed_by: String,
    pub reason: String,
}

/// A record behind a divergence (links into the data browser).
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct EvidenceRef {
    pub connection_id: String,
    pub resource: String,
    pub id: String,
    pub label: String,
}

/// What applying changes: one field of one ERP record, before → after.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Correction {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// `open` → `approved` | `rejected` → `applied` | `failed` → `rolled_back`; `resolved` when the
/// condition no longer holds at the source.
pub const STATUSES: [&str; 7] = ["open", "approved", "rejected", "applied", "failed", "rolled_back", "resolved"];

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Divergence {
    pub id: String,
    pub fingerprint: String,
    pub rule_id: String,
    pub rule_name: String,
    pub rule_version: u32,
    pub kind: String,
    pub connection_id: Option<String>,
    pub connection_name: Option<String>,
    pub erp: String,
    pub resource: String,
    pub record_id: String,
    pub record_label: String,
    pub confidence: u8,
    /// How the records were matched: `exact_key`, `number_party`, `amount_date`, `pattern`,
    /// `party_document`.
    pub basis: String,
    /// The amount at stake, an exact decimal.
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub evidence: Vec<EvidenceRef>,
    /// Values the explanation interpolates (`divergences.explain.<kind>` in the dictionaries).
    pub facts: BTreeMap<String, String>,
    pub correction: Option<Correction>,
    pub status: String,
    pub assignee: Option<String>,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub resolved_at: Option<String>,
    pub updated_at: String,
}

/// Something that happened to a divergence.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct DivergenceEvent {
    /// `detected`, `evidence_changed`, `reopened`, `resolved`, `approved`, `rejected`, `assigned`,
    /// `commented`, `applied`, `apply_failed`, `rolled_back`, `rollback_refused`.
    pub action: String,
    pub at: String,
    pub who: String,
    pub machine: String,
    pub note: String,
    pub session_id: Option<String>,
    pub job_id: Option<String>,
    pub operation_id: Option<String>,
}

/// A write to an ERP (or its refusal), with what was there before and what we wrote.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Operation {
    pub id: String,
    pub divergence_id: String,
    /// `apply` or `rollback`.
    pub kind: String,
    pub connection_id: Option<String>,
    pub erp: String,
    pub resource: String,
    pub record_id: String,
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// `pending`, `sent` (the ERP was called; not yet confirmed), `committed`, `failed`, `refused`.
    pub status: String,
    pub error: Option<ApiError>,
    pub who: String,
    pub machine: String,
    pub job_id: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct DivergenceDetail {
    pub divergence: Divergence,
    pub events: Vec<DivergenceEvent>,
    pub operations: Vec<Operation>,
}

/// What the inbox asks for. Empty lists and `None` mean "any".
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct DivergenceFilter {
    pub statuses: Vec<String>,
    pub rule_ids: Vec<String>,
    pub connection_id: Option<String>,
    pub min_confidence: Option<u8>,
    /// Amount at stake at least this (exact decimal text).
    pub min_amount: Option<String>,
    /// First seen on or after / before this date (yyyy-mm-dd, UTC).
    pub from: Option<String>,
    pub to: Option<String>,
    pub assignee: Option<String>,
    /// Words in the record's label or id.
    pub search: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct DivergencePage {
    pub items: Vec<Divergence>,
    pub total: u32,
    /// Sum of the amounts at stake of every matching divergence (not just this page), whatever their
    /// currency: a count of money for sorting and tests, never shown as one amount.
    pub amount_total: String,
    /// The amounts at stake of every matching divergence per currency (`BRL`, `USD`): what is shown.
    pub amounts: BTreeMap<String, String>,
    /// Open (and approved, failed) divergences per rule, over everything.
    pub open_by_rule: BTreeMap<String, u32>,
}

/// A decision on several divergences at once.
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Decision {
    pub ids: Vec<String>,
    /// `approve`, `reject`, `reopen`, `assign`, `comment`, or `accept_explanation` (the gap is
    /// explained: closed like a rejection, the explanation kept in the history).
    pub action: String,
    /// Required for approve, reject and reopen; the comment for `comment`.
    pub reason: String,
    pub assignee: Option<String>,
    /// For `accept_explanation`: the explanation accepted (its key, e.g. `cancelled_title`).
    #[ts(optional)]
    pub explanation: Option<String>,
}

/// What changed per divergence of a decision.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct DecisionResult {
    pub changed: Vec<String>,
    /// Id → why it was left as it was (e.g. already applied).
    pub skipped: BTreeMap<String, String>,
}

/// A processing session as the window lists it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct Session {
    pub id: String,
    pub job_id: Option<String>,
    /// `manual` (detect only) or `auto` (also apply at or above each rule's auto-apply threshold).
    pub mode: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Per rule id: `new`, `still_open`, `evidence_changed`, `reopened`, `resolved`, `hidden`, `errors`.
    #[ts(type = "Record<string, Record<string, number>>")]
    pub counts: BTreeMap<String, BTreeMap<String, i64>>,
    pub who: String,
    pub machine: String,
}

/// Parameters of a session job.
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct SessionParams {
    /// `manual` (default) or `auto`.
    pub mode: String,
    /// Only these rules (default: every enabled rule).
    pub rules: Vec<String>,
    /// Run every rule even when neither it nor the synced data changed since its last run.
    pub force: bool,
}

/// Parameters of an apply (or rollback) job.
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct ApplyParams {
    /// Divergences to apply (approved ones) or roll back (applied ones); empty: every approved one.
    pub ids: Vec<String>,
    pub rollback: bool,
}

/// Who did something: the operating-system user and the machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub who: String,
    pub machine: String,
}

impl Actor {
    pub fn current() -> Actor {
        Actor {
            who: whoami::username(),
            machine: whoami::fallible::hostname().unwrap_or_else(|_| "unknown".to_string()),
        }
    }

    fn automatic() -> Actor {
        Actor { who: "BackOffice (automatic)".into(), machine: Actor::current().machine }
    }
}

// ---------------------------------------------------------------------------------------------
// Rules

/// The rules, the default ones created on first use.
pub fn list_rules(cx: &Ctx) -> CoreResult<Vec<Rule>> {
    store::ensure_default_rules(&cx.store, &Actor::current(), cx.clock.now().date_naive())?;
    store::rules(&cx.store)
}

/// Changes a rule: checked against its kind, version + 1, the previous version kept in history.
pub fn save_rule(cx: &Ctx, id: &str, input: &RuleInput) -> CoreResult<Rule> {
    store::ensure_default_rules(&cx.store, &Actor::current(), cx.clock.now().date_naive())?;
    if input.reason.trim().is_empty() {
        return Err(CoreError::invalid("reason", "say why the rule changes; it is kept in the rule's history"));
    }
    let mut rule = store::rule(&cx.store, id)?.ok_or_else(|| CoreError::NotFound { what: format!("Rule {id}") })?;
    if let Some(n) = &input.name {
        if n.trim().is_empty() {
            return Err(CoreError::invalid("name", "a rule needs a name"));
        }
        rule.name = n.trim().to_string();
    }
    if let Some(p) = &input.params {
        rule.params = p.clone();
    }
    for (field, v) in [
        ("confidence", input.confidence),
        ("show_threshold", input.show_threshold),
        ("auto_apply_threshold", input.auto_apply_threshold),
    ] {
        if v.is_some_and(|v| v > 100) {
            return Err(CoreError::invalid(field, "a confidence is a percentage from 0 to 100"));
        }
    }
    if let Some(c) = input.confidence {
        rule.confidence = c;
    }
    if let Some(c) = input.show_threshold {
        rule.show_threshold = c;
    }
    if input.auto_apply_off {
        rule.auto_apply_threshold = None;
    } else if let Some(c) = input.auto_apply_threshold {
        rule.auto_apply_threshold = Some(c);
    }
    if let Some(e) = input.enabled {
        rule.enabled = e;
    }
    let kind = RuleKind::parse(&rule.kind)?;
    kind.check(&rule)?;
    if kind.correction_field().is_none() && rule.auto_apply_threshold.is_some() {
        return Err(CoreError::invalid(
            "auto_apply_threshold",
            format!("rule \"{}\" only flags records (it has no correction to apply); leave auto-apply off", rule.name),
        ));
    }
    store::save_rule(&cx.store, &rule, &Actor::current(), input.reason.trim())?;
    store::rule(&cx.store, id)?.ok_or_else(|| CoreError::Internal("the rule vanished".into()))
}

pub fn rule_history(cx: &Ctx, id: &str) -> CoreResult<Vec<RuleVersion>> {
    store::rule_history(&cx.store, id)
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// Starts a processing session (manual: detect; auto: detect and apply what the rules allow).
pub fn start_session(cx: &Arc<Ctx>, params: SessionParams) -> CoreResult<Job> {
    let mode = match params.mode.as_str() {
        "" | "manual" => "manual",
        "auto" => "auto",
        other => return Err(CoreError::invalid("mode", format!("\"{other}\" is not a mode: use manual or auto"))),
    };
    store::ensure_default_rules(&cx.store, &Actor::current(), cx.clock.now().date_naive())?;
    let rules = store::rules(&cx.store)?;
    for r in &params.rules {
        if !rules.iter().any(|x| &x.id == r) {
            return Err(CoreError::NotFound { what: format!("Rule {r}") });
        }
    }
    let core = cx.clone();
    let json = serde_json::json!({ "mode": mode, "rules": params.rules, "force": params.force });
    let (job, _h) = cx.jobs.spawn(JobKind::Divergences.as_str(), None, json, move |ctx| async move {
        let rules: Vec<Rule> = rules
            .into_iter()
            .filter(|r| r.enabled && (params.rules.is_empty() || params.rules.contains(&r.id)))
            .collect();
        let session = run_session(&core, &ctx, &rules, mode, params.force)?;
        if mode == "auto" {
            let ids = store::auto_apply_candidates(&core.store)?;
            if !ids.is_empty() {
                let decided = decide_as(
                    &core,
                    &Decision {
                        ids: ids.clone(),
                        action: "approve".into(),
                        reason: "auto-apply threshold".into(),
                        assignee: None,
                        explanation: None,
                    },
                    &Actor::automatic(),
                    Some(&session),
                )?;
                ctx.add_count("auto_approved", decided.changed.len() as i64);
                apply_all(&core, &ctx, &decided.changed, false).await?;
            }
        }
        Ok(())
    })?;
    Ok(job)
}

/// Runs the rules and folds what they find into the stored divergences; returns the session id.
/// Per rule: the synced data's stamp and the rule's version at its last good run.
const LAST_RUN: crate::store::settings::SettingFamily<(String, u32)> =
    crate::store::settings::SettingFamily::json("divergences.last_run");

fn run_session(cx: &Ctx, ctx: &JobCtx, rules: &[Rule], mode: &str, force: bool) -> CoreResult<String> {
    let actor = Actor::current();
    let session = store::start_session(&cx.store, ctx.id(), mode, &actor)?;
    let mut counts: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut failed = vec![];
    let stamp = store::data_stamp(&cx.store, "omie")?;
    for (i, rule) in rules.iter().enumerate() {
        ctx.progress(Some(i as f64 / rules.len().max(1) as f64), &rule.name);
        if ctx.is_cancelled() {
            break;
        }
        // Neither the rule nor the data it reads changed since its last good run: what it would
        // find is what is stored, so it is not run again (a session then writes nothing).
        let last = cx.store.setting(&LAST_RUN.of(&rule.id))?;
        // What a kind's findings depend on: Omie's syncs by default; the billing rule also on the
        // contracts, their settings, Contífico's sales and the current month; the others on their
        // own ERP's syncs and BackOffice's records (closures, transfers, runs, local categories).
        let stamp = match rule.kind.as_str() {
            "billing_contract" => {
                format!("{stamp}|{}|{}", store::data_stamp(&cx.store, "contifico")?, crate::ops::contracts::stamp(cx)?)
            }
            // The pending checks also read BackOffice's own closures and attachment copies.
            "service_order_open" | "receipt_attachments" => format!("{stamp}|{}", store::omie_fixes_stamp(&cx.store)?),
            "document_lines" | "sale_without_entry" => store::data_stamp(&cx.store, "contifico")?,
            "classification" => {
                format!("{stamp}|{}|{}", store::data_stamp(&cx.store, "contifico")?, store::local_stamp(&cx.store)?)
            }
            "delivery_without_receipt" => {
                format!("{}|{}", store::data_stamp(&cx.store, "erpnext")?, store::erpnext_runs_stamp(&cx.store)?)
            }
            _ => stamp.clone(),
        };
        if !force && last.as_ref() == Some(&(stamp.clone(), rule.version)) {
            let c = counts.entry(rule.id.clone()).or_default();
            c.insert("still_open".into(), store::open_count(&cx.store, &rule.id)?);
            c.insert("unchanged".into(), 1);
            ctx.log_t(
                "info",
                "divergences.rule_unchanged",
                &[("rule", rule.name.clone())],
                &format!("{}: nothing synced since its last run; its divergences stand", rule.name),
            );
            continue;
        }
        let found = RuleKind::parse(&rule.kind).and_then(|k| rules::detect(cx, k, rule));
        let c = counts.entry(rule.id.clone()).or_default();
        match found {
            Err(e) => {
                // A broken rule is named; the other rules go on.
                ctx.log_t(
                    "error",
                    "divergences.rule_failed",
                    &[("rule", rule.name.clone()), ("error", e.to_string()), ("error_json", e.to_api().to_stored())],
                    &format!("rule \"{}\" could not run: {e}", rule.name),
                );
                *c.entry("errors".into()).or_default() += 1;
                failed.push(rule.name.clone());
            }
            Ok(found) => {
                // Everything found is kept; the inbox hides what is below the rule's show threshold
                // (so changing the threshold shows or hides at once, without a new session).
                let hidden = found.candidates.iter().filter(|x| x.confidence < rule.show_threshold).count();
                for p in &found.problems {
                    ctx.log_t(
                        "warn",
                        "divergences.record_skipped",
                        &[("rule", rule.name.clone()), ("record", p.0.clone()), ("reason", p.1.clone())],
                        &format!("rule \"{}\" skipped {}: {}", rule.name, p.0, p.1),
                    );
                }
                let folded = store::fold(&cx.store, rule, &found.candidates, &session, &actor)?;
                cx.store.set_setting(&LAST_RUN.of(&rule.id), &(stamp.clone(), rule.version))?;
                for (k, v) in folded {
                    *c.entry(k).or_default() += v;
                }
                c.insert("hidden".into(), hidden as i64);
                ctx.log_t(
                    "info",
                    "divergences.rule_done",
                    &[
                        ("rule", rule.name.clone()),
                        ("new", c.get("new").copied().unwrap_or(0).to_string()),
                        ("open", c.get("still_open").copied().unwrap_or(0).to_string()),
                        ("resolved", c.get("resolved").copied().unwrap_or(0).to_string()),
                    ],
                    &format!(
                        "{}: {} new, {} still open, {} resolved at the source",
                        rule.name,
                        c.get("new").copied().unwrap_or(0),
                        c.get("still_open").copied().unwrap_or(0),
                        c.get("resolved").copied().unwrap_or(0)
                    ),
                );
            }
        }
    }
    for c in counts.values() {
        for (k, v) in c {
            ctx.add_count(k, *v);
        }
    }
    let status = if ctx.is_cancelled() {
        "cancelled"
    } else if failed.is_empty() {
        "succeeded"
    } else {
        "failed"
    };
    store::finish_session(&cx.store, &session, status, &counts)?;
    if ctx.is_cancelled() {
        return Err(CoreError::Cancelled);
    }
    if !failed.is_empty() {
        return Err(CoreError::invalid(
            "rules",
            format!("these rules could not run: {}. Check their parameters; the other rules ran.", failed.join(", ")),
        ));
    }
    Ok(session)
}

pub fn sessions(cx: &Ctx, limit: u32) -> CoreResult<Vec<Session>> {
    store::sessions(&cx.store, limit)
}

// ---------------------------------------------------------------------------------------------
// Review

pub fn list(cx: &Ctx, filter: &DivergenceFilter) -> CoreResult<DivergencePage> {
    for s in &filter.statuses {
        if !STATUSES.contains(&s.as_str()) {
            return Err(CoreError::invalid("status", format!("\"{s}\" is not a status: use {}", STATUSES.join(", "))));
        }
    }
    if let Some(a) = &filter.min_amount {
        a.parse::<rust_decimal::Decimal>().map_err(|_| {
            CoreError::invalid("min_amount", format!("\"{a}\" is not an amount (use a dot for decimals)"))
        })?;
    }
    for (f, d) in [("from", &filter.from), ("to", &filter.to)] {
        if let Some(d) = d {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| CoreError::invalid(f, format!("\"{d}\" is not a date (yyyy-mm-dd)")))?;
        }
    }
    store::list(&cx.store, filter)
}

pub fn detail(cx: &Ctx, id: &str) -> CoreResult<DivergenceDetail> {
    store::detail(&cx.store, id)
}

/// Approve, reject, reopen, assign or comment on several divergences; a written reason is required
/// for the first three. Divergences whose status does not allow the action are reported, not changed.
pub fn decide(cx: &Ctx, d: &Decision) -> CoreResult<DecisionResult> {
    decide_as(cx, d, &Actor::current(), None)
}

fn decide_as(cx: &Ctx, d: &Decision, actor: &Actor, session: Option<&str>) -> CoreResult<DecisionResult> {
    if d.ids.is_empty() {
        return Err(CoreError::invalid("ids", "choose at least one divergence"));
    }
    let needs_reason = matches!(d.action.as_str(), "approve" | "reject" | "reopen" | "comment" | "accept_explanation");
    if needs_reason && d.reason.trim().is_empty() {
        return Err(CoreError::invalid("reason", "write why; the reason is kept in the divergence's history"));
    }
    if !matches!(d.action.as_str(), "approve" | "reject" | "reopen" | "assign" | "comment" | "accept_explanation") {
        return Err(CoreError::invalid(
            "action",
            format!(
                "\"{}\" is not a decision: use approve, reject, reopen, assign, comment or accept_explanation",
                d.action
            ),
        ));
    }
    store::decide(&cx.store, d, actor, session)
}

// ---------------------------------------------------------------------------------------------
// Apply and roll back

/// Starts a job that applies approved corrections (or rolls back applied ones).
pub fn start_apply(cx: &Arc<Ctx>, params: ApplyParams) -> CoreResult<Job> {
    let ids = if params.ids.is_empty() && !params.rollback {
        store::ids_with_status(&cx.store, "approved")?
    } else {
        params.ids.clone()
    };
    if ids.is_empty() {
        return Err(CoreError::invalid(
            "ids",
            if params.rollback {
                "choose the applied corrections to roll back"
            } else {
                "no approved divergence to apply"
            },
        ));
    }
    let core = cx.clone();
    let json = serde_json::json!({ "ids": ids, "rollback": params.rollback });
    let (job, _h) = cx.jobs.spawn(JobKind::DivergencesApply.as_str(), None, json, move |ctx| async move {
        apply_all(&core, &ctx, &ids, params.rollback).await
    })?;
    Ok(job)
}

async fn apply_all(cx: &Arc<Ctx>, ctx: &JobCtx, ids: &[String], rollback: bool) -> CoreResult<()> {
    let actor = Actor::current();
    let mut failed = 0usize;
    for (i, id) in ids.iter().enumerate() {
        if ctx.is_cancelled() {
            return Err(CoreError::Cancelled);
        }
        ctx.progress(Some(i as f64 / ids.len() as f64), id);
        let d = store::detail(&cx.store, id)?.divergence;
        let out = if rollback { rollback_one(cx, ctx, &d, &actor).await } else { apply_one(cx, ctx, &d, &actor).await };
        match out {
            Ok(done) => ctx.add_count(done, 1),
            Err(e) => {
                failed += 1;
                ctx.add_count("failed", 1);
                ctx.log_t(
                    "error",
                    "divergences.apply_failed",
                    &[
                        ("record", d.record_label.clone()),
                        ("error", e.to_string()),
                        ("error_json", e.to_api().to_stored()),
                    ],
                    &format!("{}: {e}", d.record_label),
                );
            }
        }
    }
    ctx.progress(Some(1.0), "");
    if failed > 0 {
        return Err(CoreError::invalid(
            "divergences",
            format!("{failed} of {} corrections could not be applied; each one's history says why", ids.len()),
        ));
    }
    Ok(())
}

/// The ERP side of a correction: reads and writes one field of one record.
struct Target {
    conn: crate::model::Connection,
    resource: String,
    record: String,
    field: String,
}

impl Target {
    fn of(cx: &Ctx, d: &Divergence, c: &Correction) -> CoreResult<Target> {
        let conn_id = d.connection_id.as_deref().ok_or_else(|| {
            CoreError::invalid(
                "connection",
                format!("the connection of {} was removed; nothing can be written", d.record_label),
            )
        })?;
        Ok(Target {
            conn: cx.connections().get(conn_id)?,
            resource: d.resource.clone(),
            record: d.record_id.clone(),
            field: c.field.clone(),
        })
    }

    /// A local field (a category BackOffice keeps where the ERP has none to write) lives in this
    /// database, read and written like the ERP's own fields so the same exactly-once and
    /// refuse-if-changed rules hold.
    fn local(&self) -> bool {
        self.field == store::LOCAL_CATEGORY
    }

    async fn read(&self, cx: &Ctx) -> CoreResult<String> {
        if self.local() {
            return store::local_value(&cx.store, &self.conn.id, &self.resource, &self.record, &self.field);
        }
        crate::erp::read_field(cx, &self.conn, &self.resource, &self.record, &self.field).await
    }

    async fn write(&self, cx: &Ctx, value: &str) -> CoreResult<()> {
        if self.local() {
            return store::set_local_value(
                &cx.store,
                &self.conn.id,
                &self.resource,
                &self.record,
                &self.field,
                value,
                &Actor::current(),
            );
        }
        crate::erp::write_field(cx, &self.conn, &self.resource, &self.record, &self.field, value).await
    }
}

async fn apply_one(cx: &Arc<Ctx>, ctx: &JobCtx, d: &Divergence, actor: &Actor) -> CoreResult<&'static str> {
    let c = d.correction.clone().ok_or_else(|| {
        CoreError::invalid("correction", format!("{} is only flagged; there is nothing to apply", d.record_label))
    })?;
    let pending = store::unfinished_operation(&cx.store, &d.id, "apply")?;
    if d.status == "applied" {
        return Ok("already_applied");
    }
    if pending.is_none() && d.status != "approved" && d.status != "failed" {
        return Err(CoreError::invalid(
            "status",
            format!("{} is {}; only an approved divergence is applied", d.record_label, d.status),
        ));
    }
    let t = Target::of(cx, d, &c)?;
    let op = match pending {
        Some(op) => op,
        None => store::new_operation(&cx.store, d, "apply", &c.field, &c.before, &c.after, actor, ctx.id())?,
    };
    // Re-read first: a write that landed before a crash or a timeout is recognised, not resent.
    let now = t.read(cx).await?;
    if now == c.after {
        store::finish_operation(&cx.store, &op, "committed", None, actor, ctx.id(), "applied")?;
        ctx.log_t(
            "info",
            "divergences.applied",
            &[("record", d.record_label.clone()), ("field", c.field.clone()), ("value", c.after.clone())],
            &format!("{}: {} is {} (already in the ERP)", d.record_label, c.field, c.after),
        );
        return Ok("applied");
    }
    if now != c.before {
        let e = CoreError::invalid(
            "correction",
            format!(
                "{} changed in the ERP since it was checked: {} is now \"{now}\" (was \"{}\"). Nothing was written; run the divergence session again.",
                d.record_label, c.field, c.before
            ),
        );
        store::finish_operation(&cx.store, &op, "refused", Some(&e.to_api()), actor, ctx.id(), "failed")?;
        return Err(e);
    }
    store::mark_sent(&cx.store, &op)?;
    let wrote = t.write(cx, &c.after).await;
    let outcome = match wrote {
        Ok(()) => Ok(()),
        // The answer was lost: the write may have landed. Ask the ERP.
        Err(e) if e.is_transient() => match t.read(cx).await {
            Ok(v) if v == c.after => Ok(()),
            _ => Err(e),
        },
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => {
            store::finish_operation(&cx.store, &op, "committed", None, actor, ctx.id(), "applied")?;
            ctx.log_t(
                "info",
                "divergences.applied",
                &[("record", d.record_label.clone()), ("field", c.field.clone()), ("value", c.after.clone())],
                &format!("{}: {} set to {}", d.record_label, c.field, c.after),
            );
            Ok("applied")
        }
        Err(e) => {
            store::finish_operation(&cx.store, &op, "failed", Some(&e.to_api()), actor, ctx.id(), "failed")?;
            Err(e)
        }
    }
}

async fn rollback_one(cx: &Arc<Ctx>, ctx: &JobCtx, d: &Divergence, actor: &Actor) -> CoreResult<&'static str> {
    let applied = store::last_committed(&cx.store, &d.id, "apply")?.ok_or_else(|| {
        CoreError::invalid("status", format!("{} has no applied correction to roll back", d.record_label))
    })?;
    if d.status == "rolled_back" {
        return Ok("already_rolled_back");
    }
    let (before, after) = (applied.before.clone().unwrap_or_default(), applied.after.clone().unwrap_or_default());
    let c = Correction { field: applied.field.clone(), before: after.clone(), after: before.clone() };
    let t = Target::of(cx, d, &c)?;
    let op = match store::unfinished_operation(&cx.store, &d.id, "rollback")? {
        Some(op) => op,
        None => store::new_operation(&cx.store, d, "rollback", &c.field, &after, &before, actor, ctx.id())?,
    };
    let now = t.read(cx).await?;
    if now == before {
        store::finish_operation(&cx.store, &op, "committed", None, actor, ctx.id(), "rolled_back")?;
        return Ok("rolled_back");
    }
    if now != after {
        let e = CoreError::invalid(
            "rollback",
            format!(
                "{} was edited in the ERP after our correction: {} is now \"{now}\", not \"{after}\" as we wrote it. Nothing was overwritten; check the record in the ERP.",
                d.record_label, c.field
            ),
        );
        store::finish_operation(&cx.store, &op, "refused", Some(&e.to_api()), actor, ctx.id(), "rollback_refused")?;
        return Err(e);
    }
    store::mark_sent(&cx.store, &op)?;
    let outcome = match t.write(cx, &before).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_transient() => match t.read(cx).await {
            Ok(v) if v == before => Ok(()),
            _ => Err(e),
        },
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => {
            store::finish_operation(&cx.store, &op, "committed", None, actor, ctx.id(), "rolled_back")?;
            ctx.log_t(
                "info",
                "divergences.rolled_back",
                &[("record", d.record_label.clone()), ("field", c.field.clone()), ("value", before.clone())],
                &format!("{}: {} back to {}", d.record_label, c.field, before),
            );
            Ok("rolled_back")
        }
        Err(e) => {
            store::finish_operation(&cx.store, &op, "failed", Some(&e.to_api()), actor, ctx.id(), "rollback_failed")?;
            Err(e)
        }
    }
}

/// The operations (audit), newest first.
pub fn operations(cx: &Ctx, limit: u32) -> CoreResult<Vec<Operation>> {
    store::operations(&cx.store, limit)
}

// ---------------------------------------------------------------------------------------------
// Metrics (to tune thresholds and see the backlog)

/// One rule's figures.
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct RuleMetrics {
    pub rule_id: String,
    pub rule_name: String,
    /// Open, approved or failed: waiting for someone.
    pub open: u32,
    /// Amount at stake of those, an exact decimal (every currency added: see `amounts_open`).
    pub amount_open: String,
    /// Amount at stake of those per currency (a rule like "billing vs contract" can span an Omie and
    /// a Contífico company).
    pub amounts_open: BTreeMap<String, String>,
    /// Open ones by age: under 1 day, 1–7 days, 7–30 days, older.
    pub open_by_age: [u32; 4],
    /// Divergences per status (every status, zero included).
    pub by_status: BTreeMap<String, u32>,
    pub approved_by_people: u32,
    pub approved_automatically: u32,
    pub rejected: u32,
    /// Approvals out of approvals and rejections (0–1), when there were any: a rule people mostly
    /// reject needs a higher show threshold.
    pub approve_rate: Option<f64>,
    /// Median hours from detection to the end (applied, rejected, resolved, rolled back).
    pub median_hours_to_end: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, Default, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct DayCount {
    /// yyyy-mm-dd (UTC).
    pub day: String,
    pub detected: u32,
    pub ended: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, Default, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct DivergenceMetrics {
    pub rules: Vec<RuleMetrics>,
    pub open: u32,
    /// Every currency's amounts added together (see `amounts_open` for money to show).
    pub amount_open: String,
    /// The amounts at stake of the divergences waiting for review, per currency.
    pub amounts_open: BTreeMap<String, String>,
    /// Share of applied corrections that were approved automatically (0–1), when any were applied.
    pub auto_apply_rate: Option<f64>,
    /// The last 30 days, oldest first, one entry per day.
    pub days: Vec<DayCount>,
}

pub fn metrics(cx: &Ctx) -> CoreResult<DivergenceMetrics> {
    use rust_decimal::Decimal;
    let rules = list_rules(cx)?;
    let now = cx.clock.now();
    let mut by_rule: BTreeMap<String, RuleMetrics> = rules
        .iter()
        .map(|r| {
            let by_status = STATUSES.iter().map(|s| (s.to_string(), 0)).collect();
            (
                r.id.clone(),
                RuleMetrics { rule_id: r.id.clone(), rule_name: r.name.clone(), by_status, ..Default::default() },
            )
        })
        .collect();
    let mut total_open = 0u32;
    let mut total_amount = Decimal::ZERO;
    for (rule, status, n, amounts) in store::status_counts(&cx.store)? {
        let m = by_rule.entry(rule.clone()).or_insert_with(|| RuleMetrics {
            rule_id: rule.clone(),
            rule_name: rule.clone(),
            ..Default::default()
        });
        m.by_status.insert(status.clone(), n as u32);
        if matches!(status.as_str(), "open" | "approved" | "failed") {
            m.open += n as u32;
            let sum: Decimal = amounts.iter().filter_map(|a| a.parse::<Decimal>().ok()).sum();
            let before: Decimal = m.amount_open.parse().unwrap_or(Decimal::ZERO);
            m.amount_open = (before + sum).normalize().to_string();
            total_open += n as u32;
            total_amount += sum;
        }
    }
    let mut amounts_open: BTreeMap<String, Decimal> = BTreeMap::new();
    for (rule, by_currency) in store::open_amounts(&cx.store)? {
        for (c, a) in &by_currency {
            *amounts_open.entry(c.clone()).or_default() += *a;
        }
        if let Some(m) = by_rule.get_mut(&rule) {
            m.amounts_open = by_currency.into_iter().map(|(c, a)| (c, a.normalize().to_string())).collect();
        }
    }
    let iso = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for (rule, ages) in store::open_ages(&cx.store, &iso)? {
        if let Some(m) = by_rule.get_mut(&rule) {
            m.open_by_age = ages.map(|a| a as u32);
        }
    }
    let (mut auto_total, mut approved_total) = (0u32, 0u32);
    for (rule, action, automatic, n) in store::decision_counts(&cx.store, &Actor::automatic().who)? {
        if let Some(m) = by_rule.get_mut(&rule) {
            match (action.as_str(), automatic) {
                ("approved", true) => m.approved_automatically += n as u32,
                ("approved", false) => m.approved_by_people += n as u32,
                _ => m.rejected += n as u32,
            }
        }
        if action == "approved" {
            approved_total += n as u32;
            if automatic {
                auto_total += n as u32;
            }
        }
    }
    let mut hours: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (rule, h) in store::resolution_hours(&cx.store)? {
        hours.entry(rule).or_default().push(h);
    }
    for m in by_rule.values_mut() {
        let decided = m.approved_by_people + m.approved_automatically + m.rejected;
        if decided > 0 {
            m.approve_rate = Some((m.approved_by_people + m.approved_automatically) as f64 / decided as f64);
        }
        if let Some(h) = hours.get_mut(&m.rule_id) {
            h.sort_by(f64::total_cmp);
            m.median_hours_to_end = h.get(h.len() / 2).copied();
        }
        if m.amount_open.is_empty() {
            m.amount_open = "0".into();
        }
    }
    let today = now.date_naive();
    let from = today - chrono::Duration::days(29);
    let found: BTreeMap<String, (i64, i64)> = store::per_day(&cx.store, &from.format("%Y-%m-%d").to_string())?
        .into_iter()
        .map(|(d, a, b)| (d, (a, b)))
        .collect();
    let days = (0..30)
        .map(|i| {
            let day = (from + chrono::Duration::days(i)).format("%Y-%m-%d").to_string();
            let (detected, ended) = found.get(&day).copied().unwrap_or((0, 0));
            DayCount { day, detected: detected as u32, ended: ended as u32 }
        })
        .collect();
    Ok(DivergenceMetrics {
        rules: by_rule.into_values().collect(),
        open: total_open,
        amount_open: total_amount.normalize().to_string(),
        amounts_open: amounts_open.into_iter().map(|(c, a)| (c, a.normalize().to_string())).collect(),
        auto_apply_rate: (approved_total > 0).then(|| auto_total as f64 / approved_total as f64),
        days,
    })
}
