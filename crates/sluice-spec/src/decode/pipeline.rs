//! Decoding of what connects datasets: `parity:` on a dataset, `stages:`, `reconcile:`.

use std::collections::HashMap;

use super::{Decoder, Entries, get};
use crate::diag::Diagnostic;
use crate::model::*;
use crate::source::Span;
use crate::suggest::{hint, list};
use crate::yaml::{Node, Value};

/// The keys of a stage.
pub(crate) const STAGE_KEYS: &[&str] = &[
    "inputs",
    "outputs",
    "owner",
    "description",
    "reconcile",
    "sql",
    "sql_file",
    "dialect",
];

pub(crate) const PARITY_KEYS: &[&str] = &[
    "against",
    "name",
    "severity",
    "where",
    "against_where",
    "samples",
    "row_count",
    "sum",
    "avg",
    "min",
    "max",
    "count_distinct",
    "group_by",
    "keys",
    "compare",
    "normalize",
    "column_map",
    "max_missing",
    "max_extra",
    "max_changed",
    "max_duplicates",
];

/// The keys of a parity `row_count:` tolerance.
pub(crate) const TOLERANCE_KEYS: &[&str] = &["tolerance", "tolerance_pct"];
/// The keys of a parity aggregate (`sum: { columns: [amount], tolerance: 0.01 }`).
pub(crate) const AGGREGATE_KEYS: &[&str] = &["columns", "column", "tolerance", "tolerance_pct"];
pub(crate) const COMPARE_KEYS: &[&str] = &["tolerance", "trim", "ignore_case", "precision"];

pub(crate) const RECONCILE_KEYS: &[&str] = &[
    "datasets",
    "key",
    "measures",
    "columns",
    "where",
    "severity",
    "samples",
    "max_disagreements",
    "max_missing",
    "max_duplicates",
];

