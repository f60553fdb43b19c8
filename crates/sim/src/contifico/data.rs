//! Lazily generated Contífico data.
//!
//! Nothing is materialised per record: every record is a pure function of
//! (seed, resource, index, version). The only per-record state kept in memory is
//! an overlay of records that were mutated, inserted or deleted after start, so
//! `--scale 1000000` costs a few bytes per resource until records are touched.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use serde::Serialize;
use serde_json::Value;

use crate::util::{hash, now_ts, IdCodec, Rng};

/// Ecuador (mainland) is UTC-5 all year; Contífico dates are local dates.
pub const EC_OFFSET_H: i64 = -5;
const DAY: i64 = 86_400;
/// Seeded history spans ~2 years and ends one day before the simulator started,
/// so "modified today" only ever matches records touched through the control API.
const HISTORY_DAYS: i64 = 730;

/// Every list resource of the Contífico reference (section 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Categoria,
    Marca,
    Variante,
    Producto,
    Bodega,
    MovimientoInventario,
    Guia,
    /// One universe of documents, listed by `registro/documento/` and `documento/`.
    Documento,
    Transaccion,
    Persona,
    CentroCosto,
    CuentaContable,
    Asiento,
    BancoCuenta,
    BancoMovimiento,
}

impl Resource {
    pub const ALL: [Resource; 15] = [
        Resource::Categoria,
        Resource::Marca,
        Resource::Variante,
        Resource::Producto,
        Resource::Bodega,
        Resource::MovimientoInventario,
        Resource::Guia,
        Resource::Documento,
        Resource::Transaccion,
        Resource::Persona,
        Resource::CentroCosto,
        Resource::CuentaContable,
        Resource::Asiento,
        Resource::BancoCuenta,
        Resource::BancoMovimiento,
    ];

    /// The v1 list path, relative to `/sistema/api/v1/`.
    pub fn path(self) -> &'static str {
        match self {
            Resource::Categoria => "categoria/",
            Resource::Marca => "marca/",
            Resource::Variante => "variante/",
            Resource::Producto => "producto/",
            Resource::Bodega => "bodega/",
            Resource::MovimientoInventario => "movimiento-inventario/",
            Resource::Guia => "inventario/guia/",
            Resource::Documento => "registro/documento/",
            Resource::Transaccion => "registro/transaccion/",
            Resource::Persona => "persona/",
            Resource::CentroCosto => "contabilidad/centro-costo/",
            Resource::CuentaContable => "contabilidad/cuenta-contable/",
            // reference: v1 has no asiento list; the list lives in v2.
            Resource::Asiento => "contabilidad/asiento/",
            Resource::BancoCuenta => "banco/cuenta/",
            Resource::BancoMovimiento => "banco/movimiento/",
        }
    }

    /// Accepts a path like `persona`, `/registro/documento/`, `documento` or the
    /// enum name (`BancoMovimiento`).
    pub fn from_path(s: &str) -> Option<Resource> {
        let t = s.trim_matches('/');
        if t == "documento" {
            return Some(Resource::Documento);
        }
        Resource::ALL.into_iter().find(|r| r.path().trim_matches('/') == t || format!("{r:?}").eq_ignore_ascii_case(t))
    }

    /// Id namespace (distinct per resource so ids never collide across resources).
    pub(crate) fn ns(self) -> u16 {
        self as u16 + 1
    }

    pub(crate) fn from_ns(ns: u16) -> Option<Resource> {
        Resource::ALL.get(ns.checked_sub(1)? as usize).copied()
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Id namespaces for nested objects that carry their own ids.
pub(crate) const NS_VARIANTE_VALOR: u16 = 101;
pub(crate) const NS_COBRO: u16 = 102;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Change {
    pub version: u32,
    pub modified: i64,
    pub created: Option<i64>,
}

#[derive(Default, Debug)]
pub(crate) struct ResState {
    pub inserted: u64,
    pub changed: HashMap<u64, Change>,
    /// Field overrides set by tests (e.g. an unparseable date), applied last.
    pub overrides: HashMap<u64, Vec<(String, Value)>>,
    /// Sorted, unique.
    pub deleted: Vec<u64>,
}

#[derive(Debug)]
pub(crate) struct Overlay {
    pub generation: u64,
    pub rounds: u64,
    pub res: Vec<ResState>,
}

/// What a `mutate` call did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MutationReport {
    pub mutated: u64,
    pub deleted: u64,
    /// v1 path → (mutated, deleted)
    pub per_resource: BTreeMap<String, (u64, u64)>,
}

