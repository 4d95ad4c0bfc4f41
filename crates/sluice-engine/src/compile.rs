//! Checks -> SQL: the aggregate expressions each check adds to its dataset's one fused
//! scan, the query it needs of its own (if any), and how to fetch its failing samples.
//!
//! | kind | in the fused scan | own query |
//! | --- | --- | --- |
//! | `row_count` | `count(*)` | |
//! | `not_null`, `accepted_values`, `forbidden_values`, `range`, `matches`, `format`, `length`, `rows_satisfy` | `count(*) FILTER (WHERE NOT cond)` | |
//! | `unique` | rows with a non-NULL key; `min`, `max` of an integer key | integer key: a bitmap over `[min, max]` ([`crate::duplicates`]); else `GROUP BY` the key `HAVING count(*) > 1` |
//! | `freshness` | `max(c)` | |
//! | `metric` | the user's aggregate | |
//! | `references` | | anti-join with the referenced dataset |
//! | `schema` | (reads the schema only) | |
//! | `distribution`, `within_history`, `change_vs_published`, `forecast_accuracy` | `count(*)` | joins, `GROUP BY`s and window functions over both tables ([`crate::compare`]) |
//! | `interval_contains`, `quantiles_ordered` (wide) | `count(*) FILTER (WHERE NOT cond)` | |
//! | `quantiles_ordered` (long), `not_constant`, `metric` with `group_by` | | one grouped query ([`crate::pack`]) |
//! | `completeness` | `min(date)` of grids without a `start` | the grid joined with the grouped data ([`crate::pack`]) |
//!
//! `unique` runs its own query because DataFusion evaluates `count(DISTINCT c)` inside an
//! ungrouped aggregate by merging every partition's hash set on one thread: on 5 million
//! ids that took 1.8 s and 220 MB. For an integer key whose range is at most 64 values per
//! row, a second scan with two bitmaps finds the duplicates exactly in 625 KB (5 million
//! dense ids); otherwise a hash-repartitioned `GROUP BY ... HAVING count(*) > 1` (0.34 s,
//! ~300 MB on the same ids) returns the duplicated values with their counts.
//!
//! A check's `where:` is added as a `FILTER (WHERE ...)` to each of its aggregates (see
//! `dataset.rs`), so scoped checks share the scan too. Columns are checked against the
//! schema first: a missing column or an unusable type makes that check `error` and keeps
//! it out of the scan.

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use sluice_spec::suggest::hint;

use crate::error::{CheckError, CheckErrorKind as K};
use crate::pack::{self, Others};
use sluice_spec::{Check, CheckKind, ColumnType, Literal, SchemaSpec};

/// How a check is evaluated.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Compiled {
    /// Aggregate SQL expressions added to the fused scan (before `where:` scoping).
    pub aggs: Vec<String>,
    /// What the check's aggregates (or own query) mean.
    pub eval: Eval,
    /// A query the check needs besides the fused scan.
    pub own: Option<OwnQuery>,
    /// How to fetch failing rows when it fails.
    pub sample: Option<Sample>,
}

/// What the values of a check's aggregates mean.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Eval {
    /// `aggs[0]` is a row count.
    RowCount,
    /// `aggs[0]` counts failing rows; `aggs[1]` counts rows in scope (scan total if absent).
    Invalid,
    /// The own query finds the duplicated values; `aggs[0]` = rows with no NULL in the key,
    /// then `min` and `max` of an integer key (when `dense`), last the rows in scope.
    Duplicates,
    /// The own query returns failing rows; `aggs[0]` counts rows in scope.
    OwnInvalid,
    /// `aggs[0]` is the newest value.
    Freshness,
    /// `aggs[0]` is the metric.
    Metric,
    /// `metric` with `group_by`: the own query counts the groups outside each zone.
    GroupBounds,
    /// Nothing to query: the mismatches between the schema and the spec.
    Schema(Vec<String>),
    /// Nothing to query: judged after the other checks ([`crate::history`]).
    History,
    /// A comparison with another dataset or the published version ([`crate::compare`]):
    /// its own queries measure it; `aggs[0]` counts rows in scope.
    Compared,
}

