//! Per-module facts that do not depend on the rest of the project: imports, definitions,
//! classes and the names each scope binds.
//!
//! The index is built once per parsed module; the matcher combines it with the project's
//! current knowledge to resolve call sites.

use crate::parse::{line, text};
use crate::syntax::{Node, Syntax};
use rustc_hash::FxHashMap as HashMap;

pub mod imports;

pub use imports::{ImportName, ImportStmt};

/// A name the index keeps: inline up to 24 bytes, as identifiers nearly always are, so the
/// hundreds of thousands of names a large project has cost no allocation each.
pub type Name = compact_str::CompactString;

/// A `def` or `async def`.
#[derive(Debug, Clone)]
pub struct FuncDef {
    pub name: Name,
    /// Dotted path inside the module: `f`, `Class.method`, `outer.inner`.
    pub qualname: Name,
    /// The `function_definition` node (starts at `async` or `def`).
    pub start: usize,
    pub end: usize,
    pub name_range: (usize, usize),
    pub body_start: usize,
    /// First line of the definition including decorators.
    pub first_line: usize,
    pub line: usize,
    pub is_async: bool,
    pub is_generator: bool,
    /// Its body, past a docstring, is one `raise`: it never returns a value (an abstract
    /// method by convention, `raise NotImplementedError`).
    pub only_raises: bool,
    pub class: Option<usize>,
    pub parent: Option<usize>,
    /// Decorators as written, without `@` and call arguments (`functools.lru_cache`).
    pub decorators: Vec<Name>,
    pub params: Vec<Param>,
    /// The return annotation as written (`-> Optional[Conn]`).
    pub returns: Option<Name>,
    /// Names bound in this function's own scope.
    pub locals: Names,
    /// Names this function binds only by an import (`from app.store import read_config` in
    /// its body): the qualified name each stands for, resolved as a module-level import is.
    pub imports: Box<[(Name, Name)]>,
}

/// A small set of names: a function binds a handful, and every function of the project
/// keeps its set for the whole run, so they are one allocation (the sorted names, each ended
/// by `\n`) rather than one per name. Most lookups are misses (a global or builtin looked up
/// in each enclosing function), so a 64-bit mask of the names' hashes answers most of them
/// without comparing strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    text: Box<str>,
    mask: u64,
}

fn name_bit(name: &str) -> u64 {
    use std::hash::BuildHasher;
    1 << (rustc_hash::FxBuildHasher.hash_one(name) & 63)
}

impl<'s> FromIterator<&'s str> for Names {
    fn from_iter<I: IntoIterator<Item = &'s str>>(names: I) -> Names {
        let mut v: Vec<&str> = names.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        let mask = v.iter().fold(0, |m, n| m | name_bit(n));
        let text = v.iter().flat_map(|n| [*n, "\n"]).collect::<String>();
        Names {
            text: text.into(),
            mask,
        }
    }
}

impl Names {
    fn iter(&self) -> impl Iterator<Item = &str> {
        self.text.split_terminator('\n')
    }

    pub fn contains(&self, name: &str) -> bool {
        if self.mask & name_bit(name) == 0 {
            return false;
        }
        // A byte loop: the names are short, and a `str` split costs more per name.
        let (mut rest, name) = (self.text.as_bytes(), name.as_bytes());
        while !rest.is_empty() {
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            match rest[..end].cmp(name) {
                std::cmp::Ordering::Equal => return true,
                // Sorted: the rest are greater still.
                std::cmp::Ordering::Greater => return false,
                std::cmp::Ordering::Less => rest = &rest[(end + 1).min(rest.len())..],
            }
        }
        false
    }
}

impl FuncDef {
    pub fn is_method(&self) -> bool {
        self.class.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: Name,
    pub annotation: Option<Name>,
}

#[derive(Debug, Clone)]
pub struct ClassDef {
    pub name: Name,
    pub qualname: Name,
    /// Base class expressions as written (`Base`, `pkg.Base`).
    pub bases: Vec<Name>,
    pub methods: HashMap<Name, usize>,
    /// Attributes annotated in the class body (`conn: Conn`, dataclass and NamedTuple
    /// fields) or on `self` in a method (`self.conn: Conn = c`): each name and its
    /// annotation as written.
    pub annotated: Vec<(Name, Name)>,
    /// `def __getattr__(self, name): return getattr(self.conn, name)` in the class body: the
    /// attribute (`conn`) every name the class lacks is read from, unchanged.
    pub forwards: Option<Name>,
    pub line: usize,
    /// Start of the `class_definition` node.
    pub start: usize,
}

/// What a module-level name is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// An import: the fully qualified name it stands for (relative imports resolved).
    Import(Name),
    Function(usize),
    Class(usize),
    /// An assignment or anything else: not a match for any catalog name.
    Value,
}

