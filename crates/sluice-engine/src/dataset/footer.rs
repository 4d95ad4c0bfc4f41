//! Answers from the Parquet footers: aggregates of the fused scan that the files'
//! statistics settle exactly, so that a dataset whose checks ask only those is not read at
//! all, and a scan computes (and decodes the columns of) only the rest.
//!
//! DataFusion reads every file's footer when the table is opened, and merges the row
//! groups' statistics into the table's: the row count, and per column its NULL count, its
//! minimum and its maximum, each marked exact or not (a truncated string maximum, a file
//! without statistics for a column, are not). Only exact figures answer:
//!
//! | aggregate (as the checks compile) | answered by |
//! | --- | --- |
//! | `count(*)` | the row count |
//! | `count(c)` | rows − NULLs |
//! | `count(*) FILTER (WHERE c IS NULL)`, `… WHERE NOT (c IS NOT NULL)` | NULLs |
//! | `count(*) FILTER (WHERE c IS NOT NULL)` | rows − NULLs |
//! | `count(*) FILTER (WHERE NOT (c >= a AND c < b …))` | 0, when the bounds hold at both the minimum and the maximum (or every value is NULL) |
//! | `min(c)`, `max(c)`, and a cast of them | the minimum, the maximum |
//!
//! The range and extreme answers are limited to integers, decimals, dates and timestamps:
//! floats may hold NaN, which Parquet statistics leave out but comparisons see, and
//! strings order by bytes in the footer but may be truncated there. A comparison is
//! monotone, so bounds that hold at the minimum and the maximum hold for every value
//! between; they are evaluated by DataFusion on those two values, with the same type
//! coercion the scan would apply. Anything else (a `where:` scope, `=`, `IN`, a function
//! of the column) is left to the scan.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{ColumnStatistics, DFSchema, ScalarValue, Statistics};
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use datafusion::physical_plan::{StatisticsArgs, StatisticsContext};
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};
use datafusion::prelude::SessionContext;
use sluice_spec::Format;

use crate::source::Source;

/// The table's exact statistics, from its Parquet footers.
pub(super) struct Footers<'a> {
    session: &'a SessionContext,
    schema: Arc<Schema>,
    stats: Arc<Statistics>,
    rows: u64,
}

