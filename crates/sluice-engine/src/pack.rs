//! The forecast pack's single-dataset kinds, compiled: `interval_contains` and the wide
//! `quantiles_ordered` are row conditions in the fused scan; `completeness`, the long
//! `quantiles_ordered`, `not_constant` and `metric` with `group_by` are one grouped query
//! each ([`GroupQuery`]), run after the scan like `unique`'s.
//!
//! A grouped query's body yields one row per unit checked (a required combination, a
//! forecast group, a series) with the columns listed in samples and three more:
//! `__unit` (counts towards the units in scope), `__fail` (failing units, or failing rows
//! for completeness copies) and `__warn` (for `metric`'s warn zone). One aggregate over
//! the body gives the totals; a `LIMIT`ed select of its failing rows gives the samples.
//!
//! `completeness` builds its required grid in SQL: each key's values as a relation
//! (`VALUES` of literals cast to the column's type, or the distinct values of another
//! dataset's column), their `CROSS JOIN`, joined with the data grouped by the key:
//! a grid row without data is missing, one with `n > 1` rows has `n - 1` copies, and with
//! `extra: fail` (a `FULL JOIN`) a data key off the grid fails with its rows.

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, Weekday};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::ScalarValue;
use sluice_spec::{
    Check, CompletenessSpec, DateGrid, Frequency, GridStart, KeySource, Literal, QuantileOrder,
    Threshold,
};

use crate::compile::{
    Compiled, Eval, OwnQuery, field, ident, is_integer, is_numeric, is_string, literals,
    value_type, wrong_type,
};
use crate::error::{CheckError, CheckErrorKind as K};

/// Schemas of the other datasets a check reads: the schema, or why it cannot be read.
pub(crate) type Others<'a> = dyn Fn(&str) -> Option<Result<&'a Schema, &'a str>> + 'a;

/// A query of one row per unit checked (see the module doc).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GroupQuery {
    /// The body: the listed columns, `__unit`, `__fail`, `__warn`, plus any totals' inputs.
    pub body: String,
    /// Aggregates over the body: units in scope, failing, warning, then kind-specific ones.
    pub totals: Vec<String>,
    /// Columns shown in samples.
    pub columns: Vec<String>,
    /// `ORDER BY` of the samples.
    pub order: String,
    /// A body with more to show, for the samples only (`None`: `body`).
    pub listing_body: Option<String>,
}

impl GroupQuery {
    /// The totals query.
    pub fn totals_sql(&self) -> String {
        format!(
            "SELECT {} FROM ({}) AS \"__b\"",
            self.totals.join(", "),
            self.body
        )
    }

    /// The first `n` failing units.
    pub fn listing_sql(&self, n: u32) -> String {
        let cols = self
            .columns
            .iter()
            .map(|c| ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT {cols} FROM ({}) AS \"__b\" WHERE \"__fail\" > 0 OR \"__warn\" > 0 ORDER BY {} LIMIT {n}",
            self.listing_body.as_ref().unwrap_or(&self.body),
            self.order
        )
    }
}

const BASE_TOTALS: [&str; 3] = [
    "count(*) FILTER (WHERE \"__unit\")",
    "coalesce(sum(\"__fail\"), 0)",
    "coalesce(sum(\"__warn\"), 0)",
];

fn totals(extra: &[&str]) -> Vec<String> {
    BASE_TOTALS
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

fn idents(cols: &[String]) -> String {
    cols.iter().map(|c| ident(c)).collect::<Vec<_>>().join(", ")
}

/// `WHERE (scope)` / `WHERE (scope) AND more`, or just `WHERE more`.
fn where_sql(scope: Option<&str>, more: &[String]) -> String {
    let parts: Vec<String> = scope
        .map(|s| format!("({s})"))
        .into_iter()
        .chain(more.iter().cloned())
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", parts.join(" AND "))
    }
}

fn own(q: GroupQuery) -> Compiled {
    Compiled {
        aggs: vec!["count(*)".to_string()],
        eval: Eval::OwnInvalid,
        own: Some(OwnQuery::Groups(Box::new(q))),
        sample: None,
    }
}

