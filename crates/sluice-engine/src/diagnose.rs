//! Why a source could not be read, in words a data engineer understands.
//!
//! DataFusion's read errors name neither the file nor, for CSV and NDJSON read in
//! parallel, the real line ("line 1 column 26" for a broken record on line 25). When a
//! dataset fails to open or to scan, this module looks again at its files — only on that
//! error path, so a healthy run pays nothing — and says which file, which line, what is
//! wrong and what to do: a file in another format than declared (by its magic bytes), two
//! files that disagree on a column's type, a partition folder whose name is not of its
//! declared type, the CSV row or NDJSON record that breaks, a truncated Parquet file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::execution::SessionState;
use datafusion::object_store::ObjectMeta;
use sluice_spec::{Dataset, Format, Partitioning};

use crate::compile::type_name;
use crate::source::{dataset_files, file_format, local_path};

/// The message for a dataset DataFusion could not read (`detail` is its one-line error):
/// the file at fault and why, when a second look finds it ([`locate`]); else the error
/// with the path. `schema` is the table's, when it was opened (a scan failed).
pub(crate) async fn read_failure(
    state: &SessionState,
    ds: &Dataset,
    format: Format,
    schema: Option<&Schema>,
    detail: &str,
) -> String {
    if detail.starts_with(crate::error::OUT_OF_MEMORY) {
        return crate::error::in_query(&format!("the scan of `{}`", ds.name), detail.into());
    }
    if let Some(url) = ds.url() {
        // Only the store's own answer is known: no second look at remote files.
        let (kind, message) = crate::objects::describe(url, "cannot read", detail);
        return match kind {
            crate::error::SourceErrorKind::Io => format!(
                "cannot read {url} as {}: {}",
                format.name(),
                crate::objects::redact(detail)
            ),
            _ => message,
        };
    }
    if let Some(m) = locate(state, ds, format, schema, detail).await {
        return m;
    }
    format!(
        "cannot read {} as {}: {detail}",
        ds.location.display(),
        format.name()
    )
}

/// Looks at the files of `ds` again to find what DataFusion's `detail` is about: a file in
/// another format, two files that disagree on a column, a partition folder of the wrong
/// type, the CSV row or NDJSON record that breaks (its values checked against `schema`
/// when given), a truncated Parquet file. `None` when nothing is found.
pub(crate) async fn locate(
    state: &SessionState,
    ds: &Dataset,
    format: Format,
    schema: Option<&Schema>,
    detail: &str,
) -> Option<String> {
    let files = dataset_files(state, ds, format).await.ok()?;
    let paths: Vec<PathBuf> = files.iter().map(local_path).collect();
    if let Some(m) = paths.iter().find_map(|p| format_mismatch(p, format)) {
        return Some(m);
    }
    if let Some(column) = merge_conflict_column(detail)
        && let Some(m) = merge_conflict(state, ds, format, &files, &column).await
    {
        return Some(m);
    }
    if let Some(m) = bad_partition_value(ds, &files) {
        return Some(m);
    }
    let found = match format {
        Format::Csv => paths.iter().find_map(|p| locate_csv(ds, p, schema)),
        Format::Json => paths.iter().find_map(|p| locate_json(p, schema)),
        Format::Parquet => paths.iter().find_map(|p| corrupt_parquet(p)),
        Format::Arrow | Format::Delta | Format::Frame => None,
    };
    if found.is_some() {
        return found;
    }
    match paths.as_slice() {
        [one] if one != &ds.location => Some(format!(
            "cannot read {} as {}: {detail}",
            one.display(),
            format.name()
        )),
        _ => None,
    }
}

/// Whether `msg` (from [`crate::error::df_message`]) is about reading the files, not about
/// a check's expression: a value that does not parse, a broken record, an I/O error.
pub(crate) fn is_read_error(msg: &str) -> bool {
    [
        "Csv error",
        "Json error",
        "Parquet error",
        "Parser error",
        "Object Store error",
        "IO error",
        "EOF",
        "Cannot cast string",
    ]
    .iter()
    .any(|p| msg.starts_with(p) || msg.contains(&format!(": {p}")))
}

