//! SQL over the lake with Apache DataFusion: every catalog item is a table
//! of its Parquet files (Hive partitions become `year`/`month` columns), the
//! quarantine dataset is `quarantine`, and the caller may add in-memory
//! tables (the registry, from the operational store).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;
use domain::Catalog;
use domain::catalog::PartitionBy;

use crate::{Lake, item_schema, quarantine_schema};

#[derive(Debug, thiserror::Error)]
#[error("sql: {0}")]
pub struct SqlError(pub String);

fn error(e: impl std::fmt::Display) -> SqlError {
    SqlError(e.to_string())
}

/// A table of text columns, for registering data that does not come from
/// the lake.
pub fn text_table(columns: &[&str], rows: &[Vec<Option<String>>]) -> Result<RecordBatch, SqlError> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = (0..columns.len())
        .map(|i| {
            Arc::new(StringArray::from_iter(
                rows.iter().map(|r| r.get(i).cloned().flatten()),
            )) as ArrayRef
        })
        .collect();
    RecordBatch::try_new(schema, arrays).map_err(error)
}

/// What a query returned: column names and JSON kinds, and the rows as text
/// (NULL as `None`), in order.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub kinds: Vec<ValueKind>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// How a column's values appear in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Integers, floats and decimals: the text is a JSON number, written as
    /// it is so that decimals keep every digit.
    Number,
    Boolean,
    /// Everything else, dates and times included, as strings.
    Text,
}

impl ValueKind {
    fn of(data_type: &DataType) -> ValueKind {
        if data_type.is_numeric() {
            ValueKind::Number
        } else if *data_type == DataType::Boolean {
            ValueKind::Boolean
        } else {
            ValueKind::Text
        }
    }
}

/// A DataFusion session with the lake's tables registered.
pub struct Sql {
    context: SessionContext,
}

impl Sql {
    /// Registers every catalog item that has files in the lake, and the
    /// quarantine dataset.
    pub async fn over(lake: &Lake, catalog: &Catalog) -> Result<Sql, SqlError> {
        let context = SessionContext::new();
        for item in &catalog.items {
            let dir = lake.root().join(&item.id);
            if !dir.exists() {
                // An item nobody has sent yet is an empty table, so queries
                // that name it (the risk features) still run.
                let table = MemTable::try_new(item_schema(item), vec![vec![]]).map_err(error)?;
                context
                    .register_table(item.id.as_str(), Arc::new(table))
                    .map_err(error)?;
                continue;
            }
            let partitions: Vec<(String, DataType)> = match item.partition.by {
                PartitionBy::None => Vec::new(),
                PartitionBy::Year => vec![("year".to_string(), DataType::Utf8)],
                PartitionBy::Month => vec![
                    ("year".to_string(), DataType::Utf8),
                    ("month".to_string(), DataType::Utf8),
                ],
            };
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet")
                .with_table_partition_cols(partitions);
            let url = ListingTableUrl::parse(format!("{}/", dir.display())).map_err(error)?;
            let config = ListingTableConfig::new(url)
                .with_listing_options(options)
                .with_schema(item_schema(item));
            let table = ListingTable::try_new(config).map_err(error)?;
            context
                .register_table(item.id.as_str(), Arc::new(table))
                .map_err(error)?;
        }
        let quarantine = lake.root().join("_quarantine");
        if quarantine.exists() {
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet")
                .with_table_partition_cols(vec![("item".to_string(), DataType::Utf8)]);
            let url =
                ListingTableUrl::parse(format!("{}/", quarantine.display())).map_err(error)?;
            let config = ListingTableConfig::new(url)
                .with_listing_options(options)
                .with_schema(quarantine_schema());
            let table = ListingTable::try_new(config).map_err(error)?;
            context
                .register_table("quarantine", Arc::new(table))
                .map_err(error)?;
        }
        Ok(Sql { context })
    }

    /// Adds an in-memory table.
    pub fn register(&self, name: &str, batch: RecordBatch) -> Result<(), SqlError> {
        let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(error)?;
        self.context
            .register_table(name, Arc::new(table))
            .map_err(error)?;
        Ok(())
    }

    /// Adds an in-memory table of one text column, for a query to join
    /// against a list computed outside SQL (the tickets a search matched).
    pub fn register_strings(
        &self,
        name: &str,
        column: &str,
        values: &[String],
    ) -> Result<(), SqlError> {
        let schema = Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, false)]));
        let array: ArrayRef = Arc::new(StringArray::from_iter_values(values));
        let batch = RecordBatch::try_new(schema, vec![array]).map_err(error)?;
        self.register(name, batch)
    }

    /// Runs a query and returns its Arrow batches.
    pub async fn batches(&self, sql: &str) -> Result<Vec<RecordBatch>, SqlError> {
        let frame = self.context.sql(sql).await.map_err(error)?;
        frame.collect().await.map_err(error)
    }

    /// Runs a query.
    pub async fn query(&self, sql: &str) -> Result<Rows, SqlError> {
        let frame = self.context.sql(sql).await.map_err(error)?;
        let fields = frame.schema().fields();
        let columns: Vec<String> = fields.iter().map(|f| f.name().clone()).collect();
        let kinds: Vec<ValueKind> = fields
            .iter()
            .map(|f| ValueKind::of(f.data_type()))
            .collect();
        let batches = frame.collect().await.map_err(error)?;
        let options = FormatOptions::default();
        let mut rows = Vec::new();
        for batch in &batches {
            let formatters: Vec<ArrayFormatter> = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<_, _>>()
                .map_err(error)?;
            for r in 0..batch.num_rows() {
                rows.push(
                    batch
                        .columns()
                        .iter()
                        .zip(&formatters)
                        .map(|(column, f)| (!column.is_null(r)).then(|| f.value(r).to_string()))
                        .collect(),
                );
            }
        }
        Ok(Rows {
            columns,
            kinds,
            rows,
        })
    }

    /// The tables a query may name.
    pub async fn tables(&self) -> Result<Vec<String>, SqlError> {
        let found = self
            .query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name")
            .await
            .unwrap_or_default();
        Ok(found
            .rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect())
    }
}
