//! Colour: the call-graph fixed point that decides which functions become `async def`.
//!
//! A function becomes async when it makes a blocking call the catalog rewrites to an awaited
//! one (a seed), or when it calls, iterates or enters something that became async. Some
//! places cannot await (a lambda, a `@property`, `sorted(key=f)`, module level): a function
//! needed there stays sync, together with everything below it that it would have to await,
//! and a diagnostic names the place. Methods that override each other change colour together.

use crate::matcher::{Ctx, DynName, DynOn, Kind, ModuleFacts, PackedCall, Target};
use crate::project::{ClassId, FuncId, Project};
use crate::rules::{Action, Catalog, RuleId};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::{BTreeMap, VecDeque};

/// Why a function became async: the first reason found, for `--explain`.
#[derive(Debug, Clone)]
pub enum Why {
    /// It makes this blocking call itself (rule id, description, module, line).
    Seed {
        rule: String,
        what: String,
        module: usize,
        line: usize,
    },
    /// It calls/iterates/enters this function, which became async, at this line.
    Calls {
        callee: FuncId,
        module: usize,
        line: usize,
    },
    /// It overrides (or is overridden by) this method, which became async.
    Family { member: FuncId },
    /// It is passed to a parameter of `owner` that this function, which became async, is
    /// passed to too: the parameter's calls are awaited.
    Callback { member: FuncId, owner: FuncId },
    /// It was already `async def`.
    Existing,
}

/// Why a function must stay sync.
#[derive(Debug, Clone)]
pub struct Pin {
    pub reason: String,
    pub module: usize,
    pub line: usize,
}

const WITH_AT: &str = "is entered by a `with` at";

impl Pin {
    /// `{prefix}`name` {how} {ctx}`: a use in a context that cannot await (module level, a
    /// decorator, a default value...).
    fn in_context(
        prefix: &str,
        name: &str,
        how: &str,
        ctx: Ctx,
        module: usize,
        line: usize,
    ) -> Pin {
        Pin {
            reason: format!("{prefix}`{name}` {how} {}", ctx.describe()),
            module,
            line,
        }
    }
}

#[derive(Debug, Default)]
pub struct Colouring {
    /// Every function that is async in the output.
    pub async_funcs: HashSet<FuncId>,
    /// Functions that were sync and become async.
    pub coloured: HashSet<FuncId>,
    pub why: HashMap<FuncId, Why>,
    /// Functions that would have become async but must stay sync.
    pub pinned: BTreeMap<FuncId, Pin>,
    /// Pinned functions that are pinned only because a pinned caller needs them (caller, line).
    pub pinned_below: BTreeMap<FuncId, FuncId>,
    /// Where the caller named in [`Colouring::pinned_below`] calls the function: `(module, line)`.
    pub pinned_below_at: BTreeMap<FuncId, (usize, usize)>,
    pub family: HashMap<FuncId, FuncId>,
    /// Calls of a wrapped function inside a decorator's wrapper that must be awaited:
    /// `(module, call start)`.
    pub awaited_param_calls: HashSet<(usize, usize)>,
    /// Calls of a callback stored on the instance (`self.on_error(e)`) whose group turned
    /// async: `(module, call start, call end)`.
    pub awaited_attr_calls: HashSet<(usize, usize, usize)>,
    /// Console-script functions that became async: they keep a sync wrapper of their name
    /// and the coroutine is renamed `<name>_async`.
    pub scripts: HashSet<FuncId>,
    /// Other findings to report: `(module, line, message)`.
    pub notes: Vec<(usize, usize, String)>,
    /// Project classes written with a `unittest.TestCase` base that must become
    /// `IsolatedAsyncioTestCase`: a subclass of theirs (or they) now has async tests.
    pub test_bases: HashSet<ClassId>,
    /// The diagnostic code of a pin in `pinned` when it is not `sync-boundary`
    /// (`external-base`, `external-decorator`, ...).
    pub pin_codes: HashMap<FuncId, &'static str>,
    /// Pinned functions (by family) that a function async in the output calls: the first
    /// such call, `(caller, module, line)`. Their blocking calls block the event loop there.
    pub called_from_async: BTreeMap<FuncId, (FuncId, usize, usize)>,
    /// Pinned functions (by family) that no call awaitify follows reaches (a `@property`
    /// is read, not called): whether a coroutine reaches them is unknown.
    pub pinned_uncalled: HashSet<FuncId>,
    /// Functions a thread runs whose code depends on thread identity: they stay in a thread
    /// of their own (a pool thread of `asyncio.to_thread` may be reused by another call).
    pub thread_bound: HashSet<FuncId>,
    /// Calls from modules outside `--only` into functions inside it that would have become
    /// async and stay sync because of them: `(caller, callee, module, line)`; no caller for
    /// a call in the `__main__` block.
    pub outside_callers: Vec<(Option<FuncId>, FuncId, usize, usize)>,
}

/// What the user scoped: functions kept sync on purpose, and modules not to edit.
#[derive(Debug, Default)]
pub struct Scope {
    /// Functions kept sync, each with how it was asked (`--keep-sync`, a comment).
    pub kept: BTreeMap<FuncId, String>,
    /// Modules outside `--only` (by index; empty without `--only`): never edited, so their
    /// functions stay sync and so does what they call.
    pub outside: Vec<bool>,
}

impl Colouring {
    /// The functions that are async, or would be but for a pin.
    pub fn would_be_async(&self) -> HashSet<FuncId> {
        let fam = |f: &FuncId| self.family.get(f).copied().unwrap_or(*f);
        let fams: HashSet<FuncId> = (self.async_funcs.iter().chain(self.pinned.keys()))
            .map(fam)
            .chain(self.pinned_below.keys().copied())
            .collect();
        self.family
            .iter()
            .filter(|(_, r)| fams.contains(r))
            .map(|(f, _)| *f)
            .collect()
    }
}

impl Scope {
    pub fn is_outside(&self, m: usize) -> bool {
        self.outside.get(m).copied().unwrap_or(false)
    }
}

/// The code of the pins that `--only` makes: reported at the calls from outside.
pub const CALLER_OUTSIDE_SCOPE: &str = "caller-outside-scope";

/// Sync-only dunders: Python calls them without awaiting.
const SYNC_DUNDERS: &[&str] = &[
    "__init__",
    "__new__",
    "__del__",
    "__str__",
    "__repr__",
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__hash__",
    "__len__",
    "__bool__",
    "__contains__",
    "__getitem__",
    "__setitem__",
    "__delitem__",
    "__getattr__",
    "__getattribute__",
    "__setattr__",
    "__delattr__",
    "__format__",
    "__index__",
    "__int__",
    "__float__",
    "__post_init__",
    "__init_subclass__",
    "__set_name__",
    "__class_getitem__",
    "__get__",
    // unittest calls these without awaiting, even on IsolatedAsyncioTestCase.
    "setUpClass",
    "tearDownClass",
    "__set__",
    "__copy__",
    "__deepcopy__",
    "__reduce__",
    "__getstate__",
    "__setstate__",
    "__sizeof__",
    "__dir__",
];

