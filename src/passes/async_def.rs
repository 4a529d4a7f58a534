//! `async-def`: a function that now awaits becomes `async def`.
//!
//! Why: `await` is only legal inside a coroutine, so a function that makes a blocking call
//! the catalog rewrites, or that calls a function that became async, must become one.
//!
//! ```python
//! def tick(n):              async def tick(n):
//!     time.sleep(0.01)  ->      await asyncio.sleep(0.01)
//! ```
//!
//! Context-manager and iterator dunders get their async names (`__enter__` → `__aenter__`).
//! Unsafe when: the function is public API called from outside the project; those callers
//! now get a coroutine (pin it with `--keep-sync`).

use super::{PassCx, PassOut};
use crate::edit::Edit;

const RENAMES: &[(&str, &str)] = &[("__enter__", "__aenter__"), ("__exit__", "__aexit__")];

pub fn run(cx: &PassCx, out: &mut PassOut) {
    for (i, def) in cx.module().index.functions.iter().enumerate() {
        if !cx.colour.coloured.contains(&cx.fid(i)) {
            continue;
        }
        out.edits
            .push(Edit::insert(def.start, "async ", "async-def"));
        if let Some((_, to)) = RENAMES.iter().find(|(from, _)| *from == def.name) {
            out.edits.push(Edit::replace(
                def.name_range.0,
                def.name_range.1,
                *to,
                "async-def",
            ));
        }
    }
}
