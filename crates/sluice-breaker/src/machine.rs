//! The breaker state machine, without storage: what a run, a manual command or the passing
//! of time does to one dataset's breaker, and the transition to append to the audit log.
//!
//! ```text
//!            trip_after failing runs            close_after passing runs (reset: auto)
//!   closed ─────────────────────────▶ open ──────────────────────────────────────▶ closed
//!     ▲                                 │           `breaker reset X --reason` (any)
//!     └─────────────────────────────────┘
//!   manual overlays, each with a reason, `trip` optionally and `override` always with an expiry:
//!     `breaker trip X`      halts X whatever its runs say, until reset or expiry;
//!     `breaker override X`  lets X publish despite an open breaker, until expiry.
//!   An expired overlay falls back to the automatic state, and that is audited too.
//! ```

use chrono::{DateTime, Utc};
use serde::Serialize;
use sluice_spec::{BreakerPolicy, CheckStatus, Reset, RunStatus, Severity};

/// The automatic state, driven by runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Data flows.
    Closed,
    /// Halted.
    Open,
}

impl State {
    /// Its name in the store and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
        }
    }

    /// Parses [`State::as_str`].
    pub fn parse(s: &str) -> Option<State> {
        match s {
            "closed" => Some(State::Closed),
            "open" => Some(State::Open),
            _ => None,
        }
    }
}

/// A manual overlay on the automatic state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Manual {
    /// `sluice breaker trip`: halted by hand.
    Tripped,
    /// `sluice breaker override`: data let through despite failures.
    Override,
}

impl Manual {
    /// Its name in the store and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Manual::Tripped => "tripped",
            Manual::Override => "override",
        }
    }

    /// Parses [`Manual::as_str`].
    pub fn parse(s: &str) -> Option<Manual> {
        match s {
            "tripped" => Some(Manual::Tripped),
            "override" => Some(Manual::Override),
            _ => None,
        }
    }
}

/// What a reader of a breaker acts on: the automatic state with the overlay applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effective {
    /// Data flows.
    Closed,
    /// Halted by failing runs.
    Open,
    /// Halted by hand.
    Tripped,
    /// Let through by hand, whatever the runs and what is upstream say, until the
    /// override expires.
    Override,
}

impl Effective {
    /// Whether data may be published through this breaker.
    pub fn flows(self) -> bool {
        matches!(self, Effective::Closed | Effective::Override)
    }

    /// Its name in reports and in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Effective::Closed => "closed",
            Effective::Open => "open",
            Effective::Tripped => "tripped",
            Effective::Override => "override",
        }
    }

    /// Parses [`Effective::as_str`].
    pub fn parse(s: &str) -> Option<Effective> {
        [
            Effective::Closed,
            Effective::Open,
            Effective::Tripped,
            Effective::Override,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }
}

/// One dataset's breaker, as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Breaker {
    /// The dataset.
    pub dataset: String,
    /// The automatic state.
    pub state: State,
    /// Since when the automatic state holds.
    pub since: DateTime<Utc>,
    /// Why it is open (the failing checks, or the reset's reason when closed by hand).
    pub reason: Option<String>,
    /// The run that opened it (or last closed it).
    pub run_id: Option<String>,
    /// The failing checks of the run that opened it.
    pub failing_checks: Vec<String>,
    /// Consecutive failing runs so far.
    pub fail_streak: u32,
    /// Consecutive passing runs so far.
    pub pass_streak: u32,
    /// The last run that checked the dataset.
    pub last_run: Option<LastRun>,
    /// A manual overlay: which, until when (`None`: until reset), why, by whom.
    pub manual: Option<Overlay>,
}

/// A manual state set by a person.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overlay {
    /// Which.
    pub kind: Manual,
    /// When it expires (`None`: never; only a trip may have none).
    pub until: Option<DateTime<Utc>>,
    /// Why.
    pub reason: String,
    /// Who.
    pub by: String,
    /// When it was set.
    pub at: DateTime<Utc>,
}

impl Breaker {
    /// A closed breaker for a dataset seen for the first time.
    pub fn new(dataset: &str, now: DateTime<Utc>) -> Breaker {
        Breaker {
            dataset: dataset.to_string(),
            state: State::Closed,
            since: now,
            reason: None,
            run_id: None,
            failing_checks: vec![],
            fail_streak: 0,
            pass_streak: 0,
            last_run: None,
            manual: None,
        }
    }

