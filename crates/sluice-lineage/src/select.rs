//! dbt's node selection syntax, over the whole merged graph.
//!
//! `sluice lineage select` answers what `dbt ls --select ... --exclude ...
//! --resource-type ... --indirect-selection ...` answers, on the same manifest, and also on
//! the sluice datasets, stages, exposures and OpenLineage nodes merged into the graph.
//!
//! Grammar: arguments are unions; inside one, spaces separate unions and commas
//! intersections; each criterion is `[@][N+][method[.arg]:]value[+N]`. Methods: `fqn`
//! (the default for a bare name: a name matches any resource whose fqn ends in it, or a
//! dotted fqn prefix, package optional, with `*`, `?` and `[...]` wildcards), `tag`,
//! `source` (`source_name`, `source_name.table`, `package.source_name.table`), `exposure`,
//! `metric`, `semantic_model`, `saved_query`, `unit_test`, `resource_type`, `package`,
//! `path` (a file or folder of the project, `original_file_path`), `file`; and, beyond dbt,
//! `owner` and `tier`. Values containing `/` select by path, values ending in `.sql`,
//! `.py` or `.csv` by file, as in dbt.
//!
//! Semantics, as dbt-core's `NodeSelector`: a criterion selects its matches plus the
//! requested neighbours (`+` ancestors or descendants up to N steps, `@` descendants and all
//! their ancestors); then tests (and unit tests) whose parents are selected join: with
//! `eager` (the default) if any parent is, with `cautious` if all are, with `buildable` if
//! all are selected or upstream of the selection, with `empty` never. Exclusion is eager.
//! Finally `--resource-type` filters (default: every type but analyses).
//!
//! # Complexity
//!
//! Each criterion is one pass over the nodes (O(|V|·m) for a pattern of length m), each
//! `+` one breadth-first search, O(|V| + |E|); set operations are linear in the sets.

use std::collections::HashSet;

use petgraph::graph::NodeIndex;

use crate::error::{LineageError, Result};
use crate::graph::{Lineage, Node, NodeKind};

/// How tests whose parents are selected join the selection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Indirect {
    /// If any parent is selected (dbt's default).
    #[default]
    Eager,
    /// If every parent is selected.
    Cautious,
    /// If every parent is selected or upstream of the selection.
    Buildable,
    /// Never.
    Empty,
}

impl Indirect {
    /// Parses `eager`, `cautious`, `buildable` or `empty`.
    pub fn parse(s: &str) -> Option<Indirect> {
        match s {
            "eager" => Some(Indirect::Eager),
            "cautious" => Some(Indirect::Cautious),
            "buildable" => Some(Indirect::Buildable),
            "empty" => Some(Indirect::Empty),
            _ => None,
        }
    }
}

/// A selection request, as `dbt ls` takes it.
#[derive(Clone, Debug, Default)]
pub struct Selector {
    /// `--select` arguments (empty: everything).
    pub select: Vec<String>,
    /// `--exclude` arguments.
    pub exclude: Vec<String>,
    /// `--resource-type` (empty: every kind but analyses).
    pub resource_types: Vec<NodeKind>,
    /// `--indirect-selection`.
    pub indirect: Indirect,
}

/// The methods sluice evaluates.
pub const METHODS: &[&str] = &[
    "fqn",
    "tag",
    "source",
    "exposure",
    "metric",
    "semantic_model",
    "saved_query",
    "unit_test",
    "resource_type",
    "package",
    "path",
    "file",
    "owner",
    "tier",
];

/// dbt methods that need what a manifest alone does not hold.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("state", "it compares with a previous manifest (`--state`)"),
    ("result", "it needs run_results.json"),
    (
        "source_status",
        "it needs sources.json from `dbt source freshness`",
    ),
    ("config", "sluice does not keep dbt configs"),
    ("group", "sluice does not keep dbt groups"),
    ("access", "sluice does not keep dbt access levels"),
    ("version", "sluice does not keep model versions"),
    ("test_name", "sluice does not keep test metadata"),
    ("test_type", "sluice does not keep test metadata"),
];

