//! Callbacks stored on the instance: `self.on_error = on_error` in a method, called later as
//! `self.on_error(exc)`. The attribute is one more slot of the group: every value assigned
//! to it is a member, every call of it awaits the members when they turn async.
//!
//! Sound only when every read and every write of the attribute is known, so the attribute
//! is opaque (its values are pinned as before) when:
//! - some `x.<attr>` is on anything but the instance parameter of a method of a class in
//!   the hierarchy, or is read in a nested function, lambda or comprehension;
//! - it is used otherwise than called, tested, forwarded to a project function or assigned;
//! - a class of the hierarchy has a method or a class-level binding of that name;
//! - `getattr`, `vars()` or `__dict__` may read it by a name awaitify cannot tell.
//!
//! A value passed to `__init__` also needs every construction known
//! ([`Index::construction`]).

use super::{Index, Slot, SlotFacts, Use, classify, value_reaching};
use crate::index::FuncDef;
use crate::matcher::{DynName, DynOn};
use crate::parse::{line, text};
use crate::project::{ClassId, FuncId, Project};
use tree_sitter::Node;

/// The instance parameter of a method (`self`), or `None` for a function, a static method
/// or a class method.
pub(super) fn receiver(def: &FuncDef) -> Option<&str> {
    let plain = !def
        .decorators
        .iter()
        .any(|d| d == "staticmethod" || d == "classmethod");
    def.class
        .filter(|_| plain)
        .and(def.params.first())
        .map(|p| p.name.as_str())
}

/// `this.<attr> = n`: the attribute `n` is stored in.
pub(super) fn stored_on(n: Node, parent: Node, this: &str, src: &str) -> Option<String> {
    if parent.kind() != "assignment"
        || parent.child_by_field_name("right").map(|r| r.id()) != Some(n.id())
    {
        return None;
    }
    let left = parent
        .child_by_field_name("left")
        .filter(|l| l.kind() == "attribute")?;
    let object = left.child_by_field_name("object")?;
    let attr = left.child_by_field_name("attribute")?;
    (object.kind() == "identifier" && text(object, src) == this)
        .then(|| text(attr, src).to_string())
}

/// Bases a plain construction may have outside the project: they add no `__init__`,
/// `__new__` or metaclass of their own.
const INERT_BASES: &[&str] = &[
    "typing.Generic",
    "typing_extensions.Generic",
    "abc.ABC",
    "builtins.object",
];

