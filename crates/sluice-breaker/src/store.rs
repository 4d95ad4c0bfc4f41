//! The state store: breakers, the append-only audit log of transitions, runs and their
//! check results, publications and locks — in SQLite (embedded, the default) or Postgres
//! (for many workers), behind one interface and numbered migrations.
//!
//! Every change happens in one write transaction that first takes the store's write lock —
//! SQLite's `BEGIN IMMEDIATE` (with a 30 s busy timeout), Postgres's
//! `pg_advisory_xact_lock` — then reads the breaker, applies the state machine and writes
//! the breaker and its transition together: concurrent processes queue, never lose an
//! update, and the log never disagrees with the state. The SQL is written once (upserts
//! with `ON CONFLICT`, `RETURNING`), for both.
//!
//! A SQLite file that holds another application's tables is refused before anything is
//! written to it, and a store that cannot be written says which file or folder and why.
//!
//! A [`Store`] may be used and dropped anywhere, inside a tokio runtime too (the async
//! application layer and the HTTP server call it from their tasks). The `postgres` crate's
//! synchronous client runs a runtime of its own, which panics when it blocks or is dropped
//! inside another one; so when the calling thread is inside a runtime, each Postgres call
//! (connect, begin, each statement, commit or rollback, close) runs on a short-lived scoped
//! thread of its own, which the caller waits for. Outside a runtime nothing changes.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::machine::{Breaker, Effective, Event, LastRun, Manual, Overlay, State, Transition};
use sluice_spec::{CheckStatus, RunStatus, Severity};

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
    #[error("state store {what}: {message}")]
    Sql {
        /// The store.
        what: String,
        /// The database's words.
        message: String,
    },
    /// The SQLite file exists and holds another application's tables, not sluice's
    /// (no `schema_migrations` of sluice's). Detected before anything is written to it.
    #[error(
        "the state store {} belongs to another application: it is a SQLite database with tables of its own ({}) and no sluice schema; sluice has not changed it. Point `state:` in sluice.yaml or SLUICE_STATE at a file of sluice's own (by default .sluice/state.db next to sluice.yaml)",
        .path.display(),
        list_names(.tables)
    )]
    Foreign {
        /// The file.
        path: PathBuf,
        /// The tables (and views) found in it, a few of them.
        tables: Vec<String>,
    },
    /// The SQLite file, its folder (where SQLite keeps its `-wal` and `-shm` files) or one
    /// of those files cannot be written by this process.
    #[error(
        "cannot open the state store {}: {} {} is not writable by this process; make it writable (its permissions or owner, for the user sluice runs as), or point `state:` in sluice.yaml or SLUICE_STATE at a writable place, or run `sluice check` with --no-state",
        .path.display(),
        if *.folder { "its folder" } else { "the file" },
        .location.display()
    )]
    NotWritable {
        /// The store's file.
        path: PathBuf,
        /// What cannot be written: the file, its folder, or SQLite's `-wal`/`-shm` file.
        location: PathBuf,
        /// Whether `location` is the folder.
        folder: bool,
        /// What the operating system said when sluice tried.
        #[source]
        source: std::io::Error,
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

/// `a, b, c` or `a, b, c, d, e and 3 more`.
fn list_names(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = names
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    s
}

mod metrics;
mod runs;
pub use metrics::{MetricPoint, Partition, PartitionError, PointQuery};
pub use runs::{DatasetRun, RunFilter, RunRow, RunTotals};

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
    (
        3,
        r#"
CREATE TABLE metrics (
    run_id     TEXT NOT NULL,
    dataset    TEXT NOT NULL,
    metric     TEXT NOT NULL,
    value      DOUBLE PRECISION NOT NULL,
    partition  TEXT NOT NULL,
    series     TEXT NOT NULL,
    logical_at TEXT NOT NULL,
    at         TEXT NOT NULL,
    status     TEXT NOT NULL,
    passed     INTEGER NOT NULL,
    PRIMARY KEY (run_id, dataset, metric)
);
CREATE INDEX metrics_by_series ON metrics (dataset, metric, series, logical_at);
CREATE INDEX metrics_by_age ON metrics (at);
"#,
    ),
    (
        4,
        r#"
ALTER TABLE runs ADD COLUMN report TEXT;
CREATE INDEX runs_by_start ON runs (started_at);
CREATE TABLE run_datasets (
    run_id      TEXT NOT NULL,
    dataset     TEXT NOT NULL,
    status      TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (run_id, dataset)
);
CREATE INDEX run_datasets_by_dataset ON run_datasets (dataset, run_id);
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
    /// How it ended.
    pub status: RunStatus,
    /// The report's summary, as JSON.
    pub summary: serde_json::Value,
    /// The config file.
    pub config: String,
    /// Who ran it.
    pub actor: String,
    /// The whole report, as JSON (checks, samples, datasets), for the run views.
    pub report: Option<serde_json::Value>,
    /// Each dataset it checked: its status, time and failed checks.
    pub datasets: Vec<DatasetRun>,
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
    /// Its severity.
    pub severity: Severity,
    /// How it ended.
    pub status: CheckStatus,
    /// What was observed, as JSON.
    pub observed: serde_json::Value,
    /// The message.
    pub message: String,
}

/// What a publication-log entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PublicationEvent {
    /// Staged data promoted to a new version.
    Publish,
    /// Staged data that failed its checks moved to quarantine.
    Quarantine,
    /// What was at `path` before sluice managed it, kept as `v0`.
    Adopt,
    /// An interrupted publish finished or undone.
    Recover,
    /// `path` pointed back at an earlier version.
    Rollback,
}

