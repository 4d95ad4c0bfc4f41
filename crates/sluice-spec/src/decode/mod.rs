//! Node tree -> typed [`Config`], reporting every problem with its span.
//!
//! Decoding never stops at the first error: each mistake becomes a [`Diagnostic`] and the
//! decoder carries on with the next key, check and dataset, so one `sluice validate` shows
//! everything that is wrong with a file.

use std::collections::HashMap;
use std::path::Path;

use crate::diag::Diagnostic;
use crate::duration::{self, DurationError};
use crate::history::HistoryPolicy;
use crate::kinds::{self, Kind, ThresholdClass};
use crate::model::*;
use crate::source::Span;
use crate::suggest::{did_you_mean, hint, list};
use crate::yaml::{Node, Value};

mod breaker;
mod compare;
mod forecast;
mod history;
mod lineage;
mod notify;
mod openlineage;
mod pipeline;
mod storage;

/// The key lists the decoder checks objects against, for the JSON Schema.
pub(crate) mod keys {
    pub(crate) use super::breaker::BREAKER_KEYS;
    pub(crate) use super::forecast::KEY_SPEC_KEYS;
    pub(crate) use super::lineage::{EXPOSURE_KEYS, LINEAGE_KEYS};
    pub(crate) use super::notify::{
        CHANNEL_KEYS, ENDPOINT_KEYS, NOTIFY_KEYS, RETRY_KEYS as NOTIFY_RETRY_KEYS, ROUTE_KEYS,
        WHEN_KEYS,
    };
    pub(crate) use super::openlineage::KEYS as OPENLINEAGE_KEYS;
    pub(crate) use super::pipeline::{
        AGGREGATE_KEYS, COMPARE_KEYS, PARITY_KEYS, RECONCILE_KEYS, STAGE_KEYS, TOLERANCE_KEYS,
    };
    pub(crate) use super::{COMMON_CHECK_KEYS, CSV_KEYS, DATASET_KEYS, DEFAULTS_KEYS, TOP_KEYS};
}

type Entries = [(Node, Node)];

/// Collects diagnostics while decoding.
pub(crate) struct Decoder<'a> {
    pub diags: &'a mut Vec<Diagnostic>,
    /// The top-level `storage:` blocks, read before the datasets (each dataset keeps them).
    storage_prefixes: Vec<(String, crate::StorageOptions)>,
    /// Candidates left to compare for dataset-name suggestions (see [`SUGGEST_BUDGET`]).
    suggest_budget: usize,
}

/// How many candidate names the did-you-mean suggestions for undefined datasets may compare
/// in one file, in all. Each suggestion compares the unknown name with every dataset, so a
/// large file with many broken references would cost (references × datasets): with 100,000
/// datasets, the first 20 or so undefined names get a suggestion, the rest the list. A file
/// of 1,000 datasets gets suggestions for its first 2,000.
const SUGGEST_BUDGET: usize = 2_000_000;

/// Names listed in full in a "defined datasets: ..." help; beyond that, how many more.
const LISTED: usize = 20;

impl<'a> Decoder<'a> {
    /// A decoder reporting into `diags`.
    pub fn new(diags: &'a mut Vec<Diagnostic>) -> Decoder<'a> {
        Decoder {
            diags,
            storage_prefixes: Vec::new(),
            suggest_budget: SUGGEST_BUDGET,
        }
    }
}

/// "e.g. `tier: 1`": how to write a value of the expected type under the key in `what`.
fn example_help(what: &str, expected: &str) -> String {
    let example = match expected {
        "a string" => "text",
        "a whole number" => "1",
        "a number" => "0.5",
        "true or false" => "true",
        "a list" | "a name or a list of names" => "[a, b]",
        "a mapping" => "{ key: value }",
        _ => return format!("write {expected} here"),
    };
    match what.strip_prefix('`').and_then(|w| w.strip_suffix('`')) {
        Some(key) => format!("e.g. `{key}: {example}`"),
        None => format!("write {expected} here, e.g. `{example}`"),
    }
}

fn get<'n>(entries: &'n Entries, key: &str) -> Option<&'n Node> {
    entries.iter().find(|(k, _)| k.key() == key).map(|(_, v)| v)
}

/// What decoding one check's options needs: its kind, the shorthand value if written as
/// one (`- not_null: order_id`), the option entries, and where the check is.
struct Opts<'n> {
    k: Kind,
    shorthand: Option<&'n Node>,
    e: &'n Entries,
    at: Span,
}

impl Opts<'_> {
    /// "a `range` check", for messages.
    fn what(&self) -> String {
        format!("a `{}` check", self.k.name())
    }
}

/// The keys every check takes, besides its kind's options and thresholds.
pub(crate) const COMMON_CHECK_KEYS: &[&str] = &[
    "name", "severity", "where", "samples", "warn", "fail", "after",
];
/// The top-level keys of `sluice.yaml` (the JSON Schema, `crate::schema`, reads these
/// lists too: a key added here needs its type there).
pub(crate) const TOP_KEYS: &[&str] = &[
    "version",
    "defaults",
    "datasets",
    "stages",
    "reconcile",
    "exposures",
    "lineage",
    "state",
    "quarantine",
    "history",
    "notify",
    "openlineage",
    "serve",
    "storage",
    "engine",
];
/// The keys of `defaults:`.
pub(crate) const DEFAULTS_KEYS: &[&str] = &["severity", "samples", "breaker"];
/// The keys of a dataset.
pub(crate) const DATASET_KEYS: &[&str] = &[
    "path",
    "format",
    "csv",
    "partitions",
    "key",
    "owner",
    "tier",
    "description",
    "tags",
    "checks",
    "parity",
    "breaker",
    "staging",
    "keep_versions",
    "storage",
    "version",
    "timestamp",
    "delta_mode",
];
/// Why `format: iceberg` is refused, and what to do instead.
const ICEBERG_HELP: &str = "sluice reads tables through DataFusion 55 (arrow 59), and no maintained Rust Iceberg reader supports that version yet: iceberg-datafusion 0.10 (apache/iceberg-rust) needs DataFusion 53 and arrow 58, datafusion_iceberg 0.10 needs DataFusion 53. Reading the table's Parquet files directly would show deleted and overwritten rows, so sluice does not. Until a reader pairs with DataFusion 55: check the data before it is committed (point a dataset at the Parquet files your job writes), or export a snapshot (e.g. pyiceberg `table.scan().to_arrow()` written to Parquet) and check that";

/// The keys of a dataset's `csv:`.
pub(crate) const CSV_KEYS: &[&str] = &["header", "delimiter", "quote", "null_value"];

