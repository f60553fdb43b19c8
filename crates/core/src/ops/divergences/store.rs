//! The divergence tables and the rules' set-based queries over the synced data. The only place
//! the divergences' SQL lives; `mod.rs` decides, this module reads and writes.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use rust_decimal::Decimal;

use super::rules::{Candidate, DEFAULT_RULES, THIRTY_DAYS_AGO};
use super::{
    Actor, Correction, Decision, DecisionResult, Divergence, DivergenceDetail, DivergenceEvent, DivergenceFilter,
    DivergencePage, EvidenceRef, Operation, Rule, RuleVersion, Session,
};
use crate::error::{ApiError, CoreError, CoreResult};
use crate::store::db::{number_placeholders, Dialect, SqliteDb};
use crate::store::{now_utc, Backend, Db, Row, Store, ToValue, Value};
use crate::vals;

// ---------------------------------------------------------------------------------------------
// Rules

const RULE_COLS: &str =
    "id, kind, name, params, confidence, show_threshold, auto_apply_threshold, enabled, version, updated_at, updated_by";

fn rule_from_row(r: &Row) -> CoreResult<Rule> {
    let params: String = r.get(3)?;
    Ok(Rule {
        id: r.get(0)?,
        kind: r.get(1)?,
        name: r.get(2)?,
        params: serde_json::from_str(&params).unwrap_or(serde_json::Value::Null),
        confidence: r.get(4)?,
        show_threshold: r.get(5)?,
        auto_apply_threshold: r.get(6)?,
        enabled: r.get(7)?,
        version: r.get(8)?,
        updated_at: r.get(9)?,
        updated_by: r.get(10)?,
    })
}

fn rule_in(db: &mut dyn Db, id: &str) -> CoreResult<Option<Rule>> {
    db.query_opt(&format!("SELECT {RULE_COLS} FROM divergence_rules WHERE id=?1"), vals![id])?
        .map(|r| rule_from_row(&r))
        .transpose()
}

/// Creates the default rules that were never created (a rule the user changed is left alone).
pub(super) fn ensure_default_rules(store: &Store, actor: &Actor, today: chrono::NaiveDate) -> CoreResult<()> {
    let missing = store.query(|db| {
        let mut n = 0;
        for (id, ..) in DEFAULT_RULES {
            n += usize::from(rule_in(db, id)?.is_none());
        }
        Ok(n)
    })?;
    if missing == 0 {
        return Ok(());
    }
    let now = now_utc();
    store.tx(|db| {
        let thirty_days_ago = (today - chrono::Duration::days(30)).format("%Y-%m-%d").to_string();
        for (id, kind, name, params, confidence, show) in DEFAULT_RULES {
            let params = params.replace(THIRTY_DAYS_AGO, &thirty_days_ago);
            let n = db.execute(
                "INSERT INTO divergence_rules (id, kind, name, params, confidence, show_threshold, auto_apply_threshold, enabled, version, updated_at, updated_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, 1, 1, ?7, ?8) ON CONFLICT DO NOTHING",
                vals![id, kind, name, params, confidence, show, now, actor.who],
            )?;
            if n > 0 {
                let rule = rule_in(db, id)?.ok_or_else(|| CoreError::Internal(format!("rule {id} not stored")))?;
                history(db, &rule, &now, &actor.who, "created with BackOffice's defaults")?;
            }
        }
        Ok(())
    })
}

fn history(db: &mut dyn Db, rule: &Rule, at: &str, who: &str, reason: &str) -> CoreResult<()> {
    db.execute(
        "INSERT INTO divergence_rule_history (rule_id, version, definition, changed_at, changed_by, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (rule_id, version) DO UPDATE SET definition=excluded.definition, changed_at=excluded.changed_at,
             changed_by=excluded.changed_by, reason=excluded.reason",
        vals![rule.id, rule.version, serde_json::to_string(rule).unwrap_or_default(), at, who, reason],
    )?;
    Ok(())
}

pub(super) fn rules(store: &Store) -> CoreResult<Vec<Rule>> {
    store.query(|db| {
        db.query(&format!("SELECT {RULE_COLS} FROM divergence_rules ORDER BY name"), vals![])?
            .iter()
            .map(rule_from_row)
            .collect()
    })
}

pub(super) fn rule(store: &Store, id: &str) -> CoreResult<Option<Rule>> {
    store.query(|db| rule_in(db, id))
}

/// Stores the rule as version + 1 and keeps that version in the history.
pub(super) fn save_rule(store: &Store, rule: &Rule, actor: &Actor, reason: &str) -> CoreResult<()> {
    let now = now_utc();
    store.tx(|db| {
        db.execute(
            "UPDATE divergence_rules SET name=?2, params=?3, confidence=?4, show_threshold=?5, auto_apply_threshold=?6, enabled=?7,
                    version=version+1, updated_at=?8, updated_by=?9 WHERE id=?1",
            vals![
                rule.id,
                rule.name,
                rule.params.to_string(),
                rule.confidence,
                rule.show_threshold,
                rule.auto_apply_threshold,
                rule.enabled,
                now,
                actor.who
            ],
        )?;
        let saved = rule_in(db, &rule.id)?.ok_or_else(|| CoreError::NotFound { what: format!("Rule {}", rule.id) })?;
        history(db, &saved, &now, &actor.who, reason)
    })
}

pub(super) fn rule_history(store: &Store, id: &str) -> CoreResult<Vec<RuleVersion>> {
    store.query(|db| {
        db.query(
            "SELECT version, definition, changed_at, changed_by, reason FROM divergence_rule_history WHERE rule_id=?1 ORDER BY version DESC",
            vals![id],
        )?
        .iter()
        .map(|r| {
            let def: String = r.get(1)?;
            let rule: Rule = serde_json::from_str(&def).map_err(|e| CoreError::Internal(format!("rule history: {e}")))?;
            Ok(RuleVersion { version: r.get(0)?, rule, changed_at: r.get(2)?, changed_by: r.get(3)?, reason: r.get(4)? })
        })
        .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Sessions

pub(super) fn start_session(store: &Store, job_id: &str, mode: &str, actor: &Actor) -> CoreResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    store.tx(|db| {
        db.execute(
            "INSERT INTO divergence_sessions (id, job_id, mode, status, started_at, who, machine) VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6)",
            vals![id, job_id, mode, now_utc(), actor.who, actor.machine],
        )?;
        Ok(())
    })?;
    Ok(id)
}

pub(super) fn finish_session(
    store: &Store,
    id: &str,
    status: &str,
    counts: &BTreeMap<String, BTreeMap<String, i64>>,
) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "UPDATE divergence_sessions SET status=?2, finished_at=?3, counts=?4 WHERE id=?1",
            vals![id, status, now_utc(), serde_json::to_string(counts).unwrap_or_default()],
        )?;
        Ok(())
    })
}

pub(super) fn sessions(store: &Store, limit: u32) -> CoreResult<Vec<Session>> {
    store.query(|db| {
        db.query(
            "SELECT id, job_id, mode, status, started_at, finished_at, counts, who, machine FROM divergence_sessions
             ORDER BY started_at DESC LIMIT ?1",
            vals![limit],
        )?
        .iter()
        .map(|r| {
            let counts: String = r.get(6)?;
            Ok(Session {
                id: r.get(0)?,
                job_id: r.get(1)?,
                mode: r.get(2)?,
                status: r.get(3)?,
                started_at: r.get(4)?,
                finished_at: r.get(5)?,
                counts: serde_json::from_str(&counts).unwrap_or_default(),
                who: r.get(7)?,
                machine: r.get(8)?,
            })
        })
        .collect()
    })
}

#[allow(clippy::too_many_arguments)]
fn event(
    db: &mut dyn Db,
    divergence: &str,
    action: &str,
    actor: &Actor,
    note: &str,
    session: Option<&str>,
    job: Option<&str>,
    operation: Option<&str>,
) -> CoreResult<()> {
    db.execute(
        "INSERT INTO divergence_events (divergence_id, at, action, who, machine, note, session_id, job_id, operation_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        vals![divergence, now_utc(), action, actor.who, actor.machine, note, session, job, operation],
    )?;
    Ok(())
}

