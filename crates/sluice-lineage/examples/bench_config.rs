//! Config benchmark: what `sluice validate` costs on a large `sluice.yaml`, by size.
//!
//! ```text
//! cargo run -p sluice-lineage --example bench_config                 # 2.5, 5 and 10 MB
//! cargo run -p sluice-lineage --example bench_config -- 2.5 5 10 50  # sizes in MB
//! ```
//!
//! For each size, a config is generated in memory the way a large generated config looks:
//! datasets with an owner, a tier, a key and five or six checks (`not_null` on two columns,
//! `unique`, `range`, `accepted_values`, `references` to the previous dataset), a `parity:`
//! on every tenth; a stage per two datasets; an exposure per twenty. About 360 bytes per
//! dataset: 10 MB is ~23,000 datasets, 50 MB ~117,000. Then it is validated as `sluice
//! validate` does — [`sluice_spec::load_str`] (`spec`: YAML, decoding, every cross-check),
//! then [`sluice_lineage::load`] (`lineage`: the graph) — 3 times (`yaml` is the YAML tree
//! alone, a part of `spec`), and the medians are printed with the
//! time per MB and the ratio to the previous size: near-linear loading keeps the ratio near
//! the size ratio (2 for doubling sizes). Everything runs on one thread; `cpu` is the
//! process's CPU time for the same work (on a shared machine wall time includes waiting).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use sluice_lineage::Sources;
use sluice_spec::Vars;

/// A config of about `bytes` bytes (see the module docs for its shape).
fn config(bytes: usize) -> (String, usize) {
    let mut text = String::from("version: 1\ndefaults:\n  severity: error\ndatasets:\n");
    let mut n: usize = 0;
    while text.len() < bytes * 85 / 100 {
        let d = format!("ds_{n:06}");
        write!(
            text,
            "  {d}:\n    path: data/{d}.parquet\n    owner: team-{}\n    tier: {}\n    key: [id]\n    checks:\n      - not_null: [id, customer_id]\n      - unique: id\n      - range: {{ column: amount, min: 0, max: 100000 }}\n      - accepted_values: {{ column: status, values: [placed, shipped, returned] }}\n",
            n % 50,
            1 + n % 3
        )
        .unwrap();
        if n > 0 {
            writeln!(
                text,
                "      - references: {{ column: parent_id, dataset: ds_{:06} }}",
                n - 1
            )
            .unwrap();
        }
        if n % 10 == 5 {
            writeln!(
                text,
                "    parity:\n      - against: ds_{:06}\n        row_count: {{ tolerance_pct: 1 }}",
                n - 1
            )
            .unwrap();
        }
        n += 1;
    }
    text.push_str("stages:\n");
    for j in (0..n.saturating_sub(1)).step_by(2) {
        writeln!(
            text,
            "  st_{j:06}:\n    inputs: [ds_{j:06}]\n    outputs: [ds_{:06}]\n    owner: eng",
            j + 1
        )
        .unwrap();
    }
    text.push_str("exposures:\n");
    for j in (0..n).step_by(20) {
        writeln!(
            text,
            "  ex_{j:06}:\n    depends_on: [ds_{j:06}, ds_{:06}]\n    owner: bi\n    tier: 1",
            (j + 7).min(n - 1)
        )
        .unwrap();
    }
    (text, n)
}

/// CPU time of this process so far (user + system), from `/proc/self/stat`; `None` off Linux.
/// On a shared machine, wall time includes waiting for a core; CPU time does not.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux we run on.
    Some(Duration::from_millis(ticks * 10))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let sizes: Vec<f64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("sizes are numbers of MB, e.g. 2.5 5 10"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![2.5, 5.0, 10.0]
    } else {
        sizes
    };
    let path = Path::new("/nonexistent/sluice.yaml");
    let vars = Vars::isolated(Default::default());
    println!(
        "{:>8} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10} {:>9} {:>7}",
        "MB", "datasets", "yaml", "spec", "lineage", "total", "cpu", "s/MB", "ratio"
    );
    let mut previous: Option<Duration> = None;
    for mb in sizes {
        let (text, datasets) = config((mb * 1e6) as usize);
        let size = text.len();
        let (mut spec, mut lineage, mut total, mut cpu) = (vec![], vec![], vec![], vec![]);
        let mut yaml = vec![];
        for _ in 0..3 {
            // The YAML tree alone (part of `spec`).
            let t = Instant::now();
            let file = sluice_spec::SourceFile::new(path, text.clone());
            let tree = sluice_spec::yaml::parse(&file, &vars, &mut Vec::new());
            yaml.push(t.elapsed());
            assert!(tree.is_some());
            drop((tree, file));

            let c0 = cpu_time();
            let t0 = Instant::now();
            let cfg = sluice_spec::load_str(path, text.clone(), &vars).expect("valid config");
            let t1 = Instant::now();
            let graph =
                sluice_lineage::load(&Sources::new(Some(&cfg), &[], &[])).expect("lineage builds");
            let t2 = Instant::now();
            let c1 = cpu_time();
            assert!(graph.graph.node_count() >= datasets);
            spec.push(t1 - t0);
            lineage.push(t2 - t1);
            total.push(t2 - t0);
            drop(graph);
            drop(cfg);
            if let (Some(c0), Some(c1)) = (c0, c1) {
                cpu.push(c1 - c0);
            }
        }
        let total = median(total);
        let cpu = if cpu.is_empty() {
            "-".to_string()
        } else {
            format!("{:.2}s", median(cpu).as_secs_f64())
        };
        println!(
            "{:>8.2} {:>9} {:>9.2}s {:>9.2}s {:>9.2}s {:>9.2}s {:>10} {:>9.3} {:>7}",
            size as f64 / 1e6,
            datasets,
            median(yaml).as_secs_f64(),
            median(spec).as_secs_f64(),
            median(lineage).as_secs_f64(),
            total.as_secs_f64(),
            cpu,
            total.as_secs_f64() / (size as f64 / 1e6),
            previous.map_or("-".into(), |p| format!(
                "{:.2}",
                total.as_secs_f64() / p.as_secs_f64()
            )),
        );
        previous = Some(total);
    }
}
