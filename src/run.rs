//! The driver: runs the pipeline over a set of files and reports.

use crate::cli::{Config, Format, Mode};
use crate::colour::{self, Colouring, Why};
use crate::edit;
use crate::fileio;
use crate::index;
use crate::matcher::{self, Kind, Knowledge, ModuleFacts, PackedCall, Read};
use crate::parse;
use crate::passes::{self, PassCx};
use crate::project::{FuncId, Module, Project};
use crate::report::{self, Changed, Diagnostic, Severity, Statistics, Summary};
use crate::rules::Catalog;
use crate::selection::{self, Hidden};
use crate::soundness::{self, Violation};
use crate::source::SourceText;
use crate::walk::{self, Found, WalkOptions};
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeSet;
use std::io::Write;
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
    let cat = settings.catalog;
    let (modules, mut diagnostics): (Vec<_>, Vec<_>) =
        inputs.into_par_iter().map(load).partition_map(|r| match r {
            Ok(m) => rayon::iter::Either::Left(m),
            Err(d) => rayon::iter::Either::Right(d),
        });
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
    let stray_comments = kept.diagnostics;
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
        cat
    } else {
        filtered = cat.without(&mocks.kept);
        &filtered
    };

    // Type facts flow through names, parameters and returns: iterate to a fixed point.
    let mut knowledge = base_knowledge(&project);
    let mut facts: Vec<ModuleFacts> = Vec::new();
    facts.resize_with(project.modules.len(), ModuleFacts::default);
    let mut dirty = vec![true; project.modules.len()];
    let mut changed: Option<HashSet<u64>> = None;
    let mut kept_notes: Vec<Diagnostic> = Vec::new();
    // A family that finds an object it cannot convert with all of its uses keeps it: the
    // objects it keeps are matched again without their conversion and everything coloured
    // again, so nothing becomes async because of a conversion that was abandoned. Keeping
    // only grows, so this ends; the cap is a guard.
    let mut round = 0;
    let (colouring, mut results, reverted, unsound) = loop {
        round += 1;
        fixed_point(
            &mut project,
            cat,
            &mut knowledge,
            &mut facts,
            &dirty,
            changed.take(),
        );
        // Nothing walks the syntax until a family keeps an object (the rewrite parses
        // again): colouring can have its memory.
        for module in &mut project.modules {
            module.syntax = crate::syntax::PackedSyntax::default();
        }
        let (colouring, results, reverted, unsound) = colour_and_rewrite(
            &project,
            cat,
            &facts,
            &knowledge,
            settings,
            &scope,
            &mocks.pins,
        );
        let mut now = HashSet::default();
        // `--only`: the objects created in a file that is not edited stay as they are, so
        // they are kept with all of their uses, as if a use could not convert.
        if round == 1 {
            for read in outside_creations(cat, &facts, &scope) {
                if let Read::Kept(m, start) = read
                    && knowledge.kept.insert((m, start))
                {
                    now.insert(read.fingerprint());
                }
            }
        }
        let keeps = results
            .iter()
            .enumerate()
            .flat_map(|(m, r)| r.4.iter().map(move |k| (m, k)));
        // A family's own report of a kept object says more than the generic `object-kept`.
        let (own, generic): (Vec<_>, Vec<_>) =
            keeps.partition(|(_, k)| k.diagnostic.code != "object-kept");
        for (m, keep) in own.into_iter().chain(generic) {
            let mut new = false;
            for read in kept_keys(cat, &knowledge, &facts, m, &keep.what) {
                let added = match &read {
                    Read::Kept(m, start) => knowledge.kept.insert((*m, *start)),
                    Read::KeptType(ty) => knowledge.kept_types.insert(ty.clone()),
                    _ => false,
                };
                if added {
                    now.insert(read.fingerprint());
                    new = true;
                }
            }
            if new {
                kept_notes.push(keep.diagnostic.clone());
            }
        }
        if now.is_empty() || round == 8 {
            break (colouring, results, reverted, unsound);
        }
        dirty = facts
            .iter()
            .map(|f| f.reads.iter().any(|r| now.contains(r)))
            .collect();
        changed = Some(now);
    };
    facts.iter_mut().for_each(ModuleFacts::end_rounds);
    drop(facts);

    let errors = diagnostics.len();
    diagnostics.extend(kept_notes);
    diagnostics.extend(stray_comments);
    diagnostics.append(&mut mocks.diagnostics);
    for (f, pin) in &colouring.pinned {
        // A file outside `--only` is not migrated: its calls into it are reported below.
        if scope.is_outside(f.module as usize) {
            continue;
        }
        let m = &project.modules[pin.module];
        let def = project.func(*f);
        // A revert's reason already opens with its code.
        let code = colouring
            .pin_codes
            .get(f)
            .copied()
            .unwrap_or("sync-boundary");
        // A revert's reason already opens with its code.
        let reason = match pin.reason.strip_prefix("unsound-change-reverted: ") {
            Some(reason) if reverted.contains(f) => reason,
            _ => pin.reason.as_str(),
        };
        // Pinned by a `__main__` block outside `--only`: reported there, as a call from outside.
        if code != colour::CALLER_OUTSIDE_SCOPE {
            diagnostics.push(Diagnostic::new(
                &m.display,
                pin.line,
                1,
                code,
                format!(
                    "`{}` stays sync and keeps its blocking calls: {}",
                    def.name, reason
                ),
            ));
        }
        diagnostics.extend(blocking_sync_call(
            &project, &colouring, *f, pin, code, reason,
        ));
    }

    for &(caller, callee, m, line) in &colouring.outside_callers {
        let display = &project.modules[m].display;
        let caller = match caller {
            Some(f) => format!("`{}`", project.func(f).name),
            None => "the __main__ block".to_string(),
        };
        diagnostics.push(Diagnostic::new(
            display,
            line,
            1,
            colour::CALLER_OUTSIDE_SCOPE,
            format!(
                "{caller} calls `{}` ({}) without await and is outside --only, so `{}` stays sync; add {display} to --only to convert it",
                project.func_name(callee),
                project.func_location(callee),
                project.func(callee).name,
            ),
        ));
    }
    for (m, line, message) in &colouring.notes {
        diagnostics.push(Diagnostic::new(
            &project.modules[*m].display,
            *line,
            1,
            "mixed-decorator",
            message.clone(),
        ));
    }
    // What pinning could not undo: the module of the site is left as it was.
    for v in &unsound {
        let module = &project.modules[v.module];
        let why = format!(
            "{} (line {}), and pinning could not undo it; file left unchanged (this is a bug in awaitify)",
            v.reason, v.line
        );
        let diags = std::mem::take(&mut results[v.module].1);
        let (o, d, n, pkgs) = left_unchanged(module, diags, "unsound-change-reverted", why);
        results[v.module] = (o, d, n, pkgs, Vec::new());
    }

    // Docstrings are read from the sources, which move into the outcomes below.
    let public_api = settings
        .public_api
        .then(|| crate::scope::public_api(&project, &colouring));
    let mut summary = Summary {
        files_scanned: scanned,
        errors,
        unawaited_async_calls: unsound.iter().filter(|v| v.unawaited).count(),
        ..Summary::default()
    };
    let mut files = Vec::new();
    let mut packages = BTreeSet::new();
    for (outcome, diags, rewritten, pkgs, _) in results {
        if outcome.new.is_some() {
            summary.files_changed += 1;
            summary.call_sites_rewritten += rewritten;
            for (rule, n) in &outcome.rule_hits {
                *summary.rules.entry(rule.clone()).or_insert(0) += n;
            }
            packages.extend(pkgs);
        }
        // A file left unchanged by a failed check (internal or encoding error) is an error
        // of the run, like one that could not be read.
        summary.errors += diags
            .iter()
            .filter(|d| d.severity == crate::report::Severity::Error)
            .count();
        diagnostics.extend(diags);
        files.push(outcome);
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
        .map(|name| explain(&project, &colouring, name))
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

/// `blocking-sync-call`: a pinned function that code async in the output calls (or uses,
/// at the pin's site, inside a coroutine). Unlike a pin that only sync code reaches, its
/// blocking calls now block the event loop: the one kind of pin a migration must look at.
fn blocking_sync_call(
    p: &Project,
    c: &Colouring,
    f: FuncId,
    pin: &colour::Pin,
    code: &str,
    reason: &str,
) -> Option<Diagnostic> {
    let fam = c.family.get(&f).copied().unwrap_or(f);
    let name = &p.func(f).name;
    let pinned_at = format!(" ({}:{})", p.modules[pin.module].display, pin.line);
    let diag = |module: usize, line: usize, message: String| {
        let display = &p.modules[module].display;
        Some(Diagnostic::new(
            display,
            line,
            1,
            "blocking-sync-call",
            message,
        ))
    };
    let reached = c
        .called_from_async
        .get(&fam)
        .copied()
        .or_else(|| Some((site_function(p, pin)?, pin.module, pin.line)));
    match reached {
        Some((caller, module, line)) if c.async_funcs.contains(&caller) => {
            // Where the pin is this very line, its location says nothing new.
            let at = if (module, line) == (pin.module, pin.line) {
                ""
            } else {
                &pinned_at
            };
            diag(
                module,
                line,
                format!(
                    "the coroutine `{}` reaches `{name}`{at}, which stays sync and keeps its blocking calls: they block the event loop here ({reason})",
                    p.func(caller).name
                ),
            )
        }
        // A property is read, not called, and no read is followed: in a run with
        // coroutines, one may reach it. (Other pins at a definition, a test runner's hook
        // or `__del__`, are called by code that is not a coroutine.)
        None if code == "sync-boundary"
            && c.pinned_uncalled.contains(&fam)
            && is_property(p.func(f))
            && !c.async_funcs.is_empty() =>
        {
            diag(
                pin.module,
                pin.line,
                format!(
                    "`{name}` stays sync and keeps its blocking calls, and awaitify sees no call to it ({reason}): if a coroutine reaches it, the event loop blocks there"
                ),
            )
        }
        _ => None,
    }
}

fn is_property(def: &crate::index::FuncDef) -> bool {
    def.decorators.iter().any(|d| {
        let last = d.rsplit('.').next().unwrap_or(d);
        last == "property" || last == "cached_property"
    })
}

/// The function whose body holds the pin's line (a lambda or a `key=` inside it).
fn site_function(p: &Project, pin: &colour::Pin) -> Option<FuncId> {
    let m = &p.modules[pin.module];
    let text = &m.source.text;
    let start = text
        .split_inclusive('\n')
        .take(pin.line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let indent = text[start..].len() - text[start..].trim_start().len();
    let func = m.index.function_at(start + indent)?;
    Some(FuncId {
        module: pin.module as u32,
        func: func as u32,
    })
}

/// One module's rewrite: the outcome, its diagnostics, call sites rewritten, packages needed,
/// and the objects its families keep.
type Rewritten = (
    FileOutcome,
    Vec<Diagnostic>,
    usize,
    BTreeSet<String>,
    Vec<passes::Keep>,
);

/// The cap on [`fixed_point`]'s rounds: a binding typed by itself (`x = [x]`) has a type
/// that grows every round and never settles.
const TYPE_ROUNDS: usize = 8;

/// Rounds of matching until the type knowledge stops changing (or [`TYPE_ROUNDS`]). `dirty` modules are walked
/// again; with `changed`, only their chunks that read one of those keys.
fn fixed_point(
    project: &mut Project,
    cat: &Catalog,
    knowledge: &mut Knowledge,
    facts: &mut [ModuleFacts],
    dirty: &[bool],
    mut changed: Option<HashSet<u64>>,
) {
    let mut dirty = dirty.to_vec();
    for round in 1..=TYPE_ROUNDS {
        // After a family kept an object, a module walked again may have had its syntax
        // dropped: parse it again (only those).
        project
            .modules
            .par_iter_mut()
            .zip(dirty.par_iter())
            .filter(|(m, d)| **d && m.syntax.is_empty())
            .for_each(|(m, _)| m.syntax = syntax_of(&m.source.text));
        let project = &*project;
        // In place: a module's old facts are freed as soon as its new ones exist. After
        // the first round a module walks again only the chunks that read a changed key.
        facts
            .par_iter_mut()
            .enumerate()
            .filter(|(m, _)| dirty[*m])
            .for_each(|(m, f)| {
                let previous = changed.as_ref().map(|c| (std::mem::take(f), c));
                let again = previous.is_some();
                *f = matcher::match_module(project, cat, knowledge, m, previous);
                // The tests check that keeping the clean chunks is the same as walking all.
                if cfg!(debug_assertions) && again {
                    let fresh = matcher::match_module(project, cat, knowledge, m, None);
                    debug_assert_eq!(format!("{f:?}"), format!("{fresh:?}"));
                }
            });
        let next = learn(facts);
        // A module's facts depend on its syntax, the project and the knowledge keys it read:
        // only modules that read a changed key can see a difference in the next round.
        let now = changed_keys(knowledge, &next);
        // At the cap the knowledge stays the one the facts were walked with: taking `next`
        // unwalked would leave facts a walk with it does not give, and the next call (a
        // family kept an object) would keep chunks that read one of `now`'s keys as clean.
        if now.is_empty() || round == TYPE_ROUNDS {
            break;
        }
        dirty = facts
            .iter()
            .map(|f| f.reads.iter().any(|r| now.contains(r)))
            .collect();
        changed = Some(now);
        knowledge.locals = next.locals;
        knowledge.attrs = next.attrs;
        knowledge.params = next.params;
        knowledge.returns = next.returns;
    }
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

/// The fixed point over a project built afresh (the soundness check's index of the output):
/// only the modules `only` marks are matched (all if `None`); the others have no facts.
pub(crate) fn index_fresh(
    project: &mut Project,
    cat: &Catalog,
    only: Option<&[bool]>,
) -> (Vec<ModuleFacts>, Knowledge) {
    let n = project.modules.len();
    let mut knowledge = base_knowledge(project);
    let mut facts: Vec<ModuleFacts> = Vec::new();
    facts.resize_with(n, ModuleFacts::default);
    let dirty = only.map_or_else(|| vec![true; n], <[bool]>::to_vec);
    fixed_point(project, cat, &mut knowledge, &mut facts, &dirty, None);
    (facts, knowledge)
}

/// Rounds of colouring, rewrite and soundness check before giving up: each round pins at
/// least one more function, and few chains need more than one.
const SOUNDNESS_ROUNDS: usize = 8;

/// Colours, rewrites and checks the whole output; a site the check finds unsound pins the
/// function whose colour caused it (`unsound-change-reverted`) and the round is redone.
/// Returns the last round's colouring and outcomes, the functions pinned that way, and the
/// violations no pin could undo.
fn colour_and_rewrite(
    project: &Project,
    cat: &Catalog,
    facts: &[ModuleFacts],
    knowledge: &Knowledge,
    settings: &Settings,
    scope: &colour::Scope,
    mocked: &[(FuncId, colour::Pin)],
) -> (Colouring, Vec<Rewritten>, HashSet<FuncId>, Vec<Violation>) {
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
        let outputs: Vec<Option<&str>> = results.iter().map(|r| r.0.new.as_deref()).collect();
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
            return (colouring, results, pinned, report.violations);
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
                let u = passes::quiet_reports(project, cat, colouring, knowledge, facts, m);
                let (o, d, n, p) = untouched(&project.modules[m], u.0);
                (o, d, n, p, u.1)
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
                    result.0.new.is_none()
                        && result.1 == r.1
                        && format!("{:?}", result.4) == format!("{:?}", r.4)
                },
                "{}: a module judged quiet was changed or reported more",
                project.modules[m].display
            );
            result
        })
        .collect()
}

