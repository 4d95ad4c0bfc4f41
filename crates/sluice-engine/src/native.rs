//! The forecast pack's grouped checks inside the dataset's one scan: `not_constant`, the
//! long `quantiles_ordered` and `completeness` over a grid known before the scan are
//! aggregate functions of the fused scan, computed natively, instead of a `GROUP BY` (or a
//! join with the grid) that reads the table again after it.
//!
//! Each is a global aggregate built for one check ([`Native`]): its accumulator groups the
//! rows itself. Key values are encoded to bytes ([`Cols::encode`]: a tag, then the value in
//! a canonical form: text as UTF-8, integers, dates and timestamps as `i64`, floats as
//! `f64` bits with `-0` and NaN normalised, so equal values under SQL's `=` encode alike),
//! and a row whose key equals the previous row's reuses its group without hashing: long
//! format forecasts are written series by series, so most rows do no lookup at all.
//! Partitions merge through a binary state: each group's key bytes and its state.
//!
//! | check | per group | result `[units, failing]` |
//! | --- | --- | --- |
//! | `not_constant` | the first non-NULL value, and whether another differs | series; those with one value or none |
//! | `quantiles_ordered` (long) | while its pairs come in sorted order, their run: first, last, largest drop ([`Runs`]) | groups; those whose largest decrease in level order exceeds the tolerance ([`crate::quantile_order`]) |
//! | `completeness` | (no groups) a bit per grid cell, and the rows on the grid | `[on_grid, distinct]` |
//!
//! Only what these cover goes native (no `where`, key columns of the canonical types, a
//! grid whose every dimension is known before the scan); everything else keeps its own
//! query. The samples of a failing check still come from that query, run only then.
//!
//! # Complexity
//! O(rows) time; `not_constant`: O(series × key size) memory; `quantiles_ordered`: 8 bytes
//! per group (its key's hash) and two open groups; `completeness`: one bit per grid cell.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StringViewArray,
};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::{can_cast_types, cast};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility,
};

use crate::compile::{is_integer, is_string, value_type};

mod changes;

/// A fast hasher for short byte keys (the multiply-rotate of rustc's `FxHasher`).
#[derive(Default)]
pub(crate) struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map from encoded keys.
pub(crate) type Map<V> = HashMap<Box<[u8]>, V, BuildHasherDefault<Fx>>;

/// A grid dimension: the positions of its values, by their encoded bytes, and for numbers
/// by their canonical 64 bits too (no encoding per row).
#[derive(Debug, Default)]
pub(crate) struct Dim {
    bytes: Map<u32>,
    words: HashMap<u64, u32, BuildHasherDefault<Fx>>,
    /// For numbers, the values' 64 bits by position: a forecast written in grid order
    /// meets the value after the previous one's, checked before any lookup.
    by_pos: Vec<u64>,
}

impl Dim {
    /// How many values it has.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
}

/// The canonical form a column is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Canon {
    Text,
    Int,
    Float,
    Bool,
}

impl Canon {
    /// The canonical form of a column of type `dt`, if it has one.
    fn of(dt: &DataType) -> Option<Canon> {
        let dt = value_type(dt);
        let canon = if is_string(dt) {
            Canon::Text
        } else if is_integer(dt)
            || matches!(
                dt,
                DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
            )
        {
            Canon::Int
        } else if matches!(
            dt,
            DataType::Float16 | DataType::Float32 | DataType::Float64
        ) {
            Canon::Float
        } else if *dt == DataType::Boolean {
            Canon::Bool
        } else {
            return None;
        };
        can_cast_types(dt, &canon.data_type()).then_some(canon)
    }

    /// Whether its values are numbers (compared by their 64 bits, [`Col::word`]).
    fn is_number(self) -> bool {
        matches!(self, Canon::Int | Canon::Float)
    }

    fn data_type(self) -> DataType {
        match self {
            Canon::Text => DataType::Utf8View,
            Canon::Int => DataType::Int64,
            Canon::Float => DataType::Float64,
            Canon::Bool => DataType::Boolean,
        }
    }
}

/// Columns of one batch, in their canonical forms.
enum Col {
    Text(StringViewArray),
    Int(Int64Array),
    Float(Float64Array),
    Bool(BooleanArray),
}

fn float_bits(v: f64) -> u64 {
    if v == 0.0 {
        0
    } else if v.is_nan() {
        f64::NAN.to_bits()
    } else {
        v.to_bits()
    }
}

/// The changes of a column of string views ([`pack_changes`]) when every string is short
/// (12 bytes or less: it sits whole in its view, zero-padded, so equal views are equal
/// strings); `None` if one is longer. A series key changes every few thousand rows: a
/// stretch of 64 rows equal to the row before it (one vectorised pass, which also looks
/// for long strings) needs no bit-by-bit packing.
fn short_view_changes(views: &[u128]) -> Option<BooleanBuffer> {
    let mut words = vec![0u64; views.len().div_ceil(64)];
    for (k, rows, shift) in word_rows(views.len()) {
        let chunk = &views[rows.start - 1..rows.end];
        let first = chunk[0];
        let (same, long) = (chunk.iter()).fold((true, false), |(same, long), &v| {
            (same & (v == first), long | ((v as u32) > 12))
        });
        if long {
            return None;
        }
        if !same {
            words[k] = pack_word(chunk, shift, |x, y| x != y);
        }
    }
    Some(BooleanBuffer::new(words.into(), 0, views.len()))
}

/// The 64-row words of an `n`-row bitmap of changes that have rows with a row before them
/// (row 0 has none): the word's index, those rows, and where the first sits in the word.
fn word_rows(n: usize) -> impl Iterator<Item = (usize, std::ops::Range<usize>, usize)> {
    (0..n.div_ceil(64)).filter_map(move |k| {
        let (lo, hi) = ((k * 64).max(1), ((k + 1) * 64).min(n));
        (lo < hi).then(|| (k, lo..hi, lo - k * 64))
    })
}

/// One word of changes: bit `shift + j` set where `chunk[j + 1]` differs from `chunk[j]`.
fn pack_word<T: Copy>(chunk: &[T], shift: usize, differ: impl Fn(T, T) -> bool) -> u64 {
    (chunk.windows(2).enumerate()).fold(0u64, |bits, (j, w)| {
        bits | (differ(w[0], w[1]) as u64) << (j + shift)
    })
}

/// The bitmap of where `v[i]` differs from `v[i - 1]` (bit 0 never set), 64 rows per word
/// with no bounds checks or branches in the loop.
fn pack_changes<T: Copy>(v: &[T], differ: impl Fn(T, T) -> bool) -> BooleanBuffer {
    let mut words = vec![0u64; v.len().div_ceil(64)];
    for (k, rows, shift) in word_rows(v.len()) {
        words[k] = pack_word(&v[rows.start - 1..rows.end], shift, &differ);
    }
    BooleanBuffer::new(words.into(), 0, v.len())
}

impl Col {
    fn new(array: &ArrayRef, canon: Canon) -> Result<Col> {
        let array = if array.data_type() == &canon.data_type() {
            array.clone()
        } else {
            // Dates and timestamps reach Int64 through their own integer width.
            let via = match array.data_type() {
                DataType::Date32 => Some(DataType::Int32),
                DataType::Date64 | DataType::Timestamp(_, _) => Some(DataType::Int64),
                _ => None,
            };
            match via {
                Some(t) => cast(&cast(array, &t)?, &canon.data_type())?,
                None => cast(array, &canon.data_type())?,
            }
        };
        Ok(match canon {
            Canon::Text => Col::Text(array.as_string_view().clone()),
            Canon::Int => Col::Int(array.as_primitive::<Int64Type>().clone()),
            Canon::Float => Col::Float(array.as_primitive::<Float64Type>().clone()),
            Canon::Bool => Col::Bool(array.as_boolean().clone()),
        })
    }

    fn is_null(&self, i: usize) -> bool {
        match self {
            Col::Text(a) => a.is_null(i),
            Col::Int(a) => a.is_null(i),
            Col::Float(a) => a.is_null(i),
            Col::Bool(a) => a.is_null(i),
        }
    }

    /// Whether rows `i` and `j` hold equal values (NULLs equal each other).
    fn same(&self, i: usize, j: usize) -> bool {
        let (ni, nj) = (self.is_null(i), self.is_null(j));
        if ni || nj {
            return ni && nj;
        }
        match self {
            Col::Text(a) => {
                let (vi, vj) = (a.views()[i], a.views()[j]);
                // Length and the first four bytes (or the whole string up to 12 bytes).
                if vi as u64 != vj as u64 {
                    return false;
                }
                if (vi as u32) <= 12 {
                    // Short strings sit whole in the view, zero-padded.
                    return vi == vj;
                }
                a.value(i) == a.value(j)
            }
            Col::Int(a) => a.value(i) == a.value(j),
            Col::Float(a) => float_bits(a.value(i)) == float_bits(a.value(j)),
            Col::Bool(a) => a.value(i) == a.value(j),
        }
    }

