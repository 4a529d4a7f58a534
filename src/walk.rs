//! Discover: the one place that builds an `ignore::WalkBuilder`.
//!
//! Directories are walked honouring .gitignore/.ignore, skipping hidden directories and
//! virtual environments; a path named on the command line is always processed.

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::WalkBuilder;
use std::path::{Path, PathBuf};

/// A file to process, or a path that could not be walked.
#[derive(Debug)]
pub enum Found {
    File(PathBuf),
    Error(PathBuf, String),
}

pub struct WalkOptions<'a> {
    pub no_ignore: bool,
    pub exclude: &'a GlobSet,
}

pub fn build_excludes(globs: &[String]) -> Result<GlobSet, globset::Error> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(Glob::new(g)?);
        // `--exclude build` should also exclude everything below `build/`.
        b.add(Glob::new(&format!("{g}/**"))?);
        b.add(Glob::new(&format!("**/{g}"))?);
        b.add(Glob::new(&format!("**/{g}/**"))?);
    }
    b.build()
}

const SKIP_DIRS: &[&str] = &[
    "venv",
    ".venv",
    "env",
    "__pycache__",
    "site-packages",
    "node_modules",
    ".tox",
    ".nox",
];

/// Finds the Python files under `paths`, sorted for deterministic output.
pub fn discover(paths: &[PathBuf], opts: &WalkOptions) -> Vec<Found> {
    let mut out = Vec::new();
    for root in paths {
        if !root.exists() && root.symlink_metadata().is_err() {
            out.push(Found::Error(
                root.clone(),
                "no such file or directory".into(),
            ));
            continue;
        }
        if !root.is_dir() {
            // Named explicitly: always processed, whatever its extension or ignore status.
            out.push(Found::File(root.clone()));
            continue;
        }
        let exclude = opts.exclude.clone();
        let mut builder = WalkBuilder::new(root);
        builder
            .follow_links(false)
            .git_ignore(!opts.no_ignore)
            .git_global(!opts.no_ignore)
            .git_exclude(!opts.no_ignore)
            .ignore(!opts.no_ignore)
            .parents(!opts.no_ignore)
            .require_git(false)
            .hidden(true)
            .filter_entry(move |e| {
                let name = e.file_name().to_string_lossy();
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                if is_dir
                    && e.depth() > 0
                    && (SKIP_DIRS.contains(&name.as_ref()) || e.path().join("pyvenv.cfg").exists())
                {
                    return false;
                }
                !exclude.is_match(e.path()) && !exclude.is_match(Path::new(name.as_ref()))
            });
        for entry in builder.build() {
            match entry {
                Ok(e) => {
                    let is_py = e.path().extension().is_some_and(|x| x == "py");
                    if is_py && e.file_type().is_some_and(|t| t.is_file() || t.is_symlink()) {
                        out.push(Found::File(e.into_path()));
                    }
                }
                Err(err) => {
                    let path = match &err {
                        ignore::Error::WithPath { path, .. } => path.clone(),
                        _ => root.clone(),
                    };
                    out.push(Found::Error(path, err.to_string()));
                }
            }
        }
    }
    out.sort_by(|a, b| key(a).cmp(key(b)));
    out.dedup_by(|a, b| key(a) == key(b));
    out
}

fn key(f: &Found) -> &Path {
    match f {
        Found::File(p) | Found::Error(p, _) => p,
    }
}
