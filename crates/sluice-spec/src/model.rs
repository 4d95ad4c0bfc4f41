//! The typed config: what a valid `sluice.yaml` means.
//!
//! Produced by [`crate::load`]; every value here has been checked, so the engine can trust
//! it. Spans are kept on datasets and checks so runtime messages can still say where in the
//! file a check was defined.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::duration::HumanDuration;
use crate::source::{Location, SourceFile, Span};

/// A loaded, validated `sluice.yaml`.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it came from (path and text).
    pub file: SourceFile,
    /// The folder relative paths are resolved against.
    pub base_dir: PathBuf,
    /// Config language version (`1`).
    pub version: u32,
    /// Defaults applied to every check.
    pub defaults: Defaults,
    /// The datasets, in file order.
    pub datasets: Vec<Dataset>,
    /// `stages:`: the ETL steps between datasets, in file order.
    pub stages: Vec<Stage>,
    /// `reconcile:` groups, top-level ones first, then those declared on stages.
    pub reconciles: Vec<Reconcile>,
    /// `exposures:`, in file order.
    pub exposures: Vec<Exposure>,
    /// `lineage:`.
    pub lineage: LineageSources,
    /// `quarantine:` resolved: where failed staged outputs are moved, one folder per
    /// dataset and run (default: `quarantine/` next to the config).
    pub quarantine: PathBuf,
    /// `state:`: where breakers, runs and the audit log live (`None`: the default,
    /// `sqlite:.sluice/state.db` next to the config, unless `SLUICE_STATE` says otherwise).
    pub state: Option<StateStore>,
    /// `history:`: how long metric history is kept.
    pub history: crate::HistoryPolicy,
    /// `notify:`: where alerts about breakers and failed runs go.
    pub notify: crate::notify::Notify,
    /// `openlineage:`: where run events go (none configured: only the command line's and
    /// the environment's settings count).
    pub openlineage: crate::openlineage::OpenLineageSettings,
    /// `serve:`: settings of `sluice serve`.
    pub serve: ServeSettings,
    /// `engine:`: where the queries run (`None`: not set; `--engine` and `SLUICE_ENGINE`
    /// come first, then this, then in-process DataFusion).
    pub engine: Option<crate::Engine>,
}

/// `serve:`: settings of `sluice serve`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServeSettings {
    /// The environment variable holding the token mutating API calls need (`None`:
    /// `SLUICE_TOKEN`).
    pub token_env: Option<String>,
}

impl ServeSettings {
    /// The variable the token is read from: `token_env`, else `SLUICE_TOKEN`.
    pub fn token_var(&self) -> &str {
        self.token_env.as_deref().unwrap_or("SLUICE_TOKEN")
    }
}

impl Config {
    /// The dataset called `name`; the error suggests the closest name.
    pub fn dataset(&self, name: &str) -> Result<&Dataset, UnknownName> {
        self.datasets
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| {
                self.unknown(
                    "dataset",
                    name,
                    self.datasets.iter().map(|d| d.name.as_str()),
                )
            })
    }

    /// The stage called `name`; the error suggests the closest name.
    pub fn stage(&self, name: &str) -> Result<&Stage, UnknownName> {
        self.stages
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| self.unknown("stage", name, self.stages.iter().map(|s| s.name.as_str())))
    }

    fn unknown<'a>(
        &self,
        what: &'static str,
        name: &str,
        known: impl Iterator<Item = &'a str> + Clone,
    ) -> UnknownName {
        UnknownName {
            what,
            name: name.to_string(),
            suggestion: crate::suggest::did_you_mean(name, known.clone()).map(str::to_string),
            known: known.map(str::to_string).collect(),
            file: self.file.path().to_path_buf(),
        }
    }

    /// `file:line:col` of a span in this config.
    pub fn location(&self, span: Span) -> Location {
        self.file.location(span.start)
    }
}

/// A dataset or stage name the config does not define (from a command line, a request).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{name}`; {}", self.hint())]
pub struct UnknownName {
    /// `dataset` or `stage`.
    pub what: &'static str,
    /// The name asked for.
    pub name: String,
    /// The closest defined name, if one is close enough to be a typo.
    pub suggestion: Option<String>,
    /// Every defined name of that kind, in file order.
    pub known: Vec<String>,
    /// The config file.
    pub file: PathBuf,
}

impl UnknownName {
    fn hint(&self) -> String {
        match &self.suggestion {
            Some(s) => crate::suggest::phrase(s),
            None if self.known.is_empty() => {
                format!("{} defines no {}s", self.file.display(), self.what)
            }
            None => format!(
                "{}s in {}: {}",
                self.what,
                self.file.display(),
                self.known.join(", ")
            ),
        }
    }
}

/// `defaults:`: values every check inherits unless it sets its own.
#[derive(Clone, Debug, PartialEq)]
pub struct Defaults {
    /// Severity of checks that don't say.
    pub severity: Severity,
    /// Failing-row samples kept per failed check.
    pub samples: u32,
    /// Breaker policy of datasets that don't say.
    pub breaker: BreakerPolicy,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            severity: Severity::Error,
            samples: 5,
            breaker: BreakerPolicy::default(),
        }
    }
}

/// What a failing check does to the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A failure fails the run (exit 1).
    Error,
    /// A failure is reported as a warning; the run still passes.
    Warn,
}

