//! The DataFusion session every query of a run shares.

use std::sync::Arc;

use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{Error, Result};

/// Builds the session: identifiers keep their case (a column `OrderID` is written `OrderID`
/// in `where:`, not `"OrderID"`), and a memory limit, when given, bounds DataFusion's pool
/// with spilling to the OS temp folder beyond it.
pub fn new_session(
    memory_limit: Option<usize>,
    target_partitions: Option<usize>,
) -> Result<SessionContext> {
    let mut config = SessionConfig::new()
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false)
        .with_information_schema(false);
    if let Some(n) = target_partitions {
        config = config.with_target_partitions(n.max(1));
    }
    if let Some(limit) = memory_limit {
        // Each sort reserves memory for merging its spills up front (10 MB by default):
        // keep that to a fraction of the pool, so that small limits still work.
        let share = limit / (4 * config.target_partitions().max(1));
        let reserve = config
            .options()
            .execution
            .sort_spill_reservation_bytes
            .min(share);
        config.options_mut().execution.sort_spill_reservation_bytes = reserve;
    }
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = memory_limit {
        // Errors name the largest consumers, so "memory limit exceeded" says by what.
        let pool = TrackConsumersPool::new(
            FairSpillPool::new(limit),
            std::num::NonZeroUsize::new(3).expect("3 > 0"),
        );
        runtime = runtime.with_memory_pool(Arc::new(pool));
    }
    let runtime = runtime
        .build_arc()
        .map_err(|e| Error::Session(Box::new(e)))?;
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(
        crate::duplicates::Duplicates::default(),
    ));
    ctx.register_udf(datafusion::logical_expr::ScalarUDF::from(
        crate::diff::RowHash::default(),
    ));
    ctx.register_udf(datafusion::logical_expr::ScalarUDF::from(
        crate::regex_like::RegexpLike::default(),
    ));
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(
        crate::quantile_order::LargestDecrease::default(),
    ));
    Ok(ctx)
}