#[derive(Debug, Clone, PartialEq)]
struct Criterion {
    raw: String,
    childrens_parents: bool,
    parents: Option<Option<u32>>,
    children: Option<Option<u32>>,
    method: String,
    value: String,
}

#[derive(Debug)]
enum Spec {
    Criterion(Criterion),
    Union(Vec<Spec>),
    Intersection(Vec<Spec>),
    Difference(Box<Spec>, Box<Spec>),
}

type Set = HashSet<u32>;

/// Evaluates a selection; the nodes come sorted by unique_id (other ids for non-dbt nodes),
/// as `dbt ls` prints them.
pub fn select(lineage: &Lineage, selector: &Selector) -> Result<Vec<NodeIndex>> {
    let _span =
        tracing::info_span!("select", select = ?selector.select, exclude = ?selector.exclude)
            .entered();
    let include = if selector.select.is_empty() {
        // dbt's default: every resource (`fqn:*` covers all but sources).
        parse_union(&["fqn:* source:*".to_string()])?
    } else {
        parse_union(&selector.select)?
    };
    let spec = if selector.exclude.is_empty() {
        include
    } else {
        Spec::Difference(Box::new(include), Box::new(parse_union(&selector.exclude)?))
    };
    let s = Eval { lineage };
    let (direct, _) = s.eval(&spec, selector.indirect)?;
    let types: Vec<NodeKind> = if selector.resource_types.is_empty() {
        NodeKind::ALL
            .into_iter()
            .filter(|k| *k != NodeKind::Analysis)
            .collect()
    } else {
        selector.resource_types.clone()
    };
    let mut out: Vec<NodeIndex> = direct
        .into_iter()
        .map(|i| NodeIndex::new(i as usize))
        .filter(|i| types.iter().any(|k| lineage.graph[*i].is(*k)))
        .collect();
    out.sort_by(|a, b| sort_key(&lineage.graph[*a]).cmp(sort_key(&lineage.graph[*b])));
    Ok(out)
}

fn sort_key(n: &Node) -> &str {
    n.unique_id.as_deref().unwrap_or(&n.id)
}

fn parse_union(args: &[String]) -> Result<Spec> {
    let mut parts = Vec::new();
    for arg in args {
        for word in arg.split_whitespace() {
            let mut inter = Vec::new();
            for c in word.split(',').filter(|c| !c.is_empty()) {
                inter.push(Spec::Criterion(parse_criterion(c)?));
            }
            parts.push(if inter.len() == 1 {
                inter.pop().expect("one")
            } else {
                Spec::Intersection(inter)
            });
        }
    }
    if parts.is_empty() {
        return Err(LineageError::Selector {
            selector: args.join(" "),
            message: "it is empty".into(),
        });
    }
    Ok(Spec::Union(parts))
}

