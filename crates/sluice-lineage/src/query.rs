//! "What breaks if X fails?" (downstream) and "what upstream could explain X?" (upstream).
//!
//! # Depth
//!
//! Depth counts steps of data, not nodes: a stage (or an OpenLineage job) and the data it
//! writes are one step. From `orders_raw -> clean_orders -> orders_clean -> dashboard`,
//! the stage `clean_orders` and `orders_clean` are both at depth 1 and the dashboard at 2,
//! so `--depth 1` shows what the first hop touches, stages and their outputs together
//! (Marquez counts jobs and datasets alike, which halves every depth a user asks for).
//! Formally: the length of the shortest path, where a step out of a stage or job into data
//! weighs 0 (unless the stage is where the walk starts) and every other step weighs 1. On a
//! graph without stages and jobs (a dbt project) it is the plain shortest path length.
//!
//! # Complexity
//!
//! [`impact`] is a 0-1 breadth-first search (Dial's algorithm with two buckets) over flat
//! adjacency arrays: O(|V'| + |E'|) time for the |V'| nodes and |E'| edges reached, plus
//! O(|V| / 64) per level that holds more than |V| / 64 nodes (such levels are visited in
//! index order, for memory locality); O(|V|) memory for the depth and parent arrays (4 bytes
//! each per node). Then O(k log k) to sort the k nodes reached, on one packed `u64` key per
//! node. A path is read from the parent array, O(depth). Nothing is precomputed per query;
//! the arrays and per-node sort keys are built once by [`Lineage::build`].

use std::collections::BTreeMap;

use petgraph::graph::NodeIndex;
use serde::Serialize;

use crate::graph::{Lineage, NodeKind, bit};

/// Which way to walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// To what reads X, transitively: what breaks if X fails.
    Downstream,
    /// To what X reads, transitively: what could explain X.
    Upstream,
}

impl Direction {
    /// `downstream` or `upstream`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Downstream => "downstream",
            Direction::Upstream => "upstream",
        }
    }
}

/// How to walk.
#[derive(Clone, Copy, Debug)]
pub struct ImpactOptions {
    /// Which way.
    pub direction: Direction,
    /// Stop at this depth (see the module docs for what a step is).
    pub max_depth: Option<u32>,
    /// Report dbt tests too (they are always walked; they only lead to nothing).
    pub include_tests: bool,
}

impl Default for ImpactOptions {
    fn default() -> Self {
        ImpactOptions {
            direction: Direction::Downstream,
            max_depth: None,
            include_tests: false,
        }
    }
}

/// A node reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The node.
    pub node: NodeIndex,
    /// Its depth.
    pub depth: u32,
}

/// An owner to call, with the most critical thing of theirs that is hit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notify {
    /// The owner.
    pub owner: String,
    /// Their most critical node hit (lowest tier, exposures before others, then nearest).
    pub most_critical: NodeIndex,
    /// Its tier.
    pub tier: Option<u8>,
    /// How many of their nodes are hit.
    pub count: usize,
}

/// The answer to an impact query.
#[derive(Debug)]
pub struct Impact {
    /// Where the walk started.
    pub root: NodeIndex,
    /// Which way it went.
    pub direction: Direction,
    /// The depth limit, if any.
    pub max_depth: Option<u32>,
    /// Everything reached, exposures first, then by tier (untiered last), depth and name.
    pub hits: Vec<Hit>,
    /// For each node, the one it was reached from on a shortest path (`u32::MAX`: not reached).
    parent: Vec<u32>,
}

const NONE: u32 = u32::MAX;

