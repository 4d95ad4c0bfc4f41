//! YAML text -> a tree of [`Node`]s that remember their spans.
//!
//! We build our own small tree from `saphyr-parser`'s event stream instead of deserialising
//! with serde: serde stops at the first error, and the checks that matter most to users
//! (duplicate check names, undefined datasets, SQL syntax) are semantic and need the spans
//! after parsing. Scalars are typed by the YAML 1.2 core schema; `${VAR}` interpolation is
//! applied to values (not keys) before typing, so `min: ${MIN_ROWS}` is a number.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};

use crate::diag::Diagnostic;
use crate::interp::{Vars, interpolate};
use crate::source::{Pos, SourceFile, Span};

/// A YAML value with the span it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the value is in the file.
    pub span: Span,
    /// The value.
    pub value: Value,
}

/// A typed YAML value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string (quoted, or plain text that is not a null, bool or number).
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order. Keys are strings.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// "a string", "a list"... for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The key of a mapping entry (always a string, see the loader).
    pub fn key(&self) -> &str {
        self.as_str().unwrap_or("")
    }
}

fn pos(m: &saphyr_parser::Marker) -> Pos {
    Pos {
        line: m.line() as u32,
        col: m.col() as u32 + 1,
    }
}

/// The span of a parser event, inside the file (see [`SourceFile::clamp`]).
fn span(file: &SourceFile, s: &YSpan) -> Span {
    Span {
        start: file.clamp(pos(&s.start)),
        end: file.clamp(pos(&s.end)),
    }
}

/// Aliases may add at least this many nodes to the tree, and more in a large file: one per
/// 4 bytes of it, which at most about doubles the tree. An alias (`*name`) copies its
/// anchor's whole value, aliases inside it included, so nested aliases multiply: nine
/// levels of nine aliases ("billion laughs") would turn 800 bytes into 387 million nodes.
/// Sharing a block of checks between many datasets stays far below.
pub const MAX_ALIAS_NODES: usize = 1_000_000;

/// Aliases may add at least this many bytes of scalar text to the tree, and in a larger
/// file as many as it has: a long string aliased many times is as bad as many nodes.
pub const MAX_ALIAS_BYTES: usize = 64 << 20;

/// What aliases may add to the tree of a `len`-byte file: (nodes, bytes of scalar text).
pub fn alias_limits(len: usize) -> (usize, usize) {
    (MAX_ALIAS_NODES.max(len / 4), MAX_ALIAS_BYTES.max(len))
}

/// Mappings and lists nest at most this deep (a config needs about ten levels). Deeper trees
/// would take the stack with them when dropped or compared.
pub const MAX_DEPTH: usize = 256;

enum Frame {
    Seq {
        start: Span,
        anchor: usize,
        items: Vec<Node>,
        weight: Weight,
    },
    Map {
        start: Span,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        weight: Weight,
        /// Key -> index in `entries`, built once the mapping is large enough for a linear
        /// search to matter (duplicate keys are looked up for every entry).
        index: Option<HashMap<String, usize>>,
    },
}

/// What a node costs: how many nodes and bytes of scalar text it holds, itself included.
#[derive(Clone, Copy, Default)]
struct Weight {
    nodes: usize,
    bytes: usize,
}

