//! The whole life of a dataset through the application layer alone — no binary, no
//! printing: check and record, trip by hand, the guard blocking downstream, a publish
//! refused, then reset, publish, a failed publish quarantined, and rollback. Run inside
//! the test's own tokio runtime, as a server would call it.

use std::path::Path;

use sluice_app::breakers::{self, Action, ManualRequest};
use sluice_app::check::{CheckRequest, check};
use sluice_app::engine::RunStatus;
use sluice_app::publish::{PublishOutcome, PublishRequest, publish};
use sluice_app::{ErrorKind, Workspace, WorkspaceOptions};

const CONFIG: &str = r#"version: 1
datasets:
  revenue:
    path: published/revenue.csv
    owner: finance
    checks:
      - row_count: { min: 1 }
      - not_null: revenue
  forecast:
    path: published/forecast/
    staging: staging/forecast/
    owner: fpa
    breaker: { reset: manual }
    checks:
      - range: { column: revenue, min: 0 }
stages:
  fc: { inputs: [revenue], outputs: [forecast] }
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("sluice.yaml"), CONFIG).unwrap();
    std::fs::create_dir_all(d.join("published")).unwrap();
    std::fs::write(d.join("published/revenue.csv"), "day,revenue\n1,10\n").unwrap();
    dir
}

fn stage(d: &Path, csv: &str) {
    std::fs::create_dir_all(d.join("staging/forecast")).unwrap();
    std::fs::write(d.join("staging/forecast/part-0.csv"), csv).unwrap();
}

fn published(d: &Path) -> Option<String> {
    std::fs::read_to_string(d.join("published/forecast/part-0.csv")).ok()
}

fn manual(action: Action, dataset: &str, reason: &str) -> ManualRequest {
    ManualRequest {
        action,
        dataset: dataset.into(),
        reason: Some(reason.into()),
        until: None,
        by: Some("ana".into()),
    }
}

