//! Write–audit–publish on an object store (S3, GCS, Azure): the remote counterpart of
//! [`sluice_breaker::publish`]'s steps, recorded in the same state store.
//!
//! Layout, for `path: s3://lake/published/forecast/` and `staging: s3://lake/staging/forecast/`:
//!
//! ```text
//! s3://lake/published/forecast/_sluice_published.json   the pointer: {"version": "v3", "location": ".../v3/", ...}
//! s3://lake/published/forecast/v1/ v2/ v3/              whole versions, side by side (each with _sluice_manifest.json)
//! s3://lake/published/forecast/_quarantine/<run_id>/    staged data that failed, with report.json
//! ```
//!
//! Object stores have no rename, so data is copied (server-side) and then deleted. What
//! makes a version visible is one small object, the pointer, replaced with a conditional
//! put (`If-Match` its previous ETag, or `If-None-Match: *` for the first): readers that
//! resolve the pointer see the old version or the new one, whole, and of two concurrent
//! publishers only one can switch it. Before any copy, a manifest of the staged objects
//! (keys, sizes, ETags) is written beside the copies and the intent is recorded in the state
//! store; so a publish killed at any instant is finished or undone by the next one
//! ([`recover`]), and staged objects are deleted only when the copy they were made into is
//! safe, and only if they are still the objects listed (a job writing the next staging
//! under the same key is never deleted).

use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as Key;
use object_store::{
    ObjectMeta, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion,
};
use serde::{Deserialize, Serialize};
use sluice_breaker::PublishError;
use sluice_breaker::publish::{Promotion, Recovered, Rollback, fault};
use sluice_breaker::store::{PublicationEvent, PublicationStatus};
use sluice_engine::objects::{POINTER, Pointer, Remote, describe};
use sluice_spec::Dataset;
use sluice_spec::RunStatus;

use crate::error::Result;
use crate::workspace::Workspace;

/// The manifest's name in a version or quarantine folder.
pub const MANIFEST: &str = "_sluice_manifest.json";
/// Quarantined runs' folder under `path`.
pub const QUARANTINE: &str = "_quarantine";
/// How many objects are copied or deleted at once.
const CONCURRENCY: usize = 8;

/// One staged object, as copied.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Entry {
    /// Relative to the staging prefix.
    key: String,
    size: u64,
    e_tag: Option<String>,
}

/// A dataset's published prefix, staging prefix and store.
pub(crate) struct Place {
    store: Arc<dyn ObjectStore>,
    /// `s3://lake/`.
    root: String,
    /// `published/forecast` (no trailing `/`).
    path: Key,
    /// `staging/forecast`.
    staging: Key,
    dataset: String,
}

impl Place {
    /// The place of `ds` (whose `path:` is a URL) with staging at `staging_url`, which must
    /// be in the same bucket (copies are server-side).
    pub(crate) fn of(ds: &Dataset, staging_url: &str) -> Result<Place> {
        let url = ds.url().unwrap_or(&ds.path);
        let bad = |doing: String, cause: String| PublishError::Remote {
            doing,
            cause,
            data_at: "nothing moved".into(),
        };
        let path = Remote::parse(url).map_err(|e| bad(format!("cannot publish to {url}"), e))?;
        let staging = Remote::parse(staging_url)
            .map_err(|e| bad(format!("cannot read staging {staging_url}"), e))?;
        if path.root != staging.root {
            return Err(bad(
                format!("cannot publish {staging_url} to {url}"),
                format!(
                    "`staging:` and `path:` must be in the same bucket ({} and {}), so versions are copied inside the store; stage under {}",
                    staging.root, path.root, path.root
                ),
            )
            .into());
        }
        let options = ds.storage.for_url(url);
        let store = sluice_engine::objects::build(&path, &options)
            .map_err(|e| bad(format!("cannot publish to {url}"), e.message))?;
        Ok(Place {
            store,
            root: path.root.to_string(),
            path: Key::from(path.key().trim_end_matches('/')),
            staging: Key::from(staging.key().trim_end_matches('/')),
            dataset: ds.name.clone(),
        })
    }

    fn url(&self, key: &Key) -> String {
        format!("{}{}", self.root, key)
    }

    fn folder_url(&self, key: &Key) -> String {
        format!("{}{}/", self.root, key)
    }

