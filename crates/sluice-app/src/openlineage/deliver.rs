//! Delivery: one NDJSON line per event in a file, a POST per event to an endpoint; a
//! failure is recorded, never raised.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{End, JobPlan, RETRY, RunMeta, Settings, end_event, start_event};
use crate::http;

/// An event that did not reach one of its targets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("OpenLineage {event} event of run {run_id} not delivered to {target}: {message}")]
pub struct Failure {
    /// `START`, `COMPLETE`, `FAIL`.
    pub event: String,
    /// The run.
    pub run_id: String,
    /// The file, or the URL (redacted).
    pub target: String,
    /// What went wrong.
    pub message: String,
}

/// Delivers events to the targets of its [`Settings`]; remembers what failed.
#[derive(Clone, Debug)]
pub struct Emitter {
    settings: Arc<Settings>,
    failures: Arc<Mutex<Vec<Failure>>>,
}

impl Emitter {
    /// An emitter for `settings`.
    pub fn new(settings: Settings) -> Emitter {
        Emitter {
            settings: Arc::new(settings),
            failures: Arc::default(),
        }
    }

    /// Its settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Every delivery that failed so far, in order.
    pub fn failures(&self) -> Vec<Failure> {
        self.failures.lock().expect("not poisoned").clone()
    }

    /// Delivers `event` to every target (blocking): appends it to the file as one line,
    /// POSTs it to the endpoint (with retries). A failure is recorded, never returned.
    pub fn deliver(&self, event: &Value) {
        let kind = event["eventType"].as_str().unwrap_or("?").to_string();
        let run_id = event["run"]["runId"].as_str().unwrap_or("?").to_string();
        let fail = |to: String, message: String| {
            tracing::debug!(%to, %message, "OpenLineage delivery failed");
            self.failures.lock().expect("not poisoned").push(Failure {
                event: kind.clone(),
                run_id: run_id.clone(),
                target: to,
                message,
            });
        };
        if let Some(path) = &self.settings.file
            && let Err(e) = append_line(path, event)
        {
            fail(path.display().to_string(), e.to_string());
        }
        if let Some(h) = &self.settings.http {
            let bearer = h.api_key.as_ref().map(|k| format!("Bearer {k}"));
            let headers: Vec<(&str, &str)> = bearer
                .as_deref()
                .map(|b| ("authorization", b))
                .into_iter()
                .collect();
            match http::post_json(&h.url, &headers, event, h.timeout, RETRY) {
                Ok(_) => {
                    tracing::debug!(url = %http::redact_url(&h.url), event = %kind, "OpenLineage event delivered")
                }
                Err(e) => fail(http::redact_url(&h.url), e.to_string()),
            }
        }
    }
}

/// Appends `event` to `path` as one line (one write, in append mode: concurrent writers
/// never interleave a line), creating the file and its folder.
fn append_line(path: &Path, event: &Value) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_vec(event).expect("a JSON value serialises");
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(&line)
}

/// A run announced to OpenLineage: its START is being delivered in the background; its
/// end follows with [`Announced::finish`].
pub(crate) struct Announced {
    emitter: Emitter,
    meta: RunMeta,
    plan: JobPlan,
    start: Option<tokio::task::JoinHandle<()>>,
}

impl Announced {
    /// Builds the START event and delivers it on a blocking thread (the run does not wait
    /// for a slow endpoint). Needs the caller's tokio runtime.
    pub(crate) fn start(emitter: &Emitter, meta: RunMeta, plan: JobPlan) -> Announced {
        let event = start_event(&meta, &plan, Utc::now());
        let e = emitter.clone();
        let start = tokio::task::spawn_blocking(move || e.deliver(&event));
        Announced {
            emitter: emitter.clone(),
            meta,
            plan,
            start: Some(start),
        }
    }

    /// Delivers the closing event, after the START (events of a run arrive in order).
    pub(crate) async fn finish(mut self, end: End<'_>) {
        if let Some(start) = self.start.take() {
            let _ = start.await;
        }
        let at = match end {
            End::Ran(r) => DateTime::parse_from_rfc3339(&r.finished_at)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|_| Utc::now()),
            _ => Utc::now(),
        };
        let event = end_event(&self.meta, &self.plan, end, at);
        let e = self.emitter.clone();
        let _ = tokio::task::spawn_blocking(move || e.deliver(&event)).await;
    }
}

/// Announces a run when `emitter` is set: the run's id and its START.
pub(crate) fn announce(
    emitter: Option<&Emitter>,
    run_id: &str,
    nominal: Option<DateTime<Utc>>,
    plan: impl FnOnce() -> JobPlan,
) -> Option<Announced> {
    let emitter = emitter?;
    let s = emitter.settings();
    let meta = RunMeta {
        run_id: run_id.to_string(),
        namespace: s.namespace.clone(),
        parent: s.parent.clone(),
        nominal,
    };
    Some(Announced::start(emitter, meta, plan()))
}
