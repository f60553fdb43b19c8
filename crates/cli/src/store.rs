//! `backoffice store ...`: the team database (PostgreSQL): check an address, copy this desk's data
//! there, and copy a team database back into a new SQLite file.
//!
//! The password may be in the address, or in PGPASSWORD (PostgreSQL's own variable), so it need
//! not appear in a cron line or the shell's history.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Result;
use backoffice_core::store::copy::{self, CopyProgress, CopyReport};
use backoffice_core::store::team::TeamUrl;
use backoffice_core::{CoreResult, Paths};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum StoreCmd {
    /// Connect to a team database and say what it holds (empty, an unfinished copy, ready)
    Check {
        /// postgres://user@server:5432/database (default: DATABASE_URL when it names PostgreSQL)
        url: Option<String>,
    },
    /// Copy this desk's data into an empty team database (--to postgres://…), or a team database
    /// into a new SQLite file (--from postgres://… --to FILE). Interrupted copies go on where they
    /// stopped when run again; every table is verified (rows and checksum) at the end.
    Copy {
        /// A team database to copy from (then --to is the new SQLite file)
        #[arg(long)]
        from: Option<String>,
        /// The team database (postgres://…) to copy this desk into, or with --from the new SQLite file
        #[arg(long)]
        to: Option<String>,
    },
    /// Make this desk work on the team database, as Settings → Team database → "Work on the team
    /// database" does: the address stays in this desk's file, its password (from the address or
    /// PGPASSWORD) in the keychain; the window and the command line of this desk then open it
    WorkOn {
        /// postgres://user@server:5432/database?sslmode=verify-full (default: DATABASE_URL)
        url: Option<String>,
    },
    /// Make this desk work on its own file again
    WorkOnDesk,
    /// Create (or give a new password to) a login role for a BI tool: it may read the team
    /// database's bi_* views and nothing else. The password is read from standard input.
    BiReader {
        /// The role's name, e.g. looker_reader
        #[arg(long)]
        role: String,
        /// postgres://… of a user that may create roles (default: DATABASE_URL)
        url: Option<String>,
    },
}

fn team_url(url: Option<&str>) -> Result<TeamUrl> {
    let from_env = std::env::var("DATABASE_URL").ok().filter(|u| u.starts_with("postgres"));
    let Some(url) = url.map(str::to_string).or(from_env) else {
        anyhow::bail!(
            "which team database? Give its address (postgres://user@server:5432/database) or set DATABASE_URL"
        );
    };
    let mut parsed = TeamUrl::parse(&url)?;
    if let Ok(pw) = std::env::var("PGPASSWORD") {
        parsed = parsed.with_password(&pw);
    }
    Ok(parsed)
}

/// This desk's own file, with this computer's keychain (where the team database's password goes).
fn desk_core(paths: &Paths) -> Result<Arc<backoffice_core::Core>> {
    Ok(backoffice_core::Core::open(paths.clone(), Arc::new(crate::keychain()))?)
}

