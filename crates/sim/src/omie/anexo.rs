//! `geral/anexo/`: attachments kept per (`cTabela`, `nId`), included as zip + base64 with an MD5,
//! listed, consulted, deleted, and obtained as a temporary download link (`cLinkDownload`) that this
//! same server serves on loopback and that expires.
//!
//! Receipts (`com-recebimento`) come with seeded attachments; one of them has a name with two dots,
//! which Omie refuses on inclusion (reference S13: "a Omie NÃO aceita nome com mais de um ponto").

use std::io::{Read, Write};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::data::{self, Kind};
use super::{check_tags, int_param, str_param, Fault, OmieState, BR_OFFSET_H};
use crate::util::{ddmmyyyy, hash, hhmmss, local_naive, now_ts, Rng};

/// reference: the `cTabela` values of every geral/anexo type (omie.md §1.1).
pub const TABLES: &[&str] = &[
    "cliente",
    "produto",
    "servico",
    "pedido-venda",
    "remessa-produto",
    "ordem-servico",
    "contrato-servico",
    "pedido-compra",
    "nota-entrada",
    "ordem-producao",
    "conta-pagar",
    "conta-receber",
    "conta-corrente",
    "conta-corrente-lancamento",
    "crm-contas",
    "crm-contatos",
    "crm-oportunidades",
    "com-recebimento",
];

/// One stored attachment.
#[derive(Clone, Debug)]
pub struct SimAttachment {
    pub id: u64,
    pub name: String,
    pub cod_int: String,
    pub kind: String,
    /// The file as the user sees it.
    pub content: Vec<u8>,
    /// What a download serves instead of `content`, when set (e.g. a damaged zip).
    pub served: Option<Vec<u8>>,
    pub included_at: i64,
    pub via_api: bool,
}

/// Deterministic small "PDF" of a seeded attachment.
fn seeded_content(seed: u64, n_id: u64, i: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::from_parts(&[seed, 0xA77, n_id, i]);
    let mut v = format!("%PDF-1.4\n% BackOffice simulator attachment {n_id}/{i}\n").into_bytes();
    while v.len() < len {
        v.push(b'a' + rng.below(26) as u8);
    }
    v
}

impl OmieState {
    /// Whether a record with this id exists in `table` (for tables the simulator models).
    pub(crate) fn record_exists(&self, table: &str, id: u64) -> bool {
        match table {
            "com-recebimento" => self.idx_of(Kind::Receipt, id).is_some(),
            "conta-pagar" => self.idx_of(Kind::Payable, id).is_some(),
            "conta-receber" => self.idx_of(Kind::Receivable, id).is_some(),
            "pedido-compra" => self.idx_of(Kind::Order, id).is_some(),
            "cliente" => self.idx_of(Kind::Client, id).is_some(),
            // Other tables are not modelled: any positive id exists.
            _ => id > 0,
        }
    }

    /// Runs `f` on the attachments of (table, id), seeding receipts' attachments on first use.
    pub(crate) fn with_attachments<T>(&self, table: &str, id: u64, f: impl FnOnce(&mut Vec<SimAttachment>) -> T) -> T {
        let seeded = (table == "com-recebimento").then(|| self.idx_of(Kind::Receipt, id)).flatten().map(|r| {
            let nf = 10_000 + r;
            let n = r % 3;
            let mut out = vec![];
            if n >= 1 {
                out.push((format!("NF-{nf}.pdf"), seeded_content(self.seed, id, 0, 2000 + (r % 7) as usize * 300)));
            }
            if n == 2 {
                out.push((format!("boleto.{nf}.pdf"), seeded_content(self.seed, id, 1, 1500)));
            }
            out
        });
        let mut w = self.world();
        let key = (table.to_string(), id);
        if !w.anexos.contains_key(&key) {
            let mut list = vec![];
            for (name, content) in seeded.unwrap_or_default() {
                w.next_anexo_id += 1;
                list.push(SimAttachment {
                    id: 9_000_000_000 + w.next_anexo_id,
                    name,
                    cod_int: String::new(),
                    kind: "pdf".into(),
                    content,
                    served: None,
                    included_at: self.anchor - 86_400,
                    via_api: false,
                });
            }
            w.anexos.insert(key.clone(), list);
        }
        f(w.anexos.get_mut(&key).expect("inserted above"))
    }
}

fn table_param(param: &Map<String, Value>) -> Result<String, Fault> {
    let t = str_param(param, "cTabela").unwrap_or("");
    if !TABLES.contains(&t) {
        // reference: the fault for an unknown cTabela is NOT FOUND; sim's own wording.
        return Err(Fault::new(500, "SOAP-ENV:Client-5002", format!("ERROR: Tabela [{t}] não é válida para anexos!")));
    }
    Ok(t.to_string())
}

