//! Running a transfer: each step looks its idempotency key up, then inserts-and-submits once, and
//! records the document in one local transaction. Transient failures (no reply, 5xx, 429,
//! unreadable replies) are retried with exponential backoff and jitter up to the configured
//! limit, always looking the key up again first; any other refusal stops the run at that step
//! with ERPNext's message, a plain explanation and the fix. Compensation cancels the run's
//! documents in reverse order.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::docs::Posting;
use super::explain::{future_posting, plain, site_error};
use super::runs::{self, RunStatus, StepStatus, TransferRunDetail};
use super::site_time::{self, is_future_posting};
use super::{
    docs, idempotency_key, load_settings, RunError, SiteRole, StepDef, WorkflowSettings, EXT_REF_FIELD, STEPS,
};
use crate::erp::erpnext::client::{ErpError, ErpnextClient};
use crate::error::{CoreError, CoreResult};
use crate::jobs::JobCtx;
use crate::model::{Connection, ConnectionKind};
use crate::Ctx;

const MAKE_PR: &str = "erpnext.buying.doctype.purchase_order.purchase_order.make_purchase_receipt";

/// Where progress goes: the job (log lines, progress bar) when there is one.
#[derive(Clone, Default)]
pub struct Reporter {
    ctx: Option<JobCtx>,
}

impl Reporter {
    pub fn new(ctx: Option<JobCtx>) -> Self {
        Reporter { ctx }
    }

    /// A translatable line (see `JobCtx::log_t`); without a job, the English goes to tracing.
    fn log_t(&self, level: &str, key: &str, params: &[(&str, String)], english: &str) {
        match &self.ctx {
            Some(c) => c.log_t(level, key, params, english),
            None => tracing::info!("{english}"),
        }
    }

    fn progress(&self, f: f64, label: String) {
        if let Some(c) = &self.ctx {
            c.progress(Some(f), label);
        }
    }

    fn job_cancelled(&self) -> bool {
        self.ctx.as_ref().is_some_and(JobCtx::is_cancelled)
    }
}

/// How a step (or a run) ended when it did not succeed.
enum Stop {
    /// The operator (or the job) asked to stop.
    Cancelled(String),
    Failed(Box<RunError>),
}

/// The outcome of driving one run.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded,
    Failed(RunError),
    Cancelled,
    Compensated,
    CompensationFailed(RunError),
}

struct Runner<'a> {
    core: &'a Arc<Ctx>,
    rep: &'a Reporter,
    run_id: String,
    settings: WorkflowSettings,
    a: ErpnextClient,
    b: ErpnextClient,
    ca: Connection,
    cb: Connection,
    /// Each site's zone: what the site said before this run, else the connection's.
    tz_a: chrono_tz::Tz,
    tz_b: chrono_tz::Tz,
}

fn site_label(role: SiteRole, name: &str) -> String {
    format!("site {} ({name})", role.as_str())
}

fn connection(core: &Ctx, id: Option<&str>, name: &str, role: SiteRole) -> Result<Connection, Box<RunError>> {
    let missing = || {
        Box::new(plain(
            None,
            "setup",
            format!("The connection of site {} (\"{name}\") no longer exists.", role.as_str()),
            "Create the connection again with the same site and credentials, then retry; or compensate the run from another installation.",
        ))
    };
    let id = id.ok_or_else(missing)?;
    let c = core.connections().get(id).map_err(|_| missing())?;
    if c.kind != ConnectionKind::Erpnext {
        return Err(missing());
    }
    Ok(c)
}

fn client(core: &Ctx, conn: &Connection, s: &WorkflowSettings, role: SiteRole) -> Result<ErpnextClient, Box<RunError>> {
    let creds = core.connections().credentials(conn).map_err(|e| {
        Box::new(plain(
            None,
            "credentials",
            format!("The credentials of site {} (\"{}\") could not be read: {e}", role.as_str(), conn.name),
            "Unlock the keychain or enter the API key and secret again on the Connections page, then retry.",
        ))
    })?;
    Ok(ErpnextClient::new(core.http.clone(), conn, &creds)
        .with_policy(s.policy())
        .with_gate(crate::http::HostGate::new(core.store.clone())))
}

