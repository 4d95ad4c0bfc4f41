//! The scheduler and executor processes sluice ships (`sluice ballista scheduler|executor`):
//! Ballista's own, started with sluice's functions in their registries, its plan codec, and
//! object stores built from the machine's credentials and the `storage:` settings of a
//! sluice.yaml. Ballista's stock binaries cannot run sluice's plans: their registries do
//! not know `sluice_row_hash`, `sluice_duplicates`, `sluice_regexp_like` or
//! `sluice_largest_decrease`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::utils::default_session_builder;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use sluice_spec::Config;

use super::codec::SluiceLogicalCodec;
use super::stores::LazyStores;

/// Why a scheduler or executor stopped.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClusterError(String);

impl From<ballista_core::error::BallistaError> for ClusterError {
    fn from(e: ballista_core::error::BallistaError) -> Self {
        ClusterError(e.to_string())
    }
}

/// `sluice ballista scheduler`.
#[derive(Clone, Debug)]
pub struct SchedulerOptions {
    /// Where to listen (gRPC for clients and executors).
    pub bind: SocketAddr,
    /// The host name executors and clients reach it by (default: the bind address).
    pub external_host: Option<String>,
    /// The `storage:` settings of this config apply to object stores (file listing).
    pub config: Option<Arc<Config>>,
    /// Seconds without a heartbeat before an executor is taken as lost.
    pub executor_timeout_seconds: Option<u64>,
}

/// `sluice ballista executor`.
#[derive(Clone, Debug)]
pub struct ExecutorOptions {
    /// The scheduler's host and port.
    pub scheduler_host: String,
    /// The scheduler's port.
    pub scheduler_port: u16,
    /// The address to listen on.
    pub bind_host: String,
    /// The host name other executors and clients fetch results from (default: bind host).
    pub external_host: Option<String>,
    /// The Arrow Flight port (results and shuffle data).
    pub flight_port: u16,
    /// The gRPC port (tasks from the scheduler).
    pub grpc_port: u16,
    /// Concurrent tasks (default: the cores).
    pub concurrent_tasks: Option<usize>,
    /// Where shuffle files and spills go (default: a temporary folder).
    pub work_dir: Option<PathBuf>,
    /// The memory pool of the executor's tasks, in bytes (shared by its task slots).
    pub memory_limit: Option<u64>,
    /// The `storage:` settings of this config apply to object stores.
    pub config: Option<Arc<Config>>,
}

/// sluice's functions on top of DataFusion's and Ballista's.
fn function_registry() -> BallistaFunctionRegistry {
    let mut registry = BallistaFunctionRegistry::default();
    let (scalars, aggregates) = crate::session::functions();
    for f in scalars {
        registry
            .scalar_functions
            .insert(f.name().to_string(), Arc::new(f));
    }
    for f in aggregates {
        registry
            .aggregate_functions
            .insert(f.name().to_string(), Arc::new(f));
    }
    registry
}

/// Runs a scheduler until the process is stopped.
pub async fn run_scheduler(opts: SchedulerOptions) -> Result<(), ClusterError> {
    let stores = Arc::new(LazyStores::new(opts.config.clone()));
    let mut config = SchedulerConfig::default()
        .with_hostname(
            opts.external_host
                .clone()
                .unwrap_or_else(|| opts.bind.ip().to_string()),
        )
        .with_port(opts.bind.port());
    config.bind_host = opts.bind.ip().to_string();
    if let Some(t) = opts.executor_timeout_seconds {
        config.executor_timeout_seconds = t;
        // Checked twice per timeout, so a silent executor is noticed within it.
        config.expire_dead_executor_interval_seconds = (t / 2).clamp(1, 15);
        // With no executor left, running jobs fail after as long again (not 180 s).
        config.no_executors_grace_period_seconds = t;
    }
    config.override_logical_codec = Some(Arc::new(SluiceLogicalCodec::default()));
    config.override_session_builder = Some(Arc::new(move |session_config| {
        let base = default_session_builder(session_config)?;
        let runtime = RuntimeEnvBuilder::new()
            .with_object_store_registry(stores.clone())
            .build_arc()?;
        let (scalars, aggregates) = crate::session::functions();
        let mut builder = SessionStateBuilder::new_from_existing(base).with_runtime_env(runtime);
        builder
            .scalar_functions()
            .get_or_insert_with(Vec::new)
            .extend(scalars.into_iter().map(Arc::new));
        builder
            .aggregate_functions()
            .get_or_insert_with(Vec::new)
            .extend(aggregates.into_iter().map(Arc::new));
        Ok(builder.build())
    }));
    let cluster = BallistaCluster::new_from_config(&config).await?;
    start_server(cluster, opts.bind, Arc::new(config)).await?;
    Ok(())
}

/// Runs an executor until the process is stopped or it loses its scheduler.
pub async fn run_executor(opts: ExecutorOptions) -> Result<(), ClusterError> {
    let stores = Arc::new(LazyStores::new(opts.config.clone()));
    let (work_dir, _temp) = match &opts.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| {
                ClusterError(format!(
                    "cannot create the work folder {}: {e}",
                    d.display()
                ))
            })?;
            (d.clone(), None)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("sluice-executor-")
                .tempdir()
                .map_err(|e| ClusterError(format!("cannot create a work folder: {e}")))?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let mut config = ExecutorProcessConfig {
        bind_host: opts.bind_host.clone(),
        external_host: opts.external_host.clone(),
        port: opts.flight_port,
        grpc_port: opts.grpc_port,
        scheduler_host: opts.scheduler_host.clone(),
        scheduler_port: opts.scheduler_port,
        vcores: opts.concurrent_tasks.unwrap_or(0),
        work_dir: Some(work_dir.display().to_string()),
        memory_pool_size: opts.memory_limit,
        print_thread_info: false,
        executor_heartbeat_interval_seconds: 5,
        ..Default::default()
    };
    config.override_function_registry = Some(Arc::new(function_registry()));
    config.override_logical_codec = Some(Arc::new(SluiceLogicalCodec::default()));
    let wd = work_dir.clone();
    config.override_runtime_producer = Some(Arc::new(move |_| {
        RuntimeEnvBuilder::new()
            .with_temp_file_path(wd.clone())
            .with_object_store_registry(stores.clone())
            .build_arc()
    }));
    start_executor_process(Arc::new(config)).await?;
    Ok(())
}
