//! Delta Lake tables (`format: delta`) through delta-rs (`deltalake-core`) and its DataFusion
//! table provider: the table's log decides which Parquet files make up a version (files a
//! later delete or update removed are not read), at the latest version or at `version:` /
//! `timestamp:`.
//!
//! On an object store, delta-rs is given sluice's own store ([`crate::objects::build`]), so
//! the `storage:` settings and credentials are the same as for any other dataset; commits
//! use the default log store, which writes each commit with a conditional put
//! (`If-None-Match: *`), Delta's atomic commit on stores that support it.
//!
//! Publishing into a table ([`commit`], [`restore`]) lives here too, so every use of
//! delta-rs is in one module.

use std::path::PathBuf;
use std::sync::{Arc, Once};

use datafusion::common::TableReference;
use datafusion::prelude::SessionContext;
use deltalake_core::logstore::{
    LogStore, LogStoreFactory, ObjectStoreRef, StorageConfig, default_logstore, logstore_factories,
};
use deltalake_core::protocol::SaveMode;
use deltalake_core::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use futures::TryStreamExt;
use sluice_spec::{Dataset, DeltaMode, Format, TimeTravel};
use url::Url;

use crate::error::{SourceError, SourceErrorKind as K};
use crate::source::Source;

/// The commit-info key under which [`commit`] records the sluice run that audited the data.
pub const RUN_ID_KEY: &str = "sluice.run_id";

/// delta-rs' default log store for object-store schemes: deltalake-core registers one only
/// for `file://` and `memory://` (the cloud crates register theirs); sluice passes its own
/// store, so the default one (commits by conditional put) serves every scheme.
#[derive(Debug)]
struct DefaultFactory;

impl LogStoreFactory for DefaultFactory {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> deltalake_core::DeltaResult<Arc<dyn LogStore>> {
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

fn register_factories() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let registry = logstore_factories();
        for scheme in ["s3", "gs", "az", "azure", "abfs", "abfss"] {
            let key = Url::parse(&format!("{scheme}://")).expect("valid scheme URL");
            if !registry.contains_key(&key) {
                registry.insert(key, Arc::new(DefaultFactory));
            }
        }
    });
}

/// Where a Delta table is: its URL (ending in `/`), how to name it in messages, and (on an
/// object store) sluice's store for it.
struct TablePlace {
    url: Url,
    shown: String,
    store: Option<Arc<dyn object_store::ObjectStore>>,
}

/// The table at `location` (a local folder or an object-store URL) of `ds`, unloaded.
fn place(ds: &Dataset, location: &str) -> Result<TablePlace, SourceError> {
    if sluice_spec::storage::remote_scheme(location).is_some() {
        let remote = crate::objects::Remote::parse(location)
            .map_err(|m| SourceError::new(K::NotFound, location, m))?;
        if remote.cloud == crate::objects::Cloud::Http {
            return Err(SourceError::new(
                K::Format,
                location,
                format!(
                    "{location}: Delta tables cannot be read over HTTP(S) (HTTP has no listing); use the table's s3://, gs:// or az:// URL"
                ),
            ));
        }
        let store = crate::objects::build(&remote, &ds.storage.for_url(location))?;
        let mut url = remote.url.clone();
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        Ok(TablePlace {
            url,
            shown: location.to_string(),
            store: Some(store),
        })
    } else {
        let path = PathBuf::from(location.strip_prefix("file://").unwrap_or(location));
        let url = Url::from_directory_path(&path).map_err(|()| {
            SourceError::new(
                K::NotFound,
                &path,
                format!("{} is not an absolute path", path.display()),
            )
        })?;
        Ok(TablePlace {
            url,
            shown: path.display().to_string(),
            store: None,
        })
    }
}

/// Whether a local table has no log yet (delta-rs errors on a missing folder).
fn no_local_table(place: &TablePlace) -> bool {
    place.store.is_none() && !PathBuf::from(&place.shown).join("_delta_log").is_dir()
}

