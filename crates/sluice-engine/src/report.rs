//! The results of a run: what every renderer (text, JSON, JUnit, Markdown) reads.
//!
//! The serde shape of [`RunReport`] *is* the JSON report contract; it is specified with an
//! example in the CLI's JSON renderer (`src/render/json.rs`). Fields are only ever added.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sluice_spec::Severity;
pub use sluice_spec::{CheckStatus, RunStatus};

/// Counts of check outcomes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Checks run.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Warned.
    pub warned: usize,
    /// Failed.
    pub failed: usize,
    /// Errored.
    pub errored: usize,
    /// Skipped: not run because a check they wait for failed, errored or was skipped.
    /// Neither passes nor fails the run. (Absent from reports written before it existed.)
    #[serde(default)]
    pub skipped: usize,
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The dataset checked.
    pub dataset: String,
    /// The check's name, unique per dataset.
    pub name: String,
    /// The check kind (`not_null`, `metric`...).
    pub kind: String,
    /// The column checked, for single-column checks.
    pub column: Option<String>,
    /// The columns of a composite-key check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// Configured severity.
    pub severity: Severity,
    /// Outcome.
    pub status: CheckStatus,
    /// The measured value: failing rows for row-level checks, the value for `row_count` and
    /// `metric`, the age in seconds for `freshness`, the mismatches for `schema`.
    pub observed: Value,
    /// The thresholds, as text (`max_invalid = 0`, `between 20 and 80`, `fail: ...; warn: ...`).
    pub threshold: Option<String>,
    /// Rows scanned in the dataset (all rows, not only those in the check's `where`).
    pub rows_scanned: Option<u64>,
    /// Rows in the check's scope (its `where`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_in_scope: Option<u64>,
    /// Rows failing a row-level check.
    pub failing_rows: Option<u64>,
    /// `failing_rows` as a percentage of the rows in scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_pct: Option<f64>,
    /// Examples of failing rows: the checked columns plus the dataset's `key` columns.
    pub samples: Vec<Map<String, Value>>,
    /// What was found, in one sentence (for a skipped check: why, `skipped: schema failed`).
    pub message: String,
    /// For a skipped check: the checks it waits for that failed, errored or were skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_by: Vec<String>,
    /// Where the check is defined: `file:line:col`.
    pub location: String,
    /// Time spent evaluating it, when it ran its own query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

impl CheckResult {
    /// Its values as metric history records them: a numeric `observed` under the check's
    /// name, each numeric field of an object `observed` as `name.field`. None for a check
    /// that errored, and none for history checks themselves.
    pub fn metrics(&self) -> Vec<(String, f64)> {
        let history = sluice_spec::kinds::Kind::parse(&self.kind).is_some_and(|k| k.is_history());
        if history || matches!(self.status, CheckStatus::Error) {
            return vec![];
        }
        match &self.observed {
            Value::Number(n) => n
                .as_f64()
                .map(|v| (self.name.clone(), v))
                .into_iter()
                .collect(),
            Value::Object(m) => m
                .iter()
                .filter_map(|(k, v)| Some((format!("{}.{k}", self.name), v.as_f64()?)))
                .collect(),
            _ => vec![],
        }
    }

    /// A result with nothing measured yet (status `error`, empty message): the start of
    /// every check's, parity's and reconciliation's result.
    pub fn blank(
        dataset: &str,
        name: &str,
        kind: &str,
        severity: Severity,
        location: String,
    ) -> CheckResult {
        CheckResult {
            dataset: dataset.to_string(),
            name: name.to_string(),
            kind: kind.to_string(),
            column: None,
            columns: vec![],
            severity,
            status: CheckStatus::Error,
            observed: Value::Null,
            threshold: None,
            rows_scanned: None,
            rows_in_scope: None,
            failing_rows: None,
            failing_pct: None,
            samples: vec![],
            message: String::new(),
            skipped_by: vec![],
            location,
            duration_ms: None,
        }
    }
}

