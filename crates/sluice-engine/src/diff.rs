//! Keyed row diffs, in two stages.
//!
//! 1. **The light join**: each side is reduced to its key and one 64-bit hash of its
//!    normalised compared values ([`RowHash`], DataFusion's vectorised multi-column hash;
//!    columns with a numeric tolerance travel as values). One full outer join of these
//!    16-byte rows counts missing, extra and changed rows and keeps only the keys that
//!    differ — the hash join's build side is a tenth of the table's width, like data-diff's
//!    checksums but exact per key.
//! 2. **The detail join**: the same join on the real values, restricted by a semi-join to
//!    the differing keys. Its output carries, per row, a category (`missing`, `extra`,
//!    `changed`, equal) and one flag per compared column; the stream is read once to count
//!    every column, keep the samples of each kind, and (with `--diff-output`) write every
//!    differing row to Parquet. Its cost follows the number of differences, not the size
//!    of the tables.
//!
//! Duplicate keys are found per side first — with the bitmaps of [`crate::duplicates`] for
//! one integer key, a `GROUP BY ... HAVING count(*) > 1` otherwise — and rows of duplicated
//! keys are flagged in the join and counted apart, so a key appearing twice is reported as
//! such instead of being multiplied by the join into false differences.
//!
//! DataFusion's hash join keeps its build side in memory and cannot spill: when a memory
//! limit makes it fail, the diff runs again as a sort-merge join, whose sorts spill.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::compute::{and, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Int8Type, Schema, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde_json::{Map, Value};
use sluice_spec::{CompareOpts, Precision};
use tracing::debug;

use crate::compile::{ident, type_name};
use crate::duplicates::{Listed, Order, Search};
use crate::error::{CheckError, CheckErrorKind};
use crate::values::{as_i64, json_at, rows};

/// Category of a joined row.
pub(crate) const EQUAL: i8 = 0;
/// Key only in the source: missing from the target.
pub(crate) const MISSING: i8 = 1;
/// Key only in the target.
pub(crate) const EXTRA: i8 = 2;
/// Key on both sides, some compared value differs.
pub(crate) const CHANGED: i8 = 3;
/// Key duplicated on one side or both: not compared.
pub(crate) const DUPLICATE: i8 = 4;

/// `sluice_row_hash(c1, c2, ...)`: a 64-bit hash of a row's values (DataFusion's
/// vectorised `create_hashes` with a fixed seed). Both sides of a diff hash the same
/// normalised types in the same order, so equal rows hash equal; unequal rows collide with
/// probability 2^-64 per key.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RowHash {
    signature: datafusion::logical_expr::Signature,
}

/// The SQL name of [`RowHash`].
pub const ROW_HASH: &str = "sluice_row_hash";

impl Default for RowHash {
    fn default() -> Self {
        RowHash {
            signature: datafusion::logical_expr::Signature::variadic_any(
                datafusion::logical_expr::Volatility::Immutable,
            ),
        }
    }
}

impl datafusion::logical_expr::ScalarUDFImpl for RowHash {
    fn name(&self) -> &str {
        ROW_HASH
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::UInt64)
    }

    fn invoke_with_args(
        &self,
        args: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> datafusion::error::Result<datafusion::logical_expr::ColumnarValue> {
        let arrays = datafusion::logical_expr::ColumnarValue::values_to_arrays(&args.args)?;
        let mut hashes = vec![0u64; args.number_rows];
        let state = datafusion::common::hash_utils::QualityRandomState::with_seed(0x5_1_1_C_E);
        datafusion::common::hash_utils::create_hashes(&arrays, &state, &mut hashes)?;
        Ok(datafusion::logical_expr::ColumnarValue::Array(Arc::new(
            datafusion::arrow::array::UInt64Array::from(hashes),
        )))
    }
}

/// One side of a comparison: a dataset, a filter, and its names for the columns used.
#[derive(Clone, Debug)]
pub(crate) struct Side {
    /// The dataset (table) name.
    pub dataset: String,
    /// Its schema.
    pub schema: Arc<Schema>,
    /// `where:` on this side.
    pub filter: Option<String>,
    /// Its own names of the key columns, in key order.
    pub keys: Vec<String>,
}

/// Duplicated keys of one side.
#[derive(Clone, Debug, Default)]
pub(crate) struct Duplicates {
    /// Key values occurring more than once.
    pub values: u64,
    /// Every duplicated key (at most a million), columns named as the canonical keys: the
    /// rows the diff sets apart.
    pub keys: Vec<RecordBatch>,
    /// The first duplicated keys with their `occurrences`.
    pub samples: Vec<Map<String, Value>>,
}

/// A session that pushes filters into the Parquet decoder: for queries that keep few rows
/// of a large file (the key column is decoded first, the others only where it matches).
pub(crate) fn pushdown(ctx: &SessionContext) -> SessionContext {
    let mut state = ctx.state();
    let parquet = &mut state.config_mut().options_mut().execution.parquet;
    parquet.pushdown_filters = true;
    parquet.reorder_filters = true;
    SessionContext::new_with_state(state)
}

