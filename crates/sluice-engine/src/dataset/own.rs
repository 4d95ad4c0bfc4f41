//! The queries some checks run besides the fused scan — `unique` (the duplicate detector of
//! [`crate::duplicates`]) and `references` (an anti-join) — after the scan, so their
//! memory does not add to its.

use std::time::Instant;

use serde_json::{Map, Value};
use sluice_spec::{Check, Dataset};
use tracing::{Instrument, debug, info_span};

use super::RunContext;
use super::explain::explain;
use super::plan::CheckPlan;
use crate::compile::{OwnQuery, ident};
use crate::duplicates::{self, Listed, Order, Search};
use crate::error::{CheckError, CheckErrorKind as K};
use crate::query::{Kind, one_row};
use crate::source::Source;
use crate::values::{as_i64, as_u64, rows};

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
}

/// The duplicate search of a `unique` check on `columns`, from its fused aggregates:
/// rows with a complete key, then `min` and `max` of a dense integer key.
pub(super) fn unique_search<'a>(
    ds: &'a Dataset,
    check: &'a Check,
    columns: &'a [String],
    dense: bool,
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
    let span =
        info_span!("query", kind = "own", check = %check.name, elapsed_ms = tracing::field::Empty);
    let started = Instant::now();
    let outcome = async {
        match q {
            OwnQuery::Duplicates { columns, dense } => {
                let search = unique_search(ds, check, columns, *dense, fused);
                let found = duplicates::find(cx.session, &search)
                    .await
                    .map_err(|e| explain(check, &e, &source.schema, K::Evaluation))?;
                let (samples, sample_values) = match found.listed {
                    Listed::Values(v) => (vec![], v),
                    Listed::Rows(batches) => (rows(&batches), vec![]),
                };
                Ok(OwnOutcome {
                    failing: found.extra_rows,
                    duplicated_values: Some(found.values),
                    samples,
                    sample_values,
                    compared: None,
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
                    failing: c.failing.map_or(0, |(f, _)| f),
                    duplicated_values: None,
                    samples: c.samples.clone(),
                    sample_values: vec![],
                    compared: Some(c),
                })
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
    Ok(OwnOutcome {
        failing: v.first().map(as_u64).unwrap_or(0),
        duplicated_values: None,
        samples: vec![],
        sample_values: vec![],
        compared: None,
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