fn parse_criterion(raw: &str) -> Result<Criterion> {
    let bad = |message: String| LineageError::Selector {
        selector: raw.to_string(),
        message,
    };
    let mut rest = raw;
    let childrens_parents = rest.starts_with('@');
    if childrens_parents {
        rest = &rest[1..];
    }
    let mut parents = None;
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if rest[digits..].starts_with('+') {
        parents = Some(if digits == 0 {
            None
        } else {
            Some(parse_depth(&rest[..digits], raw)?)
        });
        rest = &rest[digits + 1..];
    }
    let mut children = None;
    let trailing = rest.len() - rest.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let body = &rest[..rest.len() - trailing];
    if let Some(value) = body.strip_suffix('+') {
        let d = &rest[rest.len() - trailing..];
        children = Some(if d.is_empty() {
            None
        } else {
            Some(parse_depth(d, raw)?)
        });
        rest = value;
    }
    if childrens_parents && (parents.is_some() || children.is_some()) {
        return Err(bad("`@` and `+` cannot be used together; `@X` already means X, its descendants and all their ancestors".into()));
    }
    let (method, value) = match rest.split_once(':') {
        Some((m, v))
            if !m.is_empty()
                && m.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '.') =>
        {
            (m.to_string(), v.to_string())
        }
        _ => (default_method(rest).to_string(), rest.to_string()),
    };
    if value.is_empty() {
        return Err(bad(
            "it selects nothing: give a name after the method, e.g. `tag:nightly`".into(),
        ));
    }
    let base = method.split('.').next().unwrap_or_default();
    if !METHODS.contains(&base) {
        if let Some((_, why)) = UNSUPPORTED.iter().find(|(m, _)| *m == base) {
            return Err(bad(format!("the `{base}:` method is not supported: {why}")));
        }
        let hint = match sluice_spec::suggest::did_you_mean(base, METHODS.iter().copied()) {
            Some(s) => sluice_spec::suggest::phrase(&format!("{s}:")),
            None => format!("methods: {}", METHODS.join(", ")),
        };
        return Err(bad(format!("unknown method `{base}:`; {hint}")));
    }
    Ok(Criterion {
        raw: raw.to_string(),
        childrens_parents,
        parents,
        children,
        method,
        value,
    })
}

fn parse_depth(d: &str, raw: &str) -> Result<u32> {
    d.parse().map_err(|_| LineageError::Selector {
        selector: raw.to_string(),
        message: format!("depth `{d}` is too large"),
    })
}

/// dbt's default method for a bare value.
fn default_method(value: &str) -> &'static str {
    if value.contains('/') || value.contains('\\') {
        "path"
    } else if [".sql", ".py", ".csv"]
        .iter()
        .any(|e| value.to_lowercase().ends_with(e))
    {
        "file"
    } else {
        "fqn"
    }
}

struct Eval<'a> {
    lineage: &'a Lineage,
}

