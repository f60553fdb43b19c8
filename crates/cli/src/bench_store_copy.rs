//! `cargo xtask bench store-copy`: a desk of N synced Contífico people copied into PostgreSQL by
//! `store copy` (batches, bookkeeping, verification of every table), next to, in the same run:
//! - the physical limit: the same rows read from the same SQLite file and streamed through ONE binary
//!   COPY into a table of the same shape (no batches, no bookkeeping, no verification);
//! - the plain approach: the same rows through a prepared INSERT, one row at a time in one
//!   transaction (what a script written against both drivers does).
//!
//! Each goes into a database of its own on the server `--url` names (`cargo xtask bench store-copy`
//! gives it its throwaway cluster). It reports, never asserts.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use backoffice_core::store::copy::{copy_to_team, CopyProgress};
use backoffice_core::store::team::TeamUrl;
use backoffice_core::store::Store;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use rusqlite::params;

use crate::bench::{proc_status_kb, reset_peak_rss};

/// The people table's columns, as the sync makes them (all text).
const COLUMNS: [&str; 17] = [
    "connection_id",
    "id",
    "raw",
    "tipo",
    "razon_social",
    "nombre_comercial",
    "cedula",
    "ruc",
    "email",
    "es_cliente",
    "es_proveedor",
    "search_text",
    "source_modified",
    "fetched_at",
    "sync_run_id",
    "seen_run",
    "deleted_at",
];

pub fn run(records: &[u64], admin: &str) -> Result<i32> {
    println!(
        "bench store-copy: a desk's synced records into PostgreSQL; BackOffice vs one raw COPY vs row-at-a-time INSERT"
    );
    println!(
        "{:>9} | {:>8} {:>9} | {:>8} {:>8} {:>8} {:>7} | {:>9} {:>8} | {:>8}",
        "records", "COPY s", "rows/s", "BO s", "copy s", "check s", "BO/COPY", "INSERT s", "INS/BO", "peak MB"
    );
    for &n in records {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("desk.db");
        fill(&db, n)?;

        // The physical limit: one COPY of the same rows.
        let target = fresh_database(admin, "limit")?;
        let t = Instant::now();
        raw_copy(&db, &target)?;
        let copy_s = t.elapsed().as_secs_f64();

        // BackOffice: batches + bookkeeping, then every table verified.
        let target = fresh_database(admin, "bo")?;
        // Without TLS, as the two baselines connect: like is measured against like.
        let url = TeamUrl::parse(&format!("{target}?sslmode=disable"))?;
        reset_peak_rss();
        let t = Instant::now();
        let mut copied_at = t.elapsed();
        let report = copy_to_team(
            &db,
            &url,
            &backoffice_core::erp::migrate_resource_tables,
            &mut |_p: &CopyProgress| copied_at = t.elapsed(),
            &|| false,
        )?;
        let bo_s = t.elapsed().as_secs_f64();
        let peak_mb = proc_status_kb("VmHWM:").unwrap_or(0) as f64 / 1024.0;
        let bo_copy_s = copied_at.as_secs_f64();
        let persona = report.tables.iter().find(|t| t.table == "contifico_persona").map(|t| t.rows).unwrap_or(0);
        anyhow::ensure!(persona == n, "BackOffice copied {persona} people of {n}");

        // The plain approach.
        let target = fresh_database(admin, "plain")?;
        let t = Instant::now();
        row_at_a_time(&db, &target)?;
        let insert_s = t.elapsed().as_secs_f64();

        println!(
            "{:>9} | {:>8.2} {:>9.0} | {:>8.2} {:>8.2} {:>8.2} {:>6.0}% | {:>9.2} {:>7.1}x | {:>8.0}",
            n,
            copy_s,
            n as f64 / copy_s,
            bo_s,
            bo_copy_s,
            bo_s - bo_copy_s,
            100.0 * copy_s / bo_copy_s,
            insert_s,
            insert_s / bo_s,
            peak_mb
        );
    }
    println!(
        "BO/COPY: BackOffice's copy phase (batches and bookkeeping, before verification) against the raw COPY's\n\
         speed (100% = as fast). check s: BackOffice reading every table back on both sides for rows and checksums.\n\
         INS/BO: how many times longer the row-at-a-time script takes than BackOffice's whole copy."
    );
    Ok(0)
}

/// A new database on the server, named after the run.
pub(crate) fn fresh_database(admin: &str, what: &str) -> Result<String> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let name = format!("bench_{what}_{}_{nanos}", std::process::id());
    let mut c = postgres::Client::connect(admin, postgres::NoTls)?;
    c.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let (base, _) = admin.rsplit_once('/').context("the address ends with /database")?;
    Ok(format!("{base}/{name}"))
}

