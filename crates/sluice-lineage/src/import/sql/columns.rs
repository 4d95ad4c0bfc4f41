//! Column-level lineage of SQL: for each column a statement writes, the columns it comes
//! from and how.
//!
//! - **identity**: the value is copied (`SELECT amount`, `SELECT o.amount AS amt`);
//! - **transformation**: computed from it (`amount * fx`, `upper(name)`, `CASE …`);
//! - **aggregation**: aggregated or windowed (`sum(amount)`, `row_number() OVER (…)`);
//! - **join_key**: the column decides which rows meet (`JOIN … ON`, `USING`): every column
//!   written depends on it;
//! - **filter**: the column decides which rows are kept (`WHERE`, `HAVING`, `QUALIFY`).
//!
//! Sources are followed through CTEs, derived tables, set operations and, in a script,
//! through the tables the script creates. A column named without its table is resolved
//! against the tables in scope: the one whose known columns have it, else the only table
//! whose columns are unknown. `SELECT *` is expanded from CTEs, derived tables and tables
//! whose columns are known (the `schemas` given: a dataset's columns from its `schema`
//! check); from a table whose columns are unknown it is `*` → `*`: every column of the one
//! feeds the same-named column of the other. A scalar subquery's columns are not followed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Ident, JoinConstraint, JoinOperator, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Statement, TableFactor, TableObject, Visit, Visitor,
};

use super::scope::object_name;
use super::statement::inner;

/// How a column feeds another, from the closest to the loosest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Copied.
    Identity,
    /// Computed from it.
    Transformation,
    /// Aggregated or windowed.
    Aggregation,
    /// Decides which rows meet (a join key).
    JoinKey,
    /// Decides which rows are kept (a filter).
    Filter,
}

impl Role {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Role::Identity => "identity",
            Role::Transformation => "transformation",
            Role::Aggregation => "aggregation",
            Role::JoinKey => "join_key",
            Role::Filter => "filter",
        }
    }

    /// `self` then `then` (a column copied into a CTE, then aggregated, is aggregated).
    fn then(self, then: Role) -> Role {
        self.max(then)
    }
}

/// One column feeding another.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ColumnEdge {
    /// The table read (as in [`super::TableFlow`]).
    pub from_table: String,
    /// Its column (`*`: every column, when the table's columns are unknown).
    pub from_column: String,
    /// The table written.
    pub to_table: String,
    /// Its column.
    pub to_column: String,
    /// How.
    pub role: Role,
}

/// A column source: a base table's column.
type Source = (String, String);

/// The columns of a relation: each output column's sources, and the sources that decide
/// its rows (join keys, filters), which feed every column.
#[derive(Clone, Debug, Default)]
struct Relation {
    columns: Vec<(String, BTreeMap<Source, Role>)>,
    rows: BTreeMap<Source, Role>,
    /// `*` of a table whose columns are unknown: (table, role).
    star: Vec<(String, Role)>,
}

/// Known columns of tables (lower-case names), and whether the lists are complete (a
/// `schema` check that allows no extra column) or only what is documented (dbt's
/// `columns:`, where a column not listed may still exist).
#[derive(Clone, Debug, Default)]
pub struct Schemas {
    /// Columns by table.
    pub tables: HashMap<String, Vec<String>>,
    /// Whether each list is all the table has.
    pub complete: bool,
}

impl Schemas {
    /// No table known.
    pub fn new() -> Schemas {
        Schemas::default()
    }

    /// Sets `table`'s columns.
    pub fn insert(&mut self, table: String, columns: Vec<String>) {
        self.tables.insert(table, columns);
    }
}

