//! The arithmetic of "was every client billed what the contract says?", free of storage: months,
//! what a contract asks for in a month (prorated by days, readjusted from its month), the
//! tolerance, the verdict, and the probable explanations of a gap. Exact decimals throughout.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{CoreError, CoreResult};

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// `YYYY-MM`.
    pub fn parse(s: &str) -> CoreResult<Month> {
        let bad = || CoreError::invalid("month", format!("\"{s}\" is not a month: write it as YYYY-MM, like 2026-11"));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let (year, month) = (y.parse::<i32>().map_err(|_| bad())?, m.parse::<u32>().map_err(|_| bad())?);
        if !(1..=12).contains(&month) || !(1900..=2200).contains(&year) || y.len() != 4 {
            return Err(bad());
        }
        Ok(Month { year, month })
    }
    pub fn of(d: NaiveDate) -> Month {
        Month { year: d.year(), month: d.month() }
    }
    pub fn first(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a month has a first day")
    }
    pub fn last(self) -> NaiveDate {
        self.shift(1).first().pred_opt().expect("a month has a last day")
    }
    pub fn days(self) -> u32 {
        self.last().day()
    }
    /// This month moved by `n` months (negative: back).
    pub fn shift(self, n: i32) -> Month {
        let idx = self.year * 12 + self.month as i32 - 1 + n;
        Month { year: idx.div_euclid(12), month: idx.rem_euclid(12) as u32 + 1 }
    }
    /// Months from `self` to `other` (positive when `other` is later).
    pub fn until(self, other: Month) -> i32 {
        (other.year * 12 + other.month as i32) - (self.year * 12 + self.month as i32)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

pub fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// What a contract says, as the arithmetic needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct Terms {
    pub mrr: Decimal,
    pub start: NaiveDate,
    pub end: Option<NaiveDate>,
    /// `active`, `suspended` or `ended`. A suspended contract expects no billing; an ended one
    /// expects it up to its end date.
    pub status: String,
    /// The month (1–12) of the yearly readjustment, and its percentage.
    pub readjust_month: Option<u32>,
    pub readjust_percent: Option<Decimal>,
}

/// What one contract asks for in one month.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Share {
    pub amount: Decimal,
    /// Days of the month the contract covers, of `days_in_month`.
    pub days: u32,
    pub days_in_month: u32,
    /// Readjustments applied so far (one per anniversary month after the start).
    pub readjustments: u32,
    /// The monthly value after readjustments, before proration.
    pub monthly: Decimal,
    pub prorated: bool,
    /// This month is one in which a readjustment takes effect.
    pub readjusted_this_month: bool,
    /// What this month would ask for without its own readjustment (equal to `amount` unless
    /// `readjusted_this_month`).
    pub previous_amount: Decimal,
    pub suspended: bool,
}

/// The contract's monthly value in `m`, readjusted and prorated by days.
///
/// Readjustment: the MRR is the value at the start; in every `readjust_month` after the start month
/// (up to and including `m`) it grows by `readjust_percent`, rounded to cents each time, as an
/// invoice would be. Proration: days covered ÷ days in the month, rounded to cents.
pub fn contracted(t: &Terms, m: Month) -> Share {
    let days_in_month = m.days();
    let mut share = Share { days_in_month, ..Default::default() };
    if t.status == "suspended" {
        share.suspended = true;
        return share;
    }
    let from = t.start.max(m.first());
    let to = t.end.map_or(m.last(), |e| e.min(m.last()));
    if to < from {
        return share;
    }
    share.days = (to - from).num_days() as u32 + 1;
    let mut monthly = t.mrr;
    let mut previous = t.mrr;
    if let (Some(rm), Some(p)) = (t.readjust_month, t.readjust_percent) {
        let start = Month::of(t.start);
        // Anniversary months strictly after the start month, up to m.
        let mut x = Month { year: start.year, month: rm };
        if x <= start {
            x = x.shift(12);
        }
        while x <= m {
            previous = monthly;
            monthly = cents(monthly * (Decimal::ONE + p / Decimal::from(100)));
            share.readjustments += 1;
            if x == m {
                share.readjusted_this_month = true;
            }
            x = x.shift(12);
        }
    }
    share.monthly = monthly;
    share.prorated = share.days < days_in_month;
    let prorate = |v: Decimal| {
        if share.prorated {
            cents(v * Decimal::from(share.days) / Decimal::from(days_in_month))
        } else {
            v
        }
    };
    share.amount = prorate(monthly);
    share.previous_amount = if share.readjusted_this_month { prorate(previous) } else { share.amount };
    share
}

