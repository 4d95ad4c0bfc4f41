//! Did-you-mean for the SQL users write (`where:`, `rows_satisfy`, `metric`): a column or a
//! function that does not exist gets the closest real name, as check columns do
//! ([`crate::compile::field`]). DataFusion's own hints name the column with its table
//! (`'orders.amount'`) and always offer some function, however far.

use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use sluice_spec::suggest::hint;

/// The column an "unknown column" planning error is about (so a failing `schema` check
/// reporting it missing can explain the error).
pub(crate) fn unknown_column(e: &DataFusionError) -> Option<String> {
    match e.find_root() {
        DataFusionError::SchemaError(se, _) => match se.as_ref() {
            SchemaError::FieldNotFound { field, .. } => Some(field.name.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// "column `amout` not found in `orders`; did you mean `amount`? Its columns: ..." or
/// "unknown function `avgg`; did you mean `avg`?" when `e` is such a planning error.
/// `functions` are the session's, for the function names it knows.
pub(crate) fn unknown_name(
    e: &DataFusionError,
    dataset: &str,
    schema: &datafusion::arrow::datatypes::Schema,
    functions: &TaskContext,
) -> Option<String> {
    if let DataFusionError::SchemaError(se, _) = e.find_root()
        && let SchemaError::FieldNotFound { field, .. } = se.as_ref()
    {
        return crate::compile::field(schema, dataset, &field.name)
            .err()
            .map(|e| e.message);
    }
    let text = e.to_string();
    let name = text
        .split("Invalid function '")
        .nth(1)?
        .split('\'')
        .next()?
        .to_string();
    let mut known: Vec<&String> = functions
        .scalar_functions()
        .keys()
        .chain(functions.aggregate_functions().keys())
        .filter(|n| !n.starts_with("__"))
        .collect();
    known.sort();
    Some(match hint(&name, known.iter().map(|s| s.as_str())) {
        Some(h) => format!("unknown function `{name}`; {h}"),
        None => format!(
            "unknown function `{name}`; see https://datafusion.apache.org/user-guide/sql/aggregate_functions.html"
        ),
    })
}
