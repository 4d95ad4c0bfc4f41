//! `sluice breaker report`: what the audit log says about a period — incidents per dataset
//! and per month, how long data stayed halted, which datasets trip most. The numbers a team
//! shows when its data incidents go from 13 a month to 3.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike as _, Utc};
use serde::Serialize;

use crate::machine::{Effective, Event};
use crate::store::Logged;

/// The report over a window of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Start of the window.
    pub since: DateTime<Utc>,
    /// End of the window (now).
    pub until: DateTime<Utc>,
    /// Incidents: a breaker going from flowing (closed, override) to halted (open, tripped).
    pub incidents: usize,
    /// Incidents per month, oldest first; months without any included.
    pub per_month: Vec<Month>,
    /// Per dataset, most incidents first.
    pub datasets: Vec<DatasetStats>,
    /// Time to recover (halted → closed), over incidents that recovered, in seconds.
    pub recovery: Recovery,
}

/// Incidents in one month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    /// Incidents that started in it.
    pub incidents: usize,
}

/// One dataset's incidents.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatasetStats {
    /// The dataset.
    pub dataset: String,
    /// Incidents in the window.
    pub incidents: usize,
    /// Of which by hand (`breaker trip`).
    pub manual: usize,
    /// Median time to recover, seconds (`None`: none recovered).
    pub median_recovery_s: Option<i64>,
    /// Worst time to recover, seconds.
    pub worst_recovery_s: Option<i64>,
    /// Still halted at the end of the window: since when.
    pub open_since: Option<DateTime<Utc>>,
}

/// Times to recover.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Recovery {
    /// Incidents that recovered in the window.
    pub recovered: usize,
    /// Median, seconds.
    pub median_s: Option<i64>,
    /// Worst, seconds.
    pub worst_s: Option<i64>,
    /// Incidents still halted at the end of the window.
    pub ongoing: usize,
}

fn halts(from: Effective, to: Effective) -> bool {
    from.flows() && !to.flows()
}

fn median(v: &mut [i64]) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    })
}

/// Builds the report from the transitions of the window, oldest first.
pub fn build(log: &[Logged], since: DateTime<Utc>, until: DateTime<Utc>) -> Report {
    #[derive(Default)]
    struct Acc {
        incidents: usize,
        manual: usize,
        recoveries: Vec<i64>,
        open_since: Option<DateTime<Utc>>,
    }
    let mut per: BTreeMap<&str, Acc> = BTreeMap::new();
    let mut months: BTreeMap<String, usize> = BTreeMap::new();
    let mut m = since.date_naive().with_day(1).expect("day 1 exists");
    while m <= until.date_naive() {
        months.insert(m.format("%Y-%m").to_string(), 0);
        m = m
            .checked_add_months(chrono::Months::new(1))
            .expect("in range");
    }
    for l in log {
        let t = &l.transition;
        let acc = per.entry(&t.dataset).or_default();
        if halts(t.from, t.to) {
            acc.incidents += 1;
            if t.event == Event::ManualTrip {
                acc.manual += 1;
            }
            acc.open_since = Some(t.at);
            *months.entry(t.at.format("%Y-%m").to_string()).or_default() += 1;
        } else if t.to == Effective::Closed
            && let Some(start) = acc.open_since.take()
        {
            acc.recoveries.push((t.at - start).num_seconds());
        }
    }
    let mut all: Vec<i64> = Vec::new();
    let mut datasets: Vec<DatasetStats> = per
        .into_iter()
        .filter(|(_, a)| a.incidents > 0)
        .map(|(d, mut a)| {
            all.extend(&a.recoveries);
            DatasetStats {
                dataset: d.to_string(),
                incidents: a.incidents,
                manual: a.manual,
                median_recovery_s: median(&mut a.recoveries),
                worst_recovery_s: a.recoveries.iter().max().copied(),
                open_since: a.open_since,
            }
        })
        .collect();
    datasets.sort_by(|a, b| {
        b.incidents
            .cmp(&a.incidents)
            .then(a.dataset.cmp(&b.dataset))
    });
    let ongoing = datasets.iter().filter(|d| d.open_since.is_some()).count();
    let recovered = all.len();
    Report {
        since,
        until,
        incidents: datasets.iter().map(|d| d.incidents).sum(),
        per_month: months
            .into_iter()
            .map(|(month, incidents)| Month { month, incidents })
            .collect(),
        datasets,
        recovery: Recovery {
            recovered,
            worst_s: all.iter().max().copied(),
            median_s: median(&mut all),
            ongoing,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::Transition;
    use chrono::TimeZone;

    fn at(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, month, day, hour, 0, 0).unwrap()
    }

    fn tr(
        id: i64,
        dataset: &str,
        event: &'static str,
        from: Effective,
        to: Effective,
        t: DateTime<Utc>,
    ) -> Logged {
        Logged {
            id,
            transition: Transition {
                dataset: dataset.into(),
                event: Event::parse(event).expect("an event name"),
                from,
                to,
                at: t,
                by: "x".into(),
                reason: "r".into(),
                run_id: None,
            },
        }
    }

    #[test]
    fn incidents_months_and_recovery_times() {
        use Effective::*;
        let log = [
            tr(1, "orders", "trip", Closed, Open, at(9, 3, 0)),
            tr(2, "orders", "close", Open, Closed, at(9, 3, 2)),
            tr(3, "orders", "trip", Closed, Open, at(10, 1, 0)),
            tr(4, "orders", "reset", Open, Closed, at(10, 1, 10)),
            tr(5, "events", "manual_trip", Closed, Tripped, at(10, 5, 0)),
            tr(6, "events", "override", Tripped, Override, at(10, 5, 1)),
            tr(7, "events", "expire", Override, Tripped, at(10, 5, 3)),
            tr(8, "forecast", "trip", Closed, Open, at(11, 20, 0)),
        ];
        let r = build(&log, at(9, 1, 0), at(11, 22, 0));
        assert_eq!(
            r.incidents, 5,
            "an expired override halting again is an incident"
        );
        let months: Vec<(&str, usize)> = r
            .per_month
            .iter()
            .map(|m| (m.month.as_str(), m.incidents))
            .collect();
        assert_eq!(months, [("2026-09", 1), ("2026-10", 3), ("2026-11", 1)]);
        assert_eq!(r.datasets[0].dataset, "events");
        assert_eq!(r.datasets[0].incidents, 2);
        assert_eq!(r.datasets[0].manual, 1);
        let orders = r.datasets.iter().find(|d| d.dataset == "orders").unwrap();
        assert_eq!(
            (orders.median_recovery_s, orders.worst_recovery_s),
            (Some(6 * 3600), Some(10 * 3600))
        );
        assert_eq!(r.recovery.recovered, 2);
        assert_eq!(r.recovery.median_s, Some(6 * 3600));
        assert_eq!(r.recovery.worst_s, Some(10 * 3600));
        assert_eq!(
            r.recovery.ongoing, 2,
            "events and forecast are still halted"
        );
    }
}
