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
    Uses { src, values: None }.die_at(call)
}

/// The value of `getattr(...)` (`call`) is never called nor handed on: each use of it, in
/// place or through the one local it is assigned to, is inert. Besides the uses
/// [`result_dies`] accepts, a function read may be formatted or inspected by a builtin
/// (`builtin` says the name is not shadowed) and have a non-dunder attribute read
/// (`value.to_dict()`): a function's own attributes are data unless the project stores
/// functions on functions, and `__call__`, `__func__` and the like hand the function on.
pub fn value_dies(call: Node, src: &str, builtin: &dyn Fn(Node) -> bool) -> bool {
    let uses = Uses {
        src,
        values: Some(builtin),
    };
    uses.die_at(call) || uses.die_through_local(call)
}

/// A namespace dict (`obj.__dict__`, `vars(obj)`: `ns`) read only for its names or for
/// values that die: `for k in ns`, `ns.keys()`, `ns[k]` used as [`value_dies`] allows, or
/// `ns.items()` / `ns.values()` iterated by a `for` or a comprehension whose value variable
/// is so used (`f"{k}={v!r}" for k, v in self.__dict__.items()`).
pub fn entries_die(ns: Node, src: &str, builtin: &dyn Fn(Node) -> bool) -> bool {
    let uses = Uses {
        src,
        values: Some(builtin),
    };
    let Some(parent) = ns.parent() else {
        return false;
    };
    match parent.kind() {
        // `for k in ns`: names.
        "for_statement" | "for_in_clause" => return is(parent.child_by_field_name("right"), ns),
        // `ns[k]` whose value dies.
        "subscript" if is(parent.child_by_field_name("value"), ns) => {
            return uses.die_at(parent) || uses.die_through_local(parent);
        }
        _ => {}
    }
    let Some(attr) =
        Some(parent).filter(|a| a.kind() == "attribute" && is(a.child_by_field_name("object"), ns))
    else {
        return false;
    };
    let Some(call) = attr
        .parent()
        .filter(|c| c.kind() == "call" && is(c.child_by_field_name("function"), attr))
    else {
        return false;
    };
    let method = attr.child_by_field_name("attribute").map(|a| text(a, src));
    if method == Some("keys") {
        return true;
    }
    let Some(each) = call.parent().filter(|l| {
        matches!(l.kind(), "for_statement" | "for_in_clause")
            && is(l.child_by_field_name("right"), call)
    }) else {
        return false;
    };
    let Some(left) = each.child_by_field_name("left") else {
        return false;
    };
    let value = match method {
        Some("values") => Some(left),
        Some("items") if matches!(left.kind(), "pattern_list" | "tuple_pattern") => {
            let mut cursor = left.walk();
            let parts: Vec<Node> = left.named_children(&mut cursor).collect();
            (parts.len() == 2).then(|| parts[1])
        }
        _ => None,
    };
    let scope = match each.kind() {
        "for_in_clause" => each.parent(),
        _ => enclosing_function(each),
    };
    match (value, scope) {
        (Some(v), Some(scope)) if v.kind() == "identifier" => uses.local_dies(v, scope),
        _ => false,
    }
}

/// A namespace dict (`ns`) read at one literal key, `ns["name"]` or `ns.get("name", ...)`:
/// that name. Anything else read from it may be any name.
pub fn keyed_read(ns: Node, src: &str) -> Option<String> {
    let parent = ns.parent()?;
    let key = match parent.kind() {
        "subscript" if is(parent.child_by_field_name("value"), ns) => {
            let mut cursor = parent.walk();
            let keys: Vec<Node> = parent
                .children_by_field_name("subscript", &mut cursor)
                .collect();
            (keys.len() == 1).then(|| keys[0])?
        }
        "attribute" if is(parent.child_by_field_name("object"), ns) => {
            let method = parent.child_by_field_name("attribute")?;
            let call = parent
                .parent()
                .filter(|c| c.kind() == "call" && is(c.child_by_field_name("function"), parent))?;
            let args = call.child_by_field_name("arguments")?;
            (text(method, src) == "get" && args.kind() == "argument_list")
                .then(|| args.named_child(0))??
        }
        _ => return None,
    };
    plain_string(key, src)
}

