//! A database of its own on the test cluster for each test (the throwaway cluster `cargo xtask
//! test` starts, named in BACKOFFICE_TEST_POSTGRES_URL; `cargo xtask session --postgres -- cargo
//! test -p backoffice-core --test team_store` gives one to a single run).

#![allow(dead_code)]

use backoffice_core::store::team::TeamUrl;

pub fn admin_url() -> String {
    std::env::var("BACKOFFICE_TEST_POSTGRES_URL").expect(
        "BACKOFFICE_TEST_POSTGRES_URL is not set: run through `cargo xtask test`, or \
         `cargo xtask session --postgres -- cargo test -p backoffice-core --test team_store`",
    )
}

/// A new, empty database on the test cluster.
pub fn fresh_database() -> TeamUrl {
    // The synchronous client may not run on an async test's own thread.
    std::thread::spawn(create_database).join().unwrap()
}

fn create_database() -> TeamUrl {
    let admin = admin_url();
    let name = format!("bo_test_{}", uuid::Uuid::new_v4().simple());
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("the test cluster answers");
    c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    TeamUrl::parse(&format!("{}/{name}", admin.rsplit_once('/').unwrap().0)).unwrap()
}

/// A superuser's session on that database, to look at it (or damage it) from outside BackOffice.
pub fn admin_on(url: &TeamUrl) -> postgres::Client {
    let admin = admin_url();
    let db = url.shown().rsplit_once('/').unwrap().1.split('?').next().unwrap().to_string();
    postgres::Client::connect(&format!("{}/{db}", admin.rsplit_once('/').unwrap().0), postgres::NoTls).unwrap()
}
