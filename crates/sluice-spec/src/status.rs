//! The vocabulary of outcomes: what a check and a run end as. Shared by the engine, which
//! decides them, the state store, which keeps them, and every surface that shows them.

use serde::{Deserialize, Serialize};

/// Outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Within every threshold.
    Pass,
    /// Outside the warn zone (or a `severity: warn` check failed).
    Warn,
    /// Outside the fail zone.
    Fail,
    /// Could not be evaluated: unreadable source, missing column, invalid SQL...
    Error,
    /// Not run: a check it runs `after:` failed, errored or was skipped, or a failed
    /// `schema` check reports a column it needs missing. Neither passes nor fails the run.
    Skipped,
}

impl CheckStatus {
    /// Every status, in order of severity.
    pub const ALL: [CheckStatus; 5] = [
        CheckStatus::Pass,
        CheckStatus::Warn,
        CheckStatus::Fail,
        CheckStatus::Error,
        CheckStatus::Skipped,
    ];

    /// `pass`, `warn`, `fail`, `error`, `skipped`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
            CheckStatus::Error => "error",
            CheckStatus::Skipped => "skipped",
        }
    }

    /// Whether a check that runs `after:` this one is skipped: it failed, errored or was
    /// skipped itself. A warning does not skip its dependents.
    pub fn stops_dependents(self) -> bool {
        matches!(
            self,
            CheckStatus::Fail | CheckStatus::Error | CheckStatus::Skipped
        )
    }

    /// The status [`as_str`](Self::as_str) names.
    pub fn parse(s: &str) -> Option<CheckStatus> {
        CheckStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Outcome of a whole run (or of one dataset in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Every check passed.
    Passed,
    /// Some checks warned; none failed or errored.
    Warned,
    /// At least one check failed; none errored.
    Failed,
    /// At least one check could not be evaluated.
    Error,
}

impl RunStatus {
    /// Every status, in order of severity.
    pub const ALL: [RunStatus; 4] = [
        RunStatus::Passed,
        RunStatus::Warned,
        RunStatus::Failed,
        RunStatus::Error,
    ];

    /// `passed`, `warned`, `failed`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Passed => "passed",
            RunStatus::Warned => "warned",
            RunStatus::Failed => "failed",
            RunStatus::Error => "error",
        }
    }

    /// The status [`as_str`](Self::as_str) names.
    pub fn parse(s: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in CheckStatus::ALL {
            assert_eq!(CheckStatus::parse(s.as_str()), Some(s));
        }
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(CheckStatus::parse("passed"), None);
        assert_eq!(CheckStatus::parse("skipped"), Some(CheckStatus::Skipped));
    }

    #[test]
    fn only_failures_errors_and_skips_stop_dependents() {
        let stopping: Vec<CheckStatus> = CheckStatus::ALL
            .into_iter()
            .filter(|s| s.stops_dependents())
            .collect();
        assert_eq!(
            stopping,
            [CheckStatus::Fail, CheckStatus::Error, CheckStatus::Skipped]
        );
    }
}
