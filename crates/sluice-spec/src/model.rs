//! The typed config: what a valid `sluice.yaml` means.
//!
//! Produced by [`crate::load`]; every value here has been checked, so the engine can trust
//! it. Spans are kept on datasets and checks so runtime messages can still say where in the
//! file a check was defined.

use std::fmt;
use std::path::PathBuf;
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
}

impl Config {
    /// The dataset called `name`.
    pub fn dataset(&self, name: &str) -> Option<&Dataset> {
        self.datasets.iter().find(|d| d.name == name)
    }

    /// `file:line:col` of a span in this config.
    pub fn location(&self, span: Span) -> Location {
        self.file.location(span.start)
    }
}

/// `defaults:`: values every check inherits unless it sets its own.
#[derive(Clone, Debug, PartialEq)]
pub struct Defaults {
    /// Severity of checks that don't say.
    pub severity: Severity,
    /// Failing-row samples kept per failed check.
    pub samples: u32,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            severity: Severity::Error,
            samples: 5,
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

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warn => "warn",
        })
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
    /// `path:` resolved against the config's folder.
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
    /// The checks, in file order (multi-column `not_null` already expanded).
    pub checks: Vec<Check>,
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
}

impl Format {
    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Arrow => "arrow",
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
    /// Where the check is defined.
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
            Unique { columns } => columns.iter().map(String::as_str).collect(),
            RowCount | Schema(_) | RowsSatisfy { .. } | Metric { .. } => vec![],
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
    /// No duplicate values of a column or composite key (NULLs ignored).
    Unique {
        /// One column, or the columns of a composite key.
        columns: Vec<String>,
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
}

impl CheckKind {
    /// The config spelling of the kind.
    pub fn name(&self) -> &'static str {
        use CheckKind::*;
        match self {
            RowCount => "row_count",
            NotNull { .. } => "not_null",
            Unique { .. } => "unique",
            AcceptedValues { .. } => "accepted_values",
            ForbiddenValues { .. } => "forbidden_values",
            Range { .. } => "range",
            Matches { .. } => "matches",
            Format { .. } => "format",
            Length { .. } => "length",
            Freshness { .. } => "freshness",
            Schema(_) => "schema",
            RowsSatisfy { .. } => "rows_satisfy",
            Metric { .. } => "metric",
            References { .. } => "references",
        }
    }

    /// Checks that count failing rows (thresholds `max_invalid` / `max_invalid_pct`).
    pub fn is_row_level(&self) -> bool {
        !matches!(
            self,
            CheckKind::RowCount
                | CheckKind::Freshness { .. }
                | CheckKind::Schema(_)
                | CheckKind::Metric { .. }
        )
    }
}

/// Every check kind's config name.
pub const CHECK_KINDS: &[&str] = &[
    "row_count",
    "not_null",
    "unique",
    "accepted_values",
    "forbidden_values",
    "range",
    "matches",
    "format",
    "length",
    "freshness",
    "schema",
    "rows_satisfy",
    "metric",
    "references",
];

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
