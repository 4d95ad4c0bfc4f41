//! Parity: a dataset (the target) compared with another (the source).
//!
//! Row counts and aggregates are requested from each side's fused scan ([`Extras`]): an
//! aggregate parity costs no scan of its own. `group_by` needs one grouped query per side;
//! a keyed row diff is one join ([`crate::diff`]).
//!
//! The result is one check of kind `parity`; its `observed` value holds every part
//! ([`crate::observed::ParityObserved`], whose documentation shows the JSON).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use serde_json::{Map, Value};
use sluice_spec::{AggFunc, Compare, Config, Dataset, Parity, Severity, Tolerance};

use crate::compile::{field, ident, type_name};
use crate::diff::{self, Compared, Side};
use crate::error::{CheckError, CheckErrorKind as K, df_message, in_query};
use crate::observed::{
    AggregateDiff, GroupDiff, GroupsDiff, ParityObserved, PerSide, RowCountDiff, RowsDiff,
};
use crate::report::{CheckResult, CheckStatus};
use crate::source::{Source, SourceError};
use crate::values::{as_f64, as_u64, float, json_at};

/// An aggregate some comparison needs from a dataset's fused scan.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Extra {
    /// The aggregate, as SQL.
    pub sql: String,
    /// A filter scoping it.
    pub filter: Option<String>,
}

/// The aggregates requested from each dataset's fused scan, deduplicated.
#[derive(Debug, Default)]
pub(crate) struct Extras {
    /// Per dataset, in request order.
    pub per_dataset: HashMap<String, Vec<Extra>>,
}

impl Extras {
    /// Requests `sql` (scoped by `filter`) from `dataset`'s scan; returns its slot.
    pub fn request(&mut self, dataset: &str, sql: String, filter: Option<String>) -> Slot {
        let list = self.per_dataset.entry(dataset.to_string()).or_default();
        let extra = Extra { sql, filter };
        let index = match list.iter().position(|e| *e == extra) {
            Some(i) => i,
            None => {
                list.push(extra);
                list.len() - 1
            }
        };
        Slot {
            dataset: dataset.to_string(),
            index,
        }
    }
}

/// Where a requested aggregate's value will be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    dataset: String,
    index: usize,
}

/// Values of the requested aggregates, per dataset.
pub(crate) type ExtraValues = HashMap<String, Vec<Result<ScalarValue, CheckError>>>;

/// The value in `slot`, or why there is none.
pub(crate) fn value_of(values: &ExtraValues, slot: &Slot) -> Result<ScalarValue, CheckError> {
    values
        .get(&slot.dataset)
        .and_then(|v| v.get(slot.index))
        .cloned()
        .unwrap_or_else(|| {
            Err(CheckError::new(
                K::Internal,
                format!("`{}` was not scanned", slot.dataset),
            ))
        })
}

/// The keyed-diff part of a parity plan.
#[derive(Clone, Debug)]
struct KeyPlan {
    source: Side,
    target: Side,
    key_names: Vec<String>,
    compared: Vec<Compared>,
    /// Per side: rows with a complete key, and the key's min/max (one integer key).
    source_counts: (Slot, Option<(Slot, Slot)>),
    target_counts: (Slot, Option<(Slot, Slot)>),
    /// Per side: rows with a NULL in the key.
    null_keys: (Slot, Slot),
}

/// A validated parity check, with the slots of the aggregates it needs.
#[derive(Debug)]
pub(crate) struct ParityPlan<'c> {
    target: &'c Dataset,
    parity: &'c Parity,
    rows: (Slot, Slot),
    aggregates: Vec<(String, Slot, Slot, Tolerance)>,
    groups: Option<GroupPlan>,
    keys: Option<KeyPlan>,
}

#[derive(Debug)]
struct GroupPlan {
    source_sql: String,
    target_sql: String,
    group_by: Vec<String>,
    metrics: Vec<(String, Tolerance)>,
}

fn agg_sql(func: AggFunc, column: &str) -> String {
    let c = ident(column);
    match func {
        AggFunc::Sum => format!("sum({c})"),
        AggFunc::Avg => format!("avg({c})"),
        AggFunc::Min => format!("min({c})"),
        AggFunc::Max => format!("max({c})"),
        AggFunc::CountDistinct => format!("count(DISTINCT {c})"),
    }
}