    /// Appends row `i`'s value, encoded, to `out`.
    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        if self.is_null(i) {
            out.push(0);
            return;
        }
        out.push(1);
        match self {
            Col::Text(a) => {
                let s = a.value(i).as_bytes();
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s);
            }
            // Big-endian with the sign flipped: byte order is numeric order (the finished
            // `quantiles_ordered` groups of a forecast in key order stay in order).
            Col::Int(a) => out.extend_from_slice(&((a.value(i) as u64) ^ (1 << 63)).to_be_bytes()),
            Col::Float(a) => out.extend_from_slice(&float_bits(a.value(i)).to_le_bytes()),
            Col::Bool(a) => out.push(a.value(i) as u8),
        }
    }

    /// Row `i`'s value as 64 bits, for numbers (`None`: NULL or not a number).
    fn word(&self, i: usize) -> Option<u64> {
        match self {
            Col::Int(a) if a.is_valid(i) => Some(a.value(i) as u64),
            Col::Float(a) if a.is_valid(i) => Some(float_bits(a.value(i))),
            _ => None,
        }
    }

    fn has_nulls(&self) -> bool {
        match self {
            Col::Text(a) => a.null_count() > 0,
            Col::Int(a) => a.null_count() > 0,
            Col::Float(a) => a.null_count() > 0,
            Col::Bool(a) => a.null_count() > 0,
        }
    }

    /// Where row `i`'s value differs from row `i - 1`'s (as [`Col::same`] says), as a
    /// bitmap (row 0 never set): one typed, branch-free pass per column rather than a
    /// dispatch per row.
    fn changes(&self) -> BooleanBuffer {
        let n = self.len();
        // Row 0 compares with itself: no branch for it in the loops.
        let prev = |i: usize| i.saturating_sub(1);
        if self.has_nulls() {
            return BooleanBuffer::collect_bool(n, |i| !self.same(i, prev(i)));
        }
        match self {
            Col::Text(a) => {
                let views = a.views();
                if let Some(changes) = short_view_changes(views) {
                    return changes;
                }
                BooleanBuffer::collect_bool(n, |i| {
                    let (x, y) = (views[prev(i)], views[i]);
                    // Equal views are equal strings; longer ones with the same length
                    // and prefix compare their bytes.
                    x != y
                        && ((x as u32) <= 12
                            || x as u64 != y as u64
                            || a.value(prev(i)) != a.value(i))
                })
            }
            Col::Int(a) => pack_changes(a.values(), |x, y| x != y),
            Col::Float(a) => pack_changes(a.values(), |x, y| float_bits(x) != float_bits(y)),
            Col::Bool(a) => {
                let v = a.values();
                BooleanBuffer::collect_bool(n, |i| v.value(i) != v.value(prev(i)))
            }
        }
    }

    /// Row `i`'s value as `f64` (numbers; NaN for the rest).
    fn number(&self, i: usize) -> f64 {
        match self {
            Col::Float(a) => a.value(i),
            Col::Int(a) => a.value(i) as f64,
            _ => f64::NAN,
        }
    }

    /// The values as `f64` (numbers; NaN for the rest), borrowed when they are floats.
    fn f64s(&self) -> std::borrow::Cow<'_, [f64]> {
        match self {
            Col::Float(a) => std::borrow::Cow::Borrowed(a.values()),
            Col::Int(a) => a.values().iter().map(|&v| v as f64).collect(),
            _ => vec![f64::NAN; self.len()].into(),
        }
    }

    fn len(&self) -> usize {
        match self {
            Col::Text(a) => a.len(),
            Col::Int(a) => a.len(),
            Col::Float(a) => a.len(),
            Col::Bool(a) => a.len(),
        }
    }
}

/// One batch's columns, in their canonical forms, with the arrays they were read from.
struct Cols<'a> {
    cols: Vec<Col>,
    arrays: &'a [ArrayRef],
    canons: &'a [Canon],
}

impl<'a> Cols<'a> {
    fn new(arrays: &'a [ArrayRef], canons: &'a [Canon]) -> Result<Cols<'a>> {
        let cols = arrays
            .iter()
            .zip(canons)
            .map(|(a, c)| Col::new(a, *c))
            .collect::<Result<_>>()?;
        Ok(Cols {
            cols,
            arrays,
            canons,
        })
    }

    fn encode(&self, range: std::ops::Range<usize>, i: usize, out: &mut Vec<u8>) {
        out.clear();
        for c in &self.cols[range] {
            c.encode(i, out);
        }
    }

    /// The runs of rows of `rows` whose key (the columns of `range`) is the same, as
    /// `start..end` ranges in order. Each column's changes are found once per batch
    /// whichever checks ask ([`changes`]).
    fn key_runs(&self, range: std::ops::Range<usize>, rows: usize) -> Vec<std::ops::Range<usize>> {
        let mut changed: Option<BooleanBuffer> = None;
        for d in range {
            let c = changes::of(&self.arrays[d], self.canons[d], || self.cols[d].changes());
            changed = Some(match changed {
                None => c,
                Some(b) => &b | &c,
            });
        }
        let mut runs = Vec::new();
        let mut start = 0;
        for i in changed.iter().flat_map(|c| c.set_indices()) {
            runs.push(start..i);
            start = i;
        }
        if rows > 0 {
            runs.push(start..rows);
        }
        runs
    }
}

/// What a [`Native`] aggregate computes.
#[derive(Debug)]
pub(crate) enum NativeKind {
    /// `not_constant`: keys = the series, then the column.
    NotConstant,
    /// `quantiles_ordered` (long): keys = the `by` columns, then level and value.
    QuantileOrder {
        /// Decreases up to this pass.
        tolerance: f64,
    },
    /// `completeness`: one key per grid dimension, each with its values' positions.
    Grid {
        /// Per dimension, the required values and their positions.
        dims: Vec<Dim>,
    },
}

/// Builds a native aggregate's call over `columns` (keys first), or `None` when a column
/// has no canonical form.
pub(crate) fn call(kind: NativeKind, columns: &[(&str, &DataType)], keys: usize) -> Option<Expr> {
    let canons = columns
        .iter()
        .map(|(_, dt)| Canon::of(dt))
        .collect::<Option<Vec<_>>>()?;
    if matches!(kind, NativeKind::QuantileOrder { .. })
        && canons[keys..].iter().any(|c| !c.is_number())
    {
        return None;
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let udaf = Native {
        name: format!("sluice_native_{}", NEXT.fetch_add(1, Ordering::Relaxed)),
        signature: Signature::variadic_any(Volatility::Immutable),
        spec: Arc::new(Spec { kind, canons, keys }),
    };
    let args = columns
        .iter()
        .map(|(c, _)| Expr::Column(datafusion::common::Column::new_unqualified(*c)))
        .collect();
    Some(AggregateUDF::from(udaf).call(args))
}

/// The positions of a grid dimension's values (`values` cast to the column's type), or
/// `None` when the column has no canonical form.
pub(crate) fn dimension(values: &[ArrayRef], column_type: &DataType) -> Option<Dim> {
    let canon = Canon::of(column_type)?;
    let cols = values
        .iter()
        .map(|a| Col::new(a, canon).ok())
        .collect::<Option<Vec<_>>>()?;
    let mut rows: Vec<(&Col, usize)> = (cols.iter())
        .flat_map(|c| (0..c.len()).filter(|&i| !c.is_null(i)).map(move |i| (c, i)))
        .collect();
    if canon.is_number() {
        // Positions in numeric order, whatever order the values came in: forecasts write
        // their horizons and levels ascending, and a run of rows then meets them in
        // position order ([`mark_words`]). The order only makes that faster.
        let number = |(c, i): &(&Col, usize)| c.number(*i);
        rows.sort_by(|a, b| number(a).total_cmp(&number(b)));
    }
    let mut dim = Dim::default();
    let mut key = Vec::new();
    for (col, i) in rows {
        key.clear();
        col.encode(i, &mut key);
        let next = dim.bytes.len() as u32;
        let pos = *dim.bytes.entry(key.as_slice().into()).or_insert(next);
        if let Some(w) = col.word(i) {
            dim.words.insert(w, pos);
            if pos == next {
                dim.by_pos.push(w);
            }
        }
    }
    Some(dim)
}

/// The two numbers of a native aggregate's result.
pub(crate) fn result(v: &ScalarValue) -> Option<(u64, u64)> {
    let ScalarValue::List(list) = v else {
        return None;
    };
    if list.is_null(0) {
        return None;
    }
    let values = list.value(0);
    let values = values.as_primitive::<Int64Type>();
    (values.len() == 2).then(|| (values.value(0) as u64, values.value(1) as u64))
}

#[derive(Debug)]
struct Spec {
    kind: NativeKind,
    canons: Vec<Canon>,
    keys: usize,
}

/// The aggregate function of one check.
#[derive(Debug)]
struct Native {
    name: String,
    signature: Signature,
    spec: Arc<Spec>,
}

impl PartialEq for Native {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Native {}

impl std::hash::Hash for Native {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl AggregateUDFImpl for Native {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Int64,
            true,
        ))))
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let spec = self.spec.clone();
        Ok(match &spec.kind {
            NativeKind::Grid { dims } => Box::new(GridCount {
                seen: vec![0; (dims.iter().map(|d| d.len()).product::<usize>()).div_ceil(64)],
                spec,
                on_grid: 0,
            }),
            NativeKind::QuantileOrder { .. } => Box::new(Runs {
                spec,
                open: Vec::new(),
                closed: Finished::default(),
                closed_units: 0,
                closed_failing: 0,
                unknown: false,
            }),
            NativeKind::NotConstant => Box::new(Grouped {
                spec,
                groups: Map::default(),
                states: Vec::new(),
                bytes: 0,
            }),
        })
    }

    fn state_fields(&self, _args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new("state", DataType::Binary, true))])
    }
}

