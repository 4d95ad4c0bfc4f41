//! Decoding of the checks over metric history (`change`, `anomaly`), their thresholds, the
//! top-level `history:` block, and the check that every `metric:` names something the
//! dataset records.

use std::time::Duration;

use super::{Decoder, Entries, Opts, get};
use crate::diag::Diagnostic;
use crate::duration;
use crate::history::*;
use crate::kinds::Kind;
use crate::model::*;
use crate::source::Span;
use crate::suggest::hint;
use crate::yaml::{Node, Value};

const CHANGE_EXAMPLE: &str =
    "e.g. `- change: { metric: row_count, vs: previous, between_pct: [-20, 20] }`";
const ANOMALY_EXAMPLE: &str =
    "e.g. `- anomaly: { metric: row_count, method: mad, window: 30, seasonality: weekly }`";

impl Decoder<'_> {
    /// `history: { keep: 400d }`.
    pub(super) fn history_policy(&mut self, node: &Node) -> HistoryPolicy {
        let mut p = HistoryPolicy::default();
        let Some(e) = self.map(node, "`history`", "e.g. `history: { keep: 400d }`") else {
            return p;
        };
        self.check_keys(e, &["keep"], "`history`");
        if let Some(n) = get(e, "keep")
            && let Some(d) = self.duration(n, "`keep`", "e.g. `keep: 400d` keeps a bit over a year, enough for same-weekday and year-over-year comparisons")
        {
            p.keep = d;
        }
        p
    }

    /// A duration like `400d` (a number alone is seconds).
    pub(super) fn duration(&mut self, n: &Node, what: &str, help: &str) -> Option<Duration> {
        let parsed = match &n.value {
            Value::Str(s) => duration::parse(s),
            Value::Int(i) if *i > 0 => duration::from_secs(*i as u64, &i.to_string()),
            _ => {
                self.type_error(n, what, "a duration like `30d`", Some(help.into()));
                return None;
            }
        };
        match parsed {
            Ok(d) if d.is_zero() => {
                self.err(
                    Diagnostic::error(n.span, format!("{what} is zero"))
                        .label("zero")
                        .help(help.to_string()),
                );
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.err(
                    Diagnostic::error(n.span, e.to_string())
                        .label("not a duration")
                        .help(help.to_string()),
                );
                None
            }
        }
    }

    /// `metric:` of a history check (required; checked against the dataset later).
    fn metric_ref(&mut self, o: &Opts<'_>, example: &str) -> Option<MetricRef> {
        if let Some(s) = o.shorthand {
            return self.string(s, "the metric").map(|m| MetricRef::parse(&m));
        }
        match get(o.e, "metric") {
            Some(n) => self.string(n, "`metric`").map(|m| MetricRef::parse(&m)),
            None => {
                self.missing(o.at, "metric", &o.what(), &format!("name a check of this dataset or a dataset metric (`row_count`, `null_count(col)`, `min(col)`, `max(col)`, `mean(col)`); {example}"));
                None
            }
        }
    }

    /// `change`: `metric` and `vs`.
    pub(super) fn change(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        let metric = self.metric_ref(o, CHANGE_EXAMPLE);
        let vs = match get(o.e, "vs") {
            None => Some(Baseline::Previous),
            Some(n) => self.baseline(n),
        };
        Some(vec![CheckKind::Change {
            metric: metric?,
            vs: vs?,
        }])
    }

    /// `vs: previous | same_weekday | { runs_ago: N }`.
    fn baseline(&mut self, n: &Node) -> Option<Baseline> {
        let help = "use `vs: previous` (the last passing run), `vs: same_weekday` (7 days before, by logical date) or `vs: { runs_ago: 3 }`";
        match &n.value {
            Value::Str(s) => match s.as_str() {
                "previous" => Some(Baseline::Previous),
                "same_weekday" => Some(Baseline::SameWeekday),
                other => {
                    let h = hint(other, ["previous", "same_weekday", "runs_ago"])
                        .map(|h| format!("{h}; {help}"))
                        .unwrap_or_else(|| help.to_string());
                    self.err(
                        Diagnostic::error(n.span, format!("unknown `vs` `{other}`"))
                            .label("unknown baseline")
                            .help(h),
                    );
                    None
                }
            },
            Value::Map(e) => {
                self.check_keys(e, &["runs_ago"], "`vs`");
                let Some(r) = get(e, "runs_ago") else {
                    self.err(Diagnostic::error(n.span, "`vs` is missing `runs_ago`").help(help));
                    return None;
                };
                match self.uint(r, "`runs_ago`")? {
                    0 => {
                        self.err(
                            Diagnostic::error(r.span, "`runs_ago` must be 1 or more")
                                .label("the current run")
                                .help("`runs_ago: 1` is the run before this one"),
                        );
                        None
                    }
                    k if k > 10_000 => {
                        self.err(
                            Diagnostic::error(r.span, "`runs_ago` must be at most 10000")
                                .label("too far back"),
                        );
                        None
                    }
                    k => Some(Baseline::RunsAgo(k as u32)),
                }
            }
            _ => {
                self.type_error(
                    n,
                    "`vs`",
                    "`previous`, `same_weekday` or `{ runs_ago: N }`",
                    Some(help.into()),
                );
                None
            }
        }
    }

    /// `anomaly`: `metric`, `method`, `window`, `seasonality`, `min_history`,
    /// `too_little_history`.
    pub(super) fn anomaly(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        let metric = self.metric_ref(o, ANOMALY_EXAMPLE);
        let method = match get(o.e, "method") {
            None => Some(AnomalyMethod::Mad),
            Some(n) => self.one_of(
                n,
                "`method`",
                &[("mad", AnomalyMethod::Mad), ("zscore", AnomalyMethod::Zscore)],
                "`mad` (median and median absolute deviation: robust to outliers in the history) or `zscore` (mean and standard deviation)",
            ),
        };
        let window = match get(o.e, "window") {
            None => Some(Window::Runs(30)),
            Some(n) => match &n.value {
                Value::Int(_) => match self.uint(n, "`window`")? {
                    k if k < 2 => {
                        self.err(
                            Diagnostic::error(n.span, "`window` must hold at least 2 runs")
                                .label("too small")
                                .help("e.g. `window: 30` (the last 30 values) or `window: 8w`"),
                        );
                        None
                    }
                    k => Some(Window::Runs(k.min(100_000) as u32)),
                },
                _ => self
                    .duration(
                        n,
                        "`window`",
                        "a number of runs (`window: 30`) or a duration (`window: 8w`)",
                    )
                    .map(Window::Span),
            },
        };
        let weekly = match get(o.e, "seasonality") {
            None => Some(false),
            Some(n) => self.one_of(
                n,
                "`seasonality`",
                &[("weekly", true), ("none", false)],
                "`weekly` (compare with the same weekday only) or `none`",
            ),
        };
        let min_history = match get(o.e, "min_history") {
            None => Some(7),
            Some(n) => match self.uint(n, "`min_history`")? {
                k if k < 2 => {
                    self.err(
                        Diagnostic::error(n.span, "`min_history` must be at least 2")
                            .label("too small")
                            .help("a spread needs two values or more; the default is 7"),
                    );
                    None
                }
                k => Some(k.min(100_000) as u32),
            },
        };
        if let (Some(Window::Runs(w)), Some(m), Some(n)) =
            (window, min_history, get(o.e, "min_history"))
            && m > w
        {
            self.err(
                Diagnostic::error(
                    n.span,
                    format!("`min_history` {m} is more than the `window` of {w} runs"),
                )
                .label("never reached")
                .help("the check would never judge: lower `min_history` or widen `window`"),
            );
            return None;
        }
        let too_little = match get(o.e, "too_little_history") {
            None => Some(TooLittleHistory::Pass),
            Some(n) => self.one_of(
                n,
                "`too_little_history`",
                &[
                    ("pass", TooLittleHistory::Pass),
                    ("warn", TooLittleHistory::Warn),
                ],
                "`pass` (with a note; the default) or `warn`",
            ),
        };
        Some(vec![CheckKind::Anomaly(AnomalySpec {
            metric: metric?,
            method: method?,
            window: window?,
            weekly: weekly?,
            min_history: min_history?,
            too_little: too_little?,
        })])
    }

    /// One of a few words.
    fn one_of<T: Copy>(
        &mut self,
        n: &Node,
        what: &str,
        choices: &[(&str, T)],
        help: &str,
    ) -> Option<T> {
        let s = self.string(n, what)?;
        if let Some((_, v)) = choices.iter().find(|(w, _)| *w == s) {
            return Some(*v);
        }
        let h = hint(&s, choices.iter().map(|(w, _)| *w))
            .map(|h| format!("{h}; use {help}"))
            .unwrap_or_else(|| format!("use {help}"));
        self.err(
            Diagnostic::error(n.span, format!("unknown {what} `{s}`"))
                .label("unknown")
                .help(h),
        );
        None
    }

    /// `change` thresholds: bounds on the change (`min`, `max`, `between`, `equals`) or on
    /// the change in percent (`min_pct`, `max_pct`, `between_pct`), not both.
    pub(super) fn change_threshold(
        &mut self,
        entries: &Entries,
        at: Span,
    ) -> Option<Option<Threshold>> {
        let abs = self.bounds(entries, Kind::Change, at)?;
        let (lo, hi) = self.min_max(
            entries,
            ["min_pct", "max_pct", "between_pct"],
            "e.g. `between_pct: [-20, 20]` allows a change of up to 20 % either way",
            "%",
        )?;
        if lo.is_none() && hi.is_none() {
            return Some(abs);
        }
        if abs.is_some() {
            self.err(
                Diagnostic::error(at, "bounds on the change and on the change in percent together")
                    .label("one kind of bound per zone")
                    .help("use `min`/`max`/`between` (the change itself) or `min_pct`/`max_pct`/`between_pct` (in percent of the baseline); put the other in a `warn:` zone"),
            );
            return None;
        }
        Some(Some(Threshold::ChangePct { min: lo, max: hi }))
    }

    /// `max_score` of an `anomaly` check.
    pub(super) fn score_threshold(&mut self, entries: &Entries) -> Option<Option<Threshold>> {
        let Some(n) = get(entries, "max_score") else {
            return Some(None);
        };
        let v = self.number(n, "`max_score`")?;
        if v <= 0.0 {
            self.err(
                Diagnostic::error(n.span, "`max_score` must be more than 0")
                    .label("not positive")
                    .help("the default is 3.5 for `method: mad` and 3 for `method: zscore`"),
            );
            return None;
        }
        Some(Some(Threshold::MaxScore(v)))
    }

    /// Every history check's `metric:` names a check of its dataset (not another history
    /// check) or a dataset metric; no check waits (`after:`) for a history check, which is
    /// judged after every other.
    pub(super) fn check_metric_refs(&mut self, ds: &Dataset) {
        let names: Vec<&str> = ds.checks.iter().map(|c| c.name.as_str()).collect();
        for c in &ds.checks {
            for p in &c.after {
                if let Some(h) = ds
                    .checks
                    .iter()
                    .find(|o| o.name == p.name && o.kind.kind().is_history())
                {
                    self.err(
                        Diagnostic::error(p.span, format!("`{}` waits for `{}`, a history check", c.name, h.name))
                            .label("judged last")
                            .related(h.span, "defined here")
                            .help("history checks (`change`, `anomaly`) are judged after every other check of the dataset: nothing can run after them; wait for the check they watch instead"),
                    );
                }
            }
        }
        for c in &ds.checks {
            let m = match &c.kind {
                CheckKind::Change { metric, .. } => metric,
                CheckKind::Anomaly(a) => &a.metric,
                _ => continue,
            };
            let Some(name) = m.check_name(&names) else {
                continue;
            };
            match ds.checks.iter().find(|o| o.name == name) {
                Some(o) if o.kind.kind().is_history() => {
                    self.err(
                        Diagnostic::error(
                            c.span,
                            format!("`{}` watches `{name}`, another history check", c.name),
                        )
                        .label("history of a history check")
                        .related(o.span, "defined here")
                        .help("watch the metric itself: the check's own `metric:`"),
                    );
                }
                Some(o) if o.name == c.name => {
                    self.err(
                        Diagnostic::error(c.span, format!("`{}` watches itself", c.name))
                            .label("watches itself")
                            .help("name another check of this dataset, or a dataset metric such as `row_count`"),
                    );
                }
                Some(_) => {}
                None => {
                    let candidates = names
                        .iter()
                        .copied()
                        .chain(["row_count"])
                        .filter(|n| *n != c.name);
                    let help = hint(name, candidates).unwrap_or_else(|| {
                        format!(
                            "name a check of `{}` ({}) or a dataset metric: `row_count`, `null_count(col)`, `min(col)`, `max(col)`, `mean(col)`",
                            ds.name,
                            names.iter().filter(|n| **n != c.name).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                        )
                    });
                    self.err(
                        Diagnostic::error(
                            c.span,
                            format!("`{}` watches `{name}`, which is not a check of dataset `{}` nor a dataset metric", c.name, ds.name),
                        )
                        .label("unknown metric")
                        .help(help),
                    );
                }
            }
        }
    }
}
