//! Rewrite: one pass per file in this folder, each turning the colouring and the matched
//! facts into byte-range [`Edit`]s. No pass touches text; `rewrite_module` applies all edits
//! once, and `verify` re-parses the result.

use crate::colour::Colouring;
use crate::edit::{Edit, Origin, Reindent};
use crate::matcher::{CallFact, Ctx, Knowledge, ModuleFacts, PackedCall, Target, WithFact};
use crate::project::{FuncId, Module, Project};
use crate::report::Diagnostic;
use crate::rules::{Action, Catalog};
use claims::Claims;
use std::collections::BTreeSet;
use tree_sitter::Node;

pub mod args;
pub mod async_def;
pub mod awaits;
pub mod blocking_in_coroutine;
pub mod cancellation;
pub mod catalog;
pub mod claims;
pub mod entry_point;
pub mod files;
pub mod imports;
pub mod loops;
pub mod never_awaited;
pub mod pytest;
pub mod sockets;
pub mod sync_callback;
pub mod threads;
pub mod unbounded_queue;
pub mod withs;

#[macro_use]
mod registry;
pub use registry::{family, family_with};

family_passes! {
    Subprocess = "subprocess" in subprocess { call: subprocess::rewrite }
    Requests = "requests" in requests { call: requests::rewrite_call }
    /// Runs over the whole module in its own phase (see `PHASES`).
    Threads = "threads" { call: |_, _, _, _| true }
    /// Runs over the whole module in its own phase (see `PHASES`).
    Sockets = "sockets" { call: |_, _, _, _| true }
    JsonIo = "json-io" { call: |cx, c, _, out| files::call(cx, c, out) }
    Files = "files" { call: |cx, c, _, out| files::call(cx, c, out) }
    /// A `with` pass: its calls are handled by the `with`.
    Sqlite = "sqlite" in sqlite { call: |_, _, _, _| false, with: sqlite::with_transaction }
    DanglingTask = "dangling-task" in dangling_task { call: |cx, c, _, out| dangling_task::rewrite(cx, c, out) }
    LoopApi = "loop-api" in loop_api { call: |cx, c, _, out| loop_api::rewrite(cx, c, out) }
    NeverAwaited = "never-awaited" { call: |cx, c, _, out| never_awaited::rewrite(cx, c, out) }
    Redis = "redis" in redis { call: redis::rewrite, names: redis::Names }
}

/// Everything a pass may read about one module.
pub struct PassCx<'a> {
    pub p: &'a Project,
    pub cat: &'a Catalog,
    pub colour: &'a Colouring,
    pub facts: &'a ModuleFacts,
    /// The module's calls, unpacked from `facts.calls`.
    pub calls: &'a [CallFact],
    pub knowledge: &'a Knowledge,
    pub m: usize,
    /// The module's tree-sitter tree, parsed again for the rewrite.
    pub tree: &'a tree_sitter::Tree,
    /// The Python version the output must run on.
    pub target: crate::target::PyVersion,
    /// Who owns which call sites, `with`s and names: made by [`run_all`] before any pass
    /// runs (empty until then).
    pub claims: &'a Claims,
}

/// What the passes produce for one module.
#[derive(Default)]
pub struct PassOut {
    pub edits: Vec<Edit>,
    /// Regions wrapped in a new block, inner ones first: the edit layer indents them, with
    /// every edit inside, once all passes have run.
    pub reindents: Vec<Reindent>,
    /// Modules the new code needs imported (`asyncio`, `httpx`, `aiofiles.os`).
    pub imports: BTreeSet<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// Call sites turned into awaits or async equivalents.
    pub rewritten: usize,
    /// Packages the rewritten code depends on.
    pub packages: BTreeSet<String>,
    /// Objects that must stay as they are, with the diagnostic that says why: the driver
    /// matches and colours again without their conversion, and writes nothing of this round.
    pub keep: Vec<Keep>,
}

/// Which objects a [`Keep`] keeps.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kept {
    /// The object made by the `object = true` call starting at this offset of the module.
    Creation(usize),
    /// Every object of this catalog type, in the whole project: a use that cannot convert
    /// and cannot be traced back to its creation.
    Type(String),
    /// The objects of this type that this project function makes (and returns).
    InFunc(FuncId, String),
    /// The objects of this type that a local of this function gets from project calls.
    Local(FuncId, String),
    /// The objects of this type passed as this parameter, wherever they are made.
    Param(FuncId, usize, String),
    /// The objects of this type stored in this attribute of a class's instances.
    Attr(crate::project::ClassId, String, String),
}