#[derive(Debug, Default, Clone)]
pub struct ModuleIndex {
    /// In preorder: a function's nested defs come right after it.
    pub functions: Vec<FuncDef>,
    pub classes: Vec<ClassDef>,
    pub imports: Vec<ImportStmt>,
    /// Module-scope bindings; a name bound two different ways is ambiguous.
    pub bindings: HashMap<Name, Vec<Binding>>,
    /// Byte range of the `if __name__ == "__main__":` block's body, if any.
    pub main_block: Option<(usize, usize)>,
    /// Module-level assignments that read as type aliases (`Conn = Union[A, B]`,
    /// `Conn = A | B`, `Conn: TypeAlias = ...`): the name and the right side's text.
    pub type_aliases: Vec<(Name, Name)>,
}

/// Where a name read in some scope is bound: the scope lookup every resolver shares (the
/// matcher's, [`crate::matcher::qualified_name`]'s and the mock search's), so that a local
/// shadowing an import means the same to all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoped<'a> {
    /// Bound in function `func`, the innermost enclosing one that binds it; `import` is the
    /// qualified name when that binding is an import in the function's body.
    Local {
        func: usize,
        import: Option<&'a str>,
    },
    /// Bound at module level, one way.
    Global(&'a Binding),
    /// Bound at module level in more than one way.
    Ambiguous,
    /// Bound nowhere in the module: a builtin, a star import's name, or a `NameError`.
    Unbound,
}

impl ModuleIndex {
    /// What `name` means when read in function `scope` (or at module level): the enclosing
    /// functions from the innermost out, then the module. Class bodies are skipped, as
    /// Python skips them for code in methods.
    pub fn lookup(&self, name: &str, scope: Option<usize>) -> Scoped<'_> {
        let mut cur = scope;
        while let Some(f) = cur {
            let def = &self.functions[f];
            if def.locals.contains(name) {
                let import = def.imports.iter().find(|(n, _)| n == name);
                return Scoped::Local {
                    func: f,
                    import: import.map(|(_, q)| q.as_str()),
                };
            }
            cur = def.parent;
        }
        match (self.bindings.contains_key(name), self.binding(name)) {
            (false, _) => Scoped::Unbound,
            (true, Some(b)) => Scoped::Global(b),
            (true, None) => Scoped::Ambiguous,
        }
    }

    /// The module-scope meaning of `name`, if it is bound exactly one way.
    pub fn binding(&self, name: &str) -> Option<&Binding> {
        let all = self.bindings.get(name)?;
        let first = all.first()?;
        all.iter().all(|b| b == first).then_some(first)
    }

    /// The innermost function whose body contains `offset`.
    pub fn function_at(&self, offset: usize) -> Option<usize> {
        self.functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.body_start <= offset && offset < f.end)
            .max_by_key(|(_, f)| f.start)
            .map(|(i, _)| i)
    }
}

/// Builds the index of one module. `module` is its dotted name and `is_package` whether it
/// is an `__init__.py`, both needed to resolve relative imports.
pub fn build(tree: &Syntax, src: &str, module: &str, is_package: bool) -> ModuleIndex {
    let mut ix = ModuleIndex::default();
    let mut b = Builder {
        src,
        module,
        is_package,
        ix: &mut ix,
        locals: Vec::new(),
        imported: Vec::new(),
    };
    b.scope(tree.root_node(), None, None, "");
    let locals = std::mem::take(&mut b.locals);
    let imported = std::mem::take(&mut b.imported);
    for (def, names) in ix.functions.iter_mut().zip(&imported) {
        def.imports = local_imports(def, names);
    }
    for (def, names) in ix.functions.iter_mut().zip(locals) {
        if !names.is_empty() {
            def.locals = def
                .locals
                .iter()
                .chain(names.iter().map(Name::as_str))
                .collect();
        }
    }
    ix
}

