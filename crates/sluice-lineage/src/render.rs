//! What users see: the impact tree and its JSON contract, selections, and any subgraph as
//! Graphviz dot or Mermaid.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use petgraph::Direction as Dir;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use serde::Serialize;
use serde_json::{Value, json};

use crate::graph::{Lineage, Node, NodeKind};
use crate::query::Impact;

/// `kind`, or `exposure (dashboard)`.
fn kind_label(n: &Node) -> String {
    match &n.subkind {
        Some(s) => format!("{} ({s})", n.kind),
        None => n.kind.to_string(),
    }
}

/// `name · kind · owner · tier N`.
fn describe(n: &Node) -> String {
    let mut s = format!("{} · {}", n.name, kind_label(n));
    if let Some(o) = &n.owner {
        write!(s, " · {o}").ok();
    }
    if let Some(t) = n.tier {
        write!(s, " · tier {t}").ok();
    }
    s
}

fn plural(n: usize, word: &str) -> String {
    let plural = match word {
        "analysis" => "analyses".to_string(),
        "saved_query" => "saved_queries".to_string(),
        w => format!("{w}s"),
    };
    format!("{n} {}", if n == 1 { word.to_string() } else { plural })
}

/// The impact report for people: a tree of the shortest paths (each node under the one it
/// is reached from), the exposures hit, a summary and the owners to call. `limit` caps the
/// tree's lines (0: no cap); the lists after it are always whole.
pub fn impact_text(l: &Lineage, imp: &Impact, limit: usize) -> String {
    let root = l.node(imp.root);
    let mut out = String::new();
    let verb = match imp.direction {
        crate::Direction::Downstream => "downstream of",
        crate::Direction::Upstream => "upstream of",
    };
    let depth = imp
        .max_depth
        .map(|d| format!(" (depth <= {d})"))
        .unwrap_or_default();
    if imp.hits.is_empty() {
        writeln!(out, "Nothing is {verb} {}{depth}.", describe(root)).ok();
        return out;
    }
    writeln!(
        out,
        "{} {verb} {}{depth}",
        plural(imp.hits.len(), "node"),
        describe(root)
    )
    .ok();
    writeln!(out).ok();
    impact_tree(&mut out, l, imp, limit);
    exposures_hit(&mut out, l, imp);
    summary_and_notify(&mut out, l, imp);
    out
}

/// The tree of shortest paths under the root, children in the order of the impact list
/// (exposures, tier, depth, name), at most `limit` lines (0: all).
fn impact_tree(out: &mut String, l: &Lineage, imp: &Impact, limit: usize) {
    let order: HashMap<NodeIndex, usize> = imp
        .hits
        .iter()
        .enumerate()
        .map(|(i, h)| (h.node, i))
        .collect();
    let mut children: HashMap<NodeIndex, Vec<NodeIndex>> = HashMap::new();
    let mut by_depth: Vec<NodeIndex> = imp.hits.iter().map(|h| h.node).collect();
    by_depth.sort_by_key(|n| order[n]);
    for &n in &by_depth {
        // A hidden parent (a dbt test never leads anywhere, but stay safe): hang it on the root.
        let mut p = imp.parent(n).unwrap_or(imp.root);
        while p != imp.root && !order.contains_key(&p) {
            p = imp.parent(p).unwrap_or(imp.root);
        }
        children.entry(p).or_default().push(n);
    }
    let hits: HashSet<NodeIndex> = order.keys().copied().collect();
    writeln!(out, "{}", l.node(imp.root).name).ok();
    let mut lines = 1;
    let mut shown = 0;
    let mut stack: Vec<(NodeIndex, String, bool)> = Vec::new();
    let push_children =
        |stack: &mut Vec<(NodeIndex, String, bool)>, of: NodeIndex, prefix: &str| {
            if let Some(c) = children.get(&of) {
                for (i, &n) in c.iter().enumerate().rev() {
                    stack.push((n, prefix.to_string(), i + 1 == c.len()));
                }
            }
        };
    push_children(&mut stack, imp.root, "");
    while let Some((n, prefix, last)) = stack.pop() {
        if limit > 0 && lines >= limit {
            break;
        }
        let node = l.node(n);
        let others = other_parents(l, imp, n, &hits);
        let also = if others.is_empty() {
            String::new()
        } else {
            format!("  (also via {others})")
        };
        writeln!(
            out,
            "{prefix}{}{}{also}",
            if last { "└── " } else { "├── " },
            describe(node)
        )
        .ok();
        lines += 1;
        shown += 1;
        let next = format!("{prefix}{}", if last { "    " } else { "│   " });
        push_children(&mut stack, n, &next);
    }
    if shown < imp.hits.len() {
        writeln!(
            out,
            "… {} more not shown (--limit 0 shows all; --format json lists every node)",
            imp.hits.len() - shown
        )
        .ok();
    }
}

