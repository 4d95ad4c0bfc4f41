//! `sluice_duplicates(value, min, max, n)`: exact duplicate counting for integer keys with
//! two bitmaps over `[min, max]` instead of a hash table of every value.
//!
//! `unique` on an integer id is the most common uniqueness check, and ids are usually
//! dense. Once the fused scan has given the column's `min` and `max`, one bit per possible
//! value finds every duplicate: `seen` marks values met once, `dups` values met again.
//! 5 million ids spanning 5 million values take 625 KB per bitmap, where a hash table of
//! the values takes hundreds of MB. Partitions merge by `dups |= dups' | (seen & seen')`,
//! `seen |= seen'`; the result is exact.
//!
//! Returns a struct `{distinct, duplicated, first}`: the number of distinct values, of
//! values occurring more than once, and the `n` smallest duplicated values (for samples);
//! NULL if a value fell outside `[min, max]` (the caller then uses a `GROUP BY`).
//!
//! # Complexity
//! O(rows) time, O((max - min) / 8) bytes per partition. The engine uses it only when the
//! range is at most 64 × the rows, so the bitmaps never outweigh a hash set of the values.
//!
//! [`find`] is the one duplicate-key detector of the engine, used by the `unique` check
//! and by the keyed diffs of parity and reconciliation: the bitmaps for one dense integer
//! key, else a hash-partitioned `GROUP BY key HAVING count(*) > 1` whose window totals stay
//! exact whatever the listing's `LIMIT`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Int64Type};
use datafusion::common::scalar::ScalarStructBuilder;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};
use datafusion::prelude::SessionContext;
use tracing::Instrument;

/// The SQL name of the function.
pub const NAME: &str = "sluice_duplicates";

/// Largest range the bitmaps may cover (2^36 bits = 8 GiB per bitmap would be absurd; the
/// engine's own limit of 64 bits per row is far below this for any real table).
const MAX_BITS: u64 = 1 << 36;

/// The aggregate function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Duplicates {
    signature: Signature,
}

impl Default for Duplicates {
    fn default() -> Self {
        Duplicates {
            signature: Signature::exact(vec![DataType::Int64; 4], Volatility::Immutable),
        }
    }
}

fn result_fields() -> Fields {
    Fields::from(vec![
        Field::new("distinct", DataType::Int64, false),
        Field::new("duplicated", DataType::Int64, false),
        Field::new(
            "first",
            DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
            false,
        ),
    ])
}

impl AggregateUDFImpl for Duplicates {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(result_fields()))
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<Bitmaps>::default())
    }

    fn state_fields(&self, _args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new("min", DataType::Int64, true)),
            Arc::new(Field::new("bits", DataType::Int64, true)),
            Arc::new(Field::new("n", DataType::Int64, true)),
            Arc::new(Field::new("seen", DataType::Binary, true)),
            Arc::new(Field::new("dups", DataType::Binary, true)),
            Arc::new(Field::new("overflow", DataType::Boolean, true)),
        ])
    }
}

/// The accumulator: two bitmaps over `[min, min + bits)`.
#[derive(Debug, Default)]
struct Bitmaps {
    /// `(min, bits, n)` once known.
    range: Option<(i64, u64, usize)>,
    seen: Vec<u64>,
    dups: Vec<u64>,
    /// A value fell outside the range (or the range was too large): no answer.
    overflow: bool,
}

impl Bitmaps {
    fn init(&mut self, min: i64, bits: u64, n: usize) {
        if self.range.is_some() {
            return;
        }
        if bits == 0 || bits > MAX_BITS {
            self.overflow = true;
            return;
        }
        let words = bits.div_ceil(64) as usize;
        self.range = Some((min, bits, n));
        self.seen = vec![0; words];
        self.dups = vec![0; words];
    }
}

