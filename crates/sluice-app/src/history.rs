//! Metric history: what `sluice history X` shows — the values a dataset's runs recorded,
//! per metric, over time (see `sluice_breaker::store::metrics`).

use std::collections::BTreeMap;

use serde::Serialize;
use sluice_breaker::{Partition, PointQuery};

use crate::error::{Error, Result};
use crate::views::ts;
use crate::workspace::Workspace;

/// `--check NAME` naming nothing the dataset records.
#[derive(Debug, thiserror::Error)]
#[error("dataset `{dataset}` records no metric `{metric}`; {help}")]
pub struct UnknownMetric {
    /// The dataset.
    pub dataset: String,
    /// The name given.
    pub metric: String,
    /// Did you mean, or what it records.
    pub help: String,
}

/// Which history to show.
#[derive(Clone, Debug, Default)]
pub struct HistoryRequest {
    /// The dataset.
    pub dataset: String,
    /// One metric (`--check NAME`: a check's name, `name.field`, or a dataset metric such as
    /// `row_count`); all when `None`.
    pub metric: Option<String>,
    /// Only runs whose partition has these pairs.
    pub partition: Partition,
    /// The last this many values per metric.
    pub last: usize,
}

/// One recorded value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PointView {
    /// The run.
    pub run_id: String,
    /// The run's logical date (its partition's date, else when it started), RFC 3339.
    pub logical_at: String,
    /// When the run finished, RFC 3339.
    pub at: String,
    /// The run's partition (`ds=2026-11-30,region=EU`; empty for none).
    pub partition: String,
    /// The value.
    pub value: f64,
    /// The status of the check it came from, or `ok` for a dataset metric.
    pub status: String,
    /// Whether the dataset passed in that run.
    pub passed: bool,
}

/// One metric's values, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricHistory {
    /// The metric.
    pub metric: String,
    /// Its values.
    pub points: Vec<PointView>,
}

/// What `sluice history` shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryView {
    /// The dataset.
    pub dataset: String,
    /// Per metric, by name.
    pub metrics: Vec<MetricHistory>,
}

/// The recorded history of `req.dataset`.
pub fn history(ws: &Workspace, req: &HistoryRequest) -> Result<HistoryView> {
    let ds = ws.dataset(&req.dataset)?;
    let points = ws.with_store(|s| {
        Ok(s.read(|tx| {
            tx.metric_points(&PointQuery {
                dataset: &ds.name,
                ..PointQuery::default()
            })
        })?)
    })?;
    let mut by_metric: BTreeMap<String, Vec<PointView>> = BTreeMap::new();
    for p in points {
        if !p.partition.contains(&req.partition) {
            continue;
        }
        by_metric.entry(p.metric).or_default().push(PointView {
            run_id: p.run_id,
            logical_at: ts(p.logical_at),
            at: ts(p.at),
            partition: p.partition.to_string(),
            value: p.value,
            status: p.status,
            passed: p.passed,
        });
    }
    if let Some(m) = &req.metric
        && !by_metric.contains_key(m)
    {
        let known_check = ds.checks.iter().any(|c| &c.name == m);
        if !known_check {
            let help = sluice_spec::suggest::hint(m, by_metric.keys().map(String::as_str))
                .unwrap_or_else(|| {
                    if by_metric.is_empty() {
                        "no run of it has been recorded yet: `sluice check` records one".into()
                    } else {
                        format!(
                            "it records: {}",
                            by_metric.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    }
                });
            return Err(Error::UnknownMetric(Box::new(UnknownMetric {
                dataset: ds.name.clone(),
                metric: m.clone(),
                help,
            })));
        }
    }
    let metrics = by_metric
        .into_iter()
        .filter(|(name, _)| req.metric.as_ref().is_none_or(|m| m == name))
        .map(|(metric, mut points)| {
            let skip = points.len().saturating_sub(req.last.max(1));
            points.drain(..skip);
            MetricHistory { metric, points }
        })
        .collect();
    Ok(HistoryView {
        dataset: ds.name.clone(),
        metrics,
    })
}
