//! One function per command: turn the arguments into a request, call the application
//! layer, render what it returns, and decide the exit code of an outcome. Errors go back to
//! `main`'s reporter.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use sluice_app::breaker::Partition;
use sluice_app::breakers::{Action, ManualRequest};
use sluice_app::check::CheckRequest;
use sluice_app::engine::RunStatus;
use sluice_app::graph::{Selector, render as graph};
use sluice_app::lineage::{Graph, GraphSources, ImpactRequest};
use sluice_app::openlineage::{self, Emitter};
use sluice_app::publish::{PublishOutcome, PublishRequest};
use sluice_app::{StateChoice, Workspace, WorkspaceOptions};

use crate::cli::{
    BreakerCommand, CheckArgs, Cli, Command, ConfigArgs, EngineArgs, Format, GateArgs, GraphFormat,
    GuardArgs, ImpactArgs, InitArgs, LineageCommand, ManualArgs, MetricHistoryArgs,
    OpenLineageArgs, PublishArgs, SelectionArgs, ServeArgs, Shell, SourceArgs, StateFormat,
};
use crate::render::{self, Style};
use crate::{Usage, code, output, progress, use_color};

/// How a command ended: its exit code, and the `--json-summary` line when asked for, which
/// `main` prints last, once everything the command held is dropped.
pub struct Exit {
    /// The exit code.
    pub code: u8,
    /// The one-line JSON summary (without its newline).
    pub summary: Option<String>,
}

impl From<u8> for Exit {
    fn from(code: u8) -> Self {
        Exit {
            code,
            summary: None,
        }
    }
}

/// Runs the command; `Ok` is how an outcome ends.
pub fn run(cli: &Cli, color: bool) -> anyhow::Result<Exit> {
    let quiet = cli.global.quiet > 0;
    match &cli.command {
        Command::Validate(args) => validate(args, cli).map(Exit::from),
        Command::Check(args) => check(args, cli, color),
        Command::Impact(args) => impact(args).map(Exit::from),
        Command::Serve(args) => serve(args).map(Exit::from),
        Command::Lineage(cmd) => lineage(cmd, color).map(Exit::from),
        Command::Breaker(cmd) => breaker(cmd, color).map(Exit::from),
        Command::Guard(args) => guard(args, color),
        Command::Publish(args) => publish(args, quiet, color),
        Command::History(args) => history(args, color).map(Exit::from),
        Command::Schema => {
            output::stdout(&sluice_app::spec::schema::json_schema_text())?;
            Ok(code::PASSED.into())
        }
        Command::Init(args) => init(args).map(Exit::from),
        Command::Completions(args) => {
            output::stdout(&completions(args.shell))?;
            Ok(code::PASSED.into())
        }
        #[cfg(feature = "ballista")]
        Command::Ballista(cmd) => crate::ballista::run(cmd).map(Exit::from),
    }
}

/// `sluice init --from PATH`: the scaffold on stdout, or in `--output` (never over an
/// existing file without `--force`).
fn init(args: &InitArgs) -> anyhow::Result<u8> {
    if let Some(out) = &args.output {
        output::check_target(out)?;
        if out.exists() && !args.force {
            return Err(Usage(format!(
                "{} exists; pass --force to replace it, or another --output",
                out.display()
            ))
            .into());
        }
    }
    let config_dir = match &args.output {
        Some(out) => out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        None => PathBuf::from("."),
    };
    let req = sluice_app::scaffold::ScaffoldRequest {
        from: args.from.clone(),
        name: args.name.clone(),
        config_dir,
    };
    let scaffold = block_on(sluice_app::scaffold::scaffold(&req))??;
    match &args.output {
        Some(out) => {
            sluice_app::write_atomically(out, scaffold.yaml.as_bytes())
                .with_context(|| format!("cannot write {}", out.display()))?;
            let key = match &scaffold.key {
                Some(k) => format!(", key `{k}` (a guess: check it)"),
                None => String::new(),
            };
            output::note(&format!(
                "wrote {}: dataset `{}` ({} columns, {} rows){key}; check it with `sluice validate -c {}`",
                out.display(),
                scaffold.dataset,
                scaffold.profile.columns.len(),
                scaffold.profile.rows,
                out.display()
            ));
        }
        None => output::stdout(&scaffold.yaml)?,
    }
    Ok(code::PASSED)
}

