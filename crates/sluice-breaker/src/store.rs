//! The state store: breakers, the append-only audit log of transitions, runs and their
//! check results, in SQLite (embedded, the default) behind versioned migrations.
//!
//! Every change happens in one write transaction (`BEGIN IMMEDIATE`: writers queue on the
//! database lock, with a 30 s busy timeout), which reads the breaker, applies the state
//! machine and writes the breaker and its transition together: concurrent processes never
//! lose an update, and the log never disagrees with the state.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::machine::{Breaker, Effective, Manual, Overlay, State, Transition};

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be opened or created.
    #[error("cannot open the state store {what}: {message}")]
    Unreachable {
        /// The store, for people.
        what: String,
        /// Why, and what to do.
        message: String,
    },
    /// The file is not a sluice state store, or is damaged.
    #[error(
        "the state store {what} is damaged or not a SQLite database ({message}); move it aside (nothing in it can be read) and sluice starts a new one, or restore it from a backup"
    )]
    Corrupt {
        /// The store.
        what: String,
        /// SQLite's words.
        message: String,
    },
    /// Written by a newer sluice.
    #[error(
        "the state store {what} has schema version {found}, newer than this sluice knows ({known}); upgrade sluice"
    )]
    Newer {
        /// The store.
        what: String,
        /// Its version.
        found: i64,
        /// Ours.
        known: i64,
    },
    /// A query failed.
    #[error("state store {what}: {source}")]
    Sql {
        /// The store.
        what: String,
        /// The error.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored value that is not what sluice writes.
    #[error("state store {what}: unexpected {field} `{value}` for dataset `{dataset}`")]
    Invalid {
        /// The store.
        what: String,
        /// The dataset.
        dataset: String,
        /// The column.
        field: &'static str,
        /// Its value.
        value: String,
    },
}

/// Result with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Schema migrations, applied in order; each runs once, in the transaction that records it.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
CREATE TABLE breakers (
    dataset         TEXT PRIMARY KEY,
    state           TEXT NOT NULL,
    since           TEXT NOT NULL,
    reason          TEXT,
    run_id          TEXT,
    failing_checks  TEXT NOT NULL DEFAULT '[]',
    fail_streak     INTEGER NOT NULL DEFAULT 0,
    pass_streak     INTEGER NOT NULL DEFAULT 0,
    last_run_id     TEXT,
    last_run_at     TEXT,
    last_run_status TEXT,
    manual          TEXT,
    manual_until    TEXT,
    manual_reason   TEXT,
    manual_by       TEXT,
    manual_at       TEXT
);
CREATE TABLE transitions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset     TEXT NOT NULL,
    event       TEXT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    run_id      TEXT
);
CREATE INDEX transitions_by_dataset ON transitions (dataset, id);
CREATE TABLE runs (
    run_id      TEXT PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    status      TEXT NOT NULL,
    summary     TEXT NOT NULL,
    config      TEXT NOT NULL,
    actor       TEXT NOT NULL
);
CREATE TABLE check_results (
    run_id   TEXT NOT NULL REFERENCES runs (run_id),
    dataset  TEXT NOT NULL,
    name     TEXT NOT NULL,
    kind     TEXT NOT NULL,
    severity TEXT NOT NULL,
    status   TEXT NOT NULL,
    observed TEXT NOT NULL,
    message  TEXT NOT NULL,
    PRIMARY KEY (run_id, dataset, name)
);
"#,
    ),
    (
        2,
        r#"
CREATE TABLE publications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset     TEXT NOT NULL,
    event       TEXT NOT NULL,
    version     TEXT NOT NULL,
    status      TEXT NOT NULL,
    run_id      TEXT,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX publications_by_dataset ON publications (dataset, id);
CREATE TABLE locks (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
"#,
    ),
];

/// A transition as logged, with its sequence number.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Logged {
    /// Position in the log (increasing).
    pub id: i64,
    /// The transition.
    #[serde(flatten)]
    pub transition: Transition,
}

