//! Lineage benchmark: graph build, `impact` queries and dbt manifest loading at scale.
//!
//! ```text
//! cargo run --release -p sluice-lineage --example bench_lineage
//! cargo run --release -p sluice-lineage --example bench_lineage -- --nodes 1000000 --models 5000
//! ```
//!
//! Options (defaults in brackets): `--nodes` [1,000,000], `--layers` [30], `--models`
//! [5,000], `--roots` roots per query group [5], `--reps` repetitions per root [3],
//! `--seed` [42]. Everything runs on one thread, in one process. `BENCH_VERBOSE=1` prints
//! every impact timing on stderr.
//!
//! What it measures:
//!
//! 1. A layered random DAG (`--nodes` nodes in `--layers` layers; every node after the first
//!    layer has 3 distinct parents drawn from the previous 1–3 layers, so about 3 edges per
//!    node; ~10% stages, exposures in the last layer, owners and tiers on some nodes) is
//!    generated as one config [`Fragment`] (not timed against a target), then merged with
//!    [`Lineage::build`]; peak RSS (`VmHWM`) is read after the build.
//! 2. [`impact`] downstream from random nodes of layers 0–1 (a blast radius of most of the
//!    graph) and of the next-to-last layer (a handful of nodes), and upstream from the
//!    next-to-last layer; target: every query < 100 ms. Each is paired with a reference run
//!    in the same process: a plain `petgraph::visit::Bfs` over `lineage.graph` from the same
//!    root (on `Reversed` for upstream), and the ratio of medians (impact / reference) is
//!    printed. `impact` does more (a 0-1 BFS for depths and parents, then the sorted result)
//!    but walks flat adjacency arrays instead of petgraph's edge lists; the bench asserts
//!    both reach the same nodes.
//! 3. One near-root query rendered as the CLI does with `--json`:
//!    [`sluice_lineage::render::impact_json`], then `serde_json::to_string_pretty` (no target);
//!    then again with each hit's whole path (`--json --paths`).
//! 4. A dbt manifest (schema v12; `--models` models in layers, a source per 10 models, 2
//!    tests per model, 50 exposures, seeds, macros, `parent_map` and `child_map`, every
//!    resource shaped like a real dbt 1.11 manifest) written to the temp directory and
//!    loaded with [`sluice_lineage::load`] (read, parse, merge, build), 5 times; target:
//!    < 1 s. The loaded graph's node, kind and edge counts are asserted.
//!
//! Every measurement prints its median and max over all repetitions and PASS/FAIL against
//! its target (judged on the max); the exit code is 0 either way.

// The manifest resources are big `json!` literals.
#![recursion_limit = "256"]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use petgraph::graph::NodeIndex;
use petgraph::visit::{Bfs, Reversed};
use serde_json::{Map, Value, json};
use sluice_lineage::import::dbt;
use sluice_lineage::{
    Direction, Fragment, ImpactOptions, Lineage, NodeKind, Origin, RawEdge, RawNode, Sources,
    impact,
};

const IMPACT_TARGET: Duration = Duration::from_millis(100);
const LOAD_TARGET: Duration = Duration::from_secs(1);
const LOAD_REPS: usize = 5;

struct Args {
    nodes: usize,
    layers: usize,
    models: usize,
    roots: usize,
    reps: usize,
    seed: u64,
}

