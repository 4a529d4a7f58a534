//! Code outside the project that calls project functions without await: the methods a
//! stdlib or third-party base class calls on its subclasses (`http.client.HTTPConnection`
//! calls `self.connect()`, `threading.Thread` calls `self.run()`), and the functions a
//! decorator that is not the project's own wraps or registers (`@click.command`,
//! `@atexit.register`). Such functions must stay sync; colouring pins them.
//!
//! What each stdlib class defines comes from `transforms/stdlib-bases.txt`, generated once
//! from CPython 3.11 by `transforms/gen/stdlib_bases.py`. A base outside the standard
//! library is unknown: every method of its subclasses is pinned, unless a rule declares it
//! `[[async-aware-base]]`. Decorators known to keep working on an `async def` are the
//! `[[async-aware-decorator]]` entries of the catalog (`transforms/async-aware.toml`).

use crate::colour::Pin;
use crate::index::{Binding, Scoped};
use crate::project::{ClassId, FuncId, Project, Sym};
use crate::rules::Catalog;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::OnceLock;

pub const EXTERNAL_BASE: &str = "external-base";
pub const EXTERNAL_DECORATOR: &str = "external-decorator";

/// `unittest.TestCase` subclasses become `IsolatedAsyncioTestCase` (the async-test pass),
/// with `setUp`/`tearDown` renamed `asyncSetUp`/`asyncTearDown`, which the runner awaits.
const TEST_CASE_RENAMED: &[&str] = &["setUp", "tearDown"];

/// The classes of the standard library: their bases and the methods each defines itself.
struct Stdlib {
    classes: HashMap<&'static str, (Vec<&'static str>, Vec<&'static str>)>,
    /// Another public name of a class, or the classes a `__mro_entries__` object stands for.
    aliases: HashMap<&'static str, Vec<&'static str>>,
}

fn stdlib() -> &'static Stdlib {
    static STDLIB: OnceLock<Stdlib> = OnceLock::new();
    STDLIB.get_or_init(|| Stdlib::parse(include_str!("../transforms/stdlib-bases.txt")))
}

impl Stdlib {
    /// `module.Class < base base : method method` or `module.Alias = module.Class`.
    fn parse(text: &'static str) -> Stdlib {
        let mut classes = HashMap::default();
        let mut aliases = HashMap::default();
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            if let Some((name, to)) = line.split_once(" = ") {
                aliases.insert(name, to.split_whitespace().collect());
                continue;
            }
            let (head, methods) = line.split_once(" : ").unwrap_or((line, ""));
            let (name, bases) = head.split_once(" < ").unwrap_or((head, ""));
            classes.insert(
                name,
                (
                    bases.split_whitespace().collect(),
                    methods.split_whitespace().collect(),
                ),
            );
        }
        Stdlib { classes, aliases }
    }

    fn knows(&self, qualified: &str) -> bool {
        self.classes.contains_key(qualified) || self.aliases.contains_key(qualified)
    }

    /// Every method the class `qualified` has, its bases' included (not `object`'s), or
    /// `None` if it is not a stdlib class.
    fn methods(&self, qualified: &str) -> Option<HashSet<&'static str>> {
        let mut stack: Vec<&str> = match self.aliases.get(qualified) {
            Some(to) => to.clone(),
            None => vec![self.classes.get_key_value(qualified)?.0],
        };
        let (mut out, mut seen) = (HashSet::default(), HashSet::default());
        while let Some(c) = stack.pop() {
            if let (true, Some((bases, methods))) = (seen.insert(c), self.classes.get(c)) {
                out.extend(methods.iter().copied());
                stack.extend(bases.iter().copied());
            }
        }
        Some(out)
    }
}

/// The qualified name that a dotted name written at module level of `m` stands for, when
/// it is not the project's: through an import (`import http.client` makes
/// `http.client.HTTPConnection` that), or a builtin (`Exception`, `staticmethod`). `None`
/// for a name awaitify cannot follow (a module-level value such as `app` in `@app.route`,
/// a function-local name, a star import).
pub fn qualified_name(p: &Project, m: usize, written: &str) -> Option<String> {
    if !written
        .chars()
        .all(|c| c == '.' || c == '_' || c.is_alphanumeric())
    {
        return None;
    }
    let (head, tail) = match written.split_once('.') {
        Some((h, t)) => (h, Some(t)),
        None => (written, None),
    };
    // The module scope of the lookup every resolver shares.
    let base = match p.modules[m].index.lookup(head, None) {
        Scoped::Global(Binding::Import(q)) => q.to_string(),
        Scoped::Unbound if stdlib().knows(&format!("builtins.{head}")) => {
            format!("builtins.{head}")
        }
        _ => return None,
    };
    Some(match tail {
        Some(t) => format!("{base}.{t}"),
        None => base,
    })
}

