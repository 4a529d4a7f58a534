//! `dangling-task`: a task whose result is dropped gets a strong reference that lives until
//! the task is done.
//!
//! Why: the event loop keeps only a weak reference to a task. A task created by
//! `asyncio.create_task(...)`, `asyncio.ensure_future(...)` or `loop.create_task(...)` whose
//! result is dropped (an expression statement, or a name that is never read) can be
//! garbage-collected while it waits, and then never finishes (the asyncio docs: "Save a
//! reference to the result of this function, to avoid a task disappearing mid-execution").
//! ruff's RUF006 and flake8-async's ASYNC300 flag this; this pass fixes it with the pattern
//! the asyncio documentation gives:
//!
//! ```python
//! async def handle(n):                     _background_tasks = set()
//!     asyncio.create_task(audit(n))   ->
//!                                          async def handle(n):
//!                                              task = asyncio.create_task(audit(n))
//!                                              _background_tasks.add(task)
//!                                              task.add_done_callback(_background_tasks.discard)
//! ```
//!
//! The task runs exactly when and as long as it did before, so the program's output does
//! not change. An `asyncio.TaskGroup` (3.11+) is not emitted: it would make the function wait
//! for the task and turn its exception into the function's, and awaitify cannot prove from
//! the code that the task ends within the block (a dropped task is usually fire-and-forget).
//!
//! Not rewritten, and reported: a dropped task sharing its line with other code
//! (`if x: asyncio.create_task(f())`, `...; other()`), where new lines cannot go.
//! Unchanged: a task awaited later, stored, returned, or passed on (`gather(t)`).

use super::{PassCx, PassOut};
use crate::edit::Edit;
use crate::matcher::{CallFact, Ctx};
use std::collections::HashSet;
use tree_sitter::Node;

/// The module-level set holding the running background tasks.
pub const TASK_SET: &str = "_background_tasks";

/// Handles one `create_task`-like call; always claims it (a call that is kept is fine).
pub fn rewrite(cx: &PassCx, c: &CallFact, out: &mut PassOut) -> bool {
    let (Some(f), Ctx::Body) = (c.caller, c.ctx) else {
        return true;
    };
    let Some(call) = cx.node(c.start, c.end) else {
        return true;
    };
    let Some(parent) = call.parent() else {
        return true;
    };
    let src = cx.src();
    let def = &cx.module().index.functions[f];
    let Some(func) = cx.node(def.start, def.end) else {
        return true;
    };
    let mut names = HashSet::new();
    identifiers(func, src, &mut names);

    // The statement that holds the call, and the name the task is (or will be) bound to.
    let (stmt, bound) = match parent.kind() {
        "expression_statement" => (parent, None),
        "assignment" => {
            let Some(left) = parent
                .child_by_field_name("left")
                .filter(|l| l.kind() == "identifier")
            else {
                return true;
            };
            let Some(stmt) = parent
                .parent()
                .filter(|s| s.kind() == "expression_statement")
            else {
                return true;
            };
            let name = &src[left.byte_range()];
            if count_reads(func, src, name, left.id()) > 0
                || cx.module().index.bindings.contains_key(name)
            {
                return true;
            }
            (stmt, Some(name.to_string()))
        }
        _ => return true,
    };

    let nl = cx.module().source.newline;
    let line_start = src[..stmt.start_byte()].rfind('\n').map_or(0, |i| i + 1);
    let rest_of_line = &src[stmt.end_byte()..];
    let eol = rest_of_line.find('\n').map_or(src.len(), |i| {
        let at = stmt.end_byte() + i;
        if src[..at].ends_with('\r') {
            at - 1
        } else {
            at
        }
    });
    let own_line = src[line_start..stmt.start_byte()].trim().is_empty()
        && !src[stmt.end_byte()..eol].trim_start().starts_with(';');
    if !own_line {
        out.diagnostics.push(cx.diag(
            c.line,
            c.col,
            "dangling-task",
            format!(
                "the task's result is dropped, so it can be garbage-collected before it finishes; \
                 keep a reference: `task = {}; {TASK_SET}.add(task); \
                 task.add_done_callback({TASK_SET}.discard)`",
                &src[c.start..c.end]
            ),
        ));
        return true;
    }

    let indent = cx.line_indent(stmt.start_byte());
    let name = match bound {
        Some(n) => n,
        None => {
            let name = fresh_name(&names, cx);
            out.edits.push(Edit::insert(
                stmt.start_byte(),
                format!("{name} = "),
                "dangling-task",
            ));
            name
        }
    };
    out.edits.push(Edit::insert(
        eol,
        format!(
            "{nl}{indent}{TASK_SET}.add({name}){nl}{indent}{name}.add_done_callback({TASK_SET}.discard)"
        ),
        "dangling-task",
    ));
    if let Some(edit) = task_set_definition(cx) {
        out.edits.push(edit);
    }
    out.rewritten += 1;
    true
}

