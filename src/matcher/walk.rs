//! The walk over a module's syntax: where each call, reference and binding sits, and the
//! facts it records for the colouring and the passes.

use super::annotation;
use super::facts::{
    AttrFact, CallFact, ConsumeFact, Ctx, DynAttrFact, DynName, DynOn, Escape, EscapeFact,
    KeptUseFact, ModuleFacts, ModuleValueFact, NameFact, Outside, OutsideFact, PackedCall,
    ParamCallFact, RefFact, SAFE_SETS, Target, UnresolvedFact,
};
use super::getattr;
use super::knowledge::{KEPT, Kind, Knowledge, Read, ScopeKey};
use super::resolve::Val;
use crate::index::{FuncDef, ModuleIndex};
use crate::parse::{line, text};
use crate::project::{ClassId, FuncId, Project, Sym};
use crate::rules::Catalog;
use crate::syntax::Node;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// One module's walk: what it reads and the facts it records.
pub(super) struct Walker<'a> {
    pub(super) p: &'a Project,
    pub(super) cat: &'a Catalog,
    pub(super) k: &'a Knowledge,
    pub(super) m: usize,
    pub(super) src: &'a str,
    pub(super) ix: &'a ModuleIndex,
    pub(super) func_by_start: HashMap<usize, usize>,
    pub(super) facts: ModuleFacts,
    /// The path from the root to the node being walked: tree-sitter's `parent()` walks
    /// down from the root each time, which is quadratic over a file.
    pub(super) ancestors: Vec<Node<'a>>,
    /// Knowledge keys looked up so far (lookups happen behind `&self`).
    pub(super) reads: std::cell::RefCell<HashSet<u64>>,
    /// Type aliases being expanded (reading annotations happens behind `&self`): an alias
    /// defined through itself is not followed again.
    pub(super) aliases_open: std::cell::Cell<u8>,
}

impl<'a> Walker<'a> {
    pub(super) fn fid(&self, f: usize) -> FuncId {
        FuncId {
            module: self.m as u32,
            func: f as u32,
        }
    }

    // Knowledge lookups go through these four, which record the key (found or not): a module
    // whose recorded keys did not change between two rounds would produce the same facts.
    pub(super) fn read(&self, r: Read) {
        self.reads.borrow_mut().insert(r.fingerprint());
    }