impl PublicationEvent {
    /// Every event.
    pub const ALL: [PublicationEvent; 5] = [
        PublicationEvent::Publish,
        PublicationEvent::Quarantine,
        PublicationEvent::Adopt,
        PublicationEvent::Recover,
        PublicationEvent::Rollback,
    ];

    /// Its name in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            PublicationEvent::Publish => "publish",
            PublicationEvent::Quarantine => "quarantine",
            PublicationEvent::Adopt => "adopt",
            PublicationEvent::Recover => "recover",
            PublicationEvent::Rollback => "rollback",
        }
    }

    /// The event [`as_str`](Self::as_str) names.
    pub fn parse(s: &str) -> Option<PublicationEvent> {
        PublicationEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Where a publication-log entry stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PublicationStatus {
    /// The intent is recorded; the switch is not confirmed yet (a crash leaves it so).
    Pending,
    /// It happened.
    Done,
    /// It was interrupted and undone.
    Failed,
}

impl PublicationStatus {
    /// Every status.
    pub const ALL: [PublicationStatus; 3] = [
        PublicationStatus::Pending,
        PublicationStatus::Done,
        PublicationStatus::Failed,
    ];

    /// Its name in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            PublicationStatus::Pending => "pending",
            PublicationStatus::Done => "done",
            PublicationStatus::Failed => "failed",
        }
    }

    /// The status [`as_str`](Self::as_str) names.
    pub fn parse(s: &str) -> Option<PublicationStatus> {
        PublicationStatus::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// A publication-log entry to append.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NewPublication<'a> {
    /// The dataset.
    pub dataset: &'a str,
    /// What happened.
    pub event: PublicationEvent,
    /// The version (folder name) it concerns; for a quarantine, the run id.
    pub version: &'a str,
    /// Where it stands.
    pub status: PublicationStatus,
    /// The run that checked it.
    pub run_id: Option<&'a str>,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: &'a str,
    /// Why / what.
    pub reason: &'a str,
}

/// One entry of a dataset's publication log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Publication {
    /// Position in the log.
    pub id: i64,
    /// The dataset.
    pub dataset: String,
    /// What happened.
    pub event: PublicationEvent,
    /// The version (folder name) it concerns.
    pub version: String,
    /// Where it stands.
    pub status: PublicationStatus,
    /// The run that checked it.
    pub run_id: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// Why / what.
    pub reason: String,
}

/// A value going into or coming out of the store (typed, so Postgres gets typed NULLs).
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
}

impl Val {
    fn text(&self) -> Option<String> {
        match self {
            Val::Text(t) => t.clone(),
            Val::Int(i) => i.map(|i| i.to_string()),
            Val::Real(r) => r.map(|r| r.to_string()),
        }
    }

    fn real(&self) -> Option<f64> {
        match self {
            Val::Real(r) => *r,
            Val::Int(i) => i.map(|i| i as f64),
            Val::Text(t) => t.as_deref().and_then(|t| t.parse().ok()),
        }
    }

    fn int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => *i,
            Val::Text(t) => t.as_deref().and_then(|t| t.parse().ok()),
            Val::Real(_) => None,
        }
    }
}

fn t(s: impl Into<String>) -> Val {
    Val::Text(Some(s.into()))
}

fn ot(s: Option<impl Into<String>>) -> Val {
    Val::Text(s.map(Into::into))
}

fn i(n: i64) -> Val {
    Val::Int(Some(n))
}

/// The connection.
enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(PgClient),
}

/// An open transaction.
enum RawTx<'a> {
    Sqlite(rusqlite::Transaction<'a>),
    Postgres(PgTx<'a>),
}

/// Runs `f`, which may block on the `postgres` crate's own tokio runtime: right here, or,
/// when this thread is inside a tokio runtime (where that runtime's `block_on` and its drop
/// panic), on a scoped thread of its own, waited for. A panic in `f` is passed on.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(out) => out,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// A Postgres client, closed and dropped outside any tokio runtime ([`off_runtime`]).
struct PgClient(Option<Box<postgres::Client>>);

impl PgClient {
    fn get(&mut self) -> &mut postgres::Client {
        self.0
            .as_mut()
            .expect("the client lives as long as the store")
    }
}

impl Drop for PgClient {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            off_runtime(move || drop(client));
        }
    }
}