impl Severity {
    /// `error`, `warn`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warn => "warn",
        }
    }

    /// The severity [`as_str`](Self::as_str) names.
    pub fn parse(s: &str) -> Option<Severity> {
        [Severity::Error, Severity::Warn]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A table sluice checks: where its files are and what must hold of them.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Its name (the key under `datasets:`).
    pub name: String,
    /// Where the name is defined.
    pub span: Span,
    /// `path:` as written (after `${VAR}` interpolation).
    pub path: String,
    /// `path:` resolved against the config's folder; for an object-store URL
    /// ([`Dataset::url`]), the URL as written.
    pub location: PathBuf,
    /// `format:`; `None` = inferred from the file extension.
    pub format: Option<Format>,
    /// `csv:` reading options.
    pub csv: CsvOptions,
    /// `partitions:`: hive-style `key=value` folders.
    pub partitions: Partitioning,
    /// `key:`: columns identifying a row, shown with failing samples.
    pub key: Vec<String>,
    /// `owner:`.
    pub owner: Option<String>,
    /// `tier:` (1 = most critical).
    pub tier: Option<u8>,
    /// `description:`.
    pub description: Option<String>,
    /// `tags:`.
    pub tags: Vec<String>,
    /// The checks, in file order (multi-column `not_null` already expanded).
    pub checks: Vec<Check>,
    /// `parity:`: comparisons of this dataset (the target) with others (sources).
    pub parity: Vec<Parity>,
    /// `breaker:`: when its circuit breaker opens and closes.
    pub breaker: BreakerPolicy,
    /// `staging:` resolved against the config's folder: where the producing job writes,
    /// for `sluice publish` to check and promote to `path`.
    pub staging: Option<PathBuf>,
    /// `keep_versions:`: published versions kept side by side (the current one included).
    pub keep_versions: u32,
    /// How to reach the object store of an object-store `path:` or `staging:`: the
    /// config's per-prefix `storage:` blocks and the dataset's own.
    pub storage: crate::StorageRules,
    /// `version:` / `timestamp:` and `delta_mode:` of a `format: delta` table.
    pub delta: DeltaOptions,
}

/// Which version of a Delta table is read (`version:` or `timestamp:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeTravel {
    /// `version: N`: the table as of commit N.
    Version(u64),
    /// `timestamp: 2026-11-30T12:00:00Z`: the latest commit at or before this instant
    /// (RFC 3339, with a zone; a date alone means its midnight UTC).
    Timestamp(String),
}

/// How `sluice publish` commits staged data to a Delta table (`delta_mode:`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeltaMode {
    /// Add the staged rows to the table (the default).
    #[default]
    Append,
    /// Replace the table's rows with the staged rows (one commit; older versions stay
    /// readable by time travel and `--rollback`).
    Overwrite,
}

impl DeltaMode {
    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            DeltaMode::Append => "append",
            DeltaMode::Overwrite => "overwrite",
        }
    }
}

/// A Delta table's reading and publishing options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeltaOptions {
    /// The version read (`None`: the latest).
    pub at: Option<TimeTravel>,
    /// How `sluice publish` commits.
    pub mode: DeltaMode,
}

impl Dataset {
    /// `path:` when it is an object-store URL (`s3://lake/orders/`).
    pub fn url(&self) -> Option<&str> {
        crate::storage::remote_scheme(&self.path).map(|_| self.path.as_str())
    }

    /// `staging:` when it is an object-store URL.
    pub fn staging_url(&self) -> Option<&str> {
        let s = self.staging.as_ref()?.to_str()?;
        crate::storage::remote_scheme(s).map(|_| s)
    }
}

/// When a dataset's circuit breaker opens and closes (`breaker:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Failures of checks of this severity or worse count (`trip_on: error | warn`).
    pub trip_on: Severity,
    /// Consecutive failing runs that open the breaker (`trip_after`, at least 1).
    pub trip_after: u32,
    /// How an open breaker closes.
    pub reset: Reset,
    /// With `reset: auto`, consecutive passing runs that close it (`close_after`, at least 1).
    pub close_after: u32,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            trip_on: Severity::Error,
            trip_after: 1,
            reset: Reset::Auto,
            close_after: 1,
        }
    }
}

/// How an open breaker closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reset {
    /// After `close_after` consecutive passing runs.
    Auto,
    /// Only by `sluice breaker reset X --reason ...`.
    Manual,
}

/// Where the state (breakers, runs, audit log) is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateStore {
    /// A SQLite file (created on first use).
    Sqlite(PathBuf),
    /// A Postgres server (`postgres://user:password@host:port/db`).
    Postgres(String),
}

impl StateStore {
    /// Parses `sqlite:PATH` (relative to `base`) or `postgres://...` / `postgresql://...`.
    pub fn parse(text: &str, base: &Path) -> Result<StateStore, String> {
        let t = text.trim();
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            return Ok(StateStore::Postgres(t.to_string()));
        }
        if let Some(rest) = t.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            if rest.is_empty() {
                return Err("`sqlite:` needs a file path, e.g. `sqlite:.sluice/state.db`".into());
            }
            let p = Path::new(rest);
            return Ok(StateStore::Sqlite(if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }));
        }
        Err(format!(
            "`{t}` is not a state store: use `sqlite:PATH` (a file, created on first use) or `postgres://user:password@host/db`"
        ))
    }

    /// The store for people: a SQLite path, or a Postgres URL without its password.
    pub fn display(&self) -> String {
        match self {
            StateStore::Sqlite(p) => format!("sqlite:{}", p.display()),
            StateStore::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    let creds = &url[scheme + 3..at];
                    match creds.split_once(':') {
                        Some((user, _)) => {
                            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
                        }
                        None => url.clone(),
                    }
                }
                _ => url.clone(),
            },
        }
    }
}

