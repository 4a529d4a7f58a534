//! Tests that mock the sync API: `mock.patch("requests.get")`, `mocker.patch(...)`,
//! `patch.object(subprocess, "run")`, `monkeypatch.setattr(...)`, and the libraries that mock
//! a whole package (`responses`, `requests_mock`).
//!
//! A mock replaces the sync function while the test runs. Were the code under test moved to
//! the async API, the mock would intercept nothing: the migrated test would reach the real
//! network or run the real program. So the catalog rules of a mocked package are left out of
//! the run (the rule set is the API's package: mocking `requests.get` can change what every
//! requests call does, and `subprocess.run` runs through `Popen`), and those calls stay as
//! they are, reported at the mock (`mocked-api-kept`). A mocked project function (or every
//! method of a mocked project class) stays sync: the mock's return value cannot be awaited
//! (`mocked-function-kept`, a colouring pin).
//!
//! The search runs before matching, over every module of the run, tests included: mocks in
//! files awaitify is not given are not seen.

use crate::colour::Pin;
use crate::index::{Binding, Scoped};
use crate::parse::{dotted_parts, line, text};
use crate::project::{ClassId, FuncId, Project, Sym};
use crate::report::Diagnostic;
use crate::rules::{Catalog, RuleId};
use crate::syntax::Node;
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;

pub const MOCKED_API_KEPT: &str = "mocked-api-kept";
pub const MOCKED_FUNCTION_KEPT: &str = "mocked-function-kept";
pub const MOCK_TARGET_UNKNOWN: &str = "mock-target-unknown";

/// Libraries that mock whole packages while a test uses them, by top-level module.
const LIBRARIES: &[(&str, &[&str])] = &[
    ("responses", &["requests"]),
    ("requests_mock", &["requests"]),
    ("betamax", &["requests"]),
    ("httpretty", &["requests", "urllib", "socket"]),
];

/// Pytest fixtures of those libraries' plugins, by parameter name.
const FIXTURES: &[(&str, &[&str])] = &[
    ("requests_mock", &["requests"]),
    ("responses", &["requests"]),
];

/// A package whose mock also intercepts calls of other packages, which reach it underneath
/// (requests reaches the network through `urllib3`, `http.client` and `socket`).
const REACHED_THROUGH: &[(&str, &[&str])] = &[
    ("socket", &["requests", "urllib", "httpx"]),
    ("ssl", &["requests", "urllib", "httpx", "socket"]),
    ("urllib3", &["requests"]),
    ("http", &["requests", "urllib"]),
];

/// pytest-mock's fixtures: `mocker.patch(...)` is `mock.patch(...)`.
const MOCKERS: &[&str] = &[
    "mocker",
    "class_mocker",
    "module_mocker",
    "package_mocker",
    "session_mocker",
];

const PATCH: &[&str] = &["unittest.mock.patch", "mock.patch"];

/// What the search found: the rules to leave out, the functions to pin, and the reports.
#[derive(Debug, Default)]
pub struct Mocks {
    pub kept: BTreeSet<RuleId>,
    pub pins: Vec<(FuncId, Pin)>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Form {
    Patch,
    Object,
    Multiple,
    SetAttr,
    DelAttr,
}

#[derive(Debug)]
enum Target {
    /// A dotted string (`"pkg.client.fetch"`).
    Dotted(String),
    /// An object and an attribute name (`patch.object(requests, "get")`); `None`: an object
    /// that is not a module or class awaitify resolves (an instance).
    Attr(Option<Sym>, String),
    /// A library or fixture that mocks whole packages.
    Packages(&'static [&'static str]),
    /// Not a literal awaitify can read.
    Unknown,
}

#[derive(Debug)]
struct Site {
    module: usize,
    line: usize,
    col: usize,
    /// The mock as written (shortened), for the reports.
    written: String,
    target: Target,
}

/// Finds the mocks of the project and what they keep sync.
pub fn find(p: &Project, cat: &Catalog) -> Mocks {
    let sites: Vec<Site> = (0..p.modules.len())
        .into_par_iter()
        .flat_map_iter(|m| sites_in(p, m))
        .collect();
    let mut out = Mocks::default();
    for site in sites {
        apply(p, cat, site, &mut out);
    }
    out
}

