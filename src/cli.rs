//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// sluice keeps bad data from reaching the people and systems that consume it.
///
/// Exit codes: 0 all checks passed (warnings allowed), 1 a check of severity `error`
/// failed, 2 invalid invocation or config (nothing was run), 4 runtime error (a source
/// could not be read, a check could not be evaluated).
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

    /// Print a one-line JSON summary as the last line of stdout (for Airflow's XCom).
    #[arg(long)]
    pub json_summary: bool,
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
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    sluice_spec::Vars::parse_assignment(s)
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
