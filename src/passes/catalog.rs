//! `catalog-call`: applies the data rules of `transforms/` to matched calls and names.
//!
//! Why: each catalog entry names a blocking API and its asyncio equivalent; this pass does
//! what the entry says: swap the callee (`time.sleep` → `asyncio.sleep`), move the call off
//! the event loop (`await asyncio.to_thread(shutil.copyfile, a, b)`), rename a method, or
//! report a call that has no faithful async form. Awaiting is the `await-call` pass's job.
//!
//! A blocking call inside a function that must stay sync is left alone and reported.

use super::{PassCx, PassOut};
use crate::colour::Colouring;
use crate::edit::Edit;
use crate::matcher::{AttrFact, CallFact, Target};
use crate::project::{FuncId, Project};
use crate::report::Diagnostic;
use crate::rules::{Action, CallEntry, Catalog};

pub fn run(cx: &PassCx, out: &mut PassOut) {
    for c in cx.calls {
        let Some((entry, blocking)) = entry(cx.cat, c) else {
            continue;
        };
        if blocking && !cx.call_is_awaited(c) && !cx.entered_by_async_with(c) {
            report_kept(cx, c, out);
            continue;
        }
        apply(cx, c, entry, out);
        out.packages
            .extend(cx.cat.rule(entry.rule).packages.iter().cloned());
    }
    for a in &cx.facts.attrs {
        // Inside functions, where typed values come from rewritten calls (a response passed
        // to a sync helper is an httpx response too); module-level code keeps its calls.
        if a.caller.is_none() {
            continue;
        }
        if let Some((rule, replace)) = cx.cat.attribute(&a.ty, &a.name) {
            attribute(cx, a, replace, out);
            out.packages
                .extend(cx.cat.rule(*rule).packages.iter().cloned());
        }
    }
    for n in &cx.facts.names {
        if let Some((rule, replace)) = cx.cat.name(&n.qualified) {
            out.edits.push(Edit::replace(
                n.start,
                n.end,
                replace.clone(),
                "catalog-name",
            ));
            need_import(replace, out);
            out.packages
                .extend(cx.cat.rule(*rule).packages.iter().cloned());
        }
    }
}

fn apply(cx: &PassCx, c: &CallFact, entry: &CallEntry, out: &mut PassOut) {
    let src = cx.src();
    let what = &src[c.callee.0..c.callee.1];
    match entry.action {
        Action::Keep => {}
        Action::Replace => {
            let new = entry.replace.as_deref().unwrap_or_default();
            match &c.target {
                // A method keeps its receiver: only the attribute name changes.
                Target::Method { .. } => {
                    let attr = cx
                        .node(c.callee.0, c.callee.1)
                        .and_then(|n| n.child_by_field_name("attribute"));
                    if let Some(attr) = attr {
                        out.edits.push(Edit::replace(
                            attr.start_byte(),
                            attr.end_byte(),
                            new,
                            "catalog-call",
                        ));
                    }
                }
                _ => {
                    out.edits
                        .push(Edit::replace(c.callee.0, c.callee.1, new, "catalog-call"));
                    need_import(new, out);
                }
            }
            if !entry.awaited {
                out.rewritten += 1;
            }
        }
        Action::ToThread => {
            to_thread(cx, c, out);
        }
        Action::Report => {
            let msg = entry.message.clone().unwrap_or_else(|| {
                format!("`{what}` has no faithful async equivalent; left as is")
            });
            out.diagnostics
                .push(cx.diag(c.line, c.col, "unconvertible-call", msg));
        }
        Action::Pass => {
            let rule = cx.cat.rule(entry.rule);
            let handled = rule
                .pass
                .as_deref()
                .is_some_and(|p| crate::passes::family(p, cx, c, entry, out));
            if !handled {
                let msg = format!(
                    "`{what}` ({}) could not be rewritten here; left as is",
                    rule.id
                );
                out.diagnostics
                    .push(cx.diag(c.line, c.col, "unconvertible-call", msg));
            }
        }
    }
}

/// `f(a, b)` -> `asyncio.to_thread(f, a, b)` (the `await-call` pass adds the `await`).
/// Returns false when the call has no plain argument list to extend.
pub fn to_thread(cx: &PassCx, c: &CallFact, out: &mut PassOut) -> bool {
    let Some(args) = cx
        .node(c.start, c.end)
        .and_then(|n| n.child_by_field_name("arguments"))
    else {
        return false;
    };
    if args.kind() != "argument_list" {
        return false;
    }
    // The callee's text stays where it is (so its import stays counted as used): the call's
    // `(` becomes the separator after it.
    super::wrap_as_first_argument(
        c.callee,
        args.start_byte(),
        args,
        "asyncio.to_thread",
        "to-thread",
        out,
    );
    out.imports.insert("asyncio".into());
    true
}

