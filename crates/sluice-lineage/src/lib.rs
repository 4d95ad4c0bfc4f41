//! Lineage for sluice: one petgraph graph of datasets, stages, exposures and dbt and
//! OpenLineage resources, merged from `sluice.yaml`, dbt manifests, OpenLineage events and
//! stage SQL; impact queries ("what breaks if X fails?"), dbt's selector grammar, and
//! renderers (text tree, JSON, Graphviz dot, Mermaid).
//!
//! It does not depend on the check engine.

pub mod columns;
pub mod error;
pub mod graph;
pub mod import;
pub mod query;
pub mod render;
pub mod select;

pub use error::{LineageError, Result};
pub use graph::{
    Edge, Fragment, Lineage, Missing, NameEdge, Node, NodeKind, Origin, RawEdge, RawNode,
};
pub use import::{Partial, Sources, load};
/// A node of the graph, as queries return them.
pub use petgraph::graph::NodeIndex;
pub use query::{Direction, Hit, Impact, ImpactOptions, Notify, impact};
pub use select::{Indirect, Selector, select};