/// A family's decision to leave an object unconverted, made before anything is written.
#[derive(Debug, Clone)]
pub struct Keep {
    pub what: Kept,
    /// Reported once the object is kept; a note (`stays sync by design`).
    pub diagnostic: Diagnostic,
}

impl<'a> PassCx<'a> {
    pub fn module(&self) -> &'a Module {
        &self.p.modules[self.m]
    }

    pub fn src(&self) -> &'a str {
        &self.module().source.text
    }

    pub fn root(&self) -> Node<'a> {
        self.tree.root_node()
    }

    pub fn fid(&self, f: usize) -> FuncId {
        FuncId {
            module: self.m as u32,
            func: f as u32,
        }
    }

    /// The smallest node exactly covering `start..end`.
    pub fn node(&self, start: usize, end: usize) -> Option<Node<'a>> {
        let mut n = self.root().descendant_for_byte_range(start, end)?;
        while n.start_byte() != start || n.end_byte() != end {
            n = n.parent()?;
        }
        Some(n)
    }

    /// The qualified name `node` stands for when read in function `scope`
    /// ([`crate::matcher::qualified_name`]): how a pass tells which API a written name is,
    /// so an alias (`import contextlib as cl`) resolves and a local of the same name does not.
    pub fn qualified(&self, scope: Option<usize>, node: Node) -> Option<String> {
        crate::matcher::qualified_name(&self.module().index, scope, node, self.src())
    }

    /// The callee of the first decorator of `def` (without `@` and call arguments) that
    /// resolves to `qualified`, read where the decorator runs: the scope around the `def`.
    pub fn decorator(&self, def: &crate::index::FuncDef, qualified: &str) -> Option<Node<'a>> {
        let decorated = self
            .node(def.start, def.end)?
            .parent()
            .filter(|p| p.kind() == "decorated_definition")?;
        let mut cursor = decorated.walk();
        for d in decorated.named_children(&mut cursor) {
            let Some(e) = d.named_child(0).filter(|_| d.kind() == "decorator") else {
                continue;
            };
            let callee = match e.kind() {
                "call" => e.child_by_field_name("function").unwrap_or(e),
                _ => e,
            };
            if self.qualified(def.parent, callee).as_deref() == Some(qualified) {
                return Some(callee);
            }
        }
        None
    }

    /// Whether a decorator of project function `f` (of any module) resolves to one of
    /// `qualified`, read where the decorator runs: the scope around the `def`.
    pub fn decorated_with(&self, f: FuncId, qualified: &[String]) -> bool {
        let (ix, def) = (&self.p.modules[f.module as usize].index, self.p.func(f));
        def.decorators.iter().any(|d| {
            crate::matcher::qualified_text(ix, def.parent, d)
                .is_some_and(|q| qualified.contains(&q))
        })
    }

    /// This module and its calls, for deciding which objects stay as they are.
    pub fn keeper(&self) -> catalog::Keeper<'a> {
        catalog::Keeper {
            p: self.p,
            cat: self.cat,
            m: self.m,
            calls: self.calls,
        }
    }

    /// Whether code in `caller` at `ctx` runs inside a coroutine after the migration.
    pub fn can_await(&self, caller: Option<usize>, ctx: Ctx) -> bool {
        ctx == Ctx::Body && caller.is_some_and(|f| self.colour.async_funcs.contains(&self.fid(f)))
    }

    /// Whether this call is an `await` in the output (whether or not it already was).
    pub fn call_is_awaited(&self, c: &CallFact) -> bool {
        if !self.can_await(c.caller, c.ctx) || self.entered_by_async_with(c) {
            return false;
        }
        match &c.target {
            Target::Func(g) => {
                let def = self.p.func(*g);
                !def.is_generator
                    && self.colour.async_funcs.contains(g)
                    && (self.colour.coloured.contains(g) || c.statement || c.awaited)
            }
            Target::Rule(q) => self.cat.call(q).is_some_and(|e| {
                e.action != Action::Report && (e.awaited || e.action == Action::ToThread)
            }),
            Target::Method { ty, name } => self.cat.method(ty, name).is_some_and(|e| {
                e.action != Action::Report && (e.awaited || e.action == Action::ToThread)
            }),
            Target::Class(_) => false,
        }
    }

    /// Whether this `with` item is an `async with` in the output.
    pub fn with_is_async(&self, w: &WithFact) -> bool {
        w.already_async || (self.can_await(w.caller, w.ctx) && withs::is_async(self, &w.kind))
    }

    /// `async with aiofiles.open(p) as f:` enters the call's result, it does not await it.
    pub fn entered_by_async_with(&self, c: &CallFact) -> bool {
        self.facts
            .withs
            .iter()
            .any(|w| w.expr == (c.start, c.end) && self.with_is_async(w))
    }

    pub fn line_indent(&self, offset: usize) -> &'a str {
        let src = self.src();
        let line_start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
        let rest = &src[line_start..];
        let n = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        &rest[..n]
    }

    /// Keeps the object made by the creation call `c`, with a diagnostic at the creation.
    pub fn keep_creation(&self, c: &CallFact, code: &'static str, why: impl Into<String>) -> Keep {
        Keep {
            what: Kept::Creation(c.start),
            diagnostic: self.diag(c.line, c.col, code, why),
        }
    }

    /// The `object = true` creations of type `ty` in this module (`within` one function, if
    /// given).
    pub fn creations_of<'c>(
        &'c self,
        ty: &'c str,
        within: Option<usize>,
    ) -> impl Iterator<Item = &'a CallFact> + 'c {
        self.calls.iter().filter(move |c| {
            (within.is_none() || c.caller == within)
                && catalog::entry(self.cat, c)
                    .is_some_and(|(e, _)| e.object && e.returns.as_deref() == Some(ty))
        })
    }

    /// A diagnostic at a call.
    pub fn diag_at(
        &self,
        c: &CallFact,
        code: &'static str,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.diag(c.line, c.col, code, message)
    }

    pub fn diag(
        &self,
        line: usize,
        col: usize,
        code: &'static str,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(&self.module().display, line, col, code, message)
    }
}