fn comparable(a: &DataType, b: &DataType) -> bool {
    let s = |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    let tm = |t: &DataType| {
        matches!(
            t,
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
        )
    };
    a == b || (a.is_numeric() && b.is_numeric()) || (s(a) && s(b)) || (tm(a) && tm(b))
}

fn schema_of<'s>(
    sources: &'s HashMap<String, Result<Source, SourceError>>,
    name: &str,
) -> Result<&'s Arc<Schema>, CheckError> {
    match sources.get(name) {
        Some(Ok(s)) => Ok(&s.schema),
        Some(Err(e)) => Err(CheckError {
            kind: K::Source(e.kind),
            column: None,
            message: format!("cannot read `{name}`: {}", e.message),
        }),
        None => Err(CheckError::new(
            K::Internal,
            format!("`{name}` was not opened"),
        )),
    }
}

/// The two sides of a parity check: names, schemas, filters.
struct Sides<'c> {
    target: &'c Dataset,
    parity: &'c Parity,
    tgt_schema: &'c Arc<Schema>,
    src_schema: &'c Arc<Schema>,
}

impl Sides<'_> {
    fn src(&self) -> &str {
        &self.parity.against
    }

    /// A column's type on both sides, by the target's name (source, target).
    fn both(&self, c: &str) -> Result<(DataType, DataType), CheckError> {
        let t = field(self.tgt_schema, &self.target.name, c)?
            .data_type()
            .clone();
        let s = field(self.src_schema, self.src(), self.parity.source_column(c))?
            .data_type()
            .clone();
        Ok((s, t))
    }
}

/// Checks a parity entry against both schemas and requests its aggregates.
pub(crate) fn plan<'c>(
    target: &'c Dataset,
    parity: &'c Parity,
    sources: &'c HashMap<String, Result<Source, SourceError>>,
    extras: &mut Extras,
) -> Result<ParityPlan<'c>, CheckError> {
    let sides = Sides {
        target,
        parity,
        tgt_schema: schema_of(sources, &target.name)?,
        src_schema: schema_of(sources, &parity.against)?,
    };
    let src_name = sides.src();
    let (tf, sf) = (&parity.filter, &parity.against_filter);
    let rows = (
        extras.request(src_name, "count(*)".into(), sf.clone()),
        extras.request(&target.name, "count(*)".into(), tf.clone()),
    );
    let mut aggregates = Vec::new();
    for a in &parity.aggregates {
        let (s, t) = sides.both(&a.column)?;
        if matches!(a.func, AggFunc::Sum | AggFunc::Avg) && !(s.is_numeric() && t.is_numeric()) {
            return Err(CheckError::column(
                K::WrongType,
                &a.column,
                format!(
                    "`{}` of `{}` needs numbers; it is {} in `{src_name}` and {} in `{}`",
                    a.func.name(),
                    a.column,
                    type_name(&s),
                    type_name(&t),
                    target.name
                ),
            ));
        }
        let label = format!("{}({})", a.func.name(), a.column);
        aggregates.push((
            label,
            extras.request(
                src_name,
                agg_sql(a.func, parity.source_column(&a.column)),
                sf.clone(),
            ),
            extras.request(&target.name, agg_sql(a.func, &a.column), tf.clone()),
            a.tolerance,
        ));
    }
    let groups = if parity.group_by.is_empty() {
        None
    } else {
        Some(group_plan(&sides)?)
    };
    let keys = if parity.keys.is_empty() {
        None
    } else {
        Some(key_plan(&sides, extras)?)
    };
    Ok(ParityPlan {
        target,
        parity,
        rows,
        aggregates,
        groups,
        keys,
    })
}