impl Eval<'_> {
    fn node(&self, i: u32) -> &Node {
        &self.lineage.graph[NodeIndex::new(i as usize)]
    }

    /// (direct, indirect) as dbt's `select_nodes_recursively`.
    fn eval(&self, spec: &Spec, indirect: Indirect) -> Result<(Set, Set)> {
        match spec {
            Spec::Criterion(c) => self.criterion(c, indirect),
            Spec::Union(parts) | Spec::Intersection(parts) => {
                let mut bundles = Vec::new();
                for p in parts {
                    bundles.push(self.eval(p, indirect)?);
                }
                let union = matches!(spec, Spec::Union(_));
                let combine = |sets: Vec<Set>| -> Set {
                    let mut it = sets.into_iter();
                    let first = it.next().unwrap_or_default();
                    it.fold(first, |acc, s| if union { &acc | &s } else { &acc & &s })
                };
                let direct = combine(bundles.iter().map(|(d, _)| d.clone()).collect());
                let all = combine(bundles.iter().map(|(d, i)| d | i).collect());
                Ok((self.incorporate(direct, &all, indirect), all))
            }
            Spec::Difference(a, b) => {
                let (ad, ai) = self.eval(a, indirect)?;
                let (bd, bi) = self.eval(b, Indirect::Eager)?;
                let direct = &ad - &bd;
                let all = &(&ad | &ai) - &(&bd | &bi);
                Ok((self.incorporate(direct, &all, indirect), all))
            }
        }
    }

    fn criterion(&self, c: &Criterion, indirect: Indirect) -> Result<(Set, Set)> {
        let collected = self.matches(c)?;
        let mut selected = collected.clone();
        if c.childrens_parents {
            let down = &self.walk(&collected, true, None) | &collected;
            selected.extend(self.walk(&down, false, None));
            selected.extend(down);
        }
        if let Some(depth) = c.parents {
            selected.extend(self.walk(&collected, false, depth));
        }
        if let Some(depth) = c.children {
            selected.extend(self.walk(&collected, true, depth));
        }
        Ok(self.expand(selected, indirect))
    }

    /// Tests whose parents are selected (dbt's `expand_selection`).
    fn expand(&self, selected: Set, indirect: Indirect) -> (Set, Set) {
        if indirect == Indirect::Empty {
            // `--indirect-selection empty`: no attached tests at all, not even those whose
            // parents are all selected.
            return (selected, Set::new());
        }
        let mut direct = selected.clone();
        let mut indirect_nodes = Set::new();
        let buildable = if indirect == Indirect::Buildable {
            let mut s = &selected | &self.walk(&selected, false, None);
            s.extend(
                (0..self.lineage.len() as u32).filter(|&i| self.node(i).kind == NodeKind::Source),
            );
            s
        } else {
            Set::new()
        };
        for &s in &selected {
            for &t in self.lineage.down.of(s) {
                if !self.node(t).kind.is_test() {
                    continue;
                }
                let parents = self.lineage.up.of(t);
                let all_in = |set: &Set| parents.iter().all(|p| set.contains(p));
                match indirect {
                    Indirect::Eager => {
                        direct.insert(t);
                    }
                    _ if all_in(&selected) => {
                        direct.insert(t);
                    }
                    Indirect::Buildable if all_in(&buildable) => {
                        direct.insert(t);
                    }
                    _ => {
                        indirect_nodes.insert(t);
                    }
                }
            }
        }
        (direct, indirect_nodes)
    }

    /// Tests left aside earlier whose parents are all selected now (dbt's
    /// `incorporate_indirect_nodes`).
    fn incorporate(&self, direct: Set, all: &Set, indirect: Indirect) -> Set {
        if indirect != Indirect::Cautious && indirect != Indirect::Buildable {
            return direct;
        }
        let mut selected = direct.clone();
        let upstream = if indirect == Indirect::Buildable {
            &direct | &self.walk(&direct, false, None)
        } else {
            Set::new()
        };
        for &t in all.difference(&direct) {
            let parents = self.lineage.up.of(t);
            let ok = match indirect {
                Indirect::Cautious => parents.iter().all(|p| direct.contains(p)),
                _ => parents.iter().all(|p| upstream.contains(p)),
            };
            if ok && self.node(t).kind.is_test() {
                selected.insert(t);
            }
        }
        selected
    }

    /// Ancestors (`down == false`) or descendants of a set, up to `depth` steps.
    fn walk(&self, from: &Set, down: bool, depth: Option<u32>) -> Set {
        let adj = if down {
            &self.lineage.down
        } else {
            &self.lineage.up
        };
        let mut seen = Set::new();
        let mut frontier: Vec<u32> = from.iter().copied().collect();
        let mut level = 0;
        let mut visited: Set = from.clone();
        while !frontier.is_empty() && depth.is_none_or(|d| level < d) {
            let mut next = Vec::new();
            for x in frontier {
                for &y in adj.of(x) {
                    seen.insert(y);
                    if visited.insert(y) {
                        next.push(y);
                    }
                }
            }
            frontier = next;
            level += 1;
        }
        seen
    }

    fn matches(&self, c: &Criterion) -> Result<Set> {
        let bad = |message: String| LineageError::Selector {
            selector: c.raw.clone(),
            message,
        };
        let v = c.value.as_str();
        let all = 0..self.lineage.len() as u32;
        let pick = |f: &dyn Fn(&Node) -> bool| -> Set {
            all.clone().filter(|&i| f(self.node(i))).collect()
        };
        let parts: Vec<&str> = v.split('.').collect();
        let named = |kind: NodeKind, what: &str| -> Result<Set> {
            let (p, name) = match parts.as_slice() {
                [name] => ("*", *name),
                [p, name] => (*p, *name),
                _ => return Err(bad(format!("`{what}:` takes `name` or `package.name`"))),
            };
            Ok(pick(&|n| {
                n.is(kind) && fnmatch(package(n), p) && fnmatch(leaf(n), name)
            }))
        };
        Ok(match c.method.split('.').next().unwrap_or_default() {
            "fqn" => pick(&|n| n.kind != NodeKind::Source && fqn_match(n, v)),
            "tag" => pick(&|n| n.tags.iter().any(|t| fnmatch(t, v))),
            "source" => {
                let (p, s, t) = match parts.as_slice() {
                    [s] => ("*", *s, "*"),
                    [s, t] => ("*", *s, *t),
                    [p, s, t] => (*p, *s, *t),
                    _ => return Err(bad("`source:` takes `source_name`, `source_name.table` or `package.source_name.table`".into())),
                };
                pick(&|n| {
                    n.kind == NodeKind::Source
                        && fnmatch(package(n), p)
                        && fnmatch(n.source_name.as_deref().unwrap_or(""), s)
                        && fnmatch(leaf(n), t)
                })
            }
            "exposure" => named(NodeKind::Exposure, "exposure")?,
            "metric" => named(NodeKind::Metric, "metric")?,
            "semantic_model" => named(NodeKind::SemanticModel, "semantic_model")?,
            "saved_query" => named(NodeKind::SavedQuery, "saved_query")?,
            "unit_test" => named(NodeKind::UnitTest, "unit_test")?,
            "resource_type" => {
                let kind = NodeKind::parse(v).ok_or_else(|| {
                    bad(format!(
                        "unknown resource type `{v}`; types: {}",
                        NodeKind::ALL.map(NodeKind::name).join(", ")
                    ))
                })?;
                pick(&|n| n.is(kind))
            }
            "package" => pick(&|n| n.package.as_deref().is_some_and(|p| fnmatch(p, v))),
            "path" => {
                let want = v.trim_start_matches("./").trim_end_matches('/');
                pick(&|n| {
                    n.path.as_deref().is_some_and(|p| {
                        p == want
                            || p.strip_prefix(want).is_some_and(|r| r.starts_with('/'))
                            || fnmatch(p, want)
                    })
                })
            }
            "file" => pick(&|n| {
                n.path.as_deref().is_some_and(|p| {
                    let name = p.rsplit('/').next().unwrap_or(p);
                    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
                    fnmatch(name, v) || fnmatch(stem, v)
                })
            }),
            "owner" => pick(&|n| n.owner.as_deref().is_some_and(|o| fnmatch(o, v))),
            "tier" => {
                let t: u8 = v
                    .parse()
                    .map_err(|_| bad(format!("`tier:` takes a number, not `{v}`")))?;
                pick(&|n| n.tier == Some(t))
            }
            m => return Err(bad(format!("unknown method `{m}:`"))),
        })
    }
}