/// A query a check runs besides the fused scan.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum OwnQuery {
    /// Values of a column or a composite key that occur more than once: a parallel
    /// `GROUP BY key HAVING count(*) > 1`, returning the totals and the most repeated values.
    Duplicates {
        /// Unquoted key columns.
        columns: Vec<String>,
        /// One integer column: try the bitmap of `duplicates.rs` before a `GROUP BY`.
        dense: bool,
        /// `nulls: equal`: NULL is a value of the key.
        nulls_equal: bool,
    },
    /// One row per unit checked (a group, a series, a required combination): the
    /// forecast pack's grouped checks ([`crate::pack`]).
    Groups(Box<crate::pack::GroupQuery>),
    /// `completeness`: a [`crate::pack::GroupQuery`] once the fused scan gave the start dates.
    Completeness(Box<crate::pack::Grid>),
    /// Rows whose value is missing from the referenced dataset: an anti-join.
    References {
        /// The child column, unquoted.
        column: String,
        /// The referenced dataset.
        dataset: String,
        /// Its key column, unquoted.
        key: String,
    },
    /// The queries of a comparison check ([`crate::compare`]).
    Compared,
}

/// How to fetch a failing check's sample rows.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Sample {
    /// Rows where `predicate` (SQL) holds, with these columns (unquoted).
    Rows {
        /// The failing-row predicate.
        predicate: String,
        /// Columns to show besides the dataset's key.
        columns: Vec<String>,
        /// Also show the columns this SQL refers to (`rows_satisfy`).
        refs_from: Option<String>,
    },
    /// Rows of the own `references` anti-join.
    Orphans,
}

/// Double-quotes an identifier for DataFusion SQL.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A column's type as people say it: `int64`, `string`, `timestamp(us)`.
pub fn type_name(dt: &DataType) -> String {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(unit, tz) => {
            let u = match unit {
                datafusion::arrow::datatypes::TimeUnit::Second => "s",
                datafusion::arrow::datatypes::TimeUnit::Millisecond => "ms",
                datafusion::arrow::datatypes::TimeUnit::Microsecond => "us",
                datafusion::arrow::datatypes::TimeUnit::Nanosecond => "ns",
            };
            match tz {
                Some(tz) => format!("timestamptz({u}, {tz})"),
                None => format!("timestamp({u})"),
            }
        }
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::Dictionary(_, v) => type_name(v),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary".into(),
        other => other.to_string().to_lowercase(),
    }
}

pub(crate) fn value_type(dt: &DataType) -> &DataType {
    match dt {
        DataType::Dictionary(_, v) => value_type(v),
        other => other,
    }
}

pub(crate) fn is_string(dt: &DataType) -> bool {
    matches!(
        value_type(dt),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

pub(crate) fn is_temporal(dt: &DataType) -> bool {
    matches!(
        value_type(dt),
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
    )
}

/// Integer types whose values fit in an i64.
pub(crate) fn is_integer(dt: &DataType) -> bool {
    matches!(
        value_type(dt),
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
    )
}

pub(crate) fn is_numeric(dt: &DataType) -> bool {
    let dt = value_type(dt);
    dt.is_numeric()
}

/// Whether a column of type `dt` satisfies a `schema` check's `t`.
pub fn type_matches(t: &ColumnType, dt: &DataType) -> bool {
    let dt = value_type(dt);
    match t {
        ColumnType::Any => true,
        ColumnType::Int(8) => *dt == DataType::Int8,
        ColumnType::Int(16) => *dt == DataType::Int16,
        ColumnType::Int(32) => *dt == DataType::Int32,
        ColumnType::Int(_) => *dt == DataType::Int64,
        ColumnType::UInt(8) => *dt == DataType::UInt8,
        ColumnType::UInt(16) => *dt == DataType::UInt16,
        ColumnType::UInt(32) => *dt == DataType::UInt32,
        ColumnType::UInt(_) => *dt == DataType::UInt64,
        ColumnType::Float(16) => *dt == DataType::Float16,
        ColumnType::Float(32) => *dt == DataType::Float32,
        ColumnType::Float(_) => *dt == DataType::Float64,
        ColumnType::Decimal(None) => {
            matches!(dt, DataType::Decimal128(..) | DataType::Decimal256(..))
        }
        ColumnType::Decimal(Some((p, s))) => {
            matches!(dt, DataType::Decimal128(dp, ds) | DataType::Decimal256(dp, ds) if dp == p && ds == s)
        }
        ColumnType::String => is_string(dt),
        ColumnType::Boolean => *dt == DataType::Boolean,
        ColumnType::Date => matches!(dt, DataType::Date32 | DataType::Date64),
        ColumnType::Timestamp => matches!(dt, DataType::Timestamp(_, None)),
        ColumnType::TimestampTz => matches!(dt, DataType::Timestamp(_, Some(_))),
        ColumnType::Time => matches!(dt, DataType::Time32(_) | DataType::Time64(_)),
        ColumnType::Binary => matches!(
            dt,
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView
        ),
    }
}

/// The dataset's columns for an error message: `a (int64), b (string), ...`.
pub fn describe_columns(schema: &Schema) -> String {
    const MAX: usize = 30;
    let fields = schema.fields();
    let mut parts: Vec<String> = fields
        .iter()
        .take(MAX)
        .map(|f| format!("{} ({})", f.name(), type_name(f.data_type())))
        .collect();
    if fields.len() > MAX {
        parts.push(format!("and {} more", fields.len() - MAX));
    }
    parts.join(", ")
}

/// Looks a column up; the error says what exists and what was probably meant.
pub fn field<'a>(schema: &'a Schema, dataset: &str, name: &str) -> Result<&'a Field, CheckError> {
    if let Ok(f) = schema.field_with_name(name) {
        return Ok(f);
    }
    let names = schema.fields().iter().map(|f| f.name().as_str());
    let hint = match hint(name, names) {
        Some(h) => format!("; {h}"),
        None => ".".to_string(),
    };
    Err(CheckError::column(
        K::MissingColumn,
        name,
        format!(
            "column `{name}` not found in `{dataset}`{hint} Its columns: {}",
            describe_columns(schema)
        ),
    ))
}

