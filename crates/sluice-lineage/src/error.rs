//! Why a lineage graph could not be built or queried.

use std::path::PathBuf;

/// Result of lineage operations.
pub type Result<T, E = LineageError> = std::result::Result<T, E>;

/// What went wrong, with what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LineageError {
    /// The merged graph has cycles; each is listed in the order its edges run.
    #[error(
        "the lineage has a cycle: {} (each reads what another writes); lineage must be a DAG",
        cycles.iter().map(|c| c.join(" -> ")).collect::<Vec<_>>().join("; ")
    )]
    Cycle {
        /// Each cycle's node names, starting from its first name in sort order and following
        /// the edges back to it.
        cycles: Vec<Vec<String>>,
    },
    /// A name no node has.
    #[error("unknown node `{name}`{}", match did_you_mean {
        Some(s) => format!("; {}", sluice_spec::suggest::phrase(s)),
        None => "; `sluice lineage show` lists every node".to_string(),
    })]
    UnknownNode {
        /// The name asked for.
        name: String,
        /// The closest existing name.
        did_you_mean: Option<String>,
    },
    /// A name several nodes share.
    #[error("`{name}` names {} nodes: {}; use one of these ids instead", candidates.len(), candidates.join(", "))]
    Ambiguous {
        /// The name asked for.
        name: String,
        /// The ids of the nodes with that name.
        candidates: Vec<String>,
    },
    /// A reference made somewhere (an exposure's `depends_on`, a `mapping` entry) that
    /// failed; `at` says where.
    #[error("{at}: {what}: {cause}")]
    Reference {
        /// `file:line:col` of the reference.
        at: String,
        /// What made it (`exposure `revenue` depends_on`).
        what: String,
        /// Why it failed (part of the message, not a separate cause).
        cause: Box<LineageError>,
    },
    /// A file could not be read.
    #[error("cannot read {what} {}", path.display())]
    Read {
        /// What the file is (`dbt manifest`).
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A dbt manifest that is not what dbt writes.
    #[error("{}: {message}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong, and what to do.
        message: String,
    },
    /// A line of an OpenLineage events file that is not a RunEvent.
    #[error("{}:{line}: {message}", path.display())]
    OpenLineage {
        /// The events file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Stage SQL that does not parse.
    #[error("{at}: stage `{stage}`: its SQL does not parse as {dialect} SQL{}: {message}{}", match sql_pos {
        Some((l, c)) => format!(" (SQL line {l}, column {c})"),
        None => String::new(),
    }, match suggestion {
        Some(d) => format!("; it parses as {d} SQL: add `dialect: {d}` to the stage (or to `lineage:` for every stage)"),
        None if *dialect == sluice_spec::Dialect::Generic => "; if it is written for one database, name it with `dialect:` (postgres, snowflake, bigquery, redshift, mysql, mssql, hive, databricks, duckdb, sqlite, clickhouse)".to_string(),
        None => String::new(),
    })]
    Sql {
        /// Where the SQL is (`sluice.yaml:12:5`, or `sql/clean.sql:3:7` for a `sql_file`).
        at: String,
        /// The stage.
        stage: String,
        /// Line and column within the SQL text, for inline `sql:`.
        sql_pos: Option<(u64, u64)>,
        /// The parser's message.
        message: String,
        /// The dialect it was parsed in.
        dialect: sluice_spec::Dialect,
        /// A dialect in which it parses, if one does.
        suggestion: Option<sluice_spec::Dialect>,
    },
    /// A selector that is not dbt's grammar, or uses what sluice does not support.
    #[error("invalid selector `{selector}`: {message}")]
    Selector {
        /// The selector as given.
        selector: String,
        /// What is wrong, and what to write instead.
        message: String,
    },
}

impl LineageError {
    /// Whether the error comes from reading a file (an environment problem) rather than from
    /// what the user asked or wrote.
    pub fn is_io(&self) -> bool {
        match self {
            LineageError::Read { .. } => true,
            LineageError::Reference { cause, .. } => cause.is_io(),
            _ => false,
        }
    }
}