/// File format of a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Apache Parquet.
    Parquet,
    /// Comma- (or otherwise) separated values.
    Csv,
    /// Newline-delimited JSON.
    Json,
    /// Arrow IPC file format (Feather v2).
    Arrow,
    /// A Delta Lake table (a folder or prefix holding `_delta_log/`); never inferred from
    /// an extension.
    Delta,
    /// Arrow data a program handed over in memory (a polars, pandas or pyarrow frame from
    /// Python, a polars `DataFrame` from Rust) in place of the dataset's `path`; never
    /// written in a config.
    Frame,
}

impl Format {
    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Arrow => "arrow",
            Format::Delta => "delta",
            Format::Frame => "frame",
        }
    }

    /// The format a file extension implies.
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "parquet" | "pq" => Some(Format::Parquet),
            "csv" | "tsv" => Some(Format::Csv),
            "json" | "jsonl" | "ndjson" => Some(Format::Json),
            "arrow" | "ipc" | "feather" => Some(Format::Arrow),
            _ => None,
        }
    }
}

/// `csv:` options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// First line holds column names (default true).
    pub header: bool,
    /// Field separator (default `,`; `\t` for `.tsv` files).
    pub delimiter: Option<u8>,
    /// Quote character (default `"`).
    pub quote: u8,
    /// Text read as NULL, besides empty fields (e.g. `NA`).
    pub null_value: Option<String>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            header: true,
            delimiter: None,
            quote: b'"',
            null_value: None,
        }
    }
}

/// `partitions:`: how `key=value` folder names become columns.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Partitioning {
    /// Detect `key=value` folders under a folder path (the default); columns are strings.
    #[default]
    Auto,
    /// Not partitioned: folder names are ignored.
    None,
    /// These partition columns, in folder order, with their types.
    Columns(Vec<(String, ColumnType)>),
}

/// One check on a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// Unique within the dataset: `kind(column)` unless `name:` is given.
    pub name: String,
    /// What is checked.
    pub kind: CheckKind,
    /// `severity:`.
    pub severity: Severity,
    /// `where:`: a SQL filter scoping the check.
    pub filter: Option<String>,
    /// `samples:`: failing rows to keep.
    pub samples: u32,
    /// The fail zone (status `fail`); `None` = never fails.
    pub fail: Option<Threshold>,
    /// The warn zone (status `warn`).
    pub warn: Option<Threshold>,
    /// `after:`: checks of the same dataset that must not fail, error or be skipped for
    /// this one to run (else it is `skipped`). Validated: each names another check of the
    /// dataset, and they form no cycle.
    pub after: Vec<Prerequisite>,
    /// Where the check is defined.
    pub span: Span,
}

/// A check named in another check's `after:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prerequisite {
    /// The check's name (`schema`, `not_null(x)`, or its `name:`).
    pub name: String,
    /// Where it is named.
    pub span: Span,
}

impl Check {
    /// The column(s) the check is about (empty for table-level checks).
    pub fn columns(&self) -> Vec<&str> {
        self.kind.columns()
    }
}

impl CheckKind {
    /// The column(s) the check is about (empty for table-level checks).
    pub fn columns(&self) -> Vec<&str> {
        use CheckKind::*;
        match self {
            NotNull { column }
            | AcceptedValues { column, .. }
            | ForbiddenValues { column, .. }
            | Range { column, .. }
            | Matches { column, .. }
            | Format { column, .. }
            | Length { column, .. }
            | Freshness { column }
            | References { column, .. } => vec![column.as_str()],
            Unique { columns, .. } => columns.iter().map(String::as_str).collect(),
            RowCount | Schema(_) | RowsSatisfy { .. } | Metric { .. } => vec![],
            Change { .. } | Anomaly(_) => vec![],
            Distribution(d) => vec![d.column.as_str()],
            WithinHistory(w) => vec![w.column.as_str()],
            ChangeVsPublished(c) => vec![c.column.as_str()],
            ForecastAccuracy(a) => vec![a.point.as_str()],
            Completeness(spec) => spec.columns(),
            QuantilesOrdered(q) => q.columns(),
            NotConstant { column, .. } => vec![column.as_str()],
            IntervalContains {
                lower,
                point,
                upper,
            } => vec![lower.as_str(), point.as_str(), upper.as_str()],
        }
    }
}

