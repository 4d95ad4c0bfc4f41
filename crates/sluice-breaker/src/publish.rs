//! Write–audit–publish on the local filesystem: the steps of `sluice publish` that move
//! data, each recorded in the state store so a crash at any instant can be finished or
//! undone.
//!
//! Layout, for a dataset with `path: published/forecast/` and `staging: staging/forecast/`:
//!
//! ```text
//! published/forecast            -> .forecast.versions/v3   (a symbolic link)
//! published/.forecast.versions/ v1/ v2/ v3/                (whole versions, side by side)
//! quarantine/forecast/<run_id>/ the staged data that failed, with report.json
//! ```
//!
//! Publishing moves the staged folder to `vN` (a rename: same filesystem), then points
//! `path` at it by renaming a new link over the old one — atomic, so readers of `path` see
//! the old version or the new one, never a mix. The state store records the intent before
//! the switch and the outcome after it; a crash at any instant leaves `path` on one whole
//! version, and the next publish finishes or undoes what was in flight ([`recover`]).
//! Nothing is deleted except versions beyond `keep_versions`.
//!
//! The audit between the steps (running the dataset's checks on the staged data) is the
//! application layer's: this module knows the state store and the filesystem, not the
//! engine. The order is: [`try_lock`], [`recover`], the guard, [`staged`], the checks,
//! then [`promote`] or [`quarantine`], and [`unlock`]; or [`rollback`] instead of the
//! guard and what follows it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use sluice_spec::{Dataset, RunStatus};

use crate::store::{
    NewPublication, Publication, PublicationEvent, PublicationStatus, Store, StoreError,
};

/// Why a publishing step failed. Each says where the data is now.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The state store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another process holds the dataset's publish lock.
    #[error(
        "`{dataset}` is being published by {holder} since {}; wait for it (--wait 5m) or try again",
        since.format("%Y-%m-%dT%H:%M:%SZ")
    )]
    Busy {
        /// The dataset.
        dataset: String,
        /// Who holds the lock (`host:pid`).
        holder: String,
        /// Since when.
        since: DateTime<Utc>,
    },
    /// Nothing is staged to publish.
    #[error(
        "nothing staged for `{dataset}` at {} (missing or empty); the producing job writes there before `sluice publish`",
        staging.display()
    )]
    NothingStaged {
        /// The dataset.
        dataset: String,
        /// Its staging path.
        staging: PathBuf,
    },
    /// A filesystem operation failed (a full disk, a permission...).
    #[error("{doing}: {error}; {data_at}")]
    Io {
        /// What was being done, naming the paths (`cannot move A to B`).
        doing: String,
        /// The path the operation failed on.
        path: PathBuf,
        /// Where the data is now, and what happens to it next.
        data_at: String,
        /// The I/O error (part of the message).
        error: std::io::Error,
    },
    /// An object-store operation failed (S3, GCS, Azure): the URL and the cause in words.
    #[error("{doing}: {cause}; {data_at}")]
    Remote {
        /// What was being done, naming the URLs.
        doing: String,
        /// Why it failed (no such bucket, access denied, unreachable...), secrets removed.
        cause: String,
        /// Where the data is now, and what happens to it next.
        data_at: String,
    },
    /// Another publisher switched the published pointer while this one was publishing
    /// (the conditional put of the pointer was refused).
    #[error(
        "`{dataset}` was published by someone else while this publish ran ({pointer} changed); this publish did not switch it: {data_at}"
    )]
    Concurrent {
        /// The dataset.
        dataset: String,
        /// The pointer object's URL.
        pointer: String,
        /// Where this publish's data is now.
        data_at: String,
    },
    /// `--rollback --to` a version that does not exist.
    #[error("`{dataset}` has no version {version}; it has: {}", if have.is_empty() { "none".to_string() } else { have.join(", ") })]
    NoSuchVersion {
        /// The dataset.
        dataset: String,
        /// The version asked for.
        version: String,
        /// The versions on disk.
        have: Vec<String>,
    },
    /// `--rollback` with no version before the current one.
    #[error("`{dataset}` has no version before {} to roll back to", current.as_deref().unwrap_or("the current one"))]
    NothingToRollBackTo {
        /// The dataset.
        dataset: String,
        /// The current version, if any.
        current: Option<String>,
    },
}