    /// The state readers act on.
    pub fn effective(&self) -> Effective {
        match (&self.manual, self.state) {
            (Some(o), _) if o.kind == Manual::Tripped => Effective::Tripped,
            (Some(_), _) => Effective::Override,
            (None, State::Open) => Effective::Open,
            (None, State::Closed) => Effective::Closed,
        }
    }
}

/// What a transition of the audit log records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A run failed enough: the breaker opened.
    Trip,
    /// A run passed enough (`reset: auto`): the breaker closed.
    Close,
    /// A person halted the dataset.
    ManualTrip,
    /// A person closed the breaker.
    Reset,
    /// A person let the dataset through until a time.
    Override,
    /// A manual trip or override reached its end.
    Expire,
}

impl Event {
    /// Every event.
    pub const ALL: [Event; 6] = [
        Event::Trip,
        Event::Close,
        Event::ManualTrip,
        Event::Reset,
        Event::Override,
        Event::Expire,
    ];

    /// `trip`, `close`, `manual_trip`, `reset`, `override`, `expire`: the name kept in the
    /// audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Trip => "trip",
            Event::Close => "close",
            Event::ManualTrip => "manual_trip",
            Event::Reset => "reset",
            Event::Override => "override",
            Event::Expire => "expire",
        }
    }

    /// The event [`as_str`](Self::as_str) names.
    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The last run that checked a dataset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LastRun {
    /// Its id.
    pub run_id: String,
    /// When it finished.
    pub at: DateTime<Utc>,
    /// `passed`, `failed` (a check counting against the dataset failed or errored), or
    /// `error` (held: a check counting against it was skipped, none failed).
    pub status: RunStatus,
}

/// One entry of the audit log, before it is stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transition {
    /// The dataset.
    pub dataset: String,
    /// What happened.
    pub event: Event,
    /// Effective state before.
    pub from: Effective,
    /// Effective state after.
    pub to: Effective,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (a person, `airflow:dag.task`, or `sluice` for runs and expiries).
    pub by: String,
    /// Why.
    pub reason: String,
    /// The run that caused it, if a run did.
    pub run_id: Option<String>,
}

/// What one run said about one dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The run.
    pub run_id: String,
    /// When it finished.
    pub at: DateTime<Utc>,
    /// Checks that count against the dataset under its policy (empty: it passed).
    pub failing: Vec<String>,
    /// Skipped checks of a severity the policy trips on (see [`unverified`]): with no
    /// failing check, the run neither trips the breaker nor counts as a passing run.
    pub unverified: Vec<String>,
}

/// Whether a check counts against its dataset: a failure, or a check that could not run
/// (unverified data must not flow), of a severity the policy trips on. A skipped check
/// does not: what stopped it (a failed or errored check of the same dataset) does.
pub fn counts(policy: &BreakerPolicy, severity: Severity, status: CheckStatus) -> bool {
    match status {
        CheckStatus::Pass | CheckStatus::Skipped => false,
        CheckStatus::Warn => policy.trip_on == Severity::Warn,
        CheckStatus::Fail | CheckStatus::Error => {
            severity == Severity::Error || policy.trip_on == Severity::Warn
        }
    }
}

/// Whether a skipped check leaves its dataset unverified: it is of a severity the policy
/// trips on, so had it run and failed, it would count. A run with such a check and no
/// failing one (what stopped it was an errored `severity: warn` check) is held: it neither
/// trips the breaker nor counts towards closing it.
pub fn unverified(policy: &BreakerPolicy, severity: Severity, status: CheckStatus) -> bool {
    status == CheckStatus::Skipped
        && (severity == Severity::Error || policy.trip_on == Severity::Warn)
}