fn numeric(kind: &str, schema: &Schema, dataset: &str, column: &str) -> Result<(), CheckError> {
    let f = field(schema, dataset, column)?;
    if is_numeric(f.data_type()) {
        Ok(())
    } else {
        Err(wrong_type(kind, column, "a numeric", f.data_type()))
    }
}

/// `interval_contains`: `lower <= point <= upper`, a row condition of the fused scan.
pub(crate) fn interval_contains(
    check: &Check,
    dataset: &str,
    schema: &Schema,
    cols: [&str; 3],
) -> Result<Compiled, CheckError> {
    for c in cols {
        numeric(check.kind.name(), schema, dataset, c)?;
    }
    let [l, p, u] = cols.map(ident);
    Ok(crate::compile::row_level_on(
        format!("{l} <= {p} AND {p} <= {u}"),
        cols.iter().map(|c| c.to_string()).collect(),
    ))
}

/// `value > tol` in SQL (`> 0.0` when there is no tolerance).
fn tol(t: f64) -> String {
    format!("{t:?}")
}

/// `quantiles_ordered`: wide as a row condition of the fused scan, long as a window
/// (`lag` in level order within each group) grouped per forecast.
pub(crate) fn quantiles_ordered(
    check: &Check,
    dataset: &str,
    schema: &Schema,
    q: &QuantileOrder,
) -> Result<Compiled, CheckError> {
    let kind = check.kind.name();
    match q {
        QuantileOrder::Wide { columns, tolerance } => {
            for c in columns {
                numeric(kind, schema, dataset, c)?;
            }
            let cond = columns
                .windows(2)
                .map(|w| {
                    let (a, b) = (ident(&w[0]), ident(&w[1]));
                    if *tolerance > 0.0 {
                        format!("{a} <= {b} + {}", tol(*tolerance))
                    } else {
                        format!("{a} <= {b}")
                    }
                })
                .collect::<Vec<_>>()
                .join(" AND ");
            Ok(crate::compile::row_level_on(cond, columns.clone()))
        }
        QuantileOrder::Long {
            level,
            value,
            by,
            tolerance,
        } => {
            numeric(kind, schema, dataset, value)?;
            let lf = field(schema, dataset, level)?;
            if !is_numeric(lf.data_type()) && !is_string(lf.data_type()) {
                return Err(wrong_type(
                    kind,
                    level,
                    "a numeric (or text holding numbers)",
                    lf.data_type(),
                ));
            }
            for b in by {
                field(schema, dataset, b)?;
            }
            let (lv, v) = (
                format!("CAST({} AS DOUBLE)", ident(level)),
                format!("CAST({} AS DOUBLE)", ident(value)),
            );
            let by_list = idents(by);
            let partition = if by.is_empty() {
                String::new()
            } else {
                format!("PARTITION BY {by_list} ")
            };
            let sel_by = if by.is_empty() {
                String::new()
            } else {
                format!("{by_list}, ")
            };
            let group = if by.is_empty() {
                String::new()
            } else {
                format!(" GROUP BY {by_list}")
            };
            let t = tol(*tolerance);
            let filter = where_sql(
                check.filter.as_deref(),
                &[
                    format!("{} IS NOT NULL", ident(level)),
                    format!("{} IS NOT NULL", ident(value)),
                ],
            );
            let body = format!(
                "SELECT {sel_by}count(*) AS \"levels\", max(\"__drop\") AS \"largest_decrease\", \
                 min(\"__lvl\") FILTER (WHERE \"__drop\" > {t}) AS \"decreases_at_level\", \
                 true AS \"__unit\", CASE WHEN max(\"__drop\") > {t} THEN 1 ELSE 0 END AS \"__fail\", 0 AS \"__warn\" \
                 FROM (SELECT {sel_by}{lv} AS \"__lvl\", lag({v}) OVER ({partition}ORDER BY {lv}, {v}) - {v} AS \"__drop\" \
                 FROM {table}{filter}) AS \"__w\"{group}",
                table = ident(dataset),
            );
            let mut columns = by.clone();
            columns.extend(["levels", "largest_decrease", "decreases_at_level"].map(String::from));
            let order = if by.is_empty() {
                "\"largest_decrease\" DESC".to_string()
            } else {
                format!("\"largest_decrease\" DESC, {by_list}")
            };
            // The totals without sorting the table: each group's pairs sorted on their own.
            let totals_body = format!(
                "SELECT true AS \"__unit\", CASE WHEN \"__d\" > {t} THEN 1 ELSE 0 END AS \"__fail\", 0 AS \"__warn\" \
                 FROM (SELECT {sel_by}{udaf}({lv}, {v}) AS \"__d\" FROM {table}{filter}{group}) AS \"__q\"",
                udaf = crate::quantile_order::NAME,
                table = ident(dataset),
            );
            Ok(own(GroupQuery {
                body: totals_body,
                totals: totals(&[]),
                columns,
                order,
                listing_body: Some(body),
            }))
        }
    }
}

