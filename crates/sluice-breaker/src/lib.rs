//! Circuit breakers for sluice: one breaker per dataset, kept in a state store with an
//! append-only audit log, driven by check runs and by people (`trip`, `reset`, `override`).
//!
//! [`machine`] is the state machine alone; [`store`] keeps it (SQLite or Postgres, with
//! migrations); the functions here run each operation in one store transaction: read,
//! apply, write the breaker and append the transitions together. [`guard`] decides whether
//! a dataset may publish (its breaker and every one upstream of it, through the lineage);
//! [`publish`] moves data for write–audit–publish, crash-safely.
//!
//! Features: `fault-injection` compiles in the `SLUICE_FAULT` crash hook of the publish
//! tests (test builds only).

pub mod guard;
pub mod machine;
pub mod publish;
pub mod report;
pub mod store;

use chrono::{DateTime, Utc};
use sluice_spec::BreakerPolicy;

pub use guard::Verdict;
pub use machine::{
    Breaker, Command, Effective, Event, LastRun, Manual, Outcome, State, Transition,
};
pub use publish::PublishError;
pub use store::{
    CheckRecord, DatasetRun, Logged, MetricPoint, Partition, PartitionError, PointQuery,
    Publication, PublicationEvent, PublicationStatus, Result, RunFilter, RunRecord, RunRow,
    RunTotals, Store, StoreError,
};

/// What a run leaves in the store besides its breakers' outcomes.
#[derive(Clone, Debug)]
pub struct RunRecording<'a> {
    /// The run.
    pub run: &'a RunRecord,
    /// Its check results.
    pub checks: &'a [CheckRecord],
    /// Its metric values.
    pub metrics: &'a [MetricPoint],
    /// Metric values of runs that finished before this are deleted (retention).
    pub forget_before: Option<DateTime<Utc>>,
}

/// Records a run: the run, its check results and metrics, and each checked dataset's
/// outcome applied to its breaker (expired overlays fall back first), in one transaction.
/// Returns the transitions, in order.
pub fn record_run(
    store: &mut Store,
    rec: &RunRecording<'_>,
    outcomes: &[(BreakerPolicy, Outcome, String)],
) -> Result<Vec<Transition>> {
    let _span = tracing::info_span!("record_run", run_id = %rec.run.run_id).entered();
    store.write(|tx| {
        tx.record_run(rec.run, rec.checks)?;
        tx.record_metrics(rec.metrics)?;
        if let Some(before) = rec.forget_before {
            tx.prune_metrics(before)?;
        }
        let mut out = Vec::new();
        for (policy, outcome, dataset) in outcomes {
            let mut b = tx
                .get(dataset)?
                .unwrap_or_else(|| Breaker::new(dataset, outcome.at));
            out.extend(machine::expire(&mut b, outcome.at));
            out.extend(machine::on_run(&mut b, policy, outcome));
            tx.put(&b)?;
        }
        for t in &out {
            tx.append(t)?;
        }
        Ok(out)
    })
}