fn list(a: u64, b: u64) -> ScalarValue {
    let v = [a, b].map(|x| ScalarValue::Int64(Some(x as i64)));
    ScalarValue::List(ScalarValue::new_list_nullable(&v, &DataType::Int64))
}

fn corrupt() -> DataFusionError {
    DataFusionError::Internal("a native aggregate's state does not decode".into())
}

/// Reads a little-endian number of `N` bytes.
fn take<const N: usize>(bytes: &mut &[u8]) -> Result<[u8; N]> {
    let (head, rest) = bytes.split_at_checked(N).ok_or_else(corrupt)?;
    *bytes = rest;
    Ok(head.try_into().expect("N bytes"))
}

/// The next `n` little-endian 64-bit words of `bytes`, read in one piece.
fn take_words<'a>(bytes: &mut &'a [u8], n: usize) -> Result<impl Iterator<Item = u64> + 'a> {
    let len = n
        .checked_mul(8)
        .filter(|&l| l <= bytes.len())
        .ok_or_else(corrupt)?;
    let (words, rest) = bytes.split_at(len);
    *bytes = rest;
    Ok(words
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))))
}

fn take_bytes<'a>(bytes: &mut &'a [u8]) -> Result<&'a [u8]> {
    let n = u32::from_le_bytes(take::<4>(bytes)?) as usize;
    let (head, rest) = bytes.split_at_checked(n).ok_or_else(corrupt)?;
    *bytes = rest;
    Ok(head)
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// A `(level, value)` pair.
type Pair = (f64, f64);

/// The order pairs sort in: by level, then value ([`crate::quantile_order`]).
fn in_order(a: Pair, b: Pair) -> bool {
    a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)).is_le()
}

/// Pairs met in sorted order, summarised: the first, the last, and the largest drop
/// between neighbours (`None` with one pair) — all the check needs of them.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Run {
    first: Pair,
    last: Pair,
    drop: Option<f64>,
}

impl Run {
    fn at(p: Pair) -> Run {
        Run {
            first: p,
            last: p,
            drop: None,
        }
    }

    /// `a` then `b`, if `b` starts where `a` ends or later.
    fn then(a: Run, b: Run) -> Option<Run> {
        in_order(a.last, b.first).then(|| {
            let drops = [a.drop, b.drop, Some(a.last.1 - b.first.1)];
            Run {
                first: a.first,
                last: b.last,
                drop: drops.into_iter().flatten().reduce(f64::max),
            }
        })
    }
}

impl Run {
    /// The run of the pairs `(levels[i], values[i])`, if they are in sorted order
    /// (`None`: one is out of order). `levels` is not empty.
    fn of(levels: &[f64], values: &[f64]) -> Option<Run> {
        let n = levels.len();
        let (l0, l1) = (&levels[..n - 1], &levels[1..]);
        let (v0, v1) = (&values[..n - 1], &values[1..]);
        // Rising levels are in order whatever the values (the common case: one vectorised
        // pass); equal or unordered levels go by the whole order.
        let rising = l0.iter().zip(l1).fold(true, |ok, (a, b)| ok & (a < b));
        let sorted = rising
            || (l0.iter().zip(l1).zip(v0.iter().zip(v1)))
                .all(|((&a, &b), (&x, &y))| in_order((a, x), (b, y)));
        if !sorted {
            return None;
        }
        // The largest drop, skipping NaN (`d > m` is false for it), in four independent
        // lanes so the comparisons do not wait on each other.
        let mut lanes = [f64::NEG_INFINITY; 4];
        let (c0, c1) = (v0.chunks_exact(4), v1.chunks_exact(4));
        let tail = c0.remainder().iter().zip(c1.remainder());
        for (a, b) in c0.zip(c1) {
            for k in 0..4 {
                let d = a[k] - b[k];
                if d > lanes[k] {
                    lanes[k] = d;
                }
            }
        }
        for (a, b) in tail {
            if a - b > lanes[0] {
                lanes[0] = a - b;
            }
        }
        Some(Run {
            first: (levels[0], values[0]),
            last: (levels[n - 1], values[n - 1]),
            drop: (n > 1).then(|| lanes.into_iter().fold(f64::NEG_INFINITY, f64::max)),
        })
    }
}

/// A `quantiles_ordered` group's pairs so far.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Sorted {
    /// None yet.
    Empty,
    /// In sorted order: their run.
    Run(Run),
    /// One came out of order.
    Unsorted,
}

impl Sorted {
    /// These pairs, then `p`.
    fn push(self, p: Pair) -> Sorted {
        match self {
            Sorted::Empty => Sorted::Run(Run::at(p)),
            Sorted::Run(r) => Run::then(r, Run::at(p)).map_or(Sorted::Unsorted, Sorted::Run),
            Sorted::Unsorted => Sorted::Unsorted,
        }
    }

    /// These pairs, then those of `next`.
    fn then(self, next: Sorted) -> Sorted {
        match (self, next) {
            (Sorted::Empty, x) | (x, Sorted::Empty) => x,
            (Sorted::Run(a), Sorted::Run(b)) => {
                Run::then(a, b).map_or(Sorted::Unsorted, Sorted::Run)
            }
            _ => Sorted::Unsorted,
        }
    }

    /// Both as one, if one run follows the other.
    fn merge(self, other: Sorted) -> Sorted {
        match (self, other) {
            (Sorted::Empty, x) | (x, Sorted::Empty) => x,
            (Sorted::Run(a), Sorted::Run(b)) => Run::then(a, b)
                .or_else(|| Run::then(b, a))
                .map_or(Sorted::Unsorted, Sorted::Run),
            _ => Sorted::Unsorted,
        }
    }
}

impl Sorted {
    fn write(&self, out: &mut Vec<u8>) {
        let r = match self {
            Sorted::Run(r) => r,
            Sorted::Empty => return out.push(1),
            Sorted::Unsorted => return out.push(2),
        };
        out.push(0);
        for x in [r.first.0, r.first.1, r.last.0, r.last.1] {
            out.extend_from_slice(&x.to_le_bytes());
        }
        match r.drop {
            Some(d) => {
                out.push(1);
                out.extend_from_slice(&d.to_le_bytes());
            }
            None => out.push(0),
        }
    }

    fn read(bytes: &mut &[u8]) -> Result<Sorted> {
        let f = |bytes: &mut &[u8]| take::<8>(bytes).map(f64::from_le_bytes);
        let [tag] = take::<1>(bytes)?;
        match tag {
            0 => {}
            1 => return Ok(Sorted::Empty),
            _ => return Ok(Sorted::Unsorted),
        }
        let (first, last) = ((f(bytes)?, f(bytes)?), (f(bytes)?, f(bytes)?));
        let [has] = take::<1>(bytes)?;
        let drop = if has == 1 { Some(f(bytes)?) } else { None };
        Ok(Sorted::Run(Run { first, last, drop }))
    }
}

/// A `not_constant` series: its first non-NULL value (encoded), and whether another
/// differed.
#[derive(Debug, Default)]
struct Series {
    first: Option<Box<[u8]>>,
    varies: bool,
}