/// The grouped query of each side of a `group_by` comparison.
fn group_plan(sides: &Sides<'_>) -> Result<GroupPlan, CheckError> {
    let parity = sides.parity;
    for g in &parity.group_by {
        sides.both(g)?;
    }
    let mut metrics = vec![(
        "row_count".to_string(),
        parity.row_count.unwrap_or_default(),
    )];
    metrics.extend(
        parity
            .aggregates
            .iter()
            .map(|a| (format!("{}({})", a.func.name(), a.column), a.tolerance)),
    );
    let sql = |ds: &str, map: &dyn Fn(&str) -> String, filter: &Option<String>| {
        let mut cols: Vec<String> = parity
            .group_by
            .iter()
            .map(|g| format!("{} AS {}", ident(&map(g)), ident(g)))
            .collect();
        cols.push("count(*) AS \"row_count\"".into());
        for a in &parity.aggregates {
            cols.push(format!(
                "{} AS {}",
                agg_sql(a.func, &map(&a.column)),
                ident(&format!("{}({})", a.func.name(), a.column))
            ));
        }
        let keys: Vec<String> = parity.group_by.iter().map(|g| ident(&map(g))).collect();
        format!(
            "SELECT {} FROM {} {} GROUP BY {}",
            cols.join(", "),
            ident(ds),
            filter
                .as_deref()
                .map(|f| format!("WHERE {f}"))
                .unwrap_or_default(),
            keys.join(", ")
        )
    };
    Ok(GroupPlan {
        source_sql: sql(
            sides.src(),
            &|c: &str| parity.source_column(c).to_string(),
            &parity.against_filter,
        ),
        target_sql: sql(&sides.target.name, &|c: &str| c.to_string(), &parity.filter),
        group_by: parity.group_by.clone(),
        metrics,
    })
}

/// The columns a keyed diff compares: those listed, or (`all`) every column both sides
/// have besides the keys.
fn compared_columns(sides: &Sides<'_>) -> Result<Vec<Compared>, CheckError> {
    let parity = sides.parity;
    let compared: Vec<Compared> = match &parity.compare {
        Compare::Columns(cols) => {
            let mut out = Vec::new();
            for c in cols {
                sides.both(&c.column)?;
                out.push(Compared {
                    name: c.column.clone(),
                    source: parity.source_column(&c.column).to_string(),
                    opts: c.opts,
                });
            }
            out
        }
        Compare::All(opts) => sides
            .tgt_schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .filter(|c| !parity.keys.iter().any(|k| k == c))
            .filter(|c| {
                sides
                    .src_schema
                    .field_with_name(parity.source_column(c))
                    .is_ok()
            })
            .map(|c| Compared {
                name: c.to_string(),
                source: parity.source_column(c).to_string(),
                opts: *opts,
            })
            .collect(),
    };
    if matches!(parity.compare, Compare::All(_)) && compared.is_empty() {
        return Err(CheckError::new(
            K::Comparison,
            format!(
                "`compare: all` found no column common to `{}` and `{}` besides the keys",
                sides.src(),
                sides.target.name
            ),
        ));
    }
    Ok(compared)
}

/// A keyed diff: the keys must be comparable; each side's fused scan is asked for its
/// rows with a complete key, its NULL keys, and the range of a single key.
fn key_plan(sides: &Sides<'_>, extras: &mut Extras) -> Result<KeyPlan, CheckError> {
    let (parity, target, src_name) = (sides.parity, sides.target, sides.src());
    let (tf, sf) = (&parity.filter, &parity.against_filter);
    for k in &parity.keys {
        let (s, t) = sides.both(k)?;
        if !comparable(&s, &t) {
            return Err(CheckError::column(
                K::Comparison,
                k,
                format!(
                    "key `{k}` cannot be matched: it is {} in `{src_name}` and {} in `{}`",
                    type_name(&s),
                    type_name(&t),
                    target.name
                ),
            ));
        }
    }
    let compared = compared_columns(sides)?;
    let source_keys: Vec<String> = parity
        .keys
        .iter()
        .map(|k| parity.source_column(k).to_string())
        .collect();
    let not_null = |keys: &[String]| {
        keys.iter()
            .map(|k| format!("{} IS NOT NULL", ident(k)))
            .collect::<Vec<_>>()
            .join(" AND ")
    };
    let null_sql = |keys: &[String]| format!("count(*) FILTER (WHERE NOT ({}))", not_null(keys));
    let complete_sql = |keys: &[String]| format!("count(*) FILTER (WHERE {})", not_null(keys));
    let min_max = |ds: &str, keys: &[String], f: &Option<String>, extras: &mut Extras| match keys {
        [k] => Some((
            extras.request(ds, format!("min({})", ident(k)), f.clone()),
            extras.request(ds, format!("max({})", ident(k)), f.clone()),
        )),
        _ => None,
    };
    let source_counts = (
        extras.request(src_name, complete_sql(&source_keys), sf.clone()),
        min_max(src_name, &source_keys, sf, extras),
    );
    let target_counts = (
        extras.request(&target.name, complete_sql(&parity.keys), tf.clone()),
        min_max(&target.name, &parity.keys, tf, extras),
    );
    let null_keys = (
        extras.request(src_name, null_sql(&source_keys), sf.clone()),
        extras.request(&target.name, null_sql(&parity.keys), tf.clone()),
    );
    Ok(KeyPlan {
        source: Side {
            dataset: src_name.to_string(),
            schema: sides.src_schema.clone(),
            filter: sf.clone(),
            keys: source_keys,
        },
        target: Side {
            dataset: target.name.clone(),
            schema: sides.tgt_schema.clone(),
            filter: tf.clone(),
            keys: parity.keys.clone(),
        },
        key_names: parity.keys.clone(),
        compared,
        source_counts,
        target_counts,
        null_keys,
    })
}