fn package(n: &Node) -> &str {
    n.package.as_deref().unwrap_or("")
}

/// A node's own name: the last part of its fqn (a source's table), else its name.
fn leaf(n: &Node) -> &str {
    n.fqn.last().map(String::as_str).unwrap_or(&n.name)
}

/// dbt's `QualifiedNameSelectorMethod.node_is_match`: with the package, then without it.
fn fqn_match(n: &Node, selector: &str) -> bool {
    if n.fqn.is_empty() {
        return is_selected_node(std::slice::from_ref(&n.name), selector);
    }
    is_selected_node(&n.fqn, selector)
        || (n.fqn.len() > 1 && is_selected_node(&n.fqn[1..], selector))
}

/// dbt's `is_selected_node`: the leaf equals the selector, or the selector's dotted parts
/// are a prefix of the flattened fqn (a part with a wildcard matches the rest as a glob).
fn is_selected_node(fqn: &[String], selector: &str) -> bool {
    if fqn.last().is_some_and(|l| l == selector) {
        return true;
    }
    let flat: Vec<&str> = fqn.iter().flat_map(|s| s.split('.')).collect();
    let parts: Vec<&str> = selector.split('.').collect();
    if flat.len() < parts.len() {
        return false;
    }
    for (i, part) in parts.iter().enumerate() {
        if part.contains(['*', '?', '[', ']']) {
            // A bare wildcard (no dot) also matches the leaf alone, however deep the node.
            return fnmatch(&flat[i..].join("."), &parts[i..].join("."))
                || (parts.len() == 1 && fqn.last().is_some_and(|l| fnmatch(l, selector)));
        }
        if flat[i] != *part {
            return false;
        }
    }
    true
}

