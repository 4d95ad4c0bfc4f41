//! The use cases of sluice, under every surface: the CLI today, the HTTP server and the
//! Python module next. A surface parses its input, calls a function here, and shows what
//! comes back; nothing here prints, colours or chooses an exit code.
//!
//! | use case | function | result |
//! | --- | --- | --- |
//! | open a config | [`Workspace::open`] | a [`Workspace`]: config, state store (opened on first use), lineage graph (cached), clock, actor |
//! | validate | [`validate`] | counts of datasets and checks |
//! | check, record the run, move breakers | [`check::check`] | [`check::CheckOutcome`] |
//! | may X publish? | [`breakers::guard`] | [`views::GuardView`] |
//! | publish, rollback (and recover) | [`publish::publish`] | [`publish::PublishOutcome`] |
//! | breaker status, history, trip/reset/override, report | [`breakers`] | [`views`] |
//! | metric history | [`history::history`] | [`history::HistoryView`] |
//! | alerts of breaker transitions and failed runs (after check, publish, commands, expiries) | [`notify`] | logged [`notify::Delivery`]s |
//! | impact, select, show | [`lineage`] | nodes of the graph |
//! | every dataset with its breaker and blockers; one dataset with its checks' last results | [`overview`] | [`overview::DatasetRow`], [`overview::DatasetDetail`] |
//! | recorded runs, a page at a time; one run with its report | [`runs`] | [`runs::RunPage`], [`runs::RunDetail`] |
//! | OpenLineage events of check and publish | [`openlineage`] | events (delivered by an [`openlineage::Emitter`]) |
//!
//! Async where the engine is (check, publish); the caller owns the runtime: no function
//! here creates one, so a server can call them from its own tasks. Errors are typed by
//! fault ([`ErrorKind`]); each surface maps the kinds to its own codes in one place.
//!
//! The crates underneath are re-exported, so a surface depends on this crate alone:
//! [`spec`] (the config), [`engine`] (runs and reports), [`lineage`](sluice_lineage) (the
//! graph and its renderers), [`breaker`] (breakers, the state store, publishing steps).

#![warn(missing_docs)]

pub mod breakers;
pub mod check;
pub mod error;
pub mod history;
pub mod http;
pub mod lineage;
pub mod notify;
pub mod openlineage;
pub mod overview;
pub mod publish;
pub mod runs;
pub mod scaffold;
pub mod views;
pub mod workspace;

pub use error::{Error, ErrorKind, Result};
pub use workspace::{
    Clock, StateChoice, Workspace, WorkspaceOptions, discover_config, load_config,
};

pub use sluice_breaker as breaker;
pub use sluice_engine as engine;
pub use sluice_lineage as graph;
pub use sluice_spec as spec;

/// What `validate` found in a valid config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Validated {
    /// Datasets declared.
    pub datasets: usize,
    /// Checks declared, over all datasets.
    pub checks: usize,
}

/// Validates a loaded config without reading any data: its lineage too (stage SQL, the
/// files `lineage:` names, cycles). The config itself was validated when it was loaded.
pub fn validate(config: &spec::Config) -> Result<Validated> {
    lineage::validate(config)?;
    Ok(Validated {
        datasets: config.datasets.len(),
        checks: config.datasets.iter().map(|d| d.checks.len()).sum(),
    })
}

/// Writes `bytes` to `path` atomically (a temporary file beside it, then a rename):
/// readers never see a half-written file.
pub use sluice_breaker::publish::write_atomically;
