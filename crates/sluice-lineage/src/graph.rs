//! The lineage graph: nodes (datasets, stages, exposures, dbt resources, OpenLineage jobs)
//! and edges (data flows from a node to the nodes that read it), each remembering where it
//! was learned.
//!
//! Importers produce [`Fragment`]s of raw nodes and edges under their own ids, plus pairs
//! of ids that name the same thing; [`Lineage::build`] merges them (union-find over ids)
//! into one petgraph `DiGraph` and rejects cycles, naming the nodes of each.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use crate::error::{LineageError, Result};

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A sluice dataset.
    Dataset,
    /// A sluice stage (a job between datasets).
    Stage,
    /// A consumer: dashboard, forecast, ML model, application.
    Exposure,
    /// dbt model.
    Model,
    /// dbt seed.
    Seed,
    /// dbt snapshot.
    Snapshot,
    /// dbt source.
    Source,
    /// dbt data test.
    Test,
    /// dbt unit test.
    UnitTest,
    /// dbt analysis.
    Analysis,
    /// dbt metric.
    Metric,
    /// dbt semantic model.
    SemanticModel,
    /// dbt saved query.
    SavedQuery,
    /// An OpenLineage job.
    Job,
    /// A table known only from stage SQL or OpenLineage.
    Table,
}

impl NodeKind {
    /// Its name in reports and in `--resource-type`.
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Dataset => "dataset",
            NodeKind::Stage => "stage",
            NodeKind::Exposure => "exposure",
            NodeKind::Model => "model",
            NodeKind::Seed => "seed",
            NodeKind::Snapshot => "snapshot",
            NodeKind::Source => "source",
            NodeKind::Test => "test",
            NodeKind::UnitTest => "unit_test",
            NodeKind::Analysis => "analysis",
            NodeKind::Metric => "metric",
            NodeKind::SemanticModel => "semantic_model",
            NodeKind::SavedQuery => "saved_query",
            NodeKind::Job => "job",
            NodeKind::Table => "table",
        }
    }

    /// Every kind.
    pub const ALL: [NodeKind; 15] = [
        NodeKind::Dataset,
        NodeKind::Stage,
        NodeKind::Exposure,
        NodeKind::Model,
        NodeKind::Seed,
        NodeKind::Snapshot,
        NodeKind::Source,
        NodeKind::Test,
        NodeKind::UnitTest,
        NodeKind::Analysis,
        NodeKind::Metric,
        NodeKind::SemanticModel,
        NodeKind::SavedQuery,
        NodeKind::Job,
        NodeKind::Table,
    ];

    /// Parses a kind's name (`unit_test` or `unit-test`).
    pub fn parse(s: &str) -> Option<NodeKind> {
        let s = s.replace('-', "_");
        NodeKind::ALL.iter().copied().find(|k| k.name() == s)
    }

    /// Tests: left out of impact results unless asked.
    pub fn is_test(self) -> bool {
        matches!(self, NodeKind::Test | NodeKind::UnitTest)
    }

    /// Processes (stages, jobs) as opposed to data and consumers.
    pub fn is_process(self) -> bool {
        matches!(self, NodeKind::Stage | NodeKind::Job)
    }

    /// Data: what a stage reads or writes.
    pub fn is_data(self) -> bool {
        matches!(
            self,
            NodeKind::Dataset
                | NodeKind::Model
                | NodeKind::Seed
                | NodeKind::Snapshot
                | NodeKind::Source
                | NodeKind::Table
        )
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a node or edge was learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// sluice.yaml.
    Config,
    /// A dbt manifest.
    Dbt,
    /// OpenLineage events (`openlineage` in JSON, as in the README).
    #[serde(rename = "openlineage")]
    OpenLineage,
    /// Stage SQL.
    Sql,
}

impl Origin {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Origin::Config => "config",
            Origin::Dbt => "dbt",
            Origin::OpenLineage => "openlineage",
            Origin::Sql => "sql",
        }
    }
}

