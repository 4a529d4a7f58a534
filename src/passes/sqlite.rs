//! `sqlite-transaction`: `with conn:` over an SQLite connection keeps its transaction
//! meaning under aiosqlite.
//!
//! Why: a sync `sqlite3.Connection` used as a context manager commits when the block ends
//! normally and rolls back when it raises; it does not close the connection. An aiosqlite
//! connection used with `async with` closes it instead, and has no transaction context
//! manager, so `with conn:` cannot become `async with conn:`. It becomes the same
//! transaction spelled out:
//!
//! ```python
//! with conn:                          try:
//!     conn.execute(q)          ->         await conn.execute(q)
//!                                     except BaseException:
//!                                         await conn.rollback()
//!                                         raise
//!                                     finally:
//!                                         await conn.commit()
//!
//! with sqlite3.connect(p) as conn:  ->  conn = await aiosqlite.connect(p)
//!                                       try: ...
//! ```
//!
//! The commit sits in `finally` so that `return`, `break` and `continue` inside the block
//! commit, as `__exit__` does; after a rollback it finds no open transaction and does nothing.
//!
//! Declined (reported): a `with` with several items, a body on the `with` line, and a
//! connection expression that is neither bound by `as` nor a name.

use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin};
use crate::matcher::WithFact;

/// Rewrites one `with` over a `sqlite3.Connection`; false if its shape is not handled.
pub fn with_transaction(cx: &PassCx, w: &WithFact, out: &mut PassOut) -> bool {
    let src = cx.src();
    let Some(stmt) = cx
        .root()
        .descendant_for_byte_range(w.with_kw, w.with_kw + 4)
        .and_then(|mut n| {
            loop {
                if n.kind() == "with_statement" && n.start_byte() == w.with_kw {
                    return Some(n);
                }
                n = n.parent()?;
            }
        })
    else {
        return false;
    };
    let Some(body) = stmt.child_by_field_name("body") else {
        return false;
    };
    if body.start_position().row == stmt.start_position().row {
        return false;
    }
    let mut items = 0;
    let mut stack = vec![stmt];
    while let Some(n) = stack.pop() {
        if n.kind() == "with_item" {
            items += 1;
        } else if n.kind() != "block" {
            let mut cursor = n.walk();
            stack.extend(n.named_children(&mut cursor));
        }
    }
    if items != 1 {
        return false;
    }
    let Some(expr) = cx.node(w.expr.0, w.expr.1) else {
        return false;
    };
    let alias = expr
        .parent()
        .filter(|p| p.kind() == "as_pattern")
        .and_then(|p| p.child_by_field_name("alias"))
        .map(|a| a.named_child(0).unwrap_or(a));
    if alias.is_some_and(|a| a.kind() != "identifier") {
        return false;
    }
    // The `:` that ends the header.
    let Some(colon) = (0..stmt.child_count())
        .filter_map(|i| stmt.child(i))
        .find(|c| c.kind() == ":")
    else {
        return false;
    };
    let nl = cx.module().source.newline;
    let indent = cx.line_indent(w.with_kw);
    let inner = cx.line_indent(body.start_byte());
    let conn = match alias {
        Some(a) => {
            let name = &src[a.byte_range()];
            out.edits.push(Edit::replace(
                w.with_kw,
                expr.start_byte(),
                format!("{name} = "),
                Origin::SqliteTransaction,
            ));
            out.edits.push(Edit::replace(
                expr.end_byte(),
                colon.end_byte(),
                format!("{nl}{indent}try:"),
                Origin::SqliteTransaction,
            ));
            name
        }
        None if matches!(expr.kind(), "identifier" | "attribute") => {
            out.edits.push(Edit::replace(
                w.with_kw,
                colon.end_byte(),
                "try:",
                Origin::SqliteTransaction,
            ));
            &src[expr.byte_range()]
        }
        None => return false,
    };
    let tail = format!(
        "{nl}{indent}except BaseException:{nl}{inner}await {conn}.rollback(){nl}{inner}raise\
         {nl}{indent}finally:{nl}{inner}await {conn}.commit()"
    );
    // Sized by the statement, so a nested transaction ending at the same byte closes first.
    let len = stmt.end_byte() - stmt.start_byte();
    out.edits.push(Edit::close(
        body.end_byte(),
        len,
        tail,
        Origin::SqliteTransaction,
    ));
    out.rewritten += 1;
    true
}
