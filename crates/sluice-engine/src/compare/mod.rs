//! Checks that compare a dataset with another dataset or with the published version of
//! itself: `distribution` ([`distribution`]), `within_history` ([`history`]),
//! `change_vs_published` ([`published`]) and `forecast_accuracy` ([`accuracy`]).
//!
//! Each runs as its check's own query (or a few), after the fused scan: DataFusion
//! queries over both tables (joins, `GROUP BY`s, window functions), whose small answers
//! become a [`Comparison`] — the statistics the check's limits bound, the failing rows
//! for `max_invalid`, the `observed` JSON object, the message and the samples.
//!
//! The published version of a dataset is a table of its own, `<dataset>@published`,
//! opened from [`crate::RunOptions::published`] (set by the application layer: the
//! published path while `sluice publish` checks the staged data; the version before the
//! current one under a plain `sluice check`).

pub mod stats;

mod accuracy;
mod distribution;
mod history;
mod published;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::ScalarValue;
use serde_json::{Map, Value};
use sluice_spec::{Check, CheckKind, Dataset, Reference, Threshold};

use crate::compile::{field, ident, type_name};
use crate::dataset::RunContext;
use crate::error::{CheckError, CheckErrorKind as K, df_message};

/// A published version of a dataset that checks compare with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// Where its data is.
    pub location: std::path::PathBuf,
    /// What it is, for people: `published version v3`, `previous version v2`.
    pub label: String,
}

/// The table name of `dataset`'s published version (`@` cannot be in a dataset name).
pub(crate) fn published_table(dataset: &str) -> String {
    format!("{dataset}@published")
}

/// Whether a check compares with the published version of its dataset.
pub fn uses_published(check: &Check) -> bool {
    match &check.kind {
        CheckKind::Distribution(d) => d.reference == Reference::Published,
        CheckKind::ChangeVsPublished(_) => true,
        _ => false,
    }
}

/// The table a comparison check reads besides its dataset's (another dataset, or the
/// published version); `None` for other kinds.
pub(crate) fn other_table(check: &Check, dataset: &str) -> Option<String> {
    match &check.kind {
        CheckKind::Distribution(d) => Some(match &d.reference {
            Reference::Dataset(r) => r.name.clone(),
            Reference::Published => published_table(dataset),
        }),
        CheckKind::WithinHistory(w) => Some(w.actuals.name.clone()),
        CheckKind::ForecastAccuracy(a) => Some(a.actuals.name.clone()),
        CheckKind::ChangeVsPublished(_) => Some(published_table(dataset)),
        _ => None,
    }
}

/// What a comparison found.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Comparison {
    /// The statistics its limits bound (`psi`, `ks_p`, `wape_pct`...); a statistic not
    /// listed (nothing to compute it on) breaks no limit.
    pub stats: Vec<(&'static str, f64)>,
    /// Failing rows and rows in scope, for kinds with `max_invalid` thresholds.
    pub failing: Option<(u64, u64)>,
    /// The `observed` object of the report.
    pub observed: Value,
    /// What was found, in one sentence.
    pub message: String,
    /// Examples: the bins, series, keys or rows that weigh most.
    pub samples: Vec<Map<String, Value>>,
}

impl Comparison {
    /// Nothing to compare (e.g. nothing published yet): passes, saying why.
    pub fn note(message: String, observed: Value) -> Comparison {
        Comparison {
            stats: vec![],
            failing: None,
            observed,
            message,
            samples: vec![],
        }
    }

    /// The value of statistic `stat`, if computed.
    pub fn stat(&self, stat: &str) -> Option<f64> {
        self.stats.iter().find(|(s, _)| *s == stat).map(|(_, v)| *v)
    }
}

