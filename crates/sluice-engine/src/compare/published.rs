//! `change_vs_published`: the forecast against the currently published version of the
//! same dataset, on the keys both have.
//!
//! Each side is first grouped by the keys (so a key that occurs twice is found, not
//! joined twice: duplicated keys make the check `error`, naming how many), then the two
//! are joined on the keys (NULL keys never match). Over the keys with a value on both
//! sides: `WAPE = Σ|new − old| / Σ|old| × 100`, and per key the relative change
//! `|new − old| / |old| × 100` (from 0 to anything else: infinite). `failing_rows` are the
//! keys whose change exceeds `max_change_pct`; the largest changes are the samples.

use serde_json::{Map, Value, json};
use sluice_spec::{ChangeSpec, Threshold};

use super::{Comparison, Other, Query, cols, cols_then, exact, join_on, short};
use crate::compile::ident;
use crate::error::{CheckError, CheckErrorKind as K};
use crate::values::{as_f64, as_u64, rows};

pub(super) async fn run(
    q: &Query<'_>,
    spec: &ChangeSpec,
    other: &Other,
) -> Result<Comparison, CheckError> {
    let keys = &spec.keys;
    let c = ident(&spec.column);
    let limit = max_change(q);
    let rel = "CASE WHEN o.v = 0 THEN CASE WHEN n.v = 0 THEN CAST(0 AS DOUBLE) ELSE NULL END \
               ELSE abs(n.v - o.v) / abs(o.v) * 100 END";
    let joined = format!(
        "WITH n AS (SELECT {k}, count(*) AS cnt, max(CAST({c} AS DOUBLE)) AS v FROM {t}{scope} GROUP BY {k}), \
         o AS (SELECT {k}, count(*) AS cnt, max(CAST({c} AS DOUBLE)) AS v FROM {p} GROUP BY {k}), \
         j AS (SELECT {nk}n.v AS new, o.v AS old, n.cnt AS n_cnt, o.cnt AS o_cnt, \
                 n.v IS NOT NULL AND o.v IS NOT NULL AS both_values, {rel} AS rel \
               FROM n FULL JOIN o ON {on})",
        k = cols(keys, ""),
        t = q.table(),
        scope = q.where_scope(),
        p = ident(&other.table),
        nk = keys
            .iter()
            .map(|k| format!("coalesce(n.{c}, o.{c}) AS {c}, ", c = ident(k)))
            .collect::<String>(),
        on = join_on(keys, "n", "o"),
    );
    let over = match limit {
        Some(l) => format!("rel IS NULL OR rel > {}", super::lit(l)),
        None => "FALSE".to_string(),
    };
    let summary = format!(
        "{joined} SELECT \
           count(*) FILTER (WHERE n_cnt IS NOT NULL), \
           count(*) FILTER (WHERE o_cnt IS NOT NULL), \
           count(*) FILTER (WHERE n_cnt > 1), \
           count(*) FILTER (WHERE o_cnt > 1), \
           count(*) FILTER (WHERE both_values), \
           sum(abs(new - old)) FILTER (WHERE both_values), \
           sum(abs(old)) FILTER (WHERE both_values), \
           max(rel) FILTER (WHERE both_values), \
           count(*) FILTER (WHERE both_values AND rel IS NULL), \
           count(*) FILTER (WHERE both_values AND ({over})), \
           count(*) FILTER (WHERE n_cnt IS NOT NULL AND o_cnt IS NULL), \
           count(*) FILTER (WHERE o_cnt IS NOT NULL AND n_cnt IS NULL) \
         FROM j"
    );
    let v = q.row(&summary).await?;
    let u = |i: usize| v.get(i).map(as_u64).unwrap_or(0);
    let f = |i: usize| v.get(i).and_then(as_f64);
    let (new_keys, old_keys, dup_new, dup_old, compared) = (u(0), u(1), u(2), u(3), u(4));
    let (abs_err, abs_old, max_rel, from_zero, over_limit) = (f(5), f(6), f(7), u(8), u(9));
    let (only_new, only_old) = (u(10), u(11));
    if dup_new > 0 || dup_old > 0 {
        let mut where_ = vec![];
        if dup_new > 0 {
            where_.push(format!("{dup_new} in the checked data"));
        }
        if dup_old > 0 {
            where_.push(format!("{dup_old} in {}", other.label));
        }
        return Err(CheckError::new(
            K::Comparison,
            format!(
                "the keys ({}) identify more than one row: {} key values occur more than once; add the key column that tells them apart (e.g. a horizon or a quantile level)",
                keys.join(", "),
                where_.join(", ")
            ),
        ));
    }
    let mut observed = Map::new();
    observed.insert("published".into(), json!(other.label));
    observed.insert("keys".into(), json!(keys));
    observed.insert("column".into(), json!(spec.column));
    observed.insert("keys_compared".into(), json!(compared));
    observed.insert("keys_new".into(), json!(new_keys));
    observed.insert("keys_published".into(), json!(old_keys));
    observed.insert("only_new".into(), json!(only_new));
    observed.insert("only_published".into(), json!(only_old));
    if compared == 0 {
        observed.insert("wape_pct".into(), Value::Null);
        observed.insert("max_change_pct".into(), Value::Null);
        return Ok(Comparison::note(
            format!(
                "no keys in common with {} ({new_keys} keys now, {old_keys} published): nothing to compare",
                other.label
            ),
            Value::Object(observed),
        ));
    }
    let wape = match (abs_err, abs_old) {
        (Some(e), Some(o)) if o > 0.0 => e / o * 100.0,
        (Some(0.0), _) => 0.0,
        _ => f64::INFINITY,
    };
    let largest = if from_zero > 0 {
        f64::INFINITY
    } else {
        max_rel.unwrap_or(0.0)
    };
    observed.insert("wape_pct".into(), exact(wape));
    observed.insert("max_change_pct".into(), exact(largest));
    observed.insert("changed_from_zero".into(), json!(from_zero));
    if limit.is_some() {
        observed.insert("keys_over_max_change".into(), json!(over_limit));
    }

    // The largest relative changes (from zero first).
    let top = format!(
        "{joined} SELECT {k}old AS published, new, round(rel, 4) AS change_pct FROM j WHERE both_values \
         ORDER BY rel DESC NULLS FIRST, {k2} LIMIT {n}",
        k = cols_then(keys, ""),
        k2 = if keys.is_empty() {
            "new".to_string()
        } else {
            cols(keys, "")
        },
        n = q.samples().max(1),
    );
    let stats = vec![("wape_pct", wape), ("change_pct", largest)];
    let samples = if super::breaks_a_limit(q.check, &stats) {
        rows(&q.batches(&top).await?)
    } else {
        vec![]
    };
    let largest_text = match samples.first() {
        Some(s) => {
            let key: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}={}", super::key_text(s.get(k))))
                .collect();
            format!(
                "; largest change {} at {}",
                if largest.is_finite() {
                    format!("{}%", short(largest))
                } else {
                    "from 0".to_string()
                },
                key.join(" ")
            )
        }
        None => String::new(),
    };
    let over_text = match limit {
        Some(l) if over_limit > 0 => format!(
            "; {over_limit} {} changed by more than {}%",
            if over_limit == 1 { "key" } else { "keys" },
            short(l)
        ),
        _ => String::new(),
    };
    Ok(Comparison {
        stats,
        failing: limit.map(|_| (over_limit, compared)),
        observed: Value::Object(observed),
        message: format!(
            "WAPE {}% vs {} over {compared} keys in common{largest_text}{over_text}",
            short(wape),
            other.label
        ),
        samples: samples.into_iter().take(q.samples()).collect(),
    })
}

/// The check's tightest `max_change_pct` (fail or warn zone), to count keys beyond it.
fn max_change(q: &Query<'_>) -> Option<f64> {
    q.check
        .fail
        .iter()
        .chain(q.check.warn.iter())
        .filter_map(|t| match t {
            Threshold::Limits(ls) => ls
                .iter()
                .find(|l| l.key == "max_change_pct")
                .map(|l| l.value),
            _ => None,
        })
        .reduce(f64::min)
}