const SYNC_DECORATORS: &[(&str, &str)] = &[
    ("property", "a @property (attribute access cannot await)"),
    (
        "functools.lru_cache",
        "@functools.lru_cache (it would cache the coroutine object, not the result)",
    ),
    (
        "lru_cache",
        "@lru_cache (it would cache the coroutine object, not the result)",
    ),
    (
        "functools.cache",
        "@functools.cache (it would cache the coroutine object, not the result)",
    ),
    (
        "cache",
        "@cache (it would cache the coroutine object, not the result)",
    ),
    (
        "functools.cached_property",
        "a @cached_property (attribute access cannot await)",
    ),
    (
        "cached_property",
        "a @cached_property (attribute access cannot await)",
    ),
];

/// Whether colouring pins a function under this decorator itself (`@property`,
/// `@lru_cache`, a property setter).
pub fn is_sync_decorator(written: &str) -> bool {
    SYNC_DECORATORS.iter().any(|(d, _)| *d == written)
        || written.ends_with(".setter")
        || written.ends_with(".deleter")
}

/// Builds override families: a method and the same-named methods of its project bases.
pub fn families(p: &Project) -> HashMap<FuncId, FuncId> {
    let mut uf: HashMap<FuncId, FuncId> = HashMap::default();
    fn find(uf: &mut HashMap<FuncId, FuncId>, x: FuncId) -> FuncId {
        let parent = *uf.get(&x).unwrap_or(&x);
        if parent == x {
            return x;
        }
        let root = find(uf, parent);
        uf.insert(x, root);
        root
    }
    let union = |uf: &mut HashMap<FuncId, FuncId>, a: FuncId, b: FuncId| {
        let (ra, rb) = (find(uf, a), find(uf, b));
        if ra != rb {
            uf.insert(ra.max(rb), ra.min(rb));
        }
    };
    for c in p.class_ids() {
        let class = p.class(c);
        for (name, &f) in &class.methods {
            let me = FuncId {
                module: c.module,
                func: f as u32,
            };
            // A project that already overrides a sync method with an `async def` (Django's
            // AsyncRequestFactory.get over RequestFactory.get) calls each on its own type:
            // their colours are not tied, and tying them would make the sync one async
            // under every sync caller.
            if let Some(base) = p.super_method(c, name)
                && p.func(me).is_async == p.func(base).is_async
            {
                union(&mut uf, me, base);
            }
        }
        // A context manager's two halves change colour together.
        if let (Some(&a), Some(&b)) = (
            class.methods.get("__enter__"),
            class.methods.get("__exit__"),
        ) {
            union(
                &mut uf,
                FuncId {
                    module: c.module,
                    func: a as u32,
                },
                FuncId {
                    module: c.module,
                    func: b as u32,
                },
            );
        }
    }
    let keys: Vec<FuncId> = p.func_ids().collect();
    keys.into_iter().map(|f| (f, find(&mut uf, f))).collect()
}

pub fn colour(
    p: &Project,
    cat: &Catalog,
    facts: &[ModuleFacts],
    scope: &Scope,
    extra_pins: &[(FuncId, &'static str, Pin)],
) -> Colouring {
    // The soundness check's reverts and the mocked functions (run.rs) join the pins from code
    // outside the project.
    let mut extra: Vec<(FuncId, &'static str, Pin)> = extra_pins.to_vec();
    extra.extend(crate::external::pins(p, cat));
    let decorators = crate::wrappers::Decorators::new(p, cat, facts);
    // Only functions that would become async but for pins can be worth a callback group.
    let first = solve(&Inputs {
        p,
        cat,
        facts,
        scope,
        extra: &extra,
        decorators: &decorators,
        callbacks: &Default::default(),
    });
    let callbacks =
        crate::callbacks::Callbacks::new(p, facts, &first.would_be_async(), &decorators);
    // Without callback groups the first colouring is the one a second solve would give.
    let mut reuse = callbacks.groups.is_empty().then_some(first);
    // Each round adds pins or stops, so this ends; one or two rounds in practice. (A pin
    // can be without effect: a family with an `async def` member is async anyway.)
    loop {
        let mut out = match reuse.take() {
            Some(first) => first,
            None => solve(&Inputs {
                p,
                cat,
                facts,
                scope,
                extra: &extra,
                decorators: &decorators,
                callbacks: &callbacks,
            }),
        };
        let mut more = decorators.pins(p, &out, scope);
        more.retain(|(f, ..)| !extra.iter().any(|(g, ..)| g == f));
        if more.is_empty() {
            decorators.wrap(p, &mut out);
            callbacks.finish(p, &mut out);
            return out;
        }
        extra.extend(more);
    }
}

/// What one colouring reads: the project and its facts, with `extra` pins (function,
/// diagnostic code, pin) on top of those found in the facts, the decorators that wrap and
/// the callback groups. [`solve`] and the [`Graph`] it builds take the same.
struct Inputs<'a> {
    p: &'a Project,
    cat: &'a Catalog,
    facts: &'a [ModuleFacts],
    scope: &'a Scope,
    extra: &'a [(FuncId, &'static str, Pin)],
    decorators: &'a crate::wrappers::Decorators,
    callbacks: &'a crate::callbacks::Callbacks,
}

/// One colouring of `inputs`.
fn solve(inputs: &Inputs) -> Colouring {
    let Inputs {
        p,
        cat,
        scope,
        callbacks,
        ..
    } = *inputs;
    let mut family = families(p);
    // Functions passed to one callback parameter change colour together, as overrides do.
    callbacks.tie(&mut family);
    let fam = |f: FuncId| family.get(&f).copied().unwrap_or(f);
    let members = Multimap::new(p.func_ids().map(|f| (fam(f), f)).collect());
    let mut graph = Graph::build(inputs);
    let (mut out, async_fams) = fixed_point(p, scope, &mut graph, &fam);
    for &fam_rep in &async_fams {
        for f in members.get(fam_rep) {
            out.async_funcs.insert(f);
            if !p.func(f).is_async {
                out.coloured.insert(f);
            }
        }
    }
    out.test_bases = test_case_bases(p, cat, &out);
    reasons(&mut out, graph, &async_fams, &members, callbacks, &fam);
    out.family = family;
    out
}

/// The function `f` of module `m`.
fn fid(m: usize, f: usize) -> FuncId {
    FuncId {
        module: m as u32,
        func: f as u32,
    }
}

