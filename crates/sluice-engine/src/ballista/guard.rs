//! Once the cluster has failed a query, the run sends it no more: a job submitted to a
//! scheduler with no executor waits for one forever (Ballista fails only the jobs that
//! were running when the last executor was lost). The session's query planner is wrapped
//! ([`GuardedPlanner`]): every plan it makes reports a cluster failure to the session's
//! [`Latch`], and once the latch is set, planning fails at once with the same reason.
//! The same wrapper records the job of every query that completes (see `super::retries`).

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::{StreamExt, TryStreamExt};

/// The first cluster failure a session's queries met, if any.
#[derive(Debug, Default)]
pub struct Latch(Mutex<Option<String>>);

impl Latch {
    fn failed(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn observe(&self, e: &DataFusionError) {
        let text = e.to_string();
        if crate::error::cluster_failure_reason(&text).is_some() {
            let mut first = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if first.is_none() {
                *first = Some(text);
            }
        }
    }
}

/// Ballista's planner, behind the session's [`Latch`].
#[derive(Debug)]
pub struct GuardedPlanner {
    pub(super) inner: Arc<dyn QueryPlanner + Send + Sync>,
    pub(super) latch: Arc<Latch>,
    /// Where the jobs the session ran are recorded (to ask about re-run tasks).
    pub(super) jobs: Arc<super::Jobs>,
}

#[async_trait]
impl QueryPlanner for GuardedPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session_state: &dyn datafusion::catalog::Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if let Some(reason) = self.latch.failed() {
            return Err(DataFusionError::Execution(reason));
        }
        let inner = self
            .inner
            .create_physical_plan(logical_plan, session_state)
            .await?;
        Ok(Arc::new(Observed {
            inner,
            latch: self.latch.clone(),
            jobs: self.jobs.clone(),
        }))
    }
}

/// A cluster query whose errors are reported to the latch, and whose job is recorded
/// once its results are all in.
#[derive(Debug)]
struct Observed {
    inner: Arc<dyn ExecutionPlan>,
    latch: Arc<Latch>,
    jobs: Arc<super::Jobs>,
}

impl DisplayAs for Observed {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.fmt_as(t, f)
    }
}

impl ExecutionPlan for Observed {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let latch = self.latch.clone();
        let stream = self
            .inner
            .execute(partition, context)
            .inspect_err(|e| latch.observe(e))?;
        let schema = stream.schema();
        let latch = self.latch.clone();
        let (jobs, plan) = (self.jobs.clone(), self.inner.clone());
        let finished = futures::stream::once(async move {
            jobs.record(&plan);
            None
        })
        .filter_map(|end: Option<Result<RecordBatch>>| async move { end });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            stream
                .inspect_err(move |e| latch.observe(e))
                .chain(finished),
        )))
    }
}
