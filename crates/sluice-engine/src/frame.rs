//! Frames: Arrow data a program hands over in memory (a polars, pandas or pyarrow frame
//! from Python through the Arrow PyCapsule stream protocol; a polars `DataFrame` from
//! Rust) standing in for a dataset's `path`.
//!
//! A C stream can be read once, but a run scans a dataset several times (the fused scan,
//! `unique`'s own query, the samples of failed checks, a keyed diff). So a frame is drained
//! once, when it is handed over, into batches that keep the producer's buffers alive (no
//! copy: an imported array points at the producer's memory), and every scan replays them.
//! Each scan slices them (zero-copy) into batches of the session's batch size and splits
//! them into the session's number of partitions, contiguously, so the one-partition sample
//! session reads the rows in their order and the same frame gives the same samples.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatchReader;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{Result as DfResult, Statistics};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use sluice_spec::{Dataset, Format};

use crate::error::SourceError;
use crate::source::{self, Source};

/// The frames of a run, by dataset name.
pub type Frames = HashMap<String, Arc<Frame>>;

/// Arrow data in memory standing in for a dataset: its schema and its batches, read from
/// the producer's stream once.
#[derive(Debug)]
pub struct Frame {
    schema: SchemaRef,
    batches: Arc<[RecordBatch]>,
    rows: usize,
    label: String,
}

impl Frame {
    /// Drains `reader` (a stream imported through the Arrow C Data Interface, or any other
    /// reader) into a frame. `label` says what the data is in messages (`polars.DataFrame`).
    /// A stream that fails part-way is an error, never a frame of the rows read so far.
    pub fn from_reader(
        reader: impl RecordBatchReader,
        label: impl Into<String>,
    ) -> Result<Frame, ArrowError> {
        let schema = reader.schema();
        let batches = reader.collect::<Result<Vec<_>, _>>()?;
        Ok(Frame::new(schema, batches, label))
    }

