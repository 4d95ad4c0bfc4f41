//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// sluice keeps bad data from reaching the people and systems that consume it.
///
/// Exit codes: 0 all checks passed (warnings allowed), 1 a check of severity `error`
/// failed, 2 invalid invocation or config (nothing was run), 3 blocked by an open breaker
/// (`guard`, `publish`; see --blocked-exit-code), 4 runtime error (a source could not be
/// read, a check could not be evaluated). Lineage commands exit 0 when they
/// answer, 2 on an unknown node, a bad selector or an invalid source, 4 on an unreadable file.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Options every command takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// More logging on stderr (-v info, -vv debug, -vvv trace). SLUICE_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Less output: -q hides progress and logs below error, -qq hides logs.
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub quiet: u8,

    /// When to use colours. `auto` honours NO_COLOR and uses colour on terminals only.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub color: ColorChoice,

    /// The format of the logs on stderr: `json` is one object per line with the run id,
    /// dataset, check and duration (and logs `info` by default).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true, value_name = "FORMAT", env = "SLUICE_LOG_FORMAT")]
    pub log_format: LogFormat,
}

/// `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line, for log shippers and Airflow's log view.
    Json,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on terminals, unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the checks of a config and report (the main job).
    Check(CheckArgs),
    /// Check a config for mistakes without reading any data.
    Validate(ConfigArgs),
    /// What breaks if X fails: everything downstream of a node (or upstream, with
    /// --upstream), with depth, path, owner and tier, and the owners to call.
    Impact(ImpactArgs),
    /// The lineage graph: dbt's selectors (`select`) and the graph itself (`show`).
    #[command(subcommand)]
    Lineage(LineageCommand),
    /// Circuit breakers: `status`, `history`, and the manual `trip`, `reset`, `override`.
    #[command(subcommand)]
    Breaker(BreakerCommand),
    /// May X publish? Exit 0 if so, 3 if its breaker or one upstream of it is open,
    /// naming each, with its owner, reason, run and since when.
    Guard(GuardArgs),
    /// Write–audit–publish: guard X, check its `staging:` data, promote it to `path:`
    /// atomically on pass, quarantine it (and open the breaker) on failure.
    Publish(PublishArgs),
    /// X's metric history: every check's observed value and the dataset metrics
    /// (row_count; null_count, min, max, mean of checked columns) over recorded runs.
    History(MetricHistoryArgs),
    /// Print the JSON Schema of sluice.yaml (for editors: see `# yaml-language-server:`).
    Schema,
    /// Write a starting config for a dataset, from its schema and data: a row count, a
    /// schema check, not_null checks and a guessed key.
    Init(InitArgs),
    /// Print a shell completion script: `sluice completions bash > ~/.local/share/bash-completion/completions/sluice`.
    Completions(CompletionsArgs),
    /// Serve the HTTP API, the web dashboard and Prometheus metrics over the same state
    /// store as the CLI, until SIGTERM (requests in flight finish first).
    Serve(ServeArgs),
    /// Run a Ballista scheduler or executor with sluice's functions registered, for
    /// `--engine ballista://HOST:PORT` (this build has the `ballista` feature).
    #[cfg(feature = "ballista")]
    #[command(subcommand)]
    Ballista(crate::ballista::BallistaCommand),
}

/// `sluice serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Listen here. A non-loopback address needs --allow-remote and a token.
    #[arg(
        long,
        value_name = "HOST:PORT",
        default_value = "127.0.0.1:8080",
        env = "SLUICE_ADDR"
    )]
    pub addr: std::net::SocketAddr,
    /// Allow listening on a non-loopback address (a token must be configured:
    /// SLUICE_TOKEN, or the variable `serve: { token_env: NAME }` names).
    #[arg(long)]
    pub allow_remote: bool,
    /// Checks asked for through `POST /api/check` that may run at once (the rest queue).
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_runs: u16,
    /// The largest request body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 65536)]
    pub body_limit: usize,
}

