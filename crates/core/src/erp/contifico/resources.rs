//! Contífico's resources, declared once for the sync engine, and the page source that fetches them.
//!
//! Paths are the v1 ones the user's seed names (relative to `.../sistema/api/v1/`); journal entries
//! have no v1 list, so they use the v2 list (`{count, next, previous, results}`). Paging: v1 lists
//! take `result_size`/`result_page` (documented for `registro/documento/`, observed on
//! `registro/transaccion/`; for the other lists the reference could not confirm it, so a first page
//! larger than the requested size is taken as "this list ignores paging" and ends the read).

use std::sync::Arc;

use serde_json::Value;

use crate::erp::contifico::client::ContificoClient;
use crate::erp::JobKind;
use crate::error::{CoreError, CoreResult};
use crate::model::{Connection, Job};
use crate::sync::ColKind::{Code, Date, Decimal, Text};
use crate::sync::{
    col, DateFormat, Engine, ListShape, ModifiedFilter, PageRequest, PageResult, ResourceSpec, Source, SyncOptions,
};
use crate::Ctx;

/// v1 "last modification" range filter (categoria, variante, producto, bodega, persona, banco/movimiento).
const MOD_V1: Option<ModifiedFilter> =
    Some(ModifiedFilter { from: "fecha_inicial", to: None, format: DateFormat::DdMmYyyy });

const fn spec(
    name: &'static str,
    path: &'static str,
    modified: Option<ModifiedFilter>,
    columns: &'static [crate::sync::Column],
    search: &'static [&'static str],
) -> ResourceSpec {
    ResourceSpec {
        name,
        table: "",
        path,
        shape: ListShape::Array,
        query: &[],
        modified,
        modified_field: None,
        id_field: "id",
        columns,
        search,
    }
}

