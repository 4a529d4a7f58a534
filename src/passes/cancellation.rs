//! `swallowed-cancellation`: a catch-all handler in a coroutine lets cancellation through.
//!
//! Why: `asyncio.CancelledError` is how a task is cancelled (by `wait_for`, `timeout`, a
//! `TaskGroup` or shutdown). It is raised at an `await`. A bare `except:` or
//! `except BaseException:` around an `await` catches it and carries on, so the task cannot
//! be cancelled: timeouts and shutdown hang. This pass puts a handler that re-raises
//! cancellation in front, keeping the handler's behaviour for everything else:
//!
//! ```python
//! try:                                   try:
//!     r = await fetch(n)                     r = await fetch(n)
//! except:                          ->    except asyncio.CancelledError:
//!     r = None                               raise
//!                                        except:
//!                                            r = None
//! ```
//!
//! Only in code that is async in the output, and only when the `try` body awaits (after the
//! migration): cancellation is delivered at an `await`, so a body that never awaits cannot
//! see it. A handler that already ends in a bare `raise`, or a `try` that handles
//! `CancelledError` earlier, is left alone.
//!
//! `except Exception:` is not touched and not reported: `CancelledError` derives from
//! `BaseException` since Python 3.8, below every version awaitify targets, so such a
//! handler cannot swallow it ([`exception_catches_cancelled`]).
//!
//! Unsafe when: the handler was meant to absorb cancellation (a task that must never be
//! cancelled); such code should use `asyncio.shield` instead.

use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin};
use crate::matcher::{Kind, Target};
use crate::rules::Action;
use crate::target::PyVersion;
use tree_sitter::Node;

/// Whether `except Exception:` catches `asyncio.CancelledError` on this version: it did
/// before Python 3.8, which no supported target reaches.
pub fn exception_catches_cancelled(target: PyVersion) -> bool {
    target.minor() < 8
}

pub fn run(cx: &PassCx, out: &mut PassOut) {
    for (i, def) in cx.module().index.functions.iter().enumerate() {
        if !cx.colour.async_funcs.contains(&cx.fid(i)) {
            continue;
        }
        let Some(body) = cx
            .node(def.start, def.end)
            .and_then(|n| n.child_by_field_name("body"))
        else {
            continue;
        };
        let mut tries = Vec::new();
        own_tries(body, &mut tries);
        for t in tries {
            check_try(cx, i, t, out);
        }
    }
}

/// `try` statements of this function, not of nested functions, lambdas or classes.
fn own_tries<'a>(node: Node<'a>, out: &mut Vec<Node<'a>>) {
    match node.kind() {
        "function_definition" | "class_definition" | "lambda" => return,
        "try_statement" => out.push(node),
        _ => {}
    }
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        own_tries(child, out);
    }
}

fn check_try(cx: &PassCx, f: usize, t: Node, out: &mut PassOut) {
    let Some(body) = t.child_by_field_name("body") else {
        return;
    };
    if !awaits_in(cx, f, body) {
        return;
    }
    let src = cx.src();
    let mut cursor = t.walk();
    let clauses: Vec<Node> = t
        .named_children(&mut cursor)
        .filter(|c| c.kind() == "except_clause")
        .collect();
    for clause in clauses {
        let mut cc = clause.walk();
        let star = clause.children(&mut cc).any(|c| c.kind() == "*");
        if star {
            return;
        }
        let types: Vec<Node> = {
            let mut cc = clause.walk();
            clause
                .children_by_field_name("value", &mut cc)
                .filter_map(|v| {
                    // `except E as e` parses as an `as_pattern` around the type.
                    if v.kind() == "as_pattern" {
                        v.named_child(0)
                    } else {
                        Some(v)
                    }
                })
                .flat_map(|v| {
                    if v.kind() == "tuple" || v.kind() == "parenthesized_expression" {
                        let mut vc = v.walk();
                        v.named_children(&mut vc).collect::<Vec<_>>()
                    } else {
                        vec![v]
                    }
                })
                .collect()
        };
        // A handler for CancelledError first decides what cancellation does.
        let core = &cx.cat.names().core;
        if types.iter().any(|n| is(cx, f, *n, &core.cancelled_error)) {
            return;
        }
        let catch_all =
            types.is_empty() || types.iter().any(|n| is(cx, f, *n, &core.base_exception));
        if !catch_all {
            continue;
        }
        if reraises(clause, src) {
            return;
        }
        insert_handler(cx, clause, out);
        return;
    }
}

/// Whether the handler's type resolves to `qualified` (not a local or an import that
/// rebinds the name).
fn is(cx: &PassCx, f: usize, n: Node, qualified: &str) -> bool {
    cx.qualified(Some(f), n).is_some_and(|q| q == qualified)
}