impl PublishError {
    /// Whether the caller's request is at fault (a version that does not exist), as
    /// opposed to the environment (store, filesystem, a concurrent publish).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            PublishError::NoSuchVersion { .. } | PublishError::NothingToRollBackTo { .. }
        )
    }
}

/// Result of publishing steps.
pub type Result<T, E = PublishError> = std::result::Result<T, E>;

pub use sluice_spec::fault::fault;

/// The published path, its versions folder, and the name of the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// `path:` — the link readers read.
    pub path: PathBuf,
    /// `.<name>.versions/` beside it.
    pub versions: PathBuf,
    /// The folder holding both.
    pub parent: PathBuf,
    /// The file name of `path`.
    pub name: String,
}

impl Layout {
    /// The layout of `ds`'s published data.
    pub fn of(ds: &Dataset) -> Layout {
        let path = ds.location.clone();
        let parent = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Layout {
            versions: parent.join(format!(".{name}.versions")),
            path,
            parent,
            name,
        }
    }

    /// The version `path` points at now (`None`: not a link into our versions).
    pub fn current(&self) -> Option<String> {
        let target = std::fs::read_link(&self.path).ok()?;
        let rel = target
            .strip_prefix(format!(".{}.versions", self.name))
            .ok()?;
        rel.components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
    }

    /// The versions on disk, oldest first.
    pub fn versions(&self) -> Vec<(u64, String)> {
        let mut v: Vec<(u64, String)> = std::fs::read_dir(&self.versions)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_prefix('v')?.parse::<u64>().ok().map(|k| (k, n))
            })
            .collect();
        v.sort();
        v
    }

    /// Points `path` at `version` atomically (a new link renamed over the old one).
    fn switch(&self, version: &str, file: Option<&str>) -> std::io::Result<()> {
        let mut target = PathBuf::from(format!(".{}.versions", self.name)).join(version);
        if let Some(f) = file {
            target.push(f);
        }
        let tmp = self
            .parent
            .join(format!(".{}.link-{}", self.name, std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&target, &tmp)?;
        fault("publish:before-switch");
        let renamed = std::fs::rename(&tmp, &self.path);
        if renamed.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        renamed?;
        sync_dir(&self.parent)
    }
}

/// Flushes a folder's entries (renames into it) to disk.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Writes `bytes` to `path` through a temporary file beside it and a rename, so readers
/// never see a half-written file; on failure the temporary file is removed and `path` is
/// as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a file name", path.display()),
        )
    })?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Whether a staged path holds something to publish.
pub fn staged(p: &Path) -> bool {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => std::fs::read_dir(p)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false),
        Ok(m) => m.is_file(),
        Err(_) => false,
    }
}

/// This process, as a lock holder: `host:pid`.
pub fn holder() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// A lock holder on this host whose process is gone (killed mid-publish).
fn gone(h: &str) -> bool {
    let me = holder();
    let (host, pid) = h.rsplit_once(':').unwrap_or((h, ""));
    let my_host = me.rsplit_once(':').map(|x| x.0).unwrap_or("");
    host == my_host && !Path::new(&format!("/proc/{pid}")).exists()
}

fn lock_name(dataset: &str) -> String {
    format!("publish:{dataset}")
}

/// Takes `dataset`'s publish lock for this process (for 30 minutes at most), if it is
/// free, expired, or held by a process of this host that is gone. `Busy` otherwise.
pub fn try_lock(store: &mut Store, dataset: &str, now: DateTime<Utc>) -> Result<()> {
    let me = holder();
    let held = store.write(|tx| {
        tx.try_lock(
            &lock_name(dataset),
            &me,
            now,
            now + Duration::minutes(30),
            gone,
        )
    })?;
    match held {
        None => Ok(()),
        Some((holder, since)) => Err(PublishError::Busy {
            dataset: dataset.to_string(),
            holder,
            since,
        }),
    }
}

