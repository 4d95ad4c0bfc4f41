//! Observed values -> status, threshold text and message of a check.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sluice_spec::duration::HumanDuration;
use sluice_spec::{Check, CheckKind, Literal, Severity, Threshold, num};

use crate::report::{CheckResult, CheckStatus};
use crate::values::float;

/// What a check measured.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Measure {
    /// A row count.
    Rows(u64),
    /// A metric value (`None`: the aggregate was NULL, e.g. over no rows).
    Value(Option<f64>),
    /// Failing rows out of rows in scope.
    Invalid {
        /// Failing rows.
        failing: u64,
        /// Rows in scope.
        in_scope: u64,
        /// For `unique`: values occurring more than once, and distinct values.
        duplicates: Option<(u64, u64)>,
    },
    /// The newest value and its age (`None`: no values).
    Newest(Option<(DateTime<Utc>, i64)>),
    /// Schema mismatches.
    Problems(Vec<String>),
    /// A change against an earlier run: absolute and in percent of it.
    Change {
        /// The change.
        abs: f64,
        /// In percent of the earlier value (±infinity from 0).
        pct: Option<f64>,
    },
    /// An anomaly score (±infinity: off a history with no spread).
    Score(f64),
    /// What a comparison with another dataset or the published version found.
    Compared(crate::compare::Comparison),
    /// `metric` with `group_by`: groups outside the fail zone, outside the warn zone, in all.
    Groups {
        /// Outside the fail zone.
        fail: u64,
        /// Outside the warn zone.
        warn: u64,
        /// Groups.
        groups: u64,
    },
}

fn violates(check: &Check, t: &Threshold, m: &Measure) -> bool {
    match (t, m) {
        (Threshold::Bounds { min, max, equals }, Measure::Rows(n)) => {
            bounds_violated(*min, *max, *equals, Some(*n as f64))
        }
        (Threshold::Bounds { min, max, equals }, Measure::Value(v)) => {
            bounds_violated(*min, *max, *equals, *v)
        }
        (
            Threshold::Invalid { max_count, max_pct },
            Measure::Invalid {
                failing, in_scope, ..
            },
        ) => {
            max_count.is_some_and(|c| *failing > c)
                || max_pct.is_some_and(|p| pct(*failing, *in_scope) > p)
        }
        (Threshold::MaxAge(max), Measure::Newest(newest)) => match newest {
            None => true,
            Some((_, age)) => *age > 0 && Duration::from_secs(*age as u64) > *max,
        },
        (Threshold::Exact, Measure::Problems(p)) => !p.is_empty(),
        (Threshold::Bounds { min, max, equals }, Measure::Change { abs, .. }) => {
            bounds_violated(*min, *max, *equals, Some(*abs))
        }
        (Threshold::ChangePct { min, max }, Measure::Change { pct, .. }) => {
            bounds_violated(*min, *max, None, *pct)
        }
        (Threshold::MaxScore(m), Measure::Score(s)) => s.is_nan() || s.abs() > *m,
        (Threshold::Limits(limits), Measure::Compared(c)) => limits
            .iter()
            .any(|l| c.stat(l.stat()).is_some_and(|v| l.violated_by(v))),
        (Threshold::Invalid { max_count, max_pct }, Measure::Compared(c)) => {
            c.failing.is_some_and(|(failing, in_scope)| {
                max_count.is_some_and(|m| failing > m)
                    || max_pct.is_some_and(|p| pct(failing, in_scope) > p)
            })
        }
        // Each zone's groups were counted against it by the own query.
        (t, Measure::Groups { fail, .. }) if Some(t) == check.fail.as_ref() => *fail > 0,
        (_, Measure::Groups { warn, .. }) => *warn > 0,
        // A threshold of another class never applies (the config decoder prevents it).
        _ => false,
    }
}

fn bounds_violated(
    min: Option<f64>,
    max: Option<f64>,
    equals: Option<f64>,
    v: Option<f64>,
) -> bool {
    let Some(v) = v else { return true };
    if v.is_nan() {
        return true;
    }
    min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) || equals.is_some_and(|e| v != e)
}

/// `part` as a percentage of `whole` (0 when `whole` is 0).
pub fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