/// `Exposures hit (N):` with tier, depth, owner and URL, when any is hit.
fn exposures_hit(out: &mut String, l: &Lineage, imp: &Impact) {
    let exposures: Vec<_> = imp
        .hits
        .iter()
        .filter(|h| l.node(h.node).kind == NodeKind::Exposure)
        .collect();
    if exposures.is_empty() {
        return;
    }
    writeln!(out, "\nExposures hit ({}):", exposures.len()).ok();
    let w = exposures
        .iter()
        .map(|h| l.node(h.node).name.chars().count())
        .max()
        .unwrap_or(0);
    for h in exposures {
        let n = l.node(h.node);
        let mut line = format!(
            "  {:<w$}  {}",
            n.name,
            n.tier
                .map_or("untiered".to_string(), |t| format!("tier {t}"))
        );
        write!(line, "  depth {}", h.depth).ok();
        if let Some(o) = &n.owner {
            write!(line, "  {o}").ok();
        }
        if let Some(u) = &n.url {
            write!(line, "  {u}").ok();
        }
        writeln!(out, "{line}").ok();
    }
}

/// `Summary:` by kind and tier, then the owners to call, most critical first.
fn summary_and_notify(out: &mut String, l: &Lineage, imp: &Impact) {
    let kinds: Vec<String> = imp
        .by_kind(l)
        .into_iter()
        .map(|(k, c)| plural(c, k.name()))
        .collect();
    let tiers: Vec<String> = imp
        .by_tier(l)
        .into_iter()
        .map(|(t, c)| match t {
            Some(t) => format!("tier {t}: {c}"),
            None => format!("untiered: {c}"),
        })
        .collect();
    writeln!(
        out,
        "\nSummary: {} · {}",
        kinds.join(", "),
        tiers.join(", ")
    )
    .ok();
    let notify = imp.notify(l);
    if notify.is_empty() {
        writeln!(out, "Notify: nobody; no node hit has an owner (set `owner:` in sluice.yaml, `meta.owner` in dbt)").ok();
        return;
    }
    writeln!(out, "Notify ({}):", notify.len()).ok();
    let w = notify
        .iter()
        .map(|n| n.owner.chars().count())
        .max()
        .unwrap_or(0);
    for (i, n) in notify.iter().enumerate() {
        let node = l.node(n.most_critical);
        let tier = n
            .tier
            .map_or("untiered".to_string(), |t| format!("tier {t}"));
        let more = if n.count > 1 {
            format!(" and {} more", n.count - 1)
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {}. {:<w$}  {tier:<8}  {} ({}){more}",
            i + 1,
            n.owner,
            node.name,
            node.kind
        )
        .ok();
    }
}

/// Up to two other nodes (hit, or the root) that also lead to `n`, besides its tree parent.
fn other_parents(l: &Lineage, imp: &Impact, n: NodeIndex, hits: &HashSet<NodeIndex>) -> String {
    let dir = match imp.direction {
        crate::Direction::Downstream => Dir::Incoming,
        crate::Direction::Upstream => Dir::Outgoing,
    };
    let parent = imp.parent(n);
    let mut others: Vec<&str> = l
        .graph
        .neighbors_directed(n, dir)
        .filter(|p| Some(*p) != parent && (hits.contains(p) || *p == imp.root))
        .map(|p| l.node(p).name.as_str())
        .collect();
    others.sort_unstable();
    others.dedup();
    match others.len() {
        0 => String::new(),
        1 | 2 => others.join(", "),
        k => format!("{}, {} and {} more", others[0], others[1], k - 2),
    }
}

