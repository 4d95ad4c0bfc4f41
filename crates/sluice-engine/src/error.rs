//! Engine errors, sorted by who is at fault.
//!
//! Most problems a run meets are not [`Error`]s: an unreadable source ([`SourceError`]) or
//! a check that cannot be evaluated ([`CheckError`]) becomes a check with status `error` in
//! the report, and the run goes on. `Error` is for what stops a run before it starts.
//!
//! [`SourceError`] and [`CheckError`] are a struct with a `kind` (what kind of problem,
//! for code) and a `message` (what is wrong, where, and how to fix it, for people: the
//! report's message), in the style of ripgrep's `globset::Error`.

use std::path::PathBuf;

/// What stops a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller asked for a dataset or stage the config does not have.
    #[error(transparent)]
    UnknownName(Box<sluice_spec::UnknownName>),
    /// `--diff-output` names a file, or a path inside one: the caller's mistake.
    #[error(
        "--diff-output {} is {}; give a folder for the diff files (it is created if missing)",
        .0.0.display(),
        if .0.1 == .0.0 { "a file, not a folder".to_string() } else { format!("inside {}, which is a file, not a folder", .0.1.display()) }
    )]
    /// The path given, and the file it is or is inside.
    DiffOutputNotAFolder(Box<(PathBuf, PathBuf)>),
    /// The query engine could not start (the environment: memory, threads, temp folder).
    #[error("cannot start the query engine: {0}")]
    Session(Box<datafusion::error::DataFusionError>),
    /// The engine asked for is not in this build (`ballista://` without the `ballista`
    /// feature): the caller's choice, fixed by another build or another engine.
    #[error(
        "--engine {0}: this sluice was built without Ballista support; build it with `cargo build --release --features ballista`, or run in-process (`--engine datafusion`, the default)"
    )]
    EngineNotBuilt(String),
    /// The engine's scheduler could not be reached: nothing ran.
    #[error(
        "cannot reach the Ballista scheduler at {}: {}; start one (`sluice ballista scheduler --bind HOST:PORT`), or check --engine / SLUICE_ENGINE / `engine:`",
        .0.0, .0.1
    )]
    /// The address (`ballista://host:port`) and why, in words.
    EngineUnreachable(Box<(String, String)>),
}

impl From<sluice_spec::UnknownName> for Error {
    fn from(e: sluice_spec::UnknownName) -> Self {
        Error::UnknownName(Box::new(e))
    }
}

/// What kind of problem stopped a dataset from being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SourceErrorKind {
    /// The path, folder or file does not exist, or a glob matches nothing.
    NotFound,
    /// Not a regular file: a named pipe, a socket, a device (reading it could wait forever).
    NotRegular,
    /// Nothing to read: an empty folder, empty files, files without columns.
    Empty,
    /// The format cannot be told from the name, or the data is in another format.
    Format,
    /// The files could not be listed or opened (permissions, I/O).
    Io,
    /// The object store refused the credentials or the access (401, 403).
    Denied,
    /// The object store could not be reached, or did not answer in time.
    Unreachable,
    /// The data is malformed: a record that does not parse, a corrupt or truncated file,
    /// files that disagree on their schema, a partition folder that is not its type.
    Invalid,
    /// A bug: the reader panicked. The message asks to report it.
    Internal,
}

/// Why a dataset could not be read; every check on it is `error` with this message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    /// What kind of problem.
    pub kind: SourceErrorKind,
    /// The path it concerns: the dataset's, or the one file at fault.
    pub path: PathBuf,
    /// What is wrong, where, and how to fix it.
    pub message: String,
}

impl SourceError {
    /// A problem of `kind` with `path`.
    pub(crate) fn new(
        kind: SourceErrorKind,
        path: impl Into<PathBuf>,
        message: impl Into<String>,
    ) -> SourceError {
        SourceError {
            kind,
            path: path.into(),
            message: message.into(),
        }
    }
}