/// The thresholds of a check as one line of text.
pub fn threshold_text(check: &Check) -> Option<String> {
    if matches!(
        check.fail.as_ref().or(check.warn.as_ref()),
        Some(Threshold::Exact)
    ) {
        return None;
    }
    match (&check.fail, &check.warn) {
        (Some(f), None) => Some(f.to_string()),
        (None, Some(w)) if check.severity == Severity::Warn => Some(w.to_string()),
        (None, Some(w)) => Some(format!("warn: {w}")),
        (Some(f), Some(w)) => Some(format!("fail: {f}; warn: {w}")),
        (None, None) => None,
    }
}

/// The status `m` earns in the check's zones: `fail` if it violates the fail zone, else
/// `warn` if it violates the warn zone, else `pass`.
pub(crate) fn zone_status(check: &Check, m: &Measure) -> CheckStatus {
    if check.fail.as_ref().is_some_and(|t| violates(check, t, m)) {
        CheckStatus::Fail
    } else if check.warn.as_ref().is_some_and(|t| violates(check, t, m)) {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    }
}

/// Everything about a check's result except its samples.
pub(crate) fn evaluate(
    check: &Check,
    dataset: &str,
    location: String,
    rows_scanned: u64,
    m: Measure,
) -> CheckResult {
    let status = zone_status(check, &m);
    let scope = check
        .filter
        .as_deref()
        .map(|f| format!(" (where {f})"))
        .unwrap_or_default();
    let (observed, failing, in_scope, message) = match &m {
        Measure::Rows(n) => (Value::from(*n), None, None, format!("{}{scope}", rows(*n))),
        Measure::Value(v) => {
            let sql = match &check.kind {
                CheckKind::Metric { sql, .. } => sql.as_str(),
                _ => "value",
            };
            let msg = match v {
                Some(v) => format!("{sql} = {}{scope}", fmt_float(*v)),
                None => {
                    format!("{sql} is NULL{scope} (no rows, or only NULLs): nothing to compare")
                }
            };
            (v.map(float).unwrap_or(Value::Null), None, None, msg)
        }
        Measure::Invalid {
            failing,
            in_scope,
            duplicates,
        } => (
            Value::from(*failing),
            Some(*failing),
            Some(*in_scope),
            invalid_message(check, *failing, *in_scope, *duplicates, &scope),
        ),
        Measure::Newest(newest) => {
            let col = check.columns().first().copied().unwrap_or("");
            match newest {
                None => (
                    Value::Null,
                    None,
                    None,
                    format!("`{col}` has no values{scope}: nothing is fresh"),
                ),
                Some((at, age)) => {
                    let at_text = at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
                    let msg = if *age >= 0 {
                        format!(
                            "newest {col} is {at_text}, {} old{scope}",
                            HumanDuration(Duration::from_secs(*age as u64))
                        )
                    } else {
                        format!(
                            "newest {col} is {at_text}, {} in the future{scope}",
                            HumanDuration(Duration::from_secs(age.unsigned_abs()))
                        )
                    };
                    (Value::from(*age), None, None, msg)
                }
            }
        }
        // History checks build their own results (`crate::history`); this is a fallback.
        Measure::Change { abs, .. } => (float(*abs), None, None, format!("change {abs}")),
        Measure::Score(x) => (float(*x), None, None, format!("score {x}")),
        Measure::Groups { fail, warn, groups } => {
            let (sql, by) = match &check.kind {
                CheckKind::Metric { sql, group_by } => (sql.as_str(), group_by.join(", ")),
                _ => ("value", String::new()),
            };
            let outside = if status == CheckStatus::Warn {
                *warn
            } else {
                *fail
            };
            let zone = if status == CheckStatus::Warn && check.fail.is_some() {
                " (warn zone)"
            } else {
                ""
            };
            (
                Value::from(outside),
                Some(outside),
                Some(*groups),
                format!(
                    "{outside} of {groups} {} ({by}) have {sql} outside the bounds{zone}{scope}",
                    plural(*groups, "group")
                ),
            )
        }
        Measure::Problems(p) => {
            let msg = if p.is_empty() {
                "schema matches".to_string()
            } else {
                p.join("; ")
            };
            (Value::from(p.clone()), None, None, msg)
        }
        Measure::Compared(c) => (
            c.observed.clone(),
            c.failing.map(|(f, _)| f),
            c.failing.map(|(_, s)| s),
            format!("{}{scope}", c.message),
        ),
    };
    CheckResult {
        status,
        observed,
        rows_scanned: Some(rows_scanned),
        rows_in_scope: check.filter.as_ref().and(in_scope),
        failing_rows: failing,
        failing_pct: failing.zip(in_scope).map(|(f, s)| round4(pct(f, s))),
        message,
        ..skeleton(check, dataset, location)
    }
}