/// The parity's thresholds as one line.
pub(crate) fn threshold_text(p: &Parity) -> String {
    let mut parts = Vec::new();
    if let Some(t) = p.row_count {
        parts.push(format!("row_count {t}"));
    }
    for a in &p.aggregates {
        parts.push(format!("{}({}) {}", a.func.name(), a.column, a.tolerance));
    }
    if !p.keys.is_empty() {
        parts.push(format!(
            "missing <= {}, extra <= {}, changed <= {}, duplicate keys <= {}",
            p.max_missing, p.max_extra, p.max_changed, p.max_duplicates
        ));
    }
    parts.join("; ")
}

/// An empty result for `p`, to fill in.
pub(crate) fn skeleton(config: &Config, target: &Dataset, p: &Parity) -> CheckResult {
    CheckResult {
        threshold: Some(threshold_text(p)),
        ..CheckResult::blank(
            &target.name,
            &p.name,
            "parity",
            p.severity,
            config.location(p.span).to_string(),
        )
    }
}

/// The two values as comparable numbers: numbers as they are, dates and timestamps as
/// seconds since the epoch (whatever their unit or zone); and their difference.
fn diff_of(s: &ScalarValue, t: &ScalarValue) -> (Value, Option<f64>, Option<f64>) {
    let number = |v: &ScalarValue| -> Option<f64> {
        if v.data_type().is_temporal() {
            crate::values::as_instant(v).map(|i| i.timestamp_micros() as f64 / 1e6)
        } else if v.data_type().is_numeric() {
            as_f64(v)
        } else {
            None
        }
    };
    match (number(s), number(t)) {
        (Some(a), Some(b)) => (float(b - a), Some(a), Some(b)),
        _ => (Value::Null, None, None),
    }
}

fn scalar_json(s: &ScalarValue) -> Value {
    match s.to_array_of_size(1) {
        Ok(a) => json_at(a.as_ref(), 0),
        Err(_) => Value::Null,
    }
}

/// Run-wide settings of keyed diffs.
pub(crate) struct DiffSettings<'a> {
    /// `--diff-output`: a folder for the differing rows.
    pub diff_output: Option<&'a PathBuf>,
    /// `--memory-limit`, to size the spilling fallback.
    pub memory_limit: Option<usize>,
}

/// Runs the parts of a parity check that need queries, and judges it.
pub(crate) async fn evaluate(
    ctx: &SessionContext,
    config: &Config,
    plan: &ParityPlan<'_>,
    values: &ExtraValues,
    settings: &DiffSettings<'_>,
) -> CheckResult {
    let started = std::time::Instant::now();
    let p = plan.parity;
    let mut r = skeleton(config, plan.target, p);
    if let Err(e) = judge(ctx, plan, values, settings, &mut r).await {
        r.status = CheckStatus::Error;
        r.message = e.message;
        r.observed = Value::Null;
        r.failing_rows = None;
        r.samples = vec![];
        return r;
    }
    r.duration_ms = Some(started.elapsed().as_millis() as u64);
    r
}

/// What a parity check found wrong, and what it noted.
#[derive(Default)]
struct Findings {
    problems: Vec<String>,
    notes: Vec<String>,
}

