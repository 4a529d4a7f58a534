//! `catalog-call`: applies the data rules of `transforms/` to matched calls and names.
//!
//! Why: each catalog entry names a blocking API and its asyncio equivalent; this pass does
//! what the entry says: swap the callee (`time.sleep` → `asyncio.sleep`), move the call off
//! the event loop (`await asyncio.to_thread(shutil.copyfile, a, b)`), rename a method, or
//! report a call that has no faithful async form. Awaiting is the `await-call` pass's job.
//!
//! A blocking call inside a function that must stay sync is left alone and reported.

use super::{PassCx, PassOut};
use crate::edit::Edit;
use crate::matcher::{CallFact, Target};
use crate::rules::{Action, CallEntry};

pub fn run(cx: &PassCx, out: &mut PassOut) {
    for c in &cx.facts.calls {
        let entry = match &c.target {
            Target::Rule(q) => cx.cat.call(q),
            Target::Method { ty, name } => cx.cat.method(ty, name),
            _ => None,
        };
        let Some(entry) = entry else { continue };
        let blocking = entry.awaited || entry.action == Action::ToThread;
        if blocking && !cx.call_is_awaited(c) && !cx.entered_by_async_with(c) {
            report_kept(cx, c, out);
            continue;
        }
        apply(cx, c, entry, out);
        out.packages
            .extend(cx.cat.rule(entry.rule).packages.iter().cloned());
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
            let Some(args) = cx
                .node(c.start, c.end)
                .and_then(|n| n.child_by_field_name("arguments"))
            else {
                return;
            };
            if args.kind() != "argument_list" {
                return;
            }
            let sep = if args.named_child_count() > 0 {
                ", "
            } else {
                ""
            };
            // Around the callee, not over it: the callee keeps its own edits, and the import
            // it uses (`shutil`, `Path`) still counts as used.
            // Sized by the callee: inside the call's own `await `, outside the callee's edits.
            out.edits.push(Edit::open(
                c.callee.0,
                c.callee.1 - c.callee.0,
                "asyncio.to_thread(",
                "to-thread",
            ));
            out.edits.push(Edit::replace(
                c.callee.1,
                args.start_byte() + 1,
                sep,
                "to-thread",
            ));
            out.imports.insert("asyncio".into());
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

/// A blocking call that stays because its function must stay sync.
fn report_kept(cx: &PassCx, c: &CallFact, out: &mut PassOut) {
    let Some(f) = c.caller else { return };
    let fid = cx.fid(f);
    let what = &cx.src()[c.callee.0..c.callee.1];
    let name = &cx.module().index.functions[f].name;
    let why = if let Some(pin) = cx.colour.pinned.get(&fid) {
        format!("`{name}` must stay sync: {}", pin.reason)
    } else if let Some(&above) = cx.colour.pinned_below.get(&fid) {
        format!(
            "`{name}` must stay sync because `{}` calls it and must stay sync",
            cx.p.func(above).name
        )
    } else {
        return;
    };
    out.diagnostics.push(cx.diag(
        c.line,
        c.col,
        "blocking-call-kept",
        format!("blocking call `{what}` left in place: {why}"),
    ));
}

/// Registers the import a dotted replacement needs (`aiofiles.os.remove` → `aiofiles.os`).
pub fn need_import(dotted: &str, out: &mut PassOut) {
    if let Some((module, _)) = dotted.rsplit_once('.') {
        out.imports.insert(module.to_string());
    }
}
