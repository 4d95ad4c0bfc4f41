//! The breaker use cases: guard (may X publish?), status, history, the manual commands
//! (`trip`, `reset`, `override`) and the incident report.

use chrono::{DateTime, Utc};
use sluice_breaker::guard::blockers_of_all;
use sluice_breaker::{Breaker, Command, Verdict};

use crate::error::{Error, Result};
use crate::views::{BreakerView, GuardView, LogEntry, ManualView, StatusRow, StatusView};
use crate::workspace::Workspace;

/// The view of a stored breaker, with its dataset's owner.
fn view(ws: &Workspace, b: Breaker) -> BreakerView {
    let owner = ws
        .config()
        .dataset(&b.dataset)
        .ok()
        .and_then(|d| d.owner.clone());
    BreakerView {
        breaker: b,
        owner,
        seen: true,
    }
}

/// Every breaker, after letting expired overlays fall back; the expiries are logged in
/// the audit log and sent as alerts.
fn breakers(ws: &Workspace) -> Result<Vec<Breaker>> {
    let now = ws.now();
    let (all, expired) = ws.with_store(|s| Ok(sluice_breaker::breakers_expiring(s, now)?))?;
    crate::notify::after_transitions(ws, &expired, &all);
    Ok(all)
}

/// May `dataset` publish? Its own breaker and every breaker upstream of it must let data
/// flow, unless an override on it lets it through.
pub fn guard(ws: &Workspace, dataset: &str) -> Result<GuardView> {
    ws.dataset(dataset)?;
    let all = breakers(ws)?;
    let v = Verdict::decide(dataset, &all, || ws.lineage())?;
    Ok(GuardView {
        dataset: v.dataset,
        may_publish: v.may_publish,
        overridden: v.overridden.map(|b| view(ws, b)),
        blocked_by: v.blocked_by.into_iter().map(|b| view(ws, b)).collect(),
    })
}

/// Every breaker of the config (or `dataset`'s), in config order, each with the halted
/// breakers upstream of it. Overrides and trips that expired fall back first (logged).
pub fn status(ws: &Workspace, dataset: Option<&str>) -> Result<StatusView> {
    if let Some(d) = dataset {
        ws.dataset(d)?;
    }
    let now = ws.now();
    let all = breakers(ws)?;
    let lineage = ws.lineage()?;
    let names: Vec<&str> = match dataset {
        Some(d) => vec![d],
        None => ws
            .config()
            .datasets
            .iter()
            .map(|d| d.name.as_str())
            .collect(),
    };
    let blockers = ws.blocked_by(&all, || {
        let every: Vec<&str> = ws
            .config()
            .datasets
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        // One downstream walk per halted breaker, not one upstream walk per dataset.
        blockers_of_all(&lineage, &every, &all)
            .into_iter()
            .map(|(d, v)| {
                let v = v
                    .into_iter()
                    .map(|b| (b.dataset.clone(), b.effective()))
                    .collect();
                (d, v)
            })
            .collect()
    });
    let breakers = names
        .into_iter()
        .map(|name| {
            let stored = all.iter().find(|b| b.dataset == name).cloned();
            let seen = stored.is_some();
            let b = stored.unwrap_or_else(|| Breaker::new(name, now));
            let blocked_by = blockers.get(name).cloned().unwrap_or_default();
            let mut breaker = view(ws, b);
            breaker.seen = seen;
            StatusRow {
                breaker,
                blocked_by,
            }
        })
        .collect();
    Ok(StatusView {
        store: ws.with_store(|s| Ok(s.what().to_string()))?,
        breakers,
    })
}

/// `dataset`'s audit log, oldest first: the last `limit` transitions.
pub fn history(ws: &Workspace, dataset: &str, limit: usize) -> Result<Vec<LogEntry>> {
    ws.dataset(dataset)?;
    let log = ws.with_store(|s| Ok(sluice_breaker::history(s, Some(dataset), limit)?))?;
    Ok(log.into_iter().map(LogEntry).collect())
}

