//! The driver: runs the pipeline over a set of files and reports.
//!
//! One module per phase: discover and read ([`run`], [`crate::fileio`]) → parse and index
//! (`load`) → match (the type-knowledge loop of [`crate::matcher`], redone for the objects
//! the families keep: `keep`) → colour, rewrite and verify (`rewrite`) → report
//! (`pins`, `explain`, `output`).

mod explain;
mod keep;
mod load;
mod output;
mod pins;
mod rewrite;

pub use crate::fileio::Input;
/// The soundness check's tests load modules of their own.
#[cfg(test)]
pub(crate) use load::load;

use crate::cli::{Config, Mode};
use crate::colour;
use crate::fileio;
use crate::project::Project;
use crate::report::{Diagnostic, Severity, Summary};
use crate::rules::Catalog;
use crate::walk::{self, Found, WalkOptions};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The result for one file.
pub struct FileOutcome {
    pub path: PathBuf,
    pub display: String,
    pub old: String,
    /// `Some` if the file changes.
    pub new: Option<String>,
    /// Turns `old` and `new` back into bytes (BOM and encoding restored) when writing: the
    /// rewrite checked that `new` can be encoded, and decoding that `old` round-trips to
    /// exactly the bytes read.
    pub codec: crate::source::Codec,
    /// Rewritten catalog call sites per rule id (for `--statistics`).
    pub rule_hits: std::collections::BTreeMap<String, usize>,
}

/// The result of a run: the outcomes in path order and what is reported.
pub struct Migration {
    pub files: Vec<FileOutcome>,
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    pub explanations: Vec<String>,
    /// Required `--keep-sync` patterns that match no function: a usage error (exit 2).
    pub unmatched: Vec<String>,
    /// With `--public-api`: the public API made async.
    pub public_api: Option<Vec<crate::scope::ApiChange>>,
}

/// What a run is asked to do, besides the files.
pub struct Settings<'a> {
    pub catalog: &'a Catalog,
    pub keep_sync: &'a [crate::scope::KeepSync],
    /// `--only`, resolved: only the files under these paths are edited (all if empty).
    pub only: &'a [PathBuf],
    /// List the public API made async.
    pub public_api: bool,
    /// Functions named by the project's console scripts (`pkg.cli.main`).
    pub console_scripts: &'a [String],
    pub explain: Option<&'a str>,
    /// The Python version the output must run on.
    pub target: crate::target::PyVersion,
}

/// Migrates a set of files as one project.
pub fn migrate(inputs: Vec<Input>, settings: &Settings) -> Migration {
    let scanned = inputs.len();
    let (modules, mut diagnostics) = load::load_all(inputs);
    let mut project = Project::new(modules);
    let kept = crate::scope::kept(&project, settings.keep_sync);
    if !kept.unmatched.is_empty() {
        return Migration {
            files: Vec::new(),
            diagnostics,
            summary: Summary::default(),
            explanations: Vec::new(),
            unmatched: kept.unmatched,
            public_api: None,
        };
    }
    let outside = if settings.only.is_empty() {
        Vec::new()
    } else {
        let only = settings.only;
        project
            .modules
            .iter()
            .map(|m| !crate::scope::in_scope(&m.path, only))
            .collect()
    };
    let scope = colour::Scope {
        kept: kept.funcs,
        outside,
    };
    // Tests that mock a sync API keep it sync: its rules are left out of this run's catalog.
    let mut mocks = crate::mocks::find(&project, settings.catalog);
    let filtered;
    let cat = if mocks.kept.is_empty() {
        settings.catalog
    } else {
        filtered = settings.catalog.without(&mocks.kept);
        &filtered
    };
    let mut done = keep::rounds(&mut project, cat, settings, &scope, &mocks.pins);

    let errors = diagnostics.len();
    diagnostics.append(&mut done.kept_notes);
    diagnostics.extend(kept.diagnostics);
    diagnostics.append(&mut mocks.diagnostics);
    let checked = &mut done.checked;
    diagnostics.extend(pins::diagnostics(
        &project,
        &checked.colouring,
        &scope,
        &checked.reverted,
    ));
    rewrite::undo_unsound(&project, &checked.unsound, &mut checked.results);
    let counts = Counts { scanned, errors };
    report(project, settings, done.checked, diagnostics, counts)
}

/// Files read and load errors, for the summary.
struct Counts {
    scanned: usize,
    errors: usize,
}