fn sites_in(p: &Project, m: usize) -> Vec<Site> {
    let module = &p.modules[m];
    let mut sites = Vec::new();
    for stmt in &module.index.imports {
        let tops = stmt
            .from_module
            .iter()
            .map(|f| f.as_str())
            .chain(stmt.names.iter().map(|n| n.qualified.as_str()))
            .map(|q| q.split('.').next().unwrap_or(q));
        if let Some((lib, pkgs)) = tops
            .filter_map(|t| LIBRARIES.iter().find(|(l, _)| *l == t))
            .next()
        {
            sites.push(Site {
                module: m,
                line: stmt.line,
                col: 1,
                written: format!("the import of `{lib}`"),
                target: Target::Packages(pkgs),
            });
        }
    }
    if module.is_test {
        for f in &module.index.functions {
            for param in &f.params {
                if let Some((fixture, pkgs)) = FIXTURES.iter().find(|(n, _)| *n == param.name)
                    && module.index.binding(fixture).is_none()
                {
                    sites.push(Site {
                        module: m,
                        line: f.line,
                        col: 1,
                        written: format!("the `{fixture}` fixture"),
                        target: Target::Packages(pkgs),
                    });
                }
            }
        }
    }
    let src = &module.source.text;
    if !(src.contains("patch") || src.contains("setattr")) {
        return sites;
    }
    let syntax = module.syntax.unpack(src);
    let strings = Strings::new(syntax.root_node(), src);
    let mut stack = vec![syntax.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind() == "call" {
            call_site(p, m, node, &strings, &mut sites);
        }
        // In source order: when two mocks pin one function, the first one is its reason.
        let children: Vec<Node> = node.named_children(&mut node.walk()).collect();
        stack.extend(children.into_iter().rev());
    }
    sites
}

/// The arguments of a call: positional ones and `name=value` ones.
fn arguments<'a>(call: Node<'a>, src: &'a str) -> (Vec<Node<'a>>, Vec<(&'a str, Node<'a>)>) {
    let (mut pos, mut kw) = (Vec::new(), Vec::new());
    let Some(args) = call.child_by_field_name("arguments") else {
        return (pos, kw);
    };
    for a in args.named_children(&mut args.walk()) {
        match a.kind() {
            "keyword_argument" => {
                if let (Some(n), Some(v)) = (
                    a.child_by_field_name("name"),
                    a.child_by_field_name("value"),
                ) {
                    kw.push((text(n, src), v));
                }
            }
            "comment" => {}
            _ => pos.push(a),
        }
    }
    (pos, kw)
}

fn call_site(p: &Project, m: usize, call: Node, strings: &Strings, sites: &mut Vec<Site>) {
    let src = &p.modules[m].source.text;
    let Some(callee) = call.child_by_field_name("function") else {
        return;
    };
    let Some(form) = form_of(p, m, callee) else {
        return;
    };
    let (pos, kw) = arguments(call, src);
    let arg = |i: usize, name: &str| {
        kw.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .or_else(|| pos.get(i).copied())
    };
    let at = call.start_byte();
    let mut targets = Vec::new();
    match form {
        Form::Patch => targets.push(dotted_target(arg(0, "target"), strings)),
        Form::Object => targets.push(attr_target(
            p,
            m,
            at,
            strings,
            (arg(0, "target"), arg(1, "attribute")),
        )),
        Form::Multiple => {
            let names = kw.iter().map(|(k, _)| *k).filter(|k| {
                !matches!(
                    *k,
                    "target" | "spec" | "create" | "spec_set" | "autospec" | "new_callable"
                )
            });
            let target = arg(0, "target");
            match target.and_then(|t| strings.value(t)) {
                Some(s) => targets.extend(names.map(|n| Target::Dotted(format!("{s}.{n}")))),
                None => {
                    let obj = target.map(|t| resolve(p, m, at, t));
                    match obj {
                        Some(Some(sym)) => targets
                            .extend(names.map(|n| Target::Attr(Some(sym.clone()), n.to_string()))),
                        _ => targets.push(Target::Unknown),
                    }
                }
            }
        }
        Form::SetAttr | Form::DelAttr => {
            // `setattr("pkg.mod.name", value)` / `delattr("pkg.mod.name")`, or the object form
            // `setattr(obj, "name", value)` / `delattr(obj, "name")`.
            let monkeypatch = receiver_is_monkeypatch(callee, src);
            let first = pos.first().copied();
            let dotted_max = if form == Form::SetAttr { 2 } else { 1 };
            match first.and_then(|f| strings.value(f)) {
                Some(s) if pos.len() <= dotted_max && s.contains('.') && is_dotted(&s) => {
                    targets.push(Target::Dotted(s));
                }
                _ if pos.len() >= 2 => match strings.value(pos[1]) {
                    Some(name) => {
                        targets.push(Target::Attr(first.and_then(|o| resolve(p, m, at, o)), name));
                    }
                    // Another object's `setattr` method: not a mock.
                    None if monkeypatch => targets.push(Target::Unknown),
                    None => {}
                },
                _ if monkeypatch => targets.push(Target::Unknown),
                _ => {}
            }
        }
    }
    let written = format!("`{}`", shorten(text(call, src)));
    let pos0 = call.start_position();
    for target in targets {
        sites.push(Site {
            module: m,
            line: line(call),
            col: pos0.column + 1,
            written: written.clone(),
            target,
        });
    }
}

