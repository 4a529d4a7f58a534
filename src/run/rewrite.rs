//! Colour, rewrite and verify: the colouring, the passes over every module, and the
//! soundness check of the whole output, redone with more functions pinned while it finds an
//! unsound site.

use super::{FileOutcome, Settings};
use crate::colour::{self, Colouring};
use crate::edit;
use crate::matcher::{Kind, Knowledge, ModuleFacts, PackedCall};
use crate::parse;
use crate::passes::{self, PassCx};
use crate::project::{FuncId, Module, Project};
use crate::report::{Diagnostic, Severity};
use crate::rules::Catalog;
use crate::soundness::{self, Violation};
use rayon::prelude::*;
use rustc_hash::FxHashSet as HashSet;
use std::collections::BTreeSet;

/// One module's rewrite.
pub(super) struct Rewritten {
    pub outcome: FileOutcome,
    pub diagnostics: Vec<Diagnostic>,
    /// Catalog call sites rewritten.
    pub rewritten: usize,
    /// The packages the output needs.
    pub packages: BTreeSet<String>,
    /// The objects its families keep.
    pub keeps: Vec<passes::Keep>,
}

/// The last round of [`colour_and_rewrite`].
pub(super) struct Checked {
    pub colouring: Colouring,
    pub results: Vec<Rewritten>,
    /// The functions pinned because their colour made the output unsound.
    pub reverted: HashSet<FuncId>,
    /// The violations no pin could undo.
    pub unsound: Vec<Violation>,
}