/// A cached selection: (overlay generation, matching indices).
type Cached = (u64, Arc<Vec<u64>>);

pub(crate) struct Store {
    pub seed: u64,
    pub base: u64,
    /// Unix time the simulator started; the seeded history ends one day before.
    pub anchor: i64,
    pub ids: IdCodec,
    overlay: RwLock<Overlay>,
    cache: Mutex<HashMap<String, Cached>>,
}

/// Which timestamp a date filter looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TsKind {
    /// Internal last-modification time.
    Modified,
    /// The record's own business date (fecha_emision / fecha).
    Event,
}

/// A list filter. Cheap predicates (timestamps, fast attributes) run before the
/// record JSON is generated.
#[derive(Clone, Debug)]
pub(crate) enum Pred {
    /// `from <= ts < to` (unix seconds).
    Ts { kind: TsKind, from: Option<i64>, to: Option<i64> },
    /// Attribute computable without generating JSON.
    Fast { key: &'static str, value: String },
    /// Any of the (dotted) JSON fields equals the value.
    Eq { fields: Vec<&'static str>, value: String },
    /// Any of the JSON fields contains the text (case-insensitive).
    Contains { fields: Vec<&'static str>, needle: String },
    /// Some element of `detalles[]` has `field == value`.
    Detalle { field: &'static str, value: String },
}

pub(crate) enum Selection {
    All,
    Some(Arc<Vec<u64>>),
}

impl Store {
    pub fn new(seed: u64, scale: u64) -> Self {
        Store {
            seed,
            base: scale,
            anchor: now_ts(),
            ids: IdCodec::new(seed),
            overlay: RwLock::new(Overlay {
                generation: 0,
                rounds: 0,
                res: Resource::ALL.iter().map(|_| ResState::default()).collect(),
            }),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Makes record `idx` of `r` answer `value` for `field` (tests of malformed data).
    pub fn override_field(&self, r: Resource, idx: u64, field: &str, value: Value) {
        let mut ov = self.overlay.write().expect("overlay lock");
        ov.res[r.index()].overrides.entry(idx).or_default().push((field.to_string(), value));
        ov.generation += 1;
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Overlay> {
        self.overlay.read().expect("overlay lock")
    }

    pub fn id(&self, r: Resource, idx: u64) -> String {
        self.ids.encode(r.ns(), idx)
    }

    /// Resolve an id of resource `r` to its index, if it exists and is not deleted.
    pub fn lookup(&self, ov: &Overlay, r: Resource, id: &str) -> Option<u64> {
        let (ns, idx) = self.ids.decode(id)?;
        if Resource::from_ns(ns)? != r || idx >= self.total(ov, r) || self.is_deleted(ov, r, idx) {
            return None;
        }
        Some(idx)
    }

    pub fn total(&self, ov: &Overlay, r: Resource) -> u64 {
        self.base + ov.res[r.index()].inserted
    }

    pub fn live(&self, ov: &Overlay, r: Resource) -> u64 {
        self.total(ov, r) - ov.res[r.index()].deleted.len() as u64
    }

    pub fn is_deleted(&self, ov: &Overlay, r: Resource, idx: u64) -> bool {
        ov.res[r.index()].deleted.binary_search(&idx).is_ok()
    }

    pub fn change(&self, ov: &Overlay, r: Resource, idx: u64) -> Option<Change> {
        ov.res[r.index()].changed.get(&idx).copied()
    }

    fn window(&self) -> (i64, i64) {
        let end = self.anchor - DAY;
        (end - HISTORY_DAYS * DAY, end)
    }

    fn base_created(&self, r: Resource, idx: u64) -> i64 {
        let (start, end) = self.window();
        let span = (end - start) as i128;
        let n = self.base.max(1) as i128;
        let slot = (span / n).max(1) as u64;
        let jitter = hash(&[self.seed, r.ns() as u64, idx, 1]) % slot;
        start + ((idx as i128 * span) / n) as i64 + jitter as i64
    }

    pub fn created(&self, ov: &Overlay, r: Resource, idx: u64) -> i64 {
        match self.change(ov, r, idx).and_then(|c| c.created) {
            Some(t) => t,
            None => self.base_created(r, idx),
        }
    }

    pub fn modified(&self, ov: &Overlay, r: Resource, idx: u64) -> i64 {
        if let Some(c) = self.change(ov, r, idx) {
            return c.modified;
        }
        let created = self.base_created(r, idx);
        let h = hash(&[self.seed, r.ns() as u64, idx, 2]);
        if h % 100 < 55 {
            created
        } else {
            let (_, end) = self.window();
            created + ((h >> 8) % ((end - created).max(0) as u64 + 1)) as i64
        }
    }

    pub fn version(&self, ov: &Overlay, r: Resource, idx: u64) -> u32 {
        self.change(ov, r, idx).map(|c| c.version).unwrap_or(0)
    }

    /// The record's business date (emission date for documents; creation otherwise).
    pub fn event(&self, ov: &Overlay, r: Resource, idx: u64) -> i64 {
        let created = self.created(ov, r, idx);
        match r {
            Resource::Documento => created - doc_emission_lag_days(self.seed, idx) * DAY,
            _ => created,
        }
    }

    pub fn ts(&self, ov: &Overlay, r: Resource, idx: u64, kind: TsKind) -> i64 {
        match kind {
            TsKind::Modified => self.modified(ov, r, idx),
            TsKind::Event => self.event(ov, r, idx),
        }
    }

    /// Evaluate `preds` (cached per generation) and return the matching indices in
    /// creation order. No predicates → every live record, without materialising.
    pub fn select(
        &self,
        ov: &Overlay,
        r: Resource,
        preds: &[Pred],
        json: &dyn Fn(u64) -> Value,
        fast: &dyn Fn(u64, &str) -> Option<String>,
        cache_tag: &str,
    ) -> Selection {
        if preds.is_empty() {
            return Selection::All;
        }
        let key = format!("{cache_tag}|{r:?}|{preds:?}");
        if let Some((g, v)) = self.cache.lock().expect("cache").get(&key) {
            if *g == ov.generation {
                return Selection::Some(v.clone());
            }
        }
        let total = self.total(ov, r);
        let deleted = &ov.res[r.index()].deleted;
        let mut out = Vec::new();
        let mut di = 0usize;
        for idx in 0..total {
            while di < deleted.len() && deleted[di] < idx {
                di += 1;
            }
            if di < deleted.len() && deleted[di] == idx {
                continue;
            }
            if matches(self, ov, r, idx, preds, json, fast) {
                out.push(idx);
            }
        }
        let v = Arc::new(out);
        let mut c = self.cache.lock().expect("cache");
        if c.len() > 256 {
            c.clear();
        }
        c.insert(key, (ov.generation, v.clone()));
        Selection::Some(v)
    }

    pub fn selection_len(&self, ov: &Overlay, r: Resource, sel: &Selection) -> u64 {
        match sel {
            Selection::All => self.live(ov, r),
            Selection::Some(v) => v.len() as u64,
        }
    }

    /// Indices `offset .. offset+limit` of the selection.
    pub fn page(&self, ov: &Overlay, r: Resource, sel: &Selection, offset: u64, limit: u64) -> Vec<u64> {
        match sel {
            Selection::Some(v) => {
                v.iter().skip(offset.min(v.len() as u64) as usize).take(limit as usize).copied().collect()
            }
            Selection::All => {
                let total = self.total(ov, r);
                let deleted = &ov.res[r.index()].deleted;
                // offset-th live index: shift past every deleted index at or below it.
                let mut x = offset;
                let mut di = 0usize;
                while di < deleted.len() && deleted[di] <= x {
                    x += 1;
                    di += 1;
                }
                let mut out = Vec::with_capacity(limit.min(10_000) as usize);
                while x < total && (out.len() as u64) < limit {
                    if di < deleted.len() && deleted[di] == x {
                        di += 1;
                    } else {
                        out.push(x);
                    }
                    x += 1;
                }
                out
            }
        }
    }

    /// Edit `pct`% of the live records of each resource in `which` (bump their
    /// modification time to now and change a field) and delete a few.
    pub fn mutate(&self, which: &[Resource], pct: f64) -> MutationReport {
        let mut ov = self.overlay.write().expect("overlay lock");
        ov.rounds += 1;
        let round = ov.rounds;
        let now = now_ts().max(self.anchor);
        let mut report = MutationReport::default();
        for &r in which {
            let total = self.base + ov.res[r.index()].inserted;
            let rs = &mut ov.res[r.index()];
            let live = total - rs.deleted.len() as u64;
            if live == 0 || pct <= 0.0 {
                continue;
            }
            let mut k = ((live as f64) * pct.min(100.0) / 100.0).round() as u64;
            k = k.clamp(1, live);
            let d = if live > k { (k / 10).max(1).min(live - k) } else { 0 };
            let mut rng = Rng::from_parts(&[self.seed, round, r.ns() as u64, 0x3u64]);
            let mut picked = HashSet::new();
            let mut order = Vec::new();
            let mut attempts = 0u64;
            while (order.len() as u64) < k + d && attempts < (k + d) * 50 + 1000 {
                attempts += 1;
                let idx = rng.below(total);
                if rs.deleted.binary_search(&idx).is_ok() || !picked.insert(idx) {
                    continue;
                }
                order.push(idx);
            }
            let (edit, del) = order.split_at((k as usize).min(order.len()));
            for &idx in edit {
                let e = rs.changed.entry(idx).or_insert(Change { version: 0, modified: now, created: None });
                e.version += 1;
                e.modified = now;
            }
            for &idx in del {
                if let Err(pos) = rs.deleted.binary_search(&idx) {
                    rs.deleted.insert(pos, idx);
                }
            }
            report.mutated += edit.len() as u64;
            report.deleted += del.len() as u64;
            report.per_resource.insert(r.path().to_string(), (edit.len() as u64, del.len() as u64));
        }
        ov.generation += 1;
        self.cache.lock().expect("cache").clear();
        report
    }

    /// Append `n` new records (created and modified now) to each resource in `which`.
    pub fn insert(&self, which: &[Resource], n: u64) -> u64 {
        let mut ov = self.overlay.write().expect("overlay lock");
        let now = now_ts().max(self.anchor);
        let mut added = 0;
        for &r in which {
            let rs = &mut ov.res[r.index()];
            for _ in 0..n {
                let idx = self.base + rs.inserted;
                rs.inserted += 1;
                rs.changed.insert(idx, Change { version: 0, modified: now, created: Some(now) });
                added += 1;
            }
        }
        ov.generation += 1;
        self.cache.lock().expect("cache").clear();
        added
    }
}

fn matches(
    st: &Store,
    ov: &Overlay,
    r: Resource,
    idx: u64,
    preds: &[Pred],
    json: &dyn Fn(u64) -> Value,
    fast: &dyn Fn(u64, &str) -> Option<String>,
) -> bool {
    let mut need_json = false;
    for p in preds {
        match p {
            Pred::Ts { kind, from, to } => {
                let t = st.ts(ov, r, idx, *kind);
                if from.is_some_and(|f| t < f) || to.is_some_and(|e| t >= e) {
                    return false;
                }
            }
            Pred::Fast { key, value } => {
                if fast(idx, key).as_deref() != Some(value.as_str()) {
                    return false;
                }
            }
            _ => need_json = true,
        }
    }
    if !need_json {
        return true;
    }
    let v = json(idx);
    preds.iter().all(|p| match p {
        Pred::Eq { fields, value } => fields.iter().any(|f| lookup(&v, f).is_some_and(|x| scalar_str(x) == *value)),
        Pred::Contains { fields, needle } => {
            fields.iter().any(|f| lookup(&v, f).is_some_and(|x| scalar_str(x).to_lowercase().contains(needle.as_str())))
        }
        Pred::Detalle { field, value } => v
            .get("detalles")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|x| x.get(*field).is_some_and(|y| scalar_str(y) == *value))),
        _ => true,
    })
}

fn lookup<'a>(v: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(v, |acc, k| acc.get(k))
}

pub(crate) fn scalar_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Documents are issued 0–2 days before they are registered.
pub(crate) fn doc_emission_lag_days(seed: u64, idx: u64) -> i64 {
    (hash(&[seed, 0xD0C, idx]) % 3) as i64
}
