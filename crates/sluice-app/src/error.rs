//! What stops a use case, sorted by who is at fault.
//!
//! A use case that ran returns its outcome as data — checks that failed, a dataset that may
//! not publish, a quarantined output are answers, not errors. [`Error`] is for what stopped
//! it: a mistake of the caller, something wrong in the environment, or a bug. Each surface
//! maps [`ErrorKind`] to its own vocabulary in one place: the CLI to exit codes (2 for
//! `Invalid`/`NotFound`, 4 for the rest), the HTTP server to statuses (400, 404, 409, 503,
//! 500).

use chrono::{DateTime, Utc};
use sluice_breaker::{PublishError, StoreError};
use sluice_lineage::LineageError;
use sluice_spec::{SpecError, UnknownName};

/// Who is at fault, and so what a surface should answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller's mistake: an invalid config, a contradictory or incomplete request.
    /// Nothing was done.
    Invalid,
    /// The caller named a dataset, stage or lineage node that does not exist.
    NotFound,
    /// Another process is doing the same thing now (a publish holds the dataset's lock).
    Conflict,
    /// The environment failed: a file could not be read or written, the state store could
    /// not be reached, nothing was staged.
    Unavailable,
    /// A bug in sluice; the message asks to report it.
    Internal,
}

/// What stopped a use case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config could not be read or is invalid (every problem is in the error).
    #[error(transparent)]
    Config(Box<SpecError>),
    /// A dataset or stage the config does not define.
    #[error(transparent)]
    UnknownName(Box<UnknownName>),
    /// A state store setting (from the environment or the caller) that is not a store URL.
    #[error("{origin}: {message}")]
    StateSetting {
        /// Where the setting came from (`SLUICE_STATE`).
        origin: &'static str,
        /// What is wrong with it, and the forms it takes.
        message: String,
    },
    /// The state store could not be opened, read or written.
    #[error(transparent)]
    Store(Box<StoreError>),
    /// The lineage graph could not be built or queried.
    #[error(transparent)]
    Lineage(Box<LineageError>),
    /// No lineage source at all was given.
    #[error(
        "no lineage to read: pass --dbt-manifest PATH, --openlineage PATH or --config FILE (there is no sluice.yaml in the current folder)"
    )]
    NoLineageSources,
    /// `lineage select` without a selector.
    #[error(
        "give a selector, e.g. `sluice lineage select 'orders+'` (`sluice lineage show` shows the whole graph)"
    )]
    NoSelector,
    /// The engine could not start a run.
    #[error(transparent)]
    Engine(Box<sluice_engine::Error>),
    /// A publishing step failed (busy, nothing staged, a filesystem error...).
    #[error(transparent)]
    Publish(Box<PublishError>),
    /// `publish` of a dataset without `staging:`.
    #[error(
        "dataset `{dataset}` has no `staging:`: add the folder its producing job writes to, e.g. `staging: staging/{dataset}/`; `sluice publish` checks it there and promotes it to `path: {path}`"
    )]
    NoStaging {
        /// The dataset.
        dataset: String,
        /// Its `path:` as written.
        path: String,
    },
    /// A frame handed to `publish` while its staging location already holds data.
    #[error(
        "dataset `{dataset}`: `staging: {staging}` already holds data (staged earlier and not yet published); publish or remove it first, then hand over the frame again"
    )]
    StagingOccupied {
        /// The dataset.
        dataset: String,
        /// Its staging location.
        staging: String,
    },
    /// A frame handed to `publish` for a dataset whose staging it cannot be written to.
    #[error(
        "dataset `{dataset}`: a frame cannot be staged {why}; write it there with your own library, then publish without a frame"
    )]
    FrameNotStageable {
        /// The dataset.
        dataset: String,
        /// Where and why not (`at `s3://b/staging/`: it is on an object store`).
        why: String,
    },
    /// Writing a frame to the staging location failed.
    #[error("cannot write the frame to `{staging}`: {message}")]
    Staging {
        /// The staging location.
        staging: String,
        /// What failed.
        message: String,
    },
    /// A manual breaker command without a reason.
    #[error("`sluice breaker {action}` needs a reason, kept in the audit log: --reason \"...\"")]
    ReasonRequired {
        /// `trip`, `reset`, `override`.
        action: &'static str,
    },
    /// An override without an end.
    #[error("an override always expires: add --until (a time, or a duration like 4h)")]
    UntilRequired,
    /// `reset` with an end.
    #[error("`reset` takes no --until")]
    UntilNotAllowed,
    /// An end in the past.
    #[error("--until {} is in the past", crate::views::ts(*until))]
    UntilInPast {
        /// The end given.
        until: DateTime<Utc>,
    },
    /// A `--partition` that is not `KEY=VALUE`.
    #[error(transparent)]
    Partition(Box<sluice_breaker::PartitionError>),
    /// `history --check NAME` naming nothing the dataset records.
    #[error(transparent)]
    UnknownMetric(Box<crate::history::UnknownMetric>),
    /// An OpenLineage setting that cannot be used (a parent run id that is not a UUID, an
    /// incomplete parent, a URL that is not http(s)).
    #[error("{setting} {message}")]
    OpenLineageSetting {
        /// Which setting (`--parent-id (OPENLINEAGE_PARENT_ID)`).
        setting: &'static str,
        /// What is wrong with it, and what it takes.
        message: String,
    },
    /// A time argument that is neither a time nor a duration.
    #[error("{flag} {message}")]
    BadTime {
        /// The argument (`--until`, `--since`).
        flag: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A dataset could not be read (`init --from`).
    #[error(transparent)]
    Source(Box<sluice_engine::SourceError>),
    /// A request parameter with a value it cannot take.
    #[error("{name}: {message}")]
    BadParameter {
        /// The parameter (`status`, `limit`...).
        name: &'static str,
        /// What is wrong, and what it takes.
        message: String,
    },
    /// A run id the store does not know.
    #[error(
        "no run `{run_id}` in {store}: list the recorded runs with `GET /api/runs` (the dashboard's Runs page)"
    )]
    UnknownRun {
        /// The id asked for.
        run_id: String,
        /// The state store, for people.
        store: String,
    },
}

