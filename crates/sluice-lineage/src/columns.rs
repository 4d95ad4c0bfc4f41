//! Column-level lineage: a graph of columns beside the graph of tables. Its edges come from
//! stage SQL ([`crate::import::sql::columns`]), OpenLineage `columnLineage` facets and dbt
//! models' compiled SQL; each says how one column feeds another ([`Role`]).
//!
//! A column is `(table node, column name)`. An edge `t.* → u.*` (a `SELECT *` from a table
//! whose columns are unknown) stands for `t.c → u.c` for every column `c`.

use std::collections::{HashMap, VecDeque};

use petgraph::graph::NodeIndex;

pub use crate::import::sql::columns::Role;
use crate::{Lineage, NodeKind};

/// The prefix of a [`RawColumnEdge`] table given by name rather than id (a table named in a
/// dbt model's SQL: resolved against the merged graph's names, when exactly one node has it).
pub const BY_NAME: &str = "name:";

/// A column edge as an importer gives it: table ids of its own fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawColumnEdge {
    /// The id of the table read (as the fragment's nodes are identified).
    pub from: String,
    /// Its column.
    pub from_column: String,
    /// The id of the table written.
    pub to: String,
    /// Its column.
    pub to_column: String,
    /// How.
    pub role: Role,
}

/// The function computing deferred edges, given better-known columns if any.
type Compute =
    dyn Fn(Option<&crate::import::sql::columns::Schemas>) -> Vec<RawColumnEdge> + Send + Sync;

/// Column edges to compute on demand: dbt models' compiled SQL, parsed when a column
/// question is first asked (with a dbt catalog's columns when one was found).
#[derive(Clone)]
pub struct Deferred {
    compute: std::sync::Arc<Compute>,
    schemas: Option<std::sync::Arc<crate::import::sql::columns::Schemas>>,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Deferred")
    }
}

impl Deferred {
    /// Edges `compute` will give when asked (with the columns of [`Deferred::with_schemas`]
    /// when given, else `None`).
    pub fn new(
        compute: impl Fn(Option<&crate::import::sql::columns::Schemas>) -> Vec<RawColumnEdge>
        + Send
        + Sync
        + 'static,
    ) -> Deferred {
        Deferred {
            compute: std::sync::Arc::new(compute),
            schemas: None,
        }
    }

    /// The same, computed with these (better-known) columns.
    pub fn with_schemas(mut self, schemas: crate::import::sql::columns::Schemas) -> Deferred {
        self.schemas = Some(std::sync::Arc::new(schemas));
        self
    }

    /// Computes the edges.
    pub fn compute(&self) -> Vec<RawColumnEdge> {
        (self.compute)(self.schemas.as_deref())
    }
}

/// The column graph.
#[derive(Clone, Debug, Default)]
pub struct ColumnGraph {
    columns: Vec<(NodeIndex, String)>,
    index: HashMap<(NodeIndex, String), u32>,
    down: Vec<Vec<(u32, Role)>>,
    up: Vec<Vec<(u32, Role)>>,
    edges: usize,
}

impl ColumnGraph {
    fn column(&mut self, table: NodeIndex, name: &str) -> u32 {
        if let Some(&i) = self.index.get(&(table, name.to_string())) {
            return i;
        }
        let i = self.columns.len() as u32;
        self.columns.push((table, name.to_string()));
        self.index.insert((table, name.to_string()), i);
        self.down.push(vec![]);
        self.up.push(vec![]);
        i
    }

    /// Adds an edge (once).
    pub fn add(&mut self, from: (NodeIndex, &str), to: (NodeIndex, &str), role: Role) {
        let (a, b) = (self.column(from.0, from.1), self.column(to.0, to.1));
        if let Some(e) = self.down[a as usize].iter_mut().find(|(t, _)| *t == b) {
            e.1 = e.1.min(role);
            if let Some(u) = self.up[b as usize].iter_mut().find(|(f, _)| *f == a) {
                u.1 = e.1;
            }
            return;
        }
        self.down[a as usize].push((b, role));
        self.up[b as usize].push((a, role));
        self.edges += 1;
    }

    /// Number of column edges.
    pub fn edge_count(&self) -> usize {
        self.edges
    }

    /// Whether any column of `table` is known.
    pub fn knows(&self, table: NodeIndex) -> bool {
        self.columns.iter().any(|(t, _)| *t == table)
    }

