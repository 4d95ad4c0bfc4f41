//! The sluice engine: runs the checks of a [`sluice_spec::Config`] over Arrow data with
//! DataFusion and returns a [`RunReport`].
//!
//! Every dataset becomes a listing table ([`source`]); its checks compile to aggregate
//! expressions ([`compile`]) evaluated in **one** scan per dataset; a few checks need a
//! query of their own (`unique`, `references`); failing-row samples come from
//! a second, LIMITed query, only for checks that failed. Datasets run concurrently, within
//! one DataFusion memory pool.
//!
//! Problems with the data never abort a run: an unreadable source or a missing column
//! becomes a check with status `error`, and the other checks still run.

#![warn(missing_docs)]

pub mod compile;
pub mod duplicates;
pub mod error;
pub mod progress;
pub mod report;
pub mod source;
pub mod values;

mod dataset;
mod diagnose;
mod diff;
mod evaluate;
mod parity;
mod reconcile;
mod session;
mod sql_hint;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::join_all;
use sluice_spec::{CheckKind, Config, Dataset, Parity, Reconcile};
use tracing::{Instrument, info, info_span};

pub use error::{Error, Result};
pub use evaluate::{pct, threshold_text};
pub use progress::{Progress, ProgressSnapshot};
pub use report::{CheckResult, CheckStatus, DatasetReport, RunReport, RunStatus, Summary};

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Only these datasets (all when empty and no stage is given).
    pub datasets: Vec<String>,
    /// Only this stage: its outputs' checks, the parity between its inputs and outputs,
    /// and its reconciliations.
    pub stage: Option<String>,
    /// "Now" for freshness checks.
    pub now: DateTime<Utc>,
    /// Bound on DataFusion's memory pool, in bytes; spills to disk beyond it.
    pub memory_limit: Option<usize>,
    /// Parallelism of each query (default: the number of cores).
    pub target_partitions: Option<usize>,
    /// Live progress, for a progress display.
    pub progress: Option<Arc<Progress>>,
    /// Write every keyed diff's differing rows to Parquet files in this folder.
    pub diff_output: Option<PathBuf>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            datasets: vec![],
            stage: None,
            now: Utc::now(),
            memory_limit: None,
            target_partitions: None,
            progress: None,
            diff_output: None,
        }
    }
}

/// What a run covers.
#[derive(Debug)]
pub struct Selection<'c> {
    /// Datasets whose checks run.
    pub checked: Vec<&'c Dataset>,
    /// Parity checks that run, with the dataset carrying each.
    pub parities: Vec<(&'c Dataset, &'c Parity)>,
    /// Reconciliations that run.
    pub reconciles: Vec<&'c Reconcile>,
}

/// Decides what a run covers. With neither datasets nor a stage: everything. With
/// datasets: their checks and parity, and the reconciliations among them only. With a
/// stage: the checks and parity of its outputs, the parity declared on its inputs against
/// its outputs, and its reconciliations (plus any datasets also named).
pub fn select<'c>(
    config: &'c Config,
    datasets: &[String],
    stage: Option<&str>,
) -> Result<Selection<'c>> {
    let mut checked: Vec<&Dataset> = Vec::new();
    let add = |checked: &mut Vec<&'c Dataset>, d: &'c Dataset| {
        if !checked.iter().any(|o| o.name == d.name) {
            checked.push(d);
        }
    };
    for n in datasets {
        add(&mut checked, config.dataset(n)?);
    }
    let stage = stage.map(|s| config.stage(s)).transpose()?;
    if let Some(st) = stage {
        for o in &st.outputs {
            if let Ok(d) = config.dataset(o) {
                add(&mut checked, d);
            }
        }
    }
    let everything = datasets.is_empty() && stage.is_none();
    if everything {
        checked = config.datasets.iter().collect();
    }
    let mut parities: Vec<(&Dataset, &Parity)> = checked
        .iter()
        .flat_map(|d| d.parity.iter().map(move |p| (*d, p)))
        .collect();
    if let Some(st) = stage {
        for i in &st.inputs {
            if let Ok(d) = config.dataset(i) {
                parities.extend(
                    d.parity
                        .iter()
                        .filter(|p| st.outputs.contains(&p.against))
                        .map(|p| (d, p)),
                );
            }
        }
    }
    let reconciles = config
        .reconciles
        .iter()
        .filter(|r| match stage {
            Some(st) => r.stage.as_deref() == Some(st.name.as_str()),
            None => {
                everything
                    || r.datasets
                        .iter()
                        .all(|d| checked.iter().any(|c| &c.name == d))
            }
        })
        .collect();
    Ok(Selection {
        checked,
        parities,
        reconciles,
    })
}

