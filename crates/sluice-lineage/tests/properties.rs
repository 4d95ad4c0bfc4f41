//! Property tests of the impact query ([`sluice_lineage::impact`]) on random DAGs, each
//! checked against a reference computed here without the library.
//!
//! A random DAG has 1 to 59 nodes numbered in topological order (edges only run from a
//! lower number to a higher one, duplicates included; a random bound on how far they jump
//! gives deep chains as well as shallow graphs), with ids and names (`id17`, `n17`)
//! shuffled so that neither names nor graph indices follow that order. "Data" graphs have
//! only datasets; "mixed" graphs also have stages, OpenLineage jobs, exposures, tables, dbt
//! models and tests, with random tiers. Each property is checked from every node as the
//! root, in both directions, on both sorts of graph (half of the cases each; property 4
//! has a test for each sort):
//!
//! 1. symmetry: Y is downstream of X exactly when X is upstream of Y;
//! 2. a node is in neither its own downstream nor its own upstream, which are disjoint;
//! 3. a walk limited to depth `d` hits exactly the unlimited walk's hits of depth at most
//!    `d`, at the same depths, for every `d`;
//! 4. depths are shortest path lengths, where a step out of a stage or job (other than the
//!    root) into a non-process node weighs 0 and every other step 1: compared with a dynamic
//!    program over the topological numbering, and on data graphs also with a plain
//!    breadth-first search counting hops;
//! 5. `Impact::path` runs from the root to the node along real edges in the walk's
//!    direction, and its weighted length is the node's depth (also under a depth limit);
//! 6. the nodes hit are exactly those the transitive closure (bitsets) says are reachable;
//! 7. in the JSON report (`render::impact_json`, without paths), following `via` from any
//!    hit, name by name, leads back to `root` along real edges in the walk's direction,
//!    with a weighted length equal to the hit's depth (also under a depth limit);
//!
//! and, beyond these: hits come in the documented order (exposures first, then by tier,
//! untiered last, then depth, then name), and `include_tests: false` only filters dbt tests
//! out of the same result. Finally, graphs with cycles (a random DAG plus back edges, and a
//! fixed example) are refused by [`Lineage::build`] with [`LineageError::Cycle`], which
//! names one shortest cycle per strongly connected component, starting from its first name.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use petgraph::graph::NodeIndex;
use proptest::prelude::*;
use proptest::{collection::vec, option};
use sluice_lineage::{
    Direction, Fragment, Impact, ImpactOptions, Lineage, LineageError, NodeKind, Origin, RawEdge,
    RawNode, impact, render,
};

const DIRECTIONS: [Direction; 2] = [Direction::Downstream, Direction::Upstream];

/// A random DAG in the test's own numbering: node `i` only feeds nodes `j > i`.
#[derive(Clone, Debug)]
struct Dag {
    /// Kind of each node.
    kinds: Vec<NodeKind>,
    /// Tier of each node.
    tiers: Vec<Option<u8>>,
    /// Edges `(i, j)` with `i < j`, as generated (duplicates included).
    edges: Vec<(usize, usize)>,
    /// The number in node `i`'s id and name, so that names do not follow the numbering.
    label: Vec<usize>,
    /// The order the nodes are declared in, so that graph indices do not follow it either.
    decl: Vec<usize>,
}

impl Dag {
    fn len(&self) -> usize {
        self.kinds.len()
    }

    fn id(&self, i: usize) -> String {
        format!("id{}", self.label[i])
    }

    fn name(&self, i: usize) -> String {
        format!("n{}", self.label[i])
    }

    /// One fragment declaring every node (in `decl` order) and `edges`.
    fn fragment(&self, edges: &[(usize, usize)]) -> Fragment {
        let mut f = Fragment::new(Origin::Config);
        for &i in &self.decl {
            f.nodes.push(RawNode {
                id: self.id(i),
                name: self.name(i),
                kind: Some(self.kinds[i]),
                tier: self.tiers[i],
                ..RawNode::default()
            });
        }
        for &(a, b) in edges {
            f.edges.push(RawEdge {
                from: self.id(a),
                to: self.id(b),
            });
        }
        f
    }
}

