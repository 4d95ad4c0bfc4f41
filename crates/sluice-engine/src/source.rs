//! Datasets as DataFusion tables: file, folder or glob; Parquet, CSV, NDJSON, Arrow IPC;
//! hive-style `key=value` partition folders.
//!
//! Opening a source lists its files and reads its schema (Parquet footers, the first CSV
//! and JSON records), so a missing path, an empty folder or a corrupt footer is reported
//! here, per dataset, before any check runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use datafusion::common::TableReference;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::arrow::ArrowFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::prelude::SessionContext;
use sluice_spec::{ColumnType, Dataset, Format, Partitioning};
use tracing::instrument;

/// A registered source: its table name is the dataset name.
#[derive(Clone, Debug)]
pub struct Source {
    /// Columns, partition columns included.
    pub schema: SchemaRef,
    /// Format read.
    pub format: Format,
    /// Number of files.
    pub files: usize,
}

/// Why a source could not be opened: the message names the path and says what to do.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Registers `ds` in `ctx` under its name and returns its schema.
#[instrument(skip_all, fields(dataset = %ds.name, files, columns))]
pub async fn open(ctx: &SessionContext, ds: &Dataset) -> Result<Source, SourceError> {
    let location = ds.location.to_string_lossy().to_string();
    let glob = has_glob(&location);
    let shown = &ds.path;
    let (format, files) = if glob {
        let format = ds
            .format
            .or_else(|| Path::new(&location).extension().and_then(|e| Format::from_extension(&e.to_string_lossy())))
            .ok_or_else(|| SourceError(format!("cannot tell the format of `{shown}` from its extension; add `format:` (parquet, csv, json or arrow)")))?;
        (format, None)
    } else {
        let meta = std::fs::metadata(&ds.location).map_err(|e| {
            SourceError(match e.kind() {
                std::io::ErrorKind::NotFound => format!(
                    "path not found: {} (`path: {shown}`); check the path, or that the producing job has run",
                    ds.location.display()
                ),
                _ => format!("cannot read {}: {e}", ds.location.display()),
            })
        })?;
        if meta.is_dir() {
            let data = data_files(&ds.location).map_err(|e| SourceError(format!("cannot list {}: {e}", ds.location.display())))?;
            if data.is_empty() {
                return Err(SourceError(format!(
                    "folder {} holds no data files; an upstream job may not have written its output yet",
                    ds.location.display()
                )));
            }
            let format = match ds.format {
                Some(f) => f,
                None => data
                    .iter()
                    .find_map(|p| p.extension().and_then(|e| Format::from_extension(&e.to_string_lossy())))
                    .ok_or_else(|| SourceError(format!("cannot tell the format of the files in {}; add `format:` (parquet, csv, json or arrow)", ds.location.display())))?,
            };
            (format, Some(data.len()))
        } else {
            let format = ds
                .format
                .or_else(|| ds.location.extension().and_then(|e| Format::from_extension(&e.to_string_lossy())))
                .ok_or_else(|| SourceError(format!("cannot tell the format of `{shown}` from its extension; add `format:` (parquet, csv, json or arrow)")))?;
            (format, Some(1))
        }
    };

    let is_dir = !glob && ds.location.is_dir();
    let mut url_text = location.clone();
    if is_dir && !url_text.ends_with('/') {
        url_text.push('/');
    }
    let url = ListingTableUrl::parse(&url_text).map_err(|e| SourceError(format!("invalid path `{shown}`: {e}")))?;
    let file_format: Arc<dyn FileFormat> = match format {
        Format::Parquet => Arc::new(ParquetFormat::default()),
        Format::Csv => {
            let tsv = location.to_ascii_lowercase().ends_with(".tsv");
            let delimiter = ds.csv.delimiter.unwrap_or(if tsv { b'\t' } else { b',' });
            let mut f = CsvFormat::default()
                .with_has_header(ds.csv.header)
                .with_delimiter(delimiter)
                .with_quote(ds.csv.quote);
            if let Some(nv) = &ds.csv.null_value {
                f = f.with_null_regex(Some(format!("^{}$", regex::escape(nv))));
            }
            Arc::new(f)
        }
        Format::Json => Arc::new(JsonFormat::default()),
        Format::Arrow => Arc::new(ArrowFormat),
    };
    // A folder is filtered by the extension of its data files; a single file or a glob is
    // taken as named.
    let extension = if is_dir {
        data_files(&ds.location)
            .ok()
            .and_then(|files| files.first().and_then(|p| p.extension().map(|e| format!(".{}", e.to_string_lossy()))))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let mut options = ListingOptions::new(file_format).with_file_extension(extension);
    let state = ctx.state();
    let partition_cols: Vec<(String, DataType)> = match &ds.partitions {
        Partitioning::None => vec![],
        Partitioning::Columns(cols) => cols.iter().map(|(n, t)| (n.clone(), partition_type(t))).collect(),
        Partitioning::Auto if is_dir => options
            .infer_partitions(&state, &url)
            .await
            .map_err(|e| SourceError(format!("cannot read the partition folders of {}: {e}", ds.location.display())))?
            .into_iter()
            .map(|n| (n, DataType::Utf8))
            .collect(),
        Partitioning::Auto => vec![],
    };
    options = options.with_table_partition_cols(partition_cols);
    let schema = options
        .infer_schema(&state, &url)
        .await
        .map_err(|e| SourceError(read_error(&ds.location, format, &e.to_string())))?;
    let config = ListingTableConfig::new(url).with_listing_options(options).with_schema(schema);
    let table = ListingTable::try_new(config).map_err(|e| SourceError(read_error(&ds.location, format, &e.to_string())))?;
    let schema = datafusion::catalog::TableProvider::schema(&table);
    ctx.register_table(TableReference::bare(ds.name.as_str()), Arc::new(table))
        .map_err(|e| SourceError(format!("cannot register `{}`: {e}", ds.name)))?;
    let span = tracing::Span::current();
    span.record("columns", schema.fields().len());
    if let Some(n) = files {
        span.record("files", n);
    }
    Ok(Source {
        schema,
        format,
        files: files.unwrap_or(0),
    })
}

fn read_error(path: &Path, format: Format, detail: &str) -> String {
    let detail = detail.trim_start_matches("Error during planning: ");
    format!(
        "cannot read {} as {}: {detail}",
        path.display(),
        format.name()
    )
}

fn partition_type(t: &ColumnType) -> DataType {
    match t {
        ColumnType::Int(8) => DataType::Int8,
        ColumnType::Int(16) => DataType::Int16,
        ColumnType::Int(32) => DataType::Int32,
        ColumnType::Int(_) => DataType::Int64,
        ColumnType::UInt(_) => DataType::UInt64,
        ColumnType::Float(_) => DataType::Float64,
        ColumnType::Boolean => DataType::Boolean,
        ColumnType::Date => DataType::Date32,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        _ => DataType::Utf8,
    }
}

/// Data files under `dir` (recursively), skipping hidden and `_`-prefixed names
/// (`_SUCCESS`, `.crc`), as Spark and Hive writers leave them.
fn data_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            let ft = e.file_type()?;
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() && e.metadata()?.len() > 0 {
                out.push(e.path());
            }
        }
    }
    out.sort();
    Ok(out)
}