impl Weight {
    fn add(&mut self, other: Weight) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

/// Mappings with more entries than this get a key index for duplicate detection.
const INDEX_FROM: usize = 16;

/// Parses `file` into a node tree. Problems are pushed to `diags`; `None` when the text is
/// not YAML at all (a syntax error stops the parse), is empty, nests deeper than
/// [`MAX_DEPTH`], or has aliases that expand it beyond [`alias_limits`].
///
/// Long on purpose: it is one loop over the parser's event stream, and the explicit stack
/// of open collections, the anchors and the alias budget are state every event updates;
/// split across functions they would all be passed to each.
pub fn parse(file: &SourceFile, vars: &Vars, diags: &mut Vec<Diagnostic>) -> Option<Node> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Node, Weight)> = HashMap::new();
    // Nodes (and scalar bytes) copied by aliases; all nodes in the tree; copies kept for
    // anchors. Bounded by MAX_ALIAS_NODES / MAX_ALIAS_BYTES (see there).
    let mut expanded = Weight::default();
    let mut produced = Weight::default();
    let mut anchored = Weight::default();
    let (max_nodes, max_bytes) = alias_limits(file.text().len());
    let mut root: Option<Node> = None;
    let mut documents = 0;
    for item in Parser::new_from_str(file.text()) {
        let (event, yspan) = match item {
            Ok(e) => e,
            Err(e) => {
                let at = file.clamp(pos(e.marker()));
                diags.push(
                    Diagnostic::error(Span::on_line(at, 1), format!("invalid YAML: {}", e.info()))
                        .label("here")
                        .help("check the indentation and that every `[`, `{` and quote is closed"),
                );
                return None;
            }
        };
        let sp = span(file, &yspan);
        let (node, weight) = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    diags.push(
                        Diagnostic::error(
                            sp,
                            "a config file holds one YAML document; found a second",
                        )
                        .label("second document starts here")
                        .help("remove the `---` separator, or split the file"),
                    );
                    return None;
                }
                continue;
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                diags.push(
                    Diagnostic::error(
                        Span::on_line(sp.start, 1),
                        format!("the YAML nests deeper than {MAX_DEPTH} levels"),
                    )
                    .label("too deep")
                    .help("a config needs a few levels of mappings and lists; check for runaway `[`, `{` or `- `"),
                );
                return None;
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq {
                    start: sp,
                    anchor,
                    items: Vec::new(),
                    weight: Weight::default(),
                });
                continue;
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map {
                    start: sp,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    weight: Weight::default(),
                    index: None,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (start, anchor, value, last, mut weight) = match stack.pop() {
                    Some(Frame::Seq {
                        start,
                        anchor,
                        items,
                        weight,
                    }) => {
                        let last = items.last().map(|n| n.span.end);
                        (start, anchor, Value::Seq(items), last, weight)
                    }
                    Some(Frame::Map {
                        start,
                        anchor,
                        entries,
                        weight,
                        ..
                    }) => {
                        let last = entries.last().map(|(_, v)| v.span.end);
                        (start, anchor, Value::Map(entries), last, weight)
                    }
                    None => continue,
                };
                weight.add(Weight { nodes: 1, bytes: 0 });
                produced.add(Weight { nodes: 1, bytes: 0 });
                let end = last.unwrap_or(start.end).max(start.start);
                let node = Node {
                    span: Span {
                        start: start.start,
                        end,
                    },
                    value,
                };
                if anchor != 0 {
                    anchored.add(weight);
                    if anchored.nodes > produced.nodes.saturating_add(max_nodes)
                        || anchored.bytes > produced.bytes.saturating_add(max_bytes)
                    {
                        diags.push(
                            Diagnostic::error(
                                Span::on_line(node.span.start, 1),
                                format!("YAML anchors nested in anchors copy this file beyond {max_nodes} nodes"),
                            )
                            .label("this anchor holds anchors")
                            .help("each anchor (`&name`) keeps a copy of its value for its aliases; anchor the small values you repeat, not the mappings around them"),
                        );
                        return None;
                    }
                    anchors.insert(anchor, (node.clone(), weight));
                }
                (node, weight)
            }
            Event::Scalar(text, style, anchor, tag) => {
                let is_key = matches!(stack.last(), Some(Frame::Map { key: None, .. }));
                let forced_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = if is_key || forced_str {
                    Value::Str(text.into_owned())
                } else {
                    let quoted = !matches!(style, ScalarStyle::Plain);
                    let interpolated = match interpolate(&text, vars) {
                        // No `${...}`: keep the parser's string rather than copy it.
                        Ok(Cow::Borrowed(_)) => None,
                        Ok(Cow::Owned(t)) => Some(t),
                        Err(e) => {
                            let shift = u32::from(quoted);
                            let at = if sp.start.line == sp.end.line {
                                sp.sub(e.offset as u32 + shift, e.len as u32)
                            } else {
                                sp
                            };
                            diags.push(Diagnostic::error(at, e.message).label("here").help(e.help));
                            None
                        }
                    };
                    let text = interpolated.unwrap_or_else(|| text.into_owned());
                    if quoted {
                        Value::Str(text)
                    } else {
                        resolve_plain(text)
                    }
                };
                let weight = Weight {
                    nodes: 1,
                    bytes: match &value {
                        Value::Str(s) => s.len(),
                        _ => 0,
                    },
                };
                produced.add(weight);
                let node = Node { span: sp, value };
                if anchor != 0 {
                    anchored.add(weight);
                    anchors.insert(anchor, (node.clone(), weight));
                }
                (node, weight)
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some((n, w)) => {
                    expanded.add(*w);
                    produced.add(*w);
                    if expanded.nodes > max_nodes || expanded.bytes > max_bytes {
                        let what = if expanded.nodes > max_nodes {
                            format!("{max_nodes} nodes")
                        } else {
                            format!("{max_bytes} bytes of text")
                        };
                        diags.push(
                            Diagnostic::error(sp, format!("YAML aliases expand this file beyond {what}"))
                                .label("the expansion crosses the limit here")
                                .help("an alias (`*name`) copies its anchor's whole value, aliases inside it included, so aliases of aliases multiply; write the repeated part out, or alias values that hold no aliases"),
                        );
                        return None;
                    }
                    (n.clone(), *w)
                }
                None => {
                    diags.push(
                        Diagnostic::error(sp, "alias to an unknown anchor")
                            .label("unknown anchor")
                            .help("define the anchor (`&name`) before its alias (`*name`)"),
                    );
                    (
                        Node {
                            span: sp,
                            value: Value::Null,
                        },
                        Weight { nodes: 1, bytes: 0 },
                    )
                }
            },
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => continue,
        };
        // Attach the finished node to its parent.
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq {
                items, weight: w, ..
            }) => {
                w.add(weight);
                items.push(node);
            }
            Some(Frame::Map {
                entries,
                key,
                weight: w,
                index,
                ..
            }) => {
                w.add(weight);
                match key.take() {
                    None => {
                        if !matches!(node.value, Value::Str(_)) {
                            diags.push(
                                Diagnostic::error(node.span, "a mapping key must be a plain name")
                                    .label("complex key")
                                    .help("use a name like `orders` as the key"),
                            );
                        }
                        let name = match node.value {
                            Value::Str(s) => s,
                            _ => String::new(),
                        };
                        *key = Some(Node {
                            span: node.span,
                            value: Value::Str(name),
                        });
                    }
                    Some(k) => {
                        let first = match index {
                            Some(index) => index.get(k.key()).map(|&i| &entries[i].0),
                            None => entries.iter().map(|(e, _)| e).find(|e| e.key() == k.key()),
                        };
                        if let Some(first) = first {
                            diags.push(
                                Diagnostic::error(k.span, format!("duplicate key `{}`", k.key()))
                                    .label("defined again here")
                                    .related(first.span, "first defined here")
                                    .help("YAML keeps only one of the two: remove or rename one"),
                            );
                        }
                        match index {
                            Some(index) => {
                                index.entry(k.key().to_string()).or_insert(entries.len());
                            }
                            None if entries.len() + 1 >= INDEX_FROM => {
                                let mut map = HashMap::with_capacity(2 * INDEX_FROM);
                                for (i, (e, _)) in entries.iter().enumerate() {
                                    map.entry(e.key().to_string()).or_insert(i);
                                }
                                map.entry(k.key().to_string()).or_insert(entries.len());
                                *index = Some(map);
                            }
                            None => {}
                        }
                        entries.push((k, node));
                    }
                }
            }
        }
    }
    root
}

