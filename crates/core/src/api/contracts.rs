//! The facade for Contracts and billing: the contract book, spreadsheet imports, the billing
//! settings, the month's reconciliation, a client's 12-month strip and the reports.

use std::path::Path;

use crate::error::CoreResult;
use crate::ops::contracts::{
    self as ct, BillingSettings, ClientMonth, Contract, ContractChange, ContractInput, ImportPreview, MonthFigure,
    ReconcileQuery, Reconciliation,
};
use crate::Core;

impl Core {
    pub fn contracts(&self, connection: Option<&str>) -> CoreResult<Vec<Contract>> {
        ct::list(&self.ctx, connection)
    }

    pub fn contract(&self, id: &str) -> CoreResult<Contract> {
        ct::get(&self.ctx, id)
    }

    pub fn save_contract(&self, input: &ContractInput) -> CoreResult<Contract> {
        ct::save(&self.ctx, input)
    }

    pub fn delete_contract(&self, id: &str, reason: &str) -> CoreResult<()> {
        ct::delete(&self.ctx, id, reason)
    }

    pub fn contract_history(&self, id: &str) -> CoreResult<Vec<ContractChange>> {
        ct::history(&self.ctx, id)
    }

    pub fn preview_contracts_import(&self, file: &Path, connection: Option<&str>) -> CoreResult<ImportPreview> {
        ct::import_preview(&self.ctx, file, connection)
    }

    pub fn import_contracts(
        &self,
        file: &Path,
        connection: Option<&str>,
        skip_refused: bool,
    ) -> CoreResult<ImportPreview> {
        ct::import_apply(&self.ctx, file, connection, skip_refused)
    }

    pub fn billing_settings(&self) -> CoreResult<BillingSettings> {
        ct::settings(&self.ctx)
    }

    pub fn save_billing_settings(&self, s: &BillingSettings) -> CoreResult<BillingSettings> {
        ct::save_settings(&self.ctx, s)
    }

    pub fn reconcile_billing(&self, q: &ReconcileQuery) -> CoreResult<Reconciliation> {
        ct::reconcile_month(&self.ctx, q)
    }

    /// Every client-month of a period (only `verdicts` when some are named).
    pub fn reconcile_billing_range(
        &self,
        connection: Option<&str>,
        from: &str,
        to: &str,
        verdicts: &[String],
    ) -> CoreResult<Vec<ClientMonth>> {
        ct::reconcile_range(&self.ctx, connection, from, to, verdicts)
    }

    /// Writes client-months (a period's, from `reconcile_billing_range`) as `csv` or `xlsx`, the
    /// sheet named `sheet`; returns how many rows.
    pub fn export_client_months(
        &self,
        rows: &[ClientMonth],
        sheet: &str,
        format: &str,
        path: &Path,
    ) -> CoreResult<usize> {
        let currency = rows.first().map_or("BRL", |r| r.currency.as_str());
        match format {
            "xlsx" => ct::report::xlsx(rows, sheet, currency, path),
            _ => ct::report::csv(rows, path),
        }
    }

    pub fn billing_strip(
        &self,
        connection: Option<&str>,
        client: &str,
        to: Option<&str>,
        months: u32,
    ) -> CoreResult<Vec<MonthFigure>> {
        ct::client_strip(&self.ctx, connection, client, to, months)
    }

    /// Writes the month's reconciliation as `csv` or `xlsx`; returns how many rows.
    pub fn export_reconciliation(&self, q: &ReconcileQuery, format: &str, path: &Path) -> CoreResult<usize> {
        let rec = ct::reconcile_month(&self.ctx, q)?;
        match format {
            "xlsx" => ct::report::xlsx(&rec.rows, &format!("Billing {}", rec.month), &rec.currency, path),
            _ => ct::report::csv(&rec.rows, path),
        }
    }
}