/// `sluice init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The data: a file, a folder or a glob (Parquet, CSV, JSON, Arrow), as `path:` takes it.
    #[arg(long, value_name = "PATH")]
    pub from: PathBuf,
    /// The dataset's name [default: the file or folder name].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Write the config to this file (its `path:` relative to the file's folder) instead
    /// of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace --output if it exists.
    #[arg(long, requires = "output")]
    pub force: bool,
}

/// `sluice completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells `sluice completions` writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

impl Command {
    /// The command's name when it was asked for a `--json-summary` line.
    pub fn json_summary(&self) -> Option<&'static str> {
        match self {
            Command::Check(a) if a.json_summary => Some("check"),
            Command::Guard(a) if a.orchestrator.json_summary => Some("guard"),
            Command::Publish(a) if a.orchestrator.json_summary => Some("publish"),
            _ => None,
        }
    }
}

/// `sluice history`.
#[derive(Debug, Args)]
pub struct MetricHistoryArgs {
    /// The dataset.
    pub dataset: String,
    /// Only this metric: a check's name (`not_null(amount)`), `check.field`, or a dataset
    /// metric (`row_count`, `mean(amount)`).
    #[arg(long = "check", value_name = "NAME")]
    pub metric: Option<String>,
    /// Only runs whose partition has KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub partition: Vec<String>,
    /// The last N values per metric.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub last: usize,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = StateFormat::Text)]
    pub format: StateFormat,
}

/// `sluice publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The dataset.
    pub dataset: String,
    /// Point `path` back at the previous version instead (audited).
    #[arg(long)]
    pub rollback: bool,
    /// With --rollback: this version (v3) instead of the previous one.
    #[arg(long, value_name = "VERSION", requires = "rollback")]
    pub to: Option<String>,
    /// How long to wait for another publish of the same dataset to finish.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_wait)]
    pub wait: std::time::Duration,
    /// Who [default: the Airflow task from AIRFLOW_CTX_*, else $USER].
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// The slice of the data this run publishes (repeatable), e.g. --partition ds=2026-11-30:
    /// metric history is recorded under it and compared within it.
    #[arg(long, value_name = "KEY=VALUE")]
    pub partition: Vec<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub orchestrator: GateArgs,
    #[command(flatten)]
    pub openlineage: OpenLineageArgs,
}

/// What `guard` and `publish`, the commands that can be blocked, tell an orchestrator.
#[derive(Debug, Args)]
#[command(next_help_heading = "Orchestrators")]
pub struct GateArgs {
    /// Exit with N instead of 3 when blocked by an open breaker: 99 makes Airflow's
    /// BashOperator (skip_on_exit_code=99, its default) mark the task skipped, not failed.
    #[arg(long, value_name = "N", value_parser = parse_blocked_exit_code)]
    pub blocked_exit_code: Option<u8>,

    /// Print a one-line JSON summary as the last line of stdout (for Airflow's XCom).
    #[arg(long)]
    pub json_summary: bool,
}

/// Parses `--blocked-exit-code`: 3, or a code of its own (5–255). 0 would let a blocked
/// dataset pass for published; 1, 2 and 4 already say something else.
pub fn parse_blocked_exit_code(s: &str) -> Result<u8, String> {
    let n: u8 = s
        .parse()
        .map_err(|_| format!("`{s}` is not an exit code; give a number from 3 to 255, e.g. 99"))?;
    match n {
        0 => Err("0 would make a blocked dataset look published; give 3 (the default) or a code from 5 to 255, e.g. 99".into()),
        1 | 2 | 4 => Err(format!(
            "{n} already means {}; give 3 (the default) or a code from 5 to 255, e.g. 99",
            match n {
                1 => "checks failed",
                2 => "an invalid invocation or config",
                _ => "a runtime error",
            }
        )),
        n => Ok(n),
    }
}