/// The completion script for `shell`.
fn completions(shell: Shell) -> String {
    use clap::CommandFactory;
    use clap_complete::{Shell as S, generate};
    let shell = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
    };
    let mut buf = Vec::new();
    generate(shell, &mut Cli::command(), "sluice", &mut buf);
    String::from_utf8(buf).expect("completion scripts are UTF-8")
}

/// The config `--config` names, else `./sluice.yaml` (or `.yml`).
fn config_path(args: &ConfigArgs) -> Result<PathBuf, Usage> {
    if let Some(p) = &args.config {
        return Ok(p.clone());
    }
    sluice_app::discover_config(Path::new("."))
        .map(strip_dot)
        .ok_or_else(|| {
            Usage(
                "no sluice.yaml in the current folder; pass --config PATH (or set SLUICE_CONFIG)"
                    .into(),
            )
        })
}

/// `./sluice.yaml` -> `sluice.yaml`, as people type it.
fn strip_dot(p: PathBuf) -> PathBuf {
    p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p)
}

/// Opens the workspace of `args`: its config, and the state store `SLUICE_STATE` names
/// (relative to the working directory), if set.
fn workspace(args: &ConfigArgs) -> anyhow::Result<Workspace> {
    let (path, opts) = workspace_options(args, None)?;
    Ok(Workspace::open(&path, opts)?)
}

/// The workspace of a command that runs queries: on `--engine` when given.
fn workspace_on(args: &ConfigArgs, engine: &EngineArgs) -> anyhow::Result<Workspace> {
    let (path, opts) = workspace_options(args, Some(engine))?;
    Ok(Workspace::open(&path, opts)?)
}

/// The config file of `args` and how to open its workspace (SLUICE_STATE over `state:`,
/// `--engine` over `engine:`).
fn workspace_options(
    args: &ConfigArgs,
    engine: Option<&EngineArgs>,
) -> anyhow::Result<(PathBuf, WorkspaceOptions)> {
    let path = config_path(args)?;
    let opts = WorkspaceOptions {
        vars: args.vars.clone(),
        state: StateChoice::from_env(),
        engine: engine.and_then(|e| e.engine.clone()),
        ..WorkspaceOptions::default()
    };
    Ok((path, opts))
}

/// `sluice serve`: until SIGTERM; exit 0 after the requests in flight finished.
fn serve(args: &ServeArgs) -> anyhow::Result<u8> {
    use sluice_serve::ServeError;
    let (path, workspace) = workspace_options(&args.config, Some(&args.engine))?;
    let opts = sluice_serve::ServeOptions {
        addr: args.addr,
        allow_remote: args.allow_remote,
        workspace,
        max_runs: usize::from(args.max_runs),
        body_limit: args.body_limit,
        ..sluice_serve::ServeOptions::new(path)
    };
    match block_on(sluice_serve::serve(opts))? {
        Ok(()) => Ok(code::PASSED),
        Err(ServeError::App(e)) => Err(e.into()),
        Err(e @ (ServeError::RemoteRefused { .. } | ServeError::RemoteWithoutToken)) => {
            Err(Usage(e.to_string()).into())
        }
        Err(e) => Err(e.into()),
    }
}

/// The OpenLineage emitter of `args` over the config's `openlineage:` (none: nowhere to
/// send events). The API key comes from OPENLINEAGE_API_KEY only, never a flag (a flag
/// shows in `ps`), and the endpoint path from OPENLINEAGE_ENDPOINT, as the OpenLineage
/// Python client reads them.
fn emitter(ws: &Workspace, args: &OpenLineageArgs) -> anyhow::Result<Option<Emitter>> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let opts = openlineage::Options {
        url: args
            .openlineage_url
            .clone()
            .filter(|u| !u.trim().is_empty()),
        endpoint: env("OPENLINEAGE_ENDPOINT"),
        api_key: env("OPENLINEAGE_API_KEY"),
        namespace: args.openlineage_namespace.clone(),
        file: args.openlineage_file.clone(),
        parent_id: args.parent_id.clone(),
        parent_run_id: args.parent_run_id.clone(),
        parent_job_name: args.parent_job_name.clone(),
        parent_job_namespace: args.parent_job_namespace.clone(),
        root_parent_id: args.root_parent_id.clone(),
        disabled: args.no_openlineage,
    };
    let settings = openlineage::Settings::resolve(&ws.config().openlineage, &opts)?;
    Ok(settings.map(Emitter::new))
}

