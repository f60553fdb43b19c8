//! Demo mode, the shell's half: the loopback simulators run inside the app process, and the core is
//! asked to point the demo connections at them. The simulators are the shell's dependency, never
//! the core's.

use std::sync::Arc;

use backoffice_core::model::{Connection, ConnectionKind, Credentials};
use backoffice_core::ops::demo::DemoConnection;
use backoffice_core::{Core, CoreError, CoreResult};
use backoffice_sim::{SimConfig, SimCredentials, SimHandle};
use tokio::sync::Mutex;

#[derive(Default)]
pub struct Demo {
    sim: Mutex<Option<SimHandle>>,
}

impl Demo {
    /// Whether the simulators run now.
    pub fn running(&self) -> bool {
        self.sim.try_lock().map(|g| g.is_some()).unwrap_or(true)
    }

    /// Starts the simulators (if not running) and creates or repoints the demo connections.
    pub async fn start(&self, core: &Arc<Core>) -> CoreResult<Vec<Connection>> {
        let mut guard = self.sim.lock().await;
        if guard.is_none() {
            let handle = backoffice_sim::start(SimConfig::default())
                .await
                .map_err(|e| CoreError::Internal(format!("could not start the demo simulators: {e}")))?;
            *guard = Some(handle);
        }
        let sim = guard.as_ref().expect("started above");
        let c = SimCredentials::default();
        let demo = |name: &str, kind, url: &str, key: &str, secret: &str| DemoConnection {
            name: name.to_string(),
            kind,
            base_url: url.to_string(),
            credentials: Credentials { key: key.to_string(), secret: secret.to_string() },
        };
        let wanted = vec![
            demo("Demo Omie", ConnectionKind::Omie, &sim.omie, &c.omie_app_key, &c.omie_app_secret),
            demo(
                "Demo Contífico",
                ConnectionKind::Contifico,
                &sim.contifico,
                &c.contifico_api_key,
                &c.contifico_pos_token,
            ),
            demo("Demo ERPNext A", ConnectionKind::Erpnext, &sim.erpnext_a, &c.erpnext_api_key, &c.erpnext_api_secret),
            demo("Demo ERPNext B", ConnectionKind::Erpnext, &sim.erpnext_b, &c.erpnext_api_key, &c.erpnext_api_secret),
        ];
        core.setup_demo_connections(wanted).await
    }

    /// The demo Omie company's contract book, written as the spreadsheet (CSV, semicolons, Brazilian
    /// numbers and dates) a user would import, into a temporary folder. None when the simulators
    /// do not run.
    pub async fn contracts_file(&self) -> Option<std::path::PathBuf> {
        let guard = self.sim.lock().await;
        let sim = guard.as_ref()?;
        let mut csv =
            String::from("CNPJ;Descrição;Valor mensal;Início;Dia de faturamento;Mês de reajuste;Reajuste %;Índice\n");
        for (e, doc) in sim.omie().contract_book() {
            let (rm, rp, idx) = match &e.readjust {
                Some((m, p)) => (m.to_string(), p.clone(), "IGP-M"),
                None => (String::new(), String::new(), ""),
            };
            csv.push_str(&format!(
                "{doc};{};{};{};{};{rm};{rp};{idx}\n",
                e.description,
                e.mrr.replace('.', ","),
                e.start.format("%d/%m/%Y"),
                e.billing_day
            ));
        }
        let dir = std::env::temp_dir().join(format!("backoffice-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let path = dir.join("contratos-demo.csv");
        std::fs::write(&path, csv).ok()?;
        Some(path)
    }

    /// At start-up: if demo connections exist, bring their simulators back (ports change every run).
    pub async fn resume_if_configured(&self, core: &Arc<Core>) -> CoreResult<()> {
        if core.has_demo_connections()? {
            self.start(core).await?;
        }
        Ok(())
    }
}
