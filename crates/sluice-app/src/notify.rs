//! Alerts: breaker transitions and failed runs, sent to the channels the config's
//! `notify:` routes them to (see [`sluice_spec::notify`]).
//!
//! Two halves. Building an [`Alert`] from what a use case did (a run's transitions and
//! report, a person's command, an expiry) is pure: [`for_run`], [`for_transitions`].
//! Delivering it ([`deliver`]) posts sluice's JSON body to a webhook, a Slack message to a
//! Slack incoming webhook, or runs a command with the JSON on its standard input; each
//! delivery is retried with backoff for a bounded time, and a failure is a warning in the
//! log, never an error of the use case: alerts never change a run's outcome.
//!
//! What is sent, and when:
//! - one alert per breaker transition: `open` (failing runs opened it), `close` (passing
//!   runs closed it), `trip`, `reset`, `override` (a person), `expire` (a manual trip or
//!   override ran out, noticed by the next sluice command that reads the breaker). A reset
//!   of a breaker that was already closed, with nothing to clear, changes nothing and sends
//!   nothing; a trip or an override always sends (it sets a new reason and expiry).
//! - `run_failed`: a run failed a dataset's checks and its breaker stayed closed (the
//!   failing streak is below `trip_after`). A run that opens the breaker sends `open`
//!   (with the failed checks) instead; a failing run on a breaker that is already open,
//!   tripped or overridden sends nothing: the owners heard when it opened.
//! - `--no-state` runs record nothing, move no breaker and send nothing.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sluice_breaker::{Breaker, Effective, Event, Transition};
use sluice_engine::RunReport;
use sluice_lineage::{ImpactOptions, Lineage};
use sluice_spec::notify::{AlertKind, Channel, EventFacts, Notify, Target, UrlSource};
use sluice_spec::{Config, Reset};

use crate::http::{self, Failed, Retry};
use crate::workspace::Workspace;

/// The version of the alert body; a change that could break a receiver gets a new one.
pub const SCHEMA: &str = "sluice.alert/v1";

/// How many downstream nodes an alert lists (`blocks_total` counts them all).
const BLOCKS_LISTED: usize = 50;

/// One alert: the JSON body a webhook receives and an `exec:` command reads on stdin.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// A stable id for this alert (`dataset/kind/time` or `dataset/run_failed/run_id`), for
    /// receivers that deduplicate.
    pub id: String,
    /// What happened.
    pub kind: AlertKind,
    /// One line for people.
    pub summary: String,
    /// When it happened (RFC 3339, UTC).
    pub time: String,
    /// The dataset.
    pub dataset: String,
    /// Its `owner:`.
    pub owner: Option<String>,
    /// Its `tier:`.
    pub tier: Option<u8>,
    /// The breaker: its state before and after.
    pub breaker: BreakerChange,
    /// Why (the failing checks, a person's reason, what expired).
    pub reason: String,
    /// Who: a person, `airflow:dag.task (run)`, or `sluice` for runs and expiries.
    pub actor: String,
    /// The run that caused it, if a run did.
    pub run_id: Option<String>,
    /// The checks that count against the dataset (from the run when a run caused it, else
    /// the ones the breaker recorded when it opened, without messages).
    pub failed_checks: Vec<FailedCheck>,
    /// What the breaker halts downstream now, from the lineage graph (empty when data
    /// flows after the event): exposures first, then by tier and depth.
    pub blocks: Vec<Blocked>,
    /// How many nodes are blocked in all (`blocks` lists at most 50).
    pub blocks_total: usize,
    /// The config file.
    pub config: String,
}

/// The breaker part of an alert.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BreakerChange {
    /// Effective state before: `closed`, `open`, `tripped`, `override`.
    pub from: Effective,
    /// Effective state after.
    pub to: Effective,
    /// Whether the state after halts publishing (open or tripped).
    pub halts: bool,
    /// The dataset's `reset:` policy: `auto` or `manual`.
    pub reset: &'static str,
    /// When a manual trip or override set by this event ends.
    pub until: Option<String>,
    /// Consecutive failing runs so far.
    pub failing_runs: u32,
    /// The dataset's `trip_after`.
    pub trip_after: u32,
}

