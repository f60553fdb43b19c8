//! ERPNext's errors in plain language, each with the fix. The HTTP status decides the family
//! first (the reference warns that `exc_type` can be any ERPNext class), then the class and the
//! message refine it. ERPNext's own words are kept in `remote_messages`.

use crate::erp::erpnext::client::{plain_text, ErpError};
use crate::store::now_utc;

use super::RunError;

fn join_msgs(m: &[String]) -> String {
    m.iter().map(|s| s.trim().trim_end_matches('.').to_string()).collect::<Vec<_>>().join("; ")
}

fn base(step: Option<u8>, kind: &str, message: String, fix: String, e: Option<&ErpError>) -> RunError {
    let site = e.and_then(|e| e.site());
    RunError {
        step,
        kind: kind.to_string(),
        message,
        fix,
        remote_messages: site.map(|s| s.messages.iter().map(|m| plain_text(m)).collect()).unwrap_or_default(),
        exc_type: site.map(|s| s.exc_type.clone()).filter(|s| !s.is_empty()),
        http_status: site.map(|s| s.status),
        at: now_utc(),
    }
}

/// A plain error not coming from the site (setup, the form, the mapper's content).
pub fn plain(step: Option<u8>, kind: &str, message: impl Into<String>, fix: impl Into<String>) -> RunError {
    base(step, kind, message.into(), fix.into(), None)
}

/// The site refused a posting as later than its own now, and could not be given its own time
/// (no clock in its reply, or refused again at its own time). Says both clocks.
#[allow(clippy::too_many_arguments)]
pub fn future_posting(
    step: Option<u8>,
    what: &str,
    site: &str,
    e: &ErpError,
    sent: &super::docs::Posting,
    tz: chrono_tz::Tz,
    ours: chrono::NaiveDateTime,
    theirs: Option<chrono::NaiveDateTime>,
) -> RunError {
    let fmt = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let clocks = match theirs {
        Some(t) => format!(
            "Its clock reads {} and this computer's reads {} (both in {}, the site's time zone).",
            fmt(t),
            fmt(ours),
            tz.name()
        ),
        None => format!(
            "The site did not say what its clock reads; this computer's reads {} in {}, the site's time zone.",
            fmt(ours),
            tz.name()
        ),
    };
    base(
        step,
        "future_posting",
        format!(
            "Could not {what}: {site} refuses the posting {} {} as being in its future, even at the site's own time. {clocks}",
            sent.date, sent.time
        ),
        format!("Check the clock and the time zone of {site} (System Settings → Time Zone) and of this computer. Then retry the run: it continues at this step and never creates a document twice."),
        Some(e),
    )
}