/// The call graph one colouring solves, gathered from the facts: the seeds, the edges
/// between functions and the pins.
#[derive(Default)]
struct Graph {
    seeds: Vec<(FuncId, Why)>,
    /// Edges caller -> callee, with the module and line of the call.
    edges: Vec<(FuncId, FuncId, u32, u32)>,
    pins: Pins,
    /// `--only`: calls in the `__main__` block of a module outside it, `(callee, module, line)`.
    main_calls: Vec<(FuncId, usize, usize)>,
    /// Functions a thread or a pool runs (`Thread(target=f)`, `pool.submit(f)`).
    thread_roots: Vec<(FuncId, usize, usize)>,
    /// The uses of thread identity, `(user, api, module, line)`; no user: module level.
    identity: Vec<(Option<FuncId>, String, usize, usize)>,
    /// The thread roots' edges: a sync function there runs in `asyncio.to_thread`, off the
    /// event loop.
    thread_edges: HashSet<(FuncId, FuncId, u32, u32)>,
}

impl Graph {
    /// Seeds `f`: it makes `what`, which catalog rule `rule` rewrites to await, at `line` of
    /// its module.
    fn seed(&mut self, cat: &Catalog, rule: RuleId, f: FuncId, what: String, line: usize) {
        let why = Why::Seed {
            rule: cat.rule(rule).id.clone(),
            what,
            module: f.module as usize,
            line,
        };
        self.seeds.push((f, why));
    }

    /// The graph of the whole project, with `extra` pins after the definitions' own.
    fn build(inputs: &Inputs) -> Graph {
        let Inputs {
            p,
            cat,
            facts,
            scope,
            extra,
            decorators,
            callbacks,
        } = *inputs;
        let by_name = methods_by_name(p);
        let module_value = facts.iter().enumerate().find_map(|(m, mf)| {
            mf.module_values
                .first()
                .map(|v| format!("{}:{}", p.modules[m].display, v.line))
        });
        let mut graph = Graph::default();
        graph.definitions(p, scope);
        for (f, code, pin) in extra {
            graph.pins.add_coded(*f, code, || pin.clone());
        }
        for (m, mf) in facts.iter().enumerate() {
            graph.calls(p, cat, scope, m, mf);
            graph.refs(p, m, mf, decorators, callbacks);
            unknown_receivers(p, m, mf, &by_name, module_value.as_deref(), &mut graph.pins);
            graph.iterations(p, cat, m, mf);
            graph.withs(p, cat, m, mf);
        }
        dynamic_attrs(p, facts, &mut graph.pins);
        graph.edges.extend(callbacks.edges());
        graph
    }

    /// The seeds and pins a definition makes itself: `async def`, a redefinition, a sync
    /// decorator, a dunder Python calls, an xunit hook, `--keep` and `--only`.
    fn definitions(&mut self, p: &Project, scope: &Scope) {
        let redefined = redefined(p);
        for f in p.func_ids() {
            let def = p.func(f);
            if def.is_async {
                self.seeds.push((f, Why::Existing));
            }
            if redefined.contains(&f) {
                self.pins.add(f, || Pin {
                    reason: format!(
                        "`{}` is defined more than once in its scope (or also bound otherwise), so awaitify cannot tell which definition a call reaches",
                        def.name
                    ),
                    module: f.module as usize,
                    line: def.first_line,
                });
            }
            let pin = |reason: String| Pin {
                reason,
                module: f.module as usize,
                line: def.first_line,
            };
            if let Some((_, why)) = SYNC_DECORATORS
                .iter()
                .find(|(d, _)| def.decorators.iter().any(|x| x == d))
            {
                self.pins.add(f, || pin(format!("`{}` is {why}", def.name)));
            } else if def
                .decorators
                .iter()
                .any(|d| d.ends_with(".setter") || d.ends_with(".deleter"))
            {
                self.pins
                    .add(f, || pin(format!("`{}` is a property setter", def.name)));
            } else if def.is_method()
                && (SYNC_DUNDERS.contains(&def.name.as_str())
                    // `__aiter__` must return its iterator directly, unless it is an async generator.
                    || (def.name == "__iter__" && !def.is_generator))
            {
                self.pins.add(f, || {
                    pin(format!("`{}` is called by Python without await", def.name))
                });
            }
            if let Some(hook) = xunit_hook(p, f) {
                self.pins
                    .add(f, || pin(format!("`{}` is {hook}", def.name)));
            }
            if let Some(how) = scope.kept.get(&f) {
                self.pins
                    .add(f, || pin(format!("`{}` is pinned sync by {how}", def.name)));
            }
            if scope.is_outside(f.module as usize) {
                self.pins.add_coded(f, CALLER_OUTSIDE_SCOPE, || {
                    pin(format!(
                        "`{}` is outside --only, which is not edited",
                        def.name
                    ))
                });
            }
        }
    }

    /// Module `m`'s calls: seeds from the catalog's awaited calls and methods, edges to
    /// project functions, and pins where a call cannot await.
    fn calls(&mut self, p: &Project, cat: &Catalog, scope: &Scope, m: usize, mf: &ModuleFacts) {
        for c in mf.calls.iter().map(PackedCall::unpack) {
            match &c.target {
                Target::Rule(q) => {
                    let entry = cat.call(q).expect("matched calls are in the catalog");
                    if cat.rule(entry.rule).id == "thread-identity" {
                        let user = c.caller.filter(|_| c.ctx == Ctx::Body);
                        self.identity
                            .push((user.map(|f| fid(m, f)), q.clone(), m, c.line));
                    }
                    let awaited = entry.awaited || entry.action == Action::ToThread;
                    if let (Some(f), true, Ctx::Body) =
                        (c.caller, awaited && entry.action != Action::Report, c.ctx)
                    {
                        self.seed(cat, entry.rule, fid(m, f), format!("`{q}`"), c.line);
                    }
                }
                Target::Method { ty, name } => {
                    let entry = cat
                        .method(ty, name)
                        .expect("matched methods are in the catalog");
                    let awaited = entry.awaited || entry.action == Action::ToThread;
                    if let (Some(f), true, Ctx::Body) =
                        (c.caller, awaited && entry.action != Action::Report, c.ctx)
                    {
                        self.seed(
                            cat,
                            entry.rule,
                            fid(m, f),
                            format!("`.{name}()` on a `{ty}`"),
                            c.line,
                        );
                    }
                }
                Target::Func(g) if !p.func(*g).is_generator && !p.func(*g).is_async => {
                    match (c.ctx, c.caller) {
                        (Ctx::Body, Some(f)) => {
                            self.edges.push((fid(m, f), *g, m as u32, c.line as u32))
                        }
                        // The entry-point pass runs it with `asyncio.run`, unless the module
                        // is not edited.
                        (Ctx::Main, _) if scope.is_outside(m) => {
                            if !scope.is_outside(g.module as usize) {
                                self.main_calls.push((*g, m, c.line));
                            }
                            self.pins.add_coded(*g, CALLER_OUTSIDE_SCOPE, || Pin {
                                reason: format!(
                                    "`{}` is called from the __main__ block of {}, which is outside --only",
                                    p.func(*g).name,
                                    p.modules[m].display
                                ),
                                module: m,
                                line: c.line,
                            })
                        }
                        (Ctx::Main, _) => {}
                        (ctx, _) => self.pins.add(*g, || {
                            Pin::in_context("", &p.func(*g).name, "is called from", ctx, m, c.line)
                        }),
                    }
                }
                _ => {}
            }
        }
    }