pub(crate) fn wrong_type(kind: &str, column: &str, need: &str, dt: &DataType) -> CheckError {
    CheckError::column(
        K::WrongType,
        column,
        format!(
            "`{kind}` needs {need} column, but `{column}` is {}",
            type_name(dt)
        ),
    )
}

/// Values rendered as SQL literals fitting a column of type `dt`.
pub(crate) fn literals(
    kind: &str,
    column: &str,
    values: &[Literal],
    dt: &DataType,
) -> Result<Vec<String>, CheckError> {
    values
        .iter()
        .map(|v| {
            let numeric_col = is_numeric(dt);
            match v {
                Literal::Int(_) | Literal::Float(_) if numeric_col => Ok(v.to_sql()),
                // A string column compared with numbers: compare with their text.
                Literal::Int(_) | Literal::Float(_) if is_string(dt) => {
                    Ok(Literal::Str(v.to_string()).to_sql())
                }
                Literal::Bool(_) if *value_type(dt) == DataType::Boolean => Ok(v.to_sql()),
                Literal::Str(_) if !numeric_col && *value_type(dt) != DataType::Boolean => {
                    Ok(v.to_sql())
                }
                _ => Err(CheckError::column(
                    K::WrongValue,
                    column,
                    format!(
                        "`{kind}` value {v} does not fit column `{column}` of type {}",
                        type_name(dt)
                    ),
                )),
            }
        })
        .collect()
}

/// What compiling one check needs: the check, its dataset's name and schema.
struct Cx<'a> {
    check: &'a Check,
    dataset: &'a str,
    schema: &'a Schema,
}

impl Cx<'_> {
    fn kind(&self) -> &'static str {
        self.check.kind.name()
    }

    fn field(&self, column: &str) -> Result<&Field, CheckError> {
        field(self.schema, self.dataset, column)
    }

    /// The column, which must hold strings.
    fn string_column(&self, column: &str) -> Result<(), CheckError> {
        let f = self.field(column)?;
        if is_string(f.data_type()) {
            Ok(())
        } else {
            Err(wrong_type(self.kind(), column, "a string", f.data_type()))
        }
    }
}

/// A row-level check: `cond` is what a valid row satisfies (NULL counts as valid); it
/// counts the rows where it does not hold, and samples them with `column`.
fn row_level(cond: String, column: &str) -> Compiled {
    row_level_on(cond, vec![column.to_string()])
}

/// A row-level check over several columns: as [`row_level`], sampled with `columns`.
pub(crate) fn row_level_on(cond: String, columns: Vec<String>) -> Compiled {
    Compiled {
        aggs: vec![
            format!("count(*) FILTER (WHERE NOT ({cond}))"),
            "count(*)".to_string(),
        ],
        eval: Eval::Invalid,
        own: None,
        sample: Some(Sample::Rows {
            predicate: format!("NOT ({cond})"),
            columns,
            refs_from: None,
        }),
    }
}