/// A check that counts against the dataset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailedCheck {
    /// Its name (`not_null(id)`).
    pub name: String,
    /// Its kind (`not_null`).
    pub kind: Option<String>,
    /// The column it checks.
    pub column: Option<String>,
    /// `error` or `warn`.
    pub severity: Option<String>,
    /// `fail` or `error`.
    pub status: Option<String>,
    /// What the check said.
    pub message: Option<String>,
}

/// A node downstream that the breaker halts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Blocked {
    /// Its name.
    pub name: String,
    /// `dataset`, `exposure`, a dbt kind…
    pub kind: &'static str,
    /// Its owner.
    pub owner: Option<String>,
    /// Its tier.
    pub tier: Option<u8>,
    /// Steps of data from the dataset.
    pub depth: u32,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn kind_of(event: Event) -> AlertKind {
    match event {
        Event::Trip => AlertKind::Open,
        Event::Close => AlertKind::Close,
        Event::ManualTrip => AlertKind::Trip,
        Event::Reset => AlertKind::Reset,
        Event::Override => AlertKind::Override,
        Event::Expire => AlertKind::Expire,
    }
}

/// Whether a transition is worth an alert: the state changed, or a person set a new
/// manual state (a trip or an override, with its reason and expiry).
fn alerts(t: &Transition) -> bool {
    t.from != t.to || matches!(t.event, Event::ManualTrip | Event::Override)
}

/// What the builders read: the config and, if it could be built, its lineage graph.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The config (owners, tiers, breaker policies).
    pub config: &'a Config,
    /// The lineage graph, for `blocks` (`None`: left empty).
    pub lineage: Option<&'a Lineage>,
}

impl Context<'_> {
    fn blocks(&self, dataset: &str) -> (Vec<Blocked>, usize) {
        let Some(l) = self.lineage else {
            return (vec![], 0);
        };
        let Ok(root) = l.find(dataset) else {
            return (vec![], 0);
        };
        let impact = sluice_lineage::impact(l, root, ImpactOptions::default());
        let all: Vec<Blocked> = impact
            .hits
            .iter()
            .filter(|h| h.node != root)
            .map(|h| (&l.graph[h.node], h.depth))
            .filter(|(n, _)| !n.kind.is_process() && !n.kind.is_test())
            .map(|(n, depth)| Blocked {
                name: n.name.clone(),
                kind: n.kind.name(),
                owner: n.owner.clone(),
                tier: n.tier,
                depth,
            })
            .collect();
        let total = all.len();
        (all.into_iter().take(BLOCKS_LISTED).collect(), total)
    }

    /// The alert for `kind` of a breaker transition.
    fn on_transition(
        &self,
        kind: AlertKind,
        t: &Transition,
        breaker: Option<&Breaker>,
        failed_checks: Vec<FailedCheck>,
    ) -> Alert {
        self.alert(
            kind,
            &t.dataset,
            t.from,
            t.to,
            t.at,
            t.reason.clone(),
            t.by.clone(),
            t.run_id.clone(),
            breaker,
            failed_checks,
        )
    }

    /// The alert for `kind` on `dataset`, the parts every alert has.
    #[allow(clippy::too_many_arguments)]
    fn alert(
        &self,
        kind: AlertKind,
        dataset: &str,
        from: Effective,
        to: Effective,
        at: DateTime<Utc>,
        reason: String,
        actor: String,
        run_id: Option<String>,
        breaker: Option<&Breaker>,
        failed_checks: Vec<FailedCheck>,
    ) -> Alert {
        let ds = self.config.dataset(dataset).ok();
        let policy = ds
            .map(|d| d.breaker)
            .unwrap_or(self.config.defaults.breaker);
        let halts = !to.flows();
        let (blocks, blocks_total) = if halts {
            self.blocks(dataset)
        } else {
            (vec![], 0)
        };
        let until = match kind {
            AlertKind::Trip | AlertKind::Override => breaker
                .and_then(|b| b.manual.as_ref())
                .and_then(|m| m.until)
                .map(ts),
            _ => None,
        };
        let id = match (kind, &run_id) {
            (AlertKind::RunFailed, Some(r)) => format!("{dataset}/{kind}/{r}"),
            _ => format!("{dataset}/{kind}/{}", ts(at)),
        };
        let mut alert = Alert {
            schema: SCHEMA,
            id,
            kind,
            summary: String::new(),
            time: ts(at),
            dataset: dataset.to_string(),
            owner: ds.and_then(|d| d.owner.clone()),
            tier: ds.and_then(|d| d.tier),
            breaker: BreakerChange {
                from,
                to,
                halts,
                reset: match policy.reset {
                    Reset::Auto => "auto",
                    Reset::Manual => "manual",
                },
                until,
                failing_runs: breaker.map_or(0, |b| b.fail_streak),
                trip_after: policy.trip_after,
            },
            reason,
            actor,
            run_id,
            failed_checks,
            blocks,
            blocks_total,
            config: self.config.file.path().display().to_string(),
        };
        alert.summary = summary(&alert);
        alert
    }
}

