//! `openlineage:`: where `sluice check` and `sluice publish` send their OpenLineage run
//! events (see the application layer's `openlineage` module for the events themselves).
//!
//! ```yaml
//! openlineage:
//!   url: http://marquez:5000          # POSTed to url + endpoint
//!   endpoint: api/v1/lineage          # the default, as the OpenLineage Python client's
//!   api_key: ${OPENLINEAGE_API_KEY}   # sent as `Authorization: Bearer …`
//!   namespace: analytics              # the jobs' namespace
//!   file: lineage/events.ndjson       # also append every event here, one per line
//!   timeout: 5s                       # per attempt
//! ```
//!
//! Every key is optional; the command line and the environment (`OPENLINEAGE_URL`…) win
//! over the file.

use std::path::PathBuf;
use std::time::Duration;

/// `openlineage:` as configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenLineageSettings {
    /// `url:` an OpenLineage HTTP endpoint's base URL (`http://marquez:5000`).
    pub url: Option<String>,
    /// `endpoint:` the path joined to `url` (default `api/v1/lineage`).
    pub endpoint: Option<String>,
    /// `api_key:` sent as a bearer token.
    pub api_key: Option<String>,
    /// `namespace:` the namespace of the jobs sluice reports.
    pub namespace: Option<String>,
    /// `file:` resolved against the config's folder: events are appended to it as NDJSON.
    pub file: Option<PathBuf>,
    /// `timeout:` of one HTTP attempt.
    pub timeout: Option<Duration>,
}