struct Builder<'a> {
    src: &'a str,
    module: &'a str,
    is_package: bool,
    ix: &'a mut ModuleIndex,
    /// Each function's locals as they are found; made into its [`Names`] once, at the end.
    locals: Vec<Vec<Name>>,
    /// Each function's bindings as they are found: the qualified name of an import, `None`
    /// for any other binding.
    imported: Vec<Vec<(Name, Option<Name>)>>,
}

/// The names a function binds by import and in no other way (not a parameter, not assigned,
/// not imported twice as different things): only those resolve like a module's imports.
fn local_imports(def: &FuncDef, bound: &[(Name, Option<Name>)]) -> Box<[(Name, Name)]> {
    let mut out: Vec<(Name, Name)> = Vec::new();
    for (name, q) in bound {
        let Some(q) = q else { continue };
        let only = bound
            .iter()
            .filter(|(n, _)| n == name)
            .all(|(_, other)| other.as_ref() == Some(q));
        let param = def.params.iter().any(|p| p.name == *name);
        if only && !param && !out.iter().any(|(n, _)| n == name) {
            out.push((name.clone(), q.clone()));
        }
    }
    out.into()
}

impl Builder<'_> {
    /// Walks the statements of a scope (module, class or function body).
    fn scope(&mut self, node: Node, func: Option<usize>, class: Option<usize>, prefix: &str) {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            self.statement(child, func, class, prefix);
        }
    }

    fn bind(&mut self, func: Option<usize>, class: Option<usize>, name: &str, binding: Binding) {
        match (func, class) {
            (Some(f), _) => {
                self.locals[f].push(Name::from(name));
                let q = match binding {
                    Binding::Import(q) => Some(q),
                    _ => None,
                };
                self.imported[f].push((Name::from(name), q));
            }
            (None, None) => self
                .ix
                .bindings
                .entry(Name::from(name))
                .or_default()
                .push(binding),
            (None, Some(_)) => {}
        }
    }

    fn statement(&mut self, node: Node, func: Option<usize>, class: Option<usize>, prefix: &str) {
        match node.kind() {
            "function_definition" => self.function(node, node, func, class, prefix),
            "class_definition" => self.class(node, func, prefix),
            "decorated_definition" => {
                if let Some(def) = node.child_by_field_name("definition") {
                    match def.kind() {
                        "function_definition" => self.function(def, node, func, class, prefix),
                        "class_definition" => self.class(def, func, prefix),
                        _ => {}
                    }
                }
            }
            "import_statement" | "import_from_statement" | "future_import_statement" => {
                if let Some(stmt) = imports::parse(
                    node,
                    self.src,
                    self.module,
                    self.is_package,
                    func.is_none() && class.is_none(),
                ) {
                    for n in &stmt.names {
                        self.bind(
                            func,
                            class,
                            &n.local,
                            Binding::Import(n.qualified.as_str().into()),
                        );
                    }
                    self.ix.imports.push(stmt);
                }
            }
            "if_statement"
                if func.is_none() && class.is_none() && is_main_guard(node, self.src) =>
            {
                if let Some(body) = node.child_by_field_name("consequence") {
                    self.ix.main_block = Some((body.start_byte(), body.end_byte()));
                }
                self.nested(node, func, class, prefix);
            }
            _ => {
                if func.is_none() && class.is_none() {
                    self.ix.type_aliases.extend(type_alias(node, self.src));
                }
                self.targets(node, func, class);
                self.nested(node, func, class, prefix);
            }
        }
    }

    /// Recurse into compound statements (if/for/while/try/with bodies) of the same scope.
    fn nested(&mut self, node: Node, func: Option<usize>, class: Option<usize>, prefix: &str) {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            match child.kind() {
                "block" | "else_clause" | "elif_clause" | "except_clause" | "finally_clause"
                | "case_clause" | "match_statement" => {
                    self.targets(child, func, class);
                    if child.kind() == "block" {
                        self.scope(child, func, class, prefix);
                    } else {
                        self.nested(child, func, class, prefix);
                    }
                }
                _ => {}
            }
        }
    }

    /// Names bound by assignment-like statements directly in `node`.
    fn targets(&mut self, node: Node, func: Option<usize>, class: Option<usize>) {
        let mut names = Vec::new();
        collect_bound_names(node, self.src, &mut names);
        // A comprehension's variables, so that types can flow through them (only in functions:
        // at module level they would shadow imports of the same name).
        if func.is_some() {
            comprehension_names(node, self.src, &mut names);
        }
        for n in names {
            self.bind(func, class, &n, Binding::Value);
        }
    }

    fn function(
        &mut self,
        def: Node,
        outer: Node,
        func: Option<usize>,
        class: Option<usize>,
        prefix: &str,
    ) {
        let src = self.src;
        let Some(name_node) = def.child_by_field_name("name") else {
            return;
        };
        let name = text(name_node, src).to_string();
        let qualname = format!("{prefix}{name}");
        let is_async = def.child(0).is_some_and(|c| c.kind() == "async");
        let mut decorators = Vec::new();
        if outer.kind() == "decorated_definition" {
            let mut cursor = outer.walk();
            for d in outer
                .named_children(&mut cursor)
                .filter(|d| d.kind() == "decorator")
            {
                if let Some(expr) = d.named_child(0) {
                    let callee = if expr.kind() == "call" {
                        expr.child_by_field_name("function").unwrap_or(expr)
                    } else {
                        expr
                    };
                    decorators.push(text(callee, src).into());
                }
            }
        }
        let mut params = Vec::new();
        if let Some(ps) = def.child_by_field_name("parameters") {
            let mut cursor = ps.walk();
            for p in ps.named_children(&mut cursor) {
                let (pname, ann) = match p.kind() {
                    "identifier" => (Some(p), None),
                    "typed_parameter" => (p.named_child(0), p.child_by_field_name("type")),
                    "default_parameter" | "typed_default_parameter" => {
                        (p.child_by_field_name("name"), p.child_by_field_name("type"))
                    }
                    "list_splat_pattern" | "dictionary_splat_pattern" => (p.named_child(0), None),
                    _ => (None, None),
                };
                if let Some(pname) = pname.filter(|n| n.kind() == "identifier") {
                    params.push(Param {
                        name: text(pname, src).into(),
                        annotation: ann.map(|a| text(a, src).into()),
                    });
                }
            }
        }
        let body = def.child_by_field_name("body");
        let idx = self.ix.functions.len();
        self.ix.functions.push(FuncDef {
            name: name.as_str().into(),
            qualname: qualname.as_str().into(),
            start: def.start_byte(),
            end: def.end_byte(),
            name_range: (name_node.start_byte(), name_node.end_byte()),
            body_start: body.map_or(def.end_byte(), |b| b.start_byte()),
            first_line: line(outer),
            line: line(def),
            is_async,
            is_generator: body.is_some_and(|b| contains_yield(b)),
            only_raises: body.is_some_and(only_raises),
            class,
            parent: func,
            decorators,
            params: params.clone(),
            returns: def
                .child_by_field_name("return_type")
                .map(|r| text(r, src).into()),
            locals: params.iter().map(|p| p.name.as_str()).collect(),
            imports: Box::default(),
        });
        self.locals.push(Vec::new());
        self.imported.push(Vec::new());
        match (func, class) {
            (None, Some(c)) => {
                self.ix.classes[c].methods.insert(name.as_str().into(), idx);
                if name == "__getattr__" && self.ix.functions[idx].decorators.is_empty() {
                    self.ix.classes[c].forwards = body.and_then(|b| forwarding(b, &params, src));
                }
                let instance = !decorators_of(&self.ix.functions[idx])
                    .any(|d| matches!(d, "staticmethod" | "classmethod"));
                if let (Some(body), Some(first), true) = (body, params.first(), instance) {
                    let declared = self_annotations(body, &first.name, src);
                    self.ix.classes[c].annotated.extend(declared);
                }
            }
            _ => self.bind(func, class, &name, Binding::Function(idx)),
        }
        if let Some(body) = body {
            self.scope(body, Some(idx), None, &format!("{qualname}."));
        }
    }

    fn class(&mut self, def: Node, func: Option<usize>, prefix: &str) {
        let src = self.src;
        let Some(name_node) = def.child_by_field_name("name") else {
            return;
        };
        let name = text(name_node, src).to_string();
        let mut bases = Vec::new();
        if let Some(args) = def.child_by_field_name("superclasses") {
            let mut cursor = args.walk();
            for a in args.named_children(&mut cursor) {
                // `Base[T]` is `Base`; any other expression (`namedtuple(...)`, `*bases`) is
                // kept as written: it names no project class, and it hides what the class
                // inherits from outside the project.
                let named = match a.kind() {
                    "keyword_argument" | "comment" => continue,
                    "subscript" => a
                        .child_by_field_name("value")
                        .filter(|v| matches!(v.kind(), "identifier" | "attribute"))
                        .unwrap_or(a),
                    _ => a,
                };
                bases.push(text(named, src).into());
            }
        }
        let idx = self.ix.classes.len();
        let qualname = format!("{prefix}{name}");
        self.ix.classes.push(ClassDef {
            name: name.as_str().into(),
            qualname: qualname.as_str().into(),
            bases,
            methods: HashMap::default(),
            annotated: body_annotations(def, src),
            forwards: None,
            line: line(def),
            start: def.start_byte(),
        });
        self.bind(func, None, &name, Binding::Class(idx));
        if let Some(body) = def.child_by_field_name("body") {
            let mut cursor = body.walk();
            for child in body.named_children(&mut cursor) {
                self.statement(child, None, Some(idx), &format!("{qualname}."));
            }
        }
    }
}

