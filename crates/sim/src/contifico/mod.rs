//! Contífico (Ecuador) simulator: v1 lists (plain arrays, `result_size` /
//! `result_page`), the v2 lists that exist only there (DRF envelope), raw-key
//! auth, modified-since filters, and a control API to mutate data under a client.
//!
//! Paths and shapes follow `shared/reference/contifico.md`; where the reference is
//! unsure the chosen reading is marked with `// reference:`.

mod data;
mod gen;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::{Json, Router};
use chrono::Days;
use serde::Deserialize;
use serde_json::{json, Value};

pub use data::{MutationReport, Resource};
use data::{Pred, Selection, Store, TsKind, EC_OFFSET_H};
use gen::Gen;

use crate::server::{html_response, json_response, ServerControl};
use crate::util::{ddmmyyyy, local_midnight_ts, local_naive, now_ts, parse_ddmmyyyy, parse_yyyymmdd};
use crate::Faults;

/// v1 list without `result_size`: the real API returns everything at once
/// (688 products in one call observed). The simulator caps it for safety.
pub const V1_UNPAGED_CAP: u64 = 1000;
/// Upper bound applied to `result_size`.
// reference: v1 `result_size` maximum NOT FOUND (clients use 1000). Clamped so that a
// huge value at `--scale 1000000` cannot build a gigantic body.
pub const MAX_RESULT_SIZE: u64 = 10_000;
/// v2 DRF page size (producto: "retorna 100 items"; `page_size` ≤ 100 observed).
pub const V2_PAGE_SIZE: u64 = 100;

pub(crate) struct Shared {
    store: Arc<Store>,
    api_key: String,
}

/// Control handle of the Contífico simulator: data mutation plus the common
/// fault/latency/counter controls.
#[derive(Clone)]
pub struct ContificoControl {
    server: ServerControl,
    store: Arc<Store>,
}

impl std::fmt::Debug for ContificoControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContificoControl").field("scale", &self.store.base).field("server", &self.server).finish()
    }
}

impl ContificoControl {
    /// Edit `pct`% of the records of every resource (modification time → now, one
    /// visible field changes) and delete a few (about a tenth of that, at least 1).
    pub fn mutate(&self, pct: f64) -> MutationReport {
        self.store.mutate(&Resource::ALL, pct)
    }

    /// Same as [`mutate`](Self::mutate) for one resource.
    pub fn mutate_resource(&self, resource: Resource, pct: f64) -> MutationReport {
        self.store.mutate(&[resource], pct)
    }

    /// Append `n` new records (created now) to every resource. Returns how many
    /// records were added in total.
    pub fn insert(&self, n: u64) -> u64 {
        self.store.insert(&Resource::ALL, n)
    }

    pub fn insert_into(&self, resource: Resource, n: u64) -> u64 {
        self.store.insert(&[resource], n)
    }

    /// Makes record `idx` (creation order) of `resource` answer `value` for `field`, to test how
    /// clients handle malformed data (an impossible date, a non-numeric amount).
    pub fn override_field(&self, resource: Resource, idx: u64, field: &str, value: Value) {
        self.store.override_field(resource, idx, field, value)
    }

    /// Records currently listed (not deleted) for a resource.
    pub fn live_count(&self, resource: Resource) -> u64 {
        let ov = self.store.read();
        self.store.live(&ov, resource)
    }

    /// The id of the `idx`-th record (creation order, 0-based) of a resource.
    pub fn id_of(&self, resource: Resource, idx: u64) -> String {
        self.store.id(resource, idx)
    }

    /// Today's date in Ecuador (UTC-5) as `dd/mm/yyyy`: the date mutated records get.
    pub fn today(&self) -> String {
        ddmmyyyy(local_naive(now_ts(), EC_OFFSET_H).date())
    }

    pub fn server(&self) -> &ServerControl {
        &self.server
    }

    pub fn set_faults(&self, faults: Faults) {
        self.server.set_faults(faults)
    }

    pub fn faults(&self) -> Faults {
        self.server.faults()
    }

    pub fn set_latency_ms(&self, ms: u64) {
        self.server.set_latency_ms(ms)
    }