/// A SQL list of the values of one integer or string column, if it has few enough rows.
fn literal_list(batches: &[RecordBatch], limit: usize) -> Option<String> {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows == 0 || rows > limit || batches.iter().any(|b| b.num_columns() != 1) {
        return None;
    }
    let mut out = Vec::with_capacity(rows);
    for b in batches {
        let col = b.column(0);
        let dt = col.data_type();
        for i in 0..col.len() {
            match json_at(col.as_ref(), i) {
                Value::Number(n) if crate::compile::is_integer(dt) || *dt == DataType::UInt64 => {
                    out.push(n.to_string())
                }
                Value::String(s)
                    if matches!(
                        dt,
                        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                    ) =>
                {
                    out.push(format!("'{}'", s.replace('\'', "''")))
                }
                _ => return None,
            }
        }
    }
    Some(out.join(", "))
}

fn scope(filter: &Option<String>) -> String {
    filter
        .as_deref()
        .map(|f| format!("({f}) AND "))
        .unwrap_or_default()
}

/// Finds the duplicated keys of `side` (with [`crate::duplicates::find`]), named as
/// `names` (the canonical key names): every one of them (at most a million) for the diff
/// to set apart, and the first `samples` with their `occurrences`. `min_max` are the
/// key's bounds from the fused scan, for one integer key.
pub(crate) async fn find_duplicates(
    ctx: &SessionContext,
    side: &Side,
    names: &[String],
    rows_with_key: u64,
    min_max: Option<(ScalarValue, ScalarValue)>,
    samples: usize,
) -> Result<Duplicates, DataFusionError> {
    let integer = match side.keys.as_slice() {
        [key] => side
            .schema
            .field_with_name(key)
            .is_ok_and(|f| crate::compile::is_integer(f.data_type())),
        _ => false,
    };
    let search = Search {
        table: &side.dataset,
        keys: &side.keys,
        names,
        scope: side.filter.as_deref(),
        rows_with_key,
        range: min_max
            .filter(|_| integer)
            .and_then(|(min, max)| as_i64(&min).zip(as_i64(&max))),
        list: 1_000_000,
        order: Order::ByKey,
        nulls_equal: false,
    };
    let found = crate::duplicates::find(ctx, &search).await?;
    if found.values == 0 {
        return Ok(Duplicates::default());
    }
    match found.listed {
        Listed::Values(values) => {
            let listed: ArrayRef = Arc::new(Int64Array::from(values.clone()));
            let schema = Arc::new(Schema::new(vec![Field::new(
                &names[0],
                DataType::Int64,
                true,
            )]));
            let keys = vec![RecordBatch::try_new(schema, vec![listed])?];
            // How often the first few occur, for samples: a filtered scan of the key.
            let first = &values[..values.len().min(samples)];
            let samples = crate::duplicates::occurrences(&pushdown(ctx), &search, first).await?;
            Ok(Duplicates {
                values: found.values,
                keys,
                samples,
            })
        }
        Listed::Rows(batches) => {
            let keys = batches
                .iter()
                .map(|b| b.project(&(0..names.len()).collect::<Vec<_>>()))
                .collect::<Result<_, _>>()?;
            Ok(Duplicates {
                values: found.values,
                keys,
                samples: rows(&batches).into_iter().take(samples).collect(),
            })
        }
    }
}

/// SQL for a value normalised for comparison, given both sides' types.
fn normalised(
    expr: &str,
    own: &DataType,
    other: &DataType,
    opts: &CompareOpts,
) -> Result<String, CheckError> {
    let numeric = |t: &DataType| t.is_numeric();
    let string = |t: &DataType| {
        matches!(
            t,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..)
        )
    };
    Ok(match (own, other) {
        (DataType::Timestamp(u1, _), DataType::Timestamp(u2, _)) => {
            // Compare instants as integers at the coarser precision (or the one asked):
            // zone-aware values are UTC already, values without a zone are read as UTC.
            let target = opts
                .precision
                .unwrap_or_else(|| coarser(unit(u1), unit(u2)));
            let factor = per(unit(u1)) / per(target).max(1);
            if factor > 1 {
                format!("(arrow_cast({expr}, 'Int64') / {factor})")
            } else {
                format!("arrow_cast({expr}, 'Int64')")
            }
        }
        (a, b) if numeric(a) && numeric(b) => {
            if a == b && opts.tolerance.is_none() {
                expr.to_string()
            } else {
                format!("CAST({expr} AS DOUBLE)")
            }
        }
        (a, b) if string(a) && string(b) => {
            let mut e = expr.to_string();
            if opts.trim {
                e = format!("trim({e})");
            }
            if opts.ignore_case {
                e = format!("lower({e})");
            }
            e
        }
        (a, b) if a == b => expr.to_string(),
        (a, b) => {
            return Err(CheckError::new(
                CheckErrorKind::Comparison,
                format!(
                    "cannot compare {} with {}; cast one side in a view, or compare other columns",
                    type_name(a),
                    type_name(b)
                ),
            ));
        }
    })
}

fn unit(u: &TimeUnit) -> Precision {
    match u {
        TimeUnit::Second => Precision::Second,
        TimeUnit::Millisecond => Precision::Millisecond,
        TimeUnit::Microsecond => Precision::Microsecond,
        TimeUnit::Nanosecond => Precision::Nanosecond,
    }
}

