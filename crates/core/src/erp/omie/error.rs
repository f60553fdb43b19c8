//! Omie-specific failures. Each has a stable `code` for the UI and an English message that names
//! the record and the fix; none holds a secret.

use std::collections::BTreeMap;

#[derive(Debug, Clone, thiserror::Error)]
pub enum OmieError {
    #[error("Omie has blocked the app key of \"{connection}\" for misuse until {until} (about {} min from now). BackOffice stopped every call with this key; it can be used again after that time.", seconds.div_ceil(60))]
    KeyBlocked { connection: String, until: String, seconds: u64 },
    #[error("Omie asked \"{connection}\" to wait {seconds} s before calling {call} again, longer than BackOffice waits inside a job. Run it again later.")]
    MustWait { connection: String, call: String, seconds: u64 },
    #[error("\"{table}\" is not an Omie attachment table. Use one of: {allowed}.")]
    UnknownTable { table: String, allowed: String },
    #[error("The {what} is missing. {fix}")]
    Missing { what: String, fix: String },
    #[error("Omie has no {table} record with id {id} in \"{connection}\" (Omie said: {detail}). Check the id.")]
    RecordNotFound { connection: String, table: String, id: String, detail: String },
    #[error("The attachment \"{name}\" is {} MB, over the {} MB limit. Raise the limit in the Omie settings or attach a smaller file.", size.div_ceil(1024 * 1024), limit / (1024 * 1024))]
    TooLarge { name: String, size: u64, limit: u64 },
    #[error("The download link Omie gave for \"{name}\" expired {attempts} times in a row. Omie may be slow to serve it; retry the transfer later.")]
    LinkExpired { name: String, attempts: u32 },
    #[error("The attachment \"{name}\" downloaded from Omie is a damaged zip ({detail}). Open it in Omie to check it; it was not copied.")]
    CorruptZip { name: String, detail: String },
    #[error("The CNPJ/CPF \"{document}\" of Omie client {code} ({name}) has invalid check digits. Correct it in Omie; the client was stored but not linked to a local client record.")]
    InvalidTaxId { document: String, code: String, name: String },
    #[error("No closing operation is configured for purchase orders of \"{connection}\". Omie documents none: set the service path, call name, parameters and status value in the Omie settings (or OMIE_PO_CLOSE_ENDPOINT, OMIE_PO_CLOSE_CALL, OMIE_PO_CLOSE_STATUS).")]
    PoCloseNotConfigured { connection: String },
    #[error("The configured call {call} answered, but purchase order {order} is still open (stage {stage}, status {status}): the configured call did not close it. Check the call name, its parameters and the status value \"{status_value}\" in the Omie settings.")]
    PoNotClosed { order: String, call: String, stage: String, status: String, status_value: String },
    #[error("Purchase order {order} was not found in \"{connection}\" (Omie said: {detail}). Check the order number.")]
    PoNotFound { order: String, connection: String, detail: String },
    #[error("The parameter template of the closing call is not valid JSON ({detail}). Fix it in the Omie settings.")]
    BadTemplate { detail: String },
    #[error("The file {path} could not be read ({detail}). Check the path and its permissions.")]
    File { path: String, detail: String },
}

impl OmieError {
    pub fn code(&self) -> &'static str {
        match self {
            OmieError::KeyBlocked { .. } => "omie_key_blocked",
            OmieError::MustWait { .. } => "omie_must_wait",
            OmieError::UnknownTable { .. } => "omie_unknown_table",
            OmieError::Missing { .. } => "omie_missing_input",
            OmieError::RecordNotFound { .. } => "omie_record_not_found",
            OmieError::TooLarge { .. } => "omie_attachment_too_large",
            OmieError::LinkExpired { .. } => "omie_link_expired",
            OmieError::CorruptZip { .. } => "omie_corrupt_zip",
            OmieError::InvalidTaxId { .. } => "omie_invalid_tax_id",
            OmieError::PoCloseNotConfigured { .. } => "omie_po_close_not_configured",
            OmieError::PoNotClosed { .. } => "omie_po_not_closed",
            OmieError::PoNotFound { .. } => "omie_po_not_found",
            OmieError::BadTemplate { .. } => "omie_bad_template",
            OmieError::File { .. } => "omie_file",
        }
    }

    /// Values the UI's translated text interpolates.
    pub fn params(&self) -> BTreeMap<String, String> {
        let mut p = BTreeMap::new();
        let mut put = |k: &str, v: &dyn ToString| {
            p.insert(k.to_string(), v.to_string());
        };
        match self {
            OmieError::KeyBlocked { connection, until, seconds } => {
                put("connection", connection);
                put("until", until);
                put("seconds", seconds);
            }
            OmieError::MustWait { connection, call, seconds } => {
                put("connection", connection);
                put("call", call);
                put("seconds", seconds);
            }
            OmieError::UnknownTable { table, allowed } => {
                put("table", table);
                put("allowed", allowed);
            }
            OmieError::Missing { what, fix } => {
                put("what", what);
                put("fix", fix);
            }
            OmieError::RecordNotFound { connection, table, id, detail } => {
                put("connection", connection);
                put("table", table);
                put("id", id);
                put("remote_message", detail);
            }
            OmieError::TooLarge { name, size, limit } => {
                put("name", name);
                put("size", size);
                put("limit", limit);
            }
            OmieError::LinkExpired { name, attempts } => {
                put("name", name);
                put("attempts", attempts);
            }
            OmieError::CorruptZip { name, detail } => {
                put("name", name);
                put("detail", detail);
            }
            OmieError::InvalidTaxId { document, code, name } => {
                put("document", document);
                put("code", code);
                put("name", name);
            }
            OmieError::PoCloseNotConfigured { connection } => put("connection", connection),
            OmieError::PoNotClosed { order, call, stage, status, status_value } => {
                put("order", order);
                put("call", call);
                put("stage", stage);
                put("status", status);
                put("status_value", status_value);
            }
            OmieError::PoNotFound { order, connection, detail } => {
                put("order", order);
                put("connection", connection);
                put("remote_message", detail);
            }
            OmieError::BadTemplate { detail } => put("detail", detail),
            OmieError::File { path, detail } => {
                put("path", path);
                put("detail", detail);
            }
        }
        p
    }
}

impl crate::error::FeatureError for OmieError {
    fn code(&self) -> &'static str {
        OmieError::code(self)
    }
    fn params(&self) -> Vec<(String, String)> {
        OmieError::params(self).into_iter().collect()
    }
    fn stops_the_run(&self) -> bool {
        matches!(self, OmieError::KeyBlocked { .. })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl From<OmieError> for crate::error::CoreError {
    fn from(e: OmieError) -> Self {
        crate::error::CoreError::Feature(Box::new(e))
    }
}

impl OmieError {
    /// Whether `e` is Omie's block of the key (every call with it fails until the time Omie names).
    pub fn is_key_blocked(e: &crate::error::CoreError) -> bool {
        matches!(e.feature::<OmieError>(), Some(OmieError::KeyBlocked { .. }))
    }
}
