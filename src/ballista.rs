//! `sluice ballista scheduler|executor`: the processes of a Ballista cluster that runs
//! sluice's queries (`--engine ballista://HOST:PORT`), in a build with the `ballista`
//! feature. They are Ballista's scheduler and executor with sluice's functions, plan codec
//! and object stores registered (see `sluice_engine::ballista`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use sluice_app::engine::ballista::{self, ExecutorOptions, SchedulerOptions};

use crate::cli::parse_size;
use crate::code;
use crate::commands::block_on;

/// `sluice ballista …`.
#[derive(Debug, Subcommand)]
pub enum BallistaCommand {
    /// Run a scheduler: clients (`--engine ballista://HOST:PORT`) send it their plans, it
    /// splits them into stages and hands the tasks to its executors.
    Scheduler(SchedulerArgs),
    /// Run an executor: it registers with the scheduler and runs its tasks.
    Executor(ExecutorArgs),
}

/// `sluice ballista scheduler`.
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Listen here (gRPC, for clients and executors).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    pub bind: std::net::SocketAddr,
    /// The host name clients and executors reach this scheduler by [default: the bind address].
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
    /// Apply the `storage:` settings of this sluice.yaml to object stores (credentials come
    /// from this machine's environment, profile files or instance role).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seconds without a heartbeat before an executor counts as lost and its tasks are
    /// run elsewhere.
    #[arg(long, value_name = "SECONDS")]
    pub executor_timeout: Option<u64>,
}

/// `sluice ballista executor`.
#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler: `HOST:PORT` or `ballista://HOST:PORT`.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    pub scheduler: String,
    /// The address to listen on.
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    pub bind: String,
    /// The host name the scheduler and clients fetch results from [default: --bind].
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
    /// Arrow Flight port: results and shuffle data.
    #[arg(long, value_name = "PORT", default_value_t = 50051)]
    pub flight_port: u16,
    /// gRPC port: tasks from the scheduler.
    #[arg(long, value_name = "PORT", default_value_t = 50052)]
    pub grpc_port: u16,
    /// Tasks run at once [default: the cores].
    #[arg(long, value_name = "N")]
    pub concurrent_tasks: Option<usize>,
    /// Where shuffle files and spills go [default: a temporary folder].
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// The memory of this executor's tasks (e.g. 4G), shared by its task slots; spills
    /// beyond it.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<usize>,
    /// Apply the `storage:` settings of this sluice.yaml to object stores.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Runs the command until the process is stopped.
pub fn run(cmd: &BallistaCommand) -> anyhow::Result<u8> {
    match cmd {
        BallistaCommand::Scheduler(a) => {
            let opts = SchedulerOptions {
                bind: a.bind,
                external_host: a.external_host.clone(),
                config: storage_config(a.config.as_ref())?,
                executor_timeout_seconds: a.executor_timeout,
            };
            eprintln!(
                "sluice ballista scheduler listening on {} (ballista://{})",
                a.bind, a.bind
            );
            block_on(ballista::run_scheduler(opts))?.context("the scheduler stopped")?;
        }
        BallistaCommand::Executor(a) => {
            let (host, port) = scheduler_address(&a.scheduler)?;
            let opts = ExecutorOptions {
                scheduler_host: host,
                scheduler_port: port,
                bind_host: a.bind.clone(),
                external_host: a.external_host.clone(),
                flight_port: a.flight_port,
                grpc_port: a.grpc_port,
                concurrent_tasks: a.concurrent_tasks,
                work_dir: a.work_dir.clone(),
                memory_limit: a.memory_limit.map(|m| m as u64),
                config: storage_config(a.config.as_ref())?,
            };
            eprintln!(
                "sluice ballista executor on {}:{} (flight) / {} (grpc), scheduler {}",
                a.bind, a.flight_port, a.grpc_port, a.scheduler
            );
            block_on(ballista::run_executor(opts))?.context("the executor stopped")?;
        }
    }
    Ok(code::PASSED)
}

/// The config whose `storage:` settings apply, loaded (and validated) when given.
fn storage_config(path: Option<&PathBuf>) -> anyhow::Result<Option<Arc<sluice_app::spec::Config>>> {
    path.map(|p| Ok(Arc::new(sluice_app::load_config(p, &[])?)))
        .transpose()
}

/// `HOST:PORT` or `ballista://HOST:PORT`.
fn scheduler_address(text: &str) -> anyhow::Result<(String, u16)> {
    let url = if text.starts_with("ballista://") {
        text.to_string()
    } else {
        format!("ballista://{text}")
    };
    match sluice_app::spec::Engine::parse(&url) {
        Ok(sluice_app::spec::Engine::Ballista { host, port }) => Ok((host, port)),
        Ok(_) => unreachable!("a ballista:// URL parses as Ballista"),
        Err(e) => Err(crate::Usage(format!("--scheduler {e}")).into()),
    }
}
