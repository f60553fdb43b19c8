//! ERPNext: the inter-company transfer across two sites, and the sync of their documents.
//!
//! The transfer (issue 5) makes four documents, each inserted and submitted in one call
//! (`docstatus: 1`, `../shared/reference/erpnext.md` section 2.1):
//! 1. site A: Purchase Order from the supplier;
//! 2. site A: Purchase Receipt against it (rows from the `make_purchase_receipt` mapper, so they
//!    carry `purchase_order` + `purchase_order_item`) with the serials;
//! 3. site A: Delivery Note to company B's customer record with the same serials;
//! 4. site B: Purchase Receipt from company A's supplier record, the Delivery Note's name in
//!    `supplier_delivery_note`.
//!
//! Exactly once: every document carries the step's idempotency key in the unique custom field
//! `custom_ext_ref` (section 7). Before each insert the step looks its key up, so a reply lost to a
//! timeout or a crash never leads to a second document; a duplicate insert fails at the site's
//! database (UniqueValidationError) and is answered by the same lookup.
//!
//! Modules: [`input`] (the form, local checks), [`checks`] (names on the sites, suggestions, the
//! custom field), [`docs`] (the four request bodies and their preview), [`runs`] (persistence),
//! [`engine`] (execution, retries, compensation), [`explain`] (ERPNext errors in plain language),
//! [`sync`] (Purchase Orders, Purchase Receipts and Delivery Notes into the store).

pub mod api;
pub mod checks;
pub mod client;
pub mod docs;
pub mod engine;
pub mod explain;
pub mod input;
pub mod runs;
pub mod site_time;
pub mod sync;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use api::TransferPreview;
pub use checks::FieldStatus;
pub use input::{Problem, TransferInput, TransferItem};
pub use runs::{
    Attempt, DocRef, OperatorAction, RunError, RunFilter, RunStatus, StepStatus, TransferRun, TransferRunDetail,
    TransferStep,
};

use crate::erp::erpnext::client::Policy;
use crate::error::{CoreError, CoreResult};
use crate::store::settings::Setting;
use crate::store::Store;

/// The custom field that carries a run's idempotency key on every document it creates.
pub const EXT_REF_FIELD: &str = "custom_ext_ref";
/// The job kind that runs (and compensates) transfers.
pub const JOB_KIND: &str = "erpnext_workflow";

/// Which of the two sites a step writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub enum SiteRole {
    A,
    B,
}

impl SiteRole {
    pub fn as_str(self) -> &'static str {
        match self {
            SiteRole::A => "A",
            SiteRole::B => "B",
        }
    }
}

/// One of the four steps.
#[derive(Debug, Clone, Copy)]
pub struct StepDef {
    pub step: u8,
    /// Suffix of the idempotency key (`po`, `pr-a`, `dn-a`, `pr-b`).
    pub key: &'static str,
    pub site: SiteRole,
    pub doctype: &'static str,
    pub label: &'static str,
}

pub const STEPS: [StepDef; 4] = [
    StepDef { step: 1, key: "po", site: SiteRole::A, doctype: "Purchase Order", label: "Purchase Order on site A" },
    StepDef {
        step: 2,
        key: "pr-a",
        site: SiteRole::A,
        doctype: "Purchase Receipt",
        label: "Purchase Receipt on site A",
    },
    StepDef { step: 3, key: "dn-a", site: SiteRole::A, doctype: "Delivery Note", label: "Delivery Note on site A" },
    StepDef {
        step: 4,
        key: "pr-b",
        site: SiteRole::B,
        doctype: "Purchase Receipt",
        label: "Purchase Receipt on site B",
    },
];

pub fn step_def(step: u8) -> &'static StepDef {
    &STEPS[(step.clamp(1, 4) - 1) as usize]
}

/// The DocTypes that need the idempotency field on each site.
pub fn doctypes_for(site: SiteRole) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = STEPS.iter().filter(|s| s.site == site).map(|s| s.doctype).collect();
    v.dedup();
    v
}

/// The idempotency key of one step of a run: deterministic, so every retry and every resume sends
/// the same one.
pub fn idempotency_key(run_id: &str, step: u8) -> String {
    format!("bo-{run_id}:{}", step_def(step).key)
}

/// Timeouts and retry limits of the transfer's ERPNext calls (kept in the settings table).
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
#[serde(default)]
pub struct WorkflowSettings {
    /// Longest wait for one reply, in milliseconds. A write that times out is looked up before
    /// it is sent again.
    #[ts(type = "number")]
    pub request_timeout_ms: u64,
    /// Tries per step (and per read) before the run stops at that step.
    pub max_attempts: u32,
    #[ts(type = "number")]
    pub backoff_min_ms: u64,
    #[ts(type = "number")]
    pub backoff_max_ms: u64,
    /// A `Retry-After` longer than this stops the run (retry later) instead of waiting.
    #[ts(type = "number")]
    pub max_retry_after_s: u64,
}

impl Default for WorkflowSettings {
    fn default() -> Self {
        WorkflowSettings {
            request_timeout_ms: 30_000,
            max_attempts: 5,
            backoff_min_ms: 500,
            backoff_max_ms: 20_000,
            max_retry_after_s: 120,
        }
    }
}

impl WorkflowSettings {
    pub fn policy(&self) -> Policy {
        Policy {
            timeout: Duration::from_millis(self.request_timeout_ms.max(100)),
            max_attempts: self.max_attempts.max(1) as usize,
            min_delay: Duration::from_millis(self.backoff_min_ms),
            max_delay: Duration::from_millis(self.backoff_max_ms.max(self.backoff_min_ms)),
            max_retry_after: Duration::from_secs(self.max_retry_after_s),
        }
    }

    fn validate(&self) -> CoreResult<()> {
        if !(100..=600_000).contains(&self.request_timeout_ms) {
            return Err(CoreError::invalid("request_timeout_ms", "Use a timeout between 100 ms and 10 minutes."));
        }
        if !(1..=20).contains(&self.max_attempts) {
            return Err(CoreError::invalid("max_attempts", "Use between 1 and 20 attempts."));
        }
        if self.backoff_min_ms > self.backoff_max_ms {
            return Err(CoreError::invalid("backoff_min_ms", "The shortest wait must not exceed the longest."));
        }
        Ok(())
    }
}

const WORKFLOW: Setting<WorkflowSettings> = Setting::json("erpnext.workflow");

pub fn load_settings(store: &Store) -> CoreResult<WorkflowSettings> {
    Ok(store.setting(&WORKFLOW)?.unwrap_or_default())
}

pub fn save_settings(store: &Store, s: &WorkflowSettings) -> CoreResult<WorkflowSettings> {
    s.validate()?;
    store.set_setting(&WORKFLOW, s)?;
    load_settings(store)
}

/// Why BackOffice wants the idempotency field, shown with the offer to create it.
pub const EXT_REF_EXPLANATION: &str = "BackOffice writes a key of its own into a custom field \"custom_ext_ref\" (label \"Ext Ref\") on every Purchase Order, Purchase Receipt and Delivery Note it creates. When a reply from ERPNext is lost (a timeout, a dropped connection, BackOffice closing mid-step) the document may have been saved anyway; before trying again BackOffice looks the document up by that key, so the same document is never created twice. ERPNext has no built-in protection against duplicates, and the field is marked unique, so the site's database itself refuses a second document with the same key. The field is read-only, indexed and not copied when a document is amended. Creating it needs the System Manager role and changes no existing document.";