/// A manual command on a breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Halt the dataset by hand (until reset, or until `until`).
    Trip,
    /// Close the breaker: the data is good again, or the failure is understood.
    Reset,
    /// Let the dataset publish despite an open breaker, until `until` (required).
    Override,
}

impl Action {
    /// `trip`, `reset`, `override`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Trip => "trip",
            Action::Reset => "reset",
            Action::Override => "override",
        }
    }
}

/// A manual command, as a person (or a script) gives it.
#[derive(Clone, Debug)]
pub struct ManualRequest {
    /// The command.
    pub action: Action,
    /// The dataset.
    pub dataset: String,
    /// Why (required; kept in the audit log).
    pub reason: Option<String>,
    /// Until when: a time or a duration from now (`2h`), see [`when`].
    pub until: Option<String>,
    /// Who (default: the workspace's actor).
    pub by: Option<String>,
}

/// Runs a manual command: checks the request (a reason; an end for an override, in the
/// future; none for a reset), then applies it in one store transaction.
pub fn manual(ws: &Workspace, req: &ManualRequest) -> Result<ManualView> {
    let reason = req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or(Error::ReasonRequired {
            action: req.action.as_str(),
        })?;
    ws.dataset(&req.dataset)?;
    let now = ws.now();
    let until = req
        .until
        .as_deref()
        .map(|u| when(u, now, true))
        .transpose()
        .map_err(|message| Error::BadTime {
            flag: "--until",
            message,
        })?;
    if let Some(u) = until
        && u <= now
    {
        return Err(Error::UntilInPast { until: u });
    }
    let cmd = match (req.action, until) {
        (Action::Trip, until) => Command::Trip { until },
        (Action::Override, Some(until)) => Command::Override { until },
        (Action::Override, None) => return Err(Error::UntilRequired),
        (Action::Reset, Some(_)) => return Err(Error::UntilNotAllowed),
        (Action::Reset, None) => Command::Reset,
    };
    let by = ws.actor(req.by.as_deref());
    let (b, logged) = ws.with_store(|s| {
        Ok(sluice_breaker::command(
            s,
            &req.dataset,
            &cmd,
            reason,
            &by,
            now,
        )?)
    })?;
    let ts: Vec<_> = logged.iter().map(|l| l.transition.clone()).collect();
    crate::notify::after_transitions(ws, &ts, std::slice::from_ref(&b));
    Ok(ManualView {
        breaker: view(ws, b),
        transitions: logged.into_iter().map(LogEntry).collect(),
    })
}

/// The incident report since `since` (a time, or a duration back from now: `90d`).
pub fn report(ws: &Workspace, since: &str) -> Result<(sluice_breaker::report::Report, String)> {
    let now = ws.now();
    breakers(ws)?;
    let since = when(since, now, false).map_err(|message| Error::BadTime {
        flag: "--since",
        message,
    })?;
    ws.with_store(|s| Ok((sluice_breaker::report(s, since, now)?, s.what().to_string())))
}

/// A time given as RFC 3339 (`2026-11-23T08:00:00Z`) or as a duration (`2h`, `90d`),
/// which `forward` counts from `now` (for `--until`), else back (for `--since`).
pub fn when(text: &str, now: DateTime<Utc>, forward: bool) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = match sluice_spec::duration::parse(text) {
        Ok(d) => chrono::Duration::from_std(d).map_err(|_| format!("`{text}` is too far away"))?,
        Err(e @ sluice_spec::duration::DurationError::TooLong { .. }) => return Err(e.to_string()),
        Err(_) => {
            return Err(format!(
                "`{text}` is neither a time (2026-11-23T08:00:00Z) nor a duration (2h, 90d)"
            ));
        }
    };
    if forward {
        now.checked_add_signed(d)
    } else {
        now.checked_sub_signed(d)
    }
    .ok_or_else(|| format!("`{text}` is too far away"))
}
