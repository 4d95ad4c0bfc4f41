//! Publish: write–audit–publish. Lock the dataset's publishing, finish or undo a publish a
//! crash interrupted, ask the guard, run the dataset's checks on its staged data, record
//! the run, then promote the data to `path` (atomically) or quarantine it with its report.
//! Rollback points `path` back at an earlier version.
//!
//! The steps that move data are [`sluice_breaker::publish`]'s on the local file system and
//! [`remote`]'s on an object store; this module puts the audit (the engine) between them.

mod delta;
mod remote;

use std::path::PathBuf;
use std::time::Duration;

use sluice_breaker::Transition;
use sluice_breaker::publish::{self as steps, Promotion, Recovered, Rollback};
use sluice_engine::{Published, RunOptions, RunReport, RunStatus};

use crate::breakers;
use crate::error::{Error, Result};
use crate::openlineage::{self, End, JobPlan};
use crate::views::GuardView;
use crate::workspace::Workspace;

/// What to publish.
#[derive(Clone, Debug, Default)]
pub struct PublishRequest {
    /// The dataset.
    pub dataset: String,
    /// Point `path` back at an earlier version instead of publishing what is staged.
    pub rollback: bool,
    /// With `rollback`: this version (`v3`) instead of the one before the current.
    pub to: Option<String>,
    /// How long to wait for another publish of the same dataset to finish.
    pub wait: Duration,
    /// Who (default: the workspace's actor).
    pub by: Option<String>,
    /// The slice of the data published (`--partition ds=2026-11-30`), for metric history.
    pub partition: sluice_breaker::Partition,
    /// Announce the publish as OpenLineage events (START, then COMPLETE or FAIL) through
    /// this. A rollback is not announced.
    pub openlineage: Option<crate::openlineage::Emitter>,
}

/// What a publish did.
#[derive(Clone, Debug)]
pub enum PublishOutcome {
    /// The guard refused: the dataset's breaker, or one upstream, is open. Nothing moved.
    Blocked {
        /// Why.
        verdict: GuardView,
    },
    /// The checks failed (or could not run): the staged data was quarantined with its
    /// report, and the breaker opened.
    Quarantined {
        /// The run on the staged data.
        report: RunReport,
        /// `quarantine/<dataset>/<run_id>/`.
        at: PathBuf,
        /// The breakers the run moved.
        transitions: Vec<Transition>,
    },
    /// The checks passed: `path` now points at the new version.
    Published {
        /// The run on the staged data.
        report: RunReport,
        /// The version and where it is.
        promotion: Promotion,
        /// The dataset's `keep_versions`.
        keep_versions: u32,
        /// The breakers the run moved.
        transitions: Vec<Transition>,
    },
    /// `path` points at an earlier version.
    RolledBack {
        /// Which, and why.
        rollback: Rollback,
    },
}

/// Publishes (or rolls back) one dataset; see the module documentation for the steps.
/// The dataset's publish lock is held throughout and released on every path.
///
/// Interrupted publishes found under the lock are finished or undone first, and each is
/// passed to `recovered` as soon as it is — also when the publish then stops with an error
/// (nothing staged, say), so the caller can always tell what recovery did.
pub async fn publish(
    ws: &Workspace,
    req: PublishRequest,
    recovered: impl FnMut(&Recovered) + Send,
) -> Result<PublishOutcome> {
    let ds = ws.dataset(&req.dataset)?;
    let Some(staging) = ds.staging.clone() else {
        return Err(Error::NoStaging {
            dataset: ds.name.clone(),
            path: ds.path.clone(),
        });
    };
    ws.open_store()?;
    let run_id = sluice_engine::new_run_id();
    let announced = if req.rollback {
        None
    } else {
        openlineage::announce(
            req.openlineage.as_ref(),
            &run_id,
            req.partition.logical(),
            || JobPlan::publish(ws.config(), ds, &staging),
        )
    };
    let result = lock_and_publish(ws, &req, &staging, run_id, recovered).await;
    if let Some(a) = announced {
        match &result {
            Ok(
                PublishOutcome::Quarantined { report, .. }
                | PublishOutcome::Published { report, .. },
            ) => a.finish(End::Ran(report)).await,
            Ok(PublishOutcome::Blocked { verdict }) => {
                a.finish(End::Blocked(&blocked_message(&ds.name, verdict)))
                    .await
            }
            Ok(PublishOutcome::RolledBack { .. }) => {}
            Err(e) => a.finish(End::Errored(&e.to_string())).await,
        }
    }
    result
}

/// Why a publish was blocked, in one line: the open breakers and their owners.
fn blocked_message(dataset: &str, verdict: &GuardView) -> String {
    let breakers: Vec<String> = verdict
        .blocked_by
        .iter()
        .map(|b| match &b.owner {
            Some(owner) => format!("{} (owner {owner})", b.breaker.dataset),
            None => b.breaker.dataset.clone(),
        })
        .collect();
    format!(
        "blocked: {dataset} may not publish while a breaker is open: {}",
        breakers.join(", ")
    )
}

