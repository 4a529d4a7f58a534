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

//! A `with` whose items are partly async and partly sync cannot be one `async with`: it is
//! split into nested statements, in the original item order, and the body re-indented.

use super::{PassCx, PassOut, reindent};
use crate::edit::Edit;
use crate::matcher::{Kind, WithFact};
use std::collections::BTreeMap;

pub fn run(cx: &PassCx, out: &mut PassOut) {
    let mut statements: BTreeMap<usize, Vec<&WithFact>> = BTreeMap::new();
    for w in &cx.facts.withs {
        if w.already_async || !cx.can_await(w.caller, w.ctx) || !is_async(cx, &w.kind) {
            continue;
        }
        statements.entry(w.with_kw).or_default().push(w);
    }
    for (start, facts) in statements {
        let Some(stmt) = cx
            .root()
            .descendant_for_byte_range(start, start + 4)
            .and_then(|n| {
                let mut cur = Some(n);
                while let Some(c) = cur {
                    if c.kind() == "with_statement" && c.start_byte() == start {
                        return Some(c);
                    }
                    cur = c.parent();
                }
                None
            })
        else {
            continue;
        };
        let items = with_items(stmt);
        let flags: Vec<bool> = items
            .iter()
            .map(|i| {
                facts
                    .iter()
                    .any(|f| f.item == (i.start_byte(), i.end_byte()))
            })
            .collect();
        out.rewritten += facts.len();
        if flags.iter().all(|&a| a) {
            out.edits.push(Edit::insert(start, "async ", "async-with"));
            continue;
        }
        split(cx, stmt, &items, &flags, out);
    }
}

fn is_async(cx: &PassCx, kind: &Kind) -> bool {
    match kind {
        Kind::Instance(k) => {
            cx.p.method(*k, "__enter__")
                .is_some_and(|e| cx.colour.async_funcs.contains(&e))
        }
        Kind::Ext(ty) => cx.cat.with_use(ty).is_some_and(|(_, u)| u.make_async),
        Kind::Gen(g) => cx.colour.async_funcs.contains(g),
        _ => false,
    }
}

fn with_items(stmt: tree_sitter::Node) -> Vec<tree_sitter::Node> {
    let mut out = Vec::new();
    let mut stack = vec![stmt];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "with_item" => out.push(n),
            "block" => {}
            _ => {
                let mut cursor = n.walk();
                let mut kids: Vec<_> = n.named_children(&mut cursor).collect();
                kids.reverse();
                stack.extend(kids);
            }
        }
    }
    out
}

/// `with a, b:` where only `a` is async → `async with a:` / `with b:` nested.
fn split(
    cx: &PassCx,
    stmt: tree_sitter::Node,
    items: &[tree_sitter::Node],
    flags: &[bool],
    out: &mut PassOut,
) {
    let (Some(body), Some(colon)) = (stmt.child_by_field_name("body"), {
        let mut cursor = stmt.walk();
        stmt.children(&mut cursor)
            .filter(|c| c.kind() == ":")
            .last()
    }) else {
        return;
    };
    let src = cx.src();
    let indent = cx.line_indent(stmt.start_byte());
    let unit = &cx.module().source.indent;
    let nl = cx.module().source.newline;
    let mut groups: Vec<(bool, Vec<&str>)> = Vec::new();
    for (item, &a) in items.iter().zip(flags) {
        match groups.last_mut() {
            Some((last, texts)) if *last == a => texts.push(&src[item.byte_range()]),
            _ => groups.push((a, vec![&src[item.byte_range()]])),
        }
    }
    let mut header = String::new();
    for (depth, (a, texts)) in groups.iter().enumerate() {
        if depth > 0 {
            header.push_str(nl);
            header.push_str(indent);
            header.push_str(&unit.repeat(depth));
        }
        header.push_str(if *a { "async with " } else { "with " });
        header.push_str(&texts.join(", "));
        header.push(':');
    }
    out.edits.push(Edit::replace(
        stmt.start_byte(),
        colon.end_byte(),
        header,
        "async-with",
    ));
    reindent(cx, body, &unit.repeat(groups.len() - 1), out);
}
