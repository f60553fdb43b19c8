//! ERPNext's Purchase Orders, Purchase Receipts and Delivery Notes, declared for the shared sync
//! engine, and the page source that fetches them: `GET /api/resource/<DocType>` with
//! `modified >= <since>` (the engine's cursor, a day earlier), always ordered `modified asc, name
//! asc`, paged by `limit_start`/`limit_page_length`. Each page's child rows (item, qty, rate,
//! warehouse, serials) come in one more list call (`items.<field>` columns), so the stored record
//! holds what each site has, serials included, for later comparisons between the sites.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::erp::erpnext::client::ErpnextClient;
use crate::erp::JobKind;
use crate::error::CoreResult;
use crate::model::{Connection, Job};
use crate::sync::ColKind::{Code, Date, Decimal, Text};
use crate::sync::{
    col, DateFormat, Engine, ListShape, ModifiedFilter, PageRequest, PageResult, ResourceSpec, Source, SyncOptions,
};
use crate::Ctx;

const MODIFIED: Option<ModifiedFilter> =
    Some(ModifiedFilter { from: "modified", to: None, format: DateFormat::YyyyMmDd });

const fn spec(
    name: &'static str,
    table: &'static str,
    doctype: &'static str,
    columns: &'static [crate::sync::Column],
    search: &'static [&'static str],
) -> ResourceSpec {
    ResourceSpec {
        name,
        table,
        path: doctype,
        shape: ListShape::Array,
        query: &[],
        modified: MODIFIED,
        modified_field: Some("modified"),
        id_field: "name",
        columns,
        search,
    }
}

pub const RESOURCES: &[ResourceSpec] = &[
    spec(
        "purchase_orders",
        "erpnext_purchase_order",
        "Purchase Order",
        &[
            col("docstatus", "docstatus", Code),
            col("status", "status", Code),
            col("company", "company", Text),
            col("supplier", "supplier", Text),
            col("transaction_date", "transaction_date", Date),
            col("schedule_date", "schedule_date", Date),
            col("currency", "currency", Code),
            col("grand_total", "grand_total", Decimal),
            col("per_received", "per_received", Decimal),
            col("ext_ref", "custom_ext_ref", Text),
        ],
        &["name", "supplier", "company", "custom_ext_ref", "item_codes"],
    ),
    spec(
        "purchase_receipts",
        "erpnext_purchase_receipt",
        "Purchase Receipt",
        &[
            col("docstatus", "docstatus", Code),
            col("status", "status", Code),
            col("company", "company", Text),
            col("supplier", "supplier", Text),
            col("posting_date", "posting_date", Date),
            col("currency", "currency", Code),
            col("grand_total", "grand_total", Decimal),
            col("supplier_delivery_note", "supplier_delivery_note", Text),
            col("ext_ref", "custom_ext_ref", Text),
            col("serials", "serial_nos", Text),
        ],
        &["name", "supplier", "company", "supplier_delivery_note", "custom_ext_ref", "serial_nos", "item_codes"],
    ),
    spec(
        "delivery_notes",
        "erpnext_delivery_note",
        "Delivery Note",
        &[
            col("docstatus", "docstatus", Code),
            col("status", "status", Code),
            col("company", "company", Text),
            col("customer", "customer", Text),
            col("posting_date", "posting_date", Date),
            col("currency", "currency", Code),
            col("grand_total", "grand_total", Decimal),
            col("ext_ref", "custom_ext_ref", Text),
            col("serials", "serial_nos", Text),
        ],
        &["name", "customer", "company", "custom_ext_ref", "serial_nos", "item_codes"],
    ),
];

pub fn resource(name: &str) -> CoreResult<&'static ResourceSpec> {
    crate::sync::find_resource(RESOURCES, "ERPNext", name)
}

fn child_fields(doctype: &str) -> Vec<&'static str> {
    let mut f = vec![
        "name",
        "items.idx as idx",
        "items.item_code as item_code",
        "items.qty as qty",
        "items.rate as rate",
        "items.warehouse as warehouse",
    ];
    match doctype {
        "Purchase Order" => f.push("items.received_qty as received_qty"),
        "Purchase Receipt" => {
            f.push("items.serial_no as serial_no");
            f.push("items.purchase_order as purchase_order");
        }
        _ => f.push("items.serial_no as serial_no"),
    }
    f
}

