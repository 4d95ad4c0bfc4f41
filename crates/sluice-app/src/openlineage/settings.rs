//! Where events go and the run they are nested under: the surface's options over the
//! config's `openlineage:` block.

use std::path::PathBuf;
use std::time::Duration;

use sluice_spec::OpenLineageSettings;

use super::{DEFAULT_ENDPOINT, DEFAULT_NAMESPACE, DEFAULT_TIMEOUT};
use crate::error::{Error, Result};
use crate::http;

/// What a surface was told (its flags and environment), before the config's
/// `openlineage:` block fills the gaps. Every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// The endpoint's base URL (`--openlineage-url`, `OPENLINEAGE_URL`).
    pub url: Option<String>,
    /// The path under it (`OPENLINEAGE_ENDPOINT`; default `api/v1/lineage`).
    pub endpoint: Option<String>,
    /// A bearer token (`OPENLINEAGE_API_KEY`).
    pub api_key: Option<String>,
    /// The jobs' namespace (`--openlineage-namespace`, `OPENLINEAGE_NAMESPACE`).
    pub namespace: Option<String>,
    /// An NDJSON file to append events to (`--openlineage-file`).
    pub file: Option<PathBuf>,
    /// The parent run as `namespace/job/runId` (`--parent-id`, `OPENLINEAGE_PARENT_ID`).
    pub parent_id: Option<String>,
    /// The parent's run id (`--parent-run-id`); wins over `parent_id`'s.
    pub parent_run_id: Option<String>,
    /// The parent's job name (`--parent-job-name`); wins over `parent_id`'s.
    pub parent_job_name: Option<String>,
    /// The parent's job namespace (`--parent-job-namespace`); wins over `parent_id`'s.
    pub parent_job_namespace: Option<String>,
    /// The root run (the DAG run) as `namespace/job/runId` (`--root-parent-id`,
    /// `OPENLINEAGE_ROOT_PARENT_ID`).
    pub root_parent_id: Option<String>,
    /// Send nothing, whatever is configured (`--no-openlineage`, `OPENLINEAGE_DISABLED`).
    pub disabled: bool,
}

/// Where events go and how they are labelled: the options and the config resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The jobs' namespace.
    pub namespace: String,
    /// The HTTP endpoint, if any.
    pub http: Option<HttpTarget>,
    /// The NDJSON file, if any.
    pub file: Option<PathBuf>,
    /// The run this one is nested under, if any.
    pub parent: Option<Parent>,
}

/// An HTTP endpoint receiving events.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpTarget {
    /// The URL events are POSTed to (base URL and endpoint joined).
    pub url: String,
    /// Sent as `Authorization: Bearer <key>`.
    pub api_key: Option<String>,
    /// One attempt's timeout.
    pub timeout: Duration,
}

impl std::fmt::Debug for HttpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTarget")
            .field("url", &http::redact_url(&self.url))
            .field("api_key", &self.api_key.as_ref().map(|_| "…"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A run of another job: the parent of a run, or the root of its hierarchy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRef {
    /// The job's namespace.
    pub namespace: String,
    /// The job's name.
    pub name: String,
    /// The run's id (a UUID).
    pub run_id: String,
}

/// The run this one is nested under (an Airflow task's), and the root of that hierarchy
/// (the DAG run), when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parent {
    /// The parent run.
    pub run: RunRef,
    /// The root run.
    pub root: Option<RunRef>,
}

impl Settings {
    /// Resolves `opts` over the config's `openlineage:` block (the options win). `None`
    /// when there is nowhere to send events (no URL, no file) or when disabled; then the
    /// parent settings are not looked at. A malformed parent is the caller's mistake.
    pub fn resolve(config: &OpenLineageSettings, opts: &Options) -> Result<Option<Settings>> {
        if opts.disabled {
            return Ok(None);
        }
        let url = opts.url.clone().or_else(|| config.url.clone());
        let file = opts.file.clone().or_else(|| config.file.clone());
        if url.is_none() && file.is_none() {
            return Ok(None);
        }
        let http = match url {
            Some(url) => {
                let endpoint = opts
                    .endpoint
                    .clone()
                    .or_else(|| config.endpoint.clone())
                    .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
                let url = join_url(url.trim(), endpoint.trim()).map_err(|message| {
                    Error::OpenLineageSetting {
                        setting: "the OpenLineage URL",
                        message,
                    }
                })?;
                Some(HttpTarget {
                    url,
                    api_key: opts.api_key.clone().or_else(|| config.api_key.clone()),
                    timeout: config.timeout.unwrap_or(DEFAULT_TIMEOUT),
                })
            }
            None => None,
        };
        let parent = parent(opts)?;
        let namespace = opts
            .namespace
            .clone()
            .or_else(|| config.namespace.clone())
            .or_else(|| parent.as_ref().map(|p| p.run.namespace.clone()))
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
        Ok(Some(Settings {
            namespace,
            http,
            file,
            parent,
        }))
    }
}

/// `url` and `endpoint` joined as the OpenLineage Python client joins them (`urljoin`): an
/// endpoint starting with `/` replaces the URL's path, otherwise it is appended to the
/// URL's folder (`http://h:5000` + `api/v1/lineage` = `http://h:5000/api/v1/lineage`); an
/// empty endpoint leaves the URL as it is.
pub fn join_url(url: &str, endpoint: &str) -> std::result::Result<String, String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!(
            "`{}` is not an http:// or https:// URL",
            http::redact_url(url)
        ));
    };
    if !(scheme == "http" || scheme == "https") || rest.is_empty() {
        return Err(format!(
            "`{}` is not an http:// or https:// URL",
            http::redact_url(url)
        ));
    }
    if endpoint.is_empty() {
        return Ok(url.to_string());
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let joined = if endpoint.starts_with('/') {
        endpoint.to_string()
    } else {
        let folder = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        let folder = if folder.is_empty() { "/" } else { folder };
        format!("{folder}{endpoint}")
    };
    Ok(format!("{scheme}://{authority}{joined}"))
}