fn coarser(a: Precision, b: Precision) -> Precision {
    a.min(b)
}

/// Ticks per second of a precision.
fn per(p: Precision) -> i64 {
    match p {
        Precision::Second => 1,
        Precision::Millisecond => 1_000,
        Precision::Microsecond => 1_000_000,
        Precision::Nanosecond => 1_000_000_000,
    }
}

/// The two sides' values in one canonical type, for hashing: equal values give equal
/// bytes (`normalised`, plus a cast when the two types still differ).
fn canonical_pair(
    a: &str,
    ta: &DataType,
    b: &str,
    tb: &DataType,
    opts: &CompareOpts,
) -> Result<(String, String), CheckError> {
    let (na, nb) = (normalised(a, ta, tb, opts)?, normalised(b, tb, ta, opts)?);
    let string = |t: &DataType| {
        matches!(
            t,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..)
        )
    };
    Ok(match (ta, tb) {
        (DataType::Timestamp(..), DataType::Timestamp(..)) => (na, nb),
        (x, y) if x.is_numeric() && y.is_numeric() => (na, nb),
        (x, y) if string(x) && string(y) && (x != y || matches!(x, DataType::Dictionary(..))) => (
            format!("CAST({na} AS VARCHAR)"),
            format!("CAST({nb} AS VARCHAR)"),
        ),
        _ => (na, nb),
    })
}

/// SQL that is true when `a` (of type `ta`) and `b` differ; NULL = NULL counts as equal.
pub(crate) fn differs(
    a: &str,
    ta: &DataType,
    b: &str,
    tb: &DataType,
    opts: &CompareOpts,
) -> Result<String, CheckError> {
    let (na, nb) = (normalised(a, ta, tb, opts)?, normalised(b, tb, ta, opts)?);
    Ok(match opts.tolerance {
        Some(tol) if ta.is_numeric() && tb.is_numeric() => format!(
            "(CASE WHEN {a} IS NULL AND {b} IS NULL THEN false WHEN {a} IS NULL OR {b} IS NULL THEN true ELSE abs({na} - {nb}) > {tol:?} END)"
        ),
        _ => format!("({na} IS DISTINCT FROM {nb})"),
    })
}

/// A column compared by a keyed diff, resolved on both sides.
#[derive(Clone, Debug)]
pub(crate) struct Compared {
    /// Its name in reports (the target's).
    pub name: String,
    /// The source's name.
    pub source: String,
    /// How values are judged equal.
    pub opts: CompareOpts,
}

/// What a keyed diff found.
#[derive(Clone, Debug, Default)]
pub(crate) struct DiffCounts {
    /// Rows with keys on both sides (equal or changed).
    pub matched: u64,
    /// Source rows whose key the target lacks.
    pub missing: u64,
    /// Target rows whose key the source lacks.
    pub extra: u64,
    /// Matched rows with a differing value.
    pub changed: u64,
    /// Per compared column, matched rows where it differs.
    pub changed_by_column: Vec<(String, u64)>,
    /// First samples of each kind: `missing`, `extra`, `changed`.
    pub samples: Vec<Map<String, Value>>,
    /// Rows written to the diff file.
    pub written: u64,
}

/// Which keys the detail join reads.
#[derive(Clone, Debug)]
pub(crate) enum KeyFilter {
    /// Keys listed in this (registered) table: a semi-join.
    Table(String),
    /// One key column, these literal values: an `IN` filter the Parquet reader can push down.
    Values(String),
}

/// The differing keys as a filter for the detail join: a literal list for up to 10,000
/// keys of one integer or string column, else a registered table (named `name`).
pub(crate) fn key_filter(
    ctx: &SessionContext,
    name: &str,
    keys: Vec<RecordBatch>,
) -> Result<Option<KeyFilter>, DataFusionError> {
    let keys: Vec<RecordBatch> = keys.into_iter().filter(|b| b.num_rows() > 0).collect();
    if keys.is_empty() {
        return Ok(None);
    }
    if let Some(list) = literal_list(&keys, 10_000) {
        return Ok(Some(KeyFilter::Values(list)));
    }
    let table = MemTable::try_new(keys[0].schema(), vec![keys])?;
    let _ = ctx.deregister_table(name);
    ctx.register_table(name, Arc::new(table))?;
    Ok(Some(KeyFilter::Table(name.to_string())))
}