/// One dataset's part of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetReport {
    /// Its name.
    pub name: String,
    /// `path:` as configured.
    pub path: String,
    /// Format read.
    pub format: Option<String>,
    /// `ok`, or `error` when the source could not be read.
    pub status: String,
    /// Rows scanned.
    pub rows_scanned: Option<u64>,
    /// Files read.
    pub files: Option<usize>,
    /// Queries run against its data: 1 for the fused scan of all its checks, plus one per
    /// check that needs its own (`unique`, `references`), plus one per failed
    /// check's sample fetch.
    #[serde(default)]
    pub queries: u32,
    /// Wall time for all its checks.
    pub duration_ms: u64,
    /// Why it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The dataset metrics of its scan, recorded as metric history: `row_count`, and
    /// `null_count(c)`, `min(c)`, `max(c)`, `mean(c)` of the checked columns. Computed
    /// when the run is recorded or a history check needs them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metrics: BTreeMap<String, f64>,
    /// Its columns as read (partition columns included), for OpenLineage's `schema` facet.
    /// Not part of the JSON report.
    #[serde(skip)]
    pub columns: Vec<Column>,
}

/// A column of a dataset as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its type as people say it (`int64`, `string`, `timestamp(us)`; see
    /// [`crate::compile::type_name`]).
    pub data_type: String,
    /// Whether it may hold NULLs.
    pub nullable: bool,
}

/// A whole run: every dataset and check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Version of sluice that produced it.
    pub sluice_version: String,
    /// Unique id of the run (UUID v7: sorts by time).
    pub run_id: String,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// End, RFC 3339 UTC.
    pub finished_at: String,
    /// Wall time.
    pub duration_ms: u64,
    /// The "now" freshness checks were measured against.
    pub now: String,
    /// The config file.
    pub config: String,
    /// Outcome.
    pub status: RunStatus,
    /// Counts.
    pub summary: Summary,
    /// Per dataset.
    pub datasets: Vec<DatasetReport>,
    /// Per check, datasets in config order, checks in config order.
    pub checks: Vec<CheckResult>,
    /// Tasks the engine ran again, on a Ballista cluster: an executor was lost and the
    /// scheduler re-ran its tasks on another, so the run's results are complete. Absent
    /// in-process and when nothing was re-run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retries: Vec<Retry>,
}

/// Tasks of one stage of a Ballista job that failed for one reason and were run again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retry {
    /// The job's id on the scheduler.
    pub job: String,
    /// The stage, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// How many of its tasks, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<u32>,
    /// Why they failed, as the scheduler says (`Task failure due to Executor … lost`), or
    /// `unknown: …` when the scheduler could not be asked.
    pub reason: String,
}

impl RunReport {
    /// The report as the JSON contract (see the CLI's `src/render/json.rs`):
    /// pretty-printed, with a trailing newline. What `--format json` prints and what a
    /// quarantined output's `report.json` holds.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a report always serialises");
        s.push('\n');
        s
    }

    /// Counts the statuses of `checks`.
    pub fn summarize(checks: &[CheckResult]) -> (Summary, RunStatus) {
        let mut s = Summary {
            total: checks.len(),
            ..Summary::default()
        };
        for c in checks {
            match c.status {
                CheckStatus::Pass => s.passed += 1,
                CheckStatus::Warn => s.warned += 1,
                CheckStatus::Fail => s.failed += 1,
                CheckStatus::Error => s.errored += 1,
                CheckStatus::Skipped => s.skipped += 1,
            }
        }
        // A skipped check neither passes nor fails the run: what stopped it counts.
        let status = if s.errored > 0 {
            RunStatus::Error
        } else if s.failed > 0 {
            RunStatus::Failed
        } else if s.warned > 0 {
            RunStatus::Warned
        } else {
            RunStatus::Passed
        };
        (s, status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(status: CheckStatus) -> CheckResult {
        CheckResult {
            status,
            ..CheckResult::blank("d", "c", "not_null", Severity::Error, String::new())
        }
    }

    #[test]
    fn skipped_checks_neither_pass_nor_fail_the_run() {
        use CheckStatus::*;
        let run = |statuses: &[CheckStatus]| {
            let checks: Vec<CheckResult> = statuses.iter().map(|s| result(*s)).collect();
            RunReport::summarize(&checks)
        };
        let (s, status) = run(&[Pass, Skipped, Skipped]);
        assert_eq!(status, RunStatus::Passed);
        assert_eq!((s.total, s.passed, s.skipped), (3, 1, 2));
        assert_eq!(run(&[Warn, Skipped]).1, RunStatus::Warned);
        assert_eq!(run(&[Fail, Skipped]).1, RunStatus::Failed);
        assert_eq!(run(&[Error, Skipped]).1, RunStatus::Error);
        // The summary always has `skipped`; an older report without it still reads.
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["skipped"], 2);
        let old: Summary = serde_json::from_str(
            r#"{"total": 1, "passed": 1, "warned": 0, "failed": 0, "errored": 0}"#,
        )
        .unwrap();
        assert_eq!(old.skipped, 0);
    }
}