    /// A frame of these batches (each of `schema`).
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>, label: impl Into<String>) -> Frame {
        let batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        Frame {
            schema,
            batches: batches.into(),
            rows,
            label: label.into(),
        }
    }

    /// Its columns.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Its number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// What it is, for messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Its batches, as handed over.
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// Writes the frame as one Parquet file at `dest` (its folder is created): to a
    /// temporary file beside it, then renamed, so `dest` appears whole or not at all.
    pub fn write_parquet(&self, dest: &std::path::Path) -> Result<(), String> {
        use datafusion::parquet::arrow::ArrowWriter;
        let dir = dest.parent().unwrap_or(std::path::Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let tmp = dir.join(format!(
            ".{}.sluice-{}.tmp",
            dest.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let written = (|| {
            let file = std::fs::File::create(&tmp).map_err(|e| e.to_string())?;
            let mut w = ArrowWriter::try_new(file, Arc::clone(&self.schema), None)
                .map_err(|e| e.to_string())?;
            for b in self.batches.iter() {
                w.write(b).map_err(|e| e.to_string())?;
            }
            let file = w.into_inner().map_err(|e| e.to_string())?;
            file.sync_all().map_err(|e| e.to_string())?;
            std::fs::rename(&tmp, dest).map_err(|e| e.to_string())
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }

    /// The batches split into `parts` partitions of contiguous rows, each batch at most
    /// `batch_size` rows (slices share the buffers).
    fn partitions(&self, parts: usize, batch_size: usize) -> Vec<Vec<RecordBatch>> {
        let parts = parts.max(1);
        let batch_size = batch_size.max(1);
        let per_part = self.rows.div_ceil(parts).max(1);
        let mut out: Vec<Vec<RecordBatch>> = vec![Vec::new()];
        let mut in_part = 0;
        for batch in self.batches.iter() {
            let mut offset = 0;
            while offset < batch.num_rows() {
                if in_part == per_part && out.len() < parts {
                    out.push(Vec::new());
                    in_part = 0;
                }
                let room = if out.len() < parts {
                    per_part - in_part
                } else {
                    usize::MAX
                };
                let len = (batch.num_rows() - offset).min(batch_size).min(room);
                out.last_mut()
                    .expect("one partition at least")
                    .push(batch.slice(offset, len));
                offset += len;
                in_part += len;
            }
        }
        out
    }
}

/// A frame as a table of a session: every scan replays the frame's batches.
#[derive(Debug)]
struct FrameTable {
    frame: Arc<Frame>,
}

#[async_trait]
impl TableProvider for FrameTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.frame.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let options = &state.config_options().execution;
        let parts = self
            .frame
            .partitions(options.target_partitions, options.batch_size.into());
        let source = MemorySourceConfig::try_new(&parts, self.schema(), projection.cloned())?
            .with_limit(limit);
        Ok(DataSourceExec::from_data_source(source))
    }

    fn statistics(&self) -> Option<Statistics> {
        let mut stats = Statistics::new_unknown(&self.frame.schema);
        stats.num_rows = datafusion::common::stats::Precision::Exact(self.frame.rows);
        Some(stats)
    }
}

/// Registers `frame` as the table of `ds` in `ctx`.
pub(crate) fn open(
    ctx: &SessionContext,
    ds: &Dataset,
    frame: &Arc<Frame>,
) -> Result<Source, SourceError> {
    let provider = Arc::new(FrameTable {
        frame: Arc::clone(frame),
    });
    source::register(ctx, ds, &ds.location, provider, Format::Frame, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    fn frame(chunks: &[std::ops::Range<i64>]) -> Frame {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batches = chunks
            .iter()
            .map(|r| {
                let ids: Int64Array = r.clone().collect();
                let s: StringArray = r
                    .clone()
                    .map(|i| (i % 3 != 0).then(|| i.to_string()))
                    .collect();
                RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(ids), Arc::new(s)]).unwrap()
            })
            .collect();
        Frame::new(schema, batches, "test")
    }

    fn ids(parts: &[Vec<RecordBatch>]) -> Vec<Vec<i64>> {
        parts
            .iter()
            .map(|p| {
                p.iter()
                    .flat_map(|b| {
                        let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                        a.values().to_vec()
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn partitions_are_contiguous_in_order_and_sliced_to_the_batch_size() {
        let f = frame(&[0..10, 10..11, 11..25]);
        let one = f.partitions(1, 4);
        assert_eq!(
            ids(&one),
            vec![(0..25).collect::<Vec<_>>()],
            "one partition keeps the order"
        );
        assert!(one[0].iter().all(|b| b.num_rows() <= 4));
        let two = f.partitions(2, 100);
        assert_eq!(
            ids(&two),
            vec![(0..13).collect::<Vec<_>>(), (13..25).collect()]
        );
        let many = f.partitions(8, 2);
        assert_eq!(ids(&many).concat(), (0..25).collect::<Vec<_>>());
        assert!(many.len() <= 8);
    }

    #[test]
    fn slices_share_the_producers_buffers() {
        let f = frame(&[0..60, 60..100]);
        let before = f.batches()[0].column(0).to_data().buffers()[0].as_ptr();
        let parts = f.partitions(2, 10);
        let after = parts[0][0].column(0).to_data().buffers()[0].as_ptr();
        assert_eq!(before, after, "a slice is not a copy");
    }

    #[test]
    fn an_empty_frame_is_one_empty_partition() {
        let f = frame(&[]);
        assert_eq!(f.rows(), 0);
        assert_eq!(ids(&f.partitions(4, 8)), vec![Vec::<i64>::new()]);
    }

    #[tokio::test]
    async fn every_scan_replays_the_frame_and_samples_keep_its_order() {
        let f = Arc::new(frame(&[0..5000, 5000..12000]));
        let ctx = SessionContext::new();
        ctx.register_table(
            "t",
            Arc::new(FrameTable {
                frame: Arc::clone(&f),
            }),
        )
        .unwrap();
        for _ in 0..2 {
            let n = ctx
                .sql("select count(*), sum(id), count(s) from t")
                .await
                .unwrap()
                .collect()
                .await
                .unwrap();
            let text = arrow::util::pretty::pretty_format_batches(&n)
                .unwrap()
                .to_string();
            assert!(
                text.contains("12000") && text.contains("71994000") && text.contains("8000"),
                "{text}"
            );
        }
        let mut state = ctx.state();
        state.config_mut().options_mut().execution.target_partitions = 1;
        let one = SessionContext::new_with_state(state);
        let rows = one
            .sql("select id from t where id % 1000 = 7 limit 3")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let got: Vec<i64> = rows
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect();
        assert_eq!(got, vec![7, 1007, 2007]);
    }
}