/// Each OpenLineage event that was not delivered, as a warning on stderr. It never changes
/// the exit code, and it comes before anything the command prints after the run (so a
/// `--json-summary` line stays last).
fn warn_undelivered(emitter: Option<&Emitter>) {
    for f in emitter.map(Emitter::failures).unwrap_or_default() {
        tracing::warn!("{f}");
    }
}

/// Runs `work` on the async runtime the application layer's use cases run on. Once it
/// has finished, the runtime is let go without waiting for its idle threads to be joined
/// (a few milliseconds of every command's exit): nothing is left running on it.
pub(crate) fn block_on<F: std::future::Future>(work: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let out = runtime.block_on(work);
    runtime.shutdown_background();
    Ok(out)
}

fn json_text(v: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialise");
    s.push('\n');
    s
}

/// `sluice validate`.
fn validate(args: &ConfigArgs, cli: &Cli) -> anyhow::Result<u8> {
    let path = config_path(args)?;
    let config = sluice_app::load_config(&path, &args.vars)?;
    let v = sluice_app::validate(&config)?;
    if cli.global.quiet == 0 {
        let st = Style {
            color: use_color(cli.global.color, std::io::stdout().is_terminal()),
        };
        output::stdout(&format!(
            "{} {} is valid: {} dataset{}, {} check{}\n",
            st.paint("1;32", "ok:"),
            config.file.path().display(),
            v.datasets,
            if v.datasets == 1 { "" } else { "s" },
            v.checks,
            if v.checks == 1 { "" } else { "s" }
        ))?;
    }
    Ok(code::PASSED)
}

/// `sluice check`.
fn check(args: &CheckArgs, cli: &Cli, color: bool) -> anyhow::Result<Exit> {
    let ws = workspace_on(&args.config, &args.engine)?;
    if let Some(path) = &args.output {
        output::check_target(path)?;
    }
    if !args.no_state {
        // Before anything runs: if the store cannot be opened, nothing runs (exit 4).
        ws.open_store()?;
    }
    let show_progress = cli.global.quiet == 0 && std::io::stderr().is_terminal();
    let progress = show_progress.then(sluice_app::engine::Progress::new);
    let req = CheckRequest {
        datasets: args.datasets.clone(),
        stage: args.stage.clone(),
        diff_output: args.diff_output.clone(),
        now: args.now,
        memory_limit: args.memory_limit,
        target_partitions: None,
        progress: progress.clone(),
        record: !args.no_state,
        partition: Partition::parse(&args.partition).map_err(sluice_app::Error::from)?,
        openlineage: emitter(&ws, &args.openlineage)?,
        run_id: None,
        frames: Default::default(),
    };
    let emitter = req.openlineage.clone();
    let outcome = block_on(async {
        let display = progress.map(|p| tokio::spawn(progress::display(Arc::clone(&p), color)));
        let outcome = sluice_app::check::check(&ws, req).await;
        if let Some(d) = display {
            d.abort();
            let _ = d.await;
            progress::clear();
        }
        outcome
    })?;
    warn_undelivered(emitter.as_ref());
    let outcome = outcome?;
    if cli.global.quiet == 0 {
        let st = Style { color };
        for t in &outcome.transitions {
            output::note(&render::breaker::transition_line(t, &st));
        }
    }
    let report = &outcome.report;
    let exit = match report.status {
        RunStatus::Passed | RunStatus::Warned => code::PASSED,
        RunStatus::Failed => code::FAILED,
        RunStatus::Error => code::RUNTIME,
    };
    let stdout_color = use_color(cli.global.color, std::io::stdout().is_terminal());
    let rendered = |format: Format, color: bool| match format {
        Format::Text => render::text::render(report, &Style { color }),
        Format::Json => render::json::render(report),
        Format::Junit => render::junit::render(report),
        Format::Markdown => render::markdown::render(report),
        Format::Html => render::html::render(report),
    };
    let mut stdout_text = String::new();
    if let Some(path) = &args.output {
        output::file(
            path,
            rendered(args.format, false).as_bytes(),
            "cannot write the report to",
        )?;
        if cli.global.quiet == 0 {
            stdout_text = rendered(Format::Text, stdout_color);
        }
    } else if cli.global.quiet == 0 || args.format != Format::Text {
        stdout_text = rendered(args.format, stdout_color);
    }
    // `sluice check | head`: the reader left; stop quietly, keep the run's exit code.
    output::stdout(&stdout_text)?;
    Ok(Exit {
        code: exit,
        summary: args
            .json_summary
            .then(|| render::summary::check(report, exit)),
    })
}

