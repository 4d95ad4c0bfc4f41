//! The tables a piece of SQL names in `FROM` and `JOIN` (at any depth: subqueries, CTE
//! bodies, `IN (SELECT …)`), each resolved against the CTEs in scope where it appears.
//!
//! A CTE hides a table only inside its own query: in
//! `SELECT * FROM (WITH t AS (…) SELECT * FROM t) x JOIN t ON …` the second `t` is the real
//! table. A CTE's body sees the CTEs defined before it (and itself, if `RECURSIVE`); in a
//! non-recursive `WITH t AS (SELECT * FROM t)` the inner `t` is the real table. Only
//! one-part names can name a CTE.

use std::ops::ControlFlow;

use sqlparser::ast::{ObjectName, ObjectNamePart, Query, TableFactor, Visit, Visitor};

/// `schema.table`: parts joined by dots, unquoted parts lower-cased. Spark's
/// ``parquet.`/data/x` `` (a file format, then a backquoted path) is the path.
pub(super) fn object_name(n: &ObjectName) -> String {
    if let [
        ObjectNamePart::Identifier(format),
        ObjectNamePart::Identifier(path),
    ] = &n.0[..]
        && format.quote_style.is_none()
        && path.quote_style == Some('`')
        && FILE_FORMATS.contains(&format.value.to_ascii_lowercase().as_str())
    {
        return path.value.clone();
    }
    n.0.iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(id) if id.quote_style.is_none() => id.value.to_lowercase(),
            ObjectNamePart::Identifier(id) => id.value.clone(),
            ObjectNamePart::Function(f) => f.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The formats Spark SQL reads files with as ``format.`path` ``.
const FILE_FORMATS: &[&str] = &[
    "parquet",
    "csv",
    "json",
    "orc",
    "avro",
    "delta",
    "text",
    "binaryfile",
    "iceberg",
];

/// Every table `node` reads, in order, once per mention (a statement's target, when it is
/// a table factor — `MERGE INTO t`, `UPDATE t`, `DELETE FROM t` — is among them).
pub(super) fn relations<V: Visit>(node: &V) -> Vec<String> {
    let mut r = Relations::default();
    let _ = node.visit(&mut r);
    r.found
}

/// One query's CTEs, and how many of them are visible now.
struct Scope {
    query: *const Query,
    names: Vec<String>,
    /// The CTE bodies, by address, each with the number of names visible inside it.
    bodies: Vec<(*const Query, usize)>,
    visible: usize,
    /// The body being visited, if any (its address).
    in_body: Option<*const Query>,
}

#[derive(Default)]
struct Relations {
    found: Vec<String>,
    scopes: Vec<Scope>,
}

impl Relations {
    fn is_cte(&self, name: &ObjectName) -> bool {
        if name.0.len() != 1 {
            return false;
        }
        let n = object_name(name);
        self.scopes
            .iter()
            .any(|s| s.names[..s.visible].contains(&n))
    }
}

fn ident(id: &sqlparser::ast::Ident) -> String {
    if id.quote_style.is_none() {
        id.value.to_lowercase()
    } else {
        id.value.clone()
    }
}

impl Visitor for Relations {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let me: *const Query = query;
        // Entering a CTE body of the innermost scope: only the CTEs before it are visible.
        if let Some(s) = self.scopes.last_mut()
            && let Some(&(_, visible)) = s.bodies.iter().find(|(q, _)| *q == me)
        {
            s.visible = visible;
            s.in_body = Some(me);
        }
        if let Some(with) = &query.with {
            let names: Vec<String> = with
                .cte_tables
                .iter()
                .map(|c| ident(&c.alias.name))
                .collect();
            let bodies = with
                .cte_tables
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let q: *const Query = &*c.query;
                    (q, if with.recursive { i + 1 } else { i })
                })
                .collect();
            self.scopes.push(Scope {
                query: me,
                visible: names.len(),
                names,
                bodies,
                in_body: None,
            });
        }
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let me: *const Query = query;
        if self.scopes.last().is_some_and(|s| s.query == me) {
            self.scopes.pop();
        }
        // Leaving a CTE body: every CTE of its query is visible again (for the body).
        if let Some(s) = self.scopes.last_mut()
            && s.in_body == Some(me)
        {
            s.visible = s.names.len();
            s.in_body = None;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, args, .. } = factor
            // `FROM generate_series(1, 10)`: a table function, not a table.
            && args.is_none()
            && !self.is_cte(name)
        {
            self.found.push(object_name(name));
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::{DatabricksDialect, GenericDialect};
    use sqlparser::parser::Parser;

    fn reads(sql: &str) -> Vec<String> {
        let st = Parser::parse_sql(&GenericDialect {}, sql).unwrap();
        let mut r = relations(&st);
        r.sort();
        r.dedup();
        r
    }

    #[test]
    fn a_cte_hides_a_table_only_in_its_own_query() {
        assert_eq!(
            reads(
                "SELECT * FROM (WITH t AS (SELECT * FROM s) SELECT * FROM t) x JOIN t ON x.a = t.a"
            ),
            ["s", "t"]
        );
        assert_eq!(reads("WITH t AS (SELECT * FROM s) SELECT * FROM t"), ["s"]);
    }

    #[test]
    fn a_cte_body_sees_earlier_ctes_and_not_itself_unless_recursive() {
        assert_eq!(
            reads("WITH a AS (SELECT * FROM src), b AS (SELECT * FROM a) SELECT * FROM b"),
            ["src"]
        );
        // `t` inside its own non-recursive definition is the real table.
        assert_eq!(reads("WITH t AS (SELECT * FROM t) SELECT * FROM t"), ["t"]);
        // An earlier CTE body cannot see a later one: `b` there is a table.
        assert_eq!(
            reads("WITH a AS (SELECT * FROM b), b AS (SELECT 1 AS x) SELECT * FROM a"),
            ["b"]
        );
        assert_eq!(
            reads(
                "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn qualified_names_are_never_ctes_and_subqueries_in_expressions_count() {
        assert_eq!(
            reads(
                "WITH t AS (SELECT 1 AS id) SELECT * FROM t JOIN db.t USING (id) WHERE id IN (SELECT id FROM u)"
            ),
            ["db.t", "u"]
        );
        assert_eq!(
            reads("SELECT * FROM generate_series(1, 3)"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn spark_reads_files_by_path() {
        let st = Parser::parse_sql(
            &DatabricksDialect {},
            "SELECT * FROM parquet.`s3://lake/events/` e JOIN delta.`/mnt/dim` d ON e.k = d.k",
        )
        .unwrap();
        let mut r = relations(&st);
        r.sort();
        assert_eq!(r, ["/mnt/dim", "s3://lake/events/"]);
    }
}