/// `not_constant`: per series, `min = max` (or only NULLs) is constant.
pub(crate) fn not_constant(
    check: &Check,
    dataset: &str,
    schema: &Schema,
    series: &[String],
    column: &str,
) -> Result<Compiled, CheckError> {
    for c in series.iter().map(String::as_str).chain([column]) {
        field(schema, dataset, c)?;
    }
    let (s, c) = (idents(series), ident(column));
    let body = format!(
        "SELECT {s}, min({c}) AS \"value\", count(*) AS \"rows\", true AS \"__unit\", \
         CASE WHEN max({c}) IS NULL OR min({c}) = max({c}) THEN 1 ELSE 0 END AS \"__fail\", 0 AS \"__warn\" \
         FROM {table}{filter} GROUP BY {s}",
        table = ident(dataset),
        filter = where_sql(check.filter.as_deref(), &[]),
    );
    let mut columns = series.to_vec();
    columns.extend(["value", "rows"].map(String::from));
    Ok(own(GroupQuery {
        body,
        totals: totals(&[]),
        columns,
        order: s,
        listing_body: None,
    }))
}

/// SQL true when `v` is outside `t` (a `Bounds` threshold; `false` for none).
fn outside(t: Option<&Threshold>, v: &str) -> String {
    let Some(Threshold::Bounds { min, max, equals }) = t else {
        return "false".into();
    };
    let mut parts = vec![format!("{v} IS NULL"), format!("isnan({v})")];
    if let Some(m) = min {
        parts.push(format!("{v} < {}", tol(*m)));
    }
    if let Some(m) = max {
        parts.push(format!("{v} > {}", tol(*m)));
    }
    if let Some(e) = equals {
        parts.push(format!("{v} <> {}", tol(*e)));
    }
    parts.join(" OR ")
}

/// `metric` with `group_by`: the aggregate per group, each against the zones.
pub(crate) fn metric_grouped(
    check: &Check,
    dataset: &str,
    schema: &Schema,
    sql: &str,
    group_by: &[String],
) -> Result<Compiled, CheckError> {
    for g in group_by {
        field(schema, dataset, g)?;
    }
    let g = idents(group_by);
    let v = "\"value\"";
    let body = format!(
        "SELECT {g}, {v}, true AS \"__unit\", CASE WHEN {f} THEN 1 ELSE 0 END AS \"__fail\", \
         CASE WHEN {w} THEN 1 ELSE 0 END AS \"__warn\" \
         FROM (SELECT {g}, CAST(({sql}) AS DOUBLE) AS {v} FROM {table}{filter} GROUP BY {g}) AS \"__m\"",
        f = outside(check.fail.as_ref(), v),
        w = outside(check.warn.as_ref(), v),
        table = ident(dataset),
        filter = where_sql(check.filter.as_deref(), &[]),
    );
    let mut columns = group_by.to_vec();
    columns.push("value".into());
    Ok(Compiled {
        aggs: vec!["count(*)".to_string()],
        eval: Eval::GroupBounds,
        own: Some(OwnQuery::Groups(Box::new(GroupQuery {
            body,
            totals: totals(&[]),
            columns,
            order: format!("\"__fail\" DESC, \"__warn\" DESC, {g}"),
            listing_body: None,
        }))),
        sample: None,
    })
}