/// `ON s.k = t.k AND ...` of the two sides of a diff.
fn join_on(key_names: &[String]) -> String {
    key_names
        .iter()
        .map(|k| format!("s.{k} = t.{k}", k = ident(k)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The keys of a full outer join's row, whichever side has them.
fn coalesced_keys(key_names: &[String]) -> Vec<String> {
    key_names
        .iter()
        .map(|k| format!("coalesce(s.{k}, t.{k}) AS {k}", k = ident(k)))
        .collect()
}

/// `(LEFT JOIN <duplicated keys> d ON ..., <condition true for them>)` over a joined
/// subquery aliased `j`; no join and `false` when there are no duplicated keys.
pub(crate) fn duplicate_flag(key_names: &[String], dup_table: Option<&str>) -> (String, String) {
    match dup_table {
        Some(t) => {
            let on: Vec<String> = key_names
                .iter()
                .map(|k| format!("j.{k} = d.{k}", k = ident(k)))
                .collect();
            (
                format!(
                    " LEFT JOIN (SELECT DISTINCT * FROM {t}) d ON {}",
                    on.join(" AND ")
                ),
                format!("d.{} IS NOT NULL", ident(&key_names[0])),
            )
        }
        None => (String::new(), "false".to_string()),
    }
}

/// One side of a diff join: its columns, `__p` (present), its filter, non-NULL keys, and
/// the restriction to some keys (the detail join: a pushed-down `IN` list, or a semi-join).
fn side_select(
    side: &Side,
    cols: &[String],
    key_names: &[String],
    only_keys: Option<&KeyFilter>,
) -> String {
    let (from, alias, values) = match only_keys {
        Some(KeyFilter::Values(list)) => (
            ident(&side.dataset),
            "",
            format!("{} IN ({list}) AND ", ident(&side.keys[0])),
        ),
        Some(KeyFilter::Table(keys)) => {
            let on: Vec<String> = side
                .keys
                .iter()
                .zip(key_names)
                .map(|(own, n)| format!("x.{} = k.{}", ident(own), ident(n)))
                .collect();
            (
                format!(
                    "{} AS x LEFT SEMI JOIN {} AS k ON {}",
                    ident(&side.dataset),
                    ident(keys),
                    on.join(" AND ")
                ),
                "x.",
                String::new(),
            )
        }
        None => (ident(&side.dataset), "", String::new()),
    };
    let cols: Vec<String> = cols.iter().map(|c| format!("{alias}{c}")).collect();
    let keys: Vec<String> = side
        .keys
        .iter()
        .map(|k| format!("{alias}{} IS NOT NULL", ident(k)))
        .collect();
    format!(
        "SELECT {}, true AS \"__p\" FROM {from} WHERE {}{values}{}",
        cols.join(", "),
        scope(&side.filter),
        keys.join(" AND ")
    )
}

/// The detail join of a keyed diff, as SQL (restricted to `only_keys` when given). Output columns: `__diff` (category), `__d<i>` (column
/// i differs), the key columns (target names), then `<col> (<source>)`, `<col> (<target>)`.
pub(crate) fn diff_sql(
    source: &Side,
    target: &Side,
    key_names: &[String],
    compared: &[Compared],
    only_keys: Option<&KeyFilter>,
) -> Result<String, CheckError> {
    let field = |side: &Side, c: &str| -> Result<DataType, CheckError> {
        crate::compile::field(&side.schema, &side.dataset, c).map(|f| f.data_type().clone())
    };
    let key_cols = |side: &Side| -> Vec<String> {
        side.keys
            .iter()
            .zip(key_names)
            .map(|(k, n)| format!("{} AS {}", ident(k), ident(n)))
            .collect()
    };
    let (mut s_cols, mut t_cols) = (key_cols(source), key_cols(target));
    let mut flags = Vec::new();
    let mut values = Vec::new();
    for (i, c) in compared.iter().enumerate() {
        let (ts, tt) = (field(source, &c.source)?, field(target, &c.name)?);
        s_cols.push(format!("{} AS \"__s{i}\"", ident(&c.source)));
        t_cols.push(format!("{} AS \"__t{i}\"", ident(&c.name)));
        let d = differs(
            &format!("s.\"__s{i}\""),
            &ts,
            &format!("t.\"__t{i}\""),
            &tt,
            &c.opts,
        )
        .map_err(|e| CheckError {
            message: format!("`{}` vs `{}.{}`: {e}", c.name, source.dataset, c.source),
            ..e
        })?;
        flags.push(format!("{d} AS \"__d{i}\""));
        values.push(format!(
            "s.\"__s{i}\" AS {}",
            ident(&format!("{} ({})", c.name, source.dataset))
        ));
        values.push(format!(
            "t.\"__t{i}\" AS {}",
            ident(&format!("{} ({})", c.name, target.dataset))
        ));
    }
    let any_diff = if compared.is_empty() {
        "false".to_string()
    } else {
        (0..compared.len())
            .map(|i| format!("j.\"__d{i}\""))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    let flag_names: Vec<String> = (0..compared.len())
        .map(|i| format!("j.\"__d{i}\""))
        .collect();
    let value_names: Vec<String> = compared
        .iter()
        .flat_map(|c| {
            [
                format!("{} ({})", c.name, source.dataset),
                format!("{} ({})", c.name, target.dataset),
            ]
        })
        .map(|n| format!("j.{}", ident(&n)))
        .collect();
    let key_names_j: Vec<String> = key_names
        .iter()
        .map(|k| format!("j.{}", ident(k)))
        .collect();
    let mut inner_cols = vec![
        "s.\"__p\" AS \"__ps\"".to_string(),
        "t.\"__p\" AS \"__pt\"".to_string(),
    ];
    inner_cols.extend(coalesced_keys(key_names));
    inner_cols.extend(flags);
    inner_cols.extend(values);
    let mut outer = vec![format!(
        "CAST(CASE WHEN j.\"__pt\" IS NULL THEN {MISSING} WHEN j.\"__ps\" IS NULL THEN {EXTRA} WHEN {any_diff} THEN {CHANGED} ELSE {EQUAL} END AS TINYINT) AS \"__diff\""
    )];
    outer.extend(flag_names);
    outer.extend(key_names_j);
    outer.extend(value_names);
    Ok(format!(
        "SELECT {} FROM (SELECT {} FROM ({}) s FULL OUTER JOIN ({}) t ON {}) j",
        outer.join(", "),
        inner_cols.join(", "),
        side_select(source, &s_cols, key_names, only_keys),
        side_select(target, &t_cols, key_names, only_keys),
        join_on(key_names),
    ))
}

/// The light join of a keyed diff, as SQL: `__diff` (category), then the key columns.
/// Columns with a numeric tolerance are compared as values; all others through one hash.
pub(crate) fn hash_diff_sql(
    source: &Side,
    target: &Side,
    key_names: &[String],
    compared: &[Compared],
    dup_table: Option<&str>,
) -> Result<String, CheckError> {
    let dtype = |side: &Side, c: &str| -> Result<DataType, CheckError> {
        crate::compile::field(&side.schema, &side.dataset, c).map(|f| f.data_type().clone())
    };
    let mut s_cols: Vec<String> = source
        .keys
        .iter()
        .zip(key_names)
        .map(|(k, n)| format!("{} AS {}", ident(k), ident(n)))
        .collect();
    let mut t_cols: Vec<String> = target
        .keys
        .iter()
        .zip(key_names)
        .map(|(k, n)| format!("{} AS {}", ident(k), ident(n)))
        .collect();
    let (mut s_hash, mut t_hash, mut tolerant) = (Vec::new(), Vec::new(), Vec::new());
    for (i, c) in compared.iter().enumerate() {
        let (ts, tt) = (dtype(source, &c.source)?, dtype(target, &c.name)?);
        let what = |e: CheckError| CheckError {
            message: format!("`{}` vs `{}.{}`: {e}", c.name, source.dataset, c.source),
            ..e
        };
        if c.opts.tolerance.is_some() && ts.is_numeric() && tt.is_numeric() {
            s_cols.push(format!("{} AS \"__s{i}\"", ident(&c.source)));
            t_cols.push(format!("{} AS \"__t{i}\"", ident(&c.name)));
            tolerant.push(
                differs(
                    &format!("s.\"__s{i}\""),
                    &ts,
                    &format!("t.\"__t{i}\""),
                    &tt,
                    &c.opts,
                )
                .map_err(what)?,
            );
        } else {
            let (a, b) = canonical_pair(&ident(&c.source), &ts, &ident(&c.name), &tt, &c.opts)
                .map_err(what)?;
            s_hash.push(a);
            t_hash.push(b);
        }
    }
    if !s_hash.is_empty() {
        s_cols.push(format!("{ROW_HASH}({}) AS \"__h\"", s_hash.join(", ")));
        t_cols.push(format!("{ROW_HASH}({}) AS \"__h\"", t_hash.join(", ")));
        tolerant.push("s.\"__h\" <> t.\"__h\"".to_string());
    }
    let changed = if tolerant.is_empty() {
        "false".to_string()
    } else {
        tolerant.join(" OR ")
    };
    let (dup_join, dup_cond) = duplicate_flag(key_names, dup_table);
    let keys_j: Vec<String> = key_names
        .iter()
        .map(|k| format!("j.{}", ident(k)))
        .collect();
    Ok(format!(
        "SELECT CAST(CASE WHEN {dup_cond} THEN {DUPLICATE} WHEN j.\"__pt\" IS NULL THEN {MISSING} WHEN j.\"__ps\" IS NULL THEN {EXTRA} WHEN j.\"__changed\" THEN {CHANGED} ELSE {EQUAL} END AS TINYINT) AS \"__diff\", {} \
         FROM (SELECT s.\"__p\" AS \"__ps\", t.\"__p\" AS \"__pt\", {}, ({changed}) AS \"__changed\" FROM ({}) s FULL OUTER JOIN ({}) t ON {}) j{dup_join}",
        keys_j.join(", "),
        coalesced_keys(key_names).join(", "),
        side_select(source, &s_cols, key_names, None),
        side_select(target, &t_cols, key_names, None),
        join_on(key_names),
    ))
}

/// What the light join found: counts, and the keys that differ (as batches of the key
/// columns).
#[derive(Debug, Default)]
pub(crate) struct HashDiff {
    /// Rows with keys on both sides.
    pub matched: u64,
    /// Source rows whose key the target lacks.
    pub missing: u64,
    /// Target rows whose key the source lacks.
    pub extra: u64,
    /// Matched rows whose hash (or toleranced value) differs.
    pub changed: u64,
    /// Keys of missing, extra and changed rows.
    pub keys: Vec<RecordBatch>,
}

/// Runs the light join once, streaming.
pub(crate) async fn run_hash_diff(
    ctx: &SessionContext,
    sql: &str,
) -> Result<HashDiff, DataFusionError> {
    debug!(%sql, "keyed diff (hashes)");
    let mut stream = ctx.sql(sql).await?.execute_stream().await?;
    let mut out = HashDiff::default();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let diff = batch.column(0).as_primitive::<Int8Type>();
        let mut differing = BooleanArray::from(vec![false; batch.num_rows()]);
        for cat in [EQUAL, MISSING, EXTRA, CHANGED] {
            let mask = eq(diff, &datafusion::arrow::array::Int8Array::new_scalar(cat))?;
            let n = mask.true_count() as u64;
            match cat {
                EQUAL => out.matched += n,
                MISSING => out.missing += n,
                EXTRA => out.extra += n,
                _ => {
                    out.matched += n;
                    out.changed += n;
                }
            }
            if cat != EQUAL {
                differing = datafusion::arrow::compute::kernels::boolean::or(&differing, &mask)?;
            }
        }
        if differing.true_count() > 0 {
            let keys = batch.project(&(1..batch.num_columns()).collect::<Vec<_>>())?;
            out.keys.push(filter_record_batch(&keys, &differing)?);
        }
    }
    Ok(out)
}

/// Registers the union of both sides' duplicated keys as a table; returns its name.
pub(crate) fn register_duplicates(
    ctx: &SessionContext,
    name: &str,
    key_names: &[String],
    dups: &[&Duplicates],
) -> Result<Option<String>, DataFusionError> {
    let batches: Vec<RecordBatch> = dups
        .iter()
        .flat_map(|d| d.keys.iter())
        .filter(|b| b.num_rows() > 0)
        .map(|b| b.project(&(0..key_names.len()).collect::<Vec<_>>()))
        .collect::<Result<_, _>>()?;
    if batches.is_empty() {
        return Ok(None);
    }
    // Both sides' key types may differ (int32 vs int64): cast to the first batch's.
    let schema = batches[0].schema();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batches: Vec<RecordBatch> = batches
        .into_iter()
        .map(|b| {
            let cols = b
                .columns()
                .iter()
                .zip(schema.fields())
                .map(|(c, f)| datafusion::arrow::compute::cast(c, f.data_type()))
                .collect::<Result<Vec<_>, _>>()?;
            RecordBatch::try_new(schema.clone(), cols)
        })
        .collect::<Result<_, _>>()?;
    let table = MemTable::try_new(schema, vec![batches])?;
    let _ = ctx.deregister_table(name);
    ctx.register_table(name, Arc::new(table))?;
    Ok(Some(ident(name)))
}

/// A keyed diff to run.
pub(crate) struct DiffJob<'a> {
    /// The join, from [`diff_sql`].
    pub sql: &'a str,
    /// The compared columns, in the join's order.
    pub compared: &'a [Compared],
    /// The key columns.
    pub key_names: &'a [String],
    /// The source dataset's name.
    pub source: &'a str,
    /// The target dataset's name.
    pub target: &'a str,
    /// Samples to keep of each kind.
    pub samples: usize,
    /// Where to write the differing rows, if anywhere.
    pub output: Option<&'a Path>,
}

/// Runs a keyed diff join once: counts, samples, optional Parquet output.
pub(crate) async fn run_diff(
    ctx: &SessionContext,
    job: &DiffJob<'_>,
) -> Result<DiffCounts, DataFusionError> {
    let DiffJob {
        sql,
        compared,
        key_names,
        source,
        target,
        samples,
        output,
    } = *job;
    debug!(%sql, "keyed diff");
    let df = ctx.sql(sql).await?;
    let mut stream = df.execute_stream().await?;
    let mut counts = DiffCounts {
        changed_by_column: compared.iter().map(|c| (c.name.clone(), 0)).collect(),
        ..DiffCounts::default()
    };
    // Per kind, the samples with the smallest keys: the same data gives the same samples
    // however the join's partitions interleave.
    let mut kept: HashMap<i8, Vec<Map<String, Value>>> = HashMap::new();
    let mut writer = match output {
        Some(p) => Some(DiffWriter::new(p)?),
        None => None,
    };
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let diff = batch.column(0).as_primitive::<Int8Type>();
        let mut is = HashMap::new();
        for cat in [EQUAL, MISSING, EXTRA, CHANGED] {
            let mask = eq(diff, &datafusion::arrow::array::Int8Array::new_scalar(cat))?;
            let n = mask.true_count() as u64;
            match cat {
                EQUAL => counts.matched += n,
                MISSING => counts.missing += n,
                EXTRA => counts.extra += n,
                _ => {
                    counts.matched += n;
                    counts.changed += n;
                }
            }
            is.insert(cat, mask);
        }
        if let Some(changed) = is.get(&CHANGED)
            && changed.true_count() > 0
        {
            for (i, slot) in counts.changed_by_column.iter_mut().enumerate() {
                let flag = batch.column(1 + i).as_boolean();
                slot.1 += and(changed, flag)?.true_count() as u64;
            }
        }
        for cat in [MISSING, EXTRA, CHANGED] {
            let mask = &is[&cat];
            if samples == 0 || mask.true_count() == 0 {
                continue;
            }
            let kept = kept.entry(cat).or_default();
            for row in (0..batch.num_rows()).filter(|&r| mask.value(r)) {
                kept.push(sample_row(
                    &batch, row, cat, compared, key_names, source, target,
                ));
            }
            keep_smallest(kept, samples, key_names);
        }
        if let Some(w) = writer.as_mut() {
            let differing =
                datafusion::arrow::compute::kernels::boolean::or(&is[&MISSING], &is[&EXTRA])?;
            let differing =
                datafusion::arrow::compute::kernels::boolean::or(&differing, &is[&CHANGED])?;
            counts.written += w.write(&batch, &differing, compared.len())?;
        }
    }
    if let Some(w) = writer {
        w.finish()?;
    }
    for cat in [MISSING, EXTRA, CHANGED] {
        if let Some(mut v) = kept.remove(&cat) {
            v.sort_by(|a, b| compare_keys(a, b, key_names));
            v.truncate(samples);
            counts.samples.extend(v);
        }
    }
    Ok(counts)
}

/// Orders JSON values: NULL first, numbers by value, then strings, then anything else.
pub(crate) fn compare_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (x, y) => x.to_string().cmp(&y.to_string()),
    }
}

