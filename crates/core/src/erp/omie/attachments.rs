//! RF-001: copying attachments between Omie records (by default from an NF-e receipt,
//! `com-recebimento` with `nId = nIdReceb`, to the payables its parcels created, `conta-pagar` with
//! `nId = nIdTitulo`), exactly once.
//!
//! For each origin attachment: ObterAnexo → download `cLinkDownload` (a new link is obtained when
//! one expired) → unzip if the link served a zip → check size → name with a single dot → a
//! deterministic `cCodIntAnexo` ("BO" + 18 hex of SHA-256 over the content hash and the
//! destination) → skip when the destination already has that code, or a file with the same name
//! and size, or the same content → ConsultarAnexo by that code right before IncluirAnexo (so a
//! retry after a crash or a timeout finds the copy instead of making a second one) → zip → base64 →
//! `cMd5` (MD5 of the `cArquivo` text, the literal reading of the docs) → IncluirAnexo.
//!
//! Every pair has a row in `omie_attachment_transfers` (status, attempts, counts, duration, Omie's
//! fault text) and one per file in `omie_attachment_files`; successful pairs go to the integration
//! map. A file's failure is logged and the batch goes on.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use super::store::{self, add_preview};
use super::sync::OmieScanOptions;
use super::{omie_client, omie_connection};
use super::{OmieError, OmiePreviewItem};
use crate::erp::omie::client::{Download, OmieClient};
use crate::error::{ApiError, CoreError, CoreResult};
use crate::jobs::JobCtx;
use crate::model::{Connection, Job};
use crate::store::now_utc;
use crate::store::settings::SettingFamily;
use crate::Ctx;

/// The attachment-transfer settings of each connection.
const SETTINGS: SettingFamily<OmieAttachmentSettings> = SettingFamily::json("omie.attachments");

/// reference: the `cTabela` values of geral/anexo (omie.md §1.1).
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

/// Origin table of direct uploads of a local file in the transfer log.
pub const LOCAL_FILE: &str = "arquivo-local";

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmieAttachmentSettings {
    /// Table the automatic scan copies from (it reads NF-e receipts: `com-recebimento`).
    pub source_table: String,
    /// Table it copies to: `conta-pagar` (the receipt's parcels) or `pedido-compra` (its orders).
    pub dest_table: String,
    /// Files larger than this are refused.
    pub max_file_mb: u32,
    /// Attempts per transfer before it is left failed (retry resets nothing: it stops trying).
    pub max_attempts: u32,
}

