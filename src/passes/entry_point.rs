//! `entry-point`: the `__main__` block runs the now-async entry function with `asyncio.run`.
//!
//! Why: calling a coroutine function from sync code creates a coroutine and never runs it.
//! The program's top level is the one place that starts the event loop.
//!
//! ```python
//! if __name__ == "__main__":          if __name__ == "__main__":
//!     main()                      ->      asyncio.run(main())
//!     sys.exit(main())                    sys.exit(asyncio.run(main()))
//! ```
//!
//! Other module-level calls of a function that would become async keep it sync (see
//! `colour`): each `asyncio.run` starts a fresh event loop, which is only right at the top.

use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin};
use crate::matcher::{Ctx, Target};

pub fn run(cx: &PassCx, out: &mut PassOut) {
    for c in cx.calls {
        let Target::Func(g) = &c.target else { continue };
        if c.ctx != Ctx::Main
            || c.awaited
            || !cx.colour.coloured.contains(g)
            || cx.p.func(*g).is_generator
            // A console script keeps a sync wrapper of its name.
            || cx.colour.scripts.contains(g)
        {
            continue;
        }
        let len = c.end - c.start;
        let run = &cx.cat.names().core.run;
        out.edits.push(Edit::open(
            c.start,
            len,
            format!("{run}("),
            Origin::EntryPoint,
        ));
        out.edits
            .push(Edit::close(c.end, len, ")", Origin::EntryPoint));
        out.imports.insert(crate::names::module(run).into());
        out.rewritten += 1;
    }
}