/// Checks that the requested datasets exist; the error suggests the closest name.
pub fn select_datasets<'c>(config: &'c Config, names: &[String]) -> Result<Vec<&'c Dataset>> {
    select(config, names, None).map(|s| s.checked)
}

/// A panic inside DataFusion or a format reader, as a message (the run goes on).
fn internal(panic: &(dyn std::any::Any + Send), doing: &str) -> String {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    format!(
        "internal error while {doing}: {what}; please report it at https://github.com/sluice-data/sluice/issues"
    )
}

/// `--diff-output` must be a folder, or a path where one can be created.
fn check_diff_output(dir: &std::path::Path) -> Result<()> {
    for p in dir.ancestors().filter(|p| !p.as_os_str().is_empty()) {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => return Ok(()),
            Ok(_) => {
                return Err(Error::DiffOutputNotAFolder(Box::new((
                    dir.to_path_buf(),
                    p.to_path_buf(),
                ))));
            }
            Err(_) => continue,
        }
    }
    Ok(())
}

/// Runs what `opts` selects of `config`.
pub async fn run(config: &Config, opts: &RunOptions) -> Result<RunReport> {
    if let Some(dir) = &opts.diff_output {
        check_diff_output(dir)?;
    }
    let run_id = uuid::Uuid::now_v7().to_string();
    let span = info_span!("run", %run_id, datasets = tracing::field::Empty, checks = tracing::field::Empty);
    async {
        let started_at = Utc::now();
        let clock = Instant::now();
        let sel = select(config, &opts.datasets, opts.stage.as_deref())?;
        let session = session::new_session(opts.memory_limit, opts.target_partitions)?;
        let mut sample_state = session.state();
        sample_state
            .config_mut()
            .options_mut()
            .execution
            .target_partitions = 1;
        let sample_session = datafusion::prelude::SessionContext::new_with_state(sample_state);

        // Open every dataset the selection touches: checked ones, those their `references`
        // checks point at, both sides of each parity, every dataset of a reconciliation.
        let mut to_open: Vec<&Dataset> = Vec::new();
        let mut want = |name: &str| {
            if let Ok(d) = config.dataset(name)
                && !to_open.iter().any(|o| o.name == d.name)
            {
                to_open.push(d);
            }
        };
        for ds in &sel.checked {
            want(&ds.name);
            for c in &ds.checks {
                if let CheckKind::References { dataset, .. } = &c.kind {
                    want(dataset);
                }
            }
        }
        for (ds, p) in &sel.parities {
            want(&ds.name);
            want(&p.against);
        }
        for r in &sel.reconciles {
            for d in &r.datasets {
                want(d);
            }
        }
        let opened = join_all(to_open.iter().map(|ds| async {
            let opened = AssertUnwindSafe(source::open(&session, ds))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    Err(source::SourceError(internal(&*panic, "opening the source")))
                });
            (ds.name.clone(), opened)
        }))
        .await;
        let sources: HashMap<_, _> = opened.into_iter().collect();

        // Plan the comparisons: they ask each side's fused scan for counts and aggregates.
        let mut extras = parity::Extras::default();
        let parity_plans: Vec<_> = sel
            .parities
            .iter()
            .map(|(ds, p)| (*ds, *p, parity::plan(ds, p, &sources, &mut extras)))
            .collect();
        let reconcile_plans: Vec<_> = sel
            .reconciles
            .iter()
            .map(|r| (*r, reconcile::plan(r, &sources, &mut extras)))
            .collect();

        let scanned: Vec<(&Dataset, bool, Vec<parity::Extra>)> = to_open
            .iter()
            .map(|d| {
                let checked = sel.checked.iter().any(|c| c.name == d.name);
                (
                    *d,
                    checked,
                    extras.per_dataset.get(&d.name).cloned().unwrap_or_default(),
                )
            })
            .filter(|(_, checked, x)| *checked || !x.is_empty())
            .collect();
        if let Some(p) = &opts.progress {
            p.set_total(scanned.len());
        }
        let cx = dataset::RunContext {
            session: &session,
            sample_session: &sample_session,
            config,
            sources: &sources,
            now: opts.now,
            progress: opts.progress.as_deref(),
        };
        let outcomes = join_all(scanned.iter().map(|(ds, checked, x)| {
            let cx = &cx;
            let checks: &[sluice_spec::Check] = if *checked { &ds.checks } else { &[] };
            async move {
                match AssertUnwindSafe(dataset::run(cx, ds, checks, x))
                    .catch_unwind()
                    .await
                {
                    Ok(outcome) => outcome,
                    Err(panic) => dataset::failed(
                        cx,
                        ds,
                        checks,
                        x.len(),
                        &internal(&*panic, "checking the dataset"),
                    ),
                }
            }
        }))
        .await;
        let mut values: parity::ExtraValues = HashMap::new();
        let mut datasets = Vec::new();
        let mut by_dataset: HashMap<String, Vec<CheckResult>> = HashMap::new();
        for ((ds, checked, _), outcome) in scanned.iter().zip(outcomes) {
            values.insert(ds.name.clone(), outcome.extras);
            if *checked {
                datasets.push(outcome.report);
                by_dataset.insert(ds.name.clone(), outcome.results);
            }
        }

        // Parity and reconciliation, one at a time: keyed diffs are joins, and each may use
        // the whole memory pool.
        let settings = parity::DiffSettings {
            diff_output: opts.diff_output.as_ref(),
            memory_limit: opts.memory_limit,
        };
        let mut parity_results: Vec<(String, CheckResult)> = Vec::new();
        for (ds, p, plan) in &parity_plans {
            let result = match plan {
                Ok(plan) => parity::evaluate(&session, config, plan, &values, &settings).await,
                Err(e) => {
                    let mut r = parity::skeleton(config, ds, p);
                    r.message = e.clone();
                    r
                }
            };
            parity_results.push((ds.name.clone(), result));
        }
        let mut checks = Vec::new();
        for ds in &sel.checked {
            checks.extend(by_dataset.remove(&ds.name).unwrap_or_default());
            checks.extend(
                parity_results
                    .iter()
                    .filter(|(d, _)| *d == ds.name)
                    .map(|(_, r)| r.clone()),
            );
        }
        // Parity declared on a stage's inputs (not themselves checked).
        checks.extend(
            parity_results
                .iter()
                .filter(|(d, _)| !sel.checked.iter().any(|c| &c.name == d))
                .map(|(_, r)| r.clone()),
        );
        for (r, plan) in &reconcile_plans {
            checks.push(match plan {
                Ok(plan) => reconcile::evaluate(&session, config, plan, &values).await,
                Err(e) => {
                    let mut res = reconcile::skeleton(config, r);
                    res.message = e.clone();
                    res
                }
            });
        }

        let (summary, status) = RunReport::summarize(&checks);
        let span = tracing::Span::current();
        span.record("datasets", datasets.len());
        span.record("checks", checks.len());
        info!(
            status = status.as_str(),
            elapsed_ms = clock.elapsed().as_millis() as u64,
            "run finished"
        );
        Ok(RunReport {
            sluice_version: env!("CARGO_PKG_VERSION").to_string(),
            run_id: run_id.clone(),
            started_at: started_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            finished_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            duration_ms: clock.elapsed().as_millis() as u64,
            now: opts.now.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            config: config.file.path().display().to_string(),
            status,
            summary,
            datasets,
            checks,
        })
    }
    .instrument(span)
    .await
}
