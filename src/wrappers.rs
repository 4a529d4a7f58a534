//! Project decorators: a function under `@deco` (or `@deco(args)`) defined in the project is
//! called through the decorator's wrapper. When the functions it wraps become async, the
//! wrapper becomes async and awaits them (`result = await fn(*args)`; its own `time.sleep`
//! becomes `await asyncio.sleep`). One wrapper cannot do both: a sync wrapper around a
//! now-async function would return its coroutine un-awaited (a retry decorator would stop
//! retrying). So a decorator's functions and wrappers change colour together, or not at
//! all: colouring pins those that would become async (`mixed-decorator`) and runs again.
//! A decorator that does anything else with the function than call it from a wrapper it
//! returns (store it, hand it on, return another object) cannot be followed: its functions
//! stay sync (`opaque-decorator`).

use crate::colour::{Colouring, Pin};
use crate::matcher::{Ctx, ModuleFacts, PackedCall, RefFact, Target};
use crate::parse::text;
use crate::project::{FuncId, Project, Sym};
use crate::rules::Catalog;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cell::OnceCell;
use std::collections::BTreeMap;
use tree_sitter::Node;

pub const MIXED: &str = "mixed-decorator";
pub const OPAQUE: &str = "opaque-decorator";

/// Calls that only inspect the function they are given (`if iscoroutinefunction(fn):`).
const INSPECTS: &[&str] = &[
    "iscoroutinefunction",
    "inspect.iscoroutinefunction",
    "asyncio.iscoroutinefunction",
];

const WRAPS: &[&str] = &[
    "wraps",
    "functools.wraps",
    "update_wrapper",
    "functools.update_wrapper",
];

/// One project decorator and what it is applied to.
struct Group {
    decorator: FuncId,
    /// The decorated functions.
    targets: Vec<FuncId>,
    /// Functions inside the decorator that call the decorated one: its wrappers.
    wrappers: Vec<FuncId>,
    /// Those calls: `(start, awaited, ctx)`.
    calls: Vec<(usize, bool, Ctx)>,
    /// The function whose first parameter is the decorated function (the decorator, or the
    /// function a decorator factory returns), when the calls agree on one.
    owner: Option<usize>,
    /// A use of the decorator other than `@deco` on a function: `(module, line)`.
    other_use: Option<(usize, usize)>,
    /// How its wrappers call the decorated function, or why awaitify cannot follow the
    /// decorator, once asked.
    shape: OnceCell<Result<Shape, String>>,
    /// Whether its wrappers hand their arguments to the decorated function as they got them.
    verbatim: OnceCell<bool>,
}

/// How a decorator that awaitify follows calls the functions it decorates.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// One kind of wrapper: it changes colour with the functions.
    Plain,
    /// `if inspect.iscoroutinefunction(fn):` an `async def` wrapper that awaits `fn`, `else:`
    /// a sync one (pymongo's `@_csot.apply`): each function gets the wrapper of its own
    /// colour, so the functions change colour each on its own. The sync wrappers (these)
    /// serve the functions that stay sync, and stay sync themselves.
    Dual(Vec<FuncId>),
}

pub struct Decorators {
    groups: Vec<Group>,
    /// `return wrapper` and the like inside a decorator: `(module, start)` of the reference.
    /// Not a value awaitify loses track of; the shape check makes sure of it.
    wrapper_refs: HashSet<(usize, usize)>,
}

