//! Runs every check of one dataset: one fused aggregate scan, the few own queries some
//! checks need, then LIMITed sample queries for the checks that failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{ScalarValue, TableReference};
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::collect;
use datafusion::prelude::SessionContext;
use futures::future::join_all;
use sluice_spec::{Check, CheckKind, Config, Dataset};
use tracing::{Instrument, debug, info_span, instrument};

use crate::compile::{Compiled, Eval, OwnQuery, Sample, compile, ident};
use crate::error::df_message;
use crate::evaluate::{Measure, errored, evaluate};
use crate::parity::Extra;
use crate::progress::Progress;
use crate::report::{CheckResult, CheckStatus, DatasetReport};
use crate::source::{Source, SourceError};
use crate::values::{as_f64, as_i64, as_instant, as_u64, rows};

/// What every dataset of a run shares.
pub(crate) struct RunContext<'a> {
    pub session: &'a SessionContext,
    /// One partition: sample queries read files in order and stop at the first N rows,
    /// so the same data always gives the same samples.
    pub sample_session: &'a SessionContext,
    pub config: &'a Config,
    pub sources: &'a HashMap<String, Result<Source, SourceError>>,
    pub now: DateTime<Utc>,
    pub progress: Option<&'a Progress>,
}

/// Adds the check's `where:` as a FILTER to every aggregate in `e`.
fn scoped(e: Expr, scope: Option<&Expr>) -> Result<Expr, DataFusionError> {
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
fn check_exprs(
    df: &DataFrame,
    c: &Compiled,
    check: &Check,
    dataset: &str,
    schema: &Schema,
) -> Result<Vec<Expr>, String> {
    let unknown =
        |e: &DataFusionError| crate::sql_hint::unknown_name(e, dataset, schema, &df.task_ctx());
    let scope = match &check.filter {
        Some(f) => Some(df.parse_sql_expr(f).map_err(|e| {
            let why = unknown(&e).unwrap_or_else(|| df_message(&e));
            format!("invalid `where`: {why}")
        })?),
        None => None,
    };
    c.aggs
        .iter()
        .map(|sql| {
            let e = df.parse_sql_expr(sql).map_err(|e| match unknown(&e) {
                Some(why) => with_subject(check, why),
                None => explain(check, &e, schema),
            })?;
            scoped(e, scope.as_ref()).map_err(|e| explain(check, &e, schema))
        })
        .collect()
}

/// Turns a planning error into advice for the user.
fn explain(check: &Check, e: &DataFusionError, schema: &Schema) -> String {
    let msg = advice(check, e);
    match untyped_columns(check, e, schema) {
        Some(cols) => format!(
            "{msg} (column {cols} holds no values in the data, so its type could not be inferred)"
        ),
        None => msg,
    }
}

/// Columns of type Null (a CSV/JSON column with no value at all) that the error is about.
fn untyped_columns(check: &Check, e: &DataFusionError, schema: &Schema) -> Option<String> {
    if !e.to_string().contains("Null") {
        return None;
    }
    let text = match &check.kind {
        CheckKind::Metric { sql } => sql.clone(),
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
        CheckKind::Metric { sql } if msg.contains("GROUP BY") || msg.contains("aggregate") => {
            format!(
                "metric `{sql}` must aggregate the rows, e.g. `avg(amount)` or `count(DISTINCT id)`"
            )
        }
        CheckKind::Metric { sql } if msg.contains("Cannot cast") || msg.contains("cast") => {
            format!("metric `{sql}` must be a number: {msg}")
        }
        _ => with_subject(check, msg),
    }
}

/// `msg` about the SQL of a metric or a condition, prefixed with that SQL.
fn with_subject(check: &Check, msg: String) -> String {
    match &check.kind {
        CheckKind::Metric { sql } => format!("invalid metric `{sql}`: {msg}"),
        CheckKind::RowsSatisfy { condition } => format!("invalid condition `{condition}`: {msg}"),
        _ => msg,
    }
}

/// Plans `df`, logs its physical plan at debug level, and runs it.
async fn collect_logged(df: DataFrame) -> Result<Vec<RecordBatch>, DataFusionError> {
    let task = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    debug!(plan = %datafusion::physical_plan::displayable(plan.as_ref()).indent(false), "physical plan");
    collect(plan, task).await
}

/// Runs a one-row aggregate query; returns its values in order.
async fn one_row(
    df: DataFrame,
    progress: Option<&Progress>,
    what: &'static str,
) -> Result<Vec<ScalarValue>, DataFusionError> {
    let span = info_span!(
        "query",
        kind = what,
        rows = tracing::field::Empty,
        elapsed_ms = tracing::field::Empty
    );
    async move {
        let started = Instant::now();
        let task = Arc::new(df.task_ctx());
        let plan = df.create_physical_plan().await?;
        debug!(plan = %datafusion::physical_plan::displayable(plan.as_ref()).indent(false), "physical plan");
        let id = progress.map(|p| p.start(plan.clone()));
        let result = collect(plan, task).await;
        let batches = match result {
            Ok(b) => b,
            Err(e) => {
                if let (Some(p), Some(id)) = (progress, id) {
                    p.finish(id, 0);
                }
                return Err(e);
            }
        };
        let values = first_row(&batches)?;
        let rows = values.first().map(as_u64).unwrap_or(0);
        if let (Some(p), Some(id)) = (progress, id) {
            p.finish(id, if what == "fused" { rows } else { 0 });
        }
        let span = tracing::Span::current();
        if what == "fused" {
            span.record("rows", rows);
        }
        span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        Ok(values)
    }
    .instrument(span)
    .await
}

fn first_row(batches: &[RecordBatch]) -> Result<Vec<ScalarValue>, DataFusionError> {
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| DataFusionError::Internal("aggregate returned no row".into()))?;
    (0..batch.num_columns())
        .map(|i| ScalarValue::try_from_array(batch.column(i).as_ref(), 0))
        .collect()
}

