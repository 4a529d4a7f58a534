//! The last phase of a command-line run: writing the changed files, choosing the
//! diagnostics to show, and printing the diffs and the report.

use super::Migration;
use crate::cli::{Config, Format, Mode};
use crate::fileio;
use crate::report::{self, Changed, Diagnostic, Severity, Statistics};
use crate::selection::{self, Hidden};
use rayon::prelude::*;
use std::io::Write;

/// `--write`: replaces each changed file; one that cannot be written is an error of the run.
pub(super) fn write(migration: &mut Migration) {
    for f in &migration.files {
        let Some(new) = &f.new else { continue };
        // Both were checked before (decoding round-trips, the rewrite encodes `new`);
        // should that ever fail, the file is left alone.
        let written = match (f.codec.encode(&f.old), f.codec.encode(new)) {
            (Ok(old), Ok(new)) => {
                fileio::write_checked(&f.path, &old, &new).map_err(|e| (e.code(), e.to_string()))
            }
            (Err(why), _) | (_, Err(why)) => Err(("encode-error", why)),
        };
        if let Err((code, why)) = written {
            migration
                .diagnostics
                .push(Diagnostic::new(&f.display, 1, 1, code, why).as_error());
            migration.summary.errors += 1;
        }
    }
}

/// Prints the report; a closed pipe (`| head`) is not an error.
pub(super) fn print_all(cfg: &Config, mig: &Migration, shown: &[Diagnostic]) -> anyhow::Result<()> {
    // Buffered: a large run prints thousands of diagnostics, and stderr is unbuffered (a
    // write per formatted piece).
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut err = std::io::BufWriter::new(std::io::stderr().lock());
    let result = print(cfg, mig, shown, &mut out, &mut err).and_then(|()| err.flush());
    if let Err(e) = result
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    Ok(())
}

/// Adds the warnings of the suppression comments, then keeps the diagnostics the selection
/// shows and counts the others in the summary by why they are hidden.
pub(super) fn select(cfg: &Config, mig: &mut Migration) -> Vec<Diagnostic> {
    let found: Vec<_> = mig
        .files
        .par_iter()
        .map(|f| {
            (
                f.display.clone(),
                selection::suppressions(&f.display, &f.old),
            )
        })
        .filter(|(_, (s, d))| !s.is_empty() || !d.is_empty())
        .collect();
    let mut comments = std::collections::HashMap::new();
    for (path, (found, diags)) in found {
        comments.insert(path, found);
        mig.diagnostics.extend(diags);
    }
    mig.diagnostics.sort();
    let s = &mut mig.summary;
    let count = |sev| mig.diagnostics.iter().filter(|d| d.severity == sev).count();
    (s.diagnostics, s.warnings, s.notes) = (
        mig.diagnostics.len(),
        count(Severity::Warning),
        count(Severity::Note),
    );
    let text = cfg.format == Format::Text;
    let mut shown = Vec::new();
    for d in &mig.diagnostics {
        match selection::hidden(&cfg.selection, &comments, d, text) {
            None => shown.push(d.clone()),
            Some(Hidden::Suppressed) => s.suppressed += 1,
            Some(Hidden::Deselected) => s.deselected += 1,
            Some(Hidden::Note) => s.notes_hidden += 1,
        }
    }
    s.shown = shown.len();
    shown
}

fn print(
    cfg: &Config,
    mig: &Migration,
    shown: &[Diagnostic],
    out: &mut impl Write,
    err: &mut impl Write,
) -> std::io::Result<()> {
    let stats = cfg
        .statistics
        .then(|| Statistics::new(&mig.summary, &mig.diagnostics));
    let changed = || -> Vec<Changed> {
        mig.files
            .par_iter()
            .filter_map(|f| {
                let new = f.new.as_deref()?;
                Some(Changed {
                    path: &f.display,
                    diff: crate::diff::unified(&f.display, &f.old, new, false),
                })
            })
            .collect()
    };
    match cfg.format {
        Format::Json => {
            let doc = report::json_report(
                &changed(),
                shown,
                &mig.summary,
                stats.as_ref(),
                mig.public_api.as_deref(),
            );
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )?;
        }
        Format::Sarif => {
            // The per-file `async-migration` results are diagnostics too: selection applies.
            let changed = if cfg.selection.selects("async-migration") {
                changed()
            } else {
                Vec::new()
            };
            let doc = report::sarif_report(&changed, shown, cfg.mode == Mode::Write);
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )?;
        }
        // `--explain`: the chains alone, not the report they would be buried in.
        Format::Text if cfg.explain.is_some() => {
            for line in &mig.explanations {
                writeln!(out, "{line}")?;
            }
        }
        Format::Text => {
            if cfg.mode == Mode::DryRun && !cfg.quiet {
                // Diffing is per file and costs about as much as a pass: on all cores.
                let diffs: Vec<String> = mig
                    .files
                    .par_iter()
                    .filter_map(|f| {
                        let new = f.new.as_deref()?;
                        Some(crate::diff::unified(&f.display, &f.old, new, cfg.color))
                    })
                    .collect();
                for diff in diffs {
                    write!(out, "{diff}")?;
                }
            }
            out.flush()?;
            for d in shown {
                writeln!(err, "{}", d.with_severity())?;
            }
            if !cfg.quiet {
                writeln!(err, "{}", mig.summary)?;
                if let Some(api) = &mig.public_api {
                    write!(err, "{}", crate::scope::api_text(api))?;
                }
            }
            if let Some(stats) = &stats {
                write!(err, "{stats}")?;
            }
        }
    }
    out.flush()
}