/// [`publish`] once the dataset is known to have a staging folder: take the lock, publish,
/// release the lock.
async fn lock_and_publish(
    ws: &Workspace,
    req: &PublishRequest,
    staging: &std::path::Path,
    run_id: String,
    recovered: impl FnMut(&Recovered) + Send,
) -> Result<PublishOutcome> {
    let ds = ws.dataset(&req.dataset)?;
    let deadline = tokio::time::Instant::now() + req.wait;
    loop {
        let now = ws.now();
        match ws.with_store(|s| Ok(steps::try_lock(s, &ds.name, now)?)) {
            Ok(()) => break,
            Err(Error::Publish(e))
                if matches!(*e, sluice_breaker::PublishError::Busy { .. })
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    }
    let result = locked(ws, req, staging, run_id, recovered).await;
    let unlocked = ws.with_store(|s| Ok(steps::unlock(s, &ds.name)?));
    let outcome = result?;
    unlocked?;
    // Alerts go out once the lock is released: a slow receiver never holds up a publish.
    if let PublishOutcome::Quarantined {
        report,
        transitions,
        ..
    }
    | PublishOutcome::Published {
        report,
        transitions,
        ..
    } = &outcome
    {
        crate::notify::after_run(ws, report, transitions).await;
    }
    Ok(outcome)
}

/// Where a dataset is published, which decides how each step is done.
enum Place {
    /// A local folder: versions side by side and a link (`sluice_breaker::publish`).
    Local,
    /// An object-store prefix: versions side by side and a pointer object (`remote`).
    Remote(remote::Place),
    /// A Delta table: a Delta commit (`delta`).
    Delta(delta::Place),
}

async fn locked(
    ws: &Workspace,
    req: &PublishRequest,
    staging: &std::path::Path,
    run_id: String,
    mut on_recovered: impl FnMut(&Recovered) + Send,
) -> Result<PublishOutcome> {
    let config = ws.config();
    let ds = ws.dataset(&req.dataset)?;
    let by = ws.actor(req.by.as_deref());
    // A Delta table: a Delta commit of the staged files (see `delta`). On an object store:
    // the same steps, by copies and a pointer (see `remote`).
    let place = if ds.format == Some(sluice_spec::Format::Delta) {
        Place::Delta(delta::Place::of(ds, staging)?)
    } else {
        match ds.url() {
            Some(_) => Place::Remote(remote::Place::of(ds, staging.to_str().unwrap_or_default())?),
            None => Place::Local,
        }
    };
    let recovered = match &place {
        Place::Delta(place) => delta::recover(ws, ds, place, &by).await?,
        Place::Remote(place) => remote::recover(ws, ds, place, &by).await?,
        Place::Local => {
            ws.with_store(|s| Ok(steps::recover(s, &config.quarantine, ds, staging, &by)?))?
        }
    };
    recovered.iter().for_each(&mut on_recovered);
    if req.rollback {
        let rollback = match &place {
            Place::Delta(_) => delta::rollback(ws, ds, req.to.as_deref(), &by).await?,
            Place::Remote(place) => remote::rollback(ws, ds, place, req.to.as_deref(), &by).await?,
            Place::Local => {
                ws.with_store(|s| Ok(steps::rollback(s, ds, req.to.as_deref(), &by)?))?
            }
        };
        return Ok(PublishOutcome::RolledBack { rollback });
    }
    // 1. May it publish at all?
    let verdict = breakers::guard(ws, &ds.name)?;
    if !verdict.may_publish {
        return Ok(PublishOutcome::Blocked { verdict });
    }
    // 2. Is anything staged?
    let is_staged = match &place {
        Place::Delta(place) => delta::staged(place).await?,
        Place::Remote(place) => remote::staged(place).await?,
        Place::Local => steps::staged(staging),
    };
    if !is_staged {
        return Err(sluice_breaker::PublishError::NothingStaged {
            dataset: ds.name.clone(),
            staging: staging.to_path_buf(),
        }
        .into());
    }
    // 3. Its checks, on the staged data.
    let mut staged_config = config.clone();
    if let Some(d) = staged_config
        .datasets
        .iter_mut()
        .find(|d| d.name == ds.name)
    {
        d.location = staging.to_path_buf();
        d.path = staging.display().to_string();
        // A Delta table's staged data is Parquet files, not a table.
        if matches!(place, Place::Delta(_)) {
            d.format = Some(sluice_spec::Format::Parquet);
            d.delta = Default::default();
        }
    }
    let history = crate::check::history(ws, config, &[&ds.name], &req.partition, true)?;
    // The checks comparing with the published version read what `path` points at now.
    let current = match &place {
        Place::Delta(_) => delta::current(ds).await?.map(|v| (v, ds.location.clone())),
        Place::Remote(place) => remote::current(place)
            .await?
            .map(|p| (p.version, PathBuf::from(p.location))),
        Place::Local => steps::Layout::of(ds)
            .current()
            .map(|v| (v, ds.location.clone())),
    };
    let published = current
        .map(|(v, location)| {
            (
                ds.name.clone(),
                Published {
                    location,
                    label: format!("the published version {v}"),
                },
            )
        })
        .into_iter()
        .collect();
    let opts = RunOptions {
        datasets: vec![ds.name.clone()],
        now: ws.now(),
        published,
        history: std::sync::Arc::new(history),
        dataset_metrics: true,
        run_id: Some(run_id),
        engine: ws.engine(),
        ..RunOptions::default()
    };
    let report = crate::check::run(&staged_config, &opts).await?;
    let actor = ws.actor(None);
    let transitions =
        ws.with_store(|s| crate::check::record(s, config, &report, &actor, &req.partition))?;
    steps::fault("publish:checked");
    if !matches!(report.status, RunStatus::Passed | RunStatus::Warned) {
        // 4b. Quarantine: the staged data and its report, under the run id.
        let json = report.to_json();
        let at = match &place {
            // Staged on an object store: copied under `path`'s `_quarantine/` as for any
            // object-store dataset; staged locally: moved to the local quarantine.
            Place::Delta(_) if ds.staging_url().is_some() => {
                let place = remote::Place::of(ds, staging.to_str().unwrap_or_default())?;
                remote::quarantine(
                    ws,
                    ds,
                    &place,
                    &report.run_id,
                    json.as_bytes(),
                    report.status,
                    &by,
                )
                .await?
            }
            Place::Remote(place) => {
                remote::quarantine(
                    ws,
                    ds,
                    place,
                    &report.run_id,
                    json.as_bytes(),
                    report.status,
                    &by,
                )
                .await?
            }
            Place::Delta(_) | Place::Local => ws.with_store(|s| {
                Ok(steps::quarantine(
                    s,
                    &config.quarantine,
                    ds,
                    staging,
                    &report.run_id,
                    json.as_bytes(),
                    report.status,
                    &by,
                )?)
            })?,
        };
        return Ok(PublishOutcome::Quarantined {
            report,
            at,
            transitions,
        });
    }
    // 4a. Promote: move the staged data to a new version, record the intent, switch.
    let promotion = match &place {
        Place::Delta(place) => delta::promote(ws, ds, place, &report.run_id, &by).await?,
        Place::Remote(place) => remote::promote(ws, ds, place, &report.run_id, &by).await?,
        Place::Local => {
            ws.with_store(|s| Ok(steps::promote(s, ds, staging, &report.run_id, &by)?))?
        }
    };
    Ok(PublishOutcome::Published {
        report,
        promotion,
        keep_versions: ds.keep_versions,
        transitions,
    })
}

/// Writes `frame` where `dataset` is staged, as one Parquet file (`staging:` a `.parquet`
/// file, or `part-0.parquet` in a `staging:` folder), so that [`publish`] audits it: the
/// Python module's `publish(dataset, data=frame)`. Refused when the staging location
/// already holds data (nothing is overwritten), is on an object store, or is not Parquet.
/// The file appears whole or not at all.
pub fn stage_frame(
    ws: &Workspace,
    dataset: &str,
    frame: &sluice_engine::frame::Frame,
) -> Result<PathBuf> {
    let ds = ws.dataset(dataset)?;
    let Some(staging) = ds.staging.clone() else {
        return Err(Error::NoStaging {
            dataset: ds.name.clone(),
            path: ds.path.clone(),
        });
    };
    let shown = staging.display().to_string();
    let refuse = |why: &str| Error::FrameNotStageable {
        dataset: ds.name.clone(),
        why: format!("at `{shown}`: {why}"),
    };
    if ds.staging_url().is_some() {
        return Err(refuse("it is on an object store"));
    }
    if ds.format.is_some_and(|f| f != sluice_spec::Format::Parquet) {
        return Err(refuse(
            "frames are staged as Parquet and the dataset's `format:` is not parquet",
        ));
    }
    let extension = staging
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let file = match extension.as_deref() {
        Some("parquet" | "pq") => staging.clone(),
        Some(_) => return Err(refuse("it is a file that is not Parquet")),
        None => staging.join("part-0.parquet"),
    };
    let occupied = if staging.is_dir() {
        std::fs::read_dir(&staging)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    } else {
        staging.exists()
    };
    if occupied {
        return Err(Error::StagingOccupied {
            dataset: ds.name.clone(),
            staging: shown,
        });
    }
    frame
        .write_parquet(&file)
        .map_err(|message| Error::Staging {
            staging: file.display().to_string(),
            message,
        })?;
    Ok(file)
}