/// What running a dataset produced.
pub(crate) struct DatasetOutcome {
    /// Its part of the report.
    pub report: DatasetReport,
    /// Its checks' results.
    pub results: Vec<CheckResult>,
    /// The values of the extra aggregates, in request order.
    pub extras: Vec<Result<ScalarValue, String>>,
}

/// Runs `checks` of one dataset (all of them, or none when it is only scanned for other
/// comparisons) and the `extras` other comparisons need, in one fused scan.
#[instrument(name = "dataset", skip_all, fields(dataset = %ds.name, checks = checks.len(), rows = tracing::field::Empty, elapsed_ms = tracing::field::Empty))]
pub(crate) async fn run(
    cx: &RunContext<'_>,
    ds: &Dataset,
    checks: &[Check],
    extras: &[Extra],
) -> DatasetOutcome {
    let started = Instant::now();
    let loc = |c: &Check| cx.config.location(c.span).to_string();
    let mut report = DatasetReport {
        name: ds.name.clone(),
        path: ds.path.clone(),
        format: None,
        status: "ok".into(),
        rows_scanned: None,
        files: None,
        queries: 0,
        duration_ms: 0,
        error: None,
    };
    let source = match cx.sources.get(&ds.name) {
        Some(Ok(s)) => s,
        Some(Err(e)) => return source_failed(cx, ds, checks, extras.len(), report, &e.0, started),
        None => {
            return source_failed(
                cx,
                ds,
                checks,
                extras.len(),
                report,
                "dataset was not opened",
                started,
            );
        }
    };
    report.format = Some(source.format.name().to_string());
    report.files = Some(source.files);
    let df = match cx
        .session
        .table(TableReference::bare(ds.name.as_str()))
        .await
    {
        Ok(df) => df,
        Err(e) => {
            return source_failed(
                cx,
                ds,
                checks,
                extras.len(),
                report,
                &df_message(&e),
                started,
            );
        }
    };

    // 1. Compile and validate each check on its own, so one bad check can't sink the scan.
    let mut plans: Vec<Result<(Compiled, Vec<Expr>), String>> = Vec::new();
    for check in checks {
        let parent = match &check.kind {
            CheckKind::References { dataset, .. } => Some(match cx.sources.get(dataset) {
                Some(Ok(s)) => Ok(s.schema.as_ref()),
                Some(Err(e)) => Err(e.0.as_str()),
                None => Err("it was not opened"),
            }),
            _ => None,
        };
        let planned = compile(check, &ds.name, &source.schema, parent).and_then(|c| {
            let exprs = check_exprs(&df, &c, check, &ds.name, &source.schema)?;
            if !exprs.is_empty() {
                df.clone()
                    .aggregate(vec![], alias_all(&exprs, "v"))
                    .and_then(|d| d.into_optimized_plan())
                    .map_err(|e| explain(check, &e, &source.schema))?;
            }
            Ok((c, exprs))
        });
        plans.push(planned);
    }

    // Aggregates other comparisons asked of this dataset (parity, reconciliation), each
    // planned alone too.
    let extra_exprs: Vec<Result<Vec<Expr>, String>> = extras
        .iter()
        .map(|x| {
            let scope = match &x.filter {
                Some(f) => Some(
                    df.parse_sql_expr(f)
                        .map_err(|e| format!("invalid `where` `{f}`: {}", df_message(&e)))?,
                ),
                None => None,
            };
            let e = df
                .parse_sql_expr(&x.sql)
                .and_then(|e| scoped(e, scope.as_ref()))
                .map_err(|e| df_message(&e))?;
            df.clone()
                .aggregate(vec![], vec![e.clone().alias("v")])
                .and_then(|d| d.into_optimized_plan())
                .map_err(|e| df_message(&e))?;
            Ok(vec![e])
        })
        .collect();
    // Units of the scan: the checks, then the extras.
    let mut units: Vec<Result<Vec<Expr>, String>> = plans
        .iter()
        .map(|p| p.as_ref().map(|(_, e)| e.clone()).map_err(Clone::clone))
        .collect();
    units.extend(extra_exprs);

    // 2. The fused scan: `count(*)` plus every unit's aggregates, deduplicated.
    let mut fused: Vec<Expr> = vec![datafusion::functions_aggregate::count::count_all()];
    let mut slot_of: HashMap<String, usize> = HashMap::new();
    let mut slots: Vec<Vec<usize>> = Vec::new();
    for u in &units {
        let mut mine = Vec::new();
        if let Ok(exprs) = u {
            for e in exprs {
                let key = e.to_string();
                let idx = *slot_of.entry(key).or_insert_with(|| {
                    fused.push(e.clone());
                    fused.len() - 1
                });
                mine.push(idx);
            }
        }
        slots.push(mine);
    }
    debug!(aggregates = fused.len(), "fused scan");
    let fused_df = df.clone().aggregate(vec![], alias_all(&fused, "m"));
    report.queries += 1;
    let fused_values = match fused_df {
        Ok(f) => one_row(f, cx.progress, "fused")
            .await
            .map_err(|e| df_message(&e)),
        Err(e) => Err(df_message(&e)),
    };
    let (total_rows, mut values): (u64, Vec<Option<Vec<ScalarValue>>>) = match fused_values {
        Ok(v) => {
            let per_unit = slots
                .iter()
                .zip(&units)
                .map(|(s, u)| u.is_ok().then(|| s.iter().map(|&i| v[i].clone()).collect()))
                .collect();
            (as_u64(&v[0]), per_unit)
        }
        Err(fused_err) => {
            // Is the source unreadable, or did one unit's expression fail on the data?
            let count = df.clone().aggregate(
                vec![],
                vec![datafusion::functions_aggregate::count::count_all()],
            );
            report.queries += 1;
            let probe = match count {
                Ok(c) => one_row(c, cx.progress, "fused")
                    .await
                    .map_err(|e| df_message(&e)),
                Err(e) => Err(df_message(&e)),
            };
            match probe {
                Err(read_err) => {
                    let msg = read_error(cx, ds, source, &read_err).await;
                    return source_failed(cx, ds, checks, extras.len(), report, &msg, started);
                }
                Ok(v) => {
                    debug!(error = %fused_err, "fused scan failed; running units one by one");
                    let mut per_unit = Vec::new();
                    for (i, unit) in units.iter_mut().enumerate() {
                        let Ok(exprs) = unit else {
                            per_unit.push(None);
                            continue;
                        };
                        if exprs.is_empty() {
                            per_unit.push(Some(vec![]));
                            continue;
                        }
                        report.queries += 1;
                        let agg = df.clone().aggregate(vec![], alias_all(exprs, "v"));
                        let r = match agg {
                            Ok(a) => one_row(a, None, "check").await,
                            Err(e) => Err(e),
                        };
                        match r {
                            Ok(vals) => per_unit.push(Some(vals)),
                            Err(e) => {
                                let msg = unit_error(cx, ds, source, checks.get(i), &e).await;
                                *unit = Err(msg);
                                per_unit.push(None);
                            }
                        }
                    }
                    for (i, unit) in units.iter().enumerate().take(checks.len()) {
                        if let Err(msg) = unit
                            && plans[i].is_ok()
                        {
                            plans[i] = Err(msg.clone());
                        }
                    }
                    (as_u64(&v[0]), per_unit)
                }
            }
        }
    };
    let extra_values: Vec<Result<ScalarValue, String>> = values
        .split_off(checks.len())
        .into_iter()
        .zip(&units[checks.len()..])
        .map(|(v, u)| match (v, u) {
            (Some(v), _) => v.into_iter().next().ok_or_else(|| "no value".to_string()),
            (None, Err(e)) => Err(e.clone()),
            (None, Ok(_)) => Err("not evaluated".to_string()),
        })
        .collect();
    tracing::Span::current().record("rows", total_rows);
    report.rows_scanned = Some(total_rows);

    // 3. Own queries (`unique`, `references`), after the fused scan so their memory does
    //    not add to its, concurrently with each other.
    let own_futures = plans
        .iter()
        .zip(checks)
        .zip(&values)
        .map(|((p, check), v)| async move {
            match p {
                Ok((Compiled { own: Some(q), .. }, _)) => {
                    let t = Instant::now();
                    let fused = v.as_deref().unwrap_or_default();
                    Some((
                        own_query(cx, ds, &source.schema, check, q, fused).await,
                        t.elapsed().as_millis() as u64,
                    ))
                }
                _ => None,
            }
        });
    let own_results = join_all(own_futures).await;
    report.queries += own_results.iter().filter(|r| r.is_some()).count() as u32;

    // 4. Evaluate.
    let mut results = Vec::with_capacity(checks.len());
    for (i, check) in checks.iter().enumerate() {
        let location = loc(check);
        let (compiled, _) = match &plans[i] {
            Ok(p) => p,
            Err(msg) => {
                results.push(errored(
                    check,
                    &ds.name,
                    location,
                    Some(total_rows),
                    msg.clone(),
                ));
                continue;
            }
        };
        let v = values[i].clone().unwrap_or_default();
        let in_scope = |idx: usize| v.get(idx).map(as_u64).unwrap_or(total_rows);
        let measure = match &compiled.eval {
            Eval::RowCount => Measure::Rows(as_u64(&v[0])),
            Eval::Invalid => Measure::Invalid {
                failing: as_u64(&v[0]),
                in_scope: in_scope(1),
                duplicates: None,
            },
            Eval::Duplicates | Eval::OwnInvalid => match &own_results[i] {
                // Their last aggregate counts the rows in scope; for duplicates the first
                // counts rows with a complete key, so distinct = those - extra rows.
                Some((Ok(own), _)) => Measure::Invalid {
                    failing: own.failing,
                    in_scope: v.last().map(as_u64).unwrap_or(total_rows),
                    duplicates: own
                        .duplicated_values
                        .map(|d| (d, as_u64(&v[0]).saturating_sub(own.failing))),
                },
                Some((Err(e), _)) => {
                    results.push(errored(
                        check,
                        &ds.name,
                        location,
                        Some(total_rows),
                        e.clone(),
                    ));
                    continue;
                }
                None => unreachable!("own query planned for {:?}", compiled.eval),
            },
            Eval::Freshness => {
                Measure::Newest(as_instant(&v[0]).map(|at| (at, (cx.now - at).num_seconds())))
            }
            Eval::Metric => Measure::Value(as_f64(&v[0])),
            Eval::Schema(problems) => Measure::Problems(problems.clone()),
        };
        let mut r = evaluate(check, &ds.name, location, total_rows, measure);
        if let Some((own, ms)) = &own_results[i] {
            r.duration_ms = Some(*ms);
            if let Ok(own) = own
                && matches!(r.status, CheckStatus::Fail | CheckStatus::Warn)
            {
                r.samples = own
                    .samples
                    .iter()
                    .take(check.samples as usize)
                    .cloned()
                    .collect();
            }
        }
        results.push(r);
    }

    // 5. Samples for failed (and warned) row-level checks.
    let sample_futures = results.iter().enumerate().map(|(i, r)| {
        let plan = plans[i].as_ref().ok();
        let dense_values = match &own_results[i] {
            Some((Ok(own), _)) if !own.sample_values.is_empty() => Some(own.sample_values.clone()),
            _ => None,
        };
        async move {
            let check = &checks[i];
            let wanted = matches!(r.status, CheckStatus::Fail | CheckStatus::Warn)
                && check.samples > 0
                && r.failing_rows.unwrap_or(0) > 0;
            match (plan, dense_values) {
                (
                    Some((
                        Compiled {
                            own: Some(OwnQuery::Duplicates { columns, .. }),
                            ..
                        },
                        _,
                    )),
                    Some(vals),
                ) if wanted => Some(duplicate_samples(cx, ds, check, &columns[0], &vals).await),
                (
                    Some((
                        Compiled {
                            sample: Some(s), ..
                        },
                        _,
                    )),
                    _,
                ) if wanted => Some(samples(cx, ds, source, check, s).await),
                _ => None,
            }
        }
    });
    let sampled = join_all(sample_futures).await;
    report.queries += sampled.iter().filter(|s| s.is_some()).count() as u32;
    for (r, s) in results.iter_mut().zip(sampled) {
        match s {
            Some(Ok(rows)) => r.samples = rows,
            Some(Err(e)) => {
                tracing::warn!(dataset = %ds.name, check = %r.name, error = %e, "could not fetch samples")
            }
            None => {}
        }
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    tracing::Span::current().record("elapsed_ms", report.duration_ms);
    if let Some(p) = cx.progress {
        p.dataset_done();
    }
    DatasetOutcome {
        report,
        results,
        extras: extra_values,
    }
}

fn alias_all(exprs: &[Expr], prefix: &str) -> Vec<Expr> {
    exprs
        .iter()
        .enumerate()
        .map(|(i, e)| e.clone().alias(format!("{prefix}{i}")))
        .collect()
}

/// Why a check (or an extra aggregate, `check` None) failed when run alone: a value the
/// source cannot read (a CSV row, an NDJSON record) is located in its file; anything else
/// is explained for the check.
async fn unit_error(
    cx: &RunContext<'_>,
    ds: &Dataset,
    source: &Source,
    check: Option<&Check>,
    e: &DataFusionError,
) -> String {
    let msg = df_message(e);
    if crate::diagnose::is_read_error(&msg) {
        let state = cx.session.state();
        let found =
            crate::diagnose::locate(&state, ds, source.format, Some(&source.schema), &msg).await;
        if let Some(found) = found {
            return found;
        }
    }
    match check {
        Some(check) => explain(check, e, &source.schema),
        None => msg,
    }
}

/// Why the source could not be scanned: the file, line and cause when a second look at
/// its files finds them (see [`crate::diagnose`]), else DataFusion's error with the path.
async fn read_error(cx: &RunContext<'_>, ds: &Dataset, source: &Source, detail: &str) -> String {
    let state = cx.session.state();
    crate::diagnose::read_failure(&state, ds, source.format, Some(&source.schema), detail).await
}

/// Every check of `ds` errored with `message` (e.g. after a panic while checking it).
pub(crate) fn failed(
    cx: &RunContext<'_>,
    ds: &Dataset,
    checks: &[Check],
    extras: usize,
    message: &str,
) -> DatasetOutcome {
    let report = DatasetReport {
        name: ds.name.clone(),
        path: ds.path.clone(),
        format: None,
        status: "error".into(),
        rows_scanned: None,
        files: None,
        queries: 0,
        duration_ms: 0,
        error: None,
    };
    source_failed(cx, ds, checks, extras, report, message, Instant::now())
}

fn source_failed(
    cx: &RunContext<'_>,
    ds: &Dataset,
    checks: &[Check],
    extras: usize,
    mut report: DatasetReport,
    message: &str,
    started: Instant,
) -> DatasetOutcome {
    report.status = "error".into();
    report.error = Some(message.to_string());
    report.duration_ms = started.elapsed().as_millis() as u64;
    if let Some(p) = cx.progress {
        p.dataset_done();
    }
    let results = checks
        .iter()
        .map(|c| {
            errored(
                c,
                &ds.name,
                cx.config.location(c.span).to_string(),
                None,
                message.to_string(),
            )
        })
        .collect();
    DatasetOutcome {
        report,
        results,
        extras: (0..extras).map(|_| Err(message.to_string())).collect(),
    }
}

fn scope_sql(check: &Check) -> String {
    check
        .filter
        .as_deref()
        .map(|f| format!("({f}) AND "))
        .unwrap_or_default()
}

/// What a check's own query found.
struct OwnOutcome {
    /// Failing rows (for duplicates: rows beyond the first of each duplicated value).
    failing: u64,
    /// For duplicates: how many values occur more than once.
    duplicated_values: Option<u64>,
    /// For duplicates: the most repeated values with their `occurrences`.
    samples: Vec<serde_json::Map<String, serde_json::Value>>,
    /// For duplicates found by the bitmap: the smallest duplicated values, whose counts a
    /// sample query fetches if the check fails.
    sample_values: Vec<i64>,
}

/// Runs a check's own query.
async fn own_query(
    cx: &RunContext<'_>,
    ds: &Dataset,
    schema: &Schema,
    check: &Check,
    q: &OwnQuery,
    fused: &[ScalarValue],
) -> Result<OwnOutcome, String> {
    let table = ident(&ds.name);
    let scope = scope_sql(check);
    let span =
        info_span!("query", kind = "own", check = %check.name, elapsed_ms = tracing::field::Empty);
    let started = Instant::now();
    let outcome = async {
        match q {
            OwnQuery::Duplicates { columns, dense: true } => {
                if let Some(outcome) = dense_duplicates(cx, ds, schema, check, &columns[0], fused).await? {
                    return Ok(outcome);
                }
                grouped_duplicates(cx, ds, schema, check, columns).await
            }
            OwnQuery::Duplicates { columns, dense: false } => grouped_duplicates(cx, ds, schema, check, columns).await,
            OwnQuery::References { column, dataset, key } => {
                let sql = format!(
                    "SELECT count(*) FROM {table} AS c WHERE {scope}c.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE p.{key} = c.{col})",
                    col = ident(column),
                    parent = ident(dataset),
                    key = ident(key),
                );
                debug!(%sql, "own query");
                let df = cx.session.sql(&sql).await.map_err(|e| explain(check, &e, schema))?;
                let v = one_row(df, None, "own").await.map_err(|e| explain(check, &e, schema))?;
                Ok(OwnOutcome { failing: v.first().map(as_u64).unwrap_or(0), duplicated_values: None, samples: vec![], sample_values: vec![] })
            }
        }
    }
    .instrument(span.clone())
    .await;
    span.record("elapsed_ms", started.elapsed().as_millis() as u64);
    outcome
}

/// Runs an own query's SQL; errors are explained for the check.
async fn own_sql(
    cx: &RunContext<'_>,
    sql: &str,
    check: &Check,
    schema: &Schema,
) -> Result<Vec<RecordBatch>, String> {
    debug!(%sql, "own query");
    let df = cx
        .session
        .sql(sql)
        .await
        .map_err(|e| explain(check, &e, schema))?;
    collect_logged(df)
        .await
        .map_err(|e| explain(check, &e, schema))
}

/// Duplicates of a key by `GROUP BY ... HAVING count(*) > 1`: the totals and the most
/// repeated values, in one query (window functions carry the totals on every row).
async fn grouped_duplicates(
    cx: &RunContext<'_>,
    ds: &Dataset,
    schema: &Schema,
    check: &Check,
    columns: &[String],
) -> Result<OwnOutcome, String> {
    let table = ident(&ds.name);
    let scope = scope_sql(check);
    let list = columns
        .iter()
        .map(|c| ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let not_null = columns
        .iter()
        .map(|c| format!("{} IS NOT NULL", ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    // The duplicated values, most repeated first, with the totals over all of
    // them carried on every row by window functions.
    let sql = format!(
        "SELECT {list}, \"__n\" AS occurrences, count(*) OVER () AS \"__values\", sum(\"__n\") OVER () AS \"__rows\" \
         FROM (SELECT {list}, count(*) AS \"__n\" FROM {table} WHERE {scope}{not_null} GROUP BY {list} HAVING count(*) > 1) \
         ORDER BY occurrences DESC, {list} LIMIT {}",
        check.samples.max(1)
    );
    let batches = own_sql(cx, &sql, check, schema).await?;
    let mut samples = rows(&batches);
    let total = |m: &serde_json::Map<String, serde_json::Value>, k: &str| {
        m.get(k).and_then(|v| v.as_u64()).unwrap_or(0)
    };
    let (values, dup_rows) = samples
        .first()
        .map(|m| (total(m, "__values"), total(m, "__rows")))
        .unwrap_or((0, 0));
    for m in &mut samples {
        m.remove("__values");
        m.remove("__rows");
    }
    Ok(OwnOutcome {
        failing: dup_rows - values,
        duplicated_values: Some(values),
        samples,
        sample_values: vec![],
    })
}

/// Duplicates of an integer key with the bitmaps of [`crate::duplicates`], when its range
/// (from the fused scan's `min`/`max`) is at most 64 values per row. `None`: not
/// applicable, use the `GROUP BY`.
async fn dense_duplicates(
    cx: &RunContext<'_>,
    ds: &Dataset,
    schema: &Schema,
    check: &Check,
    column: &str,
    fused: &[ScalarValue],
) -> Result<Option<OwnOutcome>, String> {
    let [complete, min, max, ..] = fused else {
        return Ok(None);
    };
    let complete = as_u64(complete);
    let (Some(min), Some(max)) = (as_i64(min), as_i64(max)) else {
        // No non-NULL value at all: nothing can be duplicated.
        return Ok(Some(OwnOutcome {
            failing: 0,
            duplicated_values: Some(0),
            samples: vec![],
            sample_values: vec![],
        }));
    };
    let range = (max as i128 - min as i128 + 1) as u128;
    if range > u128::from(complete.max(1 << 10)) * 64 {
        debug!(range = %range, rows = complete, "key range too sparse for bitmaps; grouping instead");
        return Ok(None);
    }
    let sql = format!(
        "SELECT {}(CAST({col} AS BIGINT), {min}, {max}, {}) FROM {} WHERE {}{col} IS NOT NULL",
        crate::duplicates::NAME,
        check.samples,
        ident(&ds.name),
        scope_sql(check),
        col = ident(column),
    );
    let batches = own_sql(cx, &sql, check, schema).await?;
    let value = first_row(&batches).map_err(|e| explain(check, &e, schema))?;
    let ScalarValue::Struct(s) = &value[0] else {
        return Err(format!(
            "internal error: {} returned {:?}",
            crate::duplicates::NAME,
            value[0]
        ));
    };
    if s.is_null(0) {
        return Ok(None);
    }
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Int64Type;
    let distinct = s.column(0).as_primitive::<Int64Type>().value(0) as u64;
    let duplicated = s.column(1).as_primitive::<Int64Type>().value(0) as u64;
    let first = s.column(2).as_list::<i32>().value(0);
    let sample_values = first.as_primitive::<Int64Type>().values().to_vec();
    Ok(Some(OwnOutcome {
        failing: complete.saturating_sub(distinct),
        duplicated_values: Some(duplicated),
        samples: vec![],
        sample_values,
    }))
}

/// How often each of `values` (duplicated values of an integer key) occurs: the samples
/// of a `unique` check decided by the bitmaps.
async fn duplicate_samples(
    cx: &RunContext<'_>,
    ds: &Dataset,
    check: &Check,
    column: &str,
    values: &[i64],
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, String> {
    let col = ident(column);
    let list = values
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {col}, count(*) AS occurrences FROM {} WHERE {}{col} IN ({list}) GROUP BY {col} ORDER BY occurrences DESC, {col}",
        ident(&ds.name),
        scope_sql(check),
    );
    let span = info_span!("query", kind = "samples", check = %check.name);
    async {
        debug!(%sql, "sample query");
        let df = cx.session.sql(&sql).await.map_err(|e| df_message(&e))?;
        Ok(rows(&collect_logged(df).await.map_err(|e| df_message(&e))?))
    }
    .instrument(span)
    .await
}

/// Fetches up to `check.samples` failing rows: the checked columns plus the dataset's key.
async fn samples(
    cx: &RunContext<'_>,
    ds: &Dataset,
    source: &Source,
    check: &Check,
    s: &Sample,
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, String> {
    let table = ident(&ds.name);
    let scope = scope_sql(check);
    let n = check.samples;
    let exists = |c: &String| source.schema.field_with_name(c).is_ok();
    let mut cols: Vec<String> = ds.key.iter().filter(|c| exists(c)).cloned().collect();
    let add = |cols: &mut Vec<String>, c: String| {
        if !cols.contains(&c) {
            cols.push(c);
        }
    };
    let sql = match s {
        Sample::Rows {
            predicate,
            columns,
            refs_from,
        } => {
            for c in columns {
                add(&mut cols, c.clone());
            }
            if let Some(cond) = refs_from {
                let df = cx
                    .session
                    .table(TableReference::bare(ds.name.as_str()))
                    .await
                    .map_err(|e| df_message(&e))?;
                let expr = df.parse_sql_expr(cond).map_err(|e| df_message(&e))?;
                let mut refs: Vec<String> = expr
                    .column_refs()
                    .into_iter()
                    .map(|c| c.name.clone())
                    .collect();
                refs.sort();
                for c in refs.into_iter().filter(|c| exists(c)) {
                    add(&mut cols, c);
                }
            }
            if cols.is_empty() {
                return Ok(vec![]);
            }
            let list = cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ");
            format!("SELECT {list} FROM {table} WHERE {scope}{predicate} LIMIT {n}")
        }
        Sample::Orphans => {
            let CheckKind::References {
                column,
                dataset,
                key,
            } = &check.kind
            else {
                return Ok(vec![]);
            };
            add(&mut cols, column.clone());
            let list = cols
                .iter()
                .map(|c| format!("c.{}", ident(c)))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "SELECT {list} FROM {table} AS c WHERE {scope}c.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE p.{key} = c.{col}) LIMIT {n}",
                col = ident(column),
                parent = ident(dataset),
                key = ident(key),
            )
        }
    };
    let span = info_span!("query", kind = "samples", check = %check.name);
    async {
        debug!(%sql, "sample query");
        let df = cx
            .sample_session
            .sql(&sql)
            .await
            .map_err(|e| df_message(&e))?;
        let batches = df.collect().await.map_err(|e| df_message(&e))?;
        Ok(rows(&batches))
    }
    .instrument(span)
    .await
}
