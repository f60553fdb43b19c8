//! Printing for humans (tables, a progress bar on a terminal) and for machines (`--json`).

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Result;
use backoffice_core::model::{Connection, Job, JobDetail, JobStatus};
use indicatif::{ProgressBar, ProgressStyle};

use crate::Ctx;

pub fn connections(json: bool, list: &[Connection]) {
    if json {
        println!("{}", serde_json::to_string(list).unwrap_or_default());
        return;
    }
    println!("{:<28} {:<10} {:<48} {:<40} LAST TEST", "NAME", "ERP", "BASE URL", "TIME ZONE");
    for c in list {
        let test = match c.last_test_ok {
            Some(true) => "ok".to_string(),
            Some(false) => format!("failed: {}", c.last_test_message.as_deref().unwrap_or("")),
            None => "never".to_string(),
        };
        let zone = format!(
            "{} ({})",
            c.timezone,
            match c.timezone_source {
                backoffice_core::model::TimezoneSource::Site => "said by the site",
                backoffice_core::model::TimezoneSource::User => "set by you",
                backoffice_core::model::TimezoneSource::Computer => "this computer's, until the site says",
                backoffice_core::model::TimezoneSource::Default => "the ERP's",
            }
        );
        println!("{:<28} {:<10} {:<48} {:<40} {}", c.name, c.kind.as_str(), c.base_url, zone, test);
    }
}

pub fn jobs(json: bool, list: &[Job]) {
    if json {
        println!("{}", serde_json::to_string(list).unwrap_or_default());
        return;
    }
    println!("{:<36} {:<18} {:<10} {:<20} CREATED (UTC)", "ID", "KIND", "STATUS", "CONNECTION");
    for j in list {
        println!(
            "{:<36} {:<18} {:<10} {:<20} {}",
            j.id,
            j.kind,
            j.status.as_str(),
            j.connection_name.as_deref().unwrap_or("-"),
            j.created_at
        );
    }
}

pub fn job_detail(json: bool, d: &JobDetail) {
    if json {
        println!("{}", serde_json::to_string(d).unwrap_or_default());
        return;
    }
    jobs(false, std::slice::from_ref(&d.job));
    if !d.job.counts.is_empty() {
        let counts: Vec<String> = d.job.counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("counts: {}", counts.join(" "));
    }
    if let Some(e) = &d.job.error {
        println!("error: {}", e.message);
    }
    for l in &d.logs {
        println!("{} {:<5} {}", l.at, l.level, l.message);
    }
}

/// Watches a job until it ends, with a progress bar on a terminal; returns the exit code.
pub async fn follow_job(ctx: &Ctx, id: &str) -> Result<i32> {
    let mut rx = ctx.core.jobs.subscribe();
    let bar = (!ctx.json && std::io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new(1000);
        b.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {percent:>3}% {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.enable_steady_tick(Duration::from_millis(120));
        b
    });
    let mut job = ctx.core.jobs.get(id)?;
    while job.status.is_active() {
        match tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
            Ok(Ok(ev)) if ev.job.id == id => {
                job = ev.job;
                if let (Some(b), Some(l)) = (&bar, &ev.log) {
                    b.println(format!("{:<5} {}", l.level, l.message));
                }
            }
            Ok(Ok(_)) => {}
            _ => job = ctx.core.jobs.get(id)?,
        }
        if let Some(b) = &bar {
            b.set_position((job.progress.unwrap_or(0.0) * 1000.0) as u64);
            let counts: Vec<String> = job.counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
            b.set_message(format!("{} {}", job.progress_label.clone().unwrap_or_default(), counts.join(" ")));
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    // Headless runs have no desktop notification: a failed job is e-mailed when e-mail is on.
    email_if_failed(ctx, &job).await;
    let detail = ctx.core.jobs.detail(id)?;
    if ctx.json {
        println!("{}", serde_json::to_string(&detail.job)?);
    } else {
        let counts: Vec<String> = job.counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        match (&job.status, &job.error) {
            (JobStatus::Succeeded, _) => {
                let last = detail.logs.iter().rev().find(|l| l.message != "finished").map(|l| l.message.as_str());
                println!("succeeded {} {}", counts.join(" "), last.unwrap_or(""));
            }
            (status, Some(e)) => eprintln!("{}: {}", status.as_str(), e.message),
            (status, None) => eprintln!("{}", status.as_str()),
        }
    }
    Ok(if job.status == JobStatus::Succeeded { 0 } else { 1 })
}

/// Sends the notice of a finished failed job by e-mail (if e-mail notifications are on and the
/// notification settings want it); repeats are grouped by the context's grouper. Never fails.
pub async fn email_if_failed(ctx: &Ctx, job: &Job) {
    if job.status != JobStatus::Failed {
        return;
    }
    if let Some(n) = ctx.core.notice_for_job(job, &ctx.grouper, std::time::Instant::now()) {
        ctx.core.deliver_notice_email(&n).await;
    }
}
