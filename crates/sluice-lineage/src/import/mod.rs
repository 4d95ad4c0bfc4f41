//! Importers, and the identity rules that join what they learn into one graph.
//!
//! # Identity
//!
//! Each source names things its own way: `dataset:orders` in sluice.yaml,
//! `model.shop.orders` in dbt, `ol:postgres://db:5432/shop.main.orders` in OpenLineage,
//! `table:orders` in stage SQL. Nodes from two different sources are the same node when they
//! share a name that is unique within each of the two sources. The names a node goes by:
//!
//! - a sluice dataset: its name and its `path:` (as written and resolved);
//! - a dbt model, seed or snapshot: its name, its alias, and its `relation_name` unquoted,
//!   in full (`shop.main.orders`) and without the database (`main.orders`);
//! - a dbt source: `source_name.table` and its relation name (full and without database);
//! - an OpenLineage dataset: its name, `namespace/name`, and its symlinks' names;
//! - a table in stage SQL: its name as written (`orders`, `main.orders`);
//! - stages and OpenLineage jobs match each other by name; exposures match exposures.
//!
//! Names are compared case-insensitively. Data, jobs and exposures never match each other.
//! `lineage: { mapping: { orders_clean: [model.shop.orders] } }` says it outright; a
//! mapping replaces the name rules for the dataset and for the nodes it names.

pub mod config;
pub mod dbt;
pub mod openlineage;
pub mod sql;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use sluice_spec::Config;

use crate::error::{LineageError, Result};
use crate::graph::{Fragment, Lineage, Missing, NodeKind, RawNode};

/// What to build a graph from.
#[derive(Clone, Debug, Default)]
pub struct Sources<'a> {
    /// A sluice config (its datasets, stages, exposures and stage SQL).
    pub config: Option<&'a Config>,
    /// dbt manifests.
    pub dbt: Vec<PathBuf>,
    /// OpenLineage NDJSON files.
    pub openlineage: Vec<PathBuf>,
    /// Which sources may be left out, when they cannot be read, with the graph marked
    /// partial (default: none; every failure is an error).
    pub partial: Partial,
    /// The columns of datasets as their files have them (all of them), for column
    /// lineage's `SELECT *`; a dataset's complete `schema` check says the same.
    pub file_columns: std::collections::HashMap<String, Vec<String>>,
}

/// Which failing sources a graph may leave out (each then listed in
/// [`Lineage::missing`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Partial {
    /// A stage whose SQL does not parse: its SQL's edges are missing.
    pub sql: bool,
    /// A dbt manifest or OpenLineage file that cannot be read.
    pub files: bool,
}

impl<'a> Sources<'a> {
    /// The config, plus the files its `lineage:` names, plus `dbt` and `openlineage` given
    /// on the command line.
    pub fn new(
        config: Option<&'a Config>,
        dbt: &[PathBuf],
        openlineage: &[PathBuf],
    ) -> Sources<'a> {
        let mut s = Sources {
            config,
            dbt: vec![],
            openlineage: vec![],
            partial: Partial::default(),
            file_columns: Default::default(),
        };
        if let Some(c) = config {
            s.dbt.extend(c.lineage.dbt.iter().cloned());
            s.openlineage.extend(c.lineage.openlineage.iter().cloned());
        }
        s.dbt.extend(dbt.iter().cloned());
        s.openlineage.extend(openlineage.iter().cloned());
        s
    }
}

/// Reads every source and merges them into one graph.
pub fn load(sources: &Sources) -> Result<Lineage> {
    let _span = tracing::info_span!(
        "lineage.load",
        dbt = sources.dbt.len(),
        openlineage = sources.openlineage.len()
    )
    .entered();
    let mut fragments = Vec::new();
    let mut missing = Vec::new();
    if let Some(c) = sources.config {
        let (config, sql) = config::import(
            c,
            sources.partial.sql.then_some(&mut missing),
            &sources.file_columns,
        )?;
        fragments.push(config);
        fragments.push(sql);
    }
    let mut file = |what: &str, p: &PathBuf, r: Result<Fragment>| -> Result<Option<Fragment>> {
        match r {
            Ok(f) => Ok(Some(f)),
            Err(e) if sources.partial.files => {
                tracing::warn!(path = %p.display(), error = %e, "left out of the graph");
                missing.push(Missing {
                    source: format!("{what} {}", p.display()),
                    at: p.display().to_string(),
                    message: e.to_string(),
                });
                Ok(None)
            }
            Err(e) => Err(e),
        }
    };
    for p in &sources.dbt {
        let _s = tracing::info_span!("dbt", path = %p.display()).entered();
        fragments.extend(file("dbt manifest", p, dbt::import(p))?);
    }
    for p in &sources.openlineage {
        let _s = tracing::info_span!("openlineage", path = %p.display()).entered();
        fragments.extend(file("OpenLineage events", p, openlineage::import(p))?);
    }
    let same = same_nodes(&fragments, sources.config)?;
    let mut lineage = Lineage::build(fragments, &same)?;
    lineage.missing = missing;
    tracing::info!(
        nodes = lineage.graph.node_count(),
        edges = lineage.graph.edge_count(),
        "lineage built"
    );
    Ok(lineage)
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Space {
    Data,
    Process,
    Exposure,
}

fn space(kind: Option<NodeKind>) -> Option<Space> {
    let k = kind?;
    if k.is_data() {
        Some(Space::Data)
    } else if k.is_process() {
        Some(Space::Process)
    } else if k == NodeKind::Exposure {
        Some(Space::Exposure)
    } else {
        None
    }
}

fn keys(n: &RawNode) -> impl Iterator<Item = String> + '_ {
    std::iter::once(&n.name)
        .chain(&n.alias_names)
        .map(|k| k.trim_end_matches('/').to_lowercase())
}