/// `sluice breaker ...`.
fn breaker(cmd: &BreakerCommand, color: bool) -> anyhow::Result<u8> {
    let text = match cmd {
        BreakerCommand::Status(args) => {
            let ws = workspace(&args.config)?;
            let v = sluice_app::breakers::status(&ws, args.dataset.as_deref())?;
            match args.format {
                StateFormat::Json => json_text(&v),
                StateFormat::Text => render::breaker::status(&v),
            }
        }
        BreakerCommand::History(args) => {
            let ws = workspace(&args.config)?;
            let log = sluice_app::breakers::history(&ws, &args.dataset, args.limit)?;
            match args.format {
                StateFormat::Json => json_text(&log),
                StateFormat::Text => render::breaker::history(&args.dataset, &log),
            }
        }
        BreakerCommand::Report(args) => {
            let ws = workspace(&args.config)?;
            let (r, store) = sluice_app::breakers::report(&ws, &args.since)?;
            match args.format {
                StateFormat::Json => json_text(&r),
                StateFormat::Text => render::breaker::report(&r, &store),
            }
        }
        BreakerCommand::Trip(a) => manual(a, Action::Trip, color)?,
        BreakerCommand::Reset(a) => manual(a, Action::Reset, color)?,
        BreakerCommand::Override(a) => manual(a, Action::Override, color)?,
    };
    output::stdout(&text)?;
    Ok(code::PASSED)
}

fn manual(a: &ManualArgs, action: Action, color: bool) -> anyhow::Result<String> {
    let ws = workspace(&a.config)?;
    let req = ManualRequest {
        action,
        dataset: a.dataset.clone(),
        reason: a.reason.clone(),
        until: a.until.clone(),
        by: a.by.clone(),
    };
    let v = sluice_app::breakers::manual(&ws, &req)?;
    Ok(match a.format {
        StateFormat::Json => json_text(&v),
        StateFormat::Text => render::breaker::manual(&v, &Style { color }),
    })
}

/// `sluice guard X`: 0 if X may publish, 3 (or `--blocked-exit-code`) if not.
fn guard(args: &GuardArgs, color: bool) -> anyhow::Result<Exit> {
    let ws = workspace(&args.config)?;
    let v = sluice_app::breakers::guard(&ws, &args.dataset)?;
    output::stdout(&match args.format {
        StateFormat::Json => json_text(&v),
        StateFormat::Text => render::breaker::guard(&v, &Style { color }),
    })?;
    let gate = &args.orchestrator;
    let exit = if v.may_publish {
        code::PASSED
    } else {
        blocked(gate)
    };
    Ok(Exit {
        code: exit,
        summary: gate.json_summary.then(|| render::summary::guard(&v, exit)),
    })
}

/// The exit code of a blocked dataset: 3, or `--blocked-exit-code`.
fn blocked(gate: &GateArgs) -> u8 {
    gate.blocked_exit_code.unwrap_or(code::BLOCKED)
}

