//! A service company's contract book, planted in the Omie data at scale 40 and above so that
//! every case of the billing reconciliation appears: eleven clients billed monthly over the last
//! twelve closed months (and this month up to today), as receivables appended after the generated
//! ones. The book itself is not an Omie resource (BackOffice keeps contracts; whether Omie's
//! `servicos/contrato/` is worth reading is an open question in the reference), so the demo loads
//! it as a spreadsheet, the way a user would.
//!
//! Cases, by client index: 0 billed as contracted; 1 billed R$ 40,00 short (within R$ 50,00);
//! 2 R$ 900,00 above last month; 3 well below last month; 4 last month's title cancelled;
//! 5 a one-off item on top of last month's fee; 6 the title of two months ago emitted a month
//! late (a neighbouring month); 7 billed under client 10, a branch of the same CNPJ root (no
//! billing for 7, no contract for 10); 8 a contract started mid-month three months ago
//! (prorated); 9 a yearly readjustment of 8 % two months ago, still billed at the old value.

use chrono::{Datelike, NaiveDate};

use super::OmieState;

/// Planted only at this scale and above (smaller worlds keep their exact record counts).
pub const MIN_SCALE: u64 = 40;
/// Clients 0..CONTRACT_CLIENTS have contracts; client `GROUP_BRANCH` is billed without one.
pub const CONTRACT_CLIENTS: u64 = 10;
pub const GROUP_BRANCH: u64 = 10;
const MONTHS: u32 = 12;
const MRR_CENTS: [i64; 10] = [480_000, 120_000, 300_000, 350_000, 250_000, 180_000, 220_000, 150_000, 310_000, 200_000];
const SERVICES: [&str; 10] = [
    "BPO financeiro",
    "Suporte de TI",
    "Consultoria contábil",
    "Licenças de software",
    "Manutenção predial",
    "Gestão de folha",
    "Hospedagem e backup",
    "Assessoria fiscal",
    "Outsourcing de impressão",
    "Monitoramento 24h",
];
pub const READJUST_PERCENT: &str = "8";

/// One contract of the book, as a user's spreadsheet would hold it.
#[derive(Debug, Clone, PartialEq)]
pub struct BookEntry {
    pub client_idx: u64,
    pub description: String,
    /// Monthly value, two decimals with a dot.
    pub mrr: String,
    pub start: NaiveDate,
    pub billing_day: u32,
    /// (month 1–12, percent) of the yearly readjustment.
    pub readjust: Option<(u32, String)>,
}

/// One planted title: billed to `client_idx`, dated, with amount and status.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Planted {
    pub client_idx: u64,
    pub emission: NaiveDate,
    pub cents: i64,
    pub status: &'static str,
    pub what: String,
}

pub(crate) fn active(st: &OmieState) -> bool {
    st.scale >= MIN_SCALE
}

/// The first day of the month `k` months before the simulator's start.
fn month_back(st: &OmieState, k: u32) -> NaiveDate {
    let today = crate::util::local_naive(st.anchor, super::BR_OFFSET_H).date();
    let idx = today.year() * 12 + today.month0() as i32 - k as i32;
    NaiveDate::from_ymd_opt(idx.div_euclid(12), idx.rem_euclid(12) as u32 + 1, 1).expect("a month")
}

fn day_in(first: NaiveDate, day: u32) -> NaiveDate {
    let mut d = first;
    while d.day() < day {
        match d.succ_opt() {
            Some(n) if n.month() == first.month() => d = n,
            _ => break,
        }
    }
    d
}

fn billing_day(c: u64) -> u32 {
    5 + c as u32
}

pub(crate) fn book(st: &OmieState) -> Vec<BookEntry> {
    if !active(st) {
        return vec![];
    }
    (0..CONTRACT_CLIENTS)
        .map(|c| {
            let start = match c {
                8 => day_in(month_back(st, 3), 15),
                9 => month_back(st, 14),
                _ => month_back(st, 24),
            };
            BookEntry {
                client_idx: c,
                description: SERVICES[c as usize].to_string(),
                mrr: format!("{}.{:02}", MRR_CENTS[c as usize] / 100, MRR_CENTS[c as usize] % 100),
                start,
                billing_day: billing_day(c),
                readjust: (c == 9).then(|| (month_back(st, 2).month(), READJUST_PERCENT.to_string())),
            }
        })
        .collect()
}

/// Every planted title, in a fixed order (their receivable indices follow the generated ones).
pub(crate) fn planted(st: &OmieState) -> Vec<Planted> {
    if !active(st) {
        return vec![];
    }
    let today = crate::util::local_naive(st.anchor, super::BR_OFFSET_H).date();
    let mut out = vec![];
    for c in 0..CONTRACT_CLIENTS {
        let mrr = MRR_CENTS[c as usize];
        for k in 0..=MONTHS {
            let first = month_back(st, k);
            let mut emission = day_in(first, billing_day(c));
            // This month: only what is already due.
            if k == 0 && emission > today {
                continue;
            }
            let mut cents = mrr;
            let mut status = if k <= 1 { "AVENCER" } else { "RECEBIDO" };
            let mut client = c;
            let mut what = format!("{} {:02}/{}", SERVICES[c as usize], first.month(), first.year());
            match (c, k) {
                (1, 1) => cents -= 4_000,
                (2, 1) => cents += 90_000,
                (3, 1) => cents = 210_000,
                (4, 1) => status = "CANCELADO",
                (6, 2) => emission = day_in(month_back(st, 1), 2),
                (7, _) => client = GROUP_BRANCH,
                (8, k) if k > 3 => continue,
                (8, 3) => {
                    let len = day_in(first, 31).day() as i64;
                    let days = len - 14;
                    cents = (mrr * days * 2 + len) / (2 * len);
                }
                _ => {}
            }
            out.push(Planted { client_idx: client, emission, cents, status, what: what.clone() });
            if (c, k) == (5, 1) {
                what = format!("Treinamento avulso {:02}/{}", first.month(), first.year());
                out.push(Planted {
                    client_idx: c,
                    emission: emission + chrono::Duration::days(3),
                    cents: 75_000,
                    status,
                    what,
                });
            }
        }
    }
    out
}
