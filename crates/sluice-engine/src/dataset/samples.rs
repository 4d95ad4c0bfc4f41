//! Failing-row samples, for the checks that failed or warned: a second, LIMITed query per
//! check, on a one-partition session (files read in order, so the same data always gives
//! the same samples). A `unique` check decided by the bitmaps counts its listed values.

use datafusion::common::TableReference;
use futures::future::join_all;
use serde_json::{Map, Value};
use sluice_spec::{Check, CheckKind, Dataset};
use tracing::{Instrument, debug, info_span};

use super::RunContext;
use super::own::{scope_sql, unique_search};
use super::plan::CheckPlan;
use crate::compile::{Compiled, OwnQuery, Sample, ident};
use crate::duplicates;
use crate::error::df_message;
use crate::report::{CheckResult, CheckStatus, DatasetReport};
use crate::source::Source;
use crate::values::rows;

/// Fetches the samples of every check in `results` that failed or warned with failing
/// rows, concurrently; counts the queries in `report`.
pub(super) async fn fetch_all(
    cx: &RunContext<'_>,
    ds: &Dataset,
    source: &Source,
    plans: &[CheckPlan<'_>],
    results: &mut [CheckResult],
    report: &mut DatasetReport,
) {
    let fetched = join_all(
        plans
            .iter()
            .zip(results.iter())
            .map(|(p, r)| fetch(cx, ds, source, p, r)),
    )
    .await;
    report.queries += fetched.iter().filter(|s| s.is_some()).count() as u32;
    for (r, s) in results.iter_mut().zip(fetched) {
        match s {
            Some(Ok(rows)) => r.samples = rows,
            Some(Err(e)) => {
                tracing::warn!(dataset = %ds.name, check = %r.name, error = %e, "could not fetch samples")
            }
            None => {}
        }
    }
}

/// The samples of one check, if it wants them (`None`: no query).
async fn fetch(
    cx: &RunContext<'_>,
    ds: &Dataset,
    source: &Source,
    plan: &CheckPlan<'_>,
    r: &CheckResult,
) -> Option<Result<Vec<Map<String, Value>>, String>> {
    let check = plan.check;
    let wanted = matches!(r.status, CheckStatus::Fail | CheckStatus::Warn)
        && check.samples > 0
        && r.failing_rows.unwrap_or(0) > 0;
    if !wanted || plan.unit.exprs.is_err() {
        return None;
    }
    let compiled = plan.compiled.as_ref()?;
    match (compiled, &plan.own) {
        (
            Compiled {
                own:
                    Some(OwnQuery::Duplicates {
                        columns,
                        dense,
                        nulls_equal,
                    }),
                ..
            },
            Some((Ok(own), _)),
        ) if !own.sample_values.is_empty() => {
            let fused = plan.unit.values.as_deref().unwrap_or_default();
            let search = unique_search(ds, check, columns, *dense, *nulls_equal, fused);
            let span = info_span!("query", kind = "samples", check = %check.name);
            Some(
                duplicates::occurrences(cx.session, &search, &own.sample_values)
                    .instrument(span)
                    .await
                    .map_err(|e| df_message(&e)),
            )
        }
        (
            Compiled {
                sample: Some(s), ..
            },
            _,
        ) => Some(rows_of(cx, ds, source, check, s).await),
        _ => None,
    }
}

/// Up to `check.samples` failing rows: the checked columns plus the dataset's key.
async fn rows_of(
    cx: &RunContext<'_>,
    ds: &Dataset,
    source: &Source,
    check: &Check,
    s: &Sample,
) -> Result<Vec<Map<String, Value>>, String> {
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