fn id_param(st: &OmieState, param: &Map<String, Value>, table: &str) -> Result<u64, Fault> {
    let id = int_param(param, "nId")?.filter(|v| *v > 0).ok_or_else(|| {
        // reference: nId is "Preenchimento obrigatório"; the fault text is NOT FOUND.
        Fault::new(500, "SOAP-ENV:Client-5003", "ERROR: A tag [nId] é obrigatória!")
    })? as u64;
    if !st.record_exists(table, id) {
        // reference: not-found text NOT FOUND; sim's own wording, Client-105 family.
        return Err(Fault::client(105, format!("ERROR: Não existe registro com o ID [{id}] na tabela [{table}]!")));
    }
    Ok(id)
}

fn item_json(st: &OmieState, table: &str, id: u64, a: &SimAttachment) -> Value {
    let t = local_naive(a.included_at, BR_OFFSET_H);
    let _ = st;
    json!({
        "cCodIntAnexo": a.cod_int,
        "cTipoArquivo": a.kind,
        "nId": id,
        "nIdAnexo": a.id,
        "cNomeArquivo": a.name,
        "cTabela": table,
        "info": {
            "dInc": ddmmyyyy(t.date()), "hInc": hhmmss(t), "uInc": if a.via_api { "API" } else { "P000001" },
            "dAlt": ddmmyyyy(t.date()), "hAlt": hhmmss(t), "uAlt": if a.via_api { "API" } else { "P000001" },
            "cImpAPI": if a.via_api { "S" } else { "N" },
        },
    })
}

pub(crate) fn listar(st: &OmieState, param: &Map<String, Value>) -> Result<Value, Fault> {
    check_tags(
        param,
        &[
            "nPagina",
            "nRegPorPagina",
            "cOrdenarPor",
            "cOrdemDecrescente",
            "dDtIncDe",
            "dDtIncAte",
            "dDtAltDe",
            "dDtAltAte",
            "nId",
            "cTabela",
        ],
        "docListarAnexosRequest",
    )?;
    let table = table_param(param)?;
    let id = id_param(st, param, &table)?;
    let pagina = int_param(param, "nPagina")?.unwrap_or(1).max(1) as u64;
    let rpp = int_param(param, "nRegPorPagina")?.unwrap_or(50).clamp(1, 500) as u64;
    let items: Vec<Value> =
        st.with_attachments(&table, id, |l| l.iter().map(|a| item_json(st, &table, id, a)).collect());
    let total = items.len() as u64;
    let start = ((pagina - 1) * rpp).min(total) as usize;
    let end = (start + rpp as usize).min(items.len());
    if start >= end {
        // reference: an empty list is "probably the Client-5113 family" [INFERRED].
        return Err(Fault::client(5113, format!("ERROR: Não existem registros para a página [{pagina}]!")));
    }
    Ok(json!({
        "nPagina": pagina,
        "nTotPaginas": total.div_ceil(rpp),
        "nRegistros": end - start,
        "nTotRegistros": total,
        "listaAnexos": items[start..end],
    }))
}

/// Finds an attachment by cCodIntAnexo, else nIdAnexo, else cNomeArquivo (reference: cNomeArquivo
/// is ignored when cCodIntAnexo is given).
fn find(list: &[SimAttachment], param: &Map<String, Value>) -> Result<Option<usize>, Fault> {
    if let Some(code) = str_param(param, "cCodIntAnexo") {
        return Ok(list.iter().position(|a| a.cod_int == code));
    }
    if let Some(n) = int_param(param, "nIdAnexo")?.filter(|v| *v > 0) {
        return Ok(list.iter().position(|a| a.id == n as u64));
    }
    if let Some(name) = str_param(param, "cNomeArquivo") {
        return Ok(list.iter().position(|a| a.name == name));
    }
    Ok(None)
}

const KEY_TAGS: &[&str] = &["cCodIntAnexo", "cTabela", "nId", "nIdAnexo", "cNomeArquivo"];

fn not_found() -> Fault {
    // reference: the text is NOT FOUND; sim's own wording, Client-105 family.
    Fault::client(105, "ERROR: Anexo não encontrado!")
}

pub(crate) fn consultar(st: &OmieState, param: &Map<String, Value>) -> Result<Value, Fault> {
    check_tags(param, KEY_TAGS, "docConsultarAnexoRequest")?;
    let table = table_param(param)?;
    let id = id_param(st, param, &table)?;
    st.with_attachments(&table, id, |l| {
        let i = find(l, param)?.ok_or_else(not_found)?;
        let mut v = item_json(st, &table, id, &l[i]);
        v.as_object_mut().map(|o| o.remove("info"));
        v["info"] = item_json(st, &table, id, &l[i])["info"].clone();
        Ok(v)
    })
}

