//! `forecast_accuracy`: a forecast against its actuals, once they arrive.
//!
//! The forecast rows are joined with the actuals on `keys` (the last key is the time, the
//! others name the series); the rows with a point forecast and an actual are evaluated:
//!
//! - **coverage** = rows with `lower ≤ actual ≤ upper` / evaluated rows × 100;
//! - **WAPE** = `Σ|actual − point| / Σ|actual| × 100`;
//! - **MASE** (Hyndman & Koehler 2006) with a seasonal-naive baseline of period
//!   `m = season`: each series' scale is `mean |y_t − y_{t−m}|` over its *training*
//!   actuals — the actuals of that series strictly before the series' first forecast
//!   date, `y_{t−m}` being the value `m` rows earlier in date order — and MASE =
//!   mean over every evaluated row of `|actual − point| / scale(series)`, pooled over the
//!   series (each row weighs the same; with equal horizons this is the mean of the
//!   per-series MASEs). Series with no scale (fewer than `m + 1` training actuals, or a
//!   constant history: scale 0) are left out of MASE and counted.

use serde_json::{Map, Value, json};
use sluice_spec::AccuracySpec;

use super::{Comparison, Other, Query, cols, cols_then, exact, join_on, short};
use crate::compile::ident;
use crate::error::CheckError;
use crate::values::{as_f64, as_u64, rows};

/// Series listed in `observed` by their MASE.
const LISTED: usize = 20;

