//! Dates in each site's own time.
//!
//! ERPNext keeps dates in the site's system time zone and refuses a stock posting later than its
//! own "now" (reference, response serialisation and section 8). So "today" and "now" are computed
//! per document, at the moment it is sent, in the zone of the site that receives it; a date the user
//! typed is never sent later than that site's now. The zone comes from the site itself
//! (`frappe.client.get_time_zone`) when the connection is tested and before every check or run;
//! only when the site will not say does the connection's own zone (the user's choice, or the
//! desktop's) stand in, and the run says so.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;

use super::api::erp_client;
use super::docs::Posting;
use super::TransferInput;
use crate::erp::erpnext::client::{ErpError, ErpnextClient};
use crate::error::CoreResult;
use crate::model::{Connection, TimezoneSource};
use crate::Ctx;

/// A site's wall clock at `now`, to the second.
pub fn wall(now: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    let t = now.with_timezone(&tz).naive_local();
    t.with_nanosecond(0).unwrap_or(t)
}

/// The posting of a document sent at `now` to a site in `tz`: the user's date and time when given,
/// else the site's today and now; never later than the site's now. The second value is the wanted
/// date and time when it was later than that and was moved back.
pub fn posting_for(i: &TransferInput, tz: Tz, now: DateTime<Utc>) -> (Posting, Option<NaiveDateTime>) {
    let site_now = wall(now, tz);
    let date = i.posting_date.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let time = i
        .posting_time
        .as_deref()
        .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M:%S").or_else(|_| NaiveTime::parse_from_str(t, "%H:%M")).ok());
    let wanted = match (date, time) {
        (None, _) => site_now,
        (Some(d), Some(t)) => d.and_time(t),
        (Some(d), None) => d.and_time(site_now.time()),
    };
    if wanted > site_now {
        return (Posting::at(site_now), Some(wanted));
    }
    (Posting::at(wanted), None)
}

/// ERPNext's refusal of a posting later than its own now ("Posting future stock transactions are
/// not allowed due to Immutable Ledger"; older texts say "cannot be a future date").
pub fn is_future_posting(e: &ErpError) -> bool {
    let Some(s) = e.site() else { return false };
    if s.status >= 500 || s.status == 429 || s.status < 400 {
        return false;
    }
    let all = s.messages.iter().chain(s.exception.iter()).map(|m| m.to_lowercase()).collect::<Vec<_>>().join(" ");
    all.contains("future") && (all.contains("posting") || all.contains("immutable ledger"))
}

/// A site's time zone as the run uses it, and how it was learnt.
#[derive(Debug, Clone)]
pub struct SiteZone {
    pub tz: Tz,
    pub source: TimezoneSource,
    /// Said when the site did not name its zone (what was used instead, and how to fix it).
    pub note: Option<String>,
}

/// Asks the site which zone it keeps and stores the answer on the connection. When the site
/// will not say (an old or locked-down site, no network), the connection's zone stands in,
/// with a note naming it.
pub async fn erpnext_site_zone(cx: &Ctx, conn: &Connection, client: &ErpnextClient) -> SiteZone {
    let stored: Tz = conn.timezone.parse().unwrap_or(chrono_tz::UTC);
    let why = match client.site_time_zone().await {
        Ok(Some(tz)) => {
            if let Err(e) = cx.connections().set_site_timezone(&conn.id, tz) {
                tracing::warn!(connection = %conn.name, error = %e, "could not store the site's time zone");
            }
            return SiteZone { tz, source: TimezoneSource::Site, note: None };
        }
        Ok(None) => "the site has no time zone in its System Settings".to_string(),
        Err(e) => format!("the site did not say its time zone ({})", e.short()),
    };
    let whose = match conn.timezone_source {
        TimezoneSource::Site => "the zone it said last time",
        TimezoneSource::User => "the zone set on the connection",
        TimezoneSource::Computer | TimezoneSource::Default => "this computer's zone",
    };
    let note = format!(
        "{}: {why}; using {whose}, {}. If the site keeps another zone, set it on the connection.",
        conn.name,
        stored.name()
    );
    SiteZone { tz: stored, source: conn.timezone_source, note: Some(note) }
}

/// [`Core::erpnext_site_zone`] with the connection's own client (credentials from the keychain);
/// without credentials, the connection's stored zone.
pub async fn erpnext_zone_of(cx: &Ctx, conn: &Connection) -> CoreResult<SiteZone> {
    let client = erp_client(cx, conn)?;
    Ok(erpnext_site_zone(cx, conn, &client).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_evening_in_guayaquil_is_still_the_day_before() {
        let tz: Tz = "America/Guayaquil".parse().unwrap();
        let (p, note) = posting_for(&TransferInput::default(), tz, at("2026-12-06T00:02:15.700Z"));
        assert_eq!((p.date.as_str(), p.time.as_str()), ("2026-12-05", "19:02:15"));
        assert!(note.is_none());
        // The same instant in São Paulo (UTC-3) and in UTC.
        let (p, _) =
            posting_for(&TransferInput::default(), "America/Sao_Paulo".parse().unwrap(), at("2026-12-06T00:02:15Z"));
        assert_eq!((p.date.as_str(), p.time.as_str()), ("2026-12-05", "21:02:15"));
        let (p, _) = posting_for(&TransferInput::default(), chrono_tz::UTC, at("2026-12-06T00:02:15Z"));
        assert_eq!(p.date, "2026-12-06");
    }

    #[test]
    fn a_typed_date_is_kept_unless_it_is_later_than_the_sites_now() {
        let tz: Tz = "America/Guayaquil".parse().unwrap();
        let now = at("2026-12-06T00:02:15Z");
        let typed = |d: &str, t: Option<&str>| TransferInput {
            posting_date: Some(d.into()),
            posting_time: t.map(str::to_string),
            ..Default::default()
        };
        let (p, note) = posting_for(&typed("2026-12-01", Some("09:30:00")), tz, now);
        assert_eq!((p.date.as_str(), p.time.as_str(), note), ("2026-12-01", "09:30:00", None));
        // A date without a time takes the site's clock time.
        let (p, _) = posting_for(&typed("2026-12-01", None), tz, now);
        assert_eq!(p.time, "19:02:15");
        // Today on the site but a later hour: the site's now.
        let (p, note) = posting_for(&typed("2026-12-05", Some("23:00:00")), tz, now);
        assert_eq!((p.date.as_str(), p.time.as_str()), ("2026-12-05", "19:02:15"));
        assert_eq!(note.unwrap().to_string(), "2026-12-05 23:00:00");
        // Tomorrow on the site (today in UTC): the site's now.
        let (p, _) = posting_for(&typed("2026-12-06", Some("00:01:00")), tz, now);
        assert_eq!(p.date, "2026-12-05");
    }

    #[test]
    fn future_posting_refusals_are_recognised() {
        use crate::erp::erpnext::client::SiteError;
        let err = |status: u16, msg: &str| {
            ErpError::Site(Box::new(SiteError {
                connection: "A".into(),
                url: "u".into(),
                status,
                exc_type: "ValidationError".into(),
                messages: vec![msg.into()],
                error_message: None,
                exception: None,
                retry_after: None,
                site_clock: None,
                body: String::new(),
            }))
        };
        assert!(is_future_posting(&err(
            417,
            "Posting future stock transactions are not allowed due to Immutable Ledger"
        )));
        assert!(is_future_posting(&err(417, "Posting Date 2026-12-06 cannot be a future date")));
        assert!(!is_future_posting(&err(417, "Could not find Supplier: Acme")));
        assert!(!is_future_posting(&err(500, "Posting future stock transactions are not allowed")));
    }
}
