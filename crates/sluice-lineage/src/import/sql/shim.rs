//! Dialect shims: rewrites of constructs a dialect has that the SQL parser does not know
//! yet, tried only when the SQL as written does not parse (errors always point into the
//! SQL as written). Each shim keeps what the statement reads and writes.
//!
//! | dialect | construct | read as |
//! | --- | --- | --- |
//! | databricks, hive | `CREATE TABLE t … USING parquet` (a data source) | without `USING …` |
//! | databricks, hive | `CACHE [LAZY] TABLE t`, `UNCACHE TABLE t` | a statement that reads nothing |
//! | databricks | `MERGE … UPDATE SET *`, `INSERT *` | explicit (placeholder) columns |
//! | postgres | `CREATE UNLOGGED TABLE`, `… WITH [NO] DATA` | a plain `CREATE TABLE` |
//! | mssql | statements without semicolons, `GO` | each statement ended by `;` |

use std::sync::LazyLock;

use regex::Regex;
use sluice_spec::Dialect;

struct Shim {
    dialects: &'static [Dialect],
    pattern: &'static str,
    replacement: &'static str,
}

const SPARK: &[Dialect] = &[Dialect::Databricks, Dialect::Hive];

const SHIMS: &[Shim] = &[
    Shim {
        dialects: SPARK,
        pattern: r"(?i)\bUSING\s+(parquet|delta|csv|json|orc|avro|text|iceberg|jdbc|hive)\b",
        replacement: "",
    },
    Shim {
        dialects: SPARK,
        pattern: r"(?i)\b(?:UN)?CACHE\s+(?:LAZY\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?[\w.`]+\s*(;|$)",
        replacement: "SELECT 1$1",
    },
    Shim {
        dialects: &[Dialect::Databricks],
        pattern: r"(?i)\bUPDATE\s+SET\s+\*",
        replacement: "UPDATE SET sluice_all_columns = sluice_all_columns",
    },
    Shim {
        dialects: &[Dialect::Databricks],
        pattern: r"(?i)\bINSERT\s+\*",
        replacement: "INSERT (sluice_all_columns) VALUES (sluice_all_columns)",
    },
    Shim {
        dialects: &[Dialect::Postgres, Dialect::Redshift],
        pattern: r"(?i)\bCREATE\s+UNLOGGED\s+TABLE\b",
        replacement: "CREATE TABLE",
    },
    Shim {
        dialects: &[Dialect::Postgres, Dialect::Redshift],
        pattern: r"(?i)\s+WITH\s+(?:NO\s+)?DATA\s*(;|$)",
        replacement: "$1",
    },
];

static COMPILED: LazyLock<Vec<(&'static [Dialect], Regex, &'static str)>> = LazyLock::new(|| {
    SHIMS
        .iter()
        .map(|s| {
            (
                s.dialects,
                Regex::new(s.pattern).expect("shim patterns are valid"),
                s.replacement,
            )
        })
        .collect()
});

/// `sql` with `dialect`'s shims applied, if any changed it.
pub(super) fn rewrite(sql: &str, dialect: Dialect) -> Option<String> {
    let mut out = sql.to_string();
    for (dialects, re, replacement) in COMPILED.iter() {
        if dialects.contains(&dialect) {
            out = re.replace_all(&out, *replacement).into_owned();
        }
    }
    if dialect == Dialect::MsSql {
        out = tsql_semicolons(&out);
    }
    (out != sql).then_some(out)
}

/// Keywords that start a T-SQL statement at the start of a line.
const TSQL_STARTS: &[&str] = &[
    "DECLARE", "SET", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE",
    "EXEC", "EXECUTE", "PRINT", "IF", "WHILE", "RETURN", "USE", "SELECT", "WITH",
];

/// T-SQL needs no `;` between statements: end each one where the next starts on a new
/// line (a `SET` inside an `UPDATE`, or a `SELECT`/`WITH` feeding an `INSERT`, continues
/// it), and read `GO` as a separator.
fn tsql_semicolons(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut current: Option<String> = None;
    let mut last = String::new();
    for line in sql.lines() {
        let trimmed = line.trim();
        let first = trimmed
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        if first == "GO" && trimmed.len() == 2 {
            // A batch separator: end the statement before it, if it is not ended yet.
            if !last.is_empty() && !last.ends_with(';') {
                out.push(';');
            }
            last = ";".to_string();
            current = None;
            continue;
        }
        let continues = matches!(
            (current.as_deref(), first.as_str()),
            (Some("UPDATE" | "MERGE"), "SET")
                | (
                    Some("INSERT" | "CREATE" | "ALTER" | "DECLARE"),
                    "SELECT" | "WITH"
                )
                | (
                    Some("WITH"),
                    "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "MERGE"
                )
        );
        let after_open = {
            let l = last.to_ascii_uppercase();
            l.is_empty()
                || l.ends_with(';')
                || l.ends_with(',')
                || l.ends_with('(')
                || l.ends_with(" AS")
                || l == "AS"
                || l.ends_with("BEGIN")
                || l.ends_with("THEN")
                || l.ends_with("ELSE")
        };
        if TSQL_STARTS.contains(&first.as_str()) && !continues {
            if !after_open {
                out.push(';');
            }
            current = Some(first);
        }
        out.push('\n');
        out.push_str(line);
        if !trimmed.is_empty() {
            last = trimmed.to_string();
            if last.ends_with(';') {
                current = None;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsql_statements_get_their_semicolons_and_continuations_do_not() {
        let sql = "DECLARE @n INT\nSET @n = 5\nUPDATE t\nSET v = 1\nINSERT INTO b\nSELECT * FROM a\nGO\nDELETE FROM c";
        let out = tsql_semicolons(sql);
        assert_eq!(
            out,
            "\nDECLARE @n INT;\nSET @n = 5;\nUPDATE t\nSET v = 1;\nINSERT INTO b\nSELECT * FROM a;\nDELETE FROM c"
        );
    }

    #[test]
    fn shims_apply_only_to_their_dialects() {
        let sql = "CREATE TABLE t USING parquet AS SELECT 1";
        assert!(rewrite(sql, Dialect::Databricks).is_some());
        assert!(rewrite(sql, Dialect::Postgres).is_none());
    }
}