pub const RESOURCES: &[ResourceSpec] = &[
    ResourceSpec {
        table: "contifico_categoria",
        ..spec(
            "categorias",
            "categoria/",
            MOD_V1,
            &[
                col("nombre", "nombre", Text),
                col("tipo_producto", "tipo_producto", Code),
                col("padre_id", "padre_id", Code),
            ],
            &["nombre"],
        )
    },
    ResourceSpec {
        table: "contifico_marca",
        ..spec("marcas", "marca/", None, &[col("nombre", "nombre", Text)], &["nombre"])
    },
    ResourceSpec {
        table: "contifico_variante",
        ..spec("variantes", "variante/", MOD_V1, &[col("nombre", "nombre", Text)], &["nombre"])
    },
    ResourceSpec {
        table: "contifico_producto",
        ..spec(
            "productos",
            "producto/",
            MOD_V1,
            &[
                col("codigo", "codigo", Text),
                col("nombre", "nombre", Text),
                col("tipo", "tipo", Code),
                col("estado", "estado", Code),
                col("categoria_id", "categoria_id", Code),
                col("pvp1", "pvp1", Decimal),
                col("cantidad_stock", "cantidad_stock", Decimal),
                col("fecha_creacion", "fecha_creacion", Date),
            ],
            &["codigo", "nombre", "codigo_barra", "descripcion"],
        )
    },
    // Stock per warehouse: `GET producto/<ID>/stock/`, one call per stored product. It is read whole
    // (every product; warehouses that no longer hold a product are marked deleted) the first time,
    // on "full refresh", and whenever a warehouse was added, changed or deleted since the last stock
    // read; otherwise only for the products whose stored record changed since then (their stock
    // total, `cantidad_stock`, is part of it: Contífico's products carry no modification date). The
    // "modified since" filter below is therefore BackOffice's own, over the stored products; it is
    // never sent to Contífico.
    ResourceSpec {
        table: "contifico_producto_stock",
        ..spec(
            STOCK,
            "producto/{id}/stock/",
            Some(ModifiedFilter { from: "(stored products changed since)", to: None, format: DateFormat::YyyyMmDd }),
            &[
                col("producto_id", "producto_id", Code),
                col("bodega_id", "bodega_id", Code),
                col("bodega_nombre", "bodega_nombre", Text),
                col("cantidad", "cantidad", Decimal),
            ],
            &["bodega_nombre"],
        )
    },
    ResourceSpec {
        table: "contifico_bodega",
        ..spec(
            "bodegas",
            "bodega/",
            MOD_V1,
            &[col("codigo", "codigo", Text), col("nombre", "nombre", Text)],
            &["codigo", "nombre"],
        )
    },
    ResourceSpec {
        table: "contifico_movimiento_inventario",
        ..spec(
            "movimientos_inventario",
            "movimiento-inventario/",
            None,
            &[
                col("codigo", "codigo", Text),
                col("tipo", "tipo", Code),
                col("fecha", "fecha", Date),
                col("estado", "estado", Code),
                col("bodega_id", "bodega_id", Code),
                col("total", "total", Decimal),
            ],
            &["codigo", "descripcion"],
        )
    },
    ResourceSpec {
        table: "contifico_guia",
        ..spec(
            "guias_remision",
            "inventario/guia/",
            None,
            &[
                col("numero_documento", "numero_documento", Text),
                col("estado", "estado", Code),
                col("fecha_emision", "fecha_emision", Date),
                col("bodega_id", "bodega_id", Code),
            ],
            &["numero_documento", "nombre_chofer", "placa"],
        )
    },
    ResourceSpec {
        table: "contifico_documento_venta",
        query: &[("tipo_registro", "CLI")],
        ..spec("documentos_venta", "registro/documento/", None, DOC_COLS, DOC_SEARCH)
    },
    ResourceSpec {
        table: "contifico_documento_compra",
        query: &[("tipo_registro", "PRO")],
        ..spec("documentos_compra", "registro/documento/", None, DOC_COLS, DOC_SEARCH)
    },
    ResourceSpec { table: "contifico_documento", ..spec("documentos", "documento/", None, DOC_COLS, DOC_SEARCH) },
    ResourceSpec {
        table: "contifico_transaccion",
        ..spec(
            "transacciones",
            "registro/transaccion/",
            None,
            &[
                col("tipo", "tipo", Code),
                col("fecha_emision", "fecha_emision", Date),
                col("total", "total", Decimal),
                col("numero_comprobante", "numero_comprobante", Text),
                col("persona_id", "persona_id", Code),
                col("documento_id", "documento_id", Code),
            ],
            &["numero_comprobante"],
        )
    },
    ResourceSpec {
        table: "contifico_persona",
        ..spec(
            "personas",
            "persona/",
            MOD_V1,
            &[
                col("tipo", "tipo", Code),
                col("razon_social", "razon_social", Text),
                col("nombre_comercial", "nombre_comercial", Text),
                col("cedula", "cedula", Text),
                col("ruc", "ruc", Text),
                col("email", "email", Text),
                col("es_cliente", "es_cliente", Code),
                col("es_proveedor", "es_proveedor", Code),
            ],
            &["razon_social", "nombre_comercial", "cedula", "ruc", "email"],
        )
    },
    ResourceSpec {
        table: "contifico_centro_costo",
        ..spec(
            "centros_costo",
            "contabilidad/centro-costo/",
            None,
            &[
                col("codigo", "codigo", Text),
                col("nombre", "nombre", Text),
                col("tipo", "tipo", Code),
                col("estado", "estado", Code),
            ],
            &["codigo", "nombre"],
        )
    },
    ResourceSpec {
        table: "contifico_cuenta_contable",
        ..spec(
            "cuentas_contables",
            "contabilidad/cuenta-contable/",
            None,
            &[col("codigo", "codigo", Text), col("nombre", "nombre", Text), col("tipo", "tipo", Code)],
            &["codigo", "nombre"],
        )
    },
    ResourceSpec {
        table: "contifico_asiento",
        shape: ListShape::Paged,
        ..spec(
            "asientos",
            "v2:contabilidad/asiento/",
            None,
            &[col("fecha", "fecha", Date), col("glosa", "glosa", Text)],
            &["glosa"],
        )
    },
    ResourceSpec {
        table: "contifico_banco_cuenta",
        ..spec(
            "cuentas_bancarias",
            "banco/cuenta/",
            None,
            &[
                col("nombre", "nombre", Text),
                col("numero", "numero", Text),
                col("tipo_cuenta", "tipo_cuenta", Code),
                col("saldo_inicial", "saldo_inicial", Decimal),
                col("estado", "estado", Code),
                col("fecha_corte", "fecha_corte", Date),
            ],
            &["nombre", "numero"],
        )
    },
    ResourceSpec {
        table: "contifico_banco_movimiento",
        ..spec(
            "movimientos_bancarios",
            "banco/movimiento/",
            MOD_V1,
            &[
                col("numero_comprobante", "numero_comprobante", Text),
                col("tipo", "tipo", Code),
                col("tipo_registro", "tipo_registro", Code),
                col("fecha_emision", "fecha_emision", Date),
                col("cuenta_bancaria_id", "cuenta_bancaria_id", Code),
                col("persona", "persona", Code),
            ],
            &["numero_comprobante"],
        )
    },
];

