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
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::SessionState;
use datafusion::object_store::ObjectMeta;
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use sluice_spec::{ColumnType, Dataset, Format, Partitioning};
use tracing::instrument;

use crate::error::df_message;
use SourceErrorKind as K;

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

pub use crate::error::{SourceError, SourceErrorKind};

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Where `ds`'s data is and its format: for a folder, its data files (by extension, not
/// empty, no pipes or devices); a file or glob as named.
fn locate(ds: &Dataset) -> Result<(Format, Option<Vec<PathBuf>>), SourceError> {
    let location = ds.location.to_string_lossy().to_string();
    let glob = has_glob(&location);
    let shown = &ds.path;
    Ok(if glob {
        let format = ds
            .format
            .or_else(|| Path::new(&location).extension().and_then(|e| Format::from_extension(&e.to_string_lossy())))
            .ok_or_else(|| SourceError::new(K::Format, &ds.location, format!("cannot tell the format of `{shown}` from its extension; add `format:` (parquet, csv, json or arrow)")))?;
        (format, None)
    } else {
        let meta = std::fs::metadata(&ds.location).map_err(|e| {
            let (kind, message) = match e.kind() {
                std::io::ErrorKind::NotFound => (K::NotFound, format!(
                    "path not found: {} (`path: {shown}`); check the path, or that the producing job has run",
                    ds.location.display()
                )),
                _ => (K::Io, format!("cannot read {}: {e}", ds.location.display())),
            };
            SourceError::new(kind, &ds.location, message)
        })?;
        if meta.is_dir() {
            if crate::delta::looks_like_delta(&ds.location) {
                return Err(delta_as_files(
                    &ds.location,
                    &ds.location.display().to_string(),
                ));
            }
            if looks_like_iceberg(&ds.location) {
                return Err(SourceError::new(
                    K::Format,
                    &ds.location,
                    format!(
                        "{} is an Iceberg table (its `metadata/` holds `*.metadata.json`): reading its Parquet files directly would count rows its snapshots deleted or replaced, and sluice has no Iceberg reader yet (see `format: iceberg`); check the data your job writes before it is committed, or a Parquet export of the table",
                        ds.location.display()
                    ),
                ));
            }
            let listing = data_files(&ds.location).map_err(|e| {
                SourceError::new(
                    K::Io,
                    &ds.location,
                    format!("cannot list {}: {e}", ds.location.display()),
                )
            })?;
            if let Some((path, kind)) = listing.special.first() {
                return Err(SourceError::new(
                    K::NotRegular,
                    path,
                    format!(
                        "{} is {kind}, not a regular file; sluice reads only regular files, and reading it could wait forever: remove it from {}, or give it a name starting with `_` so it is skipped",
                        path.display(),
                        ds.location.display()
                    ),
                ));
            }
            if listing.data.is_empty() {
                return Err(SourceError::new(
                    K::Empty,
                    &ds.location,
                    match listing.empty.first() {
                        Some(empty) => format!(
                            "folder {} holds only empty files (0 bytes: no header, no rows), e.g. {}; an upstream job may have failed while writing them",
                            ds.location.display(),
                            empty.display()
                        ),
                        None => format!(
                            "folder {} holds no data files; an upstream job may not have written its output yet",
                            ds.location.display()
                        ),
                    },
                ));
            }
            let format = match ds.format.or_else(|| folder_format(&listing.data)) {
                Some(f) => f,
                None => {
                    return Err(SourceError::new(
                        K::Format,
                        &ds.location,
                        format!(
                            "cannot tell the format of the files in {}; add `format:` (parquet, csv, json or arrow)",
                            ds.location.display()
                        ),
                    ));
                }
            };
            (format, Some(listing.data))
        } else {
            if let Some(kind) = special_kind(&meta.file_type()) {
                return Err(SourceError::new(
                    K::NotRegular,
                    &ds.location,
                    format!(
                        "{} is {kind}, not a regular file; sluice reads files whole, and reading it could wait forever: point `path: {shown}` at the file (or folder of files) the producing job writes",
                        ds.location.display()
                    ),
                ));
            }
            let format = ds
                .format
                .or_else(|| ds.location.extension().and_then(|e| Format::from_extension(&e.to_string_lossy())))
                .ok_or_else(|| SourceError::new(K::Format, &ds.location, format!("cannot tell the format of `{shown}` from its extension; add `format:` (parquet, csv, json or arrow)")))?;
            (format, None)
        }
    })
}