    pub fn fail_next(&self, n: u32, status: u16) {
        self.server.fail_next(n, status)
    }

    pub fn request_count(&self, path: &str) -> u64 {
        self.server.request_count(path)
    }

    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.server.request_counts()
    }

    pub fn total_requests(&self) -> u64 {
        self.server.total_requests()
    }

    pub fn reset_counters(&self) {
        self.server.reset_counters()
    }

    fn stats_json(&self) -> Value {
        let mut v = self.server.stats_json();
        let ov = self.store.read();
        let live: BTreeMap<String, u64> =
            Resource::ALL.iter().map(|r| (r.path().to_string(), self.store.live(&ov, *r))).collect();
        v["live"] = json!(live);
        v["today"] = json!(self.today());
        v
    }
}

pub(crate) fn build(seed: u64, scale: u64, api_key: String, server: ServerControl) -> (Router, ContificoControl) {
    let store = Arc::new(Store::new(seed, scale));
    let shared = Arc::new(Shared { store: store.clone(), api_key });
    let ctl = ContificoControl { server: server.clone(), store };
    let api = Router::new()
        .route("/sistema/api/{*rest}", any(api))
        .fallback(|| async { not_found_html() })
        .with_state(shared)
        .merge(control_routes(ctl.clone()));
    (crate::server::finish_router(api, server), ctl)
}

#[derive(Deserialize)]
struct MutateQ {
    pct: Option<f64>,
    resource: Option<String>,
}

#[derive(Deserialize)]
struct InsertQ {
    n: Option<u64>,
    resource: Option<String>,
}

#[derive(Deserialize)]
struct FailNextQ {
    n: Option<u32>,
    status: Option<u16>,
}

fn bad_control(msg: String) -> Response {
    json_response(400, &json!({ "error": msg }))
}

fn control_routes(ctl: ContificoControl) -> Router {
    Router::new()
        .route(
            "/__sim/contifico/mutate",
            post(|State(c): State<ContificoControl>, Query(q): Query<MutateQ>| async move {
                let pct = q.pct.unwrap_or(5.0);
                match q.resource.as_deref() {
                    None => json_response(200, &json!(c.mutate(pct))),
                    Some(p) => match Resource::from_path(p) {
                        Some(r) => json_response(200, &json!(c.mutate_resource(r, pct))),
                        None => bad_control(format!("unknown resource {p}")),
                    },
                }
            }),
        )
        .route(
            "/__sim/contifico/insert",
            post(|State(c): State<ContificoControl>, Query(q): Query<InsertQ>| async move {
                let n = q.n.unwrap_or(1);
                match q.resource.as_deref() {
                    None => json_response(200, &json!({ "inserted": c.insert(n) })),
                    Some(p) => match Resource::from_path(p) {
                        Some(r) => json_response(200, &json!({ "inserted": c.insert_into(r, n) })),
                        None => bad_control(format!("unknown resource {p}")),
                    },
                }
            }),
        )
        .route("/__sim/contifico/stats", get(|State(c): State<ContificoControl>| async move { Json(c.stats_json()) }))
        .route(
            "/__sim/contifico/fail_next",
            post(|State(c): State<ContificoControl>, Query(q): Query<FailNextQ>| async move {
                c.fail_next(q.n.unwrap_or(1), q.status.unwrap_or(500));
                Json(json!({ "pending_failures": c.server.pending_failures() }))
            }),
        )
        .route(
            "/__sim/contifico/faults",
            post(|State(c): State<ContificoControl>, Json(f): Json<Faults>| async move {
                c.set_faults(f);
                Json(serde_json::to_value(c.faults()).unwrap_or(Value::Null))
            }),
        )
        .route(
            "/__sim/contifico/reset_counters",
            post(|State(c): State<ContificoControl>| async move {
                c.reset_counters();
                Json(json!({ "ok": true }))
            }),
        )
        .with_state(ctl)
}

