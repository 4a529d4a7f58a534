//! `blocking-call-in-coroutine`: a known blocking call left inside code that is async in the
//! output, which no catalog rule rewrote or reported, is reported.
//!
//! Why: one blocking call in a coroutine stops every task on the loop for its duration
//! (ruff's flake8-async rules ASYNC210–251 flag them). The catalog rewrites most of them
//! (`time.sleep` → `asyncio.sleep`, `to_thread`, httpx, aiofiles); this pass is the safety
//! net that keeps the promise "rewritten or reported" for the names of those ruff rules that
//! the catalog does not (yet) cover, so no blocking call in a coroutine passes silently.
//!
//! ```python
//! async def handler(url):
//!     httpx.get(url)   # reported: ASYNC210, suggest httpx.AsyncClient
//! ```
//!
//! The names, with their ruff rule and advice, are the catalog's `[[blocking]]` entries
//! (`transforms/blocking-call-in-coroutine.toml`). The matcher resolves them as it resolves
//! every call (`from os import system as sh`, a method on a `Path` or a `httpx.Client` it
//! has typed) and records an [`OutsideFact`](crate::matcher::OutsideFact); this pass only
//! looks them up. Calls inside a nested `def` or a `lambda` (`to_thread(lambda: input())`)
//! are not in the coroutine and are not reported.
//! Only reports; never rewrites.

use super::{PassCx, PassOut};
use crate::matcher::Outside;
use std::collections::HashMap;
use tree_sitter::Node;

pub fn run(cx: &PassCx, out: &mut PassOut) {
    // By range: `Path(p).iterdir()` starts where its receiver call `Path(p)` does.
    let handled: std::collections::HashSet<(usize, usize)> =
        cx.calls.iter().map(|c| (c.start, c.end)).collect();
    // Methods of objects kept sync, by callee range: the catalog pass reports them.
    let kept: std::collections::HashSet<(usize, usize)> = cx
        .facts
        .kept_uses
        .iter()
        .filter(|u| super::catalog::owns_kept_use(cx, u))
        .map(|u| u.callee)
        .collect();
    // What the matcher resolved, by expression range: callees and values passed.
    let outside: HashMap<(usize, usize), &Outside> = cx
        .facts
        .outside
        .iter()
        .map(|o| ((o.start, o.end), &o.what))
        .collect();
    for (i, def) in cx.module().index.functions.iter().enumerate() {
        if !cx.colour.async_funcs.contains(&cx.fid(i)) {
            continue;
        }
        let Some(func) = cx.node(def.start, def.end) else {
            continue;
        };
        let Some(body) = func.child_by_field_name("body") else {
            continue;
        };
        let mut calls = Vec::new();
        own_calls(body, &mut calls);
        for call in calls {
            if handled.contains(&(call.start_byte(), call.end_byte())) || already_awaited(call) {
                continue;
            }
            let callee = call
                .child_by_field_name("function")
                .map(|c| (c.start_byte(), c.end_byte()))
                .filter(|c| !kept.contains(c));
            let found = callee.and_then(|c| outside.get(&c));
            if let Some((what, rule, advice)) = found.and_then(|o| blocking(cx, o)) {
                let pos = call.start_position();
                out.diagnostics.push(cx.diag(
                    pos.row + 1,
                    pos.column + 1,
                    "blocking-call-in-coroutine",
                    format!("`{what}` blocks the event loop inside a coroutine ({rule}); {advice}"),
                ));
            }
            passed_blocking(cx, &outside, i, call, out);
        }
    }
}

