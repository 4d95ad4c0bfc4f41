//! The routes. Each parses its request (path, query, body: strictly — an unknown query
//! parameter is a 400 naming the ones it takes), calls one use case of [`sluice_app`] off
//! the async runtime (the store and the graph are synchronous), and answers JSON.
//!
//! | route | use case |
//! | --- | --- |
//! | `GET /healthz` | liveness, the config in use, the last reload's error |
//! | `GET /metrics` | Prometheus text: breakers, last runs, failed checks, runs |
//! | `GET /api/openapi.json` | the OpenAPI 3.1 document of this API |
//! | `GET /api/datasets[/{name}]` | [`sluice_app::overview`] |
//! | `GET /api/impact/{node}` | [`sluice_app::lineage::impact`] |
//! | `GET /api/lineage` | [`sluice_app::lineage::show`] |
//! | `GET /api/breakers[/{dataset}/history]` | [`sluice_app::breakers`] |
//! | `GET /api/incidents` | [`sluice_app::breakers::report`] |
//! | `GET /api/runs[/{id}]` | [`sluice_app::runs`] |
//! | `GET /api/history/{dataset}` | [`sluice_app::history`] |
//! | `POST /api/breakers/{dataset}/{reset,trip,override}` | [`sluice_app::breakers::manual`] |
//! | `POST /api/check` | [`sluice_app::check`], in the background |
//! | `GET /`, `GET /assets/*` | the dashboard ([`crate::page`]) |

mod metrics;
mod params;
mod read;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sluice_app::Workspace;

use crate::error::{ApiError, ApiResult};
use crate::state::Shared;

pub use params::Params;

/// The router of the whole server.
pub fn router(state: Shared) -> Router {
    let limit = state.options().body_limit;
    Router::new()
        .route("/healthz", get(read::healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/api/openapi.json", get(openapi))
        .route("/api/datasets", get(read::datasets))
        .route("/api/datasets/{name}", get(read::dataset))
        .route("/api/impact/{node}", get(read::impact))
        .route("/api/lineage", get(read::lineage))
        .route("/api/breakers", get(read::breakers))
        .route(
            "/api/breakers/{dataset}/history",
            get(read::breaker_history),
        )
        .route("/api/breakers/{dataset}/{action}", post(write::breaker))
        .route("/api/incidents", get(read::incidents))
        .route("/api/runs", get(read::runs))
        .route("/api/runs/{id}", get(read::run))
        .route("/api/history/{dataset}", get(read::history))
        .route("/api/check", post(write::check))
        .merge(crate::page::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(secure_headers))
        .with_state(state)
}

/// The OpenAPI document, embedded.
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route `{}`: the API is under /api (GET /api/openapi.json lists it), the dashboard at /",
        uri.path().chars().take(200).collect::<String>()
    ))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{method} is not allowed on `{}` (GET /api/openapi.json lists each route's methods)",
            uri.path().chars().take(200).collect::<String>()
        ),
    )
}

/// No caching of answers about live state; no sniffing; no framing by other sites. No
/// CORS headers: browsers keep other origins out (CORS is off).
async fn secure_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

/// Runs `f` on the current workspace off the async runtime (the store and the graph are
/// synchronous); its error becomes the matching status.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&Workspace) -> sluice_app::Result<T> + Send + 'static,
) -> ApiResult<T> {
    let ws = state.workspace();
    tokio::task::spawn_blocking(move || f(&ws))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "a request's task failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the request failed inside sluice (a bug): see the server log, and please report it",
            )
        })?
        .map_err(ApiError::from)
}

/// JSON with a trailing newline, like the CLI's.
pub(crate) fn json<T: serde::Serialize>(v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("cannot write the answer as JSON: {e}"),
        )
        .into_response(),
    }
}

/// A shared handle, as the extractors give it.
pub(crate) type St = axum::extract::State<Arc<crate::state::AppState>>;