// ---------------------------------------------------------------------------------
// Error bodies.
// reference: Contífico's error body is NOT FOUND (no captured real body). The API is
// Django REST Framework style, so errors use DRF's `{"detail": "..."}` with its
// Spanish texts, per-field `{campo: ["mensaje"]}` for bad parameters, and Django's
// plain HTML pages for unknown URLs and 500s.
// ---------------------------------------------------------------------------------

fn detail(status: u16, msg: &str) -> Response {
    json_response(status, &json!({ "detail": msg }))
}

fn not_found_html() -> Response {
    html_response(
        404,
        "<!doctype html><html><head><title>Not Found</title></head><body><h1>Not Found</h1><p>The requested resource was not found on this server.</p></body></html>",
    )
}

/// A 400 with a DRF per-field body `{campo: ["mensaje"]}`.
struct BadParam(Value);

impl BadParam {
    fn into_response(self) -> Response {
        json_response(400, &self.0)
    }
}

fn field_error(field: &str, msg: &str) -> BadParam {
    BadParam(json!({ field: [msg] }))
}

/// Body for an injected failure with the given HTTP status.
pub(crate) fn error_for_status(status: u16) -> Response {
    match status {
        500 => html_response(
            500,
            "<!doctype html><html><head><title>Server Error (500)</title></head><body><h1>Server Error (500)</h1><p></p></body></html>",
        ),
        502..=504 => html_response(
            status,
            &format!("<html><head><title>{status} Bad Gateway</title></head><body><center><h1>{status}</h1></center></body></html>"),
        ),
        429 => detail(
            429,
            "Solicitud fue regulada (throttled). Se espera que esté disponible en 1 segundo.",
        ),
        401 => detail(401, "Credenciales de autenticación incorrectas."),
        403 => detail(403, "Usted no tiene permiso para realizar esta acción."),
        404 => detail(404, "No encontrado."),
        400 => detail(400, "Solicitud con formato incorrecto."),
        s => detail(s, &format!("Error {s}.")),
    }
}

// ---------------------------------------------------------------------------------
// Routing.
// ---------------------------------------------------------------------------------

enum Route {
    List(Resource, bool),
    Get(Resource),
    Stock,
    DocEstado,
    DocCobro,
    /// v1 `GET /contabilidad/asiento/`: the docs have no list there.
    NoList,
}

struct Entry {
    segs: &'static [&'static str],
    res: Resource,
    /// Whether `GET <path>/<ID>` is documented for this path.
    get: bool,
}

const fn e(segs: &'static [&'static str], res: Resource, get: bool) -> Entry {
    Entry { segs, res, get }
}

/// v1 paths of reference section 2.
const V1: &[Entry] = &[
    e(&["categoria"], Resource::Categoria, true),
    e(&["marca"], Resource::Marca, true),
    e(&["variante"], Resource::Variante, true),
    e(&["producto"], Resource::Producto, true),
    e(&["bodega"], Resource::Bodega, true),
    e(&["movimiento-inventario"], Resource::MovimientoInventario, true),
    // reference: the docs show the guia list URL without the trailing slash; both work.
    e(&["inventario", "guia"], Resource::Guia, false),
    // reference: documented single GET is `/documento/<ID>`, not under registro/.
    e(&["registro", "documento"], Resource::Documento, false),
    // reference: the URL table marks GET on `/documento/` (general catalog); it lists
    // the same documents as `/registro/documento/` with the same filters [INFERRED].
    e(&["documento"], Resource::Documento, true),
    e(&["registro", "transaccion"], Resource::Transaccion, true),
    e(&["persona"], Resource::Persona, true),
    e(&["contabilidad", "centro-costo"], Resource::CentroCosto, true),
    e(&["contabilidad", "cuenta-contable"], Resource::CuentaContable, true),
    e(&["contabilidad", "asiento"], Resource::Asiento, true),
    e(&["banco", "cuenta"], Resource::BancoCuenta, true),
    e(&["banco", "movimiento"], Resource::BancoMovimiento, true),
];