/// The kinds of check, with their options.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckKind {
    /// Number of rows.
    RowCount,
    /// No NULLs in a column.
    NotNull {
        /// The column.
        column: String,
    },
    /// No duplicate values of a column or composite key (NULLs ignored, unless
    /// `nulls: equal`).
    Unique {
        /// One column, or the columns of a composite key.
        columns: Vec<String>,
        /// `nulls: equal`: a NULL in a key column is a value like any other, so two rows
        /// with NULL there and the same other values are duplicates.
        nulls_equal: bool,
    },
    /// Every non-NULL value is in a list.
    AcceptedValues {
        /// The column.
        column: String,
        /// The allowed values.
        values: Vec<Literal>,
    },
    /// No value is in a list.
    ForbiddenValues {
        /// The column.
        column: String,
        /// The forbidden values.
        values: Vec<Literal>,
    },
    /// Values lie within bounds.
    Range {
        /// The column.
        column: String,
        /// Lower bound.
        min: Option<Literal>,
        /// Upper bound.
        max: Option<Literal>,
        /// Whether the bounds themselves are allowed (default true).
        inclusive: bool,
    },
    /// Values match a regular expression (Rust `regex` syntax; unanchored unless `^...$`).
    Matches {
        /// The column.
        column: String,
        /// The pattern.
        regex: String,
    },
    /// Values have a well-known format.
    Format {
        /// The column.
        column: String,
        /// The format.
        format: TextFormat,
    },
    /// String length (in characters) within bounds.
    Length {
        /// The column.
        column: String,
        /// Shortest allowed.
        min: Option<u64>,
        /// Longest allowed.
        max: Option<u64>,
    },
    /// Age of the newest value of a date/timestamp column.
    Freshness {
        /// The column.
        column: String,
    },
    /// Columns and their types.
    Schema(SchemaSpec),
    /// A SQL condition every row must meet.
    RowsSatisfy {
        /// The condition.
        condition: String,
    },
    /// Any SQL aggregate with thresholds.
    Metric {
        /// The aggregate expression, e.g. `avg(amount)`.
        sql: String,
        /// `group_by:`: the aggregate per group of these columns, every group within the
        /// bounds (empty: one value over the dataset).
        group_by: Vec<String>,
    },
    /// Every value exists in another dataset's key column.
    References {
        /// The column holding references.
        column: String,
        /// The dataset referred to.
        dataset: String,
        /// Its key column.
        key: String,
    },
    /// A metric against an earlier run of the same series.
    Change {
        /// The metric.
        metric: crate::MetricRef,
        /// `vs:`: which run.
        vs: crate::Baseline,
    },
    /// A metric against its own history.
    Anomaly(crate::AnomalySpec),
    /// A column's distribution against a reference (another dataset, or the published
    /// version of this one): Kolmogorov–Smirnov, PSI, chi-square.
    Distribution(DistributionSpec),
    /// Forecast values within `factor` × the historical range of an actuals dataset, per
    /// series.
    WithinHistory(WithinHistorySpec),
    /// The forecast against the currently published version of the same dataset, on
    /// overlapping keys: WAPE and the largest relative change per key.
    ChangeVsPublished(ChangeSpec),
    /// A forecast against the actuals once they arrive: interval coverage, MASE, WAPE.
    ForecastAccuracy(AccuracySpec),
    /// Every required combination of key values present exactly once.
    Completeness(crate::forecast::CompletenessSpec),
    /// Quantiles non-decreasing in level order (wide columns, or long rows per group).
    QuantilesOrdered(crate::forecast::QuantileOrder),
    /// No series whose `column` takes a single value.
    NotConstant {
        /// The columns identifying a series.
        series: Vec<String>,
        /// The column that must vary within each series.
        column: String,
    },
    /// `lower <= point <= upper` on every row.
    IntervalContains {
        /// The lower bound column.
        lower: String,
        /// The point forecast column.
        point: String,
        /// The upper bound column.
        upper: String,
    },
}

/// Another dataset named by a check (`actuals:`, `reference:`), with where it is named.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetRef {
    /// The dataset's name.
    pub name: String,
    /// Where the name is written.
    pub span: Span,
}

/// What a `distribution` check compares the column with.
#[derive(Clone, Debug, PartialEq)]
pub enum Reference {
    /// The currently published version of the same dataset (`reference: published`).
    Published,
    /// Another dataset.
    Dataset(DatasetRef),
}

/// `distribution:` options.
#[derive(Clone, Debug, PartialEq)]
pub struct DistributionSpec {
    /// The column compared.
    pub column: String,
    /// What it is compared with.
    pub reference: Reference,
    /// The reference's column (default: the same name).
    pub reference_column: Option<String>,
    /// PSI bins of a numeric column, on the reference's quantiles (default 10).
    pub bins: u32,
    /// `categorical:`: treat the values as categories (`None`: strings and booleans are
    /// categorical, numbers numeric).
    pub categorical: Option<bool>,
}

impl DistributionSpec {
    /// The reference's column.
    pub fn reference_column(&self) -> &str {
        self.reference_column.as_deref().unwrap_or(&self.column)
    }
}

/// `within_history:` options.
#[derive(Clone, Debug, PartialEq)]
pub struct WithinHistorySpec {
    /// The dataset of historical actuals.
    pub actuals: DatasetRef,
    /// Columns naming a series, in both datasets (empty: one series).
    pub series: Vec<String>,
    /// The forecast column checked.
    pub column: String,
    /// The actuals' column (default: the same name).
    pub actual_column: Option<String>,
    /// How far beyond the historical range a value may go (at least 1).
    pub factor: f64,
    /// The historical low as this quantile (default: the minimum).
    pub q_low: Option<f64>,
    /// The historical high as this quantile (default: the maximum).
    pub q_high: Option<f64>,
}

impl WithinHistorySpec {
    /// The actuals' column.
    pub fn actual_column(&self) -> &str {
        self.actual_column.as_deref().unwrap_or(&self.column)
    }
}

/// `change_vs_published:` options.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeSpec {
    /// Columns identifying a forecast row (series and date).
    pub keys: Vec<String>,
    /// The value compared.
    pub column: String,
}

/// `forecast_accuracy:` options.
#[derive(Clone, Debug, PartialEq)]
pub struct AccuracySpec {
    /// The dataset of actuals.
    pub actuals: DatasetRef,
    /// Columns joining a forecast row to its actual, in both datasets; the last one is the
    /// time (it orders the actuals), the others name the series.
    pub keys: Vec<String>,
    /// The point forecast column.
    pub point: String,
    /// The actuals' column (default: the same name as `point`).
    pub actual_column: Option<String>,
    /// The interval's lower bound column.
    pub lower: Option<String>,
    /// The interval's upper bound column.
    pub upper: Option<String>,
    /// The seasonal period of the naive baseline of MASE, in rows of a series (default 1).
    pub season: u32,
}

impl AccuracySpec {
    /// The actuals' column.
    pub fn actual_column(&self) -> &str {
        self.actual_column.as_deref().unwrap_or(&self.point)
    }
}

