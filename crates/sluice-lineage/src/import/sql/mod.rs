//! Tables a stage's SQL reads and writes, with the SQL parser DataFusion uses, in the
//! stage's dialect.
//!
//! A stage's SQL is a script: one or more statements (procedure bodies and `BEGIN … END`,
//! `IF` and `WHILE` blocks included), analysed in order ([`script`]). Each statement says
//! what it reads, writes, creates, drops and renames ([`statement`]); table names are
//! resolved against the CTEs in scope where they appear ([`scope`]). Unquoted names are
//! lower-cased, as DataFusion does; quoted ones keep their case. Spark's ``parquet.`path` ``
//! is the path, not a table.

pub mod columns;
mod scope;
mod script;
mod shim;
mod statement;

use sluice_spec::Dialect;
use sqlparser::dialect::{self as sd};
use sqlparser::parser::{Parser, ParserError};

/// What a piece of SQL reads and writes, each sorted and distinct.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableFlow {
    /// Tables (or paths) read, less the script's internal tables.
    pub reads: Vec<String>,
    /// Tables (or paths) written, less the script's internal tables.
    pub writes: Vec<String>,
    /// Tables the SQL writes that it also reads (`INSERT OVERWRITE t SELECT … FROM t`):
    /// kept apart from `reads` so that the graph gets no cycle.
    pub self_reads: Vec<String>,
    /// Column-level lineage into the tables written (see [`columns`]).
    pub columns: Vec<columns::ColumnEdge>,
}

/// SQL that does not parse: the parser's message and, when it gives one, the position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlError {
    /// The message, without the position.
    pub message: String,
    /// 1-based line and column in the SQL text.
    pub pos: Option<(u64, u64)>,
    /// The dialect it was parsed in.
    pub dialect: Dialect,
    /// Another dialect in which the whole SQL parses, if one does.
    pub suggestion: Option<Dialect>,
}

/// The parser's dialect for ours.
fn parser_dialect(d: Dialect) -> Box<dyn sd::Dialect> {
    match d {
        Dialect::Generic => Box::new(sd::GenericDialect {}),
        Dialect::Postgres => Box::new(sd::PostgreSqlDialect {}),
        Dialect::Snowflake => Box::new(sd::SnowflakeDialect {}),
        Dialect::BigQuery => Box::new(sd::BigQueryDialect {}),
        Dialect::Redshift => Box::new(sd::RedshiftSqlDialect {}),
        Dialect::MySql => Box::new(sd::MySqlDialect {}),
        Dialect::MsSql => Box::new(sd::MsSqlDialect {}),
        Dialect::Hive => Box::new(sd::HiveDialect {}),
        Dialect::Databricks => Box::new(sd::DatabricksDialect {}),
        Dialect::DuckDb => Box::new(sd::DuckDbDialect {}),
        Dialect::Sqlite => Box::new(sd::SQLiteDialect {}),
        Dialect::ClickHouse => Box::new(sd::ClickHouseDialect {}),
    }
}

/// Parses `sql` (one or more statements) in `dialect` and says which tables it reads and
/// writes. When it does not parse, the error names the dialect and, if the SQL parses in
/// another one, suggests it.
pub fn table_flow(sql: &str, dialect: Dialect) -> Result<TableFlow, SqlError> {
    analyse(sql, dialect, &columns::Schemas::new())
}

/// [`table_flow`], with the known columns of tables (for `SELECT *`).
pub fn analyse(
    sql: &str,
    dialect: Dialect,
    schemas: &columns::Schemas,
) -> Result<TableFlow, SqlError> {
    let parse = |text: &str, d: Dialect| Parser::parse_sql(&*parser_dialect(d), text);
    let statements = parse(sql, dialect)
        .or_else(|e| {
            // Constructs of the dialect the parser does not know yet: rewritten, tried once.
            shim::rewrite(sql, dialect)
                .and_then(|s| parse(&s, dialect).ok())
                .ok_or(e)
        })
        .map_err(|e| {
            let mut e = sql_error(e, dialect);
            if e.pos.is_none() && e.message.ends_with("found: EOF") {
                // The parser gives no position at the end of the text: point past its last character.
                let trimmed = sql.trim_end();
                let line = trimmed.lines().count().max(1) as u64;
                let col = trimmed.lines().last().map_or(0, |l| l.chars().count()) as u64 + 1;
                e.pos = Some((line, col));
            }
            e.suggestion = Dialect::ALL
                .into_iter()
                .filter(|d| *d != dialect)
                .find(|d| parse(sql, *d).is_ok());
            e
        })?;
    let mut flow = script::analyse(&statements);
    flow.columns = columns::column_edges(&statements, schemas)
        .into_iter()
        .filter(|e| flow.writes.contains(&e.to_table))
        .collect();
    Ok(flow)
}