/// v2 paths (OpenAPI v2, plus centro-costo seen in third-party code).
const V2: &[Entry] = &[
    e(&["persona"], Resource::Persona, true),
    e(&["contabilidad", "asiento"], Resource::Asiento, true),
    e(&["producto"], Resource::Producto, true),
    e(&["categoria"], Resource::Categoria, true),
    e(&["bodega"], Resource::Bodega, true),
    e(&["movimiento-inventario"], Resource::MovimientoInventario, true),
    e(&["documento"], Resource::Documento, false),
    e(&["banco", "cuenta"], Resource::BancoCuenta, true),
    e(&["contabilidad", "centro-costo"], Resource::CentroCosto, false),
];

fn resolve(v2: bool, segs: &[&str]) -> Option<(Route, Option<String>)> {
    let table = if v2 { V2 } else { V1 };
    let entry = table
        .iter()
        .filter(|en| segs.len() >= en.segs.len() && segs[..en.segs.len()] == *en.segs)
        .max_by_key(|en| en.segs.len())?;
    let rest = &segs[entry.segs.len()..];
    let r = entry.res;
    let registro = entry.segs.first() == Some(&"registro");
    match rest {
        [] if !v2 && r == Resource::Asiento => Some((Route::NoList, None)),
        [] => Some((Route::List(r, registro), None)),
        ["estado", id] if v2 && r == Resource::Documento => Some((Route::DocEstado, Some(id.to_string()))),
        [id] if entry.get => Some((Route::Get(r), Some(id.to_string()))),
        [id, "stock"] if r == Resource::Producto => Some((Route::Stock, Some(id.to_string()))),
        [id, "estado"] if !v2 && r == Resource::Documento && !registro => {
            Some((Route::DocEstado, Some(id.to_string())))
        }
        [id, "cobro"] if r == Resource::Documento && !registro => Some((Route::DocCobro, Some(id.to_string()))),
        _ => None,
    }
}

async fn api(State(sh): State<Arc<Shared>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let (v2, rest) = if let Some(r) = path.strip_prefix("/sistema/api/v1/") {
        (false, r)
    } else if let Some(r) = path.strip_prefix("/sistema/api/v2/") {
        (true, r)
    } else {
        return not_found_html();
    };
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let Some((route, id)) = resolve(v2, &segs) else {
        return not_found_html();
    };

    // reference: `Authorization: <API_KEY>`, the raw key with no scheme [DOC-v1].
    // A `Bearer`/`Token` prefix is therefore a wrong key.
    match headers.get(header::AUTHORIZATION) {
        None => return detail(401, "Las credenciales de autenticación no se proveyeron."),
        Some(v) if v.as_bytes() == sh.api_key.as_bytes() => {}
        Some(_) => return detail(401, "Credenciales de autenticación incorrectas."),
    }

    if method != Method::GET && method != Method::HEAD {
        // Writes are not simulated yet.
        return detail(405, &format!("Método \"{method}\" no permitido."));
    }

    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).into_owned().collect();
    let q = Params(params);
    let st = &sh.store;
    let ov = st.read();
    let g = Gen { st, ov: &ov, v2 };

    match route {
        Route::NoList => {
            // reference: v1 documents only POST and GET <ID> for asiento; the list
            // exists in v2 (`/sistema/api/v2/contabilidad/asiento/`).
            detail(405, "Método \"GET\" no permitido.")
        }
        Route::List(r, _registro) => {
            let preds = match build_preds(v2, r, &q) {
                Ok(p) => p,
                Err(bad) => return bad.into_response(),
            };
            let json_of = |i: u64| g.record(r, i);
            let fast_of = |i: u64, k: &str| g.fast(r, i, k);
            let tag = if v2 { "v2" } else { "v1" };
            let sel = st.select(&ov, r, &preds, &json_of, &fast_of, tag);
            if v2 {
                v2_page(&g, r, &sel, &q, &headers, &uri)
            } else {
                v1_page(&g, r, &sel, &q)
            }
        }
        Route::Get(r) => {
            let Some(idx) = id.as_deref().and_then(|i| st.lookup(&ov, r, i)) else {
                return detail(404, "No encontrado.");
            };
            let rec = g.record(r, idx);
            // reference: the v1 docs show `GET /persona/<ID>/` and
            // `GET /banco/movimiento/<ID>` answering a one-element array; followed here.
            if !v2 && matches!(r, Resource::Persona | Resource::BancoMovimiento) {
                json_response(200, &json!([rec]))
            } else {
                json_response(200, &rec)
            }
        }
        Route::Stock => match id.as_deref().and_then(|i| st.lookup(&ov, Resource::Producto, i)) {
            Some(idx) => json_response(200, &g.stock(idx)),
            None => detail(404, "No encontrado."),
        },
        Route::DocEstado | Route::DocCobro => {
            let Some(idx) = id.as_deref().and_then(|i| st.lookup(&ov, Resource::Documento, i)) else {
                return detail(404, "No encontrado.");
            };
            let d = g.record(Resource::Documento, idx);
            if matches!(route, Route::DocCobro) {
                return json_response(200, &d["cobros"]);
            }
            let electronico = d["electronico"].as_bool().unwrap_or(false);
            json_response(
                200,
                &json!({
                    "documento_id": d["id"],
                    "tipo_registro": d["tipo_registro"],
                    "tipo_documento": d["tipo_documento"],
                    "estado": if electronico { "Autorizado" } else { "No Firmado" },
                }),
            )
        }
    }
}