pub async fn run(paths: &Paths, json: bool, cmd: StoreCmd) -> Result<i32> {
    match cmd {
        StoreCmd::Check { url } => {
            let url = team_url(url.as_deref())?;
            let status = tokio::task::spawn_blocking(move || copy::team_status(&url).map(|s| (s, url))).await??;
            let (status, url) = status;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else {
                println!("{}: PostgreSQL {}", url.shown(), status.server_version);
                match status.state.as_str() {
                    "empty" => println!("empty: ready for `backoffice store copy --to {}`", url.shown()),
                    "copying" => println!(
                        "an unfinished copy from {} (run the same `store copy` again to finish it)",
                        status.copied_from.as_deref().unwrap_or("?")
                    ),
                    _ => println!(
                        "BackOffice data, schema {}, copied from {} at {}",
                        status.schema_version.unwrap_or(0),
                        status.copied_from.as_deref().unwrap_or("?"),
                        status.copied_at.as_deref().unwrap_or("?")
                    ),
                }
            }
            Ok(0)
        }
        StoreCmd::WorkOn { url } => {
            let url = team_url(url.as_deref())?;
            let (form, password) = backoffice_core::ops::team::settings_of_address(&url);
            let core = desk_core(paths)?;
            core.save_team_settings(&form, password)?;
            let s = core.set_team_mode(true).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!(
                    "this desk now works on the team database at {}; its window and its command line open it",
                    url.shown()
                );
            }
            Ok(0)
        }
        StoreCmd::WorkOnDesk => {
            let core = desk_core(paths)?;
            let s = core.set_team_mode(false).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                println!("this desk works on its own file again ({})", paths.db.display());
            }
            Ok(0)
        }
        StoreCmd::BiReader { role, url } => {
            let url = team_url(url.as_deref())?;
            let mut password = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            let shown = url.shown().to_string();
            let r = role.clone();
            tokio::task::spawn_blocking(move || backoffice_core::store::bi::grant_bi_reader(&url, &r, &password))
                .await??;
            println!("{role} may now read the bi_* views of {shown} (and nothing else)");
            Ok(0)
        }
        StoreCmd::Copy { from, to } => {
            let cancelled = Arc::new(AtomicBool::new(false));
            let flag = cancelled.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("stopping after the current batch; run the same command again to go on");
                    flag.store(true, Ordering::SeqCst);
                }
            });
            let mut show = |p: &CopyProgress| {
                eprintln!("[{}/{}] {}: {} of {} rows", p.table_index, p.tables, p.table, p.rows_done, p.rows_total);
            };
            // Which way: (what it says, the copy to run on a blocking thread).
            type Run =
                Box<dyn FnOnce(&mut dyn FnMut(&CopyProgress), &dyn Fn() -> bool) -> CoreResult<CopyReport> + Send>;
            let (what, work): (String, Run) = match (from, to) {
                (Some(from), Some(file)) => {
                    let url = team_url(Some(&from))?;
                    let file = PathBuf::from(file);
                    (
                        format!("{} → {}", url.shown(), file.display()),
                        Box::new(move |show, stop| {
                            copy::copy_from_team(
                                &url,
                                &file,
                                &backoffice_core::erp::migrate_resource_tables,
                                show,
                                stop,
                            )
                        }),
                    )
                }
                (None, to) => {
                    let url = team_url(to.as_deref())?;
                    let db = paths.db.clone();
                    (
                        format!("{} → {}", db.display(), url.shown()),
                        Box::new(move |show, stop| {
                            copy::copy_to_team(&db, &url, &backoffice_core::erp::migrate_resource_tables, show, stop)
                        }),
                    )
                }
                (Some(_), None) => anyhow::bail!("--from needs --to FILE: the new SQLite file to copy into"),
            };
            eprintln!("copying {what}");
            let report = tokio::task::spawn_blocking(move || work(&mut show, &|| cancelled.load(Ordering::SeqCst)))
                .await?
                .map_err(say_how_to_go_on)?;
            eprintln!("copied and verified {what}");
            print_report(&report, json)?;
            Ok(0)
        }
    }
}

/// After a copy stopped by the network, the server or the user: what was copied is kept, and the
/// same command goes on from there.
fn say_how_to_go_on(e: backoffice_core::CoreError) -> backoffice_core::CoreError {
    if matches!(e.code(), "team_db_unreachable" | "team_db_server" | "cancelled") {
        eprintln!("note: what was copied so far is kept; run the same command again to go on from there");
    }
    e
}

fn print_report(report: &CopyReport, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    if report.resumed {
        println!("(an interrupted copy was continued)");
    }
    println!("{:<40} {:>10}  checksum", "table", "rows");
    for t in &report.tables {
        println!("{:<40} {:>10}  {}", t.table, t.rows, t.checksum);
    }
    println!(
        "{} tables, {} rows, schema {}: every table verified",
        report.tables.len(),
        report.rows(),
        report.schema_version
    );
    Ok(())
}
