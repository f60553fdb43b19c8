//! Test and demo control of one ERPNext site: faults per DocType and operation, and direct
//! access to the site's documents. Also served as `/__sim/erpnext/...` (see the README).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::query::no_nulls;
use super::{error_of_status, FrappeError, Reply, Site, SiteState};

/// Which kind of write a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `POST /api/resource/<DocType>`
    Insert,
    /// `PUT {"docstatus": 1}`, `run_method: submit`, `frappe.client.submit`
    Submit,
    /// `PUT {"docstatus": 2}`, `run_method: cancel`, `frappe.client.cancel`
    Cancel,
    /// Any other `PUT`
    Update,
    /// The `make_purchase_receipt` mapper
    Mapper,
}

/// What happens to a matching request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer this HTTP status in Frappe's shape before doing anything (nothing is written):
    /// 500 is a `QueryDeadlockError`, 429 carries `Retry-After: 1`.
    Status(u16),
    /// Answer a 417 of exception class `exc_type` with this message (nothing is written).
    Reject { exc_type: String, message: String },
    /// Do the work and commit it, then hold the answer this long (past the client's timeout).
    ReplyLate(Duration),
}

pub(crate) struct Armed {
    op: Op,
    /// Empty: any DocType.
    doctype: String,
    fault: Fault,
    remaining: u32,
}

impl SiteState {
    pub(crate) fn take_fault(&self, op: Op, doctype: &str) -> Option<Fault> {
        let mut faults = self.faults.lock().expect("faults");
        let i = faults.iter().position(|a| a.op == op && (a.doctype.is_empty() || a.doctype == doctype))?;
        let fault = faults[i].fault.clone();
        faults[i].remaining -= 1;
        if faults[i].remaining == 0 {
            faults.remove(i);
        }
        Some(fault)
    }
}

pub(crate) fn before(f: &Option<Fault>) -> Result<(), FrappeError> {
    match f {
        Some(Fault::Status(s)) => Err(error_of_status(*s)),
        Some(Fault::Reject { exc_type, message }) => {
            let mut e = FrappeError::throw("ValidationError", message.clone());
            e.exc_type = exc_type.clone().into();
            Err(e)
        }
        _ => Ok(()),
    }
}

pub(crate) fn after(f: &Option<Fault>, reply: &mut Reply) {
    if let Some(Fault::ReplyLate(d)) = f {
        reply.late = Some(*d);
    }
}

/// Control of one simulated ERPNext site. Cheap to clone.
#[derive(Clone)]
pub struct ErpnextControl {
    pub(crate) st: Arc<SiteState>,
}

impl std::fmt::Debug for ErpnextControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ErpnextControl").field("site", &self.st.site).finish()
    }
}

impl ErpnextControl {
    pub fn site(&self) -> Site {
        self.st.site
    }

    /// The next `n` requests doing `op` on `doctype` ("" = any) meet `fault`.
    pub fn arm(&self, op: Op, doctype: &str, n: u32, fault: Fault) {
        if n == 0 {
            return;
        }
        self.st.faults.lock().expect("faults").push(Armed { op, doctype: doctype.to_string(), fault, remaining: n });
    }

    /// The next `n` inserts of `doctype` answer `status` without writing anything.
    pub fn fail_inserts(&self, doctype: &str, n: u32, status: u16) {
        self.arm(Op::Insert, doctype, n, Fault::Status(status));
    }

    /// The next `n` inserts of `doctype` are refused with a 417 of class `exc_type`.
    pub fn reject_inserts(&self, doctype: &str, n: u32, exc_type: &str, message: &str) {
        self.arm(
            Op::Insert,
            doctype,
            n,
            Fault::Reject { exc_type: exc_type.to_string(), message: message.to_string() },
        );
    }

    /// The next `n` inserts of `doctype` are committed, then answered only after `delay`.
    pub fn reply_late_after_commit(&self, doctype: &str, n: u32, delay: Duration) {
        self.arm(Op::Insert, doctype, n, Fault::ReplyLate(delay));
    }

    /// The site's `rate_limit` (`None`: off, the default).
    pub fn set_rate_limit(&self, limit: Option<super::RateLimit>) {
        self.st.rate.lock().expect("rate").config = limit;
    }

    /// What the rate limiter did so far.
    pub fn rate_stats(&self) -> super::RateStats {
        self.st.rate.lock().expect("rate").stats
    }

    pub fn clear_faults(&self) {
        self.st.faults.lock().expect("faults").clear();
    }

    pub fn pending_faults(&self) -> usize {
        self.st.faults.lock().expect("faults").iter().map(|a| a.remaining as usize).sum()
    }

    /// Every document of `doctype`, as a read returns it (nulls left out).
    pub fn docs(&self, doctype: &str) -> Vec<Value> {
        let docs = self.st.docs.read().expect("docs");
        docs.get(doctype).map(|l| l.iter().map(no_nulls).collect()).unwrap_or_default()
    }

    pub fn doc(&self, doctype: &str, name: &str) -> Option<Value> {
        self.docs(doctype).into_iter().find(|d| d["name"] == name)
    }

