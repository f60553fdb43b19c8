//! Omie's resources, declared once for the generic sync engine, and the page source that fetches
//! them through the rate-safe client.
//!
//! Each service names its paging and "changed since" parameters differently (reference omie.md
//! §11); pages hold at most 500 records (Omie's guidance). `Client-5113` ("Não existem registros
//! para a página") is an empty last page. Records are upserted by Omie's own id.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ts_rs::TS;

use super::attachments::start_omie_attachment_scan;
use super::omie_client;
use super::po_close::start_omie_po_close_scan;
use crate::erp::omie::client::OmieClient;
use crate::erp::JobKind;
use crate::error::{CoreError, CoreResult};
use crate::model::{Connection, Job};
use crate::sync::ColKind::{Code, Date, Decimal, Text};
use crate::sync::{
    col, DateFormat, Engine, ListShape, ModifiedFilter, PageRequest, PageResult, ResourceSpec, Source, SyncOptions,
};
use crate::Ctx;

/// How one Omie list is called.
struct ListCall {
    name: &'static str,
    service: &'static str,
    call: &'static str,
    page: &'static str,
    size: &'static str,
    list_key: &'static str,
    total_pages: &'static str,
    total_records: &'static str,
}

const CALLS: &[ListCall] = &[
    ListCall {
        name: "clientes",
        service: "geral/clientes/",
        call: "ListarClientes",
        page: "pagina",
        size: "registros_por_pagina",
        list_key: "clientes_cadastro",
        total_pages: "total_de_paginas",
        total_records: "total_de_registros",
    },
    ListCall {
        name: "contas_pagar",
        service: "financas/contapagar/",
        call: "ListarContasPagar",
        page: "pagina",
        size: "registros_por_pagina",
        list_key: "conta_pagar_cadastro",
        total_pages: "total_de_paginas",
        total_records: "total_de_registros",
    },
    ListCall {
        name: "contas_receber",
        service: "financas/contareceber/",
        call: "ListarContasReceber",
        page: "pagina",
        size: "registros_por_pagina",
        list_key: "conta_receber_cadastro",
        total_pages: "total_de_paginas",
        total_records: "total_de_registros",
    },
    ListCall {
        name: "recebimentos",
        service: "produtos/recebimentonfe/",
        call: "ListarRecebimentos",
        page: "nPagina",
        size: "nRegistrosPorPagina",
        list_key: "recebimentos",
        total_pages: "nTotalPaginas",
        total_records: "nTotalRegistros",
    },
    ListCall {
        name: "pedidos_compra",
        service: "produtos/pedidocompra/",
        call: "PesquisarPedCompra",
        page: "nPagina",
        size: "nRegsPorPagina",
        list_key: "pedidos_pesquisa",
        total_pages: "nTotalPaginas",
        total_records: "nTotalRegistros",
    },
    ListCall {
        name: "nfse",
        service: "servicos/nfse/",
        call: "ListarNFSEs",
        page: "nPagina",
        size: "nRegPorPagina",
        list_key: "nfseEncontradas",
        total_pages: "nTotPaginas",
        total_records: "nTotRegistros",
    },
];

/// Omie's guidance: "no máximo 500 registros por página".
pub const MAX_PAGE_SIZE: u32 = 500;

#[allow(clippy::too_many_arguments)]
const fn spec(
    name: &'static str,
    table: &'static str,
    path: &'static str,
    modified: Option<ModifiedFilter>,
    modified_field: Option<&'static str>,
    id_field: &'static str,
    columns: &'static [crate::sync::Column],
    search: &'static [&'static str],
) -> ResourceSpec {
    ResourceSpec {
        name,
        table,
        path,
        shape: ListShape::Paged,
        query: &[],
        modified,
        modified_field,
        id_field,
        columns,
        search,
    }
}

const fn since(from: &'static str, to: &'static str) -> Option<ModifiedFilter> {
    Some(ModifiedFilter { from, to: Some(to), format: DateFormat::DdMmYyyy })
}