/// A node as an importer describes it.
#[derive(Clone, Debug, Default)]
pub struct RawNode {
    /// The importer's id (`dataset:orders`, a dbt unique_id, `ol:namespace/name`...).
    pub id: String,
    /// Display name (`orders`; `ecom.raw_items` for a dbt source).
    pub name: String,
    /// What it is.
    pub kind: Option<NodeKind>,
    /// Who owns it.
    pub owner: Option<String>,
    /// How critical (1 = most).
    pub tier: Option<u8>,
    /// Tags.
    pub tags: Vec<String>,
    /// dbt's fully qualified name (for selectors).
    pub fqn: Vec<String>,
    /// dbt package.
    pub package: Option<String>,
    /// dbt source name (for `source:` selectors).
    pub source_name: Option<String>,
    /// dbt file path (for `path:` selectors).
    pub path: Option<String>,
    /// Other names this node answers to (dbt alias, relation name).
    pub alias_names: Vec<String>,
    /// The dbt unique_id, for nodes read from a manifest.
    pub unique_id: Option<String>,
    /// What sort of exposure (`dashboard`, `ml`...) or dbt materialization.
    pub subkind: Option<String>,
    /// A link (an exposure's dashboard).
    pub url: Option<String>,
    /// Tables a stage's SQL reads and also writes (no edge is drawn for the read).
    pub self_reads: Vec<String>,
}

/// An edge as an importer describes it: data flows from `from` to `to`.
#[derive(Clone, Debug)]
pub struct RawEdge {
    /// Upstream id.
    pub from: String,
    /// Downstream id.
    pub to: String,
}

/// An edge from a node known only by name (an exposure's `depends_on: [orders]` may name a
/// dataset, a dbt model or an OpenLineage table), resolved once every source is merged.
#[derive(Clone, Debug)]
pub struct NameEdge {
    /// The upstream node's name (or id).
    pub from_name: String,
    /// The downstream node's id.
    pub to: String,
    /// Where the reference was made (`sluice.yaml:40:3`).
    pub at: String,
    /// Who made it, for the error message (`exposure `revenue` depends_on`).
    pub what: String,
}

/// What one importer learned.
#[derive(Clone, Debug)]
pub struct Fragment {
    /// Where it comes from.
    pub origin: Origin,
    /// Its nodes.
    pub nodes: Vec<RawNode>,
    /// Its edges.
    pub edges: Vec<RawEdge>,
    /// Its edges from nodes named, not identified.
    pub name_edges: Vec<NameEdge>,
    /// Its column-level edges.
    pub column_edges: Vec<crate::columns::RawColumnEdge>,
    /// Column-level edges it can compute when a column question is asked (parsing every
    /// dbt model's compiled SQL is not paid by table-level questions).
    pub deferred_columns: Option<crate::columns::Deferred>,
}

impl Fragment {
    /// An empty fragment from `origin`.
    pub fn new(origin: Origin) -> Fragment {
        Fragment {
            origin,
            nodes: vec![],
            edges: vec![],
            name_edges: vec![],
            column_edges: vec![],
            deferred_columns: None,
        }
    }
}

/// A node of the merged graph.
#[derive(Clone, Debug, Serialize)]
pub struct Node {
    /// Canonical id (the highest-precedence importer's).
    pub id: String,
    /// Display name.
    pub name: String,
    /// What it is (from the highest-precedence importer).
    pub kind: NodeKind,
    /// Every kind it has across importers (a sluice dataset that is also a dbt model).
    pub kinds: Vec<NodeKind>,
    /// Owner.
    pub owner: Option<String>,
    /// Tier (1 = most critical).
    pub tier: Option<u8>,
    /// Tags.
    pub tags: Vec<String>,
    /// Where it was learned.
    pub origins: Vec<Origin>,
    /// Every id it is known by.
    pub ids: Vec<String>,
    /// dbt fqn.
    #[serde(skip)]
    pub fqn: Vec<String>,
    /// dbt package.
    #[serde(skip)]
    pub package: Option<String>,
    /// dbt source name.
    #[serde(skip)]
    pub source_name: Option<String>,
    /// dbt file path.
    #[serde(skip)]
    pub path: Option<String>,
    /// The dbt unique_id, when dbt knows the node.
    pub unique_id: Option<String>,
    /// What sort of exposure (`dashboard`, `ml`...).
    pub subkind: Option<String>,
    /// A link.
    pub url: Option<String>,
    /// Tables a stage's SQL reads and also writes (`INSERT OVERWRITE t SELECT … FROM t`):
    /// recorded here, not as an edge, so the graph has no cycle.
    pub self_reads: Vec<String>,
}