    pub(super) fn known_local(&self, key: ScopeKey) -> Option<&'a Kind> {
        let found = self.k.locals.get(&key);
        self.read(Read::Local(key));
        found
    }

    pub(super) fn known_param(&self, f: FuncId, i: usize) -> Option<&'a Kind> {
        self.read(Read::Param(f, i));
        self.k.params.get(&(f, i))
    }

    /// The distinct kinds the attribute is assigned in `c` (`None` for a kind not known);
    /// `None` when `c` does not assign it.
    pub(super) fn known_attr(&self, c: ClassId, attr: &str) -> Option<&'a [Option<Kind>]> {
        let key = (c, attr.to_string());
        let found = self.k.attrs.get(&key).map(Vec::as_slice);
        self.read(Read::Attr(key.0, key.1));
        found
    }

    pub(super) fn known_return(&self, f: FuncId) -> Option<&'a Kind> {
        self.read(Read::Return(f));
        self.k.returns.get(&f)
    }

    /// `obj.attr = v` on a converted object, for an attribute its new type does not honour.
    pub(super) fn object_set(&mut self, node: Node, ctx: Ctx, caller: Option<usize>) {
        let (Some(obj), Some(attr)) = (
            node.child_by_field_name("object"),
            node.child_by_field_name("attribute"),
        ) else {
            return;
        };
        let Val::Kind(Kind::Ext(ty)) = self.resolve(obj, caller) else {
            return;
        };
        let attr = text(attr, self.src);
        let safe = SAFE_SETS
            .iter()
            .any(|(t, names)| *t == ty && names.contains(&attr));
        if self.cat.closed_root(&ty).is_some() && !safe {
            self.escape(node, &ty, Escape::Set, ctx, caller);
        }
    }

    pub(super) fn escape(
        &mut self,
        node: Node,
        ty: &str,
        escape: Escape,
        ctx: Ctx,
        caller: Option<usize>,
    ) {
        // A derived object (a cursor) answers to the creation of its root (the connection).
        let Some(root) = self.cat.closed_root(ty) else {
            return;
        };
        let callee = (node.start_byte(), node.end_byte());
        self.push_kept_use(node, callee, root, Some(escape), ctx, caller);
    }

    /// A [`KeptUseFact`] at `node`'s position.
    fn push_kept_use(
        &mut self,
        node: Node,
        callee: (usize, usize),
        ty: &str,
        escape: Option<Escape>,
        ctx: Ctx,
        caller: Option<usize>,
    ) {
        let pos = node.start_position();
        self.facts.kept_uses.push(KeptUseFact {
            caller,
            ctx,
            callee,
            ty: ty.to_string(),
            line: pos.row + 1,
            col: pos.column + 1,
            escape,
        });
    }

    /// Records a blocking method called on a kept object.
    pub(super) fn kept_use(
        &mut self,
        node: Node,
        f: Node,
        ty: &str,
        name: &str,
        ctx: Ctx,
        caller: Option<usize>,
    ) {
        let Some(base) = ty.strip_suffix(KEPT) else {
            return;
        };
        let blocking = self
            .cat
            .method(base, name)
            .is_some_and(|e| e.awaited || e.action == crate::rules::Action::ToThread);
        if blocking {
            let callee = (f.start_byte(), f.end_byte());
            self.push_kept_use(node, callee, base, None, ctx, caller);
        }
    }

    /// Whether the call at `start` creates an object that is kept as it is.
    pub(super) fn kept_creation(&self, e: &crate::rules::CallEntry, start: usize) -> bool {
        let Some(ty) = e
            .returns
            .as_deref()
            .filter(|_| e.object || e.converted_result)
        else {
            return false;
        };
        let key = (self.m as u32, start as u32);
        self.read(Read::Kept(key.0, key.1));
        self.read(Read::KeptType(ty.to_string()));
        self.k.kept.contains(&key) || self.k.kept_types.contains(ty)
    }

    pub(super) fn func(&self, f: usize) -> &'a FuncDef {
        &self.ix.functions[f]
    }

    pub(super) fn walk(&mut self, node: Node<'a>, ctx: Ctx, caller: Option<usize>) {
        self.ancestors.push(node);
        self.walk_node(node, ctx, caller);
        self.ancestors.pop();
    }

    /// The `k`-th ancestor of `node`, which must be on the walk's path.
    pub(super) fn up(&self, node: Node, k: usize) -> Option<Node<'a>> {
        let idx = self.ancestors.iter().rposition(|n| n.id() == node.id())?;
        idx.checked_sub(k).map(|i| self.ancestors[i])
    }

    pub(super) fn walk_node(&mut self, node: Node<'a>, ctx: Ctx, caller: Option<usize>) {
        let ctx = match ctx {
            Ctx::Module
                if self
                    .ix
                    .main_block
                    .is_some_and(|(s, e)| s <= node.start_byte() && node.end_byte() <= e) =>
            {
                Ctx::Main
            }
            c => c,
        };
        match node.kind() {
            "function_definition" => {
                let Some(&fi) = self.func_by_start.get(&node.start_byte()) else {
                    return;
                };
                if let Some(params) = node.child_by_field_name("parameters") {
                    let mut cursor = params.walk();
                    for p in params.named_children(&mut cursor) {
                        if let Some(v) = p.child_by_field_name("value") {
                            self.walk(v, Ctx::Default, caller);
                        }
                    }
                }
                if let Some(body) = node.child_by_field_name("body") {
                    self.walk(body, Ctx::Body, Some(fi));
                }
                return;
            }
            "decorator" => {
                self.children(node, Ctx::Decorator, caller);
                return;
            }
            "class_definition" => {
                if let Some(sup) = node.child_by_field_name("superclasses") {
                    self.walk(sup, ctx, caller);
                }
                if let Some(body) = node.child_by_field_name("body") {
                    self.walk(body, Ctx::ClassBody, None);
                }
                return;
            }
            "lambda" => {
                self.children(node, Ctx::Lambda, caller);
                return;
            }
            "call" => {
                self.call(node, ctx, caller);
                self.append(node, caller);
                // The callee itself is not a value reference; its sub-expressions may hold calls.
                if let Some(f) = node.child_by_field_name("function") {
                    if f.kind() == "attribute" {
                        if let Some(obj) = f.child_by_field_name("object") {
                            self.walk(obj, ctx, caller);
                        }
                    } else if f.kind() != "identifier" {
                        self.walk(f, ctx, caller);
                    }
                }
                if let Some(args) = node.child_by_field_name("arguments") {
                    self.walk(args, ctx, caller);
                }
                return;
            }
            "identifier" | "attribute" => {
                self.reference(node, ctx, caller);
                if node.kind() == "attribute"
                    && let Some(obj) = node.child_by_field_name("object")
                    && obj.kind() != "identifier"
                {
                    self.walk(obj, ctx, caller);
                }
                return;
            }
            "assignment" => self.assignment(node, ctx, caller),
            // `d[k] += v`, `d |= other`, `xs += [v]`: a store into the container (not
            // `n += 1`, whose kind stays what it was).
            "augmented_assignment" => {
                if let Some(left) = node.child_by_field_name("left") {
                    let merges = node
                        .child_by_field_name("operator")
                        .is_some_and(|o| o.kind() == "|=")
                        || node.child_by_field_name("right").is_some_and(|r| {
                            matches!(
                                r.kind(),
                                "list" | "list_comprehension" | "dictionary" | "set" | "tuple"
                            )
                        });
                    let obj = match left.kind() {
                        "subscript" => left.child_by_field_name("value"),
                        "identifier" if merges => Some(left),
                        _ => None,
                    };
                    if let Some(obj) = obj {
                        self.container_mutated(obj, caller);
                    }
                }
            }
            "for_statement" | "for_in_clause" => self.for_loop(node, ctx, caller),
            "with_statement" => self.with_stmt(node, ctx, caller),
            "return_statement" => {
                if let (Some(f), Some(e)) = (caller, node.named_child(0)) {
                    let kind = self.kind_of(e, caller);
                    self.facts
                        .return_obs
                        .push((self.fid(f), kind.map(Box::new)));
                }
            }
            "yield" => self.yield_from(node, caller),
            "import_statement" | "import_from_statement" | "future_import_statement" => return,
            _ => {}
        }
        self.children(node, ctx, caller);
    }

    pub(super) fn children(&mut self, node: Node<'a>, ctx: Ctx, caller: Option<usize>) {
        for child in node.named_children(&mut node.walk()) {
            self.walk(child, ctx, caller);
        }
    }

    /// `fn(*args)` where `fn` is a parameter of the caller (a callback) or of an enclosing
    /// function (the shape of a decorator's wrapper).
    pub(super) fn param_call(&mut self, node: Node, f: Node, ctx: Ctx, caller: Option<usize>) {
        let name = text(f, self.src);
        let (Some(inner), crate::index::Scoped::Local { func: g, .. }) =
            (caller, self.ix.lookup(name, caller))
        else {
            return;
        };
        if let Some(param) = self.func(g).params.iter().position(|p| p.name == name) {
            let parent = self.up(node, 1);
            self.facts.param_calls.push(ParamCallFact {
                caller: inner,
                owner: g,
                param,
                start: node.start_byte(),
                end: node.end_byte(),
                ctx,
                awaited: parent.is_some_and(|p| p.kind() == "await"),
            });
        }
    }

    /// `x.name()` on a receiver of unknown type, where some project method is called `name`.
    pub(super) fn unresolved(&mut self, node: Node, f: Node, ctx: Ctx, caller: Option<usize>) {
        // A callable of unknown type may be an instance of a project class with `__call__`.
        let awaited = self.up(node, 1).is_some_and(|p| p.kind() == "await");
        if f.kind() != "attribute" && !awaited {
            match self.resolve(f, caller) {
                Val::Unknown => self.unknown_receiver(node, "__call__", None, ctx, caller),
                // Without a `__call__` of its own: a subclass's, if any.
                Val::Kind(Kind::Instance(c)) => {
                    self.unknown_receiver(node, "__call__", Some(c), ctx, caller)
                }
                _ => {}
            }
        }
        if f.kind() == "identifier" {
            self.param_call(node, f, ctx, caller);
            return;
        }
        if f.kind() != "attribute" || self.up(node, 1).is_some_and(|p| p.kind() == "await") {
            return;
        }
        let Some(attr) = f.child_by_field_name("attribute") else {
            return;
        };
        let name = text(attr, self.src);
        let receiver = f
            .child_by_field_name("object")
            .map(|o| self.receiver(o, caller));
        match receiver {
            Some(Val::Unknown) => self.unknown_receiver(node, name, None, ctx, caller),
            // A method the class does not define may be a subclass's (a template method).
            // Through a proxy's `__getattr__` that did not resolve: any method of the name.
            Some(Val::Kind(Kind::Instance(c)))
                if self.p.method(c, name).is_none() && self.proxy_of(c).is_some() =>
            {
                self.unknown_receiver(node, name, None, ctx, caller)
            }
            Some(Val::Kind(Kind::Instance(c) | Kind::ClassObj(c)))
                if self.p.method(c, name).is_none() =>
            {
                self.unknown_receiver(node, name, Some(c), ctx, caller)
            }
            _ => {}
        }
    }

    /// A call of method `name` (or the dunder a `with` or `for` calls) on a receiver of
    /// unknown type, where some project method is called `name`.
    pub(super) fn unknown_receiver(
        &mut self,
        node: Node,
        name: &str,
        within: Option<ClassId>,
        ctx: Ctx,
        caller: Option<usize>,
    ) {
        let top_level = within.is_none() && !self.p.top_level_named(name).is_empty();
        if self.k.methods_by_name.contains_key(name) || top_level {
            let pos = node.start_position();
            self.facts.unresolved.push(UnresolvedFact {
                caller,
                ctx,
                name: name.into(),
                within,
                line: pos.row + 1,
                col: pos.column + 1,
            });
        }
    }

    pub(super) fn call(&mut self, node: Node, ctx: Ctx, caller: Option<usize>) {
        let Some(f) = node.child_by_field_name("function") else {
            return;
        };
        let target = self.call_target(node, f, ctx, caller);
        let parent = self.up(node, 1);
        self.arg_kinds(node, f, target.as_ref(), ctx, caller);
        self.callable_params(node, f, caller);
        // A generator's result must be consumed somewhere awaitify can follow.
        if let Some(Target::Func(g)) = &target
            && self.p.func(*g).is_generator
            && !self.gen_use_followed(node, caller)
        {
            let pos = node.start_position();
            self.facts.escapes.push(EscapeFact {
                generator: *g,
                line: pos.row + 1,
                col: pos.column + 1,
            });
        }
        let Some(target) = target else {
            self.unresolved(node, f, ctx, caller);
            return;
        };
        let pos = node.start_position();
        self.facts.calls.push(PackedCall::new(CallFact {
            caller,
            target,
            start: node.start_byte(),
            end: node.end_byte(),
            callee: (f.start_byte(), f.end_byte()),
            line: pos.row + 1,
            col: pos.column + 1,
            ctx,
            awaited: parent.is_some_and(|p| p.kind() == "await"),
            statement: parent.is_some_and(|p| p.kind() == "expression_statement"),
        }));
    }

    /// What a call resolves to; a call of a function from outside the project records what
    /// its name says too (a consumer, a renamed class, a `getattr`).
    pub(super) fn call_target(
        &mut self,
        node: Node,
        f: Node,
        ctx: Ctx,
        caller: Option<usize>,
    ) -> Option<Target> {
        let val = self.resolve_callee(f, caller);
        self.outside_callee(f, &val);
        match val {
            Val::Sym(Sym::Func(g)) | Val::Bound(g) => Some(Target::Func(g)),
            Val::Sym(Sym::Class(c)) => Some(Target::Class(c)),
            Val::Sym(Sym::External(q)) => {
                self.consumer(node, &q, ctx, caller);
                // A renamed class constructed here (`raise requests.Timeout("t")`).
                if self.cat.name(&q).is_some() {
                    self.facts.names.push(NameFact {
                        qualified: q.clone(),
                        start: f.start_byte(),
                        end: f.end_byte(),
                        caller,
                    });
                }
                if q == "getattr" {
                    self.getattr(node, caller);
                }
                if DYNAMIC_IMPORTS.contains(&q.as_str()) {
                    self.dynamic_import(node);
                }
                if matches!(q.as_str(), "globals" | "vars" | "locals") {
                    let arg = node
                        .child_by_field_name("arguments")
                        .and_then(|a| a.named_child(0));
                    self.namespace(node, arg, caller);
                }
                self.cat
                    .call(&q)
                    .is_some_and(|e| {
                        self.arg_guard_holds(e, node, caller)
                            && !self.kept_creation(e, node.start_byte())
                    })
                    .then_some(Target::Rule(q))
            }
            Val::ExtMethod(ty, name) => {
                self.kept_use(node, f, &ty, &name, ctx, caller);
                if self.cat.closed_root(&ty).is_some() && self.cat.method(&ty, &name).is_none() {
                    self.escape(f, &ty, Escape::Unmapped, ctx, caller);
                }
                self.cat
                    .method(&ty, &name)
                    .is_some()
                    .then_some(Target::Method { ty, name })
            }
            _ => None,
        }
    }

    /// Argument kinds flow into the callee's parameters.
    pub(super) fn arg_kinds(
        &mut self,
        node: Node,
        f: Node,
        target: Option<&Target>,
        ctx: Ctx,
        caller: Option<usize>,
    ) {
        // A class call passes its arguments to `__init__`, after `self`.
        let receiver = match target {
            Some(Target::Func(g)) => Some((
                *g,
                usize::from(
                    self.p.func(*g).is_method()
                        && !self
                            .p
                            .func(*g)
                            .decorators
                            .iter()
                            .any(|d| d == "staticmethod")
                        && !matches!(self.resolve(f, caller), Val::Sym(Sym::Func(_))),
                ),
            )),
            Some(Target::Class(c)) => self.p.method(*c, "__init__").map(|init| (init, 1)),
            _ => None,
        };
        if let (Some((g, offset)), Some(args)) = (receiver, node.child_by_field_name("arguments")) {
            self.arg_literals(node, g, offset, args);
            let g = &g;
            let def = self.p.func(*g);
            for (i, v) in bound_args(def, offset, args, self.src) {
                let kind = self.kind_of(v, caller);
                // A converted object passed where the parameter is not known as it (other
                // callers pass something else): the callee's uses of it are not converted.
                if let Some(Kind::Ext(ty)) = &kind
                    && self.cat.closed_root(ty).is_some()
                    && self.known_param(*g, i) != kind.as_ref()
                {
                    self.escape(v, ty, Escape::Passed, ctx, caller);
                }
                self.facts.param_obs.push(((*g, i), kind.map(Box::new)));
            }
        }
    }

    /// The plain string literals a call of private function `g` passes, by parameter. A call
    /// with a splat records none: the splat may fill any parameter.
    fn arg_literals(&mut self, call: Node, g: FuncId, offset: usize, args: Node) {
        let def = self.p.func(g);
        if !hidden_helper(def) {
            return;
        }
        let mut cursor = args.walk();
        if args
            .named_children(&mut cursor)
            .any(|a| matches!(a.kind(), "list_splat" | "dictionary_splat"))
        {
            return;
        }
        for (param, value) in bound_args(def, offset, args, self.src) {
            if let Some(s) = getattr::plain_string(value, self.src) {
                self.facts
                    .arg_literals
                    .push(((g, param), (call.start_byte(), s.as_str().into())));
            }
        }
    }

    /// A callee the catalog lists as `[[blocking]]`.
    pub(super) fn outside_callee(&mut self, f: Node, val: &Val) {
        let what = match val {
            Val::Sym(Sym::External(q)) if self.cat.blocking_call(q).is_some() => {
                Outside::Name(q.clone())
            }
            Val::ExtMethod(ty, name) => {
                let ty = ty.strip_suffix(KEPT).unwrap_or(ty);
                if self.cat.blocking_method(ty, name).is_none() {
                    return;
                }
                Outside::Method {
                    ty: ty.to_string(),
                    name: name.clone(),
                }
            }
            _ => return,
        };
        self.facts.outside.push(OutsideFact {
            start: f.start_byte(),
            end: f.end_byte(),
            what,
        });
    }

    /// `getattr(obj, name[, default])` on a project object, a project module or an object of
    /// unknown type: which functions its name may pick.
    pub(super) fn getattr(&mut self, node: Node, caller: Option<usize>) {
        let Some(args) = node.child_by_field_name("arguments") else {
            return;
        };
        let mut cursor = args.walk();
        let positional: Vec<Node> = args
            .named_children(&mut cursor)
            .filter(|a| !matches!(a.kind(), "keyword_argument" | "comment"))
            .collect();
        let (Some(&obj), Some(&name)) = (positional.first(), positional.get(1)) else {
            return;
        };
        if getattr::value_dies(node, self.src, &|f| self.names_builtin(f, caller)) {
            return;
        }
        let proxy = self.proxy_getattr(obj, name, caller);
        let on = match self.resolve(obj, caller) {
            Val::Kind(Kind::Instance(c) | Kind::ClassObj(c)) | Val::Sym(Sym::Class(c)) => {
                DynOn::Class(c)
            }
            Val::Sym(Sym::Module(m)) => DynOn::Module(m),
            Val::Unknown if self.annotated_outside(obj, caller) => return,
            Val::Unknown if self.dynamic_module(obj, caller) => DynOn::AnyModule,
            Val::Unknown => self
                .first_param(obj, caller)
                .map_or(DynOn::Unknown, DynOn::FirstParam),
            // Outside the project (`getattr(sys, n)`), or a value of a catalog type.
            _ => return,
        };
        if name.kind() == "identifier"
            && let Some(names) = getattr::literal_values(name, self.src)
        {
            for n in names {
                self.facts.dyn_attrs.push(DynAttrFact {
                    name: DynName::Exact(n.as_str().into()),
                    on: on.clone(),
                    line: line(node),
                    via: "getattr",
                    proxy: None,
                });
            }
            return;
        }
        let name = match name.kind() {
            "identifier" => self
                .literal_param(name, caller)
                .or_else(|| {
                    getattr::guarded_prefix(name, self.src).map(|p| DynName::Prefix(p.into()))
                })
                .unwrap_or(DynName::Any),
            "string" => string_prefix(name, self.src),
            "binary_operator" => name
                .child_by_field_name("left")
                .filter(|l| l.kind() == "string")
                .map(|l| match string_prefix(l, self.src) {
                    DynName::Exact(p) | DynName::Prefix(p) => DynName::Prefix(p),
                    DynName::Param(..) | DynName::Any => DynName::Any,
                })
                .unwrap_or(DynName::Any),
            _ => DynName::Any,
        };
        // `getattr(proxy, name)` may read through the proxy's `__getattr__` too.
        let through = match &on {
            DynOn::Class(c) => self
                .proxy_of(*c)
                .map(|(_, to)| match self.attr_kind(*c, &to) {
                    Some(Kind::Instance(t)) => DynOn::Class(t),
                    _ => DynOn::Unknown,
                }),
            _ => None,
        };
        for on in std::iter::once(on).chain(through) {
            self.facts.dyn_attrs.push(DynAttrFact {
                name: name.clone(),
                on,
                line: line(node),
                via: "getattr",
                proxy: proxy.clone(),
            });
        }
    }

    /// The name `f` is the builtin it spells, not shadowed by a project binding.
    fn names_builtin(&self, f: Node, caller: Option<usize>) -> bool {
        matches!(self.resolve(f, caller), Val::Sym(Sym::External(q)) if q == text(f, self.src))
    }

    /// `getattr(self.conn, name)` inside `def __getattr__(self, name)` of a class: the
    /// `__getattr__`, the attribute read from and whether the class forwards exactly.
    fn proxy_getattr(
        &self,
        obj: Node,
        name: Node,
        caller: Option<usize>,
    ) -> Option<(FuncId, crate::index::Name, bool)> {
        let f = caller?;
        let def = self.func(f);
        let (Some(k), [this, key]) = (def.class, def.params.as_slice()) else {
            return None;
        };
        let object = obj.child_by_field_name("object")?;
        let attr = obj.child_by_field_name("attribute")?;
        let reads = def.name == "__getattr__"
            && def.parent.is_none()
            && obj.kind() == "attribute"
            && object.kind() == "identifier"
            && text(object, self.src) == this.name.as_str()
            && name.kind() == "identifier"
            && text(name, self.src) == key.name.as_str();
        if !reads {
            return None;
        }
        let attr: crate::index::Name = text(attr, self.src).into();
        let class = ClassId {
            module: self.m as u32,
            class: k as u32,
        };
        let exact = self.p.class(class).forwards.as_ref() == Some(&attr);
        Some((self.fid(f), attr, exact))
    }

    /// `obj` is a module imported at run time: `importlib.import_module(name)`, or a local
    /// variable only ever assigned such a call.
    pub(super) fn dynamic_module(&self, obj: Node, caller: Option<usize>) -> bool {
        let imports = |n: Node| {
            n.kind() == "call"
                && n.child_by_field_name("function").is_some_and(|f| {
                    matches!(self.resolve(f, caller),
                        Val::Sym(Sym::External(q)) if DYNAMIC_IMPORTS.contains(&q.as_str()))
                })
        };
        match obj.kind() {
            "call" => imports(obj),
            "identifier" => getattr::local_values(obj, self.src)
                .is_some_and(|vs| !vs.is_empty() && vs.into_iter().all(imports)),
            _ => false,
        }
    }

    /// `name` is a parameter of `caller`, a [`hidden_helper`] that never rebinds it: the
    /// literals its calls pass decide the name.
    fn literal_param(&self, name: Node, caller: Option<usize>) -> Option<DynName> {
        let f = caller?;
        let def = self.func(f);
        let id = text(name, self.src);
        let i = def.params.iter().position(|p| p.name == id)?;
        (hidden_helper(def)
            && def.decorators.is_empty()
            && !getattr::param_rebound(name, id, self.src))
        .then(|| DynName::Param(self.fid(f), i))
    }

    /// `obj` is the first parameter of `caller`, a module-level function that never rebinds it.
    pub(super) fn first_param(&self, obj: Node, caller: Option<usize>) -> Option<FuncId> {
        let f = caller?;
        let def = self.func(f);
        let name = text(obj, self.src);
        let first = def.params.first()?;
        (obj.kind() == "identifier"
            && def.class.is_none()
            && def.parent.is_none()
            && first.name == name
            && !getattr::param_rebound(obj, name, self.src))
        .then(|| self.fid(f))
    }

    /// `obj` is a parameter annotated with a class outside the project that no project class
    /// derives from (`options: argparse.Namespace`): like a type checker, awaitify takes the
    /// annotation's word that the value is not a project object.
    pub(super) fn annotated_outside(&self, obj: Node, caller: Option<usize>) -> bool {
        let Some(f) = caller else { return false };
        if obj.kind() != "identifier" {
            return false;
        }
        let name = text(obj, self.src);
        let def = self.func(f);
        let Some(ann) = def
            .params
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.annotation.as_deref())
        else {
            return false;
        };
        let ann = ann.trim().trim_matches(['"', '\'']);
        if !ann
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        {
            return false;
        }
        let Sym::External(q) = self.p.resolve_in_module(self.m, ann) else {
            return false;
        };
        getattr::holds_no_project_object(&q) && !self.p.derives_from(&q)
    }

    /// `obj` is a parameter whose annotation says it is an instance, never a class or a
    /// module: each member of the union (through type aliases) is `None`, a project class,
    /// a builtin container, or an outside class as [`Self::annotated_outside`] reads one
    /// (`auth: tuple[str, str] | Auth | None`). Its `vars()` are then what was assigned to
    /// it.
    pub(super) fn annotated_instance(&self, obj: Node, caller: Option<usize>) -> bool {
        let Some(f) = caller else { return false };
        if obj.kind() != "identifier" || getattr::param_rebound(obj, text(obj, self.src), self.src)
        {
            return false;
        }
        let name = text(obj, self.src);
        let def = self.func(f);
        def.params
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.annotation.as_deref())
            .is_some_and(|ann| self.instance_ann(self.m, &annotation::parse(ann), 0))
    }

    /// Annotation `a`, written in module `m`, types only instances (see
    /// [`Self::annotated_instance`]).
    fn instance_ann(&self, m: usize, a: &annotation::Ann, depth: u8) -> bool {
        use annotation::Ann;
        // Concrete containers only: a class object may pass for an abstract one (an enum
        // class is an `Iterable`).
        const CONTAINERS: &[&str] = &[
            "builtins.tuple",
            "builtins.list",
            "builtins.dict",
            "builtins.set",
            "builtins.frozenset",
            "typing.Tuple",
            "typing.List",
            "typing.Dict",
            "typing.Set",
            "typing.FrozenSet",
        ];
        match a {
            Ann::None => true,
            Ann::Union(members) => members.iter().all(|a| self.instance_ann(m, a, depth)),
            Ann::Name(n) => {
                if let Some((am, alias)) = self.p.type_alias(m, n) {
                    return depth < 4
                        && self.instance_ann(am, &annotation::parse(alias), depth + 1);
                }
                match self.p.resolve_in_module(m, n) {
                    Sym::Class(_) => true,
                    _ => crate::external::qualified_name(self.p, m, n).is_some_and(|q| {
                        q != "builtins.type"
                            && getattr::holds_no_project_object(&q)
                            && !self.p.derives_from(&q)
                    }),
                }
            }
            Ann::Generic(head, args) => {
                if let Sym::Class(_) = self.p.resolve_in_module(m, head) {
                    return true;
                }
                let q = crate::external::qualified_name(self.p, m, head).unwrap_or_default();
                match q.as_str() {
                    "typing.Optional" | "typing.Union" => {
                        args.iter().all(|a| self.instance_ann(m, a, depth))
                    }
                    q => CONTAINERS.contains(&q),
                }
            }
            Ann::Other => false,
        }
    }

    /// A `[[call]]` with an `arg` guard matches only when that argument has the named type.
    pub(super) fn arg_guard_holds(
        &self,
        entry: &crate::rules::CallEntry,
        node: Node,
        caller: Option<usize>,
    ) -> bool {
        let Some(guard) = &entry.arg else {
            return true;
        };
        let Some(args) = node.child_by_field_name("arguments") else {
            return false;
        };
        let mut cursor = args.walk();
        let mut pos = 0;
        for a in args.named_children(&mut cursor) {
            let value = match a.kind() {
                "keyword_argument" => {
                    let name = a.child_by_field_name("name").map(|n| text(n, self.src));
                    if name.is_none() || name != guard.keyword.as_deref() {
                        continue;
                    }
                    a.child_by_field_name("value")
                }
                "list_splat" | "dictionary_splat" | "comment" => continue,
                _ => {
                    pos += 1;
                    if Some(pos - 1) != guard.position {
                        continue;
                    }
                    Some(a)
                }
            };
            return value.and_then(|v| self.kind_of(v, caller))
                == Some(Kind::Ext(guard.ty.clone()));
        }
        false
    }

    /// A catalog call that runs a project callable with some of its arguments
    /// (`Thread(target=f, args=(ev,))`): their kinds flow into the callable's parameters.
    pub(super) fn callable_params(&mut self, node: Node, f: Node, caller: Option<usize>) {
        let entry = match self.resolve(f, caller) {
            Val::Sym(Sym::External(q)) => self.cat.call(&q),
            Val::ExtMethod(ty, name) => self.cat.method(&ty, &name),
            _ => None,
        };
        let Some(spec) = entry.and_then(|e| e.callable.as_ref()) else {
            return;
        };
        let Some(args) = node.child_by_field_name("arguments") else {
            return;
        };
        let mut positional = Vec::new();
        let mut keywords = Vec::new();
        let mut cursor = args.walk();
        for a in args.named_children(&mut cursor) {
            match a.kind() {
                "keyword_argument" => {
                    if let (Some(n), Some(v)) = (
                        a.child_by_field_name("name"),
                        a.child_by_field_name("value"),
                    ) {
                        keywords.push((text(n, self.src).to_string(), v));
                    }
                }
                "list_splat" | "dictionary_splat" => return,
                "comment" => {}
                _ => positional.push(a),
            }
        }
        let find = |pos: Option<usize>, kw: Option<&str>| {
            keywords
                .iter()
                .find(|(k, _)| Some(k.as_str()) == kw)
                .map(|(_, v)| *v)
                .or_else(|| pos.and_then(|p| positional.get(p).copied()))
        };
        let Some(callee) = find(spec.position, spec.keyword.as_deref()) else {
            return;
        };
        let (g, bound) = match self.resolve(callee, caller) {
            Val::Sym(Sym::Func(g)) => (g, false),
            Val::Bound(g) => (g, true),
            _ => return,
        };
        let def = self.p.func(g);
        let offset = usize::from(
            bound && def.is_method() && !def.decorators.iter().any(|d| d == "staticmethod"),
        );
        let mut pass_pos: Vec<Node> = Vec::new();
        let mut pass_kw: Vec<(String, Node)> = Vec::new();
        if spec.rest {
            let first = spec.position.map_or(0, |p| p + 1);
            pass_pos.extend(positional.iter().skip(first).copied());
            pass_kw.extend(
                keywords
                    .iter()
                    .filter(|(k, _)| Some(k.as_str()) != spec.keyword.as_deref())
                    .cloned(),
            );
        }
        if let Some(t) = spec
            .args
            .as_ref()
            .and_then(|a| find(a.position, a.keyword.as_deref()))
        {
            if !matches!(t.kind(), "tuple" | "list") {
                return;
            }
            let mut cursor = t.walk();
            for e in t.named_children(&mut cursor) {
                match e.kind() {
                    "comment" => {}
                    "list_splat" => return,
                    _ => pass_pos.push(e),
                }
            }
        }
        if let Some(d) = spec
            .kwargs
            .as_ref()
            .and_then(|a| find(a.position, a.keyword.as_deref()))
            .filter(|d| d.kind() == "dictionary")
        {
            let mut cursor = d.walk();
            for pair in d.named_children(&mut cursor) {
                let (Some(k), Some(v)) = (
                    pair.child_by_field_name("key"),
                    pair.child_by_field_name("value"),
                ) else {
                    continue;
                };
                let key = text(k, self.src).trim_matches(['"', '\'']).to_string();
                pass_kw.push((key, v));
            }
        }
        for (i, a) in pass_pos.into_iter().enumerate() {
            let kind = self.kind_of(a, caller);
            self.facts
                .param_obs
                .push(((g, i + offset), kind.map(Box::new)));
        }
        for (name, v) in pass_kw {
            if let Some(i) = def.params.iter().position(|p| p.name == name) {
                let kind = self.kind_of(v, caller);
                self.facts.param_obs.push(((g, i), kind.map(Box::new)));
            }
        }
    }

    /// Whether a generator call's result goes where the rewrite can follow it: a loop, a
    /// known consumer, a project function's parameter, or a local name.
    pub(super) fn gen_use_followed(&self, node: Node, caller: Option<usize>) -> bool {
        let Some(parent) = self.up(node, 1) else {
            return false;
        };
        match parent.kind() {
            "for_statement" | "for_in_clause" => parent
                .child_by_field_name("right")
                .is_some_and(|r| r.id() == node.id()),
            "assignment" | "with_item" => true,
            "as_pattern" => self.up(node, 2).is_some_and(|p| p.kind() == "with_item"),
            "yield" => true,
            "argument_list" => {
                let Some(call) = self.up(node, 2) else {
                    return false;
                };
                let Some(f) = call.child_by_field_name("function") else {
                    return false;
                };
                match self.resolve(f, caller) {
                    Val::Sym(Sym::Func(_)) | Val::Bound(_) => true,
                    Val::Sym(Sym::External(q)) => CONSUMERS.contains(&q.as_str()),
                    _ => false,
                }
            }
            _ => false,
        }
    }

    /// `list(gen)` and friends.
    pub(super) fn consumer(&mut self, node: Node, q: &str, ctx: Ctx, caller: Option<usize>) {
        if !CONSUMERS.contains(&q) {
            return;
        }
        let Some(args) = node.child_by_field_name("arguments") else {
            return;
        };
        if args.named_child_count() != 1 {
            return;
        }
        let Some(arg) = args.named_child(0) else {
            return;
        };
        let kind = self.kind_of(arg, caller);
        // Draining an iterator object calls its `__next__`, which cannot be awaited there.
        match &kind {
            Some(Kind::Instance(c)) => {
                let c = *c;
                self.unknown_receiver(node, "__next__", Some(c), ctx, caller);
            }
            None => self.unknown_receiver(node, "__next__", None, ctx, caller),
            _ => {}
        }
        if let Some(Kind::Gen(g)) = kind {
            self.facts.consumes.push(ConsumeFact {
                caller,
                generator: g,
                consumer: q.to_string(),
                call: (node.start_byte(), node.end_byte()),
                arg: (arg.start_byte(), arg.end_byte()),
                ctx,
                line: line(node),
            });
        }
    }

    pub(super) fn reference(&mut self, node: Node, ctx: Ctx, caller: Option<usize>) {
        if self.not_a_reference(node, ctx, caller) {
            return;
        }
        if node.kind() == "attribute"
            && node
                .child_by_field_name("attribute")
                .is_some_and(|a| text(a, self.src) == "__dict__")
        {
            let obj = node.child_by_field_name("object");
            self.namespace(node, obj, caller);
            return;
        }
        let val = match self.class_body_method(node, ctx) {
            Some(f) => Val::Sym(Sym::Func(f)),
            None => self.resolve(node, caller),
        };
        // `to_thread(ev.wait, 5)`: a method of a converted object used as a value; whoever
        // calls it would not await it.
        if let Val::ExtMethod(ty, name) = &val
            && let Some(root) = self.cat.closed_root(ty)
            && self.cat.method(ty, name).is_some()
            && !self
                .up(node, 1)
                .is_some_and(|p| p.kind() == "call" || p.kind() == "await")
        {
            let pos = node.start_position();
            self.facts.kept_uses.push(KeptUseFact {
                caller,
                ctx,
                callee: (node.start_byte(), node.end_byte()),
                ty: root.to_string(),
                line: pos.row + 1,
                col: pos.column + 1,
                escape: Some(Escape::Value),
            });
            return;
        }
        if let Val::ExtMethod(ty, name) = &val
            && let Some(obj) = node.child_by_field_name("object")
            && self.cat.attribute(ty, name).is_some()
        {
            self.facts.attrs.push(AttrFact {
                ty: ty.clone(),
                name: name.clone(),
                start: node.start_byte(),
                end: node.end_byte(),
                object: (obj.start_byte(), obj.end_byte()),
                caller,
                ctx,
            });
            return;
        }
        // `q.queue`: an attribute of a converted object that no rule maps or keeps, which the
        // new type may lack (`asyncio.Queue` has no `queue`). A method call is checked by the
        // call itself.
        if let Val::ExtMethod(ty, name) = &val
            && self.cat.closed_root(ty).is_some()
            && self.cat.method(ty, name).is_none()
            && !self.cat.attribute_kept(ty, name)
            && !self.up(node, 1).is_some_and(|p| {
                p.kind() == "call"
                    && p.child_by_field_name("function")
                        .is_some_and(|f| f.id() == node.id())
            })
        {
            self.escape(node, ty, Escape::Attribute, ctx, caller);
            return;
        }
        self.mixed_escape(node, &val, ctx, caller);
        let target = match val {
            Val::Sym(Sym::Func(f)) | Val::Bound(f) => f,
            Val::Sym(Sym::Module(m)) => {
                self.module_value(node, Some(m));
                return;
            }
            Val::Sym(Sym::External(q)) if q == "sys.modules" => {
                self.module_value(node, None);
                return;
            }
            Val::Sym(Sym::External(q)) => {
                if self.cat.call(&q).is_some() || self.cat.blocking_call(&q).is_some() {
                    self.facts.outside.push(OutsideFact {
                        start: node.start_byte(),
                        end: node.end_byte(),
                        what: Outside::Name(q.clone()),
                    });
                }
                if self.cat.name(&q).is_some() {
                    self.facts.names.push(NameFact {
                        qualified: q,
                        start: node.start_byte(),
                        end: node.end_byte(),
                        caller,
                    });
                }
                return;
            }
            _ => return,
        };
        let passed_to = self.passed_to(node, caller);
        let pos = node.start_position();
        let called = self.callable_arg(node, caller);
        self.facts.refs.push(RefFact {
            target,
            line: pos.row + 1,
            col: pos.column + 1,
            ctx,
            caller,
            passed_to,
            start: node.start_byte(),
            end: node.end_byte(),
            called,
            bound_in: self.class_binding(node, ctx),
        });
    }

    /// A converted object read at `node` into a value that may also be another object
    /// escapes: the uses of that value are of unknown type and stay as they are.
    fn mixed_escape(&mut self, node: Node, val: &Val, ctx: Ctx, caller: Option<usize>) {
        if let Val::Kind(Kind::Ext(ty)) = val
            && self.cat.closed_root(ty).is_some()
            && self.mixed_value(node, ty, caller)
        {
            self.escape(node, ty, Escape::Mixed, ctx, caller);
        }
    }

    /// Whether the object of type `ty` read at `node` flows into a conditional expression or
    /// a boolean operator (not its condition) whose value is not always of that type.
    fn mixed_value(&self, node: Node, ty: &str, caller: Option<usize>) -> bool {
        let mut inner = node;
        let mut outer = self.up(node, 1);
        while let Some(p) = outer.filter(|p| p.kind() == "parenthesized_expression") {
            inner = p;
            outer = self.up(p, 1);
        }
        let Some(p) = outer else {
            return false;
        };
        let value = match p.kind() {
            "conditional_expression" => p.named_child(1).is_none_or(|c| c.id() != inner.id()),
            "boolean_operator" => true,
            _ => false,
        };
        value && self.kind_of(p, caller) != Some(Kind::Ext(ty.to_string()))
    }

    /// A name that is not a reference where it sits: the tail of an attribute chain (handled
    /// at the top of the chain), a name being defined, a keyword; an assignment target
    /// records the attribute set.
    pub(super) fn not_a_reference(&mut self, node: Node, ctx: Ctx, caller: Option<usize>) -> bool {
        let Some(p) = self.up(node, 1) else {
            return false;
        };
        if p.kind() == "attribute"
            && p.child_by_field_name("attribute")
                .is_some_and(|a| a.id() == node.id())
        {
            return true;
        }
        if matches!(
            p.kind(),
            "parameters"
                | "default_parameter"
                | "typed_parameter"
                | "function_definition"
                | "class_definition"
        ) {
            return true;
        }
        if p.kind() == "keyword_argument"
            && p.child_by_field_name("name")
                .is_some_and(|n| n.id() == node.id())
        {
            return true;
        }
        if matches!(p.kind(), "assignment" | "augmented_assignment")
            && p.child_by_field_name("left")
                .is_some_and(|l| l.id() == node.id())
        {
            self.object_set(node, ctx, caller);
            return true;
        }
        false
    }

    /// The function a reference is passed to as an argument (`to_thread(f)`, `run(main=f)`).
    pub(super) fn passed_to(&self, node: Node, caller: Option<usize>) -> Option<String> {
        let arg_list_depth = if self
            .up(node, 1)
            .is_some_and(|p| p.kind() == "keyword_argument")
        {
            2
        } else {
            1
        };
        self.up(node, arg_list_depth)
            .filter(|p| p.kind() == "argument_list")
            .and_then(|_| self.up(node, arg_list_depth + 1))
            .and_then(|call| call.child_by_field_name("function"))
            .map(|f| match self.resolve(f, caller) {
                Val::Sym(Sym::External(q)) => q,
                _ => text(f, self.src).to_string(),
            })
    }

    /// A module used as a value, unless it is only read from (`mod.f`), tested, or given to
    /// `setattr` (which stores into it and returns nothing).
    pub(super) fn module_value(&mut self, node: Node, module: Option<usize>) {
        let parent = self.up(node, 1);
        let read_from = parent.is_some_and(|p| {
            p.kind() == "attribute"
                && p.child_by_field_name("object")
                    .is_some_and(|o| o.id() == node.id())
        });
        let imported = parent.is_some_and(|p| {
            matches!(
                p.kind(),
                "dotted_name" | "aliased_import" | "import_statement" | "import_from_statement"
            )
        });
        let stored_into = parent
            .filter(|p| p.kind() == "argument_list")
            .and_then(|args| args.parent())
            .and_then(|call| call.child_by_field_name("function"))
            .is_some_and(|f| {
                let f = text(f, self.src);
                ["setattr", "delattr", "hasattr"].contains(&f)
                    || f.ends_with(".setattr")
                    || f.ends_with(".delattr")
            });
        if read_from || imported || stored_into || getattr::result_dies(node, self.src) {
            return;
        }
        self.facts.module_values.push(ModuleValueFact {
            module,
            line: line(node),
        });
    }

    /// `globals()`, `vars(obj)`, `obj.__dict__` (`node`, with `obj` if any) hold functions
    /// under names awaitify cannot follow: like `getattr(obj, name)` with any name.
    /// `globals()`, `locals()` and `vars()` read the module's namespace (`locals()` in a
    /// function holds its nested functions, which stay reachable through the module's).
    pub(super) fn namespace(&mut self, node: Node, obj: Option<Node>, caller: Option<usize>) {
        if getattr::result_dies(node, self.src)
            || getattr::only_written(node, self.src)
            || getattr::entries_die(node, self.src, &|f| self.names_builtin(f, caller))
        {
            return;
        }
        let on = match obj.map(|o| self.resolve(o, caller)) {
            None => DynOn::Module(self.m),
            Some(Val::Sym(Sym::Module(m))) => DynOn::Module(m),
            Some(Val::Sym(Sym::Class(c)) | Val::Kind(Kind::ClassObj(c))) => DynOn::Class(c),
            // An instance's own dict holds what was assigned to it; a function stored there
            // was already seen as a value where it was stored.
            Some(Val::Kind(Kind::Instance(_))) => return,
            Some(Val::Unknown) if obj.is_some_and(|o| self.annotated_instance(o, caller)) => {
                return;
            }
            Some(Val::Unknown) => DynOn::Unknown,
            Some(_) => return,
        };
        let via = match node
            .child_by_field_name("function")
            .map(|f| text(f, self.src))
        {
            None => "__dict__",
            Some("globals") => "globals()",
            Some("locals") => "locals()",
            Some(_) => "vars()",
        };
        self.facts.dyn_attrs.push(DynAttrFact {
            name: getattr::keyed_read(node, self.src)
                .map_or(DynName::Any, |n| DynName::Exact(n.as_str().into())),
            on,
            line: line(node),
            via,
            proxy: None,
        });
    }

    /// `importlib.import_module(name)` whose result is kept: some project module, maybe.
    pub(super) fn dynamic_import(&mut self, call: Node) {
        if getattr::result_dies(call, self.src) {
            return;
        }
        self.facts.module_values.push(ModuleValueFact {
            module: None,
            line: line(call),
        });
    }

    /// `name = f` directly in a class body: the class that gets `f` as a method.
    pub(super) fn class_binding(&self, node: Node, ctx: Ctx) -> Option<ClassId> {
        let assignment = self.up(node, 1)?;
        if ctx != Ctx::ClassBody
            || assignment.kind() != "assignment"
            || assignment
                .child_by_field_name("right")
                .is_none_or(|r| r.id() != node.id())
            || assignment
                .child_by_field_name("left")
                .is_none_or(|l| l.kind() != "identifier")
        {
            return None;
        }
        let c = self.enclosing_class()?;
        Some(ClassId {
            module: self.m as u32,
            class: c as u32,
        })
    }

    /// The index of the class whose body the walk is in.
    pub(super) fn enclosing_class(&self) -> Option<usize> {
        let class = self
            .ancestors
            .iter()
            .rev()
            .find(|n| n.kind() == "class_definition")?;
        self.ix
            .classes
            .iter()
            .position(|k| k.start == class.start_byte())
    }

    /// A name in a class body that is one of the class's methods (`__call__ = run`,
    /// `alias = run`): an alias awaitify cannot follow.
    pub(super) fn class_body_method(&self, node: Node, ctx: Ctx) -> Option<FuncId> {
        if ctx != Ctx::ClassBody || node.kind() != "identifier" {
            return None;
        }
        let c = self.enclosing_class()?;
        let f = *self.ix.classes[c].methods.get(text(node, self.src))?;
        Some(self.fid(f))
    }

    /// Whether `node` is an argument that a catalog entry's `callable` names.
    pub(super) fn callable_arg(&self, node: Node, caller: Option<usize>) -> bool {
        let Some(parent) = node.parent() else {
            return false;
        };
        let (args, keyword) = if parent.kind() == "keyword_argument" {
            let name = parent
                .child_by_field_name("name")
                .map(|n| text(n, self.src).to_string());
            (parent.parent(), name)
        } else {
            (Some(parent), None)
        };
        let Some(args) = args.filter(|a| a.kind() == "argument_list") else {
            return false;
        };
        let Some(f) = args
            .parent()
            .and_then(|c| c.child_by_field_name("function"))
        else {
            return false;
        };
        let entry = match self.resolve(f, caller) {
            Val::Sym(Sym::External(q)) => self.cat.call(&q),
            Val::ExtMethod(ty, name) => self.cat.method(&ty, &name),
            _ => None,
        };
        let Some(spec) = entry.and_then(|e| e.callable.as_ref()) else {
            return false;
        };
        // A kept creation (a thread that stays a thread) calls it without await.
        if entry.is_some_and(|e| self.kept_creation(e, args.parent().map_or(0, |c| c.start_byte())))
        {
            return false;
        }
        match keyword {
            Some(k) => spec.keyword.as_deref() == Some(k.as_str()),
            None => {
                let mut cursor = args.walk();
                let positional: Vec<Node> = args
                    .named_children(&mut cursor)
                    .filter(|a| !matches!(a.kind(), "keyword_argument" | "comment"))
                    .collect();
                let pos = positional.iter().position(|a| a.id() == node.id());
                let splat_before = positional[..pos.unwrap_or(0)]
                    .iter()
                    .any(|a| a.kind() == "list_splat");
                pos.is_some() && !splat_before && pos == spec.position
            }
        }
    }
}