/// Walks from `root` (see the module docs for depth and complexity).
pub fn impact(lineage: &Lineage, root: NodeIndex, opts: ImpactOptions) -> Impact {
    let _span = tracing::info_span!("impact", root = %lineage.graph[root].name, direction = opts.direction.name()).entered();
    let n = lineage.graph.node_count();
    let adj = match opts.direction {
        Direction::Downstream => &lineage.down,
        Direction::Upstream => &lineage.up,
    };
    let limit = opts.max_depth.unwrap_or(u32::MAX);
    let skip_tests = !opts.include_tests;
    let mut depth = vec![NONE; n];
    let mut parent = vec![NONE; n];
    let r = root.index() as u32;
    depth[r as usize] = 0;
    // Level by level (Dial's algorithm for weights 0 and 1): `level` holds the nodes at
    // depth `d`, and grows while 0-weight steps reach more of them; 1-weight steps go to
    // `next`. A node is queued only when its depth drops, so an entry whose depth has since
    // dropped below its level's is stale and skipped; each node is expanded once.
    let mut level: Vec<u32> = vec![r];
    let mut next: Vec<u32> = Vec::new();
    // Sort keys, made as nodes settle: exposure flag, tier, depth, name rank.
    let mut keys: Vec<u64> = Vec::new();
    let mut d: u32 = 0;
    // Levels at least this large are sorted (scanning the bitset costs n/64 words).
    let dense = n / 64 + 1;
    let mut seen: Vec<u64> = Vec::new();
    loop {
        let mut i = 0;
        while i < level.len() {
            let x = level[i];
            i += 1;
            if depth[x as usize] != d {
                continue;
            }
            if x != r && !(skip_tests && bit(&lineage.tests, x)) {
                let dk = u64::from(d.min((1 << 23) - 1));
                keys.push(lineage.sort_base[x as usize] | (dk << 32));
            }
            // Leaving a stage or job (not the root) into data costs nothing: depth counts
            // data steps.
            let free = x != r && bit(&lineage.process, x);
            for &y in adj.of(x) {
                let zero = free && !bit(&lineage.process, y);
                let dy = if zero { d } else { d + 1 };
                if dy < depth[y as usize] && dy <= limit {
                    depth[y as usize] = dy;
                    parent[y as usize] = x;
                    if zero {
                        level.push(y);
                    } else {
                        next.push(y);
                    }
                }
            }
        }
        if next.is_empty() {
            break;
        }
        if next.len() >= dense {
            // A large level is visited in index order (a counting sort through a bitset,
            // which also drops duplicates): the adjacency and per-node arrays are then read
            // front to back instead of at random, which halves the time on big graphs.
            level.clear();
            seen.resize(n.div_ceil(64), 0);
            for &y in &next {
                seen[(y >> 6) as usize] |= 1 << (y & 63);
            }
            for (w, word) in seen.iter_mut().enumerate() {
                let mut v = std::mem::take(word);
                while v != 0 {
                    level.push((w as u32) << 6 | v.trailing_zeros());
                    v &= v - 1;
                }
            }
        } else {
            std::mem::swap(&mut level, &mut next);
        }
        next.clear();
        d += 1;
    }
    keys.sort_unstable();
    let hits = keys
        .into_iter()
        .map(|k| {
            let x = lineage.by_rank[(k & 0xffff_ffff) as usize];
            Hit {
                node: NodeIndex::new(x as usize),
                depth: depth[x as usize],
            }
        })
        .collect();
    Impact {
        root,
        direction: opts.direction,
        max_depth: opts.max_depth,
        hits,
        parent,
    }
}

impl Impact {
    /// A shortest path from the root to `node`, both included, in the direction walked.
    pub fn path(&self, node: NodeIndex) -> Vec<NodeIndex> {
        let mut path = vec![node];
        let mut x = node.index() as u32;
        while self.parent[x as usize] != NONE {
            x = self.parent[x as usize];
            path.push(NodeIndex::new(x as usize));
        }
        path.reverse();
        path
    }

    /// The node `node` was reached from, on its path.
    pub fn parent(&self, node: NodeIndex) -> Option<NodeIndex> {
        let p = self.parent[node.index()];
        (p != NONE).then(|| NodeIndex::new(p as usize))
    }

    /// How many nodes of each kind are hit.
    pub fn by_kind(&self, lineage: &Lineage) -> BTreeMap<NodeKind, usize> {
        let mut m = BTreeMap::new();
        for h in &self.hits {
            *m.entry(lineage.graph[h.node].kind).or_default() += 1;
        }
        m
    }

    /// How many nodes of each tier are hit, most critical tier first, untiered (`None`) last.
    pub fn by_tier(&self, lineage: &Lineage) -> Vec<(Option<u8>, usize)> {
        let mut m: BTreeMap<u8, usize> = BTreeMap::new();
        let mut untiered = 0;
        for h in &self.hits {
            match lineage.graph[h.node].tier {
                Some(t) => *m.entry(t).or_default() += 1,
                None => untiered += 1,
            }
        }
        let mut v: Vec<(Option<u8>, usize)> = m.into_iter().map(|(t, c)| (Some(t), c)).collect();
        if untiered > 0 {
            v.push((None, untiered));
        }
        v
    }

