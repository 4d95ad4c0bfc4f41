//! A workspace: one loaded config and what the use cases share around it — the state
//! store (opened on first use, kept open), the lineage graph of the config (built on first
//! use, cached), the clock and the actor.
//!
//! A workspace is `Send + Sync`: a server keeps one per config and serves many requests
//! from it. The store is behind a mutex, held only for the duration of one store operation
//! (never across an `.await`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sluice_breaker::{Effective, Store};
use sluice_lineage::{Lineage, Sources};
use sluice_spec::{Config, StateStore, Vars};

use crate::error::{Error, Result};

/// Per dataset, the halted breakers upstream of it (name and state), nearest first.
pub type BlockedBy = std::collections::HashMap<String, Vec<(String, Effective)>>;

/// The halted breakers (dataset, state), sorted: what [`BlockedBy`] depends on.
type Halted = Vec<(String, Effective)>;

/// Where "now" comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A fixed instant (tests, replays).
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// Now, by this clock.
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => t,
        }
    }
}

/// Which state store to use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StateChoice {
    /// The config's `state:`, else `sqlite:.sluice/state.db` next to the config.
    #[default]
    Configured,
    /// A store URL given from outside the config (`SLUICE_STATE`), which wins over
    /// `state:`; relative SQLite paths resolve against `base`.
    Url {
        /// `sqlite:PATH` or `postgres://...`.
        url: String,
        /// Where it came from, for messages (`SLUICE_STATE`).
        origin: &'static str,
        /// The folder relative paths resolve against (the working directory).
        base: PathBuf,
    },
}

impl StateChoice {
    /// `SLUICE_STATE` when it is set (relative SQLite paths against the working
    /// directory), else the config's: what every surface (the CLI, the Python module)
    /// opens.
    pub fn from_env() -> StateChoice {
        match std::env::var("SLUICE_STATE") {
            Ok(url) if !url.trim().is_empty() => StateChoice::Url {
                url,
                origin: "SLUICE_STATE",
                base: std::env::current_dir().unwrap_or_default(),
            },
            _ => StateChoice::Configured,
        }
    }
}

/// How to open a workspace.
#[derive(Clone, Debug, Default)]
pub struct WorkspaceOptions {
    /// `${NAME}` values of the config (`--var`), before the environment.
    pub vars: Vec<(String, String)>,
    /// The state store.
    pub state: StateChoice,
    /// Where "now" comes from.
    pub clock: Clock,
    /// Who acts, when a request does not say (`None`: the Airflow task from
    /// `AIRFLOW_CTX_*`, else `$USER`).
    pub actor: Option<String>,
    /// Where queries run (`--engine`, `SLUICE_ENGINE`), over the config's `engine:`.
    pub engine: Option<sluice_spec::Engine>,
}