/// What a string literal says of an attribute name: all of it, or (an f-string, a `%`
/// template) the text before its first placeholder.
/// A private function (`_inherit_option`) or a function nested in another (`def pick(key)`):
/// the project's calls are all its calls, unless it is used as a value (then the literals
/// its calls pass say nothing, see `param_literals` in colour.rs). Public functions may be
/// called from outside the project with any argument, dunders implicitly.
fn hidden_helper(def: &crate::index::FuncDef) -> bool {
    let nested = def.parent.is_some() && def.class.is_none();
    (def.name.starts_with('_') || nested) && !def.name.starts_with("__")
}

pub(super) fn string_prefix(node: Node, src: &str) -> DynName {
    let t = text(node, src);
    let body_at = t.find(['"', '\'']).unwrap_or(0);
    let (prefix, rest) = t.split_at(body_at);
    let quote = if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
        3
    } else {
        1
    };
    if rest.len() < 2 * quote || prefix.contains(['b', 'B']) {
        return DynName::Any;
    }
    let body = &rest[quote..rest.len() - quote];
    let f = prefix.contains(['f', 'F']);
    let cut = body.find(|c: char| (f && c == '{') || c == '%' || c == '\\');
    match cut {
        None => DynName::Exact(body.into()),
        Some(0) => DynName::Any,
        Some(i) => DynName::Prefix(body[..i].into()),
    }
}