/// What kind of values a grid key column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Values {
    Date,
    Timestamp,
    Text,
    Integer,
    Other,
}

/// One key column of a completeness grid, checked against the schema.
#[derive(Clone, Debug, PartialEq)]
struct GridKey {
    column: String,
    /// The Arrow type grid values are cast to (the column's).
    cast: String,
    values: Values,
    /// SQL literals of its listed values (lists and ranges).
    listed: Vec<String>,
    /// Date grids.
    dates: Vec<DateGrid>,
    /// `(dataset, column)` of `from:` sources.
    from: Vec<(String, String)>,
    /// Values present in the data.
    present: bool,
}

/// A `completeness` check's grid, ready to become SQL once the fused scan has given the
/// earliest date of the grids without a `start`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Grid {
    table: String,
    scope: Option<String>,
    keys: Vec<GridKey>,
    by: Vec<String>,
    extra_fail: bool,
}

/// `completeness`: checks every column and source against the schemas; the fused scan
/// adds `min(date)` for each date grid without a `start` (then `count(*)`).
pub(crate) fn completeness(
    check: &Check,
    dataset: &str,
    schema: &Schema,
    spec: &CompletenessSpec,
    others: &Others<'_>,
) -> Result<Compiled, CheckError> {
    let kind = check.kind.name();
    let mut aggs = Vec::new();
    let mut keys = Vec::new();
    for b in &spec.by {
        field(schema, dataset, b)?;
    }
    for k in &spec.keys {
        let f = field(schema, dataset, &k.column)?;
        let dt = value_type(f.data_type());
        let values = if matches!(dt, DataType::Date32 | DataType::Date64) {
            Values::Date
        } else if matches!(dt, DataType::Timestamp(_, _)) {
            Values::Timestamp
        } else if is_string(dt) {
            Values::Text
        } else if is_integer(dt) || *dt == DataType::UInt64 {
            Values::Integer
        } else {
            Values::Other
        };
        let mut key = GridKey {
            column: k.column.clone(),
            cast: dt.to_string(),
            values,
            listed: vec![],
            dates: vec![],
            from: vec![],
            present: false,
        };
        for s in &k.sources {
            match s {
                KeySource::List(lits) => key.listed.extend(literals(kind, &k.column, lits, dt)?),
                KeySource::Range { from, to } => {
                    let lits: Vec<Literal> = (*from..=*to).map(Literal::Int).collect();
                    key.listed.extend(literals(kind, &k.column, &lits, dt)?);
                }
                KeySource::Dates(g) => {
                    let fits = matches!(
                        (values, g.frequency.is_calendar()),
                        (Values::Date | Values::Timestamp | Values::Text, true)
                            | (Values::Integer, false)
                    );
                    if !fits {
                        let need = if g.frequency.is_calendar() {
                            "a date, timestamp or text"
                        } else {
                            "an integer"
                        };
                        return Err(CheckError::column(
                            K::WrongType,
                            &k.column,
                            format!(
                                "`{kind}` frequency `{}` needs {need} column, but `{}` is {}",
                                g.frequency,
                                k.column,
                                crate::compile::type_name(dt)
                            ),
                        ));
                    }
                    if g.start.is_none() {
                        aggs.push(format!("min({})", ident(&k.column)));
                    }
                    key.dates.push(g.clone());
                }
                KeySource::From {
                    dataset: other,
                    column,
                } => {
                    let s = crate::compile::other_schema(
                        others(other),
                        other,
                        &format!("read the values of `{other}.{column}`"),
                    )?;
                    field(s, other, column)?;
                    key.from.push((other.clone(), column.clone()));
                }
                KeySource::Present => key.present = true,
            }
        }
        keys.push(key);
    }
    aggs.push("count(*)".to_string());
    Ok(Compiled {
        aggs,
        eval: Eval::OwnInvalid,
        own: Some(OwnQuery::Completeness(Box::new(Grid {
            table: dataset.to_string(),
            scope: check.filter.clone(),
            keys,
            by: spec.by.clone(),
            extra_fail: spec.extra_fail,
        }))),
        sample: None,
    })
}

