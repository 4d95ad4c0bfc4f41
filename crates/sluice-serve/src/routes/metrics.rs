//! `GET /metrics`: Prometheus text format (0.0.4).
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `sluice_breaker_state` | gauge, 1 for the breaker's current state | `dataset`, `state` (`closed`, `open`, `tripped`, `override`) |
//! | `sluice_breaker_blocked` | gauge: 1 when a halted breaker upstream blocks the dataset | `dataset` |
//! | `sluice_dataset_last_run_status` | gauge, 1 for the status of the dataset's last run | `dataset`, `status` |
//! | `sluice_dataset_last_run_duration_seconds` | gauge | `dataset` |
//! | `sluice_dataset_last_run_timestamp_seconds` | gauge | `dataset` |
//! | `sluice_check_failures_total` | counter: failed checks over all recorded runs | `dataset` |
//! | `sluice_runs_total` | counter: recorded runs | `status` |
//! | `sluice_background_runs` | gauge: `POST /api/check` runs queued or running | |

use std::fmt::Write;

use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use sluice_app::breaker::RunTotals;
use sluice_app::overview::DatasetRow;

use super::params::Params;
use super::{St, blocking};
use crate::error::ApiResult;

const STATES: [&str; 4] = ["closed", "open", "tripped", "override"];
const STATUSES: [&str; 4] = ["passed", "warned", "failed", "error"];

pub(super) async fn metrics(state: St, uri: Uri) -> ApiResult<Response> {
    Params::parse(&uri, &[])?;
    let (rows, totals) = blocking(&state, |ws| {
        let rows = sluice_app::overview::datasets(ws)?;
        let totals = sluice_app::runs::totals(ws)?;
        Ok((rows, totals))
    })
    .await?;
    let background = state
        .pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .len();
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&rows, &totals, background),
    )
        .into_response())
}

/// A label value, escaped as the text format asks.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition of `rows` and `totals`.
pub fn render(rows: &[DatasetRow], totals: &RunTotals, background: usize) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# HELP sluice_breaker_state The breaker's current state (1 for the state it is in).\n# TYPE sluice_breaker_state gauge"
    );
    for r in rows {
        let b = &r.status.breaker.breaker;
        let now = b.effective().as_str();
        for s in STATES {
            let _ = writeln!(
                o,
                "sluice_breaker_state{{dataset=\"{}\",state=\"{s}\"}} {}",
                label(&b.dataset),
                u8::from(s == now)
            );
        }
    }
    let _ = writeln!(
        o,
        "# HELP sluice_breaker_blocked 1 when a halted breaker upstream blocks the dataset.\n# TYPE sluice_breaker_blocked gauge"
    );
    for r in rows {
        let _ = writeln!(
            o,
            "sluice_breaker_blocked{{dataset=\"{}\"}} {}",
            label(&r.status.breaker.breaker.dataset),
            u8::from(!r.status.blocked_by.is_empty())
        );
    }
    let known: Vec<&str> = rows
        .iter()
        .map(|r| r.status.breaker.breaker.dataset.as_str())
        .collect();
    let last: Vec<_> = totals
        .last
        .iter()
        .filter(|(_, _, d)| known.contains(&d.dataset.as_str()))
        .collect();
    let _ = writeln!(
        o,
        "# HELP sluice_dataset_last_run_status The status of the dataset's last recorded run (1 for its status).\n# TYPE sluice_dataset_last_run_status gauge"
    );
    for (_, _, d) in &last {
        let status = if d.status == "error" {
            "error"
        } else if d.failed > 0 {
            "failed"
        } else {
            "passed"
        };
        for s in STATUSES {
            let _ = writeln!(
                o,
                "sluice_dataset_last_run_status{{dataset=\"{}\",status=\"{s}\"}} {}",
                label(&d.dataset),
                u8::from(s == status)
            );
        }
    }
    let _ = writeln!(
        o,
        "# HELP sluice_dataset_last_run_duration_seconds How long the dataset's scan and checks took in its last run.\n# TYPE sluice_dataset_last_run_duration_seconds gauge"
    );
    for (_, _, d) in &last {
        let _ = writeln!(
            o,
            "sluice_dataset_last_run_duration_seconds{{dataset=\"{}\"}} {:.3}",
            label(&d.dataset),
            d.duration_ms as f64 / 1000.0
        );
    }
    let _ = writeln!(
        o,
        "# HELP sluice_dataset_last_run_timestamp_seconds When the dataset's last run finished (Unix time).\n# TYPE sluice_dataset_last_run_timestamp_seconds gauge"
    );
    for (_, at, d) in &last {
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(at) {
            let _ = writeln!(
                o,
                "sluice_dataset_last_run_timestamp_seconds{{dataset=\"{}\"}} {}",
                label(&d.dataset),
                t.timestamp()
            );
        }
    }
    let _ = writeln!(
        o,
        "# HELP sluice_check_failures_total Checks that failed, over all recorded runs.\n# TYPE sluice_check_failures_total counter"
    );
    for name in &known {
        let n = totals
            .failed_checks
            .iter()
            .find(|(d, _)| d == name)
            .map_or(0, |(_, n)| *n);
        let _ = writeln!(
            o,
            "sluice_check_failures_total{{dataset=\"{}\"}} {n}",
            label(name)
        );
    }
    let _ = writeln!(
        o,
        "# HELP sluice_runs_total Recorded runs, by status.\n# TYPE sluice_runs_total counter"
    );
    for s in STATUSES {
        let n = totals
            .runs
            .iter()
            .find(|(x, _)| x == s)
            .map_or(0, |(_, n)| *n);
        let _ = writeln!(o, "sluice_runs_total{{status=\"{s}\"}} {n}");
    }
    let _ = writeln!(
        o,
        "# HELP sluice_background_runs Checks asked for through the API, queued or running.\n# TYPE sluice_background_runs gauge\nsluice_background_runs {background}"
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
