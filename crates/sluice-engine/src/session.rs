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
    register_functions(&ctx);
    Ok(ctx)
}

/// sluice's own functions: the keyed diff's row hash, `matches:`'s regex (compiled once),
/// `unique`'s duplicate bitmaps and the long `quantiles_ordered`'s largest decrease. The
/// one list every place that plans or executes sluice's queries registers (the session
/// here, and a Ballista scheduler's and executors' registries).
pub fn functions() -> (
    Vec<datafusion::logical_expr::ScalarUDF>,
    Vec<datafusion::logical_expr::AggregateUDF>,
) {
    use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
    (
        vec![
            ScalarUDF::from(crate::diff::RowHash::default()),
            ScalarUDF::from(crate::regex_like::RegexpLike::default()),
        ],
        vec![
            AggregateUDF::from(crate::duplicates::Duplicates::default()),
            AggregateUDF::from(crate::quantile_order::LargestDecrease::default()),
        ],
    )
}

/// Registers [`functions`] in `ctx`.
pub fn register_functions(ctx: &SessionContext) {
    let (scalars, aggregates) = functions();
    for f in scalars {
        ctx.register_udf(f);
    }
    for f in aggregates {
        ctx.register_udaf(f);
    }
}

/// The tasks a Ballista cluster re-ran for the queries of `session` (none in-process).
pub(crate) async fn retries(session: &SessionContext) -> Vec<crate::report::Retry> {
    #[cfg(feature = "ballista")]
    if let Some(jobs) = session
        .state()
        .config()
        .get_extension::<crate::ballista::Jobs>()
    {
        return jobs.retries().await;
    }
    #[cfg(not(feature = "ballista"))]
    let _ = session;
    Vec::new()
}

/// The session of a run on `engine`: in-process, or a client of a Ballista scheduler
/// (which must answer first; nothing runs when it does not).
pub(crate) async fn for_engine(
    engine: &sluice_spec::Engine,
    memory_limit: Option<usize>,
    target_partitions: Option<usize>,
) -> Result<SessionContext> {
    match engine {
        sluice_spec::Engine::InProcess => new_session(memory_limit, target_partitions),
        #[cfg(feature = "ballista")]
        sluice_spec::Engine::Ballista { host, port } => {
            crate::ballista::client_session(host, *port, target_partitions).await
        }
        #[cfg(not(feature = "ballista"))]
        sluice_spec::Engine::Ballista { .. } => Err(Error::EngineNotBuilt(engine.to_string())),
    }
}