/// The decorators of `f` by their last name (`staticmethod` for `builtins.staticmethod`).
fn decorators_of(f: &FuncDef) -> impl Iterator<Item = &str> {
    f.decorators
        .iter()
        .map(|d| d.rsplit('.').next().unwrap_or_default())
}

/// `self.name: T` and `self.name: T = value` in a method's body (`self` being its first
/// parameter), outside nested functions and classes: a type checker reads them as the
/// declaration of the instance attribute, as it reads `name: T` in the class body.
fn self_annotations(body: Node, first: &str, src: &str) -> Vec<(Name, Name)> {
    let mut out = Vec::new();
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "function_definition" | "class_definition" | "lambda" => continue,
            "assignment" => {
                let left = n
                    .child_by_field_name("left")
                    .filter(|l| l.kind() == "attribute");
                let object = left.and_then(|l| l.child_by_field_name("object"));
                let attr = left.and_then(|l| l.child_by_field_name("attribute"));
                if let (Some(ty), Some(object), Some(attr)) =
                    (n.child_by_field_name("type"), object, attr)
                    && object.kind() == "identifier"
                    && text(object, src) == first
                {
                    out.push((text(attr, src).into(), text(ty, src).into()));
                }
            }
            _ => {}
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    out
}

/// `Name = <type>` as a statement: a union (`A | B`), a subscripted name
/// (`Union[A, B]`, `Optional[A]`), or anything annotated `TypeAlias`. The text is read as an
/// annotation wherever the name is used as one.
fn type_alias(stmt: Node, src: &str) -> Option<(Name, Name)> {
    let a = stmt
        .named_child(0)
        .filter(|_| stmt.kind() == "expression_statement")?;
    let left = a
        .child_by_field_name("left")
        .filter(|l| a.kind() == "assignment" && l.kind() == "identifier")?;
    let right = a.child_by_field_name("right")?;
    let declared = a
        .child_by_field_name("type")
        .is_some_and(|t| text(t, src).rsplit('.').next() == Some("TypeAlias"));
    let typelike = match right.kind() {
        "binary_operator" => right
            .child_by_field_name("operator")
            .is_some_and(|o| o.kind() == "|"),
        "subscript" => right
            .child_by_field_name("value")
            .is_some_and(|v| matches!(v.kind(), "identifier" | "attribute")),
        _ => false,
    };
    (declared || typelike).then(|| (text(left, src).into(), text(right, src).into()))
}