/// The totals of a completeness grid without joining it: each key's values numbered
/// (`__i`), the data's rows joined with them (small tables) and their position in the grid
/// (`Σ index × stride`) counted by the duplicate bitmaps of [`crate::duplicates`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FastGrid {
    /// `SELECT count(*) FROM (relation)`, one per grid dimension, in order.
    pub sizes: Vec<String>,
    /// Builds the counting query from the sizes: `count(*)` of on-grid rows, then the
    /// bitmaps' `{distinct, duplicated, first}` (`None` when the grid is empty or too large).
    pub counting: FastCounting,
}

/// The parts of [`FastGrid`]'s counting query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FastCounting {
    table: String,
    scope: Option<String>,
    /// Per dimension: its columns and its relation.
    dims: Vec<(Vec<String>, String)>,
}

/// Largest grid the bitmaps count (2^34 bits = 2 GiB per bitmap would be absurd; this is
/// 512 MiB); larger grids use the joined query.
pub(crate) const MAX_FAST_GRID: u64 = 1 << 32;

impl FastCounting {
    /// The query for dimensions of `sizes` (`None`: empty or too large a grid).
    pub fn sql(&self, sizes: &[u64]) -> Option<String> {
        let total = sizes.iter().try_fold(1u64, |a, b| a.checked_mul(*b))?;
        if total == 0 || total > MAX_FAST_GRID {
            return None;
        }
        let mut joins = String::new();
        let mut index = Vec::new();
        let mut stride = 1u64;
        for (i, ((cols, rel), size)) in self.dims.iter().zip(sizes).enumerate().rev() {
            let x = format!("\"__x{i}\"");
            let on = cols
                .iter()
                .map(|c| format!("\"__t\".{0} = {x}.{0}", ident(c)))
                .collect::<Vec<_>>()
                .join(" AND ");
            let order = idents(cols);
            joins.push_str(&format!(
                " JOIN (SELECT {order}, CAST(row_number() OVER (ORDER BY {order}) - 1 AS BIGINT) AS \"__i\" FROM ({rel}) AS \"__r\") AS {x} ON {on}"
            ));
            index.push(format!("{x}.\"__i\" * {stride}"));
            stride *= size;
        }
        // The scope filters the table before the joins: its columns are the key columns'
        // names too, and would be ambiguous after them.
        Some(format!(
            "SELECT count(*), {}(CAST({} AS BIGINT), 0, {}, 0) FROM (SELECT * FROM {}{}) AS \"__t\"{joins}",
            crate::duplicates::NAME,
            index.join(" + "),
            total - 1,
            ident(&self.table),
            where_sql(self.scope.as_deref(), &[]),
        ))
    }
}

impl Grid {
    /// The key columns whose values come from the data present (the `by` groups, the
    /// series).
    fn present_columns(&self) -> Vec<String> {
        self.keys
            .iter()
            .filter(|k| k.present)
            .map(|k| k.column.clone())
            .collect()
    }