/// Column edges of a parsed script.
pub(super) fn column_edges(statements: &[Statement], schemas: &Schemas) -> Vec<ColumnEdge> {
    let mut leaves = Vec::new();
    flatten(statements.iter(), &mut leaves);
    let mut env = Env {
        schemas,
        created: HashMap::new(),
    };
    let mut out = BTreeSet::new();
    for st in leaves {
        if let Some((target, rel)) = env.statement(st) {
            for (col, sources) in &rel.columns {
                for (src, role) in sources.iter().chain(&rel.rows) {
                    out.insert(edge(src, &target, col, *role));
                }
            }
            for (table, role) in &rel.star {
                out.insert(edge(&(table.clone(), "*".into()), &target, "*", *role));
            }
            env.created.insert(target, rel);
        }
    }
    // Tables created by the script and consumed by it were substituted; edges into them
    // stay (they are columns of a table that exists while the script runs).
    out.into_iter().collect()
}

/// Column edges of one query into its output columns: `(table, column, output, role)`.
pub(super) fn query_edges(q: &Query, schemas: &Schemas) -> Vec<(String, String, String, Role)> {
    let env = Env {
        schemas,
        created: HashMap::new(),
    };
    let rel = env.query(q, &HashMap::new());
    let mut out = BTreeSet::new();
    for (col, sources) in &rel.columns {
        for (src, role) in sources.iter().chain(&rel.rows) {
            out.insert((src.0.clone(), src.1.clone(), col.clone(), *role));
        }
    }
    for (table, role) in &rel.star {
        out.insert((table.clone(), "*".to_string(), "*".to_string(), *role));
    }
    out.into_iter().collect()
}

fn edge(src: &Source, target: &str, col: &str, role: Role) -> ColumnEdge {
    ColumnEdge {
        from_table: src.0.clone(),
        from_column: src.1.clone(),
        to_table: target.to_string(),
        to_column: col.to_string(),
        role,
    }
}

fn flatten<'a>(sts: impl Iterator<Item = &'a Statement>, out: &mut Vec<&'a Statement>) {
    for st in sts {
        match inner(st) {
            Some(children) => flatten(children.into_iter(), out),
            None => out.push(st),
        }
    }
}

fn ident(id: &Ident) -> String {
    if id.quote_style.is_none() {
        id.value.to_lowercase()
    } else {
        id.value.clone()
    }
}

struct Env<'a> {
    schemas: &'a Schemas,
    /// Tables created earlier in the script, with their columns' sources.
    created: HashMap<String, Relation>,
}

/// What is in scope in a `FROM`: alias (or table name) → its relation.
struct Scope {
    entries: Vec<(String, Entry)>,
}

enum Entry {
    /// A base table, with its known columns (empty: unknown) and whether they are all.
    Table {
        name: String,
        known: Vec<String>,
        complete: bool,
    },
    /// A CTE, a derived table, or a table the script created.
    Derived(Relation),
}

