//! The rounds for the objects the families keep: a family that finds an object it cannot
//! convert with all of its uses keeps it; the objects it keeps are matched again without
//! their conversion and everything coloured again, so nothing becomes async because of a
//! conversion that was abandoned.

use super::Settings;
use super::rewrite::{self, Checked, Rewritten};
use crate::colour;
use crate::matcher::{self, Kind, Knowledge, ModuleFacts, PackedCall, Read};
use crate::passes;
use crate::project::{FuncId, Project};
use crate::report::Diagnostic;
use crate::rules::Catalog;
use rustc_hash::FxHashSet as HashSet;

/// Keeping only grows, so the rounds end; the cap is a guard.
const KEEP_ROUNDS: usize = 8;

/// What the rounds leave: the last round's colouring and rewrite, and the reports of the
/// keeps that kept something new.
pub(super) struct Rounds {
    pub checked: Checked,
    pub kept_notes: Vec<Diagnostic>,
}

/// Matches (the type-knowledge fixed point), colours and rewrites, again while the families
/// keep more objects.
pub(super) fn rounds(
    project: &mut Project,
    cat: &Catalog,
    settings: &Settings,
    scope: &colour::Scope,
    mocked: &[(FuncId, colour::Pin)],
) -> Rounds {
    let n = project.modules.len();
    let mut knowledge = matcher::base_knowledge(project);
    let mut facts: Vec<ModuleFacts> = Vec::new();
    facts.resize_with(n, ModuleFacts::default);
    let mut dirty = vec![true; n];
    let mut changed: Option<HashSet<u64>> = None;
    let mut kept_notes: Vec<Diagnostic> = Vec::new();
    let mut round = 0;
    loop {
        round += 1;
        matcher::fixed_point(
            project,
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
        let checked =
            rewrite::colour_and_rewrite(project, cat, &facts, &knowledge, settings, scope, mocked);
        let mut now = HashSet::default();
        // `--only`: the objects created in a file that is not edited stay as they are, so
        // they are kept with all of their uses, as if a use could not convert.
        if round == 1 {
            for read in outside_creations(cat, &facts, scope) {
                if let Read::Kept(m, start) = read
                    && knowledge.kept.insert((m, start))
                {
                    now.insert(read.fingerprint());
                }
            }
        }
        let learnt = learn_keeps(cat, &mut knowledge, &facts, &checked.results, &mut now);
        kept_notes.extend(learnt);
        if now.is_empty() || round == KEEP_ROUNDS {
            return Rounds {
                checked,
                kept_notes,
            };
        }
        dirty = facts
            .iter()
            .map(|f| f.reads.iter().any(|r| now.contains(r)))
            .collect();
        changed = Some(now);
    }
}

/// Adds what the rewrite's keeps decide to `knowledge`, with the fingerprint of each key set
/// to `now`; returns the report of each keep that set a new key.
fn learn_keeps(
    cat: &Catalog,
    knowledge: &mut Knowledge,
    facts: &[ModuleFacts],
    results: &[Rewritten],
    now: &mut HashSet<u64>,
) -> Vec<Diagnostic> {
    let mut notes = Vec::new();
    let keeps = results
        .iter()
        .enumerate()
        .flat_map(|(m, r)| r.keeps.iter().map(move |k| (m, k)));
    // A family's own report of a kept object says more than the generic `object-kept`.
    let (own, generic): (Vec<_>, Vec<_>) =
        keeps.partition(|(_, k)| k.diagnostic.code != "object-kept");
    for (m, keep) in own.into_iter().chain(generic) {
        let mut new = false;
        for read in kept_keys(cat, knowledge, facts, m, &keep.what) {
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
            notes.push(keep.diagnostic.clone());
        }
    }
    notes
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
