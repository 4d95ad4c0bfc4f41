//! N-way reconciliation: the same facts as seen by several datasets (experimentation,
//! payments, a ledger), matched on a key and compared measure by measure.
//!
//! One chain of full outer joins brings every dataset's row for a key side by side; each
//! output row carries a presence flag per dataset and a disagreement flag per pair. The
//! stream is read once to count, per pair, the keys both have, those they disagree on and
//! those only one has, and to keep samples showing every dataset's values.
//!
//! The result is one check of kind `reconcile`; `observed` holds:
//!
//! ```json
//! { "datasets": ["experiments", "payments", "ledger"], "keys": 1000,
//!   "disagreeing_keys": 4, "partial_keys": 3,
//!   "missing": { "experiments": 0, "payments": 2, "ledger": 1 },
//!   "pairs": [ { "a": "experiments", "b": "payments", "both": 998, "disagree": 2,
//!                "only_a": 2, "only_b": 0 } ],
//!   "duplicate_keys": { "ledger": 1 } }
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, BooleanArray};
use datafusion::arrow::compute::kernels::boolean::{and, and_not, not, or};
use datafusion::arrow::datatypes::Schema;
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde_json::{Map, Value, json};
use sluice_spec::{Config, Reconcile, Severity};
use tracing::debug;

