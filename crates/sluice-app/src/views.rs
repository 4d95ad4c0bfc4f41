//! The results of the breaker use cases as data a surface shows: each type here serialises
//! to the JSON contract of its command (`sluice guard -f json`, `sluice breaker status -f
//! json`, ...), documented in the README, so the CLI and the HTTP server answer the same
//! JSON from the same code. Text for people is the surfaces' business.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::{Serialize, SerializeMap, Serializer};
use sluice_breaker::{Breaker, Effective, Logged};

/// A time as the contracts write it: RFC 3339, whole seconds, `Z`.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A dataset's breaker with what the config says of the dataset (its owner).
///
/// JSON: `dataset`, `state` (effective: `closed`, `open`, `tripped`, `override`),
/// `automatic_state` (what runs decided: `closed`, `open`), `since`, `reason`, `run_id`,
/// `failing_checks`, `owner`, `last_run` (`run_id`, `at`, `status`) and `manual` (`kind`,
/// `until`, `reason`, `by`, `at`), each `null` when absent.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakerView {
    /// The breaker.
    pub breaker: Breaker,
    /// The dataset's `owner:`.
    pub owner: Option<String>,
    /// Whether any run or person ever touched it (`false`: a closed breaker by default,
    /// whose `since` is unknown and serialised as `null`).
    pub seen: bool,
}

impl BreakerView {
    fn write_fields<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        let b = &self.breaker;
        m.serialize_entry("dataset", &b.dataset)?;
        m.serialize_entry("state", b.effective().as_str())?;
        m.serialize_entry("automatic_state", b.state.as_str())?;
        m.serialize_entry("since", &self.seen.then(|| ts(b.since)))?;
        m.serialize_entry("reason", &b.reason)?;
        m.serialize_entry("run_id", &b.run_id)?;
        m.serialize_entry("failing_checks", &b.failing_checks)?;
        m.serialize_entry("owner", &self.owner)?;
        m.serialize_entry(
            "last_run",
            &b.last_run.as_ref().map(|r| LastRun {
                run_id: &r.run_id,
                at: ts(r.at),
                status: r.status.as_str(),
            }),
        )?;
        m.serialize_entry(
            "manual",
            &b.manual.as_ref().map(|o| ManualJson {
                kind: o.kind.as_str(),
                until: o.until.map(ts),
                reason: &o.reason,
                by: &o.by,
                at: ts(o.at),
            }),
        )
    }
}

#[derive(serde::Serialize)]
struct LastRun<'a> {
    run_id: &'a str,
    at: String,
    status: &'a str,
}

#[derive(serde::Serialize)]
struct ManualJson<'a> {
    kind: &'a str,
    until: Option<String>,
    reason: &'a str,
    by: &'a str,
    at: String,
}

impl Serialize for BreakerView {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.write_fields(&mut m)?;
        m.end()
    }
}

/// `sluice guard X`: may X publish, and if not, what stops it.
///
/// JSON: `dataset`, `may_publish`, `override` (X's breaker when an override lets it
/// through, else `null`), `blocked_by` (each halted breaker: X's own first, then upstream).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GuardView {
    /// The dataset.
    pub dataset: String,
    /// Whether it may publish.
    pub may_publish: bool,
    /// Its breaker, when an override lets it through.
    #[serde(rename = "override")]
    pub overridden: Option<BreakerView>,
    /// What stops it.
    pub blocked_by: Vec<BreakerView>,
}

/// One dataset in `sluice breaker status`: its breaker, and the halted breakers upstream.
///
/// JSON: the fields of [`BreakerView`], then `blocked_by`: the names of the halted
/// breakers upstream.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusRow {
    /// Its breaker.
    pub breaker: BreakerView,
    /// The halted breakers upstream, with their effective state.
    pub blocked_by: Vec<(String, Effective)>,
}

impl Serialize for StatusRow {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.breaker.write_fields(&mut m)?;
        let names: Vec<&str> = self.blocked_by.iter().map(|(n, _)| n.as_str()).collect();
        m.serialize_entry("blocked_by", &names)?;
        m.end()
    }
}

/// `sluice breaker status`: every breaker of the config (or one).
///
/// JSON: `store` (the state store, password hidden) and `breakers` ([`StatusRow`]s, in
/// config order).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StatusView {
    /// The state store, for people (password hidden).
    pub store: String,
    /// One row per dataset.
    pub breakers: Vec<StatusRow>,
}

/// One audit-log entry.
///
/// JSON: `id`, `dataset`, `event`, `from`, `to`, `at`, `by`, `reason`, `run_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry(pub Logged);

impl Serialize for LogEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = &self.0.transition;
        let mut m = s.serialize_map(Some(9))?;
        m.serialize_entry("id", &self.0.id)?;
        m.serialize_entry("dataset", &t.dataset)?;
        m.serialize_entry("event", t.event.as_str())?;
        m.serialize_entry("from", t.from.as_str())?;
        m.serialize_entry("to", t.to.as_str())?;
        m.serialize_entry("at", &ts(t.at))?;
        m.serialize_entry("by", &t.by)?;
        m.serialize_entry("reason", &t.reason)?;
        m.serialize_entry("run_id", &t.run_id)?;
        m.end()
    }
}

/// What a manual command (`trip`, `reset`, `override`) did.
///
/// JSON: `breaker` ([`BreakerView`]) and `transitions` ([`LogEntry`]s: an expiry that fell
/// due first, then the command's own).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ManualView {
    /// The breaker after the command.
    pub breaker: BreakerView,
    /// What was logged.
    pub transitions: Vec<LogEntry>,
}
