//! `backoffice email ...`: show and change the e-mail notification settings, send a test e-mail.
//! The SMTP password is read from standard input (`--password-stdin`) and goes to the keychain only.

use std::io::Read;

use anyhow::Result;
use backoffice_core::ops::email::{EmailSettings, SmtpSecurity};
use backoffice_core::CoreError;
use clap::{ArgGroup, Subcommand, ValueEnum};

use crate::Ctx;

#[derive(Clone, Copy, ValueEnum)]
pub enum SecurityArg {
    /// Upgrade to TLS with STARTTLS (usually port 587)
    Starttls,
    /// TLS from the start (usually port 465)
    Tls,
    /// No encryption; only for a server on this computer (localhost)
    None,
}

impl From<SecurityArg> for SmtpSecurity {
    fn from(s: SecurityArg) -> Self {
        match s {
            SecurityArg::Starttls => SmtpSecurity::Starttls,
            SecurityArg::Tls => SmtpSecurity::Tls,
            SecurityArg::None => SmtpSecurity::None,
        }
    }
}

#[derive(Subcommand)]
pub enum EmailCmd {
    /// The e-mail settings (never the password), and the last failed delivery if any
    Show,
    /// Change the e-mail settings; options not given keep their value
    #[command(group(ArgGroup::new("onoff").args(["enable", "disable"])))]
    Set {
        /// SMTP server, e.g. smtp.mycompany.com
        #[arg(long)]
        host: Option<String>,
        #[arg(long)]
        port: Option<u32>,
        #[arg(long, value_enum)]
        security: Option<SecurityArg>,
        /// SMTP user name ("" for none)
        #[arg(long)]
        user: Option<String>,
        /// Sender, e.g. "BackOffice <backoffice@mycompany.com>"
        #[arg(long)]
        from: Option<String>,
        /// Recipients (replace the current list); several values or comma-separated
        #[arg(long, num_args = 1.., value_delimiter = ',')]
        to: Option<Vec<String>>,
        /// Read the SMTP password from standard input (an empty input removes the saved one)
        #[arg(long)]
        password_stdin: bool,
        /// Send notifications by e-mail
        #[arg(long)]
        enable: bool,
        /// Stop sending notifications by e-mail
        #[arg(long)]
        disable: bool,
    },
    /// Send a test e-mail with the saved settings
    Test,
}

pub async fn run(ctx: &Ctx, cmd: EmailCmd) -> Result<i32> {
    let core = &ctx.core;
    match cmd {
        EmailCmd::Show => print(ctx.json, &core.email_settings()?),
        EmailCmd::Set { host, port, security, user, from, to, password_stdin, enable, disable } => {
            let mut s: EmailSettings = core.email_settings()?;
            if let Some(h) = host {
                s.host = h;
            }
            if let Some(p) = port {
                s.port = p;
            }
            if let Some(sec) = security {
                s.security = sec.into();
            }
            if let Some(u) = user {
                s.username = u;
            }
            if let Some(f) = from {
                s.from = f;
            }
            if let Some(t) = to {
                s.to = t;
            }
            if enable {
                s.enabled = true;
            }
            if disable {
                s.enabled = false;
            }
            let password = if password_stdin {
                let mut raw = String::new();
                std::io::stdin().read_to_string(&mut raw).map_err(|e| {
                    CoreError::invalid("password", format!("the password could not be read from standard input ({e})"))
                })?;
                Some(raw.trim_end_matches(['\r', '\n']).to_string())
            } else {
                None
            };
            let saved = core.save_email_settings(&s, password)?;
            print(ctx.json, &saved);
        }
        EmailCmd::Test => {
            let s = core.email_settings()?;
            core.send_test_email().await?;
            if ctx.json {
                println!("{}", serde_json::json!({ "ok": true, "to": s.to }));
            } else {
                println!("test e-mail sent to {}", s.to.join(", "));
            }
        }
    }
    Ok(0)
}

fn print(json: bool, s: &EmailSettings) {
    if json {
        println!("{}", serde_json::to_string(s).unwrap_or_default());
        return;
    }
    let security = match s.security {
        SmtpSecurity::Starttls => "starttls",
        SmtpSecurity::Tls => "tls",
        SmtpSecurity::None => "none",
    };
    println!("e-mail:    {}", if s.enabled { "on" } else { "off" });
    println!("server:    {}:{} ({security})", if s.host.is_empty() { "-" } else { &s.host }, s.port);
    println!("user:      {}", if s.username.is_empty() { "-" } else { &s.username });
    println!("password:  {}", if s.password_saved { "saved in the system keychain" } else { "not saved" });
    println!("from:      {}", if s.from.is_empty() { "-" } else { &s.from });
    println!("to:        {}", if s.to.is_empty() { "-".to_string() } else { s.to.join(", ") });
    if let Some(f) = &s.last_failure {
        println!("last e-mail failed at {}: {}", f.at, f.message);
    }
}