impl Decorators {
    pub fn new(p: &Project, cat: &Catalog, facts: &[ModuleFacts]) -> Decorators {
        let mut applied: BTreeMap<FuncId, Vec<FuncId>> = BTreeMap::new();
        for f in p.func_ids() {
            let m = f.module as usize;
            for dec in &p.func(f).decorators {
                if let Sym::Func(d) = p.resolve_in_module(m, dec)
                    && !crate::external::async_aware(p, cat, m, dec)
                {
                    applied.entry(d).or_default().push(f);
                }
            }
        }
        let uses = uses_of(facts, &applied);
        let mut groups = Vec::new();
        let mut wrapper_refs = HashSet::default();
        for (d, targets) in applied {
            let m = d.module as usize;
            let calls: Vec<_> = facts[m]
                .param_calls
                .iter()
                .filter(|c| {
                    // A call of the caller's own parameter is a callback's, not a wrapper's.
                    c.param == 0 && c.caller != c.owner && within(p, m, c.owner, d.func as usize)
                })
                .collect();
            let mut wrappers: Vec<FuncId> = calls.iter().map(|c| fid(m, c.caller)).collect();
            wrappers.sort();
            wrappers.dedup();
            let owner = calls.first().map(|c| c.owner);
            let owner = owner.filter(|&o| calls.iter().all(|c| c.owner == o));
            let (n_decorating, other_use) = uses.get(&d).copied().unwrap_or_default();
            // `@deco` on a class, or a use the resolution here does not see.
            let other_use = other_use.or((n_decorating != targets.len()).then_some((m, 0)));
            let def = p.func(d);
            for r in &facts[m].refs {
                if wrappers.contains(&r.target) && def.start <= r.start && r.end <= def.end {
                    wrapper_refs.insert((m, r.start));
                }
            }
            groups.push(Group {
                decorator: d,
                targets,
                wrappers,
                calls: calls.iter().map(|c| (c.start, c.awaited, c.ctx)).collect(),
                owner,
                other_use,
                shape: OnceCell::new(),
                verbatim: OnceCell::new(),
            });
        }
        Decorators {
            groups,
            wrapper_refs,
        }
    }

    /// Whether a reference is a decorator returning its wrapper, which is not a use of the
    /// wrapper as a value that awaitify cannot follow.
    pub fn returns_wrapper(&self, m: usize, r: &RefFact) -> bool {
        self.wrapper_refs.contains(&(m, r.start))
    }

    /// Whether a call of `f` passes its arguments to `f` itself: each of its decorators
    /// (but `staticmethod` and `classmethod`) is a project decorator awaitify follows, whose
    /// wrappers call `f` with their own parameters, in their order, untouched
    /// (`def wrapper(self, *args, **kwargs): ... fn(self, *args, **kwargs)`). A function
    /// passed at a call of `f` then reaches `f`'s parameter, and nothing else.
    pub fn forwards_calls(&self, p: &Project, f: FuncId) -> bool {
        let decorators = p
            .func(f)
            .decorators
            .iter()
            .filter(|d| !matches!(d.as_str(), "staticmethod" | "classmethod"))
            .count();
        let groups: Vec<&Group> = self
            .groups
            .iter()
            .filter(|g| g.targets.contains(&f))
            .collect();
        groups.len() == decorators
            && groups.iter().all(|g| {
                g.targets.iter().filter(|t| **t == f).count() == 1
                    && !g.wrappers.is_empty()
                    && g.shape(p).is_ok()
                    && *g.verbatim.get_or_init(|| g.forwards_verbatim(p))
            })
    }

