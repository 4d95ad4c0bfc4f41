//! `sluice publish X`: write–audit–publish on the local filesystem.
//!
//! Layout, for a dataset with `path: published/forecast/` and `staging: staging/forecast/`:
//!
//! ```text
//! published/forecast            -> .forecast.versions/v3   (a symbolic link)
//! published/.forecast.versions/ v1/ v2/ v3/                (whole versions, side by side)
//! quarantine/forecast/<run_id>/ the staged data that failed, with report.json
//! ```
//!
//! Publishing moves the staged folder to `vN` (a rename: same filesystem), then points
//! `path` at it by renaming a new link over the old one — atomic, so readers of `path` see
//! the old version or the new one, never a mix. The state store records the intent before
//! the switch and the outcome after it; a crash at any instant leaves `path` on one whole
//! version, and the next publish finishes or undoes what was in flight (`recover`).
//! Nothing is deleted except versions beyond `keep_versions`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::anyhow;
use chrono::{Duration, Utc};
use sluice_breaker::Store;
use sluice_engine::{RunOptions, RunStatus};
use sluice_spec::{Config, Dataset};

use crate::breaker::{known, open_store, print, store_fail, verdict};
use crate::cli::PublishArgs;
use crate::{Exit, code, fail, load_config};

/// A crash-safety test hook: when `SLUICE_FAULT` names this point the process aborts there
/// (like a SIGKILL, no destructor runs and nothing is flushed); with `<point>:pause` it
/// says so on stderr and waits, for the test to SIGKILL it.
fn fault(point: &str) {
    let Ok(f) = std::env::var("SLUICE_FAULT") else {
        return;
    };
    if f == point {
        eprintln!("fault injected at {point}");
        std::process::abort();
    }
    if f.strip_suffix(":pause") == Some(point) {
        eprintln!("paused at {point}");
        std::thread::sleep(std::time::Duration::from_secs(600));
    }
}

/// The published path, its versions folder, and the name of the link.
struct Layout {
    path: PathBuf,
    versions: PathBuf,
    parent: PathBuf,
    name: String,
}

impl Layout {
    fn of(ds: &Dataset) -> Layout {
        let path = ds.location.clone();
        let parent = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Layout {
            versions: parent.join(format!(".{name}.versions")),
            path,
            parent,
            name,
        }
    }

    /// The version `path` points at now (`None`: not a link into our versions).
    fn current(&self) -> Option<String> {
        let target = std::fs::read_link(&self.path).ok()?;
        let rel = target
            .strip_prefix(format!(".{}.versions", self.name))
            .ok()?;
        rel.components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
    }

    /// The versions on disk, oldest first.
    fn versions(&self) -> Vec<(u64, String)> {
        let mut v: Vec<(u64, String)> = std::fs::read_dir(&self.versions)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_prefix('v')?.parse::<u64>().ok().map(|k| (k, n))
            })
            .collect();
        v.sort();
        v
    }

    /// Points `path` at `version` atomically (a new link renamed over the old one).
    fn switch(&self, version: &str, file: Option<&str>) -> std::io::Result<()> {
        let mut target = PathBuf::from(format!(".{}.versions", self.name)).join(version);
        if let Some(f) = file {
            target.push(f);
        }
        let tmp = self
            .parent
            .join(format!(".{}.link-{}", self.name, std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&target, &tmp)?;
        fault("publish:before-switch");
        std::fs::rename(&tmp, &self.path)?;
        sync_dir(&self.parent)
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Whether a staged path holds something to publish.
fn staged(p: &Path) -> bool {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => std::fs::read_dir(p)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false),
        Ok(m) => m.is_file(),
        Err(_) => false,
    }
}

fn holder() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// A lock holder on this host whose process is gone (killed mid-publish).
fn gone(h: &str) -> bool {
    let me = holder();
    let (host, pid) = h.rsplit_once(':').unwrap_or((h, ""));
    let my_host = me.rsplit_once(':').map(|x| x.0).unwrap_or("");
    host == my_host && !Path::new(&format!("/proc/{pid}")).exists()
}