/// A desk with `n` synced people (about 400 bytes of JSON each, with their typed columns).
fn fill(db: &Path, n: u64) -> Result<()> {
    let store = Store::open(db)?;
    backoffice_core::sync::ensure_tables(&store, backoffice_core::erp::contifico::resources::RESOURCES)?;
    drop(store);
    let mut c = rusqlite::Connection::open(db)?;
    let tx = c.transaction()?;
    tx.execute(
        "INSERT INTO connections (id, name, kind, base_url, timezone, created_at, updated_at)
         VALUES ('c1', 'Bench', 'contifico', 'http://127.0.0.1:9/', 'America/Guayaquil', '2026-01-01T00:00:00.000Z',
         '2026-01-01T00:00:00.000Z')",
        [],
    )?;
    {
        let cols = COLUMNS.join(", ");
        let marks = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        let mut ins = tx.prepare(&format!("INSERT INTO contifico_persona ({cols}) VALUES ({marks})"))?;
        for i in 0..n {
            let ruc = format!("{:010}001", 1_700_000_000 + i);
            let name = format!("Comercial Andina {i} S.A.");
            let email = format!("facturacion{i}@andina.example");
            let raw = format!(
                "{{\"id\":\"P{i}\",\"tipo\":\"J\",\"razon_social\":\"{name}\",\"nombre_comercial\":\"Andina {i}\",\
                 \"cedula\":null,\"ruc\":\"{ruc}\",\"email\":\"{email}\",\"es_cliente\":true,\"es_proveedor\":{},\
                 \"direccion\":\"Av. 9 de Octubre {i}, Guayaquil\",\"telefonos\":\"04-2{:06}\",\"fecha_modificacion\":\"2026-11-{:02}T10:00:00\"}}",
                i % 3 == 0,
                i % 1_000_000,
                1 + i % 28
            );
            ins.execute(params![
                "c1",
                format!("P{i}"),
                raw,
                "J",
                name,
                format!("Andina {i}"),
                Option::<String>::None,
                ruc,
                email,
                "true",
                if i % 3 == 0 { "true" } else { "false" },
                format!("p{i} comercial andina {i} {ruc}"),
                format!("2026-11-{:02}T15:00:00.000Z", 1 + i % 28),
                "2026-12-01T10:00:00.000Z",
                "r1",
                "r1",
                Option::<String>::None,
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn target_table(c: &mut postgres::Client) -> Result<()> {
    let cols = COLUMNS.iter().map(|c| format!("{c} text")).collect::<Vec<_>>().join(", ");
    c.batch_execute(&format!(
        "CREATE TABLE persona (sqlite_rowid bigint NOT NULL UNIQUE, {cols}, PRIMARY KEY (connection_id, id))"
    ))?;
    Ok(())
}

fn select_all() -> String {
    format!("SELECT rowid, {} FROM contifico_persona ORDER BY rowid", COLUMNS.join(", "))
}

/// Every row of the people table in rowid order: its rowid and its values, as `&dyn ToSql`.
fn each_row(db: &Path, mut f: impl FnMut(&[&(dyn ToSql + Sync)]) -> Result<()>) -> Result<()> {
    let src = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = src.prepare(&select_all())?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let rowid: i64 = r.get(0)?;
        let vals: Vec<Option<String>> = (1..=COLUMNS.len()).map(|i| r.get(i)).collect::<Result<_, _>>()?;
        let mut refs: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(vals.len() + 1);
        refs.push(&rowid);
        refs.extend(vals.iter().map(|v| v as &(dyn ToSql + Sync)));
        f(&refs)?;
    }
    Ok(())
}

fn raw_copy(db: &Path, target: &str) -> Result<()> {
    let mut pg = postgres::Client::connect(target, postgres::NoTls)?;
    target_table(&mut pg)?;
    let mut tx = pg.transaction()?;
    let types: Vec<Type> = std::iter::once(Type::INT8).chain(COLUMNS.iter().map(|_| Type::TEXT)).collect();
    let writer = tx.copy_in(&format!("COPY persona (sqlite_rowid, {}) FROM STDIN BINARY", COLUMNS.join(", ")))?;
    let mut writer = BinaryCopyInWriter::new(writer, &types);
    each_row(db, |row| Ok(writer.write(row)?))?;
    writer.finish()?;
    tx.commit()?;
    Ok(())
}

fn row_at_a_time(db: &Path, target: &str) -> Result<()> {
    let mut pg = postgres::Client::connect(target, postgres::NoTls)?;
    target_table(&mut pg)?;
    let mut tx = pg.transaction()?;
    let marks = (1..=COLUMNS.len() + 1).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let insert = tx.prepare(&format!("INSERT INTO persona (sqlite_rowid, {}) VALUES ({marks})", COLUMNS.join(", ")))?;
    each_row(db, |row| {
        tx.execute(&insert, row)?;
        Ok(())
    })?;
    tx.commit()?;
    Ok(())
}