const DOC_COLS: &[crate::sync::Column] = &[
    col("tipo_documento", "tipo_documento", Code),
    col("documento", "documento", Text),
    col("estado", "estado", Code),
    col("fecha_emision", "fecha_emision", Date),
    col("fecha_vencimiento", "fecha_vencimiento", Date),
    col("persona_id", "persona_id", Code),
    col("subtotal_0", "subtotal_0", Decimal),
    col("subtotal_12", "subtotal_12", Decimal),
    col("iva", "iva", Decimal),
    col("total", "total", Decimal),
    col("saldo", "saldo", Decimal),
];
const DOC_SEARCH: &[&str] =
    &["documento", "descripcion", "cliente.razon_social", "persona.razon_social", "cliente.ruc", "persona.ruc"];

/// The stock-per-warehouse resource, read product by product.
pub const STOCK: &str = "stock_productos";
/// Stock requests in flight at once.
const STOCK_CONCURRENCY: usize = 4;

pub fn resource(name: &str) -> CoreResult<&'static ResourceSpec> {
    crate::sync::find_resource(RESOURCES, "Contífico", name)
}

pub struct ContificoSource {
    pub client: Arc<ContificoClient>,
    /// For resources derived from stored records (stock per product).
    pub store: crate::store::Store,
    pub connection_id: String,
}

impl ContificoSource {
    /// A page of stock: the next `page_size` stored products, each asked for its stock.
    async fn stock_page(&self, req: PageRequest) -> CoreResult<PageResult> {
        let offset = (req.page.saturating_sub(1) as i64) * req.page_size as i64;
        let products = resource("productos")?;
        // A whole read asks for every product; an incremental one only for products stored or
        // changed since the previous stock read ended (or since the user's date).
        let changed_since = match (&req.changed_after, req.since) {
            (Some(after), _) => Some(after.clone()),
            (None, Some(d)) => Some(d.format("%Y-%m-%d").to_string()),
            (None, None) => None,
        };
        let ids = crate::sync::query::stored_ids(
            &self.store,
            products,
            &self.connection_id,
            changed_since.as_deref(),
            req.page_size,
            offset,
        )?;
        let last = (ids.len() as u32) < req.page_size;
        let mut records = vec![];
        let mut set = tokio::task::JoinSet::new();
        let mut queue = ids.into_iter();
        loop {
            while set.len() < STOCK_CONCURRENCY {
                let Some(id) = queue.next() else { break };
                let client = self.client.clone();
                set.spawn(async move {
                    let url = client.url(&format!("producto/{id}/stock/"));
                    (id, client.get_json(&url, &[]).await)
                });
            }
            let Some(done) = set.join_next().await else { break };
            let (producto_id, result) = done.map_err(|e| CoreError::Internal(format!("stock task: {e}")))?;
            let (status, body) = result?;
            if status == 404 {
                continue; // the product vanished between the two reads; the next product sync marks it
            }
            for row in body.as_array().cloned().unwrap_or_default() {
                let bodega = match row.get("bodega_id") {
                    Some(Value::String(b)) => b.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                let mut rec = row.clone();
                if let Some(o) = rec.as_object_mut() {
                    o.insert("id".into(), Value::String(format!("{producto_id}:{bodega}")));
                    o.insert("producto_id".into(), Value::String(producto_id.clone()));
                }
                records.push(rec);
            }
        }
        Ok(PageResult { records, last, total: None, url: self.client.url("producto/{id}/stock/") })
    }
}

impl Source for ContificoSource {
    fn runs_after_others(&self, spec: &ResourceSpec) -> bool {
        spec.name == STOCK
    }

