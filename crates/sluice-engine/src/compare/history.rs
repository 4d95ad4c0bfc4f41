//! `within_history`: forecast values within `factor` × the historical range of an actuals
//! dataset, per series.
//!
//! Per series, the history's low `L` and high `H` are the minimum and maximum of the
//! actuals (or their `q_low` / `q_high` quantiles, exact `percentile_cont`). The allowed
//! band widens them by the factor, away from zero:
//!
//! - lower = `L / factor` when `L > 0`, else `L × factor`;
//! - upper = `H × factor` when `H > 0`, else `H / factor`.
//!
//! So with `factor: 3`, a series that sold between 100 and 200 a day may be forecast
//! between 33.3 and 600; one that never sold less than 0 may not be forecast negative;
//! one that only ever sold 0 may only be forecast 0. A forecast row whose series has no
//! history is not judged (counted as `rows_without_history`). `failing_rows` = forecast
//! rows outside their band, out of the rows with a value in scope.

use serde_json::{Map, Value, json};
use sluice_spec::WithinHistorySpec;

use super::{Comparison, Other, Query, cols, cols_then, join_on, lit, round, short};
use crate::compile::ident;
use crate::error::CheckError;
use crate::values::{as_u64, rows};

/// Series listed in `observed`.
const LISTED: usize = 20;

pub(super) async fn run(
    q: &Query<'_>,
    spec: &WithinHistorySpec,
    other: &Other,
    _in_scope: u64,
) -> Result<Comparison, CheckError> {
    let s = &spec.series;
    let a = format!("CAST({} AS DOUBLE)", ident(spec.actual_column()));
    let f = lit(spec.factor);
    let stat = |q: Option<f64>, agg: &str| match q {
        Some(p) => format!("percentile_cont({p:?}) WITHIN GROUP (ORDER BY {a})"),
        None => format!("{agg}({a})"),
    };
    let group_by = if s.is_empty() {
        String::new()
    } else {
        format!(" GROUP BY {}", cols(s, ""))
    };
    let c = ident(&spec.column);
    let ranged = format!(
        "WITH h AS (SELECT {sc}{lo} AS lo, {hi} AS hi FROM {actuals} WHERE {a} IS NOT NULL{group_by}), \
         b AS (SELECT {sc}lo, hi, CASE WHEN lo > 0 THEN lo / {f} ELSE lo * {f} END AS allowed_low, \
                 CASE WHEN hi > 0 THEN hi * {f} ELSE hi / {f} END AS allowed_high FROM h), \
         r AS (SELECT t.*, CAST(t.{c} AS DOUBLE) AS value__, b.allowed_low, b.allowed_high, b.lo AS history_low, b.hi AS history_high, \
                 b.allowed_low IS NULL AS no_history__, \
                 (b.allowed_low IS NOT NULL AND (CAST(t.{c} AS DOUBLE) < b.allowed_low OR CAST(t.{c} AS DOUBLE) > b.allowed_high)) AS out__ \
               FROM (SELECT * FROM {table} WHERE {c} IS NOT NULL{scope}) t LEFT JOIN b ON {on})",
        sc = cols_then(s, ""),
        lo = stat(spec.q_low, "min"),
        hi = stat(spec.q_high, "max"),
        actuals = ident(&other.table),
        table = q.table(),
        scope = q.and_scope(),
        on = join_on(s, "t", "b"),
    );
    let v = q
        .row(&format!(
            "{ranged} SELECT count(*) FILTER (WHERE out__), count(*) FILTER (WHERE no_history__), count(*) FROM r"
        ))
        .await?;
    let (out, no_history, n) = (as_u64(&v[0]), as_u64(&v[1]), as_u64(&v[2]));
    let count_series = |cond: &str| {
        if s.is_empty() {
            format!("SELECT CASE WHEN count(*) > 0 THEN 1 ELSE 0 END FROM r WHERE {cond}")
        } else {
            format!(
                "SELECT count(*) FROM (SELECT {k} FROM r WHERE {cond} GROUP BY {k})",
                k = cols(s, "")
            )
        }
    };
    let mut observed = Map::new();
    observed.insert("actuals".into(), json!(other.label));
    observed.insert("column".into(), json!(spec.column));
    observed.insert("actual_column".into(), json!(spec.actual_column()));
    observed.insert("series".into(), json!(s));
    observed.insert("factor".into(), round(spec.factor));
    if let Some(p) = spec.q_low {
        observed.insert("q_low".into(), round(p));
    }
    if let Some(p) = spec.q_high {
        observed.insert("q_high".into(), round(p));
    }
    observed.insert("rows".into(), json!(n));
    observed.insert("rows_out_of_range".into(), json!(out));
    observed.insert("rows_without_history".into(), json!(no_history));
    let mut series_out = 0;
    let mut samples = vec![];
    if out > 0 {
        series_out = as_u64(
            &q.row(&format!("{ranged} {}", count_series("out__")))
                .await?[0],
        );
        let listed = format!(
            "{ranged} SELECT {sc}count(*) AS rows_out, min(value__) AS min_value, max(value__) AS max_value, \
               min(history_low) AS history_low, min(history_high) AS history_high, \
               min(allowed_low) AS allowed_low, min(allowed_high) AS allowed_high \
             FROM r WHERE out__{group_by} ORDER BY rows_out DESC{order} LIMIT {LISTED}",
            sc = cols_then(s, ""),
            order = if s.is_empty() {
                String::new()
            } else {
                format!(", {}", cols(s, ""))
            },
        );
        observed.insert(
            "series_out_of_range".into(),
            Value::from(rows(&q.batches(&listed).await?)),
        );
        let mut shown: Vec<String> = q.ds.key.clone();
        for col in s.iter().chain(std::iter::once(&spec.column)) {
            if !shown.contains(col) {
                shown.push(col.clone());
            }
        }
        let sample_sql = format!(
            "{ranged} SELECT {shown}, allowed_low, allowed_high FROM r WHERE out__ ORDER BY {order} LIMIT {n}",
            shown = cols(&shown, ""),
            order = cols(&shown, ""),
            n = q.samples(),
        );
        samples = rows(&q.batches(&sample_sql).await?);
    }
    observed.insert("series_out_count".into(), json!(series_out));
    let series_without = if no_history > 0 {
        as_u64(
            &q.row(&format!("{ranged} {}", count_series("no_history__")))
                .await?[0],
        )
    } else {
        0
    };
    observed.insert("series_without_history".into(), json!(series_without));
    let band = match (spec.q_low, spec.q_high) {
        (None, None) => "range".to_string(),
        (lo, hi) => format!(
            "[{}, {}] quantiles",
            lo.map_or("min".into(), short),
            hi.map_or("max".into(), short)
        ),
    };
    let per = if s.is_empty() {
        String::new()
    } else {
        format!(" per {}", s.join(", "))
    };
    let mut message = format!(
        "{out} of {n} rows have {} outside {} × the historical {band} of {}.{}{per}",
        spec.column,
        short(spec.factor),
        other.label,
        spec.actual_column()
    );
    if out > 0 && !s.is_empty() {
        message.push_str(&format!(", in {series_out} series"));
    }
    if no_history > 0 {
        message.push_str(&format!(
            "; {no_history} rows in {series_without} series without history not judged"
        ));
    }
    Ok(Comparison {
        stats: vec![],
        failing: Some((out, n)),
        observed: Value::Object(observed),
        message,
        samples,
    })
}