impl Node {
    pub(crate) fn empty(id: &str) -> Node {
        Node {
            id: id.to_string(),
            name: String::new(),
            kind: NodeKind::Table,
            kinds: vec![],
            owner: None,
            tier: None,
            tags: vec![],
            origins: vec![],
            ids: vec![],
            fqn: vec![],
            package: None,
            source_name: None,
            path: None,
            unique_id: None,
            subkind: None,
            url: None,
            self_reads: vec![],
        }
    }

    /// Whether the node is of `kind`, as any of the sources saw it.
    pub fn is(&self, kind: NodeKind) -> bool {
        self.kind == kind || self.kinds.contains(&kind)
    }
}

/// Where an edge was learned.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Edge {
    /// Importers that report it.
    pub origins: Vec<Origin>,
}

/// Adjacency in compressed sparse rows: the neighbours of node `i` are
/// `targets[offsets[i]..offsets[i + 1]]`. Queries walk these flat arrays rather than
/// petgraph's linked edge lists: on a million nodes that is several times faster.
#[derive(Debug, Default)]
pub(crate) struct Csr {
    offsets: Vec<u32>,
    targets: Vec<u32>,
}

impl Csr {
    fn build(n: usize, edges: impl Iterator<Item = (u32, u32)> + Clone) -> Csr {
        let mut offsets = vec![0u32; n + 1];
        for (a, _) in edges.clone() {
            offsets[a as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; offsets[n] as usize];
        for (a, b) in edges {
            targets[fill[a as usize] as usize] = b;
            fill[a as usize] += 1;
        }
        // Sorted neighbours: results do not depend on the order edges were learned.
        for i in 0..n {
            targets[offsets[i] as usize..offsets[i + 1] as usize].sort_unstable();
        }
        Csr { offsets, targets }
    }

    /// The neighbours of `i`.
    pub(crate) fn of(&self, i: u32) -> &[u32] {
        &self.targets[self.offsets[i as usize] as usize..self.offsets[i as usize + 1] as usize]
    }
}

/// The merged lineage graph.
#[derive(Debug)]
pub struct Lineage {
    /// The graph; edges point downstream (from what is read to what reads it).
    pub graph: DiGraph<Node, Edge>,
    /// Sources that could not be read, when the graph was built allowing that: their
    /// nodes and edges are missing from it (answers from it are partial).
    pub missing: Vec<Missing>,
    /// Column-level lineage between the graph's tables, built on first use
    /// ([`Lineage::columns`]) from these edges and deferred sources.
    column_graph: std::sync::OnceLock<crate::columns::ColumnGraph>,
    column_sources: Vec<crate::columns::RawColumnEdge>,
    column_deferred: Vec<crate::columns::Deferred>,
    by_id: FxMap<String, NodeIndex>,
    by_name: FxMap<String, Vec<NodeIndex>>,
    /// Each node's rank in name order, for fast deterministic sorting of large results.
    pub(crate) name_rank: Vec<u32>,
    /// The node of each rank (the inverse of `name_rank`).
    pub(crate) by_rank: Vec<u32>,
    /// Children of each node.
    pub(crate) down: Csr,
    /// Parents of each node.
    pub(crate) up: Csr,
    /// Per node, the constant part of its impact sort key: not-an-exposure flag (bit 63),
    /// tier (bits 55..63, untiered last) and name rank (bits 0..32); depth goes in between.
    pub(crate) sort_base: Vec<u64>,
    /// Bitset of stages and jobs (where a step into data weighs 0).
    pub(crate) process: Vec<u64>,
    /// Bitset of dbt tests and unit tests.
    pub(crate) tests: Vec<u64>,
}

/// Whether bit `i` of `bits` is set.
#[inline]
pub(crate) fn bit(bits: &[u64], i: u32) -> bool {
    bits[(i >> 6) as usize] >> (i & 63) & 1 == 1
}

/// The multiply-rotate hash of rustc (FxHash): ids and names are short, trusted strings,
/// and SipHash's DoS resistance cost a third of the build time on a million nodes.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let mut rest = [0u8; 8];
        let tail = chunks.remainder();
        rest[..tail.len()].copy_from_slice(tail);
        self.add(u64::from_le_bytes(rest) ^ tail.len() as u64);
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // A multiply only carries bits upwards: fold the high bits down, or keys that differ
        // in their last bytes (`n1`, `n2`, ...) would share buckets.
        let h = self.0 ^ (self.0 >> 32);
        h.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (h >> 29)
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A hash map with [`FxHasher`].
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Union-find over ids, borrowed from the fragments while the graph is built.
struct Ids<'a> {
    index: FxMap<&'a str, u32>,
    parent: Vec<u32>,
}