async fn publish_forecast(ws: &Workspace) -> PublishOutcome {
    let req = PublishRequest {
        dataset: "forecast".into(),
        ..PublishRequest::default()
    };
    publish(ws, req, |r| panic!("nothing to recover: {r:?}"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_trip_guard_publish_rollback_through_the_application_layer() {
    let p = project();
    let d = p.path();
    let ws = Workspace::open(&d.join("sluice.yaml"), WorkspaceOptions::default()).unwrap();

    // 1. Check and record: the upstream dataset passes, its breaker stays closed.
    let req = CheckRequest {
        datasets: vec!["revenue".into()],
        record: true,
        ..CheckRequest::default()
    };
    let out = check(&ws, req).await.unwrap();
    assert_eq!(out.report.status, RunStatus::Passed);
    assert!(out.transitions.is_empty());

    // 2. Trip it by hand: the guard now stops everything downstream of it.
    let v = breakers::manual(&ws, &manual(Action::Trip, "revenue", "vendor outage")).unwrap();
    assert_eq!(v.breaker.breaker.effective().as_str(), "tripped");
    let g = breakers::guard(&ws, "forecast").unwrap();
    assert!(!g.may_publish);
    assert_eq!(g.blocked_by.len(), 1);
    assert_eq!(g.blocked_by[0].breaker.dataset, "revenue");
    assert_eq!(g.blocked_by[0].owner.as_deref(), Some("finance"));
    let json = serde_json::to_value(&g).unwrap();
    assert_eq!(json["blocked_by"][0]["state"], "tripped");
    assert_eq!(json["blocked_by"][0]["manual"]["by"], "ana");

    // 3. A publish is refused by the guard; nothing moves.
    stage(d, "day,revenue\n1,10\n2,12\n");
    match publish_forecast(&ws).await {
        PublishOutcome::Blocked { verdict } => assert_eq!(verdict.blocked_by.len(), 1),
        other => panic!("expected Blocked, got {other:?}"),
    }
    assert!(published(d).is_none());

    // 4. Reset with a reason: the publish goes through, v1.
    breakers::manual(&ws, &manual(Action::Reset, "revenue", "vendor back")).unwrap();
    match publish_forecast(&ws).await {
        PublishOutcome::Published {
            promotion, report, ..
        } => {
            assert_eq!(promotion.version, "v1");
            assert_eq!(report.status, RunStatus::Passed);
        }
        other => panic!("expected Published, got {other:?}"),
    }
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,10\n2,12\n"));

    // 5. A bad output is quarantined with its report, the breaker opens, v1 stays.
    stage(d, "day,revenue\n1,-5\n");
    let run_id = match publish_forecast(&ws).await {
        PublishOutcome::Quarantined {
            report,
            at,
            transitions,
        } => {
            assert_eq!(report.status, RunStatus::Failed);
            assert!(at.join("report.json").is_file());
            assert!(at.join("data/part-0.csv").is_file());
            assert_eq!(transitions.len(), 1);
            assert_eq!(transitions[0].to.as_str(), "open");
            report.run_id
        }
        other => panic!("expected Quarantined, got {other:?}"),
    };
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,10\n2,12\n"));
    let status = breakers::status(&ws, Some("forecast")).unwrap();
    assert_eq!(
        status.breakers[0].breaker.breaker.run_id.as_deref(),
        Some(run_id.as_str())
    );

    // 6. Reset, publish v2, then roll back to v1.
    breakers::manual(&ws, &manual(Action::Reset, "forecast", "model fixed")).unwrap();
    stage(d, "day,revenue\n1,11\n");
    assert!(matches!(
        publish_forecast(&ws).await,
        PublishOutcome::Published { .. }
    ));
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,11\n"));
    let req = PublishRequest {
        dataset: "forecast".into(),
        rollback: true,
        ..PublishRequest::default()
    };
    match publish(&ws, req, |_| {}).await.unwrap() {
        PublishOutcome::RolledBack { rollback } => {
            assert_eq!(rollback.version, "v1");
            assert_eq!(rollback.reason, "rolled back from v2");
        }
        other => panic!("expected RolledBack, got {other:?}"),
    }
    assert_eq!(published(d).as_deref(), Some("day,revenue\n1,10\n2,12\n"));

    // The audit log has every step, with who and why.
    let log = breakers::history(&ws, "revenue", 10).unwrap();
    let events: Vec<&str> = log.iter().map(|l| l.0.transition.event.as_str()).collect();
    assert_eq!(events, ["manual_trip", "reset"]);
}

#[tokio::test(flavor = "current_thread")]
async fn mistakes_are_typed_errors_and_change_nothing() {
    let p = project();
    let d = p.path();
    let ws = Workspace::open(&d.join("sluice.yaml"), WorkspaceOptions::default()).unwrap();
    let e = breakers::guard(&ws, "forcast").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("did you mean `forecast`?"), "{e}");
    let mut no_reason = manual(Action::Trip, "revenue", "");
    no_reason.reason = None;
    let e = breakers::manual(&ws, &no_reason).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid);
    let mut past = manual(Action::Override, "revenue", "ship it");
    past.until = Some("2001-01-01T00:00:00Z".into());
    assert_eq!(
        breakers::manual(&ws, &past).unwrap_err().kind(),
        ErrorKind::Invalid
    );
    let e = publish(
        &ws,
        PublishRequest {
            dataset: "revenue".into(),
            ..PublishRequest::default()
        },
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Invalid, "{e}");
    let e = publish(
        &ws,
        PublishRequest {
            dataset: "forecast".into(),
            ..PublishRequest::default()
        },
        |_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(e.to_string().contains("nothing staged"), "{e}");
    // Nothing was tripped by any of it.
    let s = breakers::status(&ws, None).unwrap();
    assert!(s.breakers.iter().all(|r| !r.breaker.seen));
}
