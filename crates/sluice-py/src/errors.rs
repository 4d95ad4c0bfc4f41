//! sluice's errors as Python exceptions: the classes live in `sluice._errors` (so that
//! they can inherit from both `SluiceError` and the builtin a Python user catches:
//! `ValueError`, `LookupError`); the application layer's [`ErrorKind`] picks the class.

use pyo3::prelude::*;
use sluice_app::{Error as AppError, ErrorKind};

/// An instance of `sluice._errors.<class>` built from `args`.
pub(crate) fn raise<'py, A>(py: Python<'py>, class: &str, args: A) -> PyErr
where
    A: pyo3::call::PyCallArgs<'py>,
{
    let built = py
        .import("sluice._errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1(args));
    match built {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    }
}

/// The class of an application error's kind.
fn class(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Invalid => "ConfigError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::Unavailable => "StoreError",
        _ => "SluiceError",
    }
}

/// The exit code the CLI gives the same error (2 the caller's, 4 the environment's).
fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Invalid | ErrorKind::NotFound => 2,
        _ => 4,
    }
}

/// An application error as its exception: the message is what the CLI prints after
/// `error:` (an invalid config's every diagnostic with file:line:col), with one `Cause:`
/// line per source.
pub(crate) fn app(e: &AppError) -> PyErr {
    let mut message = match e {
        AppError::Config(spec) => match &**spec {
            sluice_app::spec::SpecError::Invalid(inv) => format!("{}\n{inv}", inv.render(false)),
            other => other.to_string(),
        },
        other => other.to_string(),
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(&format!("\n  Cause: {cause}"));
        source = cause.source();
    }
    Python::attach(|py| raise(py, class(e.kind()), (message, exit_code(e.kind()))))
}

/// A frame that could not be read (the stream failed part-way): a `DataError`.
pub(crate) fn data_error(message: &str) -> PyErr {
    Python::attach(|py| raise(py, "DataError", (message.to_string(), 4u8)))
}