/// What kind of problem kept one check from being evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckErrorKind {
    /// A column the check names is not in the data.
    MissingColumn,
    /// A column of a type the check cannot use.
    WrongType,
    /// A value of the check (an accepted value, a range bound) that does not fit its column.
    WrongValue,
    /// The check's SQL (`where`, a condition, a metric) does not plan: an unknown column or
    /// function, not an aggregate, a type error.
    Sql,
    /// A comparison with another dataset that cannot be made: it could not be read, or its
    /// key or columns do not fit (references, parity, reconciliation).
    Comparison,
    /// Evaluating it failed on the data (a value that cannot be cast, a bad record).
    Evaluation,
    /// Its query ran out of memory (`--memory-limit`).
    OutOfMemory,
    /// Its dataset could not be read.
    Source(SourceErrorKind),
    /// A bug: a panic while checking. The message asks to report it.
    Internal,
}

/// Why one check could not be evaluated: its status is `error` with this message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CheckError {
    /// What kind of problem.
    pub kind: CheckErrorKind,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl CheckError {
    /// A problem of `kind`, about no column in particular.
    pub(crate) fn new(kind: CheckErrorKind, message: impl Into<String>) -> CheckError {
        CheckError {
            kind,
            column: None,
            message: message.into(),
        }
    }

    /// A problem of `kind` with `column`.
    pub(crate) fn column(
        kind: CheckErrorKind,
        column: &str,
        message: impl Into<String>,
    ) -> CheckError {
        CheckError {
            kind,
            column: Some(column.to_string()),
            message: message.into(),
        }
    }

    /// A failed query's message as an error of the right kind: out of memory, or `kind`.
    pub(crate) fn query(kind: CheckErrorKind, message: String) -> CheckError {
        let kind = if message.contains(OUT_OF_MEMORY) {
            CheckErrorKind::OutOfMemory
        } else {
            kind
        };
        CheckError::new(kind, message)
    }
}

impl From<SourceError> for CheckError {
    fn from(e: SourceError) -> CheckError {
        CheckError {
            kind: CheckErrorKind::Source(e.kind),
            column: None,
            message: e.message,
        }
    }
}

/// How [`df_message`] starts the message of a memory-limit error, so that code which knows
/// which query ran can name it ([`in_query`]).
pub(crate) const OUT_OF_MEMORY: &str = "ran out of memory";

/// A DataFusion error as one readable line: the innermost cause of the chain, without the
/// "Error during planning:"-style prefixes, with a hint for the errors people meet most.
pub(crate) fn df_message(e: &datafusion::error::DataFusionError) -> String {
    if let datafusion::error::DataFusionError::ResourcesExhausted(text) = e.find_root() {
        return memory_message(text);
    }
    let text = e.to_string();
    let inner = text.rsplit("\ncaused by\n").next().unwrap_or(&text);
    // A memory error lists its top consumers on the following lines: keep them.
    let joined;
    let mut t = if inner.contains("top memory consumers") {
        joined = inner.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        joined.as_str()
    } else {
        inner.lines().next().unwrap_or("").trim()
    };
    loop {
        let before = t;
        for prefix in [
            "Error during planning: ",
            "Schema error: ",
            "External error: ",
            "Arrow error: ",
            "Execution error: ",
            "Parquet error: ",
            "Internal error: ",
            "Optimizer rule ",
        ] {
            t = t.strip_prefix(prefix).unwrap_or(t);
        }
        if t == before {
            break;
        }
    }
    let mut msg = match remote_failure(&text) {
        Some(Remote::Cluster(reason)) => {
            return format!(
                "{CLUSTER_FAILURE}: {reason}; nothing was tripped or published: rerun once the cluster is healthy (or in-process, --engine datafusion)"
            );
        }
        Some(Remote::Data(message)) => message,
        None => t.to_string(),
    };
    if msg.contains("unequal lengths between records") {
        msg.push_str(" (a row has more or fewer fields than the header: fix the file, or set `csv: { delimiter: ... }` if it uses another separator)");
    }
    msg
}

