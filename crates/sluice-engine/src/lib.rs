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
mod evaluate;
mod session;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::join_all;
use sluice_spec::suggest::did_you_mean;
use sluice_spec::{CheckKind, Config};
use tracing::{Instrument, info, info_span};

pub use error::{Error, Result};
pub use evaluate::{pct, threshold_text};
pub use progress::{Progress, ProgressSnapshot};
pub use report::{CheckResult, CheckStatus, DatasetReport, RunReport, RunStatus, Summary};

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Only these datasets (all when empty).
    pub datasets: Vec<String>,
    /// "Now" for freshness checks.
    pub now: DateTime<Utc>,
    /// Bound on DataFusion's memory pool, in bytes; spills to disk beyond it.
    pub memory_limit: Option<usize>,
    /// Parallelism of each query (default: the number of cores).
    pub target_partitions: Option<usize>,
    /// Live progress, for a progress display.
    pub progress: Option<Arc<Progress>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            datasets: vec![],
            now: Utc::now(),
            memory_limit: None,
            target_partitions: None,
            progress: None,
        }
    }
}

/// Checks that the requested datasets exist; the error suggests the closest name.
pub fn select_datasets<'c>(
    config: &'c Config,
    names: &[String],
) -> Result<Vec<&'c sluice_spec::Dataset>> {
    if names.is_empty() {
        return Ok(config.datasets.iter().collect());
    }
    let mut out = Vec::new();
    for n in names {
        match config.dataset(n) {
            Some(d) => {
                if !out.iter().any(|o: &&sluice_spec::Dataset| o.name == d.name) {
                    out.push(d)
                }
            }
            None => {
                let known: Vec<&str> = config.datasets.iter().map(|d| d.name.as_str()).collect();
                let hint = match did_you_mean(n, known.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "datasets in {}: {}",
                        config.file.path().display(),
                        known.join(", ")
                    ),
                };
                return Err(Error::Usage(format!("unknown dataset `{n}`; {hint}")));
            }
        }
    }
    Ok(out)
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

/// Runs the checks of the selected datasets.
pub async fn run(config: &Config, opts: &RunOptions) -> Result<RunReport> {
    let run_id = uuid::Uuid::now_v7().to_string();
    let span = info_span!("run", %run_id, datasets = tracing::field::Empty, checks = tracing::field::Empty);
    async {
        let started_at = Utc::now();
        let clock = Instant::now();
        let selected = select_datasets(config, &opts.datasets)?;
        let session = session::new_session(opts.memory_limit, opts.target_partitions)?;
        let mut sample_state = session.state();
        sample_state
            .config_mut()
            .options_mut()
            .execution
            .target_partitions = 1;
        let sample_session = datafusion::prelude::SessionContext::new_with_state(sample_state);

        // Open the selected datasets and those their `references` checks point at.
        let mut to_open: Vec<&sluice_spec::Dataset> = selected.clone();
        for ds in &selected {
            for c in &ds.checks {
                if let CheckKind::References { dataset, .. } = &c.kind
                    && let Some(t) = config.dataset(dataset)
                    && !to_open.iter().any(|d| d.name == t.name)
                {
                    to_open.push(t);
                }
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

        if let Some(p) = &opts.progress {
            p.set_total(selected.len());
        }
        let cx = dataset::RunContext {
            session: &session,
            sample_session: &sample_session,
            config,
            sources: &sources,
            now: opts.now,
            progress: opts.progress.as_deref(),
        };
        let outcomes = join_all(selected.iter().map(|ds| {
            let cx = &cx;
            async move {
                match AssertUnwindSafe(dataset::run(cx, ds)).catch_unwind().await {
                    Ok(outcome) => outcome,
                    Err(panic) => {
                        dataset::failed(cx, ds, &internal(&*panic, "checking the dataset"))
                    }
                }
            }
        }))
        .await;
        let mut datasets = Vec::new();
        let mut checks = Vec::new();
        for (d, c) in outcomes {
            datasets.push(d);
            checks.extend(c);
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