impl<'a> Ids<'a> {
    fn id(&mut self, s: &'a str) -> u32 {
        let next = self.parent.len() as u32;
        let i = *self.index.entry(s).or_insert(next);
        if i == next {
            self.parent.push(i);
        }
        i
    }

    fn find(&mut self, mut i: u32) -> u32 {
        while self.parent[i as usize] != i {
            let grand = self.parent[self.parent[i as usize] as usize];
            self.parent[i as usize] = grand;
            i = grand;
        }
        i
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller index (registered first: the higher-precedence importer) wins.
            let (keep, merge) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[merge as usize] = keep;
        }
    }
}

/// A fragment's node ids and edges as id numbers.
type NumberedFragment = (Vec<u32>, Vec<(u32, u32)>);

/// Builds the merged graph; see [`Lineage::build`].
struct Builder<'a> {
    ids: Ids<'a>,
    graph: DiGraph<Node, Edge>,
    /// The node of each union-find root (`u32::MAX`: none yet).
    slot: Vec<u32>,
    edges: FxMap<(u32, u32), petgraph::graph::EdgeIndex>,
}

impl<'a> Builder<'a> {
    /// The node of id number `i`, created on first use.
    fn node_of(&mut self, i: u32, id: &str) -> NodeIndex {
        let root = self.ids.find(i) as usize;
        if root >= self.slot.len() {
            self.slot.resize(self.ids.parent.len(), u32::MAX);
        }
        if self.slot[root] == u32::MAX {
            self.slot[root] = self.graph.add_node(Node::empty(id)).index() as u32;
        }
        NodeIndex::new(self.slot[root] as usize)
    }

    fn node(&mut self, id: &'a str) -> NodeIndex {
        let i = self.ids.id(id);
        self.node_of(i, id)
    }

    fn edge(&mut self, a: NodeIndex, b: NodeIndex, origin: Origin) {
        if a == b {
            return; // a stage reading and writing one table is not a cycle of interest
        }
        let graph = &mut self.graph;
        let ei = *self
            .edges
            .entry((a.index() as u32, b.index() as u32))
            .or_insert_with(|| graph.add_edge(a, b, Edge::default()));
        let origins = &mut self.graph[ei].origins;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
}

fn merge_node(node: &mut Node, n: &RawNode, origin: Origin) {
    if node.origins.is_empty() {
        node.id = n.id.clone();
        node.name = n.name.clone();
        node.kind = n.kind.unwrap_or(NodeKind::Table);
    }
    if !node.ids.contains(&n.id) {
        node.ids.push(n.id.clone());
    }
    if let Some(k) = n.kind
        && !node.kinds.contains(&k)
    {
        node.kinds.push(k);
    }
    if !node.origins.contains(&origin) {
        node.origins.push(origin);
    }
    node.owner = node.owner.take().or_else(|| n.owner.clone());
    node.tier = node.tier.or(n.tier);
    for t in &n.tags {
        if !node.tags.contains(t) {
            node.tags.push(t.clone());
        }
    }
    if node.fqn.is_empty() {
        node.fqn = n.fqn.clone();
    }
    node.package = node.package.take().or_else(|| n.package.clone());
    node.source_name = node.source_name.take().or_else(|| n.source_name.clone());
    node.path = node.path.take().or_else(|| n.path.clone());
    node.unique_id = node.unique_id.take().or_else(|| n.unique_id.clone());
    node.subkind = node.subkind.take().or_else(|| n.subkind.clone());
    node.url = node.url.take().or_else(|| n.url.clone());
    for r in &n.self_reads {
        if !node.self_reads.contains(r) {
            node.self_reads.push(r.clone());
        }
    }
}

/// A source left out of a partial graph.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Missing {
    /// What: ``stage `clean` `` (its SQL), `dbt manifest target/manifest.json`.
    pub source: String,
    /// Where (`sluice.yaml:12:5`, a path).
    pub at: String,
    /// Why, as the error says it.
    pub message: String,
}

