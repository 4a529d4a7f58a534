//! `coroutine-callback`: a coroutine function handed to an API that calls it without
//! `await` is reported.
//!
//! Why: `loop.call_soon(f)`, `call_later`, `call_at`, `add_done_callback(f)`,
//! `loop.add_signal_handler`, `signal.signal` and `atexit.register` call `f(...)` and drop
//! the result. When `f` is an `async def`, that result is a coroutine object, so the body
//! never runs (Python only warns "coroutine ... was never awaited").
//!
//! ```python
//! loop.call_later(1, refresh)   # async def refresh()
//! # reported; a fix that keeps a reference to the task:
//! loop.call_later(1, lambda: _background_tasks.add(asyncio.create_task(refresh())))
//! ```
//!
//! Functions that would become async but are passed like this stay sync (see `colour`), so
//! only functions that were already `async def` are reported. The rewrite is left to a
//! person: when the callback runs (a signal handler, at exit) there may be no running loop
//! to create the task in.

use super::{PassCx, PassOut};
use crate::rules::Catalog;

/// Methods (on a loop or a future) whose callback argument is called without `await`.
const CALLBACK_METHODS: &[&str] = &[
    "call_soon",
    "call_soon_threadsafe",
    "call_later",
    "call_at",
    "add_done_callback",
    "add_signal_handler",
    "add_reader",
    "add_writer",
];

/// Whether the callee `to` (a qualified name) calls its callback argument without `await`:
/// one of the catalog's `sync_callers`, or a method of `CALLBACK_METHODS`.
pub fn calls_sync(cat: &Catalog, to: &str) -> bool {
    let method = crate::names::last(to);
    cat.names().core.sync_callers.iter().any(|f| f == to)
        || (to.contains('.') && CALLBACK_METHODS.contains(&method))
}

pub fn run(cx: &PassCx, out: &mut PassOut) {
    for r in &cx.facts.refs {
        let Some(to) = &r.passed_to else { continue };
        if !calls_sync(cx.cat, to) || !cx.colour.async_funcs.contains(&r.target) {
            continue;
        }
        let name = &cx.p.func(r.target).name;
        let create_task = &cx.cat.names().dangling_task.create_task;
        out.diagnostics.push(cx.diag(
            r.line,
            r.col,
            "coroutine-callback",
            format!(
                "`{name}` is a coroutine function and `{to}` calls it without await, so its \
                 body never runs; schedule it as a task and keep a reference, e.g. \
                 `lambda: _background_tasks.add({create_task}({name}()))`"
            ),
        ));
    }
}