/// The columns of every dataset of `config` whose files can be read now (lower-case, the
/// files' own and partition columns), for column lineage's `SELECT *`. A dataset that
/// cannot be read is left out (its columns stay unknown).
pub async fn columns_of(
    config: &sluice_spec::Config,
) -> std::collections::HashMap<String, Vec<String>> {
    let ctx = SessionContext::new();
    let mut out = std::collections::HashMap::new();
    for ds in &config.datasets {
        if let Ok(s) = open(&ctx, ds).await {
            out.insert(
                ds.name.to_lowercase(),
                s.schema
                    .fields()
                    .iter()
                    .map(|f| f.name().to_lowercase())
                    .collect(),
            );
        }
    }
    out
}

/// Where a dataset's files are, as DataFusion lists them.
struct Place {
    /// The format read.
    format: Format,
    /// The listing URL (a folder's ends with `/`).
    url: ListingTableUrl,
    /// Whether it is a folder (or an object-store prefix).
    is_dir: bool,
    /// The extension a folder's data files are filtered by (`.csv`; empty: all files).
    extension: String,
    /// Whether it is on an object store.
    remote: bool,
}

/// Where `ds`'s data is on the local file system.
fn locate_local(ds: &Dataset) -> Result<Place, SourceError> {
    let (format, folder) = locate(ds)?;
    let (url, is_dir) = table_url(ds)?;
    // A folder is filtered by the extension of its data files; a single file or a glob is
    // taken as named.
    let extension = folder
        .as_deref()
        .and_then(|files| folder_extension(files, format))
        .unwrap_or_default();
    Ok(Place {
        format,
        url,
        is_dir,
        extension,
        remote: false,
    })
}

