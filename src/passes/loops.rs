//! `async-for`: loops and consumers over something that became asynchronous.
//!
//! Why: a generator that now awaits is an async generator; `for` over it raises
//! `TypeError: 'async_generator' object is not iterable`. Loops and comprehensions over it
//! become `async for`, and builtins that drain it become comprehensions:
//!
//! ```python
//! for v in ticker(n):      ->  async for v in ticker(n):
//! list(ticker(3))          ->  [item async for item in ticker(3)]
//! sum(ticker(3))           ->  sum([item async for item in ticker(3)])
//! next(gen)                ->  await anext(gen)
//! ```
//!
//! The same applies to catalog types iterated asynchronously (aiofiles files, aiosqlite
//! cursors). `anext` needs Python 3.10: for an older `--target-version`, `next(gen)` becomes
//! `await gen.__anext__()`, which is what `anext` calls.

use super::{PassCx, PassOut, enclosing_genexp, genexp_to_list};
use crate::colour::iteration_method;
use crate::edit::{Edit, Origin};
use crate::matcher::Kind;

pub fn run(cx: &PassCx, out: &mut PassOut) {
    for f in &cx.facts.fors {
        if f.already_async || !cx.can_await(f.caller, f.ctx) {
            continue;
        }
        let asynchronous = match &f.kind {
            Kind::Gen(g) => cx.colour.async_funcs.contains(g),
            Kind::Instance(k) => {
                iteration_method(cx.p, *k).is_some_and(|g| cx.colour.async_funcs.contains(&g))
            }
            Kind::Ext(ty) => cx.cat.iterate_use(ty).is_some_and(|(_, u)| u.make_async),
            _ => false,
        };
        if !asynchronous {
            continue;
        }
        out.edits
            .push(Edit::insert(f.for_kw, "async ", Origin::AsyncFor));
        out.rewritten += 1;
        if let Some(g) = cx
            .root()
            .descendant_for_byte_range(f.for_kw, f.for_kw + 3)
            .and_then(enclosing_genexp)
        {
            genexp_to_list(g, out);
        }
    }
    for c in &cx.facts.consumes {
        if !cx.can_await(c.caller, c.ctx) || !cx.colour.async_funcs.contains(&c.generator) {
            continue;
        }
        let arg = &cx.src()[c.arg.0..c.arg.1];
        let comp = format!("[item async for item in {arg}]");
        let new = match c.consumer.as_str() {
            "list" => comp,
            "set" => format!("{{item async for item in {arg}}}"),
            "next" if cx.target.has_anext() => format!("await anext({arg})"),
            "next" => {
                let simple = cx
                    .node(c.arg.0, c.arg.1)
                    .is_some_and(|n| matches!(n.kind(), "identifier" | "call" | "attribute"));
                if simple {
                    format!("await {arg}.__anext__()")
                } else {
                    format!("await ({arg}).__anext__()")
                }
            }
            other => format!("{other}({comp})"),
        };
        out.edits
            .push(Edit::replace(c.call.0, c.call.1, new, Origin::AsyncFor));
        out.rewritten += 1;
    }
    for y in &cx.facts.yield_froms {
        if !cx.colour.coloured.contains(&cx.fid(y.caller)) {
            continue;
        }
        // An async generator cannot `yield from`; it loops and yields each item.
        let asynchronous = match &y.kind {
            Some(Kind::Gen(g)) => cx.colour.async_funcs.contains(g),
            Some(Kind::Instance(k)) => {
                iteration_method(cx.p, *k).is_some_and(|g| cx.colour.async_funcs.contains(&g))
            }
            Some(Kind::Ext(ty)) => cx.cat.iterate_use(ty).is_some_and(|(_, u)| u.make_async),
            _ => false,
        };
        let src = cx.src();
        let indent = cx.line_indent(y.stmt.0);
        let unit = &cx.module().source.indent;
        let nl = cx.module().source.newline;
        let kw = if asynchronous { "async for" } else { "for" };
        let expr = &src[y.expr.0..y.expr.1];
        let text = format!("{kw} item in {expr}:{nl}{indent}{unit}yield item");
        out.edits
            .push(Edit::replace(y.stmt.0, y.stmt.1, text, Origin::AsyncFor));
        out.rewritten += 1;
    }
}
