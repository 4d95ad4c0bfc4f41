//! Metric history: every recorded run's metrics per dataset (its checks' observed values
//! and the dataset metrics of its scan), with the run's partition, for `sluice history`
//! and the checks that compare a run with earlier ones (`change`, `anomaly`).
//!
//! A run's **partition** (`--partition ds=2026-11-30 --partition region=EU`) says which
//! slice of the data it checked. Its *series* is the partition with date values replaced
//! by `*` (`{"ds":"*","region":"EU"}`): runs of one series are compared with each other,
//! ordered by their *logical date* — the partition's date when it has one (so an Airflow
//! backfill of last Monday compares with the Monday before it, not with today), else the
//! time the run started.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::{Result, Tx, Val, i, parse_ts, t, ts};

/// Retention and lookups read at most this many values per metric.
const MAX_POINTS: i64 = 100_000;

/// A run's partition: `KEY=VALUE` pairs, by key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Partition(BTreeMap<String, String>);

/// Why a `--partition` value is not `KEY=VALUE`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("partition `{text}` is not KEY=VALUE: {why}; e.g. `--partition ds=2026-11-30`")]
pub struct PartitionError {
    /// What was given.
    pub text: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl Partition {
    /// Builds one from `KEY=VALUE` texts (a key given twice is an error).
    pub fn parse<S: AsRef<str>>(items: &[S]) -> std::result::Result<Partition, PartitionError> {
        let mut map = BTreeMap::new();
        for item in items {
            let text = item.as_ref();
            let err = |why| PartitionError {
                text: text.to_string(),
                why,
            };
            let (k, v) = text.split_once('=').ok_or_else(|| err("no `=`"))?;
            let k = k.trim();
            if k.is_empty() {
                return Err(err("the key is empty"));
            }
            if !k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            {
                return Err(err("a key is letters, digits, `_`, `-` and `.`"));
            }
            if map.insert(k.to_string(), v.to_string()).is_some() {
                return Err(err("the key is given twice"));
            }
        }
        Ok(Partition(map))
    }

    /// No partition.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pairs, by key.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// As stored: a JSON object (`{}` for none).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("strings serialise")
    }

    fn from_json(s: &str) -> Partition {
        Partition(serde_json::from_str(s).unwrap_or_default())
    }

    /// Its series: date values replaced by `*`, as JSON.
    pub fn series(&self) -> String {
        let m: BTreeMap<&str, &str> = self
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), if date_of(v).is_some() { "*" } else { v }))
            .collect();
        serde_json::to_string(&m).expect("strings serialise")
    }

    /// Its logical date: the first date value (by key), if any.
    pub fn logical(&self) -> Option<DateTime<Utc>> {
        self.0.values().find_map(|v| date_of(v))
    }

    /// Whether every pair of `filter` is in it.
    pub fn contains(&self, filter: &Partition) -> bool {
        filter.0.iter().all(|(k, v)| self.0.get(k) == Some(v))
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.write_str(&parts.join(","))
    }
}

/// A date (`2026-11-30`) or a timestamp (`2026-11-30T06:00:00Z`, `2026-11-30T06:00:00`).
fn date_of(v: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| Utc.from_utc_datetime(&t))
}

/// One recorded value of a metric.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricPoint {
    /// The run.
    pub run_id: String,
    /// The dataset.
    pub dataset: String,
    /// The metric: a check's name (`not_null(x)`, `parity(a).missing`) or a dataset metric
    /// (`row_count`, `mean(amount)`).
    pub metric: String,
    /// Its value.
    pub value: f64,
    /// The run's partition.
    pub partition: Partition,
    /// The run's logical date (see the module doc).
    pub logical_at: DateTime<Utc>,
    /// When the run finished.
    pub at: DateTime<Utc>,
    /// The status of the check it came from (`pass`, `fail`...), or `ok` for a dataset
    /// metric.
    pub status: String,
    /// Whether the dataset passed in that run (no check of severity `error` failed or
    /// errored).
    pub passed: bool,
}

/// Which points [`Tx::metric_points`] returns.
#[derive(Clone, Debug, Default)]
pub struct PointQuery<'a> {
    /// The dataset.
    pub dataset: &'a str,
    /// One metric (all when `None`).
    pub metric: Option<&'a str>,
    /// Only this series (JSON, as [`Partition::series`]).
    pub series: Option<&'a str>,
    /// Only logical dates strictly before this.
    pub before: Option<DateTime<Utc>>,
    /// The last this many, by logical date then time (all when `None`).
    pub last: Option<usize>,
}