/// The impact JSON contract (see the README): a view that serialises straight from the
/// graph, without building a tree of JSON values (a million-node blast radius is tens of
/// MB of JSON; building it as values first took seconds and gigabytes).
///
/// Each hit in `impacted` names the node it is reached from on its shortest path, `via`
/// (by name, as `root` and `path` name nodes): following `via` from any hit leads back to
/// `root`, so the report is linear in the number of hits. The whole `path` of every hit is
/// left out unless [`ImpactJson::with_paths`] asks for it: a chain N deep has paths of
/// N(N+1)/2 names in all (5,000 deep: ~200 MB instead of ~1 MB).
///
/// ```json
/// { "root": "raw", "root_kind": "dataset", "direction": "downstream", "max_depth": null,
///   "summary": { "total": 2, "by_kind": { "dataset": 2 }, "by_tier": { "untiered": 2 } },
///   "impacted": [
///     { "name": "clean", "kind": "dataset", "depth": 1, "via": "raw",
///       "owner": null, "tier": null, "id": "dataset:clean", "origins": ["config"] },
///     { "name": "daily", "kind": "dataset", "depth": 2, "via": "clean",
///       "owner": null, "tier": null, "id": "dataset:daily", "origins": ["config"] } ],
///   "notify": [] }
/// ```
pub fn impact_json<'a>(l: &'a Lineage, imp: &'a Impact) -> ImpactJson<'a> {
    let root = l.node(imp.root);
    let notify = imp
        .notify(l)
        .into_iter()
        .map(|n| {
            let node = l.node(n.most_critical);
            NotifyJson {
                owner: n.owner,
                tier: n.tier,
                most_critical: &node.name,
                kind: node.kind,
                count: n.count,
            }
        })
        .collect();
    let by_kind = imp
        .by_kind(l)
        .into_iter()
        .map(|(k, c)| (k.name().to_string(), json!(c)))
        .collect();
    let by_tier = imp
        .by_tier(l)
        .into_iter()
        .map(|(t, c)| {
            (
                t.map_or("untiered".to_string(), |t| t.to_string()),
                json!(c),
            )
        })
        .collect();
    ImpactJson {
        root: &root.name,
        root_kind: root.kind,
        direction: imp.direction.name(),
        max_depth: imp.max_depth,
        summary: SummaryJson {
            total: imp.hits.len(),
            by_kind,
            by_tier,
        },
        impacted: HitsJson {
            l,
            imp,
            paths: false,
        },
        notify,
        partial: (!l.missing.is_empty()).then_some(true),
        missing: &l.missing,
    }
}

impl ImpactJson<'_> {
    /// With `paths`, each hit also carries `path`: the names from the root to it, both
    /// included, in the direction walked (`sluice impact --paths`). Costs O(depth) per hit.
    pub fn with_paths(mut self, paths: bool) -> Self {
        self.impacted.paths = paths;
        self
    }
}

/// `sluice impact --format json`, field by field (see [`impact_json`]).
#[derive(Serialize)]
pub struct ImpactJson<'a> {
    root: &'a str,
    root_kind: NodeKind,
    direction: &'static str,
    max_depth: Option<u32>,
    summary: SummaryJson,
    impacted: HitsJson<'a>,
    notify: Vec<NotifyJson<'a>>,
    /// Present (`true`) only when sources were left out of the graph.
    #[serde(skip_serializing_if = "Option::is_none")]
    partial: Option<bool>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    missing: &'a [crate::Missing],
}

#[derive(Serialize)]
struct SummaryJson {
    total: usize,
    by_kind: serde_json::Map<String, Value>,
    by_tier: serde_json::Map<String, Value>,
}

#[derive(Serialize)]
struct NotifyJson<'a> {
    owner: String,
    tier: Option<u8>,
    most_critical: &'a str,
    kind: NodeKind,
    count: usize,
}

/// The `impacted` list, serialised hit by hit.
struct HitsJson<'a> {
    l: &'a Lineage,
    imp: &'a Impact,
    /// Whether each hit carries its whole path.
    paths: bool,
}

#[derive(Serialize)]
struct HitJson<'a> {
    name: &'a str,
    kind: NodeKind,
    depth: u32,
    /// The node it is reached from on its path (the root for the first step).
    via: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<Vec<&'a str>>,
    owner: Option<&'a str>,
    tier: Option<u8>,
    id: &'a str,
    origins: &'a [crate::graph::Origin],
}