/// Which uses of a value let it die.
struct Uses<'s> {
    src: &'s str,
    /// For a value read by name ([`value_dies`]): formatting, the builtins that inspect or
    /// format it (the function says a name is the builtin, not shadowed) and a non-dunder
    /// attribute read let it die too.
    values: Option<&'s dyn Fn(Node) -> bool>,
}

impl Uses<'_> {
    /// `f` (called with the value) only inspects or formats its arguments.
    fn inspects(&self, f: Node) -> bool {
        let name = text(f, self.src);
        match self.values {
            None => INSPECTORS.contains(&name),
            Some(builtin) => {
                (INSPECTORS.contains(&name) || FORMATTERS.contains(&name)) && builtin(f)
            }
        }
    }

    /// The value at `node` dies where it is used.
    fn die_at(&self, value: Node) -> bool {
        let mut node = value;
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
                    return is(parent.child_by_field_name("condition"), node)
                        || parent.kind() == "assert_statement";
                }
                "conditional_expression" => {
                    // `a if cond else b`: the condition is the middle child.
                    return is(parent.named_child(1), node);
                }
                "expression_statement" => return true,
                "argument_list" => {
                    return parent
                        .parent()
                        .and_then(|call| call.child_by_field_name("function"))
                        .is_some_and(|f| f.kind() == "identifier" && self.inspects(f));
                }
                // `f"{value}"` formats it through `__format__`.
                "interpolation" => return self.values.is_some(),
                "attribute" => {
                    return self.values.is_some()
                        && is(parent.child_by_field_name("object"), node)
                        && parent
                            .child_by_field_name("attribute")
                            .is_some_and(|a| !text(a, self.src).starts_with("__"));
                }
                _ => return false,
            }
        }
    }

    /// `name = call` in a function, and the local dies there (see [`Uses::local_dies`]).
    fn die_through_local(&self, call: Node) -> bool {
        let mut value = call;
        while let Some(p) = value
            .parent()
            .filter(|p| p.kind() == "parenthesized_expression")
        {
            value = p;
        }
        let Some(assign) = value.parent().filter(|a| plain_assignment(*a)) else {
            return false;
        };
        match (
            assign.child_by_field_name("left"),
            is(assign.child_by_field_name("right"), value),
            enclosing_function(assign),
        ) {
            (Some(left), true, Some(def)) => self.local_dies(left, def),
            _ => false,
        }
    }

    /// Every mention of the name `binding` binds in `scope` (nested scopes included), but
    /// `binding` itself, is a plain assignment to it or a use that dies. A `global`,
    /// `nonlocal`, `del`, a parameter or any other binding of the name is a use that does not
    /// die, and `locals()`, `vars()`, `eval` or `exec` may read it unseen.
    fn local_dies(&self, binding: Node, scope: Node) -> bool {
        let id = text(binding, self.src);
        let mut stack = vec![scope];
        while let Some(n) = stack.pop() {
            if n.kind() == "identifier" && n.id() != binding.id() {
                let t = text(n, self.src);
                if NAMESPACE_READERS.contains(&t) || (t == id && !self.mention_dies(n)) {
                    return false;
                }
            }
            let mut cursor = n.walk();
            stack.extend(n.named_children(&mut cursor));
        }
        true
    }

    /// A mention of the local: not the variable at all (`x.name`, `f(name=...)`), a plain
    /// assignment to it, or a read whose value dies.
    fn mention_dies(&self, n: Node) -> bool {
        let Some(parent) = n.parent() else {
            return false;
        };
        let field = |f: &str| is(parent.child_by_field_name(f), n);
        match parent.kind() {
            "attribute" if field("attribute") => true,
            "keyword_argument" if field("name") => true,
            "assignment" if field("left") && plain_assignment(parent) => true,
            _ => self.die_at(n),
        }
    }
}

/// `name = value` or `name: T = value` as a statement of its own (not `a = b = value`).
fn plain_assignment(n: Node) -> bool {
    n.kind() == "assignment"
        && n.child_by_field_name("left")
            .is_some_and(|l| l.kind() == "identifier")
        && n.child_by_field_name("right").is_some()
        && n.parent()
            .is_some_and(|s| s.kind() == "expression_statement")
}

/// The function whose local `node` binds: `None` at module level or in a class body.
fn enclosing_function(node: Node) -> Option<Node> {
    let mut n = node;
    loop {
        n = n.parent()?;
        match n.kind() {
            "function_definition" => return Some(n),
            "class_definition" | "module" => return None,
            _ => {}
        }
    }
}