    /// The relations of the grid's dimensions: the `by` groups present, the series present,
    /// then each other key's values (distinct), each with its columns.
    fn dimensions(&self, fused: &[ScalarValue]) -> Result<Vec<(Vec<String>, String)>, CheckError> {
        let table = ident(&self.table);
        let scope = self.scope.as_deref();
        let mut earliest = fused.iter();
        let mut dims: Vec<(Vec<String>, String)> = Vec::new();
        let present = self.present_columns();
        let not_null = |cols: &[String]| -> Vec<String> {
            cols.iter()
                .map(|c| format!("{} IS NOT NULL", ident(c)))
                .collect()
        };
        for cols in [&self.by, &present] {
            if !cols.is_empty() {
                dims.push((
                    cols.clone(),
                    format!(
                        "SELECT DISTINCT {} FROM {table}{}",
                        idents(cols),
                        where_sql(scope, &not_null(cols))
                    ),
                ));
            }
        }
        for k in self.keys.iter().filter(|k| !k.present) {
            let col = ident(&k.column);
            let cast = |e: &str| format!("arrow_cast({e}, '{}')", k.cast);
            let mut listed = k.listed.clone();
            for g in &k.dates {
                let start = match &g.start {
                    Some(s) => s.clone(),
                    None => match earliest.next().and_then(|v| start_of(v, k.values)) {
                        Some(s) => s,
                        // No dates in the data: nothing to start from; the grid is empty.
                        None => continue,
                    },
                };
                listed.extend(
                    grid_values(&start, g, k.values)
                        .map_err(|e| CheckError::column(K::WrongValue, &k.column, e))?,
                );
            }
            let mut parts: Vec<String> = Vec::new();
            if !listed.is_empty() {
                let rows = listed
                    .iter()
                    .map(|l| format!("({l})"))
                    .collect::<Vec<_>>()
                    .join(", ");
                parts.push(format!(
                    "SELECT DISTINCT {} AS {col} FROM (VALUES {rows}) AS \"__v\"",
                    cast("\"column1\"")
                ));
            }
            for (ds, c) in &k.from {
                parts.push(format!(
                    "SELECT DISTINCT {} AS {col} FROM {} WHERE {} IS NOT NULL",
                    cast(&ident(c)),
                    ident(ds),
                    ident(c)
                ));
            }
            if parts.is_empty() {
                // An empty required set: a relation with no rows.
                parts.push(format!(
                    "SELECT {} AS {col} FROM (VALUES (NULL)) AS \"__v\" WHERE false",
                    cast("\"column1\"")
                ));
            }
            dims.push((vec![k.column.clone()], parts.join(" UNION ")));
        }
        Ok(dims)
    }

    /// Each dimension's column and relation when the whole grid is known before the scan
    /// (no `by`, no values from the data, every date grid with a `start`, no `where`):
    /// then [`crate::native`] counts it inside the scan.
    pub fn static_dimensions(&self) -> Option<Vec<(String, String)>> {
        let dated_from_data = self
            .keys
            .iter()
            .any(|k| k.dates.iter().any(|g| g.start.is_none()));
        if self.scope.is_some()
            || !self.by.is_empty()
            || self.keys.iter().any(|k| k.present)
            || dated_from_data
        {
            return None;
        }
        let dims = self.dimensions(&[]).ok()?;
        dims.into_iter()
            .map(|(mut cols, rel)| (cols.len() == 1).then(|| (cols.remove(0), rel)))
            .collect()
    }

    /// The totals without joining the grid ([`FastGrid`]).
    pub fn fast(&self, fused: &[ScalarValue]) -> Result<FastGrid, CheckError> {
        let dims = self.dimensions(fused)?;
        Ok(FastGrid {
            sizes: dims
                .iter()
                .map(|(_, r)| format!("SELECT count(*) FROM ({r}) AS \"__r\""))
                .collect(),
            counting: FastCounting {
                table: self.table.clone(),
                scope: self.scope.clone(),
                dims,
            },
        })
    }