/// "Amount or percent": a gap is within tolerance when it is at most `amount` or at most
/// `percent` % of the contracted value, i.e. at most the larger of the two.
pub fn tolerance(contracted: Decimal, amount: Decimal, percent: Decimal) -> Decimal {
    cents(amount.max(contracted.abs() * percent / Decimal::from(100)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Within,
    Above,
    Below,
    NoBilling,
    NoContract,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Within => "within",
            Verdict::Above => "above",
            Verdict::Below => "below",
            Verdict::NoBilling => "no_billing",
            Verdict::NoContract => "no_contract",
        }
    }
    pub fn is_divergent(self) -> bool {
        self != Verdict::Within
    }
}

/// The verdict of a client-month; `None` when there is nothing to say (no contract asks for
/// anything and nothing was billed).
pub fn verdict(has_contract: bool, contracted: Decimal, billed: Decimal, tol: Decimal) -> Option<Verdict> {
    if !has_contract {
        return (!billed.is_zero()).then_some(Verdict::NoContract);
    }
    if contracted.is_zero() && billed.is_zero() {
        return None;
    }
    if billed.is_zero() && contracted > Decimal::ZERO {
        return Some(if contracted <= tol { Verdict::Within } else { Verdict::NoBilling });
    }
    let gap = billed - contracted;
    Some(if gap.abs() <= tol {
        Verdict::Within
    } else if gap > Decimal::ZERO {
        Verdict::Above
    } else {
        Verdict::Below
    })
}

/// What one client was billed in one month, summed by how the titles count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bucket {
    /// Titles that count (their statuses are in the basis; never cancelled ones).
    pub counted: Decimal,
    pub counted_n: u32,
    pub cancelled: Decimal,
    pub cancelled_n: u32,
    /// Titles left out by the status basis (other than cancelled).
    pub excluded: Decimal,
    pub excluded_n: u32,
    /// Titles partially paid (they count; named in explanations).
    pub partial_n: u32,
}

/// A probable reason for a gap, with the values its sentence needs
/// (`contracts.explain.<key>` in the window's dictionaries).
#[derive(Clone, Debug, PartialEq)]
pub struct Hint {
    pub key: &'static str,
    pub params: BTreeMap<String, String>,
}

fn hint(key: &'static str, params: &[(&str, String)]) -> Hint {
    Hint { key, params: params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect() }
}

/// Everything the explanation step may look at for one client-month.
pub struct Evidence<'a> {
    pub contracted: Decimal,
    pub billed: Decimal,
    pub tolerance: Decimal,
    pub bucket: &'a Bucket,
    /// The amounts of the counted titles of the month.
    pub title_amounts: &'a [Decimal],
    /// (month, contracted, billed) of the month before and the month after.
    pub neighbours: [(Month, Decimal, Decimal); 2],
    pub shares: &'a [Share],
    /// Other clients with the same CNPJ root (same company group): (name, contracted, billed).
    pub siblings: &'a [(String, Decimal, Decimal)],
}