impl Runner<'_> {
    fn new<'a>(core: &'a Arc<Ctx>, rep: &'a Reporter, d: &TransferRunDetail) -> Result<Runner<'a>, Box<RunError>> {
        let settings = load_settings(&core.store).unwrap_or_default();
        let ca = connection(core, d.run.site_a_id.as_deref(), &d.run.site_a_name, SiteRole::A)?;
        let cb = connection(core, d.run.site_b_id.as_deref(), &d.run.site_b_name, SiteRole::B)?;
        let a = client(core, &ca, &settings, SiteRole::A)?;
        let b = client(core, &cb, &settings, SiteRole::B)?;
        let zone = |c: &Connection| c.timezone.parse().unwrap_or(chrono_tz::UTC);
        let (tz_a, tz_b) = (zone(&ca), zone(&cb));
        Ok(Runner { core, rep, run_id: d.run.id.clone(), settings, a, b, ca, cb, tz_a, tz_b })
    }

    /// Asks both sites which zone they keep (before any document is sent).
    async fn learn_zones(&mut self) {
        for role in [SiteRole::A, SiteRole::B] {
            let (conn, client) = if role == SiteRole::A { (&self.ca, &self.a) } else { (&self.cb, &self.b) };
            let z = super::site_time::erpnext_site_zone(self.core, conn, client).await;
            if let Some(note) = &z.note {
                self.rep.log_t(
                    "warn",
                    "transfer.site_zone_unknown",
                    &[("site_name", conn.name.clone()), ("zone", z.tz.name().to_string())],
                    note,
                );
            }
            if role == SiteRole::A {
                self.tz_a = z.tz;
            } else {
                self.tz_b = z.tz;
            }
        }
    }

    fn tz(&self, role: SiteRole) -> chrono_tz::Tz {
        if role == SiteRole::A {
            self.tz_a
        } else {
            self.tz_b
        }
    }

    /// The posting of a document sent now to the step's site, in that site's own time.
    fn posting(&self, def: &StepDef, input: &super::TransferInput) -> Posting {
        let tz = self.tz(def.site);
        let (p, moved) = site_time::posting_for(input, tz, self.core.clock.now());
        if let Some(wanted) = moved {
            let wanted = wanted.format("%Y-%m-%d %H:%M:%S").to_string();
            let site_now = format!("{} {}", p.date, p.time);
            self.rep.log_t(
                "warn",
                "transfer.posting_moved",
                &[
                    ("step", def.step.to_string()),
                    ("wanted", wanted.clone()),
                    ("site_now", site_now.clone()),
                    ("zone", tz.name().to_string()),
                ],
                &format!(
                    "step {}: {wanted} is later than the site's own clock ({site_now}, {}); sent with the site's time instead",
                    def.step,
                    tz.name()
                ),
            );
        }
        p
    }

    fn client(&self, role: SiteRole) -> &ErpnextClient {
        if role == SiteRole::A {
            &self.a
        } else {
            &self.b
        }
    }

    fn site(&self, role: SiteRole) -> String {
        site_label(role, self.client(role).name())
    }

    fn attempt(&self, step: Option<u8>, action: &str, outcome: &str, status: Option<u16>, msg: &str, started: Instant) {
        let ms = started.elapsed().as_millis() as i64;
        if let Err(e) =
            runs::record_attempt(&self.core.store, &self.run_id, step, action, outcome, status, msg, Some(ms))
        {
            tracing::warn!(error = %e, "could not record an attempt");
        }
    }

    /// Stops at a safe point if the operator or the job asked to.
    fn checkpoint(&self) -> Result<(), Stop> {
        if self.rep.job_cancelled() {
            return Err(Stop::Cancelled("The job was cancelled.".into()));
        }
        match runs::cancel_requested(&self.core.store, &self.run_id) {
            Ok(true) => Err(Stop::Cancelled("Cancelled by the operator.".into())),
            _ => Ok(()),
        }
    }

    /// Waits before the next try: the backoff's delay, or longer if the site said Retry-After.
    /// `None` when the tries are used up or the site asks for a longer wait than allowed.
    async fn wait(&self, backoff: &mut impl Iterator<Item = Duration>, e: &ErpError) -> Option<()> {
        let delay = backoff.next()?;
        let wait = match e.retry_after() {
            Some(ra) if ra > Duration::from_secs(self.settings.max_retry_after_s) => return None,
            Some(ra) => ra.max(delay),
            None => delay,
        };
        self.rep.log_t(
            "warn",
            "transfer.retrying",
            &[("error", e.short()), ("ms", wait.as_millis().to_string())],
            &format!("{}; trying again in {} ms", e.short(), wait.as_millis()),
        );
        tokio::time::sleep(wait).await;
        Some(())
    }

    /// The step's document by its key: (name, docstatus), any docstatus.
    async fn lookup(&self, def: &StepDef) -> Result<Option<(String, i32)>, ErpError> {
        let key = idempotency_key(&self.run_id, def.step);
        let rows = self
            .client(def.site)
            .list(
                def.doctype,
                &["name", "docstatus", "modified"],
                &json!([[EXT_REF_FIELD, "=", key]]),
                "creation asc, name asc",
                0,
                2,
            )
            .await?;
        Ok(rows.first().and_then(|r| {
            let name = r.get("name")?.as_str()?.to_string();
            Some((name, r.get("docstatus").and_then(Value::as_i64).unwrap_or(0) as i32))
        }))
    }

    async fn drive(&self, detail: &TransferRunDetail) -> Outcome {
        let input = &detail.input;
        let mut names: [Option<String>; 5] = Default::default();
        for s in &detail.steps {
            if s.status == StepStatus::Done {
                names[s.step as usize] = s.doc_name.clone();
            }
        }
        let first = detail.steps.iter().find(|s| s.status != StepStatus::Done).map(|s| s.step);
        if let Some(f) = first {
            if f > 1 {
                let d = &STEPS[f as usize - 1];
                self.rep.log_t(
                    "info",
                    "transfer.resuming",
                    &[
                        ("step", f.to_string()),
                        ("doctype", d.doctype.to_string()),
                        ("site", d.site.as_str().to_string()),
                    ],
                    &format!("resuming at step {f} ({}); steps before it are done", d.label),
                );
            }
        }
        for def in STEPS.iter() {
            let st = &detail.steps[def.step as usize - 1];
            if st.status == StepStatus::Done {
                continue;
            }
            self.rep.progress((def.step as f64 - 1.0) / 4.0, format!("step {} of 4: {}", def.step, def.label));
            if let Err(e) = runs::set_step(&self.core.store, &self.run_id, def.step, StepStatus::Running) {
                return Outcome::Failed(plain(Some(def.step), "internal", e.to_string(), "Retry the run."));
            }
            match self.step(def, input, &names).await {
                Ok((name, docstatus)) => {
                    if let Err(e) = runs::step_done(&self.core.store, &self.run_id, def.step, &name, docstatus) {
                        // The document exists; the next run finds it by its key.
                        return Outcome::Failed(plain(
                            Some(def.step),
                            "internal",
                            e.to_string(),
                            "Retry the run; the document is found by its key.",
                        ));
                    }
                    self.rep.log_t(
                        "info",
                        "transfer.step_done",
                        &[
                            ("step", def.step.to_string()),
                            ("doctype", def.doctype.to_string()),
                            ("name", name.clone()),
                            ("site", def.site.as_str().to_string()),
                            ("site_name", self.client(def.site).name().to_string()),
                        ],
                        &format!("step {}: {} {name} ({})", def.step, def.doctype, self.site(def.site)),
                    );
                    names[def.step as usize] = Some(name);
                    if def.step == 2 {
                        self.check_received(names[1].as_deref()).await;
                    }
                }
                Err(Stop::Cancelled(why)) => {
                    let _ = runs::set_step(&self.core.store, &self.run_id, def.step, StepStatus::Pending);
                    self.rep.log_t(
                        "warn",
                        "transfer.stopped_before",
                        &[("step", def.step.to_string()), ("reason", why.clone())],
                        &format!("stopped before step {}: {why}", def.step),
                    );
                    return Outcome::Cancelled;
                }
                Err(Stop::Failed(err)) => return Outcome::Failed(*err),
            }
        }
        self.rep.progress(1.0, "done".into());
        Outcome::Succeeded
    }

    /// After the receipt: the PO's `per_received` should be 100 (its rows were linked).
    async fn check_received(&self, po: Option<&str>) {
        let Some(po) = po else { return };
        if let Ok(Some(doc)) = self.a.get_doc("Purchase Order", po).await {
            let per = doc.get("per_received").and_then(Value::as_f64).unwrap_or(0.0);
            if per < 100.0 {
                self.rep.log_t(
                    "warn",
                    "transfer.po_not_fully_received",
                    &[("order", po.to_string()), ("percent", per.to_string())],
                    &format!("Purchase Order {po} shows {per}% received after the receipt; check its rows on site A"),
                );
            }
        }
    }

    async fn step(
        &self,
        def: &StepDef,
        input: &super::TransferInput,
        names: &[Option<String>; 5],
    ) -> Result<(String, i32), Stop> {
        let c = self.client(def.site);
        let site = self.site(def.site);
        let what = format!("create the {} on {site}", def.doctype);
        let mut backoff = self.settings.policy().backoff();
        let mut inserts: u32 = 0;
        let max = self.settings.max_attempts.max(1);
        let mut last: Option<ErpError> = None;
        // Set once, when the site refused our "now" as being in its future: its own clock's time.
        let mut site_posting: Option<Posting> = None;
        let fail = |e: &ErpError, n: u32| {
            Stop::Failed(Box::new(site_error(Some(def.step), &what, &site, def.doctype, e, n.max(1))))
        };
        loop {
            self.checkpoint()?;
            // 1. Has an earlier try (this run, a crashed one, a timed-out reply) created it?
            let t = Instant::now();
            match self.lookup(def).await {
                Ok(Some((name, docstatus))) => {
                    self.attempt(
                        Some(def.step),
                        "lookup",
                        "found",
                        Some(200),
                        &format!("{} {name} found by its key (docstatus {docstatus})", def.doctype),
                        t,
                    );
                    return self.adopt(def, &name, docstatus).await;
                }
                Ok(None) => {
                    self.attempt(Some(def.step), "lookup", "not_found", Some(200), "no document with this key yet", t)
                }
                Err(e) => {
                    self.attempt(
                        Some(def.step),
                        "lookup",
                        if e.is_transient() { "transient" } else { "failed" },
                        e.status(),
                        &e.short(),
                        t,
                    );
                    if !e.is_transient() {
                        return Err(fail(&e, inserts));
                    }
                    if self.wait(&mut backoff, &e).await.is_none() {
                        return Err(fail(last.as_ref().unwrap_or(&e), inserts.max(1)));
                    }
                    last = Some(e);
                    continue;
                }
            }
            if inserts >= max {
                let e = last.unwrap_or_else(|| ErpError::NoReply(CoreError::Internal("no attempt made".into())));
                return Err(fail(&e, inserts));
            }
            // 2. The body (step 2 asks the mapper for the PO's pending rows first).
            let posting = site_posting.clone().unwrap_or_else(|| self.posting(def, input));
            let body = match self.body(def, input, names, &posting).await {
                Ok(b) => b,
                Err(BodyError::Site(e)) => {
                    let e = *e;
                    if !e.is_transient() {
                        return Err(fail(&e, inserts));
                    }
                    if self.wait(&mut backoff, &e).await.is_none() {
                        return Err(fail(&e, inserts.max(1)));
                    }
                    last = Some(e);
                    continue;
                }
                Err(BodyError::Plain(err)) => return Err(Stop::Failed(err)),
            };
            // 3. Insert and submit, once.
            inserts += 1;
            let _ = runs::bump_attempts(&self.core.store, &self.run_id, def.step);
            let t = Instant::now();
            match c.insert(def.doctype, &body).await {
                Ok(doc) => {
                    let name = doc.get("name").and_then(Value::as_str).unwrap_or("").to_string();
                    let docstatus = doc.get("docstatus").and_then(Value::as_i64).unwrap_or(0) as i32;
                    if name.is_empty() {
                        self.attempt(
                            Some(def.step),
                            "insert",
                            "transient",
                            Some(200),
                            "the reply had no document name; looking it up",
                            t,
                        );
                        last = Some(ErpError::BadReply(CoreError::Internal("reply without a name".into())));
                        continue;
                    }
                    self.attempt(
                        Some(def.step),
                        "insert",
                        "ok",
                        Some(200),
                        &format!("created {} {name}", def.doctype),
                        t,
                    );
                    return self.adopt(def, &name, docstatus).await;
                }
                Err(e) if e.exc_type() == "UniqueValidationError" => {
                    // The key is taken: an earlier try committed. The lookup picks it up.
                    self.attempt(
                        Some(def.step),
                        "insert",
                        "duplicate",
                        e.status(),
                        "the site already has a document with this key; looking it up",
                        t,
                    );
                    last = Some(e);
                }
                Err(e) if is_future_posting(&e) => {
                    self.attempt(Some(def.step), "insert", "future_posting", e.status(), &e.short(), t);
                    let tz = self.tz(def.site);
                    let ours = site_time::wall(self.core.clock.now(), tz);
                    let theirs = e.site().and_then(|s| s.site_clock).map(|c| site_time::wall(c, tz));
                    let sent = chrono::NaiveDateTime::parse_from_str(
                        &format!("{} {}", posting.date, posting.time),
                        "%Y-%m-%d %H:%M:%S",
                    )
                    .unwrap_or(ours);
                    match theirs {
                        Some(theirs) if site_posting.is_none() => {
                            let retry_at = Posting::at(theirs.min(sent));
                            self.rep.log_t(
                                "warn",
                                "transfer.future_posting_retry",
                                &[
                                    ("step", def.step.to_string()),
                                    ("site_name", c.name().to_string()),
                                    ("sent", format!("{} {}", posting.date, posting.time)),
                                    ("site_clock", theirs.format("%Y-%m-%d %H:%M:%S").to_string()),
                                    ("our_clock", ours.format("%Y-%m-%d %H:%M:%S").to_string()),
                                    ("zone", tz.name().to_string()),
                                    ("retry", format!("{} {}", retry_at.date, retry_at.time)),
                                ],
                                &format!(
                                    "step {}: {site} refused the posting {} {} as being in its future: its clock reads {} while this computer reads {} ({}); trying once more with the site's time, {} {}",
                                    def.step,
                                    posting.date,
                                    posting.time,
                                    theirs.format("%Y-%m-%d %H:%M:%S"),
                                    ours.format("%Y-%m-%d %H:%M:%S"),
                                    tz.name(),
                                    retry_at.date,
                                    retry_at.time
                                ),
                            );
                            site_posting = Some(retry_at);
                            last = Some(e);
                        }
                        _ => {
                            return Err(Stop::Failed(Box::new(future_posting(
                                Some(def.step),
                                &what,
                                &site,
                                &e,
                                &posting,
                                tz,
                                ours,
                                theirs,
                            ))))
                        }
                    }
                }
                Err(e) if e.is_transient() => {
                    let outcome = if matches!(e, ErpError::NoReply(_) | ErpError::BadReply(_)) {
                        "no reply: the document may exist; it is looked up before any new try"
                    } else {
                        "the site failed; trying again"
                    };
                    self.attempt(
                        Some(def.step),
                        "insert",
                        "transient",
                        e.status(),
                        &format!("{} ({outcome})", e.short()),
                        t,
                    );
                    if self.wait(&mut backoff, &e).await.is_none() {
                        // One last look: a timed-out insert may have committed.
                        if let Ok(Some((name, docstatus))) = self.lookup(def).await {
                            return self.adopt(def, &name, docstatus).await;
                        }
                        return Err(fail(&e, inserts));
                    }
                    last = Some(e);
                }
                Err(e) => {
                    self.attempt(Some(def.step), "insert", "failed", e.status(), &e.short(), t);
                    return Err(fail(&e, inserts));
                }
            }
        }
    }

    /// Accepts a document found or created for a step: submitted is done; a draft is submitted;
    /// a cancelled one stops the run (its key cannot be used again).
    async fn adopt(&self, def: &StepDef, name: &str, docstatus: i32) -> Result<(String, i32), Stop> {
        match docstatus {
            1 => Ok((name.to_string(), 1)),
            2 => Err(Stop::Failed(Box::new(plain(
                Some(def.step),
                "cancelled_on_site",
                format!("The {} {name} this run created on {} has been cancelled there. A cancelled document keeps the run's key, so this run cannot create it again.", def.doctype, self.site(def.site)),
                "Compensate this run (it cancels the other documents) and start a new transfer.",
            )))),
            _ => {
                let t = Instant::now();
                match self.client(def.site).update(def.doctype, name, &json!({"docstatus": 1})).await {
                    Ok(_) => {
                        self.attempt(Some(def.step), "submit", "ok", Some(200), &format!("submitted the draft {name}"), t);
                        Ok((name.to_string(), 1))
                    }
                    Err(e) => {
                        self.attempt(Some(def.step), "submit", "failed", e.status(), &e.short(), t);
                        let what = format!("submit the draft {} {name} on {}", def.doctype, self.site(def.site));
                        Err(Stop::Failed(Box::new(site_error(Some(def.step), &what, &self.site(def.site), def.doctype, &e, 1))))
                    }
                }
            }
        }
    }

    async fn body(
        &self,
        def: &StepDef,
        input: &super::TransferInput,
        names: &[Option<String>; 5],
        posting: &Posting,
    ) -> Result<Value, BodyError> {
        let need = |step: usize| {
            names[step].clone().ok_or_else(|| {
                BodyError::Plain(Box::new(plain(
                    Some(def.step),
                    "internal",
                    format!("step {step}'s document is not recorded"),
                    "Retry the run.",
                )))
            })
        };
        match def.step {
            1 => Ok(docs::purchase_order(input, &self.run_id, posting)),
            2 => {
                let po = need(1)?;
                let t = Instant::now();
                let mapped = self.a.call(MAKE_PR, &json!({"source_name": po})).await;
                match mapped {
                    Ok(m) => {
                        self.attempt(
                            Some(2),
                            "mapper",
                            "ok",
                            Some(200),
                            &format!("make_purchase_receipt from {po}"),
                            t,
                        );
                        docs::purchase_receipt_a(input, &self.run_id, &m, posting).map_err(|why| {
                            BodyError::Plain(Box::new(plain(
                                Some(2),
                                "conflict",
                                format!("Cannot receive Purchase Order {po} on {}: {why}.", self.site(SiteRole::A)),
                                "Check the Purchase Receipts made against it on site A. Cancel a wrong one and retry, or compensate this run and start a new one.",
                            )))
                        })
                    }
                    Err(e) => {
                        self.attempt(
                            Some(2),
                            "mapper",
                            if e.is_transient() { "transient" } else { "failed" },
                            e.status(),
                            &e.short(),
                            t,
                        );
                        Err(BodyError::Site(Box::new(e)))
                    }
                }
            }
            3 => Ok(docs::delivery_note(input, &self.run_id, posting)),
            _ => Ok(docs::purchase_receipt_b(input, &self.run_id, &need(3)?, posting)),
        }
    }

    /// Cancels the run's submitted documents, last first. Documents already cancelled are skipped;
    /// a step whose reply was lost is looked up by its key.
    async fn compensate(&self, detail: &TransferRunDetail) -> Outcome {
        for def in STEPS.iter().rev() {
            let st = &detail.steps[def.step as usize - 1];
            if st.status == StepStatus::Compensated {
                continue;
            }
            let c = self.client(def.site);
            let site = self.site(def.site);
            self.rep.progress((4.0 - def.step as f64) / 4.0, format!("cancelling step {}: {}", def.step, def.label));
            let mut backoff = self.settings.policy().backoff();
            // Which document?
            let name = match &st.doc_name {
                Some(n) => Some(n.clone()),
                None if st.attempts > 0 || matches!(st.status, StepStatus::Running | StepStatus::Failed) => loop {
                    let t = Instant::now();
                    match self.lookup(def).await {
                        Ok(found) => {
                            self.attempt(
                                Some(def.step),
                                "lookup",
                                if found.is_some() { "found" } else { "not_found" },
                                Some(200),
                                "looking for a document created without a recorded reply",
                                t,
                            );
                            break found.map(|(n, _)| n);
                        }
                        Err(e) => {
                            self.attempt(Some(def.step), "lookup", "transient", e.status(), &e.short(), t);
                            if !e.is_transient() || self.wait(&mut backoff, &e).await.is_none() {
                                return Outcome::CompensationFailed(site_error(
                                    Some(def.step),
                                    &format!("look up the {} of this run on {site}", def.doctype),
                                    &site,
                                    def.doctype,
                                    &e,
                                    1,
                                ));
                            }
                        }
                    }
                },
                None => None,
            };
            let Some(name) = name else { continue };
            let what = format!("cancel the {} {name} on {site}", def.doctype);
            let mut tries = 0u32;
            loop {
                tries += 1;
                let t = Instant::now();
                let doc = match c.get_doc(def.doctype, &name).await {
                    Ok(d) => d,
                    Err(e) => {
                        self.attempt(Some(def.step), "check", "transient", e.status(), &e.short(), t);
                        if !e.is_transient() || self.wait(&mut backoff, &e).await.is_none() {
                            return Outcome::CompensationFailed(site_error(
                                Some(def.step),
                                &what,
                                &site,
                                def.doctype,
                                &e,
                                tries,
                            ));
                        }
                        continue;
                    }
                };
                let Some(doc) = doc else {
                    self.attempt(
                        Some(def.step),
                        "check",
                        "not_found",
                        Some(404),
                        &format!("{name} no longer exists on the site"),
                        t,
                    );
                    let _ = runs::step_docstatus(&self.core.store, &self.run_id, def.step, &name, 2);
                    break;
                };
                let docstatus = doc.get("docstatus").and_then(Value::as_i64).unwrap_or(0) as i32;
                if docstatus == 2 {
                    self.attempt(Some(def.step), "check", "ok", Some(200), &format!("{name} is cancelled"), t);
                    let _ = runs::step_docstatus(&self.core.store, &self.run_id, def.step, &name, 2);
                    self.rep.log_t(
                        "info",
                        "transfer.step_cancelled",
                        &[("step", def.step.to_string()), ("doctype", def.doctype.to_string()), ("name", name.clone())],
                        &format!("step {}: {} {name} is cancelled", def.step, def.doctype),
                    );
                    break;
                }
                let t = Instant::now();
                let r = if docstatus == 0 {
                    c.delete(def.doctype, &name).await
                } else {
                    c.cancel(def.doctype, &name).await
                };
                match r {
                    Ok(()) if docstatus == 0 => {
                        self.attempt(
                            Some(def.step),
                            "cancel",
                            "ok",
                            Some(202),
                            &format!("deleted the draft {name}"),
                            t,
                        );
                        let _ = runs::step_docstatus(&self.core.store, &self.run_id, def.step, &name, 2);
                        break;
                    }
                    Ok(()) => {
                        self.attempt(Some(def.step), "cancel", "ok", Some(200), &format!("cancelled {name}"), t);
                        // Loop once more: the GET confirms docstatus 2 and records it.
                    }
                    Err(e) if e.is_transient() => {
                        self.attempt(Some(def.step), "cancel", "transient", e.status(), &e.short(), t);
                        if self.wait(&mut backoff, &e).await.is_none() {
                            return Outcome::CompensationFailed(site_error(
                                Some(def.step),
                                &what,
                                &site,
                                def.doctype,
                                &e,
                                tries,
                            ));
                        }
                    }
                    Err(e) => {
                        self.attempt(Some(def.step), "cancel", "failed", e.status(), &e.short(), t);
                        let err = site_error(Some(def.step), &what, &site, def.doctype, &e, tries);
                        let _ = runs::step_error(&self.core.store, &self.run_id, def.step, &err);
                        return Outcome::CompensationFailed(err);
                    }
                }
            }
        }
        Outcome::Compensated
    }
}

