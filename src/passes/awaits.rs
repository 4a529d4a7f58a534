//! `await-call`: every call of a function that is now a coroutine gets `await`, with the
//! parentheses precedence needs.
//!
//! Why: calling a coroutine function without `await` returns a coroutine object and runs
//! nothing. In code that was already async, a call whose result is dropped is such a bug.
//!
//! ```python
//! get(u).json()          ->  (await get(u)).json()
//! double(3) + double(4)  ->  await double(3) + await double(4)
//! sum(f(x) for x in xs)  ->  sum([await f(x) for x in xs])
//! ```
//!
//! `await` binds tighter than every operator but attribute access, subscription and calls,
//! so only a primary position needs parentheses. A generator expression holding an `await`
//! would become an async generator, so it becomes a list comprehension.
//!
//! A call a family claims (see [`super::claims`]) is left to it: a wait it turns into a sync
//! call, a socket write it turns into two statements, a request it enters as a stream.

use super::{PassCx, PassOut, enclosing_genexp, genexp_to_list};
use crate::colour::Colouring;
use crate::edit::{Edit, Origin};
use crate::matcher::{Knowledge, ModuleFacts, Target};
use crate::project::Project;
use crate::report::Diagnostic;
use crate::rules::Action;

pub fn run(cx: &PassCx, out: &mut PassOut) {
    out.diagnostics
        .extend(unresolved(cx.p, cx.colour, cx.knowledge, cx.facts, cx.m));
    for c in &cx.facts.param_calls {
        if c.awaited || !cx.colour.awaited_param_calls.contains(&(cx.m, c.start)) {
            continue;
        }
        let Some(node) = cx.node(c.start, c.end) else {
            continue;
        };
        await_node(node, out);
    }
    for &(m, start, end) in &cx.colour.awaited_attr_calls {
        if m != cx.m {
            continue;
        }
        let Some(node) = cx.node(start, end) else {
            continue;
        };
        if node.parent().is_some_and(|a| a.kind() == "await") {
            continue;
        }
        await_node(node, out);
    }
    for c in cx.calls {
        // A call a family owns is its to await or not (see `claims`).
        if c.awaited || !cx.call_is_awaited(c) || pass_awaits(cx, c) || cx.claims.unawaited(c) {
            continue;
        }
        let Some(node) = cx.node(c.start, c.end) else {
            continue;
        };
        await_node(node, out);
        if let Target::Func(g) = &c.target
            && cx.colour.scripts.contains(g)
        {
            rename_script_call(cx, c, *g, out);
        }
    }
}

/// Async callers of a console-script function call its coroutine, `<name>_async`.
fn rename_script_call(
    cx: &PassCx,
    c: &crate::matcher::CallFact,
    g: crate::project::FuncId,
    out: &mut PassOut,
) {
    let Some(callee) = cx.node(c.callee.0, c.callee.1) else {
        return;
    };
    let name = &cx.p.func(g).name;
    let target = if callee.kind() == "attribute" {
        callee.child_by_field_name("attribute")
    } else {
        Some(callee)
    };
    match target {
        Some(t) if g.module as usize == cx.m || callee.kind() == "attribute" => {
            out.edits.push(Edit::replace(t.start_byte(), t.end_byte(), format!("{name}_async"), Origin::AwaitCall));
        }
        _ => out.diagnostics.push(cx.diag_at(c, "console-script-call",
            format!("`{name}` is a console script and stays a sync wrapper; call `{name}_async` here (import it) to await it"),
        )),
    }
}

/// `await` before `node`, parenthesised where precedence needs it; a generator expression
/// around it becomes a list comprehension.
pub fn await_node(node: tree_sitter::Node, out: &mut PassOut) {
    let (start, end) = (node.start_byte(), node.end_byte());
    let len = end - start;
    out.rewritten += 1;
    if needs_parens(node) {
        out.edits
            .push(Edit::open(start, len, "(await ", Origin::AwaitCall));
        out.edits
            .push(Edit::close(end, len, ")", Origin::AwaitCall));
    } else {
        out.edits
            .push(Edit::open(start, len, "await ", Origin::AwaitCall));
    }
    if let Some(g) = enclosing_genexp(node) {
        genexp_to_list(g, out);
    }
}

/// A `pass_awaits` catalog entry: its Rust pass places the `await` inside its rewrite.
fn pass_awaits(cx: &PassCx, c: &crate::matcher::CallFact) -> bool {
    let entry = match &c.target {
        Target::Rule(q) => cx.cat.call(q),
        Target::Method { ty, name } => cx.cat.method(ty, name),
        _ => None,
    };
    entry.is_some_and(|e| e.pass_awaits && e.action == Action::Pass)
}

/// Whether `await <node>` must be parenthesised where `node` stands.
pub fn needs_parens(node: tree_sitter::Node) -> bool {
    let Some(parent) = node.parent() else {
        return false;
    };
    let is = |field: &str| {
        parent
            .child_by_field_name(field)
            .is_some_and(|c| c.id() == node.id())
    };
    match parent.kind() {
        "attribute" => is("object"),
        "subscript" => is("value"),
        "call" => is("function"),
        _ => false,
    }
}

/// What cannot be resolved is not guessed at: a call that may reach a now-async method is
/// left alone and reported. Needs no syntax tree, so modules that are otherwise untouched
/// get these reports without being parsed again.
pub fn unresolved(
    p: &Project,
    colour: &Colouring,
    knowledge: &Knowledge,
    facts: &ModuleFacts,
    m: usize,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for u in &facts.unresolved {
        let Some(methods) = knowledge.methods_by_name.get(u.name.as_str()) else {
            continue;
        };
        let coloured: Vec<String> = methods
            .iter()
            .filter(|f| colour.coloured.contains(f))
            .map(|f| p.func_name(*f))
            .collect();
        if coloured.is_empty() {
            continue;
        }
        let msg = format!(
            "`.{}()` may call the now-async {}, but the receiver's type is unknown; it was not awaited (check it, or annotate the receiver)",
            u.name,
            if coloured.len() > 3 {
                format!(
                    "{} and {} more",
                    coloured[..3].join(", "),
                    coloured.len() - 3
                )
            } else {
                coloured.join(", ")
            }
        );
        out.push(Diagnostic::new(
            &p.modules[m].display,
            u.line,
            u.col,
            "unresolved-call",
            msg,
        ));
    }
    out
}
