//! Reading and writing the user's files: the only place that touches them on disk.
//!
//! Reads classify every way a path can fail (broken symlink, loop, too large, unreadable) into
//! one diagnostic, so one bad file never stops the run. Writes go through a temporary file in
//! the same directory and a rename, keep the permissions, follow a symlink to its target, and
//! refuse when the file on disk is no longer the bytes that were migrated.

use crate::report::Diagnostic;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// One file handed to the engine.
pub struct Input {
    pub path: PathBuf,
    /// Shown in diffs and diagnostics.
    pub display: String,
    pub bytes: Vec<u8>,
    /// The import root it was found under (the directory named on the command line).
    pub root: PathBuf,
}

/// Reads the discovered files (each with its import root) on all cores, ticking `progress`:
/// the inputs, and a diagnostic for each file that cannot be read.
pub fn read_all(
    files: Vec<(PathBuf, PathBuf)>,
    max: u64,
    progress: &ProgressBar,
) -> (Vec<Input>, Vec<Diagnostic>) {
    files
        .into_par_iter()
        .map(|(path, root)| {
            progress.inc(1);
            read_input(path, root, max)
        })
        .partition_map(|r| match r {
            Ok(i) => rayon::iter::Either::Left(i),
            Err(d) => rayon::iter::Either::Right(d),
        })
}

/// Reads one discovered file, or explains why it cannot be migrated.
fn read_input(path: PathBuf, root: PathBuf, max: u64) -> Result<Input, Diagnostic> {
    let display = path.display().to_string();
    let err = |code, msg: String| Diagnostic::new(&display, 1, 1, code, msg).as_error();
    let link = std::fs::symlink_metadata(&path)
        .map_err(|e| err("read-error", format!("cannot read: {e}")))?;
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if link.is_symlink() => {
            let target = std::fs::read_link(&path)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            return Err(if is_loop(&e) {
                err(
                    "symlink-loop",
                    format!("symbolic link loop (via `{target}`); skipped"),
                )
            } else {
                err(
                    "broken-symlink",
                    format!("symbolic link to `{target}`, which cannot be opened ({e}); skipped"),
                )
            });
        }
        Err(e) => return Err(err("read-error", format!("cannot read: {e}"))),
    };
    if !meta.is_file() {
        return Err(err("not-a-file", "not a regular file; skipped".into()));
    }
    if meta.len() > max {
        return Err(err(
            "file-too-large",
            format!(
                "{} bytes is over the limit of {max} (raise it with --max-file-size); skipped",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(&path)
        .map_err(|e| err("read-error", format!("cannot read: {e}; skipped")))?;
    Ok(Input {
        path,
        display,
        bytes,
        root,
    })
}

fn is_loop(e: &std::io::Error) -> bool {
    // ELOOP on Linux and the BSDs; the stable ErrorKind for it is still unstable.
    matches!(e.raw_os_error(), Some(40) | Some(62)) || e.to_string().contains("symbolic links")
}

/// Why a file was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the file changed on disk since awaitify read it; not overwritten (run again)")]
    ChangedOnDisk,
    #[error("{0}; file left unchanged")]
    Io(String),
}

impl WriteError {
    pub fn code(&self) -> &'static str {
        match self {
            WriteError::ChangedOnDisk => "changed-on-disk",
            WriteError::Io(_) => "write-error",
        }
    }
}

/// Test hook: the file named by this variable gets a line appended right before the write
/// phase compares it, to simulate another program editing it during the run.
const TEST_HOOK: &str = "AWAITIFY_TEST_MODIFY_BEFORE_WRITE";

/// Replaces `path` with `bytes` if it still holds exactly `expected`.
///
/// A temporary file in the target's directory is renamed over it, so a crash never leaves a
/// half-written file and the temporary is removed on every error path (`NamedTempFile`'s drop).
/// A symlink is followed so that the link stays a link. Another writer between the comparison
/// and the rename is not detected: the window is one `rename`.
pub fn write_checked(path: &Path, expected: &[u8], bytes: &[u8]) -> Result<(), WriteError> {
    let io = |what: &str, e: std::io::Error| WriteError::Io(format!("{what}: {e}"));
    let target = std::fs::canonicalize(path).map_err(|e| io("cannot resolve the path", e))?;
    if let Some(hook) = std::env::var_os(TEST_HOOK)
        && std::fs::canonicalize(&hook).is_ok_and(|h| h == target)
    {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&target)
            .map_err(|e| io("test hook", e))?;
        f.write_all(b"# edited meanwhile\n")
            .map_err(|e| io("test hook", e))?;
    }
    let current = std::fs::read(&target).map_err(|e| io("cannot re-read the file", e))?;
    if current != expected {
        return Err(WriteError::ChangedOnDisk);
    }
    let meta = std::fs::metadata(&target).map_err(|e| io("cannot stat the file", e))?;
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".awaitify-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| io("cannot create a temporary file", e))?;
    tmp.write_all(bytes).map_err(|e| io("cannot write", e))?;
    tmp.as_file().sync_all().map_err(|e| io("cannot sync", e))?;
    std::fs::set_permissions(tmp.path(), meta.permissions())
        .map_err(|e| io("cannot keep the permissions", e))?;
    tmp.persist(&target)
        .map_err(|e| io("cannot replace the file", e.error))?;
    Ok(())
}

/// Runs shorter than this many files finish before a bar would be worth drawing.
const PROGRESS_MIN_FILES: usize = 500;

/// A progress bar on stderr over reading `len` files, only for a long run on a terminal;
/// otherwise hidden, so nothing extra is printed into pipes, logs or CI.
pub fn progress(len: usize, quiet: bool) -> ProgressBar {
    if quiet || len < PROGRESS_MIN_FILES || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} reading {pos}/{len} files {wide_bar}")
    {
        bar.set_style(style);
    }
    bar
}

/// Switches the bar to a spinner for a stage whose length is not known in files.
pub fn progress_stage(bar: &ProgressBar, stage: &'static str) {
    if bar.is_hidden() {
        return;
    }
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(stage);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
}