/// Orders rows by their key columns.
pub(crate) fn compare_keys(
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    keys: &[String],
) -> std::cmp::Ordering {
    keys.iter()
        .map(|k| {
            compare_values(
                a.get(k).unwrap_or(&Value::Null),
                b.get(k).unwrap_or(&Value::Null),
            )
        })
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// Keeps the `n` rows with the smallest keys (amortised: sorts only when 4n are held).
pub(crate) fn keep_smallest(rows: &mut Vec<Map<String, Value>>, n: usize, keys: &[String]) {
    if rows.len() > 4 * n.max(1) {
        rows.sort_by(|a, b| compare_keys(a, b, keys));
        rows.truncate(n);
    }
}

fn category_name(cat: i8) -> &'static str {
    match cat {
        MISSING => "missing",
        EXTRA => "extra",
        CHANGED => "changed",
        DUPLICATE => "duplicate",
        _ => "equal",
    }
}

/// One sample: `diff`, the keys, then the values that matter for its kind.
fn sample_row(
    batch: &RecordBatch,
    row: usize,
    cat: i8,
    compared: &[Compared],
    key_names: &[String],
    source: &str,
    target: &str,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("diff".into(), Value::from(category_name(cat)));
    let n = compared.len();
    for (k, name) in key_names.iter().enumerate() {
        m.insert(name.clone(), json_at(batch.column(1 + n + k).as_ref(), row));
    }
    let base = 1 + n + key_names.len();
    for (i, c) in compared.iter().enumerate() {
        let differs = batch.column(1 + i).as_boolean();
        let show = match cat {
            CHANGED => differs.is_valid(row) && differs.value(row),
            _ => true,
        };
        if !show {
            continue;
        }
        if cat != EXTRA {
            m.insert(
                format!("{} ({source})", c.name),
                json_at(batch.column(base + 2 * i).as_ref(), row),
            );
        }
        if cat != MISSING {
            m.insert(
                format!("{} ({target})", c.name),
                json_at(batch.column(base + 2 * i + 1).as_ref(), row),
            );
        }
    }
    m
}