pub const RESOURCES: &[ResourceSpec] = &[
    spec(
        "clientes",
        "omie_clientes",
        "geral/clientes/",
        since("filtrar_por_data_de", "filtrar_por_data_ate"),
        Some("info.dAlt"),
        "codigo_cliente_omie",
        &[
            col("razao_social", "razao_social", Text),
            col("nome_fantasia", "nome_fantasia", Text),
            col("cnpj_cpf", "cnpj_cpf", Text),
            col("codigo_cliente_integracao", "codigo_cliente_integracao", Text),
            col("pessoa_fisica", "pessoa_fisica", Code),
            col("cidade", "cidade", Text),
            col("estado", "estado", Code),
            col("email", "email", Text),
            col("inativo", "inativo", Code),
            col("alterado_em", "info.dAlt", Date),
        ],
        &["razao_social", "nome_fantasia", "cnpj_cpf", "email", "codigo_cliente_integracao"],
    ),
    spec(
        "contas_pagar",
        "omie_contas_pagar",
        "financas/contapagar/",
        since("filtrar_por_data_de", "filtrar_por_data_ate"),
        Some("info.dAlt"),
        "codigo_lancamento_omie",
        &[
            col("codigo_cliente_fornecedor", "codigo_cliente_fornecedor", Code),
            col("numero_documento", "numero_documento", Text),
            col("numero_documento_fiscal", "numero_documento_fiscal", Code),
            col("numero_parcela", "numero_parcela", Text),
            col("numero_pedido", "numero_pedido", Text),
            col("servico_nf", "servico_tomado.numero_nf", Text),
            col("data_emissao", "data_emissao", Date),
            col("data_vencimento", "data_vencimento", Date),
            col("valor_documento", "valor_documento", Decimal),
            col("status_titulo", "status_titulo", Code),
            col("id_origem", "id_origem", Code),
            col("alterado_em", "info.dAlt", Date),
            col("codigo_categoria", "codigo_categoria", Code),
            col("observacao", "observacao", Text),
        ],
        &[
            "numero_documento",
            "numero_documento_fiscal",
            "numero_pedido",
            "servico_tomado.numero_nf",
            "chave_nfe",
            "observacao",
        ],
    ),
    spec(
        "contas_receber",
        "omie_contas_receber",
        "financas/contareceber/",
        since("filtrar_por_data_de", "filtrar_por_data_ate"),
        Some("info.dAlt"),
        "codigo_lancamento_omie",
        &[
            col("codigo_cliente_fornecedor", "codigo_cliente_fornecedor", Code),
            col("numero_documento", "numero_documento", Text),
            col("numero_documento_fiscal", "numero_documento_fiscal", Code),
            col("numero_parcela", "numero_parcela", Text),
            col("data_emissao", "data_emissao", Date),
            col("data_vencimento", "data_vencimento", Date),
            col("valor_documento", "valor_documento", Decimal),
            col("status_titulo", "status_titulo", Code),
            col("id_origem", "id_origem", Code),
            col("alterado_em", "info.dAlt", Date),
            col("codigo_categoria", "codigo_categoria", Code),
            col("observacao", "observacao", Text),
            col("data_registro", "data_registro", Date),
        ],
        &["numero_documento", "numero_documento_fiscal", "numero_pedido", "observacao"],
    ),
    spec(
        "recebimentos",
        "omie_recebimentos",
        "produtos/recebimentonfe/",
        since("dtAltDe", "dtAltAte"),
        Some("infoCadastro.dAlt"),
        "cabec.nIdReceb",
        &[
            col("numero_nfe", "cabec.cNumeroNFe", Code),
            col("serie_nfe", "cabec.cSerieNFe", Code),
            col("chave_nfe", "cabec.cChaveNfe", Text),
            col("fornecedor_id", "cabec.nIdFornecedor", Code),
            col("fornecedor", "cabec.cRazaoSocial", Text),
            col("emissao", "cabec.dEmissaoNFe", Date),
            col("valor", "cabec.nValorNFe", Decimal),
            col("etapa", "cabec.cEtapa", Code),
            col("alterado_em", "infoCadastro.dAlt", Date),
        ],
        &["cabec.cNumeroNFe", "cabec.cChaveNfe", "cabec.cRazaoSocial"],
    ),
    spec(
        "pedidos_compra",
        "omie_pedidos_compra",
        "produtos/pedidocompra/",
        since("dDataInicial", "dDataFinal"),
        None,
        "cabecalho_consulta.nCodPed",
        &[
            col("numero", "cabecalho_consulta.cNumero", Text),
            col("codigo_integracao", "cabecalho_consulta.cCodIntPed", Text),
            col("etapa", "cabecalho_consulta.cEtapa", Code),
            col("fornecedor_id", "cabecalho_consulta.nCodFor", Code),
            col("incluido_em", "cabecalho_consulta.dIncData", Date),
            col("previsao", "cabecalho_consulta.dDtPrevisao", Date),
        ],
        &["cabecalho_consulta.cNumero", "cabecalho_consulta.cCodIntPed", "cabecalho_consulta.cObs"],
    ),
    // ListarNFSEs filters by emission date only (no "changed since"): read whole each run, so a
    // later cancellation is seen.
    spec(
        "nfse",
        "omie_nfse",
        "servicos/nfse/",
        None,
        None,
        "Cabecalho.nCodNF",
        &[
            col("numero", "Cabecalho.nNumeroNFSe", Text),
            col("serie", "Cabecalho.cSerieNFSe", Code),
            col("status", "Cabecalho.cStatusNFSe", Code),
            col("valor", "Cabecalho.nValorNFSe", Decimal),
            col("cliente_id", "Cabecalho.nCodigoCliente", Code),
            col("emissao", "Emissao.cDataEmissao", Date),
        ],
        &["Cabecalho.nNumeroNFSe", "Cabecalho.cCodigoVerifNFSe", "OrdemServico.nNumeroOS"],
    ),
];

