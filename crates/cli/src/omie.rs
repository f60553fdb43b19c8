//! `backoffice omie ...` and `backoffice sync omie`: attachments (RF-001), purchase orders (RF-002),
//! the transfer and closure logs, and the rate benchmark (`backoffice bench omie-rate`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use backoffice_core::erp::omie::attachments::{OmieTransferRequest, OmieUploadRequest};
use backoffice_core::erp::omie::client::OmieClient;
use backoffice_core::erp::omie::limiter::{Clock, Limiter, OmieLimits, SimClock};
use backoffice_core::erp::omie::po_close::{OmieCloseRequest, OmiePoCloseConfig};
use backoffice_core::erp::omie::sync::OmieScanOptions;
use backoffice_core::erp::omie::OmieError;
use backoffice_core::model::{Connection, ConnectionKind, Credentials, Job};
use backoffice_core::CoreError;
use clap::Subcommand;
use serde_json::{json, Value};

use crate::Ctx;

#[derive(Subcommand)]
pub enum OmieCmd {
    /// Copy attachments from one record to another (default: NF-e receipt → payable), or scan
    /// receipts changed since the last run and copy what is missing
    TransferAttachments {
        #[arg(long)]
        connection: Option<String>,
        /// Origin table (default: the configured source, com-recebimento)
        #[arg(long)]
        from_table: Option<String>,
        #[arg(long)]
        from_id: Option<String>,
        /// Destination table (default: the configured destination, conta-pagar)
        #[arg(long)]
        to_table: Option<String>,
        #[arg(long)]
        to_id: Option<String>,
        /// Scan receipts changed since the last run (or --since) instead of one pair
        #[arg(long, conflicts_with_all = ["from_id", "to_id"])]
        scan: bool,
        #[arg(long, requires = "scan")]
        since: Option<String>,
        /// Only show what would be copied
        #[arg(long)]
        dry_run: bool,
    },
    /// Reprocess pending and failed attachment transfers that have attempts left
    RetryPending {
        #[arg(long)]
        connection: Option<String>,
    },
    /// Attach a local file to an Omie record
    UploadAttachment {
        #[arg(long)]
        connection: Option<String>,
        #[arg(long)]
        table: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        file: String,
    },
    /// Close a purchase order whose service invoice was posted, or scan payables for such orders.
    /// The closing call comes from the Omie settings, overridden by OMIE_PO_CLOSE_ENDPOINT,
    /// OMIE_PO_CLOSE_CALL, OMIE_PO_CLOSE_STATUS (and OMIE_PO_CLOSE_TEMPLATE)
    ClosePurchaseOrder {
        #[arg(long)]
        connection: Option<String>,
        /// Order number (cNumero)
        #[arg(long)]
        order: Option<String>,
        #[arg(long, requires = "order")]
        item: Option<String>,
        /// Service invoice number
        #[arg(long, requires = "order")]
        service_invoice: Option<String>,
        /// Service invoice id
        #[arg(long, requires = "order")]
        service_invoice_id: Option<String>,
        #[arg(long, conflicts_with = "order")]
        scan: bool,
        #[arg(long, requires = "scan")]
        since: Option<String>,
        /// Reprocess failed closures that have attempts left
        #[arg(long, conflicts_with_all = ["order", "scan"])]
        retry_failed: bool,
        #[arg(long)]
        dry_run: bool,
    },
    /// The attachment transfer log
    Transfers {
        #[arg(long)]
        connection: Option<String>,
        /// pending, processing, succeeded or failed
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// The purchase-order closure log
    Closures {
        #[arg(long)]
        connection: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Synced resources, whether the app key is blocked, local client records
    Status {
        #[arg(long)]
        connection: Option<String>,
    },
}

/// The connection an Omie command works on: `--connection NAME`; else OMIE_APP_KEY /
/// OMIE_APP_SECRET / OMIE_API_BASE_URL (credentials kept in memory only); else the only Omie
/// connection stored.
pub fn resolve_omie(ctx: &Ctx, name: Option<&str>) -> Result<Connection> {
    let conns = ctx.core.connections();
    if let Some(n) = name {
        return Ok(conns.find_by_name(n)?);
    }
    if let Ok(key) = std::env::var("OMIE_APP_KEY") {
        if !key.is_empty() {
            let base = std::env::var("OMIE_API_BASE_URL").unwrap_or_default();
            let conn = conns.ensure_headless("Omie (environment)", ConnectionKind::Omie, &base)?;
            let secret = std::env::var("OMIE_APP_SECRET").unwrap_or_default();
            ctx.secrets.put(&conn.id, Credentials { key, secret });
            return Ok(conn);
        }
    }
    let all: Vec<Connection> = conns.list()?.into_iter().filter(|c| c.kind == ConnectionKind::Omie).collect();
    match all.len() {
        1 => Ok(all.into_iter().next().expect("one")),
        0 => Err(CoreError::invalid(
            "connection",
            "No Omie connection is configured. Add one in the app, with `backoffice connections add`, or set OMIE_APP_KEY and OMIE_APP_SECRET.",
        )
        .into()),
        _ => Err(CoreError::invalid(
            "connection",
            format!(
                "Several Omie connections exist; choose one with --connection ({})",
                all.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )
        .into()),
    }
}

/// Follows a job; a dry run also prints its preview (one JSON object `{job, preview}` with --json).
async fn follow(ctx: &Ctx, job: Job, dry_run: bool) -> Result<i32> {
    if !dry_run {
        return crate::output::follow_job(ctx, &job.id).await;
    }
    let mut j = job;
    while j.status.is_active() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        j = ctx.core.jobs.get(&j.id)?;
    }
    let preview = ctx.core.omie_preview(&j.id)?;
    let code = if j.status == backoffice_core::model::JobStatus::Succeeded { 0 } else { 1 };
    if ctx.json {
        println!("{}", json!({"job": j, "preview": preview}));
    } else {
        println!("dry run ({}): nothing was changed in Omie", j.status.as_str());
        for p in &preview {
            println!("{:<15} {:<40} → {:<30} {}", p.action, p.origin, p.destination, p.detail);
        }
        if preview.is_empty() {
            println!("nothing to do");
        }
        if let Some(e) = &j.error {
            eprintln!("error: {}", e.message);
        }
    }
    Ok(code)
}

fn print<T: serde::Serialize>(json: bool, v: &T) {
    if json {
        println!("{}", serde_json::to_string(v).unwrap_or_default());
    } else {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    }
}

pub async fn run(ctx: &Ctx, cmd: OmieCmd) -> Result<i32> {
    match cmd {
        OmieCmd::TransferAttachments { connection, from_table, from_id, to_table, to_id, scan, since, dry_run } => {
            let conn = resolve_omie(ctx, connection.as_deref())?;
            if scan {
                let job = ctx.core.start_omie_attachment_scan(&conn.id, OmieScanOptions { since, dry_run })?;
                return follow(ctx, job, dry_run).await;
            }
            let settings = ctx.core.omie_attachment_settings(&conn.id)?;
            let missing = |what: &str, flag: &str| {
                CoreError::from(OmieError::Missing {
                    what: format!("{what} id"),
                    fix: format!("Give it with {flag} N, or use --scan."),
                })
            };
            let req = OmieTransferRequest {
                from_table: from_table.unwrap_or(settings.source_table),
                from_id: from_id.ok_or_else(|| missing("origin", "--from-id"))?,
                to_table: to_table.unwrap_or(settings.dest_table),
                to_id: to_id.ok_or_else(|| missing("destination", "--to-id"))?,
                dry_run,
            };
            let job = ctx.core.start_omie_attachment_transfer(&conn.id, req)?;
            follow(ctx, job, dry_run).await
        }
        OmieCmd::RetryPending { connection } => {
            let conn = resolve_omie(ctx, connection.as_deref())?;
            let job = ctx.core.start_omie_attachment_retry(&conn.id)?;
            crate::output::follow_job(ctx, &job.id).await
        }
        OmieCmd::UploadAttachment { connection, table, id, file } => {
            let conn = resolve_omie(ctx, connection.as_deref())?;
            let job = ctx.core.start_omie_attachment_upload(
                &conn.id,
                OmieUploadRequest { table, id, file_path: file, file_name: None, content_base64: None },
            )?;
            crate::output::follow_job(ctx, &job.id).await
        }
        OmieCmd::ClosePurchaseOrder {
            connection,
            order,
            item,
            service_invoice,
            service_invoice_id,
            scan,
            since,
            retry_failed,
            dry_run,
        } => {
            let conn = resolve_omie(ctx, connection.as_deref())?;
            let cfg: OmiePoCloseConfig = ctx.core.omie_po_close_config(&conn.id)?.with_env();
            let job = if retry_failed {
                ctx.core.start_omie_po_close_retry(&conn.id, Some(cfg))?
            } else if scan {
                ctx.core.start_omie_po_close_scan(&conn.id, OmieScanOptions { since, dry_run }, Some(cfg))?
            } else {
                let order = order.ok_or_else(|| {
                    CoreError::from(OmieError::Missing {
                        what: "order number".into(),
                        fix: "Give it with --order NUM, or use --scan.".into(),
                    })
                })?;
                let req = OmieCloseRequest {
                    order_number: order,
                    item,
                    service_invoice_number: service_invoice,
                    service_invoice_id,
                    dry_run,
                };
                ctx.core.start_omie_po_close(&conn.id, req, Some(cfg))?
            };
            follow(ctx, job, dry_run).await
        }
        OmieCmd::Transfers { connection, status, limit } => {
            let conn = resolve_omie(ctx, connection.as_deref())?;
            print(ctx.json, &ctx.core.omie_attachment_transfers(&conn.id, status.as_deref(), limit)?);
            Ok(0)
        }
        OmieCmd::Closures { connection, status, limit } => {
            let conn = resolve_omie(ctx, connection.as_deref())?;
            print(ctx.json, &ctx.core.omie_po_closures(&conn.id, status.as_deref(), limit)?);
            Ok(0)
        }
        OmieCmd::Status { connection } => {
            let conn = resolve_omie(ctx, connection.as_deref())?;
            let v = json!({
                "connection": conn.name,
                "key": ctx.core.omie_key_status(&conn.id)?,
                "resources": ctx.core.sync_summary(&conn.id)?,
                "local_clients": ctx.core.omie_local_clients(&conn.id)?.len(),
            });
            print(ctx.json, &v);
            Ok(0)
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The rate benchmark.

/// One scenario's figures.
struct Figures {
    ok: u64,
    other_faults: u64,
    sim_admitted: u64,
    sim_rate_faults: u64,
    sim_blocks: u64,
    wall: f64,
}

/// Methods with a parameter that differs on every call (no call repeats within the redundancy window).
fn workload(sim: &backoffice_sim::SimHandle, method: usize, i: u64) -> (&'static str, &'static str, Value) {
    use backoffice_sim::omie::Kind;
    let o = sim.omie();
    match method % 5 {
        0 => (
            "geral/clientes/",
            "ConsultarCliente",
            json!({"codigo_cliente_omie": o.id_of(Kind::Client, i % o.count(Kind::Client))}),
        ),
        1 => (
            "financas/contapagar/",
            "ConsultarContaPagar",
            json!({"codigo_lancamento_omie": o.id_of(Kind::Payable, i % o.count(Kind::Payable))}),
        ),
        2 => (
            "financas/contareceber/",
            "ConsultarContaReceber",
            json!({"codigo_lancamento_omie": o.id_of(Kind::Receivable, i % o.count(Kind::Receivable))}),
        ),
        3 => (
            "produtos/recebimentonfe/",
            "ConsultarRecebimento",
            json!({"nIdReceb": o.id_of(Kind::Receipt, i % o.count(Kind::Receipt))}),
        ),
        _ => (
            "produtos/pedidocompra/",
            "ConsultarPedCompra",
            json!({"nCodPed": o.id_of(Kind::Order, i % o.count(Kind::Order))}),
        ),
    }
}

async fn scenario(methods: usize, workers: usize, limited: bool, span: Duration, latency: Duration) -> Result<Figures> {
    let sim = Arc::new(
        backoffice_sim::start(backoffice_sim::SimConfig { scale: 2000, seed: 11, ..Default::default() }).await?,
    );
    let clock = SimClock::new();
    let c2 = clock.clone();
    sim.omie().set_time_source(Arc::new(move || c2.now()));
    let creds = backoffice_sim::SimCredentials::default();
    let creds = Credentials { key: creds.omie_app_key, secret: creds.omie_app_secret };
    let limits = OmieLimits { simulated_latency: latency, ..OmieLimits::default() };
    let dyn_clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let limiter = Limiter::new(limits, dyn_clock);
    let http = backoffice_core::http::Http::new(Duration::from_secs(30))?;
    let client = OmieClient::with_limiter(http.clone(), &sim.omie, "Bench", &creds, limiter);
    let counters: Arc<Vec<AtomicU64>> = Arc::new((0..methods).map(|_| AtomicU64::new(0)).collect());
    let ok = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let mut tasks = vec![];
    for m in 0..methods {
        for _ in 0..workers {
            // Registered before any worker runs, so time cannot move until all of them wait.
            let guard = clock.participant();
            let (sim, clock, client, http, counters, ok, bad, creds) = (
                sim.clone(),
                clock.clone(),
                client.clone(),
                http.clone(),
                counters.clone(),
                ok.clone(),
                bad.clone(),
                creds.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let _guard = guard;
                while clock.now() < span {
                    let i = counters[m].fetch_add(1, Ordering::Relaxed);
                    let (svc, call, param) = workload(&sim, m, i);
                    let good = if limited {
                        let good = matches!(client.call(svc, call, param).await, Ok(Ok(_)));
                        if !good {
                            // Never spin without letting time move.
                            let until = clock.now() + latency.max(Duration::from_millis(1));
                            clock.sleep_until(until).await;
                        }
                        good
                    } else {
                        // The naive client: send at once, no limits, no waiting on faults.
                        let body =
                            json!({"call": call, "app_key": creds.key, "app_secret": creds.secret, "param": [param]});
                        let r = http.client.post(format!("{}{svc}", sim.omie)).json(&body).send().await;
                        let good = matches!(&r, Ok(resp) if resp.status().is_success());
                        if let Ok(resp) = r {
                            let _ = resp.bytes().await;
                        }
                        let until = clock.now() + latency;
                        clock.sleep_until(until).await;
                        good
                    };
                    // Count what was sent within the measured span (its answer comes one latency later).
                    if clock.now().saturating_sub(latency) < span {
                        if good { &ok } else { &bad }.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
    }
    for t in tasks {
        t.await?;
    }
    let st = sim.omie().limit_stats();
    let f = Figures {
        ok: ok.load(Ordering::Relaxed),
        other_faults: bad.load(Ordering::Relaxed),
        sim_admitted: st.admitted,
        sim_rate_faults: st.rate_faults(),
        sim_blocks: st.blocks,
        wall: t.elapsed().as_secs_f64(),
    };
    if let Ok(s) = Arc::try_unwrap(sim) {
        s.shutdown().await;
    }
    Ok(f)
}

/// `backoffice bench omie-rate`: the rate-safe client against a simulator that enforces Omie's
/// limits, on simulated time, next to a naive client measured in the same run.
pub async fn bench_rate(minutes: u64, latency_ms: u64, workers: usize) -> Result<i32> {
    let span = Duration::from_secs(minutes * 60);
    let latency = Duration::from_millis(latency_ms);
    println!(
        "bench omie-rate: {minutes} min of simulated time, {latency_ms} ms simulated latency, {workers} workers per method"
    );
    println!(
        "{:<34} {:>9} {:>10} {:>9} {:>10} {:>12} {:>7} {:>7}",
        "scenario", "answered", "per min", "allowed", "of limit", "rate faults", "blocks", "wall s"
    );
    let mut worst: f64 = 100.0;
    let mut faults = 0;
    for (label, methods) in [("1 key, 1 method", 1usize), ("1 key, 5 methods (IP limit)", 5)] {
        let allowed = (240 * methods as u64).min(960);
        for limited in [true, false] {
            let f = scenario(methods, workers, limited, span, latency).await?;
            let per_min = f.ok as f64 / minutes as f64;
            let pct = 100.0 * per_min / allowed as f64;
            let name = format!("{label}, {}", if limited { "BackOffice" } else { "naive (baseline)" });
            println!(
                "{:<34} {:>9} {:>10.1} {:>9} {:>9.1}% {:>12} {:>7} {:>7.2}",
                name, f.ok, per_min, allowed, pct, f.sim_rate_faults, f.sim_blocks, f.wall
            );
            if limited {
                worst = worst.min(pct);
                faults += f.sim_rate_faults + f.other_faults;
                let _ = f.sim_admitted;
            }
        }
    }
    println!("answered: calls answered with data; allowed: Omie's documented limit per minute (240 per key + method, 960 per IP).");
    println!(
        "rate faults: 429, Client-1880, Client-6 and 425 answers the simulator gave; blocks: misuse blocks it imposed."
    );
    println!("BackOffice: lowest share of the limit {worst:.1}%, rate faults {faults}");
    Ok(if worst >= 95.0 && faults == 0 { 0 } else { 1 })
}