/// Kinds of mixed graphs, by index: datasets and stages most often. (Drawing an index is
/// much cheaper than a `prop_oneof!` in debug builds, and shrinks towards a dataset.)
const KINDS: [NodeKind; 12] = [
    NodeKind::Dataset,
    NodeKind::Dataset,
    NodeKind::Dataset,
    NodeKind::Dataset,
    NodeKind::Stage,
    NodeKind::Stage,
    NodeKind::Stage,
    NodeKind::Job,
    NodeKind::Exposure,
    NodeKind::Table,
    NodeKind::Model,
    NodeKind::Test,
];

/// Random DAGs: only datasets, or mixed kinds (with tiers 1 to 4, or none).
fn dag(mixed: bool) -> impl Strategy<Value = Dag> {
    (1usize..60).prop_flat_map(move |n| {
        let (kinds, tiers) = if mixed { (KINDS.len(), 5) } else { (1, 1) };
        let numbers: Vec<usize> = (0..n).collect();
        (
            vec(0..kinds, n),
            vec(0..tiers as u8, n),
            // Edges `(a, a + 1 + s % span)`: a short span makes long chains and deep walks
            // (where the order of a 0-1 search matters), a long one shallow, bushy graphs.
            1..=n,
            vec((0..n, 0..n), 0..=3 * n),
            Just(numbers.clone()).prop_shuffle(),
            Just(numbers).prop_shuffle(),
        )
            .prop_map(move |(kinds, tiers, span, pairs, label, decl)| Dag {
                kinds: kinds.into_iter().map(|k| KINDS[k]).collect(),
                tiers: tiers.into_iter().map(|t| (t > 0).then_some(t)).collect(),
                edges: pairs
                    .into_iter()
                    .map(|(a, s)| (a, a + 1 + s % span))
                    .filter(|&(_, b)| b < n)
                    .collect(),
                label,
                decl,
            })
    })
}

/// A built DAG with the maps between the test's numbering and the graph's indices.
struct Built<'a> {
    dag: &'a Dag,
    lineage: Lineage,
    /// Graph index of node `i`.
    ix: Vec<NodeIndex>,
    /// Number of the node at each graph index.
    num: Vec<usize>,
    /// Children of each node.
    children: Vec<BTreeSet<usize>>,
    /// Parents of each node.
    parents: Vec<BTreeSet<usize>>,
}

impl Built<'_> {
    /// The nodes one step from `x` in `direction`.
    fn next(&self, x: usize, direction: Direction) -> &BTreeSet<usize> {
        match direction {
            Direction::Downstream => &self.children[x],
            Direction::Upstream => &self.parents[x],
        }
    }
}

fn build(dag: &Dag) -> Result<Built<'_>, TestCaseError> {
    let n = dag.len();
    let lineage = Lineage::build(vec![dag.fragment(&dag.edges)], &[])
        .map_err(|e| TestCaseError::fail(format!("a DAG is refused: {e}")))?;
    prop_assert_eq!(lineage.len(), n);
    let mut ix = Vec::with_capacity(n);
    let mut num = vec![usize::MAX; n];
    for i in 0..n {
        let x = lineage.by_id(&dag.id(i)).expect("every id is known");
        prop_assert_eq!(lineage.find(&dag.name(i)).ok(), Some(x));
        prop_assert_eq!(&lineage.node(x).name, &dag.name(i));
        prop_assert_eq!(num[x.index()], usize::MAX, "two ids share an index");
        num[x.index()] = i;
        ix.push(x);
    }
    let mut children = vec![BTreeSet::new(); n];
    let mut parents = vec![BTreeSet::new(); n];
    for &(a, b) in &dag.edges {
        children[a].insert(b);
        parents[b].insert(a);
    }
    Ok(Built {
        dag,
        lineage,
        ix,
        num,
        children,
        parents,
    })
}

/// Runs the query from node `root` (tests included) and returns it with each hit's number
/// and depth, checking that no node is hit twice.
fn walk(
    b: &Built,
    root: usize,
    direction: Direction,
    max_depth: Option<u32>,
) -> Result<(Impact, BTreeMap<usize, u32>), TestCaseError> {
    let opts = ImpactOptions {
        direction,
        max_depth,
        include_tests: true,
    };
    let result = impact(&b.lineage, b.ix[root], opts);
    prop_assert_eq!(result.root, b.ix[root]);
    let mut hits = BTreeMap::new();
    for h in &result.hits {
        let x = b.num[h.node.index()];
        prop_assert!(hits.insert(x, h.depth).is_none(), "node {} hit twice", x);
    }
    Ok((result, hits))
}

