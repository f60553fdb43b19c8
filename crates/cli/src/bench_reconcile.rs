//! `cargo xtask bench reconcile`: the billing reconciliation of 24 months for N contracts over M
//! synced Omie receivables, next to the same computation as one plain SQL query (what an analyst
//! would run against the same SQLite file), in the same run; plus peak RSS.
//!
//! The synced tables are filled directly (the sync is measured by `bench sync`): N clients with one
//! contract each (MRR R$ 500–20 000, started before the period), their monthly fees split into
//! about M / (24 N) titles per month, and about 2 % of client-months billed R$ 300 to R$ 2 000 off,
//! 1 % not billed, 1 % with a cancelled title; and N/20 clients billed without a contract.

use std::time::Instant;

use anyhow::{bail, Result};
use backoffice_core::erp::omie::sync::RESOURCES;
use backoffice_core::model::ConnectionKind;
use rusqlite::params;

use crate::bench::{proc_status_kb, reset_peak_rss};

const MONTHS: u32 = 24;

pub async fn run(contracts: u64, receivables: &[u64]) -> Result<i32> {
    println!("bench reconcile: {MONTHS} months of billing vs contracts (Omie receivables), BackOffice vs one plain SQL query");
    println!(
        "{:>9} {:>12} | {:>11} {:>9} | {:>9} {:>9} {:>7} | {:>8}",
        "contracts", "receivables", "divergent", "plain s", "BO s", "BO/plain", "same", "peak MB"
    );
    let mut ok = true;
    for &m in receivables {
        let dir = tempfile::tempdir()?;
        let secrets =
            std::sync::Arc::new(backoffice_core::secrets::Overlay::new(backoffice_core::secrets::Keychain::default()));
        let paths = backoffice_core::Paths { db: dir.path().join("bench.db"), log_dir: dir.path().join("logs") };
        let core = backoffice_core::Core::open(paths.clone(), secrets)?;
        let conn = core.connections().ensure_headless("Bench Omie", ConnectionKind::Omie, "http://127.0.0.1:9/")?;
        backoffice_core::sync::ensure_tables(&core.store, RESOURCES)?;
        fill(&paths.db, &conn.id, contracts, m)?;
        let (from, to) = ("2024-01", "2025-12");

        let t = Instant::now();
        let plain = plain_sql(&paths.db)?;
        let plain_s = t.elapsed().as_secs_f64();

        reset_peak_rss();
        let t = Instant::now();
        let rows = core.reconcile_billing_range(Some(&conn.id), from, to, &[])?;
        let bo_s = t.elapsed().as_secs_f64();
        let peak_mb = proc_status_kb("VmHWM:").unwrap_or(0) as f64 / 1024.0;
        let divergent = rows.iter().filter(|r| r.verdict != "within").count() as i64;
        let same = divergent == plain;
        println!(
            "{:>9} {:>12} | {:>11} {:>9.2} | {:>9.2} {:>8.2}x {:>7} | {:>8.0}",
            contracts,
            m,
            divergent,
            plain_s,
            bo_s,
            bo_s / plain_s,
            if same { "yes" } else { "NO" },
            peak_mb
        );
        if !same {
            bail!("BackOffice found {divergent} divergent client-months, the plain query {plain}");
        }
        ok &= bo_s <= 2.0 * plain_s;
    }
    println!(
        "goal: the whole reconciliation (with proration, readjustments, explanations of each gap) within 2x of \
         the plain query, which only sums and compares"
    );
    Ok(if ok { 0 } else { 1 })
}