impl Decoder<'_> {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn type_error(&mut self, node: &Node, what: &str, expected: &str, help: Option<String>) {
        self.err(
            Diagnostic::error(
                node.span,
                format!("{what} must be {expected}, found {}", node.type_name()),
            )
            .label(format!("expected {expected}"))
            .help(help.unwrap_or_else(|| example_help(what, expected))),
        );
    }

    /// A kind whose options are a mapping, never a shorthand (`- kind: value`).
    fn no_shorthand(&mut self, o: &Opts<'_>, example: &str) -> Option<()> {
        match o.shorthand {
            Some(s) => {
                self.type_error(
                    s,
                    &format!("the options of `{}`", o.k.name()),
                    "a mapping",
                    Some(example.to_string()),
                );
                None
            }
            None => Some(()),
        }
    }

    fn map<'n>(&mut self, node: &'n Node, what: &str, help: &str) -> Option<&'n Entries> {
        match &node.value {
            Value::Map(m) => Some(m),
            _ => {
                self.type_error(node, what, "a mapping", Some(help.to_string()));
                None
            }
        }
    }

    /// Reports every key of `entries` not in `allowed`, with a did-you-mean.
    fn check_keys(&mut self, entries: &Entries, allowed: &[&str], what: &str) {
        for (k, _) in entries {
            let key = k.key();
            if allowed.contains(&key) {
                continue;
            }
            let help = hint(key, allowed.iter().copied())
                .unwrap_or_else(|| format!("{what} takes: {}", list(allowed)));
            self.err(
                Diagnostic::error(k.span, format!("unknown key `{key}` in {what}"))
                    .label("unknown key")
                    .help(help),
            );
        }
    }

    /// The help for an undefined dataset `name`: "did you mean `x`?", else the defined
    /// `names` (`a`, `b` with `backticks`, else a, b), the first [`LISTED`] and how many more.
    fn dataset_help(&mut self, name: &str, names: &[&str], backticks: bool) -> String {
        if let Some(budget) = self.suggest_budget.checked_sub(names.len()) {
            self.suggest_budget = budget;
            if let Some(h) = hint(name, names.iter().copied()) {
                return h;
            }
        }
        let shown = &names[..names.len().min(LISTED)];
        let mut text = if backticks {
            list(shown)
        } else {
            shown.join(", ")
        };
        if names.len() > shown.len() {
            text.push_str(&format!(" and {} more", names.len() - shown.len()));
        }
        format!("defined datasets: {text}")
    }

    fn missing(&mut self, at: Span, key: &str, what: &str, help: &str) {
        self.err(
            Diagnostic::error(at, format!("{what} is missing `{key}`"))
                .label(format!("`{key}` is required here"))
                .help(help.to_string()),
        );
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Str(_) => {
                self.err(
                    Diagnostic::error(node.span, format!("{what} is empty"))
                        .label("empty string")
                        .help("give a value, or remove the key"),
                );
                None
            }
            _ => {
                self.type_error(node, what, "a string", None);
                None
            }
        }
    }

    /// A string, or a number/boolean written without quotes (owner: 42).
    fn text(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => self.string(node, what),
        }
    }

    fn uint(&mut self, node: &Node, what: &str) -> Option<u64> {
        match node.value {
            Value::Int(i) if i >= 0 => Some(i as u64),
            Value::Int(_) => {
                self.err(
                    Diagnostic::error(node.span, format!("{what} must not be negative"))
                        .label("negative")
                        .help("use 0 or more"),
                );
                None
            }
            _ => {
                self.type_error(node, what, "a whole number", None);
                None
            }
        }
    }

    fn number(&mut self, node: &Node, what: &str) -> Option<f64> {
        match node.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => self.finite(node, what, f),
            _ => {
                self.type_error(node, what, "a number", None);
                None
            }
        }
    }

    /// `f` if it is a finite number; NaN (`.nan`) and infinities (`.inf`, `-.inf`, `1e999`)
    /// are errors: a threshold or bound that no value can meet, or that every value meets,
    /// is a mistake (and SQL has no literal for them).
    fn finite(&mut self, node: &Node, what: &str, f: f64) -> Option<f64> {
        if f.is_finite() {
            return Some(f);
        }
        let (found, label) = if f.is_nan() {
            ("NaN (not a number)", "not a number")
        } else {
            ("infinite", "infinite")
        };
        self.err(
            Diagnostic::error(node.span, format!("{what} must be a finite number, found {found}"))
                .label(label)
                .help("give a finite number; to leave a side of a range open, leave out its bound (e.g. only `min:`)"),
        );
        None
    }

    fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.type_error(node, what, "true or false", None);
                None
            }
        }
    }

    /// A string, or a list of strings.
    fn strings(&mut self, node: &Node, what: &str) -> Option<Vec<String>> {
        match &node.value {
            Value::Seq(items) => {
                let mut out = Vec::new();
                let mut ok = true;
                for item in items {
                    match self.string(item, &format!("each entry of {what}")) {
                        Some(s) => out.push(s),
                        None => ok = false,
                    }
                }
                if ok && out.is_empty() {
                    self.err(
                        Diagnostic::error(node.span, format!("{what} is an empty list"))
                            .label("empty"),
                    );
                    return None;
                }
                ok.then_some(out)
            }
            Value::Str(_) => self.string(node, what).map(|s| vec![s]),
            _ => {
                self.type_error(node, what, "a name or a list of names", None);
                None
            }
        }
    }

    fn literal(&mut self, node: &Node, what: &str) -> Option<Literal> {
        match &node.value {
            Value::Int(i) => Some(Literal::Int(*i)),
            Value::Float(f) => self.finite(node, what, *f).map(Literal::Float),
            Value::Str(s) => Some(Literal::Str(s.clone())),
            Value::Bool(b) => Some(Literal::Bool(*b)),
            _ => {
                self.type_error(node, what, "a number, string or boolean", None);
                None
            }
        }
    }

    /// A `range` bound: a number, or text — a date or timestamp that must exist
    /// (`2024-02-30` is refused here rather than by the engine's cast at run time).
    fn bound(&mut self, node: &Node, what: &str) -> Option<Literal> {
        let lit = self.literal(node, what)?;
        if let Literal::Str(s) = &lit
            && let Some(why) = crate::date::impossible(s)
        {
            self.err(
                Diagnostic::error(node.span, why)
                    .label("no such date")
                    .help("write a date that exists, as `YYYY-MM-DD` (or a timestamp `YYYY-MM-DDTHH:MM:SS`)"),
            );
            return None;
        }
        Some(lit)
    }

    /// Checks that `sql` parses as a SQL expression; the error points at the value.
    fn sql_expr(&mut self, node: &Node, what: &str) -> Option<String> {
        let sql = self.string(node, what)?;
        match crate::sql::parse_expr(&sql) {
            Ok(()) => Some(sql),
            Err(msg) => {
                self.err(
                    Diagnostic::error(node.span, format!("{what} is not valid SQL: {msg}"))
                        .label("invalid SQL")
                        .help("write a SQL expression, e.g. `quantity > 0 AND status <> 'void'`; quote column names with special characters in double quotes"),
                );
                None
            }
        }
    }

    /// Decodes the whole file.
    pub fn config(&mut self, root: &Node, file_base: &Path) -> Option<ConfigParts> {
        let top = self.map(
            root,
            "the config file",
            "start the file with `version: 1` and a `datasets:` mapping",
        )?;
        self.check_keys(top, TOP_KEYS, "the config file");
        let mut version = 1;
        if let Some(v) = get(top, "version") {
            match v.value {
                Value::Int(1) => {}
                Value::Int(n) => {
                    self.err(
                        Diagnostic::error(v.span, format!("unsupported config version {n}"))
                            .label("unsupported")
                            .help("this sluice reads `version: 1`"),
                    );
                    version = n as u32;
                }
                _ => self.type_error(v, "`version`", "the number 1", None),
            }
        }
        let defaults = get(top, "defaults")
            .map(|d| self.defaults(d))
            .unwrap_or_default();
        if let Some(n) = get(top, "storage") {
            self.storage_prefixes = self.storage_prefixes(n);
        }
        let mut datasets = Vec::new();
        match get(top, "datasets") {
            None => self.missing(
                Span::on_line(root.span.start, 1),
                "datasets",
                "the config file",
                "add a `datasets:` mapping: each key a dataset name, with a `path:` and `checks:`",
            ),
            Some(node) => {
                if let Some(entries) =
                    self.map(node, "`datasets`", "map each dataset name to its settings")
                {
                    if entries.is_empty() {
                        self.err(
                            Diagnostic::error(node.span, "`datasets` is empty")
                                .help("define at least one dataset with a `path:`"),
                        );
                    }
                    for (name, body) in entries {
                        if let Some(ds) = self.dataset(name, body, &defaults, file_base) {
                            datasets.push(ds);
                        }
                    }
                }
            }
        }
        self.cross_check(&mut datasets);
        self.storage_per_bucket(&datasets);
        let mut reconciles = Vec::new();
        if let Some(node) = get(top, "reconcile") {
            self.reconciles(node, &defaults, None, &mut reconciles);
        }
        let stages = match get(top, "stages") {
            Some(node) => self.stages(node, &defaults, &mut reconciles, file_base),
            None => Vec::new(),
        };
        let exposures = match get(top, "exposures") {
            Some(node) => self.exposures(node),
            None => Vec::new(),
        };
        let lineage = match get(top, "lineage") {
            Some(node) => self.lineage(node, file_base, &datasets),
            None => LineageSources::default(),
        };
        let state = get(top, "state").and_then(|n| self.state(n, file_base));
        let quarantine = get(top, "quarantine")
            .and_then(|n| self.string(n, "`quarantine`"))
            .map_or_else(
                || file_base.join("quarantine"),
                |q| normalize_path(&file_base.join(q)),
            );
        let history = get(top, "history")
            .map(|n| self.history_policy(n))
            .unwrap_or_default();
        let notify = get(top, "notify")
            .map(|n| self.notify(n, file_base, &datasets))
            .unwrap_or_default();
        let openlineage = get(top, "openlineage")
            .map(|n| self.openlineage(n, file_base))
            .unwrap_or_default();
        let serve = get(top, "serve").map(|n| self.serve(n)).unwrap_or_default();
        let engine = get(top, "engine").and_then(|n| self.engine(n));
        self.check_pipeline(&datasets, &stages, &reconciles);
        self.check_lineage(&datasets, &exposures);
        Some(ConfigParts {
            version,
            defaults,
            datasets,
            stages,
            reconciles,
            exposures,
            lineage,
            state,
            quarantine,
            history,
            notify,
            openlineage,
            serve,
            engine,
        })
    }

    /// `engine: datafusion | ballista://HOST:PORT`.
    fn engine(&mut self, node: &Node) -> Option<crate::Engine> {
        let text = self.string(node, "`engine`")?;
        match crate::Engine::parse(&text) {
            Ok(e) => Some(e),
            Err(why) => {
                self.err(
                    Diagnostic::error(node.span, why)
                        .label("not an engine")
                        .help("`engine: datafusion` runs the queries in this process (the default); `engine: ballista://scheduler:50050` runs them on a Ballista cluster (a sluice built with `--features ballista`)".to_string()),
                );
                None
            }
        }
    }

    /// `serve: { token_env: NAME }`.
    fn serve(&mut self, node: &Node) -> ServeSettings {
        let mut s = ServeSettings::default();
        let Some(e) = self.map(
            node,
            "`serve`",
            "e.g. `serve: { token_env: SLUICE_PROD_TOKEN }`",
        ) else {
            return s;
        };
        self.check_keys(e, &["token_env"], "`serve`");
        if let Some(n) = get(e, "token_env")
            && let Some(name) = self.string(n, "`token_env`")
        {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                self.err(
                    Diagnostic::error(n.span, "`token_env` is not an environment variable name".to_string())
                        .label("not a variable name")
                        .help("name the variable that holds the token, e.g. `token_env: SLUICE_PROD_TOKEN` (letters, digits and _), not the token itself".to_string()),
                );
            } else {
                s.token_env = Some(name);
            }
        }
        s
    }

    fn defaults(&mut self, node: &Node) -> Defaults {
        let mut d = Defaults::default();
        let Some(entries) = self.map(
            node,
            "`defaults`",
            "e.g. `defaults: { severity: error, samples: 5 }`",
        ) else {
            return d;
        };
        self.check_keys(entries, DEFAULTS_KEYS, "`defaults`");
        if let Some(b) = get(entries, "breaker") {
            d.breaker = self.breaker(b, d.breaker);
        }
        if let Some(s) = get(entries, "severity").and_then(|n| self.severity(n)) {
            d.severity = s;
        }
        if let Some(n) = get(entries, "samples").and_then(|n| self.samples(n)) {
            d.samples = n;
        }
        d
    }

    fn severity(&mut self, node: &Node) -> Option<Severity> {
        let s = self.string(node, "`severity`")?;
        match s.as_str() {
            "error" => Some(Severity::Error),
            "warn" | "warning" => Some(Severity::Warn),
            other => {
                let help = hint(other, ["error", "warn"]).unwrap_or_else(|| {
                    "use `error` (fails the run) or `warn` (reported, the run passes)".into()
                });
                self.err(
                    Diagnostic::error(node.span, format!("unknown severity `{other}`"))
                        .label("expected `error` or `warn`")
                        .help(help),
                );
                None
            }
        }
    }

    fn samples(&mut self, node: &Node) -> Option<u32> {
        let n = self.uint(node, "`samples`")?;
        if n > 10_000 {
            self.err(
                Diagnostic::error(node.span, "`samples` is at most 10000")
                    .label("too many")
                    .help("samples are examples for a person to read; keep a handful"),
            );
            return None;
        }
        Some(n as u32)
    }

    /// A dataset's `path:` (a local path or an object-store URL), or why not (reported).
    fn dataset_path(&mut self, entries: &Entries, name_node: &Node, what: &str) -> Option<String> {
        match get(entries, "path") {
            Some(p) => self
                .string(p, "`path`")
                .and_then(|s| self.path_or_url(p, s, "`path`")),
            None => {
                // `pth:` already got "did you mean `path`?"; don't say it twice.
                let misspelt = entries
                    .iter()
                    .any(|(k, _)| did_you_mean(k.key(), ["path"]).is_some());
                if !misspelt {
                    self.missing(
                    name_node.span,
                    "path",
                    what,
                    "add `path:` with a file, a folder or a glob, e.g. `path: data/orders.parquet`",
                );
                }
                None
            }
        }
    }

    /// A dataset's `checks:` and `parity:` lists.
    fn dataset_checks(
        &mut self,
        entries: &Entries,
        defaults: &Defaults,
    ) -> (Vec<Check>, Vec<Parity>) {
        let mut checks = Vec::new();
        if let Some(list) = get(entries, "checks") {
            match &list.value {
                Value::Seq(items) => {
                    for item in items {
                        self.check(item, defaults, &mut checks);
                    }
                }
                Value::Null => {}
                _ => self.type_error(
                    list,
                    "`checks`",
                    "a list",
                    Some("write each check as a list item: `- not_null: order_id`".into()),
                ),
            }
        }
        let mut parity = Vec::new();
        if let Some(list) = get(entries, "parity") {
            match &list.value {
                Value::Seq(items) => {
                    for item in items {
                        if let Some(p) = self.parity(item, defaults) {
                            parity.push(p);
                        }
                    }
                }
                Value::Map(_) => {
                    if let Some(p) = self.parity(list, defaults) {
                        parity.push(p);
                    }
                }
                _ => self.type_error(
                    list,
                    "`parity`",
                    "a list",
                    Some("write each comparison as a list item: `- against: orders_raw`".into()),
                ),
            }
        }
        (checks, parity)
    }

    /// One dataset under `datasets:`: every key decoded, every mistake reported. A dataset
    /// without a valid path is still returned, for the checks across the file.
    ///
    /// Long because a dataset has many keys: each is decoded where it is read (a line or a
    /// few each), in file order; the lists and the path have functions of their own.
    fn dataset(
        &mut self,
        name_node: &Node,
        body: &Node,
        defaults: &Defaults,
        base: &Path,
    ) -> Option<Dataset> {
        let name = name_node.key().to_string();
        let valid_name = !name.is_empty()
            && name.starts_with(|c: char| c.is_alphabetic() || c == '_')
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid_name {
            self.err(
                Diagnostic::error(
                    name_node.span,
                    format!("`{name}` is not a valid dataset name"),
                )
                .label("invalid name")
                .help("start with a letter or `_`; use letters, digits, `_`, `-` and `.`"),
            );
        }
        let what = format!("dataset `{name}`");
        let entries = self.map(body, &what, "give the dataset a `path:` and `checks:`")?;
        self.check_keys(entries, DATASET_KEYS, &what);
        let path = self.dataset_path(entries, name_node, &what);
        let format = get(entries, "format").and_then(|n| self.format(n));
        let csv = match get(entries, "csv") {
            Some(n) => {
                if format.is_some_and(|f| f != Format::Csv) {
                    self.err(
                        Diagnostic::error(n.span, "`csv` options on a dataset that is not CSV")
                            .label("only for CSV")
                            .help("remove `csv:` or set `format: csv`"),
                    );
                }
                self.csv(n)
            }
            None => CsvOptions::default(),
        };
        let partitions = get(entries, "partitions")
            .and_then(|n| self.partitions(n))
            .unwrap_or_default();
        let key = get(entries, "key")
            .and_then(|n| self.strings(n, "`key`"))
            .unwrap_or_default();
        let owner = get(entries, "owner").and_then(|n| self.text(n, "`owner`"));
        let description = get(entries, "description").and_then(|n| self.text(n, "`description`"));
        let tags = get(entries, "tags")
            .and_then(|n| self.strings(n, "`tags`"))
            .unwrap_or_default();
        let tier = get(entries, "tier").and_then(|n| {
            let t = self.uint(n, "`tier`")?;
            if (1..=255).contains(&t) {
                Some(t as u8)
            } else {
                self.err(
                    Diagnostic::error(n.span, "`tier` must be at least 1")
                        .label("out of range")
                        .help("tier 1 is the most critical; use 1, 2, 3..."),
                );
                None
            }
        });
        let (checks, parity) = self.dataset_checks(entries, defaults);
        let staging = get(entries, "staging").and_then(|n| {
            let s = self.string(n, "`staging`")?;
            let s = self.path_or_url(n, s, "`staging`")?;
            Some(if crate::storage::remote_scheme(&s).is_some() {
                std::path::PathBuf::from(s)
            } else {
                normalize_path(&base.join(s))
            })
        });
        let storage = crate::StorageRules {
            prefixes: self.storage_prefixes.clone(),
            own: get(entries, "storage")
                .and_then(|n| self.storage_options(n, &format!("`storage` of {what}"))),
        };
        let keep_versions = match get(entries, "keep_versions") {
            Some(n) => match self.uint(n, "`keep_versions`") {
                Some(k) if (1..=1000).contains(&k) => k as u32,
                Some(_) => {
                    self.err(
                        Diagnostic::error(n.span, "`keep_versions` must be between 1 and 1000")
                            .label("out of range")
                            .help("the current version always stays; 5 keeps it and the 4 before it for `sluice publish --rollback`"),
                    );
                    5
                }
                None => 5,
            },
            None => 5,
        };
        let breaker = match get(entries, "breaker") {
            Some(n) => self.breaker(n, defaults.breaker),
            None => defaults.breaker,
        };
        let delta = self.delta_options(entries, format);
        // A dataset without a valid path is still returned (its checks take part in the
        // cross-file checks); the error already reported keeps the config from being used.
        let path = path.unwrap_or_default();
        let location = if crate::storage::remote_scheme(&path).is_some() {
            std::path::PathBuf::from(&path)
        } else {
            let p = Path::new(path.strip_prefix("file://").unwrap_or(&path));
            if p.is_absolute() {
                normalize_path(p)
            } else {
                normalize_path(&base.join(p))
            }
        };
        if let (Some(st), Some(node), false) = (&staging, get(entries, "staging"), path.is_empty())
        {
            self.staging_apart(node, st, &location);
        }
        Some(Dataset {
            name,
            span: name_node.span,
            path,
            location,
            format,
            csv,
            partitions,
            key,
            owner,
            tier,
            description,
            tags,
            checks,
            parity,
            breaker,
            staging,
            keep_versions,
            storage,
            delta,
        })
    }

    /// `version:`, `timestamp:` (time travel, one of them) and `delta_mode:`, only with
    /// `format: delta`.
    fn delta_options(&mut self, entries: &Entries, format: Option<Format>) -> DeltaOptions {
        let mut out = DeltaOptions::default();
        let is_delta = format == Some(Format::Delta);
        let version = get(entries, "version");
        let timestamp = get(entries, "timestamp");
        for (key, node) in [
            ("version", version),
            ("timestamp", timestamp),
            ("delta_mode", get(entries, "delta_mode")),
        ] {
            if let (Some(n), false) = (node, is_delta) {
                self.err(
                    Diagnostic::error(n.span, format!("`{key}` on a dataset that is not a Delta table"))
                        .label("only with `format: delta`")
                        .help(format!("`{key}` applies to Delta Lake tables: add `format: delta` if `path` is one, or remove `{key}`")),
                );
            }
        }
        if let Some(n) = version {
            out.at = self.uint(n, "`version`").map(TimeTravel::Version);
        }
        if let Some(n) = timestamp {
            out.at = self.delta_timestamp(n).map(TimeTravel::Timestamp);
        }
        if let (Some(_), Some(t)) = (version, timestamp) {
            self.err(
                Diagnostic::error(t.span, "`version` and `timestamp` both given")
                    .label("one or the other")
                    .help("time travel reads one version of the table: keep `version: N` or `timestamp: ...`, not both"),
            );
        }
        if let Some(n) = get(entries, "delta_mode") {
            let s = self.string(n, "`delta_mode`").unwrap_or_default();
            match s.to_ascii_lowercase().as_str() {
                "append" => out.mode = DeltaMode::Append,
                "overwrite" => out.mode = DeltaMode::Overwrite,
                other => {
                    let names = ["append", "overwrite"];
                    let help = hint(other, names)
                        .unwrap_or_else(|| format!("use one of {}", list(&names)));
                    self.err(
                        Diagnostic::error(n.span, format!("unknown `delta_mode` `{other}`"))
                            .label("unknown mode")
                            .help(help),
                    );
                }
            }
        }
        out
    }

    /// `timestamp:` of a Delta table: RFC 3339 with a zone (`2026-11-30T12:00:00Z`), or a
    /// date (its midnight UTC).
    fn delta_timestamp(&mut self, node: &Node) -> Option<String> {
        let s = self.string(node, "`timestamp`")?;
        let full = if s.len() == 10 {
            format!("{s}T00:00:00Z")
        } else {
            s.clone()
        };
        let shape = regex::Regex::new(
            r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
        )
        .expect("valid regex");
        let problem = if !shape.is_match(&full) {
            Some(format!("`{s}` is not a timestamp with a zone"))
        } else {
            crate::date::impossible(&full)
        };
        match problem {
            Some(why) => {
                self.err(
                    Diagnostic::error(node.span, why)
                        .label("not an RFC 3339 timestamp")
                        .help("write the instant with its zone, e.g. `timestamp: 2026-11-30T12:00:00Z` (or a date, `2026-11-30`, for its midnight UTC)"),
                );
                None
            }
            None => Some(full),
        }
    }

    /// `staging:` must be apart from `path:`: publishing moves the one to the other, so the
    /// same folder (or one inside the other) would publish into itself and leave a dangling
    /// link. Both are compared resolved (absolute, `.` and `..` folded), as written — not
    /// through symlinks: the published `path` is itself a link.
    fn staging_apart(&mut self, node: &Node, staging: &Path, path: &Path) {
        let (s, p) = (staging.display(), path.display());
        let problem = if staging == path {
            format!("`staging` is the same as `path`: both are {s}")
        } else if staging.starts_with(path) {
            format!("`staging` ({s}) is inside `path` ({p})")
        } else if path.starts_with(staging) {
            format!("`path` ({p}) is inside `staging` ({s})")
        } else {
            return;
        };
        self.err(
            Diagnostic::error(node.span, problem)
                .label("must be apart from `path`")
                .help("the producing job writes to `staging:` and `sluice publish` moves its data to `path:`; give them separate folders, e.g. `path: published/forecast/` and `staging: staging/forecast/`"),
        );
    }

    fn format(&mut self, node: &Node) -> Option<Format> {
        let s = self.string(node, "`format`")?;
        let f = match s.to_ascii_lowercase().as_str() {
            "parquet" => Format::Parquet,
            "csv" | "tsv" => Format::Csv,
            "json" | "ndjson" | "jsonl" => Format::Json,
            "arrow" | "ipc" | "feather" => Format::Arrow,
            "delta" | "deltalake" | "delta_lake" => Format::Delta,
            "iceberg" => {
                self.err(
                    Diagnostic::error(node.span, "`format: iceberg` is not supported yet")
                        .label("no Iceberg reader")
                        .help(ICEBERG_HELP),
                );
                return None;
            }
            other => {
                let names = ["parquet", "csv", "json", "arrow", "delta"];
                let help =
                    hint(other, names).unwrap_or_else(|| format!("use one of {}", list(&names)));
                self.err(
                    Diagnostic::error(node.span, format!("unknown format `{other}`"))
                        .label("unknown format")
                        .help(help),
                );
                return None;
            }
        };
        Some(f)
    }

    fn one_char(&mut self, node: &Node, what: &str) -> Option<u8> {
        let s = match &node.value {
            Value::Str(s) => s.clone(),
            _ => {
                self.type_error(node, what, "a single character", None);
                return None;
            }
        };
        let s = match s.as_str() {
            "\\t" | "tab" => "\t".to_string(),
            _ => s,
        };
        if s.len() == 1 {
            Some(s.as_bytes()[0])
        } else {
            self.err(
                Diagnostic::error(node.span, format!("{what} must be one ASCII character"))
                    .label("not one character")
                    .help("e.g. `\",\"`, `\";\"`, `\"|\"` or `\"\\t\"` for tab"),
            );
            None
        }
    }

    fn csv(&mut self, node: &Node) -> CsvOptions {
        let mut o = CsvOptions::default();
        let Some(entries) = self.map(
            node,
            "`csv`",
            "e.g. `csv: { header: true, delimiter: \";\" }`",
        ) else {
            return o;
        };
        self.check_keys(entries, CSV_KEYS, "`csv`");
        if let Some(b) = get(entries, "header").and_then(|n| self.boolean(n, "`header`")) {
            o.header = b;
        }
        if let Some(n) = get(entries, "delimiter") {
            o.delimiter = self.one_char(n, "`delimiter`");
        }
        if let Some(q) = get(entries, "quote").and_then(|n| self.one_char(n, "`quote`")) {
            o.quote = q;
        }
        if let Some(n) = get(entries, "null_value") {
            o.null_value = match &n.value {
                Value::Str(s) => Some(s.clone()),
                _ => {
                    self.type_error(n, "`null_value`", "a string", None);
                    None
                }
            };
        }
        o
    }

    fn partitions(&mut self, node: &Node) -> Option<Partitioning> {
        match &node.value {
            Value::Str(s) if s == "auto" => Some(Partitioning::Auto),
            Value::Str(s) if s == "none" => Some(Partitioning::None),
            Value::Bool(false) => Some(Partitioning::None),
            Value::Seq(_) => self.strings(node, "`partitions`").map(|names| {
                Partitioning::Columns(names.into_iter().map(|n| (n, ColumnType::String)).collect())
            }),
            Value::Map(entries) => {
                let mut cols = Vec::new();
                for (k, v) in entries {
                    if let Some(t) = self.column_type(v) {
                        cols.push((k.key().to_string(), t));
                    }
                }
                Some(Partitioning::Columns(cols))
            }
            _ => {
                self.type_error(
                    node,
                    "`partitions`",
                    "`auto`, `none`, a list of column names or a mapping of name to type",
                    Some("e.g. `partitions: { dt: date, region: string }` for folders like `dt=2025-01-01/region=eu/`".into()),
                );
                None
            }
        }
    }

    fn column_type(&mut self, node: &Node) -> Option<ColumnType> {
        let s = self.string(node, "a column type")?;
        match ColumnType::parse(&s) {
            Some(t) => Some(t),
            None => {
                let help = hint(&s, COLUMN_TYPES.iter().copied())
                    .unwrap_or_else(|| format!("known types: {}", COLUMN_TYPES.join(", ")));
                self.err(
                    Diagnostic::error(node.span, format!("unknown column type `{s}`"))
                        .label("unknown type")
                        .help(help),
                );
                None
            }
        }
    }

    /// Decodes one list item under `checks:`; may push several checks (multi-column not_null).
    fn check(&mut self, item: &Node, defaults: &Defaults, out: &mut Vec<Check>) {
        let shape_help = "write a check as `- kind: column` or `- kind: { option: value, ... }`, e.g. `- not_null: order_id`";
        let (kind_node, body) = match &item.value {
            Value::Str(_) => (item, None),
            Value::Map(entries) if entries.len() == 1 => (&entries[0].0, Some(&entries[0].1)),
            Value::Map(entries) if entries.is_empty() => {
                self.err(Diagnostic::error(item.span, "empty check").help(shape_help));
                return;
            }
            Value::Map(entries) => {
                let first = entries[0].0.key();
                let keys: Vec<&str> = entries.iter().map(|(k, _)| k.key()).collect();
                let help = if Kind::parse(first).is_some() {
                    format!(
                        "a check is one `kind: options` pair; put the other keys inside its options: `- {first}: {{ ..., {}: ... }}`",
                        keys[1]
                    )
                } else {
                    shape_help.to_string()
                };
                self.err(
                    Diagnostic::error(
                        entries[1].0.span,
                        format!("a check has one kind, found several keys: {}", list(&keys)),
                    )
                    .label("second key")
                    .help(help),
                );
                return;
            }
            _ => {
                self.type_error(
                    item,
                    "a check",
                    "a mapping like `not_null: order_id`",
                    Some(shape_help.into()),
                );
                return;
            }
        };
        let name = kind_node.key();
        let Some(kind) = Kind::parse(name) else {
            let help = hint(name, kinds::names()).unwrap_or_else(|| {
                format!(
                    "check kinds are: {}",
                    kinds::names().collect::<Vec<_>>().join(", ")
                )
            });
            self.err(
                Diagnostic::error(kind_node.span, format!("unknown check kind `{name}`"))
                    .label("unknown check kind")
                    .help(help),
            );
            return;
        };
        let (specific, class) = (kind.info().options, kind.info().thresholds);
        // Normalise the body to option entries plus a shorthand value.
        let empty: Vec<(Node, Node)> = Vec::new();
        let mut shorthand: Option<&Node> = None;
        let entries: &Entries = match body.map(|b| &b.value) {
            None | Some(Value::Null) => &empty,
            Some(Value::Map(m)) => m,
            Some(Value::Str(_) | Value::Seq(_)) => {
                shorthand = body;
                &empty
            }
            Some(_) => {
                self.type_error(
                    body.unwrap(),
                    &format!("the options of `{kind}`"),
                    "a column name, a list or a mapping",
                    Some(shape_help.into()),
                );
                return;
            }
        };
        let what = format!("a `{kind}` check");
        let mut allowed: Vec<&str> = COMMON_CHECK_KEYS.to_vec();
        allowed.extend_from_slice(specific);
        allowed.extend_from_slice(class.keys());
        self.check_keys(entries, &allowed, &what);
        let at = item.span;

        let severity = get(entries, "severity")
            .and_then(|n| self.severity(n))
            .unwrap_or(defaults.severity);
        let samples = get(entries, "samples")
            .and_then(|n| self.samples(n))
            .unwrap_or(defaults.samples);
        let filter = get(entries, "where").and_then(|n| self.sql_expr(n, "`where`"));
        let explicit_name = get(entries, "name").and_then(|n| self.text(n, "`name`"));
        let after = get(entries, "after")
            .map(|n| self.after(n))
            .unwrap_or_default();

        let (warn, fail) = self.zones(kind, entries, severity, at, &what);

        let Some(kinds) = self.kind_options(kind, shorthand, entries, at) else {
            return;
        };
        if kinds.len() > 1 && explicit_name.is_some() {
            self.err(
                Diagnostic::error(at, "`name` given to a check on several columns")
                    .label("expands to one check per column")
                    .help("each column becomes its own check named `not_null(column)`; split the list to name them"),
            );
            return;
        }
        for k in kinds {
            let name = explicit_name.clone().unwrap_or_else(|| default_name(&k));
            let mut fail = fail.as_ref().map(|(t, _)| t.clone());
            let mut warn = warn.as_ref().map(|(t, _)| t.clone());
            // The default score depends on the method, known only now.
            if let CheckKind::Anomaly(a) = &k
                && ["max_score", "warn", "fail"]
                    .iter()
                    .all(|key| get(entries, key).is_none())
            {
                let t = Some(Threshold::MaxScore(a.method.default_max_score()));
                match severity {
                    Severity::Error => fail = t,
                    Severity::Warn => warn = t,
                }
            }
            out.push(Check {
                name,
                kind: k,
                severity,
                filter: filter.clone(),
                samples,
                fail,
                warn,
                after: after.clone(),
                span: at,
            });
        }
    }

    /// `after:` — a check name or a list of them, each kept with where it is written
    /// (whether they exist is checked with the whole dataset, in [`Self::cross_check`]).
    fn after(&mut self, node: &Node) -> Vec<Prerequisite> {
        let help = "name checks of the same dataset, e.g. `after: [schema, \"not_null(region)\"]`";
        let items: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            Value::Str(_) => vec![node],
            _ => {
                self.type_error(
                    node,
                    "`after`",
                    "a name or a list of names",
                    Some(help.into()),
                );
                return vec![];
            }
        };
        if items.is_empty() {
            self.err(
                Diagnostic::error(node.span, "`after` is an empty list")
                    .label("empty")
                    .help(format!("{help}, or remove `after:`")),
            );
        }
        let mut out: Vec<Prerequisite> = Vec::new();
        for item in items {
            let Some(name) = self.text(item, "each entry of `after`") else {
                continue;
            };
            if !out.iter().any(|p| p.name == name) {
                out.push(Prerequisite {
                    name,
                    span: item.span,
                });
            }
        }
        out
    }

    /// A check's thresholds, as its fail and warn zones: the top-level ones fill the zone of
    /// its severity, `warn:` and `fail:` their own; none gives the kind's default. Each
    /// zone keeps where it was written.
    #[allow(clippy::type_complexity)]
    fn zones(
        &mut self,
        kind: Kind,
        entries: &Entries,
        severity: Severity,
        at: Span,
        what: &str,
    ) -> (Option<(Threshold, Span)>, Option<(Threshold, Span)>) {
        let class = kind.info().thresholds;
        // Thresholds: top level, `warn:`, `fail:`.
        let top = self.threshold(class, entries, kind, at);
        let mut thresholds_invalid = top.is_none();
        let mut zone = |d: &mut Self, key: &str| -> Option<(Threshold, Span)> {
            let n = get(entries, key)?;
            if class == ThresholdClass::Exact {
                d.err(
                    Diagnostic::error(n.span, format!("{what} takes no thresholds"))
                        .label("not allowed")
                        .help("any mismatch fails it; use `severity: warn` to only warn"),
                );
                return None;
            }
            let inner = d.map(
                n,
                &format!("`{key}`"),
                &format!(
                    "e.g. `{key}: {{ {}: ... }}`",
                    class.keys().first().unwrap_or(&"max_invalid")
                ),
            )?;
            d.check_keys(inner, class.keys(), &format!("`{key}` of {what}"));
            let Some(t) = d.threshold(class, inner, kind, n.span) else {
                thresholds_invalid = true;
                return None;
            };
            if t.is_none() {
                d.err(
                    Diagnostic::error(n.span, format!("`{key}` has no threshold"))
                        .help(format!("give one of {}", list(class.keys()))),
                );
            }
            t.map(|t| (t, n.span))
        };
        let mut warn = zone(self, "warn");
        let mut fail = zone(self, "fail");
        let top = top.flatten();
        if let Some(t) = top {
            let (slot, key) = match severity {
                Severity::Error => (&mut fail, "fail"),
                Severity::Warn => (&mut warn, "warn"),
            };
            if let Some((_, sp)) = slot {
                self.err(
                    Diagnostic::error(
                        *sp,
                        format!("thresholds given both at the top of the check and under `{key}:`"),
                    )
                    .label("second threshold for the same zone")
                    .help(format!(
                        "move the top-level thresholds into `{key}:` (or the other zone)"
                    )),
                );
            } else {
                *slot = Some((t, at));
            }
        }
        if severity == Severity::Warn
            && let Some((_, sp)) = fail
        {
            self.err(
                Diagnostic::error(
                    sp,
                    "a check with `severity: warn` cannot have a `fail:` zone",
                )
                .label("never applies")
                .help("remove `severity: warn`, or turn `fail:` into `warn:`"),
            );
        }
        if warn.is_none() && fail.is_none() && !thresholds_invalid {
            let default = self.default_threshold(kind, at);
            match severity {
                Severity::Error => fail = default.map(|t| (t, at)),
                Severity::Warn => warn = default.map(|t| (t, at)),
            }
        }
        (warn, fail)
    }

    /// The threshold of a check that gives none: no failing row, a `row_count` of at least
    /// one, a `schema` that matches; a `metric` or `freshness` check must give one.
    fn default_threshold(&mut self, kind: Kind, at: Span) -> Option<Threshold> {
        match kind.info().thresholds {
            ThresholdClass::Invalid => Some(Threshold::Invalid {
                max_count: Some(0),
                max_pct: None,
            }),
            ThresholdClass::Exact => Some(Threshold::Exact),
            ThresholdClass::Limits(keys) => self.default_limits(kind, keys, at),
            ThresholdClass::Bounds if kind == Kind::RowCount => Some(Threshold::Bounds {
                min: Some(1.0),
                max: None,
                equals: None,
            }),
            ThresholdClass::Bounds => {
                self.err(Diagnostic::error(at, "a `metric` check needs a threshold").label("no threshold").help("add `min`, `max`, `between: [lo, hi]` or `equals`, or `warn:`/`fail:` zones"));
                None
            }
            ThresholdClass::Score => Some(Threshold::MaxScore(
                crate::history::AnomalyMethod::Mad.default_max_score(),
            )),
            ThresholdClass::Change => {
                self.err(
                    Diagnostic::error(at, "a `change` check needs a threshold")
                        .label("no threshold")
                        .help("e.g. `between_pct: [-20, 20]` (at most 20 % either way), `max_pct: 50`, or `min`/`max`/`between` on the change itself"),
                );
                None
            }
            ThresholdClass::MaxAge => {
                self.err(
                    Diagnostic::error(at, "a `freshness` check needs `max_age`")
                        .label("no max_age")
                        .help("e.g. `- freshness: { column: created_at, max_age: 6h }`"),
                );
                None
            }
        }
    }

    /// A lower and an upper bound under `keys` (`[min, max, between]`): each alone, or
    /// `between: [lo, hi]`, the lower not above the upper. `None` when invalid (reported),
    /// else the bounds given (`unit` follows the numbers in messages: `%`).
    pub(super) fn min_max(
        &mut self,
        entries: &Entries,
        keys: [&str; 3],
        example: &str,
        unit: &str,
    ) -> Option<(Option<f64>, Option<f64>)> {
        let [min_key, max_key, between_key] = keys;
        let mut min =
            get(entries, min_key).map(|n| (self.number(n, &format!("`{min_key}`")), n.span));
        let mut max =
            get(entries, max_key).map(|n| (self.number(n, &format!("`{max_key}`")), n.span));
        if let Some(b) = get(entries, between_key) {
            if min.is_some() || max.is_some() {
                self.err(
                    Diagnostic::error(
                        b.span,
                        format!("`{between_key}` together with `{min_key}`/`{max_key}`"),
                    )
                    .help(format!(
                        "use either `{between_key}: [lo, hi]` or `{min_key}`/`{max_key}`"
                    )),
                );
                return None;
            }
            match &b.value {
                Value::Seq(v) if v.len() == 2 => {
                    let what = |end| format!("the {end} bound of `{between_key}`");
                    min = Some((self.number(&v[0], &what("lower")), v[0].span));
                    max = Some((self.number(&v[1], &what("upper")), v[1].span));
                }
                _ => {
                    self.type_error(
                        b,
                        &format!("`{between_key}`"),
                        "a list of two numbers",
                        Some(example.into()),
                    );
                    return None;
                }
            }
        }
        let lo = match min {
            Some((v, _)) => Some(v?),
            None => None,
        };
        let hi = match max {
            Some((v, sp)) => Some((v?, sp)),
            None => None,
        };
        if let (Some(l), Some((h, sp))) = (lo, hi)
            && l > h
        {
            self.err(
                Diagnostic::error(
                    sp,
                    format!(
                        "the upper bound {}{unit} is below the lower bound {}{unit}",
                        num(h),
                        num(l)
                    ),
                )
                .label("below the lower bound")
                .help("swap the bounds"),
            );
            return None;
        }
        Some((lo, hi.map(|(h, _)| h)))
    }

    /// `min`, `max`, `between`, `equals`: `Some(None)` when there are none, `None` when
    /// they are invalid (already reported).
    fn bounds(&mut self, entries: &Entries, kind: Kind, at: Span) -> Option<Option<Threshold>> {
        let equals = get(entries, "equals").map(|n| self.number(n, "`equals`"));
        let (lo, hi) = self.min_max(
            entries,
            ["min", "max", "between"],
            "e.g. `between: [1000, 5000]`",
            "",
        )?;
        if lo.is_none() && hi.is_none() && equals.is_none() {
            return Some(None);
        }
        if equals.is_some() && (lo.is_some() || hi.is_some()) {
            self.err(
                Diagnostic::error(at, "`equals` together with `min`/`max`/`between`")
                    .help("`equals` alone already fixes the value"),
            );
            return None;
        }
        let eq = match equals {
            Some(v) => Some(v?),
            None => None,
        };
        if kind == Kind::RowCount
            && (lo.is_some_and(|v| v < 0.0)
                || hi.is_some_and(|v| v < 0.0)
                || eq.is_some_and(|v| v < 0.0))
        {
            self.err(
                Diagnostic::error(at, "a row count bound is negative")
                    .help("row counts are 0 or more"),
            );
            return None;
        }
        Some(Some(Threshold::Bounds {
            min: lo,
            max: hi,
            equals: eq,
        }))
    }

    /// Threshold keys of `class` found in `entries`: `Some(None)` when there are none,
    /// `None` when they are invalid (already reported).
    fn threshold(
        &mut self,
        class: ThresholdClass,
        entries: &Entries,
        kind: Kind,
        at: Span,
    ) -> Option<Option<Threshold>> {
        match class {
            ThresholdClass::Bounds => self.bounds(entries, kind, at),
            ThresholdClass::Invalid => {
                let count = get(entries, "max_invalid").map(|n| self.uint(n, "`max_invalid`"));
                let pct = get(entries, "max_invalid_pct").map(|n| {
                    let v = self.number(n, "`max_invalid_pct`")?;
                    if (0.0..=100.0).contains(&v) {
                        Some(v)
                    } else {
                        self.err(
                            Diagnostic::error(
                                n.span,
                                "`max_invalid_pct` is a percentage from 0 to 100",
                            )
                            .label("out of range")
                            .help("e.g. `max_invalid_pct: 0.5` for half a percent"),
                        );
                        None
                    }
                });
                if count.is_none() && pct.is_none() {
                    return Some(None);
                }
                let max_count = match count {
                    Some(c) => Some(c?),
                    None => None,
                };
                let max_pct = match pct {
                    Some(p) => Some(p?),
                    None => None,
                };
                Some(Some(Threshold::Invalid { max_count, max_pct }))
            }
            ThresholdClass::MaxAge => match get(entries, "max_age") {
                None => Some(None),
                Some(n) => {
                    let parsed = match &n.value {
                        Value::Str(s) => duration::parse(s),
                        Value::Int(i) if *i >= 0 => duration::from_secs(*i as u64, &i.to_string()),
                        _ => {
                            self.err(
                                Diagnostic::error(
                                    n.span,
                                    format!(
                                        "`max_age` must be a duration like `6h`, found {}",
                                        n.type_name()
                                    ),
                                )
                                .label("not a duration")
                                .help("units: s, m, h, d, w; e.g. `max_age: 6h`"),
                            );
                            return None;
                        }
                    };
                    match parsed {
                        Ok(d) => Some(Some(Threshold::MaxAge(d))),
                        Err(e) => {
                            let label = match e {
                                DurationError::TooLong { .. } => "too long",
                                _ => "not a duration",
                            };
                            let help = match e {
                                DurationError::TooLong { .. } => {
                                    "a freshness window is hours or days; e.g. `max_age: 6h`"
                                }
                                _ => "units: s, m, h, d, w; e.g. `max_age: 6h`",
                            };
                            self.err(
                                Diagnostic::error(n.span, e.to_string())
                                    .label(label)
                                    .help(help),
                            );
                            None
                        }
                    }
                }
            },
            ThresholdClass::Exact => Some(None),
            ThresholdClass::Change => self.change_threshold(entries, at),
            ThresholdClass::Score => self.score_threshold(entries),
            ThresholdClass::Limits(keys) => self.limits(entries, keys),
        }
    }

    /// Decodes the kind-specific options into one or more [`CheckKind`]s: the simple kinds
    /// here, the others in a method each.
    fn kind_options(
        &mut self,
        k: Kind,
        shorthand: Option<&Node>,
        e: &Entries,
        at: Span,
    ) -> Option<Vec<CheckKind>> {
        let o = Opts {
            k,
            shorthand,
            e,
            at,
        };
        Some(match k {
            Kind::RowCount => {
                if let Some(s) = shorthand {
                    self.type_error(
                        s,
                        "the options of `row_count`",
                        "a mapping of thresholds",
                        Some("e.g. `- row_count: { min: 1000 }`".into()),
                    );
                    return None;
                }
                vec![CheckKind::RowCount]
            }
            Kind::NotNull | Kind::Unique => self.columns_of(&o)?,
            Kind::AcceptedValues | Kind::ForbiddenValues => self.value_list(&o)?,
            Kind::Range => self.range(&o)?,
            Kind::Matches => self.matches(&o)?,
            Kind::Format => self.text_format(&o)?,
            Kind::Length => self.length(&o)?,
            Kind::Freshness => vec![CheckKind::Freshness {
                column: self.column(&o)?,
            }],
            Kind::Schema => self.schema_check(&o)?,
            Kind::RowsSatisfy => vec![CheckKind::RowsSatisfy {
                condition: self.sql_option(
                    &o,
                    "condition",
                    "the condition",
                    "e.g. `- rows_satisfy: { name: positive_qty, condition: \"quantity > 0\" }`",
                )?,
            }],
            Kind::Metric => {
                let sql = self.sql_option(&o, "sql", "the metric", "e.g. `- metric: { name: avg_amount, sql: \"avg(amount)\", between: [20, 80] }`");
                let group_by = match get(e, "group_by") {
                    Some(n) => self.strings(n, "`group_by`")?,
                    None => vec![],
                };
                vec![CheckKind::Metric {
                    sql: sql?,
                    group_by,
                }]
            }
            Kind::References => self.references(&o)?,
            Kind::Change => self.change(&o)?,
            Kind::Anomaly => self.anomaly(&o)?,
            Kind::Distribution => self.distribution(&o)?,
            Kind::WithinHistory => self.within_history(&o)?,
            Kind::ChangeVsPublished => self.change_vs_published(&o)?,
            Kind::ForecastAccuracy => self.forecast_accuracy(&o)?,
            Kind::Completeness => self.completeness(&o)?,
            Kind::QuantilesOrdered => self.quantiles_ordered(&o)?,
            Kind::NotConstant => self.not_constant(&o)?,
            Kind::IntervalContains => self.interval_contains(&o)?,
        })
    }

    /// `column`: from the shorthand string, or the `column` key.
    fn column(&mut self, o: &Opts<'_>) -> Option<String> {
        if let Some(s) = o.shorthand {
            return self.string(s, "the column");
        }
        match get(o.e, "column") {
            Some(n) => self.string(n, "`column`"),
            None => {
                let kind = o.k.name();
                self.missing(
                    o.at,
                    "column",
                    &o.what(),
                    &format!("e.g. `- {kind}: {{ column: amount, ... }}`"),
                );
                None
            }
        }
    }

    /// A SQL expression given as the shorthand or under `key` (`condition`, `sql`).
    fn sql_option(&mut self, o: &Opts<'_>, key: &str, what: &str, example: &str) -> Option<String> {
        match (o.shorthand, get(o.e, key)) {
            (Some(s), _) => self.sql_expr(s, what),
            (None, Some(n)) => self.sql_expr(n, &format!("`{key}`")),
            (None, None) => {
                self.missing(o.at, key, &o.what(), example);
                None
            }
        }
    }

    /// `not_null` (one check per column) and `unique` (one check, a composite key).
    fn columns_of(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        Some({
            let cols = match (o.shorthand, get(o.e, "column"), get(o.e, "columns")) {
                (Some(s), _, _) => self.strings(s, "the columns")?,
                (None, Some(_), Some(c)) => {
                    self.err(
                        Diagnostic::error(c.span, "both `column` and `columns`").help("use one"),
                    );
                    return None;
                }
                (None, Some(c), None) => vec![self.string(c, "`column`")?],
                (None, None, Some(c)) => self.strings(c, "`columns`")?,
                (None, None, None) => {
                    self.missing(
                        o.at,
                        "column",
                        &o.what(),
                        &format!("e.g. `- {}: order_id`", o.k.name()),
                    );
                    return None;
                }
            };
            if o.k == Kind::Unique {
                let nulls_equal = match get(o.e, "nulls") {
                    None => false,
                    Some(n) => match self.string(n, "`nulls`")?.as_str() {
                        "equal" => true,
                        "distinct" => false,
                        other => {
                            self.err(
                                Diagnostic::error(n.span, format!("`nulls` must be `equal` or `distinct`, found `{other}`"))
                                    .label("unknown value")
                                    .help("`nulls: equal` counts a NULL in a key column as a value (two rows with NULL there and the same other values are duplicates); `distinct` (the default) leaves rows with a NULL key out"),
                            );
                            return None;
                        }
                    },
                };
                vec![CheckKind::Unique {
                    columns: cols,
                    nulls_equal,
                }]
            } else {
                cols.into_iter()
                    .map(|column| CheckKind::NotNull { column })
                    .collect()
            }
        })
    }

    /// `accepted_values` and `forbidden_values`: a column and a non-empty list.
    fn value_list(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        Some({
            let column = self.column(o);
            let values = match get(o.e, "values") {
                Some(n) => match &n.value {
                    Value::Seq(items) if !items.is_empty() => {
                        let vals: Vec<Option<Literal>> = items
                            .iter()
                            .map(|i| self.literal(i, "each value"))
                            .collect();
                        vals.into_iter().collect::<Option<Vec<_>>>()
                    }
                    _ => {
                        self.type_error(
                            n,
                            "`values`",
                            "a non-empty list",
                            Some("e.g. `values: [placed, shipped]`".into()),
                        );
                        None
                    }
                },
                None => {
                    self.missing(
                        o.at,
                        "values",
                        &o.what(),
                        "e.g. `values: [placed, shipped, returned]`",
                    );
                    None
                }
            };
            let (column, values) = (column?, values?);
            if o.k == Kind::AcceptedValues {
                vec![CheckKind::AcceptedValues { column, values }]
            } else {
                vec![CheckKind::ForbiddenValues { column, values }]
            }
        })
    }

    /// `range`: a column, `min`, `max` (numbers or quoted dates), `inclusive`.
    fn range(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        Some({
            let column = self.column(o);
            let min = get(o.e, "min").map(|n| self.bound(n, "`min`"));
            let max = get(o.e, "max").map(|n| self.bound(n, "`max`"));
            let inclusive = get(o.e, "inclusive").map(|n| self.boolean(n, "`inclusive`"));
            if min.is_none() && max.is_none() {
                self.missing(
                    o.at,
                    "min",
                    &o.what(),
                    "give `min`, `max` or both, e.g. `- range: { column: amount, min: 0 }`",
                );
                return None;
            }
            let min = match min {
                Some(v) => Some(v?),
                None => None,
            };
            let max = match max {
                Some(v) => Some(v?),
                None => None,
            };
            if let (Some(lo), Some(hi)) = (&min, &max)
                && let (Some(l), Some(h)) = (lit_num(lo), lit_num(hi))
                && l > h
            {
                self.err(
                    Diagnostic::error(o.at, format!("`max` {h} is below `min` {l}"))
                        .help("swap the bounds"),
                );
                return None;
            }
            let inclusive = match inclusive {
                Some(v) => v?,
                None => true,
            };
            vec![CheckKind::Range {
                column: column?,
                min,
                max,
                inclusive,
            }]
        })
    }

    /// `matches`: a column and a Rust regex.
    fn matches(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        Some({
            let column = self.column(o);
            let regex = match get(o.e, "regex") {
            Some(n) => self.string(n, "`regex`").and_then(|r| match regex::Regex::new(&r) {
                Ok(_) => Some(r),
                Err(err) => {
                    let detail = err.to_string();
                    let last = detail.lines().last().unwrap_or("").trim().to_string();
                    self.err(Diagnostic::error(n.span, format!("invalid regex: {last}")).label("invalid regex").help("patterns use Rust regex syntax (no look-around or backreferences); in YAML, single-quote them: '^[a-z]+$'"));
                    None
                }
            }),
            None => {
                self.missing(o.at, "regex", &o.what(), "e.g. `regex: '^[A-Z]{2}[0-9]{4}$'`");
                None
            }
        };
            vec![CheckKind::Matches {
                column: column?,
                regex: regex?,
            }]
        })
    }

    /// `format`: a column and a known format (`email`, `uuid`...).
    fn text_format(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        Some({
            let column = self.column(o);
            let format = match get(o.e, "format") {
            Some(n) => self.string(n, "`format`").and_then(|f| match TextFormat::parse(&f) {
                Some(t) => Some(t),
                None => {
                    let help = hint(&f, TEXT_FORMATS.iter().copied()).unwrap_or_else(|| format!("formats are: {}; for anything else use `matches` with a regex", TEXT_FORMATS.join(", ")));
                    self.err(Diagnostic::error(n.span, format!("unknown format `{f}`")).label("unknown format").help(help));
                    None
                }
            }),
            None => {
                self.missing(o.at, "format", &o.what(), &format!("one of: {}", TEXT_FORMATS.join(", ")));
                None
            }
        };
            vec![CheckKind::Format {
                column: column?,
                format: format?,
            }]
        })
    }

    /// `length`: a string column and `min`/`max` characters.
    fn length(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        Some({
            let column = self.column(o);
            let min = get(o.e, "min").map(|n| self.uint(n, "`min`"));
            let max = get(o.e, "max").map(|n| self.uint(n, "`max`"));
            if min.is_none() && max.is_none() {
                self.missing(
                    o.at,
                    "max",
                    &o.what(),
                    "give `min`, `max` or both, e.g. `- length: { column: code, min: 2, max: 8 }`",
                );
                return None;
            }
            let min = match min {
                Some(v) => Some(v?),
                None => None,
            };
            let max = match max {
                Some(v) => Some(v?),
                None => None,
            };
            if let (Some(l), Some(h)) = (min, max)
                && l > h
            {
                self.err(
                    Diagnostic::error(o.at, format!("`max` {h} is below `min` {l}"))
                        .help("swap the bounds"),
                );
                return None;
            }
            vec![CheckKind::Length {
                column: column?,
                min,
                max,
            }]
        })
    }

    /// `schema`: required columns with types, `forbidden`, `allow_extra`.
    fn schema_check(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        Some({
            if let Some(s) = o.shorthand {
                self.type_error(
                    s,
                    "the options of `schema`",
                    "a mapping",
                    Some(
                        "e.g. `- schema: { columns: { order_id: int64 }, allow_extra: true }`"
                            .into(),
                    ),
                );
                return None;
            }
            let mut columns = Vec::new();
            if let Some(n) = get(o.e, "columns") {
                match &n.value {
                    Value::Map(m) => {
                        for (k, v) in m {
                            if let Some(t) = self.column_type(v) {
                                columns.push((k.key().to_string(), t));
                            }
                        }
                    }
                    Value::Seq(_) => {
                        for c in self.strings(n, "`columns`")? {
                            columns.push((c, ColumnType::Any));
                        }
                    }
                    _ => {
                        self.type_error(n, "`columns`", "a mapping of column name to type", Some("e.g. `columns: { order_id: int64, amount: float64 }` (type `any` to require only presence)".into()));
                        return None;
                    }
                }
            }
            let forbidden = match get(o.e, "forbidden") {
                Some(n) => self.strings(n, "`forbidden`")?,
                None => vec![],
            };
            let allow_extra = match get(o.e, "allow_extra") {
                Some(n) => self.boolean(n, "`allow_extra`")?,
                None => true,
            };
            if columns.is_empty() && forbidden.is_empty() && allow_extra {
                self.err(Diagnostic::error(o.at, "this `schema` check checks nothing").help("give `columns:` (required columns with types), `forbidden:` or `allow_extra: false`"));
                return None;
            }
            vec![CheckKind::Schema(SchemaSpec {
                columns,
                forbidden,
                allow_extra,
            })]
        })
    }

    /// `references`: a column, the dataset it points at, its key.
    fn references(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        Some({
            let column = self.column(o);
            let dataset = match get(o.e, "dataset") {
                Some(n) => self.string(n, "`dataset`"),
                None => {
                    self.missing(o.at, "dataset", &o.what(), "e.g. `- references: { column: customer_id, dataset: customers, key: customer_id }`");
                    None
                }
            };
            // An empty key is filled in by cross_check (the target's `key:` or the same name).
            let key = match get(o.e, "key") {
                Some(n) => self.string(n, "`key`")?,
                None => String::new(),
            };
            vec![CheckKind::References {
                column: column?,
                dataset: dataset?,
                key,
            }]
        })
    }

    /// Checks that need the whole file: duplicate check names, references to datasets.
    fn cross_check(&mut self, datasets: &mut [Dataset]) {
        let owned: Vec<String> = datasets.iter().map(|d| d.name.clone()).collect();
        let names: Vec<&str> = owned.iter().map(String::as_str).collect();
        // Name -> key of the first dataset of that name (a second one is already an error).
        let mut keys: HashMap<String, Vec<String>> = HashMap::with_capacity(datasets.len());
        for d in datasets.iter() {
            keys.entry(d.name.clone()).or_insert_with(|| d.key.clone());
        }
        for ds in datasets.iter_mut() {
            let mut seen: HashMap<&str, &Check> = HashMap::with_capacity(ds.checks.len());
            for c in &ds.checks {
                if let Some(first) = seen.get(c.name.as_str()).copied() {
                    let (label, related) = if first.span == c.span {
                        ("this check expands to the same name twice", "")
                    } else {
                        ("defined again here", "first defined here")
                    };
                    let mut d = Diagnostic::error(
                        c.span,
                        format!("duplicate check name `{}` in dataset `{}`", c.name, ds.name),
                    )
                    .label(label)
                    .help("check names must be unique per dataset: give one of them a `name:`");
                    if !related.is_empty() {
                        d = d.related(first.span, related);
                    }
                    self.err(d);
                } else {
                    seen.insert(&c.name, c);
                }
            }
            drop(seen);
            self.check_metric_refs(ds);
            self.check_after(ds);
            for c in ds.checks.iter() {
                if let CheckKind::Completeness(spec) = &c.kind {
                    for target in spec.datasets() {
                        if !keys.contains_key(target) {
                            let help = self.dataset_help(target, &names, false);
                            self.err(
                                Diagnostic::error(
                                    c.span,
                                    format!(
                                        "`{}` reads values from dataset `{target}`, which is not defined",
                                        c.name
                                    ),
                                )
                                .label("undefined dataset")
                                .help(help),
                            );
                        }
                    }
                }
            }
            for c in ds.checks.iter_mut() {
                if let CheckKind::References {
                    column,
                    dataset,
                    key,
                } = &mut c.kind
                {
                    match keys.get_key_value(dataset.as_str()) {
                        None => {
                            let help = self.dataset_help(dataset, &names, false);
                            self.err(
                                Diagnostic::error(
                                    c.span,
                                    format!(
                                        "`{}` refers to dataset `{dataset}`, which is not defined",
                                        c.name
                                    ),
                                )
                                .label("undefined dataset")
                                .help(help),
                            );
                        }
                        Some((_, target_key)) if key.is_empty() => {
                            *key = if target_key.len() == 1 {
                                target_key[0].clone()
                            } else {
                                column.clone()
                            };
                        }
                        Some(_) => {}
                    }
                }
            }
            self.compare_refs(ds, &names);
        }
    }
}

