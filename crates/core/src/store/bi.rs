//! Read-only views of a team database for BI tools (Looker Studio, Power BI, Metabase…), and the
//! role they log in with. The views turn the store's text columns into PostgreSQL's types
//! (timestamps with time zone, numeric money, dates) so a BI tool needs no conversions, and they
//! are the only thing the role may read: no secrets and no internals go out, nothing can be
//! written. `README.md` ("Looking at the team database from a BI tool") documents each column.

use postgres::GenericClient;

use super::team::{classify, TeamDbError, TeamUrl, SCHEMA};
use crate::error::{CoreError, CoreResult};

/// Name and definition of every view. A view is read with its owner's rights, so the BI role
/// needs no right on the tables underneath.
pub const VIEWS: [(&str, &str); 6] = [
    (
        // Divergences still to settle: to review, approved but not yet applied, or failed.
        "bi_open_divergences",
        "SELECT d.id, d.rule_id, d.kind, d.erp, c.name AS connection, d.resource, d.record_id, d.record_label,
                d.confidence, NULLIF(d.amount, '')::numeric AS amount, d.currency, d.status, d.assignee,
                d.first_seen_at::timestamptz AS first_seen_at, d.last_seen_at::timestamptz AS last_seen_at
           FROM backoffice.divergences d LEFT JOIN backoffice.connections c ON c.id = d.connection_id
          WHERE d.status IN ('open', 'approved', 'failed')",
    ),
    (
        // Every correction and rollback sent to an ERP, with who did it and from which machine.
        "bi_divergence_audit",
        "SELECT o.id, o.divergence_id, d.rule_id, o.kind, o.erp, o.resource, o.record_id, o.field,
                o.before_value, o.after_value, o.status, o.who, o.machine,
                o.created_at::timestamptz AS created_at, o.finished_at::timestamptz AS finished_at
           FROM backoffice.divergence_operations o JOIN backoffice.divergences d ON d.id = o.divergence_id",
    ),
    (
        // Jobs per day (UTC), kind and outcome, with their mean duration.
        "bi_operations_summary",
        "SELECT (created_at::timestamptz AT TIME ZONE 'UTC')::date AS day, kind, status, count(*) AS jobs,
                round(avg(EXTRACT(EPOCH FROM finished_at::timestamptz - started_at::timestamptz))::numeric, 1)
                  AS mean_seconds
           FROM backoffice.jobs GROUP BY 1, 2, 3",
    ),
    (
        // When each synced resource last succeeded, and its last error.
        "bi_sync_freshness",
        "SELECT c.name AS connection, s.erp, s.resource, s.last_success_at::timestamptz AS last_success_at,
                s.last_error_at::timestamptz AS last_error_at, s.last_error
           FROM backoffice.sync_state s JOIN backoffice.connections c ON c.id = s.connection_id",
    ),
    (
        // The contracts billing is reconciled against (monthly value, validity).
        "bi_contracts",
        "SELECT k.id, c.name AS connection, k.client_code, k.client_document, k.client_name, k.description,
                k.mrr::numeric AS mrr, k.currency, k.start_date::date AS start_date,
                k.end_date::date AS end_date, k.billing_day, k.status
           FROM backoffice.contracts k JOIN backoffice.connections c ON c.id = k.connection_id",
    ),
    (
        // Billing against contracts per client and month, as the last reconciliation (the
        // divergence check's billing rule) found it: within tolerance or not.
        "bi_billing_vs_contracts",
        "SELECT c.name AS connection, b.month, to_date(b.month, 'YYYY-MM') AS month_start, b.client,
                b.client_name, b.client_document, b.contracted::numeric AS contracted, b.billed::numeric AS billed,
                b.difference::numeric AS difference, b.tolerance::numeric AS tolerance, b.verdict,
                b.verdict NOT IN ('within', 'pending') AS divergent, b.currency,
                b.reconciled_at::timestamptz AS reconciled_at
           FROM backoffice.billing_months b JOIN backoffice.connections c ON c.id = b.connection_id",
    ),
];

/// (Re)creates the views; called when a copy into the team database completes.
pub fn create_views(pg: &mut impl GenericClient, url: &TeamUrl) -> CoreResult<()> {
    for (name, sql) in VIEWS {
        pg.batch_execute(&format!("CREATE OR REPLACE VIEW {SCHEMA}.{name} AS {sql}"))
            .map_err(|e| -> CoreError { classify(url.shown(), &e).into() })?;
    }
    Ok(())
}

/// Creates (or updates the password of) a login role that may read the BI views and nothing
/// else, in the team database `url` names. The user in `url` needs the right to create roles.
pub fn grant_bi_reader(url: &TeamUrl, role: &str, password: &str) -> CoreResult<()> {
    if role.is_empty() || !role.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(CoreError::invalid("role", "use lower-case letters, digits and _ only, e.g. looker_reader"));
    }
    if password.len() < 12 {
        return Err(CoreError::invalid("password", "use at least 12 characters for the BI tool's password"));
    }
    let mut pg = url.connect()?;
    let err = |e: postgres::Error| -> CoreError { classify(url.shown(), &e).into() };
    let ready = super::copy::team_status(url)?.state == "ready";
    if !ready {
        return Err(TeamDbError::NothingToRestore { url: url.shown().to_string() }.into());
    }
    let mut tx = pg.transaction().map_err(err)?;
    let exists: bool =
        tx.query_one("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", &[&role]).map_err(err)?.get(0);
    // Identifiers and the password are quoted by PostgreSQL itself (format's %I and %L).
    let mut statements: Vec<String> = Vec::new();
    let verb = if exists { "ALTER" } else { "CREATE" };
    let make: String = tx
        .query_one(
            &format!("SELECT format('{verb} ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)"),
            &[&role, &password],
        )
        .map_err(err)?
        .get(0);
    statements.push(make);
    for template in [
        "SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', $1::text)",
        "SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), $1::text)",
        "SELECT format('GRANT USAGE ON SCHEMA backoffice TO %I', $1::text)",
    ] {
        statements.push(tx.query_one(template, &[&role]).map_err(err)?.get(0));
    }
    for (name, _) in VIEWS {
        statements.push(
            tx.query_one(&format!("SELECT format('GRANT SELECT ON {SCHEMA}.{name} TO %I', $1::text)"), &[&role])
                .map_err(err)?
                .get(0),
        );
    }
    for s in statements {
        tx.batch_execute(&s).map_err(err)?;
    }
    tx.commit().map_err(err)?;
    Ok(())
}
