//! A [`Store`] is used and dropped from inside tokio runtimes, as the async application
//! layer and the HTTP server will: in a multi-threaded runtime's task, in a current-thread
//! runtime, in `spawn_blocking`, and with a write that fails or panics midway (its
//! transaction is rolled back there). The `postgres` crate's synchronous client runs a
//! runtime of its own, which panicked in each of these ("Cannot start a runtime from within
//! a runtime", "Cannot drop a runtime in a context where blocking is not allowed").
//!
//! SQLite always; Postgres when `SLUICE_TEST_POSTGRES` names a server
//! (`export SLUICE_TEST_POSTGRES=$(.ci/postgres.sh)`), required when
//! `SLUICE_REQUIRE_POSTGRES=1` (CI).

use std::panic::AssertUnwindSafe;

use chrono::{DateTime, TimeZone, Utc};
use sluice_breaker::{Command, Effective, Store, StoreError, breakers, command, history};

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

/// Where a store lives for one test.
enum Target {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Target {
    fn open(&self) -> Store {
        match self {
            Target::Sqlite(dir) => Store::open_sqlite(&dir.path().join("state.db")).unwrap(),
            Target::Postgres(url) => Store::open_postgres(url).unwrap(),
        }
    }
}

fn sqlite() -> Target {
    Target::Sqlite(tempfile::tempdir().unwrap())
}

/// A fresh database on the server `SLUICE_TEST_POSTGRES` names, created from a plain
/// thread (the test itself runs inside a runtime); `None` when the variable is unset.
fn postgres(test: &str) -> Option<Target> {
    let Some(url) = std::env::var("SLUICE_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var("SLUICE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "SLUICE_REQUIRE_POSTGRES=1 but SLUICE_TEST_POSTGRES is not set: start a server with .ci/postgres.sh"
        );
        eprintln!(
            "skipping the Postgres half of {test}: set SLUICE_TEST_POSTGRES=$(.ci/postgres.sh) to run it"
        );
        return None;
    };
    let name = format!(
        "sluice_{test}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let create = format!("CREATE DATABASE {name}");
    let server = url.clone();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&server, postgres::NoTls)
            .unwrap_or_else(|e| panic!("SLUICE_TEST_POSTGRES={server}: {e}"));
        client.batch_execute(&create).unwrap();
    })
    .join()
    .unwrap();
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
    Some(Target::Postgres(format!("{base}/{name}")))
}

/// Opens the store, writes, reads, fails a write and panics in another (both rolled
/// back), writes again, and drops the store — from wherever it is called.
fn exercise(target: &Target, dataset: &str) {
    let mut store = target.open();
    let (b, _) = command(
        &mut store,
        dataset,
        &Command::Trip { until: None },
        "halted from a task",
        "ana",
        t(1),
    )
    .unwrap();
    assert_eq!(b.effective(), Effective::Tripped);
    // A write that fails midway is rolled back.
    let e = store
        .write(|tx| {
            let mut b = tx.get(dataset)?.expect("tripped above");
            b.manual = None;
            tx.put(&b)?;
            Err::<(), _>(StoreError::Sql {
                what: "test".into(),
                message: "fails on purpose".into(),
            })
        })
        .unwrap_err();
    assert!(e.to_string().contains("fails on purpose"), "{e}");
    // So is one that panics midway, and the store is still usable after it.
    let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| {
        store.write(|tx| -> sluice_breaker::Result<()> {
            let mut b = tx.get(dataset)?.expect("tripped above");
            b.manual = None;
            tx.put(&b)?;
            panic!("a bug in the caller's closure");
        })
    }));
    assert!(panicked.is_err());
    let all = breakers(&mut store, t(2)).unwrap();
    let b = all.iter().find(|b| b.dataset == dataset).unwrap();
    assert_eq!(b.effective(), Effective::Tripped, "neither write was kept");
    assert_eq!(
        b.manual.as_ref().map(|m| m.reason.as_str()),
        Some("halted from a task")
    );
    assert_eq!(history(&mut store, Some(dataset), 10).unwrap().len(), 1);
    drop(store);
    // Reopened and dropped again: the first connection was closed cleanly.
    let mut store = target.open();
    assert_eq!(history(&mut store, Some(dataset), 10).unwrap().len(), 1);
}

/// Runs [`exercise`] in a multi-threaded runtime's worker, in a task, and in
/// `spawn_blocking`; then moves a store opened outside the runtime into a task.
async fn in_tasks(target: Target) {
    exercise(&target, "in_the_test_body");
    let target = std::sync::Arc::new(target);
    let t2 = target.clone();
    tokio::spawn(async move { exercise(&t2, "in_a_task") })
        .await
        .unwrap();
    let t3 = target.clone();
    tokio::task::spawn_blocking(move || exercise(&t3, "in_spawn_blocking"))
        .await
        .unwrap();
    // Opened outside the runtime (a server at startup), used and dropped in a task.
    let t4 = target.clone();
    let mut store = std::thread::spawn(move || t4.open()).join().unwrap();
    tokio::spawn(async move {
        command(
            &mut store,
            "opened_outside",
            &Command::Trip { until: None },
            "moved into a task",
            "ana",
            t(1),
        )
        .unwrap();
        drop(store);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_store_is_used_and_dropped_inside_a_multi_threaded_runtime() {
    in_tasks(sqlite()).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_sqlite_store_is_used_and_dropped_inside_a_current_thread_runtime() {
    exercise(&sqlite(), "orders");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_store_is_used_and_dropped_inside_a_multi_threaded_runtime() {
    if let Some(target) = postgres("rt_multi") {
        in_tasks(target).await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_postgres_store_is_used_and_dropped_inside_a_current_thread_runtime() {
    if let Some(target) = postgres("rt_current") {
        exercise(&target, "orders");
    }
}

/// Outside any runtime nothing changes (no thread is spawned; this is the CLI's case).
#[test]
fn a_postgres_store_still_works_outside_a_runtime() {
    if let Some(target) = postgres("rt_none") {
        exercise(&target, "orders");
    }
}

/// The application layer moves a store into `spawn_blocking` or across tasks.
#[test]
fn a_store_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<Store>();
}