pub struct ErpnextSource {
    pub client: ErpnextClient,
}

impl Source for ErpnextSource {
    async fn fetch_page(&self, spec: &ResourceSpec, req: PageRequest) -> CoreResult<PageResult> {
        let doctype = spec.path;
        let filters = match req.since {
            Some(d) => json!([["modified", ">=", format!("{} 00:00:00.000000", d.format("%Y-%m-%d"))]]),
            None => json!([]),
        };
        let size = req.page_size.max(1) as u64;
        let start = (req.page.max(1) as u64 - 1) * size;
        let url = format!(
            "{}/api/resource/{doctype}?filters={filters}&order_by=modified asc, name asc&limit_start={start}&limit_page_length={size}",
            self.client.base_url().trim_end_matches('/')
        );
        let mut rows = self
            .client
            .list(doctype, &["*"], &filters, "modified asc, name asc", start, size)
            .await
            .map_err(|e| e.into_core())?;
        let last = (rows.len() as u64) < size;
        if !rows.is_empty() {
            let names: Vec<Value> = rows.iter().filter_map(|r| r.get("name").cloned()).collect();
            let children = self
                .client
                .list(doctype, &child_fields(doctype), &json!([["name", "in", names]]), "name asc", 0, 0)
                .await
                .map_err(|e| e.into_core())?;
            let mut by_parent: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for c in children {
                let parent = c.get("name").and_then(Value::as_str).unwrap_or("").to_string();
                if c.get("item_code").is_some_and(|v| !v.is_null()) {
                    let mut row = c.clone();
                    if let Some(o) = row.as_object_mut() {
                        o.remove("name");
                    }
                    by_parent.entry(parent).or_default().push(row);
                }
            }
            for r in rows.iter_mut() {
                let name = r.get("name").and_then(Value::as_str).unwrap_or("").to_string();
                let mut items = by_parent.remove(&name).unwrap_or_default();
                items.sort_by_key(|i| i.get("idx").and_then(Value::as_i64).unwrap_or(0));
                let serials: Vec<String> = items
                    .iter()
                    .filter_map(|i| i.get("serial_no").and_then(Value::as_str))
                    .flat_map(|s| s.split(['\n', ',']).map(str::trim).filter(|x| !x.is_empty()).map(str::to_string))
                    .collect();
                let codes: Vec<String> = items
                    .iter()
                    .filter_map(|i| i.get("item_code").and_then(Value::as_str).map(str::to_string))
                    .collect();
                if let Some(o) = r.as_object_mut() {
                    o.insert("items".into(), Value::Array(items));
                    o.insert("serial_nos".into(), json!(serials.join("\n")));
                    o.insert("item_codes".into(), json!(codes.join(" ")));
                }
            }
        }
        Ok(PageResult { records: rows, last, total: None, url })
    }
}

/// Starts a `sync_erpnext` job: Purchase Orders, Purchase Receipts and Delivery Notes of one
/// ERPNext connection into the store (incremental by `modified`). Options are checked by the facade.
pub(crate) fn start_sync(core: &Arc<Ctx>, conn: Connection, opts: SyncOptions) -> CoreResult<Job> {
    let core2 = core.clone();
    let params = serde_json::to_value(&opts).unwrap_or_default();
    let target = conn.clone();
    let (job, _h) = core.jobs.spawn(JobKind::SyncErpnext.as_str(), Some(&target), params, move |ctx| async move {
        let core = core2;
        let creds = core.connections().credentials(&conn)?;
        let settings = super::load_settings(&core.store).unwrap_or_default();
        let mut policy = settings.policy();
        policy.timeout = policy.timeout.max(std::time::Duration::from_secs(30));
        let client = ErpnextClient::new(core.http.clone(), &conn, &creds)
            .with_policy(policy)
            .with_gate(crate::http::HostGate::new(core.store.clone()));
        let engine = Engine {
            store: core.store.clone(),
            source: Arc::new(ErpnextSource { client }),
            conn: conn.clone(),
            erp: "erpnext",
        };
        engine.run(&ctx, RESOURCES, &opts).await.map(|_| ())
    })?;
    Ok(job)
}
