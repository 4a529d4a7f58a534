//! Soundness: the rewritten project is indexed and matched again, and what the rewrite left
//! unsound is found, so that the driver can pin the function responsible and colour again
//! (`unsound-change-reverted`), as ruff reverts a fix that breaks the syntax.
//!
//! Checked in the output, across modules (a caller may live anywhere):
//! - a call of a function that is async only in the output is awaited, or handed to an API
//!   that awaits it (`asyncio.run`, `create_task`, `gather`, ...);
//! - an awaited call of a function that colouring made async is not of a function the
//!   output left sync (a module whose rewrite was rejected);
//! - `with` / `for` over a project object or generator match its colour (`async with` needs
//!   `__aenter__`, a sync `for` cannot drive an async generator).
//!
//! Besides the matcher's call facts, a few references it does not resolve are followed here,
//! syntactically: names bound by function-local imports, class-body aliases
//! (`alias = method` then `self.alias()`) and `getattr(self, "name")()`. Objects of unknown
//! type are not judged (they are counted).

use crate::colour::Colouring;
use crate::index::{self, ModuleIndex};
use crate::matcher::{Kind, Target};
use crate::parse::{line, text};
use crate::project::{ClassId, FuncId, Module, Project};
use crate::rules::Catalog;
use crate::source::SourceText;
use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// One unsound site of the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The module (same index in the original and the output) and line of the site.
    pub module: usize,
    pub line: usize,
    pub reason: String,
    /// The original function whose colour made the site unsound: pinning it sync undoes it.
    pub culprit: Option<FuncId>,
    /// A call into now-async code that nothing awaits (counted in the summary).
    pub unawaited: bool,
}

#[derive(Debug, Default)]
pub struct Report {
    pub violations: Vec<Violation>,
    /// `async with` / `async for` over objects of unknown type: not judged.
    pub unknown: usize,
}

/// APIs that await, or schedule, a coroutine handed to them as an argument.
const AWAITING: &[&str] = &[
    "create_task",
    "ensure_future",
    "gather",
    "wait_for",
    "shield",
    "run_until_complete",
    "run_coroutine_threadsafe",
    // The `threads` pass's helper: awaits its argument holding a pool slot.
    "_bounded",
];
/// `asyncio.<name>` APIs that take coroutines (names too common to trust on any receiver).
const ASYNCIO_AWAITING: &[&str] = &["run", "wait", "as_completed"];

/// Checks the output of a migration: `outputs[m]` is module `m`'s new text, `None` if it
/// does not change. `Report::violations` is sorted and empty when the output is sound.
pub fn check(
    original: &Project,
    cat: &Catalog,
    colouring: &Colouring,
    outputs: &[Option<&str>],
) -> Report {
    if outputs.iter().all(Option::is_none) {
        return Report::default();
    }
    let relevant = relevant(original, colouring, outputs);
    let (modules, extras): (Vec<Module>, Vec<Extras>) = original
        .modules
        .par_iter()
        .zip(outputs.par_iter())
        .zip(relevant.par_iter())
        .map(|((m, new), &relevant)| match relevant {
            true => reload(m, new.unwrap_or(&m.source.text)),
            // Its index still resolves names into it; it has no facts of its own.
            false => {
                let mut module = empty_like(
                    m,
                    SourceText {
                        text: String::new(),
                        ..m.source.clone()
                    },
                );
                module.index = m.index.clone();
                (module, Extras::default())
            }
        })
        .unzip();
    let mut out = Project::new(modules);
    let (facts, _) = crate::matcher::index_fresh(&mut out, cat, Some(&relevant));
    let cx = Cx {
        original,
        cat,
        out: &out,
        colouring,
    };
    let mut report = Report::default();
    for (m, (f, extra)) in facts.iter().zip(&extras).enumerate() {
        for c in f.calls.iter().map(crate::matcher::PackedCall::unpack) {
            if let Target::Func(g) = c.target {
                let handed = extra.handed.contains(&(c.start, c.end));
                let site = Site {
                    m,
                    line: c.line,
                    awaited: c.awaited || extra.awaited.contains(&(c.start, c.end)),
                    handed,
                };
                cx.call(
                    site,
                    g,
                    &cx.out.modules[m].source.text[c.start..c.end],
                    &mut report,
                );
            }
        }
        for (g, site, what) in cx.extra_calls(m, extra) {
            cx.call(site, g, &what, &mut report);
        }
        // Calls by their span: what a `with` enters.
        let entered: HashMap<(usize, usize), FuncId> = f
            .calls
            .iter()
            .map(crate::matcher::PackedCall::unpack)
            .filter_map(|c| match c.target {
                Target::Func(g) => Some(((c.start, c.end), g)),
                _ => None,
            })
            .collect();
        for w in &f.withs {
            let at = (m, w.line, w.caller);
            // `async with f()` over what a project function left sync returns (a file it
            // opened): the function's value was not converted, the block was.
            let from_sync = entered
                .get(&w.expr)
                .is_some_and(|g| !cx.out.func(*g).is_async && !cx.out.func(*g).is_generator);
            cx.block(
                at,
                &w.kind,
                (w.already_async, from_sync),
                "with",
                &mut report,
            );
        }
        for fr in &f.fors {
            let at = (m, fr.line, fr.caller);
            cx.block(at, &fr.kind, (fr.already_async, false), "for", &mut report);
        }
    }
    // Lines of the original, as diagnostics name them.
    for v in &mut report.violations {
        if let Some(new) = outputs[v.module] {
            v.line = original_line(&original.modules[v.module].source.text, new, v.line);
        }
    }
    report
        .violations
        .sort_by(|a, b| (a.module, a.line, &a.reason).cmp(&(b.module, b.line, &b.reason)));
    report.violations.dedup();
    report
}