impl Decoder<'_> {
    /// One `parity:` entry.
    pub(super) fn parity(&mut self, item: &Node, defaults: &Defaults) -> Option<Parity> {
        let e = self.map(
            item,
            "a parity check",
            "e.g. `- against: orders_raw` with `row_count:`, `sum:` or `keys:` + `compare:`",
        )?;
        self.check_keys(e, PARITY_KEYS, "a parity check");
        let against = match get(e, "against") {
            Some(n) => self.string(n, "`against`"),
            None => {
                self.missing(
                    item.span,
                    "against",
                    "a parity check",
                    "name the dataset to compare with: `against: orders_raw`",
                );
                None
            }
        };
        let severity = get(e, "severity")
            .and_then(|n| self.severity(n))
            .unwrap_or(defaults.severity);
        let samples = get(e, "samples")
            .and_then(|n| self.samples(n))
            .unwrap_or(defaults.samples);
        let filter = get(e, "where").and_then(|n| self.sql_expr(n, "`where`"));
        let against_filter =
            get(e, "against_where").and_then(|n| self.sql_expr(n, "`against_where`"));
        let name = get(e, "name").and_then(|n| self.text(n, "`name`"));
        let row_count = match get(e, "row_count") {
            None => None,
            Some(n) => match &n.value {
                Value::Bool(true) | Value::Null => Some(Tolerance::default()),
                Value::Bool(false) => None,
                _ => self.tolerance(n, "`row_count`"),
            },
        };
        let mut aggregates = Vec::new();
        for func in AggFunc::ALL {
            if let Some(n) = get(e, func.name()) {
                self.aggregate_parity(n, func, &mut aggregates);
            }
        }
        let group_by = get(e, "group_by")
            .and_then(|n| self.strings(n, "`group_by`"))
            .unwrap_or_default();
        let keys = get(e, "keys")
            .and_then(|n| self.strings(n, "`keys`"))
            .unwrap_or_default();
        let defaults_opts = match get(e, "normalize") {
            Some(n) => self.compare_opts(n, "`normalize`").unwrap_or_default(),
            None => CompareOpts::default(),
        };
        let compare = match get(e, "compare") {
            Some(n) => self.compare(n, defaults_opts)?,
            None => Compare::Columns(vec![]),
        };
        if get(e, "compare").is_some() && keys.is_empty() {
            self.err(
                Diagnostic::error(item.span, "`compare` needs `keys` to match rows on")
                    .label("no keys")
                    .help("add `keys: [order_id]` (the columns identifying a row)"),
            );
        }
        let column_map = match get(e, "column_map") {
            Some(n) => self.column_map(n, "`column_map`").unwrap_or_default(),
            None => vec![],
        };
        let max = |d: &mut Self, key: &str| {
            get(e, key)
                .and_then(|n| d.uint(n, &format!("`{key}`")))
                .unwrap_or(0)
        };
        let (max_missing, max_extra, max_changed, max_duplicates) = (
            max(self, "max_missing"),
            max(self, "max_extra"),
            max(self, "max_changed"),
            max(self, "max_duplicates"),
        );
        let asks_something = [
            "row_count",
            "sum",
            "avg",
            "min",
            "max",
            "count_distinct",
            "keys",
            "compare",
        ]
        .iter()
        .any(|k| get(e, k).is_some());
        if !asks_something {
            self.err(
                Diagnostic::error(item.span, "this parity check compares nothing")
                    .label("nothing to compare")
                    .help("add `row_count: { tolerance: 0 }`, an aggregate such as `sum: { columns: [amount], tolerance: 0.01 }`, or `keys:` (+ `compare:`) for a row diff"),
            );
        }
        let against = against?;
        Some(Parity {
            name: name.unwrap_or_else(|| format!("parity({against})")),
            against,
            severity,
            filter,
            against_filter,
            samples,
            row_count,
            aggregates,
            group_by,
            keys,
            compare,
            column_map,
            max_missing,
            max_extra,
            max_changed,
            max_duplicates,
            span: item.span,
        })
    }

    /// `{ tolerance: 0.01 }` or `{ tolerance_pct: 0.5 }` (both allowed, either suffices).
    fn tolerance_of(&mut self, e: &Entries, what: &str) -> Option<Tolerance> {
        let mut t = Tolerance::default();
        for (key, slot) in [("tolerance", &mut t.abs), ("tolerance_pct", &mut t.pct)] {
            if let Some(n) = get(e, key) {
                let v = self.number(n, &format!("`{key}`"))?;
                if v < 0.0 {
                    self.err(
                        Diagnostic::error(n.span, format!("`{key}` of {what} is negative"))
                            .label("negative")
                            .help("a tolerance is how far apart the two sides may be: 0 or more"),
                    );
                    return None;
                }
                *slot = Some(v);
            }
        }
        Some(t)
    }

    fn tolerance(&mut self, n: &Node, what: &str) -> Option<Tolerance> {
        let e = self.map(
            n,
            what,
            "e.g. `{ tolerance: 0 }` or `{ tolerance_pct: 0.1 }`",
        )?;
        self.check_keys(e, TOLERANCE_KEYS, what);
        self.tolerance_of(e, what)
    }

    /// `sum: [amount]`, `sum: amount` or `sum: { columns: [amount], tolerance: 0.01 }`.
    fn aggregate_parity(&mut self, n: &Node, func: AggFunc, out: &mut Vec<AggregateParity>) {
        let what = format!("`{}`", func.name());
        let (columns, tolerance) = match &n.value {
            Value::Map(e) => {
                self.check_keys(e, AGGREGATE_KEYS, &what);
                let cols = match (get(e, "columns"), get(e, "column")) {
                    (Some(c), _) | (None, Some(c)) => self.strings(c, "`columns`"),
                    (None, None) => {
                        self.missing(
                            n.span,
                            "columns",
                            &what,
                            &format!(
                                "e.g. `{}: {{ columns: [amount], tolerance: 0.01 }}`",
                                func.name()
                            ),
                        );
                        None
                    }
                };
                (cols, self.tolerance_of(e, &what))
            }
            _ => (self.strings(n, &what), Some(Tolerance::default())),
        };
        if let (Some(columns), Some(tolerance)) = (columns, tolerance) {
            out.extend(columns.into_iter().map(|column| AggregateParity {
                func,
                column,
                tolerance,
            }));
        }
    }

    /// `{ tolerance, trim, ignore_case, precision }`.
    fn compare_opts(&mut self, n: &Node, what: &str) -> Option<CompareOpts> {
        let mut o = CompareOpts::default();
        if matches!(n.value, Value::Null) {
            return Some(o);
        }
        let e = self.map(
            n,
            what,
            "e.g. `{ tolerance: 0.01 }` or `{ trim: true, ignore_case: true }`",
        )?;
        self.check_keys(e, COMPARE_KEYS, what);
        if let Some(t) = get(e, "tolerance") {
            let v = self.number(t, "`tolerance`")?;
            if v < 0.0 {
                self.err(
                    Diagnostic::error(t.span, "`tolerance` is negative")
                        .label("negative")
                        .help("values may differ by at most the tolerance: 0 or more"),
                );
                return None;
            }
            o.tolerance = Some(v);
        }
        if let Some(b) = get(e, "trim") {
            o.trim = self.boolean(b, "`trim`")?;
        }
        if let Some(b) = get(e, "ignore_case") {
            o.ignore_case = self.boolean(b, "`ignore_case`")?;
        }
        if let Some(p) = get(e, "precision") {
            let s = self.string(p, "`precision`")?;
            match Precision::parse(&s) {
                Some(p) => o.precision = Some(p),
                None => {
                    self.err(
                        Diagnostic::error(p.span, format!("unknown timestamp precision `{s}`"))
                            .label("unknown precision")
                            .help("use `s`, `ms`, `us` or `ns`"),
                    );
                    return None;
                }
            }
        }
        Some(o)
    }

    /// `compare: all`, `compare: [a, b]` or `compare: { a: { tolerance: 0.01 }, b: {} }`.
    fn compare(&mut self, n: &Node, defaults: CompareOpts) -> Option<Compare> {
        match &n.value {
            Value::Str(s) if s == "all" => Some(Compare::All(defaults)),
            Value::Map(entries) => {
                let mut cols = Vec::new();
                for (k, v) in entries {
                    let opts = self.compare_opts(v, &format!("the options of `{}`", k.key()))?;
                    cols.push(CompareColumn {
                        column: k.key().to_string(),
                        opts: merge(defaults, opts),
                    });
                }
                Some(Compare::Columns(cols))
            }
            _ => self.strings(n, "`compare`").map(|names| {
                Compare::Columns(
                    names
                        .into_iter()
                        .map(|column| CompareColumn {
                            column,
                            opts: defaults,
                        })
                        .collect(),
                )
            }),
        }
    }

    /// A mapping of column name -> column name.
    fn column_map(&mut self, n: &Node, what: &str) -> Option<Vec<(String, String)>> {
        let e = self.map(
            n,
            what,
            "map this dataset's column names to the other's: `{ amount: total_amount }`",
        )?;
        let mut out = Vec::new();
        for (k, v) in e {
            let other = self.string(v, &format!("the name `{}` maps to", k.key()))?;
            out.push((k.key().to_string(), other));
        }
        Some(out)
    }

    /// `stages:`; reconciliations declared on stages go to `reconciles`.
    pub(super) fn stages(
        &mut self,
        node: &Node,
        defaults: &Defaults,
        reconciles: &mut Vec<Reconcile>,
        base: &std::path::Path,
    ) -> Vec<Stage> {
        let mut out = Vec::new();
        let Some(entries) = self.map(
            node,
            "`stages`",
            "map each stage name to its `inputs:` and `outputs:`",
        ) else {
            return out;
        };
        for (name, body) in entries {
            let what = format!("stage `{}`", name.key());
            let Some(e) = self.map(body, &what, "give the stage `inputs:` and `outputs:`") else {
                continue;
            };
            self.check_keys(e, STAGE_KEYS, &what);
            let names = |d: &mut Self, key: &str| match get(e, key) {
                Some(n) => d
                    .strings(n, &format!("`{key}`"))
                    .map(|v| (v, n.span))
                    .unwrap_or_default(),
                None => (vec![], name.span),
            };
            let (inputs, _) = names(self, "inputs");
            let (outputs, _) = names(self, "outputs");
            let sql = self.stage_sql(e, &what, base);
            // A stage whose SQL is broken already has its error: no second one for it.
            let has_sql = get(e, "sql").is_some() || get(e, "sql_file").is_some();
            if inputs.is_empty() && outputs.is_empty() && !has_sql {
                self.err(
                    Diagnostic::error(name.span, format!("{what} has no `inputs` or `outputs`"))
                        .label("empty stage")
                        .help("list the datasets it reads and writes: `inputs: [orders_raw]`, `outputs: [orders_clean]`, or give its `sql:`"),
                );
            }
            if let Some(r) = get(e, "reconcile") {
                self.reconciles(r, defaults, Some(name.key()), reconciles);
            }
            out.push(Stage {
                name: name.key().to_string(),
                span: name.span,
                inputs,
                outputs,
                owner: get(e, "owner").and_then(|n| self.text(n, "`owner`")),
                description: get(e, "description").and_then(|n| self.text(n, "`description`")),
                sql,
                dialect: get(e, "dialect").and_then(|n| self.dialect(n)),
            });
        }
        out
    }

    /// `sql:` or `sql_file:` of a stage; a file is read now (a missing file is a config
    /// error), its SQL parsed later by the lineage builder.
    fn stage_sql(&mut self, e: &Entries, what: &str, base: &std::path::Path) -> Option<StageSql> {
        match (get(e, "sql"), get(e, "sql_file")) {
            (Some(a), Some(_)) => {
                self.err(
                    Diagnostic::error(a.span, format!("{what} has both `sql` and `sql_file`"))
                        .label("two sources of SQL")
                        .help("keep one: the SQL inline, or the file holding it"),
                );
                None
            }
            (Some(n), None) => self.string(n, "`sql`").map(|text| StageSql {
                text,
                file: None,
                span: n.span,
            }),
            (None, Some(n)) => {
                let path = self.string(n, "`sql_file`")?;
                let full = base.join(&path);
                match std::fs::read_to_string(&full) {
                    Ok(text) => Some(StageSql {
                        text,
                        file: Some(full),
                        span: n.span,
                    }),
                    Err(err) => {
                        self.err(
                            Diagnostic::error(n.span, format!("cannot read `{path}`: {err}"))
                                .label("unreadable SQL file")
                                .help(format!(
                                    "the path is relative to the config's folder: {}",
                                    base.display()
                                )),
                        );
                        None
                    }
                }
            }
            (None, None) => None,
        }
    }

    /// `reconcile:`: a mapping of name -> group.
    pub(super) fn reconciles(
        &mut self,
        node: &Node,
        defaults: &Defaults,
        stage: Option<&str>,
        out: &mut Vec<Reconcile>,
    ) {
        let Some(entries) = self.map(
            node,
            "`reconcile`",
            "map each reconciliation's name to its `datasets:`, `key:` and `measures:`",
        ) else {
            return;
        };
        for (name, body) in entries {
            if let Some(r) = self.reconcile(name, body, defaults, stage) {
                out.push(r);
            }
        }
    }

    fn reconcile(
        &mut self,
        name: &Node,
        body: &Node,
        defaults: &Defaults,
        stage: Option<&str>,
    ) -> Option<Reconcile> {
        let what = format!("reconciliation `{}`", name.key());
        let e = self.map(body, &what, "give it `datasets:`, `key:` and `measures:`")?;
        self.check_keys(e, RECONCILE_KEYS, &what);
        let datasets = match get(e, "datasets") {
            Some(n) => self.strings(n, "`datasets`"),
            None => {
                self.missing(name.span, "datasets", &what, "list the datasets that should agree: `datasets: [experiments, payments, ledger]`");
                None
            }
        };
        let key = match get(e, "key") {
            Some(n) => self.strings(n, "`key`"),
            None => {
                self.missing(
                    name.span,
                    "key",
                    &what,
                    "name the column(s) identifying a fact: `key: [redemption_id]`",
                );
                None
            }
        };
        let measures = match get(e, "measures") {
            Some(n) => match self.compare(n, CompareOpts::default())? {
                Compare::Columns(c) => Some(c),
                Compare::All(_) => {
                    self.err(
                        Diagnostic::error(n.span, "`measures: all` is not supported")
                            .label("name the measures")
                            .help("list them: `measures: { amount: { tolerance: 0.01 }, status: {} }`"),
                    );
                    None
                }
            },
            None => Some(vec![]),
        };
        let mut columns = Vec::new();
        if let Some(n) = get(e, "columns") {
            let m = self.map(n, "`columns`", "per dataset, map the canonical names to its own: `payments: { redemption_id: payment_ref }`")?;
            for (ds, v) in m {
                if let Some(cm) = self.column_map(v, &format!("the columns of `{}`", ds.key())) {
                    columns.push((ds.key().to_string(), cm));
                }
            }
        }
        let mut filters = Vec::new();
        if let Some(n) = get(e, "where") {
            let m = self.map(
                n,
                "`where`",
                "per dataset, a SQL filter: `where: { ledger: \"booked\" }`",
            )?;
            for (ds, v) in m {
                if let Some(sql) = self.sql_expr(v, &format!("the `where` of `{}`", ds.key())) {
                    filters.push((ds.key().to_string(), sql));
                }
            }
        }
        let max = |d: &mut Self, key: &str| {
            get(e, key)
                .and_then(|n| d.uint(n, &format!("`{key}`")))
                .unwrap_or(0)
        };
        let (max_disagreements, max_missing, max_duplicates) = (
            max(self, "max_disagreements"),
            max(self, "max_missing"),
            max(self, "max_duplicates"),
        );
        Some(Reconcile {
            name: name.key().to_string(),
            stage: stage.map(str::to_string),
            datasets: datasets?,
            key: key?,
            measures: measures?,
            columns,
            filters,
            severity: get(e, "severity")
                .and_then(|n| self.severity(n))
                .unwrap_or(defaults.severity),
            samples: get(e, "samples")
                .and_then(|n| self.samples(n))
                .unwrap_or(defaults.samples),
            max_disagreements,
            max_missing,
            max_duplicates,
            span: name.span,
        })
    }

    fn undefined_dataset(&mut self, span: Span, name: &str, names: &[&str], what: &str) {
        let help = self.dataset_help(name, names, true);
        self.err(
            Diagnostic::error(
                span,
                format!("{what} refers to dataset `{name}`, which is not defined"),
            )
            .label("undefined dataset")
            .help(help),
        );
    }

    /// References between datasets, stages and reconciliations.
    ///
    /// Long because it is one pass over every cross-reference of the file (parity targets,
    /// stage inputs and outputs, reconciliations), sharing the name indexes built first.
    pub(super) fn check_pipeline(
        &mut self,
        datasets: &[Dataset],
        stages: &[Stage],
        reconciles: &[Reconcile],
    ) {
        let names: Vec<&str> = datasets.iter().map(|d| d.name.as_str()).collect();
        // Name -> the first dataset of that name (a second one is already an error).
        let mut by_name: HashMap<&str, &Dataset> = HashMap::with_capacity(datasets.len());
        for d in datasets {
            by_name.entry(d.name.as_str()).or_insert(d);
        }
        for ds in datasets {
            // Check names so far in this dataset -> where the first of each is.
            let mut check_names: HashMap<&str, Span> = HashMap::new();
            if !ds.parity.is_empty() {
                for c in &ds.checks {
                    check_names.entry(&c.name).or_insert(c.span);
                }
            }
            for p in &ds.parity {
                match by_name.get(p.against.as_str()).copied() {
                    None => self.undefined_dataset(p.span, &p.against, &names, &format!("`{}`", p.name)),
                    Some(other) if other.name == ds.name => self.err(
                        Diagnostic::error(p.span, format!("`{}` compares `{}` with itself", p.name, ds.name))
                            .label("same dataset")
                            .help("`against:` names the other dataset: the source this one should agree with"),
                    ),
                    Some(other) if !ds.path.is_empty() && other.location == ds.location => self.err(
                        Diagnostic::error(p.span, format!("`{}` compares two datasets that read the same files ({})", p.name, ds.path))
                            .label("both sides are the same path")
                            .help("point one of the datasets at the other copy of the data"),
                    ),
                    Some(_) => {}
                }
                let clash = check_names.get(p.name.as_str()).copied();
                check_names.entry(&p.name).or_insert(p.span);
                if let Some(first) = clash {
                    self.err(
                        Diagnostic::error(
                            p.span,
                            format!("duplicate check name `{}` in dataset `{}`", p.name, ds.name),
                        )
                        .label("defined again here")
                        .related(first, "first defined here")
                        .help("check names must be unique per dataset: give one of them a `name:`"),
                    );
                }
            }
        }
        for st in stages {
            for name in st.inputs.iter().chain(&st.outputs) {
                if !by_name.contains_key(name.as_str()) {
                    self.undefined_dataset(st.span, name, &names, &format!("stage `{}`", st.name));
                }
            }
            if let Some(both) = st.inputs.iter().find(|i| st.outputs.contains(i)) {
                self.err(
                    Diagnostic::error(
                        st.span,
                        format!(
                            "stage `{}` lists `{both}` as both an input and an output",
                            st.name
                        ),
                    )
                    .label("read and written")
                    .help("a stage writes a new dataset from its inputs; list it on one side"),
                );
            }
        }
        let mut seen: HashMap<&str, &Reconcile> = HashMap::with_capacity(reconciles.len());
        for r in reconciles {
            let what = format!("reconciliation `{}`", r.name);
            if let Some(first) = seen.get(r.name.as_str()).copied() {
                self.err(
                    Diagnostic::error(
                        r.span,
                        format!("duplicate reconciliation name `{}`", r.name),
                    )
                    .label("defined again here")
                    .related(first.span, "first defined here")
                    .help("reconciliation names are unique across the file"),
                );
            } else {
                seen.insert(&r.name, r);
            }
            let mut distinct: Vec<&str> = r.datasets.iter().map(String::as_str).collect();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() < 2 {
                self.err(
                    Diagnostic::error(r.span, format!("{what} needs at least two different datasets"))
                        .label("nothing to compare")
                        .help("list the datasets that should agree: `datasets: [experiments, payments, ledger]`"),
                );
            } else if distinct.len() < r.datasets.len() {
                self.err(
                    Diagnostic::error(r.span, format!("{what} lists a dataset twice"))
                        .label("repeated dataset")
                        .help("name each dataset once"),
                );
            }
            for d in &r.datasets {
                if !by_name.contains_key(d.as_str()) {
                    self.undefined_dataset(r.span, d, &names, &what);
                }
            }
            for d in r
                .columns
                .iter()
                .map(|(d, _)| d)
                .chain(r.filters.iter().map(|(d, _)| d))
            {
                if !r.datasets.contains(d) {
                    let in_group: Vec<&str> = r.datasets.iter().map(String::as_str).collect();
                    let help = hint(d, in_group.iter().copied())
                        .unwrap_or_else(|| format!("its datasets are {}", list(&in_group)));
                    self.err(
                        Diagnostic::error(
                            r.span,
                            format!(
                                "{what} has settings for `{d}`, which is not one of its datasets"
                            ),
                        )
                        .label("unknown dataset here")
                        .help(help),
                    );
                }
            }
        }
    }
}

/// Per-column options over the `normalize:` defaults.
fn merge(defaults: CompareOpts, own: CompareOpts) -> CompareOpts {
    CompareOpts {
        tolerance: own.tolerance.or(defaults.tolerance),
        trim: own.trim || defaults.trim,
        ignore_case: own.ignore_case || defaults.ignore_case,
        precision: own.precision.or(defaults.precision),
    }
}
