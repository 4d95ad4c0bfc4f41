//! The mutating routes: each needs the bearer token (checked before the body is read).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use serde::Deserialize;
use sluice_app::breaker::Partition;
use sluice_app::breakers::{Action, ManualRequest};
use sluice_app::check::CheckRequest;
use tracing::Instrument;

use super::params::{Params, Segment};
use super::{St, blocking, json};
use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::state::{Pending, Shared};

/// Who acts when a request does not say.
const DEFAULT_ACTOR: &str = "api";

fn authorize(state: &Shared, headers: &HeaderMap) -> ApiResult<()> {
    let token = state.token();
    let var = state.workspace().config().serve.token_var().to_string();
    auth::authorize(
        token.as_ref(),
        headers.get(header::AUTHORIZATION).map(|h| h.as_bytes()),
        &var,
    )
    .map_err(ApiError::from)
}

/// The JSON body, into `T`; a missing or malformed body is a 400 saying what is expected.
fn body<T: for<'de> Deserialize<'de>>(
    raw: Result<Bytes, BytesRejection>,
    example: &str,
) -> ApiResult<T> {
    let bytes = raw.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is larger than this server accepts (--body-limit)",
            )
        } else {
            ApiError::invalid(format!("cannot read the request body: {e}"))
        }
    })?;
    let text = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        &bytes[..]
    };
    serde_json::from_slice(text).map_err(|e| {
        ApiError::invalid(format!(
            "the body is not the JSON this call takes ({e}); e.g. {example}"
        ))
    })
}

/// The body of a breaker command.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakerBody {
    reason: Option<String>,
    until: Option<String>,
    by: Option<String>,
}

/// The route of a breaker command, `POST /api/breakers/{dataset}/reset|trip|override`
/// with `{"reason", "until", "by"}` (`until` not for a reset): the JSON of `sluice breaker
/// <action> -f json`.
pub(super) fn command(action: Action) -> MethodRouter<Shared> {
    post(
        move |state: St,
              Segment(dataset): Segment,
              headers: HeaderMap,
              uri: axum::http::Uri,
              raw: Result<Bytes, BytesRejection>| {
            breaker(state, action, dataset, headers, uri, raw)
        },
    )
}

/// A breaker command: the token first, then the query (none) and the body.
async fn breaker(
    state: St,
    action: Action,
    dataset: String,
    headers: HeaderMap,
    uri: axum::http::Uri,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    authorize(&state, &headers)?;
    Params::parse(&uri, &[])?;
    let b: BreakerBody = body(
        raw,
        r#"{"reason": "vendor fixed the feed", "until": "4h", "by": "alice"}"#,
    )?;
    let req = ManualRequest {
        action,
        dataset,
        reason: b.reason,
        until: b.until,
        by: Some(b.by.unwrap_or_else(|| DEFAULT_ACTOR.to_string())),
    };
    let v = blocking(&state, move |ws| sluice_app::breakers::manual(ws, &req)).await?;
    Ok(json(&v))
}

/// The body of `POST /api/check`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckBody {
    #[serde(default)]
    datasets: Vec<String>,
    dataset: Option<String>,
    stage: Option<String>,
    #[serde(default)]
    partition: Vec<String>,
    by: Option<String>,
}

/// `POST /api/check` with `{"dataset": "orders"}`, `{"datasets": [...]}` or `{"stage":
/// "s"}` (and `partition: ["ds=2026-11-30"]`): validates the request, queues the run, and
/// answers 202 with its id at once; `GET /api/runs/{id}` follows it. At most
/// `--max-runs` run at once; the rest wait their turn.
pub(super) async fn check(
    state: St,
    headers: HeaderMap,
    uri: axum::http::Uri,
    raw: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    authorize(&state, &headers)?;
    Params::parse(&uri, &[])?;
    let b: CheckBody = body(
        raw,
        r#"{"dataset": "orders"} or {"stage": "load_orders", "partition": ["ds=2026-11-30"]}"#,
    )?;
    let mut datasets = b.datasets;
    datasets.extend(b.dataset);
    if datasets.is_empty() && b.stage.is_none() {
        return Err(ApiError::invalid(
            r#"say what to check: {"dataset": "orders"}, {"datasets": ["a", "b"]} or {"stage": "load_orders"}"#,
        ));
    }
    let partition = Partition::parse(&b.partition).map_err(|e| ApiError::invalid(e.to_string()))?;
    let run_id = sluice_app::engine::new_run_id();
    let req = CheckRequest {
        datasets: datasets.clone(),
        stage: b.stage.clone(),
        record: true,
        partition,
        run_id: Some(run_id.clone()),
        ..CheckRequest::default()
    };
    let checked = req.clone();
    blocking(&state, move |ws| {
        sluice_app::check::validate_request(ws, &checked)?;
        ws.open_store()
    })
    .await?;
    let pending = Pending {
        run_id: run_id.clone(),
        status: "queued",
        datasets,
        stage: b.stage,
        requested_at: sluice_app::views::ts(chrono::Utc::now()),
        by: b.by.unwrap_or_else(|| DEFAULT_ACTOR.to_string()),
        message: None,
    };
    state
        .pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(run_id.clone(), pending.clone());
    let guard = state.tasks.enter();
    let s = Arc::clone(&state);
    let span = tracing::info_span!("background_check", run_id = %run_id);
    tokio::spawn(
        async move {
            let _guard = guard;
            run_in_background(s, req).await;
        }
        .instrument(span),
    );
    let location = format!("/api/runs/{run_id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        json(&pending),
    )
        .into_response())
}

/// Waits for a permit, runs the check, and forgets the pending entry once the run is
/// recorded (an error stays, with its message, for `GET /api/runs/{id}`).
async fn run_in_background(state: Shared, req: CheckRequest) {
    let run_id = req.run_id.clone().unwrap_or_default();
    let permit = Arc::clone(&state.permits).acquire_owned().await;
    let set = |status: &'static str, message: Option<String>| {
        if let Some(p) = state
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&run_id)
        {
            p.status = status;
            p.message = message;
        }
    };
    set("running", None);
    let ws = state.workspace();
    let outcome = match permit {
        Ok(_permit) => sluice_app::check::check(&ws, req).await.map(|_| ()),
        Err(_) => Ok(()),
    };
    match outcome {
        Ok(()) => {
            state
                .pending
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&run_id);
        }
        Err(e) => {
            tracing::error!(error = %e, "background check failed");
            set("error", Some(e.to_string()));
        }
    }
}
