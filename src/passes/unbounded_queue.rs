//! `unbounded-queue`: an `asyncio` queue without a bound, produced from a sync queue without
//! one, is reported with a suggested `maxsize`.
//!
//! Why: a thread blocked on a full `queue.Queue` rarely mattered because the producer was
//! usually slower than the consumer thread. After the migration producers are coroutines
//! that never block on `put` into an unbounded `asyncio.Queue`, so a fast producer can buffer
//! without limit and memory grows; a bound gives back-pressure (`await q.put(x)` waits).
//!
//! ```python
//! q = queue.Queue()   ->   q = asyncio.Queue()   # reported: consider asyncio.Queue(maxsize=100)
//! ```
//!
//! The behaviour is kept (the rewrite belongs to the queue rule); only the report is added.
//! It is keyed on what the threads family makes of the creation: a
//! `queue.Queue`/`LifoQueue`/`PriorityQueue` call with no `maxsize` (or `maxsize` 0) that it
//! turns into its `asyncio` twin.

use super::{PassCx, PassOut};
use crate::matcher::Target;

pub fn run(cx: &PassCx, out: &mut PassOut) {
    for c in cx.calls {
        let Target::Rule(q) = &c.target else { continue };
        if !cx.cat.names().queue.with_maxsize.contains(q) {
            continue;
        }
        // The asyncio twin the catalog entry names.
        let Some(twin) = cx.cat.call(q).and_then(|e| e.replace.as_deref()) else {
            continue;
        };
        // The threads family owns the creation: it says what it turns it into.
        let produced = cx.node(c.start, c.end).is_some()
            && super::threads::converted_to(cx, &cx.claims.kept_types, c)
                .is_some_and(|new| new.contains(twin));
        if !produced || bounded(cx, c.start, c.end) {
            continue;
        }
        out.diagnostics.push(cx.diag_at(
            c,
            "unbounded-queue",
            format!(
                "`{twin}()` has no maxsize, so producers never wait and it can grow without \
                 limit; consider a bound such as `{twin}(maxsize=100)`"
            ),
        ));
    }
}

/// The call passes a non-zero `maxsize` (first positional or keyword).
fn bounded(cx: &PassCx, start: usize, end: usize) -> bool {
    let Some(call) = cx.node(start, end) else {
        return false;
    };
    let src = cx.src();
    let size = super::args::Args::of(call, src).and_then(|a| a.get(Some(0), "maxsize"));
    size.is_some_and(|v| !matches!(src[v.byte_range()].trim(), "0" | "-1"))
}
