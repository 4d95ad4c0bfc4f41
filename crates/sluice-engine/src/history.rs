//! Checks over metric history: `change` (a metric against one earlier run) and `anomaly`
//! (a metric against the spread of its earlier values). They run after the dataset's other
//! checks, from their observed values and the dataset metrics of the scan
//! ([`crate::metrics`]); the earlier values come from the caller ([`History`], read from
//! the state store by the application layer), so the engine never opens a store.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration as ChronoDuration, Utc};
use serde_json::{Value, json};
use sluice_spec::history::{AnomalyMethod, TooLittleHistory, Window};
use sluice_spec::{AnomalySpec, Baseline, Check, CheckKind, MetricRef, num};

use crate::evaluate::{Measure, fmt_float, skeleton, zone_status};
use crate::report::{CheckResult, CheckStatus};
use crate::values::float;

/// One earlier value of a metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The run it came from.
    pub run_id: String,
    /// The run's logical date (its partition's date, else when it started).
    pub logical: DateTime<Utc>,
    /// The value.
    pub value: f64,
    /// Whether the dataset passed in that run.
    pub passed: bool,
}

/// The earlier values history checks compare with: for each (dataset, metric) the points
/// of the current run's series whose logical date is before the current one, oldest first.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// The current run's logical date.
    pub logical: Option<DateTime<Utc>>,
    /// Points per (dataset, metric name).
    pub points: HashMap<(String, String), Vec<Point>>,
    /// Why there is no history at all (e.g. `--no-state`), for the checks' notes.
    pub unavailable: Option<String>,
}

impl History {
    fn of(&self, dataset: &str, metric: &str) -> &[Point] {
        self.points
            .get(&(dataset.to_string(), metric.to_string()))
            .map_or(&[], Vec::as_slice)
    }
}

/// The (dataset, metric) pairs whose history the history checks of `checks` need.
pub fn wanted<'a>(
    dataset: &'a str,
    checks: &'a [Check],
) -> impl Iterator<Item = (String, String)> + 'a {
    checks.iter().filter_map(move |c| {
        let m = metric_of(c)?;
        Some((dataset.to_string(), m.to_string()))
    })
}

fn metric_of(c: &Check) -> Option<&MetricRef> {
    match &c.kind {
        CheckKind::Change { metric, .. } => Some(metric),
        CheckKind::Anomaly(a) => Some(&a.metric),
        _ => None,
    }
}

/// The result of history check `check`, whose metric's current value is `current`.
pub(crate) fn judge(
    check: &Check,
    dataset: &str,
    location: String,
    rows_scanned: u64,
    current: Result<f64, String>,
    history: &History,
) -> CheckResult {
    let mut r = skeleton(check, dataset, location);
    r.rows_scanned = Some(rows_scanned);
    let Some(metric) = metric_of(check) else {
        r.message = "not a history check".into();
        return r;
    };
    let value = match current {
        Ok(v) => v,
        Err(why) => {
            r.message = format!("cannot read `{metric}`: {why}");
            return r;
        }
    };
    let points = history.of(dataset, &metric.to_string());
    match &check.kind {
        CheckKind::Change { vs, .. } => change(check, r, metric, value, *vs, points, history),
        CheckKind::Anomaly(spec) => anomaly(check, r, spec, value, points, history),
        _ => r,
    }
}

/// No earlier value to judge against: passes with a note (or warns, for an `anomaly`
/// asked to).
fn unjudged(
    mut r: CheckResult,
    value: f64,
    note: String,
    history: &History,
    status: CheckStatus,
) -> CheckResult {
    r.status = status;
    r.observed = json!({ "value": float(value), "baseline": null });
    r.message = match &history.unavailable {
        Some(why) => format!("{note} ({why})"),
        None => note,
    };
    r
}

fn change(
    check: &Check,
    mut r: CheckResult,
    metric: &MetricRef,
    value: f64,
    vs: Baseline,
    points: &[Point],
    history: &History,
) -> CheckResult {
    let Some(base) = baseline(vs, points, history.logical) else {
        let note = format!(
            "{metric} = {}; no earlier run to compare with ({vs}): passes until there is one",
            fmt_float(value)
        );
        return unjudged(r, value, note, history, CheckStatus::Pass);
    };
    let abs = value - base.value;
    let pct = percent(abs, base.value);
    r.status = zone_status(
        check,
        &Measure::Change {
            abs,
            pct: Some(pct),
        },
    );
    r.observed = json!({
        "value": float(value),
        "baseline": float(base.value),
        "baseline_run": base.run_id,
        "baseline_date": base.logical.format("%Y-%m-%d").to_string(),
        "change": float(abs),
        "change_pct": if pct.is_finite() { float(pct) } else { Value::Null },
    });
    let pct_text = if pct.is_finite() {
        format!("{}{}%", if pct > 0.0 { "+" } else { "" }, num(round2(pct)))
    } else {
        "from 0".to_string()
    };
    r.message = format!(
        "{metric} = {} against {} on {} ({vs}): {}{} ({pct_text})",
        fmt_float(value),
        fmt_float(base.value),
        base.logical.format("%Y-%m-%d"),
        if abs > 0.0 { "+" } else { "" },
        fmt_float(abs),
    );
    r
}

