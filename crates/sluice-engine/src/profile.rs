//! A dataset's profile for scaffolding a config (`sluice init --from`): its columns with
//! their types and nullability, its row count, each column's nulls, and which columns could
//! be its key — integer or UUID columns with no NULL and no repeated value.
//!
//! The dataset is opened as every run opens it ([`crate::source::open`]), and profiled in
//! two queries: one scan for the row count, the null counts and how many values of each
//! string column look like UUIDs; a second for the distinct counts of the key candidates.

use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;
use sluice_spec::{ColumnType, Dataset, Format, TextFormat};

use crate::compile::{ident, is_integer, is_string, type_matches, value_type};
use crate::error::{SourceError, SourceErrorKind, df_message};
use crate::query::first_row;
use crate::source;
use crate::values::as_u64;

/// One column of a [`Profile`].
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnProfile {
    /// The column's name.
    pub name: String,
    /// Its type, as a `schema` check writes it (`any` for a type the check cannot name).
    pub column_type: ColumnType,
    /// Whether the file's schema allows NULLs (CSV and JSON schemas always do: they are
    /// inferred).
    pub nullable: bool,
    /// NULLs in the data.
    pub nulls: u64,
    /// The column could be the dataset's key: an integer or UUID column with no NULL and
    /// as many distinct values as rows.
    pub key_candidate: Option<KeyKind>,
}

/// Why a column could be a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// Unique integers.
    Integer,
    /// Unique UUIDs (as text).
    Uuid,
}

/// What [`profile`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// The format read.
    pub format: Format,
    /// Files read.
    pub files: usize,
    /// Rows.
    pub rows: u64,
    /// The columns, in schema order (partition columns last).
    pub columns: Vec<ColumnProfile>,
}

/// Opens `ds` and profiles it.
pub async fn profile(ds: &Dataset) -> Result<Profile, SourceError> {
    let ctx = crate::session::new_session(None, None)
        .map_err(|e| SourceError::new(SourceErrorKind::Invalid, &ds.location, e.to_string()))?;
    let source = source::open(&ctx, ds).await?;
    let fail = |e: datafusion::error::DataFusionError| {
        SourceError::new(SourceErrorKind::Invalid, &ds.location, df_message(&e))
    };
    let table = ident(&ds.name);
    let fields: Vec<_> = source.schema.fields().iter().cloned().collect();

    // 1. Rows, non-null values per column, UUID-looking values per string column.
    let mut aggs = vec!["count(*)".to_string()];
    for f in &fields {
        aggs.push(format!("count({})", ident(f.name())));
    }
    let uuid_re = TextFormat::Uuid.regex();
    let strings: Vec<usize> = (0..fields.len())
        .filter(|&i| is_string(fields[i].data_type()))
        .collect();
    for &i in &strings {
        aggs.push(format!(
            "count(*) FILTER (WHERE regexp_like({}, '{uuid_re}'))",
            ident(fields[i].name())
        ));
    }
    let row = one_row(&ctx, &format!("SELECT {} FROM {table}", aggs.join(", ")))
        .await
        .map_err(fail)?;
    let rows = as_u64(&row[0]);
    let non_null: Vec<u64> = (0..fields.len()).map(|i| as_u64(&row[1 + i])).collect();
    let uuids: Vec<u64> = (0..strings.len())
        .map(|j| as_u64(&row[1 + fields.len() + j]))
        .collect();

    // 2. Distinct values of the candidates: no NULL, integers or all UUIDs.
    let candidates: Vec<(usize, KeyKind)> = (0..fields.len())
        .filter(|&i| rows > 0 && non_null[i] == rows)
        .filter_map(|i| {
            if is_integer(fields[i].data_type())
                || matches!(value_type(fields[i].data_type()), DataType::UInt64)
            {
                Some((i, KeyKind::Integer))
            } else {
                let j = strings.iter().position(|&s| s == i)?;
                (uuids[j] == rows).then_some((i, KeyKind::Uuid))
            }
        })
        .collect();
    let mut unique = vec![None; fields.len()];
    if !candidates.is_empty() {
        let distinct: Vec<String> = candidates
            .iter()
            .map(|(i, _)| format!("count(DISTINCT {})", ident(fields[*i].name())))
            .collect();
        let row = one_row(
            &ctx,
            &format!("SELECT {} FROM {table}", distinct.join(", ")),
        )
        .await
        .map_err(fail)?;
        for ((i, kind), v) in candidates.iter().zip(&row) {
            if as_u64(v) == rows {
                unique[*i] = Some(*kind);
            }
        }
    }

    let columns = fields
        .iter()
        .enumerate()
        .map(|(i, f)| ColumnProfile {
            name: f.name().clone(),
            column_type: column_type(f.data_type()),
            nullable: f.is_nullable(),
            nulls: rows - non_null[i].min(rows),
            key_candidate: unique[i],
        })
        .collect();
    Ok(Profile {
        format: source.format,
        files: source.files,
        rows,
        columns,
    })
}

async fn one_row(
    ctx: &SessionContext,
    sql: &str,
) -> Result<Vec<datafusion::scalar::ScalarValue>, datafusion::error::DataFusionError> {
    let batches = ctx.sql(sql).await?.collect().await?;
    first_row(&batches)
}

/// The `schema` check type of an Arrow type: the narrowest one that matches it, `any`
/// when none does (lists, structs...).
pub fn column_type(dt: &DataType) -> ColumnType {
    let dt = value_type(dt);
    let t = match dt {
        DataType::Int8 => ColumnType::Int(8),
        DataType::Int16 => ColumnType::Int(16),
        DataType::Int32 => ColumnType::Int(32),
        DataType::Int64 => ColumnType::Int(64),
        DataType::UInt8 => ColumnType::UInt(8),
        DataType::UInt16 => ColumnType::UInt(16),
        DataType::UInt32 => ColumnType::UInt(32),
        DataType::UInt64 => ColumnType::UInt(64),
        DataType::Float32 => ColumnType::Float(32),
        DataType::Float64 => ColumnType::Float(64),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => {
            ColumnType::Decimal(Some((*p, *s)))
        }
        DataType::Boolean => ColumnType::Boolean,
        DataType::Date32 | DataType::Date64 => ColumnType::Date,
        DataType::Timestamp(_, None) => ColumnType::Timestamp,
        DataType::Timestamp(_, Some(_)) => ColumnType::TimestampTz,
        DataType::Time32(_) | DataType::Time64(_) => ColumnType::Time,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => ColumnType::Binary,
        d if is_string(d) => ColumnType::String,
        _ => ColumnType::Any,
    };
    if type_matches(&t, dt) {
        t
    } else {
        ColumnType::Any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::TimeUnit;

    #[test]
    fn each_type_is_named_as_the_schema_check_matches_it() {
        let types = [
            DataType::Int8,
            DataType::Int64,
            DataType::UInt32,
            DataType::Float32,
            DataType::Float64,
            DataType::Decimal128(10, 2),
            DataType::Utf8,
            DataType::Utf8View,
            DataType::Boolean,
            DataType::Date32,
            DataType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Timestamp(TimeUnit::Second, Some("UTC".into())),
            DataType::Binary,
        ];
        for dt in types {
            let t = column_type(&dt);
            assert_ne!(t, ColumnType::Any, "{dt}");
            assert!(type_matches(&t, &dt), "{dt} -> {t}");
            assert_eq!(ColumnType::parse(&t.to_string()), Some(t.clone()), "{t}");
        }
        assert_eq!(
            column_type(&DataType::Float16),
            ColumnType::Any,
            "no name for it"
        );
    }
}
