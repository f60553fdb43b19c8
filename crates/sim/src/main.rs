//! `backoffice-sim`: start every simulator, print one JSON line with the base URLs,
//! run until Ctrl-C / SIGTERM.

use std::time::Duration;

use backoffice_sim::{start, Faults, SimConfig};
use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "backoffice-sim", version, about = "Loopback simulators of the Omie, Contífico and ERPNext APIs")]
struct Args {
    /// Seed of all generated data and fault rolls.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Records per resource.
    #[arg(long, default_value_t = 50)]
    scale: u64,
    /// Fixed delay added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Probability (0..1) that a request is answered with HTTP 500.
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Probability (0..1) that a request is answered with HTTP 429 + Retry-After: 1.
    #[arg(long, default_value_t = 0.0)]
    rate_limit_rate: f64,
    /// Probability (0..1) that a request is answered 200 with broken JSON.
    #[arg(long, default_value_t = 0.0)]
    malformed_rate: f64,
    /// Probability (0..1) that the connection is reset without a response.
    #[arg(long, default_value_t = 0.0)]
    reset_rate: f64,
    /// Mutate this percentage of Contífico records once after start.
    #[arg(long)]
    mutate_pct: Option<f64>,
    /// Repeat the Contífico mutation every N seconds (needs --mutate-pct).
    #[arg(long)]
    mutate_every_secs: Option<u64>,
}

fn check_rate(name: &str, v: f64) -> anyhow::Result<()> {
    anyhow::ensure!((0.0..=1.0).contains(&v), "--{name} must be within 0..1");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    check_rate("fail-rate", args.fail_rate)?;
    check_rate("rate-limit-rate", args.rate_limit_rate)?;
    check_rate("malformed-rate", args.malformed_rate)?;
    check_rate("reset-rate", args.reset_rate)?;
    let cfg = SimConfig {
        seed: args.seed,
        scale: args.scale,
        latency_ms: args.latency_ms,
        faults: Faults {
            fail_rate: args.fail_rate,
            rate_limit_rate: args.rate_limit_rate,
            malformed_rate: args.malformed_rate,
            reset_rate: args.reset_rate,
            ..Faults::default()
        },
        ..SimConfig::default()
    };
    // Install the handlers before announcing the URLs, so a SIGTERM sent right after
    // the JSON line is seen as a shutdown request rather than killing the process.
    let stop = Shutdown::install()?;
    let sim = start(cfg).await?;
    if let Some(pct) = args.mutate_pct {
        sim.contifico().mutate(pct);
    }
    println!("{}", sim.urls_json());

    let ticker = match (args.mutate_pct, args.mutate_every_secs) {
        (Some(pct), Some(secs)) if secs > 0 => {
            let ctl = sim.contifico().clone();
            Some(tokio::spawn(async move {
                let mut iv = tokio::time::interval(Duration::from_secs(secs));
                iv.tick().await;
                loop {
                    iv.tick().await;
                    ctl.mutate(pct);
                }
            }))
        }
        _ => None,
    };

    stop.wait().await;
    if let Some(t) = ticker {
        t.abort();
    }
    sim.shutdown().await;
    Ok(())
}

/// Ctrl-C / SIGTERM, registered up front.
struct Shutdown {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Shutdown {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Shutdown { term: signal(SignalKind::terminate())?, int: signal(SignalKind::interrupt())? })
        }
        #[cfg(not(unix))]
        {
            Ok(Shutdown {})
        }
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            let Shutdown { mut term, mut int } = self;
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