pub(crate) fn excluir(st: &OmieState, param: &Map<String, Value>) -> Result<Value, Fault> {
    check_tags(param, KEY_TAGS, "docExcluirAnexoRequest")?;
    let table = table_param(param)?;
    let id = id_param(st, param, &table)?;
    st.with_attachments(&table, id, |l| {
        let i = find(l, param)?.ok_or_else(not_found)?;
        let a = l.remove(i);
        Ok(json!({
            "cCodIntAnexo": a.cod_int, "cTabela": table, "nId": id, "nIdAnexo": a.id, "cNomeArquivo": a.name,
            "cCodStatus": "0", "cDesStatus": "Anexo excluído com sucesso!",
        }))
    })
}

pub(crate) fn obter(st: &OmieState, param: &Map<String, Value>, base: &str) -> Result<Value, Fault> {
    check_tags(param, KEY_TAGS, "docObterAnexoRequest")?;
    let table = table_param(param)?;
    let id = id_param(st, param, &table)?;
    let (anexo_id, name, cod) = st.with_attachments(&table, id, |l| {
        let i = find(l, param)?.ok_or_else(not_found)?;
        Ok::<_, Fault>((l[i].id, l[i].name.clone(), l[i].cod_int.clone()))
    })?;
    let now = (st.time())();
    let mut w = st.world();
    w.next_token += 1;
    let token = format!("{:016x}{:08x}", hash(&[st.seed, w.next_token, anexo_id]), w.next_token);
    let ttl = w.link_ttl;
    w.links.insert(token.clone(), (table.clone(), id, anexo_id, now + ttl));
    let exp = local_naive(now_ts() + ttl.as_secs() as i64, BR_OFFSET_H);
    Ok(json!({
        "cCodIntAnexo": cod, "cTabela": table, "nId": id, "nIdAnexo": anexo_id, "cNomeArquivo": name,
        "cLinkDownload": format!("{base}__sim/files/{token}"),
        "dDtExpiracao": ddmmyyyy(exp.date()),
        "cCodStatus": "0", "cDesStatus": "Link gerado com sucesso!",
    }))
}

/// What a download link serves: `Ok(bytes)` or `Err(status)` (403 once expired, 404 unknown).
pub(crate) fn download(st: &OmieState, token: &str) -> Result<(Vec<u8>, String), u16> {
    let now = (st.time())();
    let (table, id, anexo_id, expires, serve_zip) = {
        let w = st.world();
        let (t, i, a, e) = w.links.get(token).cloned().ok_or(404u16)?;
        (t, i, a, e, w.serve_zip)
    };
    if expires <= now {
        return Err(403);
    }
    st.with_attachments(&table, id, |l| {
        let a = l.iter().find(|a| a.id == anexo_id).ok_or(404u16)?;
        let bytes = match &a.served {
            Some(b) => b.clone(),
            None if serve_zip => zip_one(&a.name, &a.content),
            None => a.content.clone(),
        };
        Ok((bytes, a.name.clone()))
    })
}

/// A zip holding one deflated entry.
pub fn zip_one(name: &str, content: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let _ = w.start_file(name, opts);
    let _ = w.write_all(content);
    w.finish().map(|c| c.into_inner()).unwrap_or_default()
}

fn unzip_first(bytes: &[u8]) -> Option<(String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let mut f = z.by_index(0).ok()?;
    let name = f.name().map(|n| n.to_string()).unwrap_or_default();
    let mut out = Vec::new();
    f.read_to_end(&mut out).ok()?;
    Some((name, out))
}