enum BodyError {
    Site(Box<ErpError>),
    Plain(Box<RunError>),
}

/// Drives one run (`action` = `run` or `compensate`) to its end and records the outcome.
pub async fn drive_run(core: &Arc<Ctx>, rep: &Reporter, run_id: &str, action: &str) -> CoreResult<Outcome> {
    let detail = runs::detail(&core.store, run_id)?;
    let mut runner = match Runner::new(core, rep, &detail) {
        Ok(r) => r,
        Err(err) => {
            let err = *err;
            let status = if action == "compensate" { RunStatus::CompensationFailed } else { RunStatus::Failed };
            runs::finish(&core.store, run_id, status, Some(&err))?;
            return Ok(if action == "compensate" { Outcome::CompensationFailed(err) } else { Outcome::Failed(err) });
        }
    };
    if action == "compensate" {
        rep.log_t(
            "info",
            "transfer.compensating",
            &[("run", run_id.to_string())],
            &format!("compensating transfer {run_id}: cancelling its documents, last first"),
        );
        let out = runner.compensate(&detail).await;
        match &out {
            Outcome::Compensated => runs::finish(&core.store, run_id, RunStatus::Compensated, None)?,
            Outcome::CompensationFailed(e) => {
                runs::finish(&core.store, run_id, RunStatus::CompensationFailed, Some(e))?
            }
            _ => {}
        }
        return Ok(out);
    }
    runner.learn_zones().await;
    rep.log_t(
        "info",
        "transfer.starting",
        &[("run", run_id.to_string()), ("summary", detail.run.summary.clone())],
        &format!("transfer {run_id}: {}", detail.run.summary),
    );
    let out = runner.drive(&detail).await;
    match &out {
        Outcome::Succeeded => runs::finish(&core.store, run_id, RunStatus::Succeeded, None)?,
        Outcome::Cancelled => {
            if rep.job_cancelled() && !runs::cancel_requested(&core.store, run_id).unwrap_or(false) {
                runs::record_action(&core.store, run_id, "cancel", "The job running it was cancelled.")?;
            }
            runs::finish(&core.store, run_id, RunStatus::Cancelled, None)?
        }
        Outcome::Failed(e) => {
            let step = e.step.unwrap_or(1);
            runs::step_failed(&core.store, run_id, step, e)?;
            rep.log_t(
                "error",
                "transfer.step_failed",
                &[
                    ("step", step.to_string()),
                    ("error", e.message.clone()),
                    ("fix", e.fix.clone()),
                    ("code", e.kind.clone()),
                ],
                &format!("step {step} stopped: {} Fix: {}", e.message, e.fix),
            );
        }
        _ => {}
    }
    Ok(out)
}

