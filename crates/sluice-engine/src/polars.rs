//! Checking a polars `DataFrame` from Rust (cargo feature `polars`): the frame's columns
//! are handed to arrow-rs through the Arrow C Data Interface, so primitive, boolean,
//! string-view, decimal and temporal columns are not copied — the arrays point at polars'
//! own buffers, kept alive by the interface's release callbacks. Put the result into
//! [`crate::RunOptions::frames`] (or the application layer's `CheckRequest::frames`).
//!
//! ```ignore
//! let mut opts = sluice_engine::RunOptions::default();
//! opts.frames.insert("forecast".into(), Arc::new(sluice_engine::polars::frame(&df, "forecast")?));
//! let report = sluice_engine::run(&config, &opts).await?;
//! ```

use std::sync::Arc;

use arrow::array::{ArrayRef, make_array};
use arrow::datatypes::{Field, Schema};
use arrow::error::ArrowError;
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use polars_core::prelude::{CompatLevel, DataFrame};

use crate::frame::Frame;

/// `df` as a frame, labelled `label` in messages. Chunks are aligned first (which copies
/// only columns whose chunk boundaries differ from the others'); every chunk becomes one
/// batch.
pub fn frame(df: &DataFrame, label: &str) -> Result<Frame, ArrowError> {
    let mut df = df.clone();
    df.align_chunks_par();
    let mut schema: Option<Arc<Schema>> = None;
    let mut batches = vec![];
    for chunk in df.iter_chunks(CompatLevel::newest(), false) {
        let fields: Vec<_> = chunk.schema().iter_values().cloned().collect();
        let rows = chunk.height();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(fields.len());
        let mut arrow_fields: Vec<Field> = Vec::with_capacity(fields.len());
        for (field, array) in fields.iter().zip(chunk.into_arrays()) {
            let c_schema = polars_arrow::ffi::export_field_to_c(field);
            let c_array = polars_arrow::ffi::export_array_to_c(array);
            // SAFETY: both crates define these structs as the C Data Interface's
            // `ArrowSchema` and `ArrowArray` (#[repr(C)], same fields), so the values move
            // from one to the other unchanged; arrow-rs then owns them and calls their
            // release callbacks, which free polars' side.
            let c_schema: FFI_ArrowSchema = unsafe { std::mem::transmute(c_schema) };
            let c_array: FFI_ArrowArray = unsafe { std::mem::transmute(c_array) };
            arrow_fields.push(Field::try_from(&c_schema)?);
            // SAFETY: `c_array` was exported with `c_schema`'s type just above.
            let data = unsafe { from_ffi(c_array, &c_schema)? };
            columns.push(make_array(data));
        }
        let s = schema
            .get_or_insert_with(|| Arc::new(Schema::new(arrow_fields)))
            .clone();
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        batches.push(RecordBatch::try_new_with_options(s, columns, &options)?);
    }
    let schema = schema.unwrap_or_else(|| Arc::new(Schema::empty()));
    Ok(Frame::new(schema, batches, label))
}
