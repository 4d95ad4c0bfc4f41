//! The queries some checks run besides the fused scan — `unique` (the duplicate detector of
//! [`crate::duplicates`]) and `references` (an anti-join) — after the scan, so their
//! memory does not add to its.

use std::time::Instant;

use serde_json::{Map, Value};
use sluice_spec::{Check, CheckKind, Dataset, QuantileOrder};
use tracing::{Instrument, debug, info_span};

use super::RunContext;
use super::explain::explain;
use super::plan::{CheckPlan, NativePlan};
use crate::compile::{OwnQuery, ident};
use crate::duplicates::{self, Listed, Order, Search};
use crate::error::{CheckError, CheckErrorKind as K};
use crate::pack::{Grid, GroupQuery};
use crate::query::{Kind, one_row};
use crate::source::Source;
use crate::values::{as_i64, as_u64, rows};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::common::ScalarValue;

/// What a check's own query found.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct OwnOutcome {
    /// Failing rows (for duplicates: rows beyond the first of each duplicated value).
    pub failing: u64,
    /// For duplicates: how many values occur more than once.
    pub duplicated_values: Option<u64>,
    /// For duplicates: the most repeated values with their `occurrences`.
    pub samples: Vec<Map<String, Value>>,
    /// For duplicates found by the bitmaps: the smallest duplicated values, whose counts a
    /// sample query fetches if the check fails.
    pub sample_values: Vec<i64>,
    /// For comparison checks: what the comparison found.
    pub compared: Option<crate::compare::Comparison>,
    /// For grouped checks: the units in scope (groups, series, required combinations).
    pub in_scope: Option<u64>,
    /// For `metric` with `group_by`: groups outside the warn zone.
    pub warning: u64,
    /// The result's message, when the own query knows it better than the counts.
    pub message: Option<String>,
}

impl OwnOutcome {
    fn new(failing: u64) -> OwnOutcome {
        OwnOutcome {
            failing,
            duplicated_values: None,
            samples: vec![],
            sample_values: vec![],
            in_scope: None,
            warning: 0,
            message: None,
            compared: None,
        }
    }
}

/// The duplicate search of a `unique` check on `columns`, from its fused aggregates:
/// rows with a complete key, then `min` and `max` of a dense integer key.
pub(super) fn unique_search<'a>(
    ds: &'a Dataset,
    check: &'a Check,
    columns: &'a [String],
    dense: bool,
    nulls_equal: bool,
    fused: &[datafusion::common::ScalarValue],
) -> Search<'a> {
    let range = match fused {
        [_, min, max, ..] if dense => as_i64(min).zip(as_i64(max)),
        _ => None,
    };
    Search {
        table: &ds.name,
        keys: columns,
        names: columns,
        scope: check.filter.as_deref(),
        rows_with_key: fused.first().map(as_u64).unwrap_or(0),
        range,
        list: check.samples as usize,
        order: Order::MostRepeated,
        nulls_equal,
    }
}

/// Runs the own query of `plan`'s check, if it has one; returns its outcome and duration.
pub(super) async fn run(
    cx: &RunContext<'_>,
    ds: &Dataset,
    source: &Source,
    plan: &CheckPlan<'_>,
) -> Option<(Result<OwnOutcome, CheckError>, u64)> {
    let q = plan.compiled.as_ref()?.own.as_ref()?;
    let fused = plan.unit.values.as_deref()?;
    let check = plan.check;
    // The totals the fused scan computed natively, if it did.
    let native = plan.native_totals();
    let span =
        info_span!("query", kind = "own", check = %check.name, elapsed_ms = tracing::field::Empty);
    let started = Instant::now();
    let outcome = async {
        match q {
            OwnQuery::Duplicates {
                columns,
                dense,
                nulls_equal,
            } => {
                let search = unique_search(ds, check, columns, *dense, *nulls_equal, fused);
                let found = duplicates::find(cx.session, &search)
                    .await
                    .map_err(|e| explain(check, &e, &source.schema, K::Evaluation))?;
                let (samples, sample_values) = match found.listed {
                    Listed::Values(v) => (vec![], v),
                    Listed::Rows(batches) => (rows(&batches), vec![]),
                };
                Ok(OwnOutcome {
                    duplicated_values: Some(found.values),
                    samples,
                    sample_values,
                    ..OwnOutcome::new(found.extra_rows)
                })
            }
            OwnQuery::References {
                column,
                dataset,
                key,
            } => references(cx, ds, source, check, column, dataset, key).await,
            OwnQuery::Compared => {
                let in_scope = fused.first().map(as_u64).unwrap_or(0);
                let c = crate::compare::run(cx, ds, check, in_scope).await?;
                Ok(OwnOutcome {
                    samples: c.samples.clone(),
                    compared: Some(c.clone()),
                    ..OwnOutcome::new(c.failing.map_or(0, |(f, _)| f))
                })
            }
            OwnQuery::Groups(q) => groups(cx, source, check, q, native).await,
            OwnQuery::Completeness(grid) => {
                completeness(cx, source, check, grid, fused, plan.native.as_ref()).await
            }
        }
    }
    .instrument(span.clone())
    .await;
    let ms = started.elapsed().as_millis() as u64;
    span.record("elapsed_ms", ms);
    Some((outcome, ms))
}