fn receiver_is_monkeypatch(callee: Node, src: &str) -> bool {
    callee
        .child_by_field_name("object")
        .is_some_and(|o| text(o, src).rsplit('.').next() == Some("monkeypatch"))
}

/// The first line of a call, at most 80 characters.
fn shorten(s: &str) -> String {
    let first = s.lines().next().unwrap_or_default();
    let mut out: String = first.chars().take(80).collect();
    if out.len() < s.len() {
        out.push_str("...");
    }
    out
}

/// Which mock a callee is, if any.
fn form_of(p: &Project, m: usize, callee: Node) -> Option<Form> {
    let src = &p.modules[m].source.text;
    let parts = dotted_parts(callee, src)?;
    if callee.kind() == "attribute" {
        let last = *parts.last()?;
        if last == "setattr" || last == "delattr" {
            return Some(if last == "setattr" {
                Form::SetAttr
            } else {
                Form::DelAttr
            });
        }
    }
    // A fixture parameter (or an unbound name), not a project or imported `mocker`.
    if MOCKERS.contains(&parts[0])
        && parts.get(1) == Some(&"patch")
        && matches!(
            resolve_head(p, m, callee.start_byte(), parts[0]),
            None | Some(Sym::External(_))
        )
    {
        return match &parts[2..] {
            [] => Some(Form::Patch),
            [rest] => sub_of(&format!(".{rest}")),
            _ => None,
        };
    }
    // By name, not by symbol: when the run holds `unittest/mock.py` itself (the standard
    // library), `patch` is a project function and `patch.object` an attribute set on it.
    let head = resolve_head(p, m, callee.start_byte(), parts[0])?;
    let mut q = sym_name(p, &head);
    for part in &parts[1..] {
        q.push('.');
        q.push_str(part);
    }
    PATCH.iter().find_map(|base| sub_of(q.strip_prefix(base)?))
}

fn sub_of(rest: &str) -> Option<Form> {
    match rest {
        "" => Some(Form::Patch),
        ".object" => Some(Form::Object),
        ".multiple" => Some(Form::Multiple),
        _ => None,
    }
}

/// `a.b.c` as its parts, if the node is a chain of names.
/// A module's text and its module-level string constants (`MODULE = "pkg.client"`), which
/// mock targets are often built from (`patch(f"{MODULE}.fetch")`).
struct Strings<'a> {
    src: &'a str,
    consts: HashMap<&'a str, Option<String>>,
}

impl<'a> Strings<'a> {
    /// The constants assigned at module level: a string awaitify can read, or `None`.
    fn new(root: Node<'a>, src: &'a str) -> Strings<'a> {
        let mut strings = Strings {
            src,
            consts: HashMap::default(),
        };
        for stmt in root.named_children(&mut root.walk()) {
            let Some(assign) = stmt
                .named_child(0)
                .filter(|a| stmt.kind() == "expression_statement" && a.kind() == "assignment")
            else {
                continue;
            };
            let (Some(left), Some(right)) = (
                assign.child_by_field_name("left"),
                assign.child_by_field_name("right"),
            ) else {
                continue;
            };
            if left.kind() != "identifier" {
                continue;
            }
            let name = text(left, src);
            // Assigned twice: which value a use sees depends on when it runs.
            let value = match strings.consts.contains_key(name) {
                true => None,
                false => strings.value(right),
            };
            strings.consts.insert(name, value);
        }
        strings
    }

    /// The value of a string expression: a literal, an f-string, `+` of those, and the
    /// constants they name. `None` for anything else (an escape, a format spec, a call).
    fn value(&self, node: Node) -> Option<String> {
        match node.kind() {
            "string" => self.string(node),
            "identifier" => self.consts.get(text(node, self.src))?.clone(),
            "parenthesized_expression" => self.value(node.named_child(0)?),
            "binary_operator" | "concatenated_string" => {
                if node.kind() == "binary_operator"
                    && !node.children(&mut node.walk()).any(|c| c.kind() == "+")
                {
                    return None;
                }
                let mut out = String::new();
                for part in node.named_children(&mut node.walk()) {
                    out.push_str(&self.value(part)?);
                }
                Some(out)
            }
            _ => None,
        }
    }

    fn string(&self, node: Node) -> Option<String> {
        let t = text(node, self.src);
        let body = t.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        let prefix = &t[..t.len() - body.len()];
        let f = match prefix {
            "" | "u" | "U" => false,
            "f" | "F" => true,
            _ => return None,
        };
        let q = ["\"\"\"", "'''", "\"", "'"]
            .into_iter()
            .find(|q| body.starts_with(q) && body.ends_with(q) && body.len() >= 2 * q.len())?;
        let end = node.end_byte() - q.len();
        let mut out = String::new();
        let mut at = node.start_byte() + prefix.len() + q.len();
        for part in node.named_children(&mut node.walk()) {
            // Only an f-string has children here (the syntax keeps no string content).
            if !f || part.kind() != "interpolation" || part.named_child_count() != 1 {
                return None;
            }
            out.push_str(&self.src[at..part.start_byte()]);
            out.push_str(&self.value(part.named_child(0)?)?);
            at = part.end_byte();
        }
        out.push_str(&self.src[at..end]);
        (!out.contains(['\\', '{', '}'])).then_some(out)
    }
}

