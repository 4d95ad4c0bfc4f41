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

#[cfg(feature = "ballista")]
pub mod ballista;
pub mod compare;
pub mod compile;
pub mod delta;
pub mod duplicates;
pub mod error;
pub mod frame;
pub mod objects;
pub mod observed;
#[cfg(feature = "polars")]
pub mod polars;
pub mod profile;
pub mod progress;
pub mod report;
pub mod source;
pub mod values;

mod dataset;
mod diagnose;
mod diff;
mod evaluate;
pub mod history;
mod native;
mod pack;
mod parity;
mod quantile_order;
mod query;
mod reconcile;
mod regex_like;
mod runner;
mod session;
mod sql_hint;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use sluice_spec::{Config, Dataset, Parity, Reconcile};

pub use compare::Published;
pub use error::{
    CLUSTER_FAILURE, CheckError, CheckErrorKind, Error, Result, SourceError, SourceErrorKind,
    is_cluster_failure,
};
pub use evaluate::{pct, threshold_text};
pub use progress::{Progress, ProgressSnapshot};
pub use report::{CheckResult, CheckStatus, DatasetReport, Retry, RunReport, RunStatus, Summary};
pub use runner::RUN_TARGET;
pub use sluice_spec::Engine;

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
    /// Earlier metric values, for the `change` and `anomaly` checks.
    pub history: Arc<history::History>,
    /// Compute every dataset's metrics (for recording them) even without history checks.
    pub dataset_metrics: bool,
    /// The published version of each dataset that `distribution: { reference: published }`
    /// and `change_vs_published` compare with (none: they pass with a note). The
    /// application layer sets it: while `sluice publish` checks the staged data, the
    /// published path; under `sluice check`, the version before the current one.
    pub published: HashMap<String, compare::Published>,
    /// The run's id (default: a new one, see [`new_run_id`]). The application layer
    /// sets it when it announces the run (OpenLineage's START event) before it starts.
    pub run_id: Option<String>,
    /// In-memory frames standing in for datasets' `path` (by dataset name): the Python
    /// module's frames, a polars `DataFrame` from Rust.
    pub frames: frame::Frames,
    /// Where the queries run: in this process (the default) or on a Ballista cluster.
    pub engine: Engine,
}

/// A new run id: a UUID v7, so ids sort by time.
pub fn new_run_id() -> String {
    uuid::Uuid::now_v7().to_string()
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
            history: Arc::default(),
            dataset_metrics: false,
            published: HashMap::new(),
            run_id: None,
            frames: frame::Frames::new(),
            engine: Engine::InProcess,
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

impl<'c> Selection<'c> {
    /// Every dataset the run reads: the checked ones, those their checks compare with
    /// (`references`, `completeness` from…), both sides of each parity, every dataset of a
    /// reconciliation.
    pub fn datasets_read(&self, config: &'c Config) -> Vec<&'c Dataset> {
        runner::datasets_to_open(config, self)
    }
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

/// Runs what `opts` selects of `config`: see [`runner`] for the steps.
pub async fn run(config: &Config, opts: &RunOptions) -> Result<RunReport> {
    if let Some(dir) = &opts.diff_output {
        check_diff_output(dir)?;
    }
    let sel = select(config, &opts.datasets, opts.stage.as_deref())?;
    runner::run(config, opts, &sel).await
}
