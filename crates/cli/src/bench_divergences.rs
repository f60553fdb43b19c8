//! `cargo xtask bench divergences`: every shipped rule over N synced Omie records, next to the same
//! rules written as one plain SQL query each (what an analyst would run by hand against the same
//! SQLite file), measured in the same run; plus peak RSS and a re-run with nothing changed.
//!
//! The synced tables are filled directly (the sync itself is measured by `bench sync`): N payables
//! (a share of them NF-e parcels of N/10 receipts, the rest manual expenses with a description and a
//! category), N/10 suppliers. Planted, at rates a bookkeeper would recognise (about 1 in 200
//! expenses misfiled, 1 in 500 repeated, 1 in 50 receipts off by R$ 10,00): misfiled trade
//! marketing expenses, repeated payables and receipts whose payables do not add up.

use std::time::Instant;

use anyhow::{bail, Result};
use backoffice_core::erp::omie::sync::RESOURCES;
use backoffice_core::model::{ConnectionKind, JobStatus};
use backoffice_core::ops::divergences::SessionParams;
use rusqlite::params;

use crate::bench::{proc_status_kb, reset_peak_rss, wait_job};

pub async fn run(records: &[u64]) -> Result<i32> {
    println!("bench divergences: the 3 shipped rules over synced Omie payables, receipts and suppliers");
    println!(
        "{:>10} | {:>9} {:>9} | {:>9} {:>7} | {:>9} {:>9} {:>7} | {:>8} | {:>12}",
        "payables", "found", "plain s", "BO s", "BO/pl.", "rerun s", "forced s", "/first", "peak MB", "rerun writes"
    );
    let mut ok = true;
    for &n in records {
        let dir = tempfile::tempdir()?;
        let secrets =
            std::sync::Arc::new(backoffice_core::secrets::Overlay::new(backoffice_core::secrets::Keychain::default()));
        let paths = backoffice_core::Paths { db: dir.path().join("bench.db"), log_dir: dir.path().join("logs") };
        let core = backoffice_core::Core::open(paths.clone(), secrets)?;
        let conn = core.connections().ensure_headless("Bench Omie", ConnectionKind::Omie, "http://127.0.0.1:9/")?;
        backoffice_core::sync::ensure_tables(&core.store, RESOURCES)?;
        fill(&paths.db, &conn.id, n)?;

        // The plain approach: each rule as one SQL query, results read in full.
        let t = Instant::now();
        let plain = plain_sql(&paths.db)?;
        let plain_s = t.elapsed().as_secs_f64();

        reset_peak_rss();
        let t = Instant::now();
        let job = core.start_divergence_session(SessionParams::default())?;
        let first = wait_job(&core, &job.id).await?;
        let bo_s = t.elapsed().as_secs_f64();
        if first.status != JobStatus::Succeeded {
            bail!("the session failed: {:?}", first.error);
        }
        let peak_mb = proc_status_kb("VmHWM:").unwrap_or(0) as f64 / 1024.0;
        let found = first.counts.get("new").copied().unwrap_or(0);
        if found != plain {
            bail!("BackOffice found {found} divergences, the plain queries {plain}");
        }

        let changes = |core: &backoffice_core::Core| -> Result<i64> {
            Ok(core.store.read(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT count(*) FROM divergence_events) + (SELECT count(*) FROM divergences WHERE updated_at > first_seen_at)",
                    [],
                    |r| r.get(0),
                )?)
            })?)
        };
        let before = changes(&core)?;
        let t = Instant::now();
        let job = core.start_divergence_session(SessionParams::default())?;
        let again = wait_job(&core, &job.id).await?;
        let rerun_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let job = core.start_divergence_session(SessionParams { force: true, ..Default::default() })?;
        let forced = wait_job(&core, &job.id).await?;
        let forced_s = t.elapsed().as_secs_f64();
        let writes = changes(&core)? - before;
        if again.status != JobStatus::Succeeded || forced.status != JobStatus::Succeeded {
            bail!("a re-run failed: {:?} {:?}", again.error, forced.error);
        }
        println!(
            "{:>10} | {:>9} {:>9.2} | {:>9.2} {:>6.2}x | {:>9.3} {:>9.2} {:>6.1}% | {:>8.0} | {:>12}",
            n,
            found,
            plain_s,
            bo_s,
            bo_s / plain_s,
            rerun_s,
            forced_s,
            100.0 * rerun_s / bo_s,
            peak_mb,
            writes
        );
        ok &= bo_s <= 2.0 * plain_s && peak_mb < 200.0 && writes == 0 && rerun_s < 0.2 * bo_s;
    }
    println!(
        "goals: BackOffice within 2x of the plain queries, peak RSS < 200 MB, a re-run with nothing changed \
         writes nothing and takes < 20% of the first run ('forced' re-runs every rule anyway)"
    );
    Ok(if ok { 0 } else { 1 })
}

