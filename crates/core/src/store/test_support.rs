//! What the core's own unit tests share about the store (compiled into tests only): a fresh team
//! database on the throwaway cluster `cargo xtask test` starts, and a connection row to hang data on.

use postgres::NoTls;

use super::team::TeamUrl;
use super::Store;
use crate::vals;

/// A new, empty database on the test cluster (its address in BACKOFFICE_TEST_POSTGRES_URL).
pub(crate) fn team_database() -> TeamUrl {
    let admin = std::env::var("BACKOFFICE_TEST_POSTGRES_URL").expect(
        "BACKOFFICE_TEST_POSTGRES_URL is not set: run through `cargo xtask test`, or \
         `cargo xtask session --postgres -- cargo test -p backoffice-core --lib`",
    );
    let name = format!("bo_test_{}", uuid::Uuid::new_v4().simple());
    std::thread::spawn({
        let (admin, name) = (admin.clone(), name.clone());
        move || {
            let mut c = postgres::Client::connect(&admin, NoTls).expect("the test cluster answers");
            c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        }
    })
    .join()
    .unwrap();
    TeamUrl::parse(&format!("{}/{name}", admin.rsplit_once('/').unwrap().0)).unwrap()
}

/// An Omie connection `c1` ("Loja"), on either backend.
pub(crate) fn add_omie_connection(store: &Store) {
    store
        .tx(|db| {
            db.execute(
                "INSERT INTO connections (id, name, kind, base_url, timezone, created_at, updated_at)
                 VALUES ('c1', 'Loja', 'omie', 'https://app.omie.example/api/v1/', 'America/Sao_Paulo', ?1, ?1)",
                vals!["2026-12-01T10:00:00.000Z"],
            )
            .map(|_| ())
        })
        .unwrap();
}