    fn child(&self, parent: &Key, name: &str) -> Key {
        Key::from(format!("{parent}/{name}"))
    }

    fn pointer_key(&self) -> Key {
        self.child(&self.path, POINTER)
    }

    fn version_key(&self, version: &str) -> Key {
        self.child(&self.path, version)
    }

    fn quarantine_key(&self, run_id: &str) -> Key {
        Key::from(format!("{}/{QUARANTINE}/{run_id}", self.path))
    }

    /// An object-store failure while `doing`, with where the data is.
    fn fail(
        &self,
        doing: &str,
        url: &str,
        e: object_store::Error,
        data_at: String,
    ) -> PublishError {
        let (_, message) = describe(url, doing, &sluice_engine::objects::chain(&e));
        PublishError::Remote {
            doing: format!("{doing} {url}"),
            cause: message
                .split_once(": ")
                .map_or(message.clone(), |(_, c)| c.to_string()),
            data_at,
        }
    }

    /// The pointer and its version tag, if a version is published.
    async fn pointer(&self) -> Result<Option<(Pointer, UpdateVersion)>, PublishError> {
        let key = self.pointer_key();
        match self.store.get(&key).await {
            Ok(got) => {
                let version = UpdateVersion {
                    e_tag: got.meta.e_tag.clone(),
                    version: got.meta.version.clone(),
                };
                let bytes = got.bytes().await.map_err(|e| {
                    self.fail("cannot read", &self.url(&key), e, "nothing moved".into())
                })?;
                let pointer: Pointer = serde_json::from_slice(&bytes).map_err(|e| PublishError::Remote {
                    doing: format!("cannot read {}", self.url(&key)),
                    cause: format!("it is not a sluice pointer ({e}); restore it from a version's prefix or delete it"),
                    data_at: "nothing moved".into(),
                })?;
                Ok(Some((pointer, version)))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.fail("cannot read", &self.url(&key), e, "nothing moved".into())),
        }
    }

