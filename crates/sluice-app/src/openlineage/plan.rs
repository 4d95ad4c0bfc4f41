//! What a run is, as OpenLineage sees it: a job, the datasets it reads and writes, and how
//! OpenLineage names them.

use std::path::Path;

use sluice_spec::{Config, Dataset};

/// The kind of job a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// `sluice check`.
    Check,
    /// `sluice publish`.
    Publish,
}

impl JobKind {
    /// `CHECK`, `PUBLISH`: the `jobType` facet's `jobType`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Check => "CHECK",
            JobKind::Publish => "PUBLISH",
        }
    }
}

/// A dataset as OpenLineage names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetRef {
    /// The sluice dataset it is (its name in the run's report).
    pub dataset: String,
    /// The datasource: `file` for local files, `scheme://authority` for object stores.
    pub namespace: String,
    /// The path.
    pub name: String,
    /// Its sluice name, given as a `symlinks` facet in the job's namespace (none for a
    /// staging folder: it is not the dataset consumers read).
    pub symlink: Option<String>,
    /// `owner:`.
    pub owner: Option<String>,
}

impl DatasetRef {
    /// `ds` at `location` (its `path`, or its staging folder).
    pub fn new(ds: &Dataset, location: &Path, logical: bool) -> DatasetRef {
        let (namespace, name) = dataset_identity(location);
        DatasetRef {
            dataset: ds.name.clone(),
            namespace,
            name,
            symlink: logical.then(|| ds.name.clone()),
            owner: ds.owner.clone(),
        }
    }
}

/// OpenLineage's identity of a location: `scheme://authority` and the path for a URL,
/// `file` and the absolute path for a local file or folder (a trailing `/` dropped).
pub fn dataset_identity(location: &Path) -> (String, String) {
    let text = location.to_string_lossy();
    if let Some((scheme, rest)) = text.split_once("://")
        && scheme != "file"
    {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        return (
            format!("{scheme}://{authority}"),
            path.trim_end_matches('/').to_string(),
        );
    }
    let path = text.strip_prefix("file://").unwrap_or(&text);
    let absolute = std::path::absolute(path)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| path.to_string());
    let trimmed = absolute.trim_end_matches('/');
    let name = if trimmed.is_empty() { "/" } else { trimmed };
    ("file".to_string(), name.to_string())
}

/// What a run is, as OpenLineage sees it: a job, what it reads, what it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobPlan {
    /// The job's name.
    pub name: String,
    /// Check or publish.
    pub kind: JobKind,
    /// The owner of the stage or dataset.
    pub owner: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// What it reads.
    pub inputs: Vec<DatasetRef>,
    /// What it writes.
    pub outputs: Vec<DatasetRef>,
    /// Results whose `dataset` is not one of the inputs (a reconciliation's group name),
    /// and the input whose assertions they join.
    pub homes: Vec<(String, String)>,
}

impl JobPlan {
    /// The job of `sluice check` over `selection`: named after the stage, else the one
    /// dataset, else `check`; it reads every dataset the run reads.
    pub fn check<'c>(
        config: &'c Config,
        selection: &sluice_engine::Selection<'c>,
        stage: Option<&str>,
    ) -> JobPlan {
        let stage = stage.and_then(|s| config.stage(s).ok());
        let (name, owner, description) = match (stage, selection.checked.as_slice()) {
            (Some(s), _) => (s.name.clone(), s.owner.clone(), s.description.clone()),
            (None, [one]) => (one.name.clone(), one.owner.clone(), one.description.clone()),
            (None, _) => ("check".to_string(), None, None),
        };
        let inputs = selection
            .datasets_read(config)
            .into_iter()
            .map(|d| DatasetRef::new(d, &d.location, true))
            .collect();
        JobPlan {
            name,
            kind: JobKind::Check,
            owner,
            description,
            inputs,
            outputs: vec![],
            homes: homes(&selection.reconciles),
        }
    }

    /// The job of `sluice publish ds`: `<ds>.publish`, reading the staging folder (and
    /// whatever its checks compare with), writing the dataset's path.
    pub fn publish(config: &Config, ds: &Dataset, staging: &Path) -> JobPlan {
        let others = sluice_engine::select(config, std::slice::from_ref(&ds.name), None)
            .map(|sel| {
                sel.datasets_read(config)
                    .into_iter()
                    .filter(|d| d.name != ds.name)
                    .map(|d| DatasetRef::new(d, &d.location, true))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let mut inputs = vec![DatasetRef::new(ds, staging, false)];
        inputs.extend(others);
        JobPlan {
            name: format!("{}.publish", ds.name),
            kind: JobKind::Publish,
            owner: ds.owner.clone(),
            description: ds.description.clone(),
            inputs,
            outputs: vec![DatasetRef::new(ds, &ds.location, true)],
            homes: vec![],
        }
    }
}

fn homes(reconciles: &[&sluice_spec::Reconcile]) -> Vec<(String, String)> {
    reconciles
        .iter()
        .filter_map(|r| Some((r.name.clone(), r.datasets.first()?.clone())))
        .collect()
}