    /// The grouped query, with the earliest dates from the fused scan (`fused`, in the
    /// order of the grids without a `start`).
    pub fn query(&self, fused: &[ScalarValue]) -> Result<GroupQuery, CheckError> {
        let table = ident(&self.table);
        let relations: Vec<String> = self
            .dimensions(fused)?
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        let present = self.present_columns();
        let scope = self.scope.as_deref();
        let grid = relations
            .iter()
            .enumerate()
            .map(|(i, r)| format!("({r}) AS \"__k{i}\""))
            .collect::<Vec<_>>()
            .join(" CROSS JOIN ");
        let mut cols: Vec<String> = self.by.clone();
        cols.extend(present.iter().cloned());
        cols.extend(
            self.keys
                .iter()
                .filter(|k| !k.present)
                .map(|k| k.column.clone()),
        );
        let all = idents(&cols);
        let on = cols
            .iter()
            .map(|c| format!("\"__g\".{0} = \"__d\".{0}", ident(c)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let select = cols
            .iter()
            .map(|c| format!("coalesce(\"__g\".{0}, \"__d\".{0}) AS {0}", ident(c)))
            .collect::<Vec<_>>()
            .join(", ");
        let join = if self.extra_fail { "FULL" } else { "LEFT" };
        let body = format!(
            "SELECT {select}, \
             CASE WHEN \"__g\".\"__on\" IS NULL THEN 'extra' WHEN \"__d\".\"__n\" IS NULL THEN 'missing' WHEN \"__d\".\"__n\" > 1 THEN 'duplicated' ELSE 'ok' END AS \"problem\", \
             coalesce(\"__d\".\"__n\", 0) AS \"rows\", \
             \"__g\".\"__on\" IS NOT NULL AS \"__unit\", \
             CASE WHEN \"__g\".\"__on\" IS NULL THEN \"__d\".\"__n\" WHEN \"__d\".\"__n\" IS NULL THEN 1 ELSE \"__d\".\"__n\" - 1 END AS \"__fail\", \
             0 AS \"__warn\" \
             FROM (SELECT *, true AS \"__on\" FROM {grid}) AS \"__g\" \
             {join} JOIN (SELECT {all}, count(*) AS \"__n\" FROM {table}{filter} GROUP BY {all}) AS \"__d\" ON {on}",
            filter = where_sql(scope, &[]),
        );
        let mut columns = cols.clone();
        columns.extend(["problem", "rows"].map(String::from));
        Ok(GroupQuery {
            body,
            totals: totals(&[
                "count(*) FILTER (WHERE \"problem\" = 'missing')",
                "coalesce(sum(\"__fail\") FILTER (WHERE \"problem\" = 'duplicated'), 0)",
                "coalesce(sum(\"__fail\") FILTER (WHERE \"problem\" = 'extra'), 0)",
            ]),
            columns,
            order: format!(
                "CASE \"problem\" WHEN 'missing' THEN 0 WHEN 'duplicated' THEN 1 ELSE 2 END, {all}"
            ),
            listing_body: None,
        })
    }
}

/// A grid start from the data's earliest value.
fn start_of(v: &ScalarValue, values: Values) -> Option<GridStart> {
    if values == Values::Integer {
        return crate::values::as_i64(v).map(GridStart::Int);
    }
    if let ScalarValue::Utf8(Some(s))
    | ScalarValue::LargeUtf8(Some(s))
    | ScalarValue::Utf8View(Some(s)) = v
    {
        return Some(GridStart::Date(s.clone()));
    }
    let at = crate::values::as_instant(v)?;
    Some(GridStart::Date(
        at.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string(),
    ))
}

fn parse_start(s: &str) -> Result<NaiveDateTime, String> {
    let t = s.trim();
    let formats = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ];
    for f in formats {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(d);
        }
    }
    NaiveDate::parse_from_str(t.get(..10).unwrap_or(t), "%Y-%m-%d")
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .map_err(|_| format!("the grid start `{t}` is not a date"))
}

/// The dates of a grid as SQL literals for a column holding `values`.
fn grid_values(start: &GridStart, g: &DateGrid, values: Values) -> Result<Vec<String>, String> {
    let n = g.horizon as i64;
    match (start, g.frequency) {
        (GridStart::Int(s), Frequency::Steps(step)) => (0..n)
            .map(|k| {
                s.checked_add(k.checked_mul(step).ok_or("the grid overflows")?)
                    .map(|v| v.to_string())
                    .ok_or_else(|| "the grid overflows".to_string())
            })
            .collect(),
        (GridStart::Date(s), f) if f.is_calendar() => {
            let start = parse_start(s)?;
            let dates = calendar(start, f, n)?;
            let with_time =
                values != Values::Date && dates.iter().any(|d| d.time() != chrono::NaiveTime::MIN);
            Ok(dates
                .iter()
                .map(|d| {
                    let text = if with_time {
                        let sep = if values == Values::Text { ' ' } else { 'T' };
                        d.format(&format!("%Y-%m-%d{sep}%H:%M:%S")).to_string()
                    } else {
                        d.format("%Y-%m-%d").to_string()
                    };
                    format!("'{text}'")
                })
                .collect())
        }
        (s, f) => Err(format!("the grid start `{s}` does not fit frequency `{f}`")),
    }
}