/// The body of an `erpnext_workflow` job: runs `prefer` first, then every other run queued for the
/// same site A, oldest first.
pub async fn worker(core: Arc<Ctx>, ctx: JobCtx, site_a_id: String, prefer: Option<String>) -> CoreResult<()> {
    let rep = Reporter::new(Some(ctx.clone()));
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut last_failure: Option<(String, RunError)> = None;
    let mut prefer = prefer;
    loop {
        if ctx.is_cancelled() {
            break;
        }
        let Some((run_id, action)) = runs::claim_next(&core.store, &site_a_id, prefer.as_deref(), ctx.id())? else {
            break;
        };
        prefer = None;
        if !done.insert(run_id.clone()) {
            break;
        }
        ctx.add_count("runs", 1);
        match drive_run(&core, &rep, &run_id, &action).await? {
            Outcome::Succeeded => ctx.add_count("succeeded", 1),
            Outcome::Compensated => ctx.add_count("compensated", 1),
            Outcome::Cancelled => ctx.add_count("cancelled", 1),
            Outcome::Failed(e) | Outcome::CompensationFailed(e) => {
                ctx.add_count("failed", 1);
                last_failure = Some((run_id, e));
            }
        }
    }
    match last_failure {
        Some((run_id, e)) => Err(CoreError::Remote {
            connection: core.connections().get(&site_a_id).map(|c| c.name).unwrap_or_default(),
            remote_code: format!("erpnext_{}", e.kind),
            message: format!("Transfer {run_id} stopped at step {}: {} Fix: {}", e.step.unwrap_or(0), e.message, e.fix),
        }),
        None => Ok(()),
    }
}
