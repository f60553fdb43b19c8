//! A throwaway PostgreSQL cluster for the team-mode tests: Debian's own server binaries, a data
//! folder under the temporary directory, listening on 127.0.0.1 only, stopped and deleted when the
//! value is dropped. The server refuses to run as root, so as root it runs as Debian's `postgres`
//! user (created by the postgresql-common package) through `runuser`.
//!
//! Tests find it in `BACKOFFICE_TEST_POSTGRES_URL` (a superuser with a password, over TCP, so
//! password checks are real) and create their own databases in it.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable tests read the cluster's address from.
pub const URL_VAR: &str = "BACKOFFICE_TEST_POSTGRES_URL";
/// The certificate (PEM) of the throwaway authority that signed the server's TLS certificate (for
/// `sslmode=verify-full&sslrootcert=…`); the server accepts TLS and plain connections alike.
pub const CA_VAR: &str = "BACKOFFICE_TEST_POSTGRES_CA";

const SUPERUSER: &str = "backoffice_admin";
/// Made up for a cluster that lives as long as one test run.
const PASSWORD: &str = "throwaway-test-password";

pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    pub url: String,
    pub ca: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let mut stop = self.pg(&self.bin.join("pg_ctl"));
        stop.arg("stop").arg("-D").arg(&data).args(["-m", "immediate", "-s"]);
        let _ = stop.status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Cluster {
    fn pg(&self, program: &Path) -> Command {
        pg_command(self.as_postgres, program)
    }

    /// initdb + pg_ctl start on a free loopback port.
    pub fn start() -> Result<Cluster> {
        let bin = server_bin_dir()?;
        let as_postgres = is_root();
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("backoffice-pg-{}-{nanos:09}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, PASSWORD)?;
        make_certificates(&dir)?;
        if as_postgres {
            let ok = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status()?.success();
            if !ok {
                bail!("could not give {} to the postgres user (is the postgresql package installed?)", dir.display());
            }
        }
        let port = free_port()?;
        let cluster = Cluster {
            url: format!("postgres://{SUPERUSER}:{PASSWORD}@127.0.0.1:{port}/postgres"),
            ca: dir.join("ca.pem"),
            dir,
            bin,
            as_postgres,
        };
        let data = cluster.dir.join("data");
        let mut initdb = cluster.pg(&cluster.bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", SUPERUSER, "--auth-host=scram-sha-256", "--auth-local=peer", "-E", "UTF8", "--no-sync"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["--locale=C.UTF-8"]);
        quiet(&mut initdb, "initdb")?;
        // Throwaway data: no fsync, no need to survive a power cut.
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
             -c ssl=on -c ssl_cert_file={dir}/server.pem -c ssl_key_file={dir}/server.key",
            cluster.dir.display(),
            dir = cluster.dir.display()
        );
        let mut start = cluster.pg(&cluster.bin.join("pg_ctl"));
        start
            .arg("start")
            .arg("-D")
            .arg(&data)
            .args(["-w", "-s", "-o", &opts, "-l"])
            .arg(cluster.dir.join("server.log"));
        quiet(&mut start, "pg_ctl start").with_context(|| {
            let log = std::fs::read_to_string(cluster.dir.join("server.log")).unwrap_or_default();
            format!("the server log says:\n{log}")
        })?;
        println!("xtask: PostgreSQL {} on 127.0.0.1:{port} ({URL_VAR})", version_of(&cluster.bin));
        Ok(cluster)
    }
}

/// A throwaway authority (ca.pem) and the server's certificate it signed (server.pem, server.key),
/// for localhost and 127.0.0.1, valid two days; made with Debian's openssl command.
fn make_certificates(dir: &Path) -> Result<()> {
    let openssl = |args: &[&str]| -> Result<()> {
        let mut c = Command::new("openssl");
        c.args(args).current_dir(dir);
        quiet(&mut c, "openssl")
    };
    let subject_ca = "/CN=BackOffice throwaway test authority";
    openssl(&[
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
        subject_ca,
    ])?;
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ])?;
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ])?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("server.key"), std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

fn is_root() -> bool {
    // The effective uid from /proc (no libc dependency for one call).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0")))
        .unwrap_or(false)
}

fn pg_command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn quiet(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().with_context(|| format!("starting {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// The newest /usr/lib/postgresql/N/bin that has initdb (Debian keeps server binaries off PATH).
fn server_bin_dir() -> Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let mut best: Option<(u32, PathBuf)> = None;
    if let Ok(entries) = std::fs::read_dir(root) {
        for e in entries.flatten() {
            let Ok(v) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
            let bin = e.path().join("bin");
            if bin.join("initdb").exists() && best.as_ref().is_none_or(|(b, _)| v > *b) {
                best = Some((v, bin));
            }
        }
    }
    best.map(|(_, p)| p).context("no PostgreSQL server under /usr/lib/postgresql/*/bin (install it: cargo xtask deps)")
}

fn version_of(bin: &Path) -> String {
    Command::new(bin.join("postgres"))
        .arg("--version")
        .output()
        .ok()
        // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        .map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().nth(2).unwrap_or("").to_string())
        .unwrap_or_default()
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(l.local_addr()?.port())
}