    /// Pins for the decorators whose functions and wrappers would not all change colour
    /// together, or that awaitify cannot follow, in this colouring.
    pub fn pins(
        &self,
        p: &Project,
        out: &Colouring,
        scope: &crate::colour::Scope,
    ) -> Vec<(FuncId, &'static str, Pin)> {
        let mut pins = Vec::new();
        for g in &self.groups {
            let open: Vec<FuncId> = g
                .targets
                .iter()
                .copied()
                .filter(|t| !p.func(*t).is_async)
                .collect();
            let coloured: Vec<FuncId> = open
                .iter()
                .chain(&g.wrappers)
                .copied()
                .filter(|f| out.coloured.contains(f))
                .collect();
            if coloured.is_empty() {
                continue;
            }
            let d = g.decorator;
            let at = p.func_location(d);
            let name = &p.func(d).name;
            if let Ok(Shape::Dual(sync)) = g.shape(p) {
                let reason = format!(
                    "it is the sync wrapper of decorator `{name}` ({at}), for the functions it decorates that stay sync"
                );
                for &w in sync.iter().filter(|w| out.coloured.contains(w)) {
                    let pin = Pin {
                        reason: reason.clone(),
                        module: w.module as usize,
                        line: p.func(w).first_line,
                    };
                    pins.push((w, MIXED, pin));
                }
                continue;
            }
            let why = if let Err(why) = g.shape(p) {
                Some((
                    OPAQUE,
                    format!("awaitify cannot follow its decorator `{name}` ({at}): {why}"),
                ))
            } else if let Some(s) = open.iter().find(|t| !out.async_funcs.contains(t)) {
                Some((
                    MIXED,
                    format!(
                        "decorator `{name}` ({at}) also wraps `{}`, which stays sync, and one wrapper cannot await one and not the other",
                        p.func(*s).name
                    ),
                ))
            } else {
                g.wrappers
                    .iter()
                    .find(|w| {
                        out.pinned.contains_key(w)
                            || out.pinned_below.contains_key(w)
                            || scope.is_outside(w.module as usize)
                    })
                    .map(|w| {
                        // A wrapper in a file outside `--only` is not edited.
                        let outside = if scope.is_outside(w.module as usize) {
                            " (its file is outside --only)"
                        } else {
                            ""
                        };
                        (
                            MIXED,
                            format!(
                                "the wrapper `{}` of decorator `{name}` ({at}) stays sync{outside}",
                                p.func(*w).name
                            ),
                        )
                    })
            };
            if let Some((code, reason)) = why {
                for f in coloured {
                    let pin = Pin {
                        reason: reason.clone(),
                        module: f.module as usize,
                        line: p.func(f).first_line,
                    };
                    pins.push((f, code, pin));
                }
            }
        }
        pins
    }

    /// Makes the wrappers of the decorators whose functions are all async in `out` async,
    /// awaiting the call of the wrapped function.
    pub fn wrap(&self, p: &Project, out: &mut Colouring) {
        for g in &self.groups {
            if g.calls.is_empty() || !g.targets.iter().all(|t| out.async_funcs.contains(t)) {
                continue;
            }
            // A dual decorator's async wrappers await already; its sync ones stay sync.
            if g.shape(p) != &Ok(Shape::Plain) {
                continue;
            }
            for &w in &g.wrappers {
                if out.async_funcs.insert(w) && !p.func(w).is_async {
                    out.coloured.insert(w);
                }
            }
            let m = g.decorator.module as usize;
            for &(start, _, _) in &g.calls {
                out.awaited_param_calls.insert((m, start));
            }
        }
    }
}

impl Group {
    fn shape(&self, p: &Project) -> &Result<Shape, String> {
        self.shape.get_or_init(|| self.check(p))
    }

