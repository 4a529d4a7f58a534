//! What a `getattr(obj, name)` can return, narrowed soundly.
//!
//! A `getattr` whose object and name awaitify cannot know may return any method or
//! module-level function of the project, so all of them stay sync. These helpers find the
//! cases where less is possible: the result is never used as a value, or the name is one of
//! a few literals.

use super::resolve::BUILTIN_SCALARS;
use crate::parse::text;
use crate::syntax::Node;

/// The value of `call` is only tested or compared, never kept, passed on or called:
/// `if getattr(args, arg, False) and x is None:`, `getattr(o, n) is not None`,
/// `callable(getattr(o, n))`. A function it returns is then never called through it.
pub fn result_dies(call: Node, src: &str) -> bool {
    let mut node = call;
    loop {
        let Some(parent) = node.parent() else {
            return false;
        };
        match parent.kind() {
            "parenthesized_expression" => node = parent,
            // `a and b` is `a` or `b`: it dies only where the whole expression dies.
            "boolean_operator" => node = parent,
            // Truth and comparisons read the value through dunders, which stay sync anyway
            // (Python calls them without await).
            "not_operator" | "comparison_operator" => return true,
            "if_statement" | "elif_clause" | "while_statement" | "assert_statement" => {
                return parent
                    .child_by_field_name("condition")
                    .is_some_and(|c| c.id() == node.id())
                    || parent.kind() == "assert_statement";
            }
            "conditional_expression" => {
                // `a if cond else b`: the condition is the middle child.
                return parent.named_child(1).is_some_and(|c| c.id() == node.id());
            }
            "expression_statement" => return true,
            "argument_list" => return inspecting_builtin(parent, src),
            _ => return false,
        }
    }
}

/// A namespace dict (`obj.__dict__`, `vars(obj)`) that is only written to: the target of
/// `d[k] = v` or `del d[k]`, or `d.update(...)` / `d.clear()`. Nothing is read out of it.
pub fn only_written(dict: Node, src: &str) -> bool {
    let Some(parent) = dict.parent() else {
        return false;
    };
    match parent.kind() {
        "subscript" => {
            let Some(outer) = parent.parent() else {
                return false;
            };
            let is = |n: Option<Node>| n.is_some_and(|n| n.id() == parent.id());
            (outer.kind() == "assignment" && is(outer.child_by_field_name("left")))
                || outer.kind() == "delete_statement"
        }
        "attribute" => {
            let method = parent
                .child_by_field_name("attribute")
                .map(|a| text(a, src));
            matches!(method, Some("update" | "clear"))
                && parent.parent().is_some_and(|call| call.kind() == "call")
        }
        _ => false,
    }
}

/// `args` is the argument list of a builtin that only inspects its arguments
/// (`callable(getattr(o, n))`).
fn inspecting_builtin(args: Node, src: &str) -> bool {
    args.parent()
        .and_then(|call| call.child_by_field_name("function"))
        .is_some_and(|f| f.kind() == "identifier" && INSPECTORS.contains(&text(f, src)))
}

const INSPECTORS: &[&str] = &["callable", "isinstance", "bool", "hasattr", "id"];

/// The name is a variable that can only hold one of a few string literals:
/// the target of `for name in ("a", "b"):` (not assigned again in the loop), or a parameter
/// that `@pytest.mark.parametrize("name", ["a", "b"])` fills.
pub fn literal_values(name: Node, src: &str) -> Option<Vec<String>> {
    let id = text(name, src);
    let mut node = name;
    while let Some(parent) = node.parent() {
        match parent.kind() {
            "for_statement" => {
                let left = parent.child_by_field_name("left")?;
                if left.kind() == "identifier" && text(left, src) == id {
                    let body = parent.child_by_field_name("body")?;
                    // In the loop's `right` or `else`, the name is another binding.
                    if body.id() != node.id() || assigns(body, id, src) {
                        return None;
                    }
                    return strings(parent.child_by_field_name("right")?, src);
                }
            }
            "function_definition" => {
                let body = parent.child_by_field_name("body")?;
                if assigns(body, id, src) {
                    return None;
                }
                return parametrized(parent, id, src);
            }
            "lambda" | "class_definition" => return None,
            _ => {}
        }
        node = parent;
    }
    None
}

/// The function around `node` binds its parameter `id` again in its body.
pub fn param_rebound(node: Node, id: &str, src: &str) -> bool {
    let mut n = node;
    while let Some(parent) = n.parent() {
        if parent.kind() == "function_definition" {
            return parent
                .child_by_field_name("body")
                .is_none_or(|body| assigns(body, id, src));
        }
        n = parent;
    }
    true
}