/// Releases `dataset`'s publish lock if this process holds it.
pub fn unlock(store: &mut Store, dataset: &str) -> Result<()> {
    let me = holder();
    store.write(|tx| tx.unlock(&lock_name(dataset), &me))?;
    Ok(())
}

/// An interrupted publish that [`recover`] finished or undid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    /// The version it concerned.
    pub version: String,
    /// What was found and done, for people.
    pub note: String,
}

/// Finishes or undoes a publish a crash interrupted: a pending version that `path` points
/// at was published; one that is on disk but not pointed at goes back to staging (or to
/// `quarantine/<dataset>/recovered-<version>` if something new is staged); one never moved
/// needs nothing.
pub fn recover(
    store: &mut Store,
    quarantine: &Path,
    ds: &Dataset,
    staging: &Path,
    by: &str,
) -> Result<Vec<Recovered>> {
    let layout = Layout::of(ds);
    let pending: Vec<Publication> = store
        .write(|tx| tx.publications(&ds.name))?
        .into_iter()
        .filter(|p| p.status == PublicationStatus::Pending)
        .collect();
    // Links half made by a killed switch.
    if let Ok(entries) = std::fs::read_dir(&layout.parent) {
        let prefix = format!(".{}.link-", layout.name);
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let current = layout.current();
    let mut recovered = Vec::new();
    for p in pending {
        let vdir = layout.versions.join(&p.version);
        let (status, note) = if current.as_deref() == Some(p.version.as_str()) {
            (
                PublicationStatus::Done,
                format!(
                    "{} was switched to before an interruption; recorded as published",
                    p.version
                ),
            )
        } else if vdir.exists() {
            let back = move_back(quarantine, ds, staging, &vdir, &p.version)?;
            (
                PublicationStatus::Failed,
                format!(
                    "{} was moved but never switched to; moved back to {}",
                    p.version,
                    back.display()
                ),
            )
        } else {
            (
                PublicationStatus::Failed,
                format!(
                    "{} was interrupted before its data moved; still staged",
                    p.version
                ),
            )
        };
        recovered.push(record_recovery(store, &p, status, &p.version, by, note)?);
    }
    Ok(recovered)
}

/// Moves a version that was never switched to back to staging (or to quarantine when
/// new data is staged); returns where it went.
/// Records the intent to publish (or quarantine) `version` of `dataset` for run `run_id`,
/// as pending, before any data moves; returns its id, to mark it done afterwards. One place
/// for the local, object-store and Delta publishes.
pub fn record_intent(
    store: &mut Store,
    dataset: &str,
    event: PublicationEvent,
    version: &str,
    run_id: &str,
    by: &str,
    reason: &str,
) -> Result<i64> {
    Ok(store.write(|tx| {
        tx.publication(&NewPublication {
            dataset,
            event,
            version,
            status: PublicationStatus::Pending,
            run_id: Some(run_id),
            at: Utc::now(),
            actor: by,
            reason,
        })
    })?)
}

/// Records how the interrupted publication `p` ended — its new `status`, and a `Recover`
/// entry for `version` saying what was found and done (`note`) — and returns it for the
/// caller's report. One place for the local, object-store and Delta recoveries.
pub fn record_recovery(
    store: &mut Store,
    p: &Publication,
    status: PublicationStatus,
    version: &str,
    by: &str,
    note: String,
) -> Result<Recovered> {
    store.write(|tx| {
        tx.set_publication_status(p.id, status)?;
        tx.publication(&NewPublication {
            dataset: &p.dataset,
            event: PublicationEvent::Recover,
            version,
            status: PublicationStatus::Done,
            run_id: p.run_id.as_deref(),
            at: Utc::now(),
            actor: by,
            reason: &note,
        })
        .map(drop)
    })?;
    Ok(Recovered {
        version: version.to_string(),
        note,
    })
}

fn move_back(
    quarantine: &Path,
    ds: &Dataset,
    staging: &Path,
    vdir: &Path,
    version: &str,
) -> Result<PathBuf> {
    let back = if !staged(staging) {
        let _ = std::fs::remove_dir(staging);
        staging.to_path_buf()
    } else {
        quarantine
            .join(&ds.name)
            .join(format!("recovered-{version}"))
    };
    if let Some(parent) = back.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    // A file dataset's version folder holds the one file, under the staged name.
    let inner = staging.file_name().map(|n| vdir.join(n));
    let (from, back) = match inner {
        Some(f) if f.is_file() && back != staging => {
            let _ = std::fs::create_dir_all(&back);
            let name = f.file_name().map(|n| back.join(n)).unwrap_or(back);
            (f, name)
        }
        Some(f) if f.is_file() => (f, back),
        _ => (vdir.to_path_buf(), back),
    };
    std::fs::rename(&from, &back).map_err(|source| PublishError::Io {
        doing: format!(
            "recovering {}: cannot move {} back to {}",
            ds.name,
            from.display(),
            back.display()
        ),
        path: back.clone(),
        data_at: format!(
            "the data is still at {}; the next `sluice publish {}` tries again",
            from.display(),
            ds.name
        ),
        error: source,
    })?;
    let _ = std::fs::remove_dir(vdir);
    Ok(back)
}

/// The file name of a single-file staged dataset (`None` for a folder).
fn staged_file(staging: &Path) -> Option<String> {
    (!staging.is_dir())
        .then(|| {
            staging
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .flatten()
}

/// Moves the staged data of a failed run to `quarantine/<dataset>/<run_id>/` with its
/// `report.json`, and records it; returns that folder. `checks` is the run's status, for
/// the publication log (failed, error).
#[allow(clippy::too_many_arguments)]
pub fn quarantine(
    store: &mut Store,
    quarantine: &Path,
    ds: &Dataset,
    staging: &Path,
    run_id: &str,
    report_json: &[u8],
    checks: RunStatus,
    by: &str,
) -> Result<PathBuf> {
    let file = staged_file(staging);
    let dest = quarantine.join(&ds.name).join(run_id);
    let still_staged = || {
        format!(
            "nothing moved: the staged data is still at {}",
            staging.display()
        )
    };
    std::fs::create_dir_all(&dest).map_err(|source| PublishError::Io {
        doing: format!("cannot create {}", dest.display()),
        path: dest.clone(),
        data_at: still_staged(),
        error: source,
    })?;
    let moved = match &file {
        Some(f) => dest.join(f),
        None => dest.join("data"),
    };
    std::fs::rename(staging, &moved).map_err(|source| PublishError::Io {
        doing: format!("cannot move {} to {}", staging.display(), moved.display()),
        path: moved.clone(),
        data_at: still_staged(),
        error: source,
    })?;
    fault("publish:quarantined");
    if file.is_none() {
        let _ = std::fs::create_dir_all(staging);
    }
    let report = dest.join("report.json");
    write_atomically(&report, report_json).map_err(|source| PublishError::Io {
        doing: format!("cannot write {}", report.display()),
        path: report.clone(),
        data_at: format!(
            "the staged data is quarantined at {} without its report",
            moved.display()
        ),
        error: source,
    })?;
    store.write(|tx| {
        tx.publication(&NewPublication {
            dataset: &ds.name,
            event: PublicationEvent::Quarantine,
            version: run_id,
            status: PublicationStatus::Done,
            run_id: Some(run_id),
            at: Utc::now(),
            actor: by,
            reason: &format!("checks {}", checks.as_str()),
        })
        .map(drop)
    })?;
    Ok(dest)
}

/// A version published by [`promote`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Promotion {
    /// Its name (`v3`).
    pub version: String,
    /// `path:`, which now points at it.
    pub path: PathBuf,
    /// Its folder.
    pub version_dir: PathBuf,
    /// Versions removed by `keep_versions` retention.
    pub removed: Vec<String>,
}

/// Publishes the staged data of a passing run: moves it to a new version, records the
/// intent, switches `path` to it atomically, records it done, applies `keep_versions`.
pub fn promote(
    store: &mut Store,
    ds: &Dataset,
    staging: &Path,
    run_id: &str,
    by: &str,
) -> Result<Promotion> {
    let layout = Layout::of(ds);
    let file = staged_file(staging);
    let next = layout.versions().last().map_or(1, |(n, _)| n + 1);
    let version = format!("v{next}");
    let still_staged = || {
        format!(
            "nothing moved: the staged data is still at {}",
            staging.display()
        )
    };
    std::fs::create_dir_all(&layout.versions).map_err(|source| PublishError::Io {
        doing: format!("cannot create {}", layout.versions.display()),
        path: layout.versions.clone(),
        data_at: still_staged(),
        error: source,
    })?;
    let id = record_intent(
        store,
        &ds.name,
        PublicationEvent::Publish,
        &version,
        run_id,
        by,
        "checks passed",
    )?;
    fault("publish:before-move");
    let vdir = layout.versions.join(&version);
    let moved = match &file {
        Some(f) => {
            std::fs::create_dir_all(&vdir).and_then(|()| std::fs::rename(staging, vdir.join(f)))
        }
        None => std::fs::rename(staging, &vdir),
    };
    moved.map_err(|source| PublishError::Io {
        doing: format!("cannot move {} to {}", staging.display(), vdir.display()),
        path: vdir.clone(),
        data_at: still_staged(),
        error: source,
    })?;
    // From here the data is in `vdir`, not yet published: a failure leaves it there, and
    // the next publish moves it back to staging.
    let in_version = |doing: String, path: &Path, source| PublishError::Io {
        doing,
        path: path.to_path_buf(),
        data_at: format!(
            "{} still shows the previous version; the staged data is at {}, and the next `sluice publish {}` moves it back to {}",
            layout.path.display(),
            vdir.display(),
            ds.name,
            staging.display()
        ),
        error: source,
    };
    sync_dir(&layout.versions).map_err(|e| {
        in_version(
            format!("cannot sync {}", layout.versions.display()),
            &layout.versions,
            e,
        )
    })?;
    fault("publish:moved");
    adopt_existing(store, ds, &layout, by).map_err(|e| match e {
        PublishError::Io {
            doing, path, error, ..
        } => in_version(doing, &path, error),
        other => other,
    })?;
    layout.switch(&version, file.as_deref()).map_err(|e| {
        in_version(
            format!("cannot point {} at {version}", layout.path.display()),
            &layout.path,
            e,
        )
    })?;
    fault("publish:switched");
    store.write(|tx| tx.set_publication_status(id, PublicationStatus::Done))?;
    if file.is_none() {
        let _ = std::fs::create_dir_all(staging);
    }
    let removed = retain(&layout, ds.keep_versions);
    Ok(Promotion {
        version,
        path: layout.path,
        version_dir: vdir,
        removed,
    })
}

/// A `path` that is a real file or folder (published before sluice managed it) becomes
/// version `v0`; this one rename is the only moment `path` is missing, once per dataset.
fn adopt_existing(store: &mut Store, ds: &Dataset, layout: &Layout, by: &str) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(&layout.path) else {
        return Ok(());
    };
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let v0 = layout.versions.join("v0");
    let dest = if meta.is_dir() {
        v0.clone()
    } else {
        v0.join(&layout.name)
    };
    let io = |doing: String, path: &Path, source| PublishError::Io {
        doing,
        path: path.to_path_buf(),
        data_at: String::new(),
        error: source,
    };
    if !meta.is_dir() {
        std::fs::create_dir_all(&v0)
            .map_err(|e| io(format!("cannot create {}", v0.display()), &v0, e))?;
    }
    std::fs::rename(&layout.path, &dest).map_err(|e| {
        io(
            format!("cannot keep the existing {} as v0", layout.path.display()),
            &layout.path,
            e,
        )
    })?;
    store.write(|tx| {
        tx.publication(&NewPublication {
            dataset: &ds.name,
            event: PublicationEvent::Adopt,
            version: "v0",
            status: PublicationStatus::Done,
            run_id: None,
            at: Utc::now(),
            actor: by,
            reason: "what was at path before sluice published it",
        })
        .map(drop)
    })?;
    Ok(())
}

/// Removes versions beyond `keep` (never the current one); returns their names.
fn retain(layout: &Layout, keep: u32) -> Vec<String> {
    let current = layout.current();
    let versions = layout.versions();
    let excess = versions.len().saturating_sub(keep as usize);
    let mut removed = Vec::new();
    for (_, name) in versions.into_iter().take(excess) {
        if Some(&name) == current.as_ref() {
            continue;
        }
        if std::fs::remove_dir_all(layout.versions.join(&name)).is_ok() {
            removed.push(name);
        }
    }
    removed
}

/// A rollback done by [`rollback`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rollback {
    /// `path:`, which now points at `version`.
    pub path: PathBuf,
    /// The version rolled back to.
    pub version: String,
    /// `rolled back from v3`, as logged.
    pub reason: String,
}