/// "breaker orders: closed → open (1 failing check: not_null(id)); blocks 3 downstream".
fn summary(a: &Alert) -> String {
    let mut s = match a.kind {
        AlertKind::RunFailed => format!(
            "checks failed on {} ({} of {} failing run{} before its breaker opens): {}",
            a.dataset,
            a.breaker.failing_runs,
            a.breaker.trip_after,
            if a.breaker.trip_after == 1 { "" } else { "s" },
            a.reason
        ),
        _ => format!(
            "breaker {}: {} → {} ({})",
            a.dataset,
            a.breaker.from.as_str(),
            a.breaker.to.as_str(),
            a.reason
        ),
    };
    if let Some(u) = &a.breaker.until {
        s.push_str(&format!(" until {u}"));
    }
    if a.kind != AlertKind::RunFailed && a.actor != "sluice" {
        s.push_str(&format!(" by {}", a.actor));
    }
    if a.blocks_total > 0 {
        s.push_str(&format!("; blocks {} downstream", a.blocks_total));
    }
    s
}

/// The checks of `report` on `dataset` that count against it under its breaker policy.
fn failed_in_run(cx: &Context<'_>, report: &RunReport, dataset: &str) -> Vec<FailedCheck> {
    let Ok(ds) = cx.config.dataset(dataset) else {
        return vec![];
    };
    report
        .checks
        .iter()
        .filter(|c| c.dataset == dataset)
        .filter(|c| sluice_breaker::machine::counts(&ds.breaker, c.severity, c.status))
        .map(|c| FailedCheck {
            name: c.name.clone(),
            kind: Some(c.kind.clone()),
            column: c.column.clone(),
            severity: Some(c.severity.as_str().to_string()),
            status: Some(c.status.as_str().to_string()),
            message: Some(c.message.clone()),
        })
        .collect()
}

/// The alerts of transitions a person's command or an expiry caused (no run): the failed
/// checks are the ones the breaker recorded, by name.
pub fn for_transitions(
    cx: &Context<'_>,
    transitions: &[Transition],
    breakers: &[Breaker],
) -> Vec<Alert> {
    transitions
        .iter()
        .filter(|t| alerts(t))
        .map(|t| {
            let b = breakers.iter().find(|b| b.dataset == t.dataset);
            let failed = if t.to.flows() {
                vec![]
            } else {
                b.map(|b| {
                    b.failing_checks
                        .iter()
                        .map(|name| FailedCheck {
                            name: name.clone(),
                            kind: None,
                            column: None,
                            severity: None,
                            status: None,
                            message: None,
                        })
                        .collect()
                })
                .unwrap_or_default()
            };
            cx.on_transition(kind_of(t.event), t, b, failed)
        })
        .collect()
}

/// The alerts of a recorded run: one per transition it caused (an `open` lists the run's
/// failed checks with their messages), and `run_failed` for each dataset it failed whose
/// breaker stayed closed. `breakers` are the breakers after the run was recorded.
pub fn for_run(
    cx: &Context<'_>,
    report: &RunReport,
    transitions: &[Transition],
    breakers: &[Breaker],
) -> Vec<Alert> {
    let mut out = Vec::new();
    for t in transitions.iter().filter(|t| alerts(t)) {
        let b = breakers.iter().find(|b| b.dataset == t.dataset);
        let (kind, failed) = match t.event {
            Event::Expire => {
                out.extend(for_transitions(cx, std::slice::from_ref(t), breakers));
                continue;
            }
            Event::Trip => (AlertKind::Open, failed_in_run(cx, report, &t.dataset)),
            e => (kind_of(e), vec![]),
        };
        out.push(cx.on_transition(kind, t, b, failed));
    }
    for b in breakers {
        let Some(last) = &b.last_run else { continue };
        let moved = transitions
            .iter()
            .any(|t| t.dataset == b.dataset && t.run_id.as_deref() == Some(last.run_id.as_str()));
        if last.run_id != report.run_id
            || last.status != sluice_spec::RunStatus::Failed
            || b.effective() != Effective::Closed
            || moved
        {
            continue;
        }
        let failed = failed_in_run(cx, report, &b.dataset);
        let names: Vec<&str> = failed.iter().map(|c| c.name.as_str()).collect();
        let reason = if names.is_empty() {
            "the dataset could not be read".to_string()
        } else {
            names.join(", ")
        };
        out.push(cx.alert(
            AlertKind::RunFailed,
            &b.dataset,
            Effective::Closed,
            Effective::Closed,
            last.at,
            reason,
            "sluice".into(),
            Some(report.run_id.clone()),
            Some(b),
            failed,
        ));
    }
    out
}