/// Writes differing rows of a diff to a Parquet file, atomically (a temporary file renamed
/// into place when complete).
struct DiffWriter {
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<datafusion::parquet::arrow::ArrowWriter<std::fs::File>>,
}

impl DiffWriter {
    fn new(path: &Path) -> Result<DiffWriter, DataFusionError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("parquet.tmp");
        Ok(DiffWriter {
            path: path.to_path_buf(),
            tmp,
            writer: None,
        })
    }

    /// Writes the rows of `batch` selected by `mask`, with `diff` as text; returns how many.
    fn write(
        &mut self,
        batch: &RecordBatch,
        mask: &BooleanArray,
        flags: usize,
    ) -> Result<u64, DataFusionError> {
        let n = mask.true_count();
        if n == 0 && self.writer.is_some() {
            return Ok(0);
        }
        let selected = filter_record_batch(batch, mask)?;
        let diff = selected.column(0).as_primitive::<Int8Type>();
        let names: StringArray = diff.iter().map(|d| d.map(category_name)).collect();
        let mut fields = vec![Field::new("diff", DataType::Utf8, true)];
        let mut cols: Vec<Arc<dyn Array>> = vec![Arc::new(names)];
        for (i, f) in selected
            .schema()
            .fields()
            .iter()
            .enumerate()
            .skip(1 + flags)
        {
            fields.push(f.as_ref().clone().with_nullable(true));
            cols.push(selected.column(i).clone());
        }
        let out = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?;
        if self.writer.is_none() {
            let file = std::fs::File::create(&self.tmp)?;
            self.writer = Some(datafusion::parquet::arrow::ArrowWriter::try_new(
                file,
                out.schema(),
                None,
            )?);
        }
        let w = self.writer.as_mut().expect("created above");
        w.write(&out)?;
        Ok(n as u64)
    }

    fn finish(mut self) -> Result<(), DataFusionError> {
        if let Some(w) = self.writer.take() {
            w.close()?;
            std::fs::rename(&self.tmp, &self.path)?;
        }
        Ok(())
    }
}