impl Series {
    fn merge(&mut self, other: Series) {
        self.varies |= other.varies;
        match (self.first.as_ref(), other.first) {
            (None, f) => self.first = f,
            (Some(a), Some(b)) if *a != b => self.varies = true,
            _ => {}
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.push(self.varies as u8);
        match &self.first {
            Some(f) => {
                out.push(1);
                put_bytes(out, f);
            }
            None => out.push(0),
        }
    }

    fn read(bytes: &mut &[u8]) -> Result<Series> {
        let [varies, has] = take::<2>(bytes)?;
        let first = if has == 1 {
            Some(take_bytes(bytes)?.into())
        } else {
            None
        };
        Ok(Series {
            first,
            varies: varies == 1,
        })
    }
}

/// The accumulator of `not_constant`: every series by its key.
#[derive(Debug)]
struct Grouped {
    spec: Arc<Spec>,
    groups: Map<u32>,
    states: Vec<Series>,
    /// Memory held by the groups, approximately.
    bytes: usize,
}

impl Grouped {
    fn group(&mut self, key: &[u8]) -> usize {
        if let Some(&g) = self.groups.get(key) {
            return g as usize;
        }
        let g = self.states.len();
        self.groups.insert(key.into(), g as u32);
        self.bytes += key.len() + 96;
        self.states.push(Series::default());
        g
    }
}

impl Accumulator for Grouped {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let spec = self.spec.clone();
        let cols = Cols::new(values, &spec.canons)?;
        let k = spec.keys;
        let rows = values.first().map_or(0, |a| a.len());
        let column = &cols.cols[k];
        let mut key = Vec::new();
        let mut value = Vec::new();
        for run in cols.key_runs(0..k, rows) {
            cols.encode(0..k, run.start, &mut key);
            let g = self.group(&key);
            let series = &mut self.states[g];
            if series.varies {
                continue;
            }
            // The run's first value, and whether every other equals it.
            let mut values = run.filter(|&i| !column.is_null(i));
            let Some(f) = values.next() else {
                continue;
            };
            if values.any(|i| !column.same(i, f)) {
                series.varies = true;
                continue;
            }
            value.clear();
            column.encode(f, &mut value);
            match &series.first {
                None => {
                    series.first = Some(value.as_slice().into());
                    self.bytes += value.len();
                }
                Some(first) if **first != *value => series.varies = true,
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.groups.len() as u32).to_le_bytes());
        for (key, &g) in &self.groups {
            put_bytes(&mut out, key);
            self.states[g as usize].write(&mut out);
        }
        Ok(vec![ScalarValue::Binary(Some(out))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for b in states[0].as_binary::<i32>().iter().flatten() {
            self.bytes += b.len();
            let mut bytes = b;
            let n = u32::from_le_bytes(take::<4>(&mut bytes)?);
            for _ in 0..n {
                let key = take_bytes(&mut bytes)?;
                let series = Series::read(&mut bytes)?;
                let g = self.group(key);
                self.states[g].merge(series);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let failing = self.states.iter().filter(|s| !s.varies).count();
        Ok(list(self.states.len() as u64, failing as u64))
    }

    /// Kept as a running count: DataFusion asks after every batch, and summing over the
    /// groups each time made the scan quadratic.
    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.bytes
    }
}

/// Hashes a group key (for the set of finished groups).
fn key_hash(key: &[u8]) -> u64 {
    let mut h = Fx::default();
    h.write(key);
    h.write_u64(key.len() as u64);
    h.finish()
}

/// Whether a finished group fails: its largest drop exceeds the tolerance.
fn fails(sorted: Sorted, tolerance: f64) -> bool {
    matches!(sorted, Sorted::Run(r) if r.drop.is_some_and(|d| d.total_cmp(&tolerance).is_gt()))
}

/// A key range, `[first, last]`.
type KeyRange = (Box<[u8]>, Box<[u8]>);

/// The keys of the finished `quantiles_ordered` groups, to notice one coming back. While
/// they finish in increasing byte order (a forecast written in key order) no key can have
/// finished twice: their hashes are only listed, with the key range of each partition,
/// and a set is built only when the order breaks or two partitions' ranges overlap.
#[derive(Debug, Default)]
struct Finished {
    /// While in order: every finished key's hash, in the order they finished.
    hashes: Vec<u64>,
    /// While in order: the key ranges, one per partition merged (`[first, last]`).
    ranges: Vec<KeyRange>,
    /// This partition's first and last finished key, while in order.
    first: Option<Box<[u8]>>,
    last: Vec<u8>,
    /// Once out of order: the hashes as a set (and `hashes`, `ranges` no longer kept).
    set: Option<HashSet<u64, BuildHasherDefault<Fx>>>,
}

impl Finished {
    /// Adds a finished key; false if it had finished before.
    fn add(&mut self, key: &[u8]) -> bool {
        let h = key_hash(key);
        if let Some(set) = &mut self.set {
            return set.insert(h);
        }
        match &self.first {
            None => self.first = Some(key.into()),
            Some(_) if *key > *self.last => {}
            Some(_) => {
                self.make_set();
                return self.add(key);
            }
        }
        self.last.clear();
        self.last.extend_from_slice(key);
        self.hashes.push(h);
        true
    }

    /// Switches to a set; false if a hash was listed twice.
    fn make_set(&mut self) -> bool {
        if self.set.is_some() {
            return true;
        }
        let mut set = HashSet::with_capacity_and_hasher(self.hashes.len(), Default::default());
        let mut unique = true;
        for h in std::mem::take(&mut self.hashes) {
            unique &= set.insert(h);
        }
        (self.ranges, self.first) = (Vec::new(), None);
        self.set = Some(set);
        unique
    }

    /// The key ranges in order: those merged, and this partition's own.
    fn all_ranges(&self) -> Vec<(&[u8], &[u8])> {
        let own = self.first.as_deref().map(|f| (f, self.last.as_slice()));
        (self.ranges.iter().map(|(a, b)| (&**a, &**b)))
            .chain(own)
            .collect()
    }

    /// Whether `key` has finished.
    fn contains(&self, key: &[u8]) -> bool {
        let h = key_hash(key);
        match &self.set {
            Some(set) => set.contains(&h),
            None => {
                self.all_ranges()
                    .iter()
                    .any(|(a, b)| *a <= key && key <= *b)
                    && self.hashes.contains(&h)
            }
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        fn put_hashes<'a>(out: &mut Vec<u8>, hashes: impl ExactSizeIterator<Item = &'a u64>) {
            out.extend_from_slice(&(hashes.len() as u64).to_le_bytes());
            for h in hashes {
                out.extend_from_slice(&h.to_le_bytes());
            }
        }
        match &self.set {
            Some(set) => {
                out.push(0);
                put_hashes(out, set.iter());
            }
            None => {
                out.push(1);
                let ranges = self.all_ranges();
                out.extend_from_slice(&(ranges.len() as u32).to_le_bytes());
                for (a, b) in ranges {
                    put_bytes(out, a);
                    put_bytes(out, b);
                }
                put_hashes(out, self.hashes.iter());
            }
        }
    }

    /// Merges another's written state; false if a key finished in both.
    fn merge(&mut self, bytes: &mut &[u8]) -> Result<bool> {
        let [ordered] = take::<1>(bytes)?;
        let mut theirs = Vec::new();
        if ordered == 1 {
            for _ in 0..u32::from_le_bytes(take::<4>(bytes)?) {
                theirs.push((take_bytes(bytes)?.into(), take_bytes(bytes)?.into()));
            }
        }
        let n = u64::from_le_bytes(take::<8>(bytes)?);
        let disjoint = ordered == 1
            && theirs.iter().all(|(a, b): &KeyRange| {
                self.all_ranges()
                    .iter()
                    .all(|(c, d)| **b < **c || **d < **a)
            });
        let mut unique = true;
        if disjoint && self.set.is_none() {
            if let Some(f) = self.first.take() {
                self.ranges.push((f, self.last.as_slice().into()));
            }
            self.ranges.extend(theirs);
        } else {
            unique &= self.make_set();
        }
        let n = usize::try_from(n).map_err(|_| corrupt())?;
        let hashes = take_words(bytes, n)?;
        match &mut self.set {
            Some(set) => {
                for h in hashes {
                    unique &= set.insert(h);
                }
            }
            None => self.hashes.extend(hashes),
        }
        Ok(unique)
    }

    fn size(&self) -> usize {
        self.hashes.capacity() * 8
            + self.last.capacity()
            + self.set.as_ref().map_or(0, |s| s.capacity() * 16)
    }
}

/// The accumulator of the long `quantiles_ordered`, for groups whose rows are contiguous
/// (a forecast written group by group): a group is finished when its key run ends and
/// only counted, its key kept as a 64-bit hash to notice it coming back. The partition's
/// first group (it may continue the previous partition's last) and its current one stay
/// open and are merged by key. A key met again after its group finished — in this
/// partition or another — leaves the result unknown: the check's own query counts.
#[derive(Debug)]
struct Runs {
    spec: Arc<Spec>,
    /// The open groups: the partition's first, then its current one.
    open: Vec<(Vec<u8>, Sorted)>,
    /// The finished groups' keys.
    closed: Finished,
    closed_units: u64,
    closed_failing: u64,
    unknown: bool,
}

impl Runs {
    fn tolerance(&self) -> f64 {
        match self.spec.kind {
            NativeKind::QuantileOrder { tolerance } => tolerance,
            _ => 0.0,
        }
    }

    /// Finishes a group: counted, its key remembered by hash.
    fn close(&mut self, key: &[u8], sorted: Sorted) {
        if !self.closed.add(key) {
            self.unknown = true;
        }
        self.closed_units += 1;
        self.closed_failing += fails(sorted, self.tolerance()) as u64;
    }

    /// The open group of `key`, opening it (and finishing the current one) if needed.
    fn open(&mut self, key: &[u8]) -> usize {
        if let Some(i) = self.open.iter().position(|(k, _)| **k == *key) {
            return i;
        }
        // A key whose group was finished is noticed when it is finished again (`close`)
        // or, still open at the end, by `evaluate`: no lookup here.
        // The finished group's key buffer is the new one's: no allocation per group.
        let mut buffer = Vec::new();
        if self.open.len() == 2 {
            let (k, s) = self.open.pop().expect("two open groups");
            self.close(&k, s);
            buffer = k;
        }
        buffer.clear();
        buffer.extend_from_slice(key);
        self.open.push((buffer, Sorted::Empty));
        self.open.len() - 1
    }
}

impl Accumulator for Runs {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if self.unknown {
            return Ok(());
        }
        let spec = self.spec.clone();
        let cols = Cols::new(values, &spec.canons)?;
        let k = spec.keys;
        let rows = values.first().map_or(0, |a| a.len());
        let (level, value) = (&cols.cols[k], &cols.cols[k + 1]);
        let nulls = level.has_nulls() || value.has_nulls();
        let (levels, values) = (level.f64s(), value.f64s());
        let mut key = Vec::new();
        for run in cols.key_runs(0..k, rows) {
            // The run's pairs, and the row whose key opens its group.
            let (first, pairs) = if nulls {
                // Rows without a level or a value are not pairs; a run of only those
                // opens no group.
                let mut rows = run.filter(|&i| !level.is_null(i) && !value.is_null(i));
                let Some(first) = rows.next() else {
                    continue;
                };
                let pairs = rows.fold(
                    Sorted::Empty.push((levels[first], values[first])),
                    |s, i| s.push((levels[i], values[i])),
                );
                (first, pairs)
            } else {
                let pairs = Run::of(&levels[run.clone()], &values[run.clone()]);
                (run.start, pairs.map_or(Sorted::Unsorted, Sorted::Run))
            };
            cols.encode(0..k, first, &mut key);
            let g = self.open(&key);
            if self.unknown {
                return Ok(());
            }
            let sorted = &mut self.open[g].1;
            *sorted = sorted.then(pairs);
            if *sorted == Sorted::Unsorted {
                self.unknown = true;
                return Ok(());
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut out = vec![self.unknown as u8];
        if !self.unknown {
            out.extend_from_slice(&self.closed_units.to_le_bytes());
            out.extend_from_slice(&self.closed_failing.to_le_bytes());
            self.closed.write(&mut out);
            out.extend_from_slice(&(self.open.len() as u32).to_le_bytes());
            for (key, sorted) in &self.open {
                put_bytes(&mut out, key);
                sorted.write(&mut out);
            }
        }
        Ok(vec![ScalarValue::Binary(Some(out))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for b in states[0].as_binary::<i32>().iter().flatten() {
            let mut bytes = b;
            let [unknown] = take::<1>(&mut bytes)?;
            if unknown == 1 || self.unknown {
                self.unknown = true;
                continue;
            }
            let word = |bytes: &mut &[u8]| take::<8>(bytes).map(u64::from_le_bytes);
            self.closed_units += word(&mut bytes)?;
            self.closed_failing += word(&mut bytes)?;
            if !self.closed.merge(&mut bytes)? {
                self.unknown = true;
            }
            let n = u32::from_le_bytes(take::<4>(&mut bytes)?);
            for _ in 0..n {
                let key = take_bytes(&mut bytes)?;
                let sorted = Sorted::read(&mut bytes)?;
                match self.open.iter_mut().find(|(k, _)| **k == *key) {
                    Some((_, s)) => *s = s.merge(sorted),
                    None => self.open.push((key.to_vec(), sorted)),
                }
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let open_again = self.open.iter().any(|(k, _)| self.closed.contains(k));
        if self.unknown || open_again || self.open.iter().any(|(_, s)| *s == Sorted::Unsorted) {
            return Ok(ScalarValue::List(ScalarValue::new_list_nullable(
                &[],
                &DataType::Int64,
            )));
        }
        let tolerance = self.tolerance();
        let failing = self
            .open
            .iter()
            .filter(|(_, s)| fails(*s, tolerance))
            .count() as u64;
        Ok(list(
            self.closed_units + self.open.len() as u64,
            self.closed_failing + failing,
        ))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.closed.size() + self.open.len() * 64
    }
}

/// Sets bits `start..start + len` of `seen`, a word at a time.
fn set_bits(seen: &mut [u64], start: u64, len: u64) {
    let (mut i, end) = (start, start + len);
    while i < end {
        let (w, b) = ((i / 64) as usize, i % 64);
        let n = (64 - b).min(end - i);
        seen[w] |= (u64::MAX >> (64 - n)) << b;
        i += n;
    }
}

/// Marks the grid cells of one run's rows (`offset` + the innermost dimension's position
/// of `word(v)`, the canonical 64 bits of each value `v` of `values`); returns how many rows
/// were on the grid. A run that is a stretch of the dimension in grid order (a forecast's
/// levels, written in order) is checked in one comparison pass of the values' raw bits
/// (`raw`: equal to a canonical word only when the value's bits are canonical; `-0` for
/// `0` takes the row-by-row way) and marked as a range of bits. Any other is walked row by
/// row, each new value predicted as the one after the previous in grid order before any
/// lookup. `dim.by_pos` is not empty, nor is `values`.
fn mark_words<T: Copy>(
    seen: &mut [u64],
    offset: u64,
    dim: &Dim,
    values: &[T],
    word: impl Fn(T) -> u64,
    raw: impl Fn(T) -> u64,
) -> u64 {
    let start = dim.after(None, word(values[0])).map(|p| p as usize);
    if let Some(p) = start.filter(|p| p + values.len() <= dim.by_pos.len()) {
        let stretch = &dim.by_pos[p..p + values.len()];
        let in_order = (values.iter().zip(stretch)).fold(true, |ok, (&v, &w)| ok & (raw(v) == w));
        if in_order {
            set_bits(seen, offset + p as u64, values.len() as u64);
            return values.len() as u64;
        }
    }
    let mut on_grid = 0;
    let (mut pos, mut last) = (None::<u32>, None::<u64>);
    for &v in values {
        let w = word(v);
        if last != Some(w) {
            pos = dim.after(pos, w);
            last = Some(w);
        }
        if let Some(p) = pos {
            on_grid += 1;
            set_bits(seen, offset + p as u64, 1);
        }
    }
    on_grid
}

/// The accumulator of `completeness`: a bit per grid cell and the rows on the grid.
#[derive(Debug)]
struct GridCount {
    spec: Arc<Spec>,
    seen: Vec<u64>,
    on_grid: u64,
}

impl Dim {
    /// The position of the number whose 64 bits are `w`, when the previous value met had
    /// position `previous`: the next position in grid order (wrapping round; the first
    /// when there is none) is checked before any lookup, so values met in grid order —
    /// a forecast's levels, its next horizon — are never looked up. `by_pos` is not empty.
    fn after(&self, previous: Option<u32>, w: u64) -> Option<u32> {
        let next = previous.map_or(0, |p| p as usize + 1) % self.by_pos.len();
        if self.by_pos[next] == w {
            Some(next as u32)
        } else {
            self.words.get(&w).copied()
        }
    }

    /// The position of row `i`'s value of `col` (None: NULL or not on the grid).
    fn position(&self, col: &Col, number: bool, i: usize, key: &mut Vec<u8>) -> Option<u32> {
        if number {
            return col.word(i).and_then(|w| self.words.get(&w).copied());
        }
        key.clear();
        col.encode(i, key);
        self.bytes.get(key.as_slice()).copied()
    }
}

impl Accumulator for GridCount {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let NativeKind::Grid { dims } = &self.spec.kind else {
            return Ok(());
        };
        let Some(inner) = dims.len().checked_sub(1) else {
            // No dimension: every row is on the one cell.
            let rows = values.first().map_or(0, |a| a.len()) as u64;
            self.on_grid += rows;
            if rows > 0 {
                self.seen[0] |= 1;
            }
            return Ok(());
        };
        let cols = Cols::new(values, &self.spec.canons)?;
        let rows = values.first().map_or(0, |a| a.len());
        let number = |d: usize| self.spec.canons[d].is_number();
        let (col, dim) = (&cols.cols[inner], &dims[inner]);
        let size = dim.len() as u64;
        // Numbers on the innermost dimension are read by their 64 bits ([`mark_words`]).
        let words = number(inner) && !dim.by_pos.is_empty() && !col.has_nulls();
        let mut key = Vec::new();
        // Rows of a run share the outer dimensions' values: their cell's base is found once
        // per run, and only the innermost dimension is read row by row. A run changes one
        // outer dimension at a time (the horizon, not the series): per outer dimension, the
        // row whose position was last looked up, and that position.
        let mut known: Vec<Option<(usize, Option<u32>)>> = vec![None; inner];
        for run in cols.key_runs(0..inner, rows) {
            let mut base = Some(0u64);
            for (d, outer) in dims[..inner].iter().enumerate() {
                let c = &cols.cols[d];
                let p = match known[d] {
                    Some((j, p)) if c.same(run.start, j) => p,
                    before => {
                        // Numbers are predicted in grid order (the next horizon).
                        let word = number(d).then(|| c.word(run.start)).flatten();
                        let p = match word {
                            Some(w) if !outer.by_pos.is_empty() => {
                                outer.after(before.and_then(|(_, p)| p), w)
                            }
                            _ => outer.position(c, number(d), run.start, &mut key),
                        };
                        known[d] = Some((run.start, p));
                        p
                    }
                };
                base = base.zip(p).map(|(b, p)| b * outer.len() as u64 + p as u64);
            }
            let Some(base) = base else {
                continue;
            };
            let offset = base * size;
            match col {
                Col::Float(a) if words => {
                    let v = &a.values()[run];
                    self.on_grid +=
                        mark_words(&mut self.seen, offset, dim, v, float_bits, f64::to_bits);
                }
                Col::Int(a) if words => {
                    let v = &a.values()[run];
                    let word = |x: i64| x as u64;
                    self.on_grid += mark_words(&mut self.seen, offset, dim, v, word, word);
                }
                _ => {
                    let mut pos = None;
                    for i in run.clone() {
                        if i == run.start || !col.same(i, i - 1) {
                            pos = dim.position(col, number(inner), i, &mut key);
                        }
                        if let Some(p) = pos {
                            self.on_grid += 1;
                            set_bits(&mut self.seen, offset + p as u64, 1);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut out = Vec::with_capacity(8 + self.seen.len() * 8);
        out.extend_from_slice(&self.on_grid.to_le_bytes());
        for w in &self.seen {
            out.extend_from_slice(&w.to_le_bytes());
        }
        Ok(vec![ScalarValue::Binary(Some(out))])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for b in states[0].as_binary::<i32>().iter().flatten() {
            let mut bytes = b;
            self.on_grid += u64::from_le_bytes(take::<8>(&mut bytes)?);
            let words = take_words(&mut bytes, self.seen.len())?;
            for (w, b) in self.seen.iter_mut().zip(words) {
                *w |= b;
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let distinct: u64 = self.seen.iter().map(|w| w.count_ones() as u64).sum();
        Ok(list(self.on_grid, distinct))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.seen.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};

    fn arrays(loc: &[Option<&str>], x: &[f64]) -> Vec<ArrayRef> {
        vec![
            Arc::new(StringArray::from(loc.to_vec())),
            Arc::new(Float64Array::from(x.to_vec())),
        ]
    }

    fn grouped(kind: NativeKind, canons: Vec<Canon>, keys: usize) -> Grouped {
        Grouped {
            spec: Arc::new(Spec { kind, canons, keys }),
            groups: Map::default(),
            states: Vec::new(),
            bytes: 0,
        }
    }

    fn runs(tolerance: f64) -> Runs {
        Runs {
            spec: Arc::new(Spec {
                kind: NativeKind::QuantileOrder { tolerance },
                canons: vec![Canon::Int, Canon::Float, Canon::Float],
                keys: 1,
            }),
            open: Vec::new(),
            closed: Finished::default(),
            closed_units: 0,
            closed_failing: 0,
            unknown: false,
        }
    }

    #[test]
    fn not_constant_counts_series_with_one_value_across_partitions() {
        let mk = || grouped(NativeKind::NotConstant, vec![Canon::Text, Canon::Float], 1);
        let (mut a, mut b) = (mk(), mk());
        // a: x constant so far, y varies; b: x differs (-> varies), z only 0.0 and -0.0.
        a.update_batch(&arrays(
            &[Some("x"), Some("x"), Some("y"), Some("y")],
            &[1.0, 1.0, 1.0, 2.0],
        ))
        .unwrap();
        b.update_batch(&arrays(
            &[Some("x"), Some("z"), Some("z"), None],
            &[3.0, 0.0, -0.0, 5.0],
        ))
        .unwrap();
        let state = b.state().unwrap().remove(0).to_array().unwrap();
        a.merge_batch(&[state]).unwrap();
        // Series: x (varies), y (varies), z (constant), NULL (one value).
        assert_eq!(result(&a.evaluate().unwrap()), Some((4, 2)));
    }

    #[test]
    fn quantile_order_counts_sorted_groups_and_gives_up_on_unsorted_ones() {
        let run = |levels: Vec<Option<f64>>, values: Vec<f64>| {
            let mut a = runs(0.01);
            let g: ArrayRef = Arc::new(Int64Array::from(vec![1, 1, 1, 1, 2, 2, 3]));
            let l: ArrayRef = Arc::new(Float64Array::from(levels));
            let v: ArrayRef = Arc::new(Float64Array::from(values));
            a.update_batch(&[g, l, v]).unwrap();
            result(&a.evaluate().unwrap())
        };
        let values = vec![1.0, 2.0, 5.0, 4.0, 3.0, 2.995, 1.0];
        // Group 1: 1, 2, 5, 4 drops by 1 (fails); group 2 drops by 0.005 (within the
        // tolerance); group 3 has only a NULL level: not a group.
        let sorted = vec![
            Some(0.1),
            Some(0.5),
            Some(0.9),
            Some(0.95),
            Some(0.1),
            Some(0.9),
            None,
        ];
        assert_eq!(run(sorted, values.clone()), Some((2, 1)));
        // Group 1's levels out of row order: no answer here; its own query sorts.
        let unsorted = vec![
            Some(0.9),
            Some(0.1),
            Some(0.5),
            Some(0.95),
            Some(0.1),
            Some(0.9),
            None,
        ];
        assert_eq!(run(unsorted, values), None);
    }

    /// A partition's state of one group `g` with these pairs, in this order.
    fn levels_state(pairs: &[(f64, f64)]) -> ArrayRef {
        let mut a = runs(0.0);
        let g: ArrayRef = Arc::new(Int64Array::from(vec![7; pairs.len()]));
        let l: ArrayRef = Arc::new(Float64Array::from_iter_values(pairs.iter().map(|p| p.0)));
        let v: ArrayRef = Arc::new(Float64Array::from_iter_values(pairs.iter().map(|p| p.1)));
        a.update_batch(&[g, l, v]).unwrap();
        a.state().unwrap().remove(0).to_array().unwrap()
    }

    fn merged(parts: &[&[(f64, f64)]]) -> Option<(u64, u64)> {
        let mut a = runs(0.0);
        for p in parts {
            a.merge_batch(&[levels_state(p)]).unwrap();
        }
        result(&a.evaluate().unwrap())
    }

    #[test]
    fn sorted_runs_from_two_partitions_join_in_either_order() {
        // 1, 2 | 3, 2.5: the drop is at the join's far side.
        assert_eq!(
            merged(&[&[(0.1, 1.0), (0.2, 2.0)], &[(0.3, 3.0), (0.4, 2.5)]]),
            Some((1, 1))
        );
        assert_eq!(
            merged(&[&[(0.3, 3.0), (0.4, 2.5)], &[(0.1, 1.0), (0.2, 2.0)]]),
            Some((1, 1))
        );
        // A drop across the join: 1, 5 | 4, 6.
        assert_eq!(
            merged(&[&[(0.1, 1.0), (0.2, 5.0)], &[(0.3, 4.0), (0.4, 6.0)]]),
            Some((1, 1))
        );
        assert_eq!(
            merged(&[&[(0.1, 1.0), (0.2, 2.0)], &[(0.3, 3.0), (0.4, 4.0)]]),
            Some((1, 0))
        );
        // Pairs out of order in one partition, or interleaved runs: no answer (the
        // check's own query sorts them).
        assert_eq!(
            merged(&[&[(0.1, 1.0), (0.2, 2.0)], &[(0.4, 4.0), (0.3, 3.0)]]),
            None
        );
        assert_eq!(
            merged(&[&[(0.1, 1.0), (0.3, 3.0)], &[(0.2, 2.0), (0.4, 4.0)]]),
            None
        );
    }

    #[test]
    fn grid_counts_cells_rows_on_it_and_merges() {
        let dim = |v: &[&str]| {
            dimension(
                &[Arc::new(StringArray::from(v.to_vec())) as ArrayRef],
                &DataType::Utf8,
            )
            .unwrap()
        };
        let dims = vec![dim(&["a", "b"]), dim(&["1", "2", "3"])];
        let spec = Arc::new(Spec {
            kind: NativeKind::Grid { dims },
            canons: vec![Canon::Text, Canon::Text],
            keys: 2,
        });
        let mk = || GridCount {
            spec: spec.clone(),
            seen: vec![0; 1],
            on_grid: 0,
        };
        let (mut a, mut b) = (mk(), mk());
        let batch = |x: &[Option<&str>], y: &[&str]| -> Vec<ArrayRef> {
            vec![
                Arc::new(StringArray::from(x.to_vec())),
                Arc::new(StringArray::from(y.to_vec())),
            ]
        };
        a.update_batch(&batch(
            &[Some("a"), Some("a"), Some("a"), Some("c")],
            &["1", "1", "2", "1"],
        ))
        .unwrap();
        b.update_batch(&batch(&[Some("b"), None, Some("a")], &["3", "1", "2"]))
            .unwrap();
        let state = b.state().unwrap().remove(0).to_array().unwrap();
        a.merge_batch(&[state]).unwrap();
        // On the grid: a1 a1 a2 b3 a2 = 5 rows, 3 distinct cells (of 6).
        assert_eq!(result(&a.evaluate().unwrap()), Some((5, 3)));
    }

    #[test]
    fn key_runs_split_where_any_key_column_changes_whatever_its_type() {
        use datafusion::arrow::array::BooleanArray;
        let long = "a string longer than twelve bytes";
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some(long),
            Some(long),
            Some("short"),
            Some("short"),
            None,
            None,
            Some("a string longer than twelve bytez"),
        ]));
        let flag: ArrayRef = Arc::new(BooleanArray::from(vec![
            true, true, true, false, false, false, false,
        ]));
        let level: ArrayRef =
            Arc::new(Float64Array::from(vec![0.0, -0.0, 1.0, 1.0, 1.0, 1.0, 1.0]));
        let arrays = [text, flag, level];
        let cols = Cols::new(&arrays, &[Canon::Text, Canon::Bool, Canon::Float]).unwrap();
        // 0 and -0 are one value; NULLs equal each other; a long string differing in its
        // last byte is another.
        assert_eq!(cols.key_runs(0..3, 7), vec![0..2, 2..3, 3..4, 4..6, 6..7]);
        assert_eq!(cols.key_runs(0..1, 7), vec![0..2, 2..4, 4..6, 6..7]);
        assert_eq!(cols.key_runs(0..0, 7), vec![0..7]);
    }

    #[test]
    fn rows_without_a_level_or_value_are_skipped_and_a_group_of_only_those_is_not_one() {
        let mut r = runs(0.0);
        let g: ArrayRef = Arc::new(Int64Array::from(vec![1, 1, 1, 2, 2, 3, 3]));
        let l: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(0.1),
            None,
            Some(0.9),
            None,
            Some(0.5),
            Some(0.1),
            Some(0.9),
        ]));
        // Group 1 rises around its NULL level; group 2 has no pair whole; group 3 falls.
        let v: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.0),
            Some(9.0),
            Some(2.0),
            Some(1.0),
            None,
            Some(5.0),
            Some(1.0),
        ]));
        r.update_batch(&[g, l, v]).unwrap();
        assert_eq!(result(&r.evaluate().unwrap()), Some((2, 1)));
    }

    #[test]
    fn an_empty_batch_has_no_runs_and_counts_nothing() {
        let empty = || -> Vec<ArrayRef> {
            vec![
                Arc::new(Int64Array::from(Vec::<i64>::new())),
                Arc::new(Float64Array::from(Vec::<f64>::new())),
                Arc::new(Float64Array::from(Vec::<f64>::new())),
            ]
        };
        let arrays = empty();
        let cols = Cols::new(&arrays, &[Canon::Int, Canon::Float, Canon::Float]).unwrap();
        assert!(cols.key_runs(0..1, 0).is_empty());
        let mut r = runs(0.0);
        r.update_batch(&empty()).unwrap();
        assert_eq!(result(&r.evaluate().unwrap()), Some((0, 0)));
    }

    #[test]
    fn a_number_dimension_finds_values_in_grid_order_out_of_it_and_off_it() {
        let levels = dimension(
            &[Arc::new(Float64Array::from(vec![0.1, 0.5, 0.9, 0.5])) as ArrayRef],
            &DataType::Float64,
        )
        .unwrap();
        let spec = Arc::new(Spec {
            kind: NativeKind::Grid { dims: vec![levels] },
            canons: vec![Canon::Float],
            keys: 1,
        });
        let mut g = GridCount {
            spec,
            seen: vec![0; 1],
            on_grid: 0,
        };
        // In order, wrapping round, repeated, out of order, off the grid, and -0 for 0.
        let x = [0.1, 0.5, 0.9, 0.1, 0.1, 0.9, 0.5, 0.3, 0.9, 0.1];
        g.update_batch(&[Arc::new(Float64Array::from(x.to_vec())) as ArrayRef])
            .unwrap();
        assert_eq!(result(&g.evaluate().unwrap()), Some((9, 3)));
        let mut z = GridCount {
            seen: vec![0; 1],
            on_grid: 0,
            spec: Arc::new(Spec {
                kind: NativeKind::Grid {
                    dims: vec![
                        dimension(
                            &[Arc::new(Float64Array::from(vec![0.0, 1.0])) as ArrayRef],
                            &DataType::Float64,
                        )
                        .unwrap(),
                    ],
                },
                canons: vec![Canon::Float],
                keys: 1,
            }),
        };
        z.update_batch(&[Arc::new(Float64Array::from(vec![-0.0, 2.0, 1.0])) as ArrayRef])
            .unwrap();
        assert_eq!(result(&z.evaluate().unwrap()), Some((2, 2)));
    }

    #[test]
    fn packed_changes_match_row_by_row_comparison_at_every_length() {
        for n in [0, 1, 2, 63, 64, 65, 127, 128, 130, 1000] {
            let v: Vec<i64> = (0..n as i64).map(|i| i / 3 + (i % 7 == 0) as i64).collect();
            let packed = pack_changes(&v, |x, y| x != y);
            assert_eq!(packed.len(), n);
            for i in 0..n {
                assert_eq!(packed.value(i), i > 0 && v[i] != v[i - 1], "n {n} row {i}");
            }
        }
    }

    #[test]
    fn a_run_of_pairs_equals_pushing_them_one_by_one() {
        let cases: Vec<(Vec<f64>, Vec<f64>)> = vec![
            (vec![0.5], vec![3.0]),
            (
                (0..9).map(|i| i as f64).collect(),
                vec![1., 2., 2., 5., 4., 6., 9., 8.5, 10.],
            ),
            (
                (0..7).map(|i| i as f64).collect(),
                vec![1., f64::NAN, 3., 2., 4., 5., 6.],
            ),
            (vec![0.1, 0.1, 0.5, 0.9], vec![1., 2., 3., 1.]), // equal levels, values rising
            (vec![0.1, 0.1, 0.5], vec![2., 1., 3.]),          // equal levels, values falling
            (vec![0.1, 0.5, 0.3], vec![1., 2., 3.]),          // levels out of order
            (vec![0.1, f64::NAN, 0.9], vec![1., 2., 3.]),     // a NaN level sorts last
        ];
        for (levels, values) in cases {
            let pushed =
                (levels.iter().zip(&values)).fold(Sorted::Empty, |s, (&l, &v)| s.push((l, v)));
            let run = Run::of(&levels, &values).map_or(Sorted::Unsorted, Sorted::Run);
            assert_eq!(
                format!("{run:?}"),
                format!("{pushed:?}"),
                "{levels:?} {values:?}"
            );
        }
    }

    #[test]
    fn truncated_states_are_errors_not_panics() {
        let mut g = GridCount {
            spec: Arc::new(Spec {
                kind: NativeKind::Grid { dims: vec![] },
                canons: vec![],
                keys: 0,
            }),
            seen: vec![0; 2],
            on_grid: 0,
        };
        // A count and one word where two are due.
        let short: ArrayRef = Arc::new(datafusion::arrow::array::BinaryArray::from(vec![
            &[0u8; 16][..],
        ]));
        assert!(g.merge_batch(&[short]).is_err());
        let mut f = Finished::default();
        // A set of three hashes with the bytes of two.
        let mut bytes: &[u8] = &[&[0u8][..], &3u64.to_le_bytes(), &[7u8; 16]].concat();
        assert!(f.merge(&mut bytes).is_err());
        let mut whole: &[u8] = &[&[0u8][..], &2u64.to_le_bytes(), &[7u8; 8], &[9u8; 8]].concat();
        assert!(f.merge(&mut whole).unwrap() && whole.is_empty());
    }

    #[test]
    fn short_string_changes_match_row_by_row_and_give_way_to_long_ones() {
        for n in [1, 2, 63, 64, 65, 200, 1000] {
            let values: Vec<String> = (0..n)
                .map(|i| format!("L{:03}", i / 70 + (i % 97 == 5) as usize))
                .collect();
            let array = StringViewArray::from_iter_values(&values);
            let packed = short_view_changes(array.views()).expect("all short");
            for i in 0..n {
                assert_eq!(
                    packed.value(i),
                    i > 0 && values[i] != values[i - 1],
                    "n {n} row {i}"
                );
            }
        }
        let long =
            StringViewArray::from_iter_values(["a"; 100].into_iter().chain(["thirteen byte"]));
        assert!(short_view_changes(long.views()).is_none());
    }

    #[test]
    fn set_bits_sets_exactly_its_range_across_words() {
        for (start, len) in [(0, 0), (0, 64), (3, 5), (60, 10), (63, 1), (1, 190)] {
            let mut seen = vec![0u64; 4];
            set_bits(&mut seen, start, len);
            for bit in 0..256 {
                let set = seen[bit / 64] >> (bit % 64) & 1 == 1;
                assert_eq!(
                    set,
                    (start..start + len).contains(&(bit as u64)),
                    "{start}+{len} bit {bit}"
                );
            }
        }
    }

    #[test]
    fn grid_runs_in_order_mid_grid_repeated_or_off_it_count_as_row_by_row() {
        // An outer integer dimension of 3 and an inner one of 70 float levels (cells cross
        // bitmap words); batches cut runs mid-grid; some runs repeat, skip or leave the grid.
        let levels: Vec<f64> = (0..70).map(|i| i as f64 / 100.0).collect();
        let dims = vec![
            dimension(
                &[Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef],
                &DataType::Int64,
            )
            .unwrap(),
            // Given out of order: positions follow the numbers' order.
            dimension(
                &[
                    Arc::new(Float64Array::from_iter_values(levels.iter().rev().copied()))
                        as ArrayRef,
                ],
                &DataType::Float64,
            )
            .unwrap(),
        ];
        assert_eq!(
            dims[1].by_pos,
            levels.iter().map(|&l| float_bits(l)).collect::<Vec<_>>()
        );
        let spec = Arc::new(Spec {
            kind: NativeKind::Grid { dims },
            canons: vec![Canon::Int, Canon::Float],
            keys: 2,
        });
        let mut rows: Vec<(i64, f64)> = Vec::new();
        rows.extend(levels.iter().map(|&l| (1, l))); // in order, whole
        rows.extend(levels[..30].iter().map(|&l| (2, l))); // in order, cut by a batch below
        rows.extend(levels[30..].iter().map(|&l| (2, l)));
        rows.extend([(3, 0.0), (3, 0.01), (3, 0.01), (3, 0.02)]); // a repeat
        rows.extend([(2, -0.0), (2, 0.01), (2, 0.02)]); // in order, -0 for 0
        rows.extend([(1, 0.5), (1, 0.555), (1, 0.6)]); // off the grid
        rows.extend([(3, 0.69), (3, 0.0), (3, -0.0)]); // wrapping; -0 is 0
        rows.extend([(4, 0.1), (3, 0.3), (3, 0.2)]); // an outer value off it; out of order
        let mut g = GridCount {
            spec,
            seen: vec![0; 4],
            on_grid: 0,
        };
        for part in [&rows[..100], &rows[100..]] {
            let outer: Vec<i64> = part.iter().map(|r| r.0).collect();
            let inner: Vec<f64> = part.iter().map(|r| r.1).collect();
            g.update_batch(&[
                Arc::new(Int64Array::from(outer)) as ArrayRef,
                Arc::new(Float64Array::from(inner)),
            ])
            .unwrap();
        }
        // Row by row: on the grid when both values are; distinct cells by value.
        let on: Vec<(i64, u64)> = rows
            .iter()
            .filter(|(o, l)| (1..=3).contains(o) && levels.iter().any(|x| x == l))
            .map(|&(o, l)| (o, float_bits(l)))
            .collect();
        let distinct: HashSet<_> = on.iter().collect();
        assert_eq!(
            result(&g.evaluate().unwrap()),
            Some((on.len() as u64, distinct.len() as u64))
        );
    }

    #[test]
    fn finished_groups_are_counted_and_a_group_met_again_gives_no_answer() {
        let part = |groups: &[i64]| {
            let mut a = runs(0.0);
            let g: ArrayRef = Arc::new(Int64Array::from_iter_values(
                groups.iter().flat_map(|&g| [g, g]),
            ));
            let l: ArrayRef = Arc::new(Float64Array::from_iter_values(
                groups.iter().flat_map(|_| [0.1, 0.9]),
            ));
            // Group 2 decreases; the others rise.
            let v: ArrayRef = Arc::new(Float64Array::from_iter_values(
                groups
                    .iter()
                    .flat_map(|&g| if g == 2 { [5.0, 1.0] } else { [1.0, 5.0] }),
            ));
            a.update_batch(&[g, l, v]).unwrap();
            a.state().unwrap().remove(0).to_array().unwrap()
        };
        let merged = |parts: &[&[i64]]| {
            let mut a = runs(0.0);
            for p in parts {
                a.merge_batch(&[part(p)]).unwrap();
            }
            result(&a.evaluate().unwrap())
        };
        // Five groups over two partitions, group 2 decreasing.
        assert_eq!(merged(&[&[1, 2, 3], &[4, 5]]), Some((5, 1)));
        assert_eq!(merged(&[&[4, 5], &[1, 2, 3]]), Some((5, 1)));
        // Group 2 again, after it finished: in the same partition, or in another.
        assert_eq!(merged(&[&[1, 2, 3, 2]]), None);
        assert_eq!(merged(&[&[1, 2, 3], &[4, 2, 5]]), None);
        // Keys finishing out of order, or partitions whose key ranges overlap, are
        // checked one by one: no false alarm, and a key met again still caught.
        assert_eq!(merged(&[&[5, 4, 3, 2, 1]]), Some((5, 1)));
        assert_eq!(merged(&[&[5, 4, 3, 2, 1, 4]]), None);
        assert_eq!(
            merged(&[&[1, 3, 5, 7, 9], &[2, 4, 6, 8, 10]]),
            Some((10, 1))
        );
        assert_eq!(merged(&[&[1, 3, 5, 7, 9], &[2, 4, 5, 8, 10]]), None);
        // Negative keys sort before positive ones (the key bytes keep numeric order).
        assert_eq!(merged(&[&[-3, -2, -1], &[0, 1, 2, 3]]), Some((7, 1)));
        assert_eq!(merged(&[&[-3, -2, -1, 0], &[1, -2, 3]]), None);
        // A partition's first group continuing the previous one's last joins it.
        let mut a = runs(0.0);
        let batch = |g: Vec<i64>, l: Vec<f64>, v: Vec<f64>| -> Vec<ArrayRef> {
            vec![
                Arc::new(Int64Array::from(g)),
                Arc::new(Float64Array::from(l)),
                Arc::new(Float64Array::from(v)),
            ]
        };
        let mut first = runs(0.0);
        first
            .update_batch(&batch(vec![1, 7], vec![0.1, 0.1], vec![1.0, 1.0]))
            .unwrap();
        let mut second = runs(0.0);
        second
            .update_batch(&batch(vec![7, 8], vec![0.5, 0.1], vec![0.5, 1.0]))
            .unwrap();
        for p in [&mut first, &mut second] {
            a.merge_batch(&[p.state().unwrap().remove(0).to_array().unwrap()])
                .unwrap();
        }
        // Group 7: 1.0 at 0.1, then 0.5 at 0.5: a drop.
        assert_eq!(result(&a.evaluate().unwrap()), Some((3, 1)));
    }

    #[test]
    fn numeric_grid_dimensions_look_up_by_their_bits() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![0.1, 0.5]));
        let dims = vec![
            dimension(&[ints], &DataType::Int32).unwrap(),
            dimension(&[floats], &DataType::Float64).unwrap(),
        ];
        let mut a = GridCount {
            seen: vec![0; 1],
            on_grid: 0,
            spec: Arc::new(Spec {
                kind: NativeKind::Grid { dims },
                canons: vec![Canon::Int, Canon::Float],
                keys: 2,
            }),
        };
        let h: ArrayRef = Arc::new(Int64Array::from(vec![1, 1, 2, 3, 2, 2]));
        let q: ArrayRef = Arc::new(Float64Array::from(vec![0.1, 0.5, 0.1, 0.1, 0.5, 0.5]));
        a.update_batch(&[h, q]).unwrap();
        // (3, 0.1) is off the grid; (2, 0.5) is there twice: 5 rows on 4 cells.
        assert_eq!(result(&a.evaluate().unwrap()), Some((5, 4)));
    }

    #[test]
    fn text_equality_uses_the_whole_string() {
        let a: ArrayRef = Arc::new(StringArray::from(vec![
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "abcdefghijklmnoq",
            "short",
        ]));
        let c = Col::new(&a, Canon::Text).unwrap();
        assert!(!c.same(0, 1));
        assert!(c.same(1, 2));
        assert!(!c.same(2, 3));
    }
}