impl Default for OmieAttachmentSettings {
    fn default() -> Self {
        OmieAttachmentSettings {
            source_table: "com-recebimento".into(),
            dest_table: "conta-pagar".into(),
            max_file_mb: 20,
            max_attempts: 3,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmieTransferRequest {
    pub from_table: String,
    pub from_id: String,
    pub to_table: String,
    pub to_id: String,
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, Default)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmieUploadRequest {
    pub table: String,
    pub id: String,
    /// Path of the local file (CLI). The desktop UI sends the content instead: a web view cannot see
    /// real paths.
    #[serde(default)]
    pub file_path: String,
    /// The file's name, with `content_base64`.
    #[serde(default)]
    pub file_name: Option<String>,
    /// The file's bytes, base64-encoded (desktop file picker).
    #[serde(default)]
    pub content_base64: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmieAttachmentTransfer {
    pub id: String,
    pub connection_id: String,
    pub origin_table: String,
    pub origin_id: String,
    pub dest_table: String,
    pub dest_id: String,
    pub nf_number: Option<String>,
    pub local_path: Option<String>,
    /// `pending`, `processing`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub max_attempts: u32,
    pub transferred: u32,
    pub duplicates: u32,
    pub failed: u32,
    #[ts(type = "number | null")]
    pub duration_ms: Option<i64>,
    /// Why the last attempt failed (Omie's fault, or the plain reason), with code and params.
    pub last_error: Option<ApiError>,
    pub last_error_code: Option<String>,
    pub job_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmieAttachmentFile {
    pub origin_attachment_id: String,
    pub file_name: String,
    /// The name used on the destination (renamed when it had more than one dot).
    pub dest_name: Option<String>,
    #[ts(type = "number | null")]
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    pub cod_int_anexo: Option<String>,
    pub dest_attachment_id: Option<String>,
    /// `pending`, `processing`, `succeeded`, `duplicate` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub error: Option<ApiError>,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmieTransferDetail {
    pub transfer: OmieAttachmentTransfer,
    pub files: Vec<OmieAttachmentFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export, export_to = "../../../ui/src/bindings/")]
pub struct OmieAttachmentMapEntry {
    pub origin_table: String,
    pub origin_id: String,
    pub dest_table: String,
    pub dest_id: String,
    pub nf_number: Option<String>,
    pub files: u32,
    pub created_at: String,
    pub updated_at: String,
}

pub fn check_table(t: &str) -> CoreResult<()> {
    if TABLES.contains(&t) {
        Ok(())
    } else {
        Err(OmieError::UnknownTable { table: t.to_string(), allowed: TABLES.join(", ") }.into())
    }
}

fn check_id(what: &str, id: &str) -> CoreResult<()> {
    if id.trim().is_empty() {
        return Err(OmieError::Missing {
            what: format!("{what} id"),
            fix: format!("Enter the Omie id of the {what} record (a number)."),
        }
        .into());
    }
    if !id.trim().chars().all(|c| c.is_ascii_digit()) {
        return Err(CoreError::invalid(what, format!("\"{id}\" is not an Omie id; Omie ids are numbers.")));
    }
    Ok(())
}

/// Omie refuses names with more than one dot: keep the last (the extension), others become `_`.
pub fn safe_name(name: &str) -> String {
    let base: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_string();
    let base = if base.is_empty() { "anexo".to_string() } else { base };
    match base.rfind('.') {
        Some(last) => {
            let (stem, ext) = base.split_at(last);
            let stem = stem.replace('.', "_");
            let stem = if stem.is_empty() { "anexo".to_string() } else { stem };
            format!("{stem}{ext}")
        }
        None => base,
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn sha256_hex(b: &[u8]) -> String {
    hex(&Sha256::digest(b))
}

/// The deterministic integration code of a copy: 20 characters.
pub fn cod_int_anexo(content_sha256: &str, dest_table: &str, dest_id: &str) -> String {
    let h = Sha256::digest(format!("{content_sha256}|{dest_table}|{dest_id}").as_bytes());
    format!("BO{}", &hex(&h)[..18])
}

/// What IncluirAnexo takes: the file zipped, as base64, and the MD5 of that base64 text.
pub fn pack(name: &str, content: &[u8]) -> CoreResult<(String, String)> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::with_capacity(content.len() / 2 + 256)));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    w.start_file(name, opts).map_err(|e| CoreError::Internal(format!("zip: {e}")))?;
    w.write_all(content).map_err(|e| CoreError::Internal(format!("zip: {e}")))?;
    let zipped = w.finish().map_err(|e| CoreError::Internal(format!("zip: {e}")))?.into_inner();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&zipped);
    drop(zipped);
    use md5::{Digest as _, Md5};
    let md5 = hex(&Md5::digest(b64.as_bytes()));
    Ok((b64, md5))
}

/// A download that is a zip (and not a `.zip` attachment) holds the file: take it out, within the
/// size limit.
fn unpack(name: &str, bytes: Vec<u8>, limit: u64) -> CoreResult<Vec<u8>> {
    let is_zip = bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06");
    if !is_zip || name.to_lowercase().ends_with(".zip") {
        return Ok(bytes);
    }
    let corrupt = |d: String| CoreError::from(OmieError::CorruptZip { name: name.to_string(), detail: d });
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| corrupt(e.to_string()))?;
    if z.is_empty() {
        return Err(corrupt("it holds no file".into()));
    }
    let wanted = (0..z.len()).find(|i| {
        z.by_index(*i).ok().and_then(|f| f.name().ok().map(|n| n.rsplit('/').next() == Some(name))).unwrap_or(false)
    });
    let mut f = z.by_index(wanted.unwrap_or(0)).map_err(|e| corrupt(e.to_string()))?;
    if f.size() > limit {
        return Err(OmieError::TooLarge { name: name.to_string(), size: f.size(), limit }.into());
    }
    let mut out = Vec::with_capacity(f.size() as usize);
    (&mut f).take(limit + 1).read_to_end(&mut out).map_err(|e| corrupt(e.to_string()))?;
    if out.len() as u64 > limit {
        return Err(OmieError::TooLarge { name: name.to_string(), size: out.len() as u64, limit }.into());
    }
    Ok(out)
}

/// One attachment as ListarAnexo lists it.
#[derive(Debug, Clone)]
struct Listed {
    id: String,
    name: String,
    cod: String,
}

fn id_text(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

fn num(id: &str) -> Value {
    id.trim().parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::String(id.to_string()))
}

/// A fault saying the record (or the attachment) does not exist.
fn not_found_error(client: &OmieClient, table: &str, id: &str, f: &crate::erp::omie::client::OmieFault) -> CoreError {
    OmieError::RecordNotFound {
        connection: client.name().to_string(),
        table: table.to_string(),
        id: id.to_string(),
        detail: f.message.clone(),
    }
    .into()
}

async fn list_attachments(client: &OmieClient, table: &str, id: &str) -> CoreResult<Vec<Listed>> {
    let mut out = vec![];
    let mut page = 1u32;
    loop {
        let p = json!({"nPagina": page, "nRegPorPagina": 100, "cTabela": table, "nId": num(id)});
        let v = match client.call("geral/anexo/", "ListarAnexo", p).await? {
            Ok(v) => v,
            Err(f) if f.is_empty_page() => break,
            Err(f) if f.is_not_found() => return Err(not_found_error(client, table, id, &f)),
            Err(f) => return Err(client.fault_error("ListarAnexo", f)),
        };
        let items = v.get("listaAnexos").and_then(Value::as_array).cloned().unwrap_or_default();
        for it in &items {
            out.push(Listed {
                id: id_text(&it["nIdAnexo"]),
                name: it["cNomeArquivo"].as_str().unwrap_or("").to_string(),
                cod: it["cCodIntAnexo"].as_str().unwrap_or("").to_string(),
            });
        }
        let pages = v.get("nTotPaginas").and_then(Value::as_u64).unwrap_or(1);
        if items.is_empty() || u64::from(page) >= pages {
            break;
        }
        page += 1;
    }
    Ok(out)
}

/// Obtains a link and downloads it; a new link is obtained (with other keys of the same
/// attachment, so the call is not a redundant repeat) when one has expired.
async fn fetch(
    client: &OmieClient,
    table: &str,
    id: &str,
    a: &Listed,
    limit: u64,
    job: &JobCtx,
) -> CoreResult<Vec<u8>> {
    let mut variants = vec![json!({"cTabela": table, "nId": num(id), "nIdAnexo": num(&a.id)})];
    variants.push(json!({"cTabela": table, "nId": num(id), "cNomeArquivo": a.name}));
    if !a.cod.is_empty() {
        variants.push(json!({"cTabela": table, "nId": num(id), "cCodIntAnexo": a.cod}));
    }
    let attempts = variants.len() as u32;
    for (i, p) in variants.into_iter().enumerate() {
        let v = match client.call("geral/anexo/", "ObterAnexo", p).await? {
            Ok(v) => v,
            Err(f) if f.is_not_found() => return Err(not_found_error(client, table, id, &f)),
            Err(f) => return Err(client.fault_error("ObterAnexo", f)),
        };
        let link = v.get("cLinkDownload").and_then(Value::as_str).unwrap_or("");
        if link.is_empty() {
            return Err(CoreError::Remote {
                connection: client.name().to_string(),
                remote_code: "no_link".into(),
                message: format!("ObterAnexo gave no download link for \"{}\"", a.name),
            });
        }
        match client.download(link, limit).await? {
            Download::Bytes(b) => return Ok(b),
            Download::TooLarge(size) => {
                return Err(OmieError::TooLarge { name: a.name.clone(), size, limit }.into());
            }
            Download::Expired(why) => {
                job.log_t(
                    "warn",
                    "attachments.link_expired",
                    &[("file", a.name.clone()), ("reason", why.to_string())],
                    &format!("the download link of \"{}\" expired ({why}); obtaining a new one", a.name),
                );
                if i as u32 + 1 == attempts {
                    break;
                }
            }
        }
    }
    Err(OmieError::LinkExpired { name: a.name.clone(), attempts }.into())
}

struct Run<'a> {
    core: &'a Arc<Ctx>,
    client: &'a OmieClient,
    conn: &'a Connection,
    job: &'a JobCtx,
    settings: OmieAttachmentSettings,
    dry_run: bool,
}