pub fn resource(name: &str) -> CoreResult<&'static ResourceSpec> {
    RESOURCES.iter().find(|r| r.name == name).ok_or_else(|| {
        let known: Vec<&str> = RESOURCES.iter().map(|s| s.name).collect();
        CoreError::invalid(
            "resources",
            format!("\"{name}\" is not an Omie resource. Choose among: {}", known.join(", ")),
        )
    })
}

/// Fixed parameters of each list call.
fn fixed(name: &str, incremental: bool) -> Value {
    match name {
        "clientes" | "contas_pagar" => json!({"apenas_importado_api": "N"}),
        "recebimentos" => json!({"cExibirDetalhes": "S"}),
        "pedidos_compra" => {
            let mut v = json!({
                "lExibirPedidosPendentes": true,
                "lExibirPedidosFaturados": true,
                "lExibirPedidosRecebidos": true,
                "lExibirPedidosCancelados": true,
                "lExibirPedidosEncerrados": true,
                "lExibirPedidosRecParciais": true,
                "lExibirPedidosFatParciais": true,
            });
            if incremental {
                v["lApenasAlterados"] = json!(true);
            }
            v
        }
        _ => json!({}),
    }
}

/// Fetches pages of Omie lists.
pub struct OmieSource {
    pub client: OmieClient,
    /// The company's time zone (for "today" in date filters).
    pub tz: chrono_tz::Tz,
}

impl Source for OmieSource {
    async fn fetch_page(&self, spec: &ResourceSpec, req: PageRequest) -> CoreResult<PageResult> {
        let lc = CALLS
            .iter()
            .find(|c| c.name == spec.name)
            .ok_or_else(|| CoreError::Internal(format!("no Omie list call for {}", spec.name)))?;
        let size = req.page_size.clamp(1, MAX_PAGE_SIZE);
        let mut p = fixed(spec.name, req.since.is_some());
        p[lc.page] = json!(req.page);
        p[lc.size] = json!(size);
        if let (Some(m), Some(since)) = (spec.modified, req.since) {
            p[m.from] = json!(m.format.format(since));
            if let Some(to) = m.to {
                let until = req.until.unwrap_or_else(|| {
                    chrono::Utc::now().with_timezone(&self.tz).date_naive() + chrono::Duration::days(1)
                });
                p[to] = json!(m.format.format(until));
            }
        }
        let shown = format!("{}{} {}(page {})", self.client.name(), "", lc.call, req.page);
        let page = self.client.list_page(lc.service, lc.call, p).await?;
        let Some(v) = page else {
            return Ok(PageResult { records: vec![], last: true, total: None, url: shown });
        };
        let records = match v.get(lc.list_key) {
            Some(Value::Array(a)) => a.clone(),
            None | Some(Value::Null) => vec![],
            Some(other) => {
                return Err(CoreError::NotJson {
                    connection: self.client.name().to_string(),
                    url: shown,
                    detail: format!(
                        "\"{}\" is not a list: {}",
                        lc.list_key,
                        crate::http::truncate(&other.to_string(), 200)
                    ),
                })
            }
        };
        let total_pages = v.get(lc.total_pages).and_then(Value::as_u64);
        let total = v.get(lc.total_records).and_then(Value::as_u64);
        let last = records.is_empty()
            || (records.len() as u32) < size
            || total_pages.is_some_and(|t| u64::from(req.page) >= t);
        Ok(PageResult { records, last, total, url: shown })
    }
}