impl CheckKind {
    /// The kind, in the registry ([`crate::kinds`]).
    pub fn kind(&self) -> crate::kinds::Kind {
        use crate::kinds::Kind as K;
        use CheckKind::*;
        match self {
            RowCount => K::RowCount,
            NotNull { .. } => K::NotNull,
            Unique { .. } => K::Unique,
            AcceptedValues { .. } => K::AcceptedValues,
            ForbiddenValues { .. } => K::ForbiddenValues,
            Range { .. } => K::Range,
            Matches { .. } => K::Matches,
            Format { .. } => K::Format,
            Length { .. } => K::Length,
            Freshness { .. } => K::Freshness,
            Schema(_) => K::Schema,
            RowsSatisfy { .. } => K::RowsSatisfy,
            Metric { .. } => K::Metric,
            References { .. } => K::References,
            Change { .. } => K::Change,
            Anomaly(_) => K::Anomaly,
            Distribution(_) => K::Distribution,
            WithinHistory(_) => K::WithinHistory,
            ChangeVsPublished(_) => K::ChangeVsPublished,
            ForecastAccuracy(_) => K::ForecastAccuracy,
            Completeness(_) => K::Completeness,
            QuantilesOrdered(_) => K::QuantilesOrdered,
            NotConstant { .. } => K::NotConstant,
            IntervalContains { .. } => K::IntervalContains,
        }
    }

    /// The other datasets the check reads (`references`, `completeness`'s `from:`).
    pub fn datasets(&self) -> Vec<&str> {
        match self {
            CheckKind::References { dataset, .. } => vec![dataset.as_str()],
            CheckKind::Completeness(spec) => spec.datasets(),
            _ => vec![],
        }
    }

    /// The config spelling of the kind.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// Checks that count failing rows (thresholds `max_invalid` / `max_invalid_pct`).
    pub fn is_row_level(&self) -> bool {
        self.kind().is_row_level()
    }
}

/// `schema:` options.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaSpec {
    /// Required columns and their types (`any` = present, any type).
    pub columns: Vec<(String, ColumnType)>,
    /// Columns that must not exist.
    pub forbidden: Vec<String>,
    /// Whether columns not listed are allowed (default true).
    pub allow_extra: bool,
}

/// A literal value in a check (accepted values, range bounds).
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (also dates and timestamps, compared after a cast).
    Str(String),
    /// A boolean.
    Bool(bool),
}

impl Literal {
    /// The value as a SQL literal.
    pub fn to_sql(&self) -> String {
        match self {
            Literal::Int(i) => i.to_string(),
            Literal::Float(f) => format!("{f:?}"),
            Literal::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Literal::Bool(b) => b.to_string(),
        }
    }

    /// Whether this is a number.
    pub fn is_number(&self) -> bool {
        matches!(self, Literal::Int(_) | Literal::Float(_))
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Float(x) => write!(f, "{x}"),
            Literal::Str(s) => write!(f, "'{s}'"),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// Well-known text formats for the `format` check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFormat {
    /// `local@domain.tld`.
    Email,
    /// 8-4-4-4-12 hex digits.
    Uuid,
    /// `YYYY-MM-DD` with a valid month and day.
    IsoDate,
    /// `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]` (a space instead of `T` allowed).
    IsoTimestamp,
    /// E.164-style phone numbers: `+`, 7 to 15 digits, optional spaces, dots, dashes, parentheses.
    Phone,
    /// `http://` or `https://` URLs.
    Url,
}

/// Every text format's config name.
pub const TEXT_FORMATS: &[&str] = &["email", "uuid", "iso_date", "iso_timestamp", "phone", "url"];

impl TextFormat {
    /// Parses a config name.
    pub fn parse(name: &str) -> Option<TextFormat> {
        Some(match name {
            "email" => TextFormat::Email,
            "uuid" => TextFormat::Uuid,
            "iso_date" => TextFormat::IsoDate,
            "iso_timestamp" => TextFormat::IsoTimestamp,
            "phone" => TextFormat::Phone,
            "url" => TextFormat::Url,
            _ => return None,
        })
    }

    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            TextFormat::Email => "email",
            TextFormat::Uuid => "uuid",
            TextFormat::IsoDate => "iso_date",
            TextFormat::IsoTimestamp => "iso_timestamp",
            TextFormat::Phone => "phone",
            TextFormat::Url => "url",
        }
    }

    /// The regular expression a value must match (full match).
    pub fn regex(self) -> &'static str {
        match self {
            TextFormat::Email => r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$",
            TextFormat::Uuid => {
                r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            }
            TextFormat::IsoDate => r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",
            TextFormat::IsoTimestamp => {
                r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?$"
            }
            TextFormat::Phone => r"^\+?[0-9 ().-]{7,20}$",
            TextFormat::Url => r"^https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s]*)?$",
        }
    }
}

/// A column type named in a `schema` check (or a partition column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// Any type: the column must exist.
    Any,
    /// Signed integer of this many bits.
    Int(u8),
    /// Unsigned integer of this many bits.
    UInt(u8),
    /// Float of this many bits.
    Float(u8),
    /// Decimal; precision and scale when given.
    Decimal(Option<(u8, i8)>),
    /// Any string type (utf8, large utf8, utf8 view).
    String,
    /// Boolean.
    Boolean,
    /// Date (32 or 64 bit).
    Date,
    /// Timestamp without time zone, any unit.
    Timestamp,
    /// Timestamp with a time zone, any unit.
    TimestampTz,
    /// Time of day.
    Time,
    /// Binary.
    Binary,
}

/// Type names accepted in `schema` checks (Arrow and SQL spellings).
pub const COLUMN_TYPES: &[&str] = &[
    "any",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "tinyint",
    "smallint",
    "int",
    "integer",
    "bigint",
    "float32",
    "float64",
    "float",
    "real",
    "double",
    "decimal",
    "string",
    "utf8",
    "varchar",
    "text",
    "bool",
    "boolean",
    "date",
    "timestamp",
    "timestamptz",
    "time",
    "binary",
];