/// Types a plain scalar by the YAML 1.2 core schema (plus `_` digit separators in integers,
/// which YAML 1.1 allowed and people still write: `10_000_000`).
fn resolve_plain(text: String) -> Value {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(&text);
    if !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        && let Ok(i) = if text.contains('_') {
            text.replace('_', "").parse::<i64>()
        } else {
            text.parse::<i64>()
        }
    {
        return Value::Int(i);
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Int(i);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Value::Int(i);
    }
    let looks_numeric = digits
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        && digits.chars().any(|c| c.is_ascii_digit());
    if looks_numeric && let Ok(f) = text.parse::<f64>() {
        return Value::Float(f);
    }
    Value::Str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (Option<Node>, Vec<Diagnostic>) {
        let file = SourceFile::new("t.yaml", text);
        let mut diags = Vec::new();
        let vars = Vars::isolated([("N".to_string(), "42".to_string())].into());
        (parse(&file, &vars, &mut diags), diags)
    }

    fn map(node: &Node) -> &[(Node, Node)] {
        match &node.value {
            Value::Map(m) => m,
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn types_scalars_by_core_schema() {
        let (root, diags) =
            load("a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: text\ng: 10_000\nh: ${N}\ni: 1e3\n");
        assert!(diags.is_empty(), "{diags:?}");
        let root = root.unwrap();
        let values: Vec<&Value> = map(&root).iter().map(|(_, v)| &v.value).collect();
        assert_eq!(
            values,
            vec![
                &Value::Int(1),
                &Value::Float(1.5),
                &Value::Bool(true),
                &Value::Null,
                &Value::Str("1".into()),
                &Value::Str("text".into()),
                &Value::Int(10_000),
                &Value::Int(42),
                &Value::Float(1000.0),
            ]
        );
    }

    #[test]
    fn spans_point_at_scalars() {
        let (root, _) = load("datasets:\n  orders:\n    path: x.csv\n");
        let root = root.unwrap();
        let (k, ds) = &map(&root)[0];
        assert_eq!(k.span.start, Pos { line: 1, col: 1 });
        let (_, orders) = &map(ds)[0];
        let (pk, pv) = &map(orders)[0];
        assert_eq!(pk.span.start, Pos { line: 3, col: 5 });
        assert_eq!(pv.span.start, Pos { line: 3, col: 11 });
        assert_eq!(pv.span.end, Pos { line: 3, col: 16 });
    }

    #[test]
    fn duplicate_keys_and_syntax_errors() {
        let (_, diags) = load("a: 1\nb: 2\na: 3\n");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].message, "duplicate key `a`");
        assert_eq!(diags[0].span.unwrap().start.line, 3);
        let (root, diags) = load("a: [1, 2\n");
        assert!(root.is_none());
        assert!(diags[0].message.starts_with("invalid YAML"), "{diags:?}");
    }

    #[test]
    fn undefined_variable_points_inside_the_value() {
        let (_, diags) = load("path: data/${MISSING}/x\n");
        assert_eq!(diags.len(), 1);
        let sp = diags[0].span.unwrap();
        assert_eq!((sp.start.col, sp.end.col), (12, 22));
    }

    #[test]
    fn positions_count_lines_as_yaml_does_with_any_line_break() {
        let text = "a: 1\rb: 2\r\nc: 3\nd: [";
        let file = SourceFile::new("t.yaml", text);
        let (root, diags) = load("a: 1\rb: 2\r\nc: 3\n");
        let root = root.unwrap();
        let lines: Vec<u32> = map(&root).iter().map(|(k, _)| k.span.start.line).collect();
        assert_eq!(lines, [1, 2, 3]);
        assert!(diags.is_empty());
        assert_eq!(file.line(3), "c: 3");
        // A syntax error at the end of the input points at the last line, not past it.
        let (_, diags) = load(text);
        let at = diags[0].span.unwrap().start;
        assert_eq!((at.line, file.line(at.line)), (4, "d: ["), "{diags:?}");
    }

    #[test]
    fn aliases_copy_the_anchored_value() {
        let (root, diags) = load("a: &x [1, 2]\nb: *x\n");
        assert!(diags.is_empty());
        let root = root.unwrap();
        assert_eq!(map(&root)[0].1.value, map(&root)[1].1.value);
    }

    /// Nine levels of nine aliases: 387 million nodes if expanded.
    fn billion_laughs() -> String {
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        let mut prev = 'a';
        for c in 'b'..='i' {
            let items = vec![format!("*{prev}"); 9].join(", ");
            text.push_str(&format!("{c}: &{c} [{items}]\n"));
            prev = c;
        }
        text
    }

    #[test]
    fn alias_bombs_are_refused_where_they_cross_the_limit() {
        let text = billion_laughs();
        assert!(text.len() < 800, "{}", text.len());
        let (root, diags) = load(&text);
        assert!(root.is_none());
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(
            diags[0].message,
            "YAML aliases expand this file beyond 1000000 nodes"
        );
        // Level g is the first whose nine copies pass a million (9^7 = 4.8 million).
        assert_eq!(diags[0].span.unwrap().start.line, 7);
    }

    #[test]
    fn a_long_string_aliased_many_times_is_refused() {
        let long = "x".repeat(1 << 20);
        let aliases = vec!["*s"; 100].join(", ");
        let (root, diags) = load(&format!("a: &s {long}\nb: [{aliases}]\n"));
        assert!(root.is_none());
        assert!(
            diags[0]
                .message
                .starts_with("YAML aliases expand this file beyond")
                && diags[0].message.ends_with("bytes of text"),
            "{diags:?}"
        );
    }

    #[test]
    fn ordinary_aliases_are_expanded() {
        // A block of checks shared by 20,000 datasets: 260,000 nodes from aliases.
        let mut text =
            String::from("common: &c [{not_null: id}, {unique: id}, {row_count: {min: 1}}]\nds:\n");
        for i in 0..20_000 {
            text.push_str(&format!("  d{i}: {{checks: *c}}\n"));
        }
        let (root, diags) = load(&text);
        assert!(diags.is_empty(), "{:?}", &diags[..1]);
        let root = root.unwrap();
        let ds = &map(&root)[1].1;
        assert_eq!(map(ds).len(), 20_000);
        assert_eq!(map(&map(ds)[19_999].1)[0].1, map(&root)[0].1);
    }

    #[test]
    fn anchors_nested_in_anchors_cannot_multiply_a_large_value() {
        let body = vec!["x"; 100_000].join(",");
        let opens: String = (0..20).map(|i| format!("&a{i} [")).collect();
        let closes = "]".repeat(20);
        let (root, diags) = load(&format!("k: {opens}[{body}]{closes}\n"));
        assert!(root.is_none());
        assert!(
            diags[0]
                .message
                .starts_with("YAML anchors nested in anchors"),
            "{diags:?}"
        );
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_an_error() {
        let mut text = String::from("a:\n");
        for depth in 1..=MAX_DEPTH + 5 {
            text.push_str(&format!("{}- \n", " ".repeat(2 * depth)));
        }
        let (root, diags) = load(&text);
        assert!(root.is_none());
        assert_eq!(
            diags[0].message,
            format!("the YAML nests deeper than {MAX_DEPTH} levels")
        );
        let ok = format!("a: {}1{}\n", "[".repeat(100), "]".repeat(100));
        assert!(load(&ok).1.is_empty());
    }

    #[test]
    fn duplicate_keys_are_found_in_large_mappings() {
        let mut text = String::new();
        for i in 0..100 {
            text.push_str(&format!("k{i}: {i}\n"));
        }
        text.push_str("k3: again\nk99: again\nk100: new\n");
        let (_, diags) = load(&text);
        let found: Vec<(&str, u32, u32)> = diags
            .iter()
            .map(|d| {
                (
                    d.message.as_str(),
                    d.span.unwrap().start.line,
                    d.related[0].span.start.line,
                )
            })
            .collect();
        assert_eq!(
            found,
            vec![
                ("duplicate key `k3`", 101, 4),
                ("duplicate key `k99`", 102, 100)
            ]
        );
    }
}
