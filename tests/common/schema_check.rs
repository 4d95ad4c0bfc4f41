//! A JSON Schema (draft-07) validator for the keywords `sluice schema` uses, for the
//! tests: `type`, `enum`, `const`, `properties`, `additionalProperties`, `required`,
//! `items`, `minItems`, `maxItems`, `minimum`, `maximum`, `minLength`, `pattern`, `anyOf`,
//! `$ref` to `#/definitions/...`. A keyword it does not know is a panic, never a pass.
//!
//! Why not the `jsonschema` crate: it turns on serde_json's `float_roundtrip`, which
//! changes serde_json's features in test builds and so rebuilds Arrow and DataFusion
//! (they depend on serde_json) a second time, for the test profile (see the tooling notes).

use serde_json::Value;

const ANNOTATIONS: &[&str] = &["$schema", "$id", "title", "description", "definitions"];

/// Errors of `doc` against `schema` (`root` resolves `$ref`s), as `path: what`.
pub fn errors(root: &Value, doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(root, root, doc, "", &mut out);
    out
}

/// Whether `doc` is valid.
pub fn is_valid(root: &Value, doc: &Value) -> bool {
    errors(root, doc).is_empty()
}

fn check(root: &Value, schema: &Value, doc: &Value, at: &str, out: &mut Vec<String>) {
    let s = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            out.push(format!("{at}: not allowed"));
            return;
        }
        Value::Object(s) => s,
        other => panic!("not a schema: {other}"),
    };
    for (key, v) in s {
        match key.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "$ref" => {
                let name = v
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/definitions/"))
                    .unwrap_or_else(|| panic!("unsupported $ref {v}"));
                let target = &root["definitions"][name];
                assert!(!target.is_null(), "dangling $ref {name}");
                check(root, target, doc, at, out);
            }
            "type" => {
                let types: Vec<&str> = match v {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
                    _ => panic!("bad type {v}"),
                };
                if !types.iter().any(|t| has_type(doc, t)) {
                    out.push(format!("{at}: {doc} is not {}", types.join(" or ")));
                }
            }
            "enum" => {
                if !v.as_array().unwrap().contains(doc) {
                    out.push(format!("{at}: {doc} is not one of {v}"));
                }
            }
            "const" => {
                if v != doc {
                    out.push(format!("{at}: {doc} is not {v}"));
                }
            }
            "anyOf" => {
                let branches = v.as_array().unwrap();
                if !branches
                    .iter()
                    .any(|b| errors_of(root, b, doc, at).is_empty())
                {
                    out.push(format!(
                        "{at}: {doc} matches none of the {} forms",
                        branches.len()
                    ));
                }
            }
            "properties" | "additionalProperties" | "required" => {}
            "items" => {
                if let Value::Array(items) = doc {
                    for (i, item) in items.iter().enumerate() {
                        check(root, v, item, &format!("{at}/{i}"), out);
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let Value::Array(items) = doc {
                    let n = v.as_u64().unwrap() as usize;
                    let ok = if key == "minItems" {
                        items.len() >= n
                    } else {
                        items.len() <= n
                    };
                    if !ok {
                        out.push(format!("{at}: {} items ({key} {n})", items.len()));
                    }
                }
            }
            "minimum" | "maximum" => {
                if let Some(x) = doc.as_f64() {
                    let bound = v.as_f64().unwrap();
                    let ok = if key == "minimum" {
                        x >= bound
                    } else {
                        x <= bound
                    };
                    if !ok {
                        out.push(format!("{at}: {x} ({key} {bound})"));
                    }
                }
            }
            "minLength" => {
                if let Value::String(t) = doc
                    && t.chars().count() < v.as_u64().unwrap() as usize
                {
                    out.push(format!("{at}: {doc} is too short"));
                }
            }
            "pattern" => {
                if let Value::String(t) = doc {
                    let re = regex::Regex::new(v.as_str().unwrap()).unwrap();
                    if !re.is_match(t) {
                        out.push(format!("{at}: {doc} does not match {v}"));
                    }
                }
            }
            other => panic!(
                "the test validator does not know `{other}`: teach it (tests/common/schema_check.rs)"
            ),
        }
    }
    if ["properties", "additionalProperties", "required"]
        .iter()
        .any(|k| s.contains_key(*k))
    {
        object(root, s, doc, at, out);
    }
}

fn errors_of(root: &Value, schema: &Value, doc: &Value, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    check(root, schema, doc, at, &mut out);
    out
}

/// `properties`, `additionalProperties` and `required` together.
fn object(
    root: &Value,
    s: &serde_json::Map<String, Value>,
    doc: &Value,
    at: &str,
    out: &mut Vec<String>,
) {
    let Value::Object(o) = doc else { return };
    let props = s.get("properties").and_then(Value::as_object);
    for (k, v) in o {
        let here = format!("{at}/{k}");
        match props.and_then(|p| p.get(k)) {
            Some(p) => check(root, p, v, &here, out),
            None => {
                if let Some(extra) = s.get("additionalProperties") {
                    check(root, extra, v, &here, out);
                }
            }
        }
    }
    if let Some(req) = s.get("required").and_then(Value::as_array) {
        for r in req {
            if !o.contains_key(r.as_str().unwrap()) {
                out.push(format!("{at}: missing {r}"));
            }
        }
    }
}

fn has_type(doc: &Value, t: &str) -> bool {
    match t {
        "object" => doc.is_object(),
        "array" => doc.is_array(),
        "string" => doc.is_string(),
        "boolean" => doc.is_boolean(),
        "null" => doc.is_null(),
        "number" => doc.is_number(),
        "integer" => doc.is_i64() || doc.is_u64() || doc.as_f64().is_some_and(|f| f.fract() == 0.0),
        other => panic!("unknown type {other}"),
    }
}