/// Slack's incoming-webhook body for an alert: `text` (the notification and fallback)
/// and Block Kit `blocks` (a header, the facts, the failed checks, what it blocks).
pub fn slack_body(a: &Alert) -> Value {
    let icon = match a.kind {
        AlertKind::Open | AlertKind::Trip => ":red_circle:",
        AlertKind::RunFailed => ":warning:",
        AlertKind::Override => ":large_yellow_circle:",
        AlertKind::Expire if a.breaker.halts => ":red_circle:",
        _ => ":large_green_circle:",
    };
    let title = match a.kind {
        AlertKind::Open => "Breaker opened",
        AlertKind::Trip => "Breaker tripped by hand",
        AlertKind::Close => "Breaker closed",
        AlertKind::Reset => "Breaker reset",
        AlertKind::Override => "Breaker overridden",
        AlertKind::Expire => "Manual breaker state expired",
        AlertKind::RunFailed => "Checks failed",
    };
    let mut fields = vec![
        format!("*Dataset*\n`{}`", a.dataset),
        format!(
            "*Breaker*\n{} → {}",
            a.breaker.from.as_str(),
            a.breaker.to.as_str()
        ),
        format!("*Owner*\n{}", a.owner.as_deref().unwrap_or("—")),
        format!(
            "*Tier*\n{}",
            a.tier.map_or("—".to_string(), |t| t.to_string())
        ),
    ];
    if let Some(r) = &a.run_id {
        fields.push(format!("*Run*\n`{r}`"));
    }
    if let Some(u) = &a.breaker.until {
        fields.push(format!("*Until*\n{u}"));
    }
    let mrkdwn = |t: String| json!({"type": "mrkdwn", "text": clip(&t, 2900)});
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": clip(&format!("{title}: {}", a.dataset), 150)}}),
        json!({"type": "section", "text": mrkdwn(format!("*Reason:* {}", a.reason)),
               "fields": fields.into_iter().map(mrkdwn).collect::<Vec<_>>()}),
    ];
    if !a.failed_checks.is_empty() {
        let mut t = "*Failed checks*".to_string();
        for c in a.failed_checks.iter().take(10) {
            t.push_str(&format!("\n• `{}`", c.name));
            if let Some(m) = &c.message {
                t.push_str(&format!(": {m}"));
            }
        }
        if a.failed_checks.len() > 10 {
            t.push_str(&format!("\n…and {} more", a.failed_checks.len() - 10));
        }
        blocks.push(json!({"type": "section", "text": mrkdwn(t)}));
    }
    if a.blocks_total > 0 {
        let mut t = format!("*Blocks {} downstream*", a.blocks_total);
        for b in a.blocks.iter().take(10) {
            t.push_str(&format!("\n• `{}` ({}", b.name, b.kind));
            if let Some(o) = &b.owner {
                t.push_str(&format!(", {o}"));
            }
            if let Some(tier) = b.tier {
                t.push_str(&format!(", tier {tier}"));
            }
            t.push(')');
        }
        if a.blocks_total > 10 {
            t.push_str(&format!("\n…and {} more", a.blocks_total - 10));
        }
        blocks.push(json!({"type": "section", "text": mrkdwn(t)}));
    }
    blocks.push(json!({"type": "context", "elements": [mrkdwn(format!("by {} · {} · {}", a.actor, a.time, a.config))]}));
    json!({
        "text": format!("{icon} sluice: {}", a.summary),
        "blocks": blocks,
    })
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// What happened to one alert on one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The channel.
    pub channel: String,
    /// The alert's id.
    pub alert: String,
    /// `Err`: why it was not delivered (URLs redacted), after the retries.
    pub result: Result<(), String>,
}

