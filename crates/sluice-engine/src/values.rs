//! Arrow values -> JSON and numbers, for observed values and failing-row samples.

use chrono::{DateTime, TimeZone, Utc};
use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::ScalarValue;
use serde_json::{Map, Number, Value};

/// The value at `row` of `array` as JSON: numbers, strings and booleans natively, anything
/// else (dates, timestamps, decimals, nested) as its Arrow display string.
pub fn json_at(array: &dyn Array, row: usize) -> Value {
    if array.data_type() == &DataType::Null || array.is_null(row) {
        return Value::Null;
    }
    match ScalarValue::try_from_array(array, row) {
        Ok(s) => match s {
            ScalarValue::Boolean(Some(b)) => Value::Bool(b),
            ScalarValue::Int8(Some(v)) => v.into(),
            ScalarValue::Int16(Some(v)) => v.into(),
            ScalarValue::Int32(Some(v)) => v.into(),
            ScalarValue::Int64(Some(v)) => v.into(),
            ScalarValue::UInt8(Some(v)) => v.into(),
            ScalarValue::UInt16(Some(v)) => v.into(),
            ScalarValue::UInt32(Some(v)) => v.into(),
            ScalarValue::UInt64(Some(v)) => v.into(),
            ScalarValue::Float32(Some(v)) => float(f64::from(v)),
            ScalarValue::Float64(Some(v)) => float(v),
            ScalarValue::Utf8(Some(v))
            | ScalarValue::LargeUtf8(Some(v))
            | ScalarValue::Utf8View(Some(v)) => Value::String(v),
            ScalarValue::Dictionary(_, inner) => match *inner {
                ScalarValue::Utf8(Some(v))
                | ScalarValue::LargeUtf8(Some(v))
                | ScalarValue::Utf8View(Some(v)) => Value::String(v),
                other => Value::String(other.to_string()),
            },
            _ => display(array, row),
        },
        Err(_) => display(array, row),
    }
}

fn display(array: &dyn Array, row: usize) -> Value {
    let opts = FormatOptions::default();
    match ArrayFormatter::try_new(array, &opts) {
        Ok(f) => Value::String(f.value(row).to_string()),
        Err(_) => Value::String("<unprintable>".into()),
    }
}

/// A float as JSON; NaN and infinities (not JSON numbers) as strings.
pub fn float(v: f64) -> Value {
    Number::from_f64(v)
        .map(Value::Number)
        .unwrap_or_else(|| Value::String(v.to_string()))
}

/// Every row of `batches` as a JSON object of column -> value.
pub fn rows(batches: &[RecordBatch]) -> Vec<Map<String, Value>> {
    let mut out = Vec::new();
    for b in batches {
        let schema = b.schema();
        for r in 0..b.num_rows() {
            let mut m = Map::new();
            for (i, f) in schema.fields().iter().enumerate() {
                m.insert(f.name().clone(), json_at(b.column(i).as_ref(), r));
            }
            out.push(m);
        }
    }
    out
}

/// A numeric scalar as f64 (`None` for NULL or non-numbers).
pub fn as_f64(s: &ScalarValue) -> Option<f64> {
    if s.is_null() {
        return None;
    }
    match s.cast_to(&DataType::Float64) {
        Ok(ScalarValue::Float64(v)) => v,
        _ => None,
    }
}

/// An integer scalar as i64 (`None` for NULL or values that don't fit).
pub fn as_i64(s: &ScalarValue) -> Option<i64> {
    match s.cast_to(&DataType::Int64) {
        Ok(ScalarValue::Int64(v)) => v,
        _ => None,
    }
}

/// An integer scalar (counts) as u64; NULL counts as 0.
pub fn as_u64(s: &ScalarValue) -> u64 {
    match s.cast_to(&DataType::Int64) {
        Ok(ScalarValue::Int64(Some(v))) => v.max(0) as u64,
        _ => 0,
    }
}

/// A date or timestamp scalar as a UTC instant. Timestamps without a time zone are read as
/// UTC; a date is its midnight UTC.
pub fn as_instant(s: &ScalarValue) -> Option<DateTime<Utc>> {
    let (v, unit) = match s {
        ScalarValue::TimestampSecond(Some(v), _) => (*v, TimeUnit::Second),
        ScalarValue::TimestampMillisecond(Some(v), _) => (*v, TimeUnit::Millisecond),
        ScalarValue::TimestampMicrosecond(Some(v), _) => (*v, TimeUnit::Microsecond),
        ScalarValue::TimestampNanosecond(Some(v), _) => (*v, TimeUnit::Nanosecond),
        ScalarValue::Date32(Some(d)) => (i64::from(*d) * 86_400, TimeUnit::Second),
        ScalarValue::Date64(Some(ms)) => (*ms, TimeUnit::Millisecond),
        _ => return None,
    };
    let nanos = match unit {
        TimeUnit::Second => v.checked_mul(1_000_000_000)?,
        TimeUnit::Millisecond => v.checked_mul(1_000_000)?,
        TimeUnit::Microsecond => v.checked_mul(1_000)?,
        TimeUnit::Nanosecond => v,
    };
    Some(Utc.timestamp_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
    };

    #[test]
    fn json_values() {
        let nulls = datafusion::arrow::array::NullArray::new(2);
        assert_eq!(json_at(&nulls, 1), Value::Null);
        let ints = Int64Array::from(vec![Some(7), None]);
        assert_eq!(json_at(&ints, 0), Value::from(7));
        assert_eq!(json_at(&ints, 1), Value::Null);
        let f = Float64Array::from(vec![1.5, f64::NAN]);
        assert_eq!(json_at(&f, 0), Value::from(1.5));
        assert_eq!(json_at(&f, 1), Value::from("NaN"));
        let s = StringArray::from(vec!["é x"]);
        assert_eq!(json_at(&s, 0), Value::from("é x"));
        let ts = TimestampMicrosecondArray::from(vec![1_735_686_000_000_000]);
        assert_eq!(json_at(&ts, 0), Value::from("2024-12-31T23:00:00"));
    }

    #[test]
    fn instants() {
        let s = ScalarValue::TimestampMicrosecond(Some(1_735_686_000_000_000), None);
        assert_eq!(
            as_instant(&s).unwrap().to_rfc3339(),
            "2024-12-31T23:00:00+00:00"
        );
        let d = ScalarValue::Date32(Some(1));
        assert_eq!(
            as_instant(&d).unwrap().to_rfc3339(),
            "1970-01-02T00:00:00+00:00"
        );
        assert_eq!(as_instant(&ScalarValue::Int64(Some(1))), None);
    }
}
