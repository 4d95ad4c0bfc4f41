//! What one statement does to tables: what it reads, writes, creates, drops and renames.
//!
//! | statement | reads | writes |
//! | --- | --- | --- |
//! | `SELECT` | its tables | — (`SELECT … INTO t` creates `t`) |
//! | `INSERT [OVERWRITE] t …`, `MERGE INTO t`, `UPDATE t`, `DELETE FROM t` | the other tables (and `t` again if it is read besides being the target) | `t` |
//! | `CREATE TABLE t (…)` | — | creates `t` |
//! | `CREATE TABLE t AS …`, `CREATE VIEW t AS …` | the query's tables | creates `t` |
//! | `CREATE TABLE t LIKE s`, `… CLONE s` | `s` | creates `t` |
//! | `CREATE [EXTERNAL] TABLE t … LOCATION 'p'` | the path `p` | creates `t` |
//! | `ALTER TABLE a RENAME TO b`, `RENAME TABLE a TO b` | `a` | `b` (and `a` is gone) |
//! | `ALTER TABLE a SWAP WITH b` | `a`, `b` | `a`, `b` |
//! | other `ALTER TABLE a …` | — | `a` (its shape changed) |
//! | `TRUNCATE t` | — | `t` |
//! | `DROP TABLE t`, `DROP VIEW t` | — | `t` (it is gone), unless the script created it |
//! | `COPY t FROM 'p'`, `COPY INTO t FROM @stage`, `LOAD DATA INPATH 'p' INTO TABLE t` | the path or stage | `t` |
//! | `COPY t TO 'p'`, `COPY INTO @stage FROM t`, `UNLOAD ('select …') TO 'p'`, `INSERT OVERWRITE DIRECTORY 'p' SELECT …`, `EXPORT DATA OPTIONS (uri = 'p') AS …` | the table or query's tables | the path or stage |
//! | `CACHE`, `UNCACHE`, `ANALYZE`, `EXPLAIN`, `SET`, `DECLARE`, `USE`, transactions | — | — |
//! | `CREATE PROCEDURE … BEGIN … END`, `BEGIN … END`, `IF`, `WHILE`, `CASE` blocks | the statements inside, in order | |

use sqlparser::ast::{
    AlterTableOperation, CopySource, CopyTarget, CreateTableLikeKind, Expr, FromTable, ObjectName,
    ObjectType, RenameTableNameKind, SetExpr, SqlOption, Statement, TableFactor, TableObject,
};

use super::scope::{object_name, relations};

/// What a statement does to tables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Effect {
    /// Tables and paths read, once per mention.
    pub reads: Vec<String>,
    /// Tables and paths written (existing ones, or ones this SQL did not create).
    pub writes: Vec<String>,
    /// Tables created, and whether temporary.
    pub creates: Vec<(String, bool)>,
    /// Tables dropped.
    pub drops: Vec<String>,
    /// Tables renamed, old name to new.
    pub renames: Vec<(String, String)>,
}

/// The statements inside a block statement (procedure, `BEGIN … END`, `IF`, `WHILE`,
/// `CASE`), or `None` for a statement that is not a block.
pub(super) fn inner(st: &Statement) -> Option<Vec<&Statement>> {
    Some(match st {
        Statement::CreateProcedure { body, .. } => body.statements().iter().collect(),
        Statement::StartTransaction { statements, .. } if !statements.is_empty() => {
            statements.iter().collect()
        }
        Statement::If(s) => {
            let mut out: Vec<&Statement> = s
                .if_block
                .conditional_statements
                .statements()
                .iter()
                .collect();
            for b in &s.elseif_blocks {
                out.extend(b.conditional_statements.statements());
            }
            if let Some(b) = &s.else_block {
                out.extend(b.conditional_statements.statements());
            }
            out
        }
        Statement::While(w) => w
            .while_block
            .conditional_statements
            .statements()
            .iter()
            .collect(),
        Statement::Case(c) => {
            let mut out: Vec<&Statement> = vec![];
            for b in &c.when_blocks {
                out.extend(b.conditional_statements.statements());
            }
            if let Some(b) = &c.else_block {
                out.extend(b.conditional_statements.statements());
            }
            out
        }
        _ => return None,
    })
}

