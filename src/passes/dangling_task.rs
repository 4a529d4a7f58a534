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
use crate::edit::{Edit, Origin};
use crate::matcher::{CallFact, Ctx};
use std::collections::HashSet;
use tree_sitter::Node;

/// The module-level set holding the running background tasks.
pub const TASK_SET: &str = "_background_tasks";

/// Handles one `create_task`-like call; always claims it (a call that is kept is fine).
pub fn rewrite(cx: &PassCx, c: &CallFact, out: &mut PassOut) -> bool {
    if let (Some(_), Ctx::Body, Some(call)) = (c.caller, c.ctx, cx.node(c.start, c.end)) {
        keep_reference(cx, call, &[], out);
    }
    true
}

/// Tasks that other passes produced (`threading.Thread(target=f).start()` becomes
/// `asyncio.create_task(f())`): the same rule applies to the new code, so a second run has
/// nothing left to do. Keyed on the produced text, with the replaced range as the call.
pub fn run_produced(cx: &PassCx, out: &mut PassOut) {
    let create_task = cx.cat.names().dangling_task.create_task.as_str();
    let produced: Vec<(usize, usize)> = out
        .edits
        .iter()
        .filter(|e| {
            e.start < e.end
                && e.text
                    .strip_prefix(create_task)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('('))
        })
        .map(|e| (e.start, e.end))
        .collect();
    let edits = out.edits.clone();
    for (start, end) in produced {
        let Some(mut node) = cx.node(start, end) else {
            continue;
        };
        // A renamed callee (`gevent.spawn` -> `asyncio.create_task`): the call is its parent.
        if let Some(call) = node.parent().filter(|p| {
            p.kind() == "call"
                && p.child_by_field_name("function")
                    .is_some_and(|f| f.id() == node.id())
        }) {
            node = call;
        }
        if cx.module().index.function_at(start).is_some() {
            keep_reference(cx, node, &edits, out);
        }
    }
}

/// Gives the task made by `call` a reference if its result is dropped. `edits` are other
/// passes' edits: a name read only inside text they replace counts as unread unless their
/// new text reads it.
fn keep_reference(cx: &PassCx, call: Node, edits: &[Edit], out: &mut PassOut) {
    let Some(parent) = call.parent() else {
        return;
    };
    let src = cx.src();
    let Some(f) = cx.module().index.function_at(call.start_byte()) else {
        return;
    };
    let def = &cx.module().index.functions[f];
    let Some(func) = cx.node(def.start, def.end) else {
        return;
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
                return;
            };
            let Some(stmt) = parent
                .parent()
                .filter(|s| s.kind() == "expression_statement")
            else {
                return;
            };
            let name = &src[left.byte_range()];
            let read_by_new_text = edits
                .iter()
                .any(|e| e.start < e.end && mentions(&e.text, name));
            if count_reads(func, src, name, left.id(), edits) > 0
                || read_by_new_text
                || cx.module().index.bindings.contains_key(name)
            {
                return;
            }
            (stmt, Some(name.to_string()))
        }
        _ => return,
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
        let pos = call.start_position();
        out.diagnostics.push(cx.diag(
            pos.row + 1,
            pos.column + 1,
            "dangling-task",
            format!(
                "the task's result is dropped, so it can be garbage-collected before it finishes; \
                 keep a reference: `task = {}; {TASK_SET}.add(task); \
                 task.add_done_callback({TASK_SET}.discard)`",
                &src[call.byte_range()]
            ),
        ));
        return;
    }

    let indent = cx.line_indent(stmt.start_byte());
    let name = match bound {
        Some(n) => n,
        None => {
            let name = fresh_name(&names, cx);
            out.edits.push(Edit::insert(
                stmt.start_byte(),
                format!("{name} = "),
                Origin::DanglingTask,
            ));
            name
        }
    };
    out.edits.push(Edit::insert(
        eol,
        format!(
            "{nl}{indent}{TASK_SET}.add({name}){nl}{indent}{name}.add_done_callback({TASK_SET}.discard)"
        ),
        Origin::DanglingTask,
    ));
    if let Some(edit) = task_set_definition(cx) {
        out.edits.push(edit);
    }
    out.rewritten += 1;
}

/// `text` reads the identifier `name` (a whole word, not an attribute of something else).
fn mentions(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(|c| word(c) || c == '.') && !after.is_some_and(word)
    })
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

/// Identifier nodes spelling `name` in `node`, other than the one with id `except` and
/// those inside text another pass replaces.
fn count_reads(node: Node, src: &str, name: &str, except: usize, edits: &[Edit]) -> usize {
    if node.kind() == "identifier" {
        let (s, e) = (node.start_byte(), node.end_byte());
        let replaced = edits
            .iter()
            .any(|x| x.start < x.end && x.start <= s && e <= x.end);
        return usize::from(node.id() != except && !replaced && &src[node.byte_range()] == name);
    }
    let mut cursor = node.walk();
    node.children(&mut cursor)
        .map(|c| count_reads(c, src, name, except, edits))
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
pub fn task_set_definition(cx: &PassCx) -> Option<Edit> {
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
            Origin::DanglingTask,
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
            Origin::DanglingTask,
        )
    })
}