/// The modules whose output can hold an unsound site: those that change, and those that
/// name a function colouring made async or its class (a call, a `with` or a `for` needs
/// the name somewhere in the module). The others are not matched again.
fn relevant(original: &Project, colouring: &Colouring, outputs: &[Option<&str>]) -> Vec<bool> {
    let mut names: HashSet<&str> = HashSet::default();
    for f in colouring
        .async_funcs
        .iter()
        .filter(|f| !original.func(**f).is_async)
    {
        let def = original.func(*f);
        names.insert(&def.name);
        if let Some(k) = def.class {
            names.insert(&original.modules[f.module as usize].index.classes[k].name);
        }
    }
    original
        .modules
        .par_iter()
        .zip(outputs.par_iter())
        .map(|(m, new)| {
            new.is_some()
                || m.source
                    .text
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|w| names.contains(w))
        })
        .collect()
}

/// The line of `old` that line `line` (1-based) of `new` comes from (in a changed block,
/// the line at the same place in the block).
fn original_line(old: &str, new: &str, line: usize) -> usize {
    let diff = similar::TextDiff::from_lines(old, new);
    for op in diff.ops() {
        let (o, n) = (op.old_range(), op.new_range());
        if n.contains(&(line - 1)) {
            // In a changed block, the same line of the block, as far as the old one goes.
            let offset = (line - 1 - n.start).min(o.len().saturating_sub(1));
            return o.start + offset + 1;
        }
    }
    line
}

/// A call site of the output.
#[derive(Clone, Copy)]
struct Site {
    m: usize,
    line: usize,
    awaited: bool,
    handed: bool,
}

struct Cx<'a> {
    original: &'a Project,
    cat: &'a Catalog,
    out: &'a Project,
    colouring: &'a Colouring,
}

