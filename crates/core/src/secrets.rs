//! Credentials in the OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on
//! Windows) through the `keyring` crate. Nothing here ever logs or returns a secret in an error.

use crate::error::{CoreError, CoreResult};
use crate::model::Credentials;

/// Keychain service name; each connection is one entry, user `connection:<id>`.
pub const SERVICE: &str = "BackOffice";

/// Where connection credentials come from.
pub trait SecretStore: Send + Sync {
    fn get(&self, connection_id: &str) -> CoreResult<Option<Credentials>>;
    fn set(&self, connection_id: &str, creds: &Credentials) -> CoreResult<()>;
    fn delete(&self, connection_id: &str) -> CoreResult<()>;
    /// `Ok(())` when the store can be used now; otherwise a plain reason.
    fn check(&self) -> CoreResult<()>;
}

/// The OS keychain.
#[derive(Default, Clone)]
pub struct Keychain {
    /// Keeps tests and the demo apart from a user's real entries.
    pub service: Option<String>,
}

impl Keychain {
    fn entry(&self, user: &str) -> CoreResult<keyring::Entry> {
        keyring::Entry::new(self.service.as_deref().unwrap_or(SERVICE), user).map_err(map_err)
    }
}

fn map_err(e: keyring::Error) -> CoreError {
    // keyring's Display never includes the password; still, keep only the variant's text.
    let why = match &e {
        keyring::Error::NoStorageAccess(_) => "the keyring is locked or no Secret Service is running".to_string(),
        keyring::Error::PlatformFailure(_) => format!("the keychain failed: {e}"),
        other => other.to_string(),
    };
    CoreError::KeychainUnavailable(why)
}

impl SecretStore for Keychain {
    fn get(&self, connection_id: &str) -> CoreResult<Option<Credentials>> {
        match self.entry(&format!("connection:{connection_id}"))?.get_password() {
            Ok(s) => serde_json::from_str(&s).map(Some).map_err(|_| {
                CoreError::Internal("a keychain entry of BackOffice is not in the expected format".into())
            }),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    fn set(&self, connection_id: &str, creds: &Credentials) -> CoreResult<()> {
        let json = serde_json::to_string(creds).map_err(|e| CoreError::Internal(e.to_string()))?;
        self.entry(&format!("connection:{connection_id}"))?.set_password(&json).map_err(map_err)
    }

    fn delete(&self, connection_id: &str) -> CoreResult<()> {
        match self.entry(&format!("connection:{connection_id}"))?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }

    fn check(&self) -> CoreResult<()> {
        match self.entry("probe")?.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }
}

/// Credentials held in memory for this process only (from the environment), layered over another
/// store. Used by the CLI for headless runs: environment credentials are never written anywhere.
pub struct Overlay<S: SecretStore> {
    pub base: S,
    pub overrides: std::sync::Mutex<std::collections::HashMap<String, Credentials>>,
}

impl<S: SecretStore> Overlay<S> {
    pub fn new(base: S) -> Self {
        Overlay { base, overrides: Default::default() }
    }
    pub fn put(&self, connection_id: &str, creds: Credentials) {
        self.overrides.lock().unwrap_or_else(|p| p.into_inner()).insert(connection_id.to_string(), creds);
    }
}

impl<S: SecretStore> SecretStore for Overlay<S> {
    fn get(&self, connection_id: &str) -> CoreResult<Option<Credentials>> {
        if let Some(c) = self.overrides.lock().unwrap_or_else(|p| p.into_inner()).get(connection_id) {
            return Ok(Some(c.clone()));
        }
        self.base.get(connection_id)
    }
    fn set(&self, connection_id: &str, creds: &Credentials) -> CoreResult<()> {
        self.base.set(connection_id, creds)
    }
    fn delete(&self, connection_id: &str) -> CoreResult<()> {
        self.base.delete(connection_id)
    }
    fn check(&self) -> CoreResult<()> {
        self.base.check()
    }
}
