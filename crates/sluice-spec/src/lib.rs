//! The `sluice.yaml` config: model, loader and diagnostics.
//!
//! [`load`] reads a file, interpolates `${VAR}`s, and returns a validated [`Config`], or
//! every problem found as [`Diagnostic`]s that render like rustc's (`file:line:col`, the
//! line, a caret, a help line). Nothing here reads data: `sluice validate` is this crate.

#![warn(missing_docs)]

pub mod diag;
pub mod dialect;
pub mod duration;
pub mod engine;
pub mod fault;
pub mod forecast;
pub mod history;
pub mod interp;
pub mod kinds;
pub mod model;
pub mod notify;
pub mod openlineage;
pub mod schema;
pub mod source;
pub mod status;
pub mod storage;
pub mod suggest;
pub mod yaml;

mod date;
mod decode;
mod sql;

use std::fmt;
use std::path::{Path, PathBuf};

pub use diag::{Diagnostic, Level};
pub use dialect::Dialect;
pub use engine::Engine;
pub use forecast::{
    CompletenessSpec, DateGrid, Frequency, GridStart, KeySource, KeyValues, QuantileOrder,
};
pub use history::{AnomalySpec, Baseline, HistoryPolicy, MetricRef};
pub use interp::Vars;
pub use model::*;
pub use openlineage::OpenLineageSettings;
pub use source::{Location, Pos, SourceFile, Span};
pub use sql::parse_expr as check_sql_expr;
pub use status::{CheckStatus, RunStatus};
pub use storage::{StorageOptions, StorageRules};

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("cannot read config file {}", path.display())]
    Read {
        /// The path tried.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a valid config; every problem is listed.
    #[error("{0}")]
    Invalid(Box<InvalidConfig>),
}

/// A config with problems: the file and every diagnostic about it.
#[derive(Debug)]
pub struct InvalidConfig {
    /// The file, for rendering the offending lines.
    pub file: SourceFile,
    /// The problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl InvalidConfig {
    /// Renders every diagnostic, rustc-style.
    pub fn render(&self, color: bool) -> String {
        self.diagnostics
            .iter()
            .map(|d| d.render(&self.file, color))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.diagnostics.len();
        write!(
            f,
            "{} has {n} error{}",
            self.file.path().display(),
            if n == 1 { "" } else { "s" }
        )
    }
}

/// Reads and validates the config at `path`.
pub fn load(path: &Path, vars: &Vars) -> Result<Config, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    load_str(path, text, vars)
}

/// Validates config `text` as if read from `path` (relative paths resolve against its folder).
pub fn load_str(path: &Path, text: String, vars: &Vars) -> Result<Config, SpecError> {
    let file = SourceFile::new(path, text);
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    let base_dir = std::path::absolute(parent.unwrap_or(Path::new(".")))
        .unwrap_or_else(|_| parent.unwrap_or(Path::new(".")).to_path_buf());
    let mut diagnostics = Vec::new();
    let root = yaml::parse(&file, vars, &mut diagnostics);
    let parts = match &root {
        Some(root) => decode::Decoder::new(&mut diagnostics).config(root, &base_dir),
        None => {
            if diagnostics.is_empty() {
                diagnostics.push(
                    Diagnostic::error(
                        Span::on_line(Pos { line: 1, col: 1 }, 1),
                        "the config file is empty",
                    )
                    .help("start with `version: 1` and a `datasets:` mapping"),
                );
            }
            None
        }
    };
    diagnostics.retain(|d| d.level == Level::Error || d.span.is_some());
    if diagnostics.iter().any(|d| d.level == Level::Error) {
        diagnostics.sort_by_key(|d| d.span.map(|s| s.start));
        return Err(SpecError::Invalid(Box::new(InvalidConfig {
            file,
            diagnostics,
        })));
    }
    let parts = parts.expect("no errors means the file decoded");
    Ok(Config {
        file,
        base_dir,
        version: parts.version,
        defaults: parts.defaults,
        datasets: parts.datasets,
        stages: parts.stages,
        reconciles: parts.reconciles,
        exposures: parts.exposures,
        lineage: parts.lineage,
        state: parts.state,
        quarantine: parts.quarantine,
        history: parts.history,
        notify: parts.notify,
        openlineage: parts.openlineage,
        serve: parts.serve,
        engine: parts.engine,
    })
}

#[cfg(test)]
mod tests;