// ---------------------------------------------------------------------------------------
// References, computed without the library.

fn process(kind: NodeKind) -> bool {
    matches!(kind, NodeKind::Stage | NodeKind::Job)
}

/// The weight of a step from `x` to `y` on a walk from `root`.
fn weight(dag: &Dag, root: usize, x: usize, y: usize) -> u32 {
    if process(dag.kinds[x]) && x != root && !process(dag.kinds[y]) {
        0
    } else {
        1
    }
}

/// Weighted shortest path lengths from `root`, by dynamic programming over the numbering:
/// a downstream walk visits nodes in increasing number (an upstream one in decreasing), so
/// a node's predecessors on the walk are all final before it is relaxed from.
fn reference_depths(b: &Built, root: usize, direction: Direction) -> Vec<Option<u32>> {
    let n = b.dag.len();
    let mut depth: Vec<Option<u32>> = vec![None; n];
    depth[root] = Some(0);
    let order: Vec<usize> = match direction {
        Direction::Downstream => (root..n).collect(),
        Direction::Upstream => (0..=root).rev().collect(),
    };
    for x in order {
        let Some(dx) = depth[x] else { continue };
        for &y in b.next(x, direction) {
            let d = dx + weight(b.dag, root, x, y);
            if depth[y].is_none_or(|dy| d < dy) {
                depth[y] = Some(d);
            }
        }
    }
    depth
}

/// Plain hop counts from `root`, ignoring kinds.
fn bfs_hops(b: &Built, root: usize, direction: Direction) -> Vec<Option<u32>> {
    let mut hops = vec![None; b.dag.len()];
    hops[root] = Some(0);
    let mut queue = VecDeque::from([root]);
    while let Some(x) = queue.pop_front() {
        for &y in b.next(x, direction) {
            if hops[y].is_none() {
                hops[y] = Some(hops[x].unwrap() + 1);
                queue.push_back(y);
            }
        }
    }
    hops
}

/// The transitive closure as bitsets (fewer than 64 nodes): what each node reaches
/// downstream, and upstream.
fn closure(b: &Built) -> (Vec<u64>, Vec<u64>) {
    let n = b.dag.len();
    let mut down = vec![0u64; n];
    for x in (0..n).rev() {
        for &y in &b.children[x] {
            down[x] |= (1 << y) | down[y];
        }
    }
    let mut up = vec![0u64; n];
    for x in 0..n {
        for &y in &b.parents[x] {
            up[x] |= (1 << y) | up[y];
        }
    }
    (down, up)
}