/// Options of the two scan jobs.
#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[serde(default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmieScanOptions {
    /// Look at records changed since this date (default: the last run of the scan; first run: 7 days).
    pub since: Option<String>,
    /// Only say what would be done.
    pub dry_run: bool,
}

/// Starts a `sync_omie` job (options checked by the facade). The page size defaults to the seeds'
/// OMIE_PAGE_SIZE and never exceeds Omie's maximum.
pub(crate) fn start_sync(core: &Arc<Ctx>, conn: Connection, mut opts: SyncOptions) -> CoreResult<Job> {
    let requested = opts.page_size.or_else(|| crate::sync::env_u32("OMIE_PAGE_SIZE")).unwrap_or(MAX_PAGE_SIZE);
    opts.page_size = Some(requested.clamp(1, MAX_PAGE_SIZE));
    let core2 = core.clone();
    let params = serde_json::to_value(&opts).unwrap_or_default();
    let target = conn.clone();
    let (job, _h) = core.jobs.spawn(JobKind::SyncOmie.as_str(), Some(&target), params, move |ctx| async move {
        let core = core2;
        if requested > MAX_PAGE_SIZE {
            ctx.log_t(
                "warn",
                "omie.page_size_lowered",
                &[("requested", requested.to_string()), ("max", MAX_PAGE_SIZE.to_string())],
                &format!("page size {requested} lowered to {MAX_PAGE_SIZE}, Omie's maximum"),
            );
        }
        let client = omie_client(&core, &conn)?;
        let tz: chrono_tz::Tz = conn.timezone.parse().unwrap_or(chrono_tz::America::Sao_Paulo);
        let engine = Engine {
            store: core.store.clone(),
            source: Arc::new(OmieSource { client, tz }),
            conn: conn.clone(),
            erp: "omie",
        };
        let started = crate::store::now_utc();
        let result = engine.run(&ctx, RESOURCES, &opts).await;
        // Local client records follow the clients read by this run (even a partial one).
        if opts.resources.is_empty() || opts.resources.iter().any(|r| r == "clientes") {
            let n = super::local_clients::match_clients(&core.store, &ctx, &conn, &started)?;
            if n.invalid > 0 {
                ctx.log_t(
                    "warn",
                    "omie.clients_invalid_tax_id",
                    &[("count", n.invalid.to_string())],
                    &format!("{} clients have an invalid CNPJ/CPF; see the quarantine", n.invalid),
                );
            }
        }
        result.map(|_| ())
    })?;
    Ok(job)
}

/// Starts an Omie scan by kind (`omie_attachment_scan`, `omie_po_close_scan`).
pub fn start_omie_job(cx: &Arc<Ctx>, kind: &str, connection_id: &str, params: Value) -> CoreResult<Job> {
    let bad = |e: serde_json::Error| CoreError::invalid("params", e.to_string());
    match kind {
        "omie_attachment_scan" => {
            let opts = if params.is_null() {
                OmieScanOptions::default()
            } else {
                serde_json::from_value(params).map_err(bad)?
            };
            start_omie_attachment_scan(cx, connection_id, opts)
        }
        "omie_po_close_scan" => {
            let opts = if params.is_null() {
                OmieScanOptions::default()
            } else {
                serde_json::from_value(params).map_err(bad)?
            };
            start_omie_po_close_scan(cx, connection_id, opts, None)
        }
        other => Err(CoreError::invalid("kind", format!("\"{other}\" is not an Omie job"))),
    }
}