/// The change in percent of the baseline (±infinity from a baseline of 0).
fn percent(abs: f64, base: f64) -> f64 {
    if abs == 0.0 {
        0.0
    } else if base == 0.0 {
        f64::INFINITY.copysign(abs)
    } else {
        100.0 * abs / base.abs()
    }
}

/// The earlier point `vs` names: the last passing one; the one 7 days before by logical
/// date; or the last value of the `n`-th logical date back.
fn baseline(vs: Baseline, points: &[Point], logical: Option<DateTime<Utc>>) -> Option<&Point> {
    match vs {
        Baseline::Previous => points.iter().rev().find(|p| p.passed),
        Baseline::SameWeekday => {
            let day = (logical? - ChronoDuration::days(7)).date_naive();
            let same: Vec<&Point> = points
                .iter()
                .filter(|p| p.logical.date_naive() == day)
                .collect();
            same.iter()
                .rev()
                .find(|p| p.passed)
                .or(same.last())
                .copied()
        }
        Baseline::RunsAgo(n) => latest_per_date(points)
            .into_iter()
            .rev()
            .nth(n as usize - 1),
    }
}

/// The last point of each logical date, oldest first.
fn latest_per_date(points: &[Point]) -> Vec<&Point> {
    let mut out: Vec<&Point> = Vec::new();
    for p in points {
        match out.last_mut() {
            Some(last) if last.logical == p.logical => *last = p,
            _ => out.push(p),
        }
    }
    out
}

/// The values an `anomaly` check's baseline is made of: one per logical date (the last),
/// the same weekday only with weekly seasonality, within the window.
fn anomaly_baseline(
    spec: &AnomalySpec,
    points: &[Point],
    logical: Option<DateTime<Utc>>,
) -> Vec<f64> {
    let mut pts = latest_per_date(points);
    if spec.weekly
        && let Some(now) = logical
    {
        pts.retain(|p| p.logical.weekday() == now.weekday());
    }
    match spec.window {
        Window::Runs(n) => {
            let skip = pts.len().saturating_sub(n as usize);
            pts.drain(..skip);
        }
        Window::Span(d) => {
            if let (Some(now), Ok(d)) = (logical, ChronoDuration::from_std(d)) {
                pts.retain(|p| p.logical >= now - d);
            }
        }
    }
    pts.iter().map(|p| p.value).collect()
}

