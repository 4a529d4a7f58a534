//! `never-awaited`: a coroutine function called as a statement, without `await`.
//!
//! Why: calling a coroutine function only creates a coroutine object; its body runs when
//! it is awaited. `asyncio.sleep(1)` on its own line waits for nothing (Python warns
//! "coroutine ... was never awaited" at best). In code that is async in the output the
//! missing `await` is added; in sync code nothing can await it, so it is reported.
//!
//! ```python
//! async def tick():                     async def tick():
//!     asyncio.sleep(0.1)          ->        await asyncio.sleep(0.1)
//!     notify()   # async def                await notify()
//! ```
//!
//! Project coroutine functions get their `await` from the `await-call` pass (a statement
//! call of an async function counts as awaited there); this pass covers the asyncio
//! coroutine functions listed in `transforms/never-awaited.toml` and reports the sync
//! callers of both.
//!
//! Unsafe when: the coroutine object was created on purpose and thrown away (never useful),
//! or the code relied on the body not running: the migrated program now runs it.

use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin};
use crate::matcher::{CallFact, Ctx, Target};

/// Catalog calls (`asyncio.sleep`, ...) dispatched here by the rule's `pass`.
pub fn rewrite(cx: &PassCx, c: &CallFact, out: &mut PassOut) -> bool {
    if !c.statement || c.awaited {
        return true;
    }
    if cx.can_await(c.caller, c.ctx) {
        out.edits.push(Edit::open(
            c.start,
            c.end - c.start,
            "await ",
            Origin::NeverAwaited,
        ));
        out.rewritten += 1;
    } else {
        report(cx, c, out);
    }
    true
}

/// Project coroutine functions called as a statement where nothing can await them.
pub fn run(cx: &PassCx, out: &mut PassOut) {
    for c in cx.calls {
        let Target::Func(g) = &c.target else { continue };
        let def = cx.p.func(*g);
        if !c.statement || c.awaited || def.is_generator || !cx.colour.async_funcs.contains(g) {
            continue;
        }
        if cx.call_is_awaited(c) {
            continue;
        }
        // The `entry-point` pass runs a newly async entry function with `asyncio.run`.
        if c.ctx == Ctx::Main && cx.colour.coloured.contains(g) {
            continue;
        }
        report(cx, c, out);
    }
}

fn report(cx: &PassCx, c: &CallFact, out: &mut PassOut) {
    let what = &cx.src()[c.start..c.end];
    let run = &cx.cat.names().core.run;
    out.diagnostics.push(cx.diag_at(
        c,
        "never-awaited",
        format!(
            "`{what}` creates a coroutine that is never awaited, so its body never runs; \
             await it from async code, or run it with `{run}(...)` at the top level"
        ),
    ));
}
