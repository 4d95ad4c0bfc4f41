//! The JSON report: a stable contract for orchestrators, CI and the breaker store.
//!
//! Written by `sluice check --format json`. One object; fields are only ever added, never
//! renamed or removed. Example (abridged):
//!
//! ```json
//! {
//!   "sluice_version": "0.1.0",
//!   "run_id": "0193f1d2-7c1a-7d40-9b1e-3f6a2b1c9d10",
//!   "started_at": "2026-11-21T10:00:00.000Z",
//!   "finished_at": "2026-11-21T10:00:01.250Z",
//!   "duration_ms": 1250,
//!   "now": "2026-11-21T10:00:00Z",
//!   "config": "sluice.yaml",
//!   "status": "failed",
//!   "summary": { "total": 12, "passed": 9, "warned": 1, "failed": 2, "errored": 0,
//!                "skipped": 0 },
//!   "datasets": [
//!     { "name": "orders_clean", "path": "data/clean/orders/", "format": "parquet",
//!       "status": "ok", "rows_scanned": 5000000, "files": 4, "duration_ms": 1100 }
//!   ],
//!   "checks": [
//!     { "dataset": "orders_clean", "name": "not_null(customer_id)", "kind": "not_null",
//!       "column": "customer_id", "severity": "error", "status": "fail",
//!       "observed": 42, "threshold": "max_invalid = 0", "rows_scanned": 5000000,
//!       "failing_rows": 42, "failing_pct": 0.0008,
//!       "samples": [ { "order_id": 17, "customer_id": null } ],
//!       "message": "42 of 5000000 rows have customer_id NULL",
//!       "location": "sluice.yaml:14:9" }
//!   ]
//! }
//! ```
//!
//! - `status` of the run: `passed` | `warned` | `failed` | `error`; of a check: `pass` |
//!   `warn` | `fail` | `error` | `skipped`. The exit code follows the run status: 0, 0, 1, 4.
//!   A `skipped` check did not run because a check it waits for (`after:`, or a failing
//!   `schema` check reporting a column it needs missing) failed, errored or was skipped; it
//!   counts in `summary.skipped` and neither passes nor fails the run. Its `message` says
//!   why (`skipped: schema failed`) and `skipped_by` names those checks.
//! - `observed`: failing rows for row-level checks (`not_null`, `unique` — duplicate rows,
//!   i.e. rows minus distinct values —, `accepted_values`, `forbidden_values`, `range`,
//!   `matches`, `format`, `length`, `rows_satisfy`, `references`, `interval_contains`,
//!   wide `quantiles_ordered`); failing units for the grouped ones (`completeness`:
//!   missing combinations + extra copies + rows off the grid; long `quantiles_ordered`:
//!   groups; `not_constant`: series; `metric` with `group_by`: groups outside the bounds),
//!   whose `failing_pct` is relative to the units (required combinations, groups, series);
//!   the count for `row_count`; the value for `metric`; the age in seconds of the newest
//!   value for `freshness`; the list of mismatches for `schema`; `null` when it could not
//!   be measured.
//! - `threshold`: the zone(s) as text: `max_invalid = 0`, `between 20 and 80`, `>= 1`,
//!   `max_age = 6h`, `fail: >= 1; warn: >= 1000`.
//! - `rows_scanned`: rows in the dataset; `rows_in_scope` (only with `where:`) the rows the
//!   check applied to, the base of `failing_pct` (0–100).
//! - `column` for single-column checks, `columns` for composite keys.
//! - `samples`: up to `samples:` failing rows (the checked columns plus the dataset's
//!   `key`), for failed or warned row-level checks only; for `unique`, the duplicated
//!   values with an `occurrences` count; for the grouped checks, the failing units (key
//!   values with `problem` and `rows` for `completeness`, the group with `levels`,
//!   `largest_decrease` and `decreases_at_level` for long `quantiles_ordered`, the series
//!   with its `value` and `rows` for `not_constant`, the group and its `value` for `metric`).
//! - `location`: where the check is defined, `file:line:col`.
//! - `duration_ms` on a check: only for checks that ran a query of their own.
//! - `retries` (only on a Ballista cluster, only when there were any): tasks the scheduler
//!   ran again after an executor was lost, so the results are complete —
//!   `{ "job", "stage", "tasks", "reason" }` per job stage and reason; a `reason` starting
//!   `unknown:` when the scheduler's REST API could not be asked.

use sluice_app::engine::RunReport;

/// The report as pretty-printed JSON, with a trailing newline.
pub fn render(report: &RunReport) -> String {
    report.to_json()
}
