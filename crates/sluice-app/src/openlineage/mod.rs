//! OpenLineage out: `check` and `publish` announce their runs as OpenLineage RunEvents, to
//! an HTTP endpoint (Marquez, or any backend speaking the OpenLineage API) and/or an NDJSON
//! file: START when the run starts, then COMPLETE — or FAIL when a check of severity
//! `error` failed, the run errored, or a publish was blocked by an open breaker.
//!
//! - The **job** is the stage (`check --stage`), the dataset (`check -d X`, or `X.publish`
//!   for `publish X`), or `check` for a run over several datasets; its namespace is
//!   configurable (default: the parent's, else `sluice`).
//! - The **run id** is sluice's own run id (a UUID v7), so the JSON report, the state store
//!   and the lineage backend name the same run.
//! - **Inputs** are every dataset the run reads, named as OpenLineage names files
//!   (namespace `file`, name the absolute path), with their sluice name as a `symlinks`
//!   facet, the `schema` facet, and as input facets `dataQualityMetrics` (what the one scan
//!   measured: row count, null counts, min and max of the checked columns) and
//!   `dataQualityAssertions` (one assertion per check). `publish X` reads X's staging
//!   folder and writes X's path (its **output**).
//! - The **parent** run facet nests the run under the orchestrator's task (Airflow's
//!   OpenLineage macros give its namespace, job and run id).
//!
//! The events are built by pure functions ([`start_event`], [`end_event`]) from a
//! [`JobPlan`] (what the run reads and writes, known before it starts) and the run's report;
//! an [`Emitter`] delivers them. Delivery never decides a run's outcome: a failed delivery
//! is recorded in the emitter ([`Emitter::failures`]) for the surface to show as a warning.

mod deliver;
mod events;
mod plan;
mod settings;

use std::time::Duration;

pub(crate) use deliver::announce;
pub use deliver::{Emitter, Failure};
pub use events::{End, RunMeta, assertion, end_event, metrics_facet, start_event};
pub use plan::{DatasetRef, JobKind, JobPlan, dataset_identity};
pub use settings::{HttpTarget, Options, Parent, RunRef, Settings, join_url};

use crate::http::Retry;

/// The OpenLineage spec version the events follow.
const SPEC: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
/// The namespace of sluice's jobs when nothing else is given.
pub const DEFAULT_NAMESPACE: &str = "sluice";
/// Where the endpoint sits under the URL, as the OpenLineage Python client has it.
pub const DEFAULT_ENDPOINT: &str = "api/v1/lineage";
/// One HTTP attempt's timeout, as the OpenLineage Python client has it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Three attempts, 0.5 s then 1 s apart, for at most 10 s: a backend that is down delays a
/// run by seconds, never fails it.
const RETRY: Retry = Retry {
    attempts: 3,
    initial_backoff: Duration::from_millis(500),
    max_total: Duration::from_secs(10),
};