    fn reads_whole(&self, spec: &ResourceSpec, changed_after: Option<&str>) -> CoreResult<bool> {
        if spec.name != STOCK {
            return Ok(false);
        }
        match changed_after {
            None => Ok(true),
            // A warehouse added, renamed or deleted changes the stock rows of products whose own
            // record did not change.
            Some(t) => crate::sync::query::changed_since(&self.store, resource("bodegas")?, &self.connection_id, t),
        }
    }

    async fn fetch_page(&self, spec: &ResourceSpec, req: PageRequest) -> CoreResult<PageResult> {
        if spec.name == STOCK {
            return self.stock_page(req).await;
        }
        let url = self.client.url(spec.path);
        let mut q: Vec<(String, String)> = spec.query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        match spec.shape {
            ListShape::Array => {
                q.push(("result_size".into(), req.page_size.to_string()));
                q.push(("result_page".into(), req.page.to_string()));
            }
            ListShape::Paged => {
                q.push(("page".into(), req.page.to_string()));
                q.push(("page_size".into(), req.page_size.min(100).to_string()));
            }
        }
        if let (Some(m), Some(since)) = (spec.modified, req.since) {
            q.push((m.from.into(), m.format.format(since)));
            if let (Some(to), Some(until)) = (m.to, req.until) {
                q.push((to.into(), m.format.format(until)));
            }
        }
        let shown = format!("{url}?{}", q.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"));
        let (status, body) = self.client.get_json(&url, &q).await?;
        if status == 404 {
            // Past the last page (Django-style paging answers 404).
            return Ok(PageResult { records: vec![], last: true, total: None, url: shown });
        }
        let bad_shape = |what: &str, body: &Value| CoreError::NotJson {
            connection: self.client.name().to_string(),
            url: shown.clone(),
            detail: format!("expected {what}, got {}", crate::http::truncate(&body.to_string(), 200)),
        };
        // Accept both shapes whatever the declaration says: the reference is unsure for some lists.
        // The records are moved out of the answer, never copied.
        match body {
            Value::Array(items) => {
                let n = items.len() as u32;
                let ignored_paging = req.page == 1 && n > req.page_size;
                Ok(PageResult { records: items, last: n < req.page_size || ignored_paging, total: None, url: shown })
            }
            Value::Object(mut o) if o.contains_key("results") => {
                let next = o.get("next").map(|n| !n.is_null()).unwrap_or(false);
                let total = o.get("count").and_then(Value::as_u64);
                let items = match o.remove("results") {
                    Some(Value::Array(items)) => items,
                    other => return Err(bad_shape("a results list", &other.unwrap_or(Value::Null))),
                };
                Ok(PageResult { last: !next || items.is_empty(), records: items, total, url: shown })
            }
            other => Err(bad_shape("a list", &other)),
        }
    }
}

/// Starts a `sync_contifico` job (options already checked by the facade). The page size defaults
/// to the seeds' CONTIFICO_PAGE_SIZE, the requests in flight to CONTIFICO_CONCURRENCY.
pub(crate) fn start_sync(core: &Arc<Ctx>, conn: Connection, mut opts: SyncOptions) -> CoreResult<Job> {
    opts.page_size = opts.page_size.or_else(|| crate::sync::env_u32("CONTIFICO_PAGE_SIZE"));
    opts.concurrency = opts.concurrency.or_else(|| crate::sync::env_u32("CONTIFICO_CONCURRENCY"));
    let core2 = core.clone();
    let params = serde_json::to_value(&opts).unwrap_or_default();
    let target = conn.clone();
    let (job, _h) = core.jobs.spawn(JobKind::SyncContifico.as_str(), Some(&target), params, move |ctx| async move {
        let core = core2;
        let creds = core.connections().credentials(&conn)?;
        let client = ContificoClient::new(core.http.clone(), &conn, &creds);
        let engine = Engine {
            store: core.store.clone(),
            source: Arc::new(ContificoSource {
                client: Arc::new(client),
                store: core.store.clone(),
                connection_id: conn.id.clone(),
            }),
            conn: conn.clone(),
            erp: "contifico",
        };
        engine.run(&ctx, RESOURCES, &opts).await.map(|_| ())
    })?;
    Ok(job)
}