impl ColumnType {
    /// Parses a type name (`int64`, `bigint`, `decimal(10,2)`, `varchar`...).
    pub fn parse(name: &str) -> Option<ColumnType> {
        let n = name.trim().to_ascii_lowercase();
        if let Some(args) = n.strip_prefix("decimal(").and_then(|r| r.strip_suffix(')')) {
            let (p, s) = args.split_once(',')?;
            return Some(ColumnType::Decimal(Some((
                p.trim().parse().ok()?,
                s.trim().parse().ok()?,
            ))));
        }
        Some(match n.as_str() {
            "any" => ColumnType::Any,
            "int8" | "tinyint" => ColumnType::Int(8),
            "int16" | "smallint" => ColumnType::Int(16),
            "int32" | "int" | "integer" => ColumnType::Int(32),
            "int64" | "bigint" => ColumnType::Int(64),
            "uint8" => ColumnType::UInt(8),
            "uint16" => ColumnType::UInt(16),
            "uint32" => ColumnType::UInt(32),
            "uint64" => ColumnType::UInt(64),
            "float32" | "float" | "real" => ColumnType::Float(32),
            "float64" | "double" => ColumnType::Float(64),
            "decimal" | "numeric" => ColumnType::Decimal(None),
            "string" | "utf8" | "varchar" | "text" | "large_string" | "large_utf8" => {
                ColumnType::String
            }
            "bool" | "boolean" => ColumnType::Boolean,
            "date" | "date32" | "date64" => ColumnType::Date,
            "timestamp" | "datetime" => ColumnType::Timestamp,
            "timestamptz" => ColumnType::TimestampTz,
            "time" => ColumnType::Time,
            "binary" | "bytes" | "blob" => ColumnType::Binary,
            _ => return None,
        })
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Any => f.write_str("any"),
            ColumnType::Int(b) => write!(f, "int{b}"),
            ColumnType::UInt(b) => write!(f, "uint{b}"),
            ColumnType::Float(b) => write!(f, "float{b}"),
            ColumnType::Decimal(None) => f.write_str("decimal"),
            ColumnType::Decimal(Some((p, s))) => write!(f, "decimal({p},{s})"),
            ColumnType::String => f.write_str("string"),
            ColumnType::Boolean => f.write_str("boolean"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Timestamp => f.write_str("timestamp"),
            ColumnType::TimestampTz => f.write_str("timestamptz"),
            ColumnType::Time => f.write_str("time"),
            ColumnType::Binary => f.write_str("binary"),
        }
    }
}

/// A threshold zone: the values a check's observation must stay within.
#[derive(Clone, Debug, PartialEq)]
pub enum Threshold {
    /// For `row_count` and `metric`: the observed value must be within bounds.
    Bounds {
        /// Smallest allowed value.
        min: Option<f64>,
        /// Largest allowed value.
        max: Option<f64>,
        /// The only allowed value.
        equals: Option<f64>,
    },
    /// For row-level checks: how many failing rows are tolerated.
    Invalid {
        /// At most this many failing rows.
        max_count: Option<u64>,
        /// At most this percentage (0-100) of the rows in scope.
        max_pct: Option<f64>,
    },
    /// For `freshness`: the newest value must be at most this old.
    MaxAge(Duration),
    /// For `schema`: any mismatch violates.
    Exact,
    /// For `change`: the change in percent of the baseline must be within bounds.
    ChangePct {
        /// Smallest allowed change, in percent (e.g. -20).
        min: Option<f64>,
        /// Largest allowed change, in percent.
        max: Option<f64>,
    },
    /// For `anomaly`: the absolute score must be at most this.
    MaxScore(f64),
    /// Limits on statistics a comparison reports (`max_psi`, `min_ks_p`...).
    Limits(Vec<Limit>),
}

/// One limit on a statistic: `max_psi: 0.25`, `min_ks_p: 0.05`.
#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    /// The key as written: `max_<stat>` or `min_<stat>`.
    pub key: &'static str,
    /// The bound.
    pub value: f64,
}

impl Limit {
    /// The statistic bounded (`psi` for `max_psi`).
    pub fn stat(&self) -> &'static str {
        self.key
            .strip_prefix("max_")
            .or_else(|| self.key.strip_prefix("min_"))
            .unwrap_or(self.key)
    }

    /// Whether it is an upper bound (`max_...`).
    pub fn is_max(&self) -> bool {
        self.key.starts_with("max_")
    }

    /// Whether `v` breaks it (NaN breaks every limit).
    pub fn violated_by(&self, v: f64) -> bool {
        if v.is_nan() {
            return true;
        }
        if self.is_max() {
            v > self.value
        } else {
            v < self.value
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Threshold::Bounds {
                equals: Some(e), ..
            } => write!(f, "= {}", num(*e)),
            Threshold::Bounds {
                min: Some(lo),
                max: Some(hi),
                ..
            } => write!(f, "between {} and {}", num(*lo), num(*hi)),
            Threshold::Bounds { min: Some(lo), .. } => write!(f, ">= {}", num(*lo)),
            Threshold::Bounds { max: Some(hi), .. } => write!(f, "<= {}", num(*hi)),
            Threshold::Bounds { .. } => f.write_str("any"),
            Threshold::Invalid { max_count, max_pct } => {
                let mut parts = Vec::new();
                if let Some(c) = max_count {
                    parts.push(format!("max_invalid = {c}"));
                }
                if let Some(p) = max_pct {
                    parts.push(format!("max_invalid_pct = {}%", num(*p)));
                }
                f.write_str(&parts.join(", "))
            }
            Threshold::MaxAge(d) => write!(f, "max_age = {}", HumanDuration(*d)),
            Threshold::Exact => f.write_str("exact"),
            Threshold::ChangePct {
                min: Some(lo),
                max: Some(hi),
            } => write!(f, "change between {}% and {}%", num(*lo), num(*hi)),
            Threshold::ChangePct { min: Some(lo), .. } => write!(f, "change >= {}%", num(*lo)),
            Threshold::ChangePct { max: Some(hi), .. } => write!(f, "change <= {}%", num(*hi)),
            Threshold::ChangePct { .. } => f.write_str("any change"),
            Threshold::MaxScore(s) => write!(f, "score <= {}", num(*s)),
            Threshold::Limits(limits) => f.write_str(
                &limits
                    .iter()
                    .map(|l| format!("{} = {}", l.key, num(l.value)))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        }
    }
}