impl Run<'_> {
    fn limit(&self) -> u64 {
        u64::from(self.settings.max_file_mb.max(1)) * 1024 * 1024
    }

    /// The transfer row of a pair (created pending when new).
    fn transfer_row(
        &self,
        ot: &str,
        oid: &str,
        dt: &str,
        did: &str,
        nf: Option<&str>,
        path: Option<&str>,
    ) -> CoreResult<String> {
        if self.dry_run {
            return Ok(String::new());
        }
        let max = self.settings.max_attempts.max(1);
        store::ensure_transfer(&self.core.store, &self.conn.id, ot, oid, dt, did, nf, path, max)
    }

    /// Marks a pair as being processed. Checking again a pair that already succeeded is not a new
    /// attempt (nothing is sent when every file is already there), so its count stays.
    fn start_transfer(&self, tid: &str) -> CoreResult<()> {
        store::start_transfer(&self.core.store, tid, self.job.id())
    }

    /// Ends a pair: counts from its files, status, duration, the map.
    fn finish_transfer(&self, tid: &str, started: Instant, error: Option<&CoreError>) -> CoreResult<(u32, u32, u32)> {
        let ms = started.elapsed().as_millis() as i64;
        let (err_text, err_code) = match error {
            Some(e) => (Some(e.to_api().to_stored()), Some(e.code().to_string())),
            None => (None, None),
        };
        store::finish_transfer(&self.core.store, tid, ms, err_text, err_code)
    }

    fn file_row(&self, tid: &str, a: &Listed) -> CoreResult<String> {
        if self.dry_run {
            return Ok("pending".into());
        }
        store::ensure_transfer_file(&self.core.store, tid, &a.id, &a.name)
    }

    #[allow(clippy::too_many_arguments)]
    fn set_file(
        &self,
        tid: &str,
        oid: &str,
        status: &str,
        dest_name: Option<&str>,
        size: Option<i64>,
        sha: Option<&str>,
        cod: Option<&str>,
        dest_att: Option<&str>,
        error: Option<&str>,
    ) -> CoreResult<()> {
        if self.dry_run {
            return Ok(());
        }
        store::update_transfer_file(&self.core.store, tid, oid, status, dest_name, size, sha, cod, dest_att, error)
    }

    /// Marks one file of a transfer failed, keeping the error with its code and params.
    fn fail_file(&self, tid: &str, oid: &str, e: &CoreError) -> CoreResult<()> {
        self.set_file(tid, oid, "failed", None, None, None, None, None, Some(&e.to_api().to_stored()))
    }

    /// Size and hash of a destination file not made by BackOffice (downloaded once, then cached).
    async fn fingerprint(&self, dt: &str, did: &str, d: &Listed) -> CoreResult<(i64, String)> {
        let cached = store::dest_fingerprint(&self.core.store, &self.conn.id, dt, did, &d.id)?;
        if let Some(c) = cached {
            return Ok(c);
        }
        let bytes = fetch(self.client, dt, did, d, self.limit().saturating_mul(2), self.job).await?;
        let bytes = unpack(&d.name, bytes, self.limit().saturating_mul(2))?;
        let fp = (bytes.len() as i64, sha256_hex(&bytes));
        store::save_dest_fingerprint(&self.core.store, &self.conn.id, dt, did, &d.id, &d.name, fp.0, &fp.1)?;
        Ok(fp)
    }

    /// Whether the destination already holds this content: by our code, by name + size (the
    /// seed's rule), or by content hash. Returns the matching attachment's id.
    #[allow(clippy::too_many_arguments)]
    async fn duplicate_on_dest(
        &self,
        dt: &str,
        did: &str,
        dest: &[Listed],
        names: (&str, &str),
        size: i64,
        sha: &str,
        cod: &str,
    ) -> CoreResult<Option<(String, &'static str)>> {
        if let Some(d) = dest.iter().find(|d| d.cod == cod) {
            return Ok(Some((d.id.clone(), "same integration code")));
        }
        for d in dest.iter().filter(|d| !d.cod.starts_with("BO") || d.cod.len() != 20) {
            match self.fingerprint(dt, did, d).await {
                Ok((s, h)) => {
                    if h == sha {
                        return Ok(Some((d.id.clone(), "same content")));
                    }
                    if (d.name == names.0 || d.name == names.1) && s == size {
                        return Ok(Some((d.id.clone(), "same name and size")));
                    }
                }
                Err(e) => self.job.log_t(
                    "warn",
                    "attachments.compare_failed",
                    &[
                        ("file", d.name.clone()),
                        ("table", dt.to_string()),
                        ("record", did.to_string()),
                        ("error", e.to_string()),
                        ("error_json", e.to_api().to_stored()),
                        ("code", e.code().to_string()),
                    ],
                    &format!("could not compare with \"{}\" on {dt} {did}: {e}", d.name),
                ),
            }
        }
        Ok(None)
    }

    /// ConsultarAnexo by our code: the authoritative "was it already included?".
    async fn included(&self, dt: &str, did: &str, cod: &str) -> CoreResult<Option<String>> {
        let p = json!({"cTabela": dt, "nId": num(did), "cCodIntAnexo": cod});
        match self.client.call("geral/anexo/", "ConsultarAnexo", p).await? {
            Ok(v) => Ok(Some(id_text(&v["nIdAnexo"])).filter(|s| !s.is_empty()).or(Some(String::new()))),
            Err(f) if f.is_not_found() || f.is_empty_page() => Ok(None),
            Err(f) => Err(self.client.fault_error("ConsultarAnexo", f)),
        }
    }

    /// Includes `content` on the destination exactly once. Returns `(outcome, dest attachment id)`.
    #[allow(clippy::too_many_arguments)]
    async fn include_once(
        &self,
        tid: &str,
        oid: &str,
        dt: &str,
        did: &str,
        name: &str,
        content: &[u8],
        dest: &[Listed],
    ) -> CoreResult<&'static str> {
        let dest_name = safe_name(name);
        if dest_name != name {
            self.job.log_t(
                "info",
                "attachments.renamed",
                &[("file", name.to_string()), ("new_name", dest_name.to_string())],
                &format!("\"{name}\" has more than one dot (Omie refuses that); sent as \"{dest_name}\""),
            );
        }
        let size = content.len() as i64;
        let sha = sha256_hex(content);
        let cod = cod_int_anexo(&sha, dt, did);
        if let Some((att, why)) = self.duplicate_on_dest(dt, did, dest, (name, &dest_name), size, &sha, &cod).await? {
            self.set_file(
                tid,
                oid,
                "duplicate",
                Some(&dest_name),
                Some(size),
                Some(&sha),
                Some(&cod),
                Some(&att),
                None,
            )?;
            self.job.log_t(
                "info",
                "attachments.already_there",
                &[
                    ("file", name.to_string()),
                    ("table", dt.to_string()),
                    ("record", did.to_string()),
                    ("reason", why.to_string()),
                ],
                &format!("\"{name}\" is already on {dt} {did} ({why}); not copied again"),
            );
            if self.dry_run {
                add_preview(
                    &self.core.store,
                    self.job.id(),
                    &OmiePreviewItem {
                        kind: "attachment".into(),
                        action: "skip_duplicate".into(),
                        origin: name.to_string(),
                        destination: format!("{dt} {did}"),
                        detail: why.to_string(),
                    },
                )?;
            }
            return Ok("duplicate");
        }
        if self.dry_run {
            add_preview(
                &self.core.store,
                self.job.id(),
                &OmiePreviewItem {
                    kind: "attachment".into(),
                    action: "transfer".into(),
                    origin: name.to_string(),
                    destination: format!("{dt} {did} as \"{dest_name}\""),
                    detail: format!("{size} bytes, cCodIntAnexo {cod}"),
                },
            )?;
            return Ok("planned");
        }
        // Right before including: was it included already (a crash or a timeout after IncluirAnexo)?
        if let Some(att) = self.included(dt, did, &cod).await? {
            self.set_file(
                tid,
                oid,
                "duplicate",
                Some(&dest_name),
                Some(size),
                Some(&sha),
                Some(&cod),
                Some(&att),
                None,
            )?;
            self.job.log_t(
                "info",
                "attachments.included_earlier",
                &[("file", name.to_string()), ("table", dt.to_string()), ("record", did.to_string())],
                &format!("\"{name}\" was already included on {dt} {did} by an earlier attempt"),
            );
            return Ok("duplicate");
        }
        self.set_file(tid, oid, "processing", Some(&dest_name), Some(size), Some(&sha), Some(&cod), None, None)?;
        let (b64, md5) = pack(&dest_name, content)?;
        let kind = dest_name.rsplit_once('.').map(|(_, e)| e.to_lowercase()).unwrap_or_default();
        let p = json!({
            "cCodIntAnexo": cod,
            "cTabela": dt,
            "nId": num(did),
            "cNomeArquivo": dest_name,
            "cTipoArquivo": kind,
            "cArquivo": b64,
            "cMd5": md5,
        });
        let r = self.client.call("geral/anexo/", "IncluirAnexo", p).await?;
        match r {
            Ok(v) => {
                let att = id_text(&v["nIdAnexo"]);
                self.set_file(tid, oid, "succeeded", None, None, None, None, Some(&att), None)?;
                self.job.log_t(
                    "info",
                    "attachments.copied",
                    &[
                        ("file", dest_name.to_string()),
                        ("table", dt.to_string()),
                        ("record", did.to_string()),
                        ("attachment_id", att.clone()),
                    ],
                    &format!("copied \"{dest_name}\" to {dt} {did} (nIdAnexo {att})"),
                );
                Ok("succeeded")
            }
            Err(f) => {
                let m = f.message.to_lowercase();
                if f.code.ends_with("Client-104")
                    || m.contains("cadastrad")
                    || m.contains("existe")
                    || m.contains("duplic")
                {
                    if let Some(att) = self.included(dt, did, &cod).await? {
                        self.set_file(tid, oid, "duplicate", None, None, None, None, Some(&att), None)?;
                        return Ok("duplicate");
                    }
                }
                Err(CoreError::Remote {
                    connection: self.client.name().to_string(),
                    remote_code: f.code,
                    message: format!("IncluirAnexo refused \"{dest_name}\" for {dt} {did}: {}", f.message),
                })
            }
        }
    }

    /// Copies every missing attachment of one origin record to one destination record.
    async fn transfer_pair(
        &self,
        ot: &str,
        oid: &str,
        dt: &str,
        did: &str,
        nf: Option<&str>,
        always_log: bool,
    ) -> CoreResult<()> {
        let started = Instant::now();
        let origin = match list_attachments(self.client, ot, oid).await {
            Ok(o) => o,
            Err(e) if always_log || !self.dry_run => {
                let tid = self.transfer_row(ot, oid, dt, did, nf, None)?;
                if !self.dry_run {
                    self.start_transfer(&tid)?;
                    self.finish_transfer(&tid, started, Some(&e))?;
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if origin.is_empty() && !always_log {
            return Ok(());
        }
        let tid = self.transfer_row(ot, oid, dt, did, nf, None)?;
        if !self.dry_run {
            self.start_transfer(&tid)?;
        }
        let dest = match list_attachments(self.client, dt, did).await {
            Ok(d) => d,
            Err(e) => {
                if !self.dry_run {
                    self.finish_transfer(&tid, started, Some(&e))?;
                }
                return Err(e);
            }
        };
        let mut first_err = None;
        for a in &origin {
            self.job.checkpoint()?;
            let status = self.file_row(&tid, a)?;
            if status == "succeeded" || status == "duplicate" {
                self.job.add_count("already_transferred", 1);
                continue;
            }
            let r = async {
                let bytes = fetch(self.client, ot, oid, a, self.limit(), self.job).await?;
                let content = unpack(&a.name, bytes, self.limit())?;
                if content.len() as u64 > self.limit() {
                    return Err(OmieError::TooLarge {
                        name: a.name.clone(),
                        size: content.len() as u64,
                        limit: self.limit(),
                    }
                    .into());
                }
                self.include_once(&tid, &a.id, dt, did, &a.name, &content, &dest).await
            }
            .await;
            match r {
                Ok("succeeded") => self.job.add_count("transferred", 1),
                Ok("duplicate") => self.job.add_count("duplicates", 1),
                Ok(_) => self.job.add_count("planned", 1),
                Err(CoreError::Cancelled) => return Err(CoreError::Cancelled),
                Err(e) if OmieError::is_key_blocked(&e) => {
                    if !self.dry_run {
                        self.fail_file(&tid, &a.id, &e)?;
                        self.finish_transfer(&tid, started, Some(&e))?;
                    }
                    return Err(e);
                }
                Err(e) => {
                    self.job.add_count("failed", 1);
                    self.job.log_t(
                        "error",
                        "attachments.file_failed",
                        &[
                            ("file", a.name.clone()),
                            ("from_table", ot.to_string()),
                            ("from_record", oid.to_string()),
                            ("table", dt.to_string()),
                            ("record", did.to_string()),
                            ("error", e.to_string()),
                            ("error_json", e.to_api().to_stored()),
                            ("code", e.code().to_string()),
                        ],
                        &format!("\"{}\" from {ot} {oid} to {dt} {did}: {e}", a.name),
                    );
                    if self.dry_run {
                        add_preview(
                            &self.core.store,
                            self.job.id(),
                            &OmiePreviewItem {
                                kind: "attachment".into(),
                                action: "error".into(),
                                origin: a.name.clone(),
                                destination: format!("{dt} {did}"),
                                detail: e.to_string(),
                            },
                        )?;
                    } else {
                        self.fail_file(&tid, &a.id, &e)?;
                    }
                    first_err.get_or_insert(e);
                }
            }
        }
        if !self.dry_run {
            let (ok, dup, bad) = self.finish_transfer(&tid, started, None)?;
            let ms = started.elapsed().as_millis();
            self.job.log_t(
                "info",
                "attachments.pair_done",
                &[
                    ("from_table", ot.to_string()),
                    ("from_record", oid.to_string()),
                    ("table", dt.to_string()),
                    ("record", did.to_string()),
                    ("copied", ok.to_string()),
                    ("already", dup.to_string()),
                    ("failed", bad.to_string()),
                    ("ms", ms.to_string()),
                ],
                &format!("{ot} {oid} → {dt} {did}: {ok} copied, {dup} already there, {bad} failed in {ms} ms"),
            );
        }
        let _ = first_err;
        Ok(())
    }

    async fn upload(&self, table: &str, id: &str, path: &str) -> CoreResult<()> {
        let file_err =
            |e: std::io::Error| CoreError::from(OmieError::File { path: path.to_string(), detail: e.to_string() });
        let meta = std::fs::metadata(path).map_err(file_err)?;
        let name = std::path::Path::new(path).file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        if meta.len() > self.limit() {
            return Err(OmieError::TooLarge { name, size: meta.len(), limit: self.limit() }.into());
        }
        let content = std::fs::read(path).map_err(file_err)?;
        self.upload_bytes(table, id, &name, content, Some(path)).await
    }

    async fn upload_bytes(
        &self,
        table: &str,
        id: &str,
        name: &str,
        content: Vec<u8>,
        path: Option<&str>,
    ) -> CoreResult<()> {
        let started = Instant::now();
        let name = name.to_string();
        if content.len() as u64 > self.limit() {
            return Err(OmieError::TooLarge { name, size: content.len() as u64, limit: self.limit() }.into());
        }
        let sha = sha256_hex(&content);
        let oid = sha[..16].to_string();
        let tid = self.transfer_row(LOCAL_FILE, &oid, table, id, None, path)?;
        self.start_transfer(&tid)?;
        let a = Listed { id: oid.clone(), name: name.clone(), cod: String::new() };
        self.file_row(&tid, &a)?;
        let r = async {
            let dest = list_attachments(self.client, table, id).await?;
            self.include_once(&tid, &oid, table, id, &name, &content, &dest).await
        }
        .await;
        match r {
            Ok(outcome) => {
                self.job.add_count(if outcome == "duplicate" { "duplicates" } else { "transferred" }, 1);
                self.finish_transfer(&tid, started, None)?;
                Ok(())
            }
            Err(e) => {
                self.fail_file(&tid, &oid, &e)?;
                self.finish_transfer(&tid, started, Some(&e))?;
                Err(e)
            }
        }
    }
}

/// (origin table, origin id, destination table, destination id, NF number, local path).
pub(super) type PendingTransfer = (String, String, String, String, Option<String>, Option<String>);

/// Destination ids of a receipt for a destination table.
fn receipt_destinations(r: &Value, dest_table: &str) -> Vec<String> {
    let mut out: Vec<String> = match dest_table {
        "conta-pagar" => r["parcelas"]["parcelasLista"]
            .as_array()
            .map(|a| a.iter().map(|p| id_text(&p["nIdTitulo"])).filter(|s| !s.is_empty() && s != "0").collect())
            .unwrap_or_default(),
        "pedido-compra" => r["itensRecebimento"]
            .as_array()
            .map(|a| {
                a.iter().map(|i| id_text(&i["itensCabec"]["nIdPedido"])).filter(|s| !s.is_empty() && s != "0").collect()
            })
            .unwrap_or_default(),
        _ => vec![],
    };
    out.sort();
    out.dedup();
    out
}

pub fn omie_attachment_settings(cx: &Ctx, connection_id: &str) -> CoreResult<OmieAttachmentSettings> {
    Ok(cx.store.setting(&SETTINGS.of(connection_id))?.unwrap_or_default())
}

pub fn save_omie_attachment_settings(
    cx: &Ctx,
    connection_id: &str,
    s: &OmieAttachmentSettings,
) -> CoreResult<OmieAttachmentSettings> {
    omie_connection(cx, connection_id)?;
    check_table(&s.source_table)?;
    check_table(&s.dest_table)?;
    if s.source_table != "com-recebimento" || !["conta-pagar", "pedido-compra"].contains(&s.dest_table.as_str()) {
        return Err(CoreError::invalid(
            "dest_table",
            "The automatic scan reads NF-e receipts (com-recebimento) and copies to their payables (conta-pagar) or orders (pedido-compra). Use the manual transfer for other tables.",
        ));
    }
    if s.max_file_mb == 0 || s.max_file_mb > 1024 {
        return Err(CoreError::invalid("max_file_mb", "Choose a size limit between 1 and 1024 MB."));
    }
    if s.max_attempts == 0 || s.max_attempts > 20 {
        return Err(CoreError::invalid("max_attempts", "Choose between 1 and 20 attempts."));
    }
    cx.store.set_setting(&SETTINGS.of(connection_id), s)?;
    omie_attachment_settings(cx, connection_id)
}

fn spawn_attachments<F, Fut>(
    cx: &Arc<Ctx>,
    kind: &str,
    connection_id: &str,
    params: Value,
    dry_run: bool,
    f: F,
) -> CoreResult<Job>
where
    F: FnOnce(Arc<Ctx>, OmieClient, Connection, JobCtx, OmieAttachmentSettings, bool) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = CoreResult<()>> + Send + 'static,
{
    let conn = omie_connection(cx, connection_id)?;
    // Refused at once (naming the desks that keep the key) rather than failing inside the job.
    cx.connections().require_key(&conn)?;
    let settings = omie_attachment_settings(cx, connection_id)?;
    let core = cx.clone();
    let target = conn.clone();
    let (job, _h) = cx.jobs.spawn(kind, Some(&target), params, move |ctx| async move {
        let client = omie_client(&core, &conn)?;
        f(core, client, conn, ctx, settings, dry_run).await
    })?;
    Ok(job)
}

/// Transfers the attachments of one record to another (`omie_attachment_transfer`).
pub fn start_omie_attachment_transfer(cx: &Arc<Ctx>, connection_id: &str, req: OmieTransferRequest) -> CoreResult<Job> {
    check_table(&req.from_table)?;
    check_table(&req.to_table)?;
    check_id("origin", &req.from_id)?;
    check_id("destination", &req.to_id)?;
    let params = serde_json::to_value(&req).unwrap_or_default();
    spawn_attachments(
        cx,
        "omie_attachment_transfer",
        connection_id,
        params,
        req.dry_run,
        move |core, client, conn, ctx, settings, dry_run| async move {
            let run = Run { core: &core, client: &client, conn: &conn, job: &ctx, settings, dry_run };
            let before = ctx.counts().get("failed").copied().unwrap_or(0);
            // The NF number for the integration map: from the synced receipts, when the origin is one.
            let nf = if req.from_table == "com-recebimento" {
                omie_receipt_nf(&core, &conn.id, req.from_id.trim())
            } else {
                None
            };
            run.transfer_pair(
                &req.from_table,
                req.from_id.trim(),
                &req.to_table,
                req.to_id.trim(),
                nf.as_deref(),
                true,
            )
            .await?;
            let failed = ctx.counts().get("failed").copied().unwrap_or(0) - before;
            if failed > 0 {
                return Err(CoreError::Remote {
                connection: conn.name.clone(),
                remote_code: "attachments_failed".into(),
                message: format!("{failed} attachment(s) could not be copied; see the job log for each reason, then retry the pending transfers."),
            });
            }
            Ok(())
        },
    )
}

/// Scans receipts changed since the last run and transfers what is missing (`omie_attachment_scan`).
pub fn start_omie_attachment_scan(cx: &Arc<Ctx>, connection_id: &str, opts: OmieScanOptions) -> CoreResult<Job> {
    let since_given = opts.since.as_deref().map(super::parse_since).transpose()?;
    let params = serde_json::to_value(&opts).unwrap_or_default();
    spawn_attachments(
        cx,
        "omie_attachment_scan",
        connection_id,
        params,
        opts.dry_run,
        move |core, client, conn, ctx, settings, dry_run| async move {
            let tz: chrono_tz::Tz = conn.timezone.parse().unwrap_or(chrono_tz::America::Sao_Paulo);
            let scan_started = now_utc();
            let today = chrono::Utc::now().with_timezone(&tz).date_naive();
            let since = match since_given {
                Some(d) => d,
                None => store::scan_last_run(&core.store, &conn.id, "attachments")?
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
                    .map(|d| d.with_timezone(&tz).date_naive())
                    .unwrap_or(today - chrono::Duration::days(7)),
            };
            let english =
                format!("receipts changed since {since}{}", if dry_run { " (dry run: nothing is copied)" } else { "" });
            if dry_run {
                ctx.log_t("info", "attachments.scanning_dry_run", &[("since", since.to_string())], &english);
            } else {
                ctx.log_t("info", "attachments.scanning", &[("since", since.to_string())], &english);
            }
            let run = Run { core: &core, client: &client, conn: &conn, job: &ctx, settings: settings.clone(), dry_run };
            let mut page = 1u32;
            loop {
                ctx.checkpoint()?;
                let p = json!({
                    "nPagina": page, "nRegistrosPorPagina": 100, "cExibirDetalhes": "S",
                    "dtAltDe": since.format("%d/%m/%Y").to_string(),
                    "dtAltAte": (today + chrono::Duration::days(1)).format("%d/%m/%Y").to_string(),
                });
                let Some(v) = client.list_page("produtos/recebimentonfe/", "ListarRecebimentos", p).await? else {
                    break;
                };
                let recs = v["recebimentos"].as_array().cloned().unwrap_or_default();
                for r in &recs {
                    let rid = id_text(&r["cabec"]["nIdReceb"]);
                    let nf = r["cabec"]["cNumeroNFe"].as_str().map(str::to_string);
                    ctx.add_count("receipts", 1);
                    for did in receipt_destinations(r, &settings.dest_table) {
                        ctx.progress(None, format!("receipt {rid} → {} {did}", settings.dest_table));
                        if let Err(e) = run
                            .transfer_pair(
                                &settings.source_table,
                                &rid,
                                &settings.dest_table,
                                &did,
                                nf.as_deref(),
                                false,
                            )
                            .await
                        {
                            if matches!(e, CoreError::Cancelled | CoreError::Unauthorized { .. })
                                || OmieError::is_key_blocked(&e)
                            {
                                return Err(e);
                            }
                            ctx.add_count("pairs_failed", 1);
                            ctx.log_t(
                                "error",
                                "attachments.receipt_failed",
                                &[
                                    ("receipt", rid.clone()),
                                    ("table", settings.dest_table.clone()),
                                    ("record", did.to_string()),
                                    ("error", e.to_string()),
                                    ("error_json", e.to_api().to_stored()),
                                    ("code", e.code().to_string()),
                                ],
                                &format!("receipt {rid} → {} {did}: {e}", settings.dest_table),
                            );
                        }
                    }
                }
                let pages = v["nTotalPaginas"].as_u64().unwrap_or(1);
                if recs.is_empty() || u64::from(page) >= pages {
                    break;
                }
                page += 1;
            }
            if !dry_run {
                store::set_scan_last_run(&core.store, &conn.id, "attachments", &scan_started)?;
            }
            Ok(())
        },
    )
}

/// Reprocesses pending and failed transfers that still have attempts left (`omie_attachment_retry`).
pub fn start_omie_attachment_retry(cx: &Arc<Ctx>, connection_id: &str) -> CoreResult<Job> {
    spawn_attachments(
        cx,
        "omie_attachment_retry",
        connection_id,
        json!({}),
        false,
        move |core, client, conn, ctx, settings, _| async move {
            let todo: Vec<PendingTransfer> = store::pending_transfers(&core.store, &conn.id)?;
            ctx.log_t(
                "info",
                "attachments.reprocessing",
                &[("count", todo.len().to_string())],
                &format!("{} transfers to reprocess", todo.len()),
            );
            let run = Run { core: &core, client: &client, conn: &conn, job: &ctx, settings, dry_run: false };
            for (ot, oid, dt, did, nf, path) in todo {
                let r = if ot == LOCAL_FILE {
                    match path {
                        Some(p) => run.upload(&dt, &did, &p).await,
                        None => continue,
                    }
                } else {
                    run.transfer_pair(&ot, &oid, &dt, &did, nf.as_deref(), true).await
                };
                if let Err(e) = r {
                    if matches!(e, CoreError::Cancelled) || OmieError::is_key_blocked(&e) {
                        return Err(e);
                    }
                    ctx.log_t(
                        "error",
                        "attachments.pair_failed",
                        &[
                            ("from_table", ot.to_string()),
                            ("from_record", oid.to_string()),
                            ("table", dt.to_string()),
                            ("record", did.to_string()),
                            ("error", e.to_string()),
                            ("error_json", e.to_api().to_stored()),
                            ("code", e.code().to_string()),
                        ],
                        &format!("{ot} {oid} → {dt} {did}: {e}"),
                    );
                    ctx.add_count("pairs_failed", 1);
                }
            }
            Ok(())
        },
    )
}

/// The NF-e number of a receipt already synced into the local store, if any.
pub fn omie_receipt_nf(cx: &Ctx, connection_id: &str, receipt_id: &str) -> Option<String> {
    store::receipt_nf(&cx.store, connection_id, receipt_id).ok().flatten()
}

/// Uploads a local file to a record (`omie_attachment_upload`).
pub fn start_omie_attachment_upload(cx: &Arc<Ctx>, connection_id: &str, req: OmieUploadRequest) -> CoreResult<Job> {
    check_table(&req.table)?;
    check_id("destination", &req.id)?;
    let content = match req.content_base64.as_deref() {
        Some(b64) => Some({
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|_| OmieError::Missing {
                what: "file".into(),
                fix: "The file could not be read; choose it again.".into(),
            })?
        }),
        None if req.file_path.trim().is_empty() => {
            return Err(OmieError::Missing { what: "file".into(), fix: "Choose the file to attach.".into() }.into())
        }
        None => None,
    };
    // The job's parameters name the file; its bytes are not stored in the jobs table.
    let params = serde_json::json!({
        "table": req.table, "id": req.id, "file_path": req.file_path, "file_name": req.file_name,
        "size": content.as_ref().map(Vec::len),
    });
    spawn_attachments(
        cx,
        "omie_attachment_upload",
        connection_id,
        params,
        false,
        move |core, client, conn, ctx, settings, _| async move {
            let run = Run { core: &core, client: &client, conn: &conn, job: &ctx, settings, dry_run: false };
            match content {
                Some(bytes) => {
                    let name = req.file_name.clone().unwrap_or_else(|| "attachment".into());
                    run.upload_bytes(&req.table, req.id.trim(), &name, bytes, None).await
                }
                None => run.upload(&req.table, req.id.trim(), &req.file_path).await,
            }
        },
    )
}

/// The transfer log, newest first (`status`: one of pending, processing, succeeded, failed).
pub fn omie_attachment_transfers(
    cx: &Ctx,
    connection_id: &str,
    status: Option<&str>,
    limit: u32,
) -> CoreResult<Vec<OmieAttachmentTransfer>> {
    store::transfers(&cx.store, connection_id, status, limit.clamp(1, 5000))
}

pub fn omie_attachment_transfer_detail(cx: &Ctx, transfer_id: &str) -> CoreResult<OmieTransferDetail> {
    store::transfer_detail(&cx.store, transfer_id)?
        .ok_or_else(|| CoreError::NotFound { what: format!("Attachment transfer {transfer_id}") })
}

/// The integration map: which origin went to which destination, with the NF number.
pub fn omie_attachment_map(cx: &Ctx, connection_id: &str) -> CoreResult<Vec<OmieAttachmentMapEntry>> {
    store::attachment_map(&cx.store, connection_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_and_packing() {
        assert_eq!(safe_name("nota.fiscal.pdf"), "nota_fiscal.pdf");
        assert_eq!(safe_name("NF-123.pdf"), "NF-123.pdf");
        assert_eq!(safe_name("../x/boleto.1.2.PDF"), "boleto_1_2.PDF");
        assert_eq!(safe_name(".pdf"), "anexo.pdf");
        let sha = sha256_hex(b"hello");
        let c = cod_int_anexo(&sha, "conta-pagar", "123");
        assert_eq!(c.len(), 20);
        assert_eq!(c, cod_int_anexo(&sha, "conta-pagar", "123"));
        assert_ne!(c, cod_int_anexo(&sha, "conta-pagar", "124"));
        let (b64, md5) = pack("a.pdf", b"%PDF data").unwrap();
        let zipped = base64::engine::general_purpose::STANDARD.decode(&b64).unwrap();
        assert_eq!(unpack("a.pdf", zipped, 1000).unwrap(), b"%PDF data");
        assert_eq!(md5.len(), 32);
        // A damaged zip is named as such; a too large entry is refused.
        assert_eq!(unpack("a.pdf", b"PK\x03\x04garbage".to_vec(), 1000).unwrap_err().code(), "omie_corrupt_zip");
        let (b64, _) = pack("big.pdf", &vec![7u8; 5000]).unwrap();
        let zipped = base64::engine::general_purpose::STANDARD.decode(&b64).unwrap();
        assert_eq!(unpack("big.pdf", zipped, 100).unwrap_err().code(), "omie_attachment_too_large");
        // A .zip attachment is kept as it is.
        let raw = b"PK\x03\x04whatever".to_vec();
        assert_eq!(unpack("docs.zip", raw.clone(), 1000).unwrap(), raw);
    }
}