/// Fills the synced tables: n payables, n/10 receipts (their payables are parcels), n/10 suppliers.
fn fill(db: &std::path::Path, conn: &str, n: u64) -> Result<()> {
    let mut c = rusqlite::Connection::open(db)?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "NORMAL")?;
    let tx = c.transaction()?;
    let suppliers = (n / 10).max(10);
    let receipts = (n / 10).max(3);
    {
        let mut st = tx.prepare(
            "INSERT INTO omie_clientes (connection_id, id, raw, razao_social, cnpj_cpf, search_text, fetched_at, sync_run_id, seen_run)
             VALUES (?1, ?2, '{}', ?3, ?4, '', '2026-12-01T00:00:00Z', 'bench', 'bench')",
        )?;
        for s in 0..suppliers {
            st.execute(params![
                conn,
                (1000 + s).to_string(),
                format!("FORNECEDOR {s} LTDA"),
                format!("{:014}", 11_000_000_000_000u64 + s)
            ])?;
        }
        let mut st = tx.prepare(
            "INSERT INTO omie_recebimentos (connection_id, id, raw, numero_nfe, fornecedor_id, fornecedor, valor, search_text, fetched_at, sync_run_id, seen_run)
             VALUES (?1, ?2, '{}', ?3, ?4, ?5, ?6, '', '2026-12-01T00:00:00Z', 'bench', 'bench')",
        )?;
        for r in 0..receipts {
            let s = r % suppliers;
            // Two parcels of 500,00 each.
            st.execute(params![
                conn,
                (5_000_000 + r).to_string(),
                (10_000 + r).to_string(),
                (1000 + s).to_string(),
                format!("FORNECEDOR {s} LTDA"),
                "1000"
            ])?;
        }
        let mut st = tx.prepare(
            "INSERT INTO omie_contas_pagar (connection_id, id, raw, codigo_cliente_fornecedor, numero_documento, numero_documento_fiscal,
                numero_parcela, valor_documento, status_titulo, id_origem, codigo_categoria, observacao, search_text, fetched_at, sync_run_id, seen_run)
             VALUES (?1, ?2, '{}', ?3, ?4, ?5, ?6, ?7, 'EMABERTO', ?8, ?9, ?10, '', '2026-12-01T00:00:00Z', 'bench', 'bench')",
        )?;
        const TEXTS: [(&str, &str); 5] = [
            ("Material de escritório", "2.01.01"),
            ("Frete de mercadorias", "2.02.01"),
            ("Serviços de TI", "2.03.01"),
            ("Ação de trade marketing no PDV", "2.04.01"),
            ("Energia elétrica", "2.01.03"),
        ];
        for p in 0..n {
            let id = (9_000_000 + p).to_string();
            if p < 2 * receipts {
                let r = p / 2;
                let s = r % suppliers;
                let amount = if r % 53 == 3 && p % 2 == 0 { "510" } else { "500" };
                st.execute(params![
                    conn,
                    id,
                    (1000 + s).to_string(),
                    format!("NF{}", 10_000 + r),
                    (10_000 + r).to_string(),
                    format!("{:03}/002", p % 2 + 1),
                    amount,
                    "NFEP",
                    "2.01.01",
                    "Compra de mercadoria"
                ])?;
            } else {
                let (text, cat) = if p % 211 == 7 {
                    ("Ação de trade marketing no PDV", "2.01.01")
                } else {
                    TEXTS[(p % 5) as usize]
                };
                // Every 499th repeats the one before it.
                let q = if p % 499 == 5 && p > 2 * receipts && (p - 1) % 211 != 7 { p - 1 } else { p };
                let (text, cat) = if q != p { TEXTS[(q % 5) as usize] } else { (text, cat) };
                st.execute(params![
                    conn,
                    id,
                    (1000 + q % suppliers).to_string(),
                    format!("D{q:07}"),
                    "",
                    "001/001",
                    format!("{}.{:02}", 100 + q % 9000, q % 100),
                    "MANP",
                    cat,
                    text
                ])?;
            }
        }
    }
    tx.commit()?;
    // What the sync engine does after every run: refresh the planner's statistics.
    c.execute_batch("PRAGMA optimize=0x10002;")?;
    Ok(())
}

