//! HTML: one self-contained page of the run, drawn by the dashboard's own run view
//! (`sluice_serve::page::standalone_report`): its script and style inline, the JSON report
//! embedded, the plots and failing samples included. Nothing is fetched when it opens.

use sluice_app::engine::RunReport;

/// The report as one HTML file.
pub fn render(report: &RunReport) -> String {
    let value = serde_json::to_value(report).expect("a report always serialises");
    sluice_serve::page::standalone_report(&value)
}