use crate::compile::{field, ident, type_name};
use crate::diff::{self, Side, differs};
use crate::error::df_message;
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
) -> Result<ReconcilePlan<'c>, String> {
    let mut sides = Vec::new();
    let mut counts = Vec::new();
    let mut first: Option<(String, Arc<Schema>)> = None;
    for ds in &r.datasets {
        let schema = match sources.get(ds) {
            Some(Ok(s)) => s.schema.clone(),
            Some(Err(e)) => return Err(format!("cannot read `{ds}`: {}", e.0)),
            None => return Err(format!("`{ds}` was not opened")),
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
                    return Err(format!(
                        "key `{k}` cannot be matched: it is {} in `{fds}` and {} in `{ds}`",
                        type_name(a),
                        type_name(b)
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

fn join_sql(plan: &ReconcilePlan<'_>, dup_table: Option<&str>) -> Result<String, String> {
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
                    .map_err(|e| {
                        format!(
                            "`{}` in `{}` vs `{}`: {e}",
                            measure.column, a.dataset, b.dataset
                        )
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
        Err(e) => out.message = e,
    }
    out.duration_ms = Some(started.elapsed().as_millis() as u64);
    out
}

type Outcome = (Value, u64, u64, u64, Vec<Map<String, Value>>, String);

async fn run(
    ctx: &SessionContext,
    plan: &ReconcilePlan<'_>,
    values: &ExtraValues,
) -> Result<Outcome, String> {
    let r = plan.reconcile;
    let n = plan.sides.len();
    let get = |s: &Slot| -> Result<ScalarValue, String> { crate::parity::value_of(values, s) };
    // Duplicated keys per dataset.
    let mut dups = Vec::new();
    for (side, (complete, mm)) in plan.sides.iter().zip(&plan.counts) {
        let rows = as_u64(&get(complete)?);
        let mm = match mm {
            Some((a, b)) => Some((get(a)?, get(b)?)),
            None => None,
        };
        dups.push(diff::find_duplicates(ctx, side, &r.key, rows, mm, r.samples as usize).await?);
    }
    let table = format!("__sluice_dups_{}", uuid::Uuid::now_v7().simple());
    let dup_table =
        diff::register_duplicates(ctx, &table, &r.key, &dups.iter().collect::<Vec<_>>())?;
    let sql = join_sql(plan, dup_table.as_deref())?;
    debug!(%sql, "reconciliation");
    let result = async {
        let mut stream = ctx.sql(&sql).await?.execute_stream().await?;
        let pairs: Vec<(usize, usize)> = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .collect();
        let mut both = vec![0u64; pairs.len()];
        let mut disagree = vec![0u64; pairs.len()];
        let mut only_a = vec![0u64; pairs.len()];
        let mut only_b = vec![0u64; pairs.len()];
        let mut missing = vec![0u64; n];
        let (mut keys, mut disagreeing, mut partial) = (0u64, 0u64, 0u64);
        let mut samples = Vec::new();
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let live = not(batch.column(0).as_boolean())?;
            keys += live.true_count() as u64;
            let present: Vec<BooleanArray> = (0..n)
                .map(|i| and(&live, batch.column(1 + i).as_boolean()))
                .collect::<Result<_, _>>()?;
            let mut all = live.clone();
            for p in &present {
                all = and(&all, p)?;
            }
            let part = and_not(&live, &all)?;
            partial += part.true_count() as u64;
            for (i, p) in present.iter().enumerate() {
                missing[i] += and_not(&live, p)?.true_count() as u64;
            }
            let mut any_dis = BooleanArray::from(vec![false; batch.num_rows()]);
            for (x, &(i, j)) in pairs.iter().enumerate() {
                let flag = and(&live, batch.column(1 + n + x).as_boolean())?;
                disagree[x] += flag.true_count() as u64;
                any_dis = or(&any_dis, &flag)?;
                both[x] += and(&present[i], &present[j])?.true_count() as u64;
                only_a[x] += and_not(&present[i], &present[j])?.true_count() as u64;
                only_b[x] += and_not(&present[j], &present[i])?.true_count() as u64;
            }
            disagreeing += any_dis.true_count() as u64;
            let interesting = or(&any_dis, &part)?;
            if r.samples > 0 && interesting.true_count() > 0 {
                let first_value = 1 + n + pairs.len();
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
                    samples.push(m);
                }
                diff::keep_smallest(&mut samples, r.samples as usize, &r.key);
            }
        }
        samples.sort_by(|a, b| diff::compare_keys(a, b, &r.key));
        samples.truncate(r.samples as usize);
        Ok::<_, datafusion::error::DataFusionError>((
            keys,
            disagreeing,
            partial,
            missing,
            both,
            disagree,
            only_a,
            only_b,
            pairs,
            samples,
        ))
    }
    .await;
    if dup_table.is_some() {
        let _ = ctx.deregister_table(&table);
    }
    let (keys, disagreeing, partial, missing, both, disagree, only_a, only_b, pairs, samples) =
        result.map_err(|e| df_message(&e))?;
    let names: Vec<&str> = plan.sides.iter().map(|s| s.dataset.as_str()).collect();
    let pair_json: Vec<Value> = pairs
        .iter()
        .enumerate()
        .map(|(x, &(i, j))| json!({ "a": names[i], "b": names[j], "both": both[x], "disagree": disagree[x], "only_a": only_a[x], "only_b": only_b[x] }))
        .collect();
    let missing_json: Map<String, Value> = names
        .iter()
        .zip(&missing)
        .map(|(d, m)| (d.to_string(), Value::from(*m)))
        .collect();
    let dup_json: Map<String, Value> = names
        .iter()
        .zip(&dups)
        .map(|(d, x)| (d.to_string(), Value::from(x.values)))
        .collect();
    let dup_total: u64 = dups.iter().map(|d| d.values).sum();
    let observed = json!({
        "datasets": names, "key": r.key, "measures": r.measures.iter().map(|m| m.column.clone()).collect::<Vec<_>>(),
        "keys": keys, "disagreeing_keys": disagreeing, "partial_keys": partial,
        "missing": missing_json, "pairs": pair_json, "duplicate_keys": dup_json,
    });
    let mut msg = format!(
        "{keys} keys: {disagreeing} with disagreeing values, {partial} missing from some dataset"
    );
    let worst: Vec<String> = pairs
        .iter()
        .enumerate()
        .filter(|(x, _)| disagree[*x] > 0)
        .map(|(x, &(i, j))| format!("{} vs {}: {}", names[i], names[j], disagree[x]))
        .collect();
    if !worst.is_empty() {
        msg.push_str(&format!(" ({})", worst.join("; ")));
    }
    if dup_total > 0 {
        let d: Vec<String> = names
            .iter()
            .zip(&dups)
            .filter(|(_, x)| x.values > 0)
            .map(|(n, x)| format!("{} in `{n}`", x.values))
            .collect();
        msg.push_str(&format!("; duplicate keys: {}", d.join(", ")));
    }
    Ok((observed, disagreeing, partial, dup_total, samples, msg))
}