/// Applies a run's outcome; returns the transition, if the effective state changed.
pub fn on_run(b: &mut Breaker, policy: &BreakerPolicy, o: &Outcome) -> Option<Transition> {
    let before = b.effective();
    let failed = !o.failing.is_empty();
    let held = !failed && !o.unverified.is_empty();
    b.last_run = Some(LastRun {
        run_id: o.run_id.clone(),
        at: o.at,
        status: if failed {
            RunStatus::Failed
        } else if held {
            RunStatus::Error
        } else {
            RunStatus::Passed
        },
    });
    let mut event = None;
    if held {
        // Checks it needed did not run: neither streak moves.
    } else if failed {
        b.fail_streak += 1;
        b.pass_streak = 0;
        if b.state == State::Closed && b.fail_streak >= policy.trip_after {
            b.state = State::Open;
            b.since = o.at;
            b.run_id = Some(o.run_id.clone());
            b.failing_checks = o.failing.clone();
            b.reason = Some(failing_reason(&o.failing, b.fail_streak));
            event = Some(Event::Trip);
        }
    } else {
        b.pass_streak += 1;
        b.fail_streak = 0;
        if b.state == State::Open
            && policy.reset == Reset::Auto
            && b.pass_streak >= policy.close_after
        {
            b.state = State::Closed;
            b.since = o.at;
            b.run_id = Some(o.run_id.clone());
            b.failing_checks.clear();
            b.reason = None;
            event = Some(Event::Close);
        }
    }
    let after = b.effective();
    let event = event?;
    Some(Transition {
        dataset: b.dataset.clone(),
        event,
        from: before,
        to: after,
        at: o.at,
        by: "sluice".into(),
        reason: match event {
            Event::Trip => b.reason.clone().unwrap_or_default(),
            _ => format!(
                "{} passing run{} in a row",
                b.pass_streak,
                if b.pass_streak == 1 { "" } else { "s" }
            ),
        },
        run_id: Some(o.run_id.clone()),
    })
}

fn failing_reason(failing: &[String], streak: u32) -> String {
    let shown: Vec<&str> = failing.iter().take(5).map(String::as_str).collect();
    let more = failing.len().saturating_sub(shown.len());
    let mut r = format!(
        "{} failing check{}: {}",
        failing.len(),
        if failing.len() == 1 { "" } else { "s" },
        shown.join(", ")
    );
    if more > 0 {
        r.push_str(&format!(" and {more} more"));
    }
    if streak > 1 {
        r.push_str(&format!(" ({streak} failing runs in a row)"));
    }
    r
}

/// Drops an overlay whose time has passed; returns the audited fall-back.
pub fn expire(b: &mut Breaker, now: DateTime<Utc>) -> Option<Transition> {
    let o = b.manual.as_ref()?;
    let until = o.until?;
    if until > now {
        return None;
    }
    let before = b.effective();
    let reason = format!(
        "{} by {} expired at {} (it said: {})",
        if o.kind == Manual::Tripped {
            "manual trip"
        } else {
            "override"
        },
        o.by,
        until.format("%Y-%m-%dT%H:%M:%SZ"),
        o.reason
    );
    b.manual = None;
    Some(Transition {
        dataset: b.dataset.clone(),
        event: Event::Expire,
        from: before,
        to: b.effective(),
        at: until,
        by: "sluice".into(),
        reason,
        run_id: None,
    })
}

/// A command a person gives.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Halt by hand, optionally until a time.
    Trip {
        /// Expiry.
        until: Option<DateTime<Utc>>,
    },
    /// Close: clear the failures and any overlay.
    Reset,
    /// Let data through until a time.
    Override {
        /// Expiry (required).
        until: DateTime<Utc>,
    },
}

