//! Queries on an Apache Ballista cluster (`--engine ballista://HOST:PORT`), behind the
//! `ballista` feature.
//!
//! The client side is a session whose physical planner hands every query's logical plan
//! to the scheduler ([`client_session`]): the run's checks, samples, parity aggregates and
//! keyed diffs are planned by sluice exactly as in-process and executed there. What sluice
//! needs on the other side is in [`cluster`]: the scheduler and the executors must be
//! started by sluice (`sluice ballista scheduler|executor`), which registers its own
//! functions, plan codec ([`codec`]) and object stores ([`stores`]).
//!
//! What differs from in-process, on purpose:
//! - the forecast pack's native aggregates (built per check, see `crate::native`) are not
//!   used: those checks run their own SQL queries, which give the same results;
//! - datasets that are not files (Delta tables, in-memory frames) are reported as errors:
//!   their table providers cannot be sent to executors;
//! - `--memory-limit` bounds the client; executors have their own (`--memory-limit` of
//!   `sluice ballista executor`).

mod cluster;
mod codec;
mod guard;
mod retries;
mod stores;

use std::sync::Arc;
use std::time::Duration;

use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;

pub use cluster::{ClusterError, ExecutorOptions, SchedulerOptions, run_executor, run_scheduler};
pub use codec::SluiceLogicalCodec;
pub(crate) use retries::Jobs;
pub use stores::LazyStores;

use crate::error::{Error, Result};

/// How long to wait for the scheduler to accept a connection before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A session whose queries run on the scheduler at `host:port`, after checking that it
/// accepts connections (nothing has run when it does not).
pub(crate) async fn client_session(
    host: &str,
    port: u16,
    target_partitions: Option<usize>,
) -> Result<SessionContext> {
    let address = format!("ballista://{host}:{port}");
    let url = format!("http://{host}:{port}");
    reachable(&address, &url).await?;
    let base = crate::session::new_session(None, target_partitions)?;
    let state = base.state();
    let jobs = Arc::new(Jobs::new(url.clone()));
    let config = state
        .config()
        .clone()
        .with_ballista_logical_extension_codec(Arc::new(SluiceLogicalCodec::default()))
        .with_extension(jobs.clone());
    let state = SessionStateBuilder::new_from_existing(state)
        .with_config(config)
        .build()
        .upgrade_for_ballista(url)
        .map_err(|e| Error::Session(Box::new(e)))?;
    let planner = guard::GuardedPlanner {
        inner: state.query_planner().clone(),
        latch: Arc::new(guard::Latch::default()),
        jobs,
    };
    let state = SessionStateBuilder::new_from_existing(state)
        .with_query_planner(Arc::new(planner))
        .build();
    let ctx = SessionContext::new_with_state(state);
    // Upgrading replaces the function lists with Ballista's: sluice's go back on top.
    crate::session::register_functions(&ctx);
    Ok(ctx)
}

/// Whether the scheduler accepts a gRPC connection, as an error naming it when not.
async fn reachable(address: &str, url: &str) -> Result<()> {
    let unreachable =
        |cause: String| Error::EngineUnreachable(Box::new((address.to_string(), cause)));
    match tokio::time::timeout(
        CONNECT_TIMEOUT,
        SchedulerGrpcClient::connect(url.to_string()),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unreachable(crate::objects::chain(&e))),
        Err(_) => Err(unreachable(format!(
            "no answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}
