//! `sluice_largest_decrease(level, value)`: per group, the largest decrease of `value`
//! between neighbouring levels in level order (NULL with fewer than two levels; 0 or
//! less when the values never decrease) — the long `quantiles_ordered` check without
//! sorting the table.
//!
//! A window `lag(value) OVER (PARTITION BY group ORDER BY level)` sorts every row of the
//! table; a forecast group holds a handful of levels (20 quantiles), so this accumulator
//! keeps each group's `(level, value)` pairs and sorts only those when it evaluates.
//! Ties of a level are ordered by value, so a level given twice with different values is
//! not a decrease.
//!
//! # Complexity
//! O(rows) memory for the pairs (16 bytes each) and O(k log k) per group of k levels.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Signature, Volatility};

/// The SQL name of the function.
pub const NAME: &str = "sluice_largest_decrease";

/// The aggregate function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LargestDecrease {
    signature: Signature,
}

impl Default for LargestDecrease {
    fn default() -> Self {
        LargestDecrease {
            signature: Signature::exact(vec![DataType::Float64; 2], Volatility::Immutable),
        }
    }
}

fn list_field(name: &str) -> FieldRef {
    Arc::new(Field::new(
        name,
        DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true))),
        true,
    ))
}

impl AggregateUDFImpl for LargestDecrease {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::<Pairs>::default())
    }

    fn state_fields(&self, _args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![list_field("levels"), list_field("values")])
    }
}

/// The accumulator: the group's `(level, value)` pairs.
#[derive(Debug, Default)]
struct Pairs {
    pairs: Vec<(f64, f64)>,
}

impl Pairs {
    fn extend(&mut self, levels: &dyn Array, values: &dyn Array) {
        let (l, v) = (
            levels.as_primitive::<Float64Type>(),
            values.as_primitive::<Float64Type>(),
        );
        for i in 0..l.len() {
            if l.is_valid(i) && v.is_valid(i) {
                self.pairs.push((l.value(i), v.value(i)));
            }
        }
    }
}

fn to_list(values: impl Iterator<Item = f64>) -> ScalarValue {
    let scalars: Vec<ScalarValue> = values.map(|x| ScalarValue::Float64(Some(x))).collect();
    ScalarValue::List(ScalarValue::new_list_nullable(&scalars, &DataType::Float64))
}

/// The largest `previous - next` in `pairs` sorted by level then value.
pub(crate) fn largest_decrease(pairs: &mut [(f64, f64)]) -> Option<f64> {
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    pairs.windows(2).map(|w| w[0].1 - w[1].1).reduce(f64::max)
}

impl Accumulator for Pairs {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.extend(values[0].as_ref(), values[1].as_ref());
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            to_list(self.pairs.iter().map(|p| p.0)),
            to_list(self.pairs.iter().map(|p| p.1)),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (levels, values): (&ListArray, &ListArray) =
            (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for row in 0..levels.len() {
            if levels.is_valid(row) && values.is_valid(row) {
                self.extend(levels.value(row).as_ref(), values.value(row).as_ref());
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(largest_decrease(&mut self.pairs)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.pairs.capacity() * 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_decrease_in_level_order() {
        // Levels out of row order; 0.5 -> 0.9 drops by 2.
        let mut p = vec![(0.9, 1.0), (0.1, 0.0), (0.5, 3.0)];
        assert_eq!(largest_decrease(&mut p), Some(2.0));
        // Non-decreasing: the largest "decrease" is minus the smallest rise.
        let mut p = vec![(0.1, 1.0), (0.5, 2.0), (0.9, 4.0)];
        assert_eq!(largest_decrease(&mut p), Some(-1.0));
        // A level given twice is ordered by value: no decrease.
        let mut p = vec![(0.5, 3.0), (0.5, 2.0)];
        assert_eq!(largest_decrease(&mut p), Some(-1.0));
        assert_eq!(largest_decrease(&mut [(0.5, 1.0)]), None);
    }
}
