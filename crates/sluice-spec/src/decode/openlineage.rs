//! Decoding of the top-level `openlineage:` block.

use std::path::Path;

use super::{Decoder, get, normalize_path};
use crate::diag::Diagnostic;
use crate::openlineage::OpenLineageSettings;
use crate::yaml::Node;

pub(crate) const KEYS: &[&str] = &["url", "endpoint", "api_key", "namespace", "file", "timeout"];
const EXAMPLE: &str = "e.g. `openlineage: { url: http://marquez:5000, namespace: analytics }` or `openlineage: { file: lineage/events.ndjson }`";

impl Decoder<'_> {
    /// `openlineage: { url, endpoint, api_key, namespace, file, timeout }`.
    pub(super) fn openlineage(&mut self, node: &Node, file_base: &Path) -> OpenLineageSettings {
        let mut s = OpenLineageSettings::default();
        let Some(e) = self.map(node, "`openlineage`", EXAMPLE) else {
            return s;
        };
        self.check_keys(e, KEYS, "`openlineage`");
        if let Some(n) = get(e, "url")
            && let Some(url) = self.string(n, "`url`")
        {
            let url = url.trim().to_string();
            if url.starts_with("http://") || url.starts_with("https://") {
                s.url = Some(url);
            } else {
                self.err(
                    Diagnostic::error(n.span, format!("`url` `{url}` is not an http:// or https:// URL"))
                        .label("not an HTTP URL")
                        .help("give the base URL of an OpenLineage endpoint, e.g. `url: http://marquez:5000`; to write events to a file use `file:`"),
                );
            }
        }
        s.endpoint = get(e, "endpoint").and_then(|n| self.string(n, "`endpoint`"));
        s.api_key = get(e, "api_key").and_then(|n| self.string(n, "`api_key`"));
        s.namespace = get(e, "namespace").and_then(|n| self.string(n, "`namespace`"));
        s.file = get(e, "file")
            .and_then(|n| self.string(n, "`file`"))
            .map(|f| normalize_path(&file_base.join(f)));
        s.timeout = get(e, "timeout").and_then(|n| {
            self.duration(
                n,
                "`timeout`",
                "e.g. `timeout: 5s` (each attempt to deliver an event)",
            )
        });
        s
    }
}