/// A Postgres transaction; dropped without a commit, it is rolled back outside any tokio
/// runtime ([`off_runtime`]), also when a panic unwinds through it.
struct PgTx<'a>(Option<postgres::Transaction<'a>>);

impl<'a> PgTx<'a> {
    fn get(&mut self) -> &mut postgres::Transaction<'a> {
        self.0.as_mut().expect("used only before its commit")
    }
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            off_runtime(move || drop(tx));
        }
    }
}

/// `?1` placeholders (SQLite) as `$1` (Postgres).
fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// The migrations' DDL in Postgres's words.
fn pg_ddl(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
        .replace("INTEGER", "BIGINT")
}

impl RawTx<'_> {
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, String> {
        match self {
            RawTx::Sqlite(tx) => {
                let mut stmt = tx.prepare(sql).map_err(|e| e.to_string())?;
                let n = stmt.column_count();
                let p: Vec<&dyn rusqlite::ToSql> = params.iter().map(sqlite_param).collect();
                let rows = stmt
                    .query_map(p.as_slice(), |r| {
                        (0..n)
                            .map(|i| {
                                Ok(match r.get_ref(i)? {
                                    rusqlite::types::ValueRef::Integer(v) => Val::Int(Some(v)),
                                    rusqlite::types::ValueRef::Real(v) => Val::Real(Some(v)),
                                    rusqlite::types::ValueRef::Null => Val::Text(None),
                                    v => Val::Text(Some(v.as_str()?.to_string())),
                                })
                            })
                            .collect::<rusqlite::Result<Vec<Val>>>()
                    })
                    .map_err(|e| e.to_string())?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(|e| e.to_string())
            }
            RawTx::Postgres(tx) => {
                let tx = tx.get();
                off_runtime(move || {
                    let boxed = pg_params(params);
                    let p: Vec<&(dyn postgres::types::ToSql + Sync)> =
                        boxed.iter().map(|b| b.as_ref() as _).collect();
                    let rows = tx.query(&pg_sql(sql), &p).map_err(|e| pg_message(&e))?;
                    Ok(rows
                        .iter()
                        .map(|r| {
                            (0..r.len())
                                .map(|i| match *r.columns()[i].type_() {
                                    postgres::types::Type::INT8 => Val::Int(r.get(i)),
                                    postgres::types::Type::INT4 => {
                                        Val::Int(r.get::<_, Option<i32>>(i).map(i64::from))
                                    }
                                    postgres::types::Type::FLOAT8 => Val::Real(r.get(i)),
                                    _ => Val::Text(r.get(i)),
                                })
                                .collect()
                        })
                        .collect())
                })
            }
        }
    }

    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, String> {
        match self {
            RawTx::Sqlite(tx) => {
                let p: Vec<&dyn rusqlite::ToSql> = params.iter().map(sqlite_param).collect();
                tx.execute(sql, p.as_slice())
                    .map(|n| n as u64)
                    .map_err(|e| e.to_string())
            }
            RawTx::Postgres(tx) => {
                let tx = tx.get();
                off_runtime(move || {
                    let boxed = pg_params(params);
                    let p: Vec<&(dyn postgres::types::ToSql + Sync)> =
                        boxed.iter().map(|b| b.as_ref() as _).collect();
                    tx.execute(&pg_sql(sql), &p).map_err(|e| pg_message(&e))
                })
            }
        }
    }

    fn batch(&mut self, sql: &str) -> Result<(), String> {
        match self {
            RawTx::Sqlite(tx) => tx.execute_batch(sql).map_err(|e| e.to_string()),
            RawTx::Postgres(tx) => {
                let tx = tx.get();
                off_runtime(move || tx.batch_execute(&pg_ddl(sql)).map_err(|e| pg_message(&e)))
            }
        }
    }

    fn commit(self) -> Result<(), String> {
        match self {
            RawTx::Sqlite(tx) => tx.commit().map_err(|e| e.to_string()),
            RawTx::Postgres(mut tx) => {
                let tx = tx.0.take().expect("committed once");
                off_runtime(move || tx.commit().map_err(|e| pg_message(&e)))
            }
        }
    }
}

fn sqlite_param(v: &Val) -> &dyn rusqlite::ToSql {
    match v {
        Val::Int(i) => i,
        Val::Real(r) => r,
        Val::Text(t) => t,
    }
}

fn pg_params(params: &[Val]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|v| -> Box<dyn postgres::types::ToSql + Sync> {
            match v {
                Val::Int(i) => Box::new(*i),
                Val::Real(r) => Box::new(*r),
                Val::Text(t) => Box::new(t.clone()),
            }
        })
        .collect()
}

fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// An open state store.
pub struct Store {
    conn: Conn,
    what: String,
}

/// One write transaction.
pub struct Tx<'a> {
    tx: RawTx<'a>,
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

/// SQLite's "not a database" and "malformed" mean a damaged file; the rest are errors.
fn sqlite_err(what: &str, e: rusqlite::Error) -> StoreError {
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
            message: e.to_string(),
        },
    }
}

