//! `notify:`: who hears about breaker transitions and failed runs, and how.
//!
//! ```yaml
//! notify:
//!   channels:
//!     data-eng:   { slack: "${SLACK_WEBHOOK_URL}" }
//!     alerts:     { webhook: { url_env: ALERTS_URL, headers: { Authorization: "Bearer ${TOKEN}" } } }
//!     pager:      { exec: [scripts/page.sh, --service, data], timeout: 10s }
//!   routes:
//!     - when: { tier: 1, event: [open, trip, expire] }
//!       to: pager
//!     - when: { owner: [ingest, data-eng] }
//!       to: [data-eng, alerts]
//!   retry: { attempts: 4, backoff: 500ms, within: 30s }
//! ```
//!
//! Every route whose `when` matches an event sends it to its channels; a channel gets an
//! event once however many routes name it. Without `routes:`, every event goes to every
//! channel.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::source::Span;

/// `notify:`: the channels, the routes to them, the retry policy.
#[derive(Clone, Debug, Default)]
pub struct Notify {
    /// `channels:`, in file order.
    pub channels: Vec<Channel>,
    /// `routes:`, in file order (`None`: no `routes:` key, every event to every channel).
    pub routes: Option<Vec<Route>>,
    /// `retry:`.
    pub retry: NotifyRetry,
}

impl Notify {
    /// Whether any alert can be sent at all.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// The channels an event goes to, each once, in channel order.
    pub fn channels_for(&self, event: &EventFacts<'_>) -> Vec<&Channel> {
        self.channels
            .iter()
            .filter(|c| match &self.routes {
                None => true,
                Some(routes) => routes
                    .iter()
                    .any(|r| r.when.matches(event) && r.to.contains(&c.name)),
            })
            .collect()
    }
}

/// What routing looks at in an event.
#[derive(Clone, Copy, Debug)]
pub struct EventFacts<'a> {
    /// What happened.
    pub kind: AlertKind,
    /// The dataset.
    pub dataset: &'a str,
    /// Its owner.
    pub owner: Option<&'a str>,
    /// Its tier.
    pub tier: Option<u8>,
}

/// `retry:`: how hard to try each delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotifyRetry {
    /// `attempts:`, the first included (default 4).
    pub attempts: u32,
    /// `backoff:`: the pause after the first failure, doubled after each further one
    /// (default 500ms).
    pub backoff: Duration,
    /// `within:`: no new attempt starts this long after the first (default 30s).
    pub within: Duration,
}

impl Default for NotifyRetry {
    fn default() -> Self {
        NotifyRetry {
            attempts: 4,
            backoff: Duration::from_millis(500),
            within: Duration::from_secs(30),
        }
    }
}

/// A named destination.
#[derive(Clone, Debug)]
pub struct Channel {
    /// Its name (the key under `channels:`).
    pub name: String,
    /// Where it is defined.
    pub span: Span,
    /// Where alerts go.
    pub target: Target,
    /// `timeout:` of one attempt (default 10s).
    pub timeout: Duration,
}

/// Where a channel's alerts go.
#[derive(Clone, Debug)]
pub enum Target {
    /// `webhook:`: sluice's own JSON body (see the docs), posted.
    Webhook(Endpoint),
    /// `slack:`: a Slack incoming webhook (text and blocks).
    Slack(Endpoint),
    /// `exec:`: a command, given the event as JSON on its standard input.
    Exec(ExecCommand),
}

impl Target {
    /// `webhook`, `slack`, `exec`.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Webhook(_) => "webhook",
            Target::Slack(_) => "slack",
            Target::Exec(_) => "exec",
        }
    }
}

/// An HTTP endpoint.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// The URL, or where to read it.
    pub url: UrlSource,
    /// `headers:` sent with every post.
    pub headers: Vec<(String, Secret)>,
}

/// Where a URL comes from.
#[derive(Clone, Debug)]
pub enum UrlSource {
    /// `url:` (or the shorthand), after `${VAR}` interpolation.
    Inline(Secret),
    /// `url_env: NAME`: read from the environment when an alert is sent.
    Env(String),
}

/// A command to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecCommand {
    /// The program and its arguments (a string in the config runs as `sh -c STRING`).
    pub argv: Vec<String>,
    /// The config's folder: where it runs, and what a relative program path is relative to.
    pub dir: PathBuf,
}