/// `name: T` and `name: T = value` directly in a class body.
fn body_annotations(def: Node, src: &str) -> Vec<(Name, Name)> {
    let Some(body) = def.child_by_field_name("body") else {
        return Vec::new();
    };
    let mut cursor = body.walk();
    body.named_children(&mut cursor)
        .filter(|s| s.kind() == "expression_statement")
        .filter_map(|s| s.named_child(0))
        .filter(|a| a.kind() == "assignment")
        .filter_map(|a| {
            let left = a.child_by_field_name("left")?;
            let ty = a.child_by_field_name("type")?;
            (left.kind() == "identifier").then(|| (text(left, src).into(), text(ty, src).into()))
        })
        .collect()
}

/// `if __name__ == "__main__":` (either operand order, either quote style).
fn is_main_guard(node: Node, src: &str) -> bool {
    let Some(cond) = node.child_by_field_name("condition") else {
        return false;
    };
    if cond.kind() != "comparison_operator" {
        return false;
    }
    let t: String = text(cond, src)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    matches!(
        t.as_str(),
        "__name__=='__main__'"
            | "__name__==\"__main__\""
            | "'__main__'==__name__"
            | "\"__main__\"==__name__"
    )
}

/// The statements of `body`, without comments and past an optional docstring.
fn statements(body: Node) -> Vec<Node> {
    let mut cursor = body.walk();
    let mut stmts: Vec<Node> = body
        .named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect();
    if stmts.first().is_some_and(|s| {
        s.kind() == "expression_statement" && s.named_child(0).is_some_and(|e| e.kind() == "string")
    }) {
        stmts.remove(0);
    }
    stmts
}