    /// The known columns of `table`, sorted.
    pub fn columns_of(&self, table: NodeIndex) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .columns
            .iter()
            .filter(|(t, c)| *t == table && c != "*")
            .map(|(_, c)| c.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Every edge: (from table, from column, to table, to column, role).
    pub fn edges(&self) -> impl Iterator<Item = (NodeIndex, &str, NodeIndex, &str, Role)> {
        self.down.iter().enumerate().flat_map(move |(a, outs)| {
            outs.iter().map(move |(b, role)| {
                let (ft, fc) = &self.columns[a];
                let (tt, tc) = &self.columns[*b as usize];
                (*ft, fc.as_str(), *tt, tc.as_str(), *role)
            })
        })
    }

    /// The neighbours of `(table, column)` one way: its own edges, and those of `table.*`
    /// applied to `column`.
    fn next(
        &self,
        table: NodeIndex,
        column: &str,
        upstream: bool,
    ) -> Vec<(NodeIndex, String, Role)> {
        let adj = if upstream { &self.up } else { &self.down };
        let mut out = Vec::new();
        if let Some(&i) = self.index.get(&(table, column.to_string())) {
            for (j, role) in &adj[i as usize] {
                let (t, c) = &self.columns[*j as usize];
                let c = if c == "*" {
                    column.to_string()
                } else {
                    c.clone()
                };
                out.push((*t, c, *role));
            }
        }
        if column != "*"
            && let Some(&i) = self.index.get(&(table, "*".to_string()))
        {
            for (j, role) in &adj[i as usize] {
                let (t, c) = &self.columns[*j as usize];
                if c == "*" {
                    out.push((*t, column.to_string(), *role));
                }
            }
        }
        out
    }
}

/// A column reached by a column impact walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnHit {
    /// Its table.
    pub table: NodeIndex,
    /// Its name.
    pub column: String,
    /// Steps from the root.
    pub depth: u32,
    /// How it uses the root, along the path that reached it first (the loosest role on it).
    pub role: Role,
    /// The column it was reached from.
    pub via: (NodeIndex, String),
}

/// What a column reaches.
#[derive(Clone, Debug)]
pub struct ColumnImpact {
    /// The root table.
    pub table: NodeIndex,
    /// The root column.
    pub column: String,
    /// Upstream instead of downstream.
    pub upstream: bool,
    /// The columns reached, by depth then table and column name.
    pub hits: Vec<ColumnHit>,
    /// The tables (datasets, models...) of the columns reached.
    pub tables: Vec<NodeIndex>,
    /// The exposures that read those tables (or the root's) directly.
    pub exposures: Vec<NodeIndex>,
}

/// Every column downstream (or upstream) of `table.column`, breadth first, to `max_depth`.
pub fn column_impact(
    l: &Lineage,
    table: NodeIndex,
    column: &str,
    upstream: bool,
    max_depth: Option<u32>,
) -> ColumnImpact {
    let g = l.columns();
    let mut seen: HashMap<(NodeIndex, String), ()> = HashMap::new();
    seen.insert((table, column.to_string()), ());
    let mut queue = VecDeque::from([(table, column.to_string(), 0u32, Role::Identity)]);
    let mut hits = Vec::new();
    while let Some((t, c, depth, role)) = queue.pop_front() {
        if max_depth.is_some_and(|m| depth >= m) {
            continue;
        }
        for (nt, nc, r) in g.next(t, &c, upstream) {
            if seen.insert((nt, nc.clone()), ()).is_some() {
                continue;
            }
            let role = if depth == 0 { r } else { role.max(r) };
            hits.push(ColumnHit {
                table: nt,
                column: nc.clone(),
                depth: depth + 1,
                role,
                via: (t, c.clone()),
            });
            queue.push_back((nt, nc, depth + 1, role));
        }
    }
    hits.sort_by(|a, b| {
        (a.depth, &l.node(a.table).name, &a.column).cmp(&(
            b.depth,
            &l.node(b.table).name,
            &b.column,
        ))
    });
    let mut tables: Vec<NodeIndex> = hits.iter().map(|h| h.table).collect();
    tables.sort_by_key(|t| &l.node(*t).name);
    tables.dedup();
    let mut exposures: Vec<NodeIndex> = if upstream {
        vec![]
    } else {
        std::iter::once(table)
            .chain(tables.iter().copied())
            .flat_map(|t| l.graph.neighbors_directed(t, petgraph::Direction::Outgoing))
            .filter(|n| l.node(*n).kind == NodeKind::Exposure)
            .collect()
    };
    exposures.sort_by_key(|t| &l.node(*t).name);
    exposures.dedup();
    ColumnImpact {
        table,
        column: column.to_string(),
        upstream,
        hits,
        tables,
        exposures,
    }
}
