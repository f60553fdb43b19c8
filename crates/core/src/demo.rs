//! Demo mode: the loopback simulators started in-process, with demo connections pointing at them.
//! The demo credentials still go through the keychain, like real ones.

use std::sync::Arc;

use backoffice_sim::{SimConfig, SimCredentials};

use crate::error::CoreResult;
use crate::model::{Connection, ConnectionInput, ConnectionKind, Credentials};
use crate::Core;

impl Core {
    /// Starts the simulators (if not running) and creates or repoints the demo connections.
    pub async fn start_demo(self: &Arc<Self>) -> CoreResult<Vec<Connection>> {
        let mut guard = self.demo.lock().await;
        if guard.is_none() {
            let handle = backoffice_sim::start(SimConfig::default())
                .await
                .map_err(|e| crate::CoreError::Internal(format!("could not start the demo simulators: {e}")))?;
            *guard = Some(handle);
        }
        let sim = guard.as_ref().expect("started above");
        let c = SimCredentials::default();
        let wanted = [
            ("Demo Omie", ConnectionKind::Omie, sim.omie.clone(), c.omie_app_key.clone(), c.omie_app_secret.clone()),
            (
                "Demo Contífico",
                ConnectionKind::Contifico,
                sim.contifico.clone(),
                c.contifico_api_key.clone(),
                c.contifico_pos_token.clone(),
            ),
            (
                "Demo ERPNext A",
                ConnectionKind::Erpnext,
                sim.erpnext_a.clone(),
                c.erpnext_api_key.clone(),
                c.erpnext_api_secret.clone(),
            ),
            (
                "Demo ERPNext B",
                ConnectionKind::Erpnext,
                sim.erpnext_b.clone(),
                c.erpnext_api_key.clone(),
                c.erpnext_api_secret.clone(),
            ),
        ];
        let mut out = Vec::new();
        for (name, kind, url, key, secret) in wanted {
            let input = ConnectionInput {
                name: name.to_string(),
                kind,
                base_url: url,
                timezone: kind.default_timezone().to_string(),
                credentials: Some(Credentials { key, secret }),
            };
            let conn = match self.connections().find_by_name(name) {
                Ok(existing) if existing.is_demo => self.connections().update(&existing.id, &input)?,
                Ok(existing) => existing,
                Err(_) => self.connections().create(&input, true)?,
            };
            out.push(conn);
        }
        // The demo ERPNext sites get the idempotency field the transfer workflow needs, so the
        // ERPNext page works at once (a real site is offered the same, with an explanation).
        for c in out.iter().filter(|c| c.kind == ConnectionKind::Erpnext) {
            if let Err(e) = self.erpnext_ensure_field(&c.id).await {
                tracing::warn!(connection = %c.name, error = %e, "could not prepare the demo ERPNext site");
            }
            if let Ok(creds) = self.connections().credentials(c) {
                let client = crate::clients::erpnext::ErpnextClient::new(self.http.clone(), c, &creds);
                self.erpnext_site_zone(c, &client).await;
            }
        }
        // Re-read: the ERPNext sites have said their time zones meanwhile.
        Ok(out.into_iter().map(|c| self.connections().get(&c.id).unwrap_or(c)).collect())
    }

    /// At start-up: if demo connections exist, bring their simulators back (ports change every run).
    pub async fn resume_demo_if_configured(self: &Arc<Self>) -> CoreResult<()> {
        if self.connections().list()?.iter().any(|c| c.is_demo) {
            self.start_demo().await?;
        }
        Ok(())
    }

    pub async fn stop_demo(&self) {
        if let Some(h) = self.demo.lock().await.take() {
            h.shutdown().await;
        }
    }
}