/// Rows whose `column` is not in `dataset.key`: an anti-join.
async fn references(
    cx: &RunContext<'_>,
    ds: &Dataset,
    source: &Source,
    check: &Check,
    column: &str,
    dataset: &str,
    key: &str,
) -> Result<OwnOutcome, CheckError> {
    let sql = format!(
        "SELECT count(*) FROM {table} AS c WHERE {scope}c.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE p.{key} = c.{col})",
        table = ident(&ds.name),
        scope = scope_sql(check),
        col = ident(column),
        parent = ident(dataset),
        key = ident(key),
    );
    debug!(%sql, "own query");
    let explained = |e| explain(check, &e, &source.schema, K::Evaluation);
    let df = cx.session.sql(&sql).await.map_err(explained)?;
    let v = one_row(df, None, Kind::Own).await.map_err(explained)?;
    Ok(OwnOutcome::new(v.first().map(as_u64).unwrap_or(0)))
}

/// A grouped check's totals, and its first failing units when there are any.
async fn groups(
    cx: &RunContext<'_>,
    source: &Source,
    check: &Check,
    q: &GroupQuery,
    native: Option<(u64, u64)>,
) -> Result<OwnOutcome, CheckError> {
    let explained = |e| explain(check, &e, &source.schema, K::Evaluation);
    let v = match native {
        Some((units, failing)) => [units, failing].map(ScalarValue::from).to_vec(),
        None => {
            let sql = q.totals_sql();
            debug!(%sql, "own query");
            let df = cx.session.sql(&sql).await.map_err(explained)?;
            one_row(df, None, Kind::Own).await.map_err(explained)?
        }
    };
    let at = |i: usize| v.get(i).map(as_u64).unwrap_or(0);
    let (units, failing, warning) = (at(0), at(1), at(2));
    let samples = if failing > 0 || warning > 0 {
        listing(cx, source, check, q).await?
    } else {
        vec![]
    };
    Ok(OwnOutcome {
        samples,
        in_scope: Some(units),
        warning,
        message: message(check, units, failing, &[at(3), at(4), at(5)]),
        ..OwnOutcome::new(failing)
    })
}

/// A `completeness` check: the totals by the bitmaps ([`crate::pack::FastGrid`]); the
/// joined grid only for the samples of a failing one (or for a grid too large to count).
async fn completeness(
    cx: &RunContext<'_>,
    source: &Source,
    check: &Check,
    grid: &Grid,
    fused: &[ScalarValue],
    native: Option<&NativePlan>,
) -> Result<OwnOutcome, CheckError> {
    // The fused scan gave each undated grid's earliest date, then `count(*)`, then (when
    // it counted the grid itself) the native aggregate's `[on_grid, distinct]`.
    let counted = native.and_then(|n| Some((n, crate::native::result(fused.get(n.index)?)?)));
    let fused = native.map_or(fused, |n| &fused[..n.index.min(fused.len())]);
    let (starts, in_scope) = match fused.split_last() {
        Some((last, starts)) => (starts, as_u64(last)),
        None => (fused, 0),
    };
    let (required, (on_grid, distinct)) = match counted {
        Some((n, counts)) => (n.sizes.iter().product(), counts),
        None => match count_grid(cx, source, check, grid, starts).await? {
            Some(counted) => counted,
            // Too large a grid for the bitmaps: the joined query counts.
            None => return groups(cx, source, check, &grid.query(starts)?, None).await,
        },
    };
    let missing = required.saturating_sub(distinct);
    let copies = on_grid.saturating_sub(distinct);
    let extra = in_scope.saturating_sub(on_grid);
    let CheckKind::Completeness(spec) = &check.kind else {
        return Err(CheckError::new(K::Internal, "not a completeness check"));
    };
    let failing = missing + copies + if spec.extra_fail { extra } else { 0 };
    let samples = if failing > 0 && check.samples > 0 {
        listing(cx, source, check, &grid.query(starts)?).await?
    } else {
        vec![]
    };
    Ok(OwnOutcome {
        samples,
        in_scope: Some(required),
        message: message(check, required, failing, &[missing, copies, extra]),
        ..OwnOutcome::new(failing)
    })
}

