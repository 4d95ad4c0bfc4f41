//! `sluice impact` and `sluice lineage select|show`: build the graph from the sources given,
//! query it, render it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use sluice_lineage::{
    Direction, ImpactOptions, Lineage, LineageError, NodeKind, Selector, Sources, render,
};

use crate::cli::{ConfigArgs, GraphFormat, ImpactArgs, LineageCommand, SelectionArgs, SourceArgs};
use crate::{Exit, code, fail, load_config, write_atomically};

/// The graph, and whether the config asks for dbt tests.
fn load_graph(src: &SourceArgs, color: bool) -> Result<(Lineage, bool), Exit> {
    let config_path = src.config.clone().or_else(|| {
        ["sluice.yaml", "sluice.yml"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    });
    if config_path.is_none() && src.dbt_manifest.is_empty() && src.openlineage.is_empty() {
        return Err(fail(
            anyhow!(
                "no lineage to read: pass --dbt-manifest PATH, --openlineage PATH or --config FILE (there is no sluice.yaml in the current folder)"
            ),
            code::INVALID,
            color,
        ));
    }
    let config = match config_path {
        Some(p) => Some(load_config(
            &ConfigArgs {
                config: Some(p),
                vars: src.vars.clone(),
            },
            color,
        )?),
        None => None,
    };
    let sources = Sources::new(config.as_ref(), &src.dbt_manifest, &src.openlineage);
    let lineage = sluice_lineage::load(&sources).map_err(|e| lineage_fail(e, color))?;
    Ok((lineage, config.is_some_and(|c| c.lineage.include_tests)))
}

/// Builds the config's lineage graph (with the files its `lineage:` names) to find its
/// mistakes; for `sluice validate`.
pub fn validate(config: &sluice_spec::Config, color: bool) -> Result<(), Exit> {
    sluice_lineage::load(&Sources::new(Some(config), &[], &[]))
        .map(drop)
        .map_err(|e| lineage_fail(e, color))
}

fn lineage_fail(e: LineageError, color: bool) -> Exit {
    let code = if e.is_io() {
        code::RUNTIME
    } else {
        code::INVALID
    };
    fail(anyhow::Error::new(e), code, color)
}

/// Writes `text` to `output` (atomically) or stdout.
fn emit(text: &str, output: Option<&Path>, color: bool) -> Result<(), Exit> {
    if let Some(path) = output {
        return write_atomically(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
            .map_err(|e| fail(e, code::RUNTIME, color));
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(fail(
            anyhow::Error::new(e).context("cannot write to stdout"),
            code::RUNTIME,
            color,
        )),
        _ => Ok(()),
    }
}

fn json_text(v: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialize");
    s.push('\n');
    s
}

/// `sluice impact`.
pub fn impact(args: &ImpactArgs, color: bool) -> Result<u8, Exit> {
    let (lineage, config_tests) = load_graph(&args.sources, color)?;
    let root = lineage
        .find(&args.node)
        .map_err(|e| lineage_fail(e, color))?;
    let opts = ImpactOptions {
        direction: if args.upstream {
            Direction::Upstream
        } else {
            Direction::Downstream
        },
        max_depth: args.depth,
        include_tests: args.include_tests || config_tests,
    };
    let imp = sluice_lineage::impact(&lineage, root, opts);
    let nodes: Vec<_> = imp.hits.iter().map(|h| h.node).collect();
    let text = match args.format {
        GraphFormat::Text => render::impact_text(&lineage, &imp, args.limit),
        GraphFormat::Json => json_text(&render::impact_json(&lineage, &imp).with_paths(args.paths)),
        GraphFormat::Dot => render::dot(&lineage, &nodes, Some(root)),
        GraphFormat::Mermaid => render::mermaid(&lineage, &nodes, Some(root)),
    };
    emit(&text, args.output.as_deref(), color)?;
    Ok(code::PASSED)
}

fn selector(select: Vec<String>, s: &SelectionArgs) -> Selector {
    Selector {
        select,
        exclude: s.exclude.clone(),
        resource_types: s.resource_types.clone(),
        indirect: s.indirect_selection,
    }
}

/// `sluice lineage ...`.
pub fn lineage(cmd: &LineageCommand, color: bool) -> Result<u8, Exit> {
    match cmd {
        LineageCommand::Select(args) => {
            let (lineage, _) = load_graph(&args.sources, color)?;
            let select: Vec<String> = args.selectors.iter().chain(&args.select).cloned().collect();
            if select.is_empty() {
                return Err(fail(
                    anyhow!(
                        "give a selector, e.g. `sluice lineage select 'orders+'` (`sluice lineage show` shows the whole graph)"
                    ),
                    code::INVALID,
                    color,
                ));
            }
            let nodes =
                sluice_lineage::select(&lineage, &selector(select.clone(), &args.selection))
                    .map_err(|e| lineage_fail(e, color))?;
            if nodes.is_empty() {
                // dbt warns and prints nothing; so do we (exit 0: an empty selection is an answer).
                let st = crate::render::Style { color };
                eprintln!(
                    "{} nothing matches `{}`; `sluice lineage show` lists every node",
                    st.paint("1;33", "warning:"),
                    select.join(" ")
                );
            }
            let text = match args.format {
                GraphFormat::Text => render::select_text(&lineage, &nodes),
                GraphFormat::Json => json_text(&render::select_json(&lineage, &nodes)),
                GraphFormat::Dot => render::dot(&lineage, &nodes, None),
                GraphFormat::Mermaid => render::mermaid(&lineage, &nodes, None),
            };
            emit(&text, args.output.as_deref(), color)?;
            Ok(code::PASSED)
        }
        LineageCommand::Show(args) => {
            let (lineage, config_tests) = load_graph(&args.sources, color)?;
            let tests = args.include_tests || config_tests;
            let mut nodes = if args.select.is_empty()
                && args.selection.exclude.is_empty()
                && args.selection.resource_types.is_empty()
            {
                lineage
                    .graph
                    .node_indices()
                    .filter(|n| lineage.node(*n).kind != NodeKind::Analysis)
                    .collect()
            } else {
                sluice_lineage::select(&lineage, &selector(args.select.clone(), &args.selection))
                    .map_err(|e| lineage_fail(e, color))?
            };
            if !tests {
                nodes.retain(|n| !lineage.node(*n).kind.is_test());
            }
            let text = match args.format {
                GraphFormat::Text => render::forest_text(&lineage, &nodes, args.limit),
                GraphFormat::Json => json_text(&render::graph_json(&lineage, &nodes)),
                GraphFormat::Dot => render::dot(&lineage, &nodes, None),
                GraphFormat::Mermaid => render::mermaid(&lineage, &nodes, None),
            };
            emit(&text, args.output.as_deref(), color)?;
            Ok(code::PASSED)
        }
    }
}