fn dotted_target(node: Option<Node>, strings: &Strings) -> Target {
    match node.and_then(|n| strings.value(n)) {
        Some(s) if is_dotted(&s) => Target::Dotted(s),
        _ => Target::Unknown,
    }
}

fn is_dotted(s: &str) -> bool {
    s.split('.').all(|part| {
        !part.is_empty()
            && part.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !part.starts_with(|c: char| c.is_ascii_digit())
    })
}

fn attr_target(
    p: &Project,
    m: usize,
    at: usize,
    strings: &Strings,
    (obj, attr): (Option<Node>, Option<Node>),
) -> Target {
    match (obj, attr.and_then(|a| strings.value(a))) {
        (Some(obj), Some(name)) => Target::Attr(resolve(p, m, at, obj), name),
        _ => Target::Unknown,
    }
}

/// What a name written at `offset` of module `m` stands for: `None` for a parameter or local.
/// The search runs before matching, so it cannot ask the matcher; it shares the matcher's
/// scope lookup ([`ModuleIndex::lookup`](crate::index::ModuleIndex::lookup)) and differs only
/// in what it makes of a binding: project symbols, which
/// [`crate::matcher::qualified_name`] does not give.
fn resolve_head(p: &Project, m: usize, offset: usize, name: &str) -> Option<Sym> {
    let ix = &p.modules[m].index;
    match ix.lookup(name, ix.function_at(offset)) {
        Scoped::Local { import, .. } => import.map(|q| p.resolve(q)),
        Scoped::Unbound => Some(Sym::External(format!("builtins.{name}"))),
        Scoped::Global(Binding::Import(q)) => Some(p.resolve(q)),
        Scoped::Global(Binding::Function(f)) => Some(Sym::Func(FuncId {
            module: m as u32,
            func: *f as u32,
        })),
        Scoped::Global(Binding::Class(c)) => Some(Sym::Class(ClassId {
            module: m as u32,
            class: *c as u32,
        })),
        Scoped::Global(Binding::Value) | Scoped::Ambiguous => None,
    }
}

/// What a dotted expression stands for: a module, class, function or outside name.
fn resolve(p: &Project, m: usize, offset: usize, node: Node) -> Option<Sym> {
    let src = &p.modules[m].source.text;
    let parts = dotted_parts(node, src)?;
    let mut sym = resolve_head(p, m, offset, parts[0])?;
    for part in &parts[1..] {
        sym = member(p, sym, part)?;
    }
    Some(sym)
}

fn member(p: &Project, sym: Sym, name: &str) -> Option<Sym> {
    match sym {
        Sym::Module(mi) => Some(p.resolve(&format!("{}.{name}", p.modules[mi].name))),
        Sym::External(q) => Some(Sym::External(format!("{q}.{name}"))),
        Sym::Class(c) => p.method(c, name).map(Sym::Func),
        Sym::Func(_) => None,
    }
}

/// The rules a mock of the outside name `q` keeps: those of its package, and of the packages
/// that reach it underneath; for a builtin (`builtins.open`), those that match it.
fn rules_for(cat: &Catalog, q: &str) -> BTreeSet<RuleId> {
    let mut out = BTreeSet::new();
    if let Some(name) = q.strip_prefix("builtins.") {
        for id in 0..cat.rules.len() {
            if cat.matched_names(id).iter().any(|n| *n == name || *n == q) {
                out.insert(id);
            }
        }
        return out;
    }
    let top = q.split('.').next().unwrap_or(q);
    let mut packages = vec![top];
    if let Some((_, more)) = REACHED_THROUGH.iter().find(|(t, _)| *t == top) {
        packages.extend(more.iter().copied());
    }
    for pkg in packages {
        out.extend(package_rules(cat, pkg));
    }
    out
}

