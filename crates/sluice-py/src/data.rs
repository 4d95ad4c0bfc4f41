//! Frames from Python: any object with `__arrow_c_stream__` (the Arrow PyCapsule stream
//! protocol: polars ≥ 1.3, pandas ≥ 2.2 through pyarrow, pyarrow tables and readers, DuckDB
//! relations) becomes a [`Frame`], without pyarrow and without copying the data: the
//! stream's arrays keep pointing at the producer's buffers.

use arrow::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyCapsuleMethods};
use pyo3::{PyErr, intern};
use sluice_app::engine::frame::Frame;

/// What `check` and `publish` accept, for the TypeError.
pub(crate) const ACCEPTED: &str = "an object with `__arrow_c_stream__` (a polars DataFrame (polars >= 1.3), a pandas DataFrame (pandas >= 2.2, with pyarrow installed), a pyarrow Table or RecordBatchReader, a DuckDB relation) or a mapping of dataset name to such objects";

/// The type of `obj` as people write it (`polars.dataframe.frame.DataFrame`).
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .fully_qualified_name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "an unknown type".into())
}

/// Whether `obj` exports an Arrow stream.
pub(crate) fn is_frame(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    obj.hasattr(intern!(obj.py(), "__arrow_c_stream__"))
}

/// The reader of `obj`'s Arrow stream; a TypeError saying what is accepted when `obj` has
/// none.
fn reader(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<(ArrowArrayStreamReader, String)> {
    let py = obj.py();
    let ty = type_name(obj);
    let Some(export) = obj.getattr_opt(intern!(py, "__arrow_c_stream__"))? else {
        let hint = if ty.ends_with("LazyFrame") {
            " (a LazyFrame: call .collect() first)"
        } else if ty.starts_with("pandas.") {
            " (pandas objects export Arrow from pandas 2.2 on)"
        } else {
            ""
        };
        return Err(PyTypeError::new_err(format!(
            "{what} must be {ACCEPTED}; got {ty}{hint}"
        )));
    };
    // pandas without pyarrow raises ImportError here: it propagates as it is.
    let capsule = export.call0()?;
    let capsule = capsule.cast_into::<PyCapsule>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{ty}.__arrow_c_stream__() did not return a PyCapsule, so it cannot be read as Arrow"
        ))
    })?;
    let ptr = capsule.pointer_checked(Some(c"arrow_array_stream"))?;
    // SAFETY: the capsule is named `arrow_array_stream`, so it holds an
    // `ArrowArrayStream`; `from_raw` moves it out and leaves a released stream behind,
    // which the capsule's destructor then leaves alone (the protocol's contract).
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr().cast()) };
    let reader = ArrowArrayStreamReader::try_new(stream).map_err(|e| {
        PyTypeError::new_err(format!(
            "{ty} exported an Arrow stream sluice cannot read: {e}"
        ))
    })?;
    Ok((reader, ty))
}

/// Reads `obj`'s Arrow stream to the end (with the GIL released: a stream that needs it
/// takes it) into a frame.
pub(crate) fn frame(py: Python<'_>, obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Frame> {
    let (reader, ty) = reader(obj, what)?;
    let label = ty.clone();
    py.detach(move || Frame::from_reader(reader, label)).map_err(|e| {
        let text = e.to_string();
        // polars exports its `Null` type (a column of only None, no dtype given) with a
        // buffer the C Data Interface says it has not: arrow-rs refuses it.
        let hint = if text.contains("datatype \"Null\"") {
            "; a column of only None without a type: give it one (polars: `schema_overrides`, or `.cast(pl.Int64)`)"
        } else {
            ""
        };
        crate::errors::data_error(&format!("reading {what} ({ty}) failed: {text}{hint}"))
    })
}

/// The error for a value that is neither a frame nor a mapping of frames.
pub(crate) fn not_data(obj: &Bound<'_, PyAny>, what: &str) -> PyErr {
    let ty = type_name(obj);
    let hint = if ty.ends_with("LazyFrame") {
        " (a LazyFrame: call .collect() first)"
    } else {
        ""
    };
    PyTypeError::new_err(format!("{what} must be {ACCEPTED}; got {ty}{hint}"))
}
