//! YAML text -> a tree of [`Node`]s that remember their spans.
//!
//! We build our own small tree from `saphyr-parser`'s event stream instead of deserialising
//! with serde: serde stops at the first error, and the checks that matter most to users
//! (duplicate check names, undefined datasets, SQL syntax) are semantic and need the spans
//! after parsing. Scalars are typed by the YAML 1.2 core schema; `${VAR}` interpolation is
//! applied to values (not keys) before typing, so `min: ${MIN_ROWS}` is a number.

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

fn span(s: &YSpan) -> Span {
    Span {
        start: pos(&s.start),
        end: pos(&s.end),
    }
}

enum Frame {
    Seq {
        start: Span,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: Span,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

/// Parses `file` into a node tree. Problems are pushed to `diags`; `None` when the text is
/// not YAML at all (a syntax error stops the parse) or is empty.
pub fn parse(file: &SourceFile, vars: &Vars, diags: &mut Vec<Diagnostic>) -> Option<Node> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    for item in Parser::new_from_str(file.text()) {
        let (event, yspan) = match item {
            Ok(e) => e,
            Err(e) => {
                let at = pos(e.marker());
                diags.push(
                    Diagnostic::error(Span::on_line(at, 1), format!("invalid YAML: {}", e.info()))
                        .label("here")
                        .help("check the indentation and that every `[`, `{` and quote is closed"),
                );
                return None;
            }
        };
        let sp = span(&yspan);
        let node = match event {
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
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq {
                    start: sp,
                    anchor,
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map {
                    start: sp,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (start, anchor, value, last) = match stack.pop() {
                    Some(Frame::Seq {
                        start,
                        anchor,
                        items,
                    }) => {
                        let last = items.last().map(|n| n.span.end);
                        (start, anchor, Value::Seq(items), last)
                    }
                    Some(Frame::Map {
                        start,
                        anchor,
                        entries,
                        ..
                    }) => {
                        let last = entries.last().map(|(_, v)| v.span.end);
                        (start, anchor, Value::Map(entries), last)
                    }
                    None => continue,
                };
                let end = last.unwrap_or(start.end).max(start.start);
                let node = Node {
                    span: Span {
                        start: start.start,
                        end,
                    },
                    value,
                };
                if anchor != 0 {
                    anchors.insert(anchor, node.clone());
                }
                node
            }
            Event::Scalar(text, style, anchor, tag) => {
                let is_key = matches!(stack.last(), Some(Frame::Map { key: None, .. }));
                let forced_str = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = if is_key || forced_str {
                    Value::Str(text.into_owned())
                } else {
                    let quoted = !matches!(style, ScalarStyle::Plain);
                    let text = match interpolate(&text, vars) {
                        Ok(t) => t.into_owned(),
                        Err(e) => {
                            let shift = u32::from(quoted);
                            let at = if sp.start.line == sp.end.line {
                                sp.sub(e.offset as u32 + shift, e.len as u32)
                            } else {
                                sp
                            };
                            diags.push(Diagnostic::error(at, e.message).label("here").help(e.help));
                            text.into_owned()
                        }
                    };
                    if quoted {
                        Value::Str(text)
                    } else {
                        resolve_plain(&text)
                    }
                };
                let node = Node { span: sp, value };
                if anchor != 0 {
                    anchors.insert(anchor, node.clone());
                }
                node
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(n) => n.clone(),
                None => {
                    diags.push(
                        Diagnostic::error(sp, "alias to an unknown anchor")
                            .label("unknown anchor")
                            .help("define the anchor (`&name`) before its alias (`*name`)"),
                    );
                    Node {
                        span: sp,
                        value: Value::Null,
                    }
                }
            },
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => continue,
        };
        // Attach the finished node to its parent.
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    if !matches!(node.value, Value::Str(_)) {
                        diags.push(
                            Diagnostic::error(node.span, "a mapping key must be a plain name")
                                .label("complex key")
                                .help("use a name like `orders` as the key"),
                        );
                    }
                    *key = Some(Node {
                        span: node.span,
                        value: Value::Str(node.as_str().unwrap_or("").to_string()),
                    });
                }
                Some(k) => {
                    if let Some((first, _)) = entries.iter().find(|(e, _)| e.key() == k.key()) {
                        diags.push(
                            Diagnostic::error(k.span, format!("duplicate key `{}`", k.key()))
                                .label("defined again here")
                                .related(first.span, "first defined here")
                                .help("YAML keeps only one of the two: remove or rename one"),
                        );
                    }
                    entries.push((k, node));
                }
            },
        }
    }
    root
}

/// Types a plain scalar by the YAML 1.2 core schema (plus `_` digit separators in integers,
/// which YAML 1.1 allowed and people still write: `10_000_000`).
fn resolve_plain(text: &str) -> Value {
    match text {
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
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        && let Ok(i) = text.replace('_', "").parse::<i64>()
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
    Value::Str(text.to_string())
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
    fn aliases_copy_the_anchored_value() {
        let (root, diags) = load("a: &x [1, 2]\nb: *x\n");
        assert!(diags.is_empty());
        let root = root.unwrap();
        assert_eq!(map(&root)[0].1.value, map(&root)[1].1.value);
    }
}
