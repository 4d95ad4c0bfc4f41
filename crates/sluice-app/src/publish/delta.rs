//! Write–audit–publish into a Delta Lake table (`format: delta` with `staging:`): the staged
//! Parquet files (a local folder or an object-store prefix) are audited with the dataset's
//! checks like any staged data; only when they pass are they committed to the table at
//! `path` in one Delta commit (delta-rs' write: `delta_mode: append` by default, or
//! `overwrite`), which is Delta's own atomic publication — readers see the version before
//! or the version after, never part of it. Failing data is quarantined as for any staging
//! and the table is untouched. Rollback is a Delta restore (a new commit with the files of
//! an earlier version; `--to v2` names Delta version 2).
//!
//! Crash safety: the intent is recorded in the state store before the commit, and the
//! commit's info records the run id and the staged files it consumed (`sluice.staged`), so
//! a publish killed between the commit and the removal of the staged files is recognised
//! by the next one ([`recover`]), which removes exactly those files (when unchanged) instead
//! of committing them a second time.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use futures::TryStreamExt;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt};
use serde::{Deserialize, Serialize};
use sluice_breaker::PublishError;
use sluice_breaker::publish::{Promotion, Recovered, Rollback, fault};
use sluice_breaker::store::{NewPublication, PublicationEvent, PublicationStatus};
use sluice_spec::Dataset;

use crate::error::Result;
use crate::workspace::Workspace;

/// The commit-info key listing the staged files a publish committed.
const STAGED_KEY: &str = "sluice.staged";
/// How many recent commits recovery searches for an interrupted publish's run.
const HISTORY: usize = 50;

/// One staged file, as committed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Staged {
    /// Relative to the staging folder or prefix.
    key: String,
    size: u64,
}

/// A Delta dataset's staging: its store (the local file system or the object store) and
/// where in it.
pub(crate) struct Place {
    store: Option<Arc<dyn ObjectStore>>,
    prefix: Key,
    /// `staging:` as written or resolved, for messages.
    shown: String,
    /// The table (`path:`), for messages.
    table: String,
}

fn remote_error(doing: String, cause: String, data_at: String) -> PublishError {
    PublishError::Remote {
        doing,
        cause,
        data_at,
    }
}

impl Place {
    /// The staging of `ds` at `staging`.
    pub(crate) fn of(ds: &Dataset, staging: &Path) -> Result<Place> {
        let shown = staging.display().to_string();
        let table = ds.path.clone();
        let (store, prefix): (Option<Arc<dyn ObjectStore>>, Key) = match ds.staging_url() {
            Some(url) => {
                let remote = sluice_engine::objects::Remote::parse(url).map_err(|e| {
                    remote_error(
                        format!("cannot read staging {url}"),
                        e,
                        "nothing moved".into(),
                    )
                })?;
                let store = sluice_engine::objects::build(&remote, &ds.storage.for_url(url))
                    .map_err(|e| {
                        remote_error(
                            format!("cannot read staging {url}"),
                            e.message,
                            "nothing moved".into(),
                        )
                    })?;
                (Some(store), Key::from(remote.key().trim_end_matches('/')))
            }
            None => {
                let store = if staging.is_dir() {
                    let fs = object_store::local::LocalFileSystem::new_with_prefix(staging)
                        .map_err(|e| {
                            remote_error(
                                format!("cannot read staging {shown}"),
                                e.to_string(),
                                "nothing moved".into(),
                            )
                        })?;
                    Some(Arc::new(fs) as Arc<dyn ObjectStore>)
                } else {
                    None
                };
                (store, Key::from(""))
            }
        };
        Ok(Place {
            store,
            prefix,
            shown,
            table,
        })
    }