/// The families that claim call sites, `with`s and names before any edit is made (see
/// [`claims`]). Threads go first: the types they keep decide the other claims on them.
pub const FAMILIES: [Family; 3] = [Family::Threads, Family::Sockets, Family::Requests];

/// A family pass that owns some of a module's call sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Threads,
    Sockets,
    Requests,
}

impl Family {
    fn claim(self, cx: &PassCx, claims: &mut Claims) {
        match self {
            Family::Threads => threads::claim(cx, claims),
            Family::Sockets => sockets::claim(cx, claims),
            Family::Requests => requests::claim(cx, claims),
        }
    }
}

/// One step of the rewrite of a module, after the claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    AsyncDef,
    Awaits,
    Catalog,
    Loops,
    Withs,
    Threads,
    Sockets,
    EntryPoint,
    Pytest,
    /// Reads the edits made so far: tasks the threads family produced.
    DanglingTasks,
    BlockingInCoroutine,
    Cancellation,
    NeverAwaited,
    SyncCallback,
    UnboundedQueue,
    FileEscapes,
    /// Reads every edit made so far: which references were replaced, which names new text
    /// uses. Runs only if some edit was made.
    Imports,
    /// Wraps the statements of a function whose requests share a client in `async with`;
    /// the edit layer indents them, with every edit inside, after the last phase.
    RequestsClient,
}

/// The phases in the order they run. Edits at one offset and rank keep this order, and so
/// do the diagnostics: changing it changes the output.
pub const PHASES: [Phase; 18] = [
    Phase::AsyncDef,
    Phase::Awaits,
    Phase::Catalog,
    Phase::Loops,
    Phase::Withs,
    Phase::Threads,
    Phase::Sockets,
    Phase::EntryPoint,
    Phase::Pytest,
    Phase::DanglingTasks,
    Phase::BlockingInCoroutine,
    Phase::Cancellation,
    Phase::NeverAwaited,
    Phase::SyncCallback,
    Phase::UnboundedQueue,
    Phase::FileEscapes,
    Phase::Imports,
    Phase::RequestsClient,
];

impl Phase {
    fn run(self, cx: &PassCx, out: &mut PassOut) {
        match self {
            Phase::AsyncDef => async_def::run(cx, out),
            Phase::Awaits => awaits::run(cx, out),
            Phase::Catalog => catalog::run(cx, out),
            Phase::Loops => loops::run(cx, out),
            Phase::Withs => withs::run(cx, out),
            Phase::Threads => threads::run(cx, out),
            Phase::Sockets => sockets::run(cx, out),
            Phase::EntryPoint => entry_point::run(cx, out),
            Phase::Pytest => pytest::run(cx, out),
            Phase::DanglingTasks => dangling_task::run_produced(cx, out),
            Phase::BlockingInCoroutine => blocking_in_coroutine::run(cx, out),
            Phase::Cancellation => cancellation::run(cx, out),
            Phase::NeverAwaited => never_awaited::run(cx, out),
            Phase::SyncCallback => sync_callback::run(cx, out),
            Phase::UnboundedQueue => unbounded_queue::run(cx, out),
            Phase::FileEscapes => files::escapes(cx, out),
            Phase::Imports if out.edits.is_empty() => {}
            Phase::Imports => imports::run(cx, out),
            Phase::RequestsClient => requests::run(cx, out),
        }
    }
}