impl Decoder<'_> {
    /// Every `after:` of the dataset's checks names another of its checks, and none runs
    /// after itself through others (the cycle is named: `a -> b -> a`, read "a runs after
    /// b, which runs after a").
    fn check_after(&mut self, ds: &Dataset) {
        let names: Vec<&str> = ds.checks.iter().map(|c| c.name.as_str()).collect();
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(names.len());
        for (i, n) in names.iter().enumerate() {
            index.entry(n).or_insert(i);
        }
        // Edges: check -> the checks it runs after, each with where it is named.
        let mut edges: Vec<Vec<(usize, Span)>> = vec![Vec::new(); names.len()];
        for (i, c) in ds.checks.iter().enumerate() {
            for p in &c.after {
                if p.name == c.name {
                    self.err(
                        Diagnostic::error(
                            p.span,
                            format!("check `{}` names itself in `after`", c.name),
                        )
                        .label("the check itself")
                        .help("`after` lists other checks of the dataset that must pass first; remove this entry"),
                    );
                } else if let Some(&j) = index.get(p.name.as_str()) {
                    edges[i].push((j, p.span));
                } else {
                    self.err(
                        Diagnostic::error(
                            p.span,
                            format!(
                                "`after` names `{}`, which is not a check of dataset `{}`",
                                p.name, ds.name
                            ),
                        )
                        .label("unknown check")
                        .help(after_help(&p.name, &names)),
                    );
                }
            }
        }
        self.after_cycles(&names, &edges);
    }

    /// Reports each `after:` entry that closes a cycle (an iterative depth-first search:
    /// a long chain of checks cannot overflow the stack).
    fn after_cycles(&mut self, names: &[&str], edges: &[Vec<(usize, Span)>]) {
        const NEW: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let mut colour = vec![NEW; names.len()];
        for start in 0..names.len() {
            if colour[start] != NEW {
                continue;
            }
            colour[start] = OPEN;
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            while let Some(top) = stack.last_mut() {
                let (v, next) = *top;
                let Some(&(w, span)) = edges[v].get(next) else {
                    colour[v] = DONE;
                    stack.pop();
                    continue;
                };
                top.1 += 1;
                match colour[w] {
                    NEW => {
                        colour[w] = OPEN;
                        stack.push((w, 0));
                    }
                    OPEN => {
                        let from = stack.iter().position(|&(x, _)| x == w).unwrap_or(0);
                        let cycle: Vec<&str> = stack[from..]
                            .iter()
                            .map(|&(x, _)| names[x])
                            .chain([names[w]])
                            .collect();
                        self.err(
                            Diagnostic::error(
                                span,
                                format!("`after` forms a cycle: {}", cycle.join(" -> ")),
                            )
                            .label("closes the cycle")
                            .help("each check in it waits for the next, so none could run; remove one of these `after` entries"),
                        );
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The help for an `after:` entry naming no check: the closest name, else the names.
fn after_help(name: &str, names: &[&str]) -> String {
    if name.contains('(') && !name.contains(')') {
        return "a name with a comma must be quoted in a list: `after: [\"unique(a, b)\"]`".into();
    }
    if let Some(h) = hint(name, names.iter().copied()) {
        return h;
    }
    let shown: Vec<String> = names
        .iter()
        .take(LISTED)
        .map(|n| format!("`{n}`"))
        .collect();
    let more = names.len().saturating_sub(LISTED);
    let mut s = format!("checks of this dataset: {}", shown.join(", "));
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

/// Folds `.` and `..` without touching the file system (the path may not exist yet).
fn normalize_path(p: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn lit_num(l: &Literal) -> Option<f64> {
    match l {
        Literal::Int(i) => Some(*i as f64),
        Literal::Float(f) => Some(*f),
        _ => None,
    }
}

/// `kind(column)`, `unique(a, b)`, `row_count`, `schema`, `rows_satisfy(cond)`, `metric(sql)`.
fn default_name(kind: &CheckKind) -> String {
    match kind {
        CheckKind::RowCount | CheckKind::Schema(_) => kind.name().into(),
        CheckKind::RowsSatisfy { condition: sql } | CheckKind::Metric { sql, .. } => {
            format!("{}({sql})", kind.name())
        }
        CheckKind::Change { metric, .. } => format!("{}({metric})", kind.name()),
        CheckKind::Anomaly(a) => format!("{}({})", kind.name(), a.metric),
        _ => format!("{}({})", kind.name(), kind.columns().join(", ")),
    }
}

/// What [`Decoder::config`] produces; [`crate::load`] adds the file.
pub(crate) struct ConfigParts {
    pub version: u32,
    pub defaults: Defaults,
    pub datasets: Vec<Dataset>,
    pub stages: Vec<Stage>,
    pub reconciles: Vec<Reconcile>,
    pub exposures: Vec<Exposure>,
    pub lineage: LineageSources,
    pub state: Option<StateStore>,
    pub quarantine: std::path::PathBuf,
    pub history: HistoryPolicy,
    pub notify: crate::notify::Notify,
    pub openlineage: crate::openlineage::OpenLineageSettings,
    pub serve: ServeSettings,
    pub engine: Option<crate::Engine>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_suggestions_stop_at_the_budget_then_list_the_names() {
        let mut diags = Vec::new();
        let mut d = Decoder::new(&mut diags);
        d.suggest_budget = 25;
        let names: Vec<String> = (0..10).map(|i| format!("orders_{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        // Two suggestions fit in 25 comparisons over 10 names; the third lists them.
        assert_eq!(
            d.dataset_help("orders_1x", &names, true),
            "did you mean `orders_1`?"
        );
        assert_eq!(
            d.dataset_help("orders_2x", &names, true),
            "did you mean `orders_2`?"
        );
        assert_eq!(
            d.dataset_help("orders_3x", &names, false),
            "defined datasets: orders_0, orders_1, orders_2, orders_3, orders_4, orders_5, orders_6, orders_7, orders_8, orders_9"
        );
        assert_eq!(d.suggest_budget, 5);
    }
}