/// The producer URI in every event and facet: this sluice's source.
fn producer() -> String {
    format!(
        "{}/tree/v{}",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use serde_json::{Value, json};
    use sluice_engine::report::Column;
    use sluice_engine::{CheckResult, CheckStatus, DatasetReport, RunReport};
    use sluice_spec::OpenLineageSettings;
    use sluice_spec::Severity;
    use std::path::Path;

    const RUN: &str = "01932f4e-9a1b-7c3d-8e4f-0123456789ab";

    fn opts() -> Options {
        Options {
            file: Some("events.ndjson".into()),
            ..Options::default()
        }
    }

    #[test]
    fn urls_join_like_the_python_client() {
        let j = |u, e| join_url(u, e).unwrap();
        assert_eq!(
            j("http://m:5000", "api/v1/lineage"),
            "http://m:5000/api/v1/lineage"
        );
        assert_eq!(
            j("http://m:5000/", "api/v1/lineage"),
            "http://m:5000/api/v1/lineage"
        );
        assert_eq!(
            j("https://h/ol/", "api/v1/lineage"),
            "https://h/ol/api/v1/lineage"
        );
        assert_eq!(
            j("https://h/ol", "api/v1/lineage"),
            "https://h/api/v1/lineage"
        );
        assert_eq!(j("https://h/x/y", "/events"), "https://h/events");
        assert_eq!(j("https://h/custom/path", ""), "https://h/custom/path");
        assert!(join_url("ftp://h", "x").is_err());
        assert!(join_url("marquez:5000", "x").is_err());
    }

    #[test]
    fn settings_flags_win_over_the_config_and_nothing_configured_is_none() {
        let config = OpenLineageSettings {
            url: Some("http://from-config:5000".into()),
            namespace: Some("analytics".into()),
            api_key: Some("k1".into()),
            timeout: Some(Duration::from_secs(2)),
            ..OpenLineageSettings::default()
        };
        let s = Settings::resolve(&config, &Options::default())
            .unwrap()
            .unwrap();
        assert_eq!(s.namespace, "analytics");
        let h = s.http.unwrap();
        assert_eq!(h.url, "http://from-config:5000/api/v1/lineage");
        assert_eq!(
            (h.api_key.as_deref(), h.timeout),
            (Some("k1"), Duration::from_secs(2))
        );
        assert!(
            !format!("{h:?}").contains("k1"),
            "the key never shows in debug output"
        );

        let flags = Options {
            url: Some("http://flag:1".into()),
            endpoint: Some("/v2/events".into()),
            namespace: Some("ns".into()),
            ..Options::default()
        };
        let s = Settings::resolve(&config, &flags).unwrap().unwrap();
        assert_eq!(s.namespace, "ns");
        assert_eq!(s.http.unwrap().url, "http://flag:1/v2/events");

        let none = OpenLineageSettings::default();
        assert_eq!(Settings::resolve(&none, &Options::default()).unwrap(), None);
        let disabled = Options {
            disabled: true,
            parent_id: Some("junk".into()),
            ..Options::default()
        };
        assert_eq!(Settings::resolve(&config, &disabled).unwrap(), None);
        let s = Settings::resolve(&none, &opts()).unwrap().unwrap();
        assert_eq!((s.namespace.as_str(), s.http), (DEFAULT_NAMESPACE, None));
    }

    #[test]
    fn the_parent_comes_from_airflows_macros_and_is_checked() {
        let resolve = |o: Options| Settings::resolve(&OpenLineageSettings::default(), &o);
        let s = resolve(Options {
            parent_id: Some(format!("airflow/dag.task/{RUN}")),
            root_parent_id: Some(format!("airflow/dag/{}", RUN.to_uppercase())),
            ..opts()
        })
        .unwrap()
        .unwrap();
        let p = s.parent.unwrap();
        assert_eq!(
            p.run,
            RunRef {
                namespace: "airflow".into(),
                name: "dag.task".into(),
                run_id: RUN.into()
            }
        );
        assert_eq!(p.root.unwrap().run_id, RUN, "lower-cased");
        assert_eq!(s.namespace, "airflow", "the parent's namespace by default");

        // A job name may hold `/`; the discrete flags win over --parent-id's parts.
        let s = resolve(Options {
            parent_id: Some(format!("ns/a/b/{RUN}")),
            parent_job_name: Some("other".into()),
            ..opts()
        })
        .unwrap()
        .unwrap();
        let p = s.parent.unwrap().run;
        assert_eq!((p.namespace.as_str(), p.name.as_str()), ("ns", "other"));
        let s = resolve(Options {
            parent_id: Some(format!("ns/a/b/{RUN}")),
            ..opts()
        })
        .unwrap()
        .unwrap();
        assert_eq!(s.parent.unwrap().run.name, "a/b");

        let err = |o: Options| resolve(o).unwrap_err().to_string();
        assert!(
            err(Options {
                parent_id: Some("airflow/dag.task/123".into()),
                ..opts()
            })
            .contains("run id `123` is not a UUID")
        );
        assert!(
            err(Options {
                parent_id: Some(RUN.into()),
                ..opts()
            })
            .contains("has no `/`; it takes `namespace/job/runId`")
        );
        assert!(
            err(Options {
                parent_run_id: Some(RUN.into()),
                parent_job_name: Some("t".into()),
                ..opts()
            })
            .contains("--parent-job-namespace missing")
        );
        assert!(
            err(Options {
                root_parent_id: Some(format!("a/b/{RUN}")),
                ..opts()
            })
            .contains("without a parent run")
        );
        assert_eq!(
            resolve(Options {
                parent_run_id: Some("not-a-uuid".into()),
                ..opts()
            })
            .unwrap_err()
            .kind(),
            crate::ErrorKind::Invalid
        );
    }

    #[test]
    fn datasets_are_named_as_openlineage_names_files() {
        assert_eq!(
            dataset_identity(Path::new("/data/orders/")),
            ("file".into(), "/data/orders".into())
        );
        assert_eq!(
            dataset_identity(Path::new("file:///data/x.csv")),
            ("file".into(), "/data/x.csv".into())
        );
        assert_eq!(
            dataset_identity(Path::new("s3://bucket/a/b.parquet")),
            ("s3://bucket".into(), "a/b.parquet".into())
        );
        let (ns, name) = dataset_identity(Path::new("relative/x.csv"));
        assert_eq!(ns, "file");
        assert!(Path::new(&name).is_absolute(), "{name}");
    }

    fn check(kind: &str, status: CheckStatus, observed: Value) -> CheckResult {
        CheckResult {
            status,
            observed,
            column: Some("amount".into()),
            threshold: Some("max_invalid = 0".into()),
            message: "2 of 10 rows".into(),
            failing_rows: Some(2),
            ..CheckResult::blank(
                "orders",
                &format!("{kind}(amount)"),
                kind,
                Severity::Warn,
                String::new(),
            )
        }
    }

    #[test]
    fn one_assertion_per_check_that_ran() {
        let a = assertion(&check("not_null", CheckStatus::Warn, json!(2))).unwrap();
        assert_eq!(
            a,
            json!({
                "assertion": "not_null", "success": false, "name": "not_null(amount)",
                "severity": "warn", "column": "amount", "expected": "max_invalid = 0",
                "actual": "2", "description": "2 of 10 rows",
                "params": { "status": "warn", "failing_rows": 2 }
            })
        );
        let a = assertion(&check(
            "distribution",
            CheckStatus::Pass,
            json!({"psi": 0.1}),
        ))
        .unwrap();
        assert_eq!(
            (a["success"].clone(), a["actual"].clone()),
            (json!(true), json!(r#"{"psi":0.1}"#))
        );
        let a = assertion(&check("freshness", CheckStatus::Error, Value::Null)).unwrap();
        assert!(a.get("actual").is_none());
        assert_eq!(a["success"], false);
        assert_eq!(
            assertion(&check("range", CheckStatus::Skipped, Value::Null)),
            None
        );
    }

    fn dataset_report() -> DatasetReport {
        DatasetReport {
            name: "orders".into(),
            path: "orders.csv".into(),
            format: Some("csv".into()),
            status: "ok".into(),
            rows_scanned: Some(10),
            files: Some(2),
            queries: 1,
            duration_ms: 3,
            error: None,
            metrics: [
                ("row_count", 10.0),
                ("null_count(amount)", 2.0),
                ("min(amount)", -1.5),
                ("max(amount)", 99.0),
                ("mean(amount)", 12.0),
                ("null_count(status)", 0.0),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            columns: vec![Column {
                name: "amount".into(),
                data_type: "float64".into(),
                nullable: true,
            }],
        }
    }

    #[test]
    fn metrics_are_what_the_scan_measured() {
        let f = metrics_facet(&dataset_report()).unwrap();
        assert_eq!(f["rowCount"], 10);
        assert_eq!(f["fileCount"], 2);
        assert_eq!(
            f["columnMetrics"],
            json!({
                "amount": { "nullCount": 2, "count": 8, "min": -1.5, "max": 99.0 },
                "status": { "nullCount": 0, "count": 10 }
            })
        );
        assert!(
            f["_schemaURL"]
                .as_str()
                .unwrap()
                .contains("1-0-3/DataQualityMetricsInputDatasetFacet.json#")
        );
        let unreadable = DatasetReport {
            status: "error".into(),
            ..dataset_report()
        };
        assert_eq!(metrics_facet(&unreadable), None);
    }

    fn plan() -> JobPlan {
        let r = |dataset: &str, name: &str, symlink: bool| DatasetRef {
            dataset: dataset.into(),
            namespace: "file".into(),
            name: name.into(),
            symlink: symlink.then(|| dataset.to_string()),
            owner: Some("team".into()),
        };
        JobPlan {
            name: "orders.publish".into(),
            kind: JobKind::Publish,
            owner: Some("team".into()),
            description: None,
            inputs: vec![r("orders", "/s/orders", false)],
            outputs: vec![r("orders", "/p/orders", true)],
            homes: vec![("group".into(), "orders".into())],
        }
    }

    fn meta() -> RunMeta {
        RunMeta {
            run_id: RUN.into(),
            namespace: "ns".into(),
            parent: None,
            nominal: Some(
                DateTime::parse_from_rfc3339("2026-11-30T00:00:00Z")
                    .unwrap()
                    .into(),
            ),
        }
    }

    fn report(checks: Vec<CheckResult>) -> RunReport {
        let (summary, status) = RunReport::summarize(&checks);
        RunReport {
            sluice_version: "0".into(),
            run_id: RUN.into(),
            started_at: "2026-11-30T10:00:00.000Z".into(),
            finished_at: "2026-11-30T10:00:01.000Z".into(),
            duration_ms: 1000,
            now: "2026-11-30T10:00:00Z".into(),
            config: "sluice.yaml".into(),
            status,
            summary,
            datasets: vec![dataset_report()],
            checks,
            retries: vec![],
        }
    }

    #[test]
    fn events_carry_the_run_the_job_and_what_the_checks_found() {
        let at = Utc::now();
        let start = start_event(&meta(), &plan(), at);
        assert_eq!(start["eventType"], "START");
        assert_eq!(start["run"]["runId"], RUN);
        assert_eq!(
            start["run"]["facets"]["nominalTime"]["nominalStartTime"],
            "2026-11-30T00:00:00.000Z"
        );
        assert_eq!(
            start["outputs"][0]["name"], "/p/orders",
            "what it will write"
        );
        assert!(start["inputs"][0].get("inputFacets").is_none());

        let mut group = check("reconcile", CheckStatus::Pass, json!(0));
        group.dataset = "group".into();
        let passed = report(vec![check("not_null", CheckStatus::Pass, json!(0)), group]);
        let e = end_event(&meta(), &plan(), End::Ran(&passed), at);
        assert_eq!(e["eventType"], "COMPLETE");
        assert!(e["run"]["facets"].get("errorMessage").is_none());
        let assertions = &e["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"];
        assert_eq!(
            assertions.as_array().unwrap().len(),
            2,
            "the reconciliation joins its first dataset"
        );
        assert_eq!(
            e["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"],
            10
        );
        assert_eq!(
            e["outputs"][0]["facets"]["schema"]["fields"][0]["type"],
            "float64"
        );

        let warned = report(vec![check("not_null", CheckStatus::Warn, json!(2))]);
        assert_eq!(
            End::Ran(&warned).event_type(),
            "COMPLETE",
            "a warning does not fail the run"
        );
        let mut failing = check("not_null", CheckStatus::Fail, json!(2));
        failing.severity = Severity::Error;
        let failed = report(vec![failing]);
        let e = end_event(&meta(), &plan(), End::Ran(&failed), at);
        assert_eq!(e["eventType"], "FAIL");
        assert_eq!(e["outputs"], json!([]), "nothing was written");
        assert_eq!(
            e["run"]["facets"]["errorMessage"]["message"],
            "1 check(s) failed: orders: not_null(amount)"
        );
        let e = end_event(&meta(), &plan(), End::Blocked("blocked: x"), at);
        assert_eq!(
            (
                e["eventType"].clone(),
                e["run"]["facets"]["errorMessage"]["message"].clone()
            ),
            (json!("FAIL"), json!("blocked: x"))
        );
        assert!(e["inputs"][0].get("inputFacets").is_none());
    }

    #[test]
    fn a_file_target_gets_one_line_per_event_and_a_failure_is_recorded_not_raised() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub/events.ndjson");
        let emitter = Emitter::new(Settings {
            namespace: "ns".into(),
            http: None,
            file: Some(file.clone()),
            parent: None,
        });
        let e = start_event(&meta(), &plan(), Utc::now());
        emitter.deliver(&e);
        emitter.deliver(&e);
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(
            serde_json::from_str::<Value>(text.lines().next().unwrap()).unwrap(),
            e
        );
        assert!(emitter.failures().is_empty());

        let bad = Emitter::new(Settings {
            namespace: "ns".into(),
            http: None,
            file: Some(dir.path().to_path_buf()),
            parent: None,
        });
        bad.deliver(&e);
        let f = bad.failures();
        assert_eq!(f.len(), 1);
        assert!(
            f[0].to_string().starts_with(&format!(
                "OpenLineage START event of run {RUN} not delivered to {}",
                dir.path().display()
            )),
            "{}",
            f[0]
        );
    }
}