impl Store {
    /// Opens (creating the file and its folder if needed) a SQLite store, and migrates it.
    ///
    /// A file that is a SQLite database with tables but no sluice schema belongs to another
    /// application: it is refused ([`StoreError::Foreign`]) before anything is written to
    /// it. A store that cannot be written is [`StoreError::NotWritable`], naming the file or
    /// folder; a file that is not a SQLite database is [`StoreError::Corrupt`].
    pub fn open_sqlite(path: &Path) -> Result<Store> {
        let what = format!("sqlite:{}", path.display());
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unreachable {
                what: what.clone(),
                message: format!(
                    "cannot create the folder {}: {e}; point `state:` or SLUICE_STATE at a writable place, or run checks with --no-state",
                    dir.display()
                ),
            })?;
        }
        Store::open_sqlite_in(path, what).map_err(|e| match e {
            // SQLite says "unable to open database file" or "attempt to write a readonly
            // database" (or a disk I/O error) without saying what it could not write.
            StoreError::Unreachable { .. } | StoreError::Sql { .. } => {
                unwritable(path).unwrap_or(e)
            }
            e => e,
        })
    }

    fn open_sqlite_in(path: &Path, what: String) -> Result<Store> {
        if let Ok(meta) = std::fs::metadata(path)
            && meta.is_file()
        {
            // A file it may not write, SQLite would open for reading only, without a word
            // (and leave read-only -wal and -shm files beside it): say so first.
            if let Err(source) = std::fs::OpenOptions::new().write(true).open(path) {
                return Err(StoreError::NotWritable {
                    path: path.to_path_buf(),
                    location: path.to_path_buf(),
                    folder: false,
                    source,
                });
            }
            // Before anything can write to it: is it another application's database?
            if meta.len() > 0 {
                let tables = foreign_tables(path, &what)?;
                if !tables.is_empty() {
                    return Err(StoreError::Foreign {
                        path: path.to_path_buf(),
                        tables,
                    });
                }
            }
        }
        let conn = rusqlite::Connection::open(path).map_err(|e| StoreError::Unreachable {
            what: what.clone(),
            message: e.to_string(),
        })?;
        // Should SQLite still have opened it read-only: every command writes (a run, a
        // transition, an expiry), so say so now, before anything runs.
        if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
            return Err(unwritable(path).unwrap_or_else(|| StoreError::NotWritable {
                path: path.to_path_buf(),
                location: path.to_path_buf(),
                folder: false,
                source: std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    "SQLite could open it for reading only",
                ),
            }));
        }
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| sqlite_err(&what, e))?;
        // WAL: readers do not block the writer; FULL: a committed transition survives a
        // power cut.
        let mode = wal_mode(&conn).map_err(|e| sqlite_err(&what, e))?;
        tracing::debug!(store = %what, journal_mode = %mode, "state store opened");
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(|e| sqlite_err(&what, e))?;
        let mut store = Store {
            conn: Conn::Sqlite(conn),
            what,
        };
        store.migrate()?;
        Ok(store)
    }

    /// Connects to a Postgres store (`postgres://user:password@host:port/db`) and migrates
    /// it. No TLS: a server on loopback or a trusted network.
    pub fn open_postgres(url: &str) -> Result<Store> {
        let what = sluice_spec::StateStore::Postgres(url.to_string()).display();
        let client = off_runtime(|| {
            postgres::Client::connect(url, postgres::NoTls).map_err(|e| pg_message(&e))
        })
        .map_err(|message| StoreError::Unreachable {
            what: what.clone(),
            message: format!("{message}; is the server running, and the URL right?"),
        })?;
        let mut store = Store {
            conn: Conn::Postgres(PgClient(Some(Box::new(client)))),
            what,
        };
        store.migrate()?;
        Ok(store)
    }

    /// The store, for messages.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// The newest migration this sluice knows.
    pub fn known_version() -> i64 {
        MIGRATIONS.last().map_or(0, |m| m.0)
    }

    fn begin(&mut self) -> Result<Tx<'_>> {
        self.begin_as(true)
    }

    /// A transaction that takes the write lock first (`write`), or a read-only snapshot
    /// that never waits for a writer (SQLite in WAL mode reads beside one).
    fn begin_as(&mut self, write: bool) -> Result<Tx<'_>> {
        let what = self.what.as_str();
        let tx = match &mut self.conn {
            Conn::Sqlite(c) => RawTx::Sqlite(
                c.transaction_with_behavior(if write {
                    rusqlite::TransactionBehavior::Immediate
                } else {
                    rusqlite::TransactionBehavior::Deferred
                })
                .map_err(|e| sqlite_err(what, e))?,
            ),
            Conn::Postgres(c) => {
                let client = c.get();
                let tx = off_runtime(move || {
                    let mut tx = client.transaction().map_err(|e| StoreError::Unreachable {
                        what: what.to_string(),
                        message: pg_message(&e),
                    })?;
                    // One writer at a time, as SQLite's IMMEDIATE; released at commit/rollback.
                    let lock = if write {
                        "SELECT pg_advisory_xact_lock(7061621)"
                    } else {
                        "SET TRANSACTION READ ONLY"
                    };
                    tx.execute(lock, &[]).map_err(|e| StoreError::Sql {
                        what: what.to_string(),
                        message: pg_message(&e),
                    })?;
                    Ok(tx)
                })?;
                RawTx::Postgres(PgTx(Some(tx)))
            }
        };
        Ok(Tx { tx, what })
    }

    fn migrate(&mut self) -> Result<()> {
        self.write(|tx| {
            tx.batch(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
            )?;
            let current = tx
                .rows("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])?
                .first()
                .and_then(|r| r[0].int())
                .unwrap_or(0);
            let known = Store::known_version();
            if current > known {
                return Err(StoreError::Newer {
                    what: tx.what.to_string(),
                    found: current,
                    known,
                });
            }
            for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
                tx.batch(sql)?;
                tx.exec(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                    &[i(*version), t(ts(Utc::now()))],
                )?;
                tracing::info!(store = %tx.what, version, "state store migrated");
            }
            Ok(())
        })
    }

    /// The schema version now in the store.
    pub fn version(&mut self) -> Result<i64> {
        self.write(|tx| {
            Ok(tx
                .rows("SELECT MAX(version) FROM schema_migrations", &[])?
                .first()
                .and_then(|r| r[0].int())
                .unwrap_or(0))
        })
    }

    /// Runs `f` in one read-only transaction: a consistent snapshot that does not wait
    /// for writers (other processes recording runs) nor make them wait. `f` must not write.
    pub fn read<T>(&mut self, f: impl FnOnce(&mut Tx) -> Result<T>) -> Result<T> {
        let what = self.what.clone();
        let mut tx = self.begin_as(false)?;
        let out = f(&mut tx)?;
        tx.tx
            .commit()
            .map_err(|message| StoreError::Sql { what, message })?;
        Ok(out)
    }

    /// Runs `f` in one write transaction, committed if it returns `Ok`.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut Tx) -> Result<T>) -> Result<T> {
        let what = self.what.clone();
        let mut tx = self.begin()?;
        let out = f(&mut tx)?;
        tx.tx
            .commit()
            .map_err(|message| StoreError::Sql { what, message })?;
        Ok(out)
    }
}