/// How the message of a check whose query the cluster failed (a Ballista job that
/// failed: an executor lost, a task out of retries, the scheduler gone) starts. Such a
/// check is `error`, and its run moves no breaker ([`is_cluster_failure`]).
pub const CLUSTER_FAILURE: &str = "the Ballista cluster failed the query";

/// Whether `message` (a check's) says the cluster failed its query, not the data.
pub fn is_cluster_failure(message: &str) -> bool {
    message.contains(CLUSTER_FAILURE)
}

/// The reason, when `text` (a DataFusion error's) is a cluster's failure to run a query.
#[cfg_attr(not(feature = "ballista"), allow(dead_code))]
pub(crate) fn cluster_failure_reason(text: &str) -> Option<String> {
    match remote_failure(text) {
        Some(Remote::Cluster(reason)) => Some(reason),
        _ => None,
    }
}

/// A query that failed on a cluster: because of the cluster, or of the data (a task's
/// own error, which reads as it would in-process).
enum Remote {
    Cluster(String),
    Data(String),
}

/// What a Ballista job failure (`Job <id> failed: …`, or the scheduler refusing or
/// dropping the query) was, if `text` is one. A task's runtime error comes back as the
/// `Debug` text of DataFusion's error (`…DataFusionError(Shared(External(ArrowError(
/// CastError("…")))))`): its innermost message is the data's fault, rebuilt as in-process
/// DataFusion words it; anything else (an executor lost, a fetch that failed, retries
/// used up) is the cluster's.
fn remote_failure(text: &str) -> Option<Remote> {
    let first = |s: &str| s.lines().next().unwrap_or("").trim().to_string();
    if let Some(at) = text.find("Job ")
        && let Some((job, reason)) = text[at..].split_once(" failed: ")
        && job.split_whitespace().count() == 2
    {
        const TASK: &str = "runtime execution error: ";
        if let Some(i) = reason.find(TASK)
            && let Some(message) = innermost_error(&reason[i + TASK.len()..])
        {
            return Some(Remote::Data(message));
        }
        return Some(Remote::Cluster(format!(
            "{} failed: {}",
            job.trim(),
            first(reason)
        )));
    }
    for marker in [
        "Fail to execute query due to",
        "error trying to connect",
        "transport error",
    ] {
        if let Some(at) = text.find(marker) {
            return Some(Remote::Cluster(first(&text[at..])));
        }
    }
    None
}

/// The innermost `Variant("message")` of an error's `Debug` text, as its `Display` reads
/// (arrow's kinds keep their prefix, `Cast error: …`; DataFusion's lose it, as
/// [`df_message`] strips it).
fn innermost_error(debug: &str) -> Option<String> {
    let open = debug.rfind("(\"")?;
    let name_from = debug[..open]
        .rfind(|c: char| !c.is_ascii_alphanumeric())
        .map_or(0, |i| i + 1);
    let variant = &debug[name_from..open];
    let mut message = String::new();
    let mut chars = debug[open + 2..].chars();
    loop {
        match chars.next()? {
            '"' => break,
            '\\' => match chars.next()? {
                'n' => message.push('\n'),
                't' => message.push('\t'),
                other => message.push(other),
            },
            c => message.push(c),
        }
    }
    let prefix = match variant {
        "CastError" => "Cast error: ",
        "CsvError" => "Csv error: ",
        "JsonError" => "Json error: ",
        "ParseError" => "Parser error: ",
        "ComputeError" => "Compute error: ",
        "InvalidArgumentError" => "Invalid argument error: ",
        "ArithmeticOverflow" => "Arithmetic overflow: ",
        "IoError" => "Io error: ",
        "ParquetError" => "Parquet error: ",
        _ => "",
    };
    Some(format!("{prefix}{message}"))
}