/// The creations of objects that convert with all of their uses (sessions, files,
/// connections) in the modules outside `--only`.
fn outside_creations(cat: &Catalog, facts: &[ModuleFacts], scope: &colour::Scope) -> Vec<Read> {
    facts
        .iter()
        .enumerate()
        .filter(|(m, _)| scope.is_outside(*m))
        .flat_map(|(m, f)| {
            f.calls
                .iter()
                .map(PackedCall::unpack)
                .filter(|c| passes::catalog::entry(cat, c).is_some_and(|(e, _)| e.object))
                .map(move |c| Read::Kept(m as u32, c.start as u32))
        })
        .collect()
}

/// A module outside `--only`: its rewrite is dropped, with what reports on it, but not the
/// objects its families keep. If it would have changed, an object of a catalog type used
/// there may come from a file that is edited (a file opened in a coroutine inside and handed
/// to one outside): every object of those types is kept, and colouring runs again.
fn outside_only(result: &mut Rewritten, module: &Module, facts: &ModuleFacts) {
    let (outcome, diags, rewritten, packages, keeps) = result;
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

/// The knowledge keys a keep decided in module `m` sets.
fn kept_keys(
    cat: &Catalog,
    knowledge: &Knowledge,
    facts: &[ModuleFacts],
    m: usize,
    what: &passes::Kept,
) -> Vec<Read> {
    match what {
        passes::Kept::Local(f, ty) => {
            // The project functions called there that return such an object made it.
            let kind = Kind::Ext(ty.clone());
            let mut made: Vec<Read> = facts[f.module as usize]
                .calls
                .iter()
                .map(PackedCall::unpack)
                .filter(|c| c.caller == Some(f.func as usize))
                .filter_map(|c| match c.target {
                    crate::matcher::Target::Func(g) if knowledge.returns.get(&g) == Some(&kind) => {
                        Some(g)
                    }
                    _ => None,
                })
                .flat_map(|g| {
                    kept_keys(
                        cat,
                        knowledge,
                        facts,
                        m,
                        &passes::Kept::InFunc(g, ty.clone()),
                    )
                })
                .collect();
            if made.is_empty() {
                made.push(Read::KeptType(ty.clone()));
            }
            made
        }
        passes::Kept::Creation(start) => vec![Read::Kept(m as u32, *start as u32)],
        passes::Kept::Type(ty) => vec![Read::KeptType(ty.clone())],
        passes::Kept::InFunc(g, ty) => facts[g.module as usize]
            .calls
            .iter()
            .map(PackedCall::unpack)
            .filter(|c| c.caller == Some(g.func as usize))
            .filter(|c| {
                passes::catalog::entry(cat, c)
                    .is_some_and(|(e, _)| e.object && e.returns.as_deref() == Some(ty))
            })
            .map(|c| Read::Kept(g.module, c.start as u32))
            .collect(),
        passes::Kept::Param(g, i, ty) => {
            let flows = |f: &ModuleFacts| {
                f.param_obs
                    .iter()
                    .any(|(k, v)| *k == (*g, *i) && v.as_deref() == Some(&Kind::Ext(ty.clone())))
            };
            // The functions that call `g`: their creations are the ones passed.
            let callers = |f: &ModuleFacts| -> Vec<usize> {
                f.calls
                    .iter()
                    .map(PackedCall::unpack)
                    .filter(|c| c.target == crate::matcher::Target::Func(*g))
                    .filter_map(|c| c.caller)
                    .collect()
            };
            let narrowed: Vec<Read> = facts
                .iter()
                .enumerate()
                .filter(|(_, f)| flows(f))
                .flat_map(|(m, f)| {
                    let callers = callers(f);
                    f.calls
                        .iter()
                        .map(PackedCall::unpack)
                        .filter(|c| c.caller.is_some_and(|x| callers.contains(&x)))
                        .filter(|c| {
                            passes::catalog::entry(cat, c)
                                .is_some_and(|(e, _)| e.object && e.returns.as_deref() == Some(ty))
                        })
                        .map(move |c| Read::Kept(m as u32, c.start as u32))
                        .collect::<Vec<_>>()
                })
                .collect();
            if narrowed.is_empty() {
                creations_where(cat, facts, ty, flows)
            } else {
                narrowed
            }
        }
        passes::Kept::Attr(c, name, ty) => {
            let flows = |f: &ModuleFacts| {
                f.attr_obs.iter().any(|(k, v)| {
                    k.0 == *c && k.1 == *name && v.as_deref() == Some(&Kind::Ext(ty.clone()))
                })
            };
            creations_where(cat, facts, ty, flows)
        }
    }
}

/// The creations of `ty` in the modules where `flows` holds; every `ty` if there are none.
fn creations_where(
    cat: &Catalog,
    facts: &[ModuleFacts],
    ty: &str,
    flows: impl Fn(&ModuleFacts) -> bool,
) -> Vec<Read> {
    let found: Vec<Read> = facts
        .iter()
        .enumerate()
        .filter(|(_, f)| flows(f))
        .flat_map(|(m, f)| {
            f.calls
                .iter()
                .map(PackedCall::unpack)
                .filter(|c| {
                    passes::catalog::entry(cat, c)
                        .is_some_and(|(e, _)| e.object && e.returns.as_deref() == Some(ty))
                })
                .map(move |c| Read::Kept(m as u32, c.start as u32))
        })
        .collect();
    if found.is_empty() {
        vec![Read::KeptType(ty.to_string())]
    } else {
        found
    }
}

/// The compact syntax of a module's text, which parsed before.
fn syntax_of(text: &str) -> crate::syntax::PackedSyntax {
    let tree = parse::parse(text).expect("tree-sitter parses what it parsed before");
    crate::syntax::Syntax::new(&tree, text).pack()
}

pub(crate) fn load(mut input: Input) -> Result<Module, Diagnostic> {
    let bytes = std::mem::take(&mut input.bytes);
    let (source, tree) = decode_parse(&input.display, SourceText::decode_owned(bytes))?;
    let (name, aliases, is_package) = module_names(&input.path, &input.root);
    let file_name = input
        .path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let is_test = file_name.starts_with("test_")
        || file_name.ends_with("_test.py")
        || file_name == "conftest.py";
    let syntax = crate::syntax::Syntax::new(&tree, &source.text);
    drop(tree);
    let index = index::build(&syntax, &source.text, &name, is_package);
    let packed = syntax.pack();
    if cfg!(debug_assertions) {
        // The tests check that packing loses nothing.
        let back = packed.unpack(&source.text);
        debug_assert!(back == syntax, "{}: packed syntax differs", input.display);
    }
    drop(syntax);
    Ok(Module {
        path: input.path,
        display: input.display,
        name,
        aliases,
        is_package,
        is_test,
        source,
        syntax: packed,
        index,
    })
}

/// Parses a decoded file; `Err` is the diagnostic for a file that cannot be migrated.
fn decode_parse(
    display: &str,
    decoded: Result<SourceText, crate::source::DecodeError>,
) -> Result<(SourceText, tree_sitter::Tree), Diagnostic> {
    let err = |code, msg: String| Diagnostic::error(display, 1, 1, code, msg);
    let source = decoded.map_err(|e| err("decode-error", e.to_string()))?;
    let tree = parse::parse(&source.text)
        .ok_or_else(|| err("parse-error", "tree-sitter could not parse the file".into()))?;
    if parse::error_count(&tree) > 0 {
        let at = parse::first_error(&tree)
            .map(|n| n.start_position())
            .unwrap_or_default();
        return Err(Diagnostic::error(
            display,
            at.row + 1,
            at.column + 1,
            "syntax-error",
            "the file has a syntax error; skipped (awaitify only rewrites files that parse)",
        ));
    }
    Ok((source, tree))
}

/// The dotted name of a module: from the top of its package chain (directories with
/// `__init__.py`), and also relative to the walked root, which covers namespace packages.
pub(crate) fn module_names(path: &Path, root: &Path) -> (String, Vec<String>, bool) {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let is_package = stem == "__init__";
    let mut parts: Vec<String> = if is_package { Vec::new() } else { vec![stem] };
    let mut dir = path.parent();
    while let Some(d) = dir {
        if !d.join("__init__.py").exists() {
            break;
        }
        match d.file_name() {
            Some(n) => parts.push(n.to_string_lossy().to_string()),
            None => break,
        }
        dir = d.parent();
    }
    parts.reverse();
    let name = parts.join(".");
    let mut aliases = Vec::new();
    let rel = path.strip_prefix(root).ok().map(|r| {
        let mut segs: Vec<String> = r.iter().map(|s| s.to_string_lossy().to_string()).collect();
        if let Some(last) = segs.last_mut() {
            *last = last.trim_end_matches(".py").to_string();
        }
        if segs.last().is_some_and(|s| s == "__init__") {
            segs.pop();
        }
        segs.join(".")
    });
    if let Some(rel) = rel.filter(|r| !r.is_empty() && *r != name) {
        aliases.push(rel.clone());
        for prefix in ["src.", "lib."] {
            if let Some(stripped) = rel.strip_prefix(prefix) {
                aliases.push(stripped.to_string());
            }
        }
    }
    (name, aliases, is_package)
}

fn base_knowledge(p: &Project) -> Knowledge {
    let mut k = Knowledge {
        family: colour::families(p),
        ..Knowledge::default()
    };
    for f in p.func_ids() {
        let def = p.func(f);
        if def.is_method() {
            k.methods_by_name
                .entry(def.name.to_string())
                .or_default()
                .push(f);
        }
    }
    k
}

/// The knowledge keys whose value differs between two rounds.
fn changed_keys(a: &Knowledge, b: &Knowledge) -> HashSet<u64> {
    fn diff<K: std::hash::Hash + Eq + Clone, V: PartialEq>(
        x: &HashMap<K, V>,
        y: &HashMap<K, V>,
        read: impl Fn(K) -> Read,
        out: &mut HashSet<u64>,
    ) {
        for (k, v) in x {
            if y.get(k) != Some(v) {
                out.insert(read(k.clone()).fingerprint());
            }
        }
        for k in y.keys() {
            if !x.contains_key(k) {
                out.insert(read(k.clone()).fingerprint());
            }
        }
    }
    let mut out = HashSet::default();
    diff(&a.locals, &b.locals, Read::Local, &mut out);
    diff(&a.params, &b.params, |(f, i)| Read::Param(f, i), &mut out);
    diff(&a.attrs, &b.attrs, |(c, n)| Read::Attr(c, n), &mut out);
    diff(&a.returns, &b.returns, Read::Return, &mut out);
    out
}

/// Joins the type observations of every module: a binding seen with two types is unknown.
/// Only the learnt maps are filled in; the rest stays empty.
fn learn(facts: &[ModuleFacts]) -> Knowledge {
    // Runs every round over every observation: joined by reference, cloning only the result.
    fn join<'f, K>(obs: impl Iterator<Item = &'f (K, matcher::Observed)>) -> HashMap<K, Kind>
    where
        K: std::hash::Hash + Eq + Clone + 'f,
    {
        join_all(obs)
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect()
    }
    // Keeps the bindings of unknown type too.
    fn join_all<'f, K>(
        obs: impl Iterator<Item = &'f (K, matcher::Observed)>,
    ) -> HashMap<K, Option<Kind>>
    where
        K: std::hash::Hash + Eq + Clone + 'f,
    {
        let mut seen: HashMap<&K, Option<&Kind>> = HashMap::default();
        for (k, v) in obs {
            let v = v.as_deref();
            seen.entry(k)
                .and_modify(|old| {
                    if *old != v {
                        *old = None;
                    }
                })
                .or_insert(v);
        }
        seen.into_iter()
            .map(|(k, v)| (k.clone(), v.cloned()))
            .collect()
    }
    let ((locals, attrs), (params, returns)) = rayon::join(
        || {
            rayon::join(
                || join(facts.iter().flat_map(|f| &f.local_obs)),
                || join_all(facts.iter().flat_map(|f| &f.attr_obs)),
            )
        },
        || {
            rayon::join(
                || join(facts.iter().flat_map(|f| &f.param_obs)),
                || join(facts.iter().flat_map(|f| &f.return_obs)),
            )
        },
    );
    Knowledge {
        locals,
        attrs,
        params,
        returns,
        ..Knowledge::default()
    }
}

