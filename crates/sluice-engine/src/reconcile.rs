//! N-way reconciliation: the same facts as seen by several datasets (experimentation,
//! payments, a ledger), matched on a key and compared measure by measure.
//!
//! One chain of full outer joins brings every dataset's row for a key side by side; each
//! output row carries a presence flag per dataset and a disagreement flag per pair. The
//! stream is read once to count, per pair, the keys both have, those they disagree on and
//! those only one has, and to keep samples showing every dataset's values.
//!
//! The result is one check of kind `reconcile`; `observed` holds what
//! [`crate::observed::ReconcileObserved`] documents.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, BooleanArray};
use datafusion::arrow::compute::kernels::boolean::{and, and_not, not, or};
use datafusion::arrow::datatypes::Schema;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde_json::{Map, Value};
use sluice_spec::{Config, Reconcile, Severity};
use tracing::debug;

use crate::compile::{field, ident, type_name};
use crate::diff::{self, Side, differs};
use crate::error::{CheckError, CheckErrorKind as K, df_message};
use crate::observed::{PairDiff, ReconcileObserved};
use crate::parity::{ExtraValues, Extras, Slot};
use crate::report::{CheckResult, CheckStatus};
use crate::source::{Source, SourceError};
use crate::values::{as_u64, json_at};

/// A validated reconciliation.
#[derive(Debug)]
pub(crate) struct ReconcilePlan<'c> {
    reconcile: &'c Reconcile,
    sides: Vec<Side>,
    /// Per dataset: rows with a complete key, and min/max of one integer key.
    counts: Vec<(Slot, Option<(Slot, Slot)>)>,
}