    /// How many documents of `doctype` exist (any docstatus).
    pub fn count(&self, doctype: &str) -> usize {
        self.st.docs.read().expect("docs").get(doctype).map(Vec::len).unwrap_or(0)
    }

    /// Sets one field of a stored document directly (no validation); false if not found.
    pub fn set_value(&self, doctype: &str, name: &str, field: &str, value: Value) -> bool {
        let mut docs = self.st.docs.write().expect("docs");
        let Some(d) = docs.get_mut(doctype).and_then(|l| l.iter_mut().find(|d| d["name"] == name)) else {
            return false;
        };
        d.insert(field.to_string(), value);
        true
    }

    /// System Settings → Time Zone (`None`: unset, `get_time_zone` answers null).
    pub fn set_time_zone(&self, tz: Option<chrono_tz::Tz>) {
        *self.st.zone.lock().expect("zone") = tz;
    }

    /// Sets this site's own clock to `at` (it then runs on from there).
    pub fn set_clock(&self, at: chrono::DateTime<chrono::Utc>) {
        *self.st.clock_offset.lock().expect("clock offset") = at - chrono::Utc::now();
    }

    /// The site's wall clock in its zone.
    pub fn local_now(&self) -> chrono::NaiveDateTime {
        self.st.local_now()
    }

    /// Whether the API user has the System Manager role (Custom Field creation needs it).
    pub fn set_system_manager(&self, yes: bool) {
        self.st.system_manager.store(yes, Ordering::Relaxed);
    }

    /// Creates the unique `custom_ext_ref` field on `dt` directly (test setup).
    pub fn add_ext_ref_field(&self, dt: &str) {
        let body = json!({"dt": dt, "fieldname": "custom_ext_ref", "label": "Ext Ref", "fieldtype": "Data", "unique": 1, "no_copy": 1, "read_only": 1, "search_index": 1});
        let Value::Object(o) = body else { return };
        let _ = super::txn::insert(&self.st, "Custom Field", o);
    }
}

#[derive(Deserialize)]
struct FaultBody {
    op: Op,
    #[serde(default)]
    doctype: String,
    #[serde(default = "one")]
    n: u32,
    status: Option<u16>,
    exc_type: Option<String>,
    message: Option<String>,
    late_ms: Option<u64>,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
struct ZoneBody {
    /// An IANA name, or null for "not set".
    time_zone: Option<String>,
}

#[derive(Deserialize)]
struct ClockBody {
    /// RFC 3339: the instant this site's clock reads from now on.
    at: String,
}

#[derive(Deserialize)]
struct DocsQ {
    doctype: String,
}

/// `/__sim/erpnext/...` control endpoints (never counted, never faulted).
pub(crate) fn routes(ctl: ErpnextControl) -> Router {
    Router::new()
        .route(
            "/__sim/erpnext/fault",
            post(|State(c): State<ErpnextControl>, Json(b): Json<FaultBody>| async move {
                let fault = match (b.late_ms, b.status, b.message) {
                    (Some(ms), _, _) => Fault::ReplyLate(Duration::from_millis(ms)),
                    (None, _, Some(m)) => {
                        Fault::Reject { exc_type: b.exc_type.unwrap_or_else(|| "ValidationError".into()), message: m }
                    }
                    (None, s, None) => Fault::Status(s.unwrap_or(500)),
                };
                c.arm(b.op, &b.doctype, b.n, fault);
                Json(json!({"pending_faults": c.pending_faults()}))
            }),
        )
        .route(
            "/__sim/erpnext/clear_faults",
            post(|State(c): State<ErpnextControl>| async move {
                c.clear_faults();
                Json(json!({"ok": true}))
            }),
        )
        .route(
            "/__sim/erpnext/time_zone",
            post(|State(c): State<ErpnextControl>, Json(b): Json<ZoneBody>| async move {
                match b.time_zone.as_deref().map(str::parse::<chrono_tz::Tz>) {
                    Some(Err(_)) => (axum::http::StatusCode::BAD_REQUEST, Json(json!({"error": "unknown time zone"}))),
                    Some(Ok(tz)) => {
                        c.set_time_zone(Some(tz));
                        (axum::http::StatusCode::OK, Json(json!({"time_zone": tz.name()})))
                    }
                    None => {
                        c.set_time_zone(None);
                        (axum::http::StatusCode::OK, Json(json!({"time_zone": null})))
                    }
                }
            }),
        )
        .route(
            "/__sim/erpnext/clock",
            post(|State(c): State<ErpnextControl>, Json(b): Json<ClockBody>| async move {
                match chrono::DateTime::parse_from_rfc3339(&b.at) {
                    Ok(t) => {
                        c.set_clock(t.with_timezone(&chrono::Utc));
                        (axum::http::StatusCode::OK, Json(json!({"local_now": c.local_now().to_string()})))
                    }
                    Err(e) => (axum::http::StatusCode::BAD_REQUEST, Json(json!({"error": e.to_string()}))),
                }
            }),
        )
        .route(
            "/__sim/erpnext/docs",
            get(|State(c): State<ErpnextControl>, Query(q): Query<DocsQ>| async move { Json(json!(c.docs(&q.doctype))) }),
        )
        .with_state(ctl)
}
