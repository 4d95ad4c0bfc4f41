//! Live progress of a run, for the CLI's progress line: datasets done and rows scanned so
//! far, read from the running plans' scan metrics (DataFusion updates them as it reads).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::physical_plan::ExecutionPlan;

/// Shared between the engine (which updates it) and a display task (which reads it).
#[derive(Debug, Default)]
pub struct Progress {
    datasets_total: AtomicUsize,
    datasets_done: AtomicUsize,
    rows_done: AtomicU64,
    running: Mutex<Vec<(u64, Arc<dyn ExecutionPlan>)>>,
    next_id: AtomicU64,
}

/// A snapshot for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// Datasets whose checks are all evaluated.
    pub datasets_done: usize,
    /// Datasets in the run.
    pub datasets_total: usize,
    /// Rows read so far by the fused scans.
    pub rows_scanned: u64,
}

impl Progress {
    /// A new, empty progress.
    pub fn new() -> Arc<Progress> {
        Arc::new(Progress::default())
    }

    pub(crate) fn set_total(&self, n: usize) {
        self.datasets_total.store(n, Ordering::Relaxed);
    }

    pub(crate) fn dataset_done(&self) {
        self.datasets_done.fetch_add(1, Ordering::Relaxed);
    }

    /// Starts tracking a running scan; call [`Progress::finish`] with the id when it ends.
    pub(crate) fn start(&self, plan: Arc<dyn ExecutionPlan>) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.running.lock().expect("progress lock").push((id, plan));
        id
    }

    /// Stops tracking scan `id`, which read `rows` rows.
    pub(crate) fn finish(&self, id: u64, rows: u64) {
        self.running
            .lock()
            .expect("progress lock")
            .retain(|(i, _)| *i != id);
        self.rows_done.fetch_add(rows, Ordering::Relaxed);
    }

    /// The current state.
    pub fn snapshot(&self) -> ProgressSnapshot {
        let live: u64 = self
            .running
            .lock()
            .expect("progress lock")
            .iter()
            .map(|(_, p)| leaf_rows(p.as_ref()))
            .sum();
        ProgressSnapshot {
            datasets_done: self.datasets_done.load(Ordering::Relaxed),
            datasets_total: self.datasets_total.load(Ordering::Relaxed),
            rows_scanned: self.rows_done.load(Ordering::Relaxed) + live,
        }
    }
}

/// Rows produced so far by the scans (leaves) of a plan.
fn leaf_rows(plan: &dyn ExecutionPlan) -> u64 {
    let children = plan.children();
    if children.is_empty() {
        return plan.metrics().and_then(|m| m.output_rows()).unwrap_or(0) as u64;
    }
    children.iter().map(|c| leaf_rows(c.as_ref())).sum()
}
