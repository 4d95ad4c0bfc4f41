//! `${VAR}` interpolation in config values.
//!
//! `${NAME}` is replaced by the value given with `--var NAME=value`, else by the environment
//! variable `NAME`. `${NAME:-fallback}` uses `fallback` when neither is set. `$$` is a
//! literal `$`; a `$` not followed by `{` or `$` is kept as is (so regexes like `^a+$` need
//! no escaping).

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::suggest::did_you_mean;

/// Where `${VAR}` values come from: `--var` values first, then (optionally) the environment.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    values: BTreeMap<String, String>,
    use_env: bool,
}

impl Vars {
    /// `--var` values, falling back to the process environment.
    pub fn new(values: BTreeMap<String, String>) -> Vars {
        Vars {
            values,
            use_env: true,
        }
    }

    /// Only the given values; the environment is not consulted (for tests).
    pub fn isolated(values: BTreeMap<String, String>) -> Vars {
        Vars {
            values,
            use_env: false,
        }
    }

    /// Parses a `--var name=value` argument.
    pub fn parse_assignment(arg: &str) -> Result<(String, String), String> {
        let (name, value) = arg
            .split_once('=')
            .ok_or_else(|| format!("`{arg}` is not of the form name=value"))?;
        if !is_name(name) {
            return Err(format!(
                "`{name}` is not a valid variable name (letters, digits and `_`, not starting with a digit)"
            ));
        }
        Ok((name.to_string(), value.to_string()))
    }

    fn lookup(&self, name: &str) -> Option<String> {
        if let Some(v) = self.values.get(name) {
            return Some(v.clone());
        }
        if self.use_env {
            return std::env::var(name).ok();
        }
        None
    }
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A failed interpolation: what, and where in the text (character offsets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterpError {
    /// Character offset of the offending `${...}` in the text.
    pub offset: usize,
    /// Its length in characters.
    pub len: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

/// Replaces every `${VAR}` in `text`.
pub fn interpolate<'a>(text: &'a str, vars: &Vars) -> Result<Cow<'a, str>, InterpError> {
    if !text.contains('$') {
        return Ok(Cow::Borrowed(text));
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => {
                out.push('$');
                i += 2;
            }
            Some('{') => {
                let Some(close) = chars[i + 2..].iter().position(|&c| c == '}') else {
                    return Err(InterpError {
                        offset: i,
                        len: chars.len() - i,
                        message: "unterminated `${`".into(),
                        help: "close it with `}`, or write `$$` for a literal `$`".into(),
                    });
                };
                let inner: String = chars[i + 2..i + 2 + close].iter().collect();
                let len = close + 3;
                let (name, fallback) = match inner.split_once(":-") {
                    Some((n, f)) => (n, Some(f)),
                    None => (inner.as_str(), None),
                };
                if !is_name(name) {
                    return Err(InterpError {
                        offset: i,
                        len,
                        message: format!("`${{{inner}}}` is not a valid variable reference"),
                        help: "variable names are letters, digits and `_`; write `$$` for a literal `$`".into(),
                    });
                }
                match vars.lookup(name).or(fallback.map(str::to_string)) {
                    Some(v) => out.push_str(&v),
                    None => {
                        let mut help = format!(
                            "pass `--var {name}=...`, set the environment variable `{name}`, or give a fallback: `${{{name}:-value}}`"
                        );
                        if let Some(s) = did_you_mean(name, vars.values.keys().map(String::as_str))
                        {
                            help = format!("did you mean `{s}` (given with --var)? or {help}");
                        }
                        return Err(InterpError {
                            offset: i,
                            len,
                            message: format!("variable `{name}` is not defined"),
                            help,
                        });
                    }
                }
                i += len;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        Vars::isolated(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn replaces_and_escapes() {
        let v = vars(&[("DS", "2025-01-01")]);
        assert_eq!(
            interpolate("data/${DS}/x", &v).unwrap(),
            "data/2025-01-01/x"
        );
        assert_eq!(interpolate("cost $$5", &v).unwrap(), "cost $5");
        assert_eq!(interpolate("^a+$", &v).unwrap(), "^a+$");
        assert_eq!(interpolate("${NOPE:-fb}", &v).unwrap(), "fb");
        assert_eq!(interpolate("${DS:-fb}", &v).unwrap(), "2025-01-01");
    }

    #[test]
    fn reports_where() {
        let v = vars(&[("DATE", "x")]);
        let e = interpolate("a/${DAT}/b", &v).unwrap_err();
        assert_eq!((e.offset, e.len), (2, 6));
        assert!(e.help.contains("did you mean `DATE`"), "{}", e.help);
        let e = interpolate("a/${oops", &v).unwrap_err();
        assert!(e.message.contains("unterminated"));
        let e = interpolate("${a b}", &v).unwrap_err();
        assert!(e.message.contains("not a valid"));
    }

    #[test]
    fn parses_assignments() {
        assert_eq!(
            Vars::parse_assignment("ds=2025-01-01=x").unwrap(),
            ("ds".to_string(), "2025-01-01=x".to_string())
        );
        assert!(Vars::parse_assignment("novalue").is_err());
        assert!(Vars::parse_assignment("1x=3").is_err());
    }
}