fn colouring_of(
    project: &Project,
    cat: &Catalog,
    facts: &[ModuleFacts],
    settings: &Settings,
    scope: &colour::Scope,
    extra: &[(FuncId, &'static str, colour::Pin)],
) -> Colouring {
    let mut colouring = colour::colour(project, cat, facts, scope, extra);
    for script in settings.console_scripts {
        if let crate::project::Sym::Func(f) = project.resolve(script)
            && colouring.coloured.contains(&f)
        {
            colouring.scripts.insert(f);
        }
    }
    colouring
}

/// Rounds of colouring, rewrite and soundness check before giving up: each round pins at
/// least one more function, and few chains need more than one.
const SOUNDNESS_ROUNDS: usize = 8;

/// Colours, rewrites and checks the whole output; a site the check finds unsound pins the
/// function whose colour caused it (`unsound-change-reverted`) and the round is redone.
pub(super) fn colour_and_rewrite(
    project: &Project,
    cat: &Catalog,
    facts: &[ModuleFacts],
    knowledge: &Knowledge,
    settings: &Settings,
    scope: &colour::Scope,
    mocked: &[(FuncId, colour::Pin)],
) -> Checked {
    let mut extra: Vec<(FuncId, colour::Pin)> = Vec::new();
    let mut round = 1;
    loop {
        let pins: Vec<(FuncId, &'static str, colour::Pin)> = mocked
            .iter()
            .map(|(f, pin)| (*f, crate::mocks::MOCKED_FUNCTION_KEPT, pin.clone()))
            .chain(
                extra
                    .iter()
                    .map(|(f, pin)| (*f, "unsound-change-reverted", pin.clone())),
            )
            .collect();
        let colouring = colouring_of(project, cat, facts, settings, scope, &pins);
        let results = rewrite_all(project, cat, &colouring, knowledge, facts, settings, scope);
        let outputs: Vec<Option<&str>> = results.iter().map(|r| r.outcome.new.as_deref()).collect();
        let report = soundness::check(project, cat, &colouring, &outputs);
        let pinned: HashSet<FuncId> = extra.iter().map(|(f, _)| *f).collect();
        let mut fresh: Vec<(FuncId, colour::Pin)> = Vec::new();
        for v in &report.violations {
            let Some(f) = v.culprit.filter(|f| !pinned.contains(f)) else {
                continue;
            };
            if fresh.iter().all(|(g, _)| *g != f) {
                let reason = format!(
                    "unsound-change-reverted: {}, at {}:{}",
                    v.reason, project.modules[v.module].display, v.line
                );
                let (module, line) = (v.module, v.line);
                fresh.push((
                    f,
                    colour::Pin {
                        reason,
                        module,
                        line,
                    },
                ));
            }
        }
        if report.violations.is_empty() || fresh.is_empty() || round == SOUNDNESS_ROUNDS {
            return Checked {
                colouring,
                results,
                reverted: pinned,
                unsound: report.violations,
            };
        }
        extra.extend(fresh);
        round += 1;
    }
}

/// Runs the passes over every module that one can change.
fn rewrite_all(
    project: &Project,
    cat: &Catalog,
    colouring: &Colouring,
    knowledge: &Knowledge,
    facts: &[ModuleFacts],
    settings: &Settings,
    scope: &colour::Scope,
) -> Vec<Rewritten> {
    let quiet: Vec<bool> = (0..project.modules.len())
        .map(|m| passes::quiet(project, cat, colouring, &facts[m], m))
        .collect();
    facts
        .par_iter()
        .enumerate()
        .map(|(m, facts)| {
            let quiet = quiet[m];
            let reports = || {
                let (diagnostics, keeps) =
                    passes::quiet_reports(project, cat, colouring, knowledge, facts, m);
                Rewritten {
                    keeps,
                    ..untouched(&project.modules[m], diagnostics)
                }
            };
            // Release builds trust the predicate; debug builds (the tests) check it.
            if quiet && !cfg!(debug_assertions) {
                let mut result = reports();
                if scope.is_outside(m) {
                    outside_only(&mut result, &project.modules[m], facts);
                }
                return result;
            }
            // Parsed before, so this cannot fail; the tree lives for this module only.
            let tree = parse::parse(&project.modules[m].source.text)
                .expect("tree-sitter parses what it parsed before");
            let calls: Vec<_> = facts.calls.iter().map(PackedCall::unpack).collect();
            let cx = PassCx {
                tree: &tree,
                calls: &calls,
                p: project,
                cat,
                colour: colouring,
                facts,
                knowledge,
                m,
                target: settings.target,
                claims: &passes::claims::Claims::default(),
            };
            let mut result = rewrite(&cx);
            if scope.is_outside(m) {
                outside_only(&mut result, &project.modules[m], facts);
                return result;
            }
            debug_assert!(
                !quiet || {
                    let r = reports();
                    result.outcome.new.is_none()
                        && result.diagnostics == r.diagnostics
                        && format!("{:?}", result.keeps) == format!("{:?}", r.keeps)
                },
                "{}: a module judged quiet was changed or reported more",
                project.modules[m].display
            );
            result
        })
        .collect()
}

/// A module outside `--only`: its rewrite is dropped, with what reports on it, but not the
/// objects its families keep. If it would have changed, an object of a catalog type used
/// there may come from a file that is edited (a file opened in a coroutine inside and handed
/// to one outside): every object of those types is kept, and colouring runs again.
fn outside_only(result: &mut Rewritten, module: &Module, facts: &ModuleFacts) {
    let Rewritten {
        outcome,
        diagnostics: diags,
        rewritten,
        packages,
        keeps,
    } = result;
    if outcome.new.is_some() {
        let mut types: Vec<(String, usize)> = Vec::new();
        for c in facts.calls.iter().map(PackedCall::unpack) {
            if let crate::matcher::Target::Method { ty, .. } = c.target {
                types.push((ty.to_string(), c.line));
            }
        }
        let uses = facts.withs.iter().map(|w| (&w.kind, w.line));
        for (kind, line) in uses.chain(facts.fors.iter().map(|f| (&f.kind, f.line))) {
            if let Kind::Ext(ty) = kind {
                types.push((ty.to_string(), line));
            }
        }
        types.sort();
        types.dedup_by(|a, b| a.0 == b.0);
        for (ty, line) in types {
            keeps.push(passes::Keep {
                what: passes::Kept::Type(ty.to_string()),
                diagnostic: Diagnostic::new(
                    &module.display,
                    line,
                    1,
                    "object-kept",
                    format!(
                        "`{ty}` objects stay sync with all of their uses: one is used here, outside --only, where nothing is edited"
                    ),
                ),
            });
        }
    }
    outcome.new = None;
    outcome.rule_hits.clear();
    diags.retain(|d| d.severity == Severity::Error);
    *rewritten = 0;
    packages.clear();
}

/// The outcome of a module that does not change (`old` is filled in by `migrate`).
fn untouched(module: &Module, diagnostics: Vec<Diagnostic>) -> Rewritten {
    let outcome = FileOutcome {
        path: module.path.clone(),
        display: module.display.clone(),
        old: String::new(),
        new: None,
        codec: module.source.codec(),
        rule_hits: Default::default(),
    };
    Rewritten {
        outcome,
        diagnostics,
        rewritten: 0,
        packages: BTreeSet::new(),
        keeps: Vec::new(),
    }
}

fn rewrite(cx: &PassCx) -> Rewritten {
    let mut out = passes::run_all(cx);
    let keeps = std::mem::take(&mut out.keep);
    Rewritten {
        keeps,
        ..rewrite_out(cx, out)
    }
}

fn rewrite_out(cx: &PassCx, out: passes::PassOut) -> Rewritten {
    let module = cx.module();
    let diagnostics = out.diagnostics;
    if out.edits.is_empty() {
        return untouched(module, diagnostics);
    }
    let new = match edit::apply(&module.source.text, out.edits.clone()) {
        Ok(t) => t,
        Err(conflict) => {
            let why = format!("{conflict}; file left unchanged (this is a bug in awaitify)");
            return left_unchanged(module, diagnostics, "internal-error", why);
        }
    };
    if let Err(why) =
        crate::verify::check_with_original(cx.tree, &module.source.text, &new, &out.edits)
    {
        let why = format!("{why} (this is a bug in awaitify)");
        return left_unchanged(module, diagnostics, "internal-error", why);
    }
    if new == module.source.text {
        return untouched(module, diagnostics);
    }
    // UTF-8 always encodes; a legacy encoding may not hold every character the rewrite added.
    if module.source.encoding.is_some()
        && let Err(why) = module.source.encode(&new)
    {
        let why = format!("{why}; file left unchanged");
        return left_unchanged(module, diagnostics, "encode-error", why);
    }
    let mut result = untouched(module, diagnostics);
    result.outcome.rule_hits = crate::report::rule_hits(cx.cat, cx.calls, &out.edits);
    result.outcome.new = Some(new);
    result.rewritten = out.rewritten;
    result.packages = out.packages;
    result
}

/// A module whose rewrite failed a check: unchanged, with one error saying why.
fn left_unchanged(
    module: &Module,
    mut diagnostics: Vec<Diagnostic>,
    code: &'static str,
    why: String,
) -> Rewritten {
    diagnostics.push(Diagnostic::new(&module.display, 1, 1, code, why).as_error());
    untouched(module, diagnostics)
}

/// What pinning could not undo: the module of each unsound site is left as it was.
pub(super) fn undo_unsound(project: &Project, unsound: &[Violation], results: &mut [Rewritten]) {
    for v in unsound {
        let module = &project.modules[v.module];
        let why = format!(
            "{} (line {}), and pinning could not undo it; file left unchanged (this is a bug in awaitify)",
            v.reason, v.line
        );
        let diags = std::mem::take(&mut results[v.module].diagnostics);
        results[v.module] = left_unchanged(module, diags, "unsound-change-reverted", why);
    }
}