impl Lineage {
    /// Merges fragments into one graph. Fragments come in precedence order (config first):
    /// when nodes merge, the earlier fragment's name, kind, owner and tier win, and later
    /// ones only fill what is missing. `same` lists pairs of ids naming one thing. Edges
    /// given by name ([`NameEdge`]) are resolved last, against the merged graph.
    ///
    /// # Complexity
    /// O(|V| + |E|) expected time (hash maps over ids), plus O(|V| log |V|) to rank names.
    pub fn build(fragments: Vec<Fragment>, same: &[(String, String)]) -> Result<Lineage> {
        let mut b = Builder {
            ids: Ids {
                index: FxMap::default(),
                parent: Vec::new(),
            },
            graph: DiGraph::new(),
            slot: Vec::new(),
            edges: FxMap::default(),
        };
        let (n_nodes, n_edges) = fragments
            .iter()
            .fold((0, 0), |(n, e), f| (n + f.nodes.len(), e + f.edges.len()));
        b.ids.index.reserve(n_nodes);
        b.ids.parent.reserve(n_nodes);
        b.edges.reserve(n_edges);
        b.graph.reserve_nodes(n_nodes);
        b.graph.reserve_edges(n_edges);
        // Number every id once; later passes work on the numbers.
        let mut numbered: Vec<NumberedFragment> = Vec::with_capacity(fragments.len());
        for f in &fragments {
            let nodes = f.nodes.iter().map(|n| b.ids.id(&n.id)).collect();
            let edges = f
                .edges
                .iter()
                .map(|e| (b.ids.id(&e.from), b.ids.id(&e.to)))
                .collect();
            numbered.push((nodes, edges));
        }
        for (x, y) in same {
            let (x, y) = (b.ids.id(x), b.ids.id(y));
            b.ids.union(x, y);
        }
        let mut aliases: Vec<(NodeIndex, String)> = Vec::new();
        for (f, (nodes, _)) in fragments.iter().zip(&numbered) {
            for (n, &i) in f.nodes.iter().zip(nodes) {
                let ix = b.node_of(i, &n.id);
                merge_node(&mut b.graph[ix], n, f.origin);
                aliases.extend(n.alias_names.iter().map(|a| (ix, a.clone())));
            }
        }
        for (f, (_, edges)) in fragments.iter().zip(&numbered) {
            for (e, &(x, y)) in f.edges.iter().zip(edges) {
                let (x, y) = (b.node_of(x, &e.from), b.node_of(y, &e.to));
                b.edge(x, y, f.origin);
            }
        }
        // Nodes only referenced by edges: named after their id.
        for ix in b.graph.node_indices() {
            let node = &mut b.graph[ix];
            if node.name.is_empty() {
                node.name = node
                    .id
                    .split_once(':')
                    .map(|(_, n)| n.to_string())
                    .unwrap_or_else(|| node.id.clone());
                node.ids.push(node.id.clone());
            }
        }
        let mut lineage = Lineage {
            graph: DiGraph::new(),
            missing: vec![],
            column_graph: std::sync::OnceLock::new(),
            column_sources: vec![],
            column_deferred: vec![],
            by_id: FxMap::default(),
            by_name: FxMap::default(),
            name_rank: vec![],
            by_rank: vec![],
            down: Csr::default(),
            up: Csr::default(),
            sort_base: vec![],
            process: vec![],
            tests: vec![],
        };
        for ix in b.graph.node_indices() {
            let node = &b.graph[ix];
            for id in &node.ids {
                lineage.by_id.insert(id.clone(), ix);
            }
            lineage
                .by_name
                .entry(node.name.clone())
                .or_default()
                .push(ix);
        }
        for (ix, alias) in aliases {
            let list = lineage.by_name.entry(alias).or_default();
            if !list.contains(&ix) {
                list.push(ix);
            }
        }
        lineage.graph = std::mem::take(&mut b.graph);
        let mut resolved = Vec::new();
        for f in &fragments {
            for e in &f.name_edges {
                let from =
                    lineage
                        .find(&e.from_name)
                        .map_err(|source| LineageError::Reference {
                            at: e.at.clone(),
                            what: e.what.clone(),
                            cause: Box::new(source),
                        })?;
                resolved.push((from, &e.to, f.origin));
            }
        }
        b.graph = std::mem::take(&mut lineage.graph);
        for (from, to, origin) in resolved {
            let to = b.node(to);
            b.edge(from, to, origin);
        }
        lineage.graph = std::mem::take(&mut b.graph);
        for f in fragments {
            lineage.column_sources.extend(f.column_edges);
            lineage.column_deferred.extend(f.deferred_columns);
        }
        lineage.index();
        lineage.check_acyclic()?;
        Ok(lineage)
    }