/// Where `ds`'s data is on its object store (registered in `ctx` on the way): a glob as
/// written; the version a `sluice publish` pointer names (when `follow_pointer`); an
/// object; else a prefix holding data objects (hidden and `_`-prefixed names, and empty
/// objects, skipped as for folders).
async fn locate_remote(
    ctx: &SessionContext,
    ds: &Dataset,
    text: &str,
    follow_pointer: bool,
) -> Result<Place, SourceError> {
    use crate::objects::{Cloud, Remote, describe};
    let shown = &ds.path;
    let remote = Remote::parse(text).map_err(|m| SourceError::new(K::NotFound, text, m))?;
    let store = crate::objects::register(ctx, &remote, &ds.storage.for_url(text))?;
    let fail = |doing: &str, e: &object_store::Error| {
        let (kind, message) = describe(text, doing, &crate::objects::chain(e));
        SourceError::new(kind, text, message)
    };
    let by_extension = |name: &str| {
        ds.format
            .or_else(|| Path::new(name).extension().and_then(|e| Format::from_extension(&e.to_string_lossy())))
            .ok_or_else(|| SourceError::new(K::Format, text, format!("cannot tell the format of `{shown}` from its extension; add `format:` (parquet, csv, json or arrow)")))
    };
    let parse = |u: &str| {
        ListingTableUrl::parse(u)
            .map_err(|e| SourceError::new(K::NotFound, text, format!("invalid URL `{shown}`: {e}")))
    };
    let key = remote.key().to_string();
    if has_glob(&key) {
        // DataFusion splits globs off local paths only: the prefix before the first
        // wildcard is listed, the rest matched against what is under it.
        let first = key.find(['*', '?', '[']).unwrap_or(0);
        let cut = key[..first].rfind('/').map_or(0, |i| i + 1);
        let url = parse(&format!("{}{}", remote.root, &key[..cut]))?
            .with_glob(&key[cut..])
            .map_err(|e| {
                SourceError::new(K::NotFound, text, format!("invalid glob in `{shown}`: {e}"))
            })?;
        return Ok(Place {
            format: by_extension(&key)?,
            url,
            is_dir: false,
            extension: String::new(),
            remote: true,
        });
    }
    // A dataset `sluice publish` manages: its pointer names the version to read.
    if follow_pointer && remote.cloud != Cloud::Http && !key.is_empty() {
        let pointer = object_store::path::Path::from(format!(
            "{}/{}",
            key.trim_end_matches('/'),
            crate::objects::POINTER
        ));
        match store.get(&pointer).await {
            Ok(got) => {
                let bytes = got.bytes().await.map_err(|e| fail("cannot read", &e))?;
                let p: crate::objects::Pointer = serde_json::from_slice(&bytes).map_err(|e| {
                    SourceError::new(K::Invalid, text, format!("{text}{} is not a sluice pointer ({e}); `sluice publish --rollback` rewrites it", crate::objects::POINTER))
                })?;
                if Remote::parse(&p.location).map(|r| r.root) != Ok(remote.root.clone()) {
                    return Err(SourceError::new(
                        K::Invalid,
                        text,
                        format!(
                            "the pointer {text}{} names {}, outside its bucket",
                            crate::objects::POINTER,
                            p.location
                        ),
                    ));
                }
                let mut published = ds.clone();
                published.path = p.location.clone();
                published.location = PathBuf::from(&p.location);
                return Box::pin(locate_remote(ctx, &published, &p.location, false)).await;
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(fail("cannot read", &e)),
        }
    }
    if !key.is_empty() && !key.ends_with('/') {
        let location = object_store::path::Path::from(key.as_str());
        match store.head(&location).await {
            Ok(_) => {
                return Ok(Place {
                    format: by_extension(&key)?,
                    url: parse(text)?,
                    is_dir: false,
                    extension: String::new(),
                    remote: true,
                });
            }
            Err(object_store::Error::NotFound { .. }) if remote.cloud != Cloud::Http => {}
            Err(e) => return Err(fail("cannot read", &e)),
        }
    }
    if remote.cloud == Cloud::Http {
        return Err(SourceError::new(
            K::NotFound,
            text,
            format!(
                "{text} names a folder, but HTTP(S) paths must name one file (HTTP has no listing); point `path:` at the file"
            ),
        ));
    }
    let folder = if key.is_empty() || key.ends_with('/') {
        text.to_string()
    } else {
        format!("{text}/")
    };
    let prefix = object_store::path::Path::from(key.trim_end_matches('/'));
    let listed: Vec<ObjectMeta> = store
        .list(Some(&prefix))
        .try_collect()
        .await
        .map_err(|e| fail("cannot list", &e))?;
    if listed.iter().any(|m| {
        m.location
            .prefix_match(&prefix)
            .and_then(|mut parts| parts.next())
            .is_some_and(|p| p.as_ref() == "_delta_log")
    }) {
        return Err(delta_as_files(text, &folder));
    }
    let names: Vec<PathBuf> = listed
        .iter()
        .filter(|m| m.size > 0)
        .map(|m| PathBuf::from(m.location.as_ref()))
        .filter(|p| {
            p.strip_prefix(prefix.as_ref()).is_ok_and(|rel| {
                !rel.components().any(|c| {
                    let c = c.as_os_str().to_string_lossy();
                    c.starts_with('.') || c.starts_with('_')
                })
            })
        })
        .collect();
    if names.is_empty() {
        return Err(SourceError::new(
            if listed.is_empty() {
                K::NotFound
            } else {
                K::Empty
            },
            text,
            if listed.is_empty() {
                format!(
                    "nothing found at {text}: no such object, and no objects under that prefix; check the path, or that the producing job has run"
                )
            } else {
                format!(
                    "{folder} holds no data objects (only empty or `_`-prefixed ones); an upstream job may not have written its output yet"
                )
            },
        ));
    }
    let format = match ds.format.or_else(|| folder_format(&names)) {
        Some(f) => f,
        None => {
            return Err(SourceError::new(
                K::Format,
                text,
                format!(
                    "cannot tell the format of the objects under {folder}; add `format:` (parquet, csv, json or arrow)"
                ),
            ));
        }
    };
    Ok(Place {
        format,
        url: parse(&folder)?,
        is_dir: true,
        extension: folder_extension(&names, format).unwrap_or_default(),
        remote: true,
    })
}

/// A Delta table's folder read as plain files: refused, since its Parquet files include
/// ones later commits removed (deleted or updated rows would be counted).
fn delta_as_files(at: impl Into<PathBuf>, shown: &str) -> SourceError {
    SourceError::new(
        K::Format,
        at,
        format!(
            "{shown} is a Delta Lake table (it holds `_delta_log/`): reading its Parquet files directly would count rows that later commits deleted or replaced; add `format: delta` to read it through its log"
        ),
    )
}

/// Whether `dir` is an Iceberg table's folder: `metadata/` holding `*.metadata.json`.
fn looks_like_iceberg(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("metadata")).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".metadata.json"))
    })
}

