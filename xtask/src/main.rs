//! `cargo xtask <command>`: the developer and CI entry points of BackOffice.
//!
//! Kept to std + anyhow on purpose: this is the first thing a cold CI machine compiles.

mod command_map;
mod deps;
mod package;
mod postgres;
mod session;
mod steps;
mod toolchain;
mod util;

use anyhow::{bail, Result};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  deps [--check]            install missing system packages (apt), ui/node_modules (npm ci)
                            and tauri-driver; --check only reports what is missing
  run [-- APP_ARGS...]      deps, build the UI and the app, then start the app
                            (under Xvfb when no display is found)
  test [--skip-e2e] [--only STEP[,STEP...]] [--list]
                            the whole CI pipeline; --only runs just the named steps
                            (repeatable), --list prints the step names
  bundle [--version X.Y.Z]  the .deb and .rpm in release mode (Tauri bundler), copied to
                            artifacts/packages/ with their sizes and SHA-256 sums
  bench <name> [ARGS...]    run a benchmark inside a throwaway keyring session
                            (names: sync, contifico-sync, omie-rate, omie-shared, divergences,
                            reconcile, store-copy), with a throwaway PostgreSQL cluster
  screenshots               build the app and run the E2E screenshot tour under Xvfb;
                            PNGs land in artifacts/screenshots/
  session [--xvfb] [--postgres] -- CMD [ARGS...]
                            run any command inside the same throwaway D-Bus session with an
                            unlocked keyring (and Xvfb with --xvfb; with --postgres a throwaway
                            PostgreSQL cluster named in BACKOFFICE_TEST_POSTGRES_URL), e.g. a
                            single test
  help                      this text

run, test, bench and screenshots first check that Node.js is recent enough for ui/ and that
the rustfmt and clippy components are installed (adding them with rustup when they are not).
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(err) = real_main(args) {
        eprintln!();
        eprintln!("xtask: error: {err:#}");
        std::process::exit(1);
    }
}

fn real_main(args: Vec<String>) -> Result<()> {
    let Some((cmd, rest)) = args.split_first() else {
        print!("{USAGE}");
        bail!("no command given");
    };
    match cmd.as_str() {
        "deps" => {
            let check_only = parse_flags(rest, &["--check"])?.contains(&"--check");
            deps::ensure(deps::Parts::all(), check_only)
        }
        "run" => steps::run_app(rest),
        "test" => steps::test(parse_test_args(rest)?),
        "bench" => steps::bench(rest),
        "bundle" => {
            toolchain::check()?;
            package::bundle_cmd(rest)
        }
        "screenshots" => {
            parse_flags(rest, &[])?;
            steps::screenshots()
        }
        "session" => session_cmd(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            print!("{USAGE}");
            bail!("unknown command `{other}`")
        }
    }
}

fn session_cmd(args: &[String]) -> Result<()> {
    let split = args.iter().position(|a| a == "--");
    let (flags, cmd) = match split {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &args[args.len()..]),
    };
    let seen = parse_flags(flags, &["--xvfb", "--postgres"])?;
    let (xvfb, postgres) = (seen.contains(&"--xvfb"), seen.contains(&"--postgres"));
    let Some((program, program_args)) = cmd.split_first() else {
        bail!("usage: cargo xtask session [--xvfb] [--postgres] -- CMD [ARGS...]");
    };
    session::wrap(session::SessionOptions { xvfb, postgres }, program, program_args)?.run()
}

/// Accepts only the given boolean flags; returns the ones present.
fn parse_flags<'a>(args: &'a [String], allowed: &[&str]) -> Result<Vec<&'a str>> {
    let mut seen = Vec::new();
    for a in args {
        if allowed.contains(&a.as_str()) {
            seen.push(a.as_str());
        } else {
            bail!("unexpected argument `{a}` (see `cargo xtask help`)");
        }
    }
    Ok(seen)
}

fn parse_test_args(args: &[String]) -> Result<steps::TestOptions> {
    let mut opts = steps::TestOptions::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--skip-e2e" => opts.skip_e2e = true,
            "--list" => opts.list = true,
            "--only" => {
                let Some(v) = it.next() else {
                    bail!("--only needs a step name; steps: {}", steps::step_names());
                };
                push_only(&mut opts, v)?;
            }
            s if s.starts_with("--only=") => push_only(&mut opts, &s["--only=".len()..])?,
            other => bail!("unexpected argument `{other}` for `test` (see `cargo xtask help`)"),
        }
    }
    Ok(opts)
}

fn push_only(opts: &mut steps::TestOptions, value: &str) -> Result<()> {
    for name in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some(step) = steps::Step::from_name(name) else {
            bail!("unknown step `{name}`; steps: {}", steps::step_names());
        };
        opts.only.push(step);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_accepts_lists_and_repeats() {
        let opts = parse_test_args(&args(&["--only", "fmt,clippy", "--only=e2e", "--skip-e2e"])).unwrap();
        assert_eq!(opts.only, vec![steps::Step::Fmt, steps::Step::Clippy, steps::Step::E2e]);
        assert!(opts.skip_e2e);
        assert!(parse_test_args(&args(&["--only", "nope"])).is_err());
        assert!(parse_test_args(&args(&["--only"])).is_err());
        assert!(parse_test_args(&args(&["--verbose"])).is_err());
    }

    #[test]
    fn commands_are_quoted_for_the_log() {
        let mut cmd = std::process::Command::new("xvfb-run");
        cmd.args(["-s", "-screen 0 1280x800x24", "it's"]).current_dir(util::repo_root());
        assert_eq!(util::render(&cmd), r"xvfb-run -s '-screen 0 1280x800x24' 'it'\''s'");
    }
}