impl Drop for DiffWriter {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        ArrayRef, Decimal128Array, Float64Array, Int32Array, Int64Array, StringArray,
        TimestampMicrosecondArray, TimestampMillisecondArray,
    };

    /// Evaluates `differs` on two one-row columns; true when the values differ.
    async fn differ(a: ArrayRef, b: ArrayRef, opts: CompareOpts) -> bool {
        let ctx = SessionContext::new();
        let batch = RecordBatch::try_from_iter(vec![("a", a.clone()), ("b", b.clone())]).unwrap();
        ctx.register_batch("t", batch).unwrap();
        let sql = differs("a", a.data_type(), "b", b.data_type(), &opts).unwrap();
        let out = ctx
            .sql(&format!("SELECT {sql} FROM t"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        out[0].column(0).as_boolean().value(0)
    }

    fn exact() -> CompareOpts {
        CompareOpts::default()
    }

    #[tokio::test]
    async fn numbers_compare_by_value_across_types() {
        let int: ArrayRef = Arc::new(Int64Array::from(vec![12]));
        let float: ArrayRef = Arc::new(Float64Array::from(vec![12.0]));
        let int32: ArrayRef = Arc::new(Int32Array::from(vec![12]));
        let dec2: ArrayRef = Arc::new(
            Decimal128Array::from(vec![1200])
                .with_precision_and_scale(10, 2)
                .unwrap(),
        );
        let dec3: ArrayRef = Arc::new(
            Decimal128Array::from(vec![12000])
                .with_precision_and_scale(10, 3)
                .unwrap(),
        );
        assert!(
            !differ(int.clone(), float.clone(), exact()).await,
            "int vs float"
        );
        assert!(!differ(int.clone(), int32, exact()).await, "int64 vs int32");
        assert!(!differ(dec2.clone(), dec3, exact()).await, "decimal scales");
        assert!(
            !differ(dec2, float.clone(), exact()).await,
            "decimal vs float"
        );
        let off: ArrayRef = Arc::new(Float64Array::from(vec![12.004]));
        assert!(differ(float.clone(), off.clone(), exact()).await);
        let tol = CompareOpts {
            tolerance: Some(0.01),
            ..exact()
        };
        assert!(!differ(float.clone(), off, tol).await, "within tolerance");
        let far: ArrayRef = Arc::new(Float64Array::from(vec![12.5]));
        assert!(differ(float, far, tol).await, "outside tolerance");
    }

    #[tokio::test]
    async fn nulls_are_equal_to_nulls_only() {
        let n: ArrayRef = Arc::new(Int64Array::from(vec![None]));
        let v: ArrayRef = Arc::new(Int64Array::from(vec![Some(1)]));
        assert!(!differ(n.clone(), n.clone(), exact()).await);
        assert!(differ(n.clone(), v.clone(), exact()).await);
        let tol = CompareOpts {
            tolerance: Some(5.0),
            ..exact()
        };
        assert!(!differ(n.clone(), n.clone(), tol).await);
        assert!(
            differ(v, n, tol).await,
            "NULL vs a value differs even within a tolerance"
        );
    }

    #[tokio::test]
    async fn strings_trim_and_case_on_request() {
        let a: ArrayRef = Arc::new(StringArray::from(vec!["Shipped  "]));
        let b: ArrayRef = Arc::new(StringArray::from(vec!["shipped"]));
        assert!(differ(a.clone(), b.clone(), exact()).await);
        assert!(
            differ(
                a.clone(),
                b.clone(),
                CompareOpts {
                    trim: true,
                    ..exact()
                }
            )
            .await
        );
        assert!(
            !differ(
                a,
                b,
                CompareOpts {
                    trim: true,
                    ignore_case: true,
                    ..exact()
                }
            )
            .await
        );
    }

    #[tokio::test]
    async fn timestamps_compare_at_the_coarser_precision_and_as_instants() {
        // 2025-01-01T00:00:00.123456 vs .123 (ms): equal at ms.
        let us: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![1_735_689_600_123_456]));
        let ms: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![1_735_689_600_123]));
        assert!(!differ(us.clone(), ms.clone(), exact()).await);
        let s = CompareOpts {
            precision: Some(Precision::Second),
            ..exact()
        };
        let later: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![1_735_689_600_999]));
        assert!(differ(ms.clone(), later.clone(), exact()).await);
        assert!(!differ(ms, later, s).await, "same second");
        // The same instant with and without a zone.
        let utc: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![1_735_689_600_123_456]).with_timezone("+02:00"),
        );
        assert!(!differ(us, utc, exact()).await);
    }

    #[test]
    fn incomparable_types_are_refused() {
        let e = differs(
            "a",
            &DataType::Int64,
            "b",
            &DataType::Utf8,
            &CompareOpts::default(),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "cannot compare int64 with string; cast one side in a view, or compare other columns"
        );
        assert_eq!(e.kind, CheckErrorKind::Comparison);
    }
}