    /// The published versions, oldest first (`v1`, `v2`...).
    async fn versions(&self) -> Result<Vec<(u32, String)>, PublishError> {
        let listed = self
            .store
            .list_with_delimiter(Some(&self.path))
            .await
            .map_err(|e| {
                self.fail(
                    "cannot list",
                    &self.folder_url(&self.path),
                    e,
                    "nothing moved".into(),
                )
            })?;
        let mut out: Vec<(u32, String)> = listed
            .common_prefixes
            .iter()
            .filter_map(|p| {
                let name = p.filename()?.to_string();
                let n = name.strip_prefix('v')?.parse().ok()?;
                Some((n, name))
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// The objects under `prefix`, all of them.
    async fn list(&self, prefix: &Key) -> Result<Vec<ObjectMeta>, PublishError> {
        self.store
            .list(Some(prefix))
            .try_collect()
            .await
            .map_err(|e| {
                self.fail(
                    "cannot list",
                    &self.folder_url(prefix),
                    e,
                    "nothing moved".into(),
                )
            })
    }

    /// The staged data objects: non-empty, not hidden or `_`-prefixed.
    async fn staged(&self) -> Result<Vec<Entry>, PublishError> {
        let prefix = self.staging.as_ref().to_string();
        Ok(self
            .list(&self.staging)
            .await?
            .into_iter()
            .filter(|m| m.size > 0)
            .filter_map(|m| {
                let rel = m
                    .location
                    .as_ref()
                    .strip_prefix(&prefix)?
                    .trim_start_matches('/')
                    .to_string();
                let hidden = rel
                    .split('/')
                    .any(|c| c.starts_with('.') || c.starts_with('_'));
                (!hidden && !rel.is_empty()).then_some(Entry {
                    key: rel,
                    size: m.size,
                    e_tag: m.e_tag,
                })
            })
            .collect())
    }

    async fn put_json(
        &self,
        key: &Key,
        value: &impl Serialize,
        data_at: impl Fn() -> String,
    ) -> Result<(), PublishError> {
        let bytes = serde_json::to_vec_pretty(value).expect("serialises");
        self.store
            .put(key, PutPayload::from(bytes))
            .await
            .map(drop)
            .map_err(|e| self.fail("cannot write", &self.url(key), e, data_at()))
    }

    async fn manifest(&self, folder: &Key) -> Result<Option<Vec<Entry>>, PublishError> {
        let key = self.child(folder, MANIFEST);
        match self.store.get(&key).await {
            Ok(got) => {
                let bytes = got.bytes().await.map_err(|e| {
                    self.fail("cannot read", &self.url(&key), e, "nothing moved".into())
                })?;
                Ok(serde_json::from_slice(&bytes).ok())
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.fail("cannot read", &self.url(&key), e, "nothing moved".into())),
        }
    }

    /// Copies `entries` from staging into `folder`, several at once.
    async fn copy_into(
        &self,
        entries: &[Entry],
        folder: &Key,
        data_at: impl Fn() -> String,
    ) -> Result<(), PublishError> {
        let results: Vec<_> = futures::stream::iter(entries.iter().map(|e| {
            let from = self.child(&self.staging, &e.key);
            let to = self.child(folder, &e.key);
            async move {
                self.store
                    .copy(&from, &to)
                    .await
                    .map_err(|err| (self.url(&from), self.url(&to), err))
            }
        }))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
        for r in results {
            if let Err((from, to, e)) = r {
                return Err(self.fail(&format!("cannot copy {from} to"), &to, e, data_at()));
            }
        }
        Ok(())
    }

    /// Deletes the staged objects of `entries` that are still those objects (same ETag);
    /// ones replaced since (the next staging) or already gone are left alone.
    async fn delete_staged(&self, entries: &[Entry]) -> Result<(), PublishError> {
        let results: Vec<_> = futures::stream::iter(entries.iter().map(|e| async move {
            let key = self.child(&self.staging, &e.key);
            match self.store.head(&key).await {
                Ok(m) if m.e_tag == e.e_tag && m.size == e.size => {
                    match self.store.delete(&key).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                        Err(err) => Err((self.url(&key), err)),
                    }
                }
                Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(err) => Err((self.url(&key), err)),
            }
        }))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
        for r in results {
            if let Err((url, e)) = r {
                return Err(self.fail("cannot delete", &url, e, format!(
                    "the data is safely copied; the staged copy at {} is left, and the next publish deletes it",
                    self.folder_url(&self.staging)
                )));
            }
        }
        Ok(())
    }

    /// Deletes every object under `folder`.
    async fn delete_folder(&self, folder: &Key) -> Result<(), PublishError> {
        let listed = self.list(folder).await?;
        let locations = futures::stream::iter(listed.into_iter().map(|m| Ok(m.location))).boxed();
        self.store
            .delete_stream(locations)
            .try_collect::<Vec<_>>()
            .await
            .map(drop)
            .map_err(|e| {
                self.fail(
                    "cannot delete",
                    &self.folder_url(folder),
                    e,
                    "the versions published are unchanged".into(),
                )
            })
    }

    /// Replaces the pointer with one naming `version`, only if it is still `expected`
    /// (`None`: only if there is none).
    async fn switch(
        &self,
        version: &str,
        run_id: Option<&str>,
        expected: Option<UpdateVersion>,
        data_at: impl Fn() -> String,
    ) -> Result<(), PublishError> {
        let pointer = Pointer {
            format: "sluice.published/1".into(),
            version: version.to_string(),
            location: self.folder_url(&self.version_key(version)),
            run_id: run_id.map(str::to_string),
            published_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let bytes = serde_json::to_vec_pretty(&pointer).expect("serialises");
        let mode = match expected {
            Some(v) => PutMode::Update(v),
            None => PutMode::Create,
        };
        let key = self.pointer_key();
        fault("publish:before-switch");
        match self
            .store
            .put_opts(&key, PutPayload::from(bytes), PutOptions::from(mode))
            .await
        {
            Ok(_) => Ok(()),
            Err(
                object_store::Error::Precondition { .. }
                | object_store::Error::AlreadyExists { .. },
            ) => Err(PublishError::Concurrent {
                dataset: self.dataset.clone(),
                pointer: self.url(&key),
                data_at: data_at(),
            }),
            Err(e) => Err(self.fail("cannot switch", &self.url(&key), e, data_at())),
        }
    }
}

/// Whether anything is staged at `staging_url`.
pub(crate) async fn staged(place: &Place) -> Result<bool> {
    Ok(!place.staged().await?.is_empty())
}

/// Copies the staged data into a new version, switches the pointer to it, deletes the
/// staged copy, and applies `keep_versions`.
pub(crate) async fn promote(
    ws: &Workspace,
    ds: &Dataset,
    place: &Place,
    run_id: &str,
    by: &str,
) -> Result<Promotion> {
    let staged = place.staged().await?;
    let current = place.pointer().await?;
    let next = place.versions().await?.last().map_or(1, |(n, _)| n + 1);
    let version = format!("v{next}");
    let folder = place.version_key(&version);
    let id = ws.with_store(|s| {
        Ok(sluice_breaker::publish::record_intent(
            s,
            &ds.name,
            PublicationEvent::Publish,
            &version,
            run_id,
            by,
            "checks passed",
        )?)
    })?;
    let still_staged = || {
        format!(
            "nothing was published: the staged data is still at {}, and the next publish removes the partial copy {}",
            place.folder_url(&place.staging),
            place.folder_url(&folder)
        )
    };
    fault("publish:before-move");
    place
        .put_json(&place.child(&folder, MANIFEST), &staged, still_staged)
        .await?;
    place.copy_into(&staged, &folder, still_staged).await?;
    fault("publish:moved");
    place
        .switch(
            &version,
            Some(run_id),
            current.map(|(_, v)| v),
            still_staged,
        )
        .await?;
    fault("publish:switched");
    ws.with_store(|s| Ok(s.write(|tx| tx.set_publication_status(id, PublicationStatus::Done))?))?;
    place.delete_staged(&staged).await?;
    let removed = retain(place, &version, ds.keep_versions).await?;
    Ok(Promotion {
        version,
        path: PathBuf::from(place.folder_url(&place.path)),
        version_dir: PathBuf::from(place.folder_url(&folder)),
        removed,
    })
}

/// Removes the oldest versions beyond `keep` (never `current`).
async fn retain(place: &Place, current: &str, keep: u32) -> Result<Vec<String>, PublishError> {
    let versions = place.versions().await?;
    let excess = versions.len().saturating_sub(keep as usize);
    let mut removed = Vec::new();
    for (_, name) in versions.into_iter().take(excess) {
        if name != current {
            place.delete_folder(&place.version_key(&name)).await?;
            removed.push(name);
        }
    }
    Ok(removed)
}

/// Copies the staged data and its report to `<path>/_quarantine/<run_id>/`, then deletes
/// the staged copy; recorded first, so a crash in the middle is finished by the next
/// publish. Returns the quarantine prefix.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn quarantine(
    ws: &Workspace,
    ds: &Dataset,
    place: &Place,
    run_id: &str,
    report_json: &[u8],
    checks: RunStatus,
    by: &str,
) -> Result<PathBuf> {
    let staged = place.staged().await?;
    let folder = place.quarantine_key(run_id);
    let id = ws.with_store(|s| {
        Ok(sluice_breaker::publish::record_intent(
            s,
            &ds.name,
            PublicationEvent::Quarantine,
            run_id,
            run_id,
            by,
            &format!("checks {}", checks.as_str()),
        )?)
    })?;
    let still_staged = || {
        format!(
            "the staged data is still at {}; the next publish finishes the quarantine",
            place.folder_url(&place.staging)
        )
    };
    place
        .put_json(&place.child(&folder, MANIFEST), &staged, still_staged)
        .await?;
    place.copy_into(&staged, &folder, still_staged).await?;
    let report = place.child(&folder, "report.json");
    place
        .store
        .put(&report, PutPayload::from(report_json.to_vec()))
        .await
        .map_err(|e| place.fail("cannot write", &place.url(&report), e, still_staged()))?;
    fault("publish:quarantined");
    place.delete_staged(&staged).await?;
    ws.with_store(|s| Ok(s.write(|tx| tx.set_publication_status(id, PublicationStatus::Done))?))?;
    Ok(PathBuf::from(place.folder_url(&folder)))
}

/// Finishes or undoes the publishes and quarantines a crash interrupted (the state store's
/// pending records), each reported.
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
        let (status, note) = match p.event {
            PublicationEvent::Quarantine => finish_quarantine(place, &p.version).await?,
            _ => {
                let current = place.pointer().await?.map(|(ptr, _)| ptr.version);
                let folder = place.version_key(&p.version);
                if current.as_deref() == Some(p.version.as_str()) {
                    if let Some(entries) = place.manifest(&folder).await? {
                        place.delete_staged(&entries).await?;
                    }
                    (
                        PublicationStatus::Done,
                        format!(
                            "{} was switched to before an interruption; recorded as published",
                            p.version
                        ),
                    )
                } else {
                    let partial = !place.list(&folder).await?.is_empty();
                    place.delete_folder(&folder).await?;
                    (
                        PublicationStatus::Failed,
                        if partial {
                            format!(
                                "{} was copied but never switched to; the copy was removed, the data is still staged",
                                p.version
                            )
                        } else {
                            format!(
                                "{} was interrupted before its data moved; still staged",
                                p.version
                            )
                        },
                    )
                }
            }
        };
        out.push(ws.with_store(|s| {
            Ok(sluice_breaker::publish::record_recovery(
                s, &p, status, &p.version, by, note,
            )?)
        })?);
    }
    Ok(out)
}