impl Env<'_> {
    /// The table a statement writes and the sources of its columns.
    fn statement(&mut self, st: &Statement) -> Option<(String, Relation)> {
        match st {
            Statement::Insert(i) => {
                let TableObject::TableName(n) = &i.table else {
                    return None;
                };
                let rel = self.query(i.source.as_deref()?, &HashMap::new());
                let names: Vec<String> = i.columns.iter().map(object_name).collect();
                Some((object_name(n), rename(rel, &names)))
            }
            Statement::CreateTable(c) => {
                let q = c.query.as_deref()?;
                let rel = self.query(q, &HashMap::new());
                let names: Vec<String> = c.columns.iter().map(|d| ident(&d.name)).collect();
                Some((object_name(&c.name), rename(rel, &names)))
            }
            Statement::CreateView(v) => {
                let rel = self.query(&v.query, &HashMap::new());
                let names: Vec<String> = v.columns.iter().map(|d| ident(&d.name)).collect();
                Some((object_name(&v.name), rename(rel, &names)))
            }
            Statement::Query(q) => match &*q.body {
                SetExpr::Insert(s) => self.statement(s),
                SetExpr::Select(s) if s.into.is_some() => {
                    let into = s.into.as_ref()?;
                    Some((object_name(&into.name), self.query(q, &HashMap::new())))
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn query(&self, q: &Query, outer: &HashMap<String, Relation>) -> Relation {
        let mut ctes = outer.clone();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let rel = self.query(&cte.query, &ctes);
                let names: Vec<String> = cte.alias.columns.iter().map(|c| ident(&c.name)).collect();
                ctes.insert(ident(&cte.alias.name), rename(rel, &names));
            }
        }
        self.set_expr(&q.body, &ctes)
    }

    fn set_expr(&self, body: &SetExpr, ctes: &HashMap<String, Relation>) -> Relation {
        match body {
            SetExpr::Select(s) => self.select(s, ctes),
            SetExpr::Query(q) => self.query(q, ctes),
            SetExpr::SetOperation { left, right, .. } => {
                let mut l = self.set_expr(left, ctes);
                let r = self.set_expr(right, ctes);
                // Columns line up by position; the names are the left side's.
                for (i, (_, sources)) in r.columns.into_iter().enumerate() {
                    if let Some((_, mine)) = l.columns.get_mut(i) {
                        merge(mine, sources);
                    }
                }
                merge(&mut l.rows, r.rows);
                l.star.extend(r.star);
                l
            }
            _ => Relation::default(),
        }
    }

    fn factor(&self, f: &TableFactor, ctes: &HashMap<String, Relation>) -> Option<(String, Entry)> {
        match f {
            TableFactor::Table {
                name, alias, args, ..
            } if args.is_none() => {
                let table = object_name(name);
                let entry = match (name.0.len(), ctes.get(&table), self.created.get(&table)) {
                    (1, Some(rel), _) => Entry::Derived(rel.clone()),
                    (_, _, Some(rel)) => Entry::Derived(rel.clone()),
                    _ => Entry::Table {
                        known: self
                            .schemas
                            .tables
                            .get(&table.to_lowercase())
                            .cloned()
                            .unwrap_or_default(),
                        complete: self.schemas.complete,
                        name: table.clone(),
                    },
                };
                let key = alias.as_ref().map_or_else(
                    || table.rsplit('.').next().unwrap_or(&table).to_string(),
                    |a| ident(&a.name),
                );
                Some((key, entry))
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                let rel = self.query(subquery, ctes);
                let (key, names) = match alias {
                    Some(a) => (
                        ident(&a.name),
                        a.columns.iter().map(|c| ident(&c.name)).collect(),
                    ),
                    None => (String::new(), vec![]),
                };
                Some((key, Entry::Derived(rename(rel, &names))))
            }
            _ => None,
        }
    }

    fn select(&self, s: &Select, ctes: &HashMap<String, Relation>) -> Relation {
        let mut scope = Scope { entries: vec![] };
        let mut rows: BTreeMap<Source, Role> = BTreeMap::new();
        let mut join_exprs: Vec<&Expr> = vec![];
        let mut using: Vec<String> = vec![];
        for twj in &s.from {
            scope.entries.extend(self.factor(&twj.relation, ctes));
            for j in &twj.joins {
                scope.entries.extend(self.factor(&j.relation, ctes));
                match constraint(&j.join_operator) {
                    Some(JoinConstraint::On(e)) => join_exprs.push(e),
                    Some(JoinConstraint::Using(cols)) => {
                        using.extend(cols.iter().map(object_name));
                    }
                    _ => {}
                }
            }
        }
        for e in join_exprs {
            for (src, _) in scope.sources(e) {
                rows.insert(src, Role::JoinKey);
            }
        }
        for col in using {
            for entry in &scope.entries {
                for src in entry.1.column(&col) {
                    rows.insert(src.0, Role::JoinKey);
                }
            }
        }
        for e in [&s.selection, &s.having, &s.qualify].into_iter().flatten() {
            for (src, _) in scope.sources(e) {
                rows.entry(src).or_insert(Role::Filter);
            }
        }
        // Rows decided upstream (a CTE's filter) decide these rows too.
        for (_, entry) in &scope.entries {
            if let Entry::Derived(rel) = entry {
                for (src, role) in &rel.rows {
                    rows.entry(src.clone()).or_insert(*role);
                }
            }
        }
        let mut rel = Relation {
            rows,
            ..Relation::default()
        };
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let name = match e {
                        Expr::Identifier(id) => ident(id),
                        Expr::CompoundIdentifier(parts) => {
                            parts.last().map(ident).unwrap_or_default()
                        }
                        other => other.to_string().to_lowercase(),
                    };
                    rel.columns.push((name, scope.sources(e)));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    rel.columns.push((ident(alias), scope.sources(expr)));
                }
                SelectItem::ExprWithAliases { expr, aliases } => {
                    for a in aliases {
                        rel.columns.push((ident(a), scope.sources(expr)));
                    }
                }
                SelectItem::Wildcard(_) => {
                    for (_, entry) in &scope.entries {
                        entry.expand(&mut rel);
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let q = match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(n) => object_name(n),
                        SelectItemQualifiedWildcardKind::Expr(e) => e.to_string().to_lowercase(),
                    };
                    let last = q.rsplit('.').next().unwrap_or(&q).to_string();
                    for (key, entry) in &scope.entries {
                        if *key == last || entry.table_name().is_some_and(|t| t == q) {
                            entry.expand(&mut rel);
                        }
                    }
                }
            }
        }
        rel
    }
}