impl Cx<'_> {
    /// The original function an output function comes from: same module, same qualified
    /// name (the n-th of that name), with the async dunders and the `_async` name of a
    /// console script's coroutine mapped back.
    fn original_of(&self, g: FuncId) -> Option<FuncId> {
        let m = g.module as usize;
        let def = self.out.func(g);
        let nth = self.out.modules[m].index.functions[..g.func as usize]
            .iter()
            .filter(|f| f.qualname == def.qualname)
            .count();
        let renamed = |q: &str| -> String {
            let (head, last) = q.rsplit_once('.').map_or(("", q), |(h, l)| (h, l));
            let sync = match last {
                "__aenter__" => "__enter__",
                "__aexit__" => "__exit__",
                "__anext__" => "__next__",
                "__aiter__" => "__iter__",
                other => other.strip_suffix("_async").unwrap_or(other),
            };
            if head.is_empty() {
                sync.to_string()
            } else {
                format!("{head}.{sync}")
            }
        };
        let find = |q: &str, nth: usize| {
            self.original.modules[m]
                .index
                .functions
                .iter()
                .enumerate()
                .filter(|(_, f)| f.qualname == q)
                .nth(nth)
                .map(|(i, _)| FuncId {
                    module: g.module,
                    func: i as u32,
                })
        };
        find(&def.qualname, nth).or_else(|| find(&renamed(&def.qualname), 0))
    }

    /// Whether `g` is async in the output but was not in the original.
    fn now_async(&self, g: FuncId) -> bool {
        let def = self.out.func(g);
        def.is_async
            && !def.is_generator
            && self
                .original_of(g)
                .is_none_or(|o| !self.original.func(o).is_async)
    }

    /// The original function to pin for a site involving output function `g`.
    fn culprit(&self, g: FuncId) -> Option<FuncId> {
        self.original_of(g)
            .filter(|o| self.colouring.coloured.contains(o))
    }

    fn call(&self, s: Site, g: FuncId, what: &str, report: &mut Report) {
        let def = self.out.func(g);
        if def.is_generator {
            return;
        }
        let what = what.split('\n').next().unwrap_or_default();
        let name = &def.name;
        let (reason, unawaited) = if self.now_async(g) && !s.awaited && !s.handed {
            (
                format!("`{what}` calls `{name}`, now async, without await"),
                true,
            )
        } else if s.awaited && !def.is_async && self.culprit(g).is_some() {
            (
                format!("`{what}` awaits `{name}`, which the output left sync"),
                false,
            )
        } else {
            return;
        };
        report.violations.push(Violation {
            module: s.m,
            line: s.line,
            reason,
            culprit: self.culprit(g),
            unawaited,
        });
    }

    /// A `with` or `for` over `kind` at `(module, line, caller)`, `is_async` if written
    /// `async with` / `async for`, `from_sync` if the value is what a sync project function
    /// returned.
    fn block(
        &self,
        (m, line, caller): (usize, usize, Option<usize>),
        kind: &Kind,
        (is_async, from_sync): (bool, bool),
        how: &str,
        report: &mut Report,
    ) {
        let written = if is_async {
            format!("async {how}")
        } else {
            how.to_string()
        };
        let (sync_ok, async_ok, involved) = match kind {
            Kind::Gen(g) => {
                let a = self.out.func(*g).is_async;
                (!a, a, Some(*g))
            }
            Kind::Instance(k) => {
                let (s, a) = self.protocol(*k, how);
                let involved = if is_async { s.or(a) } else { a.or(s) };
                (s.is_some(), a.is_some(), involved)
            }
            // A catalog type the rewrite makes async is still the sync type here: the object
            // was not converted, but its block was (its caller is to blame). Only passed for
            // a value a sync project function returned: elsewhere the type may come from an
            // annotation the rewrite left as it was.
            Kind::Ext(ty) if is_async && from_sync && self.sync_catalog_type(ty, how) => {
                let caller = caller.map(|f| FuncId {
                    module: m as u32,
                    func: f as u32,
                });
                report.violations.push(Violation {
                    module: m,
                    line,
                    reason: format!(
                        "`{written}` over a value of type `{ty}`, which does not support it"
                    ),
                    culprit: caller.and_then(|g| self.culprit(g)),
                    unawaited: false,
                });
                return;
            }
            _ => {
                report.unknown += usize::from(is_async);
                return;
            }
        };
        // Only what this run changed is judged: a mismatch the original had (a dunder
        // inherited from outside the project) is not the rewrite's doing.
        let culprit = involved.and_then(|g| self.culprit(g));
        if (is_async && async_ok) || (!is_async && sync_ok) || culprit.is_none() {
            return;
        }
        let name = involved.map_or("", |g| self.out.func(g).name.as_str());
        report.violations.push(Violation {
            module: m,
            line,
            reason: format!("`{written}` over an object whose `{name}` does not support it"),
            culprit,
            unawaited: false,
        });
    }

    /// Whether the catalog rewrites a `with` / `for` over a `ty` into its async form.
    fn sync_catalog_type(&self, ty: &str, how: &str) -> bool {
        let uses = if how == "with" {
            self.cat.with_use(ty)
        } else {
            self.cat.iterate_use(ty)
        };
        uses.is_some_and(|(_, u)| u.make_async)
    }

    /// The sync and async method a `with` / `for` over an instance of `k` calls.
    fn protocol(&self, k: ClassId, how: &str) -> (Option<FuncId>, Option<FuncId>) {
        let p = self.out;
        if how == "with" {
            return (p.method(k, "__enter__"), p.method(k, "__aenter__"));
        }
        let sync = p
            .method(k, "__next__")
            .or_else(|| p.method(k, "__iter__").filter(|f| !p.func(*f).is_async));
        let asynchronous = p.method(k, "__anext__").or_else(|| {
            p.method(k, "__aiter__")
                .filter(|f| p.func(*f).is_async && p.func(*f).is_generator)
        });
        (sync, asynchronous)
    }

    /// The calls the matcher leaves unresolved that the scan of module `m` found.
    fn extra_calls(&self, m: usize, extra: &Extras) -> Vec<(FuncId, Site, String)> {
        let ix = &self.out.modules[m].index;
        let mut out = Vec::new();
        for c in &extra.calls {
            let target = match &c.via {
                Via::Name(name) => {
                    local_import(ix, c.start, name).and_then(|q| match self.out.resolve(&q) {
                        crate::project::Sym::Func(g) => Some(g),
                        _ => None,
                    })
                }
                Via::SelfAttr(class_start, name) => ix
                    .classes
                    .iter()
                    .position(|k| k.start == *class_start)
                    .and_then(|k| {
                        let k = ClassId {
                            module: m as u32,
                            class: k as u32,
                        };
                        let target = extra
                            .aliases
                            .get(&(*class_start, name.clone()))
                            .unwrap_or(name);
                        self.out.method(k, target)
                    }),
            };
            if let Some(g) = target {
                let site = Site {
                    m,
                    line: c.line,
                    awaited: c.awaited || extra.awaited.contains(&(c.start, c.end)),
                    handed: extra.handed.contains(&(c.start, c.end)),
                };
                out.push((g, site, c.text.clone()));
            }
        }
        out
    }
}