/// Where `check` and `publish` send OpenLineage events, and the run they are nested under.
/// Each flag wins over its environment variable, which wins over `openlineage:` in the config.
#[derive(Debug, Args)]
#[command(next_help_heading = "OpenLineage")]
pub struct OpenLineageArgs {
    /// POST OpenLineage run events to this endpoint (its base URL: the path
    /// OPENLINEAGE_ENDPOINT, default api/v1/lineage, is joined to it). OPENLINEAGE_API_KEY
    /// is sent as a bearer token.
    #[arg(long, value_name = "URL", env = "OPENLINEAGE_URL")]
    pub openlineage_url: Option<String>,

    /// Append OpenLineage run events to this file, one JSON object per line.
    #[arg(long, value_name = "FILE")]
    pub openlineage_file: Option<PathBuf>,

    /// The namespace of sluice's jobs [default: `openlineage: namespace`, else the parent
    /// job's namespace, else sluice].
    #[arg(long, value_name = "NAMESPACE", env = "OPENLINEAGE_NAMESPACE")]
    pub openlineage_namespace: Option<String>,

    /// The run this one is nested under, as namespace/job/runId: Airflow's
    /// `{{ macros.OpenLineageProviderPlugin.lineage_parent_id(task_instance) }}`.
    #[arg(long, value_name = "NS/JOB/RUN_ID", env = "OPENLINEAGE_PARENT_ID")]
    pub parent_id: Option<String>,

    /// The parent run's id (a UUID): `{{ macros.OpenLineageProviderPlugin.lineage_run_id(task_instance) }}`.
    #[arg(long, value_name = "UUID", env = "OPENLINEAGE_PARENT_RUN_ID")]
    pub parent_run_id: Option<String>,

    /// The parent job's name: `{{ macros.OpenLineageProviderPlugin.lineage_job_name(task_instance) }}`.
    #[arg(long, value_name = "NAME", env = "OPENLINEAGE_PARENT_JOB_NAME")]
    pub parent_job_name: Option<String>,

    /// The parent job's namespace: `{{ macros.OpenLineageProviderPlugin.lineage_job_namespace() }}`.
    #[arg(
        long,
        value_name = "NAMESPACE",
        env = "OPENLINEAGE_PARENT_JOB_NAMESPACE"
    )]
    pub parent_job_namespace: Option<String>,

    /// The root run (the DAG run) as namespace/job/runId:
    /// `{{ macros.OpenLineageProviderPlugin.lineage_root_parent_id(task_instance) }}`.
    #[arg(long, value_name = "NS/JOB/RUN_ID", env = "OPENLINEAGE_ROOT_PARENT_ID")]
    pub root_parent_id: Option<String>,

    /// Send no OpenLineage events, whatever is configured.
    #[arg(long, env = "OPENLINEAGE_DISABLED", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_openlineage: bool,
}

fn parse_wait(s: &str) -> Result<std::time::Duration, String> {
    sluice_app::spec::duration::parse_duration(s)
}

/// `sluice breaker ...`.
#[derive(Debug, Subcommand)]
pub enum BreakerCommand {
    /// Every breaker (or X's): state, since, reason, last run, and what blocks it upstream.
    Status(StatusArgs),
    /// X's audit log: every transition, with who, when, why and the run.
    History(HistoryArgs),
    /// Halt X by hand (until reset, or until --until).
    Trip(ManualArgs),
    /// Close X's breaker: the data is good again, or the failure is understood.
    Reset(ManualArgs),
    /// Let X publish despite an open breaker, until --until (required).
    Override(ManualArgs),
    /// Incidents per dataset and per month, time to recover, the datasets that trip most.
    Report(ReportArgs),
}

/// `sluice breaker report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The period: the last N days/hours (90d, 12h) or since a time (RFC 3339).
    #[arg(long, value_name = "WHEN", default_value = "90d")]
    pub since: String,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = StateFormat::Text)]
    pub format: StateFormat,
}