    /// Whether the decorator only calls the decorated function from wrappers it returns, and
    /// how.
    fn check(&self, p: &Project) -> Result<Shape, String> {
        let m = self.decorator.module as usize;
        let module = &p.modules[m];
        match self.other_use {
            Some((_, 0)) => return Err("it also decorates something other than a function".into()),
            Some((um, line)) => {
                return Err(format!(
                    "it is also called or used as a value ({}:{line})",
                    p.modules[um].display
                ));
            }
            None => {}
        }
        let d = p.func(self.decorator);
        if d.is_method() {
            return Err("it is a method".into());
        }
        for &w in &self.wrappers {
            let def = p.func(w);
            if def.is_generator {
                return Err(format!("its wrapper `{}` is a generator", def.name));
            }
            if Some(def.parent.unwrap_or(usize::MAX)) != self.owner {
                return Err(format!("`{}` calls the function it decorates", def.name));
            }
        }
        if self.calls.iter().any(|&(_, _, ctx)| ctx != Ctx::Body) {
            return Err("it calls the function it decorates where it cannot await it".into());
        }
        let tree = crate::parse::parse(&module.source.text).ok_or("it does not parse")?;
        let src = module.source.text.as_str();
        let root = tree.root_node();
        let node = |f: usize| def_node(root, p.modules[m].index.functions[f].start);
        let dnode = node(self.decorator.func as usize).ok_or("it was not found")?;
        // The function that receives the decorated one: the decorator, or the function a
        // factory returns.
        let owner = match self.owner {
            Some(o) => o,
            None => returned_def(p, m, self.decorator.func as usize, dnode, src)
                .unwrap_or(self.decorator.func as usize),
        };
        let onode = node(owner).ok_or("it was not found")?;
        if owner != self.decorator.func as usize {
            let oname = &p.modules[m].index.functions[owner].name;
            for r in direct_returns(dnode) {
                if r.named_child(0).map(|v| text(v, src)) != Some(oname.as_str()) {
                    return Err(format!(
                        "it returns something other than `{oname}` (line {})",
                        r.start_position().row + 1
                    ));
                }
            }
        }
        let odef = &p.modules[m].index.functions[owner];
        let param = odef.params.first().ok_or("it takes no function")?;
        let wrapper_names: Vec<&str> = self
            .wrappers
            .iter()
            .map(|w| p.func(*w).name.as_str())
            .collect();
        let wrapper_starts: Vec<usize> = self.wrappers.iter().map(|w| p.func(*w).start).collect();
        let returns = direct_returns(onode);
        if returns.is_empty() {
            return Err("it returns nothing".into());
        }
        for r in returns {
            let value = r.named_child(0).map(|v| unwrap_wraps(v, src));
            let name = value
                .filter(|v| v.kind() == "identifier")
                .map(|v| text(v, src));
            if name.is_some_and(|n| wrapper_names.contains(&n) || n == param.name) {
                continue;
            }
            let line = r.start_position().row + 1;
            let nested = |n: &str| {
                let ix = &module.index.functions;
                ix.iter().any(|g| g.parent == Some(owner) && g.name == n)
            };
            return Err(match name {
                Some(n) if nested(n) => {
                    format!(
                        "it returns `{n}`, which does not call `{}` (line {line})",
                        param.name
                    )
                }
                _ => format!("it returns something other than its wrapper (line {line})"),
            });
        }
        let body = onode.child_by_field_name("body").ok_or("it has no body")?;
        uses_ok(body, src, &param.name, &wrapper_names, &wrapper_starts)?;
        self.await_shape(p, onode, &param.name, src)
    }

    /// Plain when no wrapper is `async def` or every call awaits; dual when the wrappers
    /// are split by `if iscoroutinefunction(fn):`, the async ones (awaiting every call) in
    /// its body and the sync ones in its `else`.
    fn await_shape(
        &self,
        p: &Project,
        owner: Node,
        param: &str,
        src: &str,
    ) -> Result<Shape, String> {
        let is_async = |w: &FuncId| p.func(*w).is_async;
        let calls_in = |w: &FuncId| {
            let def = p.func(*w);
            self.calls
                .iter()
                .filter(move |c| def.start <= c.0 && c.0 < def.end)
        };
        if !self.wrappers.iter().any(is_async) || self.calls.iter().all(|c| c.1) {
            return Ok(Shape::Plain);
        }
        let refused = || "it calls the function it decorates where it cannot await it".to_string();
        let (yes, no) = coroutine_branches(owner, param, src).ok_or_else(refused)?;
        let inside =
            |w: &FuncId, r: (usize, usize)| r.0 <= p.func(*w).start && p.func(*w).end <= r.1;
        let mut sync = Vec::new();
        for w in &self.wrappers {
            if is_async(w) && inside(w, yes) && calls_in(w).all(|c| c.1) {
                continue;
            }
            if !is_async(w) && inside(w, no) {
                sync.push(*w);
                continue;
            }
            return Err(refused());
        }
        Ok(Shape::Dual(sync))
    }
}

