//! The reading routes.

use axum::http::Uri;
use axum::response::Response;
use sluice_app::breaker::Partition;
use sluice_app::graph::{Selector, render};
use sluice_app::history::HistoryRequest;
use sluice_app::lineage::{Answer, ImpactRequest};
use sluice_app::runs::RunQuery;

use super::params::{Params, Segment};
use super::{St, blocking, json};
use crate::error::{ApiError, ApiResult};

/// The query parameters of `GET /api/impact/{node}`.
const IMPACT_QUERY: &[&str] = &["direction", "depth", "include_tests", "column"];

/// The query parameters of `GET /api/lineage`.
const LINEAGE_QUERY: &[&str] = &["select", "exclude", "limit", "include_tests"];

/// The query parameters of `GET /api/breakers/{dataset}/history`.
const BREAKER_HISTORY_QUERY: &[&str] = &["limit"];

/// The query parameters of `GET /api/incidents`.
const INCIDENTS_QUERY: &[&str] = &["since"];

/// The query parameters of `GET /api/runs`.
const RUNS_QUERY: &[&str] = &["dataset", "status", "since", "limit", "cursor"];

/// The query parameters of `GET /api/history/{dataset}`.
const HISTORY_QUERY: &[&str] = &["check", "last", "partition"];

/// Each route that takes query parameters, with them (the OpenAPI document lists the
/// same: a test checks).
#[cfg(test)]
pub(super) const QUERIES: &[(&str, &[&str])] = &[
    ("/api/impact/{node}", IMPACT_QUERY),
    ("/api/lineage", LINEAGE_QUERY),
    ("/api/breakers/{dataset}/history", BREAKER_HISTORY_QUERY),
    ("/api/incidents", INCIDENTS_QUERY),
    ("/api/runs", RUNS_QUERY),
    ("/api/history/{dataset}", HISTORY_QUERY),
];

/// `GET /healthz`: 200 while serving; says which config is in use, and the error of the
/// last reload if it failed (the previous config stays in use).
pub(super) async fn healthz(state: St, uri: Uri) -> ApiResult<Response> {
    Params::parse(&uri, &[])?;
    let ws = state.workspace();
    let reload_error = state
        .reload_error
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    Ok(json(&serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "config": ws.config().file.path().display().to_string(),
        "datasets": ws.config().datasets.len(),
        "reload_error": reload_error,
        "uptime_seconds": state.uptime(),
        "background_runs": state.tasks.running(),
    })))
}

/// `GET /api/datasets`.
pub(super) async fn datasets(state: St, uri: Uri) -> ApiResult<Response> {
    Params::parse(&uri, &[])?;
    let v = blocking(&state, sluice_app::overview::datasets).await?;
    Ok(json(&serde_json::json!({ "datasets": v })))
}

/// `GET /api/datasets/{name}`.
pub(super) async fn dataset(state: St, Segment(name): Segment, uri: Uri) -> ApiResult<Response> {
    Params::parse(&uri, &[])?;
    let v = blocking(&state, move |ws| sluice_app::overview::dataset(ws, &name)).await?;
    Ok(json(&v))
}

/// `GET /api/impact/{node}?direction=downstream|upstream&depth=N&column=C`: the JSON of
/// `sluice impact -f json` (a column's impact with `column=`, or for `table.column`).
pub(super) async fn impact(state: St, Segment(node): Segment, uri: Uri) -> ApiResult<Response> {
    let p = Params::parse(&uri, IMPACT_QUERY)?;
    let column = p.text("column");
    let upstream = p.choice("direction", &["downstream", "upstream"])? == "upstream";
    let depth = p.number("depth", 1..=10_000)?.map(|d| d as u32);
    let include_tests = p.choice("include_tests", &["false", "true"])? == "true";
    blocking(&state, move |ws| {
        let g = sluice_app::lineage::of_workspace(ws)?;
        let req = ImpactRequest {
            node,
            upstream,
            depth,
            include_tests,
            column,
        };
        Ok(match sluice_app::lineage::impact_any(&g, &req)? {
            Answer::Nodes(imp) => json(&render::impact_json(&g.lineage, &imp).with_paths(true)),
            Answer::Columns(ci) => json(&render::column_impact_json(&g.lineage, &ci)),
        })
    })
    .await
}