impl Serialize for HitsJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let (l, imp) = (self.l, self.imp);
        let mut seq = s.serialize_seq(Some(imp.hits.len()))?;
        for h in &imp.hits {
            let n = l.node(h.node);
            // Every hit but the root has a parent; the root is never a hit.
            let via = imp.parent(h.node).unwrap_or(imp.root);
            seq.serialize_element(&HitJson {
                name: &n.name,
                kind: n.kind,
                depth: h.depth,
                via: &l.node(via).name,
                path: self.paths.then(|| {
                    imp.path(h.node)
                        .iter()
                        .map(|p| l.node(*p).name.as_str())
                        .collect()
                }),
                owner: n.owner.as_deref(),
                tier: n.tier,
                id: n.unique_id.as_deref().unwrap_or(&n.id),
                origins: &n.origins,
            })?;
        }
        seq.end()
    }
}

/// A selection for people: one name per line, as `dbt ls --output name` prints.
pub fn select_text(l: &Lineage, nodes: &[NodeIndex]) -> String {
    nodes
        .iter()
        .map(|n| format!("{}\n", l.node(*n).name))
        .collect()
}

/// A selection as JSON: `[{"name", "unique_id", "kind"}]` (`unique_id` is the sluice id,
/// `dataset:orders`, for nodes dbt does not know).
pub fn select_json(l: &Lineage, nodes: &[NodeIndex]) -> Value {
    Value::Array(
        nodes
            .iter()
            .map(|n| {
                let n = l.node(*n);
                json!({"name": n.name, "unique_id": n.unique_id.as_deref().unwrap_or(&n.id), "kind": n.kind})
            })
            .collect(),
    )
}

