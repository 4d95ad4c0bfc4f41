//! What `sluice.yaml` says: datasets, stages (inputs -> stage -> outputs), exposures
//! (depends_on -> exposure), and the tables each stage's SQL reads and writes.

use sluice_spec::Config;

use super::sql::analyse;
use super::sql::columns::Schemas;
use crate::error::{LineageError, Result};
use crate::graph::{Fragment, NameEdge, NodeKind, Origin, RawEdge, RawNode};

/// Id of a sluice dataset.
pub fn dataset_id(name: &str) -> String {
    format!("dataset:{name}")
}

/// Id of a sluice stage.
pub fn stage_id(name: &str) -> String {
    format!("stage:{name}")
}

/// Id of a table named in stage SQL.
pub fn table_id(name: &str) -> String {
    format!("table:{name}")
}

/// The config's datasets, stages and exposures (origin `config`), and what stage SQL adds
/// (origin `sql`).
///
/// With `missing`, a stage whose SQL does not parse is left out of the SQL fragment (its
/// declared `inputs`/`outputs` stay) and listed there, instead of failing the import.
pub fn import(
    config: &Config,
    mut missing: Option<&mut Vec<crate::graph::Missing>>,
    file_columns: &std::collections::HashMap<String, Vec<String>>,
) -> Result<(Fragment, Fragment)> {
    let mut f = Fragment::new(Origin::Config);
    for d in &config.datasets {
        let mut alias_names = vec![d.path.trim_end_matches('/').to_string()];
        let resolved = d.location.display().to_string();
        let resolved = resolved.trim_end_matches('/');
        if !alias_names.iter().any(|a| a == resolved) {
            alias_names.push(resolved.to_string());
        }
        f.nodes.push(RawNode {
            id: dataset_id(&d.name),
            name: d.name.clone(),
            kind: Some(NodeKind::Dataset),
            owner: d.owner.clone(),
            tier: d.tier,
            tags: d.tags.clone(),
            alias_names,
            ..RawNode::default()
        });
    }
    let mut sql = Fragment::new(Origin::Sql);
    // `SELECT *` from a dataset expands to its columns when a complete `schema` check
    // lists them (no extra columns allowed).
    let mut schemas = Schemas::new();
    schemas.complete = true;
    schemas.tables = config
        .datasets
        .iter()
        .filter_map(|d| {
            d.checks.iter().find_map(|c| match &c.kind {
                sluice_spec::CheckKind::Schema(s) if !s.allow_extra => Some((
                    d.name.to_lowercase(),
                    s.columns.iter().map(|(n, _)| n.to_lowercase()).collect(),
                )),
                _ => None,
            })
        })
        .collect();
    for (d, cols) in file_columns {
        schemas
            .tables
            .entry(d.clone())
            .or_insert_with(|| cols.clone());
    }
    for s in &config.stages {
        let id = stage_id(&s.name);
        f.nodes.push(RawNode {
            id: id.clone(),
            name: s.name.clone(),
            kind: Some(NodeKind::Stage),
            owner: s.owner.clone(),
            ..RawNode::default()
        });
        for i in &s.inputs {
            f.edges.push(RawEdge {
                from: dataset_id(i),
                to: id.clone(),
            });
        }
        for o in &s.outputs {
            f.edges.push(RawEdge {
                from: id.clone(),
                to: dataset_id(o),
            });
        }
        if let Some(text) = &s.sql {
            let dialect = s.dialect.unwrap_or(config.lineage.dialect);
            let flow = analyse(&text.text, dialect, &schemas).map_err(|e| {
                let (at, sql_pos) = match (&text.file, e.pos) {
                    // In a file, the parser's position is the file's.
                    (Some(file), Some((l, c))) => (format!("{}:{l}:{c}", file.display()), None),
                    (Some(file), None) => (file.display().to_string(), None),
                    (None, Some((l, c))) => match locate_in_config(config, text, l, c) {
                        Some(at) => (at, None),
                        None => (
                            config.file.location(text.span.start).to_string(),
                            Some((l, c)),
                        ),
                    },
                    (None, None) => (config.file.location(text.span.start).to_string(), None),
                };
                LineageError::Sql {
                    at,
                    stage: s.name.clone(),
                    sql_pos,
                    message: e.message,
                    dialect: e.dialect,
                    suggestion: e.suggestion,
                }
            });
            let flow = match (flow, missing.as_deref_mut()) {
                (Ok(f), _) => f,
                (Err(e), Some(m)) => {
                    let at = match &e {
                        LineageError::Sql { at, .. } => at.clone(),
                        _ => String::new(),
                    };
                    tracing::warn!(stage = %s.name, error = %e, "stage SQL left out of the graph");
                    m.push(crate::graph::Missing {
                        source: format!("stage `{}`", s.name),
                        at,
                        message: e.to_string(),
                    });
                    continue;
                }
                (Err(e), None) => return Err(e),
            };
            for t in flow.reads.iter().chain(&flow.writes) {
                sql.nodes.push(RawNode {
                    id: table_id(t),
                    name: t.clone(),
                    kind: Some(NodeKind::Table),
                    ..RawNode::default()
                });
            }
            if !flow.self_reads.is_empty() {
                sql.nodes.push(RawNode {
                    id: id.clone(),
                    name: s.name.clone(),
                    kind: Some(NodeKind::Stage),
                    self_reads: flow.self_reads.clone(),
                    ..RawNode::default()
                });
            }
            sql.column_edges
                .extend(flow.columns.iter().map(|e| crate::columns::RawColumnEdge {
                    from: table_id(&e.from_table),
                    from_column: e.from_column.clone(),
                    to: table_id(&e.to_table),
                    to_column: e.to_column.clone(),
                    role: e.role,
                }));
            for r in flow.reads {
                sql.edges.push(RawEdge {
                    from: table_id(&r),
                    to: id.clone(),
                });
            }
            for w in flow.writes {
                sql.edges.push(RawEdge {
                    from: id.clone(),
                    to: table_id(&w),
                });
            }
        }
    }
    for e in &config.exposures {
        let id = format!("exposure:{}", e.name);
        f.nodes.push(RawNode {
            id: id.clone(),
            name: e.name.clone(),
            kind: Some(NodeKind::Exposure),
            owner: e.owner.clone(),
            tier: e.tier,
            tags: e.tags.clone(),
            subkind: Some(e.kind.clone()),
            url: e.url.clone(),
            ..RawNode::default()
        });
        for dep in &e.depends_on {
            f.name_edges.push(NameEdge {
                from_name: dep.clone(),
                to: id.clone(),
                at: config.file.location(e.span.start).to_string(),
                what: format!("exposure `{}` depends_on `{dep}`", e.name),
            });
        }
    }
    Ok((f, sql))
}