/// A value that must not be printed (a webhook URL, a token): `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, to use (never to print).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A route: which events go to which channels.
#[derive(Clone, Debug)]
pub struct Route {
    /// Where it is defined.
    pub span: Span,
    /// `when:` (empty: every event).
    pub when: When,
    /// `to:`: channel names.
    pub to: Vec<String>,
}

/// `when:`: every condition given must hold; a list holds when any entry does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct When {
    /// `event:`.
    pub events: Vec<AlertKind>,
    /// `tier:` of the dataset (a dataset without a tier matches none).
    pub tiers: Vec<u8>,
    /// `owner:` of the dataset.
    pub owners: Vec<String>,
    /// `dataset:`.
    pub datasets: Vec<String>,
}

impl When {
    /// Whether an event matches.
    pub fn matches(&self, e: &EventFacts<'_>) -> bool {
        (self.events.is_empty() || self.events.contains(&e.kind))
            && (self.tiers.is_empty() || e.tier.is_some_and(|t| self.tiers.contains(&t)))
            && (self.owners.is_empty()
                || e.owner.is_some_and(|o| self.owners.iter().any(|x| x == o)))
            && (self.datasets.is_empty() || self.datasets.iter().any(|d| d == e.dataset))
    }
}

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Failing runs opened the breaker.
    Open,
    /// A person halted the dataset (`sluice breaker trip`).
    Trip,
    /// Passing runs closed the breaker (`reset: auto`).
    Close,
    /// A person closed the breaker (`sluice breaker reset`).
    Reset,
    /// A person let the dataset through despite its breaker (`sluice breaker override`).
    Override,
    /// A manual trip or override reached its end.
    Expire,
    /// A run failed the dataset's checks without moving its breaker (it is closed and the
    /// failing streak is below `trip_after`).
    RunFailed,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [AlertKind; 7] = [
        AlertKind::Open,
        AlertKind::Trip,
        AlertKind::Close,
        AlertKind::Reset,
        AlertKind::Override,
        AlertKind::Expire,
        AlertKind::RunFailed,
    ];

    /// Its name in the config and in the alert body.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Open => "open",
            AlertKind::Trip => "trip",
            AlertKind::Close => "close",
            AlertKind::Reset => "reset",
            AlertKind::Override => "override",
            AlertKind::Expire => "expire",
            AlertKind::RunFailed => "run_failed",
        }
    }

    /// The kind [`as_str`](Self::as_str) names.
    pub fn parse(s: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(
        kind: AlertKind,
        owner: Option<&'static str>,
        tier: Option<u8>,
    ) -> EventFacts<'static> {
        EventFacts {
            kind,
            dataset: "orders",
            owner,
            tier,
        }
    }

    #[test]
    fn when_needs_every_condition_and_any_entry_of_each() {
        let w = When {
            events: vec![AlertKind::Open, AlertKind::Expire],
            tiers: vec![1],
            ..When::default()
        };
        assert!(w.matches(&facts(AlertKind::Open, None, Some(1))));
        assert!(!w.matches(&facts(AlertKind::Reset, None, Some(1))));
        assert!(!w.matches(&facts(AlertKind::Open, None, Some(2))));
        assert!(!w.matches(&facts(AlertKind::Open, None, None)), "untiered");
        assert!(When::default().matches(&facts(AlertKind::RunFailed, None, None)));
        let o = When {
            owners: vec!["ingest".into(), "finance".into()],
            datasets: vec!["orders".into()],
            ..When::default()
        };
        assert!(o.matches(&facts(AlertKind::Close, Some("finance"), None)));
        assert!(!o.matches(&facts(AlertKind::Close, Some("ops"), None)));
        assert!(!o.matches(&facts(AlertKind::Close, None, None)));
    }

    #[test]
    fn a_secret_does_not_print() {
        let s = Secret::new("https://hooks.slack.com/services/T/B/X");
        assert_eq!(format!("{s:?}"), "Secret(…)");
        assert!(s.expose().ends_with("/X"));
    }

    #[test]
    fn kinds_round_trip() {
        for k in AlertKind::ALL {
            assert_eq!(AlertKind::parse(k.as_str()), Some(k));
        }
    }
}