/// The hits a reference depth vector describes.
fn reached(depths: &[Option<u32>], root: usize) -> BTreeMap<usize, u32> {
    depths
        .iter()
        .enumerate()
        .filter(|&(x, _)| x != root)
        .filter_map(|(x, d)| d.map(|d| (x, d)))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The properties.

/// 1. Y is downstream of X exactly when X is upstream of Y.
fn symmetric(dag: &Dag) -> Result<(), TestCaseError> {
    let b = build(dag)?;
    let n = dag.len();
    let mut down = Vec::with_capacity(n);
    let mut up = Vec::with_capacity(n);
    for x in 0..n {
        down.push(walk(&b, x, Direction::Downstream, None)?.1);
        up.push(walk(&b, x, Direction::Upstream, None)?.1);
    }
    for (x, below) in down.iter().enumerate() {
        for (y, above) in up.iter().enumerate() {
            prop_assert_eq!(
                below.contains_key(&y),
                above.contains_key(&x),
                "{} downstream of {} but not {} upstream of {} (or the reverse)",
                y,
                x,
                x,
                y
            );
        }
    }
    Ok(())
}

/// 2. A node is in neither its downstream nor its upstream, and these are disjoint.
fn disjoint(dag: &Dag) -> Result<(), TestCaseError> {
    let b = build(dag)?;
    for x in 0..dag.len() {
        let down = walk(&b, x, Direction::Downstream, None)?.1;
        let up = walk(&b, x, Direction::Upstream, None)?.1;
        prop_assert!(!down.contains_key(&x), "{} is downstream of itself", x);
        prop_assert!(!up.contains_key(&x), "{} is upstream of itself", x);
        let both: Vec<&usize> = down.keys().filter(|y| up.contains_key(y)).collect();
        prop_assert!(
            both.is_empty(),
            "{:?} both up- and downstream of {}",
            both,
            x
        );
    }
    Ok(())
}

/// 3. Limiting the depth to `d` keeps exactly the hits of depth at most `d`.
fn depth_limit_filters(dag: &Dag) -> Result<(), TestCaseError> {
    let b = build(dag)?;
    for root in 0..dag.len() {
        for direction in DIRECTIONS {
            let all = walk(&b, root, direction, None)?.1;
            let deepest = all.values().copied().max().unwrap_or(0);
            for d in 0..=deepest + 1 {
                let (result, limited) = walk(&b, root, direction, Some(d))?;
                prop_assert_eq!(result.max_depth, Some(d));
                let expected: BTreeMap<usize, u32> = all
                    .iter()
                    .filter(|&(_, &depth)| depth <= d)
                    .map(|(&x, &depth)| (x, depth))
                    .collect();
                prop_assert_eq!(
                    limited,
                    expected,
                    "root {}, {:?}, max depth {}",
                    root,
                    direction,
                    d
                );
            }
        }
    }
    Ok(())
}

/// 4. Depths are weighted shortest path lengths; on data graphs, plain hop counts.
fn depths_are_shortest(dag: &Dag) -> Result<(), TestCaseError> {
    let b = build(dag)?;
    let data_only = dag.kinds.iter().all(|k| !process(*k));
    for root in 0..dag.len() {
        for direction in DIRECTIONS {
            let hits = walk(&b, root, direction, None)?.1;
            let expected = reached(&reference_depths(&b, root, direction), root);
            prop_assert_eq!(&hits, &expected, "root {}, {:?}", root, direction);
            if data_only {
                let hops = reached(&bfs_hops(&b, root, direction), root);
                prop_assert_eq!(&hits, &hops, "root {}, {:?}", root, direction);
            }
        }
    }
    Ok(())
}

/// 5. Each hit's path runs from the root along real edges and weighs its depth.
fn paths_are_real(dag: &Dag, max_depth: Option<u32>) -> Result<(), TestCaseError> {
    let b = build(dag)?;
    for root in 0..dag.len() {
        for direction in DIRECTIONS {
            let (result, hits) = walk(&b, root, direction, max_depth)?;
            for (&x, &depth) in &hits {
                let path: Vec<usize> = result
                    .path(b.ix[x])
                    .iter()
                    .map(|p| b.num[p.index()])
                    .collect();
                prop_assert_eq!(path.first(), Some(&root), "path {:?}", path);
                prop_assert_eq!(path.last(), Some(&x), "path {:?}", path);
                let mut length = 0;
                for step in path.windows(2) {
                    prop_assert!(
                        b.next(step[0], direction).contains(&step[1]),
                        "path {:?} from {} ({:?}) takes a step {} -> {} that is no edge",
                        path,
                        root,
                        direction,
                        step[0],
                        step[1]
                    );
                    length += weight(dag, root, step[0], step[1]);
                    // Every node on the way is within the limit, and hit at its own depth.
                    prop_assert_eq!(hits.get(&step[1]), Some(&length), "path {:?}", path);
                }
                prop_assert_eq!(
                    length,
                    depth,
                    "path {:?} from {}, {:?}",
                    path,
                    root,
                    direction
                );
            }
        }
    }
    Ok(())
}

/// 6. What is hit is what the transitive closure reaches.
fn reach_is_closure(dag: &Dag) -> Result<(), TestCaseError> {
    let b = build(dag)?;
    let (down, up) = closure(&b);
    for root in 0..dag.len() {
        for (direction, closure) in [(Direction::Downstream, &down), (Direction::Upstream, &up)] {
            let hits = walk(&b, root, direction, None)?.1;
            let mask = hits.keys().fold(0u64, |m, &x| m | (1 << x));
            prop_assert_eq!(
                mask,
                closure[root],
                "root {}, {:?}: hit {:b}, reachable {:b}",
                root,
                direction,
                mask,
                closure[root]
            );
        }
    }
    Ok(())
}

/// 7. Following `via` (JSON) from any hit leads to the root along edges weighing its depth.
fn via_leads_to_the_root(dag: &Dag, max_depth: Option<u32>) -> Result<(), TestCaseError> {
    let b = build(dag)?;
    let number: HashMap<String, usize> = (0..dag.len()).map(|i| (dag.name(i), i)).collect();
    for root in 0..dag.len() {
        for direction in DIRECTIONS {
            let (result, hits) = walk(&b, root, direction, max_depth)?;
            let json = serde_json::to_value(render::impact_json(&b.lineage, &result))
                .map_err(|e| TestCaseError::fail(format!("the report does not serialise: {e}")))?;
            prop_assert_eq!(&json["root"], &dag.name(root));
            let impacted = json["impacted"].as_array().expect("impacted is a list");
            prop_assert_eq!(impacted.len(), hits.len());
            // The JSON's own view: each hit's name, depth and `via`.
            let mut via: HashMap<usize, (u32, usize)> = HashMap::new();
            for hit in impacted {
                prop_assert!(hit.get("path").is_none(), "a path without asking: {}", hit);
                let x = number[hit["name"].as_str().expect("a name")];
                let depth = hit["depth"].as_u64().expect("a depth") as u32;
                let parent = number[hit["via"].as_str().expect("via names a node")];
                via.insert(x, (depth, parent));
            }
            for (&x, &(depth, _)) in &via {
                prop_assert_eq!(hits.get(&x), Some(&depth));
                // Walk back: x, via(x), via(via(x)), ... until the root.
                let mut chain = vec![x];
                let mut at = x;
                while at != root {
                    prop_assert!(chain.len() <= dag.len(), "via loops: {:?}", chain);
                    let Some(&(_, parent)) = via.get(&at) else {
                        return Err(TestCaseError::fail(format!(
                            "via of {chain:?} names {at}, which is neither a hit nor the root"
                        )));
                    };
                    chain.push(parent);
                    at = parent;
                }
                chain.reverse();
                let mut length = 0;
                for step in chain.windows(2) {
                    prop_assert!(
                        b.next(step[0], direction).contains(&step[1]),
                        "via chain {:?} from {} ({:?}) takes a step {} -> {} that is no edge",
                        chain,
                        root,
                        direction,
                        step[0],
                        step[1]
                    );
                    length += weight(dag, root, step[0], step[1]);
                }
                prop_assert_eq!(
                    length,
                    depth,
                    "via chain {:?} from {}, {:?}",
                    chain,
                    root,
                    direction
                );
            }
        }
    }
    Ok(())
}

/// Hits are sorted exposures first, then by tier (untiered last), depth and name; leaving
/// tests out only filters them from the same list.
fn ordered_and_tests_filtered(dag: &Dag) -> Result<(), TestCaseError> {
    let b = build(dag)?;
    let key = |x: usize, depth: u32| {
        (
            dag.kinds[x] != NodeKind::Exposure,
            dag.tiers[x].is_none(),
            dag.tiers[x],
            depth,
            dag.name(x),
        )
    };
    for root in 0..dag.len() {
        for direction in DIRECTIONS {
            let (all, _) = walk(&b, root, direction, None)?;
            let keys: Vec<_> = all
                .hits
                .iter()
                .map(|h| key(b.num[h.node.index()], h.depth))
                .collect();
            prop_assert!(
                keys.windows(2).all(|w| w[0] < w[1]),
                "hits out of order: {:?}",
                keys
            );
            let opts = ImpactOptions {
                direction,
                max_depth: None,
                include_tests: false,
            };
            let without = impact(&b.lineage, b.ix[root], opts);
            let expected: Vec<_> = all
                .hits
                .iter()
                .filter(|h| !matches!(dag.kinds[b.num[h.node.index()]], NodeKind::Test))
                .copied()
                .collect();
            prop_assert_eq!(without.hits, expected);
        }
    }
    Ok(())
}

/// Data graphs and mixed graphs, half and half.
fn any_dag() -> impl Strategy<Value = Dag> {
    prop_oneof![dag(false), dag(true)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn downstream_and_upstream_are_symmetric(dag in any_dag()) {
        symmetric(&dag)?;
    }

    #[test]
    fn downstream_and_upstream_are_disjoint(dag in any_dag()) {
        disjoint(&dag)?;
    }

    #[test]
    fn depth_limit_keeps_exactly_the_shallow_hits(dag in any_dag()) {
        depth_limit_filters(&dag)?;
    }

    #[test]
    fn depth_is_the_shortest_path_length_on_data(dag in dag(false)) {
        depths_are_shortest(&dag)?;
    }

    #[test]
    fn depth_is_the_weighted_shortest_path_length_on_mixed(dag in dag(true)) {
        depths_are_shortest(&dag)?;
    }

    #[test]
    fn paths_follow_edges_and_weigh_the_depth(
        dag in any_dag(),
        max_depth in option::of(0u32..6),
    ) {
        paths_are_real(&dag, max_depth)?;
    }

    #[test]
    fn following_via_leads_back_to_the_root_at_the_hits_depth(
        dag in any_dag(),
        max_depth in option::of(0u32..6),
    ) {
        via_leads_to_the_root(&dag, max_depth)?;
    }

    #[test]
    fn reached_set_is_the_transitive_closure(dag in any_dag()) {
        reach_is_closure(&dag)?;
    }

    #[test]
    fn hits_are_ordered_and_tests_only_filtered(dag in dag(true)) {
        ordered_and_tests_filtered(&dag)?;
    }

    #[test]
    fn cycles_are_refused_and_named(
        (dag, back) in dag(true).prop_flat_map(|dag| {
            let n = dag.len();
            (Just(dag), vec((0..n, 0..n), 1..=3))
        }),
    ) {
        cycles_named(&dag, &back)?;
    }
}

// ---------------------------------------------------------------------------------------
// Cycles.

/// A random DAG plus edges from higher numbers to lower ones (`back`, self-loops included,
/// which the library ignores): built if and only if no cycle results, otherwise refused
/// with one shortest cycle per strongly connected component, starting from the
/// component's first name in sort order.
fn cycles_named(dag: &Dag, back: &[(usize, usize)]) -> Result<(), TestCaseError> {
    let n = dag.len();
    let mut edges = dag.edges.clone();
    edges.extend(back.iter().map(|&(a, b)| (a.max(b), a.min(b))));
    let mut next = vec![BTreeSet::new(); n];
    for &(a, b) in &edges {
        if a != b {
            next[a].insert(b);
        }
    }
    // reach[x][y]: a path of at least one edge leads from x to y.
    let reach: Vec<Vec<bool>> = (0..n)
        .map(|x| {
            let mut seen = vec![false; n];
            let mut queue: VecDeque<usize> = next[x].iter().copied().collect();
            while let Some(y) = queue.pop_front() {
                if !std::mem::replace(&mut seen[y], true) {
                    queue.extend(next[y].iter().copied());
                }
            }
            seen
        })
        .collect();
    let components: BTreeSet<BTreeSet<usize>> = (0..n)
        .filter(|&x| reach[x][x])
        .map(|x| (0..n).filter(|&y| reach[x][y] && reach[y][x]).collect())
        .collect();
    // The length of a shortest cycle through x.
    let girth = |x: usize| {
        let mut dist = vec![None; n];
        dist[x] = Some(0usize);
        let mut queue = VecDeque::from([x]);
        while let Some(y) = queue.pop_front() {
            for &z in &next[y] {
                if z == x {
                    return dist[y].unwrap() + 1;
                }
                if dist[z].is_none() {
                    dist[z] = Some(dist[y].unwrap() + 1);
                    queue.push_back(z);
                }
            }
        }
        unreachable!("{x} is on a cycle")
    };

    let result = Lineage::build(vec![dag.fragment(&edges)], &[]);
    if components.is_empty() {
        let lineage = result.map_err(|e| TestCaseError::fail(format!("refused: {e}")))?;
        prop_assert_eq!(lineage.len(), n);
        return Ok(());
    }
    let err = match result {
        Ok(_) => return Err(TestCaseError::fail("a graph with a cycle is accepted")),
        Err(e) => e,
    };
    let message = err.to_string();
    let LineageError::Cycle { cycles } = err else {
        return Err(TestCaseError::fail(format!("not a cycle error: {message}")));
    };
    let number: HashMap<String, usize> = (0..n).map(|i| (dag.name(i), i)).collect();
    prop_assert_eq!(cycles.len(), components.len(), "{}", message);
    prop_assert!(cycles.is_sorted(), "{}", message);
    let mut named = BTreeSet::new();
    for cycle in &cycles {
        let nodes: Vec<usize> = cycle.iter().map(|name| number[name]).collect();
        prop_assert!(nodes.len() >= 3, "{:?}", cycle);
        prop_assert_eq!(nodes.first(), nodes.last(), "{:?} does not close", cycle);
        let inner = &nodes[..nodes.len() - 1];
        prop_assert_eq!(
            inner.iter().collect::<BTreeSet<_>>().len(),
            inner.len(),
            "{:?} is not simple",
            cycle
        );
        for step in nodes.windows(2) {
            prop_assert!(
                next[step[0]].contains(&step[1]),
                "{:?} takes no edge",
                cycle
            );
        }
        let component = components
            .iter()
            .find(|c| c.contains(&nodes[0]))
            .expect("a cycle's node is in a component");
        prop_assert!(inner.iter().all(|x| component.contains(x)));
        let first = component.iter().map(|&x| dag.name(x)).min().unwrap();
        prop_assert_eq!(
            &cycle[0],
            &first,
            "{:?} does not start at its first name",
            cycle
        );
        prop_assert_eq!(
            inner.len(),
            girth(nodes[0]),
            "{:?} is not a shortest cycle",
            cycle
        );
        prop_assert!(named.insert(component), "two cycles in one component");
    }
    let listed: Vec<String> = cycles.iter().map(|c| c.join(" -> ")).collect();
    prop_assert_eq!(
        message,
        format!(
            "the lineage has a cycle: {} (each reads what another writes); lineage must be a DAG",
            listed.join("; ")
        )
    );
    Ok(())
}

#[test]
fn a_cycle_is_refused_naming_its_nodes() {
    let mut f = Fragment::new(Origin::Config);
    for (name, kind) in [
        ("raw", NodeKind::Dataset),
        ("load", NodeKind::Stage),
        ("clean", NodeKind::Dataset),
        ("d1", NodeKind::Dataset),
        ("d2", NodeKind::Dataset),
        ("d3", NodeKind::Dataset),
        ("d4", NodeKind::Dataset),
        ("w", NodeKind::Table),
        ("q", NodeKind::Table),
        ("t", NodeKind::Table),
        ("dash", NodeKind::Exposure),
    ] {
        f.nodes.push(RawNode {
            id: format!("id:{name}"),
            name: name.into(),
            kind: Some(kind),
            ..RawNode::default()
        });
    }
    for (a, b) in [
        // A stage writing what it reads (through another node).
        ("raw", "load"),
        ("load", "clean"),
        ("clean", "load"),
        ("clean", "dash"),
        // A 4-cycle with a chord: the shortest cycle through d1 skips d3.
        ("d1", "d2"),
        ("d2", "d3"),
        ("d3", "d4"),
        ("d4", "d1"),
        ("d2", "d4"),
        // Named from its first name, not from where it was declared.
        ("w", "q"),
        ("q", "t"),
        ("t", "w"),
        // A self-loop is not a cycle.
        ("dash", "dash"),
    ] {
        f.edges.push(RawEdge {
            from: format!("id:{a}"),
            to: format!("id:{b}"),
        });
    }
    let err = Lineage::build(vec![f], &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the lineage has a cycle: clean -> load -> clean; d1 -> d2 -> d4 -> d1; q -> t -> w -> q \
         (each reads what another writes); lineage must be a DAG"
    );
    let cycles = match err {
        LineageError::Cycle { cycles } => cycles,
        other => panic!("not a cycle error: {other}"),
    };
    assert_eq!(
        cycles,
        [
            vec!["clean", "load", "clean"],
            vec!["d1", "d2", "d4", "d1"],
            vec!["q", "t", "w", "q"],
        ]
    );
}