impl Tx<'_> {
    /// Records metric values (a run's, in its transaction).
    pub fn record_metrics(&mut self, points: &[MetricPoint]) -> Result<()> {
        for p in points.iter().filter(|p| p.value.is_finite()) {
            self.exec(
                "INSERT INTO metrics (run_id, dataset, metric, value, partition, series, logical_at, at, status, passed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (run_id, dataset, metric) DO UPDATE SET value = excluded.value, status = excluded.status, passed = excluded.passed",
                &[
                    t(&p.run_id),
                    t(&p.dataset),
                    t(&p.metric),
                    Val::Real(Some(p.value)),
                    t(p.partition.to_json()),
                    t(p.partition.series()),
                    t(ts(p.logical_at)),
                    t(ts(p.at)),
                    t(&p.status),
                    i(i64::from(p.passed)),
                ],
            )?;
        }
        Ok(())
    }

    /// Deletes metric values of runs that finished before `before`; returns how many.
    pub fn prune_metrics(&mut self, before: DateTime<Utc>) -> Result<u64> {
        self.exec("DELETE FROM metrics WHERE at < ?1", &[t(ts(before))])
    }

    /// Recorded points, oldest first (by logical date, then finish time).
    pub fn metric_points(&mut self, q: &PointQuery<'_>) -> Result<Vec<MetricPoint>> {
        let limit = q.last.map_or(MAX_POINTS, |n| {
            i64::try_from(n).unwrap_or(MAX_POINTS).min(MAX_POINTS)
        });
        let rows = self.rows(
            "SELECT run_id, dataset, metric, value, partition, logical_at, at, status, passed FROM metrics
             WHERE dataset = ?1 AND (CAST(?2 AS TEXT) IS NULL OR metric = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR series = ?3)
               AND (CAST(?4 AS TEXT) IS NULL OR logical_at < ?4)
             ORDER BY logical_at DESC, at DESC LIMIT ?5",
            &[
                t(q.dataset),
                Val::Text(q.metric.map(str::to_string)),
                Val::Text(q.series.map(str::to_string)),
                Val::Text(q.before.map(ts)),
                i(limit),
            ],
        )?;
        let mut out: Vec<MetricPoint> = rows
            .into_iter()
            .map(|r| MetricPoint {
                run_id: r[0].text().unwrap_or_default(),
                dataset: r[1].text().unwrap_or_default(),
                metric: r[2].text().unwrap_or_default(),
                value: r[3].real().unwrap_or(f64::NAN),
                partition: Partition::from_json(&r[4].text().unwrap_or_default()),
                logical_at: r[5].text().and_then(|s| parse_ts(&s)).unwrap_or_default(),
                at: r[6].text().and_then(|s| parse_ts(&s)).unwrap_or_default(),
                status: r[7].text().unwrap_or_default(),
                passed: r[8].int() == Some(1),
            })
            .collect();
        out.reverse();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_parses_and_names_its_series_and_logical_date() {
        let p = Partition::parse(&["region=EU", "ds=2026-11-30"]).unwrap();
        assert_eq!(p.to_string(), "ds=2026-11-30,region=EU");
        assert_eq!(p.series(), r#"{"ds":"*","region":"EU"}"#);
        assert_eq!(
            p.logical(),
            Some(Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap())
        );
        assert!(p.contains(&Partition::parse(&["region=EU"]).unwrap()));
        assert!(!p.contains(&Partition::parse(&["region=US"]).unwrap()));
        assert_eq!(Partition::parse::<&str>(&[]).unwrap().series(), "{}");
    }

    #[test]
    fn bad_partitions_say_what_is_wrong() {
        assert_eq!(Partition::parse(&["ds"]).unwrap_err().why, "no `=`");
        assert_eq!(
            Partition::parse(&["=x"]).unwrap_err().why,
            "the key is empty"
        );
        assert_eq!(
            Partition::parse(&["a=1", "a=2"]).unwrap_err().why,
            "the key is given twice"
        );
        assert!(
            Partition::parse(&["ds"])
                .unwrap_err()
                .to_string()
                .contains("--partition ds=2026-11-30")
        );
    }
}