fn constraint(op: &JoinOperator) -> Option<&JoinConstraint> {
    use JoinOperator::*;
    match op {
        Join(c) | Inner(c) | Left(c) | LeftOuter(c) | Right(c) | RightOuter(c) | FullOuter(c)
        | CrossJoin(c) | Semi(c) | LeftSemi(c) | RightSemi(c) | Anti(c) | LeftAnti(c)
        | RightAnti(c) | StraightJoin(c) => Some(c),
        AsOf { constraint, .. } => Some(constraint),
        _ => None,
    }
}

fn merge(into: &mut BTreeMap<Source, Role>, from: BTreeMap<Source, Role>) {
    for (k, r) in from {
        let e = into.entry(k).or_insert(r);
        *e = (*e).min(r);
    }
}

/// `rel` with its columns named `names` by position (where given).
fn rename(mut rel: Relation, names: &[String]) -> Relation {
    for (i, n) in names.iter().enumerate() {
        if let Some(c) = rel.columns.get_mut(i) {
            c.0 = n.clone();
        }
    }
    rel
}

impl Entry {
    fn table_name(&self) -> Option<&str> {
        match self {
            Entry::Table { name, .. } => Some(name),
            Entry::Derived(_) => None,
        }
    }

    /// Where column `col` of this entry comes from (empty if it does not have it).
    fn column(&self, col: &str) -> Vec<(Source, Role)> {
        match self {
            Entry::Table {
                name,
                known,
                complete,
            } => {
                if known.is_empty() || !complete || known.iter().any(|k| k == col) {
                    vec![((name.clone(), col.to_string()), Role::Identity)]
                } else {
                    vec![]
                }
            }
            Entry::Derived(rel) => {
                if let Some((_, sources)) = rel.columns.iter().find(|(n, _)| n == col) {
                    return sources.iter().map(|(s, r)| (s.clone(), *r)).collect();
                }
                // Through a `*` of an unknown table: the same-named column of that table.
                rel.star
                    .iter()
                    .map(|(t, r)| ((t.clone(), col.to_string()), *r))
                    .collect()
            }
        }
    }

    fn has(&self, col: &str) -> Option<bool> {
        match self {
            Entry::Table { known, .. } if known.iter().any(|k| k == col) => Some(true),
            Entry::Table {
                known, complete, ..
            } if known.is_empty() || !complete => None,
            Entry::Table { .. } => Some(false),
            Entry::Derived(rel) if !rel.star.is_empty() => {
                if rel.columns.iter().any(|(n, _)| n == col) {
                    Some(true)
                } else {
                    None
                }
            }
            Entry::Derived(rel) => Some(rel.columns.iter().any(|(n, _)| n == col)),
        }
    }