/// The migration's report: the outcomes in path order, holding the originals, and the
/// summary over them.
fn report(
    mut project: Project,
    settings: &Settings,
    checked: rewrite::Checked,
    mut diagnostics: Vec<Diagnostic>,
    counts: Counts,
) -> Migration {
    let colouring = checked.colouring;
    // Docstrings are read from the sources, which move into the outcomes below.
    let public_api = settings
        .public_api
        .then(|| crate::scope::public_api(&project, &colouring));
    let mut summary = Summary {
        files_scanned: counts.scanned,
        errors: counts.errors,
        unawaited_async_calls: checked.unsound.iter().filter(|v| v.unawaited).count(),
        ..Summary::default()
    };
    let mut files = Vec::new();
    let mut packages = BTreeSet::new();
    for r in checked.results {
        if r.outcome.new.is_some() {
            summary.files_changed += 1;
            summary.call_sites_rewritten += r.rewritten;
            for (rule, n) in &r.outcome.rule_hits {
                *summary.rules.entry(rule.clone()).or_insert(0) += n;
            }
            packages.extend(r.packages);
        }
        // A file left unchanged by a failed check (internal or encoding error) is an error
        // of the run, like one that could not be read.
        summary.errors += r
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        diagnostics.extend(r.diagnostics);
        files.push(r.outcome);
    }
    // The originals move into the outcomes (in module order): a copy of every source would be
    // the largest allocation of the rewrite.
    for (f, m) in files.iter_mut().zip(project.modules.iter_mut()) {
        f.old = std::mem::take(&mut m.source.text);
    }
    summary.functions_made_async = colouring.coloured.len();
    summary.public_api = public_api.as_ref().map(Vec::len);
    summary.packages = packages.into_iter().collect();
    diagnostics.sort();
    diagnostics.dedup();
    summary.diagnostics = diagnostics.len();
    files.sort_by(|a, b| a.display.cmp(&b.display));
    let explanations = settings
        .explain
        .map(|name| explain::explain(&project, &colouring, name))
        .unwrap_or_default();
    Migration {
        files,
        diagnostics,
        summary,
        explanations,
        unmatched: Vec::new(),
        public_api,
    }
}

/// The command-line run: discover, migrate, print, write. Returns the exit code.
pub fn run(cfg: &Config) -> anyhow::Result<u8> {
    if cfg.list_rules {
        print!("{}", cfg.catalog.markdown());
        return Ok(0);
    }
    let mut early: Vec<Diagnostic> = Vec::new();
    let files = discover(cfg, &mut early);
    let progress = fileio::progress(files.len(), cfg.quiet);
    let (inputs, read_errors) = fileio::read_all(files, cfg.max_file_size, &progress);
    early.extend(read_errors);
    let settings = Settings {
        catalog: &cfg.catalog,
        keep_sync: &cfg.keep_sync,
        only: &cfg.only,
        public_api: cfg.public_api,
        console_scripts: &cfg.console_scripts,
        explain: cfg.explain.as_deref(),
        target: cfg.target,
    };
    fileio::progress_stage(&progress, "parsing, matching and colouring");
    let mut migration = migrate(inputs, &settings);
    progress.finish_and_clear();
    if !migration.unmatched.is_empty() {
        anyhow::bail!("{}", migration.unmatched.join("\nawaitify: "));
    }
    migration.summary.files_scanned += early.iter().filter(|d| d.code != "walk-error").count();
    migration.summary.errors += early.len();
    migration.diagnostics.extend(early);
    migration.diagnostics.sort();
    migration.summary.diagnostics = migration.diagnostics.len();
    if cfg.mode == Mode::Write {
        output::write(&mut migration);
    }
    let shown = output::select(cfg, &mut migration);
    output::print_all(cfg, &migration, &shown)?;
    let pending = migration.summary.files_changed > 0;
    // `--check --select CODES` lints: a shown warning or error fails it like a change.
    let flagged = cfg.selection.lint && shown.iter().any(|d| d.severity != Severity::Note);
    Ok(
        if (cfg.mode == Mode::Check && (pending || flagged)) || migration.summary.errors > 0 {
            1
        } else {
            0
        },
    )
}

/// The files under the paths on the command line, each with the import root it was found
/// under (the deepest directory named that holds it); what the walk cannot enter goes to
/// `early`.
fn discover(cfg: &Config, early: &mut Vec<Diagnostic>) -> Vec<(PathBuf, PathBuf)> {
    let opts = WalkOptions {
        no_ignore: cfg.no_ignore,
        exclude: &cfg.excludes,
    };
    walk::discover(&cfg.paths, &opts)
        .into_iter()
        .filter_map(|f| match f {
            Found::File(p) => {
                let root = cfg
                    .paths
                    .iter()
                    .filter(|r| p.starts_with(r) && r.is_dir())
                    .max_by_key(|r| r.as_os_str().len())
                    .cloned()
                    .unwrap_or_else(|| p.parent().map(Path::to_path_buf).unwrap_or_default());
                Some((p, root))
            }
            Found::Error(p, e) => {
                early.push(
                    Diagnostic::new(&p.display().to_string(), 1, 1, "walk-error", e).as_error(),
                );
                None
            }
        })
        .collect()
}

/// Convenience for tests: migrate in-memory files (`(path, text)`) rooted at `/project`.
pub fn migrate_texts(files: &[(&str, &str)], catalog: &Catalog) -> Migration {
    migrate_texts_for(files, catalog, crate::target::PyVersion::default())
}

/// [`migrate_texts`] for a given `--target-version`.
pub fn migrate_texts_for(
    files: &[(&str, &str)],
    catalog: &Catalog,
    target: crate::target::PyVersion,
) -> Migration {
    let inputs = files
        .iter()
        .map(|(p, t)| Input {
            path: Path::new("/project").join(p),
            display: p.to_string(),
            bytes: t.as_bytes().to_vec(),
            root: PathBuf::from("/project"),
        })
        .collect();
    migrate(
        inputs,
        &Settings {
            catalog,
            keep_sync: &[],
            only: &[],
            public_api: false,
            console_scripts: &[],
            explain: None,
            target,
        },
    )
}