/// Compares every part the plan asks for, fills `r` and judges it.
async fn judge(
    ctx: &SessionContext,
    plan: &ParityPlan<'_>,
    values: &ExtraValues,
    settings: &DiffSettings<'_>,
    r: &mut CheckResult,
) -> Result<(), CheckError> {
    let p = plan.parity;
    let (src, tgt) = (p.against.as_str(), plan.target.name.as_str());
    let (src_rows, tgt_rows) = (
        as_u64(&value_of(values, &plan.rows.0)?),
        as_u64(&value_of(values, &plan.rows.1)?),
    );
    r.rows_scanned = Some(tgt_rows);
    let empty = match (src_rows, tgt_rows) {
        (0, 0) => Some("both sides are empty".to_string()),
        (0, _) => Some(format!(
            "`{src}` (the source) is empty: nothing to compare against"
        )),
        (_, 0) => Some(format!("`{tgt}` (the target) is empty")),
        _ => None,
    };
    let mut found = Findings::default();
    let mut observed = ParityObserved {
        source: src.to_string(),
        target: tgt.to_string(),
        row_count: None,
        aggregates: vec![],
        groups: None,
        rows: None,
    };
    if let Some(t) = p.row_count {
        let ok = t.allows(src_rows as f64, tgt_rows as f64);
        let diff = tgt_rows as i64 - src_rows as i64;
        if !ok {
            found
                .problems
                .push(format!("row count {tgt_rows} vs {src_rows} ({diff:+})"));
        }
        observed.row_count = Some(RowCountDiff {
            source: src_rows,
            target: tgt_rows,
            diff,
            tolerance: t.to_string(),
            ok,
        });
    }
    observed.aggregates = aggregates(plan, values, &mut found)?;
    if let Some(g) = &plan.groups {
        let (groups, bad) = groups(ctx, g, p.samples as usize).await.map_err(|e| {
            let e = in_query(
                &format!("the per-group comparison of `{tgt}` with `{src}`"),
                e.message,
            );
            CheckError::query(K::Evaluation, format!("group_by: {e}"))
        })?;
        if bad > 0 {
            found.problems.push(format!(
                "{bad} group{} out of tolerance",
                if bad == 1 { "" } else { "s" }
            ));
        }
        observed.groups = Some(groups);
    }
    if let Some(k) = &plan.keys {
        let diff = keyed(ctx, k, p, values, settings).await?;
        r.failing_rows = Some(diff.failing);
        r.samples = diff.samples;
        match diff.bad {
            true => found.problems.push(diff.message),
            false => found.notes.push(diff.message),
        }
        observed.rows = Some(diff.rows);
    }
    r.observed = crate::observed::to_value(&observed);
    let failed = !found.problems.is_empty() || (empty.is_some() && src_rows != tgt_rows);
    r.status = match (failed, p.severity) {
        (false, _) => CheckStatus::Pass,
        (true, Severity::Error) => CheckStatus::Fail,
        (true, Severity::Warn) => CheckStatus::Warn,
    };
    let mut msg = Vec::new();
    if let Some(e) = empty {
        msg.push(e);
    }
    if found.problems.is_empty() {
        msg.push(format!("`{tgt}` agrees with `{src}`"));
        msg.extend(found.notes);
    } else {
        msg.push(found.problems.join("; "));
    }
    r.message = msg.join(": ");
    Ok(())
}

