//! Engine errors, sorted by who is at fault.
//!
//! Most problems a run meets are not `Error`s: an unreadable source or a missing column
//! becomes a check with status `error` in the report, and the run goes on. `Error` is for
//! what stops a run before it starts.

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
    DiffOutputNotAFolder(Box<(std::path::PathBuf, std::path::PathBuf)>),
    /// The query engine could not start (the environment: memory, threads, temp folder).
    #[error("cannot start the query engine: {0}")]
    Session(Box<datafusion::error::DataFusionError>),
}

impl From<sluice_spec::UnknownName> for Error {
    fn from(e: sluice_spec::UnknownName) -> Self {
        Error::UnknownName(Box::new(e))
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
    let mut msg = t.to_string();
    if msg.contains("unequal lengths between records") {
        msg.push_str(" (a row has more or fewer fields than the header: fix the file, or set `csv: { delimiter: ... }` if it uses another separator)");
    }
    msg
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