struct Params(Vec<(String, String)>);

impl Params {
    /// Last non-empty value of a parameter.
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().rev().find(|(key, v)| key == k && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    fn uint(&self, k: &str) -> Result<Option<u64>, BadParam> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => {
                v.trim().parse::<u64>().map(Some).map_err(|_| field_error(k, "Se requiere un número entero válido."))
            }
        }
    }
}

#[derive(Clone, Copy)]
enum DateFmt {
    Dmy,
    Ymd,
    /// The v2 OpenAPI gives no format for this filter: accept both.
    Either,
}

fn parse_date(fmt: DateFmt, k: &str, v: &str) -> Result<chrono::NaiveDate, BadParam> {
    let parsed = match fmt {
        DateFmt::Dmy => parse_ddmmyyyy(v),
        DateFmt::Ymd => parse_yyyymmdd(v),
        DateFmt::Either => parse_ddmmyyyy(v).or_else(|| parse_yyyymmdd(v)),
    };
    let want = match fmt {
        DateFmt::Dmy => "DD/MM/YYYY",
        DateFmt::Ymd => "YYYY-MM-DD",
        DateFmt::Either => "DD/MM/YYYY, YYYY-MM-DD",
    };
    parsed.ok_or_else(|| {
        field_error(k, &format!("Fecha con formato erróneo. Use uno de los siguientes formatos en su lugar: {want}."))
    })
}

fn midnight(d: chrono::NaiveDate) -> i64 {
    local_midnight_ts(d, EC_OFFSET_H)
}

/// `from_key` / `to_key` as an inclusive range of local dates on `kind`.
fn date_range(
    q: &Params,
    from_key: &str,
    to_key: Option<&str>,
    fmt: DateFmt,
    kind: TsKind,
    preds: &mut Vec<Pred>,
) -> Result<(), BadParam> {
    let from = match q.get(from_key) {
        Some(v) => Some(midnight(parse_date(fmt, from_key, v)?)),
        None => None,
    };
    let to = match to_key.and_then(|k| q.get(k).map(|v| (k, v))) {
        Some((k, v)) => {
            let d = parse_date(fmt, k, v)?;
            Some(midnight(d.checked_add_days(Days::new(1)).unwrap_or(d)))
        }
        None => None,
    };
    if from.is_some() || to.is_some() {
        preds.push(Pred::Ts { kind, from, to });
    }
    Ok(())
}