/// Compiles `check` against the dataset's schema. `others` gives the schema of another
/// dataset a check reads (`references`, `completeness`'s `from:`), or why it could not be
/// read. One function per kind; the table at the top of this module says what each adds
/// to the fused scan.
pub(crate) fn compile(
    check: &Check,
    dataset: &str,
    schema: &Schema,
    others: &Others<'_>,
) -> Result<Compiled, CheckError> {
    use CheckKind::*;
    let cx = Cx {
        check,
        dataset,
        schema,
    };
    match &check.kind {
        RowCount => Ok(Compiled {
            aggs: vec!["count(*)".to_string()],
            eval: Eval::RowCount,
            own: None,
            sample: None,
        }),
        NotNull { column } => {
            cx.field(column)?;
            Ok(row_level(format!("{} IS NOT NULL", ident(column)), column))
        }
        Unique {
            columns,
            nulls_equal,
        } => unique(&cx, columns, *nulls_equal),
        AcceptedValues { column, values } => value_list(&cx, column, values, false),
        ForbiddenValues { column, values } => value_list(&cx, column, values, true),
        Range {
            column,
            min,
            max,
            inclusive,
        } => range(&cx, column, min.as_ref(), max.as_ref(), *inclusive),
        Matches { column, regex } => {
            cx.string_column(column)?;
            Ok(row_level(regexp_like(column, regex), column))
        }
        Format { column, format } => {
            cx.string_column(column)?;
            Ok(row_level(regexp_like(column, format.regex()), column))
        }
        Length { column, min, max } => length(&cx, column, *min, *max),
        Freshness { column } => freshness(&cx, column),
        Schema(spec) => Ok(Compiled {
            aggs: vec![],
            eval: Eval::Schema(schema_problems(spec, schema)),
            own: None,
            sample: None,
        }),
        RowsSatisfy { condition } => Ok(Compiled {
            aggs: vec![
                format!("count(*) FILTER (WHERE NOT ({condition}))"),
                "count(*)".to_string(),
            ],
            eval: Eval::Invalid,
            own: None,
            sample: Some(Sample::Rows {
                predicate: format!("NOT ({condition})"),
                columns: vec![],
                refs_from: Some(condition.clone()),
            }),
        }),
        Metric { sql, group_by } if !group_by.is_empty() => {
            pack::metric_grouped(check, dataset, schema, sql, group_by)
        }
        Metric { sql, .. } => Ok(Compiled {
            aggs: vec![format!("CAST(({sql}) AS DOUBLE)")],
            eval: Eval::Metric,
            own: None,
            sample: None,
        }),
        References {
            column,
            dataset: target,
            key,
        } => references(&cx, column, target, key, others(target)),
        Completeness(spec) => pack::completeness(check, dataset, schema, spec, others),
        QuantilesOrdered(q) => pack::quantiles_ordered(check, dataset, schema, q),
        NotConstant { series, column } => {
            pack::not_constant(check, dataset, schema, series, column)
        }
        IntervalContains {
            lower,
            point,
            upper,
        } => pack::interval_contains(check, dataset, schema, [lower, point, upper]),
        // Judged after the other checks, from their values and the run's history.
        Change { .. } | Anomaly(_) => Ok(Compiled {
            aggs: vec![],
            eval: Eval::History,
            own: None,
            sample: None,
        }),
        Distribution(_) | WithinHistory(_) | ChangeVsPublished(_) | ForecastAccuracy(_) => {
            let parent = crate::compare::other_table(check, dataset).and_then(|n| others(&n));
            crate::compare::validate(check, dataset, schema, parent)?;
            Ok(Compiled {
                aggs: vec!["count(*)".to_string()],
                eval: Eval::Compared,
                own: Some(OwnQuery::Compared),
                sample: None,
            })
        }
    }
}

fn regexp_like(column: &str, regex: &str) -> String {
    format!(
        "{}({}, {})",
        crate::regex_like::REGEXP_LIKE,
        ident(column),
        Literal::Str(regex.to_string()).to_sql()
    )
}