/// `namespace/job/runId`: the namespace up to the first `/`, the run id after the last,
/// the job name between (it may hold `/`).
fn parse_run_ref(setting: &'static str, text: &str) -> Result<RunRef> {
    let bad = |why: &str| Error::OpenLineageSetting {
        setting,
        message: format!(
            "`{text}` {why}; it takes `namespace/job/runId`, as Airflow's `{{{{ macros.OpenLineageProviderPlugin.lineage_parent_id(task_instance) }}}}` gives it"
        ),
    };
    let (namespace, rest) = text.split_once('/').ok_or_else(|| bad("has no `/`"))?;
    let (name, run_id) = rest
        .rsplit_once('/')
        .ok_or_else(|| bad("has only one `/`"))?;
    if namespace.is_empty() || name.is_empty() {
        return Err(bad("has an empty namespace or job name"));
    }
    Ok(RunRef {
        namespace: namespace.to_string(),
        name: name.to_string(),
        run_id: run_id_of(setting, run_id)?,
    })
}

/// A run id must be a UUID (the OpenLineage schema says so); returned lower-case.
fn run_id_of(setting: &'static str, text: &str) -> Result<String> {
    uuid::Uuid::parse_str(text.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|e| Error::OpenLineageSetting {
            setting,
            message: format!("run id `{text}` is not a UUID ({e})"),
        })
}

/// A setting that was given, trimmed (an empty one was not given).
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The parent from `--parent-id` and the discrete flags (which win), and the root.
fn parent(opts: &Options) -> Result<Option<Parent>> {
    let from_id = opts
        .parent_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_run_ref("--parent-id (OPENLINEAGE_PARENT_ID)", s.trim()))
        .transpose()?;
    let run_id = match given(&opts.parent_run_id) {
        Some(r) => Some(run_id_of("--parent-run-id", r)?),
        None => from_id.as_ref().map(|p| p.run_id.clone()),
    };
    let name = given(&opts.parent_job_name)
        .map(str::to_string)
        .or_else(|| from_id.as_ref().map(|p| p.name.clone()));
    let namespace = given(&opts.parent_job_namespace)
        .map(str::to_string)
        .or_else(|| from_id.as_ref().map(|p| p.namespace.clone()));
    let run = match (run_id, name, namespace) {
        (None, None, None) => None,
        (Some(run_id), Some(name), Some(namespace)) => Some(RunRef {
            namespace,
            name,
            run_id,
        }),
        (run_id, name, namespace) => {
            let missing: Vec<&str> = [
                (run_id.is_none(), "--parent-run-id"),
                (name.is_none(), "--parent-job-name"),
                (namespace.is_none(), "--parent-job-namespace"),
            ]
            .into_iter()
            .filter_map(|(m, flag)| m.then_some(flag))
            .collect();
            return Err(Error::OpenLineageSetting {
                setting: "the parent run",
                message: format!(
                    "is incomplete: {} missing; give all three, or --parent-id namespace/job/runId",
                    missing.join(" and ")
                ),
            });
        }
    };
    let root = opts
        .root_parent_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_run_ref("--root-parent-id (OPENLINEAGE_ROOT_PARENT_ID)", s.trim()))
        .transpose()?;
    Ok(match (run, root) {
        (Some(run), root) => Some(Parent { run, root }),
        (None, Some(_)) => {
            return Err(Error::OpenLineageSetting {
                setting: "the parent run",
                message: "a root run was given without a parent run; give --parent-id too".into(),
            });
        }
        (None, None) => None,
    })
}