fn args() -> Args {
    let mut a = Args {
        nodes: 1_000_000,
        layers: 30,
        models: 5_000,
        roots: 5,
        reps: 3,
        seed: 42,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            println!(
                "usage: bench_lineage [--nodes N] [--layers N] [--models N] [--roots N] [--reps N] [--seed N]"
            );
            std::process::exit(0);
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let n: u64 = value
            .replace(['_', ','], "")
            .parse()
            .unwrap_or_else(|_| panic!("{flag}: `{value}` is not a number"));
        match flag.as_str() {
            "--nodes" => a.nodes = n as usize,
            "--layers" => a.layers = n as usize,
            "--models" => a.models = n as usize,
            "--roots" => a.roots = n as usize,
            "--reps" => a.reps = n as usize,
            "--seed" => a.seed = n,
            _ => panic!("unknown option {flag} (try --help)"),
        }
    }
    assert!(a.layers >= 3, "--layers must be at least 3");
    assert!(
        a.nodes >= 4 * a.layers,
        "--nodes must be at least 4 per layer"
    );
    assert!(a.models >= 100, "--models must be at least 100");
    assert!(
        a.roots >= 1 && a.reps >= 1,
        "--roots and --reps must be at least 1"
    );
    a
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

// ---------------------------------------------------------------------------------------
// Formatting and measuring.

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn dur(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// A target: `100 ms`, `1 s`.
fn target(d: Duration) -> String {
    if d.as_millis() >= 1000 && d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

fn median(times: &[Duration]) -> Duration {
    let mut t = times.to_vec();
    t.sort();
    let n = t.len();
    if !n.is_multiple_of(2) {
        t[n / 2]
    } else {
        (t[n / 2 - 1] + t[n / 2]) / 2
    }
}

fn max(times: &[Duration]) -> Duration {
    times.iter().copied().max().unwrap_or_default()
}

fn verdict(worst: Duration, target: Duration) -> &'static str {
    if worst < target { "PASS" } else { "FAIL" }
}

/// Peak resident set size of this process so far (`VmHWM`), in bytes.
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn peak_rss_text() -> String {
    peak_rss().map_or_else(|| "n/a".to_string(), mib)
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed())
}

// ---------------------------------------------------------------------------------------
// The layered graph.

struct Layered {
    fragment: Fragment,
    /// Layer `l` is nodes `start[l]..start[l + 1]` (in fragment order, which is also graph
    /// index order: the build adds nodes in the order they come).
    start: Vec<usize>,
}

fn layered(nodes: usize, layers: usize, rng: &mut Rng) -> Layered {
    let start: Vec<usize> = (0..=layers).map(|l| l * nodes / layers).collect();
    let mut f = Fragment::new(Origin::Config);
    f.nodes.reserve(nodes);
    for l in 0..layers {
        for i in start[l]..start[l + 1] {
            let kind = if l == layers - 1 && i.is_multiple_of(10) {
                NodeKind::Exposure
            } else if l > 0 && l < layers - 1 && rng.chance(10) {
                NodeKind::Stage
            } else {
                NodeKind::Dataset
            };
            let (prefix, name) = match kind {
                NodeKind::Stage => ("stage", format!("s{i}")),
                NodeKind::Exposure => ("exposure", format!("e{i}")),
                _ => ("dataset", format!("d{i}")),
            };
            f.nodes.push(RawNode {
                id: format!("{prefix}:{name}"),
                name,
                kind: Some(kind),
                owner: rng.chance(30).then(|| format!("team-{}", rng.below(200))),
                tier: rng.chance(10).then(|| 1 + rng.below(3) as u8),
                subkind: (kind == NodeKind::Exposure).then(|| "dashboard".to_string()),
                ..RawNode::default()
            });
        }
    }
    f.edges.reserve(3 * (nodes - start[1]));
    for l in 1..layers {
        for child in start[l]..start[l + 1] {
            let mut parents = [usize::MAX; 3];
            let mut k = 0;
            while k < 3 {
                // 60% from the previous layer, 25% two back, 15% three back.
                let r = rng.below(100);
                let back = if r < 60 {
                    1
                } else if r < 85 {
                    2
                } else {
                    3
                };
                let pl = l - back.min(l);
                let p = start[pl] + rng.below(start[pl + 1] - start[pl]);
                if !parents.contains(&p) {
                    parents[k] = p;
                    k += 1;
                }
            }
            for p in parents {
                f.edges.push(RawEdge {
                    from: f.nodes[p].id.clone(),
                    to: f.nodes[child].id.clone(),
                });
            }
        }
    }
    Layered { fragment: f, start }
}

/// Nodes reached from `root` by a plain BFS (the root included).
fn reference_bfs(lineage: &Lineage, root: NodeIndex, direction: Direction) -> usize {
    let mut count = 0;
    match direction {
        Direction::Downstream => {
            let g = &lineage.graph;
            let mut bfs = Bfs::new(g, root);
            while bfs.next(g).is_some() {
                count += 1;
            }
        }
        Direction::Upstream => {
            let g = Reversed(&lineage.graph);
            let mut bfs = Bfs::new(g, root);
            while bfs.next(g).is_some() {
                count += 1;
            }
        }
    }
    count
}

/// Times `impact` and the reference BFS from each root, `reps` times each, interleaved;
/// prints two lines.
fn impact_group(
    lineage: &Lineage,
    label: &str,
    roots: &[NodeIndex],
    direction: Direction,
    reps: usize,
) -> bool {
    let opts = ImpactOptions {
        direction,
        max_depth: None,
        include_tests: false,
    };
    let mut ours = Vec::new();
    let mut reference = Vec::new();
    let mut reached = Vec::new();
    for &root in roots {
        for _ in 0..reps {
            let (imp, t) = timed(|| impact(lineage, root, opts));
            ours.push(t);
            if std::env::var_os("BENCH_VERBOSE").is_some() {
                eprintln!("  {label}: {}", dur(t));
            }
            let hits = imp.hits.len();
            drop(std::hint::black_box(imp));
            let (count, t) =
                timed(|| reference_bfs(lineage, std::hint::black_box(root), direction));
            reference.push(t);
            // No tests in this graph: impact reports everything reached but the root.
            assert_eq!(hits + 1, count, "impact and the reference BFS disagree");
            reached.push(hits);
        }
    }
    reached.sort_unstable();
    let reach = if reached[0] == reached[reached.len() - 1] {
        thousands(reached[0])
    } else {
        format!(
            "{}–{}",
            thousands(reached[0]),
            thousands(reached[reached.len() - 1])
        )
    };
    let pass = max(&ours) < IMPACT_TARGET;
    let head = format!("impact {label} ({} roots × {reps})", roots.len());
    println!(
        "{head:<44} median {:>9}  max {:>9}  reached {reach}  target < {} {}",
        dur(median(&ours)),
        dur(max(&ours)),
        target(IMPACT_TARGET),
        verdict(max(&ours), IMPACT_TARGET)
    );
    println!(
        "  {:<42} median {:>9}  max {:>9}  ratio {:.2}×",
        "reference petgraph Bfs",
        dur(median(&reference)),
        dur(max(&reference)),
        median(&ours).as_secs_f64() / median(&reference).as_secs_f64()
    );
    pass
}

fn pick(rng: &mut Rng, range: std::ops::Range<usize>, n: usize) -> Vec<NodeIndex> {
    let mut out: Vec<NodeIndex> = Vec::new();
    while out.len() < n.min(range.len()) {
        let ix = NodeIndex::new(range.start + rng.below(range.len()));
        if !out.contains(&ix) {
            out.push(ix);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The dbt manifest.

/// What the generated manifest holds, to check the loaded graph against.
#[derive(Default)]
struct Expect {
    models: usize,
    seeds: usize,
    sources: usize,
    tests: usize,
    exposures: usize,
    edges: usize,
}

const PROJECT: &str = "bench_shop";

fn columns(names: &[String], rng: &mut Rng) -> Value {
    let mut m = Map::new();
    for c in names {
        let description = if rng.chance(50) {
            format!(
                "The {} of the record, as loaded from upstream.",
                c.replace('_', " ")
            )
        } else {
            String::new()
        };
        m.insert(
            c.clone(),
            json!({
                "name": c,
                "description": description,
                "meta": {}, "data_type": null, "constraints": [], "quote": null,
                "config": {"meta": {}, "tags": []}, "tags": [], "granularity": null, "doc_blocks": []
            }),
        );
    }
    Value::Object(m)
}

fn column_names(rng: &mut Rng, stem: &str) -> Vec<String> {
    const WORDS: [&str; 12] = [
        "amount",
        "status",
        "created_at",
        "updated_at",
        "customer_id",
        "order_id",
        "region",
        "channel",
        "quantity",
        "price",
        "currency",
        "is_deleted",
    ];
    let n = 6 + rng.below(7);
    let mut cols = vec![format!("{stem}_id")];
    while cols.len() < n {
        let w = WORDS[rng.below(WORDS.len())].to_string();
        if !cols.contains(&w) {
            cols.push(w);
        }
    }
    cols
}

fn model_config(materialized: &str, tags: &[&str], meta: &Value) -> Value {
    json!({
        "enabled": true, "alias": null, "schema": null, "database": null, "tags": tags,
        "meta": meta, "group": null, "static_analysis": null, "materialized": materialized,
        "incremental_strategy": null, "batch_size": null, "lookback": 1, "begin": null,
        "persist_docs": {}, "post-hook": [], "pre-hook": [], "quoting": {}, "column_types": {},
        "full_refresh": null, "unique_key": null, "on_schema_change": "ignore",
        "on_configuration_change": "apply", "grants": {}, "packages": [],
        "docs": {"show": true, "node_color": null},
        "contract": {"enforced": false, "alias_types": true}, "event_time": null,
        "concurrent_batches": null, "access": "protected", "freshness": null
    })
}

struct ModelSpec<'a> {
    name: &'a str,
    dir: &'a str,
    parents: &'a [String],
    cols: &'a [String],
    meta: Value,
    tags: Vec<&'a str>,
}

fn model_json(m: &ModelSpec, rng: &mut Rng) -> Value {
    let uid = format!("model.{PROJECT}.{}", m.name);
    let refs: Vec<Value> = m
        .parents
        .iter()
        .filter(|p| !p.starts_with("source."))
        .map(|p| json!({"name": p.rsplit('.').next().unwrap_or(p), "package": null, "version": null}))
        .collect();
    let sources: Vec<Value> = m
        .parents
        .iter()
        .filter(|p| p.starts_with("source."))
        .map(|p| {
            let mut parts = p.rsplit('.');
            let table = parts.next().unwrap_or_default();
            let src = parts.next().unwrap_or_default();
            json!([src, table])
        })
        .collect();
    let mut raw = String::from("with\n");
    // What `dbt compile` would write: the same SQL, refs and sources replaced by names
    // the graph knows (the model's name; a source's `source_name.table`).
    let mut compiled = String::from("with\n");
    for (i, p) in m.parents.iter().enumerate() {
        let mut parts = p.rsplit('.');
        let last = parts.next().unwrap_or_default();
        let (from, relation) = if p.starts_with("source.") {
            let src = parts.next().unwrap_or_default();
            (
                format!("{{{{ source('{src}', '{last}') }}}}"),
                format!("{src}.{last}"),
            )
        } else {
            (format!("{{{{ ref('{last}') }}}}"), last.to_string())
        };
        writeln!(raw, "p{i} as (\n    select * from {from}\n),").ok();
        writeln!(compiled, "p{i} as (\n    select * from {relation}\n),").ok();
    }
    let mut tail = String::new();
    tail.push_str("final as (\n    select\n");
    for c in m.cols {
        writeln!(tail, "        p0.{c},").ok();
    }
    tail.push_str("        current_timestamp as _loaded_at\n    from p0\n");
    for i in 1..m.parents.len() {
        writeln!(tail, "    left join p{i} using ({})", m.cols[0]).ok();
    }
    tail.push_str(")\nselect * from final\n");
    raw.push_str(&tail);
    compiled.push_str(&tail);
    let materialized = if rng.chance(30) { "table" } else { "view" };
    let checksum: String = (0..4).map(|_| format!("{:016x}", rng.next())).collect();
    json!({
        "database": "warehouse", "schema": m.dir, "name": m.name, "resource_type": "model",
        "package_name": PROJECT, "path": format!("{}/{}.sql", m.dir, m.name),
        "original_file_path": format!("models/{}/{}.sql", m.dir, m.name), "unique_id": uid,
        "fqn": [PROJECT, m.dir, m.name], "alias": m.name,
        "checksum": {"name": "sha256", "checksum": checksum},
        "config": model_config(materialized, &m.tags, &m.meta),
        "tags": m.tags, "description": format!("{} built from {} upstream relation(s).", m.name, m.parents.len()),
        "columns": columns(m.cols, rng), "meta": m.meta, "group": null,
        "docs": {"show": true, "node_color": null},
        "patch_path": format!("{PROJECT}://models/{}/_{}__models.yml", m.dir, m.dir), "build_path": null,
        "unrendered_config": {"materialized": materialized}, "created_at": 1_795_301_686.418_900_5,
        "relation_name": format!("\"warehouse\".\"{}\".\"{}\"", m.dir, m.name),
        "raw_code": raw, "compiled_code": compiled, "doc_blocks": [], "language": "sql", "refs": refs, "sources": sources,
        "metrics": [], "functions": [],
        "depends_on": {"macros": ["macro.dbt.current_timestamp"], "nodes": m.parents},
        "compiled_path": null, "contract": {"enforced": false, "alias_types": true, "checksum": null},
        "access": "protected", "constraints": [], "version": null, "latest_version": null,
        "deprecation_date": null, "primary_key": [], "time_spine": null
    })
}

/// dbt's `refs` for these unique ids.
fn refs(ids: &[String]) -> Vec<Value> {
    ids.iter()
        .map(|id| json!({"name": id.rsplit('.').next(), "package": null, "version": null}))
        .collect()
}

fn test_json(
    kind: &str,
    model: &str,
    column: &str,
    parents: &[String],
    rng: &mut Rng,
) -> (String, Value) {
    let name = format!("{kind}_{model}_{column}");
    let uid = format!("test.{PROJECT}.{name}.{:010x}", rng.next() >> 24);
    let v = json!({
        "database": "warehouse", "schema": "main_dbt_test__audit", "name": name,
        "resource_type": "test", "package_name": PROJECT, "path": format!("{name}.sql"),
        "original_file_path": "models/schema.yml", "unique_id": uid, "fqn": [PROJECT, name],
        "alias": name, "checksum": {"name": "none", "checksum": ""},
        "config": {"enabled": true, "alias": null, "schema": "dbt_test__audit", "database": null,
            "tags": [], "meta": {}, "group": null, "static_analysis": null, "materialized": "test",
            "severity": "ERROR", "store_failures": null, "store_failures_as": null, "where": null,
            "limit": null, "fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0"},
        "tags": [], "description": "", "columns": {}, "meta": {}, "group": null,
        "docs": {"show": true, "node_color": null}, "patch_path": null, "build_path": null,
        "unrendered_config": {}, "created_at": 1_795_301_559.775_736_3, "relation_name": null,
        "raw_code": format!("{{{{ test_{kind}(**_dbt_generic_test_kwargs) }}}}"), "doc_blocks": [],
        "language": "sql",
        "refs": refs(parents),
        "sources": [], "metrics": [], "functions": [],
        "depends_on": {"macros": [format!("macro.dbt.test_{kind}"), "macro.dbt.get_where_subquery"], "nodes": parents},
        "compiled_path": null, "contract": {"enforced": false, "alias_types": true, "checksum": null},
        "column_name": column, "file_key_name": format!("models.{model}"),
        "attached_node": format!("model.{PROJECT}.{model}"),
        "test_metadata": {
            "name": kind,
            "kwargs": {"column_name": column, "model": format!("{{{{ get_where_subquery(ref('{model}')) }}}}")},
            "namespace": null
        }
    });
    (uid, v)
}

fn source_json(src: &str, table: &str, rng: &mut Rng) -> (String, Value) {
    let uid = format!("source.{PROJECT}.{src}.{table}");
    let cols = column_names(rng, table);
    let v = json!({
        "database": "RAW", "schema": src, "name": table, "resource_type": "source",
        "package_name": PROJECT, "path": format!("models/staging/{src}/_sources.yml"),
        "original_file_path": format!("models/staging/{src}/_sources.yml"), "unique_id": uid,
        "fqn": [PROJECT, "staging", src, src, table], "source_name": src,
        "source_description": format!("Tables loaded by the {src} connector."), "loader": "fivetran",
        "identifier": table, "quoting": {"database": null, "schema": null, "identifier": null, "column": null},
        "loaded_at_field": "_fivetran_synced", "loaded_at_query": null,
        "freshness": {
            "warn_after": {"count": 12, "period": "hour"},
            "error_after": {"count": 24, "period": "hour"},
            "filter": null
        },
        "external": null, "description": format!("Raw {table} rows from {src}."),
        "columns": columns(&cols, rng), "meta": {"owner": format!("ingest-{}", rng.below(10))},
        "source_meta": {}, "tags": [],
        "config": {"enabled": true, "event_time": null, "freshness": null, "loaded_at_field": null,
            "loaded_at_query": null, "meta": {}, "tags": [], "static_analysis": null},
        "patch_path": null, "unrendered_config": {}, "relation_name": format!("RAW.{src}.{table}"),
        "created_at": 1_795_301_690.297_371_1, "unrendered_database": "RAW", "unrendered_schema": src,
        "doc_blocks": []
    });
    (uid, v)
}

/// A manifest of `models` models: returns its JSON and what the graph should hold.
///
/// Long because it writes a whole dbt manifest (sources, models, tests, exposures, the
/// parent and child maps) in one pass, as dbt lays it out: test data, not logic.
fn manifest(models: usize, rng: &mut Rng) -> (Value, Expect) {
    let mut ex = Expect::default();
    let mut nodes = Map::new();
    let mut sources = Map::new();
    let mut exposures = Map::new();
    let mut parent_map: Vec<(String, Vec<String>)> = Vec::new();

    // Sources: one per 10 models, in 25 source systems; seeds: one per 250 models.
    let n_sources = models / 10;
    let mut source_ids = Vec::new();
    for i in 0..n_sources {
        let (uid, v) = source_json(
            &format!("src_{:02}", i % 25),
            &format!("raw_table_{i}"),
            rng,
        );
        sources.insert(uid.clone(), v);
        parent_map.push((uid.clone(), vec![]));
        source_ids.push(uid);
    }
    ex.sources = n_sources;
    let mut seed_ids = Vec::new();
    for i in 0..(models / 250).max(1) {
        let name = format!("seed_lookup_{i}");
        let uid = format!("seed.{PROJECT}.{name}");
        nodes.insert(uid.clone(), json!({
            "database": "warehouse", "schema": "seeds", "name": name, "resource_type": "seed",
            "package_name": PROJECT, "path": format!("{name}.csv"), "original_file_path": format!("seeds/{name}.csv"),
            "unique_id": uid, "fqn": [PROJECT, name], "alias": name,
            "checksum": {"name": "sha256", "checksum": format!("{:016x}", rng.next())},
            "config": {"enabled": true, "materialized": "seed", "tags": [], "meta": {}},
            "tags": [], "description": "", "columns": {}, "meta": {},
            "relation_name": format!("\"warehouse\".\"seeds\".\"{name}\""),
            "depends_on": {"macros": [], "nodes": []}, "root_path": "/project"
        }));
        parent_map.push((uid.clone(), vec![]));
        seed_ids.push(uid);
    }
    ex.seeds = seed_ids.len();

    // Models in 10 layers: staging (one per source), then 9 layers with 1–4 parents each
    // from the previous 1–3 layers, sometimes a seed.
    let per_layer = models / 10;
    let mut layer_of: Vec<Vec<String>> = Vec::new();
    let mut made = 0;
    let mut layer = 0;
    while made < models {
        let size = if layer == 9 {
            models - made
        } else {
            per_layer.min(models - made)
        };
        let (prefix, dir) = match layer {
            0 => ("stg", "staging"),
            1..=3 => ("int", "intermediate"),
            _ => ("fct", "marts"),
        };
        let mut ids = Vec::new();
        for _ in 0..size {
            let name = format!("{prefix}_l{layer}_m{made}");
            let mut parents: Vec<String> = Vec::new();
            if layer == 0 {
                parents.push(source_ids[made % n_sources].clone());
            } else {
                let want = 1 + rng.below(4);
                while parents.len() < want {
                    let back = (1 + rng.below(3)).min(layer);
                    let from = &layer_of[layer - back];
                    let p = from[rng.below(from.len())].clone();
                    if !parents.contains(&p) {
                        parents.push(p);
                    }
                }
                if rng.chance(5) {
                    parents.push(seed_ids[rng.below(seed_ids.len())].clone());
                }
            }
            let cols = column_names(rng, &name);
            let mut meta = Map::new();
            if rng.chance(33) {
                meta.insert("owner".into(), json!(format!("team-{}", rng.below(40))));
            }
            if rng.chance(10) {
                meta.insert("tier".into(), json!(format!("tier{}", 1 + rng.below(3))));
            }
            let tags = if layer >= 4 {
                vec!["marts", "daily"]
            } else {
                vec![dir]
            };
            let spec = ModelSpec {
                name: &name,
                dir,
                parents: &parents,
                cols: &cols,
                meta: Value::Object(meta),
                tags,
            };
            let uid = format!("model.{PROJECT}.{name}");
            nodes.insert(uid.clone(), model_json(&spec, rng));
            parent_map.push((uid.clone(), parents));
            // Two tests: unique on the key, and not_null (every 10th: relationships to a parent model).
            let (t1, v1) = test_json("unique", &name, &cols[0], std::slice::from_ref(&uid), rng);
            nodes.insert(t1.clone(), v1);
            parent_map.push((t1, vec![uid.clone()]));
            let parent_model = (layer > 0 && made.is_multiple_of(10)).then(|| {
                let prev = &layer_of[layer - 1];
                prev[rng.below(prev.len())].clone()
            });
            let (t2, v2, ps) = match parent_model {
                Some(other) => {
                    let ps = vec![uid.clone(), other];
                    let (t, v) = test_json("relationships", &name, &cols[0], &ps, rng);
                    (t, v, ps)
                }
                None => {
                    let ps = vec![uid.clone()];
                    let (t, v) = test_json("not_null", &name, &cols[1], &ps, rng);
                    (t, v, ps)
                }
            };
            nodes.insert(t2.clone(), v2);
            parent_map.push((t2, ps));
            ex.tests += 2;
            ids.push(uid);
            made += 1;
        }
        layer_of.push(ids);
        layer += 1;
    }
    ex.models = models;

    // Exposures on the last two layers.
    for i in 0..50 {
        let name = format!("dashboard_{i}");
        let uid = format!("exposure.{PROJECT}.{name}");
        let mut deps = Vec::new();
        let want = 1 + rng.below(5);
        while deps.len() < want {
            let from = &layer_of[layer_of.len() - 1 - rng.below(2)];
            let p = from[rng.below(from.len())].clone();
            if !deps.contains(&p) {
                deps.push(p);
            }
        }
        let kind = ["dashboard", "ml", "application", "analysis"][i % 4];
        let maturity = ["high", "medium", "low"][i % 3];
        exposures.insert(uid.clone(), json!({
            "name": name, "resource_type": "exposure", "package_name": PROJECT,
            "path": "marts/_exposures.yml", "original_file_path": "models/marts/_exposures.yml",
            "unique_id": uid, "fqn": [PROJECT, "marts", name],
            "type": kind,
            "owner": {"email": format!("owner{i}@example.com"), "name": format!("Owner {i}")},
            "description": "A dashboard.\n", "label": null,
            "maturity": maturity, "meta": {}, "tags": ["looker"],
            "config": {"enabled": true, "tags": ["looker"], "meta": {}}, "unrendered_config": {},
            "url": format!("https://bi.example.com/dashboards/{i}"),
            "depends_on": {"macros": [], "nodes": deps},
            "refs": refs(&deps),
            "sources": [], "metrics": [], "created_at": 1_795_301_686.921_066_8
        }));
        parent_map.push((uid, deps));
        ex.exposures += 1;
    }

    // An on-run-end hook (not lineage: left out by the importer), and macros (ignored).
    nodes.insert(
        format!("operation.{PROJECT}.{PROJECT}-on-run-end-0"),
        json!({"name": format!("{PROJECT}-on-run-end-0"), "resource_type": "operation", "package_name": PROJECT,
            "unique_id": format!("operation.{PROJECT}.{PROJECT}-on-run-end-0"),
            "fqn": [PROJECT, "hooks", "on-run-end-0"],
            "config": {"enabled": true}, "depends_on": {"macros": [], "nodes": []}}),
    );
    let mut macros = Map::new();
    for i in 0..400 {
        let uid = format!("macro.dbt.macro_{i}");
        let sql = format!(
            "{{% macro macro_{i}(relation, column) %}}\n  {{{{ return(adapter.dispatch('macro_{i}', 'dbt')(relation, column)) }}}}\n{{% endmacro %}}\n{}",
            "-- a comment line in the macro body\n".repeat(20)
        );
        macros.insert(uid.clone(), json!({
            "name": format!("macro_{i}"), "resource_type": "macro", "package_name": "dbt",
            "path": format!("macros/m{i}.sql"), "original_file_path": format!("macros/m{i}.sql"),
            "unique_id": uid,
            "macro_sql": sql,
            "depends_on": {"macros": []}, "description": "", "meta": {}, "docs": {"show": true, "node_color": null},
            "patch_path": null, "arguments": [], "created_at": 1_795_301_559.0, "supported_languages": null
        }));
    }

    ex.edges = parent_map.iter().map(|(_, ps)| ps.len()).sum();
    let mut child_map: Map<String, Value> = parent_map
        .iter()
        .map(|(k, _)| (k.clone(), json!([])))
        .collect();
    for (child, ps) in &parent_map {
        for p in ps {
            if let Some(Value::Array(a)) = child_map.get_mut(p) {
                a.push(json!(child));
            }
        }
    }
    let parent_map: Map<String, Value> =
        parent_map.into_iter().map(|(k, v)| (k, json!(v))).collect();
    let m = json!({
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
            "dbt_version": "1.11.16", "generated_at": "2026-11-21T22:52:59.763211Z",
            "invocation_id": "984d4d19-890e-4361-8883-9580dd27d84b", "env": {},
            "project_name": PROJECT, "project_id": "06e5b98c2db46f8a72cc4f66410e9b3b", "user_id": null,
            "send_anonymous_usage_stats": false, "adapter_type": "duckdb",
            "quoting": {"database": true, "schema": true, "identifier": true, "column": null}
        },
        "nodes": nodes, "sources": sources, "macros": macros, "docs": {}, "exposures": exposures,
        "metrics": {}, "groups": {}, "selectors": {}, "disabled": {},
        "parent_map": parent_map, "child_map": child_map, "group_map": {},
        "saved_queries": {}, "semantic_models": {}, "unit_tests": {}, "functions": {}
    });
    (m, ex)
}

fn check_manifest_graph(l: &Lineage, ex: &Expect) {
    let count = |k: NodeKind| l.graph.node_weights().filter(|n| n.kind == k).count();
    assert_eq!(count(NodeKind::Model), ex.models, "models");
    assert_eq!(count(NodeKind::Seed), ex.seeds, "seeds");
    assert_eq!(count(NodeKind::Source), ex.sources, "sources");
    assert_eq!(count(NodeKind::Test), ex.tests, "tests");
    assert_eq!(count(NodeKind::Exposure), ex.exposures, "exposures");
    let nodes = ex.models + ex.seeds + ex.sources + ex.tests + ex.exposures;
    assert_eq!(l.len(), nodes, "nodes");
    assert_eq!(l.graph.edge_count(), ex.edges, "edges");
}

fn manifest_bench(models: usize, rng: &mut Rng) -> bool {
    let (((value, ex), path, size), t_gen) = timed(|| {
        let (value, ex) = manifest(models, rng);
        let path: PathBuf =
            std::env::temp_dir().join(format!("sluice-bench-manifest-{}.json", std::process::id()));
        let file = std::fs::File::create(&path).expect("create the manifest file");
        let mut w = std::io::BufWriter::new(file);
        serde_json::to_writer(&mut w, &value).expect("write the manifest");
        w.flush().expect("write the manifest");
        let size = std::fs::metadata(&path).expect("manifest written").len() as usize;
        ((value, ex), path, size)
    });
    drop(value);
    let nodes = ex.models + ex.seeds + ex.sources + ex.tests + ex.exposures;
    println!(
        "\nmanifest: {} models, {} sources, {} seeds, {} tests, {} exposures, 400 macros",
        thousands(ex.models),
        thousands(ex.sources),
        thousands(ex.seeds),
        thousands(ex.tests),
        thousands(ex.exposures)
    );
    println!(
        "  {} nodes, {} edges in the graph; {} ({}), generated and written in {} (not counted)",
        thousands(nodes),
        thousands(ex.edges),
        mib(size),
        path.display(),
        dur(t_gen)
    );
    let sources = Sources {
        config: None,
        dbt: vec![path.clone()],
        openlineage: vec![],
        partial: Default::default(),
        file_columns: Default::default(),
    };
    let mut times = Vec::new();
    for _ in 0..LOAD_REPS {
        let (l, t) = timed(|| sluice_lineage::load(&sources).expect("load the manifest"));
        check_manifest_graph(&l, &ex);
        drop(l);
        times.push(t);
    }
    // Where the time goes, once: reading the file, parsing it into a fragment, the build.
    let (bytes, t_read) = timed(|| std::fs::read(&path).expect("read the manifest"));
    let (fragment, t_parse) =
        timed(|| dbt::import_bytes(Path::new(&path), &bytes).expect("parse the manifest"));
    let (l, t_build) = timed(|| Lineage::build(vec![fragment], &[]).expect("build"));
    check_manifest_graph(&l, &ex);
    let pass = max(&times) < LOAD_TARGET;
    println!(
        "{:<44} median {:>9}  max {:>9}  {:>24}  target < {} {}",
        format!("load (read + parse + build, {LOAD_REPS} reps)"),
        dur(median(&times)),
        dur(max(&times)),
        "",
        target(LOAD_TARGET),
        verdict(max(&times), LOAD_TARGET)
    );
    println!(
        "  of which: read {}, parse + import {} ({:.0} MiB/s), Lineage::build {}",
        dur(t_read),
        dur(t_parse),
        size as f64 / (1024.0 * 1024.0) / t_parse.as_secs_f64(),
        dur(t_build)
    );
    // Column lineage: built from every model's compiled SQL on the first column question;
    // then the column impact of each source column, walked downstream.
    let (_, t_columns) = timed(|| l.columns().edge_count());
    let roots: Vec<(NodeIndex, String)> = l
        .graph
        .node_indices()
        .filter(|n| l.node(*n).kind == sluice_lineage::NodeKind::Source)
        .flat_map(|n| {
            l.columns()
                .columns_of(n)
                .into_iter()
                .map(move |c| (n, c.to_string()))
        })
        .collect();
    let mut col_times = Vec::new();
    let mut reached = 0;
    for (n, c) in &roots {
        let (ci, t) = timed(|| sluice_lineage::columns::column_impact(&l, *n, c, false, None));
        reached = reached.max(ci.hits.len());
        col_times.push(t);
    }
    let col_pass = !col_times.is_empty() && max(&col_times) < COLUMN_IMPACT_TARGET;
    let col_build_pass = t_columns < COLUMN_BUILD_TARGET;
    println!(
        "{:<44} {:>16}  {:>9}  {:>24}  target < {} {}",
        "column lineage (compiled SQL of every model)",
        dur(t_columns),
        "",
        format!("{} column edges", thousands(l.columns().edge_count())),
        target(COLUMN_BUILD_TARGET),
        verdict(t_columns, COLUMN_BUILD_TARGET)
    );
    println!(
        "{:<44} median {:>9}  max {:>9}  {:>24}  target < {} {}",
        format!("column impact ({} source columns)", roots.len()),
        dur(median(&col_times)),
        dur(max(&col_times)),
        format!("up to {} columns reached", thousands(reached)),
        target(COLUMN_IMPACT_TARGET),
        verdict(max(&col_times), COLUMN_IMPACT_TARGET)
    );
    std::fs::remove_file(&path).ok();
    pass && col_pass && col_build_pass
}

/// Issue 13: column lineage of a 5,000-model manifest builds in under 5 s, and column
/// impact answers in under 100 ms.
const COLUMN_BUILD_TARGET: Duration = Duration::from_secs(5);
const COLUMN_IMPACT_TARGET: Duration = Duration::from_millis(100);

fn main() {
    let a = args();
    let mut rng = Rng::new(a.seed);
    let build = if cfg!(debug_assertions) {
        "DEBUG BUILD: figures are meaningless, use --release"
    } else {
        "release"
    };
    println!("lineage bench ({build}, 1 thread, seed {})", a.seed);

    let (g, t_gen) = timed(|| layered(a.nodes, a.layers, &mut rng));
    let Layered { fragment, start } = g;
    let edges = fragment.edges.len();
    let probe = fragment.nodes[start[a.layers - 1]].id.clone();
    println!(
        "graph: {} nodes, {} edges, {} layers of ~{}",
        thousands(a.nodes),
        thousands(edges),
        a.layers,
        thousands(a.nodes / a.layers)
    );
    println!(
        "  {:<42} {:>9}  (not counted)",
        "generate fragment",
        dur(t_gen)
    );
    let (lineage, t_build) =
        timed(|| Lineage::build(vec![fragment], &[]).expect("build the graph"));
    assert_eq!(lineage.len(), a.nodes);
    assert_eq!(lineage.graph.edge_count(), edges);
    // The build adds nodes in fragment order, so layer ranges are graph index ranges.
    assert_eq!(
        lineage.by_id(&probe),
        Some(NodeIndex::new(start[a.layers - 1]))
    );
    println!(
        "  {:<42} {:>9}  peak RSS {} (VmHWM, fragment included)",
        "Lineage::build",
        dur(t_build),
        peak_rss_text()
    );
    println!();

    let near_roots = pick(&mut rng, 0..start[2], a.roots);
    let near_leaves = pick(&mut rng, start[a.layers - 2]..start[a.layers - 1], a.roots);
    let mut pass = true;
    pass &= impact_group(
        &lineage,
        "downstream, near roots",
        &near_roots,
        Direction::Downstream,
        a.reps,
    );
    pass &= impact_group(
        &lineage,
        "downstream, near leaves",
        &near_leaves,
        Direction::Downstream,
        a.reps,
    );
    pass &= impact_group(
        &lineage,
        "upstream, near leaves",
        &near_leaves,
        Direction::Upstream,
        a.reps,
    );

    // As the CLI does for `sluice impact X --json` (and with `--paths`).
    let root = near_roots[0];
    let opts = ImpactOptions::default();
    let (imp, t_impact) = timed(|| impact(&lineage, root, opts));
    for paths in [false, true] {
        let (value, t_json) =
            timed(|| sluice_lineage::render::impact_json(&lineage, &imp).with_paths(paths));
        let (text, t_string) = timed(|| serde_json::to_string_pretty(&value).expect("serialize"));
        println!(
            "\nimpact --json{}, 1 near-root query ({} hits): impact {}, impact_json {}, to_string_pretty {} ({}); total {}",
            if paths { " --paths" } else { "" },
            thousands(imp.hits.len()),
            dur(t_impact),
            dur(t_json),
            dur(t_string),
            mib(text.len()),
            dur(t_impact + t_json + t_string)
        );
    }
    drop(imp);
    println!("  peak RSS so far {}", peak_rss_text());
    drop(lineage);

    pass &= manifest_bench(a.models, &mut rng);
    println!(
        "\n{}",
        if pass {
            "all targets met"
        } else {
            "SOME TARGETS MISSED"
        }
    );
}