/// `From` for each library error, boxed (the error stays small).
macro_rules! boxed_from {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::$v(Box::new(e))
            }
        }
    )*};
}

boxed_from! {
    SpecError => Config,
    UnknownName => UnknownName,
    StoreError => Store,
    LineageError => Lineage,
    sluice_engine::Error => Engine,
    PublishError => Publish,
    sluice_breaker::PartitionError => Partition,
}

/// Result of the use cases.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Who is at fault.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config(_)
            | Error::StateSetting { .. }
            | Error::NoLineageSources
            | Error::NoSelector
            | Error::NoStaging { .. }
            | Error::FrameNotStageable { .. }
            | Error::ReasonRequired { .. }
            | Error::UntilRequired
            | Error::UntilNotAllowed
            | Error::UntilInPast { .. }
            | Error::BadTime { .. }
            | Error::OpenLineageSetting { .. }
            | Error::Partition(_)
            | Error::BadParameter { .. } => ErrorKind::Invalid,
            Error::UnknownName(_) | Error::UnknownMetric(_) | Error::UnknownRun { .. } => {
                ErrorKind::NotFound
            }
            Error::Store(_) | Error::Staging { .. } => ErrorKind::Unavailable,
            Error::StagingOccupied { .. } => ErrorKind::Conflict,
            Error::Lineage(e) => match &**e {
                _ if e.is_io() => ErrorKind::Unavailable,
                LineageError::UnknownNode { .. } => ErrorKind::NotFound,
                _ => ErrorKind::Invalid,
            },
            Error::Engine(e) => match &**e {
                sluice_engine::Error::UnknownName(_) => ErrorKind::NotFound,
                sluice_engine::Error::DiffOutputNotAFolder(_)
                | sluice_engine::Error::EngineNotBuilt(_) => ErrorKind::Invalid,
                _ => ErrorKind::Unavailable,
            },
            Error::Source(e) => match e.kind {
                sluice_engine::SourceErrorKind::NotFound => ErrorKind::NotFound,
                sluice_engine::SourceErrorKind::Internal => ErrorKind::Internal,
                _ => ErrorKind::Unavailable,
            },
            Error::Publish(e) => match &**e {
                PublishError::Busy { .. } | PublishError::Concurrent { .. } => ErrorKind::Conflict,
                _ if e.is_usage() => ErrorKind::Invalid,
                _ => ErrorKind::Unavailable,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        // Large sources are boxed: results of use cases stay cheap to move.
        assert!(
            std::mem::size_of::<Error>() <= 56,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn kinds_follow_the_fault() {
        assert_eq!(Error::NoSelector.kind(), ErrorKind::Invalid);
        assert_eq!(Error::UntilRequired.kind(), ErrorKind::Invalid);
        let busy = Error::from(PublishError::Busy {
            dataset: "d".into(),
            holder: "h:1".into(),
            since: Utc::now(),
        });
        assert_eq!(busy.kind(), ErrorKind::Conflict);
        let staged = Error::from(PublishError::NothingStaged {
            dataset: "d".into(),
            staging: "s".into(),
        });
        assert_eq!(staged.kind(), ErrorKind::Unavailable);
        let unknown = Error::from(UnknownName {
            what: "dataset",
            name: "x".into(),
            suggestion: None,
            known: vec![],
            file: "sluice.yaml".into(),
        });
        assert_eq!(unknown.kind(), ErrorKind::NotFound);
    }
}
