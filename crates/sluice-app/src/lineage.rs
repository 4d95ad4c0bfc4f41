//! The lineage use cases: build the graph from the sources given (a config and the files
//! its `lineage:` names, dbt manifests, OpenLineage events), then impact, select, show.
//! Rendering (tree, JSON, dot, Mermaid) is [`sluice_lineage::render`]'s.

use std::path::PathBuf;
use std::sync::Arc;

use sluice_lineage::{
    Direction, Impact, ImpactOptions, Lineage, NodeIndex, NodeKind, Selector, Sources,
};
use sluice_spec::Config;

use crate::error::{Error, Result};

/// Where a graph comes from.
#[derive(Clone, Debug, Default)]
pub struct GraphSources<'a> {
    /// A loaded config.
    pub config: Option<&'a Config>,
    /// dbt `manifest.json` files.
    pub dbt_manifests: Vec<PathBuf>,
    /// OpenLineage NDJSON files.
    pub openlineage: Vec<PathBuf>,
    /// Leave out dbt manifests and OpenLineage files that cannot be read (the graph is
    /// then marked partial). Stage SQL that does not parse is always left out here, with
    /// the same marking: `impact` and `lineage` answer for the rest of the graph.
    pub allow_partial: bool,
    /// Read the datasets' files for their columns (column lineage's `SELECT *`): only
    /// for column questions, as it opens every dataset.
    pub read_columns: bool,
}

/// A built graph, and whether its config asks for dbt tests (`lineage: { include_tests }`).
#[derive(Debug)]
pub struct Graph {
    /// The graph (shared: a workspace caches its config's).
    pub lineage: Arc<Lineage>,
    /// The config's `include_tests`.
    pub include_tests: bool,
}

/// Builds the graph from every source given; at least one is needed.
pub fn load(src: &GraphSources<'_>) -> Result<Graph> {
    if src.config.is_none() && src.dbt_manifests.is_empty() && src.openlineage.is_empty() {
        return Err(Error::NoLineageSources);
    }
    let mut sources = Sources::new(src.config, &src.dbt_manifests, &src.openlineage);
    sources.partial = sluice_lineage::Partial {
        sql: true,
        files: src.allow_partial,
    };
    if src.read_columns
        && let Some(config) = src.config
    {
        sources.file_columns = file_columns(config);
    }
    Ok(Graph {
        lineage: Arc::new(sluice_lineage::load(&sources)?),
        include_tests: src.config.is_some_and(|c| c.lineage.include_tests),
    })
}

/// The graph of a workspace's config that impact and lineage questions are answered from
/// (cached by the workspace; a stage whose SQL does not parse is left out and listed, as
/// `sluice impact` does).
pub fn of_workspace(ws: &crate::Workspace) -> Result<Graph> {
    Ok(Graph {
        lineage: ws.answering_lineage()?,
        include_tests: ws.config().lineage.include_tests,
    })
}

/// Builds the config's graph (with the files its `lineage:` names) to find its mistakes:
/// stage SQL that does not parse, an exposure depending on nothing known, a mapping to an
/// unknown id, a cycle, an unreadable manifest.
pub fn validate(config: &Config) -> Result<()> {
    sluice_lineage::load(&Sources::new(Some(config), &[], &[]))?;
    Ok(())
}

/// The columns of the config's datasets as their files have them, read on a runtime of
/// its own in a thread of its own (callable from anywhere, inside a runtime too).
pub(crate) fn file_columns(config: &Config) -> std::collections::HashMap<String, Vec<String>> {
    std::thread::scope(|s| {
        s.spawn(
            || match tokio::runtime::Builder::new_current_thread().build() {
                Ok(rt) => rt.block_on(sluice_engine::source::columns_of(config)),
                Err(_) => Default::default(),
            },
        )
        .join()
        .unwrap_or_default()
    })
}

/// An impact question.
#[derive(Clone, Debug, Default)]
pub struct ImpactRequest {
    /// The node: a dataset, stage, exposure, dbt resource or OpenLineage dataset or job,
    /// by name or id.
    pub node: String,
    /// Walk upstream instead (root-cause candidates).
    pub upstream: bool,
    /// Stop after this many steps.
    pub depth: Option<u32>,
    /// Report dbt tests too (also when the config asks for them).
    pub include_tests: bool,
    /// A column of the node: answer at column level (`--column`; `orders.amount` as the
    /// node says the same when no node is called that).
    pub column: Option<String>,
}

/// What an impact question is answered with.
#[derive(Debug)]
pub enum Answer {
    /// Nodes of the graph.
    Nodes(Impact),
    /// Columns.
    Columns(sluice_lineage::columns::ColumnImpact),
}

/// Impact at node or column level: with `req.column`, or when `req.node` names no node
/// but `table.column` names a column of one.
pub fn impact_any(graph: &Graph, req: &ImpactRequest) -> Result<Answer> {
    let column = |table, col: &str| {
        Answer::Columns(sluice_lineage::columns::column_impact(
            &graph.lineage,
            table,
            col,
            req.upstream,
            req.depth,
        ))
    };
    if let Some(col) = &req.column {
        let table = graph.lineage.find(&req.node)?;
        return Ok(column(table, col));
    }
    match impact(graph, req) {
        Ok(i) => Ok(Answer::Nodes(i)),
        Err(e) => {
            if let Some((t, c)) = req.node.rsplit_once('.')
                && let Ok(table) = graph.lineage.find(t)
            {
                return Ok(column(table, c));
            }
            Err(e)
        }
    }
}

/// Everything downstream (or upstream) of a node, with depth and path.
pub fn impact(graph: &Graph, req: &ImpactRequest) -> Result<Impact> {
    let root = graph.lineage.find(&req.node)?;
    let opts = ImpactOptions {
        direction: if req.upstream {
            Direction::Upstream
        } else {
            Direction::Downstream
        },
        max_depth: req.depth,
        include_tests: req.include_tests || graph.include_tests,
    };
    Ok(sluice_lineage::impact(&graph.lineage, root, opts))
}

/// The nodes `selector` selects, as `dbt ls` lists them (an empty answer is an answer).
pub fn select(graph: &Graph, selector: &Selector) -> Result<Vec<NodeIndex>> {
    if selector.select.is_empty() {
        return Err(Error::NoSelector);
    }
    Ok(sluice_lineage::select(&graph.lineage, selector)?)
}

/// The nodes `sluice lineage show` shows: the whole graph but analyses (or what
/// `selector` selects, when it selects anything), without dbt tests unless asked.
pub fn show(graph: &Graph, selector: &Selector, include_tests: bool) -> Result<Vec<NodeIndex>> {
    let l = &graph.lineage;
    let mut nodes = if selector.select.is_empty()
        && selector.exclude.is_empty()
        && selector.resource_types.is_empty()
    {
        l.graph
            .node_indices()
            .filter(|n| l.node(*n).kind != NodeKind::Analysis)
            .collect()
    } else {
        sluice_lineage::select(l, selector)?
    };
    if !(include_tests || graph.include_tests) {
        nodes.retain(|n| !l.node(*n).kind.is_test());
    }
    Ok(nodes)
}