const BREAKER_COLUMNS: &str = "dataset, state, since, reason, run_id, failing_checks, fail_streak, pass_streak, last_run_id, last_run_at, last_run_status, manual, manual_until, manual_reason, manual_by, manual_at";

impl Tx<'_> {
    fn sql_err(&self, message: String) -> StoreError {
        // SQLite reports a damaged file on the first statement that reads it.
        if message.contains("not a database") || message.contains("malformed") {
            return StoreError::Corrupt {
                what: self.what.to_string(),
                message,
            };
        }
        StoreError::Sql {
            what: self.what.to_string(),
            message,
        }
    }

    fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>> {
        self.tx.query(sql, params).map_err(|m| self.sql_err(m))
    }

    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64> {
        self.tx.execute(sql, params).map_err(|m| self.sql_err(m))
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.tx.batch(sql).map_err(|m| self.sql_err(m))
    }

    /// The breaker of `dataset`, if it has one yet.
    pub fn get(&mut self, dataset: &str) -> Result<Option<Breaker>> {
        let rows = self.rows(
            &format!("SELECT {BREAKER_COLUMNS} FROM breakers WHERE dataset = ?1"),
            &[t(dataset)],
        )?;
        rows.into_iter().next().map(|r| self.breaker(r)).transpose()
    }

    /// Every breaker, by dataset name.
    pub fn all(&mut self) -> Result<Vec<Breaker>> {
        let rows = self.rows(
            &format!("SELECT {BREAKER_COLUMNS} FROM breakers ORDER BY dataset"),
            &[],
        )?;
        rows.into_iter().map(|r| self.breaker(r)).collect()
    }

    /// Inserts or replaces the breaker of `b.dataset`.
    pub fn put(&mut self, b: &Breaker) -> Result<()> {
        let (lr_id, lr_at, lr_status) = match &b.last_run {
            Some(r) => (
                Some(r.run_id.clone()),
                Some(ts(r.at)),
                Some(r.status.as_str()),
            ),
            None => (None, None, None),
        };
        let m = b.manual.as_ref();
        let set: Vec<String> = BREAKER_COLUMNS
            .split(", ")
            .skip(1)
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        self.exec(
            &format!(
                "INSERT INTO breakers ({BREAKER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT (dataset) DO UPDATE SET {}",
                set.join(", ")
            ),
            &[
                t(&b.dataset),
                t(b.state.as_str()),
                t(ts(b.since)),
                ot(b.reason.clone()),
                ot(b.run_id.clone()),
                t(serde_json::to_string(&b.failing_checks).expect("strings serialise")),
                i(i64::from(b.fail_streak)),
                i(i64::from(b.pass_streak)),
                ot(lr_id),
                ot(lr_at),
                ot(lr_status),
                ot(m.map(|o| o.kind.as_str())),
                ot(m.and_then(|o| o.until).map(ts)),
                ot(m.map(|o| o.reason.clone())),
                ot(m.map(|o| o.by.clone())),
                ot(m.map(|o| ts(o.at))),
            ],
        )?;
        Ok(())
    }

    /// Appends a transition to the audit log; returns its position.
    pub fn append(&mut self, tr: &Transition) -> Result<i64> {
        let rows = self.rows(
            "INSERT INTO transitions (dataset, event, from_state, to_state, at, actor, reason, run_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            &[
                t(&tr.dataset),
                t(tr.event.as_str()),
                t(tr.from.as_str()),
                t(tr.to.as_str()),
                t(ts(tr.at)),
                t(&tr.by),
                t(&tr.reason),
                ot(tr.run_id.clone()),
            ],
        )?;
        Ok(rows.first().and_then(|r| r[0].int()).unwrap_or(0))
    }

    /// The audit log of `dataset` (or of every dataset), oldest first, the last `limit`.
    pub fn history(&mut self, dataset: Option<&str>, limit: usize) -> Result<Vec<Logged>> {
        self.log(dataset, None, limit)
    }

    /// Every transition at or after `since`, oldest first.
    pub fn since(&mut self, since: DateTime<Utc>) -> Result<Vec<Logged>> {
        self.log(None, Some(since), usize::MAX)
    }

    fn log(
        &mut self,
        dataset: Option<&str>,
        since: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<Logged>> {
        let rows = self.rows(
            "SELECT id, dataset, event, from_state, to_state, at, actor, reason, run_id FROM transitions
             WHERE (CAST(?1 AS TEXT) IS NULL OR dataset = ?1) AND (CAST(?3 AS TEXT) IS NULL OR at >= ?3)
             ORDER BY id DESC LIMIT ?2",
            &[
                ot(dataset),
                i(i64::try_from(limit).unwrap_or(i64::MAX)),
                ot(since.map(ts)),
            ],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows.into_iter().rev() {
            let dataset = r[1].text().unwrap_or_default();
            let bad = |field: &'static str, value: Option<String>| StoreError::Invalid {
                what: self.what.to_string(),
                dataset: dataset.clone(),
                field,
                value: value.unwrap_or_else(|| "NULL".into()),
            };
            let (event, from, to, at) = (r[2].text(), r[3].text(), r[4].text(), r[5].text());
            out.push(Logged {
                id: r[0].int().unwrap_or(0),
                transition: Transition {
                    event: event
                        .as_deref()
                        .and_then(Event::parse)
                        .ok_or_else(|| bad("event", event.clone()))?,
                    from: from
                        .as_deref()
                        .and_then(Effective::parse)
                        .ok_or_else(|| bad("from_state", from.clone()))?,
                    to: to
                        .as_deref()
                        .and_then(Effective::parse)
                        .ok_or_else(|| bad("to_state", to.clone()))?,
                    at: at
                        .as_deref()
                        .and_then(parse_ts)
                        .ok_or_else(|| bad("at", at.clone()))?,
                    by: r[6].text().unwrap_or_default(),
                    reason: r[7].text().unwrap_or_default(),
                    run_id: r[8].text(),
                    dataset: dataset.clone(),
                },
            });
        }
        Ok(out)
    }

    /// Records a run and its check results.
    pub fn record_run(&mut self, run: &RunRecord, checks: &[CheckRecord]) -> Result<()> {
        self.exec(
            "INSERT INTO runs (run_id, started_at, finished_at, status, summary, config, actor, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            &[
                t(&run.run_id),
                t(ts(run.started_at)),
                t(ts(run.finished_at)),
                t(run.status.as_str()),
                t(run.summary.to_string()),
                t(&run.config),
                t(&run.actor),
                ot(run.report.as_ref().map(|r| r.to_string())),
            ],
        )?;
        self.record_datasets(run)?;
        for c in checks {
            self.exec(
                "INSERT INTO check_results (run_id, dataset, name, kind, severity, status, observed, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (run_id, dataset, name) DO UPDATE SET status = excluded.status, observed = excluded.observed, message = excluded.message",
                &[
                    t(&run.run_id),
                    t(&c.dataset),
                    t(&c.name),
                    t(&c.kind),
                    t(c.severity.as_str()),
                    t(c.status.as_str()),
                    t(c.observed.to_string()),
                    t(&c.message),
                ],
            )?;
        }
        Ok(())
    }

    /// Appends to the publication log; returns the entry's id.
    pub fn publication(&mut self, p: &NewPublication) -> Result<i64> {
        let rows = self.rows(
            "INSERT INTO publications (dataset, event, version, status, run_id, at, actor, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            &[
                t(p.dataset),
                t(p.event.as_str()),
                t(p.version),
                t(p.status.as_str()),
                ot(p.run_id),
                t(ts(p.at)),
                t(p.actor),
                t(p.reason),
            ],
        )?;
        Ok(rows.first().and_then(|r| r[0].int()).unwrap_or(0))
    }

    /// Sets the status of a publication entry.
    pub fn set_publication_status(&mut self, id: i64, status: PublicationStatus) -> Result<()> {
        self.exec(
            "UPDATE publications SET status = ?2 WHERE id = ?1",
            &[i(id), t(status.as_str())],
        )?;
        Ok(())
    }

    /// The publication log of a dataset, oldest first.
    pub fn publications(&mut self, dataset: &str) -> Result<Vec<Publication>> {
        let rows = self.rows(
            "SELECT id, dataset, event, version, status, run_id, at, actor, reason FROM publications WHERE dataset = ?1 ORDER BY id",
            &[t(dataset)],
        )?;
        rows.into_iter()
            .map(|r| {
                let bad = |field: &'static str, value: Option<String>| StoreError::Invalid {
                    what: self.what.to_string(),
                    dataset: dataset.to_string(),
                    field,
                    value: value.unwrap_or_else(|| "NULL".into()),
                };
                let (event, status, at) = (r[2].text(), r[4].text(), r[6].text());
                Ok(Publication {
                    id: r[0].int().unwrap_or(0),
                    dataset: r[1].text().unwrap_or_default(),
                    event: event
                        .as_deref()
                        .and_then(PublicationEvent::parse)
                        .ok_or_else(|| bad("event", event.clone()))?,
                    version: r[3].text().unwrap_or_default(),
                    status: status
                        .as_deref()
                        .and_then(PublicationStatus::parse)
                        .ok_or_else(|| bad("status", status.clone()))?,
                    run_id: r[5].text(),
                    at: at
                        .as_deref()
                        .and_then(parse_ts)
                        .ok_or_else(|| bad("at", at.clone()))?,
                    actor: r[7].text().unwrap_or_default(),
                    reason: r[8].text().unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Takes the lock `name` for `holder` until `expires`, if it is free, expired, or its
    /// holder is gone (a killed process); returns the current holder and since when
    /// otherwise.
    pub fn try_lock(
        &mut self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        expires: DateTime<Utc>,
        holder_is_gone: impl Fn(&str) -> bool,
    ) -> Result<Option<(String, DateTime<Utc>)>> {
        let rows = self.rows(
            "SELECT holder, acquired_at, expires_at FROM locks WHERE name = ?1",
            &[t(name)],
        )?;
        if let Some(r) = rows.first() {
            let h = r[0].text().unwrap_or_default();
            let live = r[2]
                .text()
                .as_deref()
                .and_then(parse_ts)
                .is_some_and(|e| e > now);
            if live && h != holder && !holder_is_gone(&h) {
                let since = r[1].text().as_deref().and_then(parse_ts).unwrap_or(now);
                return Ok(Some((h, since)));
            }
        }
        self.exec(
            "INSERT INTO locks (name, holder, acquired_at, expires_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at",
            &[t(name), t(holder), t(ts(now)), t(ts(expires))],
        )?;
        Ok(None)
    }

    /// Releases the lock `name` if `holder` has it.
    pub fn unlock(&mut self, name: &str, holder: &str) -> Result<()> {
        self.exec(
            "DELETE FROM locks WHERE name = ?1 AND holder = ?2",
            &[t(name), t(holder)],
        )?;
        Ok(())
    }

    /// A breakers row as a [`Breaker`].
    fn breaker(&self, r: Vec<Val>) -> Result<Breaker> {
        let c: Vec<Option<String>> = r.iter().map(Val::text).collect();
        let dataset = c[0].clone().unwrap_or_default();
        let bad = |field: &'static str, value: &Option<String>| StoreError::Invalid {
            what: self.what.to_string(),
            dataset: dataset.clone(),
            field,
            value: value.clone().unwrap_or_else(|| "NULL".into()),
        };
        let time = |field: &'static str, v: &Option<String>| {
            v.as_deref().and_then(parse_ts).ok_or_else(|| bad(field, v))
        };
        let num = |field: &'static str, v: &Option<String>| {
            v.as_deref()
                .and_then(|s| s.parse::<u32>().ok())
                .ok_or_else(|| bad(field, v))
        };
        let last_run = match (&c[8], &c[9], &c[10]) {
            (Some(id), Some(_), Some(s)) => Some(LastRun {
                run_id: id.clone(),
                at: time("last_run_at", &c[9])?,
                status: RunStatus::parse(s).ok_or_else(|| bad("last_run_status", &c[10]))?,
            }),
            _ => None,
        };
        let manual = match &c[11] {
            None => None,
            Some(k) => Some(Overlay {
                kind: Manual::parse(k).ok_or_else(|| bad("manual", &c[11]))?,
                until: match &c[12] {
                    None => None,
                    Some(_) => Some(time("manual_until", &c[12])?),
                },
                reason: c[13].clone().unwrap_or_default(),
                by: c[14].clone().unwrap_or_default(),
                at: time("manual_at", &c[15])?,
            }),
        };
        Ok(Breaker {
            state: c[1]
                .as_deref()
                .and_then(State::parse)
                .ok_or_else(|| bad("state", &c[1]))?,
            since: time("since", &c[2])?,
            reason: c[3].clone(),
            run_id: c[4].clone(),
            failing_checks: c[5]
                .as_deref()
                .and_then(|f| serde_json::from_str(f).ok())
                .ok_or_else(|| bad("failing_checks", &c[5]))?,
            fail_streak: num("fail_streak", &c[6])?,
            pass_streak: num("pass_streak", &c[7])?,
            last_run,
            manual,
            dataset,
        })
    }
}

