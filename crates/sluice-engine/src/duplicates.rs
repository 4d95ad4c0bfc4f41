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

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Int64Type};
use datafusion::common::scalar::ScalarStructBuilder;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};

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
