//! Logging: `tracing` to stderr and to daily-rolling files in the log dir; level from `BACKOFFICE_LOG`,
//! else the seeds' `LOG_LEVEL` (`DEBUG`, `INFO`, `WARNING`...), default `info`. `LOG_FILE` (a seed key)
//! also writes every line to that file. Job spans carry `job_id`. Secrets never reach a log line: clients log bodies
//! only at debug level, and credentials are never part of a logged value.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global subscriber. Keep the guard alive for the life of the process.
pub fn init(log_dir: &Path, file_prefix: &str, to_stderr: bool) -> Option<WorkerGuard> {
    let filter = || {
        EnvFilter::try_from_env("BACKOFFICE_LOG")
            .ok()
            .or_else(|| {
                seed_level().map(|l| EnvFilter::new(format!("{l},hyper=warn,reqwest=warn,h2=warn,rustls=warn")))
            })
            .unwrap_or_else(|| EnvFilter::new("info,hyper=warn,reqwest=warn"))
    };
    let _ = std::fs::create_dir_all(log_dir);
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(file_prefix)
        .filename_suffix("log")
        .max_log_files(14)
        .build(log_dir)
        .ok();
    let (file_layer, guard) = match appender {
        Some(a) => {
            let (nb, guard) = tracing_appender::non_blocking(a);
            (Some(fmt::layer().with_ansi(false).with_writer(nb).with_filter(filter())), Some(guard))
        }
        None => (None, None),
    };
    let stderr_layer = to_stderr.then(|| fmt::layer().with_writer(std::io::stderr).with_filter(filter()));
    let extra_file = std::env::var_os("LOG_FILE").filter(|v| !v.is_empty()).and_then(|p| {
        let p = std::path::PathBuf::from(p);
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        match std::fs::OpenOptions::new().create(true).append(true).open(&p) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("LOG_FILE={} cannot be opened ({e}); logging goes on to {}", p.display(), log_dir.display());
                None
            }
        }
    });
    let extra_layer =
        extra_file.map(|f| fmt::layer().with_ansi(false).with_writer(std::sync::Mutex::new(f)).with_filter(filter()));
    let _ = tracing_subscriber::registry().with(file_layer).with(stderr_layer).with(extra_layer).try_init();
    guard
}

/// `LOG_LEVEL` as the seeds write it (Python's names) turned into a tracing level.
fn seed_level() -> Option<&'static str> {
    let v = std::env::var("LOG_LEVEL").ok()?;
    Some(match v.trim().to_ascii_lowercase().as_str() {
        "trace" | "notset" => "trace",
        "debug" => "debug",
        "info" => "info",
        "warn" | "warning" => "warn",
        "error" | "critical" | "fatal" => "error",
        _ => return None,
    })
}