/// A blocking function handed on as a value inside a coroutine (`partial(time.sleep, 1)`,
/// `loop.call_soon(time.sleep, 1)`): whoever calls it blocks the event loop, and nothing
/// here can await it. Reported, not rewritten.
fn passed_blocking(
    cx: &PassCx,
    outside: &HashMap<(usize, usize), &Outside>,
    scope: usize,
    call: Node,
    out: &mut PassOut,
) {
    let (Some(args), Some(function)) = (
        call.child_by_field_name("arguments"),
        call.child_by_field_name("function"),
    ) else {
        return;
    };
    if hands_to_thread(cx, scope, call, function) {
        return;
    }
    let callee = &cx.src()[function.byte_range()];
    let mut cursor = args.walk();
    for a in args.named_children(&mut cursor) {
        let value = match a.kind() {
            "keyword_argument" => a.child_by_field_name("value"),
            _ => Some(a),
        };
        let Some(Outside::Name(q)) =
            value.and_then(|v| outside.get(&(v.start_byte(), v.end_byte())).copied())
        else {
            continue;
        };
        let blocks = cx.cat.call(q).is_some_and(|e| {
            e.action != crate::rules::Action::Report
                && (e.awaited || e.action == crate::rules::Action::ToThread)
        }) || cx.cat.blocking_call(q).is_some();
        if blocks {
            let pos = a.start_position();
            let to_thread = &cx.cat.names().core.to_thread;
            out.diagnostics.push(cx.diag(
                pos.row + 1,
                pos.column + 1,
                "blocking-callable-passed",
                format!(
                    "the blocking `{q}` is passed as a value to `{callee}` inside a coroutine: whatever calls it blocks the event loop, and awaitify cannot rewrite it (pass an async function instead, or run it with `{to_thread}`)"
                ),
            ));
        }
    }
}

/// Whether `call` runs its callable argument in a worker thread, the way to call a blocking
/// function from a coroutine: a function by what it resolves to (`asyncio.to_thread`,
/// `threading.Thread`, however imported); an executor method (`loop.run_in_executor`,
/// `pool.submit`) on a receiver of an executor type, where the matcher typed it (`with
/// ThreadPoolExecutor() as pool`), or by the method's name alone where it did not.
///
/// By name, an untyped `batch.map(time.sleep, xs)` goes unreported. That is sound for the
/// output, as this pass only reports and the code is the same either way; it trades a missed
/// report on an untyped receiver for no false report on the usual executor, which is
/// untyped (`loop` a parameter, `pool` an attribute). A receiver typed as anything else (a
/// project class, another catalog type) is not an executor, and its call is reported.
fn hands_to_thread(cx: &PassCx, scope: usize, call: Node, callee: Node) -> bool {
    use crate::matcher::Target;
    let core = &cx.cat.names().core;
    if cx
        .qualified(Some(scope), callee)
        .is_some_and(|q| core.thread_functions.contains(&q))
    {
        return true;
    }
    let Some(method) = callee
        .child_by_field_name("attribute")
        .filter(|_| callee.kind() == "attribute")
        .map(|a| &cx.src()[a.byte_range()])
    else {
        return false;
    };
    if !core.thread_methods.iter().any(|t| t == method) {
        return false;
    }
    let fact = cx
        .calls
        .iter()
        .find(|c| (c.start, c.end) == (call.start_byte(), call.end_byte()));
    match fact.map(|c| &c.target) {
        Some(Target::Method { ty, .. }) => core.executors.contains(ty),
        Some(Target::Func(_) | Target::Class(_)) => false,
        Some(Target::Rule(_)) | None => true,
    }
}

/// Calls in this function's own code: not in nested functions, lambdas or classes.
fn own_calls<'a>(node: Node<'a>, out: &mut Vec<Node<'a>>) {
    match node.kind() {
        "function_definition" | "class_definition" | "lambda" => return,
        "call" => out.push(node),
        _ => {}
    }
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        own_calls(child, out);
    }
}

/// `await x.open()` on something async already (aiofiles, anyio) is not blocking.
fn already_awaited(call: Node) -> bool {
    call.parent().is_some_and(|p| p.kind() == "await")
}

/// The `[[blocking]]` entry the matcher found for this call's callee: `(what, ruff, advice)`.
fn blocking<'c>(cx: &'c PassCx, outside: &Outside) -> Option<(String, &'c str, &'c str)> {
    let (what, b) = match outside {
        Outside::Name(q) => (q.clone(), cx.cat.blocking_call(q)?),
        Outside::Method { ty, name } => {
            let b = cx.cat.blocking_method(ty, name)?;
            (format!("{}.{name}", b.shown), b)
        }
    };
    Some((what, &b.ruff, &b.advice))
}
