//! Decoding of what circuit breakers need: `breaker:` (on a dataset or in `defaults:`) and
//! the top-level `state:`.

use std::path::Path;

use super::{Decoder, get};
use crate::diag::Diagnostic;
use crate::model::*;
use crate::suggest::hint;
use crate::yaml::Node;

pub(crate) const BREAKER_KEYS: &[&str] = &["reset", "trip_on", "trip_after", "close_after"];

impl Decoder<'_> {
    /// `breaker:` over `base` (the defaults' policy, or the built-in one).
    pub(super) fn breaker(&mut self, node: &Node, base: BreakerPolicy) -> BreakerPolicy {
        let mut p = base;
        let Some(e) = self.map(
            node,
            "`breaker`",
            "e.g. `breaker: { reset: manual, trip_after: 2 }`",
        ) else {
            return p;
        };
        self.check_keys(e, BREAKER_KEYS, "`breaker`");
        if let Some(n) = get(e, "reset")
            && let Some(s) = self.string(n, "`reset`")
        {
            match s.as_str() {
                "auto" => p.reset = Reset::Auto,
                "manual" => p.reset = Reset::Manual,
                other => {
                    let help = hint(other, ["auto", "manual"]).unwrap_or_else(|| "use `auto` (closes after passing runs) or `manual` (closes only by `sluice breaker reset`)".into());
                    self.err(
                        Diagnostic::error(n.span, format!("unknown reset `{other}`"))
                            .label("expected `auto` or `manual`")
                            .help(help),
                    );
                }
            }
        }
        if let Some(n) = get(e, "trip_on")
            && let Some(sev) = self.severity_named(n, "`trip_on`")
        {
            p.trip_on = sev;
        }
        for (key, slot) in [
            ("trip_after", &mut p.trip_after),
            ("close_after", &mut p.close_after),
        ] {
            if let Some(n) = get(e, key)
                && let Some(v) = self.uint(n, &format!("`{key}`"))
            {
                if v == 0 || v > 1000 {
                    self.err(
                        Diagnostic::error(n.span, format!("`{key}` must be between 1 and 1000"))
                            .label("out of range")
                            .help(format!(
                                "`{key}: 1` acts on the first run; `{key}: 3` on the third in a row"
                            )),
                    );
                } else {
                    *slot = v as u32;
                }
            }
        }
        if p.reset == Reset::Manual
            && let Some(n) = get(e, "close_after")
        {
            self.err(
                Diagnostic::error(n.span, "`close_after` with `reset: manual`")
                    .label("never used")
                    .help("a manual breaker closes only by `sluice breaker reset`; remove `close_after` or use `reset: auto`"),
            );
        }
        p
    }

    /// `trip_on: error | warn`.
    fn severity_named(&mut self, node: &Node, what: &str) -> Option<Severity> {
        let s = self.string(node, what)?;
        match s.as_str() {
            "error" => Some(Severity::Error),
            "warn" | "warning" => Some(Severity::Warn),
            other => {
                self.err(
                    Diagnostic::error(node.span, format!("unknown {what} `{other}`"))
                        .label("expected `error` or `warn`")
                        .help("`error`: failing checks of severity error trip the breaker; `warn`: warnings too"),
                );
                None
            }
        }
    }

    /// `state: sqlite:PATH | postgres://...`.
    pub(super) fn state(&mut self, node: &Node, base: &Path) -> Option<StateStore> {
        let s = self.string(node, "`state`")?;
        match StateStore::parse(&s, base) {
            Ok(st) => Some(st),
            Err(message) => {
                self.err(
                    Diagnostic::error(node.span, "unknown state store")
                        .label("not sqlite: or postgres://")
                        .help(message),
                );
                None
            }
        }
    }
}
