//! Decoding of the top-level `notify:` block: channels, routes and the retry policy of
//! alerts (see [`crate::notify`]).

use std::path::Path;

use super::{Decoder, get};
use crate::diag::Diagnostic;
use crate::model::Dataset;
use crate::notify::*;
use crate::suggest::{hint, list};
use crate::yaml::{Node, Value};

pub(crate) const NOTIFY_KEYS: &[&str] = &["channels", "routes", "retry"];
pub(crate) const CHANNEL_KEYS: &[&str] = &["webhook", "slack", "exec", "timeout"];
const TARGET_KEYS: &[&str] = &["webhook", "slack", "exec"];
pub(crate) const ENDPOINT_KEYS: &[&str] = &["url", "url_env", "headers"];
pub(crate) const ROUTE_KEYS: &[&str] = &["when", "to"];
pub(crate) const WHEN_KEYS: &[&str] = &["event", "tier", "owner", "dataset"];
pub(crate) const RETRY_KEYS: &[&str] = &["attempts", "backoff", "within"];

const NOTIFY_EXAMPLE: &str = "e.g. `notify: { channels: { team: { slack: \"${SLACK_WEBHOOK_URL}\" } }, routes: [ { when: { tier: 1 }, to: team } ] }`";
const CHANNEL_EXAMPLE: &str = "give it one destination: `webhook: https://…`, `slack: \"${SLACK_WEBHOOK_URL}\"`, `webhook: { url_env: ALERTS_URL }` or `exec: [scripts/page.sh, --service, data]`";
const URL_HELP: &str = "give `url: https://…` (`${VAR}` is interpolated when the config is loaded) or `url_env: NAME` (an environment variable read when an alert is sent)";
const ROUTE_EXAMPLE: &str = "e.g. `- when: { tier: 1, event: [open, trip] }` and `to: pager`";

