//! Bindings: the kinds that flow into names through assignments, `for` targets, `with ... as`
//! and `yield from`, recorded as type observations, and the loops and `with`s over catalog
//! objects.

use super::annotation;
use super::facts::{Ctx, Escape, ForFact, WithFact, YieldFromFact};
use super::knowledge::Kind;
use super::resolve::{INERT, Val};
use super::walk::Walker;
use crate::parse::{line, text};
use crate::project::{ClassId, Sym};
use crate::syntax::Node;

impl<'a> Walker<'a> {
    pub(super) fn assignment(&mut self, node: Node, ctx: Ctx, caller: Option<usize>) {
        let (Some(left), Some(right)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        ) else {
            return;
        };
        // `self.conn = None` before `self.conn = sqlite3.connect(p)` is a placeholder, not a
        // second type: it must not make the binding's type unknown.
        if right.kind() == "none" {
            return;
        }
        // `xs = []` says nothing about the elements; the appends that follow do.
        if right.kind() == "list" && right.named_child_count() == 0 && left.kind() == "identifier" {
            return;
        }
        // `self.conn: Conn = make()`: what the value is known to be, else what the annotation
        // says.
        let ann = node
            .child_by_field_name("type")
            .map(|a| annotation::parse(text(a, self.src)));
        let kind = match self.kind_of(right, caller) {
            // `d: dict[socket.socket, set[str]] = {a: set()}`: a builtin container made here,
            // whose elements the declaration types (its stores are checked in `bind_target`).
            Some(Kind::Ext(t)) if t.starts_with("builtins.") && ann.is_some() => ann
                .as_ref()
                .and_then(|a| self.made_container_kind(a))
                .filter(|k| self.display_conforms(right, k, caller))
                .or(Some(Kind::Ext(t))),
            Some(k) => Some(k),
            None => ann.and_then(|a| self.ann_kind(self.m, &a, false)),
        };
        if ctx == Ctx::ClassBody {
            self.class_attribute(left, kind.clone());
        }
        self.stored_untyped(left, right, kind.as_ref(), ctx, caller);
        self.bind_target(left, kind, caller);
    }

    /// A converted object stored in an attribute (`self.lock = threading.Lock()`, `_lock =
    /// ...` in a class body) whose reads do not give it back as that object, because another
    /// assignment gives the attribute another type: its uses through the attribute are of
    /// unknown type and stay as they are, so the object is kept with them (an escape).
    fn stored_untyped(
        &mut self,
        left: Node,
        right: Node,
        kind: Option<&Kind>,
        ctx: Ctx,
        caller: Option<usize>,
    ) {
        let Some(Kind::Ext(ty)) = kind else {
            return;
        };
        if self.cat.closed_root(ty).is_none() {
            return;
        }
        let (class, attr) = match left.kind() {
            "identifier" if ctx == Ctx::ClassBody => match self.enclosing_class() {
                Some(c) => (
                    ClassId {
                        module: self.m as u32,
                        class: c as u32,
                    },
                    left,
                ),
                None => return,
            },
            "attribute" => match self.attribute_target(left, caller) {
                Some(target) => target,
                None => return,
            },
            _ => return,
        };
        let name = text(attr, self.src).to_string();
        if self.attr_kind(class, &name).as_ref() != kind {
            let ty = ty.clone();
            self.escape(right, &ty, Escape::Stored, ctx, caller);
        }
    }

    /// `_lock = threading.Lock()` in a class body: an observation of the class's attribute,
    /// as `self._lock = ...` in a method is, since `Cls._lock`, `cls._lock` and
    /// `self._lock` all read it. Without it such reads are of unknown type, and a `with` on
    /// one may reach any project `__enter__`.
    fn class_attribute(&mut self, left: Node, kind: Option<Kind>) {
        let Some(c) = self
            .enclosing_class()
            .filter(|_| left.kind() == "identifier")
        else {
            return;
        };
        let c = ClassId {
            module: self.m as u32,
            class: c as u32,
        };
        let name = text(left, self.src).to_string();
        self.facts.attr_obs.push(((c, name), kind.map(Box::new)));
    }

    /// `xs.append(v)` on a local list: an observation of its element kind.
    pub(super) fn append(&mut self, node: Node, caller: Option<usize>) {
        let Some(f) = node.child_by_field_name("function") else {
            return;
        };
        let (Some(obj), Some(attr)) = (
            f.child_by_field_name("object"),
            f.child_by_field_name("attribute"),
        ) else {
            return;
        };
        if obj.kind() == "identifier"
            && matches!(
                text(attr, self.src),
                "update" | "setdefault" | "__setitem__" | "__ior__"
            )
        {
            self.container_mutated(obj, caller);
            return;
        }
        if obj.kind() != "identifier" || text(attr, self.src) != "append" {
            return;
        }
        let name = text(obj, self.src);
        // Only a name bound in this very scope: a global appended from a function is not.
        let local = match caller {
            Some(c) => self.func(c).locals.contains(name),
            None => self.ix.bindings.contains_key(name),
        };
        let Some(args) = node.child_by_field_name("arguments") else {
            return;
        };
        if !local || args.named_child_count() != 1 {
            return;
        }
        let kind = args
            .named_child(0)
            .and_then(|a| self.kind_of(a, caller))
            .map(|k| Kind::Seq(Box::new(k)));
        let key = (self.m as u32, caller.map(|c| c as u32), name.into());
        self.facts.local_obs.push((key, kind.map(Box::new)));
    }

