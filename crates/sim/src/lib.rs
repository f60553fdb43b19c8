//! Loopback HTTP simulators of the ERPs BackOffice talks to: Omie (Brazil),
//! Contífico (Ecuador) and two ERPNext sites. Each runs on its own ephemeral port
//! on 127.0.0.1, follows the wire formats of the reference sheets in
//! `shared/reference/`, keeps state, and can inject latency and faults.
//!
//! Used by tests, by the app's demo mode (in-process) and by benchmarks.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let sim = backoffice_sim::start(backoffice_sim::SimConfig::default()).await?;
//! println!("{}", sim.urls_json());
//! sim.contifico().mutate(5.0);
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
#![recursion_limit = "256"]

pub mod contifico;
pub mod erpnext;
pub mod omie;
pub mod relay;
mod server;
pub mod smtp;
pub mod util;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use contifico::{ContificoControl, MutationReport, Resource};
pub use server::{Flavor, ServerControl};

/// Credentials the simulators accept. The defaults are made-up demo values.
#[derive(Clone, Debug)]
pub struct SimCredentials {
    pub omie_app_key: String,
    pub omie_app_secret: String,
    pub contifico_api_key: String,
    /// Contífico's second credential ("API Token del POS"); it goes in write bodies
    /// (`pos`) and in `?pos=` on persona writes, never in a header.
    pub contifico_pos_token: String,
    pub erpnext_api_key: String,
    pub erpnext_api_secret: String,
    /// Password of each ERPNext site's API user (`cmd=login`, `usr` = the site's user).
    pub erpnext_password: String,
}

impl Default for SimCredentials {
    fn default() -> Self {
        SimCredentials {
            omie_app_key: "demo-omie-key".into(),
            omie_app_secret: "demo-omie-secret".into(),
            contifico_api_key: "demo-contifico-key".into(),
            contifico_pos_token: "00000000-0000-4000-8000-000000000de0".into(),
            erpnext_api_key: "demo-erpnext-key".into(),
            erpnext_api_secret: "demo-erpnext-secret".into(),
            erpnext_password: "demo-erpnext-password".into(),
        }
    }
}

/// Random faults, each a probability in `0..=1` drawn per request from a seeded RNG.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Answer HTTP 500 (in the ERP's own 500 shape).
    pub fail_rate: f64,
    /// Answer HTTP 429 with `Retry-After: 1`.
    pub rate_limit_rate: f64,
    /// Answer 200 with a truncated (unparseable) JSON body.
    pub malformed_rate: f64,
    /// Close the connection with an RST and no response.
    pub reset_rate: f64,
    /// Extra random delay in `0..latency_jitter_ms` on top of the fixed latency.
    pub latency_jitter_ms: u64,
    /// Probability that a request is slow, and by how much (timeouts testing).
    pub slow_rate: f64,
    pub slow_ms: u64,
}

/// Simulator configuration.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    /// Records per resource.
    pub scale: u64,
    /// Fixed delay added to every API request.
    pub latency_ms: u64,
    pub faults: Faults,
    pub credentials: SimCredentials,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            scale: 50,
            latency_ms: 0,
            faults: Faults::default(),
            credentials: SimCredentials::default(),
        }
    }
}

/// The running simulators. Base URLs are what a client puts in its "base URL"
/// setting.
pub struct SimHandle {
    /// `http://127.0.0.1:PORT/api/v1/`
    pub omie: String,
    /// `http://127.0.0.1:PORT/sistema/api/v1/` (v2 under `/sistema/api/v2/`)
    pub contifico: String,
    /// `http://127.0.0.1:PORT` (Frappe site root)
    pub erpnext_a: String,
    /// `http://127.0.0.1:PORT` (Frappe site root)
    pub erpnext_b: String,
    contifico_ctl: ContificoControl,
    omie_ctl: ServerControl,
    omie_sim: omie::OmieControl,
    erpnext_a_ctl: ServerControl,
    erpnext_b_ctl: ServerControl,
    erpnext_a_site: erpnext::ErpnextControl,
    erpnext_b_site: erpnext::ErpnextControl,
    servers: Vec<server::Running>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("omie", &self.omie)
            .field("contifico", &self.contifico)
            .field("erpnext_a", &self.erpnext_a)
            .field("erpnext_b", &self.erpnext_b)
            .finish()
    }
}

