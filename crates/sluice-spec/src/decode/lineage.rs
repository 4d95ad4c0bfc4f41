//! Decoding of what feeds the lineage graph: `exposures:` and `lineage:`.

use std::collections::HashSet;
use std::path::Path;

use super::{Decoder, get};
use crate::diag::Diagnostic;
use crate::model::*;
use crate::suggest::{hint, list};
use crate::yaml::Node;

pub(crate) const EXPOSURE_KEYS: &[&str] = &[
    "type",
    "depends_on",
    "owner",
    "tier",
    "tags",
    "url",
    "description",
];
pub(crate) const LINEAGE_KEYS: &[&str] =
    &["dbt", "openlineage", "include_tests", "mapping", "dialect"];

impl Decoder<'_> {
    /// `exposures:`: name -> exposure.
    pub(super) fn exposures(&mut self, node: &Node) -> Vec<Exposure> {
        let mut out = Vec::new();
        let Some(entries) = self.map(
            node,
            "`exposures`",
            "map each exposure's name to what it `depends_on`, e.g. `revenue_dashboard: { depends_on: [orders_clean], owner: finance }`",
        ) else {
            return out;
        };
        for (name, body) in entries {
            let what = format!("exposure `{}`", name.key());
            let Some(e) = self.map(body, &what, "give it `depends_on:` (the datasets it reads)")
            else {
                continue;
            };
            self.check_keys(e, EXPOSURE_KEYS, &what);
            let kind = match get(e, "type") {
                Some(n) => match self.string(n, "`type`") {
                    Some(t) if EXPOSURE_TYPES.contains(&t.as_str()) => t,
                    Some(t) => {
                        let help = hint(&t, EXPOSURE_TYPES.iter().copied())
                            .unwrap_or_else(|| format!("use one of {}", list(EXPOSURE_TYPES)));
                        self.err(
                            Diagnostic::error(n.span, format!("unknown exposure type `{t}`"))
                                .label("unknown type")
                                .help(help),
                        );
                        continue;
                    }
                    None => continue,
                },
                None => "other".to_string(),
            };
            let depends_on = match get(e, "depends_on") {
                Some(n) => self.strings(n, "`depends_on`").unwrap_or_default(),
                None => {
                    self.missing(
                        name.span,
                        "depends_on",
                        &what,
                        "list what it reads: `depends_on: [orders_clean]`",
                    );
                    vec![]
                }
            };
            let tier = get(e, "tier")
                .and_then(|n| self.uint(n, "`tier`"))
                .map(|t| t.clamp(1, 255) as u8);
            out.push(Exposure {
                name: name.key().to_string(),
                span: name.span,
                kind,
                depends_on,
                owner: get(e, "owner").and_then(|n| self.text(n, "`owner`")),
                tier,
                tags: get(e, "tags")
                    .and_then(|n| self.strings(n, "`tags`"))
                    .unwrap_or_default(),
                url: get(e, "url").and_then(|n| self.string(n, "`url`")),
                description: get(e, "description").and_then(|n| self.text(n, "`description`")),
            });
        }
        out
    }

    /// `lineage:`: dbt manifests, OpenLineage events, identity mapping.
    pub(super) fn lineage(
        &mut self,
        node: &Node,
        base: &Path,
        datasets: &[Dataset],
    ) -> LineageSources {
        let names: Vec<&str> = datasets.iter().map(|d| d.name.as_str()).collect();
        let defined: HashSet<&str> = names.iter().copied().collect();
        let mut out = LineageSources::default();
        let Some(e) = self.map(
            node,
            "`lineage`",
            "e.g. `lineage: { dbt: target/manifest.json, openlineage: events.ndjson }`",
        ) else {
            return out;
        };
        self.check_keys(e, LINEAGE_KEYS, "`lineage`");
        let files = |d: &mut Self, key: &str| -> Vec<std::path::PathBuf> {
            let Some(n) = get(e, key) else { return vec![] };
            let names = d.strings(n, &format!("`{key}`")).unwrap_or_default();
            let mut paths = Vec::new();
            for name in names {
                let full = base.join(&name);
                if full.is_file() {
                    paths.push(full);
                } else {
                    d.err(
                        Diagnostic::error(n.span, format!("`{key}` file not found: {name}"))
                            .label("no such file")
                            .help(format!(
                                "the path is relative to the config's folder: {}",
                                base.display()
                            )),
                    );
                }
            }
            paths
        };
        out.dbt = files(self, "dbt");
        out.openlineage = files(self, "openlineage");
        if let Some(d) = get(e, "dialect").and_then(|n| self.dialect(n)) {
            out.dialect = d;
        }
        if let Some(n) = get(e, "include_tests") {
            out.include_tests = self.boolean(n, "`include_tests`").unwrap_or(false);
        }
        if let Some(n) = get(e, "mapping")
            && let Some(m) = self.map(
                n,
                "`mapping`",
                "map a dataset to its other names: `orders_clean: [model.shop.orders]`",
            )
        {
            for (k, v) in m {
                if !defined.contains(k.key()) {
                    let help = self.dataset_help(k.key(), &names, true);
                    self.err(
                        Diagnostic::error(
                            k.span,
                            format!(
                                "`mapping` names dataset `{}`, which is not defined",
                                k.key()
                            ),
                        )
                        .label("undefined dataset")
                        .help(help),
                    );
                    continue;
                }
                if let Some(ids) = self.strings(v, &format!("the ids of `{}`", k.key())) {
                    out.mapping.push(LineageMapping {
                        dataset: k.key().to_string(),
                        span: k.span,
                        ids,
                    });
                }
            }
        }
        out
    }

    /// `dialect: snowflake`.
    pub(super) fn dialect(&mut self, node: &Node) -> Option<crate::Dialect> {
        let s = self.string(node, "`dialect`")?;
        if let Some(d) = crate::Dialect::parse(&s) {
            return Some(d);
        }
        let help = hint(&s, crate::Dialect::NAMES).unwrap_or_else(|| {
            format!(
                "the dialects the SQL parser knows: {}",
                crate::Dialect::NAMES.join(", ")
            )
        });
        self.err(
            Diagnostic::error(node.span, format!("unknown SQL dialect `{s}`"))
                .label("not a dialect")
                .help(help),
        );
        None
    }

    /// An exposure may not take a dataset's name (they share the lineage graph). What it
    /// depends on may be a dbt or OpenLineage node, so that is checked when the graph is built.
    pub(super) fn check_lineage(&mut self, datasets: &[Dataset], exposures: &[Exposure]) {
        let names: HashSet<&str> = datasets.iter().map(|d| d.name.as_str()).collect();
        for e in exposures {
            if names.contains(e.name.as_str()) {
                self.err(
                    Diagnostic::error(e.span, format!("exposure `{}` has the name of a dataset", e.name))
                        .label("same name as a dataset")
                        .help("exposures and datasets share the lineage graph: give the exposure another name"),
                );
            }
        }
    }
}