/// DataFusion's memory-pool error (some 650 characters: the top consumers, the pool) as
/// one line: what the query needed, what was free of the limit, and the flag to raise.
fn memory_message(text: &str) -> String {
    let after = |from: &str, to: &str| -> Option<String> {
        let rest = &text[text.find(from)? + from.len()..];
        Some(rest[..rest.find(to)?].trim().to_string())
    };
    let needed = after("allocate additional ", " for ");
    let free = text
        .find(" remain available")
        .and_then(|i| text[..i].rsplit(" - ").next())
        .map(str::trim);
    let limit = after("pool_size: ", ")");
    let how = match (needed, free, limit) {
        (Some(n), Some(f), Some(l)) => {
            format!(": it needed {n} more, with {f} of the {l} limit free")
        }
        (Some(n), _, _) => format!(": it needed {n} more"),
        _ => String::new(),
    };
    format!("{OUT_OF_MEMORY}{how}; raise --memory-limit")
}

/// Names the query a memory-limit error happened in ("the keyed diff of `a` against `b` ran
/// out of memory: ..."); other messages are returned as they are.
pub(crate) fn in_query(query: &str, msg: String) -> String {
    if msg.starts_with(OUT_OF_MEMORY) {
        format!("{query} {msg}")
    } else {
        msg
    }
}

/// Engine result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod cluster_tests {
    use super::*;

    #[test]
    fn a_ballista_job_failure_is_a_cluster_failure_and_a_data_error_is_not() {
        let e = datafusion::error::DataFusionError::Execution(
            "Job 7Hx2 failed: Task 3 failed after 4 attempts: executor lost\nmore".into(),
        );
        let m = df_message(&e);
        assert!(is_cluster_failure(&m), "{m}");
        assert!(
            m.contains("Job 7Hx2 failed: Task 3 failed after 4 attempts: executor lost"),
            "{m}"
        );
        assert!(!m.contains("more"), "{m}");
        let e =
            datafusion::error::DataFusionError::Execution("Cast error: 'x' is not a number".into());
        assert!(!is_cluster_failure(&df_message(&e)));
        // A task's own error is the data's, worded as in-process.
        let e = datafusion::error::DataFusionError::Execution(
            r#"Job 038H failed: Job failed due to stage 0 failed: Task failed due to runtime execution error: DataFusionError(Shared(External(ArrowError(CastError("Cannot cast string \'shipped\' to value of \"Float64\" type")))))"#.into(),
        );
        assert_eq!(
            df_message(&e),
            r#"Cast error: Cannot cast string 'shipped' to value of "Float64" type"#
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_errors_are_one_line_with_the_numbers() {
        let text = "Additional allocation failed for FinalHashAggregateStream[0] with top memory consumers (across reservations) as:\n  RepartitionExec[1]#11(can spill: true) consumed 79.2 KB, peak 79.2 KB,\n  FinalHashAggregateStream[1]#12(can spill: true) consumed 8.2 KB, peak 8.2 KB.\nError: Failed to allocate additional 494.3 KB for FinalHashAggregateStream[0] with 0.0 B already allocated for this reservation - 341.3 KB remain available for the total memory pool: fair(pool_size: 1024.0 KB)";
        let e = datafusion::error::DataFusionError::ResourcesExhausted(text.into());
        let msg = super::df_message(&e);
        assert_eq!(
            msg,
            "ran out of memory: it needed 494.3 KB more, with 341.3 KB of the 1024.0 KB limit free; raise --memory-limit"
        );
        assert_eq!(
            super::in_query("the fused scan of `orders`", msg.clone()),
            format!("the fused scan of `orders` {msg}")
        );
        assert_eq!(super::in_query("the scan", "other".into()), "other");
        let odd = datafusion::error::DataFusionError::ResourcesExhausted("who knows".into());
        assert_eq!(
            super::df_message(&odd),
            "ran out of memory; raise --memory-limit"
        );
    }

    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<super::Error>() <= 32);
    }
}