/// The three rules as an analyst would write them: one query each, every row read.
fn plain_sql(db: &std::path::Path) -> Result<i64> {
    let c = rusqlite::Connection::open(db)?;
    let count = |sql: &str| -> Result<i64> {
        let t = Instant::now();
        let plan: Vec<String> = {
            let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = st.query_map([], |r| r.get::<_, String>(3))?;
            rows.collect::<Result<_, _>>()?
        };
        let _timed = Timed(t, plan);
        let mut st = c.prepare(sql)?;
        let mut rows = st.query([])?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            let _: Option<String> = r.get(0)?;
            n += 1;
        }
        Ok(n)
    };
    let misfiled = count(
        "SELECT t.id FROM omie_contas_pagar t LEFT JOIN omie_clientes c ON c.connection_id = t.connection_id AND c.id = t.codigo_cliente_fornecedor
          WHERE t.deleted_at IS NULL AND t.status_titulo <> 'CANCELADO' AND t.codigo_categoria <> '2.04.01'
            AND instr(lower(t.observacao), 'trade marketing') > 0",
    )?;
    let duplicates = count(
        "SELECT group_concat(id) FROM omie_contas_pagar WHERE deleted_at IS NULL AND status_titulo <> 'CANCELADO' AND numero_documento <> ''
          GROUP BY connection_id, codigo_cliente_fornecedor, numero_documento, numero_parcela, valor_documento HAVING count(*) > 1",
    )?;
    let receipts = count(
        "SELECT r.id FROM omie_recebimentos r JOIN omie_contas_pagar p ON p.connection_id = r.connection_id AND p.id_origem = 'NFEP'
            AND p.numero_documento_fiscal = r.numero_nfe AND p.codigo_cliente_fornecedor = r.fornecedor_id AND p.deleted_at IS NULL
          WHERE r.deleted_at IS NULL GROUP BY r.connection_id, r.id HAVING abs(sum(CAST(p.valor_documento AS REAL)) - CAST(r.valor AS REAL)) > 0.05",
    )?;
    Ok(misfiled + duplicates + receipts)
}

/// With BENCH_PLAN set, prints each plain query's time and SQLite's plan for it (how the NF-number
/// join was found scanning by origin).
struct Timed(Instant, Vec<String>);
impl Drop for Timed {
    fn drop(&mut self) {
        if std::env::var_os("BENCH_PLAN").is_some() {
            eprintln!("{:.2}s {:?}", self.0.elapsed().as_secs_f64(), self.1);
        }
    }
}