/// `GET /api/lineage?select=SELECTOR&exclude=SELECTOR&limit=N`: nodes and edges (the JSON
/// of `sluice lineage show -f json`), at most `limit` nodes (default 5000), with `total`
/// and `truncated`.
pub(super) async fn lineage(state: St, uri: Uri) -> ApiResult<Response> {
    let p = Params::parse(&uri, LINEAGE_QUERY)?;
    let words = |k: &str| {
        p.text(k)
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    };
    let selector = Selector {
        select: words("select"),
        exclude: words("exclude"),
        ..Selector::default()
    };
    let limit = p.number("limit", 1..=200_000)?.unwrap_or(5000) as usize;
    let include_tests = p.choice("include_tests", &["false", "true"])? == "true";
    blocking(&state, move |ws| {
        let g = sluice_app::lineage::of_workspace(ws)?;
        let mut nodes = sluice_app::lineage::show(&g, &selector, include_tests)?;
        let total = nodes.len();
        nodes.truncate(limit);
        let mut v = render::graph_json(&g.lineage, &nodes);
        if let Some(o) = v.as_object_mut() {
            o.insert("total".into(), total.into());
            o.insert("truncated".into(), (total > limit).into());
        }
        Ok(json(&v))
    })
    .await
}

/// `GET /api/breakers`: the JSON of `sluice breaker status -f json`.
pub(super) async fn breakers(state: St, uri: Uri) -> ApiResult<Response> {
    Params::parse(&uri, &[])?;
    let v = blocking(&state, |ws| sluice_app::breakers::status(ws, None)).await?;
    Ok(json(&v))
}

/// `GET /api/breakers/{dataset}/history?limit=N`: its audit log, oldest first.
pub(super) async fn breaker_history(
    state: St,
    Segment(dataset): Segment,
    uri: Uri,
) -> ApiResult<Response> {
    let p = Params::parse(&uri, BREAKER_HISTORY_QUERY)?;
    let limit = p.number("limit", 1..=10_000)?.unwrap_or(100) as usize;
    let v = blocking(&state, move |ws| {
        sluice_app::breakers::history(ws, &dataset, limit)
    })
    .await?;
    Ok(json(&serde_json::json!({ "log": v })))
}

/// `GET /api/incidents?since=90d`: the JSON of `sluice breaker report -f json`.
pub(super) async fn incidents(state: St, uri: Uri) -> ApiResult<Response> {
    let p = Params::parse(&uri, INCIDENTS_QUERY)?;
    let since = p.text("since").unwrap_or_else(|| "90d".into());
    let (report, _) = blocking(&state, move |ws| sluice_app::breakers::report(ws, &since)).await?;
    Ok(json(&report))
}

/// `GET /api/runs?dataset=&status=&since=&limit=&cursor=`.
pub(super) async fn runs(state: St, uri: Uri) -> ApiResult<Response> {
    let p = Params::parse(&uri, RUNS_QUERY)?;
    let q = RunQuery {
        dataset: p.text("dataset"),
        status: p.text("status"),
        since: p.text("since"),
        limit: p
            .number("limit", 1..=sluice_app::runs::MAX_LIMIT as u64)?
            .map(|n| n as usize),
        cursor: p.text("cursor"),
    };
    let v = blocking(&state, move |ws| sluice_app::runs::list(ws, &q)).await?;
    Ok(json(&v))
}

/// `GET /api/runs/{id}`: a recorded run with its report, or a background run still queued
/// or running.
pub(super) async fn run(state: St, Segment(id): Segment, uri: Uri) -> ApiResult<Response> {
    Params::parse(&uri, &[])?;
    let pending = state
        .pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&id)
        .cloned();
    if let Some(p) = pending {
        return Ok(json(&p));
    }
    let v = blocking(&state, move |ws| sluice_app::runs::get(ws, &id)).await?;
    Ok(json(&v))
}

/// `GET /api/history/{dataset}?check=NAME&last=N&partition=k=v,...`: the JSON of `sluice
/// history -f json`.
pub(super) async fn history(state: St, Segment(dataset): Segment, uri: Uri) -> ApiResult<Response> {
    let p = Params::parse(&uri, HISTORY_QUERY)?;
    let partition: Vec<String> = p
        .text("partition")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let partition = Partition::parse(&partition).map_err(|e| ApiError::invalid(e.to_string()))?;
    let req = HistoryRequest {
        dataset,
        metric: p.text("check"),
        partition,
        last: p.number("last", 1..=10_000)?.unwrap_or(100) as usize,
    };
    let v = blocking(&state, move |ws| sluice_app::history::history(ws, &req)).await?;
    Ok(json(&v))
}