fn handler_block(clause: Node) -> Option<Node> {
    let mut cursor = clause.walk();
    clause
        .named_children(&mut cursor)
        .filter(|c| c.kind() == "block")
        .last()
}

/// The handler's own block ends in a bare `raise`.
fn reraises(clause: Node, src: &str) -> bool {
    let Some(block) = handler_block(clause) else {
        return false;
    };
    let mut cursor = block.walk();
    let last = block
        .named_children(&mut cursor)
        .filter(|s| s.kind() != "comment")
        .last();
    last.is_some_and(|s| s.kind() == "raise_statement" && src[s.byte_range()].trim() == "raise")
}

/// Whether `node` holds an await point once migrated: an `await`, `async for`/`async with`,
/// or a call, loop or `with` that a pass turns into one.
fn awaits_in(cx: &PassCx, f: usize, node: Node) -> bool {
    let (s, e) = (node.start_byte(), node.end_byte());
    if has_await(node) {
        return true;
    }
    let inside = |at: usize| s <= at && at < e;
    let calls = cx.calls.iter().filter(|c| inside(c.start));
    for c in calls {
        if cx.call_is_awaited(c) {
            return true;
        }
        // A family pass decides itself whether to await (requests, subprocess, ...).
        let entry = match &c.target {
            Target::Rule(q) => cx.cat.call(q),
            Target::Method { ty, name } => cx.cat.method(ty, name),
            _ => None,
        };
        if entry.is_some_and(|e| e.action == Action::Pass && !c.awaited)
            && cx.can_await(c.caller, c.ctx)
        {
            return true;
        }
    }
    let becomes_async = |k: &Kind, with: bool| match k {
        Kind::Gen(g) => !with && cx.colour.async_funcs.contains(g),
        Kind::Ext(ty) => {
            let u = if with {
                cx.cat.with_use(ty)
            } else {
                cx.cat.iterate_use(ty)
            };
            u.is_some_and(|(_, u)| u.make_async)
        }
        Kind::Instance(c) if with => {
            cx.p.method(*c, "__enter__")
                .is_some_and(|m| cx.colour.async_funcs.contains(&m))
        }
        // A `for` over an iterator class whose `__next__` turns async becomes `async for`.
        Kind::Instance(c) => crate::colour::iteration_method(cx.p, *c)
            .is_some_and(|m| cx.colour.async_funcs.contains(&m)),
        _ => false,
    };
    // A decorator's wrapper calling the wrapped function, which colouring awaits.
    let param_awaited = cx.facts.param_calls.iter().any(|c| {
        c.caller == f
            && inside(c.start)
            && !c.awaited
            && cx.colour.awaited_param_calls.contains(&(cx.m, c.start))
    });
    let fid = Some(f);
    param_awaited
        || cx
            .facts
            .fors
            .iter()
            .any(|x| x.caller == fid && inside(x.for_kw) && becomes_async(&x.kind, false))
        || cx
            .facts
            .withs
            .iter()
            .any(|x| x.caller == fid && inside(x.with_kw) && becomes_async(&x.kind, true))
}

fn has_await(node: Node) -> bool {
    match node.kind() {
        "await" => return true,
        "function_definition" | "lambda" | "class_definition" => return false,
        "for_statement" | "with_statement"
            if node.child(0).is_some_and(|c| c.kind() == "async") =>
        {
            return true;
        }
        _ => {}
    }
    let mut cursor = node.walk();
    node.named_children(&mut cursor).any(has_await)
}

fn insert_handler(cx: &PassCx, clause: Node, out: &mut PassOut) {
    let src = cx.src();
    let start = clause.start_byte();
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    if !src[line_start..start].trim().is_empty() {
        return;
    }
    let nl = cx.module().source.newline;
    let indent = cx.line_indent(start);
    // The handler body's indentation as this file writes it.
    let unit = handler_block(clause)
        .filter(|b| b.start_position().row > clause.start_position().row)
        .map(|b| cx.line_indent(b.start_byte()))
        .and_then(|body| body.strip_prefix(indent))
        .filter(|u| !u.is_empty())
        .map_or_else(|| cx.module().source.indent.clone(), str::to_string);
    let cancelled = &cx.cat.names().core.cancelled_error;
    out.edits.push(Edit::insert(
        start,
        format!("except {cancelled}:{nl}{indent}{unit}raise{nl}{indent}"),
        Origin::SwallowedCancellation,
    ));
    out.imports.insert(crate::names::module(cancelled).into());
    out.rewritten += 1;
}