/// `n` steps of `f` from `start`: each computed from the start (month ends clamp).
fn calendar(start: NaiveDateTime, f: Frequency, n: i64) -> Result<Vec<NaiveDateTime>, String> {
    let overflow = || "the grid runs past the calendar".to_string();
    match f {
        Frequency::Seconds(s) => (0..n)
            .map(|k| {
                Duration::try_seconds(s as i64 * k)
                    .and_then(|d| start.checked_add_signed(d))
                    .ok_or_else(overflow)
            })
            .collect(),
        Frequency::Months(m) => (0..n)
            .map(|k| {
                u32::try_from(k * m as i64)
                    .ok()
                    .and_then(|months| start.checked_add_months(Months::new(months)))
                    .ok_or_else(overflow)
            })
            .collect(),
        Frequency::BusinessDays(step) => {
            let weekend = |d: &NaiveDateTime| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
            let next =
                |d: NaiveDateTime| d.checked_add_signed(Duration::days(1)).ok_or_else(overflow);
            let mut d = start;
            while weekend(&d) {
                d = next(d)?;
            }
            let mut out = vec![d];
            while (out.len() as i64) < n {
                let mut left = step;
                while left > 0 {
                    d = next(d)?;
                    if !weekend(&d) {
                        left -= 1;
                    }
                }
                out.push(d);
            }
            Ok(out)
        }
        Frequency::Steps(_) => Err("an integer step on a date grid".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(start: &str, f: &str, n: u32) -> Vec<String> {
        let g = DateGrid {
            start: None,
            horizon: n,
            frequency: Frequency::parse(f).unwrap(),
        };
        grid_values(&GridStart::Date(start.into()), &g, Values::Date).unwrap()
    }

    #[test]
    fn calendar_steps() {
        assert_eq!(
            dates("2026-12-30", "1d", 3),
            ["'2026-12-30'", "'2026-12-31'", "'2027-01-01'"]
        );
        assert_eq!(
            dates("2026-01-31", "1mo", 3),
            ["'2026-01-31'", "'2026-02-28'", "'2026-03-31'"]
        );
        assert_eq!(
            dates("2026-01-15", "1q", 2),
            ["'2026-01-15'", "'2026-04-15'"]
        );
        assert_eq!(
            dates("2024-02-29", "1y", 2),
            ["'2024-02-29'", "'2025-02-28'"]
        );
        // 2026-12-04 is a Friday; a Saturday start rolls to Monday.
        assert_eq!(
            dates("2026-12-04", "1bd", 3),
            ["'2026-12-04'", "'2026-12-07'", "'2026-12-08'"]
        );
        assert_eq!(dates("2026-12-05", "1bd", 1), ["'2026-12-07'"]);
        assert_eq!(
            dates("2026-12-01", "1w", 2),
            ["'2026-12-01'", "'2026-12-08'"]
        );
        let g = DateGrid {
            start: None,
            horizon: 2,
            frequency: Frequency::parse("6h").unwrap(),
        };
        assert_eq!(
            grid_values(&GridStart::Date("2026-12-01".into()), &g, Values::Timestamp).unwrap(),
            ["'2026-12-01T00:00:00'", "'2026-12-01T06:00:00'"]
        );
        let g = DateGrid {
            start: None,
            horizon: 3,
            frequency: Frequency::Steps(7),
        };
        assert_eq!(
            grid_values(&GridStart::Int(1), &g, Values::Integer).unwrap(),
            ["1", "8", "15"]
        );
    }
}
