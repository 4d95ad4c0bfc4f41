//! Engine errors, sorted by who is at fault.
//!
//! Most problems a run meets are not `Error`s: an unreadable source or a missing column
//! becomes a check with status `error` in the report, and the run goes on. `Error` is for
//! what stops a run before it starts.

/// What stops a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller asked for something the config does not have.
    #[error("{0}")]
    Usage(String),
    /// A bug or an environment problem (e.g. the query engine could not start).
    #[error("internal error: {0}; please report it at https://github.com/sluice-data/sluice/issues")]
    Internal(String),
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