/// `--format` of breaker commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StateFormat {
    /// For people.
    Text,
    /// JSON (see README).
    Json,
}

/// `sluice breaker status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Only this dataset.
    pub dataset: Option<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = StateFormat::Text)]
    pub format: StateFormat,
}

/// `sluice breaker history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The dataset.
    pub dataset: String,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The last N transitions.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: usize,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = StateFormat::Text)]
    pub format: StateFormat,
}

/// `sluice breaker trip|reset|override`.
#[derive(Debug, Args)]
pub struct ManualArgs {
    /// The dataset.
    pub dataset: String,
    /// Why (kept in the audit log; required).
    #[arg(long)]
    pub reason: Option<String>,
    /// Until when: RFC 3339 (2026-11-23T08:00:00Z) or a duration from now (2h, 1d).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Who [default: the Airflow task from AIRFLOW_CTX_*, else $USER].
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = StateFormat::Text)]
    pub format: StateFormat,
}

/// `sluice guard`.
#[derive(Debug, Args)]
pub struct GuardArgs {
    /// The dataset about to be published.
    pub dataset: String,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = StateFormat::Text)]
    pub format: StateFormat,
    #[command(flatten)]
    pub orchestrator: GateArgs,
}

/// `sluice lineage ...`.
#[derive(Debug, Subcommand)]
pub enum LineageCommand {
    /// Nodes matching dbt selectors (`stg_orders+`, `+exposure:revenue`, `tag:nightly,
    /// @orders`...), as `dbt ls` lists them.
    Select(SelectArgs),
    /// The whole graph, or the part selected, as a tree (or JSON, dot, Mermaid).
    Show(ShowArgs),
}

/// Where the lineage comes from. With none of these, ./sluice.yaml.
#[derive(Debug, Args)]
#[command(next_help_heading = "Lineage sources")]
pub struct SourceArgs {
    /// A sluice config (its datasets, stages, exposures, stage SQL and `lineage:`)
    /// [default: ./sluice.yaml if it exists].
    #[arg(short, long, value_name = "FILE", env = "SLUICE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Set a `${NAME}` variable of the config (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,

    /// A dbt target/manifest.json (repeatable; schema v10 to v12).
    #[arg(long = "dbt-manifest", value_name = "PATH")]
    pub dbt_manifest: Vec<PathBuf>,

    /// OpenLineage RunEvents, one JSON object per line (repeatable).
    #[arg(long = "openlineage", value_name = "PATH")]
    pub openlineage: Vec<PathBuf>,

    /// Answer from the sources that can be read when a dbt manifest or an OpenLineage
    /// file cannot (the answer is marked partial and the missing files named).
    #[arg(long)]
    pub allow_partial: bool,
}

/// `--format` of lineage commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A tree for people.
    Text,
    /// The JSON contract (see README).
    Json,
    /// Graphviz dot.
    Dot,
    /// A Mermaid flowchart (renders in GitHub Markdown).
    Mermaid,
}

/// `sluice impact`.
#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// The node that failed: a dataset, stage, exposure, dbt resource or OpenLineage
    /// dataset or job, by name or id.
    #[arg(value_name = "NODE")]
    pub node: String,

    /// Walk upstream instead: what X reads, transitively (root-cause candidates).
    #[arg(long)]
    pub upstream: bool,

    /// Stop after N steps (a stage and the data it writes are one step).
    #[arg(long, value_name = "N")]
    pub depth: Option<u32>,

    /// Answer for this column of NODE: the downstream (or upstream) columns, the tables
    /// and exposures that use them, and how. `sluice impact orders.amount` says the same.
    #[arg(long, value_name = "COLUMN")]
    pub column: Option<String>,

    /// Report dbt tests too.
    #[arg(long)]
    pub include_tests: bool,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,

    /// Lines of the text tree at most (0: all).
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub limit: usize,

    /// With --format json: give each hit its whole `path` from the root, besides `via`
    /// (the report then grows with the square of the depth).
    #[arg(long)]
    pub paths: bool,

    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub sources: SourceArgs,
}

