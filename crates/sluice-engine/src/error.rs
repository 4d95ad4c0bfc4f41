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
    /// A bug or an environment problem (e.g. the query engine could not start).
    #[error(
        "internal error: {0}; please report it at https://github.com/sluice-data/sluice/issues"
    )]
    Internal(String),
}

impl From<sluice_spec::UnknownName> for Error {
    fn from(e: sluice_spec::UnknownName) -> Self {
        Error::UnknownName(Box::new(e))
    }
}

/// A DataFusion error as one readable line: the innermost cause of the chain, without the
/// "Error during planning:"-style prefixes, with a hint for the errors people meet most.
pub(crate) fn df_message(e: &datafusion::error::DataFusionError) -> String {
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
    if matches!(
        e.find_root(),
        datafusion::error::DataFusionError::ResourcesExhausted(_)
    ) {
        msg.push_str(" (raise --memory-limit)");
    }
    msg
}

/// Engine result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<super::Error>() <= 32);
    }
}