/// `[[attribute]]` rules: a rename of the attribute, or a template around the receiver.
/// The receiver's own text is never replaced, so edits inside it (an `await`) compose.
fn attribute(cx: &PassCx, a: &AttrFact, replace: &str, out: &mut PassOut) {
    let Some((prefix, suffix)) = replace.split_once("{value}") else {
        // A plain rename: only the name after the dot changes.
        let dot = cx.src()[a.object.1..a.end]
            .rfind('.')
            .map(|i| a.object.1 + i);
        if let Some(dot) = dot {
            out.edits
                .push(Edit::replace(dot + 1, a.end, replace, "catalog-attribute"));
        }
        return;
    };
    let len = a.end - a.start;
    let simple = |t: &str| {
        t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.".contains(c))
    };
    let parens = !(simple(prefix) && simple(suffix))
        && cx.node(a.start, a.end).is_some_and(|n| !stands_alone(n));
    // Wider than the receiver's own `(await ` so that the template's text goes outside it.
    let (open, close) = if parens { ("(", ")") } else { ("", "") };
    if !prefix.is_empty() || parens {
        out.edits.push(Edit::open(
            a.start,
            len + 1,
            format!("{open}{prefix}"),
            "catalog-attribute",
        ));
    }
    out.edits.push(Edit::replace(
        a.object.1,
        a.end,
        format!("{suffix}{close}"),
        "catalog-attribute",
    ));
}

/// Whether an expression in this position needs no parentheses whatever operators it holds
/// (a comparison or `not` expression stays one operand there).
fn stands_alone(n: tree_sitter::Node) -> bool {
    let Some(p) = n.parent() else { return true };
    match p.kind() {
        "expression_statement"
        | "return_statement"
        | "argument_list"
        | "keyword_argument"
        | "parenthesized_expression"
        | "boolean_operator"
        | "not_operator"
        | "list"
        | "tuple"
        | "set"
        | "assert_statement"
        | "pair"
        | "interpolation"
        | "conditional_expression"
        | "expression_list" => true,
        "if_statement" | "elif_clause" | "while_statement" => p
            .child_by_field_name("condition")
            .is_some_and(|c| c.id() == n.id()),
        "assignment" => p
            .child_by_field_name("right")
            .is_some_and(|c| c.id() == n.id()),
        _ => false,
    }
}

/// A blocking call that stays because its function must stay sync.
fn report_kept(cx: &PassCx, c: &CallFact, out: &mut PassOut) {
    out.diagnostics.extend(kept(cx.p, cx.colour, cx.m, c));
}

/// The report of a blocking call left in a function that must stay sync, if it is one. Needs
/// no tree: [`super::quiet_reports`] makes it for modules the rewrite skips.
pub fn kept(p: &Project, colour: &Colouring, m: usize, c: &CallFact) -> Option<Diagnostic> {
    let f = c.caller?;
    let fid = FuncId {
        module: m as u32,
        func: f as u32,
    };
    let module = &p.modules[m];
    let what = &module.source.text[c.callee.0..c.callee.1];
    let name = &module.index.functions[f].name;
    let why = if let Some(pin) = colour.pinned.get(&fid) {
        format!("`{name}` must stay sync: {}", pin.reason)
    } else if let Some(&above) = colour.pinned_below.get(&fid).or_else(|| {
        // Keyed by override family: a member other than the family's first is found by it.
        colour.pinned_below.get(colour.family.get(&fid)?)
    }) {
        let rep = colour.family.get(&fid).copied().unwrap_or(fid);
        let at = colour
            .pinned_below_at
            .get(&fid)
            .or_else(|| colour.pinned_below_at.get(&rep))
            .map(|&(m, line)| format!(" at {}:{line}", p.modules[m].display))
            .unwrap_or_default();
        format!(
            "`{name}` must stay sync because `{}` calls it{at} and must stay sync",
            p.func(above).name
        )
    } else {
        return None;
    };
    Some(Diagnostic::new(
        &module.display,
        c.line,
        c.col,
        "blocking-call-kept",
        format!("blocking call `{what}` left in place: {why}"),
    ))
}

/// The catalog entry of a call, and whether the entry blocks (its call is awaited or moved to a
/// thread): outside async code such a call is only reported ([`kept`]).
pub fn entry<'c>(cat: &'c Catalog, c: &CallFact) -> Option<(&'c CallEntry, bool)> {
    let entry = match &c.target {
        Target::Rule(q) => cat.call(q),
        Target::Method { ty, name } => cat.method(ty, name),
        _ => None,
    }?;
    Some((entry, entry.awaited || entry.action == Action::ToThread))
}

/// Registers the import a dotted replacement needs (`aiofiles.os.remove` → `aiofiles.os`).
pub fn need_import(dotted: &str, out: &mut PassOut) {
    if let Some((module, _)) = dotted.rsplit_once('.') {
        out.imports.insert(module.to_string());
    }
}