pub(super) async fn run(
    q: &Query<'_>,
    spec: &AccuracySpec,
    other: &Other,
) -> Result<Comparison, CheckError> {
    let (series, date) = spec.keys.split_at(spec.keys.len() - 1);
    let date = ident(&date[0]);
    let point = ident(&spec.point);
    let y = ident(spec.actual_column());
    let actuals = ident(&other.table);
    let m = spec.season;
    let group_by = |prefix: &str| {
        if series.is_empty() {
            String::new()
        } else {
            format!(" GROUP BY {}", cols(series, prefix))
        }
    };
    let partition = if series.is_empty() {
        String::new()
    } else {
        format!("PARTITION BY {} ", cols(series, ""))
    };
    let (covered, interval) = match (&spec.lower, &spec.upper) {
        (Some(lo), Some(hi)) => (
            format!(
                "j.actual__ >= CAST(j.{lo} AS DOUBLE) AND j.actual__ <= CAST(j.{hi} AS DOUBLE)",
                lo = ident(lo),
                hi = ident(hi)
            ),
            format!(
                "j.{} IS NOT NULL AND j.{} IS NOT NULL",
                ident(lo),
                ident(hi)
            ),
        ),
        _ => ("FALSE".to_string(), "FALSE".to_string()),
    };
    let base = format!(
        "WITH f AS (SELECT * FROM {table} WHERE {point} IS NOT NULL{scope}), \
         st AS (SELECT {sc}min({date}) AS d0 FROM f{gb}), \
         hist AS (SELECT {asc}a.{date} AS d__, CAST(a.{y} AS DOUBLE) AS y__ FROM {actuals} a JOIN st ON {on_st} \
                  WHERE a.{y} IS NOT NULL AND a.{date} < st.d0), \
         diffs AS (SELECT {sc}abs(y__ - lag(y__, {m}) OVER ({partition}ORDER BY d__)) AS ad FROM hist), \
         sc AS (SELECT {sc}avg(ad) AS scale, count(ad) AS n_diffs FROM diffs{gb}), \
         j AS (SELECT f.*, CAST(a.{y} AS DOUBLE) AS actual__, CAST(f.{point} AS DOUBLE) AS point__, \
                 abs(CAST(a.{y} AS DOUBLE) - CAST(f.{point} AS DOUBLE)) AS err__ \
               FROM f JOIN {actuals} a ON {on_keys} WHERE a.{y} IS NOT NULL), \
         e AS (SELECT j.*, sc.scale AS scale__, ({covered}) AS covered__, ({interval}) AS interval__ \
               FROM j LEFT JOIN sc ON {on_sc})",
        table = q.table(),
        scope = q.and_scope(),
        sc = cols_then(series, ""),
        asc = cols_then(series, "a."),
        gb = group_by(""),
        on_st = join_on(series, "a", "st"),
        on_keys = join_on(&spec.keys, "f", "a"),
        on_sc = join_on(series, "j", "sc"),
    );
    let v = q
        .row(&format!(
            "{base} SELECT count(*) AS evaluated__, sum(err__), sum(abs(actual__)), \
               count(*) FILTER (WHERE interval__), count(*) FILTER (WHERE interval__ AND covered__), \
               avg(err__ / scale__) FILTER (WHERE scale__ > 0), count(*) FILTER (WHERE scale__ > 0), \
               (SELECT count(*) FROM f) AS forecast_rows__ \
             FROM e"
        ))
        .await?;
    let u = |i: usize| v.get(i).map(as_u64).unwrap_or(0);
    let f = |i: usize| v.get(i).and_then(as_f64);
    let (evaluated, forecast_rows) = (u(0), u(7));
    let mut observed = Map::new();
    observed.insert("actuals".into(), json!(other.label));
    observed.insert("keys".into(), json!(spec.keys));
    observed.insert("point".into(), json!(spec.point));
    observed.insert("actual_column".into(), json!(spec.actual_column()));
    observed.insert("season".into(), json!(m));
    observed.insert("forecast_rows".into(), json!(forecast_rows));
    observed.insert("rows_evaluated".into(), json!(evaluated));
    if evaluated == 0 {
        return Ok(Comparison::note(
            format!(
                "no actuals in {} yet for any of the {forecast_rows} forecast rows: nothing to evaluate",
                other.label
            ),
            Value::Object(observed),
        ));
    }
    let mut stats = vec![];
    let mut parts = vec![];
    let (abs_err, abs_actual) = (f(1).unwrap_or(0.0), f(2).unwrap_or(0.0));
    let wape = if abs_actual > 0.0 {
        abs_err / abs_actual * 100.0
    } else if abs_err == 0.0 {
        0.0
    } else {
        f64::INFINITY
    };
    stats.push(("wape_pct", wape));
    observed.insert("wape_pct".into(), exact(wape));
    parts.push(format!("WAPE {}%", short(wape)));
    let (interval_rows, covered_rows) = (u(3), u(4));
    if spec.lower.is_some() {
        observed.insert("interval_rows".into(), json!(interval_rows));
        observed.insert("covered".into(), json!(covered_rows));
        if interval_rows > 0 {
            let coverage = covered_rows as f64 / interval_rows as f64 * 100.0;
            stats.push(("coverage_pct", coverage));
            observed.insert("coverage_pct".into(), exact(coverage));
            parts.push(format!(
                "coverage {}% ({covered_rows} of {interval_rows} actuals within [{}, {}])",
                short(coverage),
                spec.lower.as_deref().unwrap_or(""),
                spec.upper.as_deref().unwrap_or("")
            ));
        }
    }
    let (mase, scaled) = (f(5), u(6));
    observed.insert("rows_scaled".into(), json!(scaled));
    match mase {
        Some(mase) if scaled > 0 => {
            stats.push(("mase", mase));
            observed.insert("mase".into(), exact(mase));
            parts.push(format!("MASE {} (season {m})", short(mase)));
        }
        _ => {
            observed.insert("mase".into(), Value::Null);
            parts.push(format!(
                "MASE not computed: no series has {} training actuals before its forecast that vary",
                m + 1
            ));
        }
    }
    let unscaled_series = if scaled < evaluated {
        let sql = if series.is_empty() {
            format!("{base} SELECT 1")
        } else {
            format!(
                "{base} SELECT count(*) FROM (SELECT {k} FROM e WHERE scale__ IS NULL OR scale__ = 0{gb})",
                k = cols(series, ""),
                gb = group_by("")
            )
        };
        as_u64(&q.row(&sql).await?[0])
    } else {
        0
    };
    observed.insert("series_without_scale".into(), json!(unscaled_series));
    if !series.is_empty() && scaled > 0 {
        let worst = format!(
            "{base} SELECT {sc}avg(err__ / scale__) AS mase, count(*) AS rows FROM e WHERE scale__ > 0{gb} \
             ORDER BY mase DESC, {k} LIMIT {LISTED}",
            sc = cols_then(series, ""),
            gb = group_by(""),
            k = cols(series, ""),
        );
        observed.insert(
            "worst_series".into(),
            Value::from(rows(&q.batches(&worst).await?)),
        );
    }
    // The largest errors, as samples, when a limit is broken.
    let samples = if super::breaks_a_limit(q.check, &stats) {
        let mut shown: Vec<String> = spec.keys.clone();
        for c in std::iter::once(&spec.point)
            .chain(spec.lower.iter())
            .chain(spec.upper.iter())
        {
            if !shown.contains(c) {
                shown.push(c.clone());
            }
        }
        let sample_sql = format!(
            "{base} SELECT {shown}, actual__ AS actual, err__ AS abs_error FROM e ORDER BY err__ DESC, {keys} LIMIT {n}",
            shown = cols(&shown, ""),
            keys = cols(&spec.keys, ""),
            n = q.samples(),
        );
        rows(&q.batches(&sample_sql).await?)
    } else {
        vec![]
    };
    let mut message = format!(
        "{} over {evaluated} of {forecast_rows} forecast rows with actuals in {}",
        parts.join(", "),
        other.label
    );
    if unscaled_series > 0 {
        message.push_str(&format!(
            "; {unscaled_series} series without a MASE scale left out of MASE"
        ));
    }
    Ok(Comparison {
        stats,
        failing: None,
        observed: Value::Object(observed),
        message,
        samples,
    })
}