/// Finishes the quarantine of run `run` a crash interrupted: copies what its manifest
/// lists and did not make it (still staged), then deletes the staged copies; with no
/// manifest nothing moved. Returns the outcome and what was done, for the recovery record.
/// Also used for Delta datasets staged on an object store.
pub(crate) async fn finish_quarantine(
    place: &Place,
    run: &str,
) -> Result<(PublicationStatus, String), PublishError> {
    let folder = place.quarantine_key(run);
    Ok(match place.manifest(&folder).await? {
        Some(entries) => {
            // Finish: copy what did not make it (still staged), then delete
            // the staged copies.
            let there: Vec<String> = place
                .list(&folder)
                .await?
                .into_iter()
                .map(|m| m.location.as_ref().to_string())
                .collect();
            let missing: Vec<Entry> = entries
                .iter()
                .filter(|e| !there.contains(&place.child(&folder, &e.key).as_ref().to_string()))
                .cloned()
                .collect();
            place
                .copy_into(&missing, &folder, || {
                    "the staged data is still staged".into()
                })
                .await?;
            place.delete_staged(&entries).await?;
            (
                PublicationStatus::Done,
                format!(
                    "the quarantine of run {} was interrupted; finished: the data is at {}",
                    run,
                    place.folder_url(&folder)
                ),
            )
        }
        None => (
            PublicationStatus::Failed,
            format!(
                "the quarantine of run {} was interrupted before its data moved; still staged",
                run
            ),
        ),
    })
}