/// `if inspect.iscoroutinefunction(fn): ... else: ...` directly in `owner`'s body: the byte
/// ranges of its body and of its `else`.
fn coroutine_branches(
    owner: Node,
    param: &str,
    src: &str,
) -> Option<((usize, usize), (usize, usize))> {
    let body = owner.child_by_field_name("body")?;
    let mut cursor = body.walk();
    let statements: Vec<Node> = body.named_children(&mut cursor).collect();
    statements.into_iter().find_map(|stmt| {
        let cond = stmt.child_by_field_name("condition")?;
        let f = cond.child_by_field_name("function")?;
        let args = cond.child_by_field_name("arguments")?;
        let arg = args
            .named_child(0)
            .filter(|_| args.named_child_count() == 1)?;
        let is_test = stmt.kind() == "if_statement"
            && cond.kind() == "call"
            && INSPECTS.contains(&text(f, src))
            && arg.kind() == "identifier"
            && text(arg, src) == param;
        let yes = stmt.child_by_field_name("consequence")?;
        let no = stmt.child_by_field_name("alternative")?;
        (is_test && no.kind() == "else_clause" && stmt.named_child_count() == 3).then(|| {
            (
                (yes.start_byte(), yes.end_byte()),
                (no.start_byte(), no.end_byte()),
            )
        })
    })
}

impl Group {
    /// Every wrapper's calls of the decorated function pass the wrapper's parameters as they
    /// are, and the wrapper uses them nowhere else but to read an attribute (`self._timeout`).
    fn forwards_verbatim(&self, p: &Project) -> bool {
        let m = self.decorator.module as usize;
        let module = &p.modules[m];
        let Some(owner) = self.owner else {
            return false;
        };
        let Some(param) = module.index.functions[owner].params.first() else {
            return false;
        };
        let Some(tree) = crate::parse::parse(&module.source.text) else {
            return false;
        };
        let src = module.source.text.as_str();
        self.wrappers.iter().all(|&w| {
            def_node(tree.root_node(), p.func(w).start)
                .is_some_and(|def| wrapper_forwards(def, &param.name, src))
        })
    }
}

/// The parameters of `def` as a call passes them on: `a`, `*args`, `**kwargs`. `None` if
/// one has a default or an annotation awaitify does not read, or is keyword-only after `*`.
fn forwarded_params(def: Node, src: &str) -> Option<Vec<String>> {
    let params = def.child_by_field_name("parameters")?;
    let mut cursor = params.walk();
    params
        .named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .map(|n| match n.kind() {
            "identifier" => Some(text(n, src).to_string()),
            "typed_parameter" => {
                let inner = n.named_child(0)?;
                match inner.kind() {
                    "identifier" => Some(text(inner, src).to_string()),
                    "list_splat_pattern" | "dictionary_splat_pattern" => {
                        Some(text(inner, src).to_string())
                    }
                    _ => None,
                }
            }
            "list_splat_pattern" | "dictionary_splat_pattern" => Some(text(n, src).to_string()),
            _ => None,
        })
        .collect()
}