/// A number without a trailing `.0`.
pub fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// A step of the pipeline: which datasets it reads and writes.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// Its name (the key under `stages:`).
    pub name: String,
    /// Where it is defined.
    pub span: Span,
    /// Datasets it reads.
    pub inputs: Vec<String>,
    /// Datasets it writes.
    pub outputs: Vec<String>,
    /// Who runs it.
    pub owner: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// Its SQL (`sql:`, or the text of `sql_file:`), from which lineage infers the tables it
    /// reads and writes.
    pub sql: Option<StageSql>,
    /// `dialect:`: the dialect of its SQL (`None`: the `lineage:` default).
    pub dialect: Option<crate::Dialect>,
}

/// SQL of a stage, and where it came from (for error locations).
#[derive(Clone, Debug, PartialEq)]
pub struct StageSql {
    /// The SQL text.
    pub text: String,
    /// `sql_file:` resolved against the config's folder, when the SQL is in a file.
    pub file: Option<PathBuf>,
    /// Where `sql:` / `sql_file:` is in the config.
    pub span: Span,
}

/// Something outside the pipeline that consumes datasets: a dashboard, a forecast, an ML
/// model, an application (`exposures:`).
#[derive(Clone, Debug, PartialEq)]
pub struct Exposure {
    /// Its name (the key under `exposures:`).
    pub name: String,
    /// Where it is defined.
    pub span: Span,
    /// `dashboard`, `notebook`, `analysis`, `ml`, `application`, `forecast` or `other`.
    pub kind: String,
    /// What it reads: datasets, or nodes known from dbt or OpenLineage.
    pub depends_on: Vec<String>,
    /// Who to call.
    pub owner: Option<String>,
    /// How critical (1 = most).
    pub tier: Option<u8>,
    /// Tags.
    pub tags: Vec<String>,
    /// A link.
    pub url: Option<String>,
    /// What it is.
    pub description: Option<String>,
}

/// Exposure types accepted in `type:`.
pub const EXPOSURE_TYPES: &[&str] = &[
    "dashboard",
    "notebook",
    "analysis",
    "ml",
    "application",
    "forecast",
    "other",
];

/// `lineage:`: the other sources of the lineage graph.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineageSources {
    /// dbt `manifest.json` files.
    pub dbt: Vec<PathBuf>,
    /// OpenLineage RunEvent files (NDJSON).
    pub openlineage: Vec<PathBuf>,
    /// Include dbt tests as nodes.
    pub include_tests: bool,
    /// `mapping:`: which nodes of other sources are a sluice dataset.
    pub mapping: Vec<LineageMapping>,
    /// `dialect:`: the SQL dialect of stages that do not name theirs.
    pub dialect: crate::Dialect,
}

/// One `mapping:` entry: a dataset and the ids it has elsewhere (a dbt unique_id, an
/// OpenLineage `namespace/name`, a table name in stage SQL).
#[derive(Clone, Debug, PartialEq)]
pub struct LineageMapping {
    /// The sluice dataset.
    pub dataset: String,
    /// Where the entry is.
    pub span: Span,
    /// Its names in other sources.
    pub ids: Vec<String>,
}

/// A tolerance on a difference: absolute, relative (percent of the source), or exact.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tolerance {
    /// |target − source| may be at most this.
    pub abs: Option<f64>,
    /// |target − source| / |source| × 100 may be at most this.
    pub pct: Option<f64>,
}

impl Tolerance {
    /// Whether `diff` between `source` and `target` is within the tolerance (0 when none).
    pub fn allows(&self, source: f64, target: f64) -> bool {
        let diff = (target - source).abs();
        match (self.abs, self.pct) {
            (None, None) => diff == 0.0,
            (abs, pct) => {
                abs.is_some_and(|a| diff <= a)
                    || pct.is_some_and(|p| {
                        if source == 0.0 {
                            diff == 0.0
                        } else {
                            diff / source.abs() * 100.0 <= p
                        }
                    })
            }
        }
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.abs, self.pct) {
            (None, None) => f.write_str("exact"),
            (Some(a), None) => write!(f, "± {}", num(a)),
            (None, Some(p)) => write!(f, "± {}%", num(p)),
            (Some(a), Some(p)) => write!(f, "± {} or {}%", num(a), num(p)),
        }
    }
}

/// An aggregate compared between two datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFunc {
    /// `sum`.
    Sum,
    /// `avg`.
    Avg,
    /// `min`.
    Min,
    /// `max`.
    Max,
    /// `count_distinct`.
    CountDistinct,
}