/// Builtins that drain an iterable; over an async generator they become comprehensions.
pub const CONSUMERS: &[&str] = &[
    "list",
    "tuple",
    "set",
    "sum",
    "min",
    "max",
    "sorted",
    "any",
    "all",
    "next",
    "dict",
    "frozenset",
];

/// Calls that return a module chosen at run time.
pub(super) const DYNAMIC_IMPORTS: &[&str] = &[
    "importlib.import_module",
    "importlib.reload",
    "importlib.__import__",
    "__import__",
    "builtins.__import__",
];

/// The arguments of a call bound to parameters of `def`, as (parameter index, value): a
/// keyword by its name, a positional argument by its place after `offset` (1 past `self`).
/// Splats and comments bind nothing here; a caller that must know them checks first.
fn bound_args<'t>(
    def: &FuncDef,
    offset: usize,
    args: Node<'t>,
    src: &str,
) -> Vec<(usize, Node<'t>)> {
    let mut cursor = args.walk();
    let mut pos = 0;
    let mut out = Vec::new();
    for a in args.named_children(&mut cursor) {
        match a.kind() {
            "keyword_argument" => {
                let (Some(n), Some(v)) = (
                    a.child_by_field_name("name"),
                    a.child_by_field_name("value"),
                ) else {
                    continue;
                };
                if let Some(i) = def.params.iter().position(|p| p.name == text(n, src)) {
                    out.push((i, v));
                }
            }
            "list_splat" | "dictionary_splat" | "comment" => {}
            _ => {
                out.push((pos + offset, a));
                pos += 1;
            }
        }
    }
    out
}