/// The outcome of a module that does not change (`old` is filled in by `migrate`).
fn untouched(
    module: &Module,
    diagnostics: Vec<Diagnostic>,
) -> (FileOutcome, Vec<Diagnostic>, usize, BTreeSet<String>) {
    let outcome = FileOutcome {
        path: module.path.clone(),
        display: module.display.clone(),
        old: String::new(),
        new: None,
        codec: module.source.codec(),
        rule_hits: Default::default(),
    };
    (outcome, diagnostics, 0, BTreeSet::new())
}

fn rewrite(cx: &PassCx) -> Rewritten {
    let mut out = passes::run_all(cx);
    let keep = std::mem::take(&mut out.keep);
    let (o, d, n, p) = rewrite_out(cx, out);
    (o, d, n, p, keep)
}

fn rewrite_out(
    cx: &PassCx,
    out: passes::PassOut,
) -> (FileOutcome, Vec<Diagnostic>, usize, BTreeSet<String>) {
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
    let (mut outcome, diagnostics, _, _) = untouched(module, diagnostics);
    outcome.rule_hits = crate::report::rule_hits(cx.cat, cx.calls, &out.edits);
    outcome.new = Some(new);
    (outcome, diagnostics, out.rewritten, out.packages)
}

/// A module whose rewrite failed a check: unchanged, with one error saying why.
fn left_unchanged(
    module: &Module,
    mut diagnostics: Vec<Diagnostic>,
    code: &'static str,
    why: String,
) -> (FileOutcome, Vec<Diagnostic>, usize, BTreeSet<String>) {
    diagnostics.push(Diagnostic::error(&module.display, 1, 1, code, why));
    untouched(module, diagnostics)
}