/// The message for a CSV or NDJSON dataset whose files give no column at all: the empty
/// file, or the first one.
pub(crate) fn no_columns(files: &[ObjectMeta], format: Format) -> String {
    let empty = files.iter().find(|m| m.size == 0);
    match (empty.or(files.first()), format) {
        (Some(m), Format::Csv) if m.size == 0 => format!(
            "{} is empty (0 bytes: no header, no rows), so it has no columns to check; check that the producing job wrote it completely (an empty result still has a header line)",
            local_path(m).display()
        ),
        (Some(m), _) if m.size == 0 => format!(
            "{} is empty (0 bytes: no records), so it has no columns to check; check that the producing job wrote it completely",
            local_path(m).display()
        ),
        (Some(m), Format::Csv) => format!(
            "{} has no columns: its first line (the header) is blank; remove the blank lines at its start",
            local_path(m).display()
        ),
        (Some(m), _) => format!(
            "{} has no columns: its records have no fields",
            local_path(m).display()
        ),
        (None, _) => "the dataset has no files".to_string(),
    }
}

/// A Parquet file with two top-level columns of the same name (checks would silently read
/// the first): the file and the column. Reads each file's footer from DataFusion's metadata
/// cache, where reading the schema just put it.
pub(crate) async fn duplicate_parquet_columns(
    state: &SessionState,
    url: &ListingTableUrl,
    files: &[ObjectMeta],
) -> Result<(), String> {
    use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
    use datafusion::parquet::file::metadata::PageIndexPolicy;
    let store = state
        .runtime_env()
        .object_store(url)
        .map_err(|e| crate::error::df_message(&e))?;
    let cache = state.runtime_env().cache_manager.get_file_metadata_cache();
    for meta in files {
        let Ok(md) = DFParquetMetadata::new(store.as_ref(), meta)
            .with_file_metadata_cache(Some(Arc::clone(&cache)))
            .with_page_index_policy(Some(PageIndexPolicy::Skip))
            .fetch_metadata()
            .await
        else {
            // Unreadable footers are reported when the data is read.
            continue;
        };
        let root = md.file_metadata().schema_descr().root_schema();
        let names: Vec<&str> = root.get_fields().iter().map(|f| f.name()).collect();
        if let Some(m) = duplicate_message(&names) {
            return Err(format!(
                "{} {m}; checks could not tell them apart: rename one in the job that writes it",
                crate::source::shown_path(url, meta)
            ));
        }
    }
    Ok(())
}

/// "has two columns named `x` (columns 2 and 3)" for the first name listed twice.
fn duplicate_message(names: &[&str]) -> Option<String> {
    for (i, n) in names.iter().enumerate() {
        if let Some(j) = names[i + 1..].iter().position(|m| m == n) {
            return Some(format!(
                "has two columns named `{n}` (columns {} and {})",
                i + 1,
                i + j + 2
            ));
        }
    }
    None
}