fn builder(place: &TablePlace) -> Result<DeltaTableBuilder, SourceError> {
    register_factories();
    let mut b = DeltaTableBuilder::from_url(place.url.clone())
        .map_err(|e| SourceError::new(K::NotFound, &place.shown, e.to_string()))?;
    if let Some(store) = &place.store {
        b = b.with_storage_backend(store.clone(), place.url.clone());
    }
    Ok(b)
}

/// The versions a table's log holds (lowest, highest), from its `_delta_log/` listing.
async fn log_versions(table: &DeltaTable) -> Option<(u64, u64)> {
    let store = table.log_store().object_store(None);
    let prefix = object_store::path::Path::from("_delta_log");
    let listed: Vec<_> = store.list(Some(&prefix)).try_collect().await.ok()?;
    let versions = listed.iter().filter_map(|m| {
        let name = m.location.filename()?;
        let stem = name.strip_suffix(".json")?;
        (stem.len() == 20).then(|| stem.parse::<u64>().ok())?
    });
    let (lo, hi) = versions.fold((u64::MAX, 0), |(lo, hi), v| (lo.min(v), hi.max(v)));
    (lo != u64::MAX).then_some((lo, hi))
}

/// An error of delta-rs about the table at `place`, in words, with its kind.
fn describe(place: &TablePlace, doing: &str, e: &DeltaTableError) -> SourceError {
    let shown = &place.shown;
    match e {
        DeltaTableError::NotATable(_) => SourceError::new(
            K::NotFound,
            shown,
            format!(
                "{shown} is not a Delta table: it has no `_delta_log/` (no commits); check `path:`, or drop `format: delta` if it holds plain Parquet files"
            ),
        ),
        DeltaTableError::ObjectStore { source } => {
            let (kind, message) = crate::objects::describe(shown, doing, &source.to_string());
            SourceError::new(kind, shown, message)
        }
        other => SourceError::new(
            K::Invalid,
            shown,
            crate::objects::redact(&format!("{doing} the Delta table {shown}: {other}")),
        ),
    }
}

/// The table at `location` of `ds`, loaded at `at` (`None`: the latest version). A version
/// that does not exist, or an instant before the first commit, is an error naming what
/// exists.
pub async fn load(
    ds: &Dataset,
    location: &str,
    at: Option<&TimeTravel>,
) -> Result<DeltaTable, SourceError> {
    let place = place(ds, location)?;
    if place.store.is_none() {
        let log = PathBuf::from(&place.shown).join("_delta_log");
        if !PathBuf::from(&place.shown).is_dir() {
            return Err(SourceError::new(
                K::NotFound,
                &place.shown,
                format!(
                    "path not found: {} (`path: {}`); check the path, or that the producing job has run",
                    place.shown, ds.path
                ),
            ));
        }
        if !log.is_dir() {
            return Err(describe(
                &place,
                "cannot read",
                &DeltaTableError::NotATable(String::new()),
            ));
        }
    }
    let b = builder(&place)?;
    let b = match at {
        None => b,
        Some(TimeTravel::Version(v)) => b.with_version(*v),
        Some(TimeTravel::Timestamp(t)) => b
            .with_datestring(t)
            .map_err(|e| SourceError::new(K::Invalid, &place.shown, e.to_string()))?,
    };
    let shown = &place.shown;
    match b.load().await {
        Ok(table) => {
            if let Some(TimeTravel::Timestamp(t)) = at {
                before_first_commit(&table, shown, t).await?;
            }
            Ok(table)
        }
        Err(e @ DeltaTableError::NotATable(_)) => Err(describe(&place, "cannot read", &e)),
        Err(e) => {
            // A version that is not there: say which are.
            if let Some(TimeTravel::Version(v)) = at {
                let latest = builder(&place)?
                    .load()
                    .await
                    .map_err(|e| describe(&place, "cannot read", &e))?;
                if let Some((lo, hi)) = log_versions(&latest).await
                    && (*v < lo || *v > hi)
                {
                    return Err(SourceError::new(
                        K::NotFound,
                        shown,
                        format!(
                            "the Delta table {shown} has no version {v}: its log holds versions {lo} to {hi}; set `version:` to one of them, or remove it to read the latest"
                        ),
                    ));
                }
            }
            Err(describe(&place, "cannot read", &e))
        }
    }
}

