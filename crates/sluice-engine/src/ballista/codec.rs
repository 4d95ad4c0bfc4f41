//! The logical plan codec between sluice's client and the scheduler: Ballista's own, plus
//! in-memory tables. sluice registers small tables it computed (the keyed diff's
//! differing and duplicated keys) and joins them with the data; DataFusion's protobuf
//! format has no node for them, so they travel as an Arrow IPC stream behind a tag.

use std::io::Cursor;
use std::sync::Arc;

use ballista_core::serde::BallistaLogicalExtensionCodec;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion_proto::logical_plan::LogicalExtensionCodec;

/// What an encoded in-memory table starts with.
const MEMORY_TABLE: &[u8] = b"sluice.memtable/1\n";

/// Ballista's logical codec, and in-memory tables as Arrow IPC.
#[derive(Debug, Default)]
pub struct SluiceLogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
}

fn encode_batches(schema: &SchemaRef, batches: &[RecordBatch], buf: &mut Vec<u8>) -> Result<()> {
    buf.extend_from_slice(MEMORY_TABLE);
    let mut writer = StreamWriter::try_new(&mut *buf, schema)?;
    for b in batches {
        writer.write(b)?;
    }
    writer.finish()?;
    Ok(())
}

fn decode_batches(bytes: &[u8]) -> Result<Vec<RecordBatch>> {
    let reader = StreamReader::try_new(Cursor::new(bytes), None)?;
    Ok(reader.collect::<std::result::Result<Vec<_>, _>>()?)
}

impl LogicalExtensionCodec for SluiceLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match buf.strip_prefix(MEMORY_TABLE) {
            Some(ipc) => {
                let batches = decode_batches(ipc)?;
                Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
            }
            None => self
                .ballista
                .try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let Some(mem) = node.downcast_ref::<MemTable>() else {
            return self
                .ballista
                .try_encode_table_provider(table_ref, node, buf)
                .map_err(|e| {
                    DataFusionError::NotImplemented(format!(
                        "table `{table_ref}` cannot be sent to a Ballista cluster ({e}); only file datasets (Parquet, CSV, JSON on shared paths or object stores) run there"
                    ))
                });
        };
        let mut batches = Vec::new();
        for partition in &mem.batches {
            let guard = partition.try_read().map_err(|_| {
                DataFusionError::Internal(format!("table `{table_ref}` is being written"))
            })?;
            batches.extend(guard.iter().cloned());
        }
        encode_batches(&mem.schema(), &batches, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        self.ballista.try_decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.ballista.try_decode_udaf(name, buf)
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.ballista.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode_udwf(node, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn an_in_memory_table_travels_whole() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])),
                Arc::new(StringArray::from(vec![Some("a"), Some("b"), None])),
            ],
        )
        .unwrap();
        let table = Arc::new(MemTable::try_new(schema.clone(), vec![vec![batch.clone()]]).unwrap());
        let codec = SluiceLogicalCodec::default();
        let mut buf = Vec::new();
        let name = TableReference::bare("keys");
        codec
            .try_encode_table_provider(&name, table, &mut buf)
            .unwrap();
        let ctx = TaskContext::default();
        let back = codec
            .try_decode_table_provider(&buf, &name, schema, &ctx)
            .unwrap();
        let mem = back.downcast_ref::<MemTable>().unwrap();
        let got = mem.batches[0].try_read().unwrap().clone();
        assert_eq!(got, vec![batch]);
    }
}