/// Applies a command; always returns the audited transition (even when the state does not
/// change: every command a person gives is in the log).
pub fn command(
    b: &mut Breaker,
    cmd: &Command,
    reason: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Transition {
    let before = b.effective();
    let event = match cmd {
        Command::Trip { until } => {
            b.manual = Some(Overlay {
                kind: Manual::Tripped,
                until: *until,
                reason: reason.to_string(),
                by: by.to_string(),
                at: now,
            });
            Event::ManualTrip
        }
        Command::Override { until } => {
            b.manual = Some(Overlay {
                kind: Manual::Override,
                until: Some(*until),
                reason: reason.to_string(),
                by: by.to_string(),
                at: now,
            });
            Event::Override
        }
        Command::Reset => {
            b.manual = None;
            if b.state == State::Open {
                b.state = State::Closed;
                b.since = now;
            }
            b.fail_streak = 0;
            b.failing_checks.clear();
            b.reason = Some(reason.to_string());
            Event::Reset
        }
    };
    Transition {
        dataset: b.dataset.clone(),
        event,
        from: before,
        to: b.effective(),
        at: now,
        by: by.to_string(),
        reason: reason.to_string(),
        run_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn run(b: &mut Breaker, p: &BreakerPolicy, n: i64, failing: &[&str]) -> Option<Transition> {
        on_run(
            b,
            p,
            &Outcome {
                run_id: format!("r{n}"),
                at: t(n),
                failing: failing.iter().map(|s| s.to_string()).collect(),
                unverified: vec![],
            },
        )
    }

    #[test]
    fn a_run_with_unverified_skipped_checks_neither_trips_nor_closes() {
        let p = BreakerPolicy {
            trip_after: 2,
            ..BreakerPolicy::default()
        };
        let held = |b: &mut Breaker, n: i64| {
            on_run(
                b,
                &p,
                &Outcome {
                    run_id: format!("r{n}"),
                    at: t(n),
                    failing: vec![],
                    unverified: vec!["range(p50)".into()],
                },
            )
        };
        let mut b = Breaker::new("forecast", t(0));
        assert!(run(&mut b, &p, 1, &["schema"]).is_none());
        // A held run does not break the failing streak...
        assert!(held(&mut b, 2).is_none());
        assert_eq!((b.fail_streak, b.pass_streak), (1, 0));
        assert_eq!(b.last_run.as_ref().unwrap().status, RunStatus::Error);
        let tr = run(&mut b, &p, 3, &["schema"]).unwrap();
        assert_eq!(tr.event, Event::Trip);
        // ...nor count as a passing run towards closing it (`reset: auto`).
        assert!(held(&mut b, 4).is_none());
        assert_eq!(b.effective(), Effective::Open);
        assert_eq!(b.pass_streak, 0);
        assert_eq!(run(&mut b, &p, 5, &[]).unwrap().event, Event::Close);
    }

    #[test]
    fn skipped_checks_do_not_count_but_leave_their_dataset_unverified() {
        let def = BreakerPolicy::default();
        let warn = BreakerPolicy {
            trip_on: Severity::Warn,
            ..BreakerPolicy::default()
        };
        assert!(!counts(&def, Severity::Error, CheckStatus::Skipped));
        assert!(!counts(&warn, Severity::Warn, CheckStatus::Skipped));
        assert!(unverified(&def, Severity::Error, CheckStatus::Skipped));
        assert!(!unverified(&def, Severity::Warn, CheckStatus::Skipped));
        assert!(unverified(&warn, Severity::Warn, CheckStatus::Skipped));
        assert!(!unverified(&def, Severity::Error, CheckStatus::Fail));
    }

    #[test]
    fn trips_on_the_first_failure_and_closes_on_the_next_pass_by_default() {
        let p = BreakerPolicy::default();
        let mut b = Breaker::new("orders", t(0));
        assert!(run(&mut b, &p, 1, &[]).is_none());
        let tr = run(&mut b, &p, 2, &["not_null(id)"]).unwrap();
        assert_eq!(
            (tr.event.as_str(), tr.from, tr.to),
            ("trip", Effective::Closed, Effective::Open)
        );
        assert_eq!(tr.reason, "1 failing check: not_null(id)");
        assert_eq!(tr.run_id.as_deref(), Some("r2"));
        assert_eq!((b.since, b.run_id.as_deref()), (t(2), Some("r2")));
        // Still failing: no new transition, the opening run is kept.
        assert!(run(&mut b, &p, 3, &["not_null(id)"]).is_none());
        assert_eq!(b.run_id.as_deref(), Some("r2"));
        let tr = run(&mut b, &p, 4, &[]).unwrap();
        assert_eq!((tr.event.as_str(), tr.to), ("close", Effective::Closed));
        assert_eq!(b.last_run.as_ref().unwrap().status, RunStatus::Passed);
    }

    #[test]
    fn trip_after_and_close_after_count_consecutive_runs() {
        let p = BreakerPolicy {
            trip_after: 3,
            close_after: 2,
            ..BreakerPolicy::default()
        };
        let mut b = Breaker::new("orders", t(0));
        assert!(run(&mut b, &p, 1, &["a"]).is_none());
        assert!(run(&mut b, &p, 2, &["a"]).is_none());
        assert!(
            run(&mut b, &p, 3, &[]).is_none(),
            "a pass breaks the streak"
        );
        assert!(run(&mut b, &p, 4, &["a"]).is_none());
        assert!(run(&mut b, &p, 5, &["a"]).is_none());
        let tr = run(&mut b, &p, 6, &["a", "b"]).unwrap();
        assert_eq!(
            tr.reason,
            "2 failing checks: a, b (3 failing runs in a row)"
        );
        assert!(run(&mut b, &p, 7, &[]).is_none());
        assert!(
            run(&mut b, &p, 8, &["a"]).is_none(),
            "a failure breaks the passing streak"
        );
        assert!(run(&mut b, &p, 9, &[]).is_none());
        assert_eq!(run(&mut b, &p, 10, &[]).unwrap().event, Event::Close);
    }

    #[test]
    fn manual_reset_stays_open_until_a_person_resets() {
        let p = BreakerPolicy {
            reset: Reset::Manual,
            ..BreakerPolicy::default()
        };
        let mut b = Breaker::new("forecast", t(0));
        run(&mut b, &p, 1, &["range(revenue)"]).unwrap();
        for n in 2..6 {
            assert!(run(&mut b, &p, n, &[]).is_none());
        }
        assert_eq!(b.effective(), Effective::Open);
        let tr = command(&mut b, &Command::Reset, "bad feed replaced", "ana", t(10));
        assert_eq!(
            (tr.event.as_str(), tr.from, tr.to),
            ("reset", Effective::Open, Effective::Closed)
        );
        assert_eq!(
            (tr.by.as_str(), tr.reason.as_str()),
            ("ana", "bad feed replaced")
        );
        assert_eq!(b.since, t(10));
    }

    #[test]
    fn overlays_and_their_expiry() {
        let p = BreakerPolicy::default();
        let mut b = Breaker::new("orders", t(0));
        run(&mut b, &p, 1, &["x"]);
        let tr = command(
            &mut b,
            &Command::Override { until: t(60) },
            "known issue, ship it",
            "bo",
            t(2),
        );
        assert_eq!((tr.from, tr.to), (Effective::Open, Effective::Override));
        assert!(b.effective().flows());
        assert!(expire(&mut b, t(59)).is_none());
        let tr = expire(&mut b, t(61)).unwrap();
        assert_eq!(
            (tr.event.as_str(), tr.from, tr.to, tr.at),
            ("expire", Effective::Override, Effective::Open, t(60))
        );
        assert!(
            tr.reason.contains("override by bo expired"),
            "{}",
            tr.reason
        );
        // A manual trip holds even over passing runs, and without expiry until reset.
        let mut c = Breaker::new("events", t(0));
        let tr = command(
            &mut c,
            &Command::Trip { until: None },
            "vendor outage",
            "cy",
            t(1),
        );
        assert_eq!((tr.from, tr.to), (Effective::Closed, Effective::Tripped));
        assert!(run(&mut c, &p, 2, &[]).is_none());
        assert_eq!(c.effective(), Effective::Tripped);
        assert!(expire(&mut c, t(10_000)).is_none());
        command(&mut c, &Command::Reset, "vendor back", "cy", t(3));
        assert_eq!(c.effective(), Effective::Closed);
    }

    #[test]
    fn what_counts_against_a_dataset() {
        let def = BreakerPolicy::default();
        let warn = BreakerPolicy {
            trip_on: Severity::Warn,
            ..def
        };
        assert!(counts(&def, Severity::Error, CheckStatus::Fail));
        assert!(counts(&def, Severity::Error, CheckStatus::Error));
        assert!(!counts(&def, Severity::Warn, CheckStatus::Warn));
        assert!(!counts(&def, Severity::Warn, CheckStatus::Error));
        assert!(counts(&warn, Severity::Warn, CheckStatus::Warn));
        assert!(counts(&warn, Severity::Warn, CheckStatus::Error));
        assert!(!counts(&warn, Severity::Error, CheckStatus::Pass));
    }
}