/// Registers `ds` in `ctx` under its name and returns its schema.
#[instrument(name = "open", skip_all, fields(dataset = %ds.name, files, columns))]
pub async fn open(ctx: &SessionContext, ds: &Dataset) -> Result<Source, SourceError> {
    open_for(ctx, ds, &sluice_spec::Engine::InProcess).await
}

/// [`open`], for a session whose queries run on `engine`. On a cluster, a glob is
/// resolved here to the files it matches (a plan sent to a scheduler carries a table's
/// folder but not its pattern), and a Delta table is refused ([`not_on_cluster`]).
pub async fn open_for(
    ctx: &SessionContext,
    ds: &Dataset,
    engine: &sluice_spec::Engine,
) -> Result<Source, SourceError> {
    let distributed = engine.is_distributed();
    if ds.format == Some(Format::Delta) {
        if distributed {
            return Err(not_on_cluster(ds, "a Delta table", engine));
        }
        return crate::delta::open(ctx, ds).await;
    }
    let place = match ds.url() {
        Some(text) => locate_remote(ctx, ds, text, true).await?,
        None => locate_local(ds)?,
    };
    let Place {
        format,
        url,
        is_dir,
        extension,
        remote,
    } = place;
    let file_format = file_format(ds, format);
    let mut options = ListingOptions::new(file_format).with_file_extension(extension);
    let state = ctx.state();
    let partition_cols = partition_columns(ds, &options, &state, &url, is_dir).await?;
    options = options.with_table_partition_cols(partition_cols);
    let listed = list_and_verify(&state, &url, &options, ds, format, remote).await?;
    let files = listed.len();
    let schema = match options.infer_schema(&state, &url).await {
        Ok(schema) => schema,
        Err(e) => {
            let detail = df_message(&e);
            return Err(SourceError::new(
                K::Invalid,
                &ds.location,
                crate::diagnose::read_failure(&state, ds, format, None, &detail).await,
            ));
        }
    };
    // The files' own columns (partition columns come on top).
    if schema.fields().is_empty() && matches!(format, Format::Csv | Format::Json) {
        return Err(SourceError::new(
            K::Empty,
            &ds.location,
            crate::diagnose::no_columns(&listed, format),
        ));
    }
    if format == Format::Parquet {
        crate::diagnose::duplicate_parquet_columns(&state, &url, &listed)
            .await
            .map_err(|m| SourceError::new(K::Invalid, &ds.location, m))?;
    }
    let paths = if distributed && has_glob(&ds.path) {
        listed
            .iter()
            .map(|meta| {
                let file = format!("{}{}", url.object_store().as_str(), meta.location);
                ListingTableUrl::parse(&file).map_err(|e| {
                    SourceError::new(K::Internal, &ds.location, format!("file `{file}`: {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![url]
    };
    let provider = provider(ctx, ds, format, options, paths, &schema)?;
    register(ctx, ds, &ds.location, provider, format, files)
}

/// `ds` (`what`: a Delta table, an in-memory frame) cannot be read by a cluster's
/// executors, whose table providers must travel in the plan.
pub(crate) fn not_on_cluster(
    ds: &Dataset,
    what: &str,
    engine: &sluice_spec::Engine,
) -> SourceError {
    SourceError::new(
        K::Format,
        &ds.location,
        format!(
            "dataset `{}` is {what}: it cannot run on {engine}, whose executors read files only (Parquet, CSV, JSON on a shared path or an object store); check it in-process (`--engine datafusion`)",
            ds.name
        ),
    )
}

/// Registers `provider` as `ds`'s table in `ctx` (`shown`: the path errors name) and
/// records what was opened on the `open` span.
pub(crate) fn register(
    ctx: &SessionContext,
    ds: &Dataset,
    shown: &Path,
    provider: Arc<dyn datafusion::catalog::TableProvider>,
    format: Format,
    files: usize,
) -> Result<Source, SourceError> {
    let schema = provider.schema();
    ctx.register_table(TableReference::bare(ds.name.as_str()), provider)
        .map_err(|e| {
            SourceError::new(
                K::Internal,
                shown,
                format!("cannot register `{}`: {e}", ds.name),
            )
        })?;
    let span = tracing::Span::current();
    span.record("columns", schema.fields().len());
    span.record("files", files);
    Ok(Source {
        schema,
        format,
        files,
    })
}

/// The partition columns of `ds`: as declared, or (`auto`) the `key=value` folders under a
/// folder path, as strings.
async fn partition_columns(
    ds: &Dataset,
    options: &ListingOptions,
    state: &SessionState,
    url: &ListingTableUrl,
    is_dir: bool,
) -> Result<Vec<(String, DataType)>, SourceError> {
    Ok(match &ds.partitions {
        Partitioning::None => vec![],
        Partitioning::Columns(cols) => cols
            .iter()
            .map(|(n, t)| (n.clone(), partition_type(t)))
            .collect(),
        Partitioning::Auto if is_dir => options
            .infer_partitions(state, url)
            .await
            .map_err(|e| {
                SourceError::new(
                    K::Io,
                    &ds.location,
                    format!(
                        "cannot read the partition folders of {}: {e}",
                        ds.location.display()
                    ),
                )
            })?
            .into_iter()
            .map(|n| (n, DataType::Utf8))
            .collect(),
        Partitioning::Auto => vec![],
    })
}

/// The table of `ds` over its files, with `schema`; with a CSV null marker, a view that
/// turns the marker into NULL and casts (DataFusion applies a null marker when inferring
/// types but not when reading, so such files are read as text).
fn provider(
    ctx: &SessionContext,
    ds: &Dataset,
    format: Format,
    options: ListingOptions,
    paths: Vec<ListingTableUrl>,
    schema: &SchemaRef,
) -> Result<Arc<dyn datafusion::catalog::TableProvider>, SourceError> {
    let null_value = ds.csv.null_value.as_ref().filter(|_| format == Format::Csv);
    // DataFusion applies a CSV null marker when inferring types but not when reading, so
    // such files are read as text and a view turns the marker into NULL and casts.
    let read_schema = match null_value {
        Some(_) => Arc::new(datafusion::arrow::datatypes::Schema::new(
            schema
                .fields()
                .iter()
                .map(|f| {
                    f.as_ref()
                        .clone()
                        .with_data_type(DataType::Utf8)
                        .with_nullable(true)
                })
                .collect::<Vec<_>>(),
        )),
        None => schema.clone(),
    };
    let config = ListingTableConfig::new_with_multi_paths(paths)
        .with_listing_options(options)
        .with_schema(read_schema);
    let table = ListingTable::try_new(config).map_err(|e| {
        SourceError::new(
            K::Invalid,
            &ds.location,
            read_error(&ds.location, format, &df_message(&e)),
        )
    })?;
    Ok(match null_value {
        None => Arc::new(table),
        Some(nv) => null_marker_view(ctx, table, schema, nv).map_err(|e| {
            SourceError::new(
                K::Invalid,
                &ds.location,
                read_error(&ds.location, format, &df_message(&e)),
            )
        })?,
    })
}

/// Lists the files DataFusion will read (so a glob matching nothing is reported as such)
/// and checks every Parquet footer before DataFusion parses it: a truncated or foreign file
/// gets a clear message instead of reaching the footer decoder.
async fn list_and_verify(
    state: &SessionState,
    url: &ListingTableUrl,
    options: &ListingOptions,
    ds: &Dataset,
    format: Format,
    remote: bool,
) -> Result<Vec<ObjectMeta>, SourceError> {
    let listed = list_files(state, url, &options.file_extension)
        .await
        .map_err(|e| {
            if remote {
                let (kind, message) = crate::objects::describe(&ds.path, "cannot list", &e);
                return SourceError::new(kind, &ds.location, message);
            }
            SourceError::new(
                K::Io,
                &ds.location,
                format!("cannot list `{}`: {e}", ds.path),
            )
        })?;
    if listed.is_empty() {
        return Err(SourceError::new(
            K::NotFound,
            &ds.location,
            format!(
                "no files match `{}`; check the pattern, or that the producing job has run",
                ds.path
            ),
        ));
    }
    // Remote footers are read (and checked) by DataFusion with range requests.
    if format == Format::Parquet && !remote {
        for meta in &listed {
            let path = local_path(meta);
            check_parquet_footer(&path, meta.size)
                .map_err(|m| SourceError::new(K::Invalid, &path, m))?;
        }
    }
    Ok(listed)
}

/// The files under `url` with `extension` (empty: all), as DataFusion lists them.
pub(crate) async fn list_files(
    state: &SessionState,
    url: &ListingTableUrl,
    extension: &str,
) -> Result<Vec<ObjectMeta>, String> {
    let store = state
        .runtime_env()
        .object_store(url)
        .map_err(|e| df_message(&e))?;
    url.list_all_files(state, store.as_ref(), extension)
        .await
        .map_err(|e| df_message(&e))?
        .try_collect()
        .await
        .map_err(|e| df_message(&e))
}

/// The files of `ds` read as `format`, listed again (for diagnosing a read error).
pub(crate) async fn dataset_files(
    state: &SessionState,
    ds: &Dataset,
    format: Format,
) -> Result<Vec<ObjectMeta>, String> {
    if ds.url().is_some() {
        return Err("on an object store".into());
    }
    if format == Format::Delta {
        return Err("a Delta table (its files are those its log names)".into());
    }
    if format == Format::Frame {
        return Err("an in-memory frame".into());
    }
    let (url, is_dir) = table_url(ds).map_err(|e| e.message)?;
    let extension = if is_dir {
        data_files(&ds.location)
            .ok()
            .and_then(|l| folder_extension(&l.data, format))
            .unwrap_or_default()
    } else {
        String::new()
    };
    list_files(state, &url, &extension).await
}

/// A listed file as a person would write it: its local path, or its object-store URL.
pub(crate) fn shown_path(url: &ListingTableUrl, meta: &ObjectMeta) -> String {
    if url.scheme() == "file" {
        local_path(meta).display().to_string()
    } else {
        format!("{}{}", url.object_store().as_str(), meta.location)
    }
}

/// A listed file's path on the local file system.
pub(crate) fn local_path(meta: &ObjectMeta) -> PathBuf {
    PathBuf::from(format!("/{}", meta.location))
}

/// The listing URL of `ds` (a folder's ends with `/`), and whether it is a folder.
fn table_url(ds: &Dataset) -> Result<(ListingTableUrl, bool), SourceError> {
    let location = ds.location.to_string_lossy().to_string();
    let is_dir = !has_glob(&location) && ds.location.is_dir();
    let mut url_text = location;
    if is_dir && !url_text.ends_with('/') {
        url_text.push('/');
    }
    let url = ListingTableUrl::parse(&url_text).map_err(|e| {
        SourceError::new(
            K::NotFound,
            &ds.location,
            format!("invalid path `{}`: {e}", ds.path),
        )
    })?;
    Ok((url, is_dir))
}

/// How DataFusion reads `ds` as `format` (CSV options applied).
pub(crate) fn file_format(ds: &Dataset, format: Format) -> Arc<dyn FileFormat> {
    match format {
        Format::Parquet => Arc::new(ParquetFormat::default()),
        Format::Csv => {
            let tsv = ds
                .location
                .to_string_lossy()
                .to_ascii_lowercase()
                .ends_with(".tsv");
            let delimiter = csv_delimiter(ds, tsv);
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
        // A Delta table's data files are Parquet (read through its log, see `delta`), and
        // a frame is never read from files (see `frame`).
        Format::Delta | Format::Frame => Arc::new(ParquetFormat::default()),
    }
}

/// The CSV field separator of `ds`: `csv.delimiter`, else tab for `.tsv`, else `,`.
pub(crate) fn csv_delimiter(ds: &Dataset, tsv: bool) -> u8 {
    ds.csv.delimiter.unwrap_or(if tsv { b'\t' } else { b',' })
}

/// "a named pipe (FIFO)" for a file type that is not a regular file or folder.
fn special_kind(ft: &std::fs::FileType) -> Option<&'static str> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if ft.is_socket() {
            return Some("a socket");
        }
        if ft.is_block_device() {
            return Some("a block device");
        }
        if ft.is_char_device() {
            return Some("a character device");
        }
    }
    (!ft.is_file() && !ft.is_dir() && !ft.is_symlink()).then_some("not a regular file")
}

/// A Parquet file starts and ends with `PAR1`, and its footer length fits in the file.
fn check_parquet_footer(path: &Path, size: u64) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom};
    let bad = |why: String| {
        format!(
            "{} is not a valid Parquet file: {why}; was it written completely?",
            path.display()
        )
    };
    if size < 12 {
        return Err(bad(format!("it is only {size} bytes long")));
    }
    let mut f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut head = [0u8; 4];
    let mut tail = [0u8; 8];
    f.read_exact(&mut head)
        .and_then(|_| f.seek(SeekFrom::End(-8)))
        .and_then(|_| f.read_exact(&mut tail))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if &head != b"PAR1" || &tail[4..] != b"PAR1" {
        if let Some(other) = crate::diagnose::format_mismatch(path, Format::Parquet) {
            return Err(other);
        }
        return Err(bad(
            "it does not start and end with the `PAR1` magic bytes".into()
        ));
    }
    let footer = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer + 12 > size {
        return Err(bad(format!(
            "its footer claims {footer} bytes of metadata but the file has {size}"
        )));
    }
    Ok(())
}

/// A view over a text-typed CSV table: `marker` becomes NULL and each file column is cast
/// to its inferred type; partition columns pass through.
fn null_marker_view(
    ctx: &SessionContext,
    table: ListingTable,
    typed: &SchemaRef,
    marker: &str,
) -> datafusion::error::Result<Arc<dyn datafusion::catalog::TableProvider>> {
    use datafusion::prelude::{cast, col, lit, nullif};
    let raw = ctx.read_table(Arc::new(table))?;
    let exprs: Vec<_> = raw
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let name = f.name();
            let c = col(datafusion::common::Column::new_unqualified(name));
            match typed.field_with_name(name) {
                Ok(t) if f.data_type() == &DataType::Utf8 => {
                    cast(nullif(c, lit(marker)), t.data_type().clone()).alias(name)
                }
                _ => c.alias(name),
            }
        })
        .collect();
    Ok(raw.select(exprs)?.into_view())
}