fn to_bytes(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn or_merge(seen: &mut [u64], dups: &mut [u64], other_seen: &[u8], other_dups: &[u8]) {
    for (w, (s, d)) in seen.iter_mut().zip(dups.iter_mut()).enumerate() {
        let word = |b: &[u8]| {
            b.get(w * 8..w * 8 + 8)
                .map(|x| u64::from_le_bytes(x.try_into().expect("8 bytes")))
                .unwrap_or(0)
        };
        let (os, od) = (word(other_seen), word(other_dups));
        *d |= od | (*s & os);
        *s |= os;
    }
}

impl Accumulator for Bitmaps {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let col = values[0].as_primitive::<Int64Type>();
        if col.is_empty() || self.overflow {
            return Ok(());
        }
        let (min, max, n) = (
            values[1].as_primitive::<Int64Type>().value(0),
            values[2].as_primitive::<Int64Type>().value(0),
            values[3].as_primitive::<Int64Type>().value(0),
        );
        let bits = (max as i128 - min as i128 + 1).clamp(0, i128::from(u64::MAX)) as u64;
        self.init(min, bits, n.max(0) as usize);
        let Some((min, bits, _)) = self.range else {
            return Ok(());
        };
        for v in col.iter().flatten() {
            let i = v as i128 - min as i128;
            if i < 0 || i >= bits as i128 {
                self.overflow = true;
                return Ok(());
            }
            let (w, m) = ((i / 64) as usize, 1u64 << (i % 64));
            if self.seen[w] & m != 0 {
                self.dups[w] |= m;
            } else {
                self.seen[w] |= m;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let (min, bits, n) = match self.range {
            Some((m, b, n)) => (Some(m), Some(b as i64), Some(n as i64)),
            None => (None, None, None),
        };
        Ok(vec![
            ScalarValue::Int64(min),
            ScalarValue::Int64(bits),
            ScalarValue::Int64(n),
            ScalarValue::Binary(self.range.map(|_| to_bytes(&self.seen))),
            ScalarValue::Binary(self.range.map(|_| to_bytes(&self.dups))),
            ScalarValue::Boolean(Some(self.overflow)),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (mins, bits, ns) = (
            states[0].as_primitive::<Int64Type>(),
            states[1].as_primitive::<Int64Type>(),
            states[2].as_primitive::<Int64Type>(),
        );
        let (seen, dups) = (states[3].as_binary::<i32>(), states[4].as_binary::<i32>());
        let overflow = states[5].as_boolean();
        for row in 0..mins.len() {
            if overflow.is_valid(row) && overflow.value(row) {
                self.overflow = true;
            }
            if mins.is_null(row) || self.overflow {
                continue;
            }
            self.init(
                mins.value(row),
                bits.value(row) as u64,
                ns.value(row) as usize,
            );
            if self.range.map(|(m, _, _)| m) != Some(mins.value(row)) {
                // Every partition gets the same constant range; anything else is a bug.
                self.overflow = true;
                continue;
            }
            or_merge(
                &mut self.seen,
                &mut self.dups,
                seen.value(row),
                dups.value(row),
            );
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.overflow {
            return Ok(ScalarStructBuilder::new_null(result_fields()));
        }
        let count =
            |words: &[u64]| words.iter().map(|w| u64::from(w.count_ones())).sum::<u64>() as i64;
        let mut first = Vec::new();
        if let Some((min, _, n)) = self.range {
            'words: for (w, word) in self.dups.iter().enumerate() {
                let mut bits = *word;
                while bits != 0 {
                    if first.len() >= n {
                        break 'words;
                    }
                    let b = bits.trailing_zeros() as i64;
                    first.push(ScalarValue::Int64(Some(min + w as i64 * 64 + b)));
                    bits &= bits - 1;
                }
            }
        }
        let fields = result_fields();
        ScalarStructBuilder::new()
            .with_scalar(
                fields[0].clone(),
                ScalarValue::Int64(Some(count(&self.seen))),
            )
            .with_scalar(
                fields[1].clone(),
                ScalarValue::Int64(Some(count(&self.dups))),
            )
            .with_scalar(
                fields[2].clone(),
                ScalarValue::List(ScalarValue::new_list_nullable(&first, &DataType::Int64)),
            )
            .build()
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + (self.seen.capacity() + self.dups.capacity()) * 8
    }
}

/// How a search lists the duplicated values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// Most repeated first, then by key (a `unique` check's samples).
    MostRepeated,
    /// By key (a diff's duplicated keys, its samples the smallest).
    ByKey,
}

/// A search for values of a key that occur more than once.
#[derive(Clone, Debug)]
pub(crate) struct Search<'a> {
    /// The table (the dataset's name, unquoted).
    pub table: &'a str,
    /// The key's columns in the table.
    pub keys: &'a [String],
    /// The names the key's columns get in the answer.
    pub names: &'a [String],
    /// A SQL filter scoping the search (`where:`).
    pub scope: Option<&'a str>,
    /// Rows in scope with no NULL in the key (from the fused scan).
    pub rows_with_key: u64,
    /// `min` and `max` of a single integer key (from the fused scan): the bitmaps may
    /// apply. `None` for other keys.
    pub range: Option<(i64, i64)>,
    /// How many duplicated values to list.
    pub list: usize,
    /// In what order.
    pub order: Order,
    /// NULL is a value of the key (`unique` with `nulls: equal`): rows with a NULL in the
    /// key are grouped like any other, not left out. Never with the bitmaps (`range`).
    pub nulls_equal: bool,
}

/// What a search found.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    /// Values occurring more than once.
    pub values: u64,
    /// Rows beyond the first of each of them (the rows to delete to make the key unique).
    pub extra_rows: u64,
    /// The first `list` of them.
    pub listed: Listed,
}

/// The duplicated values a search lists.
#[derive(Clone, Debug)]
pub(crate) enum Listed {
    /// Found by the bitmaps: the smallest duplicated values; [`occurrences`] counts them.
    Values(Vec<i64>),
    /// Found by `GROUP BY`: the key's columns (as `names`) and `occurrences`, in order.
    Rows(Vec<RecordBatch>),
}

fn ident(name: &str) -> String {
    crate::compile::ident(name)
}

/// `(scope) AND k1 IS NOT NULL AND ...`: the rows a search looks at (with `nulls_equal`,
/// every row in scope).
fn scope_sql(s: &Search<'_>) -> String {
    if s.nulls_equal {
        return s
            .scope
            .map(|f| format!("({f})"))
            .unwrap_or_else(|| "true".into());
    }
    let not_null = s
        .keys
        .iter()
        .map(|k| format!("{} IS NOT NULL", ident(k)))
        .collect::<Vec<_>>()
        .join(" AND ");
    match s.scope {
        Some(f) => format!("({f}) AND {not_null}"),
        None => not_null,
    }
}

async fn sql(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    tracing::debug!(%sql, "duplicate keys");
    ctx.sql(sql).await?.collect().await
}

/// Finds the values of `s`'s key that occur more than once.
///
/// # Complexity
/// One scan of the key. A single integer key whose range is at most 64 values per row:
/// two bitmaps over the range, O(range / 8) bytes. Otherwise a `GROUP BY` of the key:
/// O(distinct values) memory, spilling under a memory limit.
pub(crate) async fn find(ctx: &SessionContext, s: &Search<'_>) -> Result<Found> {
    let span = tracing::info_span!("query", kind = "duplicates", dataset = %s.table);
    async {
        if s.rows_with_key == 0 {
            return Ok(Found {
                values: 0,
                extra_rows: 0,
                listed: Listed::Values(vec![]),
            });
        }
        if let Some(found) = dense(ctx, s).await? {
            return Ok(found);
        }
        grouped(ctx, s).await
    }
    .instrument(span)
    .await
}

/// The bitmaps, when they apply; `None` otherwise (or when a value fell outside the range).
async fn dense(ctx: &SessionContext, s: &Search<'_>) -> Result<Option<Found>> {
    let ([key], Some((min, max)), false) = (s.keys, s.range, s.nulls_equal) else {
        return Ok(None);
    };
    let range = (max as i128 - min as i128 + 1) as u128;
    if range > u128::from(s.rows_with_key.max(1 << 10)) * 64 {
        tracing::debug!(%range, rows = s.rows_with_key, "key range too sparse for bitmaps; grouping instead");
        return Ok(None);
    }
    let query = format!(
        "SELECT {NAME}(CAST({k} AS BIGINT), {min}, {max}, {}) FROM {} WHERE {}",
        s.list,
        ident(s.table),
        scope_sql(s),
        k = ident(key),
    );
    let batches = sql(ctx, &query).await?;
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    let Some(st) = b.column(0).as_struct_opt() else {
        return Ok(None);
    };
    if st.is_null(0) {
        return Ok(None);
    }
    let distinct = st.column(0).as_primitive::<Int64Type>().value(0) as u64;
    let values = st.column(1).as_primitive::<Int64Type>().value(0) as u64;
    let listed = st
        .column(2)
        .as_list::<i32>()
        .value(0)
        .as_primitive::<Int64Type>()
        .values()
        .to_vec();
    Ok(Some(Found {
        values,
        extra_rows: s.rows_with_key.saturating_sub(distinct),
        listed: Listed::Values(listed),
    }))
}

/// `GROUP BY key HAVING count(*) > 1`, the totals carried on every listed row by window
/// functions (so they are exact whatever the `LIMIT`).
async fn grouped(ctx: &SessionContext, s: &Search<'_>) -> Result<Found> {
    let select: Vec<String> = s
        .keys
        .iter()
        .zip(s.names)
        .map(|(k, n)| format!("{} AS {}", ident(k), ident(n)))
        .collect();
    let group: Vec<String> = s.keys.iter().map(|k| ident(k)).collect();
    let names: Vec<String> = s.names.iter().map(|n| ident(n)).collect();
    let order = match s.order {
        Order::MostRepeated => format!("occurrences DESC, {}", names.join(", ")),
        Order::ByKey => names.join(", "),
    };
    let query = format!(
        "SELECT {names}, \"__n\" AS occurrences, count(*) OVER () AS \"__values\", sum(\"__n\") OVER () AS \"__rows\" \
         FROM (SELECT {select}, count(*) AS \"__n\" FROM {table} WHERE {scope} GROUP BY {group} HAVING count(*) > 1) \
         ORDER BY {order} LIMIT {limit}",
        names = names.join(", "),
        select = select.join(", "),
        table = ident(s.table),
        scope = scope_sql(s),
        group = group.join(", "),
        limit = s.list.max(1),
    );
    let batches = sql(ctx, &query).await?;
    let total = |col: usize| -> u64 {
        batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .and_then(|b| ScalarValue::try_from_array(b.column(col), 0).ok())
            .map(|v| crate::values::as_u64(&v))
            .unwrap_or(0)
    };
    let width = s.names.len() + 1;
    let (values, rows) = (total(width), total(width + 1));
    let listed = batches
        .iter()
        .map(|b| b.project(&(0..width).collect::<Vec<_>>()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Found {
        values,
        extra_rows: rows.saturating_sub(values),
        listed: Listed::Rows(listed),
    })
}

/// How often each of `values` (listed by the bitmaps, for a single key) occurs, as rows
/// of the key (named as the search's name) and `occurrences`, in the search's order.
pub(crate) async fn occurrences(
    ctx: &SessionContext,
    s: &Search<'_>,
    values: &[i64],
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    let ([key], [name]) = (s.keys, s.names) else {
        return Ok(vec![]);
    };
    if values.is_empty() {
        return Ok(vec![]);
    }
    let list = values
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let (k, n) = (ident(key), ident(name));
    let order = match s.order {
        Order::MostRepeated => format!("occurrences DESC, {n}"),
        Order::ByKey => n.clone(),
    };
    let query = format!(
        "SELECT {k} AS {n}, count(*) AS occurrences FROM {} WHERE {} AND {k} IN ({list}) GROUP BY {k} ORDER BY {order}",
        ident(s.table),
        scope_sql(s),
    );
    let span = tracing::info_span!("query", kind = "samples", dataset = %s.table);
    Ok(crate::values::rows(
        &sql(ctx, &query).instrument(span).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StructArray};
    use datafusion::logical_expr::AggregateUDF;
    use datafusion::prelude::SessionContext;

    async fn run(values: Vec<Option<i64>>, min: i64, max: i64, partitions: usize) -> ScalarValue {
        let ctx = SessionContext::new_with_config(
            datafusion::prelude::SessionConfig::new().with_target_partitions(partitions),
        );
        ctx.register_udaf(AggregateUDF::from(Duplicates::default()));
        // Spread the values over several batches/partitions.
        let values = if values.is_empty() {
            vec![None]
        } else {
            values
        };
        let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(vec![Field::new(
            "v",
            DataType::Int64,
            true,
        )]));
        let partitions: Vec<Vec<_>> = values
            .chunks(3)
            .map(|c| {
                vec![
                    datafusion::arrow::record_batch::RecordBatch::try_new(
                        schema.clone(),
                        vec![Arc::new(Int64Array::from(c.to_vec())) as ArrayRef],
                    )
                    .unwrap(),
                ]
            })
            .collect();
        let table = datafusion::datasource::MemTable::try_new(schema, partitions).unwrap();
        ctx.register_table("t", Arc::new(table)).unwrap();
        let df = ctx
            .sql(&format!("SELECT {NAME}(v, {min}, {max}, 2) FROM t"))
            .await
            .unwrap();
        let batches = df.collect().await.unwrap();
        ScalarValue::try_from_array(batches[0].column(0).as_ref(), 0).unwrap()
    }

    fn parts(s: &ScalarValue) -> Option<(i64, i64, Vec<i64>)> {
        let ScalarValue::Struct(arr) = s else {
            panic!("{s:?}")
        };
        let arr: &StructArray = arr.as_ref();
        if arr.is_null(0) {
            return None;
        }
        let d = arr.column(0).as_primitive::<Int64Type>().value(0);
        let u = arr.column(1).as_primitive::<Int64Type>().value(0);
        let first = arr.column(2).as_list::<i32>().value(0);
        let first = first.as_primitive::<Int64Type>().values().to_vec();
        Some((d, u, first))
    }

    #[tokio::test]
    async fn counts_exactly_across_partitions() {
        // 10 appears 3 times, 12 twice, across batches; NULLs are ignored.
        let v = vec![
            Some(10),
            Some(11),
            Some(12),
            None,
            Some(10),
            Some(13),
            Some(12),
            Some(10),
            Some(14),
        ];
        for p in [1, 2, 4] {
            let r = run(v.clone(), 10, 14, p).await;
            assert_eq!(parts(&r), Some((5, 2, vec![10, 12])), "{p} partitions");
        }
        // Only the first n duplicated values are listed.
        let many: Vec<Option<i64>> = (0..200).map(|i| Some(i % 50)).collect();
        assert_eq!(
            parts(&run(many, 0, 49, 2).await),
            Some((50, 50, vec![0, 1]))
        );
    }

    #[tokio::test]
    async fn out_of_range_gives_null_and_negative_ranges_work() {
        assert_eq!(parts(&run(vec![Some(1), Some(5)], 1, 4, 2).await), None);
        assert_eq!(
            parts(
                &run(
                    vec![Some(-3), Some(-3), Some(i64::MIN + 1)],
                    i64::MIN + 1,
                    -3,
                    1
                )
                .await
            ),
            None,
            "a range of 2^63 values is refused, not allocated"
        );
        assert_eq!(
            parts(&run(vec![Some(-3), Some(-3), Some(-5)], -5, -3, 2).await),
            Some((2, 1, vec![-3]))
        );
        assert_eq!(
            parts(&run(vec![], 0, 10, 2).await),
            Some((0, 0, vec![])),
            "only NULLs"
        );
    }
}