/// `node` is `of`.
fn is(node: Option<Node>, of: Node) -> bool {
    node.is_some_and(|n| n.id() == of.id())
}

/// Builtins that read a function's locals by name.
const NAMESPACE_READERS: &[&str] = &["locals", "vars", "eval", "exec"];

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

/// Builtins that only inspect their argument (`callable(getattr(o, n))`).
const INSPECTORS: &[&str] = &["callable", "isinstance", "bool", "hasattr", "id"];

/// Builtins that inspect or format their arguments through dunders, which stay sync.
const FORMATTERS: &[&str] = &[
    "issubclass",
    "type",
    "str",
    "repr",
    "ascii",
    "format",
    "len",
    "hash",
    "print",
];

/// The name is a variable that can only hold one of a few string literals:
/// the target of `for name in ("a", "b"):` (not assigned again in the loop), or a parameter
/// that `@pytest.mark.parametrize("name", ["a", "b"])` fills.
pub fn literal_values(name: Node, src: &str) -> Option<Vec<String>> {
    let id = text(name, src);
    let mut node = name;
    while let Some(parent) = node.parent() {
        match parent.kind() {
            "for_statement" => {
                if let Some(body) = loop_binding(parent, node, id, src) {
                    body?;
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

/// The name is the target of the enclosing `for name in ...:` whose body opens with
/// `if not name.startswith("validate_"): continue` before the statement holding `name`, and
/// binds `name` nowhere else: every name read there starts with that prefix. A nested
/// scope (a function, a lambda, a comprehension) may run after the loop moved on, so the
/// read must be in the loop's own body.
pub fn guarded_prefix(name: Node, src: &str) -> Option<String> {
    let id = text(name, src);
    // `node` is a child of `parent`, `statement` the child of `node` it was reached from.
    let (mut statement, mut node) = (name, name);
    while let Some(parent) = node.parent() {
        match parent.kind() {
            "for_statement" => {
                if let Some(body) = loop_binding(parent, node, id, src) {
                    let body = body?;
                    let mut cursor = body.walk();
                    return body
                        .named_children(&mut cursor)
                        .take_while(|s| s.id() != statement.id())
                        .find_map(|s| skipped_unless_prefixed(s, id, src));
                }
            }
            k if crate::parse::opens_scope(k) => return None,
            _ => {}
        }
        (statement, node) = (node, parent);
    }
    None
}

/// `for_stmt`, reached from its child `from`, when it binds `id` (`for id in ...:`): its body,
/// or `Some(None)` when `from` is its `right` or `else` (where `id` is another binding) or
/// the body assigns `id` again; `None` when the loop binds another name.
fn loop_binding<'t>(
    for_stmt: Node<'t>,
    from: Node<'t>,
    id: &str,
    src: &str,
) -> Option<Option<Node<'t>>> {
    let left = for_stmt.child_by_field_name("left")?;
    if left.kind() != "identifier" || text(left, src) != id {
        return None;
    }
    let body = for_stmt.child_by_field_name("body")?;
    Some((body.id() == from.id() && !assigns(body, id, src)).then_some(body))
}

/// `statement` is `if not id.startswith("prefix"): continue`: the prefix.
fn skipped_unless_prefixed(statement: Node, id: &str, src: &str) -> Option<String> {
    if statement.kind() != "if_statement" || statement.child_by_field_name("alternative").is_some()
    {
        return None;
    }
    let body = statement.child_by_field_name("consequence")?;
    let only_continue = body.named_child_count() == 1
        && body
            .named_child(0)
            .is_some_and(|c| c.kind() == "continue_statement");
    let test = statement
        .child_by_field_name("condition")
        .filter(|c| c.kind() == "not_operator")?
        .child_by_field_name("argument")?;
    let method = test
        .child_by_field_name("function")
        .filter(|f| f.kind() == "attribute")?;
    let receiver = method.child_by_field_name("object")?;
    let args = test.child_by_field_name("arguments")?;
    let guards = only_continue
        && receiver.kind() == "identifier"
        && text(receiver, src) == id
        && method
            .child_by_field_name("attribute")
            .is_some_and(|a| text(a, src) == "startswith")
        && args.named_child_count() == 1;
    guards.then(|| plain_string(args.named_child(0)?, src))?
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
