//! Large scale stays lazy; the binary prints its URLs and stops on SIGTERM.
//!
//! Nothing here measures wall-clock time (how fast a machine is says nothing about the code):
//! laziness shows as memory that does not grow with the scale, and stopping as the exit status.
//! Speed is measured by `cargo xtask bench contifico-sync`.

mod common;

use std::io::BufRead;
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use common::*;
use serde_json::Value;

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A million records per resource held in memory would take gigabytes; lazily generated ones
/// take a few bytes per touched record.
const MAX_GROWTH_MB: u64 = 150;

fn assert_little_memory(before_kb: u64, when: &str) {
    let grown_mb = rss_kb().saturating_sub(before_kb) / 1024;
    assert!(grown_mb < MAX_GROWTH_MB, "RSS grew by {grown_mb} MB {when}");
}

#[tokio::test]
async fn million_records_page_lazily_with_little_memory() {
    let before = rss_kb();
    let sim = sim_with(1_000_000, 7).await;
    // Starting generates nothing.
    assert_little_memory(before, "when the simulator started at scale 1,000,000");

    let (st, first) = cget(&sim, "registro/documento/?result_size=100&result_page=1").await;
    assert_eq!(st, 200);
    assert_eq!(first.as_array().unwrap().len(), 100);
    let (st, last) = cget(&sim, "registro/documento/?result_size=100&result_page=10000").await;
    assert_eq!(st, 200);
    let last = last.as_array().unwrap();
    assert_eq!(last.len(), 100);
    assert!(last[99]["documento"].as_str().unwrap().ends_with("-001000000"), "the millionth document");
    let last_id = last[99]["id"].as_str().unwrap();
    let (st, one) = cget(&sim, &format!("documento/{last_id}")).await;
    assert_eq!((st, one["id"].as_str()), (200, Some(last_id)));
    let (_, past) = cget(&sim, "registro/documento/?result_size=100&result_page=10001").await;
    assert_eq!(past, Value::Array(vec![]));

    // Unpaged v1 lists are capped at 1000.
    let (_, all) = cget(&sim, "persona/").await;
    assert_eq!(all.as_array().unwrap().len(), 1000);

    // v2 count and last page.
    let (st, v) = cget2(&sim, "contabilidad/asiento/?page=last").await;
    assert_eq!(st, 200);
    assert_eq!(v["count"], 1_000_000);
    assert_eq!(v["results"].as_array().unwrap().len(), 100);
    assert!(v["next"].is_null());

    // Mutating 0.01% touches 100 records per resource, still cheap.
    let rep = sim.contifico().mutate(0.01);
    assert_eq!(rep.per_resource["persona/"], (100, 10));
    let today = sim.contifico().today();
    let (_, v) = cget(&sim, &format!("persona/?fecha_inicial={today}&result_size=1000&result_page=1")).await;
    assert_eq!(v.as_array().unwrap().len(), 100);

    assert_little_memory(before, "after paging to the millionth record and mutating");
    // Each answer above took the simulator one request: no page was retried or served in parts.
    assert_eq!(sim.contifico().total_requests(), 7, "{:?}", sim.contifico().request_counts());
    sim.shutdown().await;
}

#[test]
fn binary_prints_urls_and_stops_on_sigterm() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_backoffice-sim"))
        .args(["--seed", "3", "--scale", "5", "--mutate-pct", "20", "--fail-rate", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn binary");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let v: Value = serde_json::from_str(&line).expect("one JSON line");
    for k in ["omie", "contifico", "erpnext_a", "erpnext_b"] {
        assert!(v[k].as_str().unwrap().starts_with("http://127.0.0.1:"), "{k}");
    }
    assert!(v["contifico"].as_str().unwrap().ends_with("/sistema/api/v1/"));
    assert!(v["omie"].as_str().unwrap().ends_with("/api/v1/"));

    let pid = child.id().to_string();
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    // The binary's own exit is the event: SIGTERM must end it with status 0, its graceful shutdown.
    // A binary that ignores SIGTERM would hang the test, so a guard thread kills it with SIGKILL if
    // it is still running long after; that exit is then not a success and the test fails on it.
    let (done, guard_rx) = std::sync::mpsc::channel::<()>();
    let guard = std::thread::spawn(move || {
        if guard_rx.recv_timeout(HANG_GUARD).is_err() {
            // The child is not reaped before `wait` returns, so `pid` is still ours.
            let _ = std::process::Command::new("kill").args(["-KILL", &pid]).status();
        }
    });
    let st = child.wait().unwrap();
    let _ = done.send(());
    guard.join().unwrap();
    assert_ne!(st.signal(), Some(9), "the binary did not stop on SIGTERM (killed by the test's hang guard)");
    assert!(st.success(), "SIGTERM did not end the binary gracefully: {st:?}");
}

/// Only there to turn a binary that ignores SIGTERM into a failure instead of a hung test run;
/// no outcome depends on how long stopping takes below it.
const HANG_GUARD: Duration = Duration::from_secs(120);