/// What a name bound by an import inside the function around `at` stands for.
fn local_import(ix: &ModuleIndex, at: usize, name: &str) -> Option<String> {
    let f = ix.function_at(at)?;
    let mut scope = Some(f);
    while let Some(s) = scope {
        let def = &ix.functions[s];
        let hit = ix
            .imports
            .iter()
            .filter(|i| !i.top_level && def.body_start <= i.start && i.end <= def.end)
            .filter(|i| ix.function_at(i.start) == Some(s))
            .flat_map(|i| &i.names)
            .find(|n| n.local == name);
        if let Some(n) = hit {
            return Some(n.qualified.to_string());
        }
        scope = def.parent;
    }
    None
}

/// How a call the matcher does not resolve reaches its callee.
#[derive(Debug)]
enum Via {
    /// A plain name (perhaps bound by a function-local import).
    Name(String),
    /// `self.name(...)` or `getattr(self, "name")(...)` inside the class starting here.
    SelfAttr(usize, String),
}

#[derive(Debug)]
struct ExtraCall {
    via: Via,
    start: usize,
    end: usize,
    line: usize,
    awaited: bool,
    text: String,
}

/// What the scan of one output module found.
#[derive(Debug, Default)]
struct Extras {
    /// Call expressions handed to an API that awaits them.
    handed: HashSet<(usize, usize)>,
    /// Call expressions awaited that the tree does not show as such.
    awaited: HashSet<(usize, usize)>,
    calls: Vec<ExtraCall>,
    /// Class-body aliases: `(class start, alias)` -> method name.
    aliases: HashMap<(usize, String), String>,
}

/// Parses and indexes an output text as the module `m` it came from.
fn reload(m: &Module, text: &str) -> (Module, Extras) {
    let source = SourceText {
        bom: false,
        text: text.to_string(),
        newline: m.source.newline,
        indent: m.source.indent.clone(),
        encoding: None,
    };
    let Some(tree) = crate::parse::parse(&source.text) else {
        return (empty_like(m, source), Extras::default());
    };
    let syntax = crate::syntax::Syntax::new(&tree, &source.text);
    let ix = index::build(&syntax, &source.text, &m.name, m.is_package);
    let mut extras = Extras::default();
    scan(tree.root_node(), &source.text, &ix, None, &mut extras);
    let module = Module {
        syntax: syntax.pack(),
        index: ix,
        ..empty_like(m, source)
    };
    (module, extras)
}

fn empty_like(m: &Module, source: SourceText) -> Module {
    Module {
        path: m.path.clone(),
        display: m.display.clone(),
        name: m.name.clone(),
        aliases: m.aliases.clone(),
        is_package: m.is_package,
        is_test: m.is_test,
        syntax: Default::default(),
        index: ModuleIndex::default(),
        source,
    }
}

