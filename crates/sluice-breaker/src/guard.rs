//! May a dataset publish? The guard's decision: its own breaker and every breaker upstream
//! of it (through the lineage graph) must let data flow, unless an override on the dataset
//! itself lets it through whatever is upstream.
//!
//! Datasets downstream of an open breaker are *blocked*: that is derived here, from the
//! lineage, never stored.

use std::collections::HashMap;

use sluice_lineage::{Direction, ImpactOptions, Lineage};

use crate::machine::{Breaker, Effective};

/// The guard's answer for one dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The dataset asked about.
    pub dataset: String,
    /// Whether it may publish.
    pub may_publish: bool,
    /// Its own breaker, when an override on it is what lets it through.
    pub overridden: Option<Breaker>,
    /// What stops it: its own breaker first (if halted), then each halted breaker upstream,
    /// in the order the lineage reaches them. Empty when it may publish.
    pub blocked_by: Vec<Breaker>,
}

impl Verdict {
    /// Decides for `dataset` given every breaker (`all`, after expiries) and the lineage
    /// graph, asked for only when it matters (no override on the dataset).
    ///
    /// # Complexity
    /// O(1) lookups when no breaker is halted; otherwise one upstream walk of the graph
    /// from the dataset, O(nodes + edges reached).
    pub fn decide<L, E>(
        dataset: &str,
        all: &[Breaker],
        lineage: impl FnOnce() -> Result<L, E>,
    ) -> Result<Verdict, E>
    where
        L: std::ops::Deref<Target = Lineage>,
    {
        let own = all.iter().find(|b| b.dataset == dataset);
        // An override on X lets X through whatever is upstream; otherwise X's own breaker
        // and every breaker upstream must let data flow.
        let overridden = own.filter(|b| b.effective() == Effective::Override);
        let mut blocked_by: Vec<Breaker> = Vec::new();
        if overridden.is_none() {
            blocked_by.extend(own.filter(|b| !b.effective().flows()).cloned());
            let graph = lineage()?;
            blocked_by.extend(upstream_blockers(&graph, dataset, all).into_iter().cloned());
        }
        Ok(Verdict {
            dataset: dataset.to_string(),
            may_publish: blocked_by.is_empty(),
            overridden: overridden.cloned(),
            blocked_by,
        })
    }
}

/// The halted (open or tripped) breakers upstream of `dataset` (itself excluded), in the
/// order the lineage reaches them.
///
/// # Complexity
/// O(breakers) when none is halted (no walk); otherwise one upstream walk from the dataset.
pub fn upstream_blockers<'a>(
    lineage: &Lineage,
    dataset: &str,
    all: &'a [Breaker],
) -> Vec<&'a Breaker> {
    // Only halted breakers matter; usually a handful, looked up by node id.
    let halted: HashMap<String, &Breaker> = all
        .iter()
        .filter(|b| !b.effective().flows())
        .map(|b| (format!("dataset:{}", b.dataset), b))
        .collect();
    if halted.is_empty() {
        return vec![];
    }
    let Some(root) = lineage.by_id(&format!("dataset:{dataset}")) else {
        return vec![];
    };
    let imp = sluice_lineage::impact(
        lineage,
        root,
        ImpactOptions {
            direction: Direction::Upstream,
            max_depth: None,
            include_tests: false,
        },
    );
    imp.hits
        .iter()
        .filter_map(|h| {
            lineage
                .node(h.node)
                .ids
                .iter()
                .find_map(|id| halted.get(id).copied())
        })
        .collect()
}