    /// Module `m`'s functions used as values: a thread's target is an edge, a sound callback
    /// group is left to its own edges, and anything else is pinned.
    fn refs(
        &mut self,
        p: &Project,
        m: usize,
        mf: &ModuleFacts,
        decorators: &crate::wrappers::Decorators,
        callbacks: &crate::callbacks::Callbacks,
    ) {
        for r in &mf.refs {
            if p.func(r.target).is_async || decorators.returns_wrapper(m, r) {
                continue;
            }
            // A callable the rewritten call runs itself (`Thread(target=f)` -> a task of
            // `f(...)`): an ordinary call edge where the caller can await.
            if r.called
                && r.ctx == Ctx::Body
                && let Some(f) = r.caller
                && !p.func(r.target).is_generator
            {
                self.edges
                    .push((fid(m, f), r.target, m as u32, r.line as u32));
                self.thread_edges
                    .insert((fid(m, f), r.target, m as u32, r.line as u32));
                self.thread_roots.push((r.target, m, r.line));
                continue;
            }
            // Passed to a parameter that only calls it: a call edge (below), or a group that
            // stays sync for a reason of its own.
            if let Some(g) = callbacks.group_of(m, r.start) {
                if g.sound() {
                    continue;
                }
                if let Some(reason) = crate::callbacks::Callbacks::blocked_reason(p, g, r.target) {
                    self.pins.add(r.target, || Pin {
                        reason,
                        module: m,
                        line: r.line,
                    });
                    continue;
                }
            }
            let how = match &r.passed_to {
                Some(q) => format!(
                    "`{}` is passed as a value to `{q}`, which calls it without await",
                    p.func(r.target).name
                ),
                None if r.ctx == Ctx::ClassBody => format!(
                    "`{}` is bound to another name in a class body, where awaitify cannot follow its calls",
                    p.func(r.target).name
                ),
                None => format!(
                    "`{}` is used as a value, where awaitify cannot follow its calls",
                    p.func(r.target).name
                ),
            };
            // A thread that stays a thread runs its target off the event loop: the pin is at
            // the target, not in the coroutine that starts the thread.
            let (module, line) = match r.passed_to.as_deref() {
                Some("threading.Thread") => (r.target.module as usize, p.func(r.target).first_line),
                _ => (m, r.line),
            };
            self.pins.add(r.target, || Pin {
                reason: how,
                module,
                line,
            });
        }
    }

    /// Module `m`'s generators that escape, its `for` loops and its consumed generators.
    fn iterations(&mut self, p: &Project, cat: &Catalog, m: usize, mf: &ModuleFacts) {
        for e in &mf.escapes {
            let reason = format!(
                "the generator `{}` is consumed where awaitify cannot follow it",
                p.func(e.generator).name
            );
            self.pins.add(e.generator, || Pin {
                reason,
                module: m,
                line: e.line,
            });
        }
        for fr in &mf.fors {
            let driven = match &fr.kind {
                Kind::Gen(g) => Some(*g),
                Kind::Instance(k) => iteration_method(p, *k),
                _ => None,
            };
            let body_caller = fr.caller.filter(|_| fr.ctx == Ctx::Body);
            match (driven, body_caller, &fr.kind) {
                (Some(g), Some(f), _) => self.edges.push((fid(m, f), g, m as u32, fr.line as u32)),
                (Some(g), None, _) => self.pins.add(g, || {
                    Pin::in_context("", &p.func(g).name, "is iterated in", fr.ctx, m, fr.line)
                }),
                (None, Some(f), Kind::Ext(ty)) => {
                    if let Some((rule, _)) = cat.iterate_use(ty).filter(|(_, u)| u.make_async) {
                        self.seed(
                            cat,
                            *rule,
                            fid(m, f),
                            format!("a loop over a `{ty}`"),
                            fr.line,
                        );
                    }
                }
                _ => {}
            }
        }
        for c in &mf.consumes {
            match (c.ctx, c.caller) {
                (Ctx::Body, Some(f)) => {
                    self.edges
                        .push((fid(m, f), c.generator, m as u32, c.line as u32))
                }
                (ctx, _) => self.pins.add(c.generator, || {
                    let name = &p.func(c.generator).name;
                    Pin::in_context("the generator ", name, "is consumed in", ctx, m, c.line)
                }),
            }
        }
    }

