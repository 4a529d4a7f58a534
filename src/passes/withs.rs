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
use crate::edit::{Edit, Origin};
use crate::matcher::{Kind, WithFact};
use crate::rules::Action;
use std::collections::BTreeMap;

pub fn run(cx: &PassCx, out: &mut PassOut) {
    let mut statements: BTreeMap<usize, Vec<&WithFact>> = BTreeMap::new();
    for w in &cx.facts.withs {
        if w.already_async || !cx.can_await(w.caller, w.ctx) || by_pass(cx, w, out) {
            continue;
        }
        // An object a family keeps sync is entered by a sync `with`.
        if !is_async(cx, &w.kind) || cx.claims.with_stays_sync(w) {
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
            out.edits
                .push(Edit::insert(start, "async ", Origin::AsyncWith));
            continue;
        }
        split(cx, stmt, &items, &flags, out);
    }
}

/// A `[[with]]` with `action = "pass"` (an SQLite transaction): its rule's Rust pass
/// rewrites the statement, or the `with` is reported. True if the rule owns this `with`.
fn by_pass(cx: &PassCx, w: &WithFact, out: &mut PassOut) -> bool {
    let Kind::Ext(ty) = &w.kind else {
        return false;
    };
    let Some((rule, u)) = cx
        .cat
        .with_use(ty)
        .filter(|(_, u)| u.action == Some(Action::Pass))
    else {
        return false;
    };
    let rule = cx.cat.rule(*rule);
    let handled = rule.pass.is_some_and(|p| super::family_with(p, cx, w, out));
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
    true
}

/// Whether entering a value of this kind needs `async with` (a `with` rewritten by a pass
/// does not).
pub fn is_async(cx: &PassCx, kind: &Kind) -> bool {
    match kind {
        Kind::Instance(k) => {
            cx.p.method(*k, "__enter__")
                .is_some_and(|e| cx.colour.async_funcs.contains(&e))
        }
        Kind::Ext(ty) => cx
            .cat
            .with_use(ty)
            .is_some_and(|(_, u)| u.make_async && u.action.is_none()),
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
    let indent = cx.line_indent(stmt.start_byte());
    let unit = &cx.module().source.indent;
    let nl = cx.module().source.newline;
    let keyword = |a: bool| if a { "async with " } else { "with " };
    // Only the gaps between items change, never an item: items keep their own edits
    // (`open(p)` -> `aiofiles.open(p)`). Parentheses around the items go with the gaps.
    let gap = |from: usize, to: usize, text: String, out: &mut PassOut| {
        out.edits
            .push(Edit::replace(from, to, text, Origin::AsyncWith));
    };
    gap(
        stmt.start_byte(),
        items[0].start_byte(),
        keyword(flags[0]).to_string(),
        out,
    );
    let mut depth = 0;
    for i in 1..items.len() {
        let text = if flags[i] == flags[i - 1] {
            ", ".to_string()
        } else {
            depth += 1;
            format!(":{nl}{indent}{}{}", unit.repeat(depth), keyword(flags[i]))
        };
        gap(items[i - 1].end_byte(), items[i].start_byte(), text, out);
    }
    gap(
        items[items.len() - 1].end_byte(),
        colon.end_byte(),
        ":".to_string(),
        out,
    );
    reindent(cx, body, &unit.repeat(depth), out);
}