fn eq(q: &Params, key: &str, fields: &[&'static str], preds: &mut Vec<Pred>) {
    if let Some(v) = q.get(key) {
        preds.push(Pred::Eq { fields: fields.to_vec(), value: v.to_string() });
    }
}

fn contains(q: &Params, key: &str, fields: &[&'static str], preds: &mut Vec<Pred>) {
    if let Some(v) = q.get(key) {
        preds.push(Pred::Contains { fields: fields.to_vec(), needle: v.to_lowercase() });
    }
}

fn fast(q: &Params, key: &str, attr: &'static str, preds: &mut Vec<Pred>) {
    if let Some(v) = q.get(key) {
        preds.push(Pred::Fast { key: attr, value: v.to_string() });
    }
}

/// An exact-date filter on a `dd/mm/yyyy` body field.
fn eq_date(q: &Params, key: &str, field: &'static str, preds: &mut Vec<Pred>) -> Result<(), BadParam> {
    if let Some(v) = q.get(key) {
        let d = parse_date(DateFmt::Dmy, key, v)?;
        preds.push(Pred::Eq { fields: vec![field], value: ddmmyyyy(d) });
    }
    Ok(())
}

fn bool01(q: &Params, key: &str, preds: &mut Vec<Pred>) -> Result<(), BadParam> {
    if let Some(v) = q.get(key) {
        let b = match v {
            "1" | "true" | "True" => "true",
            "0" | "false" | "False" => "false",
            _ => return Err(field_error(key, "Debe ser 1 o 0.")),
        };
        preds.push(Pred::Eq { fields: vec![key_static(key)], value: b.to_string() });
    }
    Ok(())
}

fn key_static(k: &str) -> &'static str {
    match k {
        "es_proveedor" => "es_proveedor",
        _ => "es_cliente",
    }
}

/// Documented filters per list (reference sections 2 and 3). Unknown parameters are
/// ignored, as DRF does.
fn build_preds(v2: bool, r: Resource, q: &Params) -> Result<Vec<Pred>, BadParam> {
    use Resource as R;
    let mut p = Vec::new();
    let m = TsKind::Modified;
    match (v2, r) {
        // "desde/hasta la fecha de última modificación" [DOC-v1].
        (false, R::Categoria | R::Variante | R::Bodega) => {
            date_range(q, "fecha_inicial", Some("fecha_final"), DateFmt::Dmy, m, &mut p)?
        }
        (false, R::Producto) => {
            date_range(q, "fecha_inicial", Some("fecha_final"), DateFmt::Dmy, m, &mut p)?;
            contains(q, "filtro", &["nombre", "codigo"], &mut p);
            eq(q, "categoria_id", &["categoria_id"], &mut p);
            eq(q, "codigo_barra", &["codigo_barra"], &mut p);
            eq(q, "codigo", &["codigo"], &mut p);
        }
        (_, R::MovimientoInventario) => {
            eq(q, "estado", &["estado"], &mut p);
            eq(q, "tipo", &["tipo"], &mut p);
            if v2 {
                // reference: v2 only; semantics unclear, observed half-open [D, D+1)
                // per day, which is what an inclusive day range gives.
                date_range(q, "fecha_inicial", Some("fecha_final"), DateFmt::Either, TsKind::Event, &mut p)?;
                eq(q, "bodega_id", &["bodega_id"], &mut p);
            }
        }
        (_, R::Documento) => {
            fast(q, "tipo_registro", "tipo_registro", &mut p);
            eq(q, "tipo", &["tipo_documento"], &mut p);
            eq_date(q, "fecha_emision", "fecha_emision", &mut p)?;
            eq_date(q, "fecha_vencimiento", "fecha_vencimiento", &mut p)?;
            eq_date(q, "fecha_creacion", "fecha_creacion", &mut p)?;
            let ident: &[&'static str] = if v2 {
                &["persona.cedula", "persona.ruc"]
            } else {
                &["cliente.cedula", "cliente.ruc", "persona.cedula", "persona.ruc"]
            };
            eq(q, "persona_identificacion", ident, &mut p);
            // reference: on documents fecha_inicial/fecha_final filter the emission date.
            date_range(q, "fecha_inicial", Some("fecha_final"), DateFmt::Dmy, TsKind::Event, &mut p)?;
            fast(q, "persona_id", "persona_id", &mut p);
            // reference: bodega is not in the document body; the sim keeps a hidden
            // per-document warehouse so the filter still partitions the list.
            fast(q, "bodega_id", "bodega_id", &mut p);
            if v2 {
                // reference: v2 `fecha_modificacion` (YYYY-MM-DD observed) read as
                // "modified on or after" (reference section 3 lists it as the
                // modified-since filter).
                date_range(q, "fecha_modificacion", None, DateFmt::Ymd, m, &mut p)?;
            }
        }
        (false, R::Transaccion) => {
            // reference: only sent by one third-party client, and whether it works was
            // being tested; read here as a range on fecha_emision.
            date_range(q, "fecha_inicial", Some("fecha_final"), DateFmt::Dmy, TsKind::Event, &mut p)?;
        }
        (false, R::Persona) => {
            eq(q, "identificacion", &["cedula", "ruc"], &mut p);
            date_range(q, "fecha_inicial", Some("fecha_final"), DateFmt::Dmy, m, &mut p)?;
            contains(q, "filtro", &["razon_social", "nombre_comercial"], &mut p);
            eq(q, "categoria_id", &["id_categoria"], &mut p);
        }
        (true, R::Persona) => {
            contains(q, "search", &["razon_social", "nombre_comercial", "cedula", "ruc"], &mut p);
            date_range(q, "modificados_desde_fecha", None, DateFmt::Ymd, m, &mut p)?;
            fast(q, "estado", "estado", &mut p);
            // reference: v2 persona fecha_inicial/fecha_final (AAAA-MM-DD) do not say
            // which date they filter; read as the modification date like v1.
            date_range(q, "fecha_inicial", Some("fecha_final"), DateFmt::Ymd, m, &mut p)?;
            bool01(q, "es_proveedor", &mut p)?;
            bool01(q, "es_cliente", &mut p)?;
            eq(q, "tipo", &["tipo"], &mut p);
            eq(q, "categoria_id", &["categoria_id"], &mut p);
        }
        (_, R::CentroCosto) => eq(q, "tipo", &["tipo"], &mut p),
        (false, R::CuentaContable) => eq(q, "tipo", &["tipo"], &mut p),
        (false, R::BancoMovimiento) => {
            eq_date(q, "fecha_emision", "fecha_emision", &mut p)?;
            // "fecha de última modificación" per the doc text.
            date_range(q, "fecha_inicial", Some("fecha_final"), DateFmt::Dmy, m, &mut p)?;
        }
        (true, R::Asiento) => {
            date_range(q, "fecha_inicial", Some("fecha_final"), DateFmt::Dmy, TsKind::Event, &mut p)?;
            if let Some(v) = q.get("centro_costo") {
                p.push(Pred::Detalle { field: "centro_costo_id", value: v.to_string() });
            }
        }
        (true, R::Producto) => {
            date_range(q, "modificados_desde_fecha", None, DateFmt::Either, m, &mut p)?;
            date_range(q, "fecha_inicial", Some("fecha_final"), DateFmt::Either, m, &mut p)?;
            contains(q, "filtro", &["nombre", "codigo"], &mut p);
            eq(q, "estado", &["estado"], &mut p);
            eq(q, "categoria_id", &["categoria_id"], &mut p);
        }
        (true, R::Categoria) => {
            eq(q, "search_exact", &["nombre"], &mut p);
            date_range(q, "modificados_desde_fecha", None, DateFmt::Either, m, &mut p)?;
        }
        (true, R::Bodega) => date_range(q, "fecha_inicial", Some("fecha_final"), DateFmt::Either, m, &mut p)?,
        // marca, guia, banco/cuenta, cuenta-contable v2...: no documented filters.
        _ => {}
    }
    Ok(p)
}

/// v1: a plain JSON array. `result_size` + `result_page` (1-based) are honoured on
/// every list.
// reference: documented only for `/registro/documento/`; observed on
// `/registro/transaccion/`; whether other v1 lists honour them is NOT FOUND — the
// sim honours them everywhere. A page past the end is `[]` (clients stop on a
// short page).
fn v1_page(g: &Gen<'_>, r: Resource, sel: &Selection, q: &Params) -> Response {
    let size = match q.uint("result_size") {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let page = match q.uint("result_page") {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let (offset, limit) = match size {
        None => (0, V1_UNPAGED_CAP),
        Some(s) => {
            let s = s.min(MAX_RESULT_SIZE);
            match page.unwrap_or(1) {
                // reference: result_page is 1-based; page 0 is answered with `[]`.
                0 => (0, 0),
                p => ((p - 1).saturating_mul(s), s),
            }
        }
    };
    let idxs = g.st.page(g.ov, r, sel, offset, limit);
    let rows: Vec<Value> = idxs.into_iter().map(|i| g.record(r, i)).collect();
    json_response(200, &Value::Array(rows))
}

/// v2: DRF page-number pagination `{count, next, previous, results}`.
// reference: the envelope is not in the OpenAPI spec; taken from clients that follow
// `next`. `page` past the end → 404 `{"detail":"Página inválida."}` as DRF does.
fn v2_page(g: &Gen<'_>, r: Resource, sel: &Selection, q: &Params, headers: &HeaderMap, uri: &Uri) -> Response {
    let count = g.st.selection_len(g.ov, r, sel);
    // reference: v2 `/documento/` documents result_size/result_page (envelope
    // UNVERIFIED): they act as page size / page number here.
    let (size_key, page_key) = if r == Resource::Documento && q.get("result_size").is_some() {
        ("result_size", "result_page")
    } else {
        ("page_size", "page")
    };
    let size = match q.uint(size_key) {
        Ok(Some(0)) | Ok(None) => V2_PAGE_SIZE,
        Ok(Some(s)) if size_key == "page_size" => s.min(V2_PAGE_SIZE),
        Ok(Some(s)) => s.min(MAX_RESULT_SIZE),
        Err(e) => return e.into_response(),
    };
    let pages = count.div_ceil(size).max(1);
    let page = match q.get(page_key) {
        None => 1,
        Some("last") => pages,
        Some(v) => match v.parse::<u64>() {
            Ok(p) if p >= 1 => p,
            _ => return detail(404, "Página inválida."),
        },
    };
    if page > pages {
        return detail(404, "Página inválida.");
    }
    let idxs = g.st.page(g.ov, r, sel, (page - 1) * size, size);
    let results: Vec<Value> = idxs.into_iter().map(|i| g.record(r, i)).collect();
    let link = |p: u64| -> Value {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &q.0 {
            if k != page_key {
                ser.append_pair(k, v);
            }
        }
        if p > 1 {
            ser.append_pair(page_key, &p.to_string());
        }
        let qs = ser.finish();
        let sep = if qs.is_empty() { "" } else { "?" };
        json!(format!("http://{host}{}{sep}{qs}", uri.path()))
    };
    json_response(
        200,
        &json!({
            "count": count,
            "next": if page < pages { link(page + 1) } else { Value::Null },
            "previous": if page > 1 { link(page - 1) } else { Value::Null },
            "results": results,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_documented_paths() {
        assert!(matches!(
            resolve(false, &["registro", "documento"]),
            Some((Route::List(Resource::Documento, true), None))
        ));
        assert!(matches!(resolve(false, &["documento", "X"]), Some((Route::Get(Resource::Documento), Some(_)))));
        assert!(resolve(false, &["registro", "documento", "X"]).is_none());
        assert!(matches!(resolve(false, &["contabilidad", "asiento"]), Some((Route::NoList, None))));
        assert!(matches!(
            resolve(true, &["contabilidad", "asiento"]),
            Some((Route::List(Resource::Asiento, false), None))
        ));
        assert!(matches!(resolve(false, &["producto", "X", "stock"]), Some((Route::Stock, Some(_)))));
        assert!(resolve(false, &["nope"]).is_none());
        assert!(resolve(true, &["marca"]).is_none());
    }

    #[test]
    fn paging_skips_deleted_records() {
        let st = Store::new(1, 30);
        st.mutate(&[Resource::Marca], 30.0);
        let ov = st.read();
        let live = st.live(&ov, Resource::Marca);
        assert!(live < 30);
        let all: Vec<u64> = (0..10).flat_map(|p| st.page(&ov, Resource::Marca, &Selection::All, p * 7, 7)).collect();
        assert_eq!(all.len() as u64, live);
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        assert!(all.iter().all(|i| !st.is_deleted(&ov, Resource::Marca, *i)));
    }
}
