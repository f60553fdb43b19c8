//! A database of its own on the throwaway PostgreSQL cluster `cargo xtask test` starts (named in
//! BACKOFFICE_TEST_POSTGRES_URL), for the team-mode tests.

use anyhow::{Context, Result};

/// A new empty database of the test cluster, and how to reach it.
#[derive(Clone, Debug)]
pub struct TeamDb {
    pub host: String,
    pub port: String,
    pub user: String,
    pub password: String,
    pub database: String,
    /// postgres://user:password@host:port/database (a superuser of the test cluster).
    pub address: String,
}

impl TeamDb {
    /// The address without its password (the password then comes from PGPASSWORD or a keychain).
    pub fn address_without_password(&self) -> String {
        format!("postgres://{}@{}:{}/{}?sslmode=disable", self.user, self.host, self.port, self.database)
    }

    /// Runs `f` with a client on this database, off the async runtime (the synchronous client
    /// may not run on an async task's thread).
    pub async fn with_client<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let address = self.address.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = postgres::Client::connect(&address, postgres::NoTls)?;
            f(&mut c)
        })
        .await?
    }
}

/// Makes a new, empty database on the test cluster.
pub async fn fresh_database() -> Result<TeamDb> {
    let admin = std::env::var("BACKOFFICE_TEST_POSTGRES_URL")
        .context("BACKOFFICE_TEST_POSTGRES_URL is not set: run under `cargo xtask session --xvfb --postgres`")?;
    // One database per test of this process (the tests of a file may run at once).
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let name = format!("bo_e2e_{}_{n}", std::process::id());
    let (create, db) = (admin.clone(), name.clone());
    tokio::task::spawn_blocking(move || -> Result<()> {
        let mut c = postgres::Client::connect(&create, postgres::NoTls)?;
        // One statement each: CREATE DATABASE may not share a transaction.
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))?;
        c.batch_execute(&format!("CREATE DATABASE {db}"))?;
        Ok(())
    })
    .await??;
    let rest = admin.strip_prefix("postgres://").context("a postgres:// address")?;
    let (userinfo, hostpart) = rest.split_once('@').context("user@host")?;
    let (user, password) = userinfo.split_once(':').context("user:password")?;
    let (hostport, _) = hostpart.split_once('/').context("host/db")?;
    let (host, port) = hostport.split_once(':').context("host:port")?;
    Ok(TeamDb {
        host: host.into(),
        port: port.into(),
        user: user.into(),
        password: password.into(),
        database: name.clone(),
        address: format!("postgres://{userinfo}@{hostport}/{name}"),
    })
}