    /// The column graph, built on the first call: the importers' column edges, and those
    /// computed now from deferred sources (dbt models' compiled SQL, parsed on every core),
    /// each table resolved against the merged graph.
    pub fn columns(&self) -> &crate::columns::ColumnGraph {
        self.column_graph.get_or_init(|| {
            let _span = tracing::info_span!("lineage.columns").entered();
            let computed: Vec<crate::columns::RawColumnEdge> = self
                .column_deferred
                .iter()
                .flat_map(|d| d.compute())
                .collect();
            let resolve = |id: &str| {
                self.by_id(id).or_else(|| {
                    let name = id.strip_prefix(crate::columns::BY_NAME)?;
                    match self.by_name(name) {
                        [one] => Some(*one),
                        _ => None,
                    }
                })
            };
            let mut g = crate::columns::ColumnGraph::default();
            for e in self.column_sources.iter().chain(&computed) {
                if let (Some(from), Some(to)) = (resolve(&e.from), resolve(&e.to)) {
                    g.add((from, &e.from_column), (to, &e.to_column), e.role);
                }
            }
            tracing::info!(edges = g.edge_count(), "column lineage built");
            g
        })
    }

    /// Name ranks and adjacency arrays.
    fn index(&mut self) {
        let n = self.graph.node_count();
        let mut order: Vec<NodeIndex> = self.graph.node_indices().collect();
        order.sort_by(|a, b| self.graph[*a].name.cmp(&self.graph[*b].name).then(a.cmp(b)));
        self.name_rank = vec![0; n];
        for (rank, ix) in order.iter().enumerate() {
            self.name_rank[ix.index()] = rank as u32;
        }
        self.by_rank = order.into_iter().map(|ix| ix.index() as u32).collect();
        // What queries read per node, in flat arrays: a walk over a million nodes must not
        // touch the (large) node structs.
        self.process = vec![0; n.div_ceil(64)];
        self.tests = vec![0; n.div_ceil(64)];
        self.sort_base = Vec::with_capacity(n);
        for (i, node) in self.graph.node_weights().enumerate() {
            if node.kind.is_process() {
                self.process[i / 64] |= 1 << (i % 64);
            }
            if node.kind.is_test() {
                self.tests[i / 64] |= 1 << (i % 64);
            }
            let not_exposure = u64::from(node.kind != NodeKind::Exposure);
            let tier = u64::from(node.tier.map_or(u8::MAX, |t| t.min(u8::MAX - 1)));
            self.sort_base
                .push((not_exposure << 63) | (tier << 55) | u64::from(self.name_rank[i]));
        }
        let edges = self.graph.raw_edges();
        let pairs = edges
            .iter()
            .map(|e| (e.source().index() as u32, e.target().index() as u32));
        self.down = Csr::build(n, pairs.clone());
        self.up = Csr::build(n, pairs.map(|(a, b)| (b, a)));
    }

