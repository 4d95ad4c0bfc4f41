//! `sluice init --from PATH`: a starting config for a dataset, from its schema and data.
//!
//! The path is read as a config's `path:` reads it (a one-dataset config is decoded, then
//! opened and profiled by the engine, [`sluice_engine::profile`]), so whatever `path:`
//! reads — a file, a folder, a glob; Parquet, CSV, JSON, Arrow — `init` reads too. The
//! config it writes:
//!
//! - a `row_count` (at least one row);
//! - a `schema` check with every column and its type as read;
//! - `not_null` on the columns the file's schema declares non-nullable, and, commented as
//!   such, on those with no NULL in the data read (CSV and JSON schemas are inferred and
//!   always nullable);
//! - the `key:`, guessed from the integer or UUID columns without NULLs or repeated values
//!   (the first such column; said so in a comment), with a `unique` check on it.
//!
//! The text is checked by the config decoder before it is returned: a scaffold always
//! validates.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use sluice_engine::profile::{KeyKind, Profile};
use sluice_spec::{ColumnType, Vars};

use crate::error::{Error, Result};

/// What to scaffold.
#[derive(Clone, Debug)]
pub struct ScaffoldRequest {
    /// The data: a file, a folder or a glob, as `path:` takes it.
    pub from: PathBuf,
    /// The dataset's name [default: from the file or folder name].
    pub name: Option<String>,
    /// The folder the config will live in: `path:` is written relative to it.
    pub config_dir: PathBuf,
}

/// A scaffolded config.
#[derive(Clone, Debug)]
pub struct Scaffold {
    /// The dataset's name.
    pub dataset: String,
    /// Its `path:` as written (relative to the config's folder).
    pub path: String,
    /// What the data showed.
    pub profile: Profile,
    /// The guessed key column, if any.
    pub key: Option<String>,
    /// The config, as YAML.
    pub yaml: String,
}

/// Reads `req.from`'s schema and data and writes a config for it.
pub async fn scaffold(req: &ScaffoldRequest) -> Result<Scaffold> {
    let config_dir = std::path::absolute(&req.config_dir).unwrap_or(req.config_dir.clone());
    // An object-store URL is written as given (credentials from the environment).
    let url = req
        .from
        .to_str()
        .filter(|t| sluice_spec::storage::remote_scheme(t).is_some());
    let from = match url {
        Some(_) => req.from.clone(),
        None => std::path::absolute(&req.from).unwrap_or(req.from.clone()),
    };
    let dataset = match &req.name {
        Some(n) => n.clone(),
        None => dataset_name(&from),
    };
    let path = match url {
        Some(u) => u.to_string(),
        None => relative(&from, &config_dir),
    };
    // Read through the config decoder, as a run reads `path:`.
    let probe = format!(
        "version: 1\ndatasets:\n  {}:\n    path: {}\n",
        scalar(&dataset),
        scalar(&dollars(&from.to_string_lossy()))
    );
    let file = config_dir.join("sluice.yaml");
    let config = sluice_spec::load_str(&file, probe, &Vars::isolated(BTreeMap::new()))?;
    let profile = sluice_engine::profile::profile(&config.datasets[0])
        .await
        .map_err(|e| Error::Source(Box::new(e)))?;
    let key = profile
        .columns
        .iter()
        .find(|c| c.key_candidate.is_some())
        .map(|c| c.name.clone());
    let yaml = render(&req.from, &dataset, &path, &profile);
    // A scaffold must validate: checked here, not left to the user.
    sluice_spec::load_str(&file, yaml.clone(), &Vars::isolated(BTreeMap::new()))?;
    Ok(Scaffold {
        dataset,
        path,
        profile,
        key,
        yaml,
    })
}