fn package_rules(cat: &Catalog, pkg: &str) -> BTreeSet<RuleId> {
    (0..cat.rules.len())
        .filter(|&id| {
            cat.matched_names(id)
                .iter()
                .any(|n| n.split_once('.').is_some_and(|(top, _)| top == pkg))
        })
        .collect()
}

/// Every method of a class and of its project bases (a mocked class's instances are mocks).
fn class_methods(p: &Project, c: ClassId) -> Vec<FuncId> {
    p.mro(c)
        .iter()
        .flat_map(|k| {
            p.class(*k).methods.values().map(move |&f| FuncId {
                module: k.module,
                func: f as u32,
            })
        })
        .collect()
}

fn apply(p: &Project, cat: &Catalog, site: Site, out: &mut Mocks) {
    let mut rules = BTreeSet::new();
    let mut funcs: Vec<FuncId> = Vec::new();
    let mut api = String::new();
    let from_sym = |sym: Sym, rules: &mut BTreeSet<RuleId>, funcs: &mut Vec<FuncId>| match sym {
        Sym::Func(f) => funcs.push(f),
        Sym::Class(c) => funcs.extend(class_methods(p, c)),
        Sym::Module(_) => {}
        Sym::External(q) => rules.extend(rules_for(cat, &q)),
    };
    match &site.target {
        Target::Dotted(s) => {
            api = s.clone();
            from_sym(p.resolve(s), &mut rules, &mut funcs);
        }
        Target::Attr(Some(obj), name) => {
            api = format!("{}.{name}", sym_name(p, obj));
            if let Some(sym) = member(p, obj.clone(), name) {
                from_sym(sym, &mut rules, &mut funcs);
            }
        }
        Target::Attr(None, name) => {
            // An instance: any project method of that name, and any catalog method.
            api = format!("`.{name}` of an object");
            funcs.extend(p.func_ids().filter(|&f| {
                let def = p.func(f);
                def.is_method() && def.name == name.as_str()
            }));
            for (method, rule) in cat.method_names() {
                if method == name {
                    for ty in cat.matched_names(rule) {
                        rules.extend(rules_for(cat, ty));
                    }
                }
            }
        }
        Target::Packages(pkgs) => {
            api = pkgs
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ");
            for pkg in *pkgs {
                rules.extend(package_rules(cat, pkg));
            }
        }
        Target::Unknown => {}
    }
    let display = &p.modules[site.module].display;
    if matches!(site.target, Target::Unknown) {
        out.diagnostics.push(Diagnostic::new(
            display,
            site.line,
            site.col,
            MOCK_TARGET_UNKNOWN,
            format!(
                "awaitify cannot tell what {} replaces (its target is not a string it can read), so every API of the catalog stays sync in this run and the mock still intercepts whatever it replaces; write the target as a string to let the migration go on",
                site.written
            ),
        ));
        // Whatever it replaces stays as it is: no rule converts anything.
        out.kept.extend(cat.rule_ids());
        return;
    }
    if !rules.is_empty() {
        let ids: Vec<String> = rules
            .iter()
            .map(|&r| format!("`{}`", cat.rule(r).id))
            .collect();
        let api = match &site.target {
            Target::Packages(_) => format!("all of {api}"),
            _ => format!("`{api}`"),
        };
        out.diagnostics.push(Diagnostic::new(
            display,
            site.line,
            site.col,
            MOCKED_API_KEPT,
            format!(
                "{} mocks {api}: the rules {} stay sync project-wide (their calls are left as they are), so the mock still intercepts them",
                site.written,
                ids.join(", ")
            ),
        ));
        out.kept.extend(rules);
    }
    funcs.sort();
    funcs.dedup();
    for f in funcs {
        out.pins.push((
            f,
            Pin {
                reason: format!(
                    "`{}` is replaced by the mock {}, whose return value cannot be awaited",
                    p.func(f).name,
                    site.written
                ),
                module: site.module,
                line: site.line,
            },
        ));
    }
}

fn sym_name(p: &Project, sym: &Sym) -> String {
    match sym {
        Sym::Module(m) => p.modules[*m].name.clone(),
        Sym::Func(f) => p.func_name(*f),
        Sym::Class(c) => {
            let m = &p.modules[c.module as usize];
            format!("{}.{}", m.name, p.class(*c).qualname)
        }
        Sym::External(q) => q.clone(),
    }
}
