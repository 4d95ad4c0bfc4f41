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

/// For each of `datasets`, the halted breakers upstream of it (itself excluded), in the
/// order [`upstream_blockers`] gives them one at a time (tier, depth, name).
///
/// # Complexity
/// O(breakers) when none is halted; otherwise one downstream walk per halted breaker
/// (usually a handful), not one upstream walk per dataset.
pub fn blockers_of_all<'a>(
    lineage: &Lineage,
    datasets: &[&str],
    all: &'a [Breaker],
) -> HashMap<String, Vec<&'a Breaker>> {
    let mut out: HashMap<String, Vec<Reached<'a>>> = HashMap::new();
    let wanted: HashMap<NodeIndexKey, &str> = datasets
        .iter()
        .filter_map(|d| {
            lineage
                .by_id(&format!("dataset:{d}"))
                .map(|ix| (ix.index(), *d))
        })
        .collect();
    for b in all.iter().filter(|b| !b.effective().flows()) {
        let Some(root) = lineage.by_id(&format!("dataset:{}", b.dataset)) else {
            continue;
        };
        let imp = sluice_lineage::impact(
            lineage,
            root,
            ImpactOptions {
                direction: Direction::Downstream,
                max_depth: None,
                include_tests: false,
            },
        );
        let tier = lineage.node(root).tier;
        for h in &imp.hits {
            if let Some(d) = wanted.get(&h.node.index()) {
                out.entry((*d).to_string()).or_default().push((
                    h.depth,
                    tier,
                    b.dataset.as_str(),
                    b,
                ));
            }
        }
    }
    out.into_iter()
        .map(|(d, mut v)| {
            // As an upstream impact orders its hits: tier (untiered last), depth, name.
            v.sort_by(|a, b| {
                (a.1.unwrap_or(u8::MAX), a.0, a.2).cmp(&(b.1.unwrap_or(u8::MAX), b.0, b.2))
            });
            (d, v.into_iter().map(|x| x.3).collect())
        })
        .collect()
}

type NodeIndexKey = usize;

/// A halted breaker reaching a dataset: depth, the breaker dataset's tier, its name.
type Reached<'a> = (u32, Option<u8>, &'a str, &'a Breaker);

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

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_lineage::{Fragment, NodeKind, Origin, RawEdge, RawNode};

    /// a → s1 → b → s2 → c, and d → s2; e alone. Tiers make the order interesting.
    fn lineage() -> Lineage {
        let mut f = Fragment::new(Origin::Config);
        for (id, kind, tier) in [
            ("dataset:a", NodeKind::Dataset, Some(2)),
            ("dataset:b", NodeKind::Dataset, None),
            ("dataset:c", NodeKind::Dataset, None),
            ("dataset:d", NodeKind::Dataset, Some(1)),
            ("dataset:e", NodeKind::Dataset, None),
            ("stage:s1", NodeKind::Stage, None),
            ("stage:s2", NodeKind::Stage, None),
        ] {
            f.nodes.push(RawNode {
                id: id.into(),
                name: id.split_once(':').unwrap().1.into(),
                kind: Some(kind),
                tier,
                ..RawNode::default()
            });
        }
        for (from, to) in [
            ("dataset:a", "stage:s1"),
            ("stage:s1", "dataset:b"),
            ("dataset:b", "stage:s2"),
            ("dataset:d", "stage:s2"),
            ("stage:s2", "dataset:c"),
        ] {
            f.edges.push(RawEdge {
                from: from.into(),
                to: to.into(),
            });
        }
        Lineage::build(vec![f], &[]).unwrap()
    }

    #[test]
    fn blockers_of_all_agree_with_one_walk_per_dataset() {
        let l = lineage();
        let now = chrono::Utc::now();
        let mut all: Vec<Breaker> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|d| Breaker::new(d, now))
            .collect();
        for i in [0, 1, 3] {
            all[i].state = crate::machine::State::Open;
        }
        let names = ["a", "b", "c", "d", "e"];
        let batch = blockers_of_all(&l, &names, &all);
        for d in names {
            let one: Vec<&str> = upstream_blockers(&l, d, &all)
                .iter()
                .map(|b| b.dataset.as_str())
                .collect();
            let many: Vec<&str> = batch
                .get(d)
                .map(|v| v.iter().map(|b| b.dataset.as_str()).collect())
                .unwrap_or_default();
            assert_eq!(many, one, "{d}");
        }
        let c: Vec<&str> = batch["c"].iter().map(|b| b.dataset.as_str()).collect();
        assert_eq!(c, ["d", "a", "b"], "tier 1, tier 2, then untiered");
    }
}
