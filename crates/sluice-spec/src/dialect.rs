//! SQL dialects a stage's SQL may be written in (`dialect:` on a stage, or as the default
//! under `lineage:`): the ones the SQL parser knows.

/// A SQL dialect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Standard SQL with common extensions (the default).
    #[default]
    Generic,
    /// PostgreSQL.
    Postgres,
    /// Snowflake.
    Snowflake,
    /// Google BigQuery (with its scripting).
    BigQuery,
    /// Amazon Redshift.
    Redshift,
    /// MySQL.
    MySql,
    /// Microsoft SQL Server / Azure SQL (T-SQL).
    MsSql,
    /// Apache Hive.
    Hive,
    /// Databricks and Spark SQL.
    Databricks,
    /// DuckDB.
    DuckDb,
    /// SQLite.
    Sqlite,
    /// ClickHouse.
    ClickHouse,
}

impl Dialect {
    /// Every dialect, in the order a suggestion tries them.
    pub const ALL: [Dialect; 12] = [
        Dialect::Generic,
        Dialect::Postgres,
        Dialect::Snowflake,
        Dialect::BigQuery,
        Dialect::Redshift,
        Dialect::MySql,
        Dialect::MsSql,
        Dialect::Hive,
        Dialect::Databricks,
        Dialect::DuckDb,
        Dialect::Sqlite,
        Dialect::ClickHouse,
    ];

    /// The names the config accepts (`spark` is Databricks's).
    pub const NAMES: [&'static str; 13] = [
        "generic",
        "postgres",
        "snowflake",
        "bigquery",
        "redshift",
        "mysql",
        "mssql",
        "hive",
        "databricks",
        "spark",
        "duckdb",
        "sqlite",
        "clickhouse",
    ];

    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Generic => "generic",
            Dialect::Postgres => "postgres",
            Dialect::Snowflake => "snowflake",
            Dialect::BigQuery => "bigquery",
            Dialect::Redshift => "redshift",
            Dialect::MySql => "mysql",
            Dialect::MsSql => "mssql",
            Dialect::Hive => "hive",
            Dialect::Databricks => "databricks",
            Dialect::DuckDb => "duckdb",
            Dialect::Sqlite => "sqlite",
            Dialect::ClickHouse => "clickhouse",
        }
    }

    /// The dialect a config name (or a dbt adapter type: `sqlserver`, `spark`...) names.
    pub fn parse(s: &str) -> Option<Dialect> {
        Some(match s.to_ascii_lowercase().as_str() {
            "generic" | "ansi" => Dialect::Generic,
            "postgres" | "postgresql" => Dialect::Postgres,
            "snowflake" => Dialect::Snowflake,
            "bigquery" => Dialect::BigQuery,
            "redshift" => Dialect::Redshift,
            "mysql" => Dialect::MySql,
            "mssql" | "sqlserver" | "tsql" | "fabric" | "synapse" => Dialect::MsSql,
            "hive" => Dialect::Hive,
            "databricks" | "spark" => Dialect::Databricks,
            "duckdb" => Dialect::DuckDb,
            "sqlite" => Dialect::Sqlite,
            "clickhouse" => Dialect::ClickHouse,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_and_every_dialect_has_a_name() {
        for n in Dialect::NAMES {
            assert!(Dialect::parse(n).is_some(), "{n}");
        }
        for d in Dialect::ALL {
            assert_eq!(Dialect::parse(d.name()), Some(d));
        }
        assert_eq!(Dialect::parse("spark"), Some(Dialect::Databricks));
        assert_eq!(Dialect::parse("oracle"), None);
    }
}