    /// The staged data files: non-empty, no hidden or `_`-prefixed name on the way.
    async fn staged(&self) -> Result<Vec<Staged>, PublishError> {
        let Some(store) = &self.store else {
            return Ok(Vec::new());
        };
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let listed: Vec<_> = store.list(prefix).try_collect().await.map_err(|e| {
            remote_error(
                format!("cannot list staging {}", self.shown),
                sluice_engine::objects::redact(&e.to_string()),
                "nothing moved".into(),
            )
        })?;
        let mut out: Vec<Staged> = listed
            .into_iter()
            .filter(|m| m.size > 0)
            .filter_map(|m| {
                let key = match prefix {
                    Some(p) => m
                        .location
                        .prefix_match(p)?
                        .map(|part| part.as_ref().to_string())
                        .collect::<Vec<_>>(),
                    None => m
                        .location
                        .parts()
                        .map(|part| part.as_ref().to_string())
                        .collect(),
                };
                (!key.iter().any(|c| c.starts_with('.') || c.starts_with('_'))).then(|| Staged {
                    key: key.join("/"),
                    size: m.size,
                })
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn key(&self, rel: &str) -> Key {
        if self.prefix.as_ref().is_empty() {
            Key::from(rel)
        } else {
            Key::from(format!("{}/{rel}", self.prefix))
        }
    }

    /// Deletes the staged files of `files` that are still as listed (same size): a job
    /// writing the next staging under the same name is never deleted.
    async fn delete(&self, files: &[Staged]) -> Result<(), PublishError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        for f in files {
            let key = self.key(&f.key);
            match store.head(&key).await {
                Ok(m) if m.size == f.size => {}
                _ => continue,
            }
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    return Err(remote_error(
                        format!(
                            "cannot remove the staged file {}/{}",
                            self.shown.trim_end_matches('/'),
                            f.key
                        ),
                        sluice_engine::objects::redact(&e.to_string()),
                        format!(
                            "the data is committed to {}; remove the staged files before staging the next data",
                            self.table
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn engine_error(
    doing: String,
    e: sluice_engine::error::SourceError,
    data_at: String,
) -> PublishError {
    remote_error(doing, e.message, data_at)
}

/// Whether anything is staged.
pub(crate) async fn staged(place: &Place) -> Result<bool> {
    Ok(!place.staged().await?.is_empty())
}

/// Commits the staged files to the table in one Delta commit, records it, then removes them.
pub(crate) async fn promote(
    ws: &Workspace,
    ds: &Dataset,
    place: &Place,
    run_id: &str,
    by: &str,
) -> Result<Promotion> {
    let staged = place.staged().await?;
    let before = sluice_engine::delta::versions(ds).await.map_err(|e| {
        engine_error(
            format!("cannot publish to {}", ds.path),
            e,
            "nothing was committed".into(),
        )
    })?;
    let expected = before.map_or(0, |(_, latest)| latest + 1);
    let id = ws.with_store(|s| {
        Ok(sluice_breaker::publish::record_intent(
            s,
            &ds.name,
            PublicationEvent::Publish,
            &format!("v{expected}"),
            run_id,
            by,
            "checks passed",
        )?)
    })?;
    fault("publish:before-move");
    let still_staged = || {
        format!(
            "nothing was committed: the table {} is unchanged and the staged data is still at {}",
            ds.path, place.shown
        )
    };
    let staging = match ds.staging_url() {
        Some(u) => u.to_string(),
        None => place.shown.clone(),
    };
    let version = sluice_engine::delta::commit(
        ds,
        &staging,
        run_id,
        vec![(
            STAGED_KEY.to_string(),
            serde_json::to_value(&staged).unwrap_or_default(),
        )],
    )
    .await
    .map_err(|e| {
        engine_error(
            format!("cannot commit {} to {}", place.shown, ds.path),
            e,
            still_staged(),
        )
    })?;
    fault("publish:switched");
    let name = format!("v{version}");
    ws.with_store(|s| {
        Ok(s.write(|tx| {
            tx.set_publication_status(id, PublicationStatus::Done)?;
            if version != expected {
                // Another writer committed in between: record the version this commit got.
                tx.publication(&NewPublication {
                    dataset: &ds.name,
                    event: PublicationEvent::Recover,
                    version: &name,
                    status: PublicationStatus::Done,
                    run_id: Some(run_id),
                    at: Utc::now(),
                    actor: by,
                    reason: &format!(
                        "committed as {name} (v{expected} was taken by another writer)"
                    ),
                })
                .map(drop)?;
            }
            Ok(())
        })?)
    })?;
    place.delete(&staged).await?;
    Ok(Promotion {
        version: name,
        path: PathBuf::from(&ds.path),
        // Not a folder of its own: the table's version, as the message shows it.
        version_dir: PathBuf::from(format!("Delta version {version}")),
        removed: Vec::new(),
    })
}

/// Finishes the publishes a crash interrupted: one whose run is in the table's history was
/// committed (its staged files, when unchanged, are removed now); one that is not, was not
/// (its data is still staged). An interrupted quarantine is reported as such.
pub(crate) async fn recover(
    ws: &Workspace,
    ds: &Dataset,
    place: &Place,
    by: &str,
) -> Result<Vec<Recovered>> {
    let pending: Vec<_> = ws
        .with_store(|s| Ok(s.write(|tx| tx.publications(&ds.name))?))?
        .into_iter()
        .filter(|p| p.status == PublicationStatus::Pending)
        .collect();
    let mut out = Vec::new();
    for p in pending {
        let (status, version, note) = match (p.event, p.run_id.as_deref()) {
            (PublicationEvent::Publish, Some(run)) => {
                let found = sluice_engine::delta::committed_run(ds, run, HISTORY)
                    .await
                    .map_err(|e| {
                        engine_error(
                            format!("cannot read the history of {}", ds.path),
                            e,
                            "nothing moved".into(),
                        )
                    })?;
                match found {
                    Some((v, info)) => {
                        let files: Vec<Staged> = info
                            .get(STAGED_KEY)
                            .and_then(|v| serde_json::from_value(v.clone()).ok())
                            .unwrap_or_default();
                        place.delete(&files).await?;
                        (
                            PublicationStatus::Done,
                            format!("v{v}"),
                            format!(
                                "run {run} was committed as v{v} before an interruption; its staged files were removed"
                            ),
                        )
                    }
                    None => (
                        PublicationStatus::Failed,
                        p.version.clone(),
                        format!(
                            "run {run} was interrupted before its commit; the table is unchanged and the data is still staged"
                        ),
                    ),
                }
            }
            // Staged on an object store: its quarantine is the object-store one.
            (PublicationEvent::Quarantine, _) if ds.staging_url().is_some() => {
                let remote = super::remote::Place::of(ds, ds.staging_url().unwrap_or_default())?;
                let (status, note) = super::remote::finish_quarantine(&remote, &p.version).await?;
                (status, p.version.clone(), note)
            }
            _ => (
                PublicationStatus::Failed,
                p.version.clone(),
                format!(
                    "the {} of {} was interrupted; the staged data is at {} or in the quarantine",
                    p.event.as_str(),
                    p.version,
                    place.shown
                ),
            ),
        };
        out.push(ws.with_store(|s| {
            Ok(sluice_breaker::publish::record_recovery(
                s, &p, status, &version, by, note,
            )?)
        })?);
    }
    Ok(out)
}

/// Restores the table to `to` (`v2` = Delta version 2) or the version before the latest.
pub(crate) async fn rollback(
    ws: &Workspace,
    ds: &Dataset,
    to: Option<&str>,
    by: &str,
) -> Result<Rollback> {
    let versions = sluice_engine::delta::versions(ds).await.map_err(|e| {
        engine_error(
            format!("cannot roll back {}", ds.path),
            e,
            "the table is unchanged".into(),
        )
    })?;
    let have = |(lo, hi): (u64, u64)| (lo..=hi).map(|v| format!("v{v}")).collect::<Vec<_>>();
    let Some((lo, latest)) = versions else {
        return Err(PublishError::NothingToRollBackTo {
            dataset: ds.name.clone(),
            current: None,
        }
        .into());
    };
    let target = match to {
        Some(v) => match v.trim_start_matches('v').parse::<u64>() {
            Ok(n) if (lo..latest).contains(&n) => n,
            _ => {
                return Err(PublishError::NoSuchVersion {
                    dataset: ds.name.clone(),
                    version: v.to_string(),
                    have: have((lo, latest.saturating_sub(1)))
                        .into_iter()
                        .chain([format!("v{latest} (the latest)")])
                        .collect(),
                }
                .into());
            }
        },
        None if latest > lo => latest - 1,
        None => {
            return Err(PublishError::NothingToRollBackTo {
                dataset: ds.name.clone(),
                current: Some(format!("v{latest}")),
            }
            .into());
        }
    };
    let new = sluice_engine::delta::restore(ds, target, by)
        .await
        .map_err(|e| {
            engine_error(
                format!("cannot restore {} to v{target}", ds.path),
                e,
                "the table is unchanged".into(),
            )
        })?;
    let reason = format!("rolled back from v{latest} (restored as v{new})");
    ws.with_store(|s| {
        Ok(sluice_breaker::publish::record_rollback(
            s,
            &ds.name,
            PathBuf::from(&ds.path),
            &format!("v{target}"),
            reason,
            by,
        )?)
    })
}

/// The table's latest version (`v3`), for checks comparing with the published data.
pub(crate) async fn current(ds: &Dataset) -> Result<Option<String>> {
    Ok(sluice_engine::delta::versions(ds)
        .await
        .map_err(|e| {
            engine_error(
                format!("cannot read {}", ds.path),
                e,
                "nothing moved".into(),
            )
        })?
        .map(|(_, latest)| format!("v{latest}")))
}