/// The values a local variable (`name`, inside a function) is ever assigned: `None` when
/// it is also a parameter, or bound any other way (`for`, `with ... as`, augmented, walrus,
/// import, `global`/`nonlocal`, `del`), anywhere in the function, nested scopes included.
pub fn local_values<'t>(name: Node<'t>, src: &str) -> Option<Vec<Node<'t>>> {
    let id = text(name, src);
    let mut n = name;
    let def = loop {
        let parent = n.parent()?;
        if parent.kind() == "function_definition" {
            break parent;
        }
        n = parent;
    };
    if def
        .child_by_field_name("parameters")
        .is_some_and(|p| mentions(p, id, src))
    {
        return None;
    }
    let mut values = Vec::new();
    let mut stack = vec![def.child_by_field_name("body")?];
    while let Some(n) = stack.pop() {
        if n.kind() == "assignment"
            && let Some(left) = n.child_by_field_name("left")
            && left.kind() == "identifier"
            && text(left, src) == id
        {
            values.push(n.child_by_field_name("right")?);
        } else if assigns_here(n, id, src) {
            return None;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    Some(values)
}

/// `node` itself binds `id` (not counting what its children bind).
fn assigns_here(n: Node, id: &str, src: &str) -> bool {
    match n.kind() {
        "assignment" | "augmented_assignment" | "for_statement" | "for_in_clause" => n
            .child_by_field_name("left")
            .is_some_and(|l| mentions(l, id, src)),
        "named_expression" => n
            .child_by_field_name("name")
            .is_some_and(|l| text(l, src) == id),
        "as_pattern"
        | "delete_statement"
        | "global_statement"
        | "nonlocal_statement"
        | "import_statement"
        | "import_from_statement" => mentions(n, id, src),
        _ => false,
    }
}

/// Some statement under `node` binds `id` (assignment, `for`, walrus, `with ... as`,
/// `except ... as`, `del`, `global`/`nonlocal`, an import).
fn assigns(node: Node, id: &str, src: &str) -> bool {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if assigns_here(n, id, src) {
            return true;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

/// An identifier `id` appears in `node`.
fn mentions(node: Node, id: &str, src: &str) -> bool {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind() == "identifier" && text(n, src) == id {
            return true;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

/// A tuple, list or set of plain string literals: their values.
fn strings(node: Node, src: &str) -> Option<Vec<String>> {
    if !matches!(node.kind(), "tuple" | "list" | "set") {
        return None;
    }
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .map(|n| plain_string(n, src))
        .collect()
}

/// The value of a string literal without prefixes, escapes or interpolation.
pub fn plain_string(node: Node, src: &str) -> Option<String> {
    if node.kind() != "string" {
        return None;
    }
    let t = text(node, src);
    let quote = t.chars().next()?;
    if !matches!(quote, '"' | '\'') || t.starts_with("\"\"\"") || t.starts_with("'''") {
        return None;
    }
    let body = t.strip_prefix(quote)?.strip_suffix(quote)?;
    (!body.contains(['\\', quote])).then(|| body.to_string())
}

/// `@pytest.mark.parametrize("a, name", [(1, "x"), (2, "y")])` on `def_node`: the values of
/// the parameter `id`, when every one of them is a plain string literal.
fn parametrized(def_node: Node, id: &str, src: &str) -> Option<Vec<String>> {
    let decorated = def_node
        .parent()
        .filter(|p| p.kind() == "decorated_definition")?;
    let mut cursor = decorated.walk();
    for decorator in decorated.named_children(&mut cursor) {
        let Some(call) = decorator
            .named_child(0)
            .filter(|c| decorator.kind() == "decorator" && c.kind() == "call")
        else {
            continue;
        };
        let function = call.child_by_field_name("function")?;
        if !text(function, src).ends_with("mark.parametrize") {
            continue;
        }
        let args = call.child_by_field_name("arguments")?;
        let mut c = args.walk();
        let positional: Vec<Node> = args
            .named_children(&mut c)
            .filter(|a| a.kind() != "comment")
            .collect();
        let names = plain_string(*positional.first()?, src)?;
        let names: Vec<&str> = names.split(',').map(str::trim).collect();
        let Some(column) = names.iter().position(|n| *n == id) else {
            continue;
        };
        let rows = positional.get(1)?;
        if names.len() == 1 {
            return strings(*rows, src);
        }
        if !matches!(rows.kind(), "list" | "tuple") {
            return None;
        }
        let mut c = rows.walk();
        return rows
            .named_children(&mut c)
            .filter(|r| r.kind() != "comment")
            .map(|row| {
                if row.kind() != "tuple" {
                    return None;
                }
                let mut c = row.walk();
                let cells: Vec<Node> = row.named_children(&mut c).collect();
                plain_string(*cells.get(column)?, src)
            })
            .collect();
    }
    None
}

/// An annotation naming this class outside the project says the value is not a project
/// object, unless a project class derives from it. Names that any object satisfies say
/// nothing.
pub fn holds_no_project_object(q: &str) -> bool {
    let vague = [
        "object",
        "builtins.object",
        "typing.Any",
        "typing_extensions.Any",
        "Any",
    ];
    !vague.contains(&q)
        && !q.starts_with("typing.")
        && !q.starts_with("typing_extensions.")
        && !q.starts_with("collections.abc.")
        && !q.starts_with("types.")
        && (q.contains('.') || BUILTIN_SCALARS.contains(&q) || q == "bytearray")
}