impl<'a> Footers<'a> {
    /// The statistics of a Parquet dataset's table, when they give its exact row count;
    /// `None` for other formats (their statistics are estimates or absent).
    pub async fn read(
        session: &'a SessionContext,
        source: &Source,
        df: &DataFrame,
    ) -> Option<Footers<'a>> {
        if source.format != Format::Parquet {
            return None;
        }
        // Planning the bare table scan reads no data: the listing table's statistics were
        // collected (and cached) from the footers when it was opened. Planned here, by
        // DataFusion's own planner, whatever engine runs the queries (a cluster's planner
        // would hand the plan to its scheduler).
        let (state, logical) = df.clone().into_parts();
        let logical = state.optimize(&logical).ok()?;
        let plan = DefaultPhysicalPlanner::default()
            .create_physical_plan(&logical, &state)
            .await
            .ok()?;
        let stats = StatisticsContext::new()
            .compute(plan.as_ref(), &StatisticsArgs::new())
            .ok()?;
        let rows = match stats.num_rows {
            Precision::Exact(n) => n as u64,
            _ => return None,
        };
        if stats.column_statistics.len() != source.schema.fields().len() {
            return None;
        }
        Some(Footers {
            session,
            schema: source.schema.clone(),
            stats,
            rows,
        })
    }

    /// The dataset's row count.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The value of aggregate `e`, when the footers settle it exactly.
    pub fn answer(&self, e: &Expr) -> Option<ScalarValue> {
        match e {
            Expr::Alias(a) => self.answer(&a.expr),
            Expr::Cast(c) => self.answer(&c.expr)?.cast_to(c.field.data_type()).ok(),
            Expr::TryCast(c) => self.answer(&c.expr)?.cast_to(c.field.data_type()).ok(),
            Expr::AggregateFunction(f) => self.aggregate(f),
            _ => None,
        }
    }

    fn aggregate(&self, f: &AggregateFunction) -> Option<ScalarValue> {
        let p = &f.params;
        if p.distinct || !p.order_by.is_empty() || p.args.len() != 1 {
            return None;
        }
        let arg = &p.args[0];
        let filter = p.filter.as_deref();
        match (f.func.name(), arg, filter) {
            ("count", Expr::Literal(v, _), None) if !v.is_null() => count(self.rows),
            ("count", Expr::Literal(v, _), Some(cond)) if !v.is_null() => {
                self.count_where(cond).and_then(count)
            }
            ("count", Expr::Column(c), None) => {
                let (_, col) = self.column(&c.name)?;
                count(self.rows.checked_sub(exact(&col.null_count)?)?)
            }
            ("min", Expr::Column(c), None) => self.extreme_of(&c.name, |col| &col.min_value),
            ("max", Expr::Column(c), None) => self.extreme_of(&c.name, |col| &col.max_value),
            _ => None,
        }
    }

    /// A column's exact minimum or maximum. NULL only when every value is NULL: a file
    /// without the column gives an exact NULL bound that the merge may keep although other
    /// files have values.
    fn extreme_of(
        &self,
        name: &str,
        bound: impl Fn(&ColumnStatistics) -> &Precision<ScalarValue>,
    ) -> Option<ScalarValue> {
        let (dt, col) = self.column(name)?;
        if !ordered(dt) {
            return None;
        }
        let v = extreme(bound(col), dt)?;
        if v.is_null() && exact(&col.null_count) != Some(self.rows) {
            return None;
        }
        Some(v)
    }

    /// How many rows satisfy `cond`, when the footers tell.
    fn count_where(&self, cond: &Expr) -> Option<u64> {
        match cond {
            Expr::IsNull(inner) => self.nulls(inner),
            Expr::IsNotNull(inner) => self.rows.checked_sub(self.nulls(inner)?),
            Expr::Not(inner) => match inner.as_ref() {
                Expr::IsNotNull(c) => self.nulls(c),
                bounds => self.bounds_hold(bounds).then_some(0),
            },
            _ => None,
        }
    }

    fn nulls(&self, e: &Expr) -> Option<u64> {
        let Expr::Column(c) = e else { return None };
        exact(&self.column(&c.name)?.1.null_count)
    }

    /// Whether `bounds` (comparisons of one column with literals, joined by AND) holds for
    /// every non-NULL value of the column.
    fn bounds_hold(&self, bounds: &Expr) -> bool {
        let mut column = None;
        if !monotone(bounds, &mut column) {
            return false;
        }
        let Some(name) = column else { return false };
        let Some((dt, col)) = self.column(&name) else {
            return false;
        };
        if !ordered(dt) {
            return false;
        }
        // Every value NULL: NOT (NULL …) is NULL, so no row counts.
        if exact(&col.null_count) == Some(self.rows) {
            return true;
        }
        let (Some(min), Some(max)) = (
            extreme(&col.min_value, dt).filter(|v| !v.is_null()),
            extreme(&col.max_value, dt).filter(|v| !v.is_null()),
        ) else {
            return false;
        };
        [min, max]
            .into_iter()
            .all(|v| self.holds_at(bounds, &name, v))
    }

    /// `bounds` evaluated with its column replaced by `value`.
    fn holds_at(&self, bounds: &Expr, column: &str, value: ScalarValue) -> bool {
        let replaced = bounds.clone().transform_up(|e| match e {
            Expr::Column(c) if c.name == column => {
                Ok(Transformed::yes(Expr::Literal(value.clone(), None)))
            }
            other => Ok(Transformed::no(other)),
        });
        let Ok(replaced) = replaced else { return false };
        let Ok(physical) = self
            .session
            .create_physical_expr(replaced.data, &DFSchema::empty())
        else {
            return false;
        };
        let Ok(one_row) = RecordBatch::try_new_with_options(
            Arc::new(Schema::empty()),
            vec![],
            &RecordBatchOptions::new().with_row_count(Some(1)),
        ) else {
            return false;
        };
        let Ok(out) = physical.evaluate(&one_row).and_then(|v| v.into_array(1)) else {
            return false;
        };
        out.as_boolean_opt()
            .is_some_and(|b| b.len() == 1 && b.is_valid(0) && b.value(0))
    }

    fn column(&self, name: &str) -> Option<(&DataType, &ColumnStatistics)> {
        let (i, field) = self.schema.column_with_name(name)?;
        Some((field.data_type(), self.stats.column_statistics.get(i)?))
    }
}

fn count(n: u64) -> Option<ScalarValue> {
    Some(ScalarValue::Int64(Some(i64::try_from(n).ok()?)))
}

fn exact(p: &Precision<usize>) -> Option<u64> {
    match p {
        Precision::Exact(n) => Some(*n as u64),
        _ => None,
    }
}

/// An exact minimum or maximum, of the column's own type.
fn extreme(p: &Precision<ScalarValue>, dt: &DataType) -> Option<ScalarValue> {
    match p {
        Precision::Exact(v) if v.data_type() == *dt => Some(v.clone()),
        _ => None,
    }
}

/// Types whose footer order is the order comparisons use, with no value the statistics
/// leave out.
fn ordered(dt: &DataType) -> bool {
    dt.is_integer()
        || matches!(
            dt,
            DataType::Date32
                | DataType::Date64
                | DataType::Timestamp(_, _)
                | DataType::Decimal128(_, _)
                | DataType::Decimal256(_, _)
        )
}

/// Whether `e` is comparisons (`<`, `<=`, `>`, `>=`, `BETWEEN`) of one column with
/// literals, joined by AND; the column is stored in `column`.
fn monotone(e: &Expr, column: &mut Option<String>) -> bool {
    let mut same = |name: &str| match column {
        Some(c) => c == name,
        None => {
            *column = Some(name.to_string());
            true
        }
    };
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And => monotone(left, column) && monotone(right, column),
            Operator::Lt | Operator::LtEq | Operator::Gt | Operator::GtEq => {
                match (left.as_ref(), right.as_ref()) {
                    (Expr::Column(c), Expr::Literal(v, _))
                    | (Expr::Literal(v, _), Expr::Column(c)) => !v.is_null() && same(&c.name),
                    _ => false,
                }
            }
            _ => false,
        },
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) => match (expr.as_ref(), low.as_ref(), high.as_ref()) {
            (Expr::Column(c), Expr::Literal(a, _), Expr::Literal(b, _)) => {
                !a.is_null() && !b.is_null() && same(&c.name)
            }
            _ => false,
        },
        _ => false,
    }
}
