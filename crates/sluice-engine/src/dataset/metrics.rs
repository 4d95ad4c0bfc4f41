//! The dataset metrics a run records for history, computed in the one fused scan:
//! `row_count`, and `null_count(c)`, `min(c)`, `max(c)`, `mean(c)` of every column a check
//! names (min, max and mean of numeric columns only), plus the columns history checks
//! watch. And the current value of the metric a history check watches.

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::Schema;
use datafusion::dataframe::DataFrame;
use sluice_spec::history::ColumnMetric;
use sluice_spec::{Check, CheckKind, MetricRef};

use super::plan::{Unit, extra_unit};
use crate::compile::{ident, is_numeric};
use crate::parity::Extra;
use crate::report::{CheckResult, CheckStatus};
use crate::values::as_f64;

/// The name and aggregate of every dataset metric of `checks` over `schema`.
pub(super) fn plan(df: &DataFrame, checks: &[Check], schema: &Schema) -> Vec<(String, Unit)> {
    let mut columns: Vec<&str> = Vec::new();
    for c in checks {
        let watched = match &c.kind {
            CheckKind::Change {
                metric: MetricRef::Column { column, .. },
                ..
            } => vec![column.as_str()],
            CheckKind::Anomaly(a) => match &a.metric {
                MetricRef::Column { column, .. } => vec![column.as_str()],
                _ => vec![],
            },
            _ => c.columns(),
        };
        for col in watched {
            if !columns.contains(&col) {
                columns.push(col);
            }
        }
    }
    let mut out = Vec::new();
    for col in columns {
        let Ok(field) = schema.field_with_name(col) else {
            continue;
        };
        let numeric = is_numeric(field.data_type());
        let c = ident(col);
        for func in ColumnMetric::ALL {
            if func.numeric_only() && !numeric {
                continue;
            }
            let sql = match func {
                // `count(c)` reads only the null bitmap; nulls = rows - it (in `values`).
                ColumnMetric::NullCount => format!("count({c})"),
                ColumnMetric::Min => format!("CAST(min({c}) AS DOUBLE)"),
                ColumnMetric::Max => format!("CAST(max({c}) AS DOUBLE)"),
                ColumnMetric::Mean => format!("avg(CAST({c} AS DOUBLE))"),
            };
            let name = MetricRef::Column {
                func,
                column: col.to_string(),
            }
            .to_string();
            out.push((name, extra_unit(df, &Extra { sql, filter: None })));
        }
    }
    out
}

/// The values of the planned metrics (those that could be computed), with `row_count`.
pub(super) fn values(units: Vec<(String, Unit)>, rows: u64) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    out.insert("row_count".to_string(), rows as f64);
    for (name, unit) in units {
        if let Ok(v) = unit.into_value()
            && let Some(x) = as_f64(&v)
        {
            let x = if name.starts_with(ColumnMetric::NullCount.as_str()) {
                rows as f64 - x
            } else {
                x
            };
            out.insert(name, x);
        }
    }
    out
}

/// The current value of `metric`: from the results of the dataset's other checks, or its
/// dataset metrics.
pub(super) fn current(
    metric: &MetricRef,
    results: &[CheckResult],
    metrics: &BTreeMap<String, f64>,
    schema: &Schema,
) -> Result<f64, String> {
    match metric {
        MetricRef::Check(_) => {
            let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
            let name = metric.check_name(&names).unwrap_or_default();
            let r = results
                .iter()
                .find(|r| r.name == name)
                .ok_or_else(|| format!("no check `{name}` ran"))?;
            if matches!(r.status, CheckStatus::Error) {
                return Err(format!("`{name}` errored: {}", r.message));
            }
            let wanted = metric.to_string();
            r.metrics()
                .into_iter()
                .find(|(n, _)| *n == wanted)
                .map(|(_, v)| v)
                .ok_or_else(|| {
                    let fields: Vec<String> = r.metrics().into_iter().map(|(n, _)| n).collect();
                    if fields.is_empty() {
                        format!("`{name}` observed no number")
                    } else {
                        format!("`{name}` records {}", fields.join(", "))
                    }
                })
        }
        MetricRef::RowCount => metrics
            .get("row_count")
            .copied()
            .ok_or_else(|| "the dataset was not scanned".into()),
        MetricRef::Column { func, column } => {
            if let Some(v) = metrics.get(&metric.to_string()) {
                return Ok(*v);
            }
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            match schema.field_with_name(column) {
                Err(_) => Err(format!(
                    "the dataset has no column `{column}`{}; columns: {}",
                    sluice_spec::suggest::hint(column, names.iter().copied())
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default(),
                    names.join(", ")
                )),
                Ok(f) if func.numeric_only() => Err(format!(
                    "`{}` needs a numeric column; `{column}` is {}",
                    func.as_str(),
                    crate::compile::type_name(f.data_type())
                )),
                Ok(_) => Err(format!("`{metric}` is NULL (no rows)")),
            }
        }
    }
}
