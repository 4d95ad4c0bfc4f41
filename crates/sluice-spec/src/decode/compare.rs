//! Decoding of the kinds that compare a dataset with another dataset or with the
//! published version of itself — `distribution`, `within_history`, `change_vs_published`,
//! `forecast_accuracy` — and of their limits on statistics (`max_psi: 0.25`).

use super::{Decoder, Opts, get};
use crate::diag::Diagnostic;
use crate::kinds::Kind;
use crate::model::*;
use crate::suggest::list;
use crate::yaml::Node;

/// The limit `distribution` applies when none is given: a PSI above 0.25 is the usual
/// "significant shift" rule of thumb.
pub(crate) const DEFAULT_MAX_PSI: f64 = 0.25;

impl Decoder<'_> {
    /// The limits of `keys` found in `entries`: `Some(None)` when there are none, `None`
    /// when one is invalid (already reported).
    pub(super) fn limits(
        &mut self,
        entries: &[(Node, Node)],
        keys: &'static [&'static str],
    ) -> Option<Option<Threshold>> {
        let mut limits = Vec::new();
        let mut ok = true;
        for key in keys {
            let Some(n) = get(entries, key) else {
                continue;
            };
            let Some(v) = self.number(n, &format!("`{key}`")) else {
                ok = false;
                continue;
            };
            let problem = if key.ends_with("_p") && !(0.0..=1.0).contains(&v) {
                Some("a p-value is between 0 and 1, e.g. 0.05")
            } else if key.ends_with("_pct")
                && key.starts_with("min_")
                && !(0.0..=100.0).contains(&v)
            {
                Some("a percentage is between 0 and 100")
            } else if v < 0.0 {
                Some("this statistic is never negative; use 0 or more")
            } else {
                None
            };
            if let Some(help) = problem {
                self.err(
                    Diagnostic::error(n.span, format!("`{key}` is out of range"))
                        .label("out of range")
                        .help(help),
                );
                ok = false;
                continue;
            }
            limits.push(Limit { key, value: v });
        }
        if !ok {
            return None;
        }
        Some((!limits.is_empty()).then_some(Threshold::Limits(limits)))
    }

    /// The limit of a comparison that gives none: `max_psi: 0.25` for `distribution`; the
    /// others must give one.
    pub(super) fn default_limits(
        &mut self,
        kind: Kind,
        keys: &'static [&'static str],
        at: crate::source::Span,
    ) -> Option<Threshold> {
        if kind == Kind::Distribution {
            return Some(Threshold::Limits(vec![Limit {
                key: "max_psi",
                value: DEFAULT_MAX_PSI,
            }]));
        }
        self.err(
            Diagnostic::error(at, format!("a `{kind}` check needs a threshold"))
                .label("no threshold")
                .help(format!(
                    "give at least one of {}, or `warn:`/`fail:` zones with them",
                    list(keys)
                )),
        );
        None
    }

    /// A dataset named under `key` (checked against the file's datasets later).
    fn dataset_ref(&mut self, o: &Opts<'_>, key: &str, example: &str) -> Option<DatasetRef> {
        match get(o.e, key) {
            Some(n) => self
                .string(n, &format!("`{key}`"))
                .map(|name| DatasetRef { name, span: n.span }),
            None => {
                self.missing(o.at, key, &o.what(), example);
                None
            }
        }
    }

    /// An optional column name under `key`.
    fn opt_column(&mut self, o: &Opts<'_>, key: &str) -> Option<Option<String>> {
        match get(o.e, key) {
            Some(n) => self.string(n, &format!("`{key}`")).map(Some),
            None => Some(None),
        }
    }

    /// A required column name under `key`.
    fn req_column(&mut self, o: &Opts<'_>, key: &str, example: &str) -> Option<String> {
        match get(o.e, key) {
            Some(n) => self.string(n, &format!("`{key}`")),
            None => {
                self.missing(o.at, key, &o.what(), example);
                None
            }
        }
    }

    /// A list of column names under `key` (`None` when missing and `required`).
    fn column_list(
        &mut self,
        o: &Opts<'_>,
        key: &str,
        required: Option<&str>,
    ) -> Option<Vec<String>> {
        match (get(o.e, key), required) {
            (Some(n), _) => self.strings(n, &format!("`{key}`")),
            (None, Some(example)) => {
                self.missing(o.at, key, &o.what(), example);
                None
            }
            (None, None) => Some(vec![]),
        }
    }

    /// A quantile (0 to 1) under `key`.
    fn quantile(&mut self, n: &Node, key: &str) -> Option<f64> {
        let v = self.number(n, &format!("`{key}`"))?;
        if (0.0..=1.0).contains(&v) {
            Some(v)
        } else {
            self.err(
                Diagnostic::error(n.span, format!("`{key}` is a quantile between 0 and 1"))
                    .label("out of range")
                    .help("e.g. `q_low: 0.05, q_high: 0.95`"),
            );
            None
        }
    }

    /// `distribution: { column, reference: DATASET | published, reference_column, bins,
    /// categorical }`.
    pub(super) fn distribution(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        let example = "e.g. `- distribution: { column: p50, reference: published, max_psi: 0.25 }`";
        self.no_shorthand(o, example)?;
        let column = self.column(o);
        let reference = match get(o.e, "reference") {
            Some(n) => self.string(n, "`reference`").map(|name| {
                if name == "published" {
                    Reference::Published
                } else {
                    Reference::Dataset(DatasetRef { name, span: n.span })
                }
            }),
            None => {
                self.missing(
                    o.at,
                    "reference",
                    &o.what(),
                    "`reference: published` (the published version of this dataset) or `reference: DATASET`",
                );
                None
            }
        };
        let reference_column = self.opt_column(o, "reference_column");
        let bins = match get(o.e, "bins") {
            Some(n) => match self.uint(n, "`bins`")? {
                b @ 2..=1000 => Some(b as u32),
                _ => {
                    self.err(
                        Diagnostic::error(n.span, "`bins` must be between 2 and 1000")
                            .label("out of range")
                            .help("10 bins (deciles of the reference) is the usual choice"),
                    );
                    None
                }
            },
            None => Some(10),
        };
        let categorical = match get(o.e, "categorical") {
            Some(n) => Some(Some(self.boolean(n, "`categorical`")?)),
            None => Some(None),
        };
        Some(vec![CheckKind::Distribution(DistributionSpec {
            column: column?,
            reference: reference?,
            reference_column: reference_column?,
            bins: bins?,
            categorical: categorical?,
        })])
    }

    /// `within_history: { actuals, series, column, actual_column, factor, q_low, q_high }`.
    pub(super) fn within_history(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        let example = "e.g. `- within_history: { actuals: sales, series: [region], column: p50, actual_column: units, factor: 3 }`";
        self.no_shorthand(o, example)?;
        let actuals = self.dataset_ref(o, "actuals", example);
        let series = self.column_list(o, "series", None);
        let column = self.column(o);
        let actual_column = self.opt_column(o, "actual_column");
        let factor = match get(o.e, "factor") {
            Some(n) => match self.number(n, "`factor`")? {
                f if f >= 1.0 => Some(f),
                _ => {
                    self.err(
                        Diagnostic::error(n.span, "`factor` must be at least 1")
                            .label("below 1")
                            .help("1 allows exactly the historical range; 3 allows three times it"),
                    );
                    None
                }
            },
            None => {
                self.missing(o.at, "factor", &o.what(), example);
                None
            }
        };
        let q_low = match get(o.e, "q_low") {
            Some(n) => Some(Some(self.quantile(n, "q_low")?)),
            None => Some(None),
        };
        let q_high = match get(o.e, "q_high") {
            Some(n) => Some(Some(self.quantile(n, "q_high")?)),
            None => Some(None),
        };
        if let (Some(Some(lo)), Some(Some(hi))) = (q_low, q_high)
            && lo > hi
        {
            self.err(
                Diagnostic::error(o.at, format!("`q_high` {hi} is below `q_low` {lo}"))
                    .help("swap them"),
            );
            return None;
        }
        Some(vec![CheckKind::WithinHistory(WithinHistorySpec {
            actuals: actuals?,
            series: series?,
            column: column?,
            actual_column: actual_column?,
            factor: factor?,
            q_low: q_low?,
            q_high: q_high?,
        })])
    }

    /// `change_vs_published: { keys, column }` (thresholds decoded with the zones).
    pub(super) fn change_vs_published(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        let example =
            "e.g. `- change_vs_published: { keys: [region, ds], column: p50, max_wape_pct: 20 }`";
        self.no_shorthand(o, example)?;
        let keys = self.column_list(o, "keys", Some(example));
        let column = self.column(o);
        Some(vec![CheckKind::ChangeVsPublished(ChangeSpec {
            keys: keys?,
            column: column?,
        })])
    }

    /// `forecast_accuracy: { actuals, keys, point, actual_column, lower, upper, season }`.
    pub(super) fn forecast_accuracy(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        let example = "e.g. `- forecast_accuracy: { actuals: sales, keys: [region, ds], point: p50, actual_column: units, max_mase: 1.5 }`";
        self.no_shorthand(o, example)?;
        let actuals = self.dataset_ref(o, "actuals", example);
        let keys = self.column_list(o, "keys", Some(example));
        let point = self.req_column(o, "point", example);
        let actual_column = self.opt_column(o, "actual_column");
        let lower = self.opt_column(o, "lower");
        let upper = self.opt_column(o, "upper");
        let season = match get(o.e, "season") {
            Some(n) => match self.uint(n, "`season`")? {
                0 => {
                    self.err(
                        Diagnostic::error(n.span, "`season` must be at least 1")
                            .label("zero")
                            .help("1 compares with the previous value (naive); 7 with the same weekday of daily data"),
                    );
                    None
                }
                s => Some(s as u32),
            },
            None => Some(1),
        };
        let (lower, upper) = (lower?, upper?);
        if lower.is_some() != upper.is_some() {
            self.err(
                Diagnostic::error(o.at, "an interval needs both `lower` and `upper`")
                    .label("one bound only")
                    .help("e.g. `lower: p10, upper: p90`"),
            );
            return None;
        }
        if lower.is_none()
            && let Some((k, _)) = o.e.iter().find(|(k, _)| k.key() == "min_coverage_pct")
        {
            self.err(
                Diagnostic::error(k.span, "`min_coverage_pct` needs an interval")
                    .label("no interval to cover")
                    .help("give `lower:` and `upper:` (e.g. `lower: p10, upper: p90`)"),
            );
            return None;
        }
        Some(vec![CheckKind::ForecastAccuracy(AccuracySpec {
            actuals: actuals?,
            keys: keys?,
            point: point?,
            actual_column: actual_column?,
            lower,
            upper,
            season: season?,
        })])
    }

    /// The datasets these kinds name must be defined; `published` needs a dataset that is
    /// published (`staging:`).
    pub(super) fn compare_refs(&mut self, ds: &Dataset, names: &[&str]) {
        for c in &ds.checks {
            let (dataset_ref, published) = match &c.kind {
                CheckKind::Distribution(d) => match &d.reference {
                    Reference::Dataset(r) => (Some(r), false),
                    Reference::Published => (None, true),
                },
                CheckKind::WithinHistory(w) => (Some(&w.actuals), false),
                CheckKind::ForecastAccuracy(a) => (Some(&a.actuals), false),
                CheckKind::ChangeVsPublished(_) => (None, true),
                _ => continue,
            };
            if let Some(r) = dataset_ref
                && !names.contains(&r.name.as_str())
            {
                let help = self.dataset_help(&r.name, names, false);
                self.err(
                    Diagnostic::error(
                        r.span,
                        format!(
                            "`{}` refers to dataset `{}`, which is not defined",
                            c.name, r.name
                        ),
                    )
                    .label("undefined dataset")
                    .help(help),
                );
            }
            if published && ds.staging.is_none() {
                self.err(
                    Diagnostic::error(
                        c.span,
                        format!(
                            "`{}` compares with the published version of `{}`, which is not published with `sluice publish`",
                            c.name, ds.name
                        ),
                    )
                    .label("no published versions")
                    .help("give the dataset `staging:` (where the producing job writes; `sluice publish` checks it and promotes it to `path:`), or compare with another dataset"),
                );
            }
        }
    }
}