/// `sluice history X [--check NAME] [--partition K=V] [--last N]`.
fn history(args: &MetricHistoryArgs, color: bool) -> anyhow::Result<u8> {
    let ws = workspace(&args.config)?;
    let req = sluice_app::history::HistoryRequest {
        dataset: args.dataset.clone(),
        metric: args.metric.clone(),
        partition: Partition::parse(&args.partition).map_err(sluice_app::Error::from)?,
        last: args.last,
    };
    let view = sluice_app::history::history(&ws, &req)?;
    output::stdout(&match args.format {
        StateFormat::Json => json_text(&view),
        StateFormat::Text => render::history::render(&view, &Style { color }),
    })?;
    Ok(code::PASSED)
}

/// `sluice publish X [--rollback [--to V]]`.
fn publish(args: &PublishArgs, quiet: bool, color: bool) -> anyhow::Result<Exit> {
    let ws = workspace_on(&args.config, &args.engine)?;
    let req = PublishRequest {
        dataset: args.dataset.clone(),
        rollback: args.rollback,
        to: args.to.clone(),
        wait: args.wait,
        by: args.by.clone(),
        partition: Partition::parse(&args.partition).map_err(sluice_app::Error::from)?,
        openlineage: if args.rollback {
            None
        } else {
            emitter(&ws, &args.openlineage)?
        },
    };
    let emitter = req.openlineage.clone();
    let note = |r: &sluice_app::breaker::publish::Recovered| {
        output::note(&format!(
            "recovered an interrupted publish of {}: {}",
            args.dataset, r.note
        ));
    };
    let outcome = block_on(sluice_app::publish::publish(&ws, req, note))?;
    warn_undelivered(emitter.as_ref());
    let outcome = outcome?;
    let st = Style { color };
    if let PublishOutcome::Quarantined { transitions, .. }
    | PublishOutcome::Published { transitions, .. } = &outcome
        && !quiet
    {
        for t in transitions {
            output::note(&render::breaker::transition_line(t, &st));
        }
    }
    let (text, exit) = match &outcome {
        PublishOutcome::Blocked { verdict, .. } => (
            render::breaker::guard(verdict, &st),
            blocked(&args.orchestrator),
        ),
        PublishOutcome::RolledBack { rollback, .. } => (
            render::breaker::rolled_back(&args.dataset, rollback),
            code::PASSED,
        ),
        PublishOutcome::Published {
            report,
            promotion,
            keep_versions,
            ..
        } => (
            render::breaker::published(&args.dataset, &report.run_id, promotion, *keep_versions),
            code::PASSED,
        ),
        PublishOutcome::Quarantined { report, at, .. } => (
            render::breaker::quarantined(
                render::text::render(report, &Style { color: false }),
                &args.dataset,
                at,
            ),
            crate::publish_exit_code(&outcome),
        ),
    };
    output::stdout(&text)?;
    Ok(Exit {
        code: exit,
        summary: args
            .orchestrator
            .json_summary
            .then(|| render::summary::publish(&args.dataset, &outcome, exit)),
    })
}

/// The graph of the sources given (none: `./sluice.yaml` if there is one).
/// The graph of `src`; with `read_columns`, the datasets' files are opened for their
/// columns (column questions only).
fn load_graph(src: &SourceArgs, read_columns: bool) -> anyhow::Result<Graph> {
    let path = src
        .config
        .clone()
        .or_else(|| sluice_app::discover_config(Path::new(".")).map(strip_dot));
    let config = path
        .map(|p| sluice_app::load_config(&p, &src.vars))
        .transpose()?;
    let sources = GraphSources {
        config: config.as_ref(),
        dbt_manifests: src.dbt_manifest.clone(),
        openlineage: src.openlineage.clone(),
        allow_partial: src.allow_partial,
        read_columns,
    };
    let g = sluice_app::lineage::load(&sources)?;
    for m in &g.lineage.missing {
        output::note(&format!(
            "warning: {} is left out of this answer, so its edges are missing: {}",
            m.source, m.message
        ));
    }
    Ok(g)
}

/// Writes `text` to `output` (atomically) or stdout.
fn emit(text: &str, out: Option<&Path>) -> anyhow::Result<()> {
    match out {
        Some(path) => output::file(path, text.as_bytes(), "cannot write"),
        None => output::stdout(text),
    }
}