/// `--explain NAME`: the chain from each matching function down to its blocking call.
fn explain(p: &Project, c: &Colouring, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut matches: Vec<FuncId> = p
        .func_ids()
        .filter(|f| {
            p.func(*f).name == name || p.func(*f).qualname == name || p.func_name(*f) == name
        })
        .collect();
    matches.sort();
    for f in matches {
        let mut lines = vec![];
        if let Some(pin) = c.pinned.get(&f) {
            lines.push(format!(
                "{} stays sync: {} ({}:{})",
                p.func_name(f),
                pin.reason,
                p.modules[pin.module].display,
                pin.line
            ));
        } else if c.pinned_below.contains_key(&f) {
            lines.extend(pinned_by_callers(p, c, f));
        } else if !c.async_funcs.contains(&f) {
            lines.push(format!(
                "{} stays sync: nothing it calls blocks",
                p.func_name(f)
            ));
        }
        let mut cur = f;
        let mut seen = BTreeSet::new();
        while c.async_funcs.contains(&cur) && seen.insert(cur) {
            let head = format!("{} ({})", p.func_name(cur), p.func_location(cur));
            match c.why.get(&cur) {
                Some(Why::Seed {
                    rule,
                    what,
                    module,
                    line,
                }) => {
                    lines.push(format!(
                        "{head} is async because it calls {what} at {}:{line} [{rule}]",
                        p.modules[*module].display
                    ));
                    break;
                }
                Some(Why::Calls {
                    callee,
                    module,
                    line,
                }) => {
                    lines.push(format!(
                        "{head} is async because it awaits {} at {}:{line}",
                        p.func_name(*callee),
                        p.modules[*module].display
                    ));
                    cur = *callee;
                }
                Some(Why::Callback { member, owner }) => {
                    lines.push(format!(
                        "{head} is async because it is passed, as {} is, to a parameter of {} that awaits its calls",
                        p.func_name(*member),
                        p.func_name(*owner)
                    ));
                    cur = *member;
                }
                Some(Why::Family { member }) => {
                    lines.push(format!(
                        "{head} is async because it overrides or is overridden by {}",
                        p.func_name(*member)
                    ));
                    cur = *member;
                }
                Some(Why::Existing) | None => {
                    lines.push(format!("{head} was already async"));
                    break;
                }
            }
        }
        out.push(lines.join("\n  "));
    }
    if out.is_empty() {
        out.push(format!("no function named `{name}` in the files scanned"));
    }
    out
}

