//! `isinstance` narrowing, as a type checker reads it: past `if not isinstance(x, T): raise
//! ...` a local `x` is a `T`, however it was bound (a callback's result declared `Any`).
//!
//! Only a function's own locals (and parameters) narrow: a global may be rebound by any
//! call. Names hold one kind for the whole function elsewhere (the type facts are not
//! flow-sensitive), so a narrowing holds only where nothing in between may rebind the name:
//! from the guard to the read, within the guard's block, with no loop around the read
//! (whose next round may follow a rebinding after it), no nested function or lambda (which
//! reads the name when called; nor a generator expression, evaluated late), and no
//! `nonlocal`/`global` for it in the function.

use super::knowledge::Kind;
use super::resolve::Val;
use super::walk::Walker;
use crate::parse::text;
use crate::project::Sym;
use crate::syntax::Node;

impl<'a> Walker<'a> {
    /// The kind an `isinstance` guard before `node` (an identifier read) narrows it to.
    pub(super) fn narrowed(&self, node: Node, caller: Option<usize>) -> Option<Kind> {
        let name = text(node, self.src);
        // A global may be rebound by any call in between; a function's own local only
        // where it is written.
        if !caller.is_some_and(|c| self.func(c).locals.contains(name)) {
            return None;
        }
        let mut inner = node;
        let mut loop_end = None;
        while let Some(parent) = inner.parent() {
            match parent.kind() {
                "function_definition"
                | "lambda"
                | "class_definition"
                | "generator_expression"
                | "module" => return None,
                "for_statement" | "while_statement" => loop_end = Some(parent.end_byte()),
                "block" => {
                    let mut cursor = parent.walk();
                    let before: Vec<Node> = parent
                        .named_children(&mut cursor)
                        .take_while(|s| s.end_byte() <= inner.start_byte())
                        .collect();
                    // The nearest guard: what comes after it is checked for rebindings.
                    if let Some((guard, kind)) = before
                        .iter()
                        .rev()
                        .find_map(|s| Some((s, self.guard_kind(*s, name, caller)?)))
                    {
                        let end = loop_end.unwrap_or(node.start_byte());
                        let clear = !rebinds(parent, (guard.end_byte(), end), name, self.src)
                            && !declared_elsewhere(parent, name, self.src);
                        return clear.then_some(kind);
                    }
                }
                _ => {}
            }
            inner = parent;
        }
        None
    }

    /// `if not isinstance(name, T): ...` (also `not isinstance(name, T) or ...`) whose body
    /// always leaves (its last statement a `raise` or `return`), with no `elif`/`else`: `T`'s
    /// kind, a project class or an outside type the analysis knows.
    fn guard_kind(&self, stmt: Node, name: &str, caller: Option<usize>) -> Option<Kind> {
        if stmt.kind() != "if_statement" || stmt.child_by_field_name("alternative").is_some() {
            return None;
        }
        let body = stmt.child_by_field_name("consequence")?;
        let last = body.named_child(body.named_child_count().checked_sub(1)?)?;
        if !matches!(last.kind(), "raise_statement" | "return_statement") {
            return None;
        }
        let mut cond = stmt.child_by_field_name("condition")?;
        // `not A or B` is false only where `not A` is.
        while cond.kind() == "boolean_operator" && cond.child(1).is_some_and(|op| op.kind() == "or")
        {
            cond = cond.child_by_field_name("left")?;
        }
        if cond.kind() != "not_operator" {
            return None;
        }
        let call = cond.child_by_field_name("argument")?;
        let args = call.child_by_field_name("arguments")?;
        let is_isinstance = call.kind() == "call"
            && matches!(
                self.resolve(call.child_by_field_name("function")?, caller),
                Val::Sym(Sym::External(q)) if q == "isinstance"
            );
        let (Some(obj), Some(ty), 2) = (
            args.named_child(0),
            args.named_child(1),
            args.named_child_count(),
        ) else {
            return None;
        };
        if !is_isinstance || obj.kind() != "identifier" || text(obj, self.src) != name {
            return None;
        }
        if !matches!(ty.kind(), "identifier" | "attribute") {
            return None;
        }
        match self.named_kind(self.m, text(ty, self.src), true)? {
            k @ (Kind::Instance(_) | Kind::Ext(_)) => Some(k),
            _ => None,
        }
    }
}

/// Whether something in `block` between the byte offsets `range` may bind `name`: an
/// assignment, a loop or `with` target, an `except ... as`, a walrus, a `del`, an import, a
/// `match`, or a nested definition naming it (conservatively, by its text).
fn rebinds(block: Node, range: (usize, usize), name: &str, src: &str) -> bool {
    let mut stack = vec![block];
    while let Some(n) = stack.pop() {
        if n.end_byte() <= range.0 || n.start_byte() >= range.1 {
            continue;
        }
        let inside = n.start_byte() >= range.0;
        if inside {
            let mut bound = Vec::new();
            crate::index::collect_bound_names(n, src, &mut bound);
            let by_text = matches!(
                n.kind(),
                "named_expression"
                    | "delete_statement"
                    | "import_statement"
                    | "import_from_statement"
                    | "match_statement"
                    | "function_definition"
                    | "class_definition"
                    | "lambda"
            ) && mentions(n, name, src);
            if by_text || bound.iter().any(|b| b == name) {
                return true;
            }
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

/// Whether the function around `block` declares `name` `nonlocal` or `global` anywhere (a
/// nested function may then rebind it when called).
fn declared_elsewhere(block: Node, name: &str, src: &str) -> bool {
    let mut scope = block;
    while let Some(p) = scope.parent() {
        scope = p;
        if p.kind() == "function_definition" {
            break;
        }
    }
    let mut stack = vec![scope];
    while let Some(n) = stack.pop() {
        if matches!(n.kind(), "nonlocal_statement" | "global_statement") && mentions(n, name, src) {
            return true;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

/// Whether an identifier `name` occurs in `node`.
fn mentions(node: Node, name: &str, src: &str) -> bool {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind() == "identifier" && text(n, src) == name {
            return true;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    false
}