impl AggFunc {
    /// Config spelling.
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::CountDistinct => "count_distinct",
        }
    }

    /// Every aggregate's config spelling.
    pub const ALL: [AggFunc; 5] = [
        AggFunc::Sum,
        AggFunc::Avg,
        AggFunc::Min,
        AggFunc::Max,
        AggFunc::CountDistinct,
    ];
}

/// One aggregate of one column compared between the two sides.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateParity {
    /// The aggregate.
    pub func: AggFunc,
    /// The column, by the target's name.
    pub column: String,
    /// How far apart the two values may be.
    pub tolerance: Tolerance,
}

/// Timestamp precision both sides are truncated to before comparing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    /// Seconds.
    Second,
    /// Milliseconds.
    Millisecond,
    /// Microseconds.
    Microsecond,
    /// Nanoseconds.
    Nanosecond,
}

impl Precision {
    /// Parses `s`, `ms`, `us`, `ns`.
    pub fn parse(s: &str) -> Option<Precision> {
        Some(match s {
            "s" | "second" | "seconds" => Precision::Second,
            "ms" | "millisecond" | "milliseconds" => Precision::Millisecond,
            "us" | "microsecond" | "microseconds" => Precision::Microsecond,
            "ns" | "nanosecond" | "nanoseconds" => Precision::Nanosecond,
            _ => return None,
        })
    }
}

/// How two values of a compared column are judged equal.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CompareOpts {
    /// Numbers may differ by this much.
    pub tolerance: Option<f64>,
    /// Ignore leading and trailing spaces of strings.
    pub trim: bool,
    /// Ignore the case of strings.
    pub ignore_case: bool,
    /// Truncate timestamps to this precision (default: the coarser of the two sides').
    pub precision: Option<Precision>,
}

/// A column compared row by row.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareColumn {
    /// Its name (the target's, for parity; the canonical one, for reconciliation).
    pub column: String,
    /// How values are judged equal.
    pub opts: CompareOpts,
}

/// Which columns a keyed diff compares.
#[derive(Clone, Debug, PartialEq)]
pub enum Compare {
    /// These columns.
    Columns(Vec<CompareColumn>),
    /// Every non-key column both sides have (after `column_map`), with these options.
    All(CompareOpts),
}

/// `parity:` entry: this dataset (the target) compared with `against` (the source).
#[derive(Clone, Debug, PartialEq)]
pub struct Parity {
    /// Unique within the dataset, with its checks: `parity(<against>)` by default.
    pub name: String,
    /// The source dataset.
    pub against: String,
    /// `severity:`.
    pub severity: Severity,
    /// `where:` on this (the target) side.
    pub filter: Option<String>,
    /// `against_where:` on the source side.
    pub against_filter: Option<String>,
    /// Samples of each kind of difference.
    pub samples: u32,
    /// Row counts compared, with this tolerance.
    pub row_count: Option<Tolerance>,
    /// Aggregates compared.
    pub aggregates: Vec<AggregateParity>,
    /// Aggregates (and the row count) are compared per group of these columns.
    pub group_by: Vec<String>,
    /// Keys of the keyed row diff (empty: no row diff).
    pub keys: Vec<String>,
    /// Columns compared on matched keys.
    pub compare: Compare,
    /// Target column name -> source column name, where they differ.
    pub column_map: Vec<(String, String)>,
    /// Rows of the source missing from the target that are tolerated.
    pub max_missing: u64,
    /// Rows of the target not in the source that are tolerated.
    pub max_extra: u64,
    /// Matched rows with differing values that are tolerated.
    pub max_changed: u64,
    /// Duplicated key values (either side) that are tolerated.
    pub max_duplicates: u64,
    /// Where it is defined.
    pub span: Span,
}

impl Parity {
    /// The source's name for target column `column`.
    pub fn source_column<'a>(&'a self, column: &'a str) -> &'a str {
        self.column_map
            .iter()
            .find(|(t, _)| t == column)
            .map(|(_, s)| s.as_str())
            .unwrap_or(column)
    }
}

/// `reconcile:` group: the same facts as seen by several datasets.
#[derive(Clone, Debug, PartialEq)]
pub struct Reconcile {
    /// Its name, unique in the config.
    pub name: String,
    /// The stage it is declared on, if any.
    pub stage: Option<String>,
    /// The datasets compared (two or more).
    pub datasets: Vec<String>,
    /// Key columns (canonical names).
    pub key: Vec<String>,
    /// Measures compared across datasets (canonical names).
    pub measures: Vec<CompareColumn>,
    /// Per dataset: canonical column name -> its own name, where they differ.
    pub columns: Vec<(String, Vec<(String, String)>)>,
    /// Per dataset: a SQL filter.
    pub filters: Vec<(String, String)>,
    /// `severity:`.
    pub severity: Severity,
    /// Samples kept.
    pub samples: u32,
    /// Keys on which two datasets disagree that are tolerated.
    pub max_disagreements: u64,
    /// Keys present in some datasets only that are tolerated.
    pub max_missing: u64,
    /// Duplicated key values that are tolerated.
    pub max_duplicates: u64,
    /// Where it is defined.
    pub span: Span,
}

impl Reconcile {
    /// `dataset`'s own name for canonical column `column`.
    pub fn column<'a>(&'a self, dataset: &str, column: &'a str) -> &'a str {
        self.columns
            .iter()
            .find(|(d, _)| d == dataset)
            .and_then(|(_, m)| m.iter().find(|(c, _)| c == column))
            .map(|(_, own)| own.as_str())
            .unwrap_or(column)
    }

    /// The filter on `dataset`, if any.
    pub fn filter(&self, dataset: &str) -> Option<&str> {
        self.filters
            .iter()
            .find(|(d, _)| d == dataset)
            .map(|(_, f)| f.as_str())
    }
}