/// The parts of a result every check has, with nothing measured yet.
pub(crate) fn skeleton(check: &Check, dataset: &str, location: String) -> CheckResult {
    let columns: Vec<String> = check.columns().iter().map(|c| c.to_string()).collect();
    CheckResult {
        column: (columns.len() == 1).then(|| columns[0].clone()),
        columns: if columns.len() > 1 { columns } else { vec![] },
        threshold: threshold_text(check),
        ..CheckResult::blank(
            dataset,
            &check.name,
            check.kind.name(),
            check.severity,
            location,
        )
    }
}

/// A check that could not be evaluated.
pub(crate) fn errored(
    check: &Check,
    dataset: &str,
    location: String,
    rows_scanned: Option<u64>,
    message: String,
) -> CheckResult {
    CheckResult {
        rows_scanned,
        message,
        ..skeleton(check, dataset, location)
    }
}

/// A check that did not run because checks it waits for (`after:`, or a failing `schema`
/// check reporting a column it needs missing) failed, errored or were skipped: `by` names
/// them, `message` says why (`skipped: schema failed`).
pub(crate) fn skipped(
    check: &Check,
    dataset: &str,
    location: String,
    by: Vec<String>,
    message: String,
) -> CheckResult {
    CheckResult {
        status: CheckStatus::Skipped,
        skipped_by: by,
        message,
        ..skeleton(check, dataset, location)
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

fn rows(n: u64) -> String {
    format!("{n} {}", plural(n, "row"))
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// A number for messages: whole numbers bare, others to at most 6 decimals.
pub(crate) fn fmt_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        num(v)
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn list(values: &[Literal]) -> String {
    let shown: Vec<String> = values.iter().take(8).map(|v| v.to_string()).collect();
    let more = if values.len() > 8 {
        format!(", ... ({} in all)", values.len())
    } else {
        String::new()
    };
    format!("[{}{more}]", shown.join(", "))
}

fn invalid_message(
    check: &Check,
    failing: u64,
    in_scope: u64,
    duplicates: Option<(u64, u64)>,
    scope: &str,
) -> String {
    use CheckKind::*;
    let of = format!("{failing} of {}", rows(in_scope));
    match &check.kind {
        NotNull { column } => format!("{of} have {column} NULL{scope}"),
        Unique { columns, .. } => {
            let cols = columns.join(", ");
            let (values, distinct) = duplicates.unwrap_or((0, 0));
            format!(
                "{failing} duplicate {} in ({cols}): {values} of {distinct} distinct {} occur more than once{scope}",
                plural(failing, "row"),
                plural(distinct, "value")
            )
        }
        AcceptedValues { column, values } => {
            format!("{of} have {column} outside {}{scope}", list(values))
        }
        ForbiddenValues { column, values } => format!(
            "{of} have {column} in the forbidden {}{scope}",
            list(values)
        ),
        Range {
            column,
            min,
            max,
            inclusive,
        } => {
            let bound = match (min, max) {
                (Some(lo), Some(hi)) if *inclusive => format!("outside [{lo}, {hi}]"),
                (Some(lo), Some(hi)) => format!("outside ({lo}, {hi})"),
                (Some(lo), None) if *inclusive => format!("below {lo}"),
                (Some(lo), None) => format!("at or below {lo}"),
                (None, Some(hi)) if *inclusive => format!("above {hi}"),
                (None, Some(hi)) => format!("at or above {hi}"),
                (None, None) => String::new(),
            };
            format!("{of} have {column} {bound}{scope}")
        }
        Matches { column, regex } => format!("{of} have {column} not matching '{regex}'{scope}"),
        Format { column, format } => {
            format!("{of} have {column} not a valid {}{scope}", format.name())
        }
        Length { column, min, max } => {
            let bound = match (min, max) {
                (Some(lo), Some(hi)) => format!("outside {lo}..{hi}"),
                (Some(lo), None) => format!("under {lo}"),
                (None, Some(hi)) => format!("over {hi}"),
                (None, None) => String::new(),
            };
            format!("{of} have {column} with a length {bound} characters{scope}")
        }
        RowsSatisfy { condition } => format!("{of} fail `{condition}`{scope}"),
        References {
            column,
            dataset,
            key,
        } => format!("{of} have {column} not found in {dataset}.{key}{scope}"),
        QuantilesOrdered(_) => {
            let cols = check.columns().join(" <= ");
            format!("{of} have quantiles out of order ({cols}){scope}")
        }
        IntervalContains {
            lower,
            point,
            upper,
        } => format!("{of} have {point} outside [{lower}, {upper}]{scope}"),
        RowCount
        | Freshness { .. }
        | Schema(_)
        | Metric { .. }
        | Change { .. }
        | Anomaly(_)
        | Distribution(_)
        | WithinHistory(_)
        | ChangeVsPublished(_)
        | ForecastAccuracy(_) => format!("{of} fail{scope}"),
        Completeness(_) | NotConstant { .. } => format!("{of} fail{scope}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_spec::Span;

    fn check(kind: CheckKind, fail: Option<Threshold>, warn: Option<Threshold>) -> Check {
        Check {
            name: "c".into(),
            kind,
            severity: Severity::Error,
            filter: None,
            samples: 5,
            fail,
            warn,
            after: vec![],
            span: Span::default(),
        }
    }

    #[test]
    fn zones() {
        let c = check(
            CheckKind::RowCount,
            Some(Threshold::Bounds {
                min: Some(1.0),
                max: None,
                equals: None,
            }),
            Some(Threshold::Bounds {
                min: Some(100.0),
                max: None,
                equals: None,
            }),
        );
        let st = |n| evaluate(&c, "d", String::new(), n, Measure::Rows(n)).status;
        assert_eq!(st(0), CheckStatus::Fail);
        assert_eq!(st(50), CheckStatus::Warn);
        assert_eq!(st(100), CheckStatus::Pass);
        assert_eq!(threshold_text(&c).unwrap(), "fail: >= 1; warn: >= 100");
    }

    #[test]
    fn invalid_counts_and_percentages() {
        let c = check(
            CheckKind::NotNull {
                column: "customer_id".into(),
            },
            Some(Threshold::Invalid {
                max_count: None,
                max_pct: Some(1.0),
            }),
            None,
        );
        let r = evaluate(
            &c,
            "d",
            "f:1:1".into(),
            5000,
            Measure::Invalid {
                failing: 42,
                in_scope: 5000,
                duplicates: None,
            },
        );
        assert_eq!(r.status, CheckStatus::Pass);
        assert_eq!(r.message, "42 of 5000 rows have customer_id NULL");
        assert_eq!(r.failing_pct, Some(0.84));
        let r = evaluate(
            &c,
            "d",
            String::new(),
            100,
            Measure::Invalid {
                failing: 2,
                in_scope: 100,
                duplicates: None,
            },
        );
        assert_eq!(r.status, CheckStatus::Fail);
        // No rows in scope: 0%.
        let r = evaluate(
            &c,
            "d",
            String::new(),
            0,
            Measure::Invalid {
                failing: 0,
                in_scope: 0,
                duplicates: None,
            },
        );
        assert_eq!(r.status, CheckStatus::Pass);
    }

    #[test]
    fn null_metrics_and_missing_freshness_fail() {
        let c = check(
            CheckKind::Metric {
                sql: "avg(x)".into(),
                group_by: vec![],
            },
            Some(Threshold::Bounds {
                min: Some(0.0),
                max: None,
                equals: None,
            }),
            None,
        );
        let r = evaluate(&c, "d", String::new(), 0, Measure::Value(None));
        assert_eq!(r.status, CheckStatus::Fail);
        assert_eq!(
            r.message,
            "avg(x) is NULL (no rows, or only NULLs): nothing to compare"
        );
        let c = check(
            CheckKind::Freshness { column: "t".into() },
            Some(Threshold::MaxAge(Duration::from_secs(3600))),
            None,
        );
        assert_eq!(
            evaluate(&c, "d", String::new(), 0, Measure::Newest(None)).status,
            CheckStatus::Fail
        );
        let at = DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let r = evaluate(&c, "d", String::new(), 1, Measure::Newest(Some((at, 7200))));
        assert_eq!(r.status, CheckStatus::Fail);
        assert_eq!(r.message, "newest t is 2025-01-01T00:00:00Z, 2h old");
        assert_eq!(
            evaluate(&c, "d", String::new(), 1, Measure::Newest(Some((at, -60)))).status,
            CheckStatus::Pass
        );
    }
}