/// Folds a rule's candidates into the stored divergences in one transaction; returns counts
/// (`new`, `still_open`, `evidence_changed`, `reopened`, `resolved`). Nothing is written for a
/// divergence whose evidence did not change.
pub(super) fn fold(
    store: &Store,
    rule: &Rule,
    found: &[Candidate],
    session: &str,
    actor: &Actor,
) -> CoreResult<BTreeMap<String, i64>> {
    let now = now_utc();
    store.tx(|db| {
        let mut known: HashMap<String, (String, String, String)> = HashMap::new();
        for r in db.query("SELECT fingerprint, id, status, evidence_hash FROM divergences WHERE rule_id=?1", vals![rule.id])? {
            known.insert(r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?));
        }
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        let mut bump = |k: &str| *counts.entry(k.to_string()).or_default() += 1;
        let mut seen = std::collections::HashSet::with_capacity(found.len());
        for c in found {
            seen.insert(c.fingerprint.as_str());
            let evidence = serde_json::to_string(&c.evidence).unwrap_or_default();
            let facts = serde_json::to_string(&c.facts).unwrap_or_default();
            let correction = c.correction.as_ref().map(|x| serde_json::to_string(x).unwrap_or_default());
            match known.get(&c.fingerprint) {
                None => {
                    let id = uuid::Uuid::new_v4().to_string();
                    db.execute(
                        "INSERT INTO divergences (id, fingerprint, rule_id, rule_version, kind, connection_id, erp, resource, record_id, record_label,
                            confidence, basis, amount, currency, evidence, evidence_hash, facts, correction, status, first_seen_at, last_seen_at,
                            last_session_id, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, 'open', ?19, ?19, ?20, ?19)",
                        vals![
                            id,
                            c.fingerprint,
                            rule.id,
                            rule.version,
                            rule.kind,
                            c.connection_id,
                            c.erp,
                            c.resource,
                            c.record_id,
                            c.record_label,
                            c.confidence,
                            c.basis,
                            c.amount,
                            c.currency,
                            evidence,
                            c.evidence_hash,
                            facts,
                            correction,
                            now,
                            session
                        ],
                    )?;
                    event(db, &id, "detected", actor, "", Some(session), None, None)?;
                    bump("new");
                }
                Some((id, status, hash)) => {
                    let changed = hash != &c.evidence_hash;
                    let (to, action) = match (status.as_str(), changed) {
                        ("open" | "approved" | "failed", false) => {
                            bump("still_open");
                            continue;
                        }
                        // New evidence: looked at again (an approval was for the old values).
                        ("open" | "approved" | "failed", true) => ("open", "evidence_changed"),
                        ("rejected" | "rolled_back", true) | ("resolved", _) => ("open", "reopened"),
                        // Applied, or rejected with the same evidence: left as decided.
                        _ => continue,
                    };
                    db.execute(
                        "UPDATE divergences SET status=?2, rule_version=?3, confidence=?4, basis=?5, amount=?6, evidence=?7, evidence_hash=?8,
                                facts=?9, correction=?10, record_label=?11, last_seen_at=?12, last_session_id=?13, resolved_at=NULL, updated_at=?12
                         WHERE id=?1",
                        vals![
                            id,
                            to,
                            rule.version,
                            c.confidence,
                            c.basis,
                            c.amount,
                            evidence,
                            c.evidence_hash,
                            facts,
                            correction,
                            c.record_label,
                            now,
                            session
                        ],
                    )?;
                    event(db, id, action, actor, "", Some(session), None, None)?;
                    bump(action);
                    if action == "evidence_changed" {
                        bump("still_open");
                    }
                }
            }
        }
        for (fp, (id, status, _)) in &known {
            if seen.contains(fp.as_str()) || !matches!(status.as_str(), "open" | "approved" | "failed") {
                continue;
            }
            db.execute(
                "UPDATE divergences SET status='resolved', resolved_at=?2, last_session_id=?3, updated_at=?2 WHERE id=?1",
                vals![id, now, session],
            )?;
            event(db, id, "resolved", actor, "the condition no longer holds at the source", Some(session), None, None)?;
            bump("resolved");
        }
        Ok(counts)
    })
}