impl Decoder<'_> {
    /// `notify:`.
    pub(super) fn notify(&mut self, node: &Node, file_base: &Path, datasets: &[Dataset]) -> Notify {
        let mut n = Notify::default();
        let Some(e) = self.map(node, "`notify`", NOTIFY_EXAMPLE) else {
            return n;
        };
        self.check_keys(e, NOTIFY_KEYS, "`notify`");
        match get(e, "channels") {
            None => self.missing(
                node.span,
                "channels",
                "`notify`",
                "name each destination under `channels:`, e.g. `channels: { team: { slack: \"${SLACK_WEBHOOK_URL}\" } }`",
            ),
            Some(c) => {
                if let Some(entries) = self.map(c, "`channels`", "map each channel name to its destination, e.g. `team: { slack: \"${SLACK_WEBHOOK_URL}\" }`") {
                    for (name, body) in entries {
                        if let Some(ch) = self.channel(name, body, file_base) {
                            n.channels.push(ch);
                        }
                    }
                }
            }
        }
        if let Some(r) = get(e, "routes") {
            n.routes = Some(self.routes(r, &n.channels, datasets));
        }
        if let Some(r) = get(e, "retry") {
            n.retry = self.notify_retry(r);
        }
        n
    }

    fn channel(&mut self, name: &Node, body: &Node, file_base: &Path) -> Option<Channel> {
        let channel = name.key().to_string();
        let what = format!("channel `{channel}`");
        let e = self.map(body, &what, CHANNEL_EXAMPLE)?;
        self.check_keys(e, CHANNEL_KEYS, &what);
        let given: Vec<&(Node, Node)> = e
            .iter()
            .filter(|(k, _)| TARGET_KEYS.contains(&k.key()))
            .collect();
        let (key, value) = match given.as_slice() {
            [] => {
                self.err(
                    Diagnostic::error(name.span, format!("{what} has no destination"))
                        .label("no `webhook`, `slack` or `exec`")
                        .help(CHANNEL_EXAMPLE),
                );
                return None;
            }
            [one] => (one.0.key(), &one.1),
            [first, second, ..] => {
                self.err(
                    Diagnostic::error(
                        second.0.span,
                        format!(
                            "{what} has both `{}` and `{}`",
                            first.0.key(),
                            second.0.key()
                        ),
                    )
                    .label("a second destination")
                    .help("a channel has one destination; declare another channel for this one and route to both"),
                );
                return None;
            }
        };
        let target = match key {
            "webhook" => Target::Webhook(self.endpoint(value, &what, "webhook")?),
            "slack" => Target::Slack(self.endpoint(value, &what, "slack")?),
            _ => Target::Exec(self.exec(value, &what, file_base)?),
        };
        let timeout = match get(e, "timeout") {
            Some(t) => self.duration(
                t,
                "`timeout`",
                "how long one attempt may take, e.g. `timeout: 10s`",
            )?,
            None => std::time::Duration::from_secs(10),
        };
        Some(Channel {
            name: channel,
            span: name.span,
            target,
            timeout,
        })
    }

    /// `webhook:`/`slack:`: a URL, or `{ url | url_env, headers }`.
    fn endpoint(&mut self, node: &Node, what: &str, key: &str) -> Option<Endpoint> {
        match &node.value {
            Value::Str(_) => {
                let url = self.url(node, what, key)?;
                Some(Endpoint {
                    url: UrlSource::Inline(url),
                    headers: vec![],
                })
            }
            Value::Map(e) => {
                let inner = format!("`{key}` of {what}");
                self.check_keys(e, ENDPOINT_KEYS, &inner);
                let url = match (get(e, "url"), get(e, "url_env")) {
                    (Some(u), None) => UrlSource::Inline(self.url(u, what, key)?),
                    (None, Some(v)) => {
                        let name = self.string(v, "`url_env`")?;
                        let valid = name
                            .chars()
                            .next()
                            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
                            && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
                        if !valid {
                            self.err(
                                Diagnostic::error(v.span, format!("`{name}` is not an environment variable name"))
                                    .label("not a variable name")
                                    .help("name the variable holding the URL, e.g. `url_env: SLACK_WEBHOOK_URL` (letters, digits and `_`)"),
                            );
                            return None;
                        }
                        UrlSource::Env(name)
                    }
                    (Some(_), Some(v)) => {
                        self.err(
                            Diagnostic::error(
                                v.span,
                                format!("{inner} has both `url` and `url_env`"),
                            )
                            .label("give one")
                            .help(URL_HELP),
                        );
                        return None;
                    }
                    (None, None) => {
                        self.missing(node.span, "url", &inner, URL_HELP);
                        return None;
                    }
                };
                let mut headers = Vec::new();
                if let Some(h) = get(e, "headers") {
                    let entries = self.map(
                        h,
                        "`headers`",
                        "e.g. `headers: { Authorization: \"Bearer ${ALERTS_TOKEN}\" }`",
                    )?;
                    for (k, v) in entries {
                        let value = self.text(v, &format!("header `{}`", k.key()))?;
                        headers.push((k.key().to_string(), Secret::new(value)));
                    }
                }
                Some(Endpoint { url, headers })
            }
            _ => {
                self.type_error(
                    node,
                    &format!("`{key}` of {what}"),
                    "a URL or a mapping",
                    Some(URL_HELP.into()),
                );
                None
            }
        }
    }

    /// An http(s) URL; the message never repeats it (it may hold a secret).
    fn url(&mut self, node: &Node, what: &str, key: &str) -> Option<Secret> {
        let url = self.string(node, &format!("the URL of {what}"))?;
        if url.starts_with("http://") || url.starts_with("https://") {
            return Some(Secret::new(url));
        }
        self.err(
            Diagnostic::error(
                node.span,
                format!("the `{key}` URL of {what} is not an http:// or https:// URL"),
            )
            .label("not an http(s) URL")
            .help(URL_HELP),
        );
        None
    }

    /// `exec:`: a list (the program and its arguments) or a string (run by `sh -c`).
    fn exec(&mut self, node: &Node, what: &str, file_base: &Path) -> Option<ExecCommand> {
        let help = "e.g. `exec: [scripts/page.sh, --service, data]` (the event comes as JSON on its standard input), or a shell line `exec: \"mail -s alert oncall@example.com\"`";
        let argv = match &node.value {
            Value::Str(_) => {
                let line = self.string(node, &format!("`exec` of {what}"))?;
                vec!["sh".to_string(), "-c".to_string(), line]
            }
            Value::Seq(_) => self.strings(node, &format!("`exec` of {what}"))?,
            _ => {
                self.type_error(
                    node,
                    &format!("`exec` of {what}"),
                    "a list or a string",
                    Some(help.into()),
                );
                return None;
            }
        };
        Some(ExecCommand {
            argv,
            dir: file_base.to_path_buf(),
        })
    }

    fn routes(&mut self, node: &Node, channels: &[Channel], datasets: &[Dataset]) -> Vec<Route> {
        let mut out = Vec::new();
        let Value::Seq(items) = &node.value else {
            self.type_error(node, "`routes`", "a list", Some(ROUTE_EXAMPLE.into()));
            return out;
        };
        let names: Vec<&str> = channels.iter().map(|c| c.name.as_str()).collect();
        for item in items {
            let Some(e) = self.map(item, "each route", ROUTE_EXAMPLE) else {
                continue;
            };
            self.check_keys(e, ROUTE_KEYS, "a route");
            let when = match get(e, "when") {
                Some(w) => self.when(w, datasets),
                None => Some(When::default()),
            };
            let to = match get(e, "to") {
                None => {
                    self.missing(
                        item.span,
                        "to",
                        "a route",
                        &format!(
                            "name the channels it sends to, e.g. `to: {}`",
                            names.first().copied().unwrap_or("pager")
                        ),
                    );
                    None
                }
                Some(t) => {
                    let to = self.strings(t, "`to`");
                    if let Some(to) = &to {
                        for name in to {
                            if !names.contains(&name.as_str()) {
                                let help = hint(name, names.iter().copied()).unwrap_or_else(|| {
                                    if names.is_empty() {
                                        "declare it under `notify: { channels: … }`".into()
                                    } else {
                                        format!("channels: {}", list(&names))
                                    }
                                });
                                self.err(
                                    Diagnostic::error(t.span, format!("unknown channel `{name}`"))
                                        .label("not under `channels:`")
                                        .help(help),
                                );
                            }
                        }
                    }
                    to
                }
            };
            if let (Some(when), Some(to)) = (when, to) {
                out.push(Route {
                    span: item.span,
                    when,
                    to,
                });
            }
        }
        out
    }

    fn when(&mut self, node: &Node, datasets: &[Dataset]) -> Option<When> {
        let e = self.map(
            node,
            "`when`",
            "e.g. `when: { tier: 1, owner: ingest, event: [open, expire] }`",
        )?;
        self.check_keys(e, WHEN_KEYS, "`when`");
        let mut w = When::default();
        let mut ok = true;
        if let Some(n) = get(e, "event") {
            let kinds: Vec<&str> = AlertKind::ALL.iter().map(|k| k.as_str()).collect();
            match self.strings(n, "`event`") {
                Some(names) => {
                    for name in names {
                        match AlertKind::parse(&name) {
                            Some(k) => w.events.push(k),
                            None => {
                                ok = false;
                                let help = hint(&name, kinds.iter().copied())
                                    .unwrap_or_else(|| format!("events: {}", list(&kinds)));
                                self.err(
                                    Diagnostic::error(n.span, format!("unknown event `{name}`"))
                                        .label("unknown event")
                                        .help(help),
                                );
                            }
                        }
                    }
                }
                None => ok = false,
            }
        }
        if let Some(n) = get(e, "tier") {
            let items: Vec<&Node> = match &n.value {
                Value::Seq(items) => items.iter().collect(),
                _ => vec![n],
            };
            for item in items {
                match self.uint(item, "`tier`") {
                    Some(t) if (1..=255).contains(&t) => w.tiers.push(t as u8),
                    Some(_) => {
                        ok = false;
                        self.err(
                            Diagnostic::error(item.span, "`tier` must be at least 1")
                                .label("out of range")
                                .help(
                                    "tier 1 is the most critical; e.g. `tier: 1` or `tier: [1, 2]`",
                                ),
                        );
                    }
                    None => ok = false,
                }
            }
        }
        if let Some(n) = get(e, "owner") {
            match self.strings(n, "`owner`") {
                Some(o) => w.owners = o,
                None => ok = false,
            }
        }
        if let Some(n) = get(e, "dataset") {
            match self.strings(n, "`dataset`") {
                Some(names) => {
                    let known: Vec<&str> = datasets.iter().map(|d| d.name.as_str()).collect();
                    for name in &names {
                        if !known.contains(&name.as_str()) {
                            ok = false;
                            let help = self.dataset_help(name, &known, true);
                            self.err(
                                Diagnostic::error(n.span, format!("unknown dataset `{name}`"))
                                    .label("not under `datasets:`")
                                    .help(help),
                            );
                        }
                    }
                    w.datasets = names;
                }
                None => ok = false,
            }
        }
        ok.then_some(w)
    }

    fn notify_retry(&mut self, node: &Node) -> NotifyRetry {
        let mut r = NotifyRetry::default();
        let Some(e) = self.map(
            node,
            "`retry`",
            "e.g. `retry: { attempts: 4, backoff: 0.5s, within: 30s }`",
        ) else {
            return r;
        };
        self.check_keys(e, RETRY_KEYS, "`retry`");
        if let Some(n) = get(e, "attempts")
            && let Some(a) = self.uint(n, "`attempts`")
        {
            if (1..=20).contains(&a) {
                r.attempts = a as u32;
            } else {
                self.err(
                    Diagnostic::error(n.span, "`attempts` must be between 1 and 20")
                        .label("out of range")
                        .help("`attempts: 1` sends once; the default 4 retries three times with backoff"),
                );
            }
        }
        if let Some(n) = get(e, "backoff")
            && let Some(d) = self.duration(n, "`backoff`", "the pause after the first failure, doubled after each further one, e.g. `backoff: 0.5s`")
        {
            r.backoff = d;
        }
        if let Some(n) = get(e, "within")
            && let Some(d) = self.duration(
                n,
                "`within`",
                "no retry starts this long after the first attempt, e.g. `within: 30s`",
            )
        {
            r.within = d;
        }
        r
    }
}