/// The ids one fragment has under one identity key: (fragment index, node ids).
type FragmentIds<'a> = (usize, Vec<&'a str>);

/// Pairs of ids that name the same thing: the `mapping`, then shared unique names.
fn same_nodes(fragments: &[Fragment], config: Option<&Config>) -> Result<Vec<(String, String)>> {
    let mut same = Vec::new();
    let mut pinned: HashSet<String> = HashSet::new();
    if let Some(c) = config {
        let ids: HashSet<&str> = fragments
            .iter()
            .flat_map(|f| {
                f.nodes.iter().map(|n| n.id.as_str()).chain(
                    f.edges
                        .iter()
                        .flat_map(|e| [e.from.as_str(), e.to.as_str()]),
                )
            })
            .collect();
        // Names of other sources' nodes, for mapping entries that give a name, not an id.
        let mut names: HashMap<String, Vec<&str>> = HashMap::new();
        for f in fragments
            .iter()
            .filter(|f| f.origin != crate::Origin::Config)
        {
            for n in &f.nodes {
                for k in keys(n) {
                    names.entry(k).or_default().push(&n.id);
                }
            }
        }
        for m in &c.lineage.mapping {
            let dataset = config::dataset_id(&m.dataset);
            pinned.insert(dataset.clone());
            for entry in &m.ids {
                let found = [
                    entry.clone(),
                    format!("ol:{entry}"),
                    format!("job:{entry}"),
                    config::table_id(entry),
                ]
                .into_iter()
                .find(|id| ids.contains(id.as_str()))
                .or_else(|| {
                    match names.get(&entry.to_lowercase()).map(Vec::as_slice) {
                        Some([one]) => Some(one.to_string()),
                        _ => None,
                    }
                });
                let Some(id) = found else {
                    let all: BTreeSet<&str> = ids
                        .iter()
                        .copied()
                        .chain(names.keys().map(String::as_str))
                        .collect();
                    let hint = sluice_spec::suggest::did_you_mean(entry, all.iter().copied())
                        .map(str::to_string);
                    return Err(LineageError::Reference {
                        at: c.file.location(m.span.start).to_string(),
                        what: format!("`mapping` of dataset `{}`", m.dataset),
                        cause: Box::new(LineageError::UnknownNode {
                            name: entry.clone(),
                            did_you_mean: hint,
                        }),
                    });
                };
                pinned.insert(id.clone());
                same.push((dataset.clone(), id));
            }
        }
    }
    // key -> for each fragment, the ids with that key.
    let mut index: HashMap<(Space, String), Vec<FragmentIds>> = HashMap::new();
    for (fi, f) in fragments.iter().enumerate() {
        for n in &f.nodes {
            let Some(sp) = space(n.kind) else { continue };
            if pinned.contains(&n.id) {
                continue;
            }
            for k in keys(n) {
                let per = index.entry((sp, k)).or_default();
                match per.last_mut() {
                    Some((i, ids)) if *i == fi => {
                        if !ids.contains(&n.id.as_str()) {
                            ids.push(&n.id);
                        }
                    }
                    _ => per.push((fi, vec![&n.id])),
                }
            }
        }
    }
    let mut keys: Vec<_> = index.into_iter().filter(|(_, per)| per.len() > 1).collect();
    keys.sort_by(|a, b| a.0.1.cmp(&b.0.1));
    for (_, per) in keys {
        let unique: Vec<&str> = per
            .iter()
            .filter(|(_, ids)| ids.len() == 1)
            .map(|(_, ids)| ids[0])
            .collect();
        for w in unique.windows(2) {
            same.push((w[0].to_string(), w[1].to_string()));
        }
    }
    Ok(same)
}