/// Checks a reconciliation against the schemas and requests the counts it needs.
pub(crate) fn plan<'c>(
    r: &'c Reconcile,
    sources: &HashMap<String, Result<Source, SourceError>>,
    extras: &mut Extras,
) -> Result<ReconcilePlan<'c>, CheckError> {
    let mut sides = Vec::new();
    let mut counts = Vec::new();
    let mut first: Option<(String, Arc<Schema>)> = None;
    for ds in &r.datasets {
        let schema = match sources.get(ds) {
            Some(Ok(s)) => s.schema.clone(),
            Some(Err(e)) => {
                return Err(CheckError {
                    kind: K::Source(e.kind),
                    column: None,
                    message: format!("cannot read `{ds}`: {}", e.message),
                });
            }
            None => {
                return Err(CheckError::new(
                    K::Internal,
                    format!("`{ds}` was not opened"),
                ));
            }
        };
        let keys: Vec<String> = r.key.iter().map(|k| r.column(ds, k).to_string()).collect();
        for c in &keys {
            field(&schema, ds, c)?;
        }
        for m in &r.measures {
            field(&schema, ds, r.column(ds, &m.column))?;
        }
        if let Some((fds, fschema)) = &first {
            for (i, k) in r.key.iter().enumerate() {
                let a = field(fschema, fds, r.column(fds, k))?.data_type();
                let b = field(&schema, ds, &keys[i])?.data_type();
                let ok =
                    a == b || (a.is_numeric() && b.is_numeric()) || (type_name(a) == type_name(b));
                if !ok {
                    return Err(CheckError::column(
                        K::Comparison,
                        k,
                        format!(
                            "key `{k}` cannot be matched: it is {} in `{fds}` and {} in `{ds}`",
                            type_name(a),
                            type_name(b)
                        ),
                    ));
                }
            }
        } else {
            first = Some((ds.clone(), schema.clone()));
        }
        let filter = r.filter(ds).map(str::to_string);
        let not_null = keys
            .iter()
            .map(|k| format!("{} IS NOT NULL", ident(k)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let complete = extras.request(
            ds,
            format!("count(*) FILTER (WHERE {not_null})"),
            filter.clone(),
        );
        let mm = match keys.as_slice() {
            [k] => Some((
                extras.request(ds, format!("min({})", ident(k)), filter.clone()),
                extras.request(ds, format!("max({})", ident(k)), filter.clone()),
            )),
            _ => None,
        };
        counts.push((complete, mm));
        sides.push(Side {
            dataset: ds.clone(),
            schema,
            filter,
            keys,
        });
    }
    Ok(ReconcilePlan {
        reconcile: r,
        sides,
        counts,
    })
}

/// An empty result for `r`.
pub(crate) fn skeleton(config: &Config, r: &Reconcile) -> CheckResult {
    CheckResult {
        threshold: Some(format!(
            "disagreeing keys <= {}, keys missing somewhere <= {}, duplicate keys <= {}",
            r.max_disagreements, r.max_missing, r.max_duplicates
        )),
        ..CheckResult::blank(
            &r.name,
            &format!("reconcile({})", r.name),
            "reconcile",
            r.severity,
            config.location(r.span).to_string(),
        )
    }
}

/// The chain of full outer joins that brings every dataset's row for a key side by side,
/// with a presence flag per dataset and a disagreement flag per pair.
fn join_sql(plan: &ReconcilePlan<'_>, dup_table: Option<&str>) -> Result<String, CheckError> {
    let r = plan.reconcile;
    let n = plan.sides.len();
    let key_names = &r.key;
    let mut froms = Vec::new();
    for (i, side) in plan.sides.iter().enumerate() {
        let mut cols: Vec<String> = side
            .keys
            .iter()
            .zip(key_names)
            .map(|(own, k)| format!("{} AS {}", ident(own), ident(k)))
            .collect();
        for (m, measure) in r.measures.iter().enumerate() {
            cols.push(format!(
                "{} AS \"__m{m}\"",
                ident(r.column(&side.dataset, &measure.column))
            ));
        }
        cols.push("true AS \"__p\"".into());
        let not_null = side
            .keys
            .iter()
            .map(|k| format!("{} IS NOT NULL", ident(k)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let filter = side
            .filter
            .as_deref()
            .map(|f| format!("({f}) AND "))
            .unwrap_or_default();
        let sub = format!(
            "(SELECT {} FROM {} WHERE {filter}{not_null}) d{i}",
            cols.join(", "),
            ident(&side.dataset)
        );
        if i == 0 {
            froms.push(sub);
        } else {
            let on: Vec<String> = key_names
                .iter()
                .map(|k| {
                    let prev: Vec<String> = (0..i).map(|j| format!("d{j}.{}", ident(k))).collect();
                    let lhs = if i == 1 {
                        prev[0].clone()
                    } else {
                        format!("coalesce({})", prev.join(", "))
                    };
                    format!("{lhs} = d{i}.{}", ident(k))
                })
                .collect();
            froms.push(format!("FULL OUTER JOIN {sub} ON {}", on.join(" AND ")));
        }
    }
    let mut cols = Vec::new();
    for i in 0..n {
        cols.push(format!("d{i}.\"__p\" IS NOT NULL AS \"__p{i}\""));
    }
    for i in 0..n {
        for j in i + 1..n {
            let mut any = Vec::new();
            for (m, measure) in r.measures.iter().enumerate() {
                let (a, b) = (&plan.sides[i], &plan.sides[j]);
                let ta = field(&a.schema, &a.dataset, r.column(&a.dataset, &measure.column))?
                    .data_type()
                    .clone();
                let tb = field(&b.schema, &b.dataset, r.column(&b.dataset, &measure.column))?
                    .data_type()
                    .clone();
                any.push(
                    differs(
                        &format!("d{i}.\"__m{m}\""),
                        &ta,
                        &format!("d{j}.\"__m{m}\""),
                        &tb,
                        &measure.opts,
                    )
                    .map_err(|e| CheckError {
                        message: format!(
                            "`{}` in `{}` vs `{}`: {e}",
                            measure.column, a.dataset, b.dataset
                        ),
                        ..e
                    })?,
                );
            }
            let diff = if any.is_empty() {
                "false".to_string()
            } else {
                any.join(" OR ")
            };
            cols.push(format!("(d{i}.\"__p\" IS NOT NULL AND d{j}.\"__p\" IS NOT NULL AND ({diff})) AS \"__x{i}_{j}\""));
        }
    }
    for k in key_names {
        let all: Vec<String> = (0..n).map(|i| format!("d{i}.{}", ident(k))).collect();
        cols.push(format!("coalesce({}) AS {}", all.join(", "), ident(k)));
    }
    for (m, measure) in r.measures.iter().enumerate() {
        for (i, side) in plan.sides.iter().enumerate() {
            cols.push(format!(
                "d{i}.\"__m{m}\" AS {}",
                ident(&format!("{} ({})", measure.column, side.dataset))
            ));
        }
    }
    let inner = format!("SELECT {} FROM {}", cols.join(", "), froms.join(" "));
    let (dup_join, dup_cond) = diff::duplicate_flag(key_names, dup_table);
    Ok(format!(
        "SELECT {dup_cond} AS \"__dup\", j.* FROM ({inner}) j{dup_join}"
    ))
}

/// Runs a reconciliation and judges it.
pub(crate) async fn evaluate(
    ctx: &SessionContext,
    config: &Config,
    plan: &ReconcilePlan<'_>,
    values: &ExtraValues,
) -> CheckResult {
    let started = std::time::Instant::now();
    let r = plan.reconcile;
    let mut out = skeleton(config, r);
    match run(ctx, plan, values).await {
        Ok((observed, disagreeing, partial, dups, samples, msg)) => {
            let bad = disagreeing > r.max_disagreements
                || partial > r.max_missing
                || dups > r.max_duplicates;
            out.status = match (bad, r.severity) {
                (false, _) => CheckStatus::Pass,
                (true, Severity::Error) => CheckStatus::Fail,
                (true, Severity::Warn) => CheckStatus::Warn,
            };
            out.observed = observed;
            out.failing_rows = Some(disagreeing + partial);
            out.samples = samples;
            out.message = msg;
        }
        Err(e) => out.message = e.message,
    }
    out.duration_ms = Some(started.elapsed().as_millis() as u64);
    out
}

type Outcome = (Value, u64, u64, u64, Vec<Map<String, Value>>, String);

/// What reading the joined rows counted.
struct Tally {
    keys: u64,
    disagreeing: u64,
    partial: u64,
    /// Per dataset: keys it lacks.
    missing: Vec<u64>,
    /// Per pair: keys both have, disagree on, only the first has, only the second has.
    both: Vec<u64>,
    disagree: Vec<u64>,
    only_a: Vec<u64>,
    only_b: Vec<u64>,
    pairs: Vec<(usize, usize)>,
    samples: Vec<Map<String, Value>>,
}

async fn run(
    ctx: &SessionContext,
    plan: &ReconcilePlan<'_>,
    values: &ExtraValues,
) -> Result<Outcome, CheckError> {
    let r = plan.reconcile;
    let get = |s: &Slot| crate::parity::value_of(values, s);
    let query_error =
        |e: datafusion::error::DataFusionError| CheckError::query(K::Evaluation, df_message(&e));
    // Duplicated keys per dataset.
    let mut dups = Vec::new();
    for (side, (complete, mm)) in plan.sides.iter().zip(&plan.counts) {
        let rows = as_u64(&get(complete)?);
        let mm = match mm {
            Some((a, b)) => Some((get(a)?, get(b)?)),
            None => None,
        };
        let found = diff::find_duplicates(ctx, side, &r.key, rows, mm, r.samples as usize)
            .await
            .map_err(query_error)?;
        dups.push(found);
    }
    let table = format!("__sluice_dups_{}", uuid::Uuid::now_v7().simple());
    let dup_table =
        diff::register_duplicates(ctx, &table, &r.key, &dups.iter().collect::<Vec<_>>())
            .map_err(query_error)?;
    let sql = join_sql(plan, dup_table.as_deref())?;
    debug!(%sql, "reconciliation");
    let result = tally(ctx, plan, &sql).await;
    if dup_table.is_some() {
        let _ = ctx.deregister_table(&table);
    }
    let t = result.map_err(query_error)?;
    Ok(outcome(plan, &t, &dups))
}

/// Reads the joined rows once: counts per dataset and pair, samples of the keys that
/// disagree or are missing somewhere.
async fn tally(
    ctx: &SessionContext,
    plan: &ReconcilePlan<'_>,
    sql: &str,
) -> Result<Tally, datafusion::error::DataFusionError> {
    let r = plan.reconcile;
    let n = plan.sides.len();
    let mut stream = ctx.sql(sql).await?.execute_stream().await?;
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .collect();
    let mut t = Tally {
        keys: 0,
        disagreeing: 0,
        partial: 0,
        missing: vec![0; n],
        both: vec![0; pairs.len()],
        disagree: vec![0; pairs.len()],
        only_a: vec![0; pairs.len()],
        only_b: vec![0; pairs.len()],
        pairs,
        samples: Vec::new(),
    };
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let live = not(batch.column(0).as_boolean())?;
        t.keys += live.true_count() as u64;
        let present: Vec<BooleanArray> = (0..n)
            .map(|i| and(&live, batch.column(1 + i).as_boolean()))
            .collect::<Result<_, _>>()?;
        let mut all = live.clone();
        for p in &present {
            all = and(&all, p)?;
        }
        let part = and_not(&live, &all)?;
        t.partial += part.true_count() as u64;
        for (i, p) in present.iter().enumerate() {
            t.missing[i] += and_not(&live, p)?.true_count() as u64;
        }
        let mut any_dis = BooleanArray::from(vec![false; batch.num_rows()]);
        for (x, &(i, j)) in t.pairs.iter().enumerate() {
            let flag = and(&live, batch.column(1 + n + x).as_boolean())?;
            t.disagree[x] += flag.true_count() as u64;
            any_dis = or(&any_dis, &flag)?;
            t.both[x] += and(&present[i], &present[j])?.true_count() as u64;
            t.only_a[x] += and_not(&present[i], &present[j])?.true_count() as u64;
            t.only_b[x] += and_not(&present[j], &present[i])?.true_count() as u64;
        }
        t.disagreeing += any_dis.true_count() as u64;
        let interesting = or(&any_dis, &part)?;
        if r.samples > 0 && interesting.true_count() > 0 {
            let first_value = 1 + n + t.pairs.len();
            for row in (0..batch.num_rows()).filter(|&x| interesting.value(x)) {
                let mut m = Map::new();
                let seen: Vec<&str> = (0..n)
                    .filter(|&i| present[i].value(row))
                    .map(|i| plan.sides[i].dataset.as_str())
                    .collect();
                m.insert("present_in".into(), Value::from(seen.join(", ")));
                let schema = batch.schema();
                for c in first_value..batch.num_columns() {
                    m.insert(
                        schema.field(c).name().clone(),
                        json_at(batch.column(c).as_ref(), row),
                    );
                }
                t.samples.push(m);
            }
            diff::keep_smallest(&mut t.samples, r.samples as usize, &r.key);
        }
    }
    t.samples.sort_by(|a, b| diff::compare_keys(a, b, &r.key));
    t.samples.truncate(r.samples as usize);
    Ok(t)
}

/// The observations and the message of a tally.
fn outcome(plan: &ReconcilePlan<'_>, t: &Tally, dups: &[diff::Duplicates]) -> Outcome {
    let r = plan.reconcile;
    let names: Vec<&str> = plan.sides.iter().map(|s| s.dataset.as_str()).collect();
    let pair_diffs: Vec<PairDiff> = t
        .pairs
        .iter()
        .enumerate()
        .map(|(x, &(i, j))| PairDiff {
            a: names[i].to_string(),
            b: names[j].to_string(),
            both: t.both[x],
            disagree: t.disagree[x],
            only_a: t.only_a[x],
            only_b: t.only_b[x],
        })
        .collect();
    let per_dataset = |v: &mut dyn Iterator<Item = u64>| -> Map<String, Value> {
        names
            .iter()
            .zip(v)
            .map(|(d, m)| (d.to_string(), Value::from(m)))
            .collect()
    };
    let dup_total: u64 = dups.iter().map(|d| d.values).sum();
    let observed = crate::observed::to_value(&ReconcileObserved {
        datasets: names.iter().map(|n| n.to_string()).collect(),
        key: r.key.clone(),
        measures: r.measures.iter().map(|m| m.column.clone()).collect(),
        keys: t.keys,
        disagreeing_keys: t.disagreeing,
        partial_keys: t.partial,
        missing: per_dataset(&mut t.missing.iter().copied()),
        pairs: pair_diffs,
        duplicate_keys: per_dataset(&mut dups.iter().map(|d| d.values)),
    });
    let mut msg = format!(
        "{} keys: {} with disagreeing values, {} missing from some dataset",
        t.keys, t.disagreeing, t.partial
    );
    let worst: Vec<String> = t
        .pairs
        .iter()
        .enumerate()
        .filter(|(x, _)| t.disagree[*x] > 0)
        .map(|(x, &(i, j))| format!("{} vs {}: {}", names[i], names[j], t.disagree[x]))
        .collect();
    if !worst.is_empty() {
        msg.push_str(&format!(" ({})", worst.join("; ")));
    }
    if dup_total > 0 {
        let d: Vec<String> = names
            .iter()
            .zip(dups)
            .filter(|(_, x)| x.values > 0)
            .map(|(n, x)| format!("{} in `{n}`", x.values))
            .collect();
        msg.push_str(&format!("; duplicate keys: {}", d.join(", ")));
    }
    (
        observed,
        t.disagreeing,
        t.partial,
        dup_total,
        t.samples.clone(),
        msg,
    )
}