/// A person's command on `dataset`'s breaker; returns the breaker after it and the logged
/// transitions (an expiry that fell due first, then the command's own).
pub fn command(
    store: &mut Store,
    dataset: &str,
    cmd: &Command,
    reason: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(Breaker, Vec<Logged>)> {
    store.write(|tx| {
        let mut b = tx
            .get(dataset)?
            .unwrap_or_else(|| Breaker::new(dataset, now));
        let mut ts: Vec<Transition> = machine::expire(&mut b, now).into_iter().collect();
        ts.push(machine::command(&mut b, cmd, reason, by, now));
        tx.put(&b)?;
        let mut logged = Vec::new();
        for t in ts {
            let id = tx.append(&t)?;
            logged.push(Logged { id, transition: t });
        }
        Ok((b, logged))
    })
}

/// Every breaker, after letting expired overlays fall back (and logging that).
pub fn breakers(store: &mut Store, now: DateTime<Utc>) -> Result<Vec<Breaker>> {
    Ok(breakers_expiring(store, now)?.0)
}

/// [`breakers`], with the expiries it logged (for alerts). Read in a read-only snapshot
/// first: only when an overlay has expired does it take the write lock (readers such as
/// a dashboard then never queue behind the CLI's writers).
pub fn breakers_expiring(
    store: &mut Store,
    now: DateTime<Utc>,
) -> Result<(Vec<Breaker>, Vec<Transition>)> {
    let all = store.read(|tx| tx.all())?;
    let due = all
        .iter()
        .any(|b| machine::expire(&mut b.clone(), now).is_some());
    if !due {
        return Ok((all, vec![]));
    }
    store.write(|tx| {
        let mut all = tx.all()?;
        let mut expired = Vec::new();
        for b in &mut all {
            if let Some(t) = machine::expire(b, now) {
                tx.put(b)?;
                tx.append(&t)?;
                expired.push(t);
            }
        }
        Ok((all, expired))
    })
}

/// The audit log of one dataset (or all), oldest first, at most the last `limit` entries.
pub fn history(store: &mut Store, dataset: Option<&str>, limit: usize) -> Result<Vec<Logged>> {
    store.read(|tx| tx.history(dataset, limit))
}

/// The report over the audit log since `since` (after letting expired overlays fall back).
pub fn report(
    store: &mut Store,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<report::Report> {
    breakers(store, now)?;
    let log = store.read(|tx| tx.since(since))?;
    Ok(report::build(&log, since, now))
}

/// Who is acting, for the audit log: `--by`, else the Airflow task running us
/// (`airflow:dag_id.task_id (run_id)` from `AIRFLOW_CTX_*`), else `$USER`.
pub fn actor(by: Option<&str>) -> String {
    if let Some(b) = by.map(str::trim).filter(|b| !b.is_empty()) {
        return b.to_string();
    }
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(dag) = var("AIRFLOW_CTX_DAG_ID") {
        let task = var("AIRFLOW_CTX_TASK_ID").map_or(String::new(), |t| format!(".{t}"));
        let run = var("AIRFLOW_CTX_DAG_RUN_ID").map_or(String::new(), |r| format!(" ({r})"));
        return format!("airflow:{dag}{task}{run}");
    }
    var("USER")
        .or_else(|| var("USERNAME"))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn run(n: i64) -> RunRecord {
        RunRecord {
            run_id: format!("run-{n}"),
            started_at: t(n),
            finished_at: t(n),
            status: sluice_spec::RunStatus::Failed,
            summary: serde_json::json!({"total": 1}),
            config: "sluice.yaml".into(),
            actor: "test".into(),
            report: None,
            datasets: vec![DatasetRun {
                dataset: "orders".into(),
                status: "ok".into(),
                duration_ms: 5,
                failed: 1,
            }],
        }
    }

    #[test]
    fn a_store_keeps_breakers_and_their_log_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/state.db");
        let mut s = Store::open_sqlite(&path).unwrap();
        assert_eq!(s.version().unwrap(), Store::known_version());
        let policy = BreakerPolicy::default();
        let o = Outcome {
            run_id: "run-1".into(),
            at: t(1),
            failing: vec!["not_null(id)".into()],
            unverified: vec![],
        };
        let check = CheckRecord {
            dataset: "orders".into(),
            name: "not_null(id)".into(),
            kind: "not_null".into(),
            severity: sluice_spec::Severity::Error,
            status: sluice_spec::CheckStatus::Fail,
            observed: serde_json::json!(3),
            message: "3 of 10 rows".into(),
        };
        let point = |run: &str, at: i64, value: f64| MetricPoint {
            run_id: run.into(),
            dataset: "orders".into(),
            metric: "row_count".into(),
            value,
            partition: Partition::parse(&["ds=2026-11-30"]).unwrap(),
            logical_at: t(at),
            at: t(at),
            status: "ok".into(),
            passed: false,
        };
        let metrics = [point("run-0", 0, 8.0), point("run-1", 1, 10.0)];
        let rec = RunRecording {
            run: &run(1),
            checks: &[check],
            metrics: &metrics,
            forget_before: Some(t(1)),
        };
        let ts = record_run(&mut s, &rec, &[(policy, o, "orders".into())]).unwrap();
        assert_eq!(ts.len(), 1);
        // The metric is kept, as a real number; retention deleted the older one.
        let kept = s
            .write(|tx| {
                tx.metric_points(&PointQuery {
                    dataset: "orders",
                    metric: Some("row_count"),
                    series: Some(r#"{"ds":"*"}"#),
                    ..Default::default()
                })
            })
            .unwrap();
        assert_eq!(kept, [point("run-1", 1, 10.0)]);
        drop(s);
        // Reopened: migrations are not applied twice, the state is there.
        let mut s = Store::open_sqlite(&path).unwrap();
        let all = breakers(&mut s, t(2)).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].effective(), Effective::Open);
        assert_eq!(all[0].failing_checks, ["not_null(id)"]);
        assert_eq!(all[0].last_run.as_ref().unwrap().run_id, "run-1");
        let (b, logged) = command(
            &mut s,
            "orders",
            &Command::Override { until: t(30) },
            "ship it",
            "ana",
            t(3),
        )
        .unwrap();
        assert_eq!(b.effective(), Effective::Override);
        assert_eq!(logged.len(), 1);
        // Listing after the expiry logs the fall-back once.
        let all = breakers(&mut s, t(31)).unwrap();
        assert_eq!(all[0].effective(), Effective::Open);
        let _ = breakers(&mut s, t(32)).unwrap();
        let h = history(&mut s, Some("orders"), 100).unwrap();
        let events: Vec<&str> = h.iter().map(|l| l.transition.event.as_str()).collect();
        assert_eq!(events, ["trip", "override", "expire"]);
        assert!(h.windows(2).all(|w| w[0].id < w[1].id));
        assert_eq!(h[1].transition.by, "ana");
        assert_eq!(h[2].transition.at, t(30));
        assert_eq!(history(&mut s, None, 2).unwrap().len(), 2);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_reported_as_damaged_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let junk = b"this is not sqlite, but somebody's notes".repeat(100);
        std::fs::write(&path, &junk).unwrap();
        let e = Store::open_sqlite(&path).err().expect("refused");
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
        assert!(e.to_string().contains("move it aside"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), junk, "nothing written to it");
    }

    #[test]
    fn another_applications_database_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let files = |d: &std::path::Path| {
            let mut v: Vec<_> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            v.sort();
            v
        };
        // A plain application database, and a Rails one (its own `schema_migrations`).
        for (name, ddl, listed) in [
            (
                "app.db",
                "CREATE TABLE users (id INTEGER PRIMARY KEY); CREATE VIEW names AS SELECT id FROM users;",
                "names, users",
            ),
            (
                "rails.db",
                "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY); CREATE TABLE ar_internal_metadata (key TEXT);",
                "ar_internal_metadata, schema_migrations",
            ),
        ] {
            let path = dir.path().join(name);
            rusqlite::Connection::open(&path)
                .unwrap()
                .execute_batch(ddl)
                .unwrap();
            let bytes = std::fs::read(&path).unwrap();
            let before = files(dir.path());
            let e = Store::open_sqlite(&path).err().expect("refused");
            assert!(
                matches!(&e, StoreError::Foreign { path: p, .. } if *p == path),
                "{e}"
            );
            let message = e.to_string();
            assert!(message.contains(&format!("({listed})")), "{message}");
            assert!(
                message.contains("belongs to another application"),
                "{message}"
            );
            assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name} untouched");
            assert_eq!(files(dir.path()), before, "no journal or WAL file left");
        }
        // An empty file and a database without tables are initialised.
        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(
            Store::open_sqlite(&empty).unwrap().version().unwrap(),
            Store::known_version()
        );
        let bare = dir.path().join("bare.db");
        rusqlite::Connection::open(&bare)
            .unwrap()
            .execute_batch("PRAGMA user_version = 3;")
            .unwrap();
        assert_eq!(
            Store::open_sqlite(&bare).unwrap().version().unwrap(),
            Store::known_version()
        );
        // And a store of sluice's own opens again.
        assert_eq!(
            Store::open_sqlite(&empty).unwrap().version().unwrap(),
            Store::known_version()
        );
    }

    #[test]
    fn an_older_store_is_migrated_in_place_keeping_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut s = Store::open_sqlite(&path).unwrap();
        command(
            &mut s,
            "orders",
            &Command::Trip { until: None },
            "kept",
            "ana",
            t(1),
        )
        .unwrap();
        drop(s);
        // Back to schema 1, as a sluice before publishing and metric history left it.
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("DROP TABLE publications; DROP TABLE locks; DROP TABLE metrics; DROP TABLE run_datasets; DROP INDEX runs_by_start; ALTER TABLE runs DROP COLUMN report; DELETE FROM schema_migrations WHERE version >= 2;")
            .unwrap();
        drop(c);
        let mut s = Store::open_sqlite(&path).unwrap();
        assert_eq!(s.version().unwrap(), 4);
        assert_eq!(
            history(&mut s, Some("orders"), 10).unwrap().len(),
            1,
            "data kept"
        );
        let id = s
            .write(|tx| {
                tx.publication(&store::NewPublication {
                    dataset: "orders",
                    event: store::PublicationEvent::Publish,
                    version: "v1",
                    status: store::PublicationStatus::Done,
                    run_id: None,
                    at: t(2),
                    actor: "ana",
                    reason: "ok",
                })
            })
            .unwrap();
        assert!(id > 0, "the new tables work");
        let mut rec = run(7);
        rec.report = Some(serde_json::json!({"run_id": "run-7"}));
        s.write(|tx| tx.record_run(&rec, &[])).unwrap();
        let (row, report) = s.read(|tx| tx.run("run-7")).unwrap().unwrap();
        assert_eq!(row.datasets, rec.datasets, "runs keep their datasets");
        assert_eq!(report, rec.report, "and their report");
    }

    #[test]
    fn runs_are_listed_newest_first_a_page_at_a_time_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open_sqlite(&dir.path().join("state.db")).unwrap();
        for n in 1..=5 {
            let mut r = run(n);
            r.run_id = format!("run-{n:02}");
            if n % 2 == 0 {
                r.status = sluice_spec::RunStatus::Passed;
                r.datasets[0].dataset = "refunds".into();
            }
            s.write(|tx| tx.record_run(&r, &[])).unwrap();
        }
        let ids = |f: &RunFilter, s: &mut Store| -> Vec<String> {
            s.read(|tx| tx.runs(f))
                .unwrap()
                .into_iter()
                .map(|r| r.run_id)
                .collect()
        };
        let all = RunFilter {
            limit: 10,
            ..RunFilter::default()
        };
        assert_eq!(
            ids(&all, &mut s),
            ["run-05", "run-04", "run-03", "run-02", "run-01"]
        );
        let page2 = RunFilter {
            limit: 2,
            before: Some("run-04".into()),
            ..RunFilter::default()
        };
        assert_eq!(ids(&page2, &mut s), ["run-03", "run-02"]);
        let refunds = RunFilter {
            limit: 10,
            dataset: Some("refunds".into()),
            ..RunFilter::default()
        };
        assert_eq!(ids(&refunds, &mut s), ["run-04", "run-02"]);
        let failed = RunFilter {
            limit: 10,
            status: Some(sluice_spec::RunStatus::Failed),
            since: Some(t(3)),
            ..RunFilter::default()
        };
        assert_eq!(ids(&failed, &mut s), ["run-05", "run-03"]);
        let totals = s.read(|tx| tx.run_totals()).unwrap();
        assert_eq!(
            totals.runs,
            [("failed".to_string(), 3), ("passed".to_string(), 2)]
        );
        let last: Vec<(&str, &str)> = totals
            .last
            .iter()
            .map(|(id, _, d)| (id.as_str(), d.dataset.as_str()))
            .collect();
        assert_eq!(last, [("run-05", "orders"), ("run-04", "refunds")]);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(Store::open_sqlite(&path).unwrap());
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute("INSERT INTO schema_migrations VALUES (99, 'later')", [])
            .unwrap();
        drop(c);
        let e = Store::open_sqlite(&path).err().expect("refused");
        assert!(
            e.to_string()
                .contains("schema version 99, newer than this sluice knows (4)"),
            "{e}"
        );
    }

    #[test]
    fn the_actor_comes_from_the_flag_then_airflow_then_the_user() {
        assert_eq!(actor(Some("ana")), "ana");
        // The environment part is exercised end to end (tests/breaker.rs), where the
        // variables can be set per process.
        assert!(!actor(None).is_empty());
    }
}