/// What a file's first bytes say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sniffed {
    /// A format sluice reads.
    Data(Format),
    /// A compressed file: gzip, zstd, bzip2, xz, zip.
    Compressed(&'static str),
    /// A format sluice cannot read: ORC, Avro, Excel.
    Foreign(&'static str),
    /// Text in another encoding than UTF-8 (UTF-16, by its byte-order mark).
    Encoding(&'static str),
}

/// Recognises a file by its magic bytes (binary formats) or its first characters (text:
/// `{` or `[` starts JSON, other UTF-8 text is taken for CSV).
fn sniff(path: &Path) -> Option<Sniffed> {
    let mut head = Vec::with_capacity(512);
    File::open(path)
        .ok()?
        .take(512)
        .read_to_end(&mut head)
        .ok()?;
    let starts = |m: &[u8]| head.starts_with(m);
    let s = if starts(b"PAR1") {
        Sniffed::Data(Format::Parquet)
    } else if starts(b"ARROW1") || starts(&[0xff, 0xff, 0xff, 0xff]) {
        Sniffed::Data(Format::Arrow)
    } else if starts(&[0x1f, 0x8b]) {
        Sniffed::Compressed("gzip")
    } else if starts(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Sniffed::Compressed("zstd")
    } else if starts(b"BZh") {
        Sniffed::Compressed("bzip2")
    } else if starts(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Sniffed::Compressed("xz")
    } else if starts(b"PK\x03\x04") {
        Sniffed::Compressed("zip (or an Excel .xlsx workbook)")
    } else if starts(b"ORC") {
        Sniffed::Foreign("ORC")
    } else if starts(b"Obj\x01") {
        Sniffed::Foreign("Avro")
    } else if starts(&[0xd0, 0xcf, 0x11, 0xe0]) {
        Sniffed::Foreign("an Excel .xls workbook")
    } else if starts(&[0xff, 0xfe]) || starts(&[0xfe, 0xff]) {
        Sniffed::Encoding("UTF-16")
    } else {
        // Text: valid UTF-8 (a character may be cut at the end of the sample).
        let text = match std::str::from_utf8(&head) {
            Ok(t) => t,
            Err(e) if e.error_len().is_none() => {
                std::str::from_utf8(&head[..e.valid_up_to()]).ok()?
            }
            Err(_) => return None,
        };
        let text = text.trim_start_matches('\u{feff}').trim_start();
        if text.is_empty() || text.contains('\0') {
            return None;
        }
        if text.starts_with('{') || text.starts_with('[') {
            Sniffed::Data(Format::Json)
        } else {
            Sniffed::Data(Format::Csv)
        }
    };
    Some(s)
}

fn format_title(f: Format) -> &'static str {
    match f {
        Format::Parquet => "Parquet",
        Format::Csv => "CSV",
        Format::Json => "JSON",
        Format::Arrow => "Arrow IPC",
        Format::Delta => "Delta Lake",
        Format::Frame => "an in-memory frame",
    }
}

/// "… looks like Parquet, not CSV; set `format: parquet`" when the file at `path` is
/// plainly something else than `declared`. Text is only told apart from binary formats: a
/// text file declared CSV is not second-guessed as JSON.
pub(crate) fn format_mismatch(path: &Path, declared: Format) -> Option<String> {
    let shown = path.display();
    let declared_name = format_title(declared);
    match sniff(path)? {
        Sniffed::Data(f) if f == declared => None,
        Sniffed::Data(Format::Csv | Format::Json)
            if matches!(declared, Format::Csv | Format::Json) =>
        {
            None
        }
        Sniffed::Data(f) => Some(format!(
            "{shown} looks like {}, not {declared_name}; set `format: {}` (or give the file the extension of its format)",
            format_title(f),
            f.name()
        )),
        Sniffed::Compressed(kind) => Some(format!(
            "{shown} is {kind}-compressed, not plain {declared_name}; sluice reads uncompressed files: decompress it first"
        )),
        Sniffed::Foreign(kind) => Some(format!(
            "{shown} looks like {kind}, which sluice cannot read (not {declared_name}); convert it to Parquet or CSV"
        )),
        Sniffed::Encoding(enc) if matches!(declared, Format::Csv | Format::Json) => Some(format!(
            "{shown} is {enc} text; sluice reads UTF-8: convert it (e.g. `iconv -f {} -t utf-8`)",
            enc.to_lowercase()
        )),
        Sniffed::Encoding(enc) => Some(format!("{shown} is {enc} text, not {declared_name}")),
    }
}

/// The column of "Fail to merge schema field 'v' because …".
fn merge_conflict_column(detail: &str) -> Option<String> {
    let rest = detail.split("merge schema field '").nth(1)?;
    Some(rest.split('\'').next()?.to_string())
}

/// Which two files disagree on `column`'s type: each file's schema is inferred alone.
async fn merge_conflict(
    state: &SessionState,
    ds: &Dataset,
    format: Format,
    files: &[ObjectMeta],
    column: &str,
) -> Option<String> {
    let url = ListingTableUrl::parse(ds.location.to_string_lossy()).ok()?;
    let store = state.runtime_env().object_store(&url).ok()?;
    let reader = file_format(ds, format);
    let mut first: Option<(&ObjectMeta, DataType)> = None;
    let mut sorted: Vec<&ObjectMeta> = files.iter().collect();
    sorted.sort_by(|a, b| a.location.cmp(&b.location));
    for meta in sorted {
        let schema = reader
            .infer_schema(state, &store, std::slice::from_ref(meta))
            .await
            .ok()?;
        let Ok(field) = schema.field_with_name(column) else {
            continue;
        };
        let dt = field.data_type().clone();
        match &first {
            None => first = Some((meta, dt)),
            Some((m0, dt0)) if *dt0 != dt && !(is_null(dt0) || is_null(&dt)) => {
                return Some(format!(
                    "the files of `{}` disagree on the type of column `{column}`: {} has it as {}, {} as {}; make the jobs that write them agree, or move the odd file out of `{}`",
                    ds.name,
                    local_path(m0).display(),
                    type_name(dt0),
                    local_path(meta).display(),
                    type_name(&dt),
                    ds.path
                ));
            }
            Some(_) => {}
        }
    }
    None
}

fn is_null(dt: &DataType) -> bool {
    *dt == DataType::Null
}

/// A `key=value` partition folder whose value is not of the key's declared type.
fn bad_partition_value(ds: &Dataset, files: &[ObjectMeta]) -> Option<String> {
    let Partitioning::Columns(cols) = &ds.partitions else {
        return None;
    };
    let typed: Vec<(&str, DataType)> = cols
        .iter()
        .map(|(n, t)| (n.as_str(), crate::source::partition_type(t)))
        .filter(|(_, dt)| *dt != DataType::Utf8)
        .collect();
    let mut seen = std::collections::HashSet::new();
    for meta in files {
        for segment in meta.location.parts() {
            let segment = segment.as_ref();
            let Some((key, value)) = segment.split_once('=') else {
                continue;
            };
            let Some((_, dt)) = typed.iter().find(|(k, _)| *k == key) else {
                continue;
            };
            if !seen.insert(segment.to_string()) {
                continue;
            }
            let decoded = percent_decode(value);
            if !parses_as(&decoded, dt) {
                let folder = local_path(meta);
                let folder = folder
                    .ancestors()
                    .find(|a| a.file_name().is_some_and(|n| n == segment))
                    .unwrap_or(&folder);
                let (kind, example) = match dt {
                    DataType::Date32 => ("a valid date", " (YYYY-MM-DD)"),
                    DataType::Timestamp(..) => ("a valid timestamp", " (YYYY-MM-DD HH:MM:SS)"),
                    DataType::Boolean => ("a boolean", " (true or false)"),
                    _ => ("a number", ""),
                };
                return Some(format!(
                    "partition folder `{segment}` ({}) is not {kind}: `partitions:` declares `{key}` as {}{example}; rename or remove the folder, or declare `{key}: string`",
                    folder.display(),
                    type_name(dt)
                ));
            }
        }
    }
    None
}

/// Hive folder names escape some characters as `%XX`.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(hex) = std::str::from_utf8(&b[i + 1..i + 3])
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `text` casts to `dt` as DataFusion would cast it.
fn parses_as(text: &str, dt: &DataType) -> bool {
    first_unparsable(&[Some(text)], dt).is_none()
}

/// The index of the first value that does not cast to `dt` (NULLs pass).
fn first_unparsable(values: &[Option<&str>], dt: &DataType) -> Option<usize> {
    let array = StringArray::from(values.to_vec());
    let cast = cast_with_options(&array, dt, &CastOptions::default()).ok()?;
    (0..values.len()).find(|&i| values[i].is_some() && cast.is_null(i))
}

/// Whether a column of type `dt` is worth checking value by value.
fn checkable(dt: &DataType) -> bool {
    dt.is_numeric()
        || matches!(
            dt,
            DataType::Boolean
                | DataType::Date32
                | DataType::Date64
                | DataType::Timestamp(..)
                | DataType::Time32(_)
                | DataType::Time64(_)
        )
}

/// A value for a message: quoted, cut to 40 characters.
fn shown_value(v: &str) -> String {
    let cut: String = v.chars().take(40).collect();
    if cut.len() < v.len() {
        format!("\"{cut}…\"")
    } else {
        format!("\"{cut}\"")
    }
}

/// Reads the CSV file at `path` as `ds` declares it and finds the first row DataFusion
/// cannot read: a header naming a column twice, a row with more or fewer fields than the
/// header, text that is not UTF-8, a value that is not of its column's type (`schema`, as
/// inferred from the first rows).
fn locate_csv(ds: &Dataset, path: &Path, schema: Option<&Schema>) -> Option<String> {
    let shown = path.display();
    let tsv = path
        .to_string_lossy()
        .to_ascii_lowercase()
        .ends_with(".tsv");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(crate::source::csv_delimiter(ds, tsv))
        .quote(ds.csv.quote)
        .from_reader(BufReader::new(File::open(path).ok()?));
    let mut records = reader.byte_records();
    let null = ds.csv.null_value.as_deref();
    let first = match records.next()? {
        Ok(r) => r,
        Err(e) => return Some(format!("{shown}: {e}")),
    };
    let width = first.len();
    let names: Vec<String> = if ds.csv.header {
        let names: Vec<String> = first
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        if let Some(m) = duplicate_message(&refs) {
            return Some(format!(
                "{shown}: its header {}; rename one of them",
                m.replacen("has two columns named", "names", 1).replacen(
                    " (columns",
                    " twice (columns",
                    1
                )
            ));
        }
        names
    } else {
        (1..=width).map(|i| format!("column_{i}")).collect()
    };
    // Columns whose values are checked against their type, by position.
    let typed: Vec<(usize, DataType)> = schema
        .map(|s| {
            names
                .iter()
                .enumerate()
                .filter_map(|(i, n)| {
                    let f = s.field_with_name(n).ok()?;
                    checkable(f.data_type()).then(|| (i, f.data_type().clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    const CHUNK: usize = 8192;
    let mut chunk: Vec<(u64, csv::ByteRecord)> = Vec::with_capacity(CHUNK);
    let header_line = 1;
    if !ds.csv.header {
        chunk.push((header_line, first));
    }
    let check_chunk = |chunk: &[(u64, csv::ByteRecord)]| -> Option<String> {
        for (col, dt) in &typed {
            let values: Vec<Option<&str>> = chunk
                .iter()
                .map(|(_, r)| {
                    r.get(*col)
                        .and_then(|v| std::str::from_utf8(v).ok())
                        .filter(|v| !v.is_empty() && Some(*v) != null)
                })
                .collect();
            if let Some(i) = first_unparsable(&values, dt) {
                return Some(format!(
                    "{shown}, line {}: column `{}` holds {}, not {} (the type read from the file's first rows); fix the value, or have the producing job write one type per column",
                    chunk[i].0,
                    names[*col],
                    shown_value(values[i].unwrap_or_default()),
                    type_name(dt)
                ));
            }
        }
        None
    };
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => return Some(format!("{shown}: {e}")),
        };
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() != width && !(record.len() == 1 && record.get(0) == Some(b"")) {
            let against = if ds.csv.header {
                "the header has".to_string()
            } else {
                "its first line has".to_string()
            };
            return Some(format!(
                "{shown}, line {line}: {} fields, but {against} {width}; quote values that contain the separator, or set `csv: {{ delimiter: ... }}` if the file uses another one",
                record.len()
            ));
        }
        if let Some((col, _)) = record
            .iter()
            .enumerate()
            .find(|(_, f)| std::str::from_utf8(f).is_err())
        {
            return Some(format!(
                "{shown}, line {line}: column `{}` is not valid UTF-8 text; sluice reads UTF-8: convert the file (e.g. `iconv -f latin1 -t utf-8`)",
                names.get(col).map(String::as_str).unwrap_or("?")
            ));
        }
        if !typed.is_empty() {
            chunk.push((line, record));
            if chunk.len() == CHUNK {
                if let Some(m) = check_chunk(&chunk) {
                    return Some(m);
                }
                chunk.clear();
            }
        }
    }
    check_chunk(&chunk)
}

/// Reads the NDJSON file at `path` line by line and finds the first record DataFusion
/// cannot read: a line that is not JSON (with the column), or a field whose value does not
/// fit its column's type (`schema`, as inferred from the first records).
fn locate_json(path: &Path, schema: Option<&Schema>) -> Option<String> {
    use serde_json::Value;
    let shown = path.display();
    let reader = BufReader::new(File::open(path).ok()?);
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line.ok()?;
        let n = i + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let values = serde_json::Deserializer::from_slice(&line).into_iter::<Value>();
        for v in values {
            let v = match v {
                Ok(v) => v,
                Err(e) => {
                    let what = e.to_string();
                    let what = what.split(" at line ").next().unwrap_or(&what).to_string();
                    return Some(format!(
                        "{shown}, line {n}, column {}: not valid JSON ({what}); each line must hold one complete JSON object",
                        e.column()
                    ));
                }
            };
            let Value::Object(fields) = &v else {
                return Some(format!(
                    "{shown}, line {n}: a JSON {} where a record (an object) is expected; each line must hold one JSON object",
                    json_kind(&v)
                ));
            };
            let Some(schema) = schema else { continue };
            for (name, value) in fields {
                let Ok(f) = schema.field_with_name(name) else {
                    continue;
                };
                if !json_fits(value, f.data_type()) {
                    let text = value.to_string();
                    return Some(format!(
                        "{shown}, line {n}: `{name}` is {} ({}), but the column is {} (the type read from the file's first records); fix the value, or have the producing job write one type per field",
                        if text.chars().count() > 40 {
                            format!("{}…", text.chars().take(40).collect::<String>())
                        } else {
                            text
                        },
                        json_kind(value),
                        type_name(f.data_type())
                    ));
                }
            }
        }
    }
    None
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether Arrow's JSON reader accepts `v` for a column of type `dt` (numbers may be
/// written as text; text columns take only text).
fn json_fits(v: &serde_json::Value, dt: &DataType) -> bool {
    use serde_json::Value;
    match (v, dt) {
        (Value::Null, _) => true,
        (_, DataType::Null) => false,
        (Value::Bool(_), DataType::Boolean) => true,
        (Value::Number(_), dt) if dt.is_numeric() => true,
        (Value::String(s), dt) if dt.is_numeric() => s.trim().parse::<f64>().is_ok(),
        (Value::String(_), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => true,
        (
            Value::String(_) | Value::Number(_),
            DataType::Date32
            | DataType::Date64
            | DataType::Timestamp(..)
            | DataType::Time32(_)
            | DataType::Time64(_),
        ) => true,
        (Value::Array(_), DataType::List(_) | DataType::LargeList(_)) => true,
        (Value::Object(_), DataType::Struct(_) | DataType::Map(..)) => true,
        (_, DataType::Boolean | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => false,
        _ if dt.is_numeric() => false,
        // Other types: not second-guessed.
        _ => true,
    }
}

/// A Parquet file whose body cannot be read although its footer is sound: column data
/// placed beyond the end of the file (cut short), or pages that do not decode.
fn corrupt_parquet(path: &Path) -> Option<String> {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use datafusion::parquet::file::metadata::ParquetMetaDataReader;
    let bad = |why: String| {
        format!(
            "{} is truncated or corrupt: {why}; have the producing job write it again",
            path.display()
        )
    };
    let mut file = File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    let md = match ParquetMetaDataReader::new().parse_and_finish(&file) {
        Ok(md) => md,
        Err(e) => return Some(bad(format!("its metadata cannot be read ({e})"))),
    };
    // The data ends where the footer (metadata, its length, `PAR1`) begins.
    let mut tail = [0u8; 8];
    {
        use std::io::{Seek, SeekFrom};
        file.seek(SeekFrom::End(-8)).ok()?;
        file.read_exact(&mut tail).ok()?;
        file.seek(SeekFrom::Start(0)).ok()?;
    }
    let footer = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    let data_end = size.saturating_sub(8 + footer);
    for rg in md.row_groups() {
        for col in rg.columns() {
            let (start, len) = col.byte_range();
            if start.saturating_add(len) > data_end {
                return Some(bad(format!(
                    "its metadata places column `{}` at bytes {start}–{}, past the end of its data (byte {data_end}): the file was cut short",
                    col.column_path().string(),
                    start + len
                )));
            }
        }
    }
    // Decode it all (only ever on the error path). A panic in the decoder counts too.
    let decoded = std::panic::catch_unwind(|| -> Result<(), String> {
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| e.to_string())?;
        for batch in reader {
            batch.map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    match decoded {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(bad(format!("its data does not decode ({e})"))),
        Err(_) => Some(bad("its data does not decode".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_named_with_their_positions() {
        assert_eq!(
            duplicate_message(&["id", "amount", "amount"]).as_deref(),
            Some("has two columns named `amount` (columns 2 and 3)")
        );
        assert_eq!(duplicate_message(&["id", "Id"]), None);
    }

    #[test]
    fn merge_errors_name_their_column() {
        assert_eq!(
            merge_conflict_column(
                "Fail to merge schema field 'v' because the from data_type = Utf8 does not equal Int64"
            )
            .as_deref(),
            Some("v")
        );
        assert_eq!(merge_conflict_column("something else"), None);
    }

    #[test]
    fn partition_values_parse_as_datafusion_casts_them() {
        assert!(parses_as("2024-02-29", &DataType::Date32));
        assert!(!parses_as("2024-02-30", &DataType::Date32));
        assert!(parses_as("42", &DataType::Int64));
        assert!(!parses_as("4x2", &DataType::Int64));
        assert_eq!(percent_decode("a%3Ab"), "a:b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%é%"), "%é%");
    }

    #[test]
    fn files_are_recognised_by_their_first_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let pq = write("a.csv", b"PAR1\x15\x04garbage");
        assert_eq!(sniff(&pq), Some(Sniffed::Data(Format::Parquet)));
        assert!(
            format_mismatch(&pq, Format::Csv)
                .unwrap()
                .contains("looks like Parquet, not CSV; set `format: parquet`")
        );
        assert_eq!(format_mismatch(&pq, Format::Parquet), None);
        let gz = write("b.csv", &[0x1f, 0x8b, 8, 0, 1, 2]);
        assert!(
            format_mismatch(&gz, Format::Csv)
                .unwrap()
                .contains("gzip-compressed")
        );
        let csv = write("c.parquet", b"id,v\n1,2\n");
        assert!(
            format_mismatch(&csv, Format::Parquet)
                .unwrap()
                .contains("looks like CSV, not Parquet; set `format: csv`")
        );
        let json = write("d.csv", b"{\"id\": 1}\n");
        assert_eq!(format_mismatch(&json, Format::Csv), None);
        assert_eq!(format_mismatch(&json, Format::Json), None);
        let latin1 = write("e.csv", b"id,name\n1,M\xfcller\n");
        assert_eq!(sniff(&latin1), None);
        let utf16 = write("f.csv", b"\xff\xfei\0d\0");
        assert!(
            format_mismatch(&utf16, Format::Csv)
                .unwrap()
                .contains("UTF-16 text; sluice reads UTF-8")
        );
    }

    #[test]
    fn json_values_fit_their_columns_as_arrow_reads_them() {
        use serde_json::json;
        assert!(json_fits(&json!(1), &DataType::Int64));
        assert!(json_fits(&json!("12"), &DataType::Int64));
        assert!(!json_fits(&json!("x25"), &DataType::Int64));
        assert!(!json_fits(&json!(true), &DataType::Float64));
        assert!(json_fits(&json!("a"), &DataType::Utf8));
        assert!(!json_fits(&json!(1), &DataType::Utf8));
        assert!(!json_fits(&json!([1]), &DataType::Utf8));
        assert!(json_fits(&json!(null), &DataType::Boolean));
    }
}