/// Where line `l`, column `c` of an inline `sql:` is in the config file, when the SQL is laid
/// out there as written (a `|` block, or a one-line plain or quoted scalar): the position is
/// verified against the file's text, so an escaped or folded string gives `None`.
fn locate_in_config(
    config: &Config,
    sql: &sluice_spec::StageSql,
    l: u64,
    c: u64,
) -> Option<String> {
    let sql_line = sql
        .text
        .lines()
        .nth(usize::try_from(l).ok()?.checked_sub(1)?)?;
    let start = sql.span.start;
    let line = start
        .line
        .checked_add(u32::try_from(l).ok()?.checked_sub(1)?)?;
    let file_line = config.file.line(line);
    let c = u32::try_from(c).ok()?.max(1);
    // A quoted scalar starts one column before its text; only on its first line.
    let shifts: &[u32] = if l == 1 { &[0, 1] } else { &[0] };
    for &shift in shifts {
        // The SQL line must be there as written (an escaped or folded string is not).
        let from = start.col + shift;
        let rest: String = file_line.chars().skip(from as usize - 1).collect();
        if !sql_line.trim().is_empty() && rest.starts_with(sql_line.trim_end()) {
            let pos = sluice_spec::source::Pos {
                line,
                col: from + c - 1,
            };
            return Some(config.file.location(pos).to_string());
        }
    }
    None
}