/// `--explain` for a function kept sync by a pinned caller: the callers up to the pin.
fn pinned_by_callers(p: &Project, c: &Colouring, f: FuncId) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut cur, mut seen) = (f, BTreeSet::new());
    while let Some(&above) = c.pinned_below.get(&cur) {
        if !seen.insert(cur) {
            break;
        }
        let at = c
            .pinned_below_at
            .get(&cur)
            .map(|&(m, line)| format!(" at {}:{line}", p.modules[m].display))
            .unwrap_or_default();
        lines.push(format!(
            "{} stays sync: {} ({}) calls it{at} and must stay sync",
            p.func_name(cur),
            p.func_name(above),
            p.func_location(above)
        ));
        cur = above;
    }
    let pin = c
        .pinned
        .iter()
        .find(|(g, _)| c.family.get(g).copied().unwrap_or(**g) == cur || **g == cur);
    if let Some((g, pin)) = pin {
        lines.push(format!(
            "{} stays sync: {} ({}:{})",
            p.func_name(*g),
            pin.reason,
            p.modules[pin.module].display,
            pin.line
        ));
    }
    lines
}

/// The command-line run: discover, migrate, print, write. Returns the exit code.
pub fn run(cfg: &Config) -> anyhow::Result<u8> {
    if cfg.list_rules {
        print!("{}", cfg.catalog.markdown());
        return Ok(0);
    }
    let opts = WalkOptions {
        no_ignore: cfg.no_ignore,
        exclude: &cfg.excludes,
    };
    let found = walk::discover(&cfg.paths, &opts);
    let mut early: Vec<Diagnostic> = Vec::new();
    let files: Vec<(PathBuf, PathBuf)> = found
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
                early.push(Diagnostic::error(
                    &p.display().to_string(),
                    1,
                    1,
                    "walk-error",
                    e,
                ));
                None
            }
        })
        .collect();
    let max = cfg.max_file_size;
    let progress = fileio::progress(files.len(), cfg.quiet);
    let (inputs, read_errors): (Vec<Input>, Vec<Diagnostic>) = files
        .into_par_iter()
        .map(|(path, root)| {
            progress.inc(1);
            fileio::read_input(path, root, max)
        })
        .partition_map(|r| match r {
            Ok(i) => rayon::iter::Either::Left(i),
            Err(d) => rayon::iter::Either::Right(d),
        });
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

    // Buffered: a large run prints thousands of diagnostics, and stderr is unbuffered (a
    // write per formatted piece).
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut err = std::io::BufWriter::new(std::io::stderr().lock());

    if cfg.mode == Mode::Write {
        for f in &migration.files {
            let Some(new) = &f.new else { continue };
            // Both were checked before (decoding round-trips, the rewrite encodes `new`);
            // should that ever fail, the file is left alone.
            let written = match (f.codec.encode(&f.old), f.codec.encode(new)) {
                (Ok(old), Ok(new)) => fileio::write_checked(&f.path, &old, &new)
                    .map_err(|e| (e.code(), e.to_string())),
                (Err(why), _) | (_, Err(why)) => Err(("encode-error", why)),
            };
            if let Err((code, why)) = written {
                migration
                    .diagnostics
                    .push(Diagnostic::error(&f.display, 1, 1, code, why));
                migration.summary.errors += 1;
            }
        }
    }

    let shown = select(cfg, &mut migration);
    let result = print(cfg, &migration, &shown, &mut out, &mut err).and_then(|()| err.flush());
    if let Err(e) = result
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
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

/// Adds the warnings of the suppression comments, then keeps the diagnostics the selection
/// shows and counts the others in the summary by why they are hidden.
fn select(cfg: &Config, mig: &mut Migration) -> Vec<Diagnostic> {
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