    /// Module `m`'s `with` statements: edges to `__enter__` / `__exit__` and generator
    /// context managers, and seeds from the catalog's async ones.
    fn withs(&mut self, p: &Project, cat: &Catalog, m: usize, mf: &ModuleFacts) {
        for w in &mf.withs {
            match &w.kind {
                Kind::Instance(k) => {
                    for dunder in ["__enter__", "__exit__"] {
                        let Some(g) = p.method(*k, dunder) else {
                            continue;
                        };
                        match (w.ctx, w.caller) {
                            (Ctx::Body, Some(f)) => {
                                self.edges.push((fid(m, f), g, m as u32, w.line as u32))
                            }
                            (ctx, _) => self.pins.add(g, || {
                                let name = &p.class(*k).name;
                                Pin::in_context("", name, WITH_AT, ctx, m, w.line)
                            }),
                        }
                    }
                }
                Kind::Gen(g) => match (w.ctx, w.caller) {
                    (Ctx::Body, Some(f)) => {
                        self.edges.push((fid(m, f), *g, m as u32, w.line as u32))
                    }
                    (ctx, _) => self.pins.add(*g, || {
                        Pin::in_context("", &p.func(*g).name, WITH_AT, ctx, m, w.line)
                    }),
                },
                Kind::Ext(ty) => {
                    if let (Some((rule, _)), Ctx::Body, Some(f)) = (
                        // A `with` the rule's pass rewrites (an SQLite transaction) awaits too.
                        cat.with_use(ty)
                            .filter(|(_, u)| u.make_async || u.action == Some(Action::Pass)),
                        w.ctx,
                        w.caller,
                    ) {
                        self.seed(
                            cat,
                            *rule,
                            fid(m, f),
                            format!("a `with` over a `{ty}`"),
                            w.line,
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

/// The fixed point on families: the pins that matter, everything a pinned function would
/// have to await, and the families that become async (returned with the colouring, whose
/// async functions and reasons are still to fill in).
fn fixed_point(
    p: &Project,
    scope: &Scope,
    graph: &mut Graph,
    fam: &impl Fn(FuncId) -> FuncId,
) -> (Colouring, HashSet<FuncId>) {
    // Candidates: everything a seed would make async, ignoring pins.
    // The largest of colouring's lists: no spare capacity while the two indexes are built.
    graph.edges.shrink_to_fit();
    let edges = &graph.edges;
    let rev = Multimap::new(edges.iter().map(|&(f, g, ..)| (fam(g), fam(f))).collect());
    let fwd = Multimap::new(edges.iter().map(|&(f, g, ..)| (fam(f), fam(g))).collect());
    let thread_bound = thread_identity_pins(
        p,
        fam,
        &fwd,
        &graph.thread_roots,
        &graph.identity,
        &mut graph.pins,
    );
    let seed_fams: Vec<FuncId> = graph.seeds.iter().map(|(f, _)| fam(*f)).collect();
    let candidates = upward(&rev, &seed_fams, &HashSet::default());
    let pre_async: HashSet<FuncId> = p
        .func_ids()
        .filter(|f| p.func(*f).is_async)
        .map(fam)
        .collect();
    let open = |f: FuncId| candidates.contains(&f) && !pre_async.contains(&f);

    // Pins that matter, then everything a pinned function would have to await.
    let mut out = Colouring {
        thread_bound,
        ..Colouring::default()
    };
    let pins = std::mem::take(&mut graph.pins);
    let (mut pinned, mut own) = pins_that_matter(scope, pins, fam, &open, &mut out);
    below(&fwd, &open, &mut pinned, Some(&mut out.pinned_below));
    // What would be async without `--only`: the functions it alone keeps sync are those.
    let unscoped = if scope.outside.is_empty() {
        HashSet::default()
    } else {
        below(&fwd, &open, &mut own, None);
        upward(&rev, &seed_fams, &own)
    };

    let edges = &graph.edges;
    out.pinned_below_at = pin_sites(&out.pinned_below, edges, fam);
    out.outside_callers = outside_callers(scope, &pinned, &unscoped, edges, &graph.main_calls, fam);
    let async_fams = upward(&rev, &seed_fams, &pinned);
    for &(f, g, m, line) in edges {
        if async_fams.contains(&fam(f))
            && pinned.contains(&fam(g))
            && !graph.thread_edges.contains(&(f, g, m, line))
        {
            let at = (f, m as usize, line as usize);
            out.called_from_async.entry(fam(g)).or_insert(at);
        }
    }
    let called: HashSet<FuncId> = edges.iter().map(|e| fam(e.1)).collect();
    out.pinned_uncalled = pinned.difference(&called).copied().collect();
    (out, async_fams)
}

/// The pins on families that could become async (`open`), into `out.pinned`, first pin of a
/// family wins; returns the pinned families, and those pinned by other than `--only`.
fn pins_that_matter(
    scope: &Scope,
    pins: Pins,
    fam: &impl Fn(FuncId) -> FuncId,
    open: &impl Fn(FuncId) -> bool,
    out: &mut Colouring,
) -> (HashSet<FuncId>, HashSet<FuncId>) {
    let mut pinned: HashSet<FuncId> = HashSet::default();
    // The pins `--only` does not make, to tell what it alone keeps sync.
    let mut own: HashSet<FuncId> = HashSet::default();
    for (f, pin) in pins.list {
        let ff = fam(f);
        let matters = open(ff);
        if matters
            && !scope.outside.is_empty()
            && !scope.is_outside(f.module as usize)
            && pins.codes.get(&f) != Some(&CALLER_OUTSIDE_SCOPE)
        {
            own.insert(ff);
        }
        if matters && pinned.insert(ff) {
            if let Some(code) = pins.codes.get(&f) {
                out.pin_codes.insert(f, code);
            }
            out.pinned.insert(f, pin);
        }
    }
    (pinned, own)
}

/// The families that call `start`, directly or not, over `rev` (callee -> callers), with
/// `start`; none through `blocked`.
fn upward(rev: &Multimap, start: &[FuncId], blocked: &HashSet<FuncId>) -> HashSet<FuncId> {
    let mut seen: HashSet<FuncId> = HashSet::default();
    let mut queue: VecDeque<FuncId> = start
        .iter()
        .copied()
        .filter(|f| !blocked.contains(f))
        .collect();
    while let Some(f) = queue.pop_front() {
        if !seen.insert(f) {
            continue;
        }
        for caller in rev.get(f) {
            if !blocked.contains(&caller) && !seen.contains(&caller) {
                queue.push_back(caller);
            }
        }
    }
    seen
}

/// Adds to `start` the `open` families it reaches over `fwd` (caller -> callees), and to
/// `found` the caller each was first reached from.
fn below(
    fwd: &Multimap,
    open: &impl Fn(FuncId) -> bool,
    start: &mut HashSet<FuncId>,
    mut found: Option<&mut BTreeMap<FuncId, FuncId>>,
) {
    // Sorted, so that which caller a message names does not depend on hash order.
    let mut sorted: Vec<FuncId> = start.iter().copied().collect();
    sorted.sort();
    let mut queue: VecDeque<FuncId> = sorted.into();
    while let Some(f) = queue.pop_front() {
        for g in fwd.get(f) {
            if open(g) && start.insert(g) {
                if let Some(found) = found.as_deref_mut() {
                    found.insert(g, f);
                }
                queue.push_back(g);
            }
        }
    }
}

/// Why each async function is async, first found wins: seeds, then edges in call order,
/// then families (or callback groups).
fn reasons(
    out: &mut Colouring,
    graph: Graph,
    async_fams: &HashSet<FuncId>,
    members: &Multimap,
    callbacks: &crate::callbacks::Callbacks,
    fam: &impl Fn(FuncId) -> FuncId,
) {
    for (f, why) in graph.seeds {
        if async_fams.contains(&fam(f)) {
            out.why.entry(f).or_insert(why);
        }
    }
    for &(f, g, m, line) in &graph.edges {
        if out.async_funcs.contains(&f) && out.async_funcs.contains(&g) {
            out.why.entry(f).or_insert(Why::Calls {
                callee: g,
                module: m as usize,
                line: line as usize,
            });
        }
    }
    for f in out.async_funcs.clone() {
        if !out.why.contains_key(&f)
            && let Some(member) = members.get(fam(f)).find(|m| out.why.contains_key(m))
        {
            let why = match callbacks.partner(f) {
                Some(owner) => Why::Callback { member, owner },
                None => Why::Family { member },
            };
            out.why.insert(f, why);
        }
    }
}

/// Pairs looked up by their first function: sorted by it, stably (a key's values keep their
/// order), so one allocation where a map of vectors costs one per key.
/// Code that ran in a thread and depends on thread identity keeps running in a thread: as a
/// task it would run on the event loop's thread, where `get_ident()` / `current_thread()`
/// name one thread for every task and a `threading.local()` is one namespace for all of
/// them. Everything a thread's function reaches stays sync when that code uses identity, or
/// when the project makes a `threading.local()` anywhere (its uses are attribute reads
/// awaitify does not trace).
fn thread_identity_pins(
    p: &Project,
    fam: &impl Fn(FuncId) -> FuncId,
    fwd: &Multimap,
    roots: &[(FuncId, usize, usize)],
    identity: &[(Option<FuncId>, String, usize, usize)],
    pins: &mut Pins,
) -> HashSet<FuncId> {
    let mut bound = HashSet::default();
    if identity.is_empty() {
        return bound;
    }
    let local = identity.iter().find(|(_, q, ..)| q == "threading.local");
    for &(root, m, line) in roots {
        let mut reach: HashSet<FuncId> = HashSet::default();
        let mut queue = vec![fam(root)];
        while let Some(f) = queue.pop() {
            if reach.insert(f) {
                queue.extend(fwd.get(f).filter(|g| !reach.contains(g)));
            }
        }
        let used = identity
            .iter()
            .find(|(user, ..)| user.is_some_and(|u| reach.contains(&fam(u))))
            .or(local);
        let Some((_, api, um, uline)) = used else {
            continue;
        };
        bound.insert(root);
        let mut funcs: Vec<FuncId> = reach.into_iter().collect();
        funcs.sort();
        for f in funcs {
            pins.add(f, || Pin {
                reason: format!(
                    "`{}` runs in the thread started at {}:{line}, whose code depends on thread identity (`{api}` at {}:{uline}): as a task it would run on the event loop's thread",
                    p.func(f).name,
                    p.modules[m].display,
                    p.modules[*um].display,
                ),
                // At the identity use: the thread's start is in a coroutine, which does not
                // call these (they run in `asyncio.to_thread`).
                module: *um,
                line: *uline,
            });
        }
    }
    bound
}

struct Multimap(Vec<(FuncId, FuncId)>);

impl Multimap {
    fn new(mut pairs: Vec<(FuncId, FuncId)>) -> Multimap {
        pairs.sort_by_key(|&(k, _)| k);
        Multimap(pairs)
    }

    fn get(&self, k: FuncId) -> impl Iterator<Item = FuncId> + '_ {
        let at = self.0.partition_point(|&(x, _)| x < k);
        self.0[at..]
            .iter()
            .take_while(move |&&(x, _)| x == k)
            .map(|&(_, v)| v)
    }
}

/// Why functions must stay sync, in the order found. Only a function's first pin can be the
/// one reported, so later ones are not even formatted (a project calls some functions from
/// module level thousands of times).
#[derive(Default)]
struct Pins {
    list: Vec<(FuncId, Pin)>,
    seen: HashSet<FuncId>,
    /// The diagnostic code of a pin that is not a `sync-boundary`.
    codes: HashMap<FuncId, &'static str>,
}

impl Pins {
    fn add(&mut self, f: FuncId, pin: impl FnOnce() -> Pin) {
        if self.seen.insert(f) {
            self.list.push((f, pin()));
        }
    }

    /// Pins `f` for a use at `line` of module `m`: `reason` gets where (`path:line`) and
    /// the qualified name of `f`.
    fn add_at(
        &mut self,
        p: &Project,
        f: FuncId,
        (m, line): (usize, usize),
        reason: impl FnOnce(String, &str) -> String,
    ) {
        self.add(f, || Pin {
            reason: reason(
                format!("{}:{line}", p.modules[m].display),
                &p.func(f).qualname,
            ),
            module: m,
            line,
        });
    }

    fn add_coded(&mut self, f: FuncId, code: &'static str, pin: impl FnOnce() -> Pin) {
        if !self.seen.contains(&f) {
            self.codes.insert(f, code);
        }
        self.add(f, pin);
    }
}

/// The method a `for` over an instance of `k` drives: `__next__`, or a generator `__iter__`.
pub fn iteration_method(p: &Project, k: crate::project::ClassId) -> Option<FuncId> {
    p.method(k, "__next__")
        .or_else(|| p.method(k, "__iter__").filter(|f| p.func(*f).is_generator))
}

/// Every project method, by name.
fn methods_by_name(p: &Project) -> HashMap<&str, Vec<FuncId>> {
    let mut out: HashMap<&str, Vec<FuncId>> = HashMap::default();
    for f in p.func_ids().filter(|f| p.func(*f).is_method()) {
        out.entry(p.func(f).name.as_str()).or_default().push(f);
    }
    out
}

/// `x.name()` where the type of `x` is unknown may call any project method called `name`
/// (and `with x:` any `__enter__`, `for a in x:` any `__next__`): the call cannot be
/// awaited for some and not others, so all of them stay sync. The first call site found
/// per name is the one reported. Once a project module is used as a value somewhere
/// (`module_value`, where), `x` may be a module: then module-level functions called `name`
/// stay sync too.
fn unknown_receivers(
    p: &Project,
    m: usize,
    mf: &ModuleFacts,
    by_name: &HashMap<&str, Vec<FuncId>>,
    module_value: Option<&str>,
    pins: &mut Pins,
) {
    let mut done: HashSet<(&str, Option<ClassId>)> = HashSet::default();
    for u in &mf.unresolved {
        if !done.insert((u.name.as_str(), u.within)) {
            continue;
        }
        // On an instance of a class without the method: only its subclasses' can be reached.
        let reachable = |f: &FuncId| {
            u.within.is_none_or(|c| {
                let k = p.func(*f).class.map(|k| ClassId {
                    module: f.module,
                    class: k as u32,
                });
                k.is_some_and(|k| p.mro(k).contains(&c))
            })
        };
        let how = match u.name.as_str() {
            "__enter__" | "__exit__" => "a `with` enters a value".to_string(),
            "__iter__" | "__next__" => {
                "a loop or a consumer (`list`, `sum`...) iterates a value".to_string()
            }
            "__call__" => "a call calls a value".to_string(),
            name => format!("`.{name}()` is called on a value"),
        };
        let of = match u.within {
            Some(c) => format!("of a subclass of `{}`", p.class(c).name),
            None => "of unknown type".to_string(),
        };
        let methods = by_name
            .get(u.name.as_str())
            .into_iter()
            .flatten()
            .filter(|f| reachable(f))
            .map(|&f| (f, String::new()));
        // `x` may also be a module when one is used as a value somewhere.
        let module = module_value.filter(|_| u.within.is_none() && !u.name.starts_with("__"));
        let functions = module.into_iter().flat_map(|at| {
            p.top_level_named(&u.name).iter().map(move |&f| {
                let note = format!("may be a project module (one is used as a value at {at}): it ");
                (f, note)
            })
        });
        for (f, note) in methods.chain(functions) {
            pins.add_at(p, f, (m, u.line), |at, name| {
                format!("{how} {of} at {at}, which {note}may reach `{name}` without await")
            });
        }
    }
}

/// `--only`: the calls from modules outside it that keep a function inside it sync (one
/// that is async in `unscoped`, the colouring without the pins `--only` makes).
fn outside_callers(
    scope: &Scope,
    pinned: &HashSet<FuncId>,
    unscoped: &HashSet<FuncId>,
    edges: &[(FuncId, FuncId, u32, u32)],
    main_calls: &[(FuncId, usize, usize)],
    fam: impl Fn(FuncId) -> FuncId,
) -> Vec<(Option<FuncId>, FuncId, usize, usize)> {
    if scope.outside.is_empty() {
        return Vec::new();
    }
    let outside = |f: FuncId| scope.is_outside(f.module as usize);
    let kept = |g: FuncId| !outside(g) && pinned.contains(&fam(g)) && unscoped.contains(&fam(g));
    let mut found: Vec<(Option<FuncId>, FuncId, usize, usize)> = edges
        .iter()
        .filter(|&&(f, g, ..)| outside(f) && kept(g))
        .map(|&(f, g, m, line)| (Some(f), g, m as usize, line as usize))
        .chain(
            main_calls
                .iter()
                .filter(|&&(g, ..)| kept(g))
                .map(|&(g, m, line)| (None, g, m, line)),
        )
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The first call from each pinned caller to the function it keeps sync, for the report.
fn pin_sites(
    below: &BTreeMap<FuncId, FuncId>,
    edges: &[(FuncId, FuncId, u32, u32)],
    fam: impl Fn(FuncId) -> FuncId,
) -> BTreeMap<FuncId, (usize, usize)> {
    let mut out = BTreeMap::new();
    if below.is_empty() {
        return out;
    }
    for &(f, g, m, line) in edges {
        let g = fam(g);
        if below.get(&g) == Some(&fam(f)) {
            out.entry(g).or_insert((m as usize, line as usize));
        }
    }
    out
}

/// Set-up and tear-down hooks a test runner calls without await, even with pytest-asyncio:
/// pytest's xunit hooks in test modules, and unittest's module hooks.
fn xunit_hook(p: &Project, f: FuncId) -> Option<&'static str> {
    const METHODS: &[&str] = &[
        "setup_method",
        "teardown_method",
        "setup_class",
        "teardown_class",
        "setup",
        "teardown",
    ];
    const FUNCTIONS: &[&str] = &[
        "setup_module",
        "teardown_module",
        "setup_function",
        "teardown_function",
        "setup",
        "teardown",
    ];
    let def = p.func(f);
    let name = def.name.as_str();
    if def.parent.is_some() {
        return None;
    }
    if !def.is_method() && matches!(name, "setUpModule" | "tearDownModule") {
        return Some("a unittest module hook, which unittest calls without await");
    }
    // `pytest_configure`, `pytest_collection_modifyitems`... in a conftest.
    if !def.is_method() && name.starts_with("pytest_") && p.modules[f.module as usize].is_test {
        return Some("a pytest hook, which pytest calls without await");
    }
    let listed = if def.is_method() { METHODS } else { FUNCTIONS };
    (p.modules[f.module as usize].is_test && listed.contains(&name))
        .then_some("a pytest xunit hook, which pytest calls without await")
}

/// The classes whose `unittest.TestCase` base converts: for every class with a method made
/// async whose bases lead to `TestCase`, each class on the way that names `TestCase` itself
/// (`class T(MyBase)`, `class MyBase(unittest.TestCase)`: `MyBase` converts, or `T`'s async
/// tests would never be awaited).
fn test_case_bases(p: &Project, cat: &Catalog, out: &Colouring) -> HashSet<ClassId> {
    let names_test_case = |k: ClassId| {
        p.class(k).bases.iter().any(|b| {
            matches!(p.resolve_in_module(k.module as usize, b),
                crate::project::Sym::External(q) if cat.names().core.is_test_case(&q))
        })
    };
    let mut classes: Vec<ClassId> = out
        .coloured
        .iter()
        .filter_map(|f| {
            let class = p.func(*f).class?;
            Some(ClassId {
                module: f.module,
                class: class as u32,
            })
        })
        .collect();
    classes.sort();
    classes.dedup();
    classes
        .into_iter()
        .flat_map(|c| p.mro(c).iter().copied().filter(|&k| names_test_case(k)))
        .collect()
}

/// `getattr(obj, name)` returns a function awaitify cannot follow: every function the name
/// may pick stays sync. A known name picks that one; `"_load_" + kind` any starting with
/// `_load_`; a name not known at all any method of the object's class (and its subclasses),
/// any function of the module, or, on an object of unknown type, any method or module-level
/// function of the project. Each distinct pattern is matched once.
fn dynamic_attrs(p: &Project, facts: &[ModuleFacts], pins: &mut Pins) {
    let mut done: HashSet<(&DynName, &DynOn)> = HashSet::default();
    // A read of one name looks at the functions of that name only: a large project has
    // thousands of such reads and tens of thousands of functions.
    let mut by_name: HashMap<&str, Vec<FuncId>> = HashMap::default();
    for f in p.func_ids() {
        by_name.entry(p.func(f).name.as_str()).or_default().push(f);
    }
    let all: Vec<FuncId> = p.func_ids().collect();
    for (m, mf) in facts.iter().enumerate() {
        for d in &mf.dyn_attrs {
            // An exact proxy's reads resolve through it (`proxy.m()` is a call of `T.m`),
            // unless its `__getattr__` is also called by name.
            if let Some((g, _, true)) = &d.proxy
                && !facts.iter().any(|mf| {
                    mf.refs.iter().any(|r| r.target == *g)
                        || mf.calls.iter().any(|c| c.func() == Some(*g))
                })
            {
                continue;
            }
            if !done.insert((&d.name, &d.on)) {
                continue;
            }
            let bound = match d.on {
                DynOn::FirstParam(g) => binding_classes(facts, g),
                _ => None,
            };
            let literals = match d.name {
                DynName::Param(g, i) => param_literals(p, facts, g, i),
                _ => None,
            };
            let named = |f: FuncId| {
                let n = p.func(f).name.as_str();
                match &d.name {
                    DynName::Exact(x) => n == x.as_str(),
                    DynName::Prefix(x) => n.starts_with(x.as_str()),
                    DynName::Param(..) => literals
                        .as_ref()
                        .is_none_or(|ls| ls.iter().any(|l| l.as_str() == n)),
                    DynName::Any => true,
                }
            };
            let on = |f: FuncId| {
                let def = p.func(f);
                let class = def.class.map(|k| ClassId {
                    module: f.module,
                    class: k as u32,
                });
                match (&d.on, class) {
                    (DynOn::Class(c), Some(k)) => p.mro(k).contains(c) || p.mro(*c).contains(&k),
                    (DynOn::Module(mi), None) => f.module as usize == *mi && def.parent.is_none(),
                    (DynOn::AnyModule, None) => def.parent.is_none(),
                    (DynOn::FirstParam(_), Some(k)) if let Some(cs) = &bound => cs
                        .iter()
                        .any(|c| p.mro(k).contains(c) || p.mro(*c).contains(&k)),
                    (DynOn::Unknown | DynOn::FirstParam(_), _) => {
                        bound.is_none() && def.parent.is_none()
                    }
                    _ => false,
                }
            };
            let what = match &d.name {
                DynName::Exact(x) => format!("`{x}`"),
                DynName::Prefix(x) => format!("a name starting with `{x}`"),
                DynName::Param(g, i) => match &literals {
                    Some(ls) => format!(
                        "the `{}` its calls pass to `{}` ({})",
                        p.func(*g).params[*i].name,
                        p.func(*g).name,
                        ls.iter()
                            .map(|l| format!("`{l}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None => "a name awaitify cannot know".to_string(),
                },
                DynName::Any => "a name awaitify cannot know".to_string(),
            };
            let candidates: Vec<FuncId> = match (&d.name, &literals) {
                (DynName::Exact(x), _) => by_name.get(x.as_str()).cloned().unwrap_or_default(),
                (DynName::Param(..), Some(ls)) => ls
                    .iter()
                    .flat_map(|l| by_name.get(l.as_str()).into_iter().flatten().copied())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                _ => all.clone(),
            };
            for f in candidates.into_iter().filter(|&f| named(f) && on(f)) {
                pins.add_at(p, f, (m, d.line), |at, name| match &d.proxy {
                    Some((g, attr, false)) => format!(
                        "`{}` at {at} reads any name of `self.{attr}` and returns it wrapped (not a plain `return getattr(self.{attr}, name)`), so a call through the proxy may not await `{name}`",
                        p.func(*g).qualname
                    ),
                    _ => format!(
                        "`{}` at {at} reads {what}, and may return `{name}` to code that calls it without await",
                        d.via
                    ),
                });
            }
        }
    }
}

/// The string literals every call of private function `g` passes to its parameter `i`:
/// `None` when some call passes something else (or nothing), or `g` is used as a value or
/// may be called on a receiver of unknown type.
pub(crate) fn param_literals(
    p: &Project,
    facts: &[ModuleFacts],
    g: FuncId,
    i: usize,
) -> Option<Vec<crate::index::Name>> {
    let name = &p.func(g).name;
    let mut values = Vec::new();
    for mf in facts {
        if mf.refs.iter().any(|r| r.target == g) || mf.unresolved.iter().any(|u| u.name == *name) {
            return None;
        }
        let passed: HashMap<usize, &crate::index::Name> = mf
            .arg_literals
            .iter()
            .filter(|((f, k), _)| *f == g && *k == i)
            .map(|(_, (start, v))| (*start, v))
            .collect();
        for c in mf.calls.iter().filter(|c| c.func() == Some(g)) {
            values.push((*passed.get(&c.start())?).clone());
        }
    }
    values.sort();
    values.dedup();
    Some(values)
}

/// The classes that bind `g` in their body (`__getstate__ = g`), when that is all the
/// project does with it: its first parameter is then an instance of one of them (or of a
/// subclass). `None` when `g` is also called or used otherwise.
pub(crate) fn binding_classes(facts: &[ModuleFacts], g: FuncId) -> Option<Vec<ClassId>> {
    let mut classes = Vec::new();
    for mf in facts {
        if mf.calls.iter().any(|c| c.func() == Some(g)) {
            return None;
        }
        for r in mf.refs.iter().filter(|r| r.target == g) {
            classes.push(r.bound_in?);
        }
    }
    (!classes.is_empty()).then_some(classes)
}

/// Functions whose name their scope binds more than once (`if ...: def f() else: def f()`,
/// a `try` with a fallback `def`, a later assignment): a name is resolved to one binding or
/// none, so a call may reach a definition awaitify did not follow.
/// `@typing.overload` stubs followed by the one implementation (`defs` in source order):
/// the stubs exist for type checkers, the last definition is what every call reaches.
fn overloads_then_one(p: &Project, defs: &[usize], id: impl Fn(usize) -> FuncId) -> bool {
    let is_overload = |i: usize| {
        let f = id(i);
        p.func(f).decorators.iter().any(|d| {
            crate::external::qualified_name(p, f.module as usize, d)
                .is_some_and(|q| q == "typing.overload" || q == "typing_extensions.overload")
        })
    };
    let Some((&last, stubs)) = defs.split_last() else {
        return false;
    };
    !is_overload(last) && stubs.iter().all(|&i| is_overload(i))
}

fn redefined(p: &Project) -> HashSet<FuncId> {
    let mut out = HashSet::default();
    for (m, module) in p.modules.iter().enumerate() {
        let ix = &module.index;
        // By scope: (class, enclosing function, name).
        type Scope<'a> = (Option<usize>, Option<usize>, &'a str);
        let mut seen: HashMap<Scope, Vec<usize>> = HashMap::default();
        for (i, def) in ix.functions.iter().enumerate() {
            seen.entry((def.class, def.parent, def.name.as_str()))
                .or_default()
                .push(i);
        }
        for ((class, parent, name), defs) in seen {
            let module_level = class.is_none() && parent.is_none();
            let rebound = module_level && ix.binding(name).is_none();
            let id = |i: usize| FuncId {
                module: m as u32,
                func: i as u32,
            };
            if defs.len() > 1 && !rebound && overloads_then_one(p, &defs, id) {
                // The `@overload` stubs stay pinned; the implementation is the binding.
                out.extend(defs[..defs.len() - 1].iter().map(|&i| id(i)));
            } else if defs.len() > 1 || rebound {
                out.extend(defs.into_iter().map(id));
            }
        }
    }
    out
}