/// Start every simulator on its own ephemeral loopback port.
pub async fn start(cfg: SimConfig) -> anyhow::Result<SimHandle> {
    let creds = cfg.credentials.clone();
    let ctl =
        |flavor, salt: u64| ServerControl::new(flavor, cfg.faults.clone(), cfg.latency_ms, cfg.seed.wrapping_add(salt));

    let omie_ctl = ctl(Flavor::Omie, 1);
    let (omie_router, omie_sim) = omie::build(cfg.seed, cfg.scale, &creds, omie_ctl.clone());
    let omie_srv = server::serve(omie_router).await?;
    omie_sim.set_base_url(&format!("http://{}/", omie_srv.addr));

    let contifico_server = ctl(Flavor::Contifico, 2);
    let (cont_router, contifico_ctl) =
        contifico::build(cfg.seed, cfg.scale, creds.contifico_api_key.clone(), contifico_server);
    let cont_srv = server::serve(cont_router).await?;

    let erpnext_a_ctl = ctl(Flavor::Erpnext, 3);
    let (a_router, erpnext_a_site) = erpnext::build(erpnext::Site::A, cfg.scale, &creds, erpnext_a_ctl.clone());
    let a_srv = server::serve(a_router).await?;

    let erpnext_b_ctl = ctl(Flavor::Erpnext, 4);
    let (b_router, erpnext_b_site) = erpnext::build(erpnext::Site::B, cfg.scale, &creds, erpnext_b_ctl.clone());
    let b_srv = server::serve(b_router).await?;

    Ok(SimHandle {
        omie: format!("http://{}/api/v1/", omie_srv.addr),
        contifico: format!("http://{}/sistema/api/v1/", cont_srv.addr),
        erpnext_a: format!("http://{}", a_srv.addr),
        erpnext_b: format!("http://{}", b_srv.addr),
        contifico_ctl,
        omie_ctl,
        omie_sim,
        erpnext_a_ctl,
        erpnext_b_ctl,
        erpnext_a_site,
        erpnext_b_site,
        servers: vec![omie_srv, cont_srv, a_srv, b_srv],
    })
}

impl SimHandle {
    /// `{"omie": "...", "contifico": "...", "erpnext_a": "...", "erpnext_b": "..."}`
    pub fn urls_json(&self) -> Value {
        json!({
            "omie": self.omie,
            "contifico": self.contifico,
            "erpnext_a": self.erpnext_a,
            "erpnext_b": self.erpnext_b,
        })
    }

    /// Stop accepting, drop open connections and wait for the servers to end.
    pub async fn shutdown(self) {
        for s in self.servers {
            s.shutdown().await;
        }
    }

    pub fn contifico(&self) -> &ContificoControl {
        &self.contifico_ctl
    }

    /// The Contífico v2 base URL (`http://127.0.0.1:PORT/sistema/api/v2/`).
    pub fn contifico_v2(&self) -> String {
        self.contifico.replace("/api/v1/", "/api/v2/")
    }

    pub fn omie_control(&self) -> &ServerControl {
        &self.omie_ctl
    }

    /// The Omie simulator's own controls: limits, clock, records, attachments, orders.
    pub fn omie(&self) -> &omie::OmieControl {
        &self.omie_sim
    }

    pub fn erpnext_a_control(&self) -> &ServerControl {
        &self.erpnext_a_ctl
    }

    pub fn erpnext_b_control(&self) -> &ServerControl {
        &self.erpnext_b_ctl
    }

    /// Documents and per-DocType faults of ERPNext site A.
    pub fn erpnext_a(&self) -> &erpnext::ErpnextControl {
        &self.erpnext_a_site
    }

    /// Documents and per-DocType faults of ERPNext site B.
    pub fn erpnext_b(&self) -> &erpnext::ErpnextControl {
        &self.erpnext_b_site
    }
}