impl Index<'_> {
    /// Why a value passed to `f`, an `__init__`, may reach it from a construction awaitify
    /// does not see: a class that runs it is built otherwise than by calling it (decorated,
    /// with a metaclass or `__new__`, or a base outside the project), or is used as a value
    /// (`factory = Outbox`, `cls(...)`, `type(self)(...)`). `None` for other functions.
    pub(super) fn construction(&mut self, f: FuncId) -> Option<String> {
        let p = self.p;
        let def = p.func(f);
        let owner = ClassId {
            module: f.module,
            class: def.class? as u32,
        };
        if def.name != "__init__" {
            return None;
        }
        let built: Vec<ClassId> = p
            .hierarchy(owner)
            .iter()
            .copied()
            .filter(|&x| p.mro(x).contains(&owner) && p.method(x, "__init__") == Some(f))
            .collect();
        for &x in &built {
            if let Some(why) = self.not_plain(x) {
                return Some(why);
            }
        }
        let related: Vec<ClassId> = p.hierarchy(owner).to_vec();
        if let Some(at) = self.rebuilt_inside(&related) {
            return Some(format!(
                "a method at {at} builds an instance of its own class by another name"
            ));
        }
        for &x in &built {
            if let Some(at) = self.used_as_value(&p.class(x).name) {
                return Some(format!(
                    "`{}` is used as a value at {at}, so not every construction is known",
                    p.class(x).name
                ));
            }
        }
        None
    }

    /// Why a call of class `x` may do more than run its `__init__`, if it may.
    fn not_plain(&mut self, x: ClassId) -> Option<String> {
        let p = self.p;
        for &k in p.mro(x) {
            let class = p.class(k);
            let m = k.module as usize;
            if class.methods.contains_key("__new__") {
                return Some(format!("`{}` defines `__new__`", class.name));
            }
            let outside = class.bases.iter().find(|b| {
                b.as_str() != "object"
                    && match p.resolve_in_module(m, b) {
                        crate::project::Sym::Class(_) => false,
                        crate::project::Sym::External(q) => !INERT_BASES.contains(&q.as_str()),
                        _ => true,
                    }
            });
            if let Some(b) = outside {
                return Some(format!(
                    "`{}` derives from `{b}`, outside the project, which may construct it otherwise",
                    class.name
                ));
            }
            let tree = self.tree(m)?;
            let node = class_node(tree.root_node(), class.start)?;
            let decorated = node
                .parent()
                .is_some_and(|d| d.kind() == "decorated_definition");
            let keywords = node.child_by_field_name("superclasses").is_some_and(|s| {
                let mut c = s.walk();
                s.named_children(&mut c)
                    .any(|a| a.kind() == "keyword_argument")
            });
            if decorated || keywords {
                return Some(format!(
                    "`{}` has a decorator or a metaclass, which may construct it otherwise",
                    class.name
                ));
            }
        }
        None
    }

    /// Where a method of these classes builds an instance without naming the class:
    /// `cls(...)` in a class method, `type(self)(...)`, `self.__class__(...)`.
    fn rebuilt_inside(&self, classes: &[ClassId]) -> Option<String> {
        let p = self.p;
        for &k in classes {
            let m = k.module as usize;
            let src = p.modules[m].source.text.as_str();
            for &g in p.class(k).methods.values() {
                let def = &p.modules[m].index.functions[g];
                let body = &src[def.start..def.end];
                let first = def.params.first().map(|x| x.name.as_str()).unwrap_or("");
                let cls = def.decorators.iter().any(|d| d == "classmethod");
                if body.contains(&format!("type({first})("))
                    || body.contains("__class__")
                    || cls && body.contains(&format!("{first}("))
                {
                    return Some(format!("{}:{}", p.modules[m].display, def.line));
                }
            }
        }
        None
    }

    /// Where class `name` is first used otherwise than constructed by a call awaitify maps,
    /// subclassed, annotated, imported or tested (`isinstance`, `except`, `is`).
    fn used_as_value(&mut self, name: &str) -> Option<String> {
        let p = self.p;
        for m in 0..p.modules.len() {
            let src = p.modules[m].source.text.as_str();
            if !src.contains(name) {
                continue;
            }
            let constructs = &self.constructs;
            let tree = super::tree_in(&mut self.trees, p, m)?;
            let mut found = None;
            walk(tree.root_node(), &mut |n| {
                if found.is_none()
                    && n.kind() == "identifier"
                    && text(n, src) == name
                    && !class_use_is_known(n, m, constructs, src)
                {
                    found = Some(format!("{}:{}", p.modules[m].display, line(n)));
                }
            });
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// Attribute `a` of the instances of class `c` (and of its hierarchy): every place that
    /// reads or writes it, as the uses of one more slot of the group.
    pub(super) fn analyse_attr(&mut self, c: ClassId, a: &str) -> (SlotFacts, Vec<Slot>) {
        let p = self.p;
        let mut out = SlotFacts::default();
        let mut linked = Vec::new();
        let related: Vec<ClassId> = p.hierarchy(c).to_vec();
        let class = &p.class(c).name;
        if related.iter().any(|&k| p.class(k).methods.contains_key(a)) {
            out.blocked = Some(format!("`{class}.{a}` is also a method"));
            return (out, linked);
        }
        if let Some(at) = self.read_dynamically(&related, a) {
            out.blocked = Some(format!(
                "{at} may read `{class}.{a}` by a name awaitify cannot tell"
            ));
            return (out, linked);
        }
        for m in 0..p.modules.len() {
            if !p.modules[m].source.text.contains(a) {
                continue;
            }
            let Some(tree) = self.tree(m).cloned() else {
                out.blocked = Some(format!("{} does not parse", p.modules[m].display));
                return (out, linked);
            };
            let mut hits = Vec::new();
            walk(tree.root_node(), &mut |n| {
                let src = p.modules[m].source.text.as_str();
                if n.kind() == "attribute"
                    && n.child_by_field_name("attribute")
                        .is_some_and(|x| text(x, src) == a)
                    || n.kind() == "identifier" && text(n, src) == a && in_class_body_store(n)
                {
                    hits.push(n);
                }
            });
            for n in hits {
                if let Err(why) = self.attr_use(m, n, &related, &mut out, &mut linked) {
                    out.blocked = Some(format!("`{class}.{a}` {why}"));
                    return (out, linked);
                }
            }
        }
        (out, linked)
    }

    /// Where `getattr`, `vars()` or `__dict__` may read attribute `a` of an instance of
    /// these classes (`` `getattr` at path:line ``), if anywhere.
    fn read_dynamically(&self, related: &[ClassId], a: &str) -> Option<String> {
        let p = self.p;
        let reads = self
            .facts
            .iter()
            .enumerate()
            .flat_map(|(m, mf)| mf.dyn_attrs.iter().map(move |d| (m, d)));
        reads
            .filter_map(|(m, d)| {
                let name = match &d.name {
                    DynName::Exact(x) => x.as_str() == a,
                    DynName::Prefix(x) => a.starts_with(x.as_str()),
                    // `getattr(x, name)` where every call passes `name` as a literal.
                    DynName::Param(g, i) => crate::colour::param_literals(p, self.facts, *g, *i)
                        .is_none_or(|ls| ls.iter().any(|l| l.as_str() == a)),
                    DynName::Any => true,
                };
                let on = match &d.on {
                    DynOn::Class(k) => related.contains(k),
                    DynOn::Module(_) | DynOn::AnyModule => false,
                    // `__getstate__ = _getstate` in a class body: an instance of those classes.
                    DynOn::FirstParam(g) => crate::colour::binding_classes(self.facts, *g)
                        .is_none_or(|cs| cs.iter().any(|k| related.contains(k))),
                    DynOn::Unknown => true,
                };
                (name && on).then(|| format!("`{}` at {}:{}", d.via, p.modules[m].display, d.line))
            })
            .next()
    }

    /// One `x.<attr>` (or a class-level `<attr> = ...`) in module `m`: `Err` says why the
    /// attribute cannot be followed (completing "`C.attr` ...").
    fn attr_use(
        &mut self,
        m: usize,
        n: Node,
        related: &[ClassId],
        out: &mut SlotFacts,
        linked: &mut Vec<Slot>,
    ) -> Result<(), String> {
        let p = self.p;
        let src = p.modules[m].source.text.as_str();
        let at = format!("{}:{}", p.modules[m].display, line(n));
        if n.kind() == "identifier" {
            // A class-level binding: of an unrelated class, another attribute.
            let owner = n.parent().and_then(|a| a.parent()?.parent()?.parent());
            let k = owner.and_then(|c| {
                let i = p.modules[m]
                    .index
                    .classes
                    .iter()
                    .position(|k| k.start == c.start_byte())?;
                Some(ClassId {
                    module: m as u32,
                    class: i as u32,
                })
            });
            return match k {
                Some(k) if !related.contains(&k) => Ok(()),
                _ => Err(format!("is also bound in a class body at {at}")),
            };
        }
        let Some((g, nested)) = enclosing_method(p, m, n) else {
            return Err(format!(
                "is bound or read outside a method at {at}, where awaitify cannot follow it"
            ));
        };
        let def = p.func(g);
        let object = n.child_by_field_name("object");
        let on_self = object.is_some_and(|o| {
            o.kind() == "identifier" && receiver(def).is_some_and(|r| r == text(o, src))
        });
        let class = def.class.map(|k| ClassId {
            module: g.module,
            class: k as u32,
        });
        match class {
            // Another class's own attribute of that name: no instance is both.
            Some(k) if on_self && !related.contains(&k) => return Ok(()),
            Some(_) if on_self && !nested => {}
            Some(_) if on_self => {
                return Err(format!(
                    "is read in a nested function or comprehension at {at}"
                ));
            }
            _ => {
                return Err(format!(
                    "may be read at {at}, on a value awaitify cannot tell is not one of its instances"
                ));
            }
        }
        let Some(parent) = n.parent() else {
            return Ok(());
        };
        if parent.kind() == "assignment"
            && parent.child_by_field_name("left").map(|l| l.id()) == Some(n.id())
        {
            // `self.x: T` alone binds nothing.
            if let Some(value) = parent.child_by_field_name("right") {
                let scope = (m, Some(g.func as usize));
                value_reaching(p, &self.refs_at, scope, value, &at, out, linked);
            }
            return Ok(());
        }
        match classify(n, parent, src) {
            Use::Call { start, line } => {
                out.calls.push((g, m, start, line));
                out.attr_calls.push((m, start, parent.end_byte()));
            }
            Use::Test => {}
            Use::Forward { call, arg } => match self.forward_slot(m, call, arg.0, arg.1) {
                Some(s) => linked.push(s),
                None => {
                    return Err(format!(
                        "is passed at {at} to code awaitify does not follow"
                    ));
                }
            },
            Use::Store(_) | Use::Opaque => {
                return Err(format!("is used as a value at {at}"));
            }
        }
        Ok(())
    }
}

/// The method `n` is in, and whether a nested function, lambda or comprehension is between.
pub(super) fn enclosing_method(p: &Project, m: usize, n: Node) -> Option<(FuncId, bool)> {
    let mut nested = false;
    let mut up = n.parent();
    while let Some(x) = up {
        match x.kind() {
            "function_definition" => {
                let i = p.modules[m]
                    .index
                    .functions
                    .iter()
                    .position(|f| f.start == x.start_byte())?;
                let g = FuncId {
                    module: m as u32,
                    func: i as u32,
                };
                // A method's nested function sees `self` too: its calls are its own.
                return Some((g, nested));
            }
            "class_definition" => return None,
            k if crate::parse::opens_scope(k) => nested = true,
            _ => {}
        }
        up = x.parent();
    }
    None
}

/// `<attr> = ...` directly in a class body: a class-level binding of the name.
fn in_class_body_store(n: Node) -> bool {
    let Some(assign) = n.parent().filter(|a| a.kind() == "assignment") else {
        return false;
    };
    assign.child_by_field_name("left").map(|l| l.id()) == Some(n.id())
        && assign
            .parent()
            .and_then(|s| s.parent())
            .and_then(|b| b.parent())
            .is_some_and(|c| c.kind() == "class_definition")
}

/// Whether identifier `n`, naming a class, is a use that cannot build an instance unseen.
fn class_use_is_known(
    n: Node,
    m: usize,
    constructs: &rustc_hash::FxHashMap<(usize, usize), ClassId>,
    src: &str,
) -> bool {
    let Some(parent) = n.parent() else {
        return true;
    };
    let is = |field: &str| {
        parent
            .child_by_field_name(field)
            .is_some_and(|c| c.id() == n.id())
    };
    // The callee of a construction the analysis reads (`Outbox(...)`, `mod.Outbox(...)`).
    let callee = if parent.kind() == "attribute" && is("attribute") {
        parent
    } else {
        n
    };
    if let Some(call) = callee.parent().filter(|c| c.kind() == "call")
        && call.child_by_field_name("function").map(|f| f.id()) == Some(callee.id())
    {
        return constructs.contains_key(&(m, call.start_byte()));
    }
    match parent.kind() {
        "class_definition" => return is("name"),
        "keyword_argument" if is("name") => return true,
        "comparison_operator" | "except_clause" => return true,
        // `Outbox.CONSTANT`, `Outbox.from_sock(...)`: a class method that builds one is
        // found by `rebuilt_inside`.
        "attribute" if is("object") => {
            return parent
                .child_by_field_name("attribute")
                .is_some_and(|a| !text(a, src).starts_with("__"));
        }
        _ => {}
    }
    let mut up = Some(parent);
    while let Some(x) = up {
        match x.kind() {
            "type" | "import_statement" | "import_from_statement" | "string" => return true,
            "argument_list" => {
                let owner = x.parent();
                if owner.is_some_and(|o| o.kind() == "class_definition") {
                    return true;
                }
                let tested = owner
                    .filter(|o| o.kind() == "call")
                    .and_then(|o| o.child_by_field_name("function"))
                    .is_some_and(|f| matches!(text(f, src), "isinstance" | "issubclass"));
                return tested;
            }
            "tuple"
            | "parenthesized_expression"
            | "attribute"
            | "subscript"
            | "dotted_name"
            | "aliased_import" => {}
            _ => return false,
        }
        up = x.parent();
    }
    false
}

/// The `class_definition` node that starts at `start`.
fn class_node(root: Node, start: usize) -> Option<Node> {
    let mut n = root.descendant_for_byte_range(start, start + 1)?;
    loop {
        if n.kind() == "class_definition" && n.start_byte() == start {
            return Some(n);
        }
        n = n.parent()?;
    }
}

/// Every node under `root`, in document order.
pub(super) fn walk<'t>(root: Node<'t>, visit: &mut impl FnMut(Node<'t>)) {
    let mut cursor = root.walk();
    loop {
        visit(cursor.node());
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}
