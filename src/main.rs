//! The `sluice` command: parse arguments, call the crates, render, map outcomes to exit
//! codes (the contract with orchestrators: 0 passed, 1 failed, 2 invalid invocation or
//! config, 4 runtime error).

mod breaker;
mod cli;
mod lineage;
mod logging;
mod progress;
mod publish;
mod render;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use clap::Parser;
use sluice_engine::{RunOptions, RunStatus};
use sluice_spec::{Config, SpecError, Vars};

use cli::{CheckArgs, Cli, ColorChoice, Command, ConfigArgs, Format};
use render::Style;

/// Exit codes.
mod code {
    pub const PASSED: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const INVALID: u8 = 2;
    pub const BLOCKED: u8 = 3;
    pub const RUNTIME: u8 = 4;
}

/// A failure that already decided its exit code (and printed its message).
struct Exit(u8);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stderr_color = use_color(cli.global.color, std::io::stderr().is_terminal());
    logging::init(cli.global.verbose, cli.global.quiet, stderr_color);
    let result = match &cli.command {
        Command::Validate(args) => validate(args, &cli, stderr_color),
        Command::Check(args) => check(args, &cli, stderr_color),
        Command::Impact(args) => lineage::impact(args, stderr_color),
        Command::Lineage(cmd) => lineage::lineage(cmd, stderr_color),
        Command::Breaker(cmd) => breaker::breaker(cmd, stderr_color),
        Command::Guard(args) => breaker::guard(args, stderr_color),
        Command::Publish(args) => publish::publish(args, cli.global.quiet > 0, stderr_color),
    };
    match result {
        Ok(code) | Err(Exit(code)) => ExitCode::from(code),
    }
}

/// Colour on when asked, or on a terminal without NO_COLOR (and not TERM=dumb).
fn use_color(choice: ColorChoice, is_tty: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    color_decision(choice, is_tty, no_color, dumb)
}

fn color_decision(choice: ColorChoice, is_tty: bool, no_color: bool, dumb_term: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_tty && !no_color && !dumb_term,
    }
}

/// Prints `error: ...` with one `Cause:` line per source, and returns the exit code.
fn fail(err: anyhow::Error, code: u8, color: bool) -> Exit {
    let st = Style { color };
    let mut msg = format!("{} {err}", st.paint("1;31", "error:"));
    for cause in err.chain().skip(1) {
        msg.push_str(&format!("\n  Cause: {cause}"));
    }
    eprintln!("{msg}");
    Exit(code)
}

fn config_path(args: &ConfigArgs, color: bool) -> Result<PathBuf, Exit> {
    if let Some(p) = &args.config {
        return Ok(p.clone());
    }
    for name in ["sluice.yaml", "sluice.yml"] {
        if Path::new(name).is_file() {
            return Ok(PathBuf::from(name));
        }
    }
    Err(fail(
        anyhow!("no sluice.yaml in the current folder; pass --config PATH (or set SLUICE_CONFIG)"),
        code::INVALID,
        color,
    ))
}

/// Loads the config; on mistakes prints every diagnostic and returns exit 2.
fn load_config(args: &ConfigArgs, color: bool) -> Result<Config, Exit> {
    let path = config_path(args, color)?;
    let vars = Vars::new(args.vars.iter().cloned().collect());
    match sluice_spec::load(&path, &vars) {
        Ok(c) => Ok(c),
        Err(SpecError::Invalid(inv)) => {
            eprint!("{}", inv.render(color));
            let st = Style { color };
            eprintln!("\n{} {inv}; nothing was run", st.paint("1;31", "error:"));
            Err(Exit(code::INVALID))
        }
        Err(e) => Err(fail(anyhow::Error::new(e), code::INVALID, color)),
    }
}

fn validate(args: &ConfigArgs, cli: &Cli, color: bool) -> Result<u8, Exit> {
    let config = load_config(args, color)?;
    // The lineage too: stage SQL that does not parse, an exposure depending on nothing
    // known, a mapping to an unknown id, a cycle, an unreadable manifest.
    lineage::validate(&config, color)?;
    if cli.global.quiet == 0 {
        let checks: usize = config.datasets.iter().map(|d| d.checks.len()).sum();
        let n = config.datasets.len();
        let st = Style {
            color: use_color(cli.global.color, std::io::stdout().is_terminal()),
        };
        println!(
            "{} {} is valid: {n} dataset{}, {checks} check{}",
            st.paint("1;32", "ok:"),
            config.file.path().display(),
            if n == 1 { "" } else { "s" },
            if checks == 1 { "" } else { "s" }
        );
    }
    Ok(code::PASSED)
}