    /// Adds this entry's columns to `rel` (`SELECT *`).
    fn expand(&self, rel: &mut Relation) {
        match self {
            Entry::Table {
                name,
                known,
                complete,
            } => {
                for k in known {
                    let mut m = BTreeMap::new();
                    m.insert((name.clone(), k.clone()), Role::Identity);
                    rel.columns.push((k.clone(), m));
                }
                // Columns not listed may exist: they flow by name.
                if known.is_empty() || !complete {
                    rel.star.push((name.clone(), Role::Identity));
                }
            }
            Entry::Derived(d) => {
                rel.columns.extend(d.columns.iter().cloned());
                rel.star.extend(d.star.iter().cloned());
            }
        }
    }
}

impl Scope {
    /// The sources of the columns `e` uses at its own level (not inside subqueries), each
    /// with how `e` uses them.
    fn sources(&self, e: &Expr) -> BTreeMap<Source, Role> {
        let mut refs = Refs::default();
        let _ = e.visit(&mut refs);
        let direct = matches!(
            e,
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) | Expr::Nested(_)
        ) && !refs.aggregate;
        let role = if refs.aggregate {
            Role::Aggregation
        } else if direct {
            Role::Identity
        } else {
            Role::Transformation
        };
        let mut out = BTreeMap::new();
        for (qualifier, col) in refs.columns {
            for (src, r) in self.resolve(qualifier.as_deref(), &col) {
                let role = r.then(role);
                let e = out.entry(src).or_insert(role);
                *e = (*e).min(role);
            }
        }
        out
    }

    fn resolve(&self, qualifier: Option<&str>, col: &str) -> Vec<(Source, Role)> {
        if let Some(q) = qualifier {
            let last = q.rsplit('.').next().unwrap_or(q);
            return self
                .entries
                .iter()
                .filter(|(key, entry)| key == last || entry.table_name() == Some(q))
                .flat_map(|(_, entry)| entry.column(col))
                .collect();
        }
        // Unqualified: the entry that surely has it, else those that may.
        let sure: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|(_, e)| e.has(col) == Some(true))
            .map(|(_, e)| e)
            .collect();
        let candidates: Vec<&Entry> = if sure.is_empty() {
            self.entries
                .iter()
                .filter(|(_, e)| e.has(col).is_none())
                .map(|(_, e)| e)
                .collect()
        } else {
            sure
        };
        candidates.into_iter().flat_map(|e| e.column(col)).collect()
    }
}

/// Column references of an expression at its own level, and whether it aggregates.
#[derive(Default)]
struct Refs {
    columns: Vec<(Option<String>, String)>,
    aggregate: bool,
    depth: usize,
}

const AGGREGATES: &[&str] = &[
    "sum",
    "count",
    "avg",
    "min",
    "max",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "median",
    "percentile_cont",
    "percentile_disc",
    "approx_count_distinct",
    "array_agg",
    "string_agg",
    "listagg",
    "group_concat",
    "bool_and",
    "bool_or",
    "any_value",
    "first_value",
    "last_value",
    "mode",
    "corr",
    "covar_pop",
    "covar_samp",
    "count_if",
];