/// `def` (a wrapper) calls `param` only as `param(<its own parameters>)`, and reads its
/// parameters nowhere else but as the object of an attribute that is not called.
fn wrapper_forwards(def: Node, param: &str, src: &str) -> bool {
    let Some(own) = forwarded_params(def, src) else {
        return false;
    };
    let names: Vec<&str> = own.iter().map(|p| p.trim_start_matches('*')).collect();
    let Some(body) = def.child_by_field_name("body") else {
        return false;
    };
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if n.kind() == "call"
            && n.child_by_field_name("function")
                .is_some_and(|f| f.kind() == "identifier" && text(f, src) == param)
        {
            let Some(args) = n.child_by_field_name("arguments") else {
                return false;
            };
            let mut cursor = args.walk();
            let passed: Vec<&str> = args
                .named_children(&mut cursor)
                .filter(|a| a.kind() != "comment")
                .map(|a| text(a, src))
                .collect();
            if passed != own.iter().map(String::as_str).collect::<Vec<_>>() {
                return false;
            }
            continue;
        }
        if matches!(
            n.kind(),
            "function_definition" | "lambda" | "class_definition"
        ) {
            // A nested scope may capture a parameter and change it.
            if mentions_any(n, &names, src) {
                return false;
            }
            continue;
        }
        if n.kind() == "identifier" && names.contains(&text(n, src)) && !attribute_read(n) {
            return false;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    true
}

/// `n` is the object of an attribute read that is not called (`self._timeout`,
/// `self.calls = 0`): it neither rebinds nor mutates what `n` names.
fn attribute_read(n: Node) -> bool {
    let Some(parent) = n.parent() else {
        return false;
    };
    parent.kind() == "attribute"
        && parent
            .child_by_field_name("object")
            .is_some_and(|o| o.id() == n.id())
        && !parent.parent().is_some_and(|c| {
            c.kind() == "call"
                && c.child_by_field_name("function")
                    .is_some_and(|f| f.id() == parent.id())
        })
}

/// An identifier of `names` appears under `node`.
fn mentions_any(node: Node, names: &[&str], src: &str) -> bool {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind() == "identifier" && names.contains(&text(n, src)) {
            return true;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

/// Checks every use of the decorated function's parameter and of the wrappers' names in
/// the owner's body: calls from a wrapper, `functools.wraps(fn)`, attribute reads and
/// returns are fine; anything else hands a function to code awaitify does not follow.
fn uses_ok(
    body: Node,
    src: &str,
    param: &str,
    wrappers: &[&str],
    wrapper_starts: &[usize],
) -> Result<(), String> {
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
        if n.kind() != "identifier" {
            continue;
        }
        let name = text(n, src);
        let is_param = name == param;
        if !is_param && !wrappers.contains(&name) {
            continue;
        }
        let Some(parent) = n.parent() else { continue };
        let is = |field: &str| {
            parent
                .child_by_field_name(field)
                .is_some_and(|c| c.id() == n.id())
        };
        let fine = match parent.kind() {
            "call" if is("function") => {
                is_param && enclosing_def(n).is_some_and(|d| wrapper_starts.contains(&d))
            }
            // `fn.__name__`, `wrapper.calls = 0`; not a method call (`fn.__call__()`).
            "attribute" => {
                is("object")
                    && !parent.parent().is_some_and(|c| {
                        c.kind() == "call"
                            && c.child_by_field_name("function")
                                .is_some_and(|f| f.id() == parent.id())
                    })
            }
            "function_definition" => is("name"),
            "return_statement" => true,
            "argument_list" => parent
                .parent()
                .and_then(|c| c.child_by_field_name("function"))
                .is_some_and(|f| {
                    let f = text(f, src);
                    WRAPS.contains(&f)
                        || matches!(f, "cast" | "typing.cast")
                        || (is_param && INSPECTS.contains(&f))
                }),
            // A parameter of a nested function shadowing the name.
            "parameters" | "default_parameter" | "typed_parameter" => true,
            _ => false,
        };
        if !fine {
            return Err(format!(
                "it uses `{name}` as a value (line {})",
                n.start_position().row + 1
            ));
        }
    }
    Ok(())
}

/// `wraps(fn)(wrapper)` and `update_wrapper(wrapper, fn)` stand for `wrapper`, and so does
/// `cast(T, wrapper)` (which only tells a type checker what it is).
fn unwrap_wraps<'t>(v: Node<'t>, src: &str) -> Node<'t> {
    if v.kind() != "call" {
        return v;
    }
    let (Some(f), Some(args)) = (
        v.child_by_field_name("function"),
        v.child_by_field_name("arguments"),
    ) else {
        return v;
    };
    if matches!(text(f, src), "cast" | "typing.cast") && args.named_child_count() == 2 {
        return args.named_child(1).map_or(v, |x| unwrap_wraps(x, src));
    }
    let wraps_call = f.kind() == "call"
        && f.child_by_field_name("function")
            .is_some_and(|g| WRAPS.contains(&text(g, src)));
    if wraps_call || WRAPS[2..].contains(&text(f, src)) {
        return args.named_child(0).unwrap_or(v);
    }
    v
}