/// Centre, spread and the spread's unit for a score: (median, MAD / 0.6745) for `mad`
/// (the mean absolute deviation × 1.2533 when the MAD is 0), (mean, standard deviation)
/// for `zscore`. A spread of 0 means every baseline value is the centre.
pub(crate) fn centre_and_spread(method: AnomalyMethod, values: &[f64]) -> (f64, f64) {
    match method {
        AnomalyMethod::Mad => {
            let med = median(values);
            let dev: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
            let mad = median(&dev);
            if mad > 0.0 {
                (med, mad / 0.6745)
            } else {
                let mean_ad = dev.iter().sum::<f64>() / dev.len() as f64;
                (med, mean_ad * 1.253_314)
            }
        }
        AnomalyMethod::Zscore => {
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
            (mean, var.sqrt())
        }
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn anomaly(
    check: &Check,
    mut r: CheckResult,
    spec: &AnomalySpec,
    value: f64,
    points: &[Point],
    history: &History,
) -> CheckResult {
    let metric = &spec.metric;
    let values = anomaly_baseline(spec, points, history.logical);
    if values.len() < spec.min_history as usize {
        let note = format!(
            "{metric} = {}; {} earlier value{}{} of the {} needed to judge it",
            fmt_float(value),
            values.len(),
            if values.len() == 1 { "" } else { "s" },
            if spec.weekly { " on this weekday" } else { "" },
            spec.min_history
        );
        let status = match spec.too_little {
            TooLittleHistory::Pass => CheckStatus::Pass,
            TooLittleHistory::Warn => CheckStatus::Warn,
        };
        return unjudged(r, value, note, history, status);
    }
    let (centre, spread) = centre_and_spread(spec.method, &values);
    let score = if value == centre {
        0.0
    } else if spread > 0.0 {
        (value - centre) / spread
    } else {
        f64::INFINITY.copysign(value - centre)
    };
    r.status = zone_status(check, &Measure::Score(score));
    let max = match check.fail.as_ref().or(check.warn.as_ref()) {
        Some(sluice_spec::Threshold::MaxScore(m)) => *m,
        _ => spec.method.default_max_score(),
    };
    let band = [centre - max * spread, centre + max * spread];
    r.observed = json!({
        "value": float(value),
        "baseline": float(centre),
        "band": [float(band[0]), float(band[1])],
        "score": if score.is_finite() { float(score) } else { Value::Null },
        "method": spec.method.as_str(),
        "history": values.len(),
    });
    let centre_name = match spec.method {
        AnomalyMethod::Mad => "median",
        AnomalyMethod::Zscore => "mean",
    };
    let score_text = if score.is_finite() {
        num(round2(score))
    } else {
        "infinite (every earlier value was the same)".into()
    };
    r.message = format!(
        "{metric} = {}; {centre_name} of {} earlier value{}{} is {}, expected within [{}, {}]; score {score_text}",
        fmt_float(value),
        values.len(),
        if values.len() == 1 { "" } else { "s" },
        if spec.weekly { " on this weekday" } else { "" },
        fmt_float(centre),
        fmt_float(band[0]),
        fmt_float(band[1]),
    );
    r
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0).unwrap()
    }

    fn pt(d: u32, value: f64, passed: bool) -> Point {
        Point {
            run_id: format!("r{d}"),
            logical: day(d),
            value,
            passed,
        }
    }

    #[test]
    fn previous_is_the_last_passing_run() {
        let pts = [pt(1, 10.0, true), pt(2, 20.0, false)];
        assert_eq!(
            baseline(Baseline::Previous, &pts, Some(day(3)))
                .unwrap()
                .value,
            10.0
        );
        assert_eq!(
            baseline(Baseline::RunsAgo(1), &pts, Some(day(3)))
                .unwrap()
                .value,
            20.0
        );
        assert_eq!(
            baseline(Baseline::RunsAgo(2), &pts, Some(day(3)))
                .unwrap()
                .value,
            10.0
        );
        assert!(baseline(Baseline::RunsAgo(3), &pts, Some(day(3))).is_none());
    }

    #[test]
    fn same_weekday_is_seven_logical_days_back() {
        let pts = [pt(16, 1.0, true), pt(22, 2.0, true), pt(23, 3.0, true)];
        assert_eq!(
            baseline(Baseline::SameWeekday, &pts, Some(day(30)))
                .unwrap()
                .value,
            3.0
        );
        assert!(baseline(Baseline::SameWeekday, &pts, Some(day(28))).is_none());
    }

    #[test]
    fn runs_ago_counts_logical_dates_not_reruns() {
        // Two runs of the 2nd (a retry): one date back is the retry's value.
        let pts = [pt(1, 1.0, true), pt(2, 2.0, false), pt(2, 3.0, true)];
        assert_eq!(
            baseline(Baseline::RunsAgo(1), &pts, Some(day(3)))
                .unwrap()
                .value,
            3.0
        );
        assert_eq!(
            baseline(Baseline::RunsAgo(2), &pts, Some(day(3)))
                .unwrap()
                .value,
            1.0
        );
    }

    #[test]
    fn mad_score_matches_the_worked_example() {
        // Values 1..=9: median 5, MAD 2; spread 2 / 0.6745.
        let v: Vec<f64> = (1..=9).map(f64::from).collect();
        let (c, s) = centre_and_spread(AnomalyMethod::Mad, &v);
        assert_eq!(c, 5.0);
        assert!((s - 2.0 / 0.6745).abs() < 1e-12);
        // zscore: mean 5, sample sd sqrt(7.5).
        let (c, s) = centre_and_spread(AnomalyMethod::Zscore, &v);
        assert_eq!(c, 5.0);
        assert!((s - 7.5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn weekly_seasonality_keeps_the_same_weekday_within_the_window() {
        let pts: Vec<Point> = (1..=29).map(|d| pt(d, f64::from(d), true)).collect();
        let spec = AnomalySpec {
            metric: MetricRef::RowCount,
            method: AnomalyMethod::Mad,
            window: Window::Runs(3),
            weekly: true,
            min_history: 2,
            too_little: TooLittleHistory::Pass,
        };
        // 2026-11-30 is a Monday: the Mondays before it are the 2nd, 9th, 16th and 23rd.
        assert_eq!(
            anomaly_baseline(&spec, &pts, Some(day(30))),
            [9.0, 16.0, 23.0]
        );
        let spec = AnomalySpec {
            window: Window::Span(std::time::Duration::from_secs(3 * 86_400)),
            weekly: false,
            ..spec
        };
        assert_eq!(
            anomaly_baseline(&spec, &pts, Some(day(30))),
            [27.0, 28.0, 29.0]
        );
    }
}
