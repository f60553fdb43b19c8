//! Logging: `tracing` to stderr and to daily-rolling files in the log dir; level from `BACKOFFICE_LOG`
//! (default `info`). Job spans carry `job_id`. Secrets never reach a log line: clients log bodies
//! only at debug level, and credentials are never part of a logged value.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global subscriber. Keep the guard alive for the life of the process.
pub fn init(log_dir: &Path, file_prefix: &str, to_stderr: bool) -> Option<WorkerGuard> {
    let filter =
        || EnvFilter::try_from_env("BACKOFFICE_LOG").unwrap_or_else(|_| EnvFilter::new("info,hyper=warn,reqwest=warn"));
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
    let _ = tracing_subscriber::registry().with(file_layer).with(stderr_layer).try_init();
    guard
}