/// A run, as recorded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRecord {
    /// Its id.
    pub run_id: String,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: DateTime<Utc>,
    /// `passed`, `warned`, `failed`, `error`.
    pub status: String,
    /// The report's summary, as JSON.
    pub summary: serde_json::Value,
    /// The config file.
    pub config: String,
    /// Who ran it.
    pub actor: String,
}

/// One check's result in a run, as recorded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckRecord {
    /// The dataset.
    pub dataset: String,
    /// The check's name.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// `error` or `warn`.
    pub severity: String,
    /// `pass`, `warn`, `fail`, `error`.
    pub status: String,
    /// What was observed, as JSON.
    pub observed: serde_json::Value,
    /// The message.
    pub message: String,
}

/// An open state store.
pub struct Store {
    conn: Connection,
    what: String,
}

/// One write transaction.
pub struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
    what: &'a str,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl Store {
    /// Opens (creating the file and its folder if needed) a SQLite store, and migrates it.
    pub fn open_sqlite(path: &Path) -> Result<Store> {
        let what = format!("sqlite:{}", path.display());
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unreachable {
                what: what.clone(),
                message: format!("cannot create the folder {}: {e}", dir.display()),
            })?;
        }
        let conn = Connection::open(path).map_err(|e| StoreError::Unreachable {
            what: what.clone(),
            message: e.to_string(),
        })?;
        let mut store = Store { conn, what };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// The store, for messages.
    pub fn what(&self) -> &str {
        &self.what
    }

    fn sql_err(&self, source: rusqlite::Error) -> StoreError {
        classify(&self.what, source)
    }

    fn configure(&mut self) -> Result<()> {
        self.conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| self.sql_err(e))?;
        // WAL: readers do not block the writer; FULL: a committed transition survives a
        // power cut. The first statement that reads the file finds out if it is not ours.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| self.sql_err(e))?;
        tracing::debug!(store = %self.what, journal_mode = %mode, "state store opened");
        self.conn
            .execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| self.sql_err(e))
    }

    /// The newest migration this sluice knows.
    pub fn known_version() -> i64 {
        MIGRATIONS.last().map_or(0, |m| m.0)
    }

    fn migrate(&mut self) -> Result<()> {
        let what = self.what.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(&what, e))?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .map_err(|e| classify(&what, e))?;
        let current: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                [],
                |r| r.get(0),
            )
            .map_err(|e| classify(&what, e))?;
        let known = Store::known_version();
        if current > known {
            return Err(StoreError::Newer {
                what,
                found: current,
                known,
            });
        }
        for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            tx.execute_batch(sql).map_err(|e| classify(&what, e))?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                params![version, ts(Utc::now())],
            )
            .map_err(|e| classify(&what, e))?;
            tracing::info!(store = %what, version, "state store migrated");
        }
        tx.commit().map_err(|e| classify(&what, e))
    }

    /// The schema version now in the store.
    pub fn version(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.sql_err(e))
    }

    /// Runs `f` in one write transaction, committed if it returns `Ok`.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        let what = self.what.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(&what, e))?;
        let t = Tx { tx, what: &what };
        let out = f(&t)?;
        t.tx.commit().map_err(|e| classify(&what, e))?;
        Ok(out)
    }
}

/// SQLite's "not a database" and "malformed" mean a damaged file; the rest are errors.
fn classify(what: &str, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(NotADatabase | DatabaseCorrupt) => StoreError::Corrupt {
            what: what.to_string(),
            message: e.to_string(),
        },
        Some(CannotOpen | ReadOnly | PermissionDenied) => StoreError::Unreachable {
            what: what.to_string(),
            message: e.to_string(),
        },
        _ => StoreError::Sql {
            what: what.to_string(),
            source: e,
        },
    }
}

const BREAKER_COLUMNS: &str = "dataset, state, since, reason, run_id, failing_checks, fail_streak, pass_streak, last_run_id, last_run_at, last_run_status, manual, manual_until, manual_reason, manual_by, manual_at";