/// The tables and views of a SQLite file that is not a sluice store (none if it is one, or
/// has none), read through a read-only connection: nothing is written to the file (a
/// read-only connection never rolls back a journal, checkpoints or changes the journal
/// mode; for a WAL-mode file, SQLite creates its `-shm` and `-wal` companions if they are
/// missing, as any reader does). A sluice store has sluice's `schema_migrations` table
/// (with its `applied_at` column: Rails, for one, keeps a `schema_migrations` table too).
fn foreign_tables(path: &Path, what: &str) -> Result<Vec<String>> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sqlite_err(what, e))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(|e| sqlite_err(what, e))?;
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        )
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| sqlite_err(what, e))?;
    if names.is_empty() {
        return Ok(names);
    }
    if names.iter().any(|n| n == "schema_migrations") {
        let ours: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM pragma_table_info('schema_migrations') WHERE name = 'applied_at'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| sqlite_err(what, e))?;
        if ours {
            return Ok(Vec::new());
        }
    }
    Ok(names)
}

/// What of a SQLite store cannot be written, if anything: the file, SQLite's `-wal`,
/// `-shm` or `-journal` file beside it, or the folder (where SQLite must create those).
/// Asked only once SQLite has failed. Files are opened for writing (not written); the
/// folder is tried by creating and removing an empty file in it.
fn unwritable(path: &Path) -> Option<StoreError> {
    let not_writable = |location: &Path, folder: bool, source: std::io::Error| {
        Some(StoreError::NotWritable {
            path: path.to_path_buf(),
            location: location.to_path_buf(),
            folder,
            source,
        })
    };
    let mut files = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        files.push(PathBuf::from(side));
    }
    for file in files.iter().filter(|f| f.is_file()) {
        if let Err(e) = std::fs::OpenOptions::new().write(true).open(file) {
            return not_writable(file, false, e);
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let probe = dir.join(format!(
        ".{}.sluice-write-test-{}",
        name.unwrap_or_default(),
        std::process::id()
    ));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
        Err(e) => not_writable(dir, true, e),
    }
}