impl Visitor for Refs {
    type Break = ();

    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if self.depth > 0 {
            return ControlFlow::Continue(());
        }
        match e {
            Expr::Identifier(id) => self.columns.push((None, ident(id))),
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let q: Vec<String> = parts[..parts.len() - 1].iter().map(ident).collect();
                self.columns
                    .push((Some(q.join(".")), ident(&parts[parts.len() - 1])));
            }
            Expr::Function(f) => {
                let name = f.name.to_string().to_lowercase();
                if f.over.is_some() || AGGREGATES.contains(&name.as_str()) {
                    self.aggregate = true;
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::GenericDialect;
    use sqlparser::parser::Parser;

    fn edges(sql: &str) -> Vec<String> {
        edges_with(sql, &Schemas::new())
    }

    fn edges_with(sql: &str, schemas: &Schemas) -> Vec<String> {
        let st = Parser::parse_sql(&GenericDialect {}, sql).unwrap();
        column_edges(&st, schemas)
            .into_iter()
            .map(|e| {
                format!(
                    "{}.{} -> {}.{} {}",
                    e.from_table,
                    e.from_column,
                    e.to_table,
                    e.to_column,
                    e.role.name()
                )
            })
            .collect()
    }

    #[test]
    fn projections_expressions_and_aggregates() {
        assert_eq!(
            edges(
                "INSERT INTO daily SELECT o.day, sum(o.amount * o.fx) AS revenue, upper(o.region) AS region FROM orders o GROUP BY o.day, o.region"
            ),
            [
                "orders.amount -> daily.revenue aggregation",
                "orders.day -> daily.day identity",
                "orders.fx -> daily.revenue aggregation",
                "orders.region -> daily.region transformation",
            ]
        );
    }

    #[test]
    fn join_keys_and_filters_feed_every_column() {
        assert_eq!(
            edges(
                "CREATE TABLE t AS SELECT c.name, o.amount FROM orders o JOIN customers c ON o.cid = c.id WHERE o.status = 'paid'"
            ),
            [
                "customers.id -> t.amount join_key",
                "customers.id -> t.name join_key",
                "customers.name -> t.name identity",
                "orders.amount -> t.amount identity",
                "orders.cid -> t.amount join_key",
                "orders.cid -> t.name join_key",
                "orders.status -> t.amount filter",
                "orders.status -> t.name filter",
            ]
        );
    }

    #[test]
    fn through_ctes_derived_tables_and_insert_column_lists() {
        assert_eq!(
            edges(
                "INSERT INTO out (total) WITH x AS (SELECT amount AS a FROM orders) SELECT s FROM (SELECT sum(a) AS s FROM x) d"
            ),
            ["orders.amount -> out.total aggregation"]
        );
    }

    #[test]
    fn star_is_expanded_when_the_columns_are_known() {
        let mut schemas = Schemas::new();
        schemas.complete = true;
        schemas.insert("orders".into(), vec!["id".into(), "amount".into()]);
        assert_eq!(
            edges_with("CREATE VIEW v AS SELECT * FROM orders", &schemas),
            [
                "orders.amount -> v.amount identity",
                "orders.id -> v.id identity"
            ]
        );
        assert_eq!(
            edges("CREATE VIEW v AS SELECT * FROM orders"),
            ["orders.* -> v.* identity"]
        );
    }

    #[test]
    fn script_tables_are_followed_through() {
        assert_eq!(
            edges(
                "CREATE TEMP TABLE tmp AS SELECT amount * 2 AS a2 FROM orders; INSERT INTO out SELECT a2 AS doubled FROM tmp"
            ),
            [
                "orders.amount -> out.doubled transformation",
                "orders.amount -> tmp.a2 transformation",
            ]
        );
    }

    #[test]
    fn unqualified_columns_resolve_to_the_table_that_has_them() {
        let mut schemas = Schemas::new();
        schemas.complete = true;
        schemas.insert("orders".into(), vec!["id".into(), "amount".into()]);
        schemas.insert("fx".into(), vec!["id".into(), "rate".into()]);
        assert_eq!(
            edges_with(
                "INSERT INTO t SELECT amount * rate AS usd FROM orders JOIN fx USING (id)",
                &schemas
            ),
            [
                "fx.id -> t.usd join_key",
                "fx.rate -> t.usd transformation",
                "orders.amount -> t.usd transformation",
                "orders.id -> t.usd join_key",
            ]
        );
    }
}