/// delta-rs reads the first version for an instant before it; sluice refuses instead.
async fn before_first_commit(table: &DeltaTable, shown: &str, t: &str) -> Result<(), SourceError> {
    let Some(version) = table.version() else {
        return Ok(());
    };
    let target = chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.timestamp_millis())
        .unwrap_or(i64::MAX);
    let committed = table
        .snapshot()
        .ok()
        .and_then(|s| s.version_timestamp(version));
    if let Some(ms) = committed
        && ms > target
    {
        let first = chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| ms.to_string());
        return Err(SourceError::new(
            K::NotFound,
            shown,
            format!(
                "the Delta table {shown} did not exist yet at {t}: its first version in the log ({version}) was committed at {first}; set `timestamp:` to a later instant"
            ),
        ));
    }
    Ok(())
}

/// Registers the Delta table of `ds` in `ctx` under the dataset's name, at its `version:` /
/// `timestamp:` or the latest version.
pub(crate) async fn open(ctx: &SessionContext, ds: &Dataset) -> Result<Source, SourceError> {
    let location = match ds.url() {
        Some(u) => u.to_string(),
        None => ds.location.to_string_lossy().to_string(),
    };
    let table = load(ds, &location, ds.delta.at.as_ref()).await?;
    let shown = location.as_str();
    let state = ctx.state();
    table
        .update_datafusion_session(&state)
        .map_err(|e| SourceError::new(K::Internal, shown, e.to_string()))?;
    let files = table
        .snapshot()
        .map(|s| s.log_data().num_files())
        .unwrap_or_default();
    let provider = table.table_provider().await.map_err(|e| {
        SourceError::new(
            K::Invalid,
            shown,
            crate::objects::redact(&format!("cannot read the Delta table {shown}: {e}")),
        )
    })?;
    crate::source::register(
        ctx,
        ds,
        std::path::Path::new(shown),
        provider,
        Format::Delta,
        files,
    )
}

/// The versions the log of the Delta table at `ds`'s `path` holds (the lowest, the
/// latest), or `None` when there is no table there yet.
pub async fn versions(ds: &Dataset) -> Result<Option<(u64, u64)>, SourceError> {
    let location = table_location(ds);
    let place = place(ds, &location)?;
    if no_local_table(&place) {
        return Ok(None);
    }
    match builder(&place)?.load().await {
        Ok(table) => {
            let latest = table.version().unwrap_or_default();
            Ok(Some(log_versions(&table).await.unwrap_or((latest, latest))))
        }
        Err(DeltaTableError::NotATable(_) | DeltaTableError::InvalidVersion(_)) => Ok(None),
        Err(e) => Err(describe(&place, "cannot read", &e)),
    }
}

/// `ds`'s `path` as delta-rs is given it: its URL, or its resolved local folder.
fn table_location(ds: &Dataset) -> String {
    match ds.url() {
        Some(u) => u.to_string(),
        None => ds.location.to_string_lossy().to_string(),
    }
}

