//! `sluice._native`: the Python module's native half. Each function opens the workspace of
//! a config and calls the same application-layer function as the CLI and the HTTP server
//! (`sluice_app`), then hands back the same JSON the CLI prints (`--format json`), which
//! the Python half (`python/sluice/`) wraps in typed objects. Frames come in through the
//! Arrow PyCapsule stream protocol ([`data`]); errors go out as the exceptions of
//! `sluice._errors` ([`errors`]); the `sluice` console script runs the whole CLI
//! in-process ([`main`]).

mod data;
mod errors;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyMapping;
use sluice_app::breaker::Partition;
use sluice_app::check::CheckRequest;
use sluice_app::engine::frame::{Frame, Frames};
use sluice_app::lineage::{Answer, ImpactRequest};
use sluice_app::publish::{PublishOutcome, PublishRequest};
use sluice_app::{StateChoice, Workspace, WorkspaceOptions};

/// Opens the workspace of `config` with `vars` (and `SLUICE_STATE`, as the CLI does).
fn workspace(config: PathBuf, vars: Vec<(String, String)>) -> PyResult<Workspace> {
    let opts = WorkspaceOptions {
        vars,
        state: StateChoice::from_env(),
        ..WorkspaceOptions::default()
    };
    Workspace::open(&config, opts).map_err(|e| errors::app(&e))
}

/// Runs `fut` to the end on a runtime of its own with the GIL released, checking for
/// Python signals every 100 ms: Ctrl-C raises KeyboardInterrupt in the caller and drops
/// the run (its queries stop). A runtime per call: nothing survives a fork (Airflow forks
/// its workers).
/// The future is made by `make` on this thread (it need not be `Send`).
fn block_on<T: Send, F: Future<Output = T>>(
    py: Python<'_>,
    make: impl FnOnce() -> F + Send,
) -> PyResult<T> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the runtime: {e}")))?;
    py.detach(|| {
        rt.block_on(async {
            let interrupted = async {
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        return e;
                    }
                }
            };
            tokio::select! {
                out = make() => Ok(out),
                e = interrupted => Err(e),
            }
        })
    })
}

/// The frames of `data` (None, one frame for `dataset`, or a mapping of dataset name to
/// frame) and the datasets to check: `dataset`, else the mapping's names, else the
/// config's only dataset.
fn frames_of(
    py: Python<'_>,
    ws: &Workspace,
    data: Option<&Bound<'_, PyAny>>,
    dataset: Option<String>,
) -> PyResult<(Frames, Vec<String>)> {
    let mut frames = Frames::new();
    let mut add = |name: String, obj: &Bound<'_, PyAny>, what: &str| -> PyResult<()> {
        let ds = ws.dataset(&name).map_err(|e| errors::app(&e))?;
        let frame = data::frame(py, obj, what)?;
        frames.insert(ds.name.clone(), std::sync::Arc::new(frame));
        Ok(())
    };
    let Some(data) = data else {
        return Ok((frames, dataset.into_iter().collect()));
    };
    if data::is_frame(data)? {
        let name = match dataset {
            Some(d) => d,
            None => only_dataset(ws)?,
        };
        add(name.clone(), data, "data")?;
        return Ok((frames, vec![name]));
    }
    let Ok(mapping) = data.cast::<PyMapping>() else {
        return Err(data::not_data(data, "data"));
    };
    let mut names = vec![];
    for item in mapping.items()?.iter() {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let Ok(name) = key.extract::<String>() else {
            return Err(PyTypeError::new_err(format!(
                "the keys of data must be dataset names (str); got {}",
                data::type_name(&key)
            )));
        };
        if !data::is_frame(&value)? {
            return Err(data::not_data(&value, &format!("data[{name:?}]")));
        }
        add(name.clone(), &value, &format!("data[{name:?}]"))?;
        names.push(name);
    }
    let checked = match dataset {
        Some(d) => vec![d],
        None => names,
    };
    Ok((frames, checked))
}

/// The config's one dataset, or an error asking which.
fn only_dataset(ws: &Workspace) -> PyResult<String> {
    let names: Vec<&str> = ws
        .config()
        .datasets
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    match names.as_slice() {
        [one] => Ok(one.to_string()),
        _ => Err(Python::attach(|py| {
            errors::raise(
                py,
                "ConfigError",
                (
                    format!(
                        "say which dataset the frame is: dataset=\"…\" (the config defines {})",
                        names.join(", ")
                    ),
                    2u8,
                ),
            )
        })),
    }
}

/// The columns a dataset's errored checks name that its frame does not have.
fn missing_columns(
    report: &sluice_app::engine::RunReport,
    frames: &Frames,
) -> Vec<(String, String)> {
    let mut missing: Vec<(String, String)> = vec![];
    for c in &report.checks {
        if c.status != sluice_app::engine::CheckStatus::Error {
            continue;
        }
        let Some(frame) = frames.get(&c.dataset) else {
            continue;
        };
        for col in c.column.iter().chain(&c.columns) {
            let pair = (c.dataset.clone(), col.clone());
            if frame.schema().field_with_name(col).is_err() && !missing.contains(&pair) {
                missing.push(pair);
            }
        }
    }
    missing
}