/// Column lineage of a `SELECT` (a dbt model's compiled SQL): each output column's sources
/// as `(table, column, output column, role)`.
pub fn select_columns(
    sql: &str,
    dialect: Dialect,
    schemas: &columns::Schemas,
) -> Result<Vec<(String, String, String, columns::Role)>, SqlError> {
    let statements =
        Parser::parse_sql(&*parser_dialect(dialect), sql).map_err(|e| sql_error(e, dialect))?;
    let Some(sqlparser::ast::Statement::Query(q)) = statements.last() else {
        return Ok(vec![]);
    };
    Ok(columns::query_edges(q, schemas))
}

fn sql_error(e: ParserError, dialect: Dialect) -> SqlError {
    let text = match e {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s,
        ParserError::RecursionLimitExceeded => "the SQL nests too deeply".to_string(),
    };
    // sqlparser appends " at Line: 3, Column: 12".
    if let Some(i) = text.rfind(" at Line: ") {
        let tail = &text[i + " at Line: ".len()..];
        if let Some((l, c)) = tail.split_once(", Column: ")
            && let (Ok(l), Ok(c)) = (l.trim().parse(), c.trim().parse())
        {
            return SqlError {
                message: text[..i].to_string(),
                pos: Some((l, c)),
                dialect,
                suggestion: None,
            };
        }
    }
    SqlError {
        message: text,
        pos: None,
        dialect,
        suggestion: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(sql: &str) -> (Vec<String>, Vec<String>) {
        let f = table_flow(sql, Dialect::Generic).unwrap();
        (f.reads, f.writes)
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn insert_select_with_join_and_cte() {
        let sql = "WITH recent AS (SELECT * FROM Orders_Raw WHERE ts > now() - interval '1 day')
                   INSERT INTO orders_clean
                   SELECT r.*, c.region FROM recent r JOIN analytics.\"Customers\" c USING (customer_id)";
        assert_eq!(
            flow(sql),
            (
                v(&["analytics.Customers", "orders_raw"]),
                v(&["orders_clean"])
            )
        );
    }

    #[test]
    fn ctas_merge_update_delete_and_views() {
        assert_eq!(
            flow("CREATE TABLE daily AS SELECT day, sum(x) FROM facts GROUP BY day"),
            (v(&["facts"]), v(&["daily"]))
        );
        assert_eq!(
            flow(
                "MERGE INTO dim t USING staging s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)"
            ),
            (v(&["staging"]), v(&["dim"]))
        );
        assert_eq!(
            flow("UPDATE t SET x = 1 WHERE id IN (SELECT id FROM bad)"),
            (v(&["bad"]), v(&["t"]))
        );
        assert_eq!(
            flow("DELETE FROM t WHERE id IN (SELECT id FROM gone)"),
            (v(&["gone"]), v(&["t"]))
        );
        assert_eq!(
            flow("CREATE VIEW v AS SELECT * FROM a UNION ALL SELECT * FROM b"),
            (v(&["a", "b"]), v(&["v"]))
        );
    }

    #[test]
    fn temporary_tables_and_several_statements() {
        let sql = "CREATE TEMPORARY TABLE tmp AS SELECT * FROM src;
                   INSERT INTO out SELECT * FROM tmp JOIN other USING (k);
                   SELECT count(*) FROM out";
        assert_eq!(flow(sql), (v(&["other", "src"]), v(&["out"])));
    }

    #[test]
    fn a_plain_select_writes_nothing() {
        assert_eq!(
            flow("SELECT * FROM a WHERE b IN (SELECT b FROM c)"),
            (v(&["a", "c"]), v(&[]))
        );
    }

    #[test]
    fn a_parse_error_names_the_dialect_and_suggests_one_that_parses() {
        let sql = "SELECT * FROM t1 WHERE a = 1\nSELECT 2";
        let e = table_flow(sql, Dialect::Postgres).unwrap_err();
        assert_eq!(e.dialect, Dialect::Postgres);
        let sql = "COPY INTO orders FROM @raw_stage/orders/";
        let e = table_flow(sql, Dialect::Postgres).unwrap_err();
        assert_eq!(e.dialect, Dialect::Postgres);
        let d = e.suggestion.expect("another dialect parses it");
        let f = table_flow(sql, d).unwrap();
        assert_eq!(f.writes, ["orders"]);
    }

    #[test]
    fn errors_carry_the_position() {
        let e = table_flow("SELECT *\nFROM orders\nWHERE amount >", Dialect::Generic).unwrap_err();
        assert_eq!(e.pos, Some((3, 15)), "{e:?}");
        assert!(e.message.starts_with("Expected: an expression"), "{e:?}");
        let e = table_flow("SELEC * FROM t", Dialect::Generic).unwrap_err();
        assert_eq!(e.pos, Some((1, 1)), "{e:?}");
    }
}