/// Names what probably explains a gap, most likely first. Close means: within the tolerance.
pub fn explain(e: &Evidence<'_>) -> Vec<Hint> {
    let mut out = vec![];
    let gap = e.billed - e.contracted;
    let close = |a: Decimal, b: Decimal| (a - b).abs() <= e.tolerance;
    let money = |d: Decimal| cents(d).to_string();
    if gap < Decimal::ZERO && e.bucket.cancelled_n > 0 {
        let closes = close(e.billed + e.bucket.cancelled, e.contracted);
        out.push(hint(
            "cancelled_title",
            &[
                ("count", e.bucket.cancelled_n.to_string()),
                ("amount", money(e.bucket.cancelled)),
                ("closes", closes.to_string()),
            ],
        ));
    }
    if gap < Decimal::ZERO && e.bucket.excluded_n > 0 {
        out.push(hint(
            "excluded_status",
            &[("count", e.bucket.excluded_n.to_string()), ("amount", money(e.bucket.excluded))],
        ));
    }
    if e.bucket.partial_n > 0 {
        out.push(hint("partial_payment", &[("count", e.bucket.partial_n.to_string())]));
    }
    if gap > Decimal::ZERO && e.title_amounts.len() > 1 {
        if let Some(a) = e.title_amounts.iter().find(|a| close(**a, gap)) {
            out.push(hint("one_off", &[("amount", money(*a))]));
        }
    }
    for (m, c, b) in &e.neighbours {
        let their_gap = *b - *c;
        // What is missing here was billed next door (or the other way round).
        if !gap.is_zero() && !their_gap.is_zero() && close(their_gap, -gap) && (their_gap.abs() > e.tolerance) {
            out.push(hint("neighbour_month", &[("month", m.to_string()), ("amount", money(their_gap.abs()))]));
        }
    }
    for (name, c, b) in e.siblings {
        let their_gap = *b - *c;
        if !gap.is_zero() && close(their_gap, -gap) && their_gap.abs() > e.tolerance {
            out.push(hint("group_document", &[("client", name.clone()), ("amount", money(their_gap.abs()))]));
        }
    }
    if let Some(s) = e.shares.iter().find(|s| s.prorated && s.days > 0) {
        out.push(hint("prorated", &[("days", s.days.to_string()), ("days_in_month", s.days_in_month.to_string())]));
    }
    if gap < Decimal::ZERO {
        if let Some(s) = e.shares.iter().find(|s| s.readjusted_this_month) {
            // Billed as if the readjustment had not happened yet.
            let unreadjusted = e.contracted - s.amount + s.previous_amount;
            if close(e.billed, unreadjusted) {
                out.push(hint("readjustment_not_billed", &[("amount", money(s.amount - s.previous_amount))]));
            }
        }
    }
    if e.shares.iter().any(|s| s.suspended) && gap > Decimal::ZERO {
        out.push(hint("suspended", &[]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }
    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn terms(mrr: &str, start: &str, end: Option<&str>) -> Terms {
        Terms {
            mrr: d(mrr),
            start: date(start),
            end: end.map(date),
            status: "active".into(),
            readjust_month: None,
            readjust_percent: None,
        }
    }

    #[test]
    fn months_parse_move_and_count_their_days() {
        let m = Month::parse("2024-02").unwrap();
        assert_eq!(m.days(), 29);
        assert_eq!(m.shift(-2).to_string(), "2023-12");
        assert_eq!(m.shift(11).to_string(), "2025-01");
        assert_eq!(Month::parse("2026-12").unwrap().last(), date("2026-12-31"));
        assert_eq!(m.until(Month::parse("2025-02").unwrap()), 12);
        for bad in ["2026-13", "2026-00", "26-01", "2026/01", "", "abcd-ef"] {
            let e = Month::parse(bad).unwrap_err().to_string();
            assert!(e.contains("YYYY-MM"), "{bad}: {e}");
        }
    }

    #[test]
    fn proration_by_days_covered() {
        // (mrr, start, end, month, amount, days, prorated)
        let cases = [
            ("3000.00", "2026-01-01", None, "2026-03", "3000.00", 31, false),
            ("3000.00", "2026-03-16", None, "2026-03", "1548.39", 16, true), // 3000 × 16/31
            ("3000.00", "2026-01-01", Some("2026-04-10"), "2026-04", "1000.00", 10, true), // 3000 × 10/30
            ("3000.00", "2026-01-01", Some("2026-03-31"), "2026-04", "0", 0, false),
            ("3000.00", "2026-05-01", None, "2026-04", "0", 0, false),
            ("2900.00", "2024-02-29", Some("2024-02-29"), "2024-02", "100.00", 1, true), // one day of 29
            ("1000.00", "2026-02-01", None, "2026-02", "1000.00", 28, false),
            ("1000.005", "2026-02-01", None, "2026-02", "1000.005", 28, false), // whole month: as entered
        ];
        for (mrr, start, end, month, amount, days, prorated) in cases {
            let s = contracted(&terms(mrr, start, end), Month::parse(month).unwrap());
            assert_eq!((s.amount, s.days, s.prorated), (d(amount), days, prorated), "{mrr} {start} {end:?} {month}");
        }
    }

    #[test]
    fn readjustment_applies_from_its_month_each_year_after_the_start() {
        let mut t = terms("1000.00", "2024-03-10", None);
        t.readjust_month = Some(3);
        t.readjust_percent = Some(d("4.5"));
        // (month, amount, readjustments, readjusted this month)
        let cases = [
            ("2024-03", "709.68", 0, false), // start month: 10th to 31st = 22/31, not readjusted
            ("2025-02", "1000.00", 0, false),
            ("2025-03", "1045.00", 1, true),
            ("2025-12", "1045.00", 1, false),
            ("2026-03", "1092.03", 2, true), // 1045 × 1.045 = 1092.025 → 1092.03
        ];
        for (m, amount, n, this) in cases {
            let s = contracted(&t, Month::parse(m).unwrap());
            assert_eq!((s.amount, s.readjustments, s.readjusted_this_month), (d(amount), n, this), "{m}");
        }
        let s = contracted(&t, Month::parse("2026-03").unwrap());
        assert_eq!(s.previous_amount, d("1045.00"));
        // A readjustment month before the start month waits for the next year.
        t.start = date("2024-05-01");
        assert_eq!(contracted(&t, Month::parse("2024-12").unwrap()).readjustments, 0);
        assert_eq!(contracted(&t, Month::parse("2025-03").unwrap()).amount, d("1045.00"));
        // Suspended: nothing expected.
        t.status = "suspended".into();
        let s = contracted(&t, Month::parse("2025-03").unwrap());
        assert!(s.suspended && s.amount.is_zero());
    }

    #[test]
    fn tolerance_is_amount_or_percent_whichever_is_larger_and_edges_are_within() {
        let (amt, pct) = (d("50"), d("5"));
        // (contracted, billed, verdict)
        let cases = [
            ("1000.00", "1050.00", Some(Verdict::Within)), // exactly R$ 50 (5% is also 50)
            ("1000.00", "1050.01", Some(Verdict::Above)),
            ("1000.00", "949.99", Some(Verdict::Below)),
            ("4000.00", "4200.00", Some(Verdict::Within)), // exactly 5% (R$ 200 > R$ 50)
            ("4000.00", "4200.01", Some(Verdict::Above)),
            ("4000.00", "3800.00", Some(Verdict::Within)),
            ("4000.00", "3799.99", Some(Verdict::Below)),
            ("200.00", "250.00", Some(Verdict::Within)), // R$ 50 > 5% of 200
            ("200.00", "250.01", Some(Verdict::Above)),
            ("3000.00", "0", Some(Verdict::NoBilling)),
            ("40.00", "0", Some(Verdict::Within)), // what is missing is within R$ 50
            ("0", "0", None),
            ("0", "500.00", Some(Verdict::Above)), // a contract that asks nothing this month, billed
        ];
        for (c, b, v) in cases {
            let tol = tolerance(d(c), amt, pct);
            assert_eq!(verdict(true, d(c), d(b), tol), v, "{c} vs {b} (tolerance {tol})");
        }
        assert_eq!(verdict(false, Decimal::ZERO, d("10"), d("50")), Some(Verdict::NoContract));
        assert_eq!(verdict(false, Decimal::ZERO, Decimal::ZERO, d("50")), None);
        // Configurable: zero tolerance makes a cent count.
        assert_eq!(verdict(true, d("100"), d("100.01"), tolerance(d("100"), d("0"), d("0"))), Some(Verdict::Above));
    }

    fn ev<'a>(
        contracted: &str,
        billed: &str,
        bucket: &'a Bucket,
        titles: &'a [Decimal],
        shares: &'a [Share],
        siblings: &'a [(String, Decimal, Decimal)],
        neighbours: [(Month, Decimal, Decimal); 2],
    ) -> Evidence<'a> {
        Evidence {
            contracted: d(contracted),
            billed: d(billed),
            tolerance: d("50"),
            bucket,
            title_amounts: titles,
            neighbours,
            shares,
            siblings,
        }
    }

    fn keys(h: &[Hint]) -> Vec<&'static str> {
        h.iter().map(|h| h.key).collect()
    }

    #[test]
    fn explanations_name_the_probable_cause() {
        let m = Month::parse("2026-10").unwrap();
        let quiet = [(m.shift(-1), d("1000"), d("1000")), (m.shift(1), d("1000"), d("1000"))];
        // A cancelled title that would close the gap.
        let b = Bucket { cancelled: d("1000"), cancelled_n: 1, ..Default::default() };
        let h = explain(&ev("1000", "0", &b, &[], &[], &[], quiet));
        assert_eq!(keys(&h), ["cancelled_title"]);
        assert_eq!(h[0].params["closes"], "true");
        // A one-off item billed on top of the monthly fee.
        let b = Bucket { counted: d("1850"), counted_n: 2, ..Default::default() };
        let titles = [d("1000"), d("850")];
        assert_eq!(keys(&explain(&ev("1000", "1850", &b, &titles, &[], &[], quiet))), ["one_off"]);
        // Billed in the next month instead.
        let next = [(m.shift(-1), d("1000"), d("1000")), (m.shift(1), d("1000"), d("2000"))];
        let h = explain(&ev("1000", "0", &Bucket::default(), &[], &[], &[], next));
        assert_eq!(keys(&h), ["neighbour_month"]);
        assert_eq!(h[0].params["month"], "2026-11");
        // Billed under another CNPJ of the same group.
        let sib = [("ACME FILIAL".to_string(), Decimal::ZERO, d("990"))];
        let h = explain(&ev("1000", "0", &Bucket::default(), &[], &[], &sib, quiet));
        assert_eq!(keys(&h), ["group_document"]);
        assert_eq!(h[0].params["client"], "ACME FILIAL");
        // A contract that started mid-month, and a readjustment not billed yet.
        let share = Share {
            amount: d("1045"),
            previous_amount: d("1000"),
            readjusted_this_month: true,
            days: 31,
            days_in_month: 31,
            ..Default::default()
        };
        let h = explain(&ev("1045", "1000", &Bucket::default(), &[d("1000")], &[share], &[], quiet));
        // Within tolerance of 50, but the explanation still names it when asked.
        assert_eq!(keys(&h), ["readjustment_not_billed"]);
        let part = Share { amount: d("500"), days: 15, days_in_month: 30, prorated: true, ..Default::default() };
        assert_eq!(
            keys(&explain(&ev("500", "1000", &Bucket::default(), &[d("1000")], &[part], &[], quiet))),
            ["prorated"]
        );
        // Nothing plausible: no hint at all rather than a guess.
        let b = Bucket { counted: d("700"), counted_n: 1, ..Default::default() };
        assert!(explain(&ev("1000", "700", &b, &[d("700")], &[], &[], quiet)).is_empty());
    }
}