/// The grid's size (required combinations) and `(rows on the grid, cells with rows)`, by
/// the bitmaps ([`crate::pack::FastGrid`]); `None` when the grid is too large for them.
async fn count_grid(
    cx: &RunContext<'_>,
    source: &Source,
    check: &Check,
    grid: &Grid,
    starts: &[ScalarValue],
) -> Result<Option<(u64, (u64, u64))>, CheckError> {
    let explained = |e| explain(check, &e, &source.schema, K::Evaluation);
    let fast = grid.fast(starts)?;
    let mut sizes = Vec::with_capacity(fast.sizes.len());
    for sql in &fast.sizes {
        debug!(%sql, "grid size");
        let df = cx.session.sql(sql).await.map_err(explained)?;
        let v = one_row(df, None, Kind::Own).await.map_err(explained)?;
        sizes.push(v.first().map(as_u64).unwrap_or(0));
    }
    let required = sizes.iter().product::<u64>();
    let Some(sql) = fast.counting.sql(&sizes) else {
        return Ok((required == 0).then_some((0, (0, 0))));
    };
    debug!(%sql, "grid counts");
    let df = cx.session.sql(&sql).await.map_err(explained)?;
    let v = one_row(df, None, Kind::Own).await.map_err(explained)?;
    let distinct = match v.get(1) {
        Some(ScalarValue::Struct(st)) if !st.is_null(0) => {
            st.column(0).as_primitive::<Int64Type>().value(0).max(0) as u64
        }
        _ => {
            return Err(CheckError::new(
                K::Internal,
                "the grid's positions fell outside the grid",
            ));
        }
    };
    Ok(Some((
        required,
        (v.first().map(as_u64).unwrap_or(0), distinct),
    )))
}

/// The first failing units of a grouped check (its `samples:`), by the one-partition
/// session so the same data lists the same units; none when it keeps no samples.
async fn listing(
    cx: &RunContext<'_>,
    source: &Source,
    check: &Check,
    q: &GroupQuery,
) -> Result<Vec<Map<String, Value>>, CheckError> {
    if check.samples == 0 {
        return Ok(vec![]);
    }
    let explained = |e| explain(check, &e, &source.schema, K::Evaluation);
    let sql = q.listing_sql(check.samples);
    debug!(%sql, "own query listing");
    let df = cx.sample_session.sql(&sql).await.map_err(explained)?;
    Ok(rows(&df.collect().await.map_err(explained)?))
}

/// The message of a grouped check: what failed, of how many units.
fn message(check: &Check, units: u64, failing: u64, parts: &[u64; 3]) -> Option<String> {
    let scope = check
        .filter
        .as_deref()
        .map(|f| format!(" (where {f})"))
        .unwrap_or_default();
    let s = |n: u64, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    Some(match &check.kind {
        CheckKind::Completeness(spec) => {
            let [missing, copies, extra] = *parts;
            let mut found = vec![format!("{missing} missing"), s(copies, "duplicate row")];
            if spec.extra_fail {
                found.push(format!("{} off the grid", s(extra, "row")));
            }
            format!(
                "{failing} failing of {units} required {} of ({}): {}{scope}",
                if units == 1 {
                    "combination"
                } else {
                    "combinations"
                },
                spec.columns().join(", "),
                found.join(", ")
            )
        }
        CheckKind::QuantilesOrdered(QuantileOrder::Long { by, tolerance, .. }) => {
            let by = if by.is_empty() {
                String::new()
            } else {
                format!(" ({})", by.join(", "))
            };
            let tol = if *tolerance > 0.0 {
                format!(" by more than {tolerance}")
            } else {
                String::new()
            };
            format!(
                "{failing} of {}{by} have quantiles decreasing{tol} as the level rises{scope}",
                s(units, "group")
            )
        }
        CheckKind::NotConstant { series, column } => format!(
            "{failing} of {units} series ({}) have a constant {column}{scope}",
            series.join(", ")
        ),
        _ => return None,
    })
}

/// `(where) AND ` of a check, or nothing.
pub(super) fn scope_sql(check: &Check) -> String {
    check
        .filter
        .as_deref()
        .map(|f| format!("({f}) AND "))
        .unwrap_or_default()
}