fn md5_hex(b: &[u8]) -> String {
    use md5::{Digest, Md5};
    let d = Md5::digest(b);
    d.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn incluir(st: &OmieState, param: &Map<String, Value>) -> Result<Value, Fault> {
    check_tags(
        param,
        &["cCodIntAnexo", "cTabela", "nId", "cNomeArquivo", "cTipoArquivo", "cArquivo", "cMd5"],
        "docIncluirAnexoRequest",
    )?;
    let table = table_param(param)?;
    let id = id_param(st, param, &table)?;
    let cod = str_param(param, "cCodIntAnexo").unwrap_or("").to_string();
    // reference: one client found cCodIntAnexo rejected above 20 characters; text NOT FOUND.
    if cod.chars().count() > 20 {
        return Err(Fault::new(
            500,
            "SOAP-ENV:Client-5004",
            "ERROR: A tag [cCodIntAnexo] deve ter no máximo 20 caracteres!",
        ));
    }
    let name = str_param(param, "cNomeArquivo").unwrap_or("").to_string();
    if name.is_empty() {
        return Err(Fault::new(500, "SOAP-ENV:Client-5003", "ERROR: A tag [cNomeArquivo] é obrigatória!"));
    }
    // reference S13: "a Omie NÃO aceita nome com mais de um ponto"; the fault text is NOT FOUND.
    if name.matches('.').count() > 1 {
        return Err(Fault::new(
            500,
            "SOAP-ENV:Client-5005",
            format!("ERROR: O nome do arquivo [{name}] não pode conter mais de um ponto!"),
        ));
    }
    let b64 = str_param(param, "cArquivo").unwrap_or("");
    let md5 = str_param(param, "cMd5").unwrap_or("").to_lowercase();
    let zipped = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| {
        Fault::new(500, "SOAP-ENV:Client-5006", "ERROR: O conteúdo da tag [cArquivo] não está em base 64!")
    })?;
    // reference: "MD5 do arquivo enviado na tag 'cArquivo'". Which bytes Omie hashes is NOT FOUND;
    // the sim accepts the literal reading (MD5 of the cArquivo text) or the MD5 of the zip bytes.
    if md5 != md5_hex(b64.as_bytes()) && md5 != md5_hex(&zipped) {
        return Err(Fault::new(
            500,
            "SOAP-ENV:Client-5007",
            "ERROR: O MD5 informado não confere com o arquivo enviado!",
        ));
    }
    let (_entry, content) = unzip_first(&zipped)
        .ok_or_else(|| Fault::new(500, "SOAP-ENV:Client-5008", "ERROR: O arquivo enviado não é um zip válido!"))?;
    let kind = str_param(param, "cTipoArquivo")
        .map(str::to_string)
        .unwrap_or_else(|| name.rsplit('.').next().unwrap_or("").to_lowercase());
    let new_id = {
        let mut w = st.world();
        w.next_anexo_id += 1;
        9_000_000_000 + w.next_anexo_id
    };
    st.with_attachments(&table, id, |l| {
        if !cod.is_empty() && l.iter().any(|a| a.cod_int == cod) {
            // reference: the duplicate message is NOT FOUND; public code matches /cadastrad|existe|duplic/.
            return Err(Fault::client(104, format!("ERROR: Já existe um anexo cadastrado com o código [{cod}]!")));
        }
        l.push(SimAttachment {
            id: new_id,
            name: name.clone(),
            cod_int: cod.clone(),
            kind,
            content,
            served: None,
            included_at: now_ts(),
            via_api: true,
        });
        Ok(json!({
            "cCodIntAnexo": cod, "cTabela": table, "nId": id, "nIdAnexo": new_id, "cNomeArquivo": name,
            "cCodStatus": "0", "cDesStatus": "Anexo incluído com sucesso!",
        }))
    })
}

/// How the simulator lets an order be closed (Omie documents no such call).
#[derive(Clone, Debug)]
pub struct PoCloseRule {
    /// Service path without slashes, e.g. `produtos/pedidocompra`.
    pub service: String,
    pub call: String,
    /// The parameter carrying the new status (e.g. `cStatus`).
    pub status_tag: String,
    /// The value that closes the order in this "account" (e.g. `Encerrado`).
    pub closes_with: String,
}

/// The configured closing call: finds the order (`nCodPed`, `cCodIntPed` or `cNumero`, also inside
/// `cabecalho_alterar`), and closes it when the status value is the one this account uses; another
/// value is accepted but changes nothing (as an account that says "Fechado" would behave).
pub(crate) fn close_order(st: &OmieState, rule: &PoCloseRule, param: &Map<String, Value>) -> Result<Value, Fault> {
    let inner = param.get("cabecalho_alterar").and_then(Value::as_object).unwrap_or(param);
    let o = data::find_order(st, inner)?.or(data::find_order(st, param)?);
    let Some(o) = o else {
        return Err(Fault::client(105, "ERROR: Pedido de compra não cadastrado!"));
    };
    let status = inner
        .get(&rule.status_tag)
        .or_else(|| param.get(&rule.status_tag))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let (_, current) = data::order_state(st, o);
    if current == "cancelado" {
        return Err(Fault::new(
            500,
            "SOAP-ENV:Client-5009",
            "ERROR: Pedido de compra cancelado não pode ser alterado!",
        ));
    }
    if status.eq_ignore_ascii_case(&rule.closes_with) {
        let mut w = st.world();
        w.order_status.insert(o, "encerrado");
        w.touched.insert((Kind::Order, o), now_ts());
    }
    Ok(json!({
        "nCodPed": st.id_of(Kind::Order, o),
        "cCodIntPed": format!("PC-{:05}", o + 1),
        "cNumero": data::order_number(o),
        "cCodStatus": "0",
        "cDescStatus": "Pedido alterado com sucesso!",
    }))
}

pub(crate) const DEFAULT_LINK_TTL: Duration = Duration::from_secs(600);
