//! `sluice_regexp_like(text, pattern)`: DataFusion's `regexp_like` (the same `regex`
//! syntax and NULL handling, no flags) with the pattern compiled once per run instead of
//! once per batch. DataFusion's compiles a constant pattern for every 8,192-row batch (610
//! times on 5M rows); keeping it took 15% of the CPU time off the shared benchmark.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use regex::Regex;

/// The SQL name of [`RegexpLike`].
pub const REGEXP_LIKE: &str = "sluice_regexp_like";

/// Compiled patterns, by pattern.
static COMPILED: LazyLock<Mutex<HashMap<String, Arc<Regex>>>> = LazyLock::new(Default::default);

fn compiled(pattern: &str) -> Result<Arc<Regex>> {
    let mut map = COMPILED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(re) = map.get(pattern) {
        return Ok(re.clone());
    }
    let re = Arc::new(Regex::new(pattern).map_err(|e| {
        datafusion::error::DataFusionError::Execution(format!(
            "regular expression `{pattern}` did not compile: {e}"
        ))
    })?);
    map.insert(pattern.to_string(), re.clone());
    Ok(re)
}

/// `sluice_regexp_like(text, pattern)`: whether `text` matches `pattern` anywhere (as
/// `regexp_like`); NULL when either is NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RegexpLike {
    signature: Signature,
}

impl Default for RegexpLike {
    fn default() -> Self {
        use DataType::*;
        let exact = |t: DataType| TypeSignature::Exact(vec![t, Utf8]);
        RegexpLike {
            signature: Signature::one_of(
                vec![exact(Utf8View), exact(Utf8), exact(LargeUtf8)],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for RegexpLike {
    fn name(&self) -> &str {
        REGEXP_LIKE
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [text, pattern] = args.args.as_slice() else {
            return exec_err!("{REGEXP_LIKE} takes a text and a pattern");
        };
        let array: ArrayRef = match text {
            ColumnarValue::Array(a) => a.clone(),
            ColumnarValue::Scalar(s) => s.to_array_of_size(args.number_rows)?,
        };
        let texts = strings(&array)?;
        let out: BooleanArray = match pattern {
            // The usual case: one pattern for every row.
            ColumnarValue::Scalar(p) => match text_of(p)? {
                None => BooleanArray::new_null(array.len()),
                Some(p) => {
                    let re = compiled(&p)?;
                    texts.map(|v| v.map(|s| re.is_match(s))).collect()
                }
            },
            ColumnarValue::Array(p) => {
                let patterns: Vec<Option<&str>> = strings(p)?.collect();
                texts
                    .zip(patterns)
                    .map(|(v, p)| match (v, p) {
                        (Some(s), Some(p)) => compiled(p).map(|re| Some(re.is_match(s))),
                        _ => Ok(None),
                    })
                    .collect::<Result<BooleanArray>>()?
            }
        };
        Ok(match text {
            ColumnarValue::Scalar(_) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
            }
            ColumnarValue::Array(_) => ColumnarValue::Array(Arc::new(out)),
        })
    }
}

/// The values of a text array.
fn strings(a: &ArrayRef) -> Result<Box<dyn Iterator<Item = Option<&str>> + '_>> {
    Ok(match a.data_type() {
        DataType::Utf8View => Box::new(a.as_string_view().iter()),
        DataType::Utf8 => Box::new(a.as_string::<i32>().iter()),
        DataType::LargeUtf8 => Box::new(a.as_string::<i64>().iter()),
        other => return exec_err!("{REGEXP_LIKE}: cannot match a {other} value"),
    })
}

/// A text scalar's value.
fn text_of(s: &ScalarValue) -> Result<Option<String>> {
    match s {
        ScalarValue::Utf8(p) | ScalarValue::Utf8View(p) | ScalarValue::LargeUtf8(p) => {
            Ok(p.clone())
        }
        ScalarValue::Null => Ok(None),
        other => exec_err!("{REGEXP_LIKE}: the pattern is {other:?}, not text"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn agrees_with_regexp_like_on_values_nulls_and_anchors() {
        let ctx = SessionContext::new();
        ctx.register_udf(datafusion::logical_expr::ScalarUDF::from(
            RegexpLike::default(),
        ));
        let sql = "SELECT regexp_like(t, p) = sluice_regexp_like(t, p) \
                   OR (regexp_like(t, p) IS NULL AND sluice_regexp_like(t, p) IS NULL) \
                   FROM (VALUES ('a@b.io'), ('nope'), (NULL), ('ÄÖ@x.de'), ('')) AS v(t), \
                        (VALUES ('^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$'), ('b'), ('^$'), ('\\w+')) AS q(p)";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let mut n = 0;
        for b in &batches {
            let col = b.column(0).as_boolean();
            for i in 0..col.len() {
                assert!(col.value(i), "row {i} of {b:?}");
                n += 1;
            }
        }
        assert_eq!(n, 20);
    }

    #[tokio::test]
    async fn a_bad_pattern_is_an_error_naming_it() {
        let ctx = SessionContext::new();
        ctx.register_udf(datafusion::logical_expr::ScalarUDF::from(
            RegexpLike::default(),
        ));
        let e = ctx
            .sql("SELECT sluice_regexp_like('a', '(')")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap_err();
        assert!(e.to_string().contains("`(` did not compile"), "{e}");
    }
}