    pub(super) fn bind_target(&mut self, left: Node, kind: Option<Kind>, caller: Option<usize>) {
        match left.kind() {
            "identifier" => {
                let key = (
                    self.m as u32,
                    caller.map(|c| c as u32),
                    text(left, self.src).into(),
                );
                self.facts.local_obs.push((key, kind.map(Box::new)));
            }
            "attribute" => {
                if let Some((c, attr)) = self.attribute_target(left, caller) {
                    self.facts
                        .attr_obs
                        .push(((c, text(attr, self.src).to_string()), kind.map(Box::new)));
                }
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list" => {
                let mut cursor = left.walk();
                let kids: Vec<Node> = left.named_children(&mut cursor).collect();
                // `for k, v in d.items()`: element by element, when the lengths agree and no
                // name is starred (which would take a list of several).
                let elems = match kind {
                    Some(Kind::Tuple(elems))
                        if elems.len() == kids.len()
                            && kids.iter().all(|k| {
                                !matches!(k.kind(), "list_splat_pattern" | "list_splat")
                            }) =>
                    {
                        elems
                    }
                    _ => vec![None; kids.len()],
                };
                for (k, e) in kids.into_iter().zip(elems) {
                    self.bind_target(k, e, caller);
                }
            }
            // `d[k] = v`: a store into a container named `d` may put a value of another
            // kind in it, so its element kinds are unknown (observed in the scope binding it).
            "subscript" => {
                if let Some(obj) = left.child_by_field_name("value") {
                    self.container_mutated(obj, caller);
                }
            }
            _ => {}
        }
    }