/// Walks the tree once: handed coroutines, class-body aliases and candidate calls.
fn scan(
    node: tree_sitter::Node,
    src: &str,
    ix: &ModuleIndex,
    class: Option<usize>,
    out: &mut Extras,
) {
    let class = if node.kind() == "class_definition" {
        Some(node.start_byte())
    } else {
        class
    };
    match node.kind() {
        "call" => call(node, src, ix, class, out),
        "assignment" => alias(node, src, ix, class, out),
        "await" => power_awaited(node, src, out),
        _ => {}
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        scan(child, src, ix, class, out);
    }
}

/// tree-sitter reads `await f() ** 2` as `await (f() ** 2)`; Python awaits `f()`.
fn power_awaited(node: tree_sitter::Node, src: &str, out: &mut Extras) {
    let mut operand = node.named_child(0);
    while let Some(n) = operand.filter(|n| {
        n.kind() == "binary_operator"
            && n.child_by_field_name("operator")
                .is_some_and(|o| text(o, src) == "**")
    }) {
        operand = n.child_by_field_name("left");
    }
    if let Some(call) = operand.filter(|n| n.kind() == "call")
        && node
            .named_child(0)
            .is_some_and(|c| c.kind() == "binary_operator")
    {
        out.awaited.insert((call.start_byte(), call.end_byte()));
    }
}

/// `alias = method` directly in a class body.
fn alias(
    node: tree_sitter::Node,
    src: &str,
    ix: &ModuleIndex,
    class: Option<usize>,
    out: &mut Extras,
) {
    let (Some(k), Some(left), Some(right)) = (
        class,
        node.child_by_field_name("left"),
        node.child_by_field_name("right"),
    ) else {
        return;
    };
    let in_body = node
        .parent()
        .and_then(|s| s.parent())
        .is_some_and(|b| b.kind() == "block" && b.parent().is_some_and(|c| c.start_byte() == k));
    if !in_body || left.kind() != "identifier" || right.kind() != "identifier" {
        return;
    }
    let method = text(right, src);
    if ix
        .classes
        .iter()
        .any(|c| c.start == k && c.methods.contains_key(method))
    {
        out.aliases
            .insert((k, text(left, src).to_string()), method.to_string());
    }
}

fn call(
    node: tree_sitter::Node,
    src: &str,
    ix: &ModuleIndex,
    class: Option<usize>,
    out: &mut Extras,
) {
    let Some(func) = node.child_by_field_name("function") else {
        return;
    };
    let callee = text(func, src);
    let last = callee.rsplit('.').next().unwrap_or(callee);
    let awaiting = AWAITING.contains(&last)
        || callee
            .strip_prefix("asyncio.")
            .is_some_and(|n| ASYNCIO_AWAITING.contains(&n));
    if awaiting && let Some(args) = node.child_by_field_name("arguments") {
        let mut cursor = args.walk();
        for a in args.named_children(&mut cursor) {
            handed(a, &mut out.handed);
        }
    }
    let via = match func.kind() {
        "identifier" if ix.function_at(node.start_byte()).is_some() => {
            Via::Name(callee.to_string())
        }
        "attribute" => {
            let (Some(obj), Some(attr), Some(k)) = (
                func.child_by_field_name("object"),
                func.child_by_field_name("attribute"),
                class,
            ) else {
                return;
            };
            if text(obj, src) != "self" {
                return;
            }
            Via::SelfAttr(k, text(attr, src).to_string())
        }
        // `getattr(self, "name")(...)`
        "call" => {
            let (Some(k), Some(name)) = (class, getattr_self(func, src)) else {
                return;
            };
            Via::SelfAttr(k, name)
        }
        _ => return,
    };
    out.calls.push(ExtraCall {
        via,
        start: node.start_byte(),
        end: node.end_byte(),
        line: line(node),
        awaited: node.parent().is_some_and(|p| p.kind() == "await"),
        text: text(node, src).to_string(),
    });
}