/// `unique`: rows with a complete key (and `min`/`max` of one integer key, for the
/// bitmaps) in the fused scan; the duplicates by an own query.
fn unique(cx: &Cx<'_>, columns: &[String], nulls_equal: bool) -> Result<Compiled, CheckError> {
    let mut dense = false;
    for c in columns {
        dense = is_integer(cx.field(c)?.data_type());
    }
    // The bitmaps have no bit for NULL: with `nulls: equal` the key is grouped.
    let dense = dense && columns.len() == 1 && !nulls_equal;
    let not_null = columns
        .iter()
        .map(|c| format!("{} IS NOT NULL", ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let mut aggs = vec![if nulls_equal {
        "count(*)".to_string()
    } else {
        format!("count(*) FILTER (WHERE {not_null})")
    }];
    if dense {
        aggs.push(format!("min({})", ident(&columns[0])));
        aggs.push(format!("max({})", ident(&columns[0])));
    }
    aggs.push("count(*)".to_string());
    Ok(Compiled {
        aggs,
        eval: Eval::Duplicates,
        own: Some(OwnQuery::Duplicates {
            columns: columns.to_vec(),
            dense,
            nulls_equal,
        }),
        sample: None,
    })
}

/// `accepted_values` (`forbidden` false) and `forbidden_values`.
fn value_list(
    cx: &Cx<'_>,
    column: &str,
    values: &[Literal],
    forbidden: bool,
) -> Result<Compiled, CheckError> {
    let f = cx.field(column)?;
    let lits = literals(cx.kind(), column, values, f.data_type())?;
    let not = if forbidden { "NOT " } else { "" };
    Ok(row_level(
        format!("{} {not}IN ({})", ident(column), lits.join(", ")),
        column,
    ))
}

/// `range`: numbers for numeric columns, quoted dates/timestamps for temporal ones.
fn range(
    cx: &Cx<'_>,
    column: &str,
    min: Option<&Literal>,
    max: Option<&Literal>,
    inclusive: bool,
) -> Result<Compiled, CheckError> {
    let f = cx.field(column)?;
    let dt = f.data_type();
    for b in min.iter().chain(max.iter()) {
        let ok = match b {
            Literal::Int(_) | Literal::Float(_) => is_numeric(dt),
            Literal::Str(_) => is_temporal(dt) || is_string(dt),
            Literal::Bool(_) => false,
        };
        if !ok {
            return Err(CheckError::column(
                K::WrongValue,
                column,
                format!(
                    "`range` bound {b} does not fit column `{column}` of type {}; use numbers for numeric columns and quoted dates/timestamps for date columns",
                    type_name(dt)
                ),
            ));
        }
    }
    let (ge, le) = if inclusive { (">=", "<=") } else { (">", "<") };
    let col = ident(column);
    let mut parts = Vec::new();
    if let Some(lo) = min {
        parts.push(format!("{col} {ge} {}", lo.to_sql()));
    }
    if let Some(hi) = max {
        parts.push(format!("{col} {le} {}", hi.to_sql()));
    }
    Ok(row_level(parts.join(" AND "), column))
}

/// `length`: characters of a string column within bounds.
fn length(
    cx: &Cx<'_>,
    column: &str,
    min: Option<u64>,
    max: Option<u64>,
) -> Result<Compiled, CheckError> {
    cx.string_column(column)?;
    let len = format!("character_length({})", ident(column));
    let mut parts = Vec::new();
    if let Some(lo) = min {
        parts.push(format!("{len} >= {lo}"));
    }
    if let Some(hi) = max {
        parts.push(format!("{len} <= {hi}"));
    }
    Ok(row_level(parts.join(" AND "), column))
}

/// `freshness`: the newest value of a date or timestamp column.
fn freshness(cx: &Cx<'_>, column: &str) -> Result<Compiled, CheckError> {
    let f = cx.field(column)?;
    if !is_temporal(f.data_type()) {
        return Err(wrong_type(
            cx.kind(),
            column,
            "a date or timestamp",
            f.data_type(),
        ));
    }
    Ok(Compiled {
        aggs: vec![format!("max({})", ident(column))],
        eval: Eval::Freshness,
        own: None,
        sample: None,
    })
}

/// `references`: the referenced key must be readable and comparable; the orphans come
/// from an anti-join of its own.
/// The schema of another dataset a check reads, from the lookup's answer; `doing` says what
/// for, in the error when it cannot be read (`check references to `customers``).
pub(crate) fn other_schema<'a>(
    lookup: Option<Result<&'a Schema, &str>>,
    dataset: &str,
    doing: &str,
) -> Result<&'a Schema, CheckError> {
    match lookup {
        Some(Ok(s)) => Ok(s),
        Some(Err(why)) => Err(CheckError::new(
            K::Comparison,
            format!("cannot {doing}: {why}"),
        )),
        None => Err(CheckError::new(
            K::Comparison,
            format!("dataset `{dataset}` is not available"),
        )),
    }
}