/// The body of `def __getattr__(self, name)`, past a docstring, is one
/// `return getattr(self.<attr>, name)`: the attribute it forwards every missing name to.
fn forwarding(body: Node, params: &[Param], src: &str) -> Option<Name> {
    let [this, name] = params else {
        return None;
    };
    let [ret] = statements(body)[..] else {
        return None;
    };
    let call = ret
        .named_child(0)
        .filter(|c| ret.kind() == "return_statement" && c.kind() == "call")?;
    let function = call.child_by_field_name("function")?;
    let args = call.child_by_field_name("arguments")?;
    let mut cursor = args.walk();
    let args: Vec<Node> = args
        .named_children(&mut cursor)
        .filter(|a| a.kind() != "comment")
        .collect();
    let [obj, key] = args.as_slice() else {
        return None;
    };
    let object = obj.child_by_field_name("object")?;
    let attr = obj.child_by_field_name("attribute")?;
    let exact = text(function, src) == "getattr"
        && obj.kind() == "attribute"
        && object.kind() == "identifier"
        && text(object, src) == this.name.as_str()
        && key.kind() == "identifier"
        && text(*key, src) == name.name.as_str();
    exact.then(|| text(attr, src).into())
}

/// Whether `body` is one `raise` statement, after an optional docstring.
fn only_raises(body: Node) -> bool {
    matches!(statements(body)[..], [r] if r.kind() == "raise_statement")
}

/// Whether a function body yields (ignoring nested functions, lambdas and classes).
pub fn contains_yield(node: Node) -> bool {
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        match child.kind() {
            "yield" => return true,
            "function_definition" | "lambda" | "class_definition" | "decorated_definition" => {}
            _ => {
                if contains_yield(child) {
                    return true;
                }
            }
        }
    }
    false
}

/// Names bound by the statement `node` itself (assignment targets, for targets, `with ... as`,
/// `except ... as`, walrus, `global` is ignored). Does not descend into nested blocks.
/// The targets of `for ... in` clauses of comprehensions in `node`, not entering nested
/// blocks, functions, lambdas or classes (their own statements are walked separately).
fn comprehension_names(node: Node, src: &str, out: &mut Vec<String>) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        match n.kind() {
            "block" | "function_definition" | "class_definition" | "lambda"
                if n.id() != node.id() =>
            {
                continue;
            }
            "block" => continue,
            "for_in_clause" => {
                if let Some(left) = n.child_by_field_name("left") {
                    pattern_names(left, src, out);
                }
            }
            _ => {}
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
}