/// Points the pointer back at `to` (or the version before the current one).
pub(crate) async fn rollback(
    ws: &Workspace,
    ds: &Dataset,
    place: &Place,
    to: Option<&str>,
    by: &str,
) -> Result<Rollback> {
    let versions = place.versions().await?;
    let current = place.pointer().await?;
    let current_name = current.as_ref().map(|(p, _)| p.version.clone());
    let target = match to {
        Some(v) if versions.iter().any(|(_, n)| n == v) => v.to_string(),
        Some(v) => {
            return Err(PublishError::NoSuchVersion {
                dataset: ds.name.clone(),
                version: v.to_string(),
                have: versions.into_iter().map(|(_, n)| n).collect(),
            }
            .into());
        }
        None => {
            let pos = versions
                .iter()
                .position(|(_, n)| Some(n) == current_name.as_ref());
            match pos.and_then(|p| p.checked_sub(1)) {
                Some(p) => versions[p].1.clone(),
                None => {
                    return Err(PublishError::NothingToRollBackTo {
                        dataset: ds.name.clone(),
                        current: current_name,
                    }
                    .into());
                }
            }
        }
    };
    let pointer_at = || format!("{} is unchanged", place.url(&place.pointer_key()));
    place
        .switch(&target, None, current.map(|(_, v)| v), pointer_at)
        .await?;
    let reason = format!(
        "rolled back from {}",
        current_name.as_deref().unwrap_or("nothing")
    );
    ws.with_store(|s| {
        Ok(sluice_breaker::publish::record_rollback(
            s,
            &ds.name,
            PathBuf::from(place.folder_url(&place.path)),
            &target,
            reason,
            by,
        )?)
    })
}

/// The published version's label and location, for checks comparing with it.
pub(crate) async fn current(place: &Place) -> Result<Option<Pointer>> {
    Ok(place.pointer().await?.map(|(p, _)| p))
}