/// Points `path` back at an earlier version (the one before the current, or `to`), and
/// logs it.
pub fn rollback(store: &mut Store, ds: &Dataset, to: Option<&str>, by: &str) -> Result<Rollback> {
    let layout = Layout::of(ds);
    let versions = layout.versions();
    let current = layout.current();
    let target = match to {
        Some(v) => {
            if !versions.iter().any(|(_, n)| n == v) {
                return Err(PublishError::NoSuchVersion {
                    dataset: ds.name.clone(),
                    version: v.to_string(),
                    have: versions.into_iter().map(|(_, n)| n).collect(),
                });
            }
            v.to_string()
        }
        None => {
            let pos = versions
                .iter()
                .position(|(_, n)| Some(n) == current.as_ref());
            match pos.and_then(|p| p.checked_sub(1)) {
                Some(p) => versions[p].1.clone(),
                None => {
                    return Err(PublishError::NothingToRollBackTo {
                        dataset: ds.name.clone(),
                        current,
                    });
                }
            }
        }
    };
    let file = std::fs::read_link(&layout.path)
        .ok()
        .and_then(|t| {
            (t.components().count() > 2)
                .then(|| t.file_name().map(|f| f.to_string_lossy().into_owned()))
        })
        .flatten();
    layout
        .switch(&target, file.as_deref())
        .map_err(|source| PublishError::Io {
            doing: format!("cannot point {} at {target}", layout.path.display()),
            path: layout.path.clone(),
            data_at: format!(
                "{} still points at {}",
                layout.path.display(),
                current.as_deref().unwrap_or("what it pointed at")
            ),
            error: source,
        })?;
    let reason = format!(
        "rolled back from {}",
        current.as_deref().unwrap_or("nothing")
    );
    record_rollback(store, &ds.name, layout.path, &target, reason, by)
}

/// Records that `dataset`'s `path` now shows `version` again (`reason`: from what), and
/// returns it for the caller's report. One place for the local, object-store and Delta
/// rollbacks.
pub fn record_rollback(
    store: &mut Store,
    dataset: &str,
    path: PathBuf,
    version: &str,
    reason: String,
    by: &str,
) -> Result<Rollback> {
    store.write(|tx| {
        tx.publication(&NewPublication {
            dataset,
            event: PublicationEvent::Rollback,
            version,
            status: PublicationStatus::Done,
            run_id: None,
            at: Utc::now(),
            actor: by,
            reason: &reason,
        })
        .map(drop)
    })?;
    Ok(Rollback {
        path,
        version: version.to_string(),
        reason,
    })
}