fn read_error(path: &Path, format: Format, detail: &str) -> String {
    format!(
        "cannot read {} as {}: {detail}",
        path.display(),
        format.name()
    )
}

pub(crate) fn partition_type(t: &ColumnType) -> DataType {
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

fn extension(p: &Path) -> Option<String> {
    p.extension().map(|e| e.to_string_lossy().to_string())
}

/// The format most files of a folder have, by extension.
fn folder_format(files: &[PathBuf]) -> Option<Format> {
    let mut counts: Vec<(Format, usize)> = Vec::new();
    for f in files
        .iter()
        .filter_map(|p| extension(p).and_then(|e| Format::from_extension(&e)))
    {
        match counts.iter_mut().find(|(g, _)| *g == f) {
            Some((_, n)) => *n += 1,
            None => counts.push((f, 1)),
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(f, _)| f)
}

/// The extension (`.csv`) of a folder's files of `format`, so stray files (a README, a
/// `.crc`) are not read as data. Empty (read everything) when no file's extension names it.
fn folder_extension(files: &[PathBuf], format: Format) -> Option<String> {
    files
        .iter()
        .filter_map(|p| extension(p))
        .find(|e| Format::from_extension(e) == Some(format))
        .map(|e| format!(".{e}"))
}

/// What a folder holds, by kind.
struct Listing {
    /// Non-empty regular files, sorted.
    data: Vec<PathBuf>,
    /// Empty (0-byte) regular files.
    empty: Vec<PathBuf>,
    /// Named pipes, sockets, devices, with what each is.
    special: Vec<(PathBuf, &'static str)>,
}

/// Data files under `dir` (recursively), skipping hidden and `_`-prefixed names
/// (`_SUCCESS`, `.crc`), as Spark and Hive writers leave them.
fn data_files(dir: &Path) -> std::io::Result<Listing> {
    let mut out = Listing {
        data: Vec::new(),
        empty: Vec::new(),
        special: Vec::new(),
    };
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
            } else if ft.is_file() {
                if e.metadata()?.len() > 0 {
                    out.data.push(e.path());
                } else {
                    out.empty.push(e.path());
                }
            } else if let Some(kind) = special_kind(&ft) {
                out.special.push((e.path(), kind));
            }
        }
    }
    out.data.sort();
    out.empty.sort();
    Ok(out)
}