    /// Every element of the container display `right` whose kind is known is of the kind the
    /// declaration `declared` gives its elements (`{a: set()}` for `dict[socket.socket,
    /// set[str]]`); an unpacked one (`**other`, `*xs`) is not known to be. Other values
    /// (`dict()`, a comprehension) hold nothing yet or what their body gives.
    fn display_conforms(&self, right: Node, declared: &Kind, caller: Option<usize>) -> bool {
        let fits = |n: Option<Node>, d: Option<&Kind>| match (n, d) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(n), Some(d)) => self.kind_of(n, caller).is_none_or(|k| self.conforms(&k, d)),
        };
        let mut cursor = right.walk();
        let items: Vec<Node> = match right.kind() {
            "dictionary" | "list" | "set" => right.named_children(&mut cursor).collect(),
            "dictionary_comprehension" | "list_comprehension" | "set_comprehension" => {
                right.child_by_field_name("body").into_iter().collect()
            }
            _ => Vec::new(),
        };
        items
            .into_iter()
            .filter(|n| n.kind() != "comment")
            .all(|n| match (n.kind(), declared) {
                ("pair", Kind::Map(k, v)) => {
                    fits(n.child_by_field_name("key"), k.as_deref())
                        && fits(n.child_by_field_name("value"), v.as_deref())
                }
                ("dictionary_splat" | "list_splat" | "pair", _) => false,
                (_, Kind::Seq(e)) => fits(Some(n), Some(e)),
                _ => false,
            })
    }

    /// A container named by `obj` is stored into (`d[k] = v`, `d.update(...)`): the name's
    /// kind becomes unknown, in the scope that binds it (an enclosing function's, or the
    /// module's), whatever the value: a store that breaks the declaration would otherwise
    /// go unnoticed.
    pub(super) fn container_mutated(&mut self, obj: Node, caller: Option<usize>) {
        use crate::index::{Binding, Scoped};
        if obj.kind() != "identifier" {
            return;
        }
        let name = text(obj, self.src);
        let scope = match self.ix.lookup(name, caller) {
            Scoped::Local { func, import: None } => Some(func as u32),
            Scoped::Global(Binding::Value) | Scoped::Ambiguous => None,
            _ => return,
        };
        let key = (self.m as u32, scope, name.into());
        self.facts.local_obs.push((key, None));
    }

    /// The class whose attribute an assignment target `obj.attr` sets, and the attribute:
    /// `self.x`, and also `Cls.x = v` and `cls.x = v`, which set what `self.x` reads.
    fn attribute_target(
        &self,
        left: Node<'a>,
        caller: Option<usize>,
    ) -> Option<(ClassId, Node<'a>)> {
        let obj = left.child_by_field_name("object")?;
        let attr = left.child_by_field_name("attribute")?;
        match self.resolve(obj, caller) {
            Val::Kind(Kind::Instance(c) | Kind::ClassObj(c)) | Val::Sym(Sym::Class(c)) => {
                Some((c, attr))
            }
            _ => None,
        }
    }

    pub(super) fn yield_from(&mut self, node: Node, caller: Option<usize>) {
        let mut cursor = node.walk();
        let is_from = node.children(&mut cursor).any(|c| c.kind() == "from");
        let (Some(f), true, Some(stmt), Some(expr)) = (
            caller,
            is_from,
            self.up(node, 1)
                .filter(|p| p.kind() == "expression_statement"),
            node.named_child(0),
        ) else {
            return;
        };
        let kind = self.kind_of(expr, caller);
        self.facts.yield_froms.push(YieldFromFact {
            caller: f,
            stmt: (stmt.start_byte(), stmt.end_byte()),
            expr: (expr.start_byte(), expr.end_byte()),
            kind,
        });
    }

    pub(super) fn for_loop(&mut self, node: Node, ctx: Ctx, caller: Option<usize>) {
        let Some(right) = node.child_by_field_name("right") else {
            return;
        };
        let kind = self.kind_of(right, caller);
        let already_async = node.child(0).is_some_and(|c| c.kind() == "async");
        let for_kw = {
            let mut cursor = node.walk();
            let kw = node.children(&mut cursor).find(|c| c.kind() == "for");
            kw.map_or(node.start_byte(), |c| c.start_byte())
        };
        let bound = match &kind {
            Some(Kind::Ext(ty)) if ty == INERT => kind.clone(),
            Some(Kind::Ext(ty)) => self
                .cat
                .iterate_use(ty)
                .and_then(|(_, u)| u.binds.clone())
                .map(Kind::Ext),
            Some(k) => self.element_kind(k),
            None => None,
        };
        // A local list whose element kind is not known yet (`threads.append(t)` needs `t`'s
        // kind, which this loop also binds): no observation, so the fixed point can learn it.
        let pending = bound.is_none()
            && right.kind() == "identifier"
            && caller.is_some_and(|c| {
                let name = text(right, self.src);
                self.func(c).locals.contains(name)
                    && self
                        .known_local((self.m as u32, Some(c as u32), name.into()))
                        .is_none()
            });
        if let Some(left) = node.child_by_field_name("left")
            && !pending
        {
            self.bind_target(left, bound, caller);
        }
        if kind.is_none() && !already_async {
            for dunder in ["__iter__", "__next__"] {
                self.unknown_receiver(node, dunder, None, ctx, caller);
            }
        }
        if let Some(kind) = kind {
            self.facts.fors.push(ForFact {
                caller,
                for_kw,
                kind,
                line: line(node),
                ctx,
                already_async,
            });
        }
    }

    pub(super) fn with_stmt(&mut self, node: Node, ctx: Ctx, caller: Option<usize>) {
        let already_async = node.child(0).is_some_and(|c| c.kind() == "async");
        let mut stack = vec![node];
        let mut items = Vec::new();
        while let Some(n) = stack.pop() {
            match n.kind() {
                "with_item" => items.push(n),
                "block" => {}
                _ => {
                    let mut cursor = n.walk();
                    stack.extend(n.named_children(&mut cursor));
                }
            }
        }
        for item in items {
            let Some(value) = item.child_by_field_name("value") else {
                continue;
            };
            let (expr, alias) = if value.kind() == "as_pattern" {
                (value.named_child(0), value.child_by_field_name("alias"))
            } else {
                (Some(value), None)
            };
            let Some(expr) = expr else { continue };
            let kind = self.kind_of(expr, caller);
            let bound = match &kind {
                Some(Kind::Instance(c)) => self
                    .p
                    .method(*c, "__enter__")
                    .and_then(|e| self.return_kind(e)),
                Some(Kind::Ext(ty)) => self
                    .cat
                    .with_use(ty)
                    .and_then(|(_, u)| u.binds.clone())
                    .map(Kind::Ext),
                _ => None,
            };
            if let Some(alias) = alias {
                let target = alias.named_child(0).unwrap_or(alias);
                self.bind_target(target, bound, caller);
            }
            if kind.is_none() && !already_async {
                for dunder in ["__enter__", "__exit__"] {
                    self.unknown_receiver(node, dunder, None, ctx, caller);
                }
            }
            if let Some(kind) = kind {
                self.facts.withs.push(WithFact {
                    caller,
                    with_kw: node.start_byte(),
                    item: (item.start_byte(), item.end_byte()),
                    expr: (expr.start_byte(), expr.end_byte()),
                    kind,
                    line: line(node),
                    ctx,
                    already_async,
                });
            }
        }
    }
}
