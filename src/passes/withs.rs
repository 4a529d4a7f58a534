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
use crate::rules::Action;

pub fn run(cx: &PassCx, out: &mut PassOut) {
    for w in &cx.facts.withs {
        if w.already_async || !cx.can_await(w.caller, w.ctx) {
            continue;
        }
        if let Kind::Ext(ty) = &w.kind
            && let Some((rule, u)) = cx.cat.with_use(ty)
            && u.action == Some(Action::Pass)
        {
            let rule = cx.cat.rule(*rule);
            let handled = rule
                .pass
                .as_deref()
                .is_some_and(|p| super::family_with(p, cx, w, out));
            if handled {
                out.packages.extend(rule.packages.iter().cloned());
            } else {
                let msg = u.message.clone().unwrap_or_else(|| {
                    format!(
                        "this `with` over a `{ty}` ({}) could not be rewritten here; left as is",
                        rule.id
                    )
                });
                let col = w.with_kw - cx.src()[..w.with_kw].rfind('\n').map_or(0, |i| i + 1) + 1;
                out.diagnostics
                    .push(cx.diag(w.line, col, "unconvertible-with", msg));
            }
            continue;
        }
        if cx.with_is_async(w) {
            out.edits
                .push(Edit::insert(w.with_kw, "async ", "async-with"));
            out.rewritten += 1;
        }
    }
}