/// Selection flags, as `dbt ls` takes them.
#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// Exclude these (same grammar; repeatable).
    #[arg(long, value_name = "SELECTOR")]
    pub exclude: Vec<String>,

    /// Only these resource types (repeatable): model, seed, snapshot, source, test,
    /// unit_test, analysis, exposure, metric, semantic_model, saved_query, dataset, stage,
    /// job, table [default: all but analysis].
    #[arg(long = "resource-type", value_name = "TYPE", value_parser = parse_kind)]
    pub resource_types: Vec<sluice_app::graph::NodeKind>,

    /// When tests whose parents are selected are selected too: eager (any parent),
    /// cautious (all parents), buildable, empty.
    #[arg(long, value_name = "MODE", default_value = "eager", value_parser = parse_indirect)]
    pub indirect_selection: sluice_app::graph::Indirect,
}

/// `sluice lineage select`.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// dbt selectors: spaces are unions, commas intersections (`stg_orders+ tag:a,tag:b`).
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,

    /// More selectors, as `dbt ls --select` takes them.
    #[arg(short, long = "select", value_name = "SELECTOR")]
    pub select: Vec<String>,

    #[command(flatten)]
    pub selection: SelectionArgs,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,

    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub sources: SourceArgs,
}

/// `sluice lineage show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Only the nodes these select (dbt grammar; repeatable) [default: the whole graph].
    #[arg(short, long = "select", value_name = "SELECTOR")]
    pub select: Vec<String>,

    #[command(flatten)]
    pub selection: SelectionArgs,

    /// Show dbt tests too.
    #[arg(long)]
    pub include_tests: bool,

    /// Show column-level lineage among the nodes: which column feeds which, and how.
    #[arg(long)]
    pub columns: bool,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,

    /// Lines of the text tree at most (0: all).
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub limit: usize,

    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub sources: SourceArgs,
}

fn parse_kind(s: &str) -> Result<sluice_app::graph::NodeKind, String> {
    sluice_app::graph::NodeKind::parse(s).ok_or_else(|| {
        format!(
            "unknown resource type `{s}`; use one of {}",
            sluice_app::graph::NodeKind::ALL
                .map(|k| k.name())
                .join(", ")
        )
    })
}

fn parse_indirect(s: &str) -> Result<sluice_app::graph::Indirect, String> {
    sluice_app::graph::Indirect::parse(s).ok_or_else(|| {
        format!("`{s}` is not an indirect selection mode; use eager, cautious, buildable or empty")
    })
}

/// `--engine`: where the queries run.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Where the queries run: `datafusion` (in-process) or `ballista://HOST:PORT` (a
    /// Ballista scheduler; a sluice built with `--features ballista`) [default: the
    /// config's `engine:`, else datafusion].
    #[arg(long, value_name = "ENGINE", env = "SLUICE_ENGINE", value_parser = parse_engine)]
    pub engine: Option<sluice_app::spec::Engine>,
}

fn parse_engine(s: &str) -> Result<sluice_app::spec::Engine, String> {
    sluice_app::spec::Engine::parse(s)
}

/// Where the config is and its variables.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The config file [default: ./sluice.yaml].
    #[arg(short, long, value_name = "FILE", env = "SLUICE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Set a `${NAME}` variable of the config (repeatable), e.g. --var ds=2025-01-01.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
}

