//! Decoding of object-store URLs in `path:` / `staging:` and of the `storage:` blocks
//! (top level, per URL prefix; and per dataset).

use super::{Decoder, Entries, get};
use crate::diag::Diagnostic;
use crate::storage::{REMOTE_SCHEMES, StorageOptions, looks_like_url, remote_scheme};
use crate::suggest::hint;
use crate::yaml::Node;

const EXAMPLE: &str =
    "e.g. `storage: { endpoint: http://127.0.0.1:9000, region: us-east-1, path_style: true }`";

/// The store a URL is in: scheme (`s3a` read as `s3`) and bucket, container or host.
fn store_of(url: &str) -> Option<String> {
    let scheme = remote_scheme(url)?;
    let scheme = if scheme == "s3a" {
        "s3".to_string()
    } else {
        scheme
    };
    let rest = url.split_once("://")?.1;
    Some(format!(
        "{scheme}://{}",
        rest.split('/').next().unwrap_or("")
    ))
}

impl Decoder<'_> {
    /// One run talks to a bucket through one client, so every URL of the config in the same
    /// bucket must resolve to the same `storage:` settings: two datasets of one bucket with
    /// different settings are an error at the second one, saying how to fix it.
    pub(super) fn storage_per_bucket(&mut self, datasets: &[crate::Dataset]) {
        let mut seen: Vec<(String, StorageOptions, &str)> = Vec::new();
        for ds in datasets {
            let urls = [ds.url(), ds.staging_url()];
            for url in urls.into_iter().flatten() {
                let Some(store) = store_of(url) else { continue };
                let options = ds.storage.for_url(url);
                match seen.iter().find(|(s, _, _)| *s == store) {
                    Some((_, first, other)) if *first != options => {
                        self.err(
                            Diagnostic::error(
                                ds.span,
                                format!("`{}` reaches {store} with other `storage:` settings than `{other}`", ds.name),
                            )
                            .label("different settings for the same bucket")
                            .help(format!("one run uses one client per bucket: put the settings in one top-level `storage:` block for `{store}/`, and drop the differing per-dataset ones")),
                        );
                    }
                    Some(_) => {}
                    None => seen.push((store, options, &ds.name)),
                }
            }
        }
    }

    /// The top-level `storage:`: each key a URL prefix (`s3://lake/`), each value a block.
    pub(super) fn storage_prefixes(&mut self, node: &Node) -> Vec<(String, StorageOptions)> {
        let mut out = Vec::new();
        let Some(entries) = self.map(
            node,
            "`storage`",
            "map each URL prefix to its settings, e.g. `storage: { \"s3://lake/\": { endpoint: http://127.0.0.1:9000 } }`",
        ) else {
            return out;
        };
        for (key, body) in entries {
            let prefix = key.key().to_string();
            if !self.remote_url(key, &prefix, "a `storage` prefix") {
                continue;
            }
            if let Some(o) = self.storage_options(body, &format!("`storage` of `{prefix}`")) {
                out.push((prefix, o));
            }
        }
        out
    }

    /// A `storage:` block's keys.
    pub(super) fn storage_options(&mut self, node: &Node, what: &str) -> Option<StorageOptions> {
        let e: &Entries = self.map(node, what, EXAMPLE)?;
        self.check_keys(e, StorageOptions::KEYS, what);
        let mut o = StorageOptions::default();
        if let Some(n) = get(e, "endpoint")
            && let Some(s) = self.string(n, "`endpoint`")
        {
            if s.starts_with("http://") || s.starts_with("https://") {
                o.endpoint = Some(s.trim_end_matches('/').to_string());
            } else {
                self.err(
                    Diagnostic::error(n.span, format!("`endpoint` must be an http:// or https:// URL, found `{s}`"))
                        .label("not a URL")
                        .help("give the service's address, e.g. `endpoint: http://127.0.0.1:9000` for a local S3-compatible server"),
                );
            }
        }
        if let Some(n) = get(e, "region") {
            o.region = self.string(n, "`region`");
        }
        if let Some(n) = get(e, "profile") {
            o.profile = self.string(n, "`profile`");
        }
        for (key, slot) in [
            ("path_style", &mut o.path_style),
            ("anonymous", &mut o.anonymous),
            ("allow_http", &mut o.allow_http),
        ] {
            if let Some(n) = get(e, key) {
                *slot = self.boolean(n, &format!("`{key}`"));
            }
        }
        if let Some(n) = get(e, "timeout") {
            o.timeout = self.duration(n, "`timeout`", "e.g. `timeout: 30s` per request");
        }
        Some(o)
    }

    /// Whether `url` (written at `node`) is an object-store URL sluice can read; reports
    /// why not.
    pub(super) fn remote_url(&mut self, node: &Node, url: &str, what: &str) -> bool {
        let known = || {
            REMOTE_SCHEMES
                .iter()
                .map(|(s, d)| format!("`{s}://` ({d})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !url.contains("://") {
            self.err(
                Diagnostic::error(
                    node.span,
                    format!("`{url}` is not an object-store URL ({what})"),
                )
                .label("not a URL")
                .help("write a URL prefix such as `s3://lake/` or `gs://bucket/raw/`"),
            );
            return false;
        }
        let Some(scheme) = remote_scheme(url) else {
            let scheme = url.split_once("://").map_or(url, |(s, _)| s);
            let help = match hint(scheme, REMOTE_SCHEMES.iter().map(|(s, _)| *s)) {
                Some(h) => h,
                None => format!("sluice reads local paths and {}", known()),
            };
            self.err(
                Diagnostic::error(
                    node.span,
                    format!("`{scheme}://` is not a storage sluice can read ({what})"),
                )
                .label("unknown scheme")
                .help(help),
            );
            return false;
        };
        let rest = &url[scheme.len() + 3..];
        let authority = rest.split('/').next().unwrap_or("");
        let secret_param = url.split_once('?').is_some_and(|(_, q)| {
            q.split('&').any(|kv| {
                let k = kv.split('=').next().unwrap_or("").to_ascii_lowercase();
                matches!(
                    k.as_str(),
                    "sig"
                        | "signature"
                        | "x-amz-signature"
                        | "x-amz-credential"
                        | "x-amz-security-token"
                        | "token"
                        | "access_token"
                )
            })
        });
        if authority
            .split_once('@')
            .is_some_and(|(user, _)| user.contains(':'))
            || secret_param
        {
            self.err(
                Diagnostic::error(node.span, format!("the URL in {what} carries a credential"))
                    .label("a secret in the config")
                    .help("a path is printed in reports and logs: take the password, signature or token out of the URL and provide it the cloud's standard way (AWS_* / AZURE_STORAGE_* / GOOGLE_* environment variables, a profile, or instance metadata)"),
            );
            return false;
        }
        let bucket = authority.rsplit('@').next().unwrap_or("");
        if bucket.is_empty() {
            self.err(
                Diagnostic::error(node.span, format!("`{url}` names no bucket ({what})"))
                    .label("no bucket")
                    .help(format!("write `{scheme}://BUCKET/prefix/`")),
            );
            return false;
        }
        true
    }

    /// `path:` or `staging:` as written: a local path, or a valid object-store URL.
    pub(super) fn path_or_url(&mut self, node: &Node, s: String, what: &str) -> Option<String> {
        if looks_like_url(&s) && !s.starts_with("file://") && !self.remote_url(node, &s, what) {
            return None;
        }
        Some(s)
    }
}
