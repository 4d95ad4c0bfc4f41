//! Why a check could not be planned or run, in words a data engineer can act on: the
//! check's SQL with an unknown column or function gets the closest real name, a metric that
//! does not aggregate says so, a memory error names the query, a value the source cannot
//! read is located in its file.

use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::Expr;
use sluice_spec::{Check, CheckKind, Dataset};

use super::RunContext;
use crate::compile::Compiled;
use crate::error::{CheckError, CheckErrorKind as K, df_message};
use crate::source::Source;

/// Adds the check's `where:` as a FILTER to every aggregate in `e`.
pub(super) fn scoped(e: Expr, scope: Option<&Expr>) -> Result<Expr, DataFusionError> {
    let Some(scope) = scope else { return Ok(e) };
    e.transform_up(|node| match node {
        Expr::AggregateFunction(mut af) => {
            let filter = match af.params.filter.take() {
                Some(f) => scope.clone().and(*f),
                None => scope.clone(),
            };
            af.params.filter = Some(Box::new(filter));
            Ok(Transformed::yes(Expr::AggregateFunction(af)))
        }
        other => Ok(Transformed::no(other)),
    })
    .data()
}

/// A check's aggregates as expressions (scoped, not yet aliased). An unknown column or
/// function in the user's SQL gets the closest real name.
pub(super) fn check_exprs(
    df: &DataFrame,
    c: &Compiled,
    check: &Check,
    dataset: &str,
    schema: &Schema,
) -> Result<Vec<Expr>, CheckError> {
    let unknown =
        |e: &DataFusionError| crate::sql_hint::unknown_name(e, dataset, schema, &df.task_ctx());
    // An unknown column keeps its name on the error.
    let about = |mut err: CheckError, e: &DataFusionError| {
        err.column = crate::sql_hint::unknown_column(e);
        err
    };
    let scope = match &check.filter {
        Some(f) => Some(df.parse_sql_expr(f).map_err(|e| {
            let why = unknown(&e).unwrap_or_else(|| df_message(&e));
            about(
                CheckError::new(K::Sql, format!("invalid `where`: {why}")),
                &e,
            )
        })?),
        None => None,
    };
    c.aggs
        .iter()
        .map(|sql| {
            let e = df.parse_sql_expr(sql).map_err(|e| match unknown(&e) {
                Some(why) => about(CheckError::new(K::Sql, with_subject(check, why)), &e),
                None => explain(check, &e, schema, K::Sql),
            })?;
            scoped(e, scope.as_ref()).map_err(|e| explain(check, &e, schema, K::Sql))
        })
        .collect()
}

/// Turns a planning or evaluation error into advice for the user; `kind` is what the
/// error is unless it is a memory error.
pub(super) fn explain(check: &Check, e: &DataFusionError, schema: &Schema, kind: K) -> CheckError {
    let msg = advice(check, e);
    let msg = match untyped_columns(check, e, schema) {
        Some(cols) => format!(
            "{msg} (column {cols} holds no values in the data, so its type could not be inferred)"
        ),
        None => msg,
    };
    CheckError::query(kind, msg)
}

/// Columns of type Null (a CSV/JSON column with no value at all) that the error is about.
fn untyped_columns(check: &Check, e: &DataFusionError, schema: &Schema) -> Option<String> {
    if !e.to_string().contains("Null") {
        return None;
    }
    let text = match &check.kind {
        CheckKind::Metric { sql, .. } => sql.clone(),
        CheckKind::RowsSatisfy { condition } => condition.clone(),
        _ => check.columns().join(" "),
    };
    let cols: Vec<String> = schema
        .fields()
        .iter()
        .filter(|f| f.data_type() == &DataType::Null && text.contains(f.name().as_str()))
        .map(|f| format!("`{}`", f.name()))
        .collect();
    (!cols.is_empty()).then(|| cols.join(", "))
}

fn advice(check: &Check, e: &DataFusionError) -> String {
    let msg = df_message(e);
    if msg.starts_with(crate::error::OUT_OF_MEMORY) {
        let query = match &check.kind {
            CheckKind::Unique { .. } => "the `unique` check's own query",
            CheckKind::References { .. } => "the `references` check's own query",
            _ => "the fused scan, and this check run alone,",
        };
        return crate::error::in_query(query, msg);
    }
    match &check.kind {
        CheckKind::Metric { sql, .. } if msg.contains("GROUP BY") || msg.contains("aggregate") => {
            format!(
                "metric `{sql}` must aggregate the rows, e.g. `avg(amount)` or `count(DISTINCT id)`"
            )
        }
        CheckKind::Metric { sql, .. } if msg.contains("Cannot cast") || msg.contains("cast") => {
            format!("metric `{sql}` must be a number: {msg}")
        }
        _ => with_subject(check, msg),
    }
}

/// `msg` about the SQL of a metric or a condition, prefixed with that SQL.
fn with_subject(check: &Check, msg: String) -> String {
    match &check.kind {
        CheckKind::Metric { sql, .. } => format!("invalid metric `{sql}`: {msg}"),
        CheckKind::RowsSatisfy { condition } => format!("invalid condition `{condition}`: {msg}"),
        _ => msg,
    }
}

/// Why a check (or an extra aggregate, `check` None) failed when run alone: a value the
/// source cannot read (a CSV row, an NDJSON record) is located in its file; anything else
/// is explained for the check.
pub(super) async fn unit_error(
    cx: &RunContext<'_>,
    ds: &Dataset,
    source: &Source,
    check: Option<&Check>,
    e: &DataFusionError,
) -> CheckError {
    let msg = df_message(e);
    if crate::diagnose::is_read_error(&msg) {
        let state = cx.session.state();
        let found =
            crate::diagnose::locate(&state, ds, source.format, Some(&source.schema), &msg).await;
        if let Some(found) = found {
            return CheckError::new(K::Evaluation, found);
        }
    }
    match check {
        Some(check) => explain(check, e, &source.schema, K::Evaluation),
        None => CheckError::query(K::Evaluation, msg),
    }
}

/// Why the source could not be scanned: the file, line and cause when a second look at
/// its files finds them (see [`crate::diagnose`]), else DataFusion's error with the path.
pub(super) async fn read_error(
    cx: &RunContext<'_>,
    ds: &Dataset,
    source: &Source,
    detail: &str,
) -> crate::error::SourceError {
    let state = cx.session.state();
    crate::error::SourceError::new(
        crate::error::SourceErrorKind::Invalid,
        &ds.location,
        crate::diagnose::read_failure(&state, ds, source.format, Some(&source.schema), detail)
            .await,
    )
}