/// `sluice.check`: runs the checks of `dataset` (or of every dataset in `data`) on the
/// frames given, the files for the rest. Returns the report's JSON (the CLI's
/// `--format json`) and the (dataset, column) pairs the checks name that a frame lacks.
#[pyfunction]
#[pyo3(signature = (config, data=None, dataset=None, vars=vec![], record=true, now=None, memory_limit=None, partition=vec![]))]
#[allow(clippy::too_many_arguments)]
fn check(
    py: Python<'_>,
    config: PathBuf,
    data: Option<Bound<'_, PyAny>>,
    dataset: Option<String>,
    vars: Vec<(String, String)>,
    record: bool,
    now: Option<String>,
    memory_limit: Option<usize>,
    partition: Vec<String>,
) -> PyResult<(String, Vec<(String, String)>)> {
    let ws = workspace(config, vars)?;
    let (frames, datasets) = frames_of(py, &ws, data.as_ref(), dataset)?;
    if datasets.is_empty() {
        return Err(PyValueError::new_err(
            "say what to check: dataset=\"…\", or pass data (a frame or a mapping of dataset name to frame)",
        ));
    }
    let now = match now {
        Some(t) => Some(
            sluice_app::breakers::when(&t, ws.now(), false)
                .map_err(|e| PyValueError::new_err(format!("now: {e}")))?,
        ),
        None => None,
    };
    let partition =
        Partition::parse(&partition).map_err(|e| errors::app(&sluice_app::Error::from(e)))?;
    let req = CheckRequest {
        datasets,
        now,
        memory_limit,
        record,
        partition,
        frames: frames.clone(),
        ..CheckRequest::default()
    };
    let outcome =
        block_on(py, || sluice_app::check::check(&ws, req))?.map_err(|e| errors::app(&e))?;
    let missing = missing_columns(&outcome.report, &frames);
    Ok((outcome.report.to_json(), missing))
}

/// `sluice.guard`: may `dataset` publish? The JSON of `sluice guard --format json`.
#[pyfunction]
#[pyo3(signature = (config, dataset, vars=vec![]))]
fn guard(config: PathBuf, dataset: String, vars: Vec<(String, String)>) -> PyResult<String> {
    let ws = workspace(config, vars)?;
    let v = sluice_app::breakers::guard(&ws, &dataset).map_err(|e| errors::app(&e))?;
    Ok(serde_json::to_string(&v).expect("views serialise"))
}

/// `sluice.impact`: what is downstream (or upstream) of `node` in the config's lineage. The
/// JSON of `sluice impact --format json` (with paths).
#[pyfunction]
#[pyo3(signature = (config, node, vars=vec![], upstream=false, depth=None, column=None))]
fn impact(
    config: PathBuf,
    node: String,
    vars: Vec<(String, String)>,
    upstream: bool,
    depth: Option<u32>,
    column: Option<String>,
) -> PyResult<String> {
    use sluice_app::graph::render;
    let ws = workspace(config, vars)?;
    let g = sluice_app::lineage::of_workspace(&ws).map_err(|e| errors::app(&e))?;
    let req = ImpactRequest {
        node,
        upstream,
        depth,
        include_tests: false,
        column,
    };
    let answer = sluice_app::lineage::impact_any(&g, &req).map_err(|e| errors::app(&e))?;
    Ok(match answer {
        Answer::Nodes(imp) => {
            serde_json::to_string(&render::impact_json(&g.lineage, &imp).with_paths(true))
        }
        Answer::Columns(ci) => serde_json::to_string(&render::column_impact_json(&g.lineage, &ci)),
    }
    .expect("views serialise"))
}

/// `sluice.publish`: writes `data` (if given) where `dataset` is staged, then audits and
/// publishes it as `sluice publish` does. Returns the JSON summary `--json-summary` prints
/// (status, version, path or quarantine, blocked_by, exit_code) and the run's report.
#[pyfunction]
#[pyo3(signature = (config, dataset, data=None, vars=vec![], by=None, partition=vec![]))]
fn publish(
    py: Python<'_>,
    config: PathBuf,
    dataset: String,
    data: Option<Bound<'_, PyAny>>,
    vars: Vec<(String, String)>,
    by: Option<String>,
    partition: Vec<String>,
) -> PyResult<(String, Option<String>)> {
    let ws = workspace(config, vars)?;
    let partition =
        Partition::parse(&partition).map_err(|e| errors::app(&sluice_app::Error::from(e)))?;
    if let Some(obj) = &data {
        ws.dataset(&dataset).map_err(|e| errors::app(&e))?;
        let frame: Frame = data::frame(py, obj, "data")?;
        sluice_app::publish::stage_frame(&ws, &dataset, &frame).map_err(|e| errors::app(&e))?;
    }
    let req = PublishRequest {
        dataset: dataset.clone(),
        rollback: false,
        to: None,
        wait: Duration::from_secs(0),
        by,
        partition,
        openlineage: None,
    };
    let outcome = block_on(py, || sluice_app::publish::publish(&ws, req, |_| {}))?
        .map_err(|e| errors::app(&e))?;
    let exit = sluice::publish_exit_code(&outcome);
    let report = match &outcome {
        PublishOutcome::Published { report, .. } | PublishOutcome::Quarantined { report, .. } => {
            Some(report.to_json())
        }
        _ => None,
    };
    Ok((sluice::publish_summary(&dataset, &outcome, exit), report))
}

/// The `sluice` command line, in this process: `argv` as `sys.argv` (the program name
/// first). Returns the exit code.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<std::ffi::OsString>) -> u8 {
    py.detach(|| sluice::run_cli(argv))
}

/// The `sluice` module's native functions.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(guard, m)?)?;
    m.add_function(wrap_pyfunction!(impact, m)?)?;
    m.add_function(wrap_pyfunction!(publish, m)?)?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    Ok(())
}
