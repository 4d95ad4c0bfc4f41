//! A bounded load test of a running `sluice serve`: many concurrent clients on loopback,
//! each with its own keep-alive connection, mixing page reads, API reads and impact
//! queries for a fixed time; then a table of requests, errors and latency percentiles per
//! request type. Any answer that is not a 2xx is an error (its status and the start of its
//! body are shown); an answer mentioning "database is locked" is counted apart, since it
//! means a busy state store leaked to a client. Exits 1 on any error.
//!
//! ```text
//! cargo run --release --example load -- --url http://127.0.0.1:18291 \
//!     --clients 200 --seconds 30 --impact-paths impact.txt
//! ```
//!
//! Options (defaults in brackets): `--url` [http://127.0.0.1:8080], `--clients` [200],
//! `--seconds` [30], `--impact-paths FILE`: request paths for the impact queries, one a
//! line (`/api/impact/NODE?depth=2`); without it, impact queries ask about the config's
//! datasets. `--seed` [1].
//!
//! `bench/serve_load.sh` builds a large lineage graph, starts the server, runs CLI
//! `sluice check` in a loop against the same state store, and runs this.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The kinds of request, and how often each is made (out of 100).
const MIX: [(&str, u32); 7] = [
    ("page GET /", 15),
    ("GET /api/datasets", 15),
    ("GET /api/datasets/{name}", 15),
    ("GET /api/runs", 10),
    ("GET /api/breakers", 5),
    ("GET /metrics", 5),
    ("GET /api/impact/{node}", 35),
];

struct Args {
    url: String,
    clients: usize,
    seconds: u64,
    impact_paths: Option<String>,
    seed: u64,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:8080".into(),
        clients: 200,
        seconds: 30,
        impact_paths: None,
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| panic!("{flag} needs a value (try --help)"))
        };
        match flag.as_str() {
            "--url" => a.url = value().trim_end_matches('/').to_string(),
            "--clients" => a.clients = value().parse().expect("--clients N"),
            "--seconds" => a.seconds = value().parse().expect("--seconds N"),
            "--impact-paths" => a.impact_paths = Some(value()),
            "--seed" => a.seed = value().parse().expect("--seed N"),
            "--help" | "-h" => {
                println!(
                    "usage: load [--url URL] [--clients N] [--seconds N] [--impact-paths FILE] [--seed N]"
                );
                std::process::exit(0);
            }
            other => panic!("unknown option {other} (try --help)"),
        }
    }
    assert!(
        a.clients >= 1 && a.seconds >= 1,
        "--clients and --seconds must be at least 1"
    );
    a
}

/// A small xorshift generator: the mix needs no more.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What one client saw, per request type.
#[derive(Default)]
struct Tally {
    /// Latency of each answered request, in microseconds.
    micros: Vec<u64>,
    errors: u64,
    locked: u64,
    bytes: u64,
    /// The first few errors, for the report.
    samples: Vec<String>,
}

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::config::Config::builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_idle_connections_per_host(1)
            .build(),
    )
}

