//! Where data lives when it is not on a local disk: object-store URLs (`s3://`, `gs://`,
//! `az://`, `abfss://`, `https://`) and the `storage:` settings that say how to reach them.
//!
//! ```yaml
//! storage:                       # per URL prefix: the longest matching prefix applies
//!   s3://lake/:
//!     endpoint: http://127.0.0.1:9000
//!     region: eu-west-1
//!     path_style: true
//! datasets:
//!   orders:
//!     path: s3://lake/orders/
//!     storage: { anonymous: true }   # per dataset: on top of the prefix's settings
//! ```
//!
//! Credentials are never part of the config: each cloud's standard chain supplies them
//! (environment, profile files, instance metadata), so a config can be committed and
//! printed without leaking a secret.

use std::time::Duration;

/// The URL schemes `path:` accepts besides local paths, and what each is.
pub const REMOTE_SCHEMES: &[(&str, &str)] = &[
    ("s3", "Amazon S3 or an S3-compatible server"),
    ("s3a", "Amazon S3 (Hadoop spelling)"),
    ("gs", "Google Cloud Storage"),
    ("az", "Azure Blob Storage"),
    ("azure", "Azure Blob Storage"),
    ("abfs", "Azure Data Lake Storage Gen2"),
    ("abfss", "Azure Data Lake Storage Gen2 (TLS)"),
    ("https", "a file served over HTTPS (read-only)"),
    ("http", "a file served over HTTP (read-only)"),
];

/// The scheme of `path` when it is an object-store URL (`s3` for `s3://bucket/key`),
/// lower-case; `None` for a local path (`file://` included).
pub fn remote_scheme(path: &str) -> Option<String> {
    let (scheme, _) = path.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    REMOTE_SCHEMES
        .iter()
        .find(|(s, _)| *s == scheme)
        .map(|(s, _)| s.to_string())
}

/// Whether `path` is written as a URL (`scheme://…`), known or not.
pub fn looks_like_url(path: &str) -> bool {
    path.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// How to reach an object store: the keys of a `storage:` block. `None` everywhere means
/// the cloud's defaults (and its standard credential chain).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StorageOptions {
    /// `endpoint:`: the service URL (an S3-compatible server, an emulator).
    pub endpoint: Option<String>,
    /// `region:` (S3).
    pub region: Option<String>,
    /// `path_style:`: `http://host/bucket/key` instead of `http://bucket.host/key` (S3).
    pub path_style: Option<bool>,
    /// `anonymous:`: unsigned requests, for public buckets.
    pub anonymous: Option<bool>,
    /// `allow_http:`: plain HTTP to the endpoint (default: only when `endpoint` is `http://`).
    pub allow_http: Option<bool>,
    /// `timeout:`: per request.
    pub timeout: Option<Duration>,
    /// `profile:`: the AWS shared-credentials profile (default `AWS_PROFILE`, else `default`).
    pub profile: Option<String>,
}

impl StorageOptions {
    /// The keys of a `storage:` block, in documentation order.
    pub const KEYS: &'static [&'static str] = &[
        "endpoint",
        "region",
        "path_style",
        "anonymous",
        "allow_http",
        "timeout",
        "profile",
    ];

    /// These settings with `over`'s set keys replacing them.
    pub fn overlaid(&self, over: &StorageOptions) -> StorageOptions {
        StorageOptions {
            endpoint: over.endpoint.clone().or_else(|| self.endpoint.clone()),
            region: over.region.clone().or_else(|| self.region.clone()),
            path_style: over.path_style.or(self.path_style),
            anonymous: over.anonymous.or(self.anonymous),
            allow_http: over.allow_http.or(self.allow_http),
            timeout: over.timeout.or(self.timeout),
            profile: over.profile.clone().or_else(|| self.profile.clone()),
        }
    }
}

/// The `storage:` settings that apply to one dataset: the config's per-prefix blocks and
/// the dataset's own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StorageRules {
    /// The top-level `storage:` blocks, by URL prefix, in file order.
    pub prefixes: Vec<(String, StorageOptions)>,
    /// The dataset's own `storage:` block.
    pub own: Option<StorageOptions>,
}

impl StorageRules {
    /// The settings for `url`: the longest prefix of `url` among the top-level blocks,
    /// with the dataset's own block on top.
    pub fn for_url(&self, url: &str) -> StorageOptions {
        let base = self
            .prefixes
            .iter()
            .filter(|(p, _)| url.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map(|(_, o)| o.clone())
            .unwrap_or_default();
        match &self.own {
            Some(own) => base.overlaid(own),
            None => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_recognised_case_insensitively_and_file_is_local() {
        assert_eq!(remote_scheme("s3://b/k").as_deref(), Some("s3"));
        assert_eq!(remote_scheme("S3://b/k").as_deref(), Some("s3"));
        assert_eq!(
            remote_scheme("abfss://c@a.dfs.core.windows.net/p").as_deref(),
            Some("abfss")
        );
        assert_eq!(remote_scheme("gs://b/").as_deref(), Some("gs"));
        assert_eq!(remote_scheme("file:///tmp/x"), None);
        assert_eq!(remote_scheme("data/x.csv"), None);
        assert_eq!(remote_scheme("ftp://h/x"), None);
        assert!(looks_like_url("ftp://h/x"));
        assert!(!looks_like_url("data/x://y"));
    }

    #[test]
    fn the_longest_prefix_applies_and_the_dataset_block_overrides_it() {
        let rules = StorageRules {
            prefixes: vec![
                (
                    "s3://lake/".into(),
                    StorageOptions {
                        region: Some("eu-west-1".into()),
                        endpoint: Some("http://a".into()),
                        ..Default::default()
                    },
                ),
                (
                    "s3://lake/raw/".into(),
                    StorageOptions {
                        endpoint: Some("http://b".into()),
                        ..Default::default()
                    },
                ),
            ],
            own: Some(StorageOptions {
                anonymous: Some(true),
                ..Default::default()
            }),
        };
        let o = rules.for_url("s3://lake/raw/orders/");
        assert_eq!(o.endpoint.as_deref(), Some("http://b"));
        assert_eq!(o.region, None, "only the longest prefix applies");
        assert_eq!(o.anonymous, Some(true));
        let o = rules.for_url("s3://lake/curated/x.parquet");
        assert_eq!(o.endpoint.as_deref(), Some("http://a"));
        assert_eq!(o.region.as_deref(), Some("eu-west-1"));
        assert_eq!(rules.for_url("gs://other/").endpoint, None);
    }
}