/// `sluice impact`.
fn impact(args: &ImpactArgs) -> anyhow::Result<u8> {
    if let Some(p) = &args.output {
        output::check_target(p)?;
    }
    let g = load_graph(
        &args.sources,
        args.column.is_some() || args.node.contains('.'),
    )?;
    let req = ImpactRequest {
        node: args.node.clone(),
        upstream: args.upstream,
        depth: args.depth,
        include_tests: args.include_tests,
        column: args.column.clone(),
    };
    let l = &g.lineage;
    let imp = match sluice_app::lineage::impact_any(&g, &req)? {
        sluice_app::lineage::Answer::Nodes(imp) => imp,
        sluice_app::lineage::Answer::Columns(ci) => {
            let text = match args.format {
                GraphFormat::Json => json_text(&graph::column_impact_json(l, &ci)),
                _ => graph::column_impact_text(l, &ci),
            };
            emit(&text, args.output.as_deref())?;
            return Ok(code::PASSED);
        }
    };
    let nodes: Vec<_> = imp.hits.iter().map(|h| h.node).collect();
    let text = match args.format {
        GraphFormat::Text => graph::impact_text(l, &imp, args.limit),
        GraphFormat::Json => json_text(&graph::impact_json(l, &imp).with_paths(args.paths)),
        GraphFormat::Dot => graph::dot(l, &nodes, Some(imp.root)),
        GraphFormat::Mermaid => graph::mermaid(l, &nodes, Some(imp.root)),
    };
    emit(&text, args.output.as_deref())?;
    Ok(code::PASSED)
}

fn selector(select: Vec<String>, s: &SelectionArgs) -> Selector {
    Selector {
        select,
        exclude: s.exclude.clone(),
        resource_types: s.resource_types.clone(),
        indirect: s.indirect_selection,
    }
}

/// `sluice lineage ...`.
fn lineage(cmd: &LineageCommand, color: bool) -> anyhow::Result<u8> {
    let (text, out) = match cmd {
        LineageCommand::Select(args) => {
            if let Some(p) = &args.output {
                output::check_target(p)?;
            }
            let g = load_graph(&args.sources, false)?;
            let select: Vec<String> = args.selectors.iter().chain(&args.select).cloned().collect();
            let nodes =
                sluice_app::lineage::select(&g, &selector(select.clone(), &args.selection))?;
            if nodes.is_empty() {
                // dbt warns and prints nothing; so do we (exit 0: an empty selection is an answer).
                let st = Style { color };
                output::note(&format!(
                    "{} nothing matches `{}`; `sluice lineage show` lists every node",
                    st.paint("1;33", "warning:"),
                    select.join(" ")
                ));
            }
            let l = &g.lineage;
            let text = match args.format {
                GraphFormat::Text => graph::select_text(l, &nodes),
                GraphFormat::Json => json_text(&graph::select_json(l, &nodes)),
                GraphFormat::Dot => graph::dot(l, &nodes, None),
                GraphFormat::Mermaid => graph::mermaid(l, &nodes, None),
            };
            (text, args.output.as_deref())
        }
        LineageCommand::Show(args) => {
            if let Some(p) = &args.output {
                output::check_target(p)?;
            }
            let g = load_graph(&args.sources, args.columns)?;
            let sel = selector(args.select.clone(), &args.selection);
            let nodes = sluice_app::lineage::show(&g, &sel, args.include_tests)?;
            let l = &g.lineage;
            let text = match args.format {
                GraphFormat::Text if args.columns => graph::columns_text(l, &nodes),
                GraphFormat::Json if args.columns => json_text(&graph::columns_json(l, &nodes)),
                GraphFormat::Mermaid if args.columns => graph::columns_diagram(l, &nodes, true),
                GraphFormat::Dot if args.columns => graph::columns_diagram(l, &nodes, false),
                GraphFormat::Text => graph::forest_text(l, &nodes, args.limit),
                GraphFormat::Json => json_text(&graph::graph_json(l, &nodes)),
                GraphFormat::Dot => graph::dot(l, &nodes, None),
                GraphFormat::Mermaid => graph::mermaid(l, &nodes, None),
            };
            (text, args.output.as_deref())
        }
    };
    emit(&text, out)?;
    Ok(code::PASSED)
}