fn identifiers<'a>(node: Node, src: &'a str, out: &mut HashSet<&'a str>) {
    if node.kind() == "identifier" {
        out.insert(&src[node.byte_range()]);
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        identifiers(child, src, out);
    }
}

/// Identifier nodes spelling `name` in `node`, other than the one with id `except`.
fn count_reads(node: Node, src: &str, name: &str, except: usize) -> usize {
    if node.kind() == "identifier" {
        return usize::from(node.id() != except && &src[node.byte_range()] == name);
    }
    let mut cursor = node.walk();
    node.children(&mut cursor)
        .map(|c| count_reads(c, src, name, except))
        .sum()
}

/// A name for the task that nothing in the function or module already uses.
fn fresh_name(used: &HashSet<&str>, cx: &PassCx) -> String {
    let free = |n: &str| !used.contains(n) && !cx.module().index.bindings.contains_key(n);
    ["task", "background_task"]
        .into_iter()
        .map(str::to_string)
        .chain((2..).map(|i| format!("task_{i}")))
        .find(|n| free(n))
        .expect("an unused name exists")
}

/// `_background_tasks = set()` before the first top-level statement after the imports,
/// unless the module already defines it. Identical edits from several call sites merge.
fn task_set_definition(cx: &PassCx) -> Option<Edit> {
    if cx.module().index.bindings.contains_key(TASK_SET) {
        return None;
    }
    let nl = cx.module().source.newline;
    let root = cx.root();
    let mut cursor = root.walk();
    let mut at = None;
    // Comments right above the first statement belong to it: go above them.
    let mut comments: Option<Node> = None;
    for (i, child) in root.named_children(&mut cursor).enumerate() {
        let docstring = i == 0
            && child.kind() == "expression_statement"
            && child.named_child(0).is_some_and(|s| s.kind() == "string");
        match child.kind() {
            "import_statement" | "import_from_statement" | "future_import_statement" => {
                comments = None
            }
            "comment" => {
                comments.get_or_insert(child);
            }
            _ if docstring => {}
            _ => {
                at = Some(child);
                break;
            }
        }
    }
    let Some(next) = at else {
        let src = cx.src();
        let sep = if src.is_empty() || src.ends_with('\n') {
            ""
        } else {
            nl
        };
        return Some(Edit::insert(
            src.len(),
            format!("{sep}{nl}{TASK_SET} = set(){nl}"),
            "dangling-task",
        ));
    };
    let definition = matches!(
        next.kind(),
        "function_definition" | "class_definition" | "decorated_definition"
    );
    let gap = if definition {
        format!("{nl}{nl}")
    } else {
        String::new()
    };
    let start = comments.unwrap_or(next).start_byte();
    // Before the `async ` of a definition that becomes async: rank below the default.
    Some(Edit {
        rank: -1,
        ..Edit::insert(
            start,
            format!("{TASK_SET} = set(){nl}{gap}"),
            "dangling-task",
        )
    })
}
