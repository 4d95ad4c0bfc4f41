//! Running a planned query: with its physical plan logged at debug level, a tracing span,
//! and the live progress of the fused scans.

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::collect;
use tracing::{Instrument, debug, info_span};

use crate::progress::Progress;
use crate::values::as_u64;

/// What a one-row query is, for spans and progress: the fused scan's first value is the
/// dataset's row count, shown as rows scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A dataset's fused aggregate scan.
    Fused,
    /// One check's aggregates, run alone.
    Check,
    /// A check's own query.
    Own,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Fused => "fused",
            Kind::Check => "check",
            Kind::Own => "own",
        }
    }
}

/// Runs a one-row aggregate query; returns its values in order.
pub(crate) async fn one_row(
    df: DataFrame,
    progress: Option<&Progress>,
    kind: Kind,
) -> Result<Vec<ScalarValue>, DataFusionError> {
    let span = info_span!(
        "query",
        kind = kind.name(),
        rows = tracing::field::Empty,
        bytes_scanned = tracing::field::Empty,
        elapsed_ms = tracing::field::Empty
    );
    async move {
        let started = Instant::now();
        let task = Arc::new(df.task_ctx());
        let plan = df.create_physical_plan().await?;
        debug!(plan = %datafusion::physical_plan::displayable(plan.as_ref()).indent(false), "physical plan");
        let id = progress.map(|p| p.start(plan.clone()));
        let result = collect(plan.clone(), task).await;
        let batches = match result {
            Ok(b) => b,
            Err(e) => {
                if let (Some(p), Some(id)) = (progress, id) {
                    p.finish(id, 0);
                }
                return Err(e);
            }
        };
        let values = first_row(&batches)?;
        let rows = values.first().map(as_u64).unwrap_or(0);
        let fused = kind == Kind::Fused;
        if let (Some(p), Some(id)) = (progress, id) {
            p.finish(id, if fused { rows } else { 0 });
        }
        let span = tracing::Span::current();
        if fused {
            span.record("rows", rows);
        }
        let bytes = bytes_scanned(plan.as_ref());
        let elapsed_ms = started.elapsed().as_millis() as u64;
        span.record("bytes_scanned", bytes);
        span.record("elapsed_ms", elapsed_ms);
        debug!(bytes_scanned = bytes, elapsed_ms, "query finished");
        Ok(values)
    }
    .instrument(span)
    .await
}

/// The bytes of data files an executed plan read: DataFusion's `bytes_scanned` metric of
/// its scans (Parquet pages; footers read when the table was opened are not counted).
pub(crate) fn bytes_scanned(plan: &dyn datafusion::physical_plan::ExecutionPlan) -> u64 {
    let own = plan
        .metrics()
        .and_then(|m| m.sum_by_name("bytes_scanned"))
        .map_or(0, |v| v.as_usize() as u64);
    own + plan
        .children()
        .into_iter()
        .map(|c| bytes_scanned(c.as_ref()))
        .sum::<u64>()
}

/// The first row of an aggregate's answer.
pub(crate) fn first_row(batches: &[RecordBatch]) -> Result<Vec<ScalarValue>, DataFusionError> {
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| DataFusionError::Internal("aggregate returned no row".into()))?;
    (0..batch.num_columns())
        .map(|i| ScalarValue::try_from_array(batch.column(i).as_ref(), 0))
        .collect()
}

/// `exprs` aliased `{prefix}0`, `{prefix}1`...
pub(crate) fn alias_all(exprs: &[Expr], prefix: &str) -> Vec<Expr> {
    exprs
        .iter()
        .enumerate()
        .map(|(i, e)| e.clone().alias(format!("{prefix}{i}")))
        .collect()
}
