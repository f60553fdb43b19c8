//! Exact parsing of what ERPs send: money and quantities as strings or numbers, dates in several formats.

use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use rust_decimal::Decimal;
use serde_json::Value;

/// Every [`Problem::key`] the parser gives (each has a text under `parse.` in jobLog.json).
pub const PROBLEM_KEYS: [&str; 5] = ["not_a_number", "out_of_range", "not_a_date", "not_a_datetime", "not_in_zone"];

/// Why a value does not parse: a dictionary key (`ui/src/locales/<lang>/jobLog.json`, under
/// `parse.`), the offending value, and the English text for logs and the CLI.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub key: &'static str,
    pub value: String,
    pub extra: Option<String>,
    english: String,
}

impl Problem {
    fn new(key: &'static str, value: impl Into<String>, english: String) -> Problem {
        Problem { key, value: value.into(), extra: None, english }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english)
    }
}

impl From<Problem> for String {
    fn from(p: Problem) -> String {
        p.english
    }
}

/// Parses a money/quantity value exactly. Strings ("250.0", "-5", "1,234.50"?) and JSON numbers
/// (read from their textual form, never through f64) are accepted; `null`/"" are `None`.
pub fn decimal(v: &Value) -> Result<Option<Decimal>, Problem> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Decimal::from_str(s.trim())
            .or_else(|_| Decimal::from_scientific(s.trim()))
            .map(Some)
            .map_err(|_| Problem::new("not_a_number", s.as_str(), format!("\"{s}\" is not a number"))),
        // serde_json keeps the number's text with `arbitrary_precision` off too: Display gives the
        // shortest exact representation of the parsed value.
        Value::Number(n) => {
            let text = n.to_string();
            Decimal::from_str(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .map(Some)
                .map_err(|_| Problem::new("out_of_range", text.as_str(), format!("{text} is out of range")))
        }
        other => Err(Problem::new("not_a_number", other.to_string(), format!("expected a number, got {other}"))),
    }
}

/// Parses a date as Contífico and Omie send them: `dd/mm/yyyy`, `yyyy-mm-dd`, or an ISO date-time
/// (`2026-02-18T11:12:08`, with or without offset); returns the calendar date.
pub fn date(v: &Value) -> Result<Option<NaiveDate>, Problem> {
    let s = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim(),
        other => return Err(Problem::new("not_a_date", other.to_string(), format!("expected a date, got {other}"))),
    };
    if let Ok(d) = NaiveDate::parse_from_str(s, "%d/%m/%Y") {
        return Ok(Some(d));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Some(d));
    }
    if let Some(dt) = datetime_naive(s) {
        return Ok(Some(dt.date()));
    }
    Err(Problem::new("not_a_date", s, format!("\"{s}\" is not a date (expected dd/mm/yyyy or yyyy-mm-dd)")))
}

fn datetime_naive(s: &str) -> Option<NaiveDateTime> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.naive_utc());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, f) {
            return Some(dt);
        }
    }
    None
}

/// A date-time given in the company's time zone, as UTC RFC 3339 (for modification marks).
pub fn datetime_utc(v: &Value, tz: chrono_tz::Tz) -> Result<Option<String>, Problem> {
    let s = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim(),
        other => {
            return Err(Problem::new("not_a_datetime", other.to_string(), format!("expected a date-time, got {other}")))
        }
    };
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(Some(dt.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    }
    let naive = datetime_naive(s)
        .or_else(|| date(v).ok().flatten().and_then(|d| d.and_hms_opt(0, 0, 0)))
        .ok_or_else(|| Problem::new("not_a_datetime", s, format!("\"{s}\" is not a date-time")))?;
    let local = tz.from_local_datetime(&naive).earliest().ok_or_else(|| Problem {
        extra: Some(tz.to_string()),
        ..Problem::new("not_in_zone", s, format!("\"{s}\" does not exist in {tz}"))
    })?;
    Ok(Some(local.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
}

/// Follows a dotted path (`cliente.ruc`) into a JSON object.
pub fn get_path<'a>(v: &'a Value, path: &str) -> &'a Value {
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.get(part).unwrap_or(&Value::Null);
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_from_strings_and_numbers_is_exact() {
        assert_eq!(decimal(&json!("250.0")).unwrap().unwrap().to_string(), "250.0");
        assert_eq!(decimal(&json!("-5.0")).unwrap().unwrap(), Decimal::from_str("-5").unwrap());
        assert_eq!(decimal(&json!(0.1)).unwrap().unwrap().to_string(), "0.1");
        assert_eq!(decimal(&json!(19.99)).unwrap().unwrap().to_string(), "19.99");
        assert_eq!(decimal(&json!(12)).unwrap().unwrap().to_string(), "12");
        assert_eq!(decimal(&json!(null)).unwrap(), None);
        assert_eq!(decimal(&json!("")).unwrap(), None);
        assert!(decimal(&json!("12,50 USD")).is_err());
        assert!(decimal(&json!(true)).is_err());
    }

    #[test]
    fn dates_in_every_documented_format() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 18).unwrap();
        assert_eq!(date(&json!("18/02/2026")).unwrap(), Some(d));
        assert_eq!(date(&json!("2026-02-18")).unwrap(), Some(d));
        assert_eq!(date(&json!("2026-02-18T11:12:08")).unwrap(), Some(d));
        assert_eq!(date(&json!("2026-02-18T11:12:08-05:00")).unwrap().unwrap().to_string(), "2026-02-18");
        assert!(date(&json!("31/02/2026")).is_err());
        assert!(date(&json!("ontem")).is_err());
        assert_eq!(date(&json!(null)).unwrap(), None);
    }

    #[test]
    fn local_times_become_utc_in_the_company_zone() {
        let tz: chrono_tz::Tz = "America/Guayaquil".parse().unwrap();
        assert_eq!(datetime_utc(&json!("2026-02-18T11:12:08"), tz).unwrap().unwrap(), "2026-02-18T16:12:08Z");
        assert_eq!(datetime_utc(&json!("18/02/2026"), tz).unwrap().unwrap(), "2026-02-18T05:00:00Z");
    }

    #[test]
    fn dotted_paths() {
        let v = json!({"cliente": {"ruc": "0991"}});
        assert_eq!(get_path(&v, "cliente.ruc"), &json!("0991"));
        assert_eq!(get_path(&v, "persona.ruc"), &Value::Null);
    }
}