    /// The owners to call: each distinct owner hit, ranked by the most critical thing they
    /// own (lowest tier first, untiered last; an exposure before other nodes of its tier;
    /// then the nearest; then the owner's name).
    pub fn notify(&self, lineage: &Lineage) -> Vec<Notify> {
        let mut by_owner: BTreeMap<&str, Notify> = BTreeMap::new();
        let mut best: BTreeMap<&str, (u8, bool, u32)> = BTreeMap::new();
        for h in &self.hits {
            let node = &lineage.graph[h.node];
            let Some(owner) = node.owner.as_deref() else {
                continue;
            };
            let rank = (
                node.tier.unwrap_or(u8::MAX),
                node.kind != NodeKind::Exposure,
                h.depth,
            );
            let entry = by_owner.entry(owner).or_insert_with(|| Notify {
                owner: owner.to_string(),
                most_critical: h.node,
                tier: node.tier,
                count: 0,
            });
            entry.count += 1;
            let b = best.entry(owner).or_insert(rank);
            if rank < *b {
                *b = rank;
                entry.most_critical = h.node;
                entry.tier = node.tier;
            }
        }
        let mut out: Vec<Notify> = by_owner.into_values().collect();
        out.sort_by(|a, b| {
            best[a.owner.as_str()]
                .cmp(&best[b.owner.as_str()])
                .then(a.owner.cmp(&b.owner))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Fragment, Origin, RawEdge, RawNode};

    fn pipeline() -> Lineage {
        let mut f = Fragment::new(Origin::Config);
        let mut node = |id: &str, kind: NodeKind, owner: Option<&str>, tier: Option<u8>| {
            f.nodes.push(RawNode {
                id: id.into(),
                name: id.into(),
                kind: Some(kind),
                owner: owner.map(Into::into),
                tier,
                ..RawNode::default()
            })
        };
        node("raw", NodeKind::Dataset, Some("ingest"), Some(1));
        node("clean_orders", NodeKind::Stage, Some("data-eng"), None);
        node("clean", NodeKind::Dataset, Some("data-eng"), Some(2));
        node("daily", NodeKind::Dataset, Some("analytics"), Some(3));
        node("dash", NodeKind::Exposure, Some("finance"), Some(1));
        node("ml", NodeKind::Exposure, Some("data-science"), None);
        node("test_clean", NodeKind::Test, None, None);
        for (a, b) in [
            ("raw", "clean_orders"),
            ("clean_orders", "clean"),
            ("clean", "daily"),
            ("daily", "dash"),
            ("clean", "ml"),
            ("clean", "test_clean"),
        ] {
            f.edges.push(RawEdge {
                from: a.into(),
                to: b.into(),
            });
        }
        Lineage::build(vec![f], &[]).unwrap()
    }

    fn names(l: &Lineage, i: &Impact) -> Vec<(String, u32)> {
        i.hits
            .iter()
            .map(|h| (l.graph[h.node].name.clone(), h.depth))
            .collect()
    }

    #[test]
    fn downstream_orders_exposures_first_then_tier_then_depth() {
        let l = pipeline();
        let i = impact(&l, l.find("raw").unwrap(), ImpactOptions::default());
        let expect = [
            ("dash", 3),
            ("ml", 2),
            ("clean", 1),
            ("daily", 2),
            ("clean_orders", 1),
        ];
        assert_eq!(names(&l, &i), expect.map(|(n, d)| (n.to_string(), d)));
        let path: Vec<&str> = i
            .path(l.find("dash").unwrap())
            .iter()
            .map(|n| l.graph[*n].name.as_str())
            .collect();
        assert_eq!(path, ["raw", "clean_orders", "clean", "daily", "dash"]);
        let notify: Vec<(String, String)> = i
            .notify(&l)
            .into_iter()
            .map(|n| (n.owner, l.graph[n.most_critical].name.clone()))
            .collect();
        assert_eq!(
            notify,
            [
                ("finance", "dash"),
                ("data-eng", "clean"),
                ("analytics", "daily"),
                ("data-science", "ml")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(i.by_kind(&l)[&NodeKind::Exposure], 2);
    }

    #[test]
    fn depth_limit_counts_a_stage_and_its_outputs_as_one_step() {
        let l = pipeline();
        let opts = ImpactOptions {
            max_depth: Some(1),
            ..ImpactOptions::default()
        };
        let i = impact(&l, l.find("raw").unwrap(), opts);
        assert_eq!(
            names(&l, &i),
            [("clean".to_string(), 1), ("clean_orders".to_string(), 1)]
        );
        // From the stage itself, its output is one step away.
        let i = impact(&l, l.find("clean_orders").unwrap(), opts);
        assert_eq!(names(&l, &i), [("clean".to_string(), 1)]);
    }

    #[test]
    fn upstream_and_tests() {
        let l = pipeline();
        let up = ImpactOptions {
            direction: Direction::Upstream,
            ..ImpactOptions::default()
        };
        let i = impact(&l, l.find("dash").unwrap(), up);
        assert_eq!(
            names(&l, &i),
            [("raw", 3), ("clean", 2), ("daily", 1), ("clean_orders", 3)]
                .map(|(n, d)| (n.to_string(), d))
        );
        let with_tests = ImpactOptions {
            include_tests: true,
            ..ImpactOptions::default()
        };
        let i = impact(&l, l.find("clean").unwrap(), with_tests);
        assert!(names(&l, &i).contains(&("test_clean".to_string(), 1)));
        let i = impact(&l, l.find("clean").unwrap(), ImpactOptions::default());
        assert!(!names(&l, &i).iter().any(|(n, _)| n == "test_clean"));
    }
}