/// `sluice check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArgs,

    /// Only check this dataset (repeatable).
    #[arg(short, long = "dataset", value_name = "NAME")]
    pub datasets: Vec<String>,

    /// Only this stage: its outputs' checks, the parity between its inputs and outputs,
    /// and its reconciliations.
    #[arg(short, long, value_name = "STAGE")]
    pub stage: Option<String>,

    /// Write the differing rows of every keyed diff (missing, extra, changed, with both
    /// sides' values) to Parquet files in this folder.
    #[arg(long, value_name = "DIR")]
    pub diff_output: Option<PathBuf>,

    /// Report format.
    #[arg(short, long, value_enum, default_value_t = Format::Text, env = "SLUICE_FORMAT")]
    pub format: Format,

    /// Write the report (in --format) to this file; the text report still goes to stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The time freshness checks measure against (RFC 3339, or a UTC date/time) [default: now].
    #[arg(long, value_name = "TIMESTAMP", value_parser = parse_now)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,

    /// Bound DataFusion's memory (e.g. 512M, 2G; binary units); spills to disk beyond it.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<usize>,

    #[command(flatten)]
    pub engine: EngineArgs,

    /// Print a one-line JSON summary as the last line of stdout (for Airflow's XCom).
    #[arg(long)]
    pub json_summary: bool,

    /// Run the checks without recording the run or touching any breaker.
    #[arg(long, env = "SLUICE_NO_STATE", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_state: bool,

    /// The slice of the data this run checks (repeatable), e.g. --partition ds={{ ds }}:
    /// metric history is recorded under it, and `change`/`anomaly` compare within it.
    #[arg(long, value_name = "KEY=VALUE")]
    pub partition: Vec<String>,

    #[command(flatten)]
    pub openlineage: OpenLineageArgs,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per check, for people.
    Text,
    /// The JSON report contract (see README).
    Json,
    /// JUnit XML: a testsuite per dataset, a testcase per check.
    Junit,
    /// A Markdown table for tickets and chat.
    Markdown,
    /// One self-contained HTML page (the dashboard's run view, its plots, failing samples)
    /// for CI artefacts and e-mail.
    Html,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    sluice_app::spec::Vars::parse_assignment(s)
}

/// Parses `--now`: RFC 3339, or a date/time without zone (read as UTC), or a date.
pub fn parse_now(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")));
    }
    Err(format!(
        "`{s}` is not a timestamp; use RFC 3339 (2025-01-01T06:00:00Z), a UTC date/time (2025-01-01T06:00:00) or a date (2025-01-01)"
    ))
}

/// Parses a size: `1048576`, `512K`, `512M`, `2G`, `1.5GiB` (binary units).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size; write e.g. 512M or 2G"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{s}`; use K, M, G or T"
            ));
        }
    };
    let bytes = n * mult;
    if bytes < 1024.0 * 1024.0 {
        return Err(format!(
            "memory limit `{s}` is below 1M; DataFusion cannot run in that"
        ));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert_eq!(parse_size("2g").unwrap(), 2 << 30);
        assert_eq!(parse_size("1.5GiB").unwrap(), 3 << 29);
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("10").is_err());
    }

    #[test]
    fn blocked_exit_codes() {
        assert_eq!(parse_blocked_exit_code("99"), Ok(99));
        assert_eq!(parse_blocked_exit_code("3"), Ok(3));
        for bad in ["0", "1", "2", "4", "256", "-1", "skip"] {
            assert!(parse_blocked_exit_code(bad).is_err(), "{bad}");
        }
        assert!(
            parse_blocked_exit_code("1")
                .unwrap_err()
                .contains("checks failed")
        );
    }

    #[test]
    fn nows() {
        let t = |s| parse_now(s).unwrap().to_rfc3339();
        assert_eq!(t("2025-01-01T00:00:00Z"), "2025-01-01T00:00:00+00:00");
        assert_eq!(t("2025-01-01T02:00:00+02:00"), "2025-01-01T00:00:00+00:00");
        assert_eq!(t("2025-01-01T00:00:00"), "2025-01-01T00:00:00+00:00");
        assert_eq!(t("2025-01-01"), "2025-01-01T00:00:00+00:00");
        assert!(parse_now("yesterday").is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