impl Tx<'_> {
    fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(self.what, e)
    }

    /// The breaker of `dataset`, if it has one yet.
    pub fn get(&self, dataset: &str) -> Result<Option<Breaker>> {
        let row = self
            .tx
            .query_row(
                &format!("SELECT {BREAKER_COLUMNS} FROM breakers WHERE dataset = ?1"),
                [dataset],
                RawBreaker::read,
            )
            .optional()
            .map_err(|e| self.err(e))?;
        row.map(|r| r.into_breaker(self.what)).transpose()
    }

    /// Every breaker, by dataset name.
    pub fn all(&self) -> Result<Vec<Breaker>> {
        let mut stmt = self
            .tx
            .prepare(&format!(
                "SELECT {BREAKER_COLUMNS} FROM breakers ORDER BY dataset"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], RawBreaker::read)
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|r| r.into_breaker(self.what))
            .collect()
    }

    /// Inserts or replaces the breaker of `b.dataset`.
    pub fn put(&self, b: &Breaker) -> Result<()> {
        let (lr_id, lr_at, lr_status) = match &b.last_run {
            Some((id, at, s)) => (Some(id.clone()), Some(ts(*at)), Some(s.clone())),
            None => (None, None, None),
        };
        let m = b.manual.as_ref();
        self.tx
            .execute(
                &format!(
                    "INSERT OR REPLACE INTO breakers ({BREAKER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
                ),
                params![
                    b.dataset,
                    b.state.as_str(),
                    ts(b.since),
                    b.reason,
                    b.run_id,
                    serde_json::to_string(&b.failing_checks).expect("strings serialise"),
                    b.fail_streak,
                    b.pass_streak,
                    lr_id,
                    lr_at,
                    lr_status,
                    m.map(|o| o.kind.as_str()),
                    m.and_then(|o| o.until).map(ts),
                    m.map(|o| o.reason.clone()),
                    m.map(|o| o.by.clone()),
                    m.map(|o| ts(o.at)),
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Appends a transition to the audit log; returns its position.
    pub fn append(&self, t: &Transition) -> Result<i64> {
        self.tx
            .execute(
                "INSERT INTO transitions (dataset, event, from_state, to_state, at, actor, reason, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    t.dataset,
                    t.event,
                    t.from.as_str(),
                    t.to.as_str(),
                    ts(t.at),
                    t.by,
                    t.reason,
                    t.run_id
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.tx.last_insert_rowid())
    }

    /// The audit log of `dataset` (or of every dataset), oldest first, the last `limit`.
    pub fn history(&self, dataset: Option<&str>, limit: usize) -> Result<Vec<Logged>> {
        self.log(dataset, None, limit)
    }

    /// Every transition at or after `since`, oldest first.
    pub fn since(&self, since: DateTime<Utc>) -> Result<Vec<Logged>> {
        self.log(None, Some(since), usize::MAX)
    }

    fn log(
        &self,
        dataset: Option<&str>,
        since: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<Logged>> {
        let mut stmt = self
            .tx
            .prepare(
                "SELECT id, dataset, event, from_state, to_state, at, actor, reason, run_id FROM transitions
                 WHERE (?1 IS NULL OR dataset = ?1) AND (?3 IS NULL OR at >= ?3) ORDER BY id DESC LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let since = since.map(ts);
        let rows = stmt
            .query_map(params![dataset, limit, since], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, Option<String>>(8)?,
                ))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, dataset, event, from, to, at, actor, reason, run_id) in rows.into_iter().rev() {
            let bad = |field: &'static str, value: &str| StoreError::Invalid {
                what: self.what.to_string(),
                dataset: dataset.clone(),
                field,
                value: value.to_string(),
            };
            out.push(Logged {
                id,
                transition: Transition {
                    event: event_name(&event).ok_or_else(|| bad("event", &event))?,
                    from: effective(&from).ok_or_else(|| bad("from_state", &from))?,
                    to: effective(&to).ok_or_else(|| bad("to_state", &to))?,
                    at: parse_ts(&at).ok_or_else(|| bad("at", &at))?,
                    by: actor,
                    reason,
                    run_id,
                    dataset: dataset.clone(),
                },
            });
        }
        Ok(out)
    }

    /// Records a run and its check results.
    pub fn record_run(&self, run: &RunRecord, checks: &[CheckRecord]) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO runs (run_id, started_at, finished_at, status, summary, config, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    run.run_id,
                    ts(run.started_at),
                    ts(run.finished_at),
                    run.status,
                    run.summary.to_string(),
                    run.config,
                    run.actor
                ],
            )
            .map_err(|e| self.err(e))?;
        let mut stmt = self
            .tx
            .prepare(
                "INSERT OR REPLACE INTO check_results (run_id, dataset, name, kind, severity, status, observed, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(|e| self.err(e))?;
        for c in checks {
            stmt.execute(params![
                run.run_id,
                c.dataset,
                c.name,
                c.kind,
                c.severity,
                c.status,
                c.observed.to_string(),
                c.message
            ])
            .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// How many runs are recorded.
    pub fn run_count(&self) -> Result<i64> {
        self.tx
            .query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

/// One entry of a dataset's publication log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Publication {
    /// Position in the log.
    pub id: i64,
    /// The dataset.
    pub dataset: String,
    /// `publish`, `rollback`, `quarantine`, `recover`.
    pub event: String,
    /// The version (folder name) it concerns.
    pub version: String,
    /// `pending` (intent recorded, switch not yet confirmed), `done`, `failed`.
    pub status: String,
    /// The run that checked it.
    pub run_id: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// Why / what.
    pub reason: String,
}

impl Tx<'_> {
    /// Appends to the publication log; returns the entry's id.
    #[allow(clippy::too_many_arguments)]
    pub fn publication(
        &self,
        dataset: &str,
        event: &str,
        version: &str,
        status: &str,
        run_id: Option<&str>,
        at: DateTime<Utc>,
        actor: &str,
        reason: &str,
    ) -> Result<i64> {
        self.tx
            .execute(
                "INSERT INTO publications (dataset, event, version, status, run_id, at, actor, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![dataset, event, version, status, run_id, ts(at), actor, reason],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Sets the status of a publication entry.
    pub fn set_publication_status(&self, id: i64, status: &str) -> Result<()> {
        self.tx
            .execute(
                "UPDATE publications SET status = ?2 WHERE id = ?1",
                params![id, status],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The publication log of a dataset, oldest first.
    pub fn publications(&self, dataset: &str) -> Result<Vec<Publication>> {
        let mut stmt = self
            .tx
            .prepare(
                "SELECT id, dataset, event, version, status, run_id, at, actor, reason FROM publications WHERE dataset = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([dataset], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                ))
            })
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(
                |(id, dataset, event, version, status, run_id, at, actor, reason)| {
                    let at = parse_ts(&at).ok_or_else(|| StoreError::Invalid {
                        what: self.what.to_string(),
                        dataset: dataset.clone(),
                        field: "at",
                        value: at.clone(),
                    })?;
                    Ok(Publication {
                        id,
                        dataset,
                        event,
                        version,
                        status,
                        run_id,
                        at,
                        actor,
                        reason,
                    })
                },
            )
            .collect()
    }

    /// Takes the lock `name` for `holder` until `expires`, if it is free, expired, or its
    /// holder is gone (a killed process); returns the current holder and since when
    /// otherwise.
    pub fn try_lock(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
        holder_is_gone: impl Fn(&str) -> bool,
    ) -> Result<Option<(String, DateTime<Utc>)>> {
        let current: Option<(String, String, String)> = self
            .tx
            .query_row(
                "SELECT holder, acquired_at, expires_at FROM locks WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some((h, acquired, exp)) = current
            && parse_ts(&exp).is_some_and(|e| e > now)
            && h != holder
            && !holder_is_gone(&h)
        {
            return Ok(Some((h, parse_ts(&acquired).unwrap_or(now))));
        }
        self.tx
            .execute(
                "INSERT OR REPLACE INTO locks (name, holder, acquired_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, holder, ts(now), ts(expires)],
            )
            .map_err(|e| self.err(e))?;
        Ok(None)
    }

    /// Releases the lock `name` if `holder` has it.
    pub fn unlock(&self, name: &str, holder: &str) -> Result<()> {
        self.tx
            .execute(
                "DELETE FROM locks WHERE name = ?1 AND holder = ?2",
                params![name, holder],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}

fn event_name(s: &str) -> Option<&'static str> {
    [
        "trip",
        "close",
        "manual_trip",
        "reset",
        "override",
        "expire",
    ]
    .into_iter()
    .find(|e| *e == s)
}

fn effective(s: &str) -> Option<Effective> {
    Some(match s {
        "closed" => Effective::Closed,
        "open" => Effective::Open,
        "tripped" => Effective::Tripped,
        "override" => Effective::Override,
        _ => return None,
    })
}

/// A breakers row as SQLite returns it.
struct RawBreaker {
    cols: [Option<String>; 16],
}

impl RawBreaker {
    fn read(r: &rusqlite::Row) -> rusqlite::Result<RawBreaker> {
        let mut cols: [Option<String>; 16] = Default::default();
        for (i, c) in cols.iter_mut().enumerate() {
            *c = match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => None,
                rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                v => Some(v.as_str()?.to_string()),
            };
        }
        Ok(RawBreaker { cols })
    }

    fn into_breaker(self, what: &str) -> Result<Breaker> {
        let [
            dataset,
            state,
            since,
            reason,
            run_id,
            failing,
            fail_streak,
            pass_streak,
            lr_id,
            lr_at,
            lr_status,
            manual,
            m_until,
            m_reason,
            m_by,
            m_at,
        ] = self.cols;
        let dataset = dataset.unwrap_or_default();
        let bad = |field: &'static str, value: Option<&String>| StoreError::Invalid {
            what: what.to_string(),
            dataset: dataset.clone(),
            field,
            value: value.cloned().unwrap_or_else(|| "NULL".into()),
        };
        let time = |field: &'static str, v: &Option<String>| {
            v.as_deref()
                .and_then(parse_ts)
                .ok_or_else(|| bad(field, v.as_ref()))
        };
        let num = |field: &'static str, v: &Option<String>| {
            v.as_deref()
                .and_then(|s| s.parse::<u32>().ok())
                .ok_or_else(|| bad(field, v.as_ref()))
        };
        let last_run = match (&lr_id, &lr_at, &lr_status) {
            (Some(id), Some(_), Some(s)) => {
                Some((id.clone(), time("last_run_at", &lr_at)?, s.clone()))
            }
            _ => None,
        };
        let manual = match &manual {
            None => None,
            Some(k) => Some(Overlay {
                kind: Manual::parse(k).ok_or_else(|| bad("manual", manual.as_ref()))?,
                until: match &m_until {
                    None => None,
                    Some(_) => Some(time("manual_until", &m_until)?),
                },
                reason: m_reason.unwrap_or_default(),
                by: m_by.unwrap_or_default(),
                at: time("manual_at", &m_at)?,
            }),
        };
        Ok(Breaker {
            state: state
                .as_deref()
                .and_then(State::parse)
                .ok_or_else(|| bad("state", state.as_ref()))?,
            since: time("since", &since)?,
            reason,
            run_id,
            failing_checks: failing
                .as_deref()
                .and_then(|f| serde_json::from_str(f).ok())
                .ok_or_else(|| bad("failing_checks", failing.as_ref()))?,
            fail_streak: num("fail_streak", &fail_streak)?,
            pass_streak: num("pass_streak", &pass_streak)?,
            last_run,
            manual,
            dataset,
        })
    }
}

/// Where a SQLite store of a config lives by default: `.sluice/state.db` next to it.
pub fn default_sqlite_path(config_dir: &Path) -> PathBuf {
    config_dir.join(".sluice").join("state.db")
}