fn references(
    cx: &Cx<'_>,
    column: &str,
    target: &str,
    target_key: &str,
    parent: Option<Result<&Schema, &str>>,
) -> Result<Compiled, CheckError> {
    let f = cx.field(column)?;
    let parent = other_schema(parent, target, &format!("check references to `{target}`"))?;
    let pf = field(parent, target, target_key)?;
    let (a, b) = (value_type(f.data_type()), value_type(pf.data_type()));
    let comparable = a == b
        || (is_numeric(a) && is_numeric(b))
        || (is_string(a) && is_string(b))
        || (is_temporal(a) && is_temporal(b));
    if !comparable {
        return Err(CheckError::column(
            K::Comparison,
            column,
            format!(
                "`{column}` ({}) cannot be compared with `{target}.{target_key}` ({})",
                type_name(a),
                type_name(b)
            ),
        ));
    }
    Ok(Compiled {
        aggs: vec!["count(*)".to_string()],
        eval: Eval::OwnInvalid,
        own: Some(OwnQuery::References {
            column: column.to_string(),
            dataset: target.to_string(),
            key: target_key.to_string(),
        }),
        sample: Some(Sample::Orphans),
    })
}

/// Differences between the data's schema and a `schema` check.
fn schema_problems(spec: &SchemaSpec, schema: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, t) in &spec.columns {
        match schema.field_with_name(name) {
            Err(_) => {
                let names = schema.fields().iter().map(|f| f.name().as_str());
                let hint = match hint(name, names) {
                    Some(h) => format!(" ({h})"),
                    None => String::new(),
                };
                problems.push(format!("missing column `{name}`{hint}"));
            }
            Ok(f) if !type_matches(t, f.data_type()) => problems.push(format!(
                "`{name}` is {}, expected {t}",
                type_name(f.data_type())
            )),
            Ok(_) => {}
        }
    }
    for name in &spec.forbidden {
        if schema.field_with_name(name).is_ok() {
            problems.push(format!("forbidden column `{name}` is present"));
        }
    }
    if !spec.allow_extra {
        for f in schema.fields() {
            if !spec.columns.iter().any(|(n, _)| n == f.name()) {
                problems.push(format!("unexpected column `{}`", f.name()));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::TimeUnit;
    use sluice_spec::{Severity, Span, TextFormat, Threshold};

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("order_id", DataType::Int64, false),
            Field::new("status", DataType::Utf8View, true),
            Field::new("amount", DataType::Float64, true),
            Field::new(
                "created_at",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                true,
            ),
            Field::new("weird \"col\"", DataType::Utf8, true),
        ])
    }

    fn check(kind: CheckKind) -> Check {
        Check {
            name: "c".into(),
            kind,
            severity: Severity::Error,
            filter: None,
            samples: 5,
            fail: Some(Threshold::Invalid {
                max_count: Some(0),
                max_pct: None,
            }),
            warn: None,
            after: vec![],
            span: Span::default(),
        }
    }

    fn aggs(kind: CheckKind) -> Vec<String> {
        compile(&check(kind), "orders", &schema(), &|_| None)
            .unwrap()
            .aggs
    }

    fn err(kind: CheckKind) -> String {
        compile(&check(kind), "orders", &schema(), &|_| None)
            .unwrap_err()
            .message
    }

    #[test]
    fn row_count_and_not_null() {
        assert_eq!(aggs(CheckKind::RowCount), ["count(*)"]);
        assert_eq!(
            aggs(CheckKind::NotNull {
                column: "weird \"col\"".into()
            }),
            [
                "count(*) FILTER (WHERE NOT (\"weird \"\"col\"\"\" IS NOT NULL))",
                "count(*)"
            ]
        );
    }

    #[test]
    fn unique_is_an_own_query_dense_for_integer_keys() {
        let c = compile(
            &check(CheckKind::Unique {
                columns: vec!["order_id".into()],
                nulls_equal: false,
            }),
            "o",
            &schema(),
            &|_| None,
        )
        .unwrap();
        assert_eq!(c.eval, Eval::Duplicates);
        assert_eq!(
            c.own,
            Some(OwnQuery::Duplicates {
                columns: vec!["order_id".into()],
                dense: true,
                nulls_equal: false
            })
        );
        assert_eq!(
            c.aggs,
            [
                "count(*) FILTER (WHERE \"order_id\" IS NOT NULL)",
                "min(\"order_id\")",
                "max(\"order_id\")",
                "count(*)"
            ]
        );
        let c = compile(
            &check(CheckKind::Unique {
                columns: vec!["status".into()],
                nulls_equal: false,
            }),
            "o",
            &schema(),
            &|_| None,
        )
        .unwrap();
        assert_eq!(
            c.own,
            Some(OwnQuery::Duplicates {
                columns: vec!["status".into()],
                dense: false,
                nulls_equal: false
            })
        );
        let c = compile(
            &check(CheckKind::Unique {
                columns: vec!["order_id".into(), "status".into()],
                nulls_equal: false,
            }),
            "o",
            &schema(),
            &|_| None,
        )
        .unwrap();
        assert_eq!(
            c.own,
            Some(OwnQuery::Duplicates {
                columns: vec!["order_id".into(), "status".into()],
                dense: false,
                nulls_equal: false
            })
        );
        assert_eq!(
            c.aggs,
            [
                "count(*) FILTER (WHERE \"order_id\" IS NOT NULL AND \"status\" IS NOT NULL)",
                "count(*)"
            ]
        );
    }

    #[test]
    fn value_lists_fit_the_column_type() {
        assert_eq!(
            aggs(CheckKind::AcceptedValues {
                column: "status".into(),
                values: vec![Literal::Str("paid".into()), Literal::Str("o'k".into())]
            })[0],
            "count(*) FILTER (WHERE NOT (\"status\" IN ('paid', 'o''k')))"
        );
        assert_eq!(
            aggs(CheckKind::ForbiddenValues {
                column: "amount".into(),
                values: vec![Literal::Int(-1)]
            })[0],
            "count(*) FILTER (WHERE NOT (\"amount\" NOT IN (-1)))"
        );
        let e = err(CheckKind::AcceptedValues {
            column: "amount".into(),
            values: vec![Literal::Str("x".into())],
        });
        assert_eq!(
            e,
            "`accepted_values` value 'x' does not fit column `amount` of type float64"
        );
    }

    #[test]
    fn range_matches_format_length_freshness_metric() {
        assert_eq!(
            aggs(CheckKind::Range {
                column: "amount".into(),
                min: Some(Literal::Int(0)),
                max: Some(Literal::Float(1e5)),
                inclusive: false
            })[0],
            "count(*) FILTER (WHERE NOT (\"amount\" > 0 AND \"amount\" < 100000.0))"
        );
        assert_eq!(
            aggs(CheckKind::Range {
                column: "created_at".into(),
                min: Some(Literal::Str("2024-01-01".into())),
                max: None,
                inclusive: true
            })[0],
            "count(*) FILTER (WHERE NOT (\"created_at\" >= '2024-01-01'))"
        );
        assert!(
            err(CheckKind::Range {
                column: "status".into(),
                min: Some(Literal::Int(1)),
                max: None,
                inclusive: true
            })
            .contains("does not fit column `status` of type string")
        );
        assert_eq!(
            aggs(CheckKind::Matches {
                column: "status".into(),
                regex: "^[a-z]+$".into()
            })[0],
            "count(*) FILTER (WHERE NOT (sluice_regexp_like(\"status\", '^[a-z]+$')))"
        );
        assert!(
            aggs(CheckKind::Format {
                column: "status".into(),
                format: TextFormat::Uuid
            })[0]
                .contains("[0-9a-fA-F]{8}")
        );
        assert_eq!(
            aggs(CheckKind::Length {
                column: "status".into(),
                min: Some(2),
                max: Some(8)
            })[0],
            "count(*) FILTER (WHERE NOT (character_length(\"status\") >= 2 AND character_length(\"status\") <= 8))"
        );
        assert_eq!(
            err(CheckKind::Length {
                column: "amount".into(),
                min: None,
                max: Some(3)
            }),
            "`length` needs a string column, but `amount` is float64"
        );
        assert_eq!(
            aggs(CheckKind::Freshness {
                column: "created_at".into()
            }),
            ["max(\"created_at\")"]
        );
        assert_eq!(
            err(CheckKind::Freshness {
                column: "amount".into()
            }),
            "`freshness` needs a date or timestamp column, but `amount` is float64"
        );
        assert_eq!(
            aggs(CheckKind::Metric {
                sql: "avg(amount)".into(),
                group_by: vec![]
            }),
            ["CAST((avg(amount)) AS DOUBLE)"]
        );
        assert_eq!(
            aggs(CheckKind::RowsSatisfy {
                condition: "amount > 0".into()
            })[0],
            "count(*) FILTER (WHERE NOT (amount > 0))"
        );
    }

    #[test]
    fn pack_row_conditions_share_the_fused_scan() {
        let s = Schema::new(vec![
            Field::new("p10", DataType::Float64, true),
            Field::new("p50", DataType::Float64, true),
            Field::new("p90", DataType::Int32, true),
            Field::new("region", DataType::Utf8, true),
        ]);
        let run = |k: CheckKind| compile(&check(k), "f", &s, &|_| None);
        let c = run(CheckKind::IntervalContains {
            lower: "p10".into(),
            point: "p50".into(),
            upper: "p90".into(),
        })
        .unwrap();
        assert_eq!(
            c.aggs[0],
            "count(*) FILTER (WHERE NOT (\"p10\" <= \"p50\" AND \"p50\" <= \"p90\"))"
        );
        assert_eq!(c.own, None);
        let c = run(CheckKind::QuantilesOrdered(
            sluice_spec::QuantileOrder::Wide {
                columns: vec!["p10".into(), "p50".into(), "p90".into()],
                tolerance: 0.01,
            },
        ))
        .unwrap();
        assert_eq!(
            c.aggs[0],
            "count(*) FILTER (WHERE NOT (\"p10\" <= \"p50\" + 0.01 AND \"p50\" <= \"p90\" + 0.01))"
        );
        let e = run(CheckKind::QuantilesOrdered(
            sluice_spec::QuantileOrder::Wide {
                columns: vec!["p10".into(), "region".into()],
                tolerance: 0.0,
            },
        ))
        .unwrap_err();
        assert_eq!(
            e.message,
            "`quantiles_ordered` needs a numeric column, but `region` is string"
        );
        // The long layout and constancy are grouped queries of their own.
        let c = run(CheckKind::NotConstant {
            series: vec!["region".into()],
            column: "p50".into(),
        })
        .unwrap();
        assert!(matches!(c.own, Some(OwnQuery::Groups(_))));
    }

    #[test]
    fn missing_columns_list_what_exists() {
        let e = err(CheckKind::NotNull {
            column: "amout".into(),
        });
        assert_eq!(
            e,
            "column `amout` not found in `orders`; did you mean `amount`? Its columns: order_id (int64), status (string), amount (float64), created_at (timestamp(us)), weird \"col\" (string)"
        );
    }

    #[test]
    fn schema_mismatches() {
        let spec = SchemaSpec {
            columns: vec![
                ("order_id".into(), ColumnType::Int(64)),
                ("amount".into(), ColumnType::Int(64)),
                ("status".into(), ColumnType::String),
                ("created".into(), ColumnType::Timestamp),
            ],
            forbidden: vec!["status".into()],
            allow_extra: false,
        };
        let c = compile(&check(CheckKind::Schema(spec)), "o", &schema(), &|_| None).unwrap();
        assert_eq!(
            c.eval,
            Eval::Schema(vec![
                "`amount` is float64, expected int64".into(),
                "missing column `created` (did you mean `created_at`?)".into(),
                "forbidden column `status` is present".into(),
                "unexpected column `created_at`".into(),
                "unexpected column `weird \"col\"`".into(),
            ])
        );
    }

    #[test]
    fn references_need_comparable_keys() {
        let parent = Schema::new(vec![Field::new("id", DataType::Utf8, false)]);
        let k = CheckKind::References {
            column: "order_id".into(),
            dataset: "p".into(),
            key: "id".into(),
        };
        let e = compile(&check(k.clone()), "o", &schema(), &|_| Some(Ok(&parent)))
            .unwrap_err()
            .message;
        assert_eq!(
            e,
            "`order_id` (int64) cannot be compared with `p.id` (string)"
        );
        let e = compile(&check(k), "o", &schema(), &|_| Some(Err("path not found")))
            .unwrap_err()
            .message;
        assert_eq!(e, "cannot check references to `p`: path not found");
    }
}
