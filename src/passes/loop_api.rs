//! `deprecated-loop-api`: `asyncio.get_event_loop()` inside a coroutine becomes
//! `asyncio.get_running_loop()`.
//!
//! Why: `get_event_loop()` is deprecated outside a running loop (it warns since 3.10, and
//! from 3.12 no longer creates a loop), and inside a coroutine it only ever returns the
//! running loop. `get_running_loop()` says so, and fails loudly instead of creating a second
//! loop when called from the wrong place.
//!
//! ```python
//! async def main():                         async def main():
//!     loop = asyncio.get_event_loop()  ->       loop = asyncio.get_running_loop()
//! ```
//!
//! Only in code that is async in the output: a sync function may run before any loop
//! exists, where `get_running_loop()` raises. Always safe inside a coroutine.

use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin};
use crate::matcher::CallFact;

pub fn rewrite(cx: &PassCx, c: &CallFact, out: &mut PassOut) -> bool {
    if !cx.can_await(c.caller, c.ctx) {
        return true;
    }
    let callee = cx.node(c.callee.0, c.callee.1);
    let new = cx.cat.names().loop_api.get_running_loop.as_str();
    match callee.and_then(|n| n.child_by_field_name("attribute")) {
        // `asyncio.get_event_loop` or `aio.get_event_loop`: keep the module as written.
        Some(attr) => out.edits.push(Edit::replace(
            attr.start_byte(),
            attr.end_byte(),
            crate::names::last(new),
            Origin::DeprecatedLoopApi,
        )),
        None => {
            out.edits.push(Edit::replace(
                c.callee.0,
                c.callee.1,
                new,
                Origin::DeprecatedLoopApi,
            ));
            out.imports.insert(crate::names::module(new).into());
        }
    }
    out.rewritten += 1;
    true
}