/// Whether `stats` break a limit of the check's fail or warn zone: the sample queries
/// (the largest changes, the largest errors) run only then, like every check's samples.
fn breaks_a_limit(check: &Check, stats: &[(&'static str, f64)]) -> bool {
    check.fail.iter().chain(check.warn.iter()).any(|t| match t {
        Threshold::Limits(limits) => limits.iter().any(|l| {
            stats
                .iter()
                .any(|(s, v)| *s == l.stat() && l.violated_by(*v))
        }),
        _ => false,
    })
}

/// The other side of a comparison, as the check reads it.
pub(crate) struct Other {
    /// Its table.
    pub table: String,
    /// How to name it to people: a dataset name, or `published version v3`.
    pub label: String,
}

/// Validates a comparison check's columns against both schemas (`other`: the other side's
/// schema, or why it cannot be read; `None` when there is no published version yet).
pub(crate) fn validate(
    check: &Check,
    dataset: &str,
    schema: &Schema,
    other: Option<Result<&Schema, &str>>,
) -> Result<(), CheckError> {
    let other_name = other_table(check, dataset).unwrap_or_default();
    let shown = shown_name(&other_name);
    // The other side's name in "column `x` not found in `...`".
    let plain = match other_name.strip_suffix("@published") {
        Some(ds) => format!("{ds} (published)"),
        None => other_name.clone(),
    };
    let other = match other {
        Some(Ok(s)) => Some(s),
        Some(Err(why)) => {
            return Err(CheckError::new(
                K::Comparison,
                format!("cannot compare with {shown}: {why}"),
            ));
        }
        None if uses_published(check) => None,
        None => {
            return Err(CheckError::new(
                K::Comparison,
                format!("{shown} is not available"),
            ));
        }
    };
    let numeric = |s: &Schema, ds: &str, c: &str| -> Result<(), CheckError> {
        let f = field(s, ds, c)?;
        if f.data_type().is_numeric() {
            Ok(())
        } else {
            Err(CheckError::column(
                K::WrongType,
                c,
                format!(
                    "`{}` needs a numeric column, but `{ds}.{c}` is {}",
                    check.kind.name(),
                    type_name(f.data_type())
                ),
            ))
        }
    };
    let both = |own: &[&str], theirs: &[&str]| -> Result<(), CheckError> {
        for c in own {
            field(schema, dataset, c)?;
        }
        if let Some(o) = other {
            for c in theirs {
                field(o, &plain, c)?;
            }
        }
        Ok(())
    };
    match &check.kind {
        CheckKind::Distribution(d) => {
            let f = field(schema, dataset, &d.column)?;
            let categorical = d.categorical.unwrap_or(!f.data_type().is_numeric());
            if let Some(o) = other {
                let rf = field(o, &plain, d.reference_column())?;
                if !categorical && !rf.data_type().is_numeric() {
                    numeric(o, &plain, d.reference_column())?;
                }
            }
            if !categorical && !f.data_type().is_numeric() {
                numeric(schema, dataset, &d.column)?;
            }
            limits_fit(check, categorical, f.data_type())
        }
        CheckKind::WithinHistory(w) => {
            let series: Vec<&str> = w.series.iter().map(String::as_str).collect();
            both(&series, &series)?;
            numeric(schema, dataset, &w.column)?;
            if let Some(o) = other {
                numeric(o, &plain, w.actual_column())?;
            }
            Ok(())
        }
        CheckKind::ChangeVsPublished(c) => {
            let keys: Vec<&str> = c.keys.iter().map(String::as_str).collect();
            both(&keys, &keys)?;
            numeric(schema, dataset, &c.column)?;
            if let Some(o) = other {
                numeric(o, &plain, &c.column)?;
            }
            Ok(())
        }
        CheckKind::ForecastAccuracy(a) => {
            let keys: Vec<&str> = a.keys.iter().map(String::as_str).collect();
            both(&keys, &keys)?;
            numeric(schema, dataset, &a.point)?;
            for c in a.lower.iter().chain(a.upper.iter()) {
                numeric(schema, dataset, c)?;
            }
            if let Some(o) = other {
                numeric(o, &plain, a.actual_column())?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A numeric column has no chi-square and a categorical one no KS: a limit on a statistic
/// the column's type does not produce is an error rather than a limit never checked.
fn limits_fit(check: &Check, categorical: bool, dt: &DataType) -> Result<(), CheckError> {
    let column = check
        .columns()
        .first()
        .map(|c| c.to_string())
        .unwrap_or_default();
    for t in check.fail.iter().chain(check.warn.iter()) {
        let Threshold::Limits(limits) = t else {
            continue;
        };
        for l in limits {
            let (wrong, instead) = match l.stat() {
                "chi2_p" if !categorical => (true, "`min_ks_p` or `max_psi`"),
                "ks_d" | "ks_p" if categorical => (true, "`min_chi2_p` or `max_psi`"),
                _ => (false, ""),
            };
            if wrong {
                let what = if categorical {
                    "categorical"
                } else {
                    "numeric"
                };
                return Err(CheckError::column(
                    K::WrongValue,
                    &column,
                    format!(
                        "`{}` does not apply to `{column}`, which is compared as {what} ({}); use {instead}, or `categorical: {}`",
                        l.key,
                        type_name(dt),
                        !categorical
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `forecast@published` as `the published version of forecast`.
fn shown_name(table: &str) -> String {
    match table.strip_suffix("@published") {
        Some(ds) => format!("the published version of `{ds}`"),
        None => format!("`{table}`"),
    }
}

/// Runs the comparison of `check` on `ds` (rows in scope: `in_scope`).
pub(crate) async fn run(
    cx: &RunContext<'_>,
    ds: &Dataset,
    check: &Check,
    in_scope: u64,
) -> Result<Comparison, CheckError> {
    let other = match other_table(check, &ds.name) {
        Some(t) if t == published_table(&ds.name) => match cx.published.get(&ds.name) {
            Some(p) if cx.sources.contains_key(&t) => Some(Other {
                table: t,
                label: p.label.clone(),
            }),
            _ => None,
        },
        Some(t) => Some(Other {
            label: t.clone(),
            table: t,
        }),
        None => None,
    };
    let Some(other) = other else {
        return Ok(Comparison::note(
            format!(
                "no earlier published version of `{}` to compare with",
                ds.name
            ),
            serde_json::json!({ "published": null }),
        ));
    };
    let q = Query { cx, ds, check };
    match &check.kind {
        CheckKind::Distribution(spec) => distribution::run(&q, spec, &other).await,
        CheckKind::WithinHistory(spec) => history::run(&q, spec, &other, in_scope).await,
        CheckKind::ChangeVsPublished(spec) => published::run(&q, spec, &other).await,
        CheckKind::ForecastAccuracy(spec) => accuracy::run(&q, spec, &other).await,
        _ => Err(CheckError::new(K::Internal, "not a comparison")),
    }
}

/// What the comparison queries share.
pub(crate) struct Query<'a> {
    cx: &'a RunContext<'a>,
    ds: &'a Dataset,
    check: &'a Check,
}

impl Query<'_> {
    /// Runs `sql`, returning its batches.
    async fn batches(&self, sql: &str) -> Result<Vec<RecordBatch>, CheckError> {
        tracing::debug!(%sql, check = %self.check.name, "comparison query");
        let df = self
            .cx
            .session
            .sql(sql)
            .await
            .map_err(|e| CheckError::query(K::Evaluation, df_message(&e)))?;
        df.collect()
            .await
            .map_err(|e| CheckError::query(K::Evaluation, df_message(&e)))
    }

    /// Runs `sql`, returning its first row.
    async fn row(&self, sql: &str) -> Result<Vec<ScalarValue>, CheckError> {
        let batches = self.batches(sql).await?;
        crate::query::first_row(&batches)
            .map_err(|e| CheckError::query(K::Evaluation, df_message(&e)))
    }

    /// The checked table, quoted.
    fn table(&self) -> String {
        ident(&self.ds.name)
    }

    /// ` AND (where)` of the check, or nothing.
    fn and_scope(&self) -> String {
        self.check
            .filter
            .as_deref()
            .map(|f| format!(" AND ({f})"))
            .unwrap_or_default()
    }

    /// `WHERE (where)` of the check, or nothing.
    fn where_scope(&self) -> String {
        self.check
            .filter
            .as_deref()
            .map(|f| format!(" WHERE ({f})"))
            .unwrap_or_default()
    }

    /// Samples kept.
    fn samples(&self) -> usize {
        self.check.samples as usize
    }
}

/// `a.k1 = b.k1 AND a.k2 = b.k2` (`TRUE` without keys).
fn join_on(keys: &[String], a: &str, b: &str) -> String {
    if keys.is_empty() {
        return "TRUE".into();
    }
    keys.iter()
        .map(|k| format!("{a}.{c} = {b}.{c}", c = ident(k)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `k1, k2` quoted (with a prefix `t.` when given).
fn cols(keys: &[String], prefix: &str) -> String {
    keys.iter()
        .map(|k| format!("{prefix}{}", ident(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `k1, k2, ` quoted, or nothing.
fn cols_then(keys: &[String], prefix: &str) -> String {
    if keys.is_empty() {
        String::new()
    } else {
        format!("{}, ", cols(keys, prefix))
    }
}

/// A key value for a message: strings bare, others as JSON.
fn key_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "null".into(),
    }
}

/// A float as a SQL literal that reads back exactly.
fn lit(x: f64) -> String {
    format!("CAST({x:?} AS DOUBLE)")
}

/// Column `i` of every row of `batches`, as f64 (NULL as `None`).
fn f64_column(batches: &[RecordBatch], i: usize) -> Vec<Option<f64>> {
    let mut out = Vec::new();
    for b in batches {
        let col = b.column(i);
        for r in 0..b.num_rows() {
            out.push(if col.is_null(r) {
                None
            } else {
                ScalarValue::try_from_array(col.as_ref(), r)
                    .ok()
                    .and_then(|s| crate::values::as_f64(&s))
            });
        }
    }
    out
}

/// A statistic at full precision for the report (JSON has no NaN or infinity: those
/// become `null`).
fn exact(x: f64) -> Value {
    if x.is_finite() {
        crate::values::float(x)
    } else {
        Value::Null
    }
}

/// A float rounded to 6 significant decimals for reports (JSON has no NaN or infinity:
/// those become `null`).
fn round(x: f64) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    let r = if x == 0.0 {
        0.0
    } else {
        let digits = 6 - x.abs().log10().ceil() as i32;
        let f = 10f64.powi(digits.clamp(-300, 300));
        (x * f).round() / f
    };
    crate::values::float(r)
}

/// A float for a message: at most 4 significant decimals.
fn short(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "n/a".into()
        } else {
            "∞".into()
        };
    }
    if x != 0.0 && x.abs() < 1e-4 {
        return format!("{x:.1e}");
    }
    let v = round(x);
    let f = v.as_f64().unwrap_or(x);
    let s = if f.abs() >= 1000.0 || f.fract() == 0.0 {
        format!("{f:.0}")
    } else if f.abs() >= 1.0 {
        format!("{f:.2}")
    } else {
        format!("{f:.4}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(short(0.123456), "0.1235");
        assert_eq!(short(12.3456), "12.35");
        assert_eq!(short(12345.6), "12346");
        assert_eq!(short(2.0), "2");
        assert_eq!(short(4.583e-17), "4.6e-17");
        assert_eq!(short(f64::INFINITY), "∞");
        assert_eq!(round(0.0123456789), serde_json::json!(0.0123457));
        assert_eq!(round(f64::NAN), Value::Null);
        assert_eq!(join_on(&[], "a", "b"), "TRUE");
        assert_eq!(
            join_on(&["r".into(), "d".into()], "a", "b"),
            "a.\"r\" = b.\"r\" AND a.\"d\" = b.\"d\""
        );
    }
}
