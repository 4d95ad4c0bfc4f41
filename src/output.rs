//! Where results go. Stdout: a reader that leaves (`sluice ... | head`) ends the command
//! quietly, any other failed write (a full disk, `> /dev/full`) is an error (exit 4).
//! `--output FILE`: only a regular file or a new path, written atomically; anything else
//! (a folder, a device, a symbolic link, a pipe) is refused before anything runs.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::Usage;

/// Writes `text` to stdout. A closed pipe is not an error.
pub fn stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to stdout")),
        Ok(()) => Ok(()),
    }
}

/// Writes a line to stderr (messages beside the results: breaker transitions, warnings).
/// A stderr that cannot be written is ignored: the results and the exit code still count.
pub fn note(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// Refuses an `--output` path that exists and is not a regular file (a folder, a device,
/// a symbolic link, a pipe). Called before a command runs, so nothing is run for nothing.
pub fn check_target(path: &Path) -> Result<(), Usage> {
    let what = match std::fs::symlink_metadata(path) {
        // A new path: its folder's problems (missing, read-only) show when it is written.
        Err(_) => return Ok(()),
        Ok(m) => {
            let t = m.file_type();
            if t.is_file() {
                return Ok(());
            }
            use std::os::unix::fs::FileTypeExt;
            if t.is_symlink() {
                "a symbolic link"
            } else if t.is_dir() {
                "a folder"
            } else if t.is_char_device() || t.is_block_device() {
                "a device"
            } else if t.is_fifo() {
                "a named pipe"
            } else if t.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            }
        }
    };
    Err(Usage(format!(
        "--output {} is {what}; sluice writes reports only to regular files or new paths (it replaces the file atomically); give a file path, or pipe stdout instead",
        path.display()
    )))
}

/// Writes `bytes` to `path` atomically, after checking the target again.
pub fn file(path: &Path, bytes: &[u8], what: &str) -> anyhow::Result<()> {
    check_target(path)?;
    sluice_app::write_atomically(path, bytes).with_context(|| format!("{what} {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_written_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "old").unwrap();
        file(&path, b"new", "cannot write").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(file(&dir.path().join("missing/r.json"), b"x", "cannot write").is_err());
    }

    #[test]
    fn only_regular_files_and_new_paths_are_targets() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_target(&dir.path().join("new.json")).is_ok());
        assert!(check_target(dir.path()).is_err(), "a folder");
        assert!(check_target(Path::new("/dev/null")).is_err(), "a device");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/etc/hostname", &link).unwrap();
        let e = check_target(&link).unwrap_err();
        assert!(e.0.contains("is a symbolic link"), "{}", e.0);
    }
}