/// Commits the Parquet files at `staging` (a local folder or an object-store prefix, read
/// with `ds`'s `storage:` settings) to the Delta table at `ds`'s `path` in one Delta commit
/// (`delta_mode:` append or overwrite; the table is created when there is none), recording
/// `run_id` and `metadata` in the commit's info. Returns the new version.
pub async fn commit(
    ds: &Dataset,
    staging: &str,
    run_id: &str,
    metadata: Vec<(String, serde_json::Value)>,
) -> Result<u64, SourceError> {
    let location = table_location(ds);
    let place = place(ds, &location)?;
    if place.store.is_none() {
        std::fs::create_dir_all(&place.shown).map_err(|e| {
            SourceError::new(
                K::Io,
                &place.shown,
                format!("cannot create {}: {e}", place.shown),
            )
        })?;
    }
    let mut table = builder(&place)?
        .build()
        .map_err(|e| describe(&place, "cannot open", &e))?;
    match table.load().await {
        Ok(()) | Err(DeltaTableError::NotATable(_)) => {}
        Err(e) => return Err(describe(&place, "cannot read", &e)),
    }
    // The staged files, as the audit read them, in a session with delta-rs' planner (its
    // write plan has nodes of its own).
    let ctx = deltalake_core::delta_datafusion::create_session().into_inner();
    let mut staged = ds.clone();
    staged.name = "sluice_staged".into();
    staged.path = staging.to_string();
    staged.location = PathBuf::from(staging);
    staged.format = Some(Format::Parquet);
    staged.delta = Default::default();
    crate::source::open(&ctx, &staged).await?;
    let state = ctx.state();
    table
        .update_datafusion_session(&state)
        .map_err(|e| SourceError::new(K::Internal, &place.shown, e.to_string()))?;
    let plan = ctx
        .table(TableReference::bare(staged.name.as_str()))
        .await
        .map_err(|e| SourceError::new(K::Invalid, staging, e.to_string()))?
        .into_unoptimized_plan();
    let mode = match ds.delta.mode {
        DeltaMode::Append => SaveMode::Append,
        DeltaMode::Overwrite => SaveMode::Overwrite,
    };
    let mut info = vec![(RUN_ID_KEY.to_string(), serde_json::json!(run_id))];
    info.extend(metadata);
    let properties =
        deltalake_core::kernel::transaction::CommitProperties::default().with_metadata(info);
    let written = table
        .write(Vec::new())
        .with_input_plan(plan)
        .with_session_state(Arc::new(state))
        .with_save_mode(mode)
        .with_commit_properties(properties)
        .await
        .map_err(|e| describe(&place, "cannot commit to", &e))?;
    written.version().ok_or_else(|| {
        SourceError::new(K::Internal, &place.shown, "the commit returned no version")
    })
}

/// The commit of the Delta table at `ds`'s `path` that recorded `run_id` (see [`commit`]):
/// its version and its info, among the latest `limit` commits. `None` when there is none
/// (or no table).
pub async fn committed_run(
    ds: &Dataset,
    run_id: &str,
    limit: usize,
) -> Result<Option<(u64, serde_json::Map<String, serde_json::Value>)>, SourceError> {
    let location = table_location(ds);
    let place = place(ds, &location)?;
    if no_local_table(&place) {
        return Ok(None);
    }
    let table = match builder(&place)?.load().await {
        Ok(t) => t,
        Err(DeltaTableError::NotATable(_)) => return Ok(None),
        Err(e) => return Err(describe(&place, "cannot read", &e)),
    };
    let latest = table.version().unwrap_or_default();
    let infos: Vec<_> = table
        .history(Some(limit))
        .try_collect()
        .await
        .map_err(|e| describe(&place, "cannot read the history of", &e))?;
    // Newest first: the latest version, then each before it.
    for (i, info) in infos.into_iter().enumerate() {
        if info.info.get(RUN_ID_KEY).and_then(|v| v.as_str()) == Some(run_id) {
            let map = info.info.into_iter().collect();
            return Ok(Some((latest.saturating_sub(i as u64), map)));
        }
    }
    Ok(None)
}

/// Restores the Delta table at `ds`'s `path` to `version` (a new commit whose files are
/// those of `version`, so the versions after it stay in the history). Returns the new
/// version.
pub async fn restore(ds: &Dataset, version: u64, by: &str) -> Result<u64, SourceError> {
    let location = table_location(ds);
    let place = place(ds, &location)?;
    let table = builder(&place)?
        .load()
        .await
        .map_err(|e| describe(&place, "cannot read", &e))?;
    let properties = deltalake_core::kernel::transaction::CommitProperties::default()
        .with_metadata([("sluice.rolled_back_by".to_string(), serde_json::json!(by))]);
    let (restored, _metrics) = table
        .restore()
        .with_version_to_restore(version)
        .with_commit_properties(properties)
        .await
        .map_err(|e| describe(&place, "cannot restore", &e))?;
    restored.version().ok_or_else(|| {
        SourceError::new(K::Internal, &place.shown, "the restore returned no version")
    })
}

/// Whether `dir` is a Delta table's folder (it holds `_delta_log/`): read as plain files,
/// its Parquet files would include ones the log has removed.
pub(crate) fn looks_like_delta(dir: &std::path::Path) -> bool {
    dir.join("_delta_log").is_dir()
}
