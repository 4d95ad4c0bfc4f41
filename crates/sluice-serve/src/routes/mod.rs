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
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use sluice_app::Workspace;

use sluice_app::breakers::Action;

use crate::error::{ApiError, ApiResult};
use crate::state::Shared;

pub use params::Params;

/// Every route of the API, in one place: path (axum and OpenAPI write a path parameter
/// alike, `{name}`), method, handler. The router is built from this table, and a test
/// checks that the OpenAPI document ([`OPENAPI`]) has exactly these operations.
pub fn table() -> Vec<(&'static str, Method, MethodRouter<Shared>)> {
    vec![
        ("/healthz", Method::GET, get(read::healthz)),
        ("/metrics", Method::GET, get(metrics::metrics)),
        ("/api/openapi.json", Method::GET, get(openapi)),
        ("/api/datasets", Method::GET, get(read::datasets)),
        ("/api/datasets/{name}", Method::GET, get(read::dataset)),
        ("/api/impact/{node}", Method::GET, get(read::impact)),
        ("/api/lineage", Method::GET, get(read::lineage)),
        ("/api/breakers", Method::GET, get(read::breakers)),
        (
            "/api/breakers/{dataset}/history",
            Method::GET,
            get(read::breaker_history),
        ),
        (
            "/api/breakers/{dataset}/reset",
            Method::POST,
            write::command(Action::Reset),
        ),
        (
            "/api/breakers/{dataset}/trip",
            Method::POST,
            write::command(Action::Trip),
        ),
        (
            "/api/breakers/{dataset}/override",
            Method::POST,
            write::command(Action::Override),
        ),
        ("/api/incidents", Method::GET, get(read::incidents)),
        ("/api/runs", Method::GET, get(read::runs)),
        ("/api/runs/{id}", Method::GET, get(read::run)),
        ("/api/history/{dataset}", Method::GET, get(read::history)),
        ("/api/check", Method::POST, post(write::check)),
    ]
}

/// The router of the whole server.
pub fn router(state: Shared) -> Router {
    let limit = state.options().body_limit;
    table()
        .into_iter()
        .fold(Router::new(), |r, (path, _, handler)| {
            r.route(path, handler)
        })
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    fn doc() -> Value {
        serde_json::from_str(OPENAPI).expect("openapi.json is JSON")
    }

    /// `(path, method)` of every operation of the document.
    fn documented() -> BTreeSet<(String, String)> {
        let doc = doc();
        let paths = doc["paths"].as_object().expect("paths");
        let mut out = BTreeSet::new();
        for (path, item) in paths {
            for method in item.as_object().expect("a path item").keys() {
                if [
                    "get", "put", "post", "delete", "patch", "head", "options", "trace",
                ]
                .contains(&method.as_str())
                {
                    out.insert((path.clone(), method.clone()));
                }
            }
        }
        out
    }

    fn routed() -> BTreeSet<(String, String)> {
        table()
            .into_iter()
            .map(|(p, m, _)| (p.to_string(), m.as_str().to_ascii_lowercase()))
            .collect()
    }

    #[test]
    fn every_route_is_documented_and_every_documented_operation_is_routed() {
        let (ops, routes) = (documented(), routed());
        let undocumented: Vec<_> = routes.difference(&ops).collect();
        let unrouted: Vec<_> = ops.difference(&routes).collect();
        assert!(
            undocumented.is_empty(),
            "routes missing from openapi.json: {undocumented:?}"
        );
        assert!(
            unrouted.is_empty(),
            "openapi.json documents operations the router does not have: {unrouted:?}"
        );
        assert_eq!(doc()["openapi"], "3.1.0");
    }

    #[test]
    fn mutating_operations_and_only_they_need_the_bearer_token() {
        let doc = doc();
        assert_eq!(
            doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
            "bearer"
        );
        for (path, method) in documented() {
            let op = &doc["paths"][&path][&method];
            let secured = op["security"] == serde_json::json!([{"bearerAuth": []}]);
            assert_eq!(secured, method == "post", "{method} {path}: security");
            assert!(
                op["responses"].get("400").is_some(),
                "{method} {path} documents no 400"
            );
            if secured {
                for status in ["401", "403", "413"] {
                    assert!(
                        op["responses"].get(status).is_some(),
                        "{method} {path} documents no {status}"
                    );
                }
            }
            // Path parameters: exactly those of the path.
            let in_path: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .filter_map(|p| p["name"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(in_path, declared, "{method} {path}: path parameters");
        }
    }

    /// Every `$ref` points at something that exists.
    #[test]
    fn every_reference_resolves() {
        fn walk(v: &Value, root: &Value, refs: &mut usize) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        let ptr = r.strip_prefix('#').expect("a local reference");
                        assert!(root.pointer(ptr).is_some(), "dangling $ref {r}");
                        *refs += 1;
                    }
                    m.values().for_each(|x| walk(x, root, refs));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, root, refs)),
                _ => {}
            }
        }
        let doc = doc();
        let mut refs = 0;
        walk(&doc, &doc, &mut refs);
        assert!(
            refs > 50,
            "only {refs} references: is the document complete?"
        );
    }

    /// The query parameters each route accepts are those the document lists: a route's
    /// handler refuses any other with a 400 naming the ones it takes.
    #[test]
    fn query_parameters_match_the_handlers() {
        let doc = doc();
        let expect = read::QUERIES;
        for (path, method) in documented() {
            let op = &doc["paths"][&path][&method];
            let mut names: Vec<String> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| match p.get("$ref").and_then(Value::as_str) {
                            Some(r) => doc.pointer(&r[1..]).expect("resolves").clone(),
                            None => p.clone(),
                        })
                        .filter(|p| p["in"] == "query")
                        .filter_map(|p| p["name"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            let mut want: Vec<String> = expect
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, n)| n.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            want.sort();
            assert_eq!(names, want, "{method} {path}: query parameters");
        }
    }
}