/// Python's `fnmatch.fnmatchcase`: `*`, `?`, `[seq]`, `[!seq]`.
pub fn fnmatch(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    // Iterative matching with one backtrack point for the last `*`.
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, next)) = class(&p, pi, t[ti]) {
                        if ok {
                            ti += 1;
                            pi = next;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        ti += 1;
                        pi += 1;
                        continue;
                    }
                }
                c if c == t[ti] => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A `[...]` class at `p[start]`: whether `c` is in it and where the pattern goes on;
/// `None` when the `[` is not closed (then it is a literal, as in Python).
fn class(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = p.get(i) == Some(&'!');
    if negate {
        i += 1;
    }
    let first = i;
    let mut hit = false;
    while i < p.len() && (p[i] != ']' || i == first) {
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            hit |= p[i] <= c && c <= p[i + 2];
            i += 3;
        } else {
            hit |= p[i] == c;
            i += 1;
        }
    }
    (i < p.len()).then_some((hit != negate, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_is_pythons() {
        for (t, p, want) in [
            ("stg_orders", "stg_*", true),
            ("stg_orders", "*orders", true),
            ("stg_orders", "stg_?rders", true),
            ("stg_orders", "stg_[a-o]rders", true),
            ("stg_orders", "stg_[!o]rders", false),
            ("a.b.c", "a.*", true),
            ("abc", "a*c*", true),
            ("abc", "a*d", false),
            ("", "*", true),
            ("x[", "x[", true),
        ] {
            assert_eq!(fnmatch(t, p), want, "{t} ~ {p}");
        }
    }

    #[test]
    fn criteria_parse_like_dbt() {
        let c = parse_criterion("2+source:raw.orders+1").unwrap();
        assert_eq!(
            (c.parents, c.children, c.method.as_str(), c.value.as_str()),
            (Some(Some(2)), Some(Some(1)), "source", "raw.orders")
        );
        let c = parse_criterion("@stg_orders").unwrap();
        assert!(c.childrens_parents && c.parents.is_none());
        assert_eq!(
            parse_criterion("models/staging/x.sql").unwrap().method,
            "path"
        );
        assert_eq!(parse_criterion("x.sql").unwrap().method, "file");
        assert_eq!(parse_criterion("+a.b.c").unwrap().method, "fqn");
        let err = |s: &str| parse_criterion(s).unwrap_err().to_string();
        assert_eq!(
            err("@a+"),
            "invalid selector `@a+`: `@` and `+` cannot be used together; `@X` already means X, its descendants and all their ancestors"
        );
        assert_eq!(
            err("sorce:raw"),
            "invalid selector `sorce:raw`: unknown method `sorce:`; did you mean `source:`?"
        );
        assert!(
            err("state:modified")
                .contains("`state:` method is not supported: it compares with a previous manifest")
        );
        assert!(err("tag:").contains("it selects nothing"));
    }

    #[test]
    fn fqn_matching() {
        let fqn: Vec<String> = ["shop", "marts", "finance", "orders"]
            .map(String::from)
            .to_vec();
        for (sel, want) in [
            ("orders", true),
            ("shop.marts", true),
            ("marts.finance", true),
            ("marts.*", true),
            ("shop.marts.fin*", true),
            ("finance", false),
            ("marts.orders", false),
            ("*", true),
            ("ord*", true),
            ("fin*", false),
        ] {
            let n = Node {
                fqn: fqn.clone(),
                ..Node::empty("model.shop.orders")
            };
            assert_eq!(fqn_match(&n, sel), want, "{sel}");
        }
    }
}