/// The `return` statements of a function itself, not of the functions nested in it.
fn direct_returns(def: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let Some(body) = def.child_by_field_name("body") else {
        return out;
    };
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "return_statement" => out.push(n),
            "function_definition" | "class_definition" | "lambda" => {}
            _ => {
                let mut cursor = n.walk();
                stack.extend(n.named_children(&mut cursor));
            }
        }
    }
    out
}

/// The nested function a decorator factory returns (`return decorate`). A nested function
/// that uses the decorator's first parameter is its wrapper instead.
fn returned_def(p: &Project, m: usize, f: usize, node: Node, src: &str) -> Option<usize> {
    let returns = direct_returns(node);
    let first = returns.first()?.named_child(0)?;
    let name = text(first, src);
    let functions = &p.modules[m].index.functions;
    let inner = functions
        .iter()
        .position(|g| g.parent == Some(f) && g.name == name)?;
    let param = functions[f].params.first().map(|p| p.name.as_str());
    let inode = def_node(node, functions[inner].start)?;
    let mut stack = vec![inode.child_by_field_name("body")?];
    while let Some(n) = stack.pop() {
        if n.kind() == "identifier" && Some(text(n, src)) == param {
            return None;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    Some(inner)
}

/// The start of the innermost function definition around `n`.
fn enclosing_def(n: Node) -> Option<usize> {
    let mut cur = n.parent();
    while let Some(c) = cur {
        if c.kind() == "function_definition" {
            return Some(c.start_byte());
        }
        cur = c.parent();
    }
    None
}

/// The `function_definition` node that starts at `start`.
pub(crate) fn def_node(root: Node, start: usize) -> Option<Node> {
    let mut n = root.descendant_for_byte_range(start, start + 1)?;
    loop {
        if n.kind() == "function_definition" && n.start_byte() == start {
            return Some(n);
        }
        n = n.parent()?;
    }
}

/// A use of a decorator: how many times it is used as a decorator, and where it is first
/// used otherwise (`(module, line)`).
type Uses = (usize, Option<(usize, usize)>);

fn uses_of(
    facts: &[ModuleFacts],
    applied: &BTreeMap<FuncId, Vec<FuncId>>,
) -> HashMap<FuncId, Uses> {
    let mut uses: HashMap<FuncId, Uses> = HashMap::default();
    if applied.is_empty() {
        return uses;
    }
    let mut note = |target: FuncId, ctx: Ctx, m: usize, line: usize| {
        if !applied.contains_key(&target) {
            return;
        }
        let u = uses.entry(target).or_default();
        if ctx == Ctx::Decorator {
            u.0 += 1;
        } else if u.1.is_none() {
            u.1 = Some((m, line));
        }
    };
    for (m, mf) in facts.iter().enumerate() {
        for c in mf.calls.iter().map(PackedCall::unpack) {
            if let Target::Func(d) = c.target {
                note(d, c.ctx, m, c.line);
            }
        }
        for r in &mf.refs {
            note(r.target, r.ctx, m, r.line);
        }
    }
    uses
}

/// Whether function `inner` of module `m` is `outer` or nested in it.
fn within(p: &Project, m: usize, mut inner: usize, outer: usize) -> bool {
    loop {
        if inner == outer {
            return true;
        }
        match p.modules[m].index.functions[inner].parent {
            Some(up) => inner = up,
            None => return false,
        }
    }
}

fn fid(m: usize, f: usize) -> FuncId {
    FuncId {
        module: m as u32,
        func: f as u32,
    }
}