/// `sluice publish X [--rollback [--to V]]`.
pub fn publish(args: &PublishArgs, quiet: bool, color: bool) -> Result<u8, Exit> {
    let config = load_config(&args.config, color)?;
    known(&config, &args.dataset, color)?;
    let ds = config.dataset(&args.dataset).expect("known");
    let Some(staging) = ds.staging.clone() else {
        return Err(fail(
            anyhow!(
                "dataset `{}` has no `staging:`: add the folder its producing job writes to, e.g. `staging: staging/{}/`; `sluice publish` checks it there and promotes it to `path: {}`",
                ds.name,
                ds.name,
                ds.path
            ),
            code::INVALID,
            color,
        ));
    };
    let mut store = open_store(&config, color)?;
    let me = holder();
    let lock = format!("publish:{}", ds.name);
    let deadline = std::time::Instant::now() + args.wait;
    loop {
        let now = Utc::now();
        let held = store
            .write(|tx| tx.try_lock(&lock, &me, now, now + Duration::minutes(30), gone))
            .map_err(|e| store_fail(e, color))?;
        match held {
            None => break,
            Some((h, since)) if std::time::Instant::now() >= deadline => {
                return Err(fail(
                    anyhow!(
                        "`{}` is being published by {h} since {}; wait for it (--wait 5m) or try again",
                        ds.name,
                        since.format("%Y-%m-%dT%H:%M:%SZ")
                    ),
                    code::RUNTIME,
                    color,
                ));
            }
            Some(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    }
    let result = locked(&mut store, &config, ds, &staging, args, quiet, color);
    let _ = store.write(|tx| tx.unlock(&lock, &me));
    result
}

fn locked(
    store: &mut Store,
    config: &Config,
    ds: &Dataset,
    staging: &Path,
    args: &PublishArgs,
    quiet: bool,
    color: bool,
) -> Result<u8, Exit> {
    let layout = Layout::of(ds);
    let by = sluice_breaker::actor(args.by.as_deref());
    let io =
        |what: String| move |e: std::io::Error| fail(anyhow!("{what}: {e}"), code::RUNTIME, color);
    recover(store, config, ds, &layout, staging, &by, color)?;
    if args.rollback {
        return rollback(store, ds, &layout, args.to.as_deref(), &by, color);
    }
    // 1. May it publish at all?
    let (may, text, _) = verdict(store, config, &ds.name, color)?;
    if !may {
        print(&text);
        return Ok(code::BLOCKED);
    }
    // 2. Is anything staged?
    if !staged(staging) {
        return Err(fail(
            anyhow!(
                "nothing staged for `{}` at {} (missing or empty); the producing job writes there before `sluice publish`",
                ds.name,
                staging.display()
            ),
            code::RUNTIME,
            color,
        ));
    }
    // 3. Its checks, on the staged data.
    let mut staged_config = config.clone();
    if let Some(d) = staged_config
        .datasets
        .iter_mut()
        .find(|d| d.name == ds.name)
    {
        d.location = staging.to_path_buf();
        d.path = staging.display().to_string();
    }
    let opts = RunOptions {
        datasets: vec![ds.name.clone()],
        stage: None,
        diff_output: None,
        now: Utc::now(),
        memory_limit: None,
        target_partitions: None,
        progress: None::<Arc<sluice_engine::Progress>>,
    };
    let report = crate::run_checks(&staged_config, &opts, None, color)?;
    crate::breaker::record(store, config, &report, quiet, color)?;
    fault("publish:checked");
    let rendered = crate::render::json::render(&report);
    let file = (!staging.is_dir())
        .then(|| {
            staging
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .flatten();
    if !matches!(report.status, RunStatus::Passed | RunStatus::Warned) {
        // 4b. Quarantine: the staged data and its report, under the run id.
        let dest = config.quarantine.join(&ds.name).join(&report.run_id);
        std::fs::create_dir_all(&dest).map_err(io(format!("cannot create {}", dest.display())))?;
        let moved = match &file {
            Some(f) => dest.join(f),
            None => dest.join("data"),
        };
        std::fs::rename(staging, &moved).map_err(io(format!(
            "cannot move {} to {}",
            staging.display(),
            moved.display()
        )))?;
        fault("publish:quarantined");
        if file.is_none() {
            let _ = std::fs::create_dir_all(staging);
        }
        crate::write_atomically(&dest.join("report.json"), rendered.as_bytes())
            .map_err(|e| fail(e, code::RUNTIME, color))?;
        store
            .write(|tx| {
                tx.publication(
                    &ds.name,
                    "quarantine",
                    &report.run_id,
                    "done",
                    Some(&report.run_id),
                    Utc::now(),
                    &by,
                    &format!("checks {}", report.status.as_str()),
                )
                .map(drop)
            })
            .map_err(|e| store_fail(e, color))?;
        let mut out = crate::render::text::render(&report, &crate::render::Style { color: false });
        writeln!(
            out,
            "\nnot published: {} quarantined at {} (with report.json); its breaker is open",
            ds.name,
            dest.display()
        )
        .ok();
        print(&out);
        return Ok(if report.status == RunStatus::Error {
            code::RUNTIME
        } else {
            code::FAILED
        });
    }
    // 4a. Promote: move the staged data to a new version, record the intent, switch.
    let next = layout.versions().last().map_or(1, |(n, _)| n + 1);
    let version = format!("v{next}");
    std::fs::create_dir_all(&layout.versions)
        .map_err(io(format!("cannot create {}", layout.versions.display())))?;
    let id = store
        .write(|tx| {
            tx.publication(
                &ds.name,
                "publish",
                &version,
                "pending",
                Some(&report.run_id),
                Utc::now(),
                &by,
                "checks passed",
            )
        })
        .map_err(|e| store_fail(e, color))?;
    fault("publish:before-move");
    let vdir = layout.versions.join(&version);
    match &file {
        Some(f) => {
            std::fs::create_dir_all(&vdir)
                .map_err(io(format!("cannot create {}", vdir.display())))?;
            std::fs::rename(staging, vdir.join(f))
        }
        None => std::fs::rename(staging, &vdir),
    }
    .map_err(io(format!(
        "cannot move {} to {}",
        staging.display(),
        vdir.display()
    )))?;
    sync_dir(&layout.versions).map_err(io("cannot sync the versions folder".into()))?;
    fault("publish:moved");
    adopt_existing(store, ds, &layout, &by, color)?;
    layout
        .switch(&version, file.as_deref())
        .map_err(io(format!(
            "cannot point {} at {version}",
            layout.path.display()
        )))?;
    fault("publish:switched");
    store
        .write(|tx| tx.set_publication_status(id, "done"))
        .map_err(|e| store_fail(e, color))?;
    if file.is_none() {
        let _ = std::fs::create_dir_all(staging);
    }
    let removed = retain(&layout, ds.keep_versions);
    let mut out = String::new();
    writeln!(
        out,
        "published {} {version} (run {}): {} now points at {}",
        ds.name,
        report.run_id,
        layout.path.display(),
        vdir.display()
    )
    .ok();
    if !removed.is_empty() {
        writeln!(
            out,
            "retention (keep_versions: {}): removed {}",
            ds.keep_versions,
            removed.join(", ")
        )
        .ok();
    }
    print(&out);
    Ok(code::PASSED)
}

/// A `path` that is a real file or folder (published before sluice managed it) becomes
/// version `v0`; this one rename is the only moment `path` is missing, once per dataset.
fn adopt_existing(
    store: &mut Store,
    ds: &Dataset,
    layout: &Layout,
    by: &str,
    color: bool,
) -> Result<(), Exit> {
    let Ok(meta) = std::fs::symlink_metadata(&layout.path) else {
        return Ok(());
    };
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let v0 = layout.versions.join("v0");
    let dest = if meta.is_dir() {
        v0.clone()
    } else {
        v0.join(&layout.name)
    };
    if !meta.is_dir() {
        std::fs::create_dir_all(&v0).map_err(|e| {
            fail(
                anyhow!("cannot create {}: {e}", v0.display()),
                code::RUNTIME,
                color,
            )
        })?;
    }
    std::fs::rename(&layout.path, &dest).map_err(|e| {
        fail(
            anyhow!(
                "cannot keep the existing {} as v0: {e}",
                layout.path.display()
            ),
            code::RUNTIME,
            color,
        )
    })?;
    store
        .write(|tx| {
            tx.publication(
                &ds.name,
                "adopt",
                "v0",
                "done",
                None,
                Utc::now(),
                by,
                "what was at path before sluice published it",
            )
            .map(drop)
        })
        .map_err(|e| store_fail(e, color))
}

/// Removes versions beyond `keep` (never the current one); returns their names.
fn retain(layout: &Layout, keep: u32) -> Vec<String> {
    let current = layout.current();
    let versions = layout.versions();
    let excess = versions.len().saturating_sub(keep as usize);
    let mut removed = Vec::new();
    for (_, name) in versions.into_iter().take(excess) {
        if Some(&name) == current.as_ref() {
            continue;
        }
        if std::fs::remove_dir_all(layout.versions.join(&name)).is_ok() {
            removed.push(name);
        }
    }
    removed
}

/// Finishes or undoes a publish a crash interrupted: a pending version that `path` points
/// at was published; one that is on disk but not pointed at goes back to staging (or to
/// quarantine if something new is staged); one never moved needs nothing.
fn recover(
    store: &mut Store,
    config: &Config,
    ds: &Dataset,
    layout: &Layout,
    staging: &Path,
    by: &str,
    color: bool,
) -> Result<(), Exit> {
    let pending: Vec<sluice_breaker::store::Publication> = store
        .write(|tx| tx.publications(&ds.name))
        .map_err(|e| store_fail(e, color))?
        .into_iter()
        .filter(|p| p.status == "pending")
        .collect();
    // Links half made by a killed switch.
    if let Ok(entries) = std::fs::read_dir(&layout.parent) {
        let prefix = format!(".{}.link-", layout.name);
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let current = layout.current();
    for p in pending {
        let vdir = layout.versions.join(&p.version);
        let (status, note) = if current.as_deref() == Some(p.version.as_str()) {
            (
                "done",
                format!(
                    "{} was switched to before an interruption; recorded as published",
                    p.version
                ),
            )
        } else if vdir.exists() {
            let back = if !staged(staging) {
                let _ = std::fs::remove_dir(staging);
                staging.to_path_buf()
            } else {
                config
                    .quarantine
                    .join(&ds.name)
                    .join(format!("recovered-{}", p.version))
            };
            if let Some(parent) = back.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            // A file dataset's version folder holds the one file, under the staged name.
            let inner = staging.file_name().map(|n| vdir.join(n));
            let (from, back) = match inner {
                Some(f) if f.is_file() && back != staging => {
                    let _ = std::fs::create_dir_all(&back);
                    let name = f.file_name().map(|n| back.join(n)).unwrap_or(back);
                    (f, name)
                }
                Some(f) if f.is_file() => (f, back),
                _ => (vdir.clone(), back),
            };
            std::fs::rename(&from, &back).map_err(|e| {
                fail(
                    anyhow!(
                        "recovering {}: cannot move {} back to {}: {e}",
                        ds.name,
                        from.display(),
                        back.display()
                    ),
                    code::RUNTIME,
                    color,
                )
            })?;
            let _ = std::fs::remove_dir(&vdir);
            (
                "failed",
                format!(
                    "{} was moved but never switched to; moved back to {}",
                    p.version,
                    back.display()
                ),
            )
        } else {
            (
                "failed",
                format!(
                    "{} was interrupted before its data moved; still staged",
                    p.version
                ),
            )
        };
        store
            .write(|tx| {
                tx.set_publication_status(p.id, status)?;
                tx.publication(
                    &ds.name,
                    "recover",
                    &p.version,
                    "done",
                    p.run_id.as_deref(),
                    Utc::now(),
                    by,
                    &note,
                )
                .map(drop)
            })
            .map_err(|e| store_fail(e, color))?;
        eprintln!("recovered an interrupted publish of {}: {note}", ds.name);
    }
    Ok(())
}

/// Points `path` back at an earlier version (the one before the current, or `to`).
fn rollback(
    store: &mut Store,
    ds: &Dataset,
    layout: &Layout,
    to: Option<&str>,
    by: &str,
    color: bool,
) -> Result<u8, Exit> {
    let versions = layout.versions();
    let current = layout.current();
    let target = match to {
        Some(v) => {
            if !versions.iter().any(|(_, n)| n == v) {
                let have: Vec<&str> = versions.iter().map(|(_, n)| n.as_str()).collect();
                return Err(fail(
                    anyhow!(
                        "`{}` has no version {v}; it has: {}",
                        ds.name,
                        if have.is_empty() {
                            "none".into()
                        } else {
                            have.join(", ")
                        }
                    ),
                    code::INVALID,
                    color,
                ));
            }
            v.to_string()
        }
        None => {
            let pos = versions
                .iter()
                .position(|(_, n)| Some(n) == current.as_ref());
            match pos.and_then(|p| p.checked_sub(1)) {
                Some(p) => versions[p].1.clone(),
                None => {
                    return Err(fail(
                        anyhow!(
                            "`{}` has no version before {} to roll back to",
                            ds.name,
                            current.as_deref().unwrap_or("the current one")
                        ),
                        code::INVALID,
                        color,
                    ));
                }
            }
        }
    };
    let file = std::fs::read_link(&layout.path)
        .ok()
        .and_then(|t| {
            (t.components().count() > 2)
                .then(|| t.file_name().map(|f| f.to_string_lossy().into_owned()))
        })
        .flatten();
    layout.switch(&target, file.as_deref()).map_err(|e| {
        fail(
            anyhow!("cannot point {} at {target}: {e}", layout.path.display()),
            code::RUNTIME,
            color,
        )
    })?;
    let reason = format!(
        "rolled back from {}",
        current.as_deref().unwrap_or("nothing")
    );
    store
        .write(|tx| {
            tx.publication(
                &ds.name,
                "rollback",
                &target,
                "done",
                None,
                Utc::now(),
                by,
                &reason,
            )
            .map(drop)
        })
        .map_err(|e| store_fail(e, color))?;
    print(&format!(
        "{}: {} now points at {target} ({reason})\n",
        ds.name,
        layout.path.display()
    ));
    Ok(code::PASSED)
}