/// Switches a SQLite connection to WAL, retrying while other processes hold the file.
///
/// The switch reads the file (a shared lock) and then needs it exclusively; when several
/// processes open a new store at once, SQLite answers "database is locked" at once rather
/// than wait (waiting while holding the shared lock could deadlock), without calling the
/// busy handler. So wait here, with the lock released, up to the busy timeout.
fn wal_mode(conn: &rusqlite::Connection) -> rusqlite::Result<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut pause = std::time::Duration::from_millis(2);
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// Where a SQLite store of a config lives by default: `.sluice/state.db` next to it.
pub fn default_sqlite_path(config_dir: &Path) -> PathBuf {
    config_dir.join(".sluice").join("state.db")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: 24 processes opening a new store at once sometimes failed with
    /// "database is locked": SQLite can answer the WAL switch with BUSY at once, without
    /// its busy handler (when waiting could deadlock), while another connection uses the
    /// file.
    #[test]
    fn the_wal_switch_waits_for_a_reader_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let reader = rusqlite::Connection::open(&path).unwrap();
        reader
            .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        reader.execute_batch("BEGIN; SELECT * FROM t;").unwrap();
        let mut rows = 0;
        reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
            .map(|n| rows = n)
            .unwrap();
        assert_eq!(rows, 1);
        let switcher = rusqlite::Connection::open(&path).unwrap();
        // (SQLite's own waiting is off here, as it is whenever it would deadlock.)
        switcher.busy_timeout(std::time::Duration::ZERO).unwrap();
        // Without waiting, the switch fails while the reader holds its lock...
        let busy = switcher.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0));
        assert!(busy.is_err(), "SQLite refuses at once: {busy:?}");
        // ...and with `wal_mode` it waits until the reader is done.
        let done = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            reader.execute_batch("COMMIT").unwrap();
        });
        assert_eq!(wal_mode(&switcher).unwrap(), "wal");
        done.join().unwrap();
    }
}