/// `what`: "create the Purchase Order on site A (Demo ERPNext A)" — the action that failed.
/// `site`: "site A (Demo ERPNext A)". `attempts`: how many times it was tried (for transient errors).
pub fn site_error(step: Option<u8>, what: &str, site: &str, doctype: &str, e: &ErpError, attempts: u32) -> RunError {
    let retry = "Then retry the run: it continues at this step and never creates a document twice.";
    let Some(s) = e.site() else {
        return base(
            step,
            "unavailable",
            format!("Could not {what}: {site} did not answer properly after {attempts} attempt(s) ({}).", e.short()),
            format!("Check that {site} is up (open it in the browser) and reachable from this computer. {retry}"),
            Some(e),
        );
    };
    let msgs: Vec<String> = s.messages.iter().map(|m| plain_text(m)).collect();
    let said = if msgs.is_empty() { String::new() } else { format!(" ERPNext says: \"{}\".", join_msgs(&msgs)) };
    let all = msgs.join(" ").to_lowercase();
    let class = s.exc_type.as_str();
    match s.status {
        401 => base(
            step,
            "credentials",
            format!("Could not {what}: {site} rejected the API key and secret."),
            format!("Check the API key and secret of the connection {site} on the Connections page. {retry}"),
            Some(e),
        ),
        403 => base(
            step,
            "permission",
            format!(
                "Could not {what}: the API user of {site} is not allowed to do it{}.",
                s.error_message.as_deref().map(|m| format!(" ({})", plain_text(m))).unwrap_or_default()
            ),
            format!("Give the API user roles that may create, submit and cancel {doctype} (for example Purchase Manager, Stock User, Sales User; System Manager to create custom fields). {retry}"),
            Some(e),
        ),
        404 => base(
            step,
            "not_found",
            format!("Could not {what}: {site} answered that it does not exist.{said}"),
            format!("Check that {site} is an ERPNext site with {doctype} and that the document was not deleted. {retry}"),
            Some(e),
        ),
        429 => base(
            step,
            "rate_limited",
            format!(
                "Could not {what}: {site} is limiting requests{}.",
                s.retry_after.map(|d| format!(" and asked to wait {} s", d.as_secs())).unwrap_or_default()
            ),
            format!("Wait a while, then retry the run; it continues at this step. {retry}"),
            Some(e),
        ),
        st if st >= 500 => base(
            step,
            "unavailable",
            format!("Could not {what}: {site} had an internal error {attempts} time(s) in a row (HTTP {st} {class}).{said}"),
            format!("This is usually temporary (a busy database, maintenance). Wait, then retry the run. If it persists, send the details to the site's administrator. {retry}"),
            Some(e),
        ),
        _ if class == "LinkValidationError" => {
            let what_missing = msgs.iter().map(|m| m.trim_start_matches("Could not find ").to_string()).collect::<Vec<_>>().join("; ");
            base(
                step,
                "not_found",
                format!("Could not {what}: {site} has no record named in it: {what_missing}."),
                format!("Check the spelling against {site}, or create the missing record there. {retry} If the form itself must change, compensate this run and start a new one."),
                Some(e),
            )
        }
        _ if class == "MandatoryError" => {
            let fields = msgs
                .iter()
                .map(|m| m.trim_start_matches("Error: ").replace("Value missing for ", ""))
                .collect::<Vec<_>>()
                .join("; ");
            base(
                step,
                "missing_fields",
                format!("Could not {what}: {site} requires values the document does not have: {fields}."),
                format!("Set defaults for them on {site} (for example a default price list, currency or account for the company), then retry the run."),
                Some(e),
            )
        }
        _ if class == "SerialNoWarehouseError" || all.contains("is not present in the warehouse") || all.contains("available qty") => base(
            step,
            "serial_not_available",
            format!("Could not {what}: a serial number is not in stock where the document takes it from; it may have been delivered already.{said}"),
            format!("Look the serial up on {site} (Serial No list) to see where it went. If it was delivered by mistake, cancel that delivery and retry; otherwise compensate this run and start a new one without that serial."),
            Some(e),
        ),
        _ if class == "SerialNoDuplicateError" || (all.contains("serial") && (all.contains("already") || all.contains("exists"))) => base(
            step,
            "duplicate_serial",
            format!("Could not {what}: a serial number is already in stock on {site}; a serial cannot be received twice.{said}"),
            "Check whether these items were received earlier. If a serial is wrong, compensate this run and start a new one with the right serials; if the earlier receipt was the mistake, cancel it on the site and retry.".to_string(),
            Some(e),
        ),
        _ if all.contains("actual qty") || all.contains("serial nos required") || all.contains("serial and batch bundle") => base(
            step,
            "serial_count",
            format!("Could not {what}: the number of serial numbers does not match the quantity.{said}"),
            "Give exactly one serial per unit: compensate this run and start a new one with the corrected list.".to_string(),
            Some(e),
        ),
        _ if class == "OverAllowanceError" => base(
            step,
            "conflict",
            format!("Could not {what}: it would receive more than the Purchase Order allows; part of it was received already.{said}"),
            "Check the Purchase Receipts made against this Purchase Order on the site; cancel the extra one if it is a mistake, then retry.".to_string(),
            Some(e),
        ),
        _ if class == "TimestampMismatchError" => base(
            step,
            "conflict",
            format!("Could not {what}: the document changed on {site} while BackOffice worked on it.{said}"),
            format!("Retry the run; BackOffice reads the document again. {retry}"),
            Some(e),
        ),
        _ if class == "LinkExistsError" => base(
            step,
            "conflict",
            format!("Could not {what}: another submitted document on {site} still links to it.{said}"),
            "Cancel the linked document on the site first (or decide to keep both), then run compensate again.".to_string(),
            Some(e),
        ),
        _ if class == "CancelledLinkError" => base(
            step,
            "cancelled_on_site",
            format!("Could not {what}: it refers to a document that was cancelled on {site}.{said}"),
            "Compensate this run and start a new one.".to_string(),
            Some(e),
        ),
        _ => base(
            step,
            "validation",
            format!("Could not {what}: {site} refused it (HTTP {} {class}).{said}", s.status),
            format!("Correct the cause on {site}, then retry the run from this step. If the form itself must change, compensate this run and start a new one."),
            Some(e),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::erpnext::client::SiteError;

    fn err(status: u16, class: &str, msg: &str) -> ErpError {
        ErpError::Site(Box::new(SiteError {
            connection: "A".into(),
            url: "u".into(),
            status,
            exc_type: class.into(),
            messages: vec![msg.into()],
            error_message: None,
            exception: None,
            retry_after: None,
            site_clock: None,
            body: String::new(),
        }))
    }

    #[test]
    fn families_and_fixes() {
        let e = site_error(
            Some(3),
            "create the Delivery Note",
            "site A",
            "Delivery Note",
            &err(
                417,
                "SerialNoWarehouseError",
                "Serial No <strong>SN-9</strong> is not present in the warehouse <strong>Stores - A</strong>.",
            ),
            1,
        );
        assert_eq!(e.kind, "serial_not_available");
        assert!(e.message.contains("SN-9 is not present"), "{}", e.message);
        assert_eq!(e.remote_messages, vec!["Serial No SN-9 is not present in the warehouse Stores - A."]);
        let e = site_error(
            Some(3),
            "x",
            "site A",
            "Delivery Note",
            &err(417, "MandatoryError", "Error: Value missing for Delivery Note: Price List"),
            1,
        );
        assert_eq!(e.kind, "missing_fields");
        assert!(e.message.contains("Delivery Note: Price List"));
        let e = site_error(
            Some(2),
            "x",
            "site A",
            "Purchase Receipt",
            &err(417, "ValidationError", "Row #1: Total qty 1 of Serial and Batch Bundle is not equal to Actual Qty 2"),
            1,
        );
        assert_eq!(e.kind, "serial_count");
        let e = site_error(
            Some(1),
            "x",
            "site A",
            "Purchase Order",
            &err(417, "LinkValidationError", "Could not find Supplier: Acme"),
            1,
        );
        assert_eq!(e.kind, "not_found");
        assert!(e.message.contains("Supplier: Acme"));
        let e = site_error(Some(1), "x", "site A", "Purchase Order", &err(500, "QueryDeadlockError", ""), 5);
        assert_eq!(e.kind, "unavailable");
        assert!(e.message.contains("5 time(s)"));
    }
}