/// One GET: its status and body (read whole: a client pays for the bytes too).
fn get(agent: &ureq::Agent, url: &str) -> Result<(u16, Vec<u8>), String> {
    let mut r = agent.get(url).call().map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let mut body = Vec::new();
    r.body_mut()
        .as_reader()
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    Ok((status, body))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let a = args();
    let setup = agent(Duration::from_secs(900));
    let base = a.url.clone();

    // The datasets, and the first graph build (the server builds it on first use).
    let t = Instant::now();
    let (status, body) = get(&setup, &format!("{base}/api/lineage?limit=1"))
        .unwrap_or_else(|e| panic!("cannot reach {base}: {e}"));
    assert_eq!(
        status,
        200,
        "GET /api/lineage: {}",
        String::from_utf8_lossy(&body)
    );
    let graph: serde_json::Value = serde_json::from_slice(&body).expect("lineage JSON");
    println!(
        "graph: {} nodes; first GET /api/lineage?limit=1 (builds and caches the graph): {:.2} s",
        graph["total"],
        t.elapsed().as_secs_f64()
    );
    let (_, body) = get(&setup, &format!("{base}/api/datasets")).expect("GET /api/datasets");
    let list: serde_json::Value = serde_json::from_slice(&body).expect("datasets JSON");
    let datasets: Vec<String> = list["datasets"]
        .as_array()
        .expect("datasets")
        .iter()
        .filter_map(|d| d["dataset"].as_str().map(str::to_string))
        .collect();
    assert!(!datasets.is_empty(), "the config has no datasets");
    let impact: Vec<String> = match &a.impact_paths {
        Some(f) => std::fs::read_to_string(f)
            .unwrap_or_else(|e| panic!("cannot read {f}: {e}"))
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        None => datasets
            .iter()
            .map(|d| format!("/api/impact/{d}"))
            .collect(),
    };
    assert!(!impact.is_empty(), "no impact paths");
    // Page reads only when this build serves the dashboard.
    let (page_status, _) = get(&setup, &format!("{base}/")).expect("GET /");
    let mix: Vec<(&str, u32)> = MIX
        .iter()
        .copied()
        .filter(|(k, _)| page_status != 404 || !k.starts_with("page"))
        .collect();
    if page_status == 404 {
        println!(
            "note: GET / is 404 in this build (no dashboard yet): page reads left out of the mix"
        );
    }
    let weight: u32 = mix.iter().map(|(_, w)| w).sum();

    let shared = Arc::new((datasets, impact, mix));
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let started = Instant::now();
    let mut handles = Vec::with_capacity(a.clients);
    for c in 0..a.clients {
        let shared = Arc::clone(&shared);
        let base = base.clone();
        let seed = a.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (c as u64 + 1);
        let h = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || {
                let (datasets, impact, mix) = &*shared;
                let agent = agent(Duration::from_secs(120));
                let mut rng = Rng(seed | 1);
                let mut tally: BTreeMap<&'static str, Tally> = BTreeMap::new();
                while Instant::now() < deadline {
                    let mut roll = (rng.next() % u64::from(weight)) as u32;
                    let kind = mix
                        .iter()
                        .find(|(_, w)| {
                            if roll < *w {
                                true
                            } else {
                                roll -= w;
                                false
                            }
                        })
                        .map(|(k, _)| *k)
                        .expect("a kind");
                    let path = match kind {
                        "page GET /" => "/".to_string(),
                        "GET /api/datasets" => "/api/datasets".into(),
                        "GET /api/datasets/{name}" => {
                            format!("/api/datasets/{}", datasets[rng.below(datasets.len())])
                        }
                        "GET /api/runs" => "/api/runs?limit=20".into(),
                        "GET /api/breakers" => "/api/breakers".into(),
                        "GET /metrics" => "/metrics".into(),
                        _ => impact[rng.below(impact.len())].clone(),
                    };
                    let t = Instant::now();
                    let r = get(&agent, &format!("{base}{path}"));
                    let us = t.elapsed().as_micros() as u64;
                    let e = tally.entry(kind).or_default();
                    match r {
                        Ok((s, body)) if (200..300).contains(&s) => {
                            e.micros.push(us);
                            e.bytes += body.len() as u64;
                        }
                        Ok((s, body)) => {
                            let text =
                                String::from_utf8_lossy(&body[..body.len().min(300)]).to_string();
                            e.errors += 1;
                            if text.contains("database is locked") || text.contains("busy") {
                                e.locked += 1;
                            }
                            if e.samples.len() < 3 {
                                e.samples.push(format!("{s} {path}: {text}"));
                            }
                        }
                        Err(err) => {
                            e.errors += 1;
                            if e.samples.len() < 3 {
                                e.samples.push(format!("{path}: {err}"));
                            }
                        }
                    }
                }
                tally
            })
            .expect("a client thread");
        handles.push(h);
    }
    let mut all: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for h in handles {
        for (k, t) in h.join().expect("a client") {
            let e = all.entry(k).or_default();
            e.micros.extend(t.micros);
            e.errors += t.errors;
            e.locked += t.locked;
            e.bytes += t.bytes;
            e.samples
                .extend(t.samples.into_iter().take(3 - e.samples.len().min(3)));
        }
    }
    let wall = started.elapsed().as_secs_f64();

    println!("\n{} clients, {:.1} s, {}\n", a.clients, wall, base);
    println!("| request | count | errors | locked | req/s | p50 ms | p99 ms | max ms | mean KiB |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let (mut total, mut errors, mut locked) = (0u64, 0u64, 0u64);
    let mut every: Vec<u64> = Vec::new();
    for (k, t) in &mut all {
        t.micros.sort_unstable();
        let n = t.micros.len() as u64 + t.errors;
        total += n;
        errors += t.errors;
        locked += t.locked;
        every.extend(&t.micros);
        println!(
            "| {k} | {n} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} |",
            t.errors,
            t.locked,
            n as f64 / wall,
            percentile(&t.micros, 0.50),
            percentile(&t.micros, 0.99),
            percentile(&t.micros, 1.0),
            t.bytes as f64 / 1024.0 / (t.micros.len().max(1) as f64),
        );
    }
    every.sort_unstable();
    println!(
        "| **all** | {total} | {errors} | {locked} | {:.0} | {:.1} | {:.1} | {:.1} | |",
        total as f64 / wall,
        percentile(&every, 0.50),
        percentile(&every, 0.99),
        percentile(&every, 1.0),
    );
    for (k, t) in &all {
        for s in &t.samples {
            println!("error ({k}): {s}");
        }
    }
    if errors > 0 {
        eprintln!(
            "load: {errors} of {total} requests failed ({locked} with a busy or locked store)"
        );
        std::process::exit(1);
    }
}