/// Open divergences at or above their rule's auto-apply threshold, with a correction to apply.
pub(super) fn auto_apply_candidates(store: &Store) -> CoreResult<Vec<String>> {
    store.query(|db| {
        db.query(
            "SELECT d.id FROM divergences d JOIN divergence_rules r ON r.id = d.rule_id
              WHERE d.status = 'open' AND d.correction IS NOT NULL AND r.enabled <> 0 AND r.auto_apply_threshold IS NOT NULL
                AND d.confidence >= r.auto_apply_threshold ORDER BY d.first_seen_at",
            vals![],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect()
    })
}

pub(super) fn ids_with_status(store: &Store, status: &str) -> CoreResult<Vec<String>> {
    store.query(|db| {
        db.query(
            "SELECT id FROM divergences WHERE status=?1 AND correction IS NOT NULL ORDER BY first_seen_at",
            vals![status],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Review

const DIV_COLS: &str = "d.id, d.fingerprint, d.rule_id, coalesce(r.name, d.rule_id), d.rule_version, d.kind, d.connection_id, c.name,
    d.erp, d.resource, d.record_id, d.record_label, d.confidence, d.basis, d.amount, d.currency, d.evidence, d.facts, d.correction,
    d.status, d.assignee, d.first_seen_at, d.last_seen_at, d.resolved_at, d.updated_at";
const DIV_FROM: &str =
    "FROM divergences d LEFT JOIN divergence_rules r ON r.id = d.rule_id LEFT JOIN connections c ON c.id = d.connection_id";

fn divergence_from_row(r: &Row) -> CoreResult<Divergence> {
    let evidence: String = r.get(16)?;
    let facts: String = r.get(17)?;
    let correction: Option<String> = r.get(18)?;
    Ok(Divergence {
        id: r.get(0)?,
        fingerprint: r.get(1)?,
        rule_id: r.get(2)?,
        rule_name: r.get(3)?,
        rule_version: r.get(4)?,
        kind: r.get(5)?,
        connection_id: r.get(6)?,
        connection_name: r.get(7)?,
        erp: r.get(8)?,
        resource: r.get(9)?,
        record_id: r.get(10)?,
        record_label: r.get(11)?,
        confidence: r.get(12)?,
        basis: r.get(13)?,
        amount: r.get(14)?,
        currency: r.get(15)?,
        evidence: serde_json::from_str::<Vec<EvidenceRef>>(&evidence).unwrap_or_default(),
        facts: serde_json::from_str(&facts).unwrap_or_default(),
        correction: correction.and_then(|c| serde_json::from_str::<Correction>(&c).ok()),
        status: r.get(19)?,
        assignee: r.get(20)?,
        first_seen_at: r.get(21)?,
        last_seen_at: r.get(22)?,
        resolved_at: r.get(23)?,
        updated_at: r.get(24)?,
    })
}

fn filter_sql(f: &DivergenceFilter) -> (String, Vec<Value>) {
    let mut w = vec!["d.confidence >= coalesce(r.show_threshold, 0)".to_string()];
    let mut p: Vec<Value> = vec![];
    // Numbered placeholders (`?N`), as both dialects read them.
    fn next(p: &mut Vec<Value>, v: Value) -> String {
        p.push(v);
        format!("?{}", p.len())
    }
    let list = |col: &str, vals: &[String], w: &mut Vec<String>, p: &mut Vec<Value>| {
        if vals.is_empty() {
            return;
        }
        let marks: Vec<String> = vals.iter().map(|v| next(p, Value::Text(v.clone()))).collect();
        w.push(format!("{col} IN ({})", marks.join(",")));
    };
    list("d.status", &f.statuses, &mut w, &mut p);
    list("d.rule_id", &f.rule_ids, &mut w, &mut p);
    if let Some(c) = &f.connection_id {
        let m = next(&mut p, Value::Text(c.clone()));
        w.push(format!("d.connection_id = {m}"));
    }
    if let Some(c) = f.min_confidence {
        let m = next(&mut p, Value::Int(c as i64));
        w.push(format!("d.confidence >= {m}"));
    }
    if let Some(a) = &f.min_amount {
        let m = next(&mut p, Value::Text(a.clone()));
        w.push(format!("CAST(d.amount AS DOUBLE PRECISION) >= CAST({m} AS DOUBLE PRECISION)"));
    }
    if let Some(d) = &f.from {
        let m = next(&mut p, Value::Text(d.clone()));
        w.push(format!("d.first_seen_at >= {m}"));
    }
    if let Some(d) = &f.to {
        // Up to the end of that day: before the next one.
        let next_day = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(|d| (d + chrono::Duration::days(1)).format("%Y-%m-%d").to_string())
            .unwrap_or_else(|_| d.clone());
        let m = next(&mut p, Value::Text(next_day));
        w.push(format!("d.first_seen_at < {m}"));
    }
    if let Some(a) = &f.assignee {
        let m = next(&mut p, Value::Text(a.clone()));
        w.push(format!("d.assignee = {m}"));
    }
    if let Some(s) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let escaped = s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let like = next(&mut p, Value::Text(format!("%{escaped}%")));
        let exact = next(&mut p, Value::Text(s.to_string()));
        w.push(format!("(lower(d.record_label) LIKE lower({like}) ESCAPE '\\' OR d.record_id = {exact})"));
    }
    (w.join(" AND "), p)
}

pub(super) fn list(store: &Store, f: &DivergenceFilter) -> CoreResult<DivergencePage> {
    let (wh, p) = filter_sql(f);
    let limit = f.limit.unwrap_or(200).min(100_000);
    let offset = f.offset.unwrap_or(0);
    store.query(|db| {
        let params: Vec<&dyn ToValue> = p.iter().map(|v| v as &dyn ToValue).collect();
        let items = db
            .query(
                &format!(
                    "SELECT {DIV_COLS} {DIV_FROM} WHERE {wh} ORDER BY d.first_seen_at DESC, d.id LIMIT {limit} OFFSET {offset}"
                ),
                &params,
            )?
            .iter()
            .map(divergence_from_row)
            .collect::<CoreResult<Vec<_>>>()?;
        let mut total = 0u32;
        let mut sum = Decimal::ZERO;
        let mut by_currency: BTreeMap<String, Decimal> = BTreeMap::new();
        for r in db.query(&format!("SELECT d.amount, coalesce(d.currency, '') {DIV_FROM} WHERE {wh}"), &params)? {
            total += 1;
            if let Some(a) = r.get::<Option<String>>(0)?.and_then(|a| Decimal::from_str(&a).ok()) {
                sum += a;
                *by_currency.entry(r.get(1)?).or_default() += a;
            }
        }
        let amounts = by_currency.into_iter().map(|(k, v)| (k, v.normalize().to_string())).collect();
        let open_by_rule = db
            .query(
                "SELECT rule_id, count(*) FROM divergences WHERE status IN ('open','approved','failed') GROUP BY rule_id",
                vals![],
            )?
            .iter()
            .map(|r| Ok((r.get::<String>(0)?, r.get::<u32>(1)?)))
            .collect::<CoreResult<BTreeMap<_, _>>>()?;
        Ok(DivergencePage { items, total, amount_total: sum.normalize().to_string(), amounts, open_by_rule })
    })
}

const OP_COLS: &str =
    "id, divergence_id, kind, connection_id, erp, resource, record_id, field, before_value, after_value, status,
    error, who, machine, job_id, created_at, finished_at";

fn operation_from_row(r: &Row) -> CoreResult<Operation> {
    let error: Option<String> = r.get(11)?;
    Ok(Operation {
        id: r.get(0)?,
        divergence_id: r.get(1)?,
        kind: r.get(2)?,
        connection_id: r.get(3)?,
        erp: r.get(4)?,
        resource: r.get(5)?,
        record_id: r.get(6)?,
        field: r.get(7)?,
        before: r.get(8)?,
        after: r.get(9)?,
        status: r.get(10)?,
        error: error.map(|e| ApiError::from_stored(&e, None)),
        who: r.get(12)?,
        machine: r.get(13)?,
        job_id: r.get(14)?,
        created_at: r.get(15)?,
        finished_at: r.get(16)?,
    })
}

pub(super) fn detail(store: &Store, id: &str) -> CoreResult<DivergenceDetail> {
    store.query(|db| {
        let divergence = db
            .query_opt(&format!("SELECT {DIV_COLS} {DIV_FROM} WHERE d.id=?1"), vals![id])?
            .map(|r| divergence_from_row(&r))
            .transpose()?
            .ok_or_else(|| CoreError::NotFound { what: format!("Divergence {id}") })?;
        let events = db
            .query(
                "SELECT action, at, who, machine, note, session_id, job_id, operation_id FROM divergence_events WHERE divergence_id=?1 ORDER BY id",
                vals![id],
            )?
            .iter()
            .map(|r| {
                Ok(DivergenceEvent {
                    action: r.get(0)?,
                    at: r.get(1)?,
                    who: r.get(2)?,
                    machine: r.get(3)?,
                    note: r.get(4)?,
                    session_id: r.get(5)?,
                    job_id: r.get(6)?,
                    operation_id: r.get(7)?,
                })
            })
            .collect::<CoreResult<Vec<_>>>()?;
        let operations = db
            .query(
                &format!("SELECT {OP_COLS} FROM divergence_operations WHERE divergence_id=?1 ORDER BY created_at, rowid"),
                vals![id],
            )?
            .iter()
            .map(operation_from_row)
            .collect::<CoreResult<Vec<_>>>()?;
        Ok(DivergenceDetail { divergence, events, operations })
    })
}

pub(super) fn decide(store: &Store, d: &Decision, actor: &Actor, session: Option<&str>) -> CoreResult<DecisionResult> {
    let now = now_utc();
    store.tx(|db| {
        let mut changed = vec![];
        let mut skipped = BTreeMap::new();
        for id in &d.ids {
            let status: Option<String> =
                db.query_opt("SELECT status FROM divergences WHERE id=?1", vals![id])?.map(|r| r.get(0)).transpose()?;
            let Some(status) = status else {
                skipped.insert(id.clone(), "no such divergence".to_string());
                continue;
            };
            let to = match (d.action.as_str(), status.as_str()) {
                ("approve", "open" | "failed") => Some("approved"),
                ("reject", "open" | "approved" | "failed") => Some("rejected"),
                ("accept_explanation", "open" | "approved" | "failed") => Some("rejected"),
                ("reopen", "rejected" | "resolved" | "rolled_back") => Some("open"),
                ("assign" | "comment", _) => None,
                (a, s) => {
                    skipped.insert(id.clone(), format!("cannot {a} a divergence that is {s}"));
                    continue;
                }
            };
            match to {
                Some(to) => {
                    db.execute("UPDATE divergences SET status=?2, updated_at=?3 WHERE id=?1", vals![id, to, now])?;
                }
                None if d.action == "assign" => {
                    db.execute(
                        "UPDATE divergences SET assignee=?2, updated_at=?3 WHERE id=?1",
                        vals![id, d.assignee.as_deref().filter(|a| !a.trim().is_empty()), now],
                    )?;
                }
                None => {}
            }
            let action = match d.action.as_str() {
                "approve" => "approved",
                "reject" => "rejected",
                "reopen" => "reopened",
                "assign" => "assigned",
                "accept_explanation" => "explanation_accepted",
                _ => "commented",
            };
            let note = match d.action.as_str() {
                "assign" => d.assignee.clone().unwrap_or_default(),
                "accept_explanation" => {
                    format!("{}: {}", d.explanation.as_deref().unwrap_or("explained"), d.reason.trim())
                }
                _ => d.reason.trim().to_string(),
            };
            event(db, id, action, actor, &note, session, None, None)?;
            changed.push(id.clone());
        }
        Ok(DecisionResult { changed, skipped })
    })
}

// ---------------------------------------------------------------------------------------------
// Operations

pub(super) fn unfinished_operation(store: &Store, divergence: &str, kind: &str) -> CoreResult<Option<Operation>> {
    store.query(|db| {
        db.query_opt(
            &format!(
                "SELECT {OP_COLS} FROM divergence_operations WHERE divergence_id=?1 AND kind=?2 AND status IN ('pending','sent')
                 ORDER BY created_at DESC, rowid DESC LIMIT 1"
            ),
            vals![divergence, kind],
        )?
        .map(|r| operation_from_row(&r))
        .transpose()
    })
}

pub(super) fn last_committed(store: &Store, divergence: &str, kind: &str) -> CoreResult<Option<Operation>> {
    store.query(|db| {
        db.query_opt(
            &format!(
                "SELECT {OP_COLS} FROM divergence_operations WHERE divergence_id=?1 AND kind=?2 AND status='committed'
                 ORDER BY created_at DESC, rowid DESC LIMIT 1"
            ),
            vals![divergence, kind],
        )?
        .map(|r| operation_from_row(&r))
        .transpose()
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) fn new_operation(
    store: &Store,
    d: &Divergence,
    kind: &str,
    field: &str,
    before: &str,
    after: &str,
    actor: &Actor,
    job: &str,
) -> CoreResult<Operation> {
    let id = uuid::Uuid::new_v4().to_string();
    store.tx(|db| {
        db.execute(
            "INSERT INTO divergence_operations (id, divergence_id, kind, connection_id, erp, resource, record_id, field, before_value, after_value,
                status, who, machine, job_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', ?11, ?12, ?13, ?14)",
            vals![id, d.id, kind, d.connection_id, d.erp, d.resource, d.record_id, field, before, after, actor.who, actor.machine, job, now_utc()],
        )?;
        operation_from_row(&db.query_one(&format!("SELECT {OP_COLS} FROM divergence_operations WHERE id=?1"), vals![id])?)
    })
}

/// Marks an operation as sent, committed before the ERP is called.
pub(super) fn mark_sent(store: &Store, op: &Operation) -> CoreResult<()> {
    store.tx(|db| {
        db.execute("UPDATE divergence_operations SET status='sent' WHERE id=?1", vals![op.id])?;
        Ok(())
    })
}

/// Ends an operation and moves its divergence, with an event, in one transaction. `action`:
/// `applied`, `failed`, `rolled_back`, `rollback_refused`, `rollback_failed`.
pub(super) fn finish_operation(
    store: &Store,
    op: &Operation,
    status: &str,
    error: Option<&ApiError>,
    actor: &Actor,
    job: &str,
    action: &str,
) -> CoreResult<()> {
    let now = now_utc();
    store.tx(|db| {
        db.execute(
            "UPDATE divergence_operations SET status=?2, error=?3, finished_at=?4, job_id=?5 WHERE id=?1",
            vals![op.id, status, error.map(ApiError::to_stored), now, job],
        )?;
        let to = match action {
            "applied" => Some("applied"),
            "failed" => Some("failed"),
            "rolled_back" => Some("rolled_back"),
            _ => None,
        };
        if let Some(to) = to {
            db.execute(
                "UPDATE divergences SET status=?2, updated_at=?3 WHERE id=?1",
                vals![op.divergence_id, to, now],
            )?;
        }
        let note = error.map(|e| e.message.clone()).unwrap_or_default();
        event(db, &op.divergence_id, action, actor, &note, None, Some(job), Some(&op.id))
    })
}

pub(super) fn operations(store: &Store, limit: u32) -> CoreResult<Vec<Operation>> {
    store.query(|db| {
        db.query(
            &format!("SELECT {OP_COLS} FROM divergence_operations ORDER BY created_at DESC, rowid DESC LIMIT ?1"),
            vals![limit],
        )?
        .iter()
        .map(operation_from_row)
        .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// The rules' queries over the synced Omie tables (one set-based query each)

/// A payable or receivable a classification rule matched.
pub(super) struct ClassRow {
    pub connection_id: String,
    pub id: String,
    pub category: String,
    pub description: String,
    pub number: String,
    pub amount: Option<String>,
    pub party_document: String,
    pub party_name: String,
    pub document_type: String,
}

fn omie_table(resource: &str) -> CoreResult<&'static str> {
    match resource {
        "contas_pagar" => Ok("omie_contas_pagar"),
        "contas_receber" => Ok("omie_contas_receber"),
        other => Err(CoreError::invalid("resource", format!("\"{other}\" is not contas_pagar or contas_receber"))),
    }
}

/// Records of `resource` not under `expected` whose description contains one of `texts` (lower
/// case), whose party's CNPJ/CPF digits are in `docs`, or whose origin is in `types`.
pub(super) fn classification_rows(
    store: &Store,
    resource: &str,
    expected: &str,
    texts: &[String],
    docs: &[String],
    types: &[String],
) -> CoreResult<Vec<ClassRow>> {
    let table = omie_table(resource)?;
    let mut p: Vec<String> = vec![expected.to_string()];
    let Some(any) = matches_any(
        Dialect(store.backend()),
        &Matchers {
            text: "lower(coalesce(t.observacao, ''))",
            party: "replace(replace(replace(coalesce(c.cnpj_cpf, ''), '.', ''), '/', ''), '-', '')",
            kind: "t.id_origem",
        },
        texts,
        docs,
        types,
        &mut p,
    ) else {
        return Ok(vec![]);
    };
    let sql = format!(
        "SELECT t.connection_id, t.id, coalesce(t.codigo_categoria, ''), coalesce(t.observacao, ''), coalesce(t.numero_documento, ''),
                t.valor_documento, coalesce(c.cnpj_cpf, ''), coalesce(c.razao_social, ''), coalesce(t.id_origem, '')
           FROM \"{table}\" t
           LEFT JOIN omie_clientes c ON c.connection_id = t.connection_id AND c.id = t.codigo_cliente_fornecedor AND c.deleted_at IS NULL
          WHERE t.deleted_at IS NULL AND coalesce(t.status_titulo, '') <> 'CANCELADO' AND coalesce(t.codigo_categoria, '') <> ?
            AND ({any})"
    );
    class_rows(store, &sql, &p)
}

/// The SQL expressions a classification rule's lists are matched against: the description (lower
/// case), the party's document (digits) and the document type.
struct Matchers<'a> {
    text: &'a str,
    party: &'a str,
    kind: &'a str,
}

/// "Any of the rule's patterns": the OR of a text contained in the description, a party document
/// in the list and a document type in the list, with their values appended to `p`; none when the
/// rule gives no list.
fn matches_any(
    d: Dialect,
    m: &Matchers<'_>,
    texts: &[String],
    docs: &[String],
    types: &[String],
    p: &mut Vec<String>,
) -> Option<String> {
    let mut any: Vec<String> = texts.iter().map(|_| d.contains(m.text, "?")).collect();
    p.extend(texts.iter().cloned());
    for (expr, values) in [(m.party, docs), (m.kind, types)] {
        if !values.is_empty() {
            any.push(format!("{expr} IN ({})", vec!["?"; values.len()].join(",")));
            p.extend(values.iter().cloned());
        }
    }
    (!any.is_empty()).then(|| any.join(" OR "))
}

/// Runs a classification query whose columns are a [`ClassRow`]'s, in order (its `?` numbered in
/// the order of `p`).
fn class_rows(store: &Store, sql: &str, p: &[String]) -> CoreResult<Vec<ClassRow>> {
    let sql = number_placeholders(sql);
    store.query(|db| {
        let params: Vec<&dyn ToValue> = p.iter().map(|v| v as &dyn ToValue).collect();
        db.query(&sql, &params)?
            .iter()
            .map(|r| {
                Ok(ClassRow {
                    connection_id: r.get(0)?,
                    id: r.get(1)?,
                    category: r.get(2)?,
                    description: r.get(3)?,
                    number: r.get(4)?,
                    amount: r.get(5)?,
                    party_document: r.get(6)?,
                    party_name: r.get(7)?,
                    document_type: r.get(8)?,
                })
            })
            .collect()
    })
}

/// Titles with the same party, number, parcel and amount, more than one of each.
pub(super) struct DuplicateGroup {
    pub connection_id: String,
    pub number: String,
    pub parcel: String,
    pub amount: String,
    pub ids: Vec<String>,
    pub party_name: String,
}

/// Runs a query that groups a whole table; on a desk's file with its temporary B-tree on disk
/// rather than in memory (the store keeps temporary data in memory for the sync's speed; grouping
/// a million payables there would cost hundreds of MB), then puts the setting back. (PostgreSQL
/// spills a large grouping to disk by itself, past `work_mem`.)
fn grouping<T: Send>(store: &Store, f: impl FnOnce(&mut dyn Db) -> CoreResult<T> + Send) -> CoreResult<T> {
    match store.backend() {
        Backend::Sqlite => store.read(|c| {
            c.execute_batch("PRAGMA temp_store = FILE;")?;
            let out = f(&mut SqliteDb(c));
            c.execute_batch("PRAGMA temp_store = MEMORY;")?;
            out
        }),
        Backend::Postgres => store.query(f),
    }
}

pub(super) fn duplicate_groups(store: &Store, resource: &str) -> CoreResult<Vec<DuplicateGroup>> {
    let table = omie_table(resource)?;
    let d = Dialect(store.backend());
    let sql = format!(
        "SELECT t.connection_id, t.numero_documento, coalesce(t.numero_parcela, ''), coalesce(t.valor_documento, ''),
                {ids}, coalesce(max(c.razao_social), '')
           FROM \"{table}\" t
           LEFT JOIN omie_clientes c ON c.connection_id = t.connection_id AND c.id = t.codigo_cliente_fornecedor AND c.deleted_at IS NULL
          WHERE t.deleted_at IS NULL AND coalesce(t.status_titulo, '') <> 'CANCELADO' AND coalesce(t.numero_documento, '') <> ''
          GROUP BY t.connection_id, t.codigo_cliente_fornecedor, t.numero_documento, t.numero_parcela, t.valor_documento
         HAVING count(*) > 1",
        ids = d.concat_agg("t.id", "','"),
    );
    grouping(store, |db| {
        db.query(&sql, &[])?
            .iter()
            .map(|r| {
                let ids: String = r.get(4)?;
                Ok(DuplicateGroup {
                    connection_id: r.get(0)?,
                    number: r.get(1)?,
                    parcel: r.get(2)?,
                    amount: r.get(3)?,
                    ids: ids.split(',').map(str::to_string).collect(),
                    party_name: r.get(5)?,
                })
            })
            .collect()
    })
}

/// An NF-e receipt with the payables it generated (same NF number and supplier, origin NFEP).
pub(super) struct ReceiptTotal {
    pub connection_id: String,
    pub id: String,
    pub number: String,
    pub value: String,
    pub party_name: String,
    pub payable_ids: Vec<String>,
    /// Exact sum of the payables' amounts.
    pub payables_total: String,
}

/// The payables are found by NF number (on a desk's file `+` keeps SQLite from choosing the far
/// less selective origin or supplier index when the tables have no statistics yet).
pub(super) fn receipt_totals(store: &Store) -> CoreResult<Vec<ReceiptTotal>> {
    let d = Dialect(store.backend());
    let sql = format!(
        "SELECT r.connection_id, r.id, coalesce(r.numero_nfe, ''), coalesce(r.valor, ''), coalesce(r.fornecedor, ''),
                {ids}, {amounts}
           FROM omie_recebimentos r
           JOIN omie_contas_pagar p ON p.connection_id = r.connection_id AND p.deleted_at IS NULL AND {origin} = 'NFEP'
                AND p.numero_documento_fiscal = r.numero_nfe AND {supplier} = r.fornecedor_id
                AND coalesce(p.status_titulo, '') <> 'CANCELADO'
          WHERE r.deleted_at IS NULL AND coalesce(r.numero_nfe, '') <> ''
          GROUP BY r.connection_id, r.id",
        ids = d.concat_agg("p.id", "','"),
        amounts = d.concat_agg("coalesce(p.valor_documento, '0')", "','"),
        origin = d.unindexed("p.id_origem"),
        supplier = d.unindexed("p.codigo_cliente_fornecedor"),
    );
    grouping(store, |db| {
        db.query(&sql, &[])?
            .iter()
            .map(|r| {
                let ids: String = r.get(5)?;
                let amounts: String = r.get(6)?;
                let total = amounts.split(',').filter_map(|a| Decimal::from_str(a).ok()).sum::<Decimal>();
                Ok(ReceiptTotal {
                    connection_id: r.get(0)?,
                    id: r.get(1)?,
                    number: r.get(2)?,
                    value: r.get(3)?,
                    party_name: r.get(4)?,
                    payable_ids: ids.split(',').map(str::to_string).collect(),
                    payables_total: total.normalize().to_string(),
                })
            })
            .collect()
    })
}

/// What the rules read changed when this changes: the finished syncs of an ERP.
pub(super) fn data_stamp(store: &Store, erp: &str) -> CoreResult<String> {
    store.query(|db| {
        db.one("SELECT coalesce(max(finished_at), '') || '#' || count(*) FROM sync_runs WHERE erp=?1", vals![erp])
    })
}

/// Divergences of a rule that are open, approved or failed.
pub(super) fn open_count(store: &Store, rule: &str) -> CoreResult<i64> {
    store.query(|db| {
        db.one(
            "SELECT count(*) FROM divergences WHERE rule_id=?1 AND status IN ('open','approved','failed')",
            vals![rule],
        )
    })
}

/// (rule, status, count, the amounts of those rows).
pub(super) type StatusCount = (String, String, i64, Vec<String>);

/// Per rule and status: how many, and their amounts.
pub(super) fn status_counts(store: &Store) -> CoreResult<Vec<StatusCount>> {
    let d = Dialect(store.backend());
    let sql = format!(
        "SELECT rule_id, status, count(*), {} FROM divergences GROUP BY rule_id, status",
        d.concat_agg("coalesce(amount, '0')", "','")
    );
    store.query(|db| {
        db.query(&sql, &[])?
            .iter()
            .map(|r| {
                let amounts: Option<String> = r.get(3)?;
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<i64>(2)?,
                    amounts.map(|a| a.split(',').map(str::to_string).collect()).unwrap_or_default(),
                ))
            })
            .collect()
    })
}

/// The amounts at stake of the divergences waiting for review (open, approved, failed), per rule
/// and currency.
pub(super) fn open_amounts(store: &Store) -> CoreResult<BTreeMap<String, BTreeMap<String, Decimal>>> {
    store.query(|db| {
        let mut by: BTreeMap<String, BTreeMap<String, Decimal>> = BTreeMap::new();
        for r in db.query(
            "SELECT rule_id, coalesce(currency, ''), amount FROM divergences
              WHERE status IN ('open','approved','failed') AND amount IS NOT NULL",
            &[],
        )? {
            if let Ok(a) = Decimal::from_str(&r.get::<String>(2)?) {
                *by.entry(r.get(0)?).or_default().entry(r.get(1)?).or_default() += a;
            }
        }
        Ok(by)
    })
}

/// Open (open, approved, failed) divergences per rule by age: under a day, a week, a month, older.
pub(super) fn open_ages(store: &Store, now: &str) -> CoreResult<Vec<(String, [i64; 4])>> {
    let age = Dialect(store.backend()).days_between("CAST(?1 AS TEXT)", "first_seen_at");
    let sql = format!(
        "SELECT rule_id,
                sum(CASE WHEN {age} < 1 THEN 1 ELSE 0 END),
                sum(CASE WHEN {age} >= 1 AND {age} < 7 THEN 1 ELSE 0 END),
                sum(CASE WHEN {age} >= 7 AND {age} < 30 THEN 1 ELSE 0 END),
                sum(CASE WHEN {age} >= 30 THEN 1 ELSE 0 END)
           FROM divergences WHERE status IN ('open','approved','failed') GROUP BY rule_id"
    );
    store.query(|db| {
        db.query(&sql, vals![now])?
            .iter()
            .map(|r| Ok((r.get::<String>(0)?, [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?])))
            .collect()
    })
}

/// Decisions per rule: (rule, action, automatic?, count) for approved / rejected events.
pub(super) fn decision_counts(store: &Store, automatic: &str) -> CoreResult<Vec<(String, String, bool, i64)>> {
    store.query(|db| {
        db.query(
            "SELECT d.rule_id, e.action, e.who = ?1, count(*) FROM divergence_events e JOIN divergences d ON d.id = e.divergence_id
              WHERE e.action IN ('approved', 'rejected') GROUP BY 1, 2, 3",
            vals![automatic],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .collect()
    })
}

/// Hours from detection to the end (applied, rejected, resolved, rolled back), per rule.
pub(super) fn resolution_hours(store: &Store) -> CoreResult<Vec<(String, f64)>> {
    let days = Dialect(store.backend()).days_between("coalesce(resolved_at, updated_at)", "first_seen_at");
    let sql = format!(
        "SELECT rule_id, {days} * 24 FROM divergences WHERE status IN ('applied', 'rejected', 'resolved', 'rolled_back')"
    );
    store.query(|db| db.query(&sql, &[])?.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect())
}

/// Divergences detected and ended per UTC day since `from` (yyyy-mm-dd).
pub(super) fn per_day(store: &Store, from: &str) -> CoreResult<Vec<(String, i64, i64)>> {
    store.query(|db| {
        db.query(
            "SELECT day, sum(detected), sum(ended) FROM (
                SELECT substr(first_seen_at, 1, 10) AS day, 1 AS detected, 0 AS ended FROM divergences WHERE first_seen_at >= ?1
                UNION ALL
                SELECT substr(coalesce(resolved_at, updated_at), 1, 10), 0, 1 FROM divergences
                 WHERE status IN ('applied', 'rejected', 'resolved', 'rolled_back') AND coalesce(resolved_at, updated_at) >= ?1) AS days
              GROUP BY day ORDER BY day",
            vals![from],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .collect()
    })
}

/// A payable that records a service NF taken against a purchase order, with what BackOffice knows
/// of the order's closure (RF-002).
pub(super) struct ServiceOrderRow {
    pub connection_id: String,
    pub payable_id: String,
    pub order_number: String,
    pub service_nf: String,
    pub amount: Option<String>,
    pub party_name: String,
    /// The synced order with this number, and whether its supplier is the payable's.
    pub order_id: Option<String>,
    pub same_supplier: bool,
    /// The closure's status and error when BackOffice tried (`failed`, `pending`), else empty.
    pub closure_status: String,
    pub closure_error: String,
}

/// Payables emitted on or after `since` (ISO date) with a service NF and an order number whose
/// order BackOffice has not closed (no closure, or one that did not succeed). One row per order:
/// the order is what gets closed.
pub(super) fn service_orders_open(store: &Store, since: &str) -> CoreResult<Vec<ServiceOrderRow>> {
    store.query(|db| {
        db.query(
            "SELECT p.connection_id, min(p.id), p.numero_pedido, min(p.servico_nf), min(p.valor_documento), coalesce(max(cl.razao_social), ''),
                    max(o.id), coalesce(max(CASE WHEN o.fornecedor_id = p.codigo_cliente_fornecedor THEN 1 ELSE 0 END), 0),
                    coalesce(max(z.status), ''), coalesce(max(z.error_code), max(z.outcome), '')
               FROM omie_contas_pagar p
               LEFT JOIN omie_clientes cl ON cl.connection_id = p.connection_id AND cl.id = p.codigo_cliente_fornecedor AND cl.deleted_at IS NULL
               LEFT JOIN omie_pedidos_compra o ON o.connection_id = p.connection_id AND o.numero = p.numero_pedido AND o.deleted_at IS NULL
               LEFT JOIN omie_po_closures z ON z.connection_id = p.connection_id AND z.order_number = p.numero_pedido
              WHERE p.deleted_at IS NULL AND coalesce(p.status_titulo, '') <> 'CANCELADO'
                AND coalesce(p.servico_nf, '') <> '' AND coalesce(p.numero_pedido, '') <> ''
                AND coalesce(p.data_emissao, '') >= ?1
              GROUP BY p.connection_id, p.numero_pedido
             HAVING coalesce(max(CASE WHEN z.status = 'succeeded' THEN 1 ELSE 0 END), 0) = 0",
            vals![since],
        )?
        .iter()
        .map(|r| {
            Ok(ServiceOrderRow {
                connection_id: r.get(0)?,
                payable_id: r.get(1)?,
                order_number: r.get(2)?,
                service_nf: r.get(3)?,
                amount: r.get(4)?,
                party_name: r.get(5)?,
                order_id: r.get(6)?,
                same_supplier: r.get::<i64>(7)? != 0,
                closure_status: r.get(8)?,
                closure_error: r.get(9)?,
            })
        })
        .collect()
    })
}

/// A payable born of an NF-e receipt whose attachments BackOffice has no record of copying
/// (RF-001), with the last transfer's failure when one was tried.
pub(super) struct ReceiptPayableRow {
    pub connection_id: String,
    pub receipt_id: String,
    pub payable_id: String,
    pub number: String,
    pub amount: Option<String>,
    pub party_name: String,
    pub transfer_status: String,
    pub transfer_error: String,
}

/// Payables of origin NFEP emitted on or after `since`, matched to their receipt by NF number and
/// supplier, with neither a successful transfer nor a mapped file from that receipt.
pub(super) fn receipt_payables_without_attachments(store: &Store, since: &str) -> CoreResult<Vec<ReceiptPayableRow>> {
    let origin = Dialect(store.backend()).unindexed("p.id_origem");
    let sql = format!(
        "SELECT p.connection_id, r.id, p.id, coalesce(r.numero_nfe, ''), p.valor_documento, coalesce(r.fornecedor, ''),
                coalesce(t.status, ''), coalesce(t.last_error_code, t.last_error, '')
           FROM omie_contas_pagar p
           JOIN omie_recebimentos r ON r.connection_id = p.connection_id AND r.numero_nfe = p.numero_documento_fiscal
                AND r.fornecedor_id = p.codigo_cliente_fornecedor AND r.deleted_at IS NULL
           LEFT JOIN omie_attachment_transfers t ON t.connection_id = p.connection_id AND t.origin_table = 'com-recebimento'
                AND t.origin_id = r.id AND t.dest_table = 'conta-pagar' AND t.dest_id = p.id
          WHERE p.deleted_at IS NULL AND {origin} = 'NFEP' AND coalesce(p.status_titulo, '') <> 'CANCELADO'
            AND coalesce(p.data_emissao, '') >= ?1 AND coalesce(t.status, '') <> 'succeeded'
            AND NOT EXISTS (SELECT 1 FROM omie_attachment_map m WHERE m.connection_id = p.connection_id
                             AND m.origin_table = 'com-recebimento' AND m.origin_id = r.id
                             AND m.dest_table = 'conta-pagar' AND m.dest_id = p.id)"
    );
    store.query(|db| {
        db.query(&sql, vals![since])?
            .iter()
            .map(|r| {
                Ok(ReceiptPayableRow {
                    connection_id: r.get(0)?,
                    receipt_id: r.get(1)?,
                    payable_id: r.get(2)?,
                    number: r.get(3)?,
                    amount: r.get(4)?,
                    party_name: r.get(5)?,
                    transfer_status: r.get(6)?,
                    transfer_error: r.get(7)?,
                })
            })
            .collect()
    })
}

/// A Contífico document with its totals and its lines (quantity, price, discount %), to check
/// that the lines add up to the taxable bases and the bases plus taxes to the total.
pub(super) struct DocumentLines {
    pub connection_id: String,
    pub id: String,
    pub number: String,
    pub kind: String,
    pub party_name: String,
    pub subtotal_0: String,
    pub subtotal_12: String,
    pub taxes: Vec<String>,
    pub total: String,
    /// `(quantity, price, discount %)` of each line, as the ERP sent them.
    pub lines: Vec<(String, String, String)>,
}

fn contifico_documents_table(resource: &str) -> CoreResult<&'static str> {
    match resource {
        "documentos_venta" => Ok("contifico_documento_venta"),
        "documentos_compra" => Ok("contifico_documento_compra"),
        "documentos" => Ok("contifico_documento"),
        other => Err(CoreError::invalid(
            "resource",
            format!("\"{other}\" is not documentos_venta, documentos_compra or documentos"),
        )),
    }
}

/// The documents of `resource` that are not void, with their lines read from the stored JSON in
/// the same query (SQLite's `json_each`, PostgreSQL's `jsonb_array_elements`); one row per
/// document.
pub(super) fn document_lines(store: &Store, resource: &str) -> CoreResult<Vec<DocumentLines>> {
    let table = contifico_documents_table(resource)?;
    let d = Dialect(store.backend());
    // Numbers are read as the ERP wrote them (text or JSON number), never through a float.
    let num = |path: &str| format!("coalesce({}, '0')", d.json_text("d.raw", path));
    let line = |path: &str, empty: &str| format!("coalesce({}, '{empty}')", d.json_text("l.value", path));
    let (lines_from, not_void) = match store.backend() {
        Backend::Sqlite => (
            "json_each(d.raw, '$.detalles') l".to_string(),
            "coalesce(json_extract(d.raw, '$.anulado'), 0) IN (0, 'false')".to_string(),
        ),
        Backend::Postgres => (
            "jsonb_array_elements(CASE WHEN jsonb_typeof(CAST(d.raw AS jsonb) -> 'detalles') = 'array'
                                       THEN CAST(d.raw AS jsonb) -> 'detalles' ELSE '[]'::jsonb END) l"
                .to_string(),
            "coalesce(CAST(d.raw AS jsonb) ->> 'anulado', 'false') IN ('false', '0')".to_string(),
        ),
    };
    let sql = format!(
        "SELECT d.connection_id, d.id, coalesce(d.documento, ''), coalesce(d.tipo_documento, ''),
                coalesce({cliente}, {persona}, ''),
                {s0}, {s12}, {iva}, {ice}, {serv}, {total},
                (SELECT {lines} FROM {lines_from})
           FROM \"{table}\" d
          WHERE d.deleted_at IS NULL AND coalesce(d.estado, '') <> 'A' AND {not_void}",
        cliente = d.json_text("d.raw", "cliente.razon_social"),
        persona = d.json_text("d.raw", "persona.razon_social"),
        s0 = num("subtotal_0"),
        s12 = num("subtotal_12"),
        iva = num("iva"),
        ice = num("ice"),
        serv = num("servicio"),
        total = num("total"),
        lines = d.concat_agg(
            &format!(
                "{} || '|' || {} || '|' || {}",
                line("cantidad", ""),
                line("precio", ""),
                line("porcentaje_descuento", "0")
            ),
            "';'"
        ),
    );
    store.query(|db| {
        db.query(&sql, &[])?
            .iter()
            .map(|r| {
                let lines: Option<String> = r.get(11)?;
                Ok(DocumentLines {
                    connection_id: r.get(0)?,
                    id: r.get(1)?,
                    number: r.get(2)?,
                    kind: r.get(3)?,
                    party_name: r.get(4)?,
                    subtotal_0: r.get(5)?,
                    subtotal_12: r.get(6)?,
                    taxes: vec![r.get(7)?, r.get(8)?, r.get(9)?],
                    total: r.get(10)?,
                    lines: lines
                        .unwrap_or_default()
                        .split(';')
                        .filter(|s| !s.is_empty())
                        .map(|l| {
                            let mut p = l.split('|').map(str::to_string);
                            (p.next().unwrap_or_default(), p.next().unwrap_or_default(), p.next().unwrap_or_default())
                        })
                        .collect(),
                })
            })
            .collect()
    })
}

/// What the pending-verification rules read besides the synced data: BackOffice's own record of
/// closures and attachment transfers (so a closure or a copy done today changes the stamp).
pub(super) fn omie_fixes_stamp(store: &Store) -> CoreResult<String> {
    store.query(|db| {
        db.one(
            "SELECT (SELECT coalesce(max(updated_at), '') || '#' || count(*) FROM omie_po_closures) || '|' ||
                    (SELECT coalesce(max(updated_at), '') || '#' || count(*) FROM omie_attachment_transfers) || '|' ||
                    (SELECT coalesce(max(updated_at), '') || '#' || count(*) FROM omie_attachment_map)",
            &[],
        )
    })
}

/// A submitted delivery note from one ERPNext site to the company of another site, with no
/// purchase receipt there naming it, and what BackOffice knows of the transfer that made it.
pub(super) struct DeliveryRow {
    pub connection_id: String,
    pub id: String,
    pub customer: String,
    pub company: String,
    pub amount: Option<String>,
    pub currency: String,
    pub posting_date: String,
    pub site_b: String,
    pub site_b_name: String,
    pub run_id: Option<String>,
    pub run_status: String,
    /// A receipt on site B from the same company, same amount, within a week, but without the
    /// delivery note's name: probably this delivery, received without its reference.
    pub probable_receipt: Option<String>,
}

/// Which site is which company's: the pairs of BackOffice's own transfers (site A, site B, and
/// the customer that stands for company B on site A), and any delivery note whose customer is the
/// company another ERPNext connection's synced documents belong to.
pub(super) fn deliveries_without_receipt(store: &Store, since: &str) -> CoreResult<Vec<DeliveryRow>> {
    let d = Dialect(store.backend());
    let sql = format!(
        "WITH companies AS (
             SELECT DISTINCT connection_id, company FROM erpnext_purchase_order WHERE coalesce(company, '') <> ''
             UNION SELECT DISTINCT connection_id, company FROM erpnext_purchase_receipt WHERE coalesce(company, '') <> ''
             UNION SELECT DISTINCT connection_id, company FROM erpnext_delivery_note WHERE coalesce(company, '') <> ''),
         pairs AS (
             SELECT DISTINCT site_a_id AS a, site_b_id AS b, {customer_b_on_a} AS customer
               FROM erpnext_runs WHERE site_a_id IS NOT NULL AND site_b_id IS NOT NULL
             UNION SELECT DISTINCT d.connection_id, s.connection_id, s.company
               FROM (SELECT DISTINCT connection_id, customer FROM erpnext_delivery_note) d
               JOIN companies s ON s.company = d.customer AND s.connection_id <> d.connection_id)
         SELECT dn.connection_id, dn.id, coalesce(dn.customer, ''), coalesce(dn.company, ''), dn.grand_total,
                coalesce(dn.currency, ''), coalesce(dn.posting_date, ''), p.b, coalesce(max(cb.name), ''),
                (SELECT s.run_id FROM erpnext_run_steps s JOIN erpnext_runs r ON r.id = s.run_id
                  WHERE s.doctype = 'Delivery Note' AND s.doc_name = dn.id AND r.site_a_id = dn.connection_id
                  ORDER BY r.created_at DESC LIMIT 1) AS run_id,
                (SELECT pr.id FROM erpnext_purchase_receipt pr
                  WHERE pr.connection_id = p.b AND pr.deleted_at IS NULL AND coalesce(pr.docstatus, '') <> '2'
                    AND pr.supplier = dn.company AND pr.grand_total = dn.grand_total
                    AND abs({days}) <= 7 LIMIT 1)
           FROM erpnext_delivery_note dn
           JOIN pairs p ON p.a = dn.connection_id AND p.customer = dn.customer
           LEFT JOIN connections cb ON cb.id = p.b
          WHERE dn.deleted_at IS NULL AND dn.docstatus = '1' AND coalesce(dn.posting_date, '') >= ?1
            AND NOT EXISTS (SELECT 1 FROM erpnext_purchase_receipt pr WHERE pr.connection_id = p.b
                             AND pr.deleted_at IS NULL AND coalesce(pr.docstatus, '') <> '2' AND pr.supplier_delivery_note = dn.id)
          GROUP BY dn.connection_id, dn.id, p.b",
        customer_b_on_a = d.json_text("input", "customer_b_on_a"),
        days = d.days_between("pr.posting_date", "dn.posting_date"),
    );
    store.query(|db| {
        let mut out = db
            .query(&sql, vals![since])?
            .iter()
            .map(|r| {
                Ok(DeliveryRow {
                    connection_id: r.get(0)?,
                    id: r.get(1)?,
                    customer: r.get(2)?,
                    company: r.get(3)?,
                    amount: r.get(4)?,
                    currency: r.get(5)?,
                    posting_date: r.get(6)?,
                    site_b: r.get(7)?,
                    site_b_name: r.get(8)?,
                    run_id: r.get(9)?,
                    run_status: String::new(),
                    probable_receipt: r.get(10)?,
                })
            })
            .collect::<CoreResult<Vec<_>>>()?;
        for d in &mut out {
            if let Some(run) = &d.run_id {
                d.run_status = db
                    .query_opt("SELECT status FROM erpnext_runs WHERE id=?1", vals![run])?
                    .map(|r| r.get(0))
                    .transpose()?
                    .unwrap_or_default();
            }
        }
        Ok(out)
    })
}

/// BackOffice's transfers between ERPNext sites change what the delivery check finds.
pub(super) fn erpnext_runs_stamp(store: &Store) -> CoreResult<String> {
    store.query(|db| db.one("SELECT coalesce(max(updated_at), '') || '#' || count(*) FROM erpnext_runs", &[]))
}

/// A Contífico sales document, for the check that its journal entry exists.
pub(super) struct SaleRow {
    pub connection_id: String,
    pub id: String,
    pub number: String,
    pub kind: String,
    pub date: String,
    pub total: Option<String>,
    pub party_name: String,
}

/// What the journal entries say: (connection, document number) pairs named in their descriptions,
/// and the connections whose entries were synced at least once.
pub(super) struct EntryNumbers {
    pub named: std::collections::HashSet<(String, String)>,
    pub synced: std::collections::HashSet<String>,
}

/// The document numbers (`001-001-000000251`) that journal entries name in their description, per
/// connection, read in one pass; and the connections whose entries were ever synced.
pub(super) fn entry_document_numbers(store: &Store) -> CoreResult<EntryNumbers> {
    store.query(|db| {
        // A few thousand entries at a time (by rowid, which both backends have): a company's
        // entries need not all be in memory at once.
        let mut named = std::collections::HashSet::new();
        let mut after = i64::MIN;
        loop {
            let rows = db.query(
                "SELECT rowid, connection_id, coalesce(glosa, '') FROM contifico_asiento
                  WHERE deleted_at IS NULL AND rowid > ?1 ORDER BY rowid LIMIT 5000",
                vals![after],
            )?;
            let Some(last) = rows.last() else { break };
            after = last.get(0)?;
            for r in &rows {
                let conn: String = r.get(1)?;
                let glosa: String = r.get(2)?;
                for n in document_numbers_in(&glosa) {
                    named.insert((conn.clone(), n.to_string()));
                }
            }
        }
        let mut synced = std::collections::HashSet::new();
        for r in db.query(
            "SELECT connection_id FROM sync_state WHERE erp = 'contifico' AND resource = 'asientos' AND last_success_at IS NOT NULL",
            &[],
        )? {
            synced.insert(r.get::<String>(0)?);
        }
        Ok(EntryNumbers { named, synced })
    })
}

/// Sales documents of the given types emitted on or after `since`, not void.
pub(super) fn sales_documents(store: &Store, types: &[String], since: &str) -> CoreResult<Vec<SaleRow>> {
    let d = Dialect(store.backend());
    let mut p: Vec<String> = vec![since.to_string()];
    p.extend(types.iter().cloned());
    let sql = number_placeholders(&format!(
        "SELECT d.connection_id, d.id, coalesce(d.documento, ''), coalesce(d.tipo_documento, ''), coalesce(d.fecha_emision, ''), d.total,
                coalesce({cliente}, {persona}, '')
           FROM contifico_documento_venta d
          WHERE d.deleted_at IS NULL AND coalesce(d.estado, '') <> 'A' AND coalesce(d.fecha_emision, '') >= ?
            AND d.tipo_documento IN ({})",
        vec!["?"; types.len().max(1)].join(","),
        cliente = d.json_text("d.raw", "cliente.razon_social"),
        persona = d.json_text("d.raw", "persona.razon_social"),
    ));
    if types.is_empty() {
        // `IN (?)` with nothing to bind: no type asked for, no document.
        return Ok(vec![]);
    }
    store.query(|db| {
        let params: Vec<&dyn ToValue> = p.iter().map(|v| v as &dyn ToValue).collect();
        db.query(&sql, &params)?
            .iter()
            .map(|r| {
                Ok(SaleRow {
                    connection_id: r.get(0)?,
                    id: r.get(1)?,
                    number: r.get(2)?,
                    kind: r.get(3)?,
                    date: r.get(4)?,
                    total: r.get(5)?,
                    party_name: r.get(6)?,
                })
            })
            .collect()
    })
}

/// What changes the local reclassifications (part of the classification rules' data stamp).
pub(super) fn local_stamp(store: &Store) -> CoreResult<String> {
    store
        .query(|db| db.one("SELECT coalesce(max(updated_at), '') || '#' || count(*) FROM local_reclassifications", &[]))
}

/// The local field a correction writes where the ERP has no write of its own.
pub(super) const LOCAL_CATEGORY: &str = "categoria_local";

/// The value BackOffice keeps for a record's local field ("" when none).
pub(super) fn local_value(
    store: &Store,
    connection: &str,
    resource: &str,
    record: &str,
    field: &str,
) -> CoreResult<String> {
    store.query(|db| {
        Ok(db
            .query_opt(
                "SELECT value FROM local_reclassifications WHERE connection_id=?1 AND resource=?2 AND record_id=?3 AND field=?4",
                vals![connection, resource, record, field],
            )?
            .map(|r| r.get::<String>(0))
            .transpose()?
            .unwrap_or_default())
    })
}

/// Sets (or, with an empty value, removes) a record's local field.
pub(super) fn set_local_value(
    store: &Store,
    connection: &str,
    resource: &str,
    record: &str,
    field: &str,
    value: &str,
    actor: &Actor,
) -> CoreResult<()> {
    store.tx(|db| {
        if value.is_empty() {
            db.execute(
                "DELETE FROM local_reclassifications WHERE connection_id=?1 AND resource=?2 AND record_id=?3 AND field=?4",
                vals![connection, resource, record, field],
            )?;
        } else {
            db.execute(
                "INSERT INTO local_reclassifications (connection_id, resource, record_id, field, value, updated_at, updated_by, machine)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(connection_id, resource, record_id, field) DO UPDATE SET
                   value=excluded.value, updated_at=excluded.updated_at, updated_by=excluded.updated_by, machine=excluded.machine",
                vals![connection, resource, record, field, value, now_utc(), actor.who, actor.machine],
            )?;
        }
        Ok(())
    })
}

/// A local reclassification as reported: the record, its value and who set it.
pub(super) struct Reclassification {
    pub connection: String,
    pub resource: String,
    pub record_id: String,
    pub record_label: String,
    pub field: String,
    pub value: String,
    pub updated_at: String,
    pub updated_by: String,
    pub machine: String,
}

pub(super) fn reclassifications(store: &Store) -> CoreResult<Vec<Reclassification>> {
    store.query(|db| {
        db.query(
            "SELECT coalesce(cn.name, l.connection_id), l.resource, l.record_id,
                    coalesce((SELECT d.record_label FROM divergences d WHERE d.connection_id = l.connection_id AND d.resource = l.resource
                               AND d.record_id = l.record_id ORDER BY d.updated_at DESC LIMIT 1), ''),
                    l.field, l.value, l.updated_at, l.updated_by, l.machine
               FROM local_reclassifications l LEFT JOIN connections cn ON cn.id = l.connection_id
              ORDER BY l.updated_at DESC, l.record_id",
            &[],
        )?
        .iter()
        .map(|r| {
            Ok(Reclassification {
                connection: r.get(0)?,
                resource: r.get(1)?,
                record_id: r.get(2)?,
                record_label: r.get(3)?,
                field: r.get(4)?,
                value: r.get(5)?,
                updated_at: r.get(6)?,
                updated_by: r.get(7)?,
                machine: r.get(8)?,
            })
        })
        .collect()
    })
}

/// Contífico documents of `resource` not locally classified under `expected` whose description
/// contains one of `texts` (lower case), whose party's RUC or cédula is in `docs`, or whose
/// document type is in `types`; their category is the local one ("" when none).
pub(super) fn contifico_classification_rows(
    store: &Store,
    resource: &str,
    expected: &str,
    texts: &[String],
    docs: &[String],
    types: &[String],
) -> CoreResult<Vec<ClassRow>> {
    let table = contifico_documents_table(resource)?;
    let d = Dialect(store.backend());
    let j = |path: &str| d.json_text("d.raw", path);
    let party = format!(
        "coalesce({}, {}, {}, {}, '')",
        j("persona.ruc"),
        j("cliente.ruc"),
        j("persona.cedula"),
        j("cliente.cedula")
    );
    let description = format!("coalesce({}, '')", j("descripcion"));
    let text = format!("lower({description})");
    let mut p: Vec<String> = vec![resource.to_string(), LOCAL_CATEGORY.to_string(), expected.to_string()];
    let Some(any) =
        matches_any(d, &Matchers { text: &text, party: &party, kind: "d.tipo_documento" }, texts, docs, types, &mut p)
    else {
        return Ok(vec![]);
    };
    let sql = format!(
        "SELECT d.connection_id, d.id, coalesce(l.value, ''), {description}, coalesce(d.documento, ''),
                d.total, {party}, coalesce({persona}, {cliente}, ''),
                coalesce(d.tipo_documento, '')
           FROM \"{table}\" d
           LEFT JOIN local_reclassifications l ON l.connection_id = d.connection_id AND l.resource = ? AND l.record_id = d.id AND l.field = ?
          WHERE d.deleted_at IS NULL AND coalesce(d.estado, '') <> 'A' AND coalesce(l.value, '') <> ?
            AND ({any})",
        persona = j("persona.razon_social"),
        cliente = j("cliente.razon_social"),
    );
    class_rows(store, &sql, &p)
}

/// The Ecuadorian document numbers (3 digits, 3 digits, 9 digits, joined by hyphens) in a text.
pub(super) fn document_numbers_in(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = vec![];
    let shape = |s: &[u8]| {
        s.len() == 17
            && s.iter().enumerate().all(|(i, c)| if i == 3 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
    };
    let mut i = 0;
    while i + 17 <= b.len() {
        let before_ok = i == 0 || !b[i - 1].is_ascii_digit();
        let after_ok = i + 17 == b.len() || !b[i + 17].is_ascii_digit();
        if before_ok && after_ok && shape(&b[i..i + 17]) {
            out.push(&text[i..i + 17]);
            i += 17;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::document_numbers_in;

    #[test]
    fn document_numbers_are_found_whole_in_an_entry_description() {
        assert_eq!(document_numbers_in("Venta FAC 001-001-000000251"), vec!["001-001-000000251"]);
        assert_eq!(
            document_numbers_in("Cruce 001-002-000000003/002-001-000000010 ok"),
            vec!["001-002-000000003", "002-001-000000010"]
        );
        // Not a number of that shape: too long, too short, other separators, glued to digits.
        assert!(document_numbers_in("1001-001-000000251").is_empty());
        assert!(document_numbers_in("001-001-00000025").is_empty());
        assert!(document_numbers_in("001/001/000000251").is_empty());
        assert!(document_numbers_in("001-001-0000002519").is_empty());
        assert!(document_numbers_in("Asiento manual 12").is_empty());
        assert!(document_numbers_in("").is_empty());
    }

    use std::collections::BTreeMap;

    use super::super::rules::Candidate;
    use super::super::{Actor, Decision, DivergenceFilter};
    use super::{decide, detail, ensure_default_rules, fold, list, rules, start_session};
    use crate::store::test_support::{add_omie_connection, team_database};
    use crate::store::Store;

    /// What two reviewers see after a session and their decisions, on one backend.
    fn review(store: &Store) -> Vec<String> {
        add_omie_connection(store);
        let ana = Actor { who: "ana".into(), machine: "desk-1".into() };
        let maria = Actor { who: "maria".into(), machine: "desk-2".into() };
        ensure_default_rules(store, &ana, chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()).unwrap();
        let rule = rules(store).unwrap().into_iter().next().expect("a default rule");
        let found = |i: u32, hash: &str| Candidate {
            fingerprint: format!("fp{i}"),
            connection_id: "c1".into(),
            erp: "omie".into(),
            resource: "contas_pagar".into(),
            record_id: format!("r{i}"),
            record_label: format!("Título {i} — Padaria 50%_off"),
            confidence: 100,
            basis: "test".into(),
            amount: Some(format!("{i}00.50")),
            currency: Some("BRL".into()),
            evidence: vec![],
            evidence_hash: hash.into(),
            facts: BTreeMap::new(),
            correction: None,
        };
        let s1 = start_session(store, "job-1", "manual", &ana).unwrap();
        let c = fold(store, &rule, &[found(1, "a"), found(2, "a"), found(3, "a")], &s1, &ana).unwrap();
        assert_eq!(c.get("new"), Some(&3));
        let s2 = start_session(store, "job-2", "manual", &ana).unwrap();
        let c = fold(store, &rule, &[found(1, "a"), found(2, "b")], &s2, &ana).unwrap();
        assert_eq!((c.get("still_open"), c.get("evidence_changed"), c.get("resolved")), (Some(&2), Some(&1), Some(&1)));
        let page = list(store, &DivergenceFilter { statuses: vec!["open".into()], ..Default::default() }).unwrap();
        assert_eq!(page.total, 2);
        assert_eq!(page.amounts.get("BRL").map(String::as_str), Some("301"));
        let id = |r: &str| page.items.iter().find(|d| d.record_id == r).unwrap().id.clone();
        let (one, two) = (id("r1"), id("r2"));
        // Two reviewers decide on different divergences.
        let d = |ids: Vec<String>, action: &str, assignee: Option<&str>| Decision {
            ids,
            action: action.into(),
            reason: "checked the invoice".into(),
            assignee: assignee.map(str::to_string),
            explanation: None,
        };
        assert_eq!(
            decide(store, &d(vec![one.clone()], "approve", None), &maria, None).unwrap().changed,
            vec![one.clone()]
        );
        decide(store, &d(vec![two.clone()], "assign", Some("maria")), &ana, None).unwrap();
        let r = decide(store, &d(vec![one.clone()], "reopen", None), &ana, None).unwrap();
        assert!(r.changed.is_empty() && r.skipped.contains_key(&one));
        // Searching is by words in the label, literally (a % or _ typed is not a wildcard), any case.
        let hits =
            |q: &str| list(store, &DivergenceFilter { search: Some(q.into()), ..Default::default() }).unwrap().total;
        assert_eq!((hits("PADARIA 50%_OFF"), hits("50%x"), hits("r2")), (3, 0, 1));
        let mine = list(store, &DivergenceFilter { assignee: Some("maria".into()), ..Default::default() }).unwrap();
        assert_eq!(mine.items.iter().map(|d| d.record_id.as_str()).collect::<Vec<_>>(), vec!["r2"]);
        let big = list(store, &DivergenceFilter { min_amount: Some("150".into()), ..Default::default() }).unwrap();
        assert_eq!(big.total, 2);
        let mut seen = vec![];
        for id in [&one, &two] {
            let dd = detail(store, id).unwrap();
            seen.push(format!("{} {}", dd.divergence.record_id, dd.divergence.status));
            seen.extend(dd.events.iter().map(|e| format!("  {} by {} on {}", e.action, e.who, e.machine)));
        }
        seen
    }

    #[test]
    fn two_reviewers_decisions_read_the_same_on_both_backends() {
        let dir = tempfile::tempdir().unwrap();
        let desk = review(&Store::open(&dir.path().join("d.db")).unwrap());
        let team = review(&Store::open_team(&team_database()).unwrap());
        assert_eq!(desk, team);
        assert_eq!(
            desk,
            vec![
                "r1 approved",
                "  detected by ana on desk-1",
                "  approved by maria on desk-2",
                "r2 open",
                "  detected by ana on desk-1",
                "  evidence_changed by ana on desk-1",
                "  assigned by ana on desk-1",
            ]
        );
    }
}