    fn check_acyclic(&self) -> Result<()> {
        // Kahn's algorithm over the adjacency arrays, O(|V| + |E|); only a graph that fails
        // it pays for the strongly connected components that name the cycles.
        let n = self.graph.node_count();
        let mut indegree: Vec<u32> = (0..n as u32).map(|i| self.up.of(i).len() as u32).collect();
        let mut ready: Vec<u32> = (0..n as u32)
            .filter(|&i| indegree[i as usize] == 0)
            .collect();
        let mut done = 0;
        while let Some(x) = ready.pop() {
            done += 1;
            for &y in self.down.of(x) {
                indegree[y as usize] -= 1;
                if indegree[y as usize] == 0 {
                    ready.push(y);
                }
            }
        }
        if done == n {
            return Ok(());
        }
        let mut cycles: Vec<Vec<String>> = petgraph::algo::tarjan_scc(&self.graph)
            .into_iter()
            .filter(|scc| scc.len() > 1)
            .map(|scc| self.cycle_in(&scc))
            .collect();
        if cycles.is_empty() {
            return Ok(());
        }
        cycles.sort();
        Err(LineageError::Cycle { cycles })
    }

    /// One cycle through a strongly connected component, in edge order, starting at its
    /// first name: a breadth-first search from that node back to itself inside the component.
    fn cycle_in(&self, scc: &[NodeIndex]) -> Vec<String> {
        let members: std::collections::HashSet<NodeIndex> = scc.iter().copied().collect();
        let start = *scc
            .iter()
            .min_by(|a, b| self.graph[**a].name.cmp(&self.graph[**b].name))
            .expect("non-empty");
        let mut parent: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut last = start;
        'bfs: while let Some(n) = queue.pop_front() {
            let mut next: Vec<NodeIndex> = self
                .graph
                .neighbors(n)
                .filter(|m| members.contains(m))
                .collect();
            next.sort_by(|a, b| self.graph[*a].name.cmp(&self.graph[*b].name));
            for m in next {
                if m == start {
                    last = n;
                    break 'bfs;
                }
                if let std::collections::hash_map::Entry::Vacant(v) = parent.entry(m) {
                    v.insert(n);
                    queue.push_back(m);
                }
            }
        }
        let mut path = vec![last];
        while let Some(&p) = parent.get(path.last().expect("non-empty")) {
            path.push(p);
        }
        path.reverse();
        path.push(start);
        path.iter().map(|i| self.graph[*i].name.clone()).collect()
    }

    /// The node with this id (any of its ids).
    pub fn by_id(&self, id: &str) -> Option<NodeIndex> {
        self.by_id.get(id).copied()
    }

    /// Nodes with this name (or alias).
    pub fn by_name(&self, name: &str) -> &[NodeIndex] {
        self.by_name.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Finds a node by id or name; an unknown or ambiguous name is an error that says which
    /// nodes exist or match.
    pub fn find(&self, name: &str) -> Result<NodeIndex> {
        if let Some(ix) = self.by_id(name) {
            return Ok(ix);
        }
        let found = self.by_name(name);
        match found {
            [one] => Ok(*one),
            [] => {
                let names: BTreeSet<&str> =
                    self.graph.node_weights().map(|n| n.name.as_str()).collect();
                let hint = sluice_spec::suggest::did_you_mean(name, names.iter().copied())
                    .map(str::to_string);
                Err(LineageError::UnknownNode {
                    name: name.to_string(),
                    did_you_mean: hint,
                })
            }
            many => {
                // A data node wins over the dbt resources sharing its name (a semantic model,
                // a metric) when there is exactly one.
                let data: Vec<NodeIndex> = many
                    .iter()
                    .copied()
                    .filter(|i| self.graph[*i].kind.is_data())
                    .collect();
                if let [one] = data.as_slice() {
                    return Ok(*one);
                }
                let mut ids: Vec<String> = many.iter().map(|i| self.graph[*i].id.clone()).collect();
                ids.sort();
                Err(LineageError::Ambiguous {
                    name: name.to_string(),
                    candidates: ids,
                })
            }
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Whether the graph has no node.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// The node at `ix`.
    pub fn node(&self, ix: NodeIndex) -> &Node {
        &self.graph[ix]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, name: &str, kind: NodeKind) -> RawNode {
        RawNode {
            id: id.into(),
            name: name.into(),
            kind: Some(kind),
            ..RawNode::default()
        }
    }

    fn edge(a: &str, b: &str) -> RawEdge {
        RawEdge {
            from: a.into(),
            to: b.into(),
        }
    }

    #[test]
    fn merges_ids_keeping_the_first_fragments_attributes() {
        let mut config = Fragment::new(Origin::Config);
        config.nodes.push(RawNode {
            owner: Some("data-eng".into()),
            ..node("dataset:orders", "orders", NodeKind::Dataset)
        });
        let mut dbt = Fragment::new(Origin::Dbt);
        dbt.nodes.push(RawNode {
            owner: Some("analytics".into()),
            tier: Some(1),
            ..node("model.shop.orders", "orders", NodeKind::Model)
        });
        dbt.nodes
            .push(node("model.shop.customers", "customers", NodeKind::Model));
        dbt.edges
            .push(edge("model.shop.orders", "model.shop.customers"));
        let l = Lineage::build(
            vec![config, dbt],
            &[("dataset:orders".into(), "model.shop.orders".into())],
        )
        .unwrap();
        assert_eq!(l.len(), 2);
        let o = &l.graph[l.find("orders").unwrap()];
        assert_eq!(o.id, "dataset:orders");
        assert_eq!(o.kinds, [NodeKind::Dataset, NodeKind::Model]);
        assert_eq!(o.owner.as_deref(), Some("data-eng"), "config wins");
        assert_eq!(o.tier, Some(1), "dbt fills what config lacks");
        assert_eq!(o.origins, [Origin::Config, Origin::Dbt]);
        assert_eq!(l.by_id("model.shop.orders"), l.by_id("dataset:orders"));
    }

    #[test]
    fn cycles_are_named() {
        let mut f = Fragment::new(Origin::OpenLineage);
        for (a, b) in [("a", "c"), ("c", "b"), ("b", "a"), ("c", "d")] {
            f.nodes.push(node(a, a, NodeKind::Table));
            f.edges.push(edge(a, b));
        }
        let err = Lineage::build(vec![f], &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the lineage has a cycle: a -> c -> b -> a (each reads what another writes); lineage must be a DAG"
        );
    }

    #[test]
    fn unknown_and_ambiguous_names() {
        let mut f = Fragment::new(Origin::Dbt);
        f.nodes
            .push(node("model.p.orders", "orders", NodeKind::Model));
        f.nodes.push(node(
            "semantic_model.p.orders",
            "orders",
            NodeKind::SemanticModel,
        ));
        f.nodes
            .push(node("metric.p.revenue", "revenue", NodeKind::Metric));
        f.nodes
            .push(node("metric.p.revenue2", "revenue", NodeKind::Metric));
        let l = Lineage::build(vec![f], &[]).unwrap();
        assert_eq!(l.graph[l.find("orders").unwrap()].id, "model.p.orders");
        assert_eq!(
            l.find("ordrs").unwrap_err().to_string(),
            "unknown node `ordrs`; did you mean `orders`?"
        );
        assert!(
            l.find("revenue")
                .unwrap_err()
                .to_string()
                .contains("metric.p.revenue, metric.p.revenue2")
        );
    }
}
