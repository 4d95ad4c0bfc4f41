//! `sluice check --format html`: one self-contained HTML file of the run, drawn by the
//! dashboard's own run view (its script and style inlined, the report's JSON embedded),
//! that fetches nothing and that no value in the data can break out of.

mod common;

use std::path::Path;

use common::{code, repo, run, stdout};

/// The embedded report of an HTML file, parsed back.
fn embedded(html: &str) -> serde_json::Value {
    let open = "<script type=\"application/json\" id=\"sluice-report\">";
    let start = html.find(open).expect("the report is embedded") + open.len();
    let end = start + html[start..].find("</script>").expect("its element closes");
    serde_json::from_str(&html[start..end]).expect("the embedded report is JSON")
}

/// What would load something from elsewhere: an absolute URL in `src`/`href`, a style
/// sheet or script by reference, an `@import`, a `url(` to anything but the page itself.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "src=\"//",
        "href=\"//",
        "<link",
        "<script src",
        "@import",
    ] {
        assert!(!lower.contains(bad), "the report refers to `{bad}`");
    }
    // `url(#id)` names an element of the page itself (the graph's arrowhead); nothing else.
    for (i, _) in lower.match_indices("url(") {
        assert!(
            lower[i + 4..].starts_with('#'),
            "the report loads `{}`",
            &html[i..(i + 40).min(html.len())]
        );
    }
    assert!(
        !lower.contains("https://"),
        "no https:// in the report at all"
    );
}

#[test]
fn the_example_as_one_self_contained_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.html");
    let cfg = repo().join("examples/orders/sluice.yaml");
    let o = run(
        dir.path(),
        &[
            "check",
            "-c",
            cfg.to_str().unwrap(),
            "--no-state",
            "--format",
            "html",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    // With --output, the terminal still gets the text summary.
    assert!(
        stdout(&o).contains("not_null(customer_id)"),
        "{}",
        stdout(&o)
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert_self_contained(&html);
    // The dashboard's own script and style, inlined as they are: one run view, not two.
    assert!(html.contains(sluice_serve::page::APP_JS));
    assert!(html.contains(sluice_serve::page::APP_CSS));
    assert!(html.contains("<title>sluice run failed "));
    // The failing checks and their samples are in it.
    let report = embedded(&html);
    assert_eq!(report["status"], "failed");
    let checks = report["checks"].as_array().unwrap();
    let failing: Vec<&str> = checks
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for name in [
        "not_null(customer_id)",
        "unique(order_id)",
        "accepted_values(status)",
        "range(amount)",
        "events_on_last_day",
    ] {
        assert!(failing.contains(&name), "{name} in {failing:?}");
        assert!(html.contains(name), "{name} in the file");
    }
    let status = checks
        .iter()
        .find(|c| c["name"] == "accepted_values(status)")
        .unwrap();
    let samples = status["samples"].as_array().unwrap();
    assert!(!samples.is_empty());
    assert!(samples.iter().all(|s| s["status"] == "lost"), "{samples:?}");
    assert!(html.contains("\"status\":\"lost\""));
}

#[test]
fn without_output_the_page_goes_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = repo().join("examples/orders/sluice.yaml");
    let o = run(
        dir.path(),
        &[
            "check",
            "-c",
            cfg.to_str().unwrap(),
            "--no-state",
            "--dataset",
            "customers",
            "--format",
            "html",
        ],
    );
    assert_eq!(code(&o), 0);
    let html = stdout(&o);
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.trim_end().ends_with("</html>"));
    assert_eq!(embedded(&html)["status"], "passed");
    assert_self_contained(&html);
}

fn hostile_project(dir: &Path) {
    std::fs::write(
        dir.join("sluice.yaml"),
        "version: 1\ndatasets:\n  notes:\n    path: notes.csv\n    checks:\n      - accepted_values: { column: body, values: [ok] }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("notes.csv"),
        "id,body\n1,ok\n2,</script><script>document.title='pwned'</script>\n3,<!-- <script>\n4,</SCRIPT >&amp;\n",
    )
    .unwrap();
}

#[test]
fn a_sample_value_cannot_break_out_of_the_page() {
    let dir = tempfile::tempdir().unwrap();
    hostile_project(dir.path());
    let o = run(
        dir.path(),
        &["check", "--no-state", "--format", "html", "-q"],
    );
    assert_eq!(code(&o), 1);
    let html = stdout(&o);
    // Exactly two script elements close: the embedded JSON's and the script's.
    assert_eq!(html.to_ascii_lowercase().matches("</script").count(), 2);
    assert!(!html.contains("document.title='pwned'</script>"));
    assert!(!html.contains("<!-- <script>"));
    // The values survive, as data.
    let report = embedded(&html);
    let bodies: Vec<String> = report["checks"][0]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["body"].as_str().unwrap().to_string())
        .collect();
    assert!(
        bodies.contains(&"</script><script>document.title='pwned'</script>".to_string()),
        "{bodies:?}"
    );
    assert!(bodies.contains(&"<!-- <script>".to_string()), "{bodies:?}");
    assert!(
        bodies.contains(&"</SCRIPT >&amp;".to_string()),
        "{bodies:?}"
    );
}