fn check(args: &CheckArgs, cli: &Cli, color: bool) -> Result<u8, Exit> {
    let config = load_config(&args.config, color)?;
    if let Err(e) = sluice_engine::select(&config, &args.datasets, args.stage.as_deref()) {
        return Err(fail(anyhow::Error::new(e), code::INVALID, color));
    }
    // The store is opened first: if it cannot be, nothing runs (exit 4) and nothing is lost.
    let mut store = if args.no_state {
        None
    } else {
        Some(breaker::open_store(&config, color)?)
    };
    let show_progress = cli.global.quiet == 0 && std::io::stderr().is_terminal();
    let progress = show_progress.then(sluice_engine::Progress::new);
    let opts = RunOptions {
        datasets: args.datasets.clone(),
        stage: args.stage.clone(),
        diff_output: args.diff_output.clone(),
        now: args.now.unwrap_or_else(chrono::Utc::now),
        memory_limit: args.memory_limit,
        target_partitions: None,
        progress: progress.clone(),
    };
    let report = run_checks(&config, &opts, progress, color)?;
    if let Some(store) = store.as_mut() {
        breaker::record(store, &config, &report, cli.global.quiet > 0, color)?;
    }
    let exit = match report.status {
        RunStatus::Passed | RunStatus::Warned => code::PASSED,
        RunStatus::Failed => code::FAILED,
        RunStatus::Error => code::RUNTIME,
    };

    let stdout_color = use_color(cli.global.color, std::io::stdout().is_terminal());
    let rendered = |format: Format, color: bool| match format {
        Format::Text => render::text::render(&report, &Style { color }),
        Format::Json => render::json::render(&report),
        Format::Junit => render::junit::render(&report),
        Format::Markdown => render::markdown::render(&report),
    };
    let mut stdout_text = String::new();
    if let Some(path) = &args.output {
        write_atomically(path, rendered(args.format, false).as_bytes())
            .with_context(|| format!("cannot write the report to {}", path.display()))
            .map_err(|e| fail(e, code::RUNTIME, color))?;
        if cli.global.quiet == 0 {
            stdout_text = rendered(Format::Text, stdout_color);
        }
    } else if cli.global.quiet == 0 || args.format != Format::Text {
        stdout_text = rendered(args.format, stdout_color);
    }
    if args.json_summary {
        stdout_text.push_str(&render::json::summary_line(&report, exit));
        stdout_text.push('\n');
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out
        .write_all(stdout_text.as_bytes())
        .and_then(|_| out.flush())
    {
        // `sluice check | head`: the reader left; stop quietly, keep the run's exit code.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(fail(
                anyhow::Error::new(e).context("cannot write to stdout"),
                code::RUNTIME,
                color,
            ));
        }
    }
    Ok(exit)
}

/// Runs the checks of `config` selected by `opts` (with a progress line when given).
fn run_checks(
    config: &Config,
    opts: &RunOptions,
    progress: Option<Arc<sluice_engine::Progress>>,
    color: bool,
) -> Result<sluice_engine::RunReport, Exit> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            fail(
                anyhow::Error::new(e).context("cannot start the async runtime"),
                code::RUNTIME,
                color,
            )
        })?;
    runtime
        .block_on(async {
            let display = progress.map(|p| tokio::spawn(progress::display(Arc::clone(&p), color)));
            let report = sluice_engine::run(config, opts).await;
            if let Some(d) = display {
                d.abort();
                let _ = d.await;
                progress::clear();
            }
            report
        })
        .map_err(|e| {
            let code = match e {
                sluice_engine::Error::Usage(_) => code::INVALID,
                _ => code::RUNTIME,
            };
            fail(anyhow::Error::new(e), code, color)
        })
}

/// Writes `bytes` to `path` through a temporary file and a rename, so readers never see a
/// half-written report.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{} is not a file name", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(result?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_no_color_and_terminals() {
        assert!(color_decision(ColorChoice::Auto, true, false, false));
        assert!(
            !color_decision(ColorChoice::Auto, true, true, false),
            "NO_COLOR wins in auto"
        );
        assert!(
            !color_decision(ColorChoice::Auto, false, false, false),
            "never on a pipe"
        );
        assert!(
            !color_decision(ColorChoice::Auto, true, false, true),
            "TERM=dumb"
        );
        assert!(
            color_decision(ColorChoice::Always, false, true, false),
            "--color always wins"
        );
        assert!(!color_decision(ColorChoice::Never, true, false, false));
    }

    #[test]
    fn reports_are_written_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "old").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write_atomically(&dir.path().join("missing/r.json"), b"x").is_err());
    }
}
