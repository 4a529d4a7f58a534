//! `async-with`: `with` over a context manager that became asynchronous.
//!
//! Why: once `__enter__`/`__exit__` await, they are `__aenter__`/`__aexit__`, and a plain
//! `with` no longer finds them. The same holds for catalog types whose async twin is an
//! async context manager (`httpx.AsyncClient`, `aiofiles.open`, `asyncio.Lock`).
//!
//! ```python
//! with Connection("db") as conn:   ->   async with Connection("db") as conn:
//! with lock:                       ->   async with lock:
//! ```

use super::{PassCx, PassOut};
use crate::edit::Edit;
use crate::matcher::Kind;

pub fn run(cx: &PassCx, out: &mut PassOut) {
    for w in &cx.facts.withs {
        if w.already_async || !cx.can_await(w.caller, w.ctx) {
            continue;
        }
        let asynchronous = match &w.kind {
            Kind::Instance(k) => {
                cx.p.method(*k, "__enter__")
                    .is_some_and(|e| cx.colour.async_funcs.contains(&e))
            }
            Kind::Ext(ty) => cx.cat.with_use(ty).is_some_and(|(_, u)| u.make_async),
            _ => false,
        };
        if asynchronous {
            out.edits
                .push(Edit::insert(w.with_kw, "async ", "async-with"));
            out.rewritten += 1;
        }
    }
}
