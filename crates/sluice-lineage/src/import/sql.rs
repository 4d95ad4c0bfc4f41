//! Tables a stage's SQL reads and writes, with the SQL parser DataFusion uses.
//!
//! Writes are the targets of `INSERT`, `CREATE TABLE ... AS`, `CREATE VIEW`, `MERGE`,
//! `UPDATE` and `DELETE`; reads are every other table named, less CTEs and temporary tables
//! the same SQL creates (those are internal to the stage; what they read is still read).
//! Unquoted names are lower-cased, as DataFusion does; quoted ones keep their case.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{
    FromTable, ObjectName, ObjectNamePart, Query, SetExpr, Statement, TableFactor, TableObject,
    Visit, Visitor,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};

/// What a piece of SQL reads and writes, each sorted and distinct.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableFlow {
    /// Tables read.
    pub reads: Vec<String>,
    /// Tables written.
    pub writes: Vec<String>,
}

/// SQL that does not parse: the parser's message and, when it gives one, the position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlError {
    /// The message, without the position.
    pub message: String,
    /// 1-based line and column in the SQL text.
    pub pos: Option<(u64, u64)>,
}

/// Parses `sql` (one or more statements) and says which tables it reads and writes.
pub fn table_flow(sql: &str) -> Result<TableFlow, SqlError> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql).map_err(|e| {
        let mut e = sql_error(e);
        if e.pos.is_none() && e.message.ends_with("found: EOF") {
            // The parser gives no position at the end of the text: point past its last character.
            let trimmed = sql.trim_end();
            let line = trimmed.lines().count().max(1) as u64;
            let col = trimmed.lines().last().map_or(0, |l| l.chars().count()) as u64 + 1;
            e.pos = Some((line, col));
        }
        e
    })?;
    let mut reads = BTreeSet::new();
    let mut writes = BTreeSet::new();
    let mut temps = BTreeSet::new();
    for st in &statements {
        let mut seen = Relations::default();
        let _ = st.visit(&mut seen);
        let (target, temporary) = target(st);
        if let Some(t) = &target {
            if temporary {
                temps.insert(t.clone());
            } else {
                writes.insert(t.clone());
            }
        }
        for r in seen.relations {
            if Some(&r) != target.as_ref() && !seen.ctes.contains(&r) {
                reads.insert(r);
            }
        }
    }
    Ok(TableFlow {
        reads: reads
            .into_iter()
            .filter(|r| !temps.contains(r) && !writes.contains(r))
            .collect(),
        writes: writes.into_iter().filter(|w| !temps.contains(w)).collect(),
    })
}

fn sql_error(e: ParserError) -> SqlError {
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
            };
        }
    }
    SqlError {
        message: text,
        pos: None,
    }
}

/// The table a statement writes, and whether it is temporary.
fn target(st: &Statement) -> (Option<String>, bool) {
    let table = |f: &TableFactor| match f {
        TableFactor::Table { name, .. } => Some(object_name(name)),
        _ => None,
    };
    match st {
        // `WITH ... INSERT INTO ...`: the write is the query's body.
        Statement::Query(q) => match &*q.body {
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
                target(s)
            }
            _ => (None, false),
        },
        Statement::Insert(i) => match &i.table {
            TableObject::TableName(n) => (Some(object_name(n)), false),
            _ => (None, false),
        },
        Statement::CreateTable(c) if c.query.is_some() => (Some(object_name(&c.name)), c.temporary),
        Statement::CreateView(v) => (Some(object_name(&v.name)), v.temporary),
        Statement::Merge(m) => (table(&m.table), false),
        Statement::Update(u) => (table(&u.table.relation), false),
        Statement::Delete(d) => {
            let from = match &d.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            match d.tables.first() {
                Some(n) => (Some(object_name(n)), false),
                None => (from.first().and_then(|t| table(&t.relation)), false),
            }
        }
        _ => (None, false),
    }
}

/// `schema.table`: parts joined by dots, unquoted parts lower-cased.
fn object_name(n: &ObjectName) -> String {
    n.0.iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(id) if id.quote_style.is_none() => id.value.to_lowercase(),
            ObjectNamePart::Identifier(id) => id.value.clone(),
            ObjectNamePart::Function(f) => f.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[derive(Default)]
struct Relations {
    relations: Vec<String>,
    ctes: BTreeSet<String>,
}

impl Visitor for Relations {
    type Break = ();

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        self.relations.push(object_name(relation));
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let id = &cte.alias.name;
                self.ctes.insert(if id.quote_style.is_none() {
                    id.value.to_lowercase()
                } else {
                    id.value.clone()
                });
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(sql: &str) -> (Vec<String>, Vec<String>) {
        let f = table_flow(sql).unwrap();
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
    fn errors_carry_the_position() {
        let e = table_flow("SELECT *\nFROM orders\nWHERE amount >").unwrap_err();
        assert_eq!(e.pos, Some((3, 15)), "{e:?}");
        assert!(e.message.starts_with("Expected: an expression"), "{e:?}");
        let e = table_flow("SELEC * FROM t").unwrap_err();
        assert_eq!(e.pos, Some((1, 1)), "{e:?}");
    }
}