pub fn collect_bound_names(node: Node, src: &str, out: &mut Vec<String>) {
    match node.kind() {
        "expression_statement" => {
            let mut cursor = node.walk();
            for c in node.named_children(&mut cursor) {
                collect_bound_names(c, src, out);
            }
        }
        "assignment" | "augmented_assignment" => {
            if let Some(left) = node.child_by_field_name("left") {
                pattern_names(left, src, out);
            }
            if let Some(right) = node.child_by_field_name("right")
                && right.kind() == "assignment"
            {
                collect_bound_names(right, src, out);
            }
        }
        "for_statement" => {
            if let Some(left) = node.child_by_field_name("left") {
                pattern_names(left, src, out);
            }
        }
        "with_statement" => {
            let mut stack = vec![node];
            while let Some(n) = stack.pop() {
                if n.kind() == "as_pattern" {
                    if let Some(alias) = n.child_by_field_name("alias") {
                        pattern_names(alias, src, out);
                    }
                } else if !matches!(n.kind(), "block") {
                    let mut cursor = n.walk();
                    stack.extend(n.named_children(&mut cursor));
                }
            }
        }
        "except_clause" => {
            let mut cursor = node.walk();
            for c in node.named_children(&mut cursor) {
                if c.kind() == "as_pattern"
                    && let Some(alias) = c.child_by_field_name("alias")
                {
                    pattern_names(alias, src, out);
                }
            }
        }
        _ => {}
    }
}

fn pattern_names(node: Node, src: &str, out: &mut Vec<String>) {
    match node.kind() {
        "identifier" => out.push(text(node, src).to_string()),
        "pattern_list"
        | "tuple_pattern"
        | "list_pattern"
        | "as_pattern_target"
        | "list_splat_pattern"
        | "parenthesized_expression"
        | "tuple"
        | "list" => {
            let mut cursor = node.walk();
            for c in node.named_children(&mut cursor) {
                pattern_names(c, src, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn index(src: &str) -> ModuleIndex {
        build(&Syntax::new(&parse(src).unwrap(), src), src, "m", false)
    }

    #[test]
    fn names_hold_exactly_what_was_inserted() {
        let names: Names = ["ab", "a", "ab", "éx", "abc", "a"].into_iter().collect();
        for n in ["a", "ab", "abc", "éx"] {
            assert!(names.contains(n), "{n}");
        }
        for n in ["", "b", "x", "é", "ab\na", "abcd"] {
            assert!(!names.contains(n), "{n:?}");
        }
        assert_eq!(names.iter().collect::<Vec<_>>(), ["a", "ab", "abc", "éx"]);
        assert!(!Names::default().contains(""));
    }

    #[test]
    fn functions_classes_and_bindings() {
        let ix = index(
            "import time as t\nfrom os import path\n\nclass A(Base):\n    def m(self, x: int):\n        y = 1\n        yield y\n\nasync def f():\n    pass\n\nx = 3\n",
        );
        assert_eq!(ix.binding("t"), Some(&Binding::Import("time".into())));
        assert_eq!(ix.binding("path"), Some(&Binding::Import("os.path".into())));
        assert_eq!(ix.binding("x"), Some(&Binding::Value));
        let m = &ix.functions[0];
        assert_eq!(m.qualname, "A.m");
        assert!(m.is_generator && !m.is_async && m.locals.contains("y") && m.locals.contains("x"));
        assert_eq!(m.params[1].annotation.as_deref(), Some("int"));
        assert!(ix.functions[1].is_async);
        assert_eq!(ix.classes[0].bases, vec!["Base"]);
    }

    #[test]
    fn rebinding_an_import_makes_it_ambiguous() {
        let ix = index("from time import sleep\nsleep = print\n");
        assert_eq!(ix.binding("sleep"), None);
    }

    #[test]
    fn comprehension_variables_are_function_locals_only() {
        let ix = index(
            "import time\n\nlast = [time for time in range(2)]\n\ndef f(fs):\n    if any(x for x in fs):\n        return sum(g.result() for g in fs)\n",
        );
        assert_eq!(ix.binding("time"), Some(&Binding::Import("time".into())));
        let f = &ix.functions[0];
        assert!(
            f.locals.contains("x") && f.locals.contains("g"),
            "{:?}",
            f.locals
        );
    }

    #[test]
    fn main_guard() {
        let src = "def main():\n    pass\n\nif __name__ == '__main__':\n    main()\n";
        let ix = index(src);
        let (s, e) = ix.main_block.unwrap();
        assert_eq!(src[s..e].trim(), "main()");
    }
}