fn fill(db: &std::path::Path, conn: &str, n: u64, m: u64) -> Result<()> {
    let mut c = rusqlite::Connection::open(db)?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "NORMAL")?;
    let tx = c.transaction()?;
    let extra = (n / 20).max(1);
    let per_month = (m / (MONTHS as u64 * n)).max(1);
    {
        let mut cli = tx.prepare(
            "INSERT INTO omie_clientes (connection_id, id, raw, razao_social, cnpj_cpf, search_text, fetched_at, sync_run_id, seen_run)
             VALUES (?1, ?2, '{}', ?3, ?4, '', '2026-12-01T00:00:00Z', 'bench', 'bench')",
        )?;
        let mut con = tx.prepare(
            "INSERT INTO contracts (id, connection_id, client_document, client_code, client_name, description, mrr, currency,
                start_date, status, notes, version, created_at, updated_at, updated_by)
             VALUES (?1, ?2, ?3, ?4, ?5, 'Serviço mensal', ?6, 'BRL', '2023-06-01', 'active', '', 1, '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z', 'bench')",
        )?;
        let mut tit = tx.prepare(
            "INSERT INTO omie_contas_receber (connection_id, id, raw, codigo_cliente_fornecedor, numero_documento, data_emissao,
                data_vencimento, data_registro, valor_documento, status_titulo, search_text, fetched_at, sync_run_id, seen_run)
             VALUES (?1, ?2, '{}', ?3, ?4, ?5, ?5, ?5, ?6, ?7, '', '2026-12-01T00:00:00Z', 'bench', 'bench')",
        )?;
        let mut id = 0u64;
        let mut rng = 0x2545F4914F6CDD1Du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for k in 0..n + extra {
            let code = (100_000 + k).to_string();
            cli.execute(params![conn, code, format!("CLIENTE {k} LTDA"), format!("{:08}000100", 10_000_000 + k)])?;
            let mrr_cents = 50_000 + (next() % 1_950_000) as i64;
            if k < n {
                con.execute(params![
                    format!("c{k}"),
                    conn,
                    format!("{:08}000100", 10_000_000 + k),
                    code,
                    format!("CLIENTE {k} LTDA"),
                    format!("{}.{:02}", mrr_cents / 100, mrr_cents % 100)
                ])?;
            }
            for mo in 0..MONTHS {
                let (y, mm) = (2024 + mo / 12, mo % 12 + 1);
                let roll = next() % 100;
                if k < n && roll == 0 {
                    continue; // not billed
                }
                let off = if k < n && (1..3).contains(&roll) { 30_000 + (next() % 170_000) as i64 } else { 0 };
                let part = mrr_cents / per_month as i64;
                for j in 0..per_month {
                    let mut cents = if j + 1 == per_month { mrr_cents - part * (per_month as i64 - 1) } else { part };
                    if j == 0 {
                        cents += off;
                    }
                    let status = if k < n && roll == 3 && j == 0 { "CANCELADO" } else { "RECEBIDO" };
                    id += 1;
                    tit.execute(params![
                        conn,
                        id.to_string(),
                        code,
                        format!("R{id}"),
                        format!("{y:04}-{mm:02}-{:02}", 1 + (j % 28)),
                        format!("{}.{:02}", cents / 100, cents % 100),
                        status
                    ])?;
                }
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// The same verdicts as one query: per client and month, the billed sum (cancelled titles left out)
/// against the contracts' MRR, out of tolerance when the gap exceeds R$ 50 and 5 % of the MRR.
fn plain_sql(db: &std::path::Path) -> Result<i64> {
    let c = rusqlite::Connection::open(db)?;
    let sql = "
        WITH billed AS (
            SELECT codigo_cliente_fornecedor AS client, substr(data_emissao, 1, 7) AS month,
                   sum(CAST(valor_documento AS REAL)) AS amount
              FROM omie_contas_receber
             WHERE deleted_at IS NULL AND status_titulo <> 'CANCELADO'
               AND data_emissao BETWEEN '2024-01-01' AND '2025-12-31'
             GROUP BY 1, 2),
        months(month) AS (SELECT DISTINCT substr(data_emissao, 1, 7) FROM omie_contas_receber
                           WHERE data_emissao BETWEEN '2024-01-01' AND '2025-12-31'),
        contracted AS (
            SELECT c.client_code AS client, m.month, sum(CAST(c.mrr AS REAL)) AS amount
              FROM contracts c CROSS JOIN months m GROUP BY 1, 2),
        pairs AS (
            SELECT client, month FROM billed WHERE amount <> 0 UNION SELECT client, month FROM contracted)
        SELECT p.client, p.month
          FROM pairs p
          LEFT JOIN billed b ON b.client = p.client AND b.month = p.month
          LEFT JOIN contracted k ON k.client = p.client AND k.month = p.month
         WHERE abs(coalesce(b.amount, 0) - coalesce(k.amount, 0)) > max(50.0, 0.05 * coalesce(k.amount, 0)) + 0.004
            OR (k.amount IS NULL AND coalesce(b.amount, 0) <> 0)";
    let mut st = c.prepare(sql)?;
    let mut rows = st.query([])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let _: Option<String> = r.get(0)?;
        n += 1;
    }
    Ok(n)
}