/// A base outside the project: known (the methods it has) or not.
enum Outside {
    Known(String, HashSet<&'static str>),
    Unknown(String),
    /// A base awaitify cannot resolve (a call, a local name, a value), as written.
    Unresolved(String),
}

/// The bases outside the project that a class inherits from, through its project bases.
fn outside_bases(p: &Project, cat: &Catalog, c: ClassId) -> Vec<Outside> {
    let mut out = Vec::new();
    for &k in p.mro(c) {
        let m = k.module as usize;
        for written in &p.class(k).bases {
            let q = match p.resolve_in_module(m, written) {
                Sym::Class(_) => continue,
                Sym::External(_) => qualified_name(p, m, written),
                Sym::Func(_) | Sym::Module(_) => None,
            };
            let Some(q) = q else {
                out.push(Outside::Unresolved(written.to_string()));
                continue;
            };
            if cat.async_aware_base(&q) {
                continue;
            }
            match stdlib().methods(&q) {
                Some(mut methods) => {
                    if cat.names().core.is_test_case(&q) {
                        methods.retain(|n| !TEST_CASE_RENAMED.contains(n));
                    }
                    out.push(Outside::Known(q, methods));
                }
                None => out.push(Outside::Unknown(q)),
            }
        }
    }
    out
}

/// Pins for the methods that a base outside the project may call without await, and for
/// the functions under a decorator outside the project that is not known to await them.
pub fn pins(p: &Project, cat: &Catalog) -> Vec<(FuncId, &'static str, Pin)> {
    let mut out = Vec::new();
    for c in p.class_ids() {
        let class = p.class(c);
        if class.bases.is_empty() {
            continue;
        }
        let outside = outside_bases(p, cat, c);
        if outside.is_empty() {
            continue;
        }
        // Its own methods and those it inherits from project bases (a mixin's `run` is
        // what `Thread.start()` calls on `class Worker(Mixin, Thread)`).
        let mut seen: HashSet<&str> = HashSet::default();
        for &k in p.mro(c) {
            let owner = p.class(k);
            let mut methods: Vec<(&str, usize)> = owner
                .methods
                .iter()
                .map(|(n, &f)| (n.as_str(), f))
                .filter(|(n, _)| seen.insert(n))
                .collect();
            methods.sort_by_key(|&(_, f)| f);
            for (name, f) in methods {
                // `__name` is mangled: no class outside can call it by name.
                if name.starts_with("__") && !name.ends_with("__") {
                    continue;
                }
                let method = if k == c {
                    format!("`{}.{name}`", class.name)
                } else {
                    format!("`{}.{name}` (inherited by `{}`)", owner.name, class.name)
                };
                if let Some(reason) = base_reason(&outside, &method, name) {
                    out.push((fid(k.module, f), EXTERNAL_BASE, pin(p, k.module, f, reason)));
                }
            }
        }
    }
    for f in p.func_ids() {
        if let Some(reason) = decorator_reason(p, cat, f) {
            let pin = pin(p, f.module, f.func as usize, reason);
            out.push((f, EXTERNAL_DECORATOR, pin));
        }
    }
    out
}

/// Why a base outside the project may call the method `name` (shown as `method`).
fn base_reason(outside: &[Outside], method: &str, name: &str) -> Option<String> {
    outside.iter().find_map(|o| match o {
        Outside::Known(q, methods) if methods.contains(name) => Some(format!(
            "{method} overrides a method of `{q}`, which calls it without await"
        )),
        Outside::Unknown(q) => Some(format!(
            "{method} is a method of a class whose base `{q}` is outside the project: awaitify does not know which methods it calls"
        )),
        Outside::Unresolved(written) => Some(format!(
            "{method} is a method of a class whose base `{written}` awaitify cannot resolve: it may call any of them"
        )),
        Outside::Known(..) => None,
    })
}

/// Why a decorator of `f` that is not the project's own may call it without await.
fn decorator_reason(p: &Project, cat: &Catalog, f: FuncId) -> Option<String> {
    let m = f.module as usize;
    let def = p.func(f);
    for written in &def.decorators {
        // `@property`-like decorators and setters are pinned by colouring itself.
        if crate::colour::is_sync_decorator(written) {
            continue;
        }
        if async_aware(p, cat, m, written) {
            continue;
        }
        match p.resolve_in_module(m, written) {
            Sym::Func(_) => continue,
            Sym::Class(c) => {
                return Some(format!(
                    "`{}` is decorated with the class `{}`, whose instances awaitify does not follow",
                    def.name,
                    p.class(c).name
                ));
            }
            Sym::Module(_) | Sym::External(_) => {}
        }
        return Some(format!(
            "`{}` is decorated with `@{written}`, which is not known to await it",
            def.name
        ));
    }
    None
}

/// Whether the decorator written `written` in module `m` is known to keep working on an
/// `async def` (an `[[async-aware-decorator]]`, by the name it is imported as, even when
/// the project defines it: the standard library's own `unittest.skipIf`).
pub fn async_aware(p: &Project, cat: &Catalog, m: usize, written: &str) -> bool {
    // A fixture is rewritten for the async form only in a test module, where the pass runs.
    let core = &cat.names().core;
    qualified_name(p, m, written).is_some_and(|q| {
        cat.async_aware_decorator(&q) && (q != core.fixture || p.modules[m].is_test)
    })
}

fn fid(module: u32, f: usize) -> FuncId {
    FuncId {
        module,
        func: f as u32,
    }
}

fn pin(p: &Project, module: u32, f: usize, reason: String) -> Pin {
    Pin {
        reason,
        module: module as usize,
        line: p.func(fid(module, f)).first_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdlib_classes_have_their_bases_methods() {
        let s = stdlib();
        let conn = s.methods("http.client.HTTPConnection").unwrap();
        assert!(conn.contains("connect") && conn.contains("send"));
        // Through a public alias and a base: `json.JSONEncoder`, `logging.StreamHandler`.
        assert!(s.methods("json.JSONEncoder").unwrap().contains("default"));
        let stream = s.methods("logging.StreamHandler").unwrap();
        assert!(stream.contains("emit") && stream.contains("handleError"));
        // `object`'s own methods are not listed.
        assert!(s.methods("builtins.object").unwrap().is_empty());
        assert!(!s.methods("threading.Thread").unwrap().contains("__init__"));
        assert!(s.methods("requests.Session").is_none());
    }
}