/// Each aggregate of both sides, from their fused scans, within its tolerance or not.
fn aggregates(
    plan: &ParityPlan<'_>,
    values: &ExtraValues,
    found: &mut Findings,
) -> Result<Vec<AggregateDiff>, CheckError> {
    let mut out = Vec::new();
    for (label, ss, ts, tol) in &plan.aggregates {
        let (s, t) = match (value_of(values, ss), value_of(values, ts)) {
            (Ok(s), Ok(t)) => (s, t),
            (Err(e), _) | (_, Err(e)) => {
                return Err(CheckError {
                    message: format!("{label}: {}", e.message),
                    ..e
                });
            }
        };
        let (diff, sf, tf) = diff_of(&s, &t);
        let ok = match (sf, tf) {
            (Some(a), Some(b)) => tol.allows(a, b),
            _ => s == t,
        };
        if !ok {
            let d = match (sf, tf) {
                (Some(a), Some(b)) => format!("{:+}", round6(b - a)),
                _ => format!("{} vs {}", scalar_json(&t), scalar_json(&s)),
            };
            found.problems.push(format!("{label} {d}"));
        }
        out.push(AggregateDiff {
            metric: label.clone(),
            source: scalar_json(&s),
            target: scalar_json(&t),
            diff,
            tolerance: tol.to_string(),
            ok,
        });
    }
    Ok(out)
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Per-group comparison: both sides grouped, matched in memory (groups are few).
async fn groups(
    ctx: &SessionContext,
    g: &GroupPlan,
    worst: usize,
) -> Result<(GroupsDiff, u64), CheckError> {
    let run = |sql: String| async move {
        let df = ctx.sql(&sql).await?;
        df.collect().await
    };
    let (s, t) = futures::join!(run(g.source_sql.clone()), run(g.target_sql.clone()));
    let query_error =
        |e: datafusion::error::DataFusionError| CheckError::query(K::Evaluation, df_message(&e));
    let s = crate::values::rows(&s.map_err(query_error)?);
    let t = crate::values::rows(&t.map_err(query_error)?);
    let key = |m: &Map<String, Value>| -> String {
        g.group_by
            .iter()
            .map(|c| m.get(c).map(|v| v.to_string()).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\u{1f}")
    };
    type Row = Map<String, Value>;
    let mut by: BTreeMap<String, (Option<&Row>, Option<&Row>)> = BTreeMap::new();
    for m in &s {
        by.entry(key(m)).or_default().0 = Some(m);
    }
    for m in &t {
        by.entry(key(m)).or_default().1 = Some(m);
    }
    let (mut source_only, mut target_only, mut bad) = (0u64, 0u64, 0u64);
    let mut diffs: Vec<(f64, GroupDiff)> = Vec::new();
    for (sm, tm) in by.values() {
        match (sm, tm) {
            (Some(_), None) => source_only += 1,
            (None, Some(_)) => target_only += 1,
            (Some(sm), Some(tm)) => {
                let before = diffs.len();
                diffs.extend(group_diffs(g, sm, tm));
                if diffs.len() > before {
                    bad += 1;
                }
            }
            (None, None) => {}
        }
    }
    diffs.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    let worst: Vec<GroupDiff> = diffs
        .into_iter()
        .take(worst.max(1))
        .map(|(_, v)| v)
        .collect();
    let total_bad = bad + source_only + target_only;
    Ok((
        GroupsDiff {
            group_by: g.group_by.clone(),
            groups: by.len(),
            out_of_tolerance: bad,
            source_only,
            target_only,
            worst,
            ok: total_bad == 0,
        },
        total_bad,
    ))
}

/// The metrics of one group (on both sides) that are out of tolerance, each with its
/// relative difference (for ranking the worst).
fn group_diffs(
    g: &GroupPlan,
    sm: &Map<String, Value>,
    tm: &Map<String, Value>,
) -> Vec<(f64, GroupDiff)> {
    let group: Map<String, Value> = g
        .group_by
        .iter()
        .map(|c| (c.clone(), sm.get(c).cloned().unwrap_or(Value::Null)))
        .collect();
    let mut out = Vec::new();
    for (metric, tol) in &g.metrics {
        let (a, b) = (
            sm.get(metric).and_then(Value::as_f64),
            tm.get(metric).and_then(Value::as_f64),
        );
        let ok = match (a, b) {
            (Some(a), Some(b)) => tol.allows(a, b),
            _ => sm.get(metric) == tm.get(metric),
        };
        if ok {
            continue;
        }
        let d = b.zip(a).map(|(b, a)| b - a);
        let rel = d
            .zip(a)
            .map(|(d, a)| if a == 0.0 { d.abs() } else { (d / a).abs() })
            .unwrap_or(f64::INFINITY);
        let side = |m: &Map<String, Value>| m.get(metric).cloned().unwrap_or(Value::Null);
        out.push((
            rel,
            GroupDiff {
                group: group.clone(),
                metric: metric.clone(),
                source: side(sm),
                target: side(tm),
                diff: d.map(float).unwrap_or(Value::Null),
            },
        ));
    }
    out
}

/// What a keyed row diff found.
struct KeyedDiff {
    rows: RowsDiff,
    /// Missing, extra and changed rows.
    failing: u64,
    samples: Vec<Map<String, Value>>,
    message: String,
    /// Beyond `max_missing`, `max_extra`, `max_changed` or `max_duplicates`.
    bad: bool,
}

/// The keyed row diff of a parity check: both sides' duplicated keys set apart, then the
/// two-stage diff (see [`stages`]).
async fn keyed(
    ctx: &SessionContext,
    k: &KeyPlan,
    p: &Parity,
    values: &ExtraValues,
    settings: &DiffSettings<'_>,
) -> Result<KeyedDiff, CheckError> {
    let get = |s: &Slot| value_of(values, s);
    let counts = |c: &(Slot, Option<(Slot, Slot)>)| -> Result<(u64, Option<(ScalarValue, ScalarValue)>), CheckError> {
        let n = as_u64(&get(&c.0)?);
        let mm = match &c.1 {
            Some((a, b)) => Some((get(a)?, get(b)?)),
            None => None,
        };
        Ok((n, mm))
    };
    let (s_rows, s_mm) = counts(&k.source_counts)?;
    let (t_rows, t_mm) = counts(&k.target_counts)?;
    let (s_null, t_null) = (as_u64(&get(&k.null_keys.0)?), as_u64(&get(&k.null_keys.1)?));
    let samples = p.samples as usize;
    let (sd, td) = futures::join!(
        diff::find_duplicates(ctx, &k.source, &k.key_names, s_rows, s_mm, samples),
        diff::find_duplicates(ctx, &k.target, &k.key_names, t_rows, t_mm, samples)
    );
    let in_diff = |e: datafusion::error::DataFusionError| {
        let what = format!(
            "the keyed diff of `{}` against `{}`",
            k.target.dataset, k.source.dataset
        );
        CheckError::query(K::Evaluation, in_query(&what, df_message(&e)))
    };
    let (sd, td) = (sd.map_err(in_diff)?, td.map_err(in_diff)?);
    let table = format!("__sluice_dups_{}", uuid::Uuid::now_v7().simple());
    let dup_table = diff::register_duplicates(ctx, &table, &k.key_names, &[&sd, &td])
        .map_err(|e| CheckError::new(K::Internal, df_message(&e)))?;
    let out_path = settings.diff_output.map(|d| {
        d.join(format!(
            "{}.{}.parquet",
            sanitize(&k.target.dataset),
            sanitize(&p.name)
        ))
    });
    let result = stages(
        ctx,
        k,
        samples,
        dup_table.as_deref(),
        out_path.as_deref(),
        settings,
    )
    .await;
    if dup_table.is_some() {
        let _ = ctx.deregister_table(&table);
    }
    let (d, join) = result.map_err(in_diff)?;
    let mut samples_out = d.samples.clone();
    for (side, dups) in [
        (k.source.dataset.as_str(), &sd),
        (k.target.dataset.as_str(), &td),
    ] {
        for mut m in dups.samples.iter().take(samples).cloned() {
            let mut row = Map::new();
            row.insert("diff".into(), Value::from("duplicate"));
            row.insert("side".into(), Value::from(side));
            row.append(&mut m);
            samples_out.push(row);
        }
    }
    let dups = sd.values + td.values;
    let bad = d.missing > p.max_missing
        || d.extra > p.max_extra
        || d.changed > p.max_changed
        || dups > p.max_duplicates;
    let rows = RowsDiff {
        keys: k.key_names.clone(),
        compared: k.compared.iter().map(|c| c.name.clone()).collect(),
        matched: d.matched,
        missing: d.missing,
        extra: d.extra,
        changed: d.changed,
        changed_by_column: d
            .changed_by_column
            .iter()
            .map(|(c, n)| (c.clone(), Value::from(*n)))
            .collect(),
        duplicate_keys: PerSide {
            source: sd.values,
            target: td.values,
        },
        null_keys: PerSide {
            source: s_null,
            target: t_null,
        },
        diff_file: out_path
            .filter(|p| p.exists())
            .map(|p| p.display().to_string()),
        join: join.to_string(),
        ok: !bad,
    };
    let message = keyed_message(k, &d, &rows);
    Ok(KeyedDiff {
        failing: d.missing + d.extra + d.changed,
        rows,
        samples: samples_out,
        message,
        bad,
    })
}

/// `9 missing, 0 extra, 7 changed of 4997491 matched rows (amount 7); duplicate keys: ...`
fn keyed_message(k: &KeyPlan, d: &diff::DiffCounts, rows: &RowsDiff) -> String {
    let mut msg = format!(
        "{} missing, {} extra, {} changed of {} matched rows",
        d.missing, d.extra, d.changed, d.matched
    );
    let cols: Vec<String> = d
        .changed_by_column
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    if !cols.is_empty() {
        msg.push_str(&format!(" ({})", cols.join(", ")));
    }
    let (dups, nulls) = (&rows.duplicate_keys, &rows.null_keys);
    if dups.source + dups.target > 0 {
        msg.push_str(&format!(
            "; duplicate keys: {} in `{}`, {} in `{}`",
            dups.source, k.source.dataset, dups.target, k.target.dataset
        ));
    }
    if nulls.source + nulls.target > 0 {
        msg.push_str(&format!(
            "; rows with a NULL key (not compared): {} in `{}`, {} in `{}`",
            nulls.source, k.source.dataset, nulls.target, k.target.dataset
        ));
    }
    msg
}

/// The diff's two stages — the light join of keys and row hashes, then the values of the
/// rows that differ — as a hash join; when that does not fit in the memory limit, again as
/// a sort-merge join, which spills. Returns the counts and the join used.
async fn stages(
    ctx: &SessionContext,
    k: &KeyPlan,
    samples: usize,
    dup_table: Option<&str>,
    out_path: Option<&std::path::Path>,
    settings: &DiffSettings<'_>,
) -> Result<(diff::DiffCounts, &'static str), datafusion::error::DataFusionError> {
    let key_table = format!("__sluice_keys_{}", uuid::Uuid::now_v7().simple());
    let job = |ctx: SessionContext| {
        let key_table = key_table.clone();
        async move { two_stages(&ctx, k, samples, dup_table, out_path, &key_table).await }
    };
    match job(ctx.clone()).await {
        Err(e)
            if matches!(
                e.find_root(),
                datafusion::error::DataFusionError::ResourcesExhausted(_)
            ) =>
        {
            // The hash join cannot spill: redo it as a sort-merge join, whose sorts can.
            tracing::info!(error = %df_message(&e), "hash join exceeded the memory limit; retrying as a sort-merge join");
            let mut state = ctx.state();
            let options = state.config_mut().options_mut();
            options.optimizer.prefer_hash_join = false;
            // Each sort (one per side and partition) keeps a small share of the pool for
            // merging its spills, and merging holds about a batch per spill file: small
            // batches keep that within the pool (8 MB suffices for 400,000 rows a side).
            if let Some(limit) = settings.memory_limit {
                let sorts = 2 * options.execution.target_partitions.max(1);
                options.execution.sort_spill_reservation_bytes =
                    (limit / (4 * sorts)).min(10 << 20);
                let _ = options.set("datafusion.execution.batch_size", "1024");
            }
            let d = job(SessionContext::new_with_state(state)).await?;
            Ok((d, "sort_merge"))
        }
        other => other.map(|d| (d, "hash")),
    }
}

/// Stage 1 (keys and row hashes: presence counts, the differing keys) and stage 2 (the
/// values of the differing rows: per-column counts, samples, `--diff-output`).
async fn two_stages(
    ctx: &SessionContext,
    k: &KeyPlan,
    samples: usize,
    dup_table: Option<&str>,
    out_path: Option<&std::path::Path>,
    key_table: &str,
) -> Result<diff::DiffCounts, datafusion::error::DataFusionError> {
    // A column pair that cannot be compared: its message, as an error of the query.
    let external = |e: CheckError| datafusion::error::DataFusionError::External(Box::new(e));
    let light = diff::hash_diff_sql(&k.source, &k.target, &k.key_names, &k.compared, dup_table)
        .map_err(external)?;
    let hashed = diff::run_hash_diff(ctx, &light).await?;
    let (matched, missing, extra) = (hashed.matched, hashed.missing, hashed.extra);
    let keys = diff::key_filter(ctx, key_table, hashed.keys)?;
    let mut detail = match &keys {
        Some(keys) => {
            let sql = diff::diff_sql(&k.source, &k.target, &k.key_names, &k.compared, Some(keys))
                .map_err(external)?;
            let job = diff::DiffJob {
                sql: &sql,
                compared: &k.compared,
                key_names: &k.key_names,
                source: &k.source.dataset,
                target: &k.target.dataset,
                samples,
                output: out_path,
            };
            let d = diff::run_diff(&diff::pushdown(ctx), &job).await;
            let _ = ctx.deregister_table(key_table);
            d?
        }
        None => diff::DiffCounts {
            changed_by_column: k.compared.iter().map(|c| (c.name.clone(), 0)).collect(),
            ..Default::default()
        },
    };
    // Counts of presence come from the light join; `changed` from comparing values.
    detail.matched = matched;
    detail.missing = missing;
    detail.extra = extra;
    Ok(detail)
}

/// A dataset or check name as a file name.
pub(crate) fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