/// Runs every pass over one module: the family claims first, then the [`PHASES`].
pub fn run_all(cx: &PassCx) -> PassOut {
    let claims = Claims::of(cx);
    let cx = &PassCx {
        claims: &claims,
        ..*cx
    };
    let mut out = PassOut::default();
    for phase in PHASES {
        let before = cfg!(debug_assertions).then(|| out.edits.clone());
        phase.run(cx, &mut out);
        if let Some(before) = before {
            debug_assert!(
                only_added(&before, &out.edits),
                "{}: phase {phase:?} removed or rewrote an earlier edit",
                cx.module().display
            );
        }
    }
    crate::edit::reindent(cx.src(), &mut out.edits, &out.reindents);
    out
}

/// Whether `after` keeps every edit of `before`, in place, and only adds to them.
fn only_added(before: &[Edit], after: &[Edit]) -> bool {
    after.len() >= before.len() && before.iter().zip(after).all(|(b, a)| b == a)
}

/// Whether no pass can change module `m`: nothing in it is async in the output, and it calls
/// nothing async, nor anything from the catalog but blocking calls of rules that no pass of
/// their own handles (those stay, and are reported if their function must stay sync). Every
/// pass starts from one of those: passes on loops, `with`s, consumers, escapes and
/// `yield from` act only in a function that is async in the output, and there is none. So the
/// rewrite (a second parse and a dozen walks) is skipped for such a module and only its
/// [`quiet_reports`] are made; debug builds run the passes anyway and assert that they change
/// nothing and report just those.
pub fn quiet(
    p: &Project,
    cat: &Catalog,
    colour: &Colouring,
    facts: &ModuleFacts,
    m: usize,
) -> bool {
    let sync = |f: &FuncId| !colour.async_funcs.contains(f);
    let index = &p.modules[m].index;
    let none_async = (0..index.functions.len()).all(|f| {
        let id = FuncId {
            module: m as u32,
            func: f as u32,
        };
        sync(&id) && !index.functions[f].is_async
    });
    none_async
        && facts.calls.iter().map(PackedCall::unpack).all(|c| match &c.target {
            Target::Func(f) => sync(f),
            Target::Class(_) => true,
            // `keep` entries change nothing (`thread-identity` feeds colouring's pins only).
            Target::Rule(_) | Target::Method { .. } => catalog::entry(cat, &c)
                .is_some_and(|(e, blocking)| {
                    (blocking || e.action == Action::Keep) && cat.rule(e.rule).pass.is_none()
                }),
        })
        // A coroutine function handed to a callback API is reported (`sync_callback`).
        && facts.refs.iter().all(|r| {
            sync(&r.target)
                || !(r.called || r.passed_to
                    .as_deref()
                    .is_some_and(|to| sync_callback::calls_sync(cat, to)))
        })
        && facts.names.is_empty()
        && facts.attrs.is_empty()
        // A `TestCase` base that converts for a subclass elsewhere (`pytest`).
        && !colour.test_bases.iter().any(|c| c.module as usize == m)
        // A decorator's wrapper calling the wrapped function is awaited only when colouring
        // says so (`awaits`).
        && facts
            .param_calls
            .iter()
            .all(|c| c.awaited || !colour.awaited_param_calls.contains(&(m, c.start)))
}

/// What the passes report for a [`quiet`] module, made without a tree and in the order they
/// report it: unresolved calls (`awaits`), then blocking calls kept (`catalog`).
pub fn quiet_reports(
    p: &Project,
    cat: &Catalog,
    colour: &Colouring,
    knowledge: &Knowledge,
    facts: &ModuleFacts,
    m: usize,
) -> (Vec<Diagnostic>, Vec<Keep>) {
    let mut out = awaits::unresolved(p, colour, knowledge, facts, m);
    let mut keep = Vec::new();
    let calls: Vec<CallFact> = facts.calls.iter().map(PackedCall::unpack).collect();
    let keeper = catalog::Keeper {
        p,
        cat,
        m,
        calls: &calls,
    };
    for c in &calls {
        if catalog::entry(cat, c).is_some_and(|(_, blocking)| blocking) {
            out.extend(catalog::kept(p, colour, m, c));
            keep.extend(catalog::keep_unawaited(p, cat, colour, m, c));
            keep.extend(catalog::keep_for_use(keeper, c));
        }
    }
    // Nothing is async in a quiet module: only a `with` already `async with` is.
    for w in facts.withs.iter().filter(|w| !w.already_async) {
        keep.extend(catalog::keep_for_with(keeper, w));
    }
    for u in facts.kept_uses.iter().filter(|u| u.escape.is_some()) {
        keep.extend(catalog::keep_for_escape(keeper, u));
    }
    (out, keep)
}