/// The config's text.
fn render(from: &Path, dataset: &str, path: &str, p: &Profile) -> String {
    let mut y = String::new();
    y.push_str(&format!(
        "# yaml-language-server: $schema={}\n",
        sluice_spec::schema::SCHEMA_ID
    ));
    y.push_str(&format!(
        "#\n# Scaffolded by `sluice init --from {}` from its schema and data ({}, {} file{}, {} row{}).\n",
        from.display(),
        p.format.name(),
        p.files,
        if p.files == 1 { "" } else { "s" },
        p.rows,
        if p.rows == 1 { "" } else { "s" },
    ));
    y.push_str("# A start: tighten the row count, add ranges, accepted values and freshness.\n");
    y.push_str("version: 1\n\ndatasets:\n");
    y.push_str(&format!("  {}:\n", scalar(dataset)));
    y.push_str(&format!("    path: {}\n", scalar(&dollars(path))));
    let key = p.columns.iter().find(|c| c.key_candidate.is_some());
    if let Some(k) = key {
        let what = match k.key_candidate {
            Some(KeyKind::Uuid) => "UUIDs",
            _ => "integers",
        };
        y.push_str(&format!(
            "    # The key is a guess: `{}` holds unique {what} ({} distinct values in {} rows, no NULL).\n",
            k.name, p.rows, p.rows
        ));
        let others: Vec<&str> = p
            .columns
            .iter()
            .filter(|c| c.key_candidate.is_some() && c.name != k.name)
            .map(|c| c.name.as_str())
            .collect();
        if !others.is_empty() {
            y.push_str(&format!(
                "    # Unique too, if the key is another: {}.\n",
                others.join(", ")
            ));
        }
        y.push_str(&format!("    key: [{}]\n", scalar(&k.name)));
    }
    y.push_str("    checks:\n");
    y.push_str("      - row_count: { min: 1 }\n");
    if !p.columns.is_empty() {
        y.push_str("      - schema:\n          columns:\n");
        for c in &p.columns {
            let ty = match &c.column_type {
                ColumnType::Any => "any".to_string(),
                t => t.to_string(),
            };
            y.push_str(&format!(
                "            {}: {}\n",
                scalar(&c.name),
                scalar(&ty)
            ));
        }
    }
    let declared: Vec<&str> = p
        .columns
        .iter()
        .filter(|c| !c.nullable)
        .map(|c| c.name.as_str())
        .collect();
    let observed: Vec<&str> = p
        .columns
        .iter()
        .filter(|c| c.nullable && c.nulls == 0 && p.rows > 0)
        .map(|c| c.name.as_str())
        .collect();
    if !declared.is_empty() {
        y.push_str("      # Non-nullable in the file's schema.\n");
        y.push_str(&format!("      - not_null: {}\n", list(&declared)));
    }
    if !observed.is_empty() {
        y.push_str(&format!(
            "      # No NULL in the {} rows read (the schema allows them): keep those that must always be set.\n",
            p.rows
        ));
        y.push_str(&format!("      - not_null: {}\n", list(&observed)));
    }
    if let Some(k) = key {
        y.push_str(&format!("      - unique: {}\n", scalar(&k.name)));
    }
    y
}

fn list(names: &[&str]) -> String {
    format!(
        "[{}]",
        names
            .iter()
            .map(|n| scalar(n))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// `$` doubled: the config's `${VAR}` interpolation must not touch a path.
fn dollars(s: &str) -> String {
    s.replace('$', "$$")
}

/// A YAML scalar: plain when that reads back as the same string, else double-quoted.
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '.' || c == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '(' | ')'))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        return s.to_string();
    }
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// A dataset name from a path: the file's stem (`orders.parquet` -> `orders`), a folder's
/// name; characters a name cannot hold become `_`.
fn dataset_name(path: &Path) -> String {
    let raw = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let stem = if path.is_dir() {
        raw
    } else {
        raw.split('.').next().unwrap_or_default().to_string()
    };
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    name
}

/// `to` relative to the folder `base` (both absolute), with `..` where needed.
fn relative(to: &Path, base: &Path) -> String {
    let t: Vec<Component> = to.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    let mut s = out.to_string_lossy().to_string();
    if s.is_empty() {
        s = ".".into();
    }
    // A folder keeps its trailing slash, as people write it.
    if to.is_dir() && !s.ends_with('/') {
        s.push('/');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_back_as_written() {
        assert_eq!(scalar("order_id"), "order_id");
        assert_eq!(scalar("data/orders.parquet"), "data/orders.parquet");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("order id"), "\"order id\"");
        assert_eq!(scalar("decimal(10,2)"), "\"decimal(10,2)\"");
        assert_eq!(scalar("1st"), "\"1st\"");
        assert_eq!(scalar("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn paths_are_relative_to_the_config() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(relative(&p("/w/data/o.csv"), &p("/w")), "data/o.csv");
        assert_eq!(
            relative(&p("/w/data/o.csv"), &p("/w/conf")),
            "../data/o.csv"
        );
        assert_eq!(dataset_name(&p("/x/orders.parquet")), "orders");
        assert_eq!(dataset_name(&p("/x/2024 sales.csv")), "_2024_sales");
    }
}