/// `reads` without the mentions of `target`: a statement that changes a table in place
/// (`MERGE INTO t`, `UPDATE t … FROM t JOIN s`, `DELETE FROM t`) reads its rows by
/// definition; that is not a read of another table, nor a self-read.
fn minus_target(mut reads: Vec<String>, target: &str) -> Vec<String> {
    reads.retain(|r| r != target);
    reads
}

fn factor_name(f: &TableFactor) -> Option<String> {
    match f {
        TableFactor::Table { name, .. } => Some(object_name(name)),
        _ => None,
    }
}

/// A path or stage named by a string (`'s3://bucket/x'`), as written.
fn path(s: &str) -> String {
    s.trim().to_string()
}

/// What `st` (not a block) does.
pub(super) fn effect(st: &Statement) -> Effect {
    let mut e = Effect::default();
    match st {
        Statement::Query(q) => match &*q.body {
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) => {
                // `WITH … INSERT …`: the CTEs' tables are read too.
                let inner = effect(s);
                let mut reads = relations(q.as_ref());
                for w in &inner.writes {
                    if !matches!(s, Statement::Insert(_)) {
                        reads = minus_target(reads, w);
                    }
                }
                e = Effect { reads, ..inner };
            }
            body => {
                e.reads = relations(q.as_ref());
                if let SetExpr::Select(s) = body
                    && let Some(into) = &s.into
                {
                    e.creates.push((object_name(&into.name), into.temporary));
                }
            }
        },
        Statement::Insert(i) => {
            e.reads = relations(i);
            if let TableObject::TableName(n) = &i.table {
                e.writes.push(object_name(n));
            }
        }
        Statement::Merge(m) => {
            let target = factor_name(&m.table);
            e.reads = relations(m);
            if let Some(t) = target {
                e.reads = minus_target(e.reads, &t);
                e.writes.push(t);
            }
        }
        Statement::Update(u) => {
            let target = factor_name(&u.table.relation);
            e.reads = relations(u);
            if let Some(t) = target {
                e.reads = minus_target(e.reads, &t);
                e.writes.push(t);
            }
        }
        Statement::Delete(d) => {
            e.reads = relations(d);
            let from = match &d.from {
                FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
            };
            if d.tables.is_empty() {
                if let Some(t) = from.first().and_then(|t| factor_name(&t.relation)) {
                    e.reads = minus_target(e.reads, &t);
                    e.writes.push(t);
                }
            } else {
                // `DELETE a FROM a JOIN b …`: the named tables are written.
                for n in &d.tables {
                    let t = object_name(n);
                    e.reads = minus_target(e.reads, &t);
                    e.writes.push(t);
                }
            }
        }
        Statement::CreateTable(c) => {
            e.reads = relations(c);
            match &c.like {
                Some(CreateTableLikeKind::Parenthesized(l) | CreateTableLikeKind::Plain(l)) => {
                    e.reads.push(object_name(&l.name));
                }
                None => {}
            }
            if let Some(s) = &c.clone {
                e.reads.push(object_name(s));
            }
            if let Some(loc) = &c.location {
                e.reads.push(path(loc));
            }
            e.creates.push((object_name(&c.name), c.temporary));
        }
        Statement::CreateView(v) => {
            e.reads = relations(v);
            e.creates.push((object_name(&v.name), v.temporary));
        }
        Statement::AlterTable(a) => {
            let name = object_name(&a.name);
            let mut changed = false;
            for op in &a.operations {
                match op {
                    AlterTableOperation::RenameTable { table_name } => {
                        let to = match table_name {
                            RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => n,
                        };
                        e.renames.push((name.clone(), object_name(to)));
                    }
                    AlterTableOperation::SwapWith { table_name } => {
                        let other = object_name(table_name);
                        e.reads.extend([name.clone(), other.clone()]);
                        e.writes.extend([name.clone(), other]);
                    }
                    _ => changed = true,
                }
            }
            if changed {
                e.writes.push(name);
            }
        }
        Statement::RenameTable(rs) => {
            for r in rs {
                e.renames
                    .push((object_name(&r.old_name), object_name(&r.new_name)));
            }
        }
        Statement::Truncate(t) => {
            e.writes
                .extend(t.table_names.iter().map(|n| object_name(&n.name)));
        }
        Statement::Drop {
            object_type: ObjectType::Table | ObjectType::View | ObjectType::MaterializedView,
            names,
            ..
        } => {
            e.drops.extend(names.iter().map(object_name));
        }
        Statement::Copy {
            source, to, target, ..
        } => {
            let file = match target {
                CopyTarget::File { filename } => Some(path(filename)),
                _ => None,
            };
            match (source, to) {
                (CopySource::Table { table_name, .. }, false) => {
                    e.writes.push(object_name(table_name));
                    e.reads.extend(file);
                }
                (CopySource::Table { table_name, .. }, true) => {
                    e.reads.push(object_name(table_name));
                    e.writes.extend(file);
                }
                (CopySource::Query(q), _) => {
                    e.reads = relations(q.as_ref());
                    e.writes.extend(file);
                }
            }
        }
        Statement::CopyIntoSnowflake {
            into,
            from_obj,
            from_query,
            stage_params,
            ..
        } => {
            if let Some(q) = from_query {
                e.reads = relations(q.as_ref());
            }
            e.reads.extend(from_obj.as_ref().map(snowflake_location));
            if from_obj.is_none() && from_query.is_none() {
                e.reads.extend(stage_params.url.as_deref().map(path));
            }
            e.writes.push(snowflake_location(into));
        }
        Statement::Unload {
            query,
            query_text,
            to,
            ..
        } => {
            if let Some(q) = query {
                e.reads = relations(q.as_ref());
            } else if let Some(text) = query_text {
                // Redshift's `UNLOAD ('select …')`: the query is a string; parse it.
                if let Ok(sts) = sqlparser::parser::Parser::parse_sql(
                    &sqlparser::dialect::RedshiftSqlDialect {},
                    text,
                ) {
                    e.reads = relations(&sts);
                }
            }
            e.writes.push(path(&to.value));
        }
        Statement::ExportData(x) => {
            // BigQuery's `EXPORT DATA OPTIONS (uri = 'gs://…') AS SELECT …`.
            e.reads = relations(x.query.as_ref());
            e.writes.extend(x.options.iter().find_map(|o| match o {
                SqlOption::KeyValue {
                    key,
                    value: Expr::Value(v),
                } if key.value.eq_ignore_ascii_case("uri") => {
                    v.value.clone().into_string().map(|s| path(&s))
                }
                _ => None,
            }));
        }
        Statement::Directory {
            path: p, source, ..
        } => {
            e.reads = relations(source.as_ref());
            e.writes.push(path(p));
        }
        Statement::LoadData {
            inpath, table_name, ..
        } => {
            e.reads.push(path(inpath));
            e.writes.push(object_name(table_name));
        }
        // Neither read nor write: caching, statistics, plans, settings, variables,
        // sessions and transactions, listings.
        Statement::Cache { .. }
        | Statement::UNCache { .. }
        | Statement::Analyze(_)
        | Statement::Explain { .. }
        | Statement::ExplainTable { .. }
        | Statement::Set(_)
        | Statement::Declare { .. }
        | Statement::Use(_)
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::OptimizeTable { .. }
        | Statement::Msck(_)
        | Statement::Comment { .. }
        | Statement::Grant(_)
        | Statement::Revoke(_) => {}
        other => e.reads = relations(other),
    }
    e
}

/// A Snowflake stage or location (`@stage/path`, `'s3://…'`) or a table.
fn snowflake_location(n: &ObjectName) -> String {
    let s = object_name(n);
    s.trim_matches('\'').to_string()
}
