//! "Not before" marks per host that a site asked for (`Retry-After`), kept in the store so that
//! every task and every process on this database waits them out, not only the request that was
//! told. Times are wall-clock milliseconds since the Unix epoch.

use super::Store;
use crate::error::CoreResult;
use crate::vals;

/// Until when `host` asked not to be called (if that is still ahead of `now_ms`).
pub fn host_not_before(store: &Store, host: &str, now_ms: i64) -> CoreResult<Option<i64>> {
    store.query(|db| {
        db.query_opt("SELECT until_ms FROM host_waits WHERE host=?1 AND until_ms>?2", vals![host, now_ms])?
            .map(|r| r.get(0))
            .transpose()
    })
}

/// Records that `host` asked not to be called before `until_ms` (a later mark already kept wins).
pub fn hold_host(store: &Store, host: &str, until_ms: i64, reason: &str) -> CoreResult<()> {
    store.tx(|db| {
        db.execute(
            "INSERT INTO host_waits (host, until_ms, reason) VALUES (?1, ?2, ?3)
             ON CONFLICT(host) DO UPDATE SET
               until_ms=CASE WHEN excluded.until_ms > host_waits.until_ms THEN excluded.until_ms ELSE host_waits.until_ms END,
               reason=CASE WHEN excluded.until_ms > host_waits.until_ms THEN excluded.reason ELSE host_waits.reason END",
            vals![host, until_ms, reason],
        )?;
        Ok(())
    })
}