/// Finds the generator expression that would turn async if an `await` or `async for` were
/// added at `node`, stopping at the enclosing function.
pub fn enclosing_genexp(node: Node) -> Option<Node> {
    let mut cur = node.parent();
    while let Some(n) = cur {
        match n.kind() {
            "generator_expression" => return Some(n),
            "function_definition" | "lambda" | "class_definition" | "block" => return None,
            _ => cur = n.parent(),
        }
    }
    None
}

/// Edits that make a generator expression a list comprehension, so that it can hold
/// `await` and still be consumed by sync code such as `sum(...)` or `" ".join(...)`.
pub fn genexp_to_list(genexp: Node, out: &mut PassOut) {
    let (s, e) = (genexp.start_byte(), genexp.end_byte());
    let sole_argument = genexp.parent().is_some_and(|p| p.kind() == "call");
    if sole_argument {
        out.edits
            .push(Edit::insert(s + 1, "[", Origin::GenexpToList));
        out.edits
            .push(Edit::insert(e - 1, "]", Origin::GenexpToList));
    } else {
        out.edits
            .push(Edit::replace(s, s + 1, "[", Origin::GenexpToList));
        out.edits
            .push(Edit::replace(e - 1, e, "]", Origin::GenexpToList));
    }
}

/// Indents every line of `block` by `extra` more, leaving blank lines and the continuation
/// lines of multi-line strings alone (their bytes are the string's value).
pub fn reindent(cx: &PassCx, block: Node, extra: &str, out: &mut PassOut) {
    let src = cx.src();
    let first = src[..block.start_byte()].rfind('\n').map_or(0, |i| i + 1);
    let mut strings: Vec<(usize, usize)> = Vec::new();
    let mut stack = vec![block];
    while let Some(n) = stack.pop() {
        if n.kind() == "string" {
            if src[n.byte_range()].contains('\n') {
                strings.push((n.start_byte(), n.end_byte()));
            }
            continue;
        }
        let mut cursor = n.walk();
        stack.extend(n.children(&mut cursor));
    }
    let mut at = first;
    while at < block.end_byte() {
        let line_end = src[at..].find('\n').map_or(src.len(), |i| at + i + 1);
        let blank = src[at..line_end].trim().is_empty();
        let in_string = strings.iter().any(|&(s, e)| s < at && at < e);
        if !blank && !in_string {
            out.edits.push(Edit::insert(at, extra, Origin::Reindent));
        }
        at = line_end;
    }
}

/// `callee(args)` → `wrapper(callee, args)`: the callee's text up to `keep_until` becomes the
/// wrapper's first argument (`p.open(m)` → `aiofiles.open(p, m)` keeps only `p`). Sized by the
/// callee, the opening sits inside the call's own `await ` and outside an `(await ` of a
/// receiver call (`(await get()).read_text`).
pub fn wrap_as_first_argument(
    src: &str,
    callee: (usize, usize),
    keep_until: usize,
    args: Node,
    wrapper: &str,
    origin: Origin,
    out: &mut PassOut,
) {
    let sep = argument_separator(src, args);
    out.edits.push(Edit::open(
        callee.0,
        callee.1 - callee.0,
        format!("{wrapper}("),
        origin,
    ));
    out.edits.push(Edit::replace(
        keep_until,
        args.start_byte() + 1,
        sep,
        origin,
    ));
}

/// What goes after a new first argument: `", "`, or `","` when the old first argument
/// starts on a later line (a space there would be trailing whitespace), or nothing when
/// there was no argument.
pub fn argument_separator(src: &str, args: Node) -> &'static str {
    if args.named_child_count() == 0 {
        return "";
    }
    let after_paren = &src[args.start_byte() + 1..];
    match after_paren.trim_start_matches([' ', '\t']).chars().next() {
        Some('\n' | '\r' | '#') => ",",
        _ => ", ",
    }
}