/// The graph (or the part of it in `nodes`) as an indented forest: each root (a node none
/// of `nodes` leads to) with what reads it, a node reached again shown as `↑ name`.
pub fn forest_text(l: &Lineage, nodes: &[NodeIndex], limit: usize) -> String {
    let set: HashSet<NodeIndex> = nodes.iter().copied().collect();
    let sorted = |mut v: Vec<NodeIndex>| {
        v.sort_by(|a, b| l.node(*a).name.cmp(&l.node(*b).name));
        v
    };
    let roots = sorted(
        nodes
            .iter()
            .copied()
            .filter(|n| {
                !l.graph
                    .neighbors_directed(*n, Dir::Incoming)
                    .any(|p| set.contains(&p))
            })
            .collect(),
    );
    let mut out = String::new();
    let mut printed: HashSet<NodeIndex> = HashSet::new();
    let mut lines = 0;
    let mut repeated = false;
    let edges = l.graph.edge_count();
    'roots: for r in roots {
        let mut stack: Vec<(NodeIndex, String, bool, bool)> = vec![(r, String::new(), true, true)];
        while let Some((n, prefix, last, top)) = stack.pop() {
            if limit > 0 && lines >= limit {
                break 'roots;
            }
            let branch = if top {
                ""
            } else if last {
                "└── "
            } else {
                "├── "
            };
            if !printed.insert(n) {
                repeated = true;
                writeln!(out, "{prefix}{branch}↑ {}", l.node(n).name).ok();
                lines += 1;
                continue;
            }
            writeln!(out, "{prefix}{branch}{}", describe(l.node(n))).ok();
            lines += 1;
            let next = if top {
                String::new()
            } else {
                format!("{prefix}{}", if last { "    " } else { "│   " })
            };
            let kids = sorted(
                l.graph
                    .neighbors_directed(n, Dir::Outgoing)
                    .filter(|c| set.contains(c))
                    .collect(),
            );
            for (i, &c) in kids.iter().enumerate().rev() {
                stack.push((c, next.clone(), i + 1 == kids.len(), false));
            }
        }
    }
    if printed.len() < nodes.len() {
        writeln!(
            out,
            "… {} more not shown (--limit 0 shows all)",
            nodes.len() - printed.len()
        )
        .ok();
    }
    let induced = l
        .graph
        .edge_references()
        .filter(|e| set.contains(&e.source()) && set.contains(&e.target()))
        .count();
    writeln!(
        out,
        "\n{} and {} (of {} and {} in the graph){}",
        plural(nodes.len(), "node"),
        plural(induced, "edge"),
        plural(l.len(), "node"),
        plural(edges, "edge"),
        if repeated {
            "; ↑ marks a node shown above"
        } else {
            ""
        }
    )
    .ok();
    out
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The subgraph of `nodes` as Graphviz dot; `root` (an impact's) drawn bold.
pub fn dot(l: &Lineage, nodes: &[NodeIndex], root: Option<NodeIndex>) -> String {
    let set: HashSet<NodeIndex> = nodes.iter().copied().chain(root).collect();
    let mut out = String::from(
        "digraph lineage {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n",
    );
    let mut ordered: Vec<NodeIndex> = set.iter().copied().collect();
    ordered.sort();
    for n in &ordered {
        let node = l.node(*n);
        let shape = match node.kind {
            NodeKind::Stage | NodeKind::Job => "box",
            NodeKind::Exposure => "house",
            NodeKind::Test | NodeKind::UnitTest => "diamond",
            NodeKind::Metric | NodeKind::SemanticModel | NodeKind::SavedQuery => "hexagon",
            _ => "cylinder",
        };
        let mut label = format!("{}\\n{}", dot_escape(&node.name), node.kind);
        if let Some(o) = &node.owner {
            write!(label, " · {}", dot_escape(o)).ok();
        }
        if let Some(t) = node.tier {
            write!(label, " · tier {t}").ok();
        }
        let bold = if Some(*n) == root {
            ", style=bold, color=red"
        } else {
            ""
        };
        writeln!(
            out,
            "  n{} [label=\"{label}\", shape={shape}{bold}];",
            n.index()
        )
        .ok();
    }
    let edges = edges_within(l, &set);
    for (a, b) in edges {
        writeln!(out, "  n{a} -> n{b};").ok();
    }
    out.push_str("}\n");
    out
}

/// The edges between nodes of `set`, as sorted index pairs (stable output).
fn edges_within(l: &Lineage, set: &HashSet<NodeIndex>) -> Vec<(usize, usize)> {
    let mut edges: Vec<(usize, usize)> = l
        .graph
        .edge_references()
        .filter(|e| set.contains(&e.source()) && set.contains(&e.target()))
        .map(|e| (e.source().index(), e.target().index()))
        .collect();
    edges.sort_unstable();
    edges
}

fn mermaid_escape(s: &str) -> String {
    s.replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// The subgraph of `nodes` as a Mermaid flowchart; `root` (an impact's) highlighted.
pub fn mermaid(l: &Lineage, nodes: &[NodeIndex], root: Option<NodeIndex>) -> String {
    let set: HashSet<NodeIndex> = nodes.iter().copied().chain(root).collect();
    let mut out = String::from("flowchart LR\n");
    let mut ordered: Vec<NodeIndex> = set.iter().copied().collect();
    ordered.sort();
    let mut classes: Vec<(&str, Vec<usize>)> =
        vec![("exposure", vec![]), ("process", vec![]), ("root", vec![])];
    for n in &ordered {
        let node = l.node(*n);
        let mut label = format!("{}<br/><small>{}", mermaid_escape(&node.name), node.kind);
        if let Some(o) = &node.owner {
            write!(label, " · {}", mermaid_escape(o)).ok();
        }
        if let Some(t) = node.tier {
            write!(label, " · tier {t}").ok();
        }
        label.push_str("</small>");
        let (open, close) = match node.kind {
            NodeKind::Stage | NodeKind::Job => ("[", "]"),
            NodeKind::Exposure => ("[/", "/]"),
            NodeKind::Test | NodeKind::UnitTest => ("{", "}"),
            NodeKind::Metric | NodeKind::SemanticModel | NodeKind::SavedQuery => ("{{", "}}"),
            _ => ("[(", ")]"),
        };
        writeln!(out, "  n{}{open}\"{label}\"{close}", n.index()).ok();
        if Some(*n) == root {
            classes[2].1.push(n.index());
        } else if node.kind == NodeKind::Exposure {
            classes[0].1.push(n.index());
        } else if node.kind.is_process() {
            classes[1].1.push(n.index());
        }
    }
    let edges = edges_within(l, &set);
    for (a, b) in edges {
        writeln!(out, "  n{a} --> n{b}").ok();
    }
    out.push_str("  classDef exposure fill:#fde2e2,stroke:#c0392b\n  classDef process fill:#eef,stroke:#557\n  classDef root fill:#c0392b,color:#fff,stroke:#000\n");
    for (class, ids) in classes {
        if !ids.is_empty() {
            let ids: Vec<String> = ids.iter().map(|i| format!("n{i}")).collect();
            writeln!(out, "  class {} {class}", ids.join(",")).ok();
        }
    }
    out
}

/// The subgraph of `nodes` as JSON: `{"nodes": [...], "edges": [{"from", "to", "origins"}]}`,
/// edges by node id.
pub fn graph_json(l: &Lineage, nodes: &[NodeIndex]) -> Value {
    let set: HashSet<NodeIndex> = nodes.iter().copied().collect();
    let mut ordered: Vec<NodeIndex> = nodes.to_vec();
    ordered.sort_by(|a, b| l.node(*a).id.cmp(&l.node(*b).id));
    let node_list: Vec<Value> = ordered
        .iter()
        .map(|n| {
            let n = l.node(*n);
            let mut v = json!({
                "id": n.id,
                "name": n.name,
                "kind": n.kind,
                "unique_id": n.unique_id,
                "owner": n.owner,
                "tier": n.tier,
                "tags": n.tags,
                "origins": n.origins,
                "ids": n.ids,
            });
            if !n.self_reads.is_empty() {
                v["self_reads"] = json!(n.self_reads);
            }
            v
        })
        .collect();
    let mut edges: Vec<(&str, &str, Value)> = l
        .graph
        .edge_references()
        .filter(|e| set.contains(&e.source()) && set.contains(&e.target()))
        .map(|e| {
            (
                l.node(e.source()).id.as_str(),
                l.node(e.target()).id.as_str(),
                json!(e.weight().origins),
            )
        })
        .collect();
    edges.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let edges: Vec<Value> = edges
        .into_iter()
        .map(|(a, b, o)| json!({"from": a, "to": b, "origins": o}))
        .collect();
    let mut out = json!({"nodes": node_list, "edges": edges});
    if !l.missing.is_empty() {
        out["partial"] = json!(true);
        out["missing"] = json!(l.missing);
    }
    out
}

/// A column impact for people: the columns reached (how each uses the root), the tables
/// they belong to, and the exposures reading them.
pub fn column_impact_text(l: &Lineage, ci: &crate::columns::ColumnImpact) -> String {
    let mut out = String::new();
    let root = format!("{}.{}", l.node(ci.table).name, ci.column);
    let verb = if ci.upstream {
        "upstream of"
    } else {
        "downstream of"
    };
    if ci.hits.is_empty() {
        if l.columns().knows(ci.table) {
            writeln!(out, "Nothing is {verb} column {root}.").ok();
        } else {
            writeln!(
                out,
                "No column-level lineage is known for {} (stage SQL, OpenLineage columnLineage facets and dbt compiled SQL give it).",
                l.node(ci.table).name
            )
            .ok();
        }
        return out;
    }
    writeln!(
        out,
        "{} {verb} column {root}",
        plural(ci.hits.len(), "column")
    )
    .ok();
    writeln!(out).ok();
    for h in &ci.hits {
        let via = format!("{}.{}", l.node(h.via.0).name, h.via.1);
        writeln!(
            out,
            "  {}.{}  {}  (depth {}, via {via})",
            l.node(h.table).name,
            h.column,
            h.role.name(),
            h.depth
        )
        .ok();
    }
    let names = |ns: &[NodeIndex]| {
        ns.iter()
            .map(|n| l.node(*n).name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(out).ok();
    writeln!(out, "Tables: {}", names(&ci.tables)).ok();
    if !ci.exposures.is_empty() {
        writeln!(out, "Exposures reading them: {}", names(&ci.exposures)).ok();
    }
    out
}

/// A column impact as JSON: `root` (`table`, `column`), `direction`, `columns` (each
/// `table`, `column`, `depth`, `how`, `via`), `tables`, `exposures` (`name`, `owner`, `tier`).
pub fn column_impact_json(l: &Lineage, ci: &crate::columns::ColumnImpact) -> Value {
    let columns: Vec<Value> = ci
        .hits
        .iter()
        .map(|h| {
            json!({
                "table": l.node(h.table).name,
                "column": h.column,
                "depth": h.depth,
                "how": h.role.name(),
                "via": format!("{}.{}", l.node(h.via.0).name, h.via.1),
            })
        })
        .collect();
    let mut v = json!({
        "root": {"table": l.node(ci.table).name, "column": ci.column},
        "direction": if ci.upstream { "upstream" } else { "downstream" },
        "columns": columns,
        "tables": ci.tables.iter().map(|n| l.node(*n).name.clone()).collect::<Vec<_>>(),
        "exposures": ci.exposures.iter().map(|n| {
            let n = l.node(*n);
            json!({"name": n.name, "owner": n.owner, "tier": n.tier})
        }).collect::<Vec<_>>(),
        "known": l.columns().knows(ci.table),
    });
    if !l.missing.is_empty() {
        v["partial"] = json!(true);
        v["missing"] = json!(l.missing);
    }
    v
}

/// The column edges between the tables in `nodes` (each `from table, from column, to
/// table, to column, role`), sorted by table and column names.
fn column_edges_among<'a>(
    l: &'a Lineage,
    nodes: &[NodeIndex],
) -> Vec<(&'a str, &'a str, &'a str, &'a str, crate::columns::Role)> {
    let set: HashSet<NodeIndex> = nodes.iter().copied().collect();
    let mut v: Vec<_> = l
        .columns()
        .edges()
        .filter(|(f, _, t, _, _)| set.contains(f) && set.contains(t))
        .map(|(f, fc, t, tc, r)| (l.node(f).name.as_str(), fc, l.node(t).name.as_str(), tc, r))
        .collect();
    v.sort();
    v
}

/// `lineage show --columns` for people: one line per column edge.
pub fn columns_text(l: &Lineage, nodes: &[NodeIndex]) -> String {
    let edges = column_edges_among(l, nodes);
    let mut out = String::new();
    if edges.is_empty() {
        writeln!(
            out,
            "No column-level lineage among these nodes (stage SQL, OpenLineage columnLineage facets and dbt compiled SQL give it)."
        )
        .ok();
        return out;
    }
    for (f, fc, t, tc, r) in &edges {
        writeln!(out, "{f}.{fc} -> {t}.{tc}  {}", r.name()).ok();
    }
    writeln!(out, "\n{}", plural(edges.len(), "column edge")).ok();
    out
}

/// `lineage show --columns -f json`: the graph's JSON with `columns`, each `{"from":
/// {"table", "column"}, "to": {"table", "column"}, "how"}`.
pub fn columns_json(l: &Lineage, nodes: &[NodeIndex]) -> Value {
    let mut v = graph_json(l, nodes);
    v["columns"] = column_edges_among(l, nodes)
        .into_iter()
        .map(|(f, fc, t, tc, r)| {
            json!({"from": {"table": f, "column": fc}, "to": {"table": t, "column": tc}, "how": r.name()})
        })
        .collect();
    v
}

/// `lineage show --columns -f mermaid` (or dot): one node per column, grouped by table,
/// edges labelled with how.
pub fn columns_diagram(l: &Lineage, nodes: &[NodeIndex], mermaid: bool) -> String {
    let edges = column_edges_among(l, nodes);
    let mut tables: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
        Default::default();
    for (f, fc, t, tc, _) in &edges {
        tables.entry(f).or_default().insert(fc);
        tables.entry(t).or_default().insert(tc);
    }
    let id = |t: &str, c: &str| {
        format!("{t}__{c}")
            .chars()
            .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
            .collect::<String>()
    };
    let mut out = String::new();
    if mermaid {
        writeln!(out, "flowchart LR").ok();
        for (t, cols) in &tables {
            writeln!(out, "  subgraph {}[\"{t}\"]", id(t, "")).ok();
            for c in cols {
                writeln!(out, "    {}[\"{c}\"]", id(t, c)).ok();
            }
            writeln!(out, "  end").ok();
        }
        for (f, fc, t, tc, r) in &edges {
            writeln!(out, "  {} -->|{}| {}", id(f, fc), r.name(), id(t, tc)).ok();
        }
    } else {
        writeln!(out, "digraph columns {{\n  rankdir=LR;").ok();
        for (t, cols) in &tables {
            writeln!(out, "  subgraph \"cluster_{t}\" {{ label=\"{t}\";").ok();
            for c in cols {
                writeln!(out, "    \"{}\" [label=\"{c}\"];", id(t, c)).ok();
            }
            writeln!(out, "  }}").ok();
        }
        for (f, fc, t, tc, r) in &edges {
            writeln!(
                out,
                "  \"{}\" -> \"{}\" [label=\"{}\"];",
                id(f, fc),
                id(t, tc),
                r.name()
            )
            .ok();
        }
        writeln!(out, "}}").ok();
    }
    out
}