/// A loaded config and what the use cases share around it.
pub struct Workspace {
    config: Config,
    state: StateChoice,
    store: Mutex<Option<Store>>,
    lineage: Mutex<Option<Arc<Lineage>>>,
    answering: Mutex<Option<Arc<Lineage>>>,
    blocked: Mutex<Option<(Halted, Arc<BlockedBy>)>>,
    clock: Clock,
    actor: Option<String>,
    engine: Option<sluice_spec::Engine>,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("config", &self.config.file.path())
            .field("state", &self.state)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// `./sluice.yaml` or `./sluice.yml` in `dir`, if there is one.
pub fn discover_config(dir: &Path) -> Option<PathBuf> {
    ["sluice.yaml", "sluice.yml"]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Reads and validates the config at `path` with `vars`.
pub fn load_config(path: &Path, vars: &[(String, String)]) -> Result<Config> {
    let vars = Vars::new(vars.iter().cloned().collect());
    Ok(sluice_spec::load(path, &vars)?)
}

impl Workspace {
    /// Loads the config at `path` and prepares the rest (nothing is opened yet: the store
    /// on first use, the lineage graph on first use).
    pub fn open(path: &Path, opts: WorkspaceOptions) -> Result<Workspace> {
        let config = load_config(path, &opts.vars)?;
        Workspace::new(config, opts)
    }

    /// A workspace over an already loaded config.
    pub fn new(config: Config, opts: WorkspaceOptions) -> Result<Workspace> {
        Ok(Workspace {
            config,
            state: opts.state,
            store: Mutex::new(None),
            lineage: Mutex::new(None),
            answering: Mutex::new(None),
            blocked: Mutex::new(None),
            clock: opts.clock,
            actor: opts.actor,
            engine: opts.engine,
        })
    }

    /// Where this workspace's runs execute: the caller's choice (`--engine`,
    /// `SLUICE_ENGINE`), else the config's `engine:`, else in-process DataFusion.
    pub fn engine(&self) -> sluice_spec::Engine {
        self.engine
            .clone()
            .or_else(|| self.config.engine.clone())
            .unwrap_or_default()
    }

    /// The config.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Now, by the workspace's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Who acts: `by` if given, else the workspace's actor, else the Airflow task running
    /// us (`AIRFLOW_CTX_*`), else `$USER`.
    pub fn actor(&self, by: Option<&str>) -> String {
        let by = by
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .or(self.actor.as_deref());
        sluice_breaker::actor(by)
    }

    /// The state store this workspace uses: the setting from outside if any (checked
    /// only now, when a use case needs the store), else the config's `state:`, else
    /// `.sluice/state.db` next to the config.
    pub fn state_store(&self) -> Result<StateStore> {
        match &self.state {
            StateChoice::Url { url, origin, base } => StateStore::parse(url, base)
                .map_err(|message| Error::StateSetting { origin, message }),
            StateChoice::Configured => Ok(self.config.state.clone().unwrap_or_else(|| {
                StateStore::Sqlite(sluice_breaker::store::default_sqlite_path(
                    &self.config.base_dir,
                ))
            })),
        }
    }

    /// Opens the state store now if it is not open yet: a use case that must not start
    /// unless its outcome can be recorded calls this first.
    pub fn open_store(&self) -> Result<()> {
        self.with_store(|_| Ok(()))
    }

    /// Runs `f` on the state store (opening it on first use), holding it for that long.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let mut slot = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            let store = match &self.state_store()? {
                StateStore::Sqlite(path) => Store::open_sqlite(path),
                StateStore::Postgres(url) => Store::open_postgres(url),
            }?;
            *slot = Some(store);
        }
        f(slot.as_mut().expect("opened above"))
    }

    /// The lineage graph of the config (with the files its `lineage:` names), built on
    /// first use.
    pub fn lineage(&self) -> Result<Arc<Lineage>> {
        let mut slot = self.lineage.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = slot.as_ref() {
            return Ok(Arc::clone(l));
        }
        // The answering graph, when built and complete, is this one (a server asks both):
        // not built twice.
        if let Some(l) = self
            .answering
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|l| l.missing.is_empty())
        {
            *slot = Some(Arc::clone(l));
            return Ok(Arc::clone(l));
        }
        let built = Arc::new(sluice_lineage::load(&Sources::new(
            Some(&self.config),
            &[],
            &[],
        ))?);
        *slot = Some(Arc::clone(&built));
        Ok(built)
    }

    /// The graph that impact and lineage questions are answered from, built on first use:
    /// like [`Workspace::lineage`], but a stage whose SQL does not parse is left out (and
    /// listed in its `missing`) instead of failing every answer. Guards never use it.
    pub fn answering_lineage(&self) -> Result<Arc<Lineage>> {
        let mut slot = self.answering.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = slot.as_ref() {
            return Ok(Arc::clone(l));
        }
        let mut sources = Sources::new(Some(&self.config), &[], &[]);
        sources.partial = sluice_lineage::Partial {
            sql: true,
            files: false,
        };
        // Built once per config: the datasets' files are read for their columns (column
        // lineage's `SELECT *`), as a column question on the command line does.
        sources.file_columns = crate::lineage::file_columns(&self.config);
        let built = Arc::new(sluice_lineage::load(&sources)?);
        *slot = Some(Arc::clone(&built));
        Ok(built)
    }

    /// What blocks each dataset, given every breaker: `compute`d when the halted breakers
    /// differ from the last call's, else the last answer (a dashboard asks this on every
    /// request; it changes only when a breaker halts or lets data through again).
    pub fn blocked_by(
        &self,
        all: &[sluice_breaker::Breaker],
        compute: impl FnOnce() -> BlockedBy,
    ) -> Arc<BlockedBy> {
        let mut halted: Halted = all
            .iter()
            .filter(|b| !b.effective().flows())
            .map(|b| (b.dataset.clone(), b.effective()))
            .collect();
        halted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut slot = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((key, map)) = slot.as_ref()
            && *key == halted
        {
            return Arc::clone(map);
        }
        let map = Arc::new(compute());
        *slot = Some((halted, Arc::clone(&map)));
        map
    }

    /// The dataset called `name`, or the error suggesting the closest name.
    pub fn dataset(&self, name: &str) -> Result<&sluice_spec::Dataset> {
        Ok(self.config.dataset(name)?)
    }
}