/// Delivers each alert to the channels its routes name, the channels in parallel and
/// each channel's alerts in order; logs each outcome (a failure as a warning) and returns
/// them. Never fails: a delivery that fails is only reported.
pub fn deliver(notify: &Notify, alerts: &[Alert]) -> Vec<Delivery> {
    if notify.is_empty() || alerts.is_empty() {
        return vec![];
    }
    let retry = Retry {
        attempts: notify.retry.attempts,
        initial_backoff: notify.retry.backoff,
        max_total: notify.retry.within,
    };
    let _span = tracing::info_span!("notify", alerts = alerts.len()).entered();
    std::thread::scope(|s| {
        let handles: Vec<_> = notify
            .channels
            .iter()
            .map(|ch| {
                let mine: Vec<&Alert> = alerts
                    .iter()
                    .filter(|a| {
                        let facts = EventFacts {
                            kind: a.kind,
                            dataset: &a.dataset,
                            owner: a.owner.as_deref(),
                            tier: a.tier,
                        };
                        notify
                            .channels_for(&facts)
                            .iter()
                            .any(|c| c.name == ch.name)
                    })
                    .collect();
                s.spawn(move || {
                    mine.into_iter()
                        .map(|a| {
                            let result = send(ch, a, retry);
                            match &result {
                                Ok(()) => tracing::info!(channel = %ch.name, kind = %a.kind, dataset = %a.dataset, "alert sent"),
                                Err(e) => tracing::warn!(channel = %ch.name, kind = %a.kind, dataset = %a.dataset, "alert not delivered: {e}"),
                            }
                            Delivery {
                                channel: ch.name.clone(),
                                alert: a.id.clone(),
                                result,
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Sends one alert to one channel, with retries.
fn send(ch: &Channel, a: &Alert, retry: Retry) -> Result<(), String> {
    let body = || serde_json::to_value(a).expect("an alert serialises");
    match &ch.target {
        Target::Webhook(e) | Target::Slack(e) => {
            let url = match &e.url {
                UrlSource::Inline(s) => s.expose().to_string(),
                UrlSource::Env(name) => match std::env::var(name) {
                    Ok(v) if !v.trim().is_empty() => v,
                    _ => {
                        return Err(format!(
                            "the environment variable {name} (`url_env`) is not set"
                        ));
                    }
                },
            };
            let headers: Vec<(&str, &str)> = e
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.expose()))
                .collect();
            let payload = match ch.target {
                Target::Slack(_) => slack_body(a),
                _ => body(),
            };
            http::post_json(&url, &headers, &payload, ch.timeout, retry)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        Target::Exec(cmd) => {
            let stdin = serde_json::to_vec(&body()).expect("an alert serialises");
            retry.run(|attempt| {
                run_once(cmd, &stdin, a, ch.timeout)
                    .map_err(|e| Failed::Retry(format!("{e} (after {attempt} attempt(s))")))
            })
        }
    }
}

/// Runs an `exec:` command once: the alert as JSON on stdin, `SLUICE_ALERT_KIND` and
/// `SLUICE_ALERT_DATASET` in its environment, in the config's folder. A non-zero exit or
/// running past `timeout` (it is killed) is a failure.
fn run_once(
    cmd: &sluice_spec::notify::ExecCommand,
    stdin: &[u8],
    a: &Alert,
    timeout: Duration,
) -> Result<(), String> {
    let program = &cmd.argv[0];
    let path = std::path::Path::new(program);
    let resolved = if path.is_relative() && path.components().count() > 1 {
        cmd.dir.join(path)
    } else {
        path.to_path_buf()
    };
    let shown = path
        .file_name()
        .map_or(program.clone(), |n| n.to_string_lossy().into_owned());
    let mut child = Command::new(&resolved)
        .args(&cmd.argv[1..])
        .current_dir(&cmd.dir)
        .env("SLUICE_ALERT_KIND", a.kind.as_str())
        .env("SLUICE_ALERT_DATASET", &a.dataset)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    let mut input = child.stdin.take().expect("piped");
    let payload = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // A command that does not read its input may exit first: not an error.
        let _ = input.write_all(&payload);
    });
    let mut err_pipe = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err_pipe.by_ref().take(4096).read_to_string(&mut text);
        let mut rest = Vec::new();
        let _ = err_pipe.read_to_end(&mut rest);
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("`{shown}`: {e}")),
        }
    };
    let _ = writer.join();
    let stderr: String = reader.join().unwrap_or_default();
    let said = stderr.trim().chars().take(200).collect::<String>();
    let said = if said.is_empty() {
        String::new()
    } else {
        format!(": {said}")
    };
    match status {
        None => Err(format!(
            "`{shown}` did not finish within {} s and was stopped",
            timeout.as_secs_f64()
        )),
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(format!(
            "`{shown}` exited with {}{said}",
            s.code()
                .map_or("a signal".to_string(), |c| format!("code {c}"))
        )),
    }
}

/// The context of a workspace: its config and lineage graph (left out if it cannot be
/// built: the alert then lists nothing under `blocks`).
fn with_context<T>(ws: &Workspace, f: impl FnOnce(&Context<'_>) -> T) -> T {
    let lineage = ws.lineage().ok();
    f(&Context {
        config: ws.config(),
        lineage: lineage.as_deref(),
    })
}

/// After a run was recorded: builds its alerts from its transitions and the breakers as
/// they are now, and delivers them on a blocking thread. Problems are logged, never
/// returned.
pub(crate) async fn after_run(
    ws: &Workspace,
    report: &RunReport,
    transitions: &[Transition],
) -> Vec<Delivery> {
    let notify = &ws.config().notify;
    if notify.is_empty() {
        return vec![];
    }
    let breakers = match ws.with_store(|s| Ok(s.write(|tx| tx.all())?)) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("alerts not sent: cannot read the breakers: {e}");
            return vec![];
        }
    };
    let alerts = with_context(ws, |cx| for_run(cx, report, transitions, &breakers));
    if alerts.is_empty() {
        return vec![];
    }
    let notify = notify.clone();
    tokio::task::spawn_blocking(move || deliver(&notify, &alerts))
        .await
        .unwrap_or_default()
}

/// After a person's command or an expiry: builds the alerts of `transitions` and delivers
/// them (blocking). Problems are logged, never returned.
pub(crate) fn after_transitions(
    ws: &Workspace,
    transitions: &[Transition],
    breakers: &[Breaker],
) -> Vec<Delivery> {
    let notify = &ws.config().notify;
    if notify.is_empty() || transitions.is_empty() {
        return vec![];
    }
    let alerts = with_context(ws, |cx| for_transitions(cx, transitions, breakers));
    deliver(notify, &alerts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use sluice_breaker::machine::{self, Command as Cmd, Outcome};
    use sluice_spec::{Vars, load_str};

    const CONFIG: &str = r#"version: 1
datasets:
  orders:
    path: orders.csv
    owner: ingest
    tier: 1
    breaker: { trip_after: 2 }
    checks:
      - not_null: id
  revenue:
    path: revenue.csv
    owner: finance
stages:
  sum: { inputs: [orders], outputs: [revenue] }
exposures:
  board: { depends_on: [revenue], owner: cfo, tier: 1 }
notify:
  channels:
    pager: { exec: [page.sh] }
    team: { slack: "https://hooks.slack.com/services/T/B/X" }
  routes:
    - when: { tier: 1, event: [open, trip, expire] }
      to: pager
    - when: { owner: [ingest, finance] }
      to: [team, pager]
"#;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn config() -> Config {
        load_str(
            std::path::Path::new("/p/sluice.yaml"),
            CONFIG.into(),
            &Vars::isolated(Default::default()),
        )
        .unwrap()
    }

    fn run(b: &mut Breaker, c: &Config, n: i64, failing: &[&str]) -> Option<Transition> {
        let policy = c.dataset(&b.dataset).unwrap().breaker;
        machine::on_run(
            b,
            &policy,
            &Outcome {
                run_id: format!("r{n}"),
                at: t(n),
                failing: failing.iter().map(|s| s.to_string()).collect(),
                unverified: vec![],
            },
        )
    }

    fn report(run_id: &str, failing: bool) -> RunReport {
        let text = format!(
            r#"{{"sluice_version":"0","run_id":"{run_id}","started_at":"2026-11-30T10:00:00Z","finished_at":"2026-11-30T10:00:01Z","duration_ms":1,"now":"2026-11-30T10:00:00Z","config":"/p/sluice.yaml","status":"{}","summary":{{"total":1,"passed":0,"warned":0,"failed":1,"errored":0,"skipped":0}},"datasets":[],"checks":[{{"dataset":"orders","name":"not_null(id)","kind":"not_null","column":"id","columns":["id"],"severity":"error","status":"{}","observed":1,"threshold":null,"rows_scanned":2,"failing_rows":1,"samples":[],"message":"1 of 2 rows have id NULL","location":"x"}}]}}"#,
            if failing { "failed" } else { "passed" },
            if failing { "fail" } else { "pass" },
        );
        serde_json::from_str(&text).expect("a report")
    }

    #[test]
    fn a_failing_streak_sends_run_failed_then_open_then_nothing_while_open() {
        let c = config();
        let lineage =
            sluice_lineage::load(&sluice_lineage::Sources::new(Some(&c), &[], &[])).unwrap();
        let cx = Context {
            config: &c,
            lineage: Some(&lineage),
        };
        let mut b = Breaker::new("orders", t(0));
        // Run 1 fails: below trip_after 2, the breaker stays closed: run_failed.
        let tr: Vec<_> = run(&mut b, &c, 1, &["not_null(id)"]).into_iter().collect();
        let a = for_run(&cx, &report("r1", true), &tr, std::slice::from_ref(&b));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].kind, AlertKind::RunFailed);
        assert_eq!((a[0].breaker.failing_runs, a[0].breaker.trip_after), (1, 2));
        assert_eq!(
            a[0].failed_checks[0].message.as_deref(),
            Some("1 of 2 rows have id NULL")
        );
        assert!(
            a[0].summary.starts_with(
                "checks failed on orders (1 of 2 failing runs before its breaker opens)"
            ),
            "{}",
            a[0].summary
        );
        assert!(a[0].blocks.is_empty());
        // Run 2 fails: the breaker opens: one `open`, with the checks and what it blocks.
        let tr: Vec<_> = run(&mut b, &c, 2, &["not_null(id)"]).into_iter().collect();
        let a = for_run(&cx, &report("r2", true), &tr, std::slice::from_ref(&b));
        assert_eq!(a.len(), 1, "{a:?}");
        let open = &a[0];
        assert_eq!(open.kind, AlertKind::Open);
        assert_eq!(
            (open.breaker.from, open.breaker.to, open.breaker.halts),
            (Effective::Closed, Effective::Open, true)
        );
        assert_eq!(open.run_id.as_deref(), Some("r2"));
        assert_eq!(
            (open.owner.as_deref(), open.tier),
            (Some("ingest"), Some(1))
        );
        let blocked: Vec<&str> = open.blocks.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            blocked,
            ["board", "revenue"],
            "exposures first, the stage left out"
        );
        assert_eq!(open.blocks_total, 2);
        assert!(
            open.summary.ends_with("; blocks 2 downstream"),
            "{}",
            open.summary
        );
        // Run 3 fails again: already open, nothing.
        let tr: Vec<_> = run(&mut b, &c, 3, &["not_null(id)"]).into_iter().collect();
        assert!(for_run(&cx, &report("r3", true), &tr, std::slice::from_ref(&b)).is_empty());
        // A person overrides, then it expires: two alerts, no blocks while overridden.
        let o = machine::command(
            &mut b,
            &Cmd::Override { until: t(60) },
            "known issue",
            "ana",
            t(4),
        );
        let a = for_transitions(&cx, &[o], std::slice::from_ref(&b));
        assert_eq!(
            (a[0].kind, a[0].actor.as_str()),
            (AlertKind::Override, "ana")
        );
        assert_eq!(a[0].breaker.until.as_deref(), Some("2026-11-30T11:00:00Z"));
        assert!(a[0].blocks.is_empty());
        let e = machine::expire(&mut b, t(61)).unwrap();
        let a = for_transitions(&cx, &[e], std::slice::from_ref(&b));
        assert_eq!(
            (a[0].kind, a[0].breaker.to),
            (AlertKind::Expire, Effective::Open)
        );
        assert_eq!(a[0].failed_checks[0].name, "not_null(id)");
        assert_eq!(a[0].blocks_total, 2);
        // A reset closes it; a second reset changes nothing and sends nothing.
        let r = machine::command(&mut b, &Cmd::Reset, "fixed upstream", "ana", t(62));
        assert_eq!(
            for_transitions(&cx, &[r], &[b.clone()])[0].kind,
            AlertKind::Reset
        );
        let r = machine::command(&mut b, &Cmd::Reset, "again", "ana", t(63));
        assert!(for_transitions(&cx, &[r], &[b.clone()]).is_empty());
    }

    #[test]
    fn routes_pick_channels_by_tier_owner_and_event_each_once() {
        let c = config();
        let facts = |kind, dataset, owner, tier| EventFacts {
            kind,
            dataset,
            owner,
            tier,
        };
        let names = |f: EventFacts<'_>| -> Vec<String> {
            c.notify
                .channels_for(&f)
                .iter()
                .map(|c| c.name.clone())
                .collect()
        };
        // Tier 1 opened: the pager by the first route, Slack and the pager (once) by the second.
        assert_eq!(
            names(facts(AlertKind::Open, "orders", Some("ingest"), Some(1))),
            ["pager", "team"]
        );
        // A reset on the tier-1 dataset: not for the pager by the first route, but the
        // second route sends it to both.
        assert_eq!(
            names(facts(AlertKind::Reset, "orders", Some("ingest"), Some(1))),
            ["pager", "team"]
        );
        assert_eq!(
            names(facts(AlertKind::Open, "x", Some("ops"), Some(2))),
            Vec::<String>::new()
        );
        assert_eq!(
            names(facts(AlertKind::Expire, "x", None, Some(1))),
            ["pager"]
        );
    }

    #[test]
    fn the_slack_body_has_text_and_blocks() {
        let c = config();
        let cx = Context {
            config: &c,
            lineage: None,
        };
        let mut b = Breaker::new("orders", t(0));
        run(&mut b, &c, 1, &["not_null(id)"]);
        let tr: Vec<_> = run(&mut b, &c, 2, &["not_null(id)"]).into_iter().collect();
        let a = &for_run(&cx, &report("r2", true), &tr, std::slice::from_ref(&b))[0];
        let s = slack_body(a);
        assert!(
            s["text"]
                .as_str()
                .unwrap()
                .starts_with(":red_circle: sluice: breaker orders: closed → open")
        );
        assert_eq!(s["blocks"][0]["type"], "header");
        assert_eq!(s["blocks"][0]["text"]["text"], "Breaker opened: orders");
        assert_eq!(s["blocks"][1]["fields"][2]["text"], "*Owner*\ningest");
        assert!(
            s["blocks"][2]["text"]["text"]
                .as_str()
                .unwrap()
                .contains("• `not_null(id)`: 1 of 2 rows have id NULL")
        );
        assert_eq!(
            s["blocks"].as_array().unwrap().last().unwrap()["type"],
            "context"
        );
    }

    #[test]
    fn an_exec_hook_gets_the_json_and_its_failures_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let c = config();
        let cx = Context {
            config: &c,
            lineage: None,
        };
        let mut b = Breaker::new("orders", t(0));
        let tr = machine::command(
            &mut b,
            &Cmd::Trip { until: None },
            "vendor outage",
            "cy",
            t(1),
        );
        let a = &for_transitions(&cx, &[tr], std::slice::from_ref(&b))[0];
        let out = dir.path().join("got.json");
        let cmd = sluice_spec::notify::ExecCommand {
            argv: vec![
                "sh".into(),
                "-c".into(),
                format!("cat > '{}'; echo \"$SLUICE_ALERT_KIND\" >&2", out.display()),
            ],
            dir: dir.path().to_path_buf(),
        };
        run_once(
            &cmd,
            &serde_json::to_vec(a).unwrap(),
            a,
            Duration::from_secs(5),
        )
        .unwrap();
        let got: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(got["kind"], "trip");
        assert_eq!(got["schema"], SCHEMA);
        assert_eq!(got["breaker"]["to"], "tripped");
        let fail = sluice_spec::notify::ExecCommand {
            argv: vec![
                "sh".into(),
                "-c".into(),
                "echo no pager today >&2; exit 3".into(),
            ],
            dir: dir.path().to_path_buf(),
        };
        let e = run_once(&fail, b"{}", a, Duration::from_secs(5)).unwrap_err();
        assert_eq!(e, "`sh` exited with code 3: no pager today");
        let slow = sluice_spec::notify::ExecCommand {
            argv: vec!["sleep".into(), "5".into()],
            dir: dir.path().to_path_buf(),
        };
        let started = Instant::now();
        let e = run_once(&slow, b"{}", a, Duration::from_millis(200)).unwrap_err();
        assert!(e.contains("did not finish within 0.2 s"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
