//! The `sluice` command line as a library: parse arguments, call the application layer
//! (`sluice-app`), render, and map outcomes and errors to exit codes — the contract with
//! orchestrators: 0 passed, 1 failed, 2 invalid invocation or config, 3 blocked, 4 runtime
//! error. The `sluice` binary and the Python wheel's `sluice` command both call
//! [`run_cli`].
//!
//! [`run_cli`] holds the one error reporter: a command returns `Err` and it prints `error:`
//! with one `Cause:` line per source (a config's diagnostics rustc-style) and picks the
//! exit code from the error's kind.

#[cfg(feature = "ballista")]
mod ballista;
mod cli;
mod commands;
mod logging;
mod output;
mod progress;
mod render;

use clap::Parser;
use sluice_app::spec::SpecError;
use sluice_app::{Error as AppError, ErrorKind};
use std::io::IsTerminal;

use cli::{Cli, ColorChoice};
use render::Style;

/// Exit codes.
mod code {
    pub const PASSED: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const INVALID: u8 = 2;
    pub const BLOCKED: u8 = 3;
    pub const RUNTIME: u8 = 4;
}

/// An invalid invocation the command line itself finds (no config to read, an `--output`
/// that cannot be written to): exit 2, nothing was run.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Runs the `sluice` command line on `args` (the program name first, as
/// `std::env::args_os`) and returns its exit code: what the `sluice` binary does, and
/// what the Python wheel's `sluice` console script runs in-process.
pub fn run_cli<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print on stdout and exit 0; a usage error exits 2.
            let _ = e.print();
            return if e.use_stderr() {
                code::INVALID
            } else {
                code::PASSED
            };
        }
    };
    let stderr_color = use_color(cli.global.color, std::io::stderr().is_terminal());
    logging::init(
        cli.global.verbose,
        cli.global.quiet,
        stderr_color,
        cli.global.log_format,
    );
    let (code, summary) = match commands::run(&cli, stderr_color) {
        Ok(exit) => (exit.code, exit.summary),
        Err(e) => {
            let code = report(&e, stderr_color);
            let summary = cli
                .command
                .json_summary()
                .map(|command| render::summary::error(command, &e.to_string(), code));
            (code, summary)
        }
    };
    // Last, after the command and everything it held are gone: nothing may follow this
    // line on stdout or stderr (Airflow's XCom takes the last line a task prints).
    if let Some(line) = summary {
        let _ = output::stdout(&format!("{line}\n"));
    }
    code
}

/// The exit code of a publish: 0 published or rolled back, 1 quarantined (checks failed),
/// 4 quarantined because checks could not run, 3 blocked by a breaker (the CLI's
/// `--blocked-exit-code` can change that one).
pub fn publish_exit_code(outcome: &sluice_app::publish::PublishOutcome) -> u8 {
    use sluice_app::engine::RunStatus;
    use sluice_app::publish::PublishOutcome as P;
    match outcome {
        P::Published { .. } | P::RolledBack { .. } => code::PASSED,
        P::Blocked { .. } => code::BLOCKED,
        P::Quarantined { report, .. } if report.status == RunStatus::Error => code::RUNTIME,
        P::Quarantined { .. } => code::FAILED,
    }
}

/// The one-line JSON summary of a publish (what `--json-summary` prints last): what the
/// Python module's `publish` returns, with the run's report beside it.
pub fn publish_summary(
    dataset: &str,
    outcome: &sluice_app::publish::PublishOutcome,
    exit_code: u8,
) -> String {
    render::summary::publish(dataset, outcome, exit_code)
}

/// The exit code of an error: from the application layer's kind, 2 for the command line's
/// own usage errors, else 4 (an output that could not be written, a runtime that could not
/// start).
fn exit_code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if let Some(app) = cause.downcast_ref::<AppError>() {
            return match app.kind() {
                ErrorKind::Invalid | ErrorKind::NotFound => code::INVALID,
                _ => code::RUNTIME,
            };
        }
        if cause.downcast_ref::<Usage>().is_some() {
            return code::INVALID;
        }
    }
    code::RUNTIME
}

/// Prints the error on stderr and returns its exit code. An invalid config prints every
/// diagnostic, rustc-style, then one summary line.
fn report(e: &anyhow::Error, color: bool) -> u8 {
    let st = Style { color };
    if let Some(AppError::Config(spec)) = e.downcast_ref::<AppError>()
        && let SpecError::Invalid(inv) = &**spec
    {
        let text = format!(
            "{}\n{} {inv}; nothing was run",
            inv.render(color),
            st.paint("1;31", "error:")
        );
        output::note(&text);
        return code::INVALID;
    }
    let mut msg = format!("{} {e}", st.paint("1;31", "error:"));
    for cause in e.chain().skip(1) {
        msg.push_str(&format!("\n  Cause: {cause}"));
    }
    output::note(&msg);
    exit_code(e)
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
    fn exit_codes_follow_the_kind_of_error() {
        let invalid = anyhow::Error::new(AppError::NoSelector);
        assert_eq!(exit_code(&invalid), code::INVALID);
        let usage = anyhow::Error::new(Usage("no config".into()));
        assert_eq!(exit_code(&usage), code::INVALID);
        let io = anyhow::Error::new(std::io::Error::other("disk full")).context("cannot write");
        assert_eq!(exit_code(&io), code::RUNTIME);
        let store = anyhow::Error::new(AppError::from(
            sluice_app::breaker::StoreError::Unreachable {
                what: "x".into(),
                message: "y".into(),
            },
        ));
        assert_eq!(exit_code(&store), code::RUNTIME);
    }
}