/// `"name"` in `getattr(self, "name")`.
fn getattr_self(call: tree_sitter::Node, src: &str) -> Option<String> {
    let f = call.child_by_field_name("function")?;
    if text(f, src) != "getattr" {
        return None;
    }
    let args = call.child_by_field_name("arguments")?;
    let (obj, name) = (args.named_child(0)?, args.named_child(1)?);
    if args.named_child_count() != 2 || text(obj, src) != "self" || name.kind() != "string" {
        return None;
    }
    let lit = text(name, src);
    let inner = lit.trim_matches(|c| c == '"' || c == '\'');
    (inner.len() + 2 == lit.len() && inner.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .then(|| inner.to_string())
}

/// The coroutine positions of an argument: the call itself, the elements of a starred
/// list, tuple or comprehension (`gather(*[f(x) for x in xs])`), a keyword's value.
fn handed(a: tree_sitter::Node, out: &mut HashSet<(usize, usize)>) {
    match a.kind() {
        "call" => {
            out.insert((a.start_byte(), a.end_byte()));
        }
        "list_splat" | "parenthesized_expression" | "list" | "tuple" => {
            let mut cursor = a.walk();
            for c in a.named_children(&mut cursor) {
                handed(c, out);
            }
        }
        "keyword_argument" => {
            if let Some(v) = a.child_by_field_name("value") {
                handed(v, out);
            }
        }
        "list_comprehension" | "generator_expression" => {
            if let Some(body) = a.child_by_field_name("body") {
                handed(body, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fileio::Input;
    use crate::matcher::index_fresh;
    use crate::run::load;
    use std::path::{Path, PathBuf};

    const ORIGINAL: &str = "import time


class Conn:
    def __enter__(self):
        time.sleep(0)
        return self

    def __exit__(self, *exc):
        return False


def slow():
    time.sleep(0)


def caller():
    slow()
    with Conn():
        pass
";

    /// The violations the check finds when `broken` is handed in as the rewrite of
    /// [`ORIGINAL`], each as `line: reason (culprit)`.
    fn violations(broken: &str) -> Vec<String> {
        let input = Input {
            path: Path::new("/project").join("m.py"),
            display: "m.py".into(),
            bytes: ORIGINAL.as_bytes().to_vec(),
            root: PathBuf::from("/project"),
        };
        let mut p = Project::new(vec![load(input).expect("parses")]);
        let cat = Catalog::builtin().unwrap();
        let (facts, _) = index_fresh(&mut p, &cat, None);
        let colouring = crate::colour::colour(&p, &cat, &facts, &Default::default(), &[]);
        let report = check(&p, &cat, &colouring, &[Some(broken)]);
        report
            .violations
            .iter()
            .map(|v| {
                let culprit = v
                    .culprit
                    .map_or("-".into(), |f| p.func(f).qualname.to_string());
                format!("{}: {} ({culprit})", v.line, v.reason)
            })
            .collect()
    }

    /// [`ORIGINAL`] migrated, with `caller`'s body replaced.
    fn output(body: &str) -> String {
        format!(
            "import asyncio


class Conn:
    async def __aenter__(self):
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc):
        return False


async def slow():
    await asyncio.sleep(0)


async def caller():
{body}"
        )
    }

    #[test]
    fn a_sound_output_has_no_violation() {
        let sound = [
            "    await slow()\n    async with Conn():\n        pass\n",
            "    await asyncio.gather(slow(), *[slow() for _ in range(2)])\n",
            "    t = asyncio.create_task(slow())\n    await asyncio.wait_for(slow(), 1)\n    await t\n",
            "    asyncio.run(slow())\n",
            // tree-sitter reads this as `await (slow() ** 2)`.
            "    return await slow() ** 2\n",
        ];
        for body in sound {
            assert_eq!(violations(&output(body)), Vec::<String>::new(), "{body}");
        }
    }

    #[test]
    fn a_hand_broken_output_is_caught() {
        let broken: &[(&str, &[&str])] = &[
            (
                "    slow()\n",
                &["18: `slow()` calls `slow`, now async, without await (slow)"],
            ),
            (
                "    return [slow()]\n",
                &["18: `slow()` calls `slow`, now async, without await (slow)"],
            ),
            (
                "    await slow()\n    with Conn():\n        pass\n",
                &[
                    "19: `with` over an object whose `__aenter__` does not support it (Conn.__enter__)",
                ],
            ),
            (
                "    asyncio.to_thread(wrap(slow()))\n",
                &["18: `slow()` calls `slow`, now async, without await (slow)"],
            ),
        ];
        for (body, expected) in broken {
            assert_eq!(violations(&output(body)), *expected, "{body}");
        }
    }

    #[test]
    fn an_await_of_a_function_the_output_left_sync_is_caught() {
        let text = output("    await slow()\n    async with Conn():\n        pass\n").replace(
            "async def slow():\n    await asyncio.sleep(0)",
            "def slow():\n    time.sleep(0)",
        );
        assert_eq!(
            violations(&text),
            ["18: `slow()` awaits `slow`, which the output left sync (slow)"]
        );
    }
}
