//! Resolution: what an expression stands for (a project function or class, a catalog
//! method, a value of a known kind), through imports, scopes, annotations, attributes and
//! returns, reading the type knowledge of the last round.

use super::annotation;
use super::knowledge::{KEPT, Kind, kept_tag};
use super::walk::Walker;
use crate::index::ModuleIndex;
use crate::parse::{TreeNode, dotted_parts, text};
use crate::project::{ClassId, FuncId, Sym};
use crate::syntax::Node;

/// The value an expression evaluates to, as far as it can be resolved.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    Sym(Sym),
    Kind(Kind),
    /// A bound project method (`self.load`, `obj.send`).
    Bound(FuncId),
    /// A catalog method on a typed value.
    ExtMethod(String, String),
    Unknown,
}

/// Names of methods on builtin types: never resolved by name alone, a list's `append` is not
/// a project method that happens to share the name.
pub(super) const BUILTIN_METHODS: &[&str] = &[
    "append",
    "extend",
    "insert",
    "remove",
    "pop",
    "clear",
    "copy",
    "count",
    "index",
    "reverse",
    "sort",
    "get",
    "items",
    "keys",
    "values",
    "update",
    "setdefault",
    "add",
    "discard",
    "union",
    "join",
    "split",
    "strip",
    "format",
    "encode",
    "decode",
    "read",
    "write",
    "close",
    "readline",
    "readlines",
    "send",
    "put",
    "wait",
    "run",
    "start",
    "open",
    "lower",
    "upper",
    "replace",
    "startswith",
    "endswith",
    "find",
    "__init__",
];

/// A value that holds no project object, and nor does anything its methods return: a
/// method call on it is never a call of a project method (`self.log.error(...)` on a
/// `logging.Logger`, `", ".join(xs)`), so it neither pins nor is reported.
pub(super) const INERT: &str = "builtins.object";

/// Builtin classes whose instances hold data, not project functions (unless subclassed):
/// their results are [`INERT`], and a `getattr` on one reads data.
pub(super) const BUILTIN_SCALARS: &[&str] = &["str", "bytes", "int", "float", "bool", "complex"];

/// Outside callables whose result is [`INERT`] besides [`BUILTIN_SCALARS`] (the catalog's own
/// `returns` come first).
const INERT_RESULTS: &[&str] = &[
    "repr",
    "ascii",
    "format",
    "len",
    "hash",
    "id",
    "chr",
    "ord",
    "hex",
    "oct",
    "bin",
    "isinstance",
    "issubclass",
    "hasattr",
    "callable",
    "range",
    "logging.getLogger",
    "logging.LoggerAdapter",
    "logging.Logger",
    "logging.Formatter",
    "logging.StreamHandler",
    "logging.FileHandler",
    "re.compile",
    "re.match",
    "re.search",
    "re.fullmatch",
    "re.sub",
    "re.split",
    "re.findall",
    "re.escape",
    "json.dumps",
    "json.loads",
    "os.getcwd",
    "os.getenv",
    "os.listdir",
    "os.path.join",
    "os.path.abspath",
    "os.path.basename",
    "os.path.dirname",
    "os.path.expanduser",
    "os.path.normpath",
    "os.path.realpath",
    "os.path.splitext",
    "os.path.split",
    "os.environ.get",
    "time.time",
    "time.monotonic",
    "time.perf_counter",
    "time.strftime",
    "datetime.datetime",
    "datetime.datetime.now",
    "datetime.datetime.utcnow",
    "datetime.datetime.fromtimestamp",
    "datetime.datetime.strptime",
    "datetime.date",
    "datetime.date.today",
    "datetime.timedelta",
    "urllib.parse.urlsplit",
    "urllib.parse.urlparse",
    "urllib.parse.urljoin",
    "urllib.parse.urlencode",
    "urllib.parse.quote",
    "urllib.parse.unquote",
    "urllib.parse.parse_qs",
    "shlex.quote",
    "shlex.split",
    "textwrap.dedent",
    "textwrap.indent",
    "io.BytesIO",
    "io.StringIO",
    "contextlib.suppress",
    "warnings.catch_warnings",
    "tempfile.TemporaryDirectory",
    "tempfile.NamedTemporaryFile",
    "tempfile.mkdtemp",
    "tempfile.mkstemp",
    "unittest.mock.patch",
    "unittest.mock.patch.object",
    "unittest.mock.patch.dict",
    "pytest.raises",
    "pytest.warns",
];

/// Outside classes whose instances hold no project object (unless a project class derives
/// from one): an annotation naming one types an inert value.
pub(super) const INERT_TYPES: &[&str] = &[
    "builtins.str",
    "builtins.bytes",
    "builtins.int",
    "builtins.float",
    "builtins.bool",
    "builtins.complex",
    "logging.Logger",
    "logging.LoggerAdapter",
    "re.Pattern",
    "re.Match",
    "typing.Pattern",
    "typing.Match",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "datetime.timedelta",
    "decimal.Decimal",
    "fractions.Fraction",
    "uuid.UUID",
    "pathlib.PurePath",
    "pathlib.PurePosixPath",
    "pathlib.PureWindowsPath",
    // In-memory buffers: their methods take and return bytes or text.
    "io.BytesIO",
    "io.StringIO",
];

/// Standard-library modules of plain values (numbers, dates, text, encodings): their
/// functions and classes take no callback, call no method of an argument but its dunders
/// (which stay sync), and return values of their own classes, never an object they were
/// given. So anything a call into one returns holds no project object, and nor does what its
/// methods return or what a `with` on it enters: `with decimal.localcontext(ctx) as c:`
/// reaches no project `__enter__`. Not while a project class derives from one of the
/// module's classes (a `datetime.tzinfo`, whose methods `datetime` calls, or a
/// `decimal.Context` that `localcontext` copies). Not `math` (`math.floor(x)` returns what
/// `x.__floor__` does), `hashlib` (`file_digest` calls its argument) nor `json` (an
/// `object_hook` builds the result).
pub(super) const VALUE_MODULES: &[&str] = &[
    "decimal",
    "fractions",
    "datetime",
    "cmath",
    "uuid",
    "ipaddress",
    "string",
    "struct",
    "binascii",
    "base64",
    "zlib",
    "unicodedata",
    "calendar",
    "textwrap",
];

/// Outside callables that build a container (eagerly: what they drain is a consumer's
/// business): its methods are not project methods, and iterating it calls none.
pub(super) const CONTAINERS: &[&str] = &[
    "dict",
    "list",
    "set",
    "tuple",
    "frozenset",
    "sorted",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.deque",
    "collections.Counter",
];

/// Outside classes whose methods call no method of a project object (they take no callback
/// and call no method of what they hold or are given): a receiver of one reaches no project
/// method, whatever the method's name, unless a project class derives from it. What their
/// methods return is not known, but for [`OPAQUE_RESULTS`]: `TIMEOUT.reset(token)` on a
/// `ContextVar` is not a call of a project `reset`.
const OPAQUE_TYPES: &[&str] = &[
    "contextvars.ContextVar",
    "contextvars.Token",
    "contextlib.nullcontext",
    "ssl.SSLContext",
];

/// What methods of [`OPAQUE_TYPES`] return, as an outside type: an `ssl.SSLSocket` is a
/// socket that no catalog creation made.
const OPAQUE_RESULTS: &[(&str, &str, &str)] = &[("ssl.SSLContext", "wrap_socket", "socket.socket")];

/// Outside functions that return a tuple of values of known outside types, by position:
/// `a, b = socket.socketpair()` unpacks two sockets, which no catalog call made and so no
/// family converts.
const TUPLE_RESULTS: &[(&str, &[&str])] = &[
    ("socket.socketpair", &["socket.socket", "socket.socket"]),
    ("os.pipe", &["builtins.int", "builtins.int"]),
    ("os.openpty", &["builtins.int", "builtins.int"]),
];

/// Tree-sitter kinds of literals whose value is [`INERT`].
pub(super) const INERT_LITERALS: &[&str] = &[
    "string",
    "concatenated_string",
    "integer",
    "float",
    "true",
    "false",
];

/// Whether outside callable `q` returns an [`INERT`] value.
fn is_inert_result(q: &str) -> bool {
    BUILTIN_SCALARS.contains(&q) || INERT_RESULTS.contains(&q)
}

/// The qualified name an identifier or attribute chain read in function `scope` stands for,
/// through the module's imports (ruff's `resolve_qualified_name`): `subprocess.PIPE` after
/// `import subprocess` or `from subprocess import PIPE`, `builtins.BaseException` for a name
/// the module never binds. `None` for a local, a module-level value, a project definition,
/// or any other expression. This is the one resolution of a written name to a qualified
/// name for code that runs after matching (the passes): the walk itself resolves further,
/// to values and kinds, from the same [`ModuleIndex::lookup`].
pub fn qualified_name<N: TreeNode>(
    ix: &ModuleIndex,
    scope: Option<usize>,
    node: N,
    src: &str,
) -> Option<String> {
    qualify(ix, scope, &dotted_parts(node, src)?)
}

/// [`qualified_name`] of a dotted name kept as text (a decorator as the index records it,
/// `abc.abstractstaticmethod`). `None` for anything but a dotted name.
pub fn qualified_text(ix: &ModuleIndex, scope: Option<usize>, written: &str) -> Option<String> {
    let parts: Vec<&str> = written.split('.').collect();
    let dotted = parts
        .iter()
        .all(|p| !p.is_empty() && p.chars().all(|c| c == '_' || c.is_alphanumeric()));
    dotted.then(|| qualify(ix, scope, &parts)).flatten()
}

/// The qualified name of the dotted name `parts` read in `scope`.
fn qualify(ix: &ModuleIndex, scope: Option<usize>, parts: &[&str]) -> Option<String> {
    use crate::index::{Binding, Scoped};
    let (head, tail) = parts.split_first()?;
    let mut out = match ix.lookup(head, scope) {
        Scoped::Local { import, .. } => import?.to_string(),
        Scoped::Global(Binding::Import(q)) => q.to_string(),
        Scoped::Unbound => format!("builtins.{head}"),
        Scoped::Global(_) | Scoped::Ambiguous => return None,
    };
    for part in tail {
        out.push('.');
        out.push_str(part);
    }
    Some(out)
}

impl<'a> Walker<'a> {
    pub(super) fn resolve_name(&self, name: &str, caller: Option<usize>) -> Val {
        use crate::index::{Binding, Scoped};
        match self.ix.lookup(name, caller) {
            Scoped::Local { func, import } => self.resolve_local(name, func, import),
            Scoped::Unbound => self
                .star_imported(name)
                .unwrap_or_else(|| Val::Sym(Sym::External(name.to_string()))),
            Scoped::Global(Binding::Import(q)) => self.imported(self.p.resolve(q)),
            Scoped::Global(Binding::Function(f)) => Val::Sym(Sym::Func(self.fid(*f))),
            Scoped::Global(Binding::Class(c)) => Val::Sym(Sym::Class(ClassId {
                module: self.m as u32,
                class: *c as u32,
            })),
            Scoped::Global(Binding::Value) | Scoped::Ambiguous => {
                match self.known_local((self.m as u32, None, name.into())) {
                    Some(kind) => Val::Kind(kind.clone()),
                    None => Val::Unknown,
                }
            }
        }
    }

    /// A name function `f` binds (`import` if by an import): a nested def, the import, the
    /// method's `self` or `cls`, a parameter, or a local of a kind learnt.
    fn resolve_local(&self, name: &str, f: usize, import: Option<&str>) -> Val {
        let def = self.func(f);
        // A nested def bound in this scope. Functions are indexed in preorder, so f's
        // nested defs are the ones right after it that start inside it.
        if let Some(i) = self.ix.functions[f + 1..]
            .iter()
            .take_while(|g| g.start < def.end)
            .position(|g| g.parent == Some(f) && g.class.is_none() && g.name == name)
        {
            return Val::Sym(Sym::Func(self.fid(f + 1 + i)));
        }
        if let Some(q) = import {
            return self.imported(self.p.resolve(q));
        }
        if let Some(c) = def.class {
            let is_first = def.params.first().is_some_and(|p| p.name == name);
            let decorated = |d: &str| def.decorators.iter().any(|x| x == d);
            if is_first && !decorated("staticmethod") {
                let class = ClassId {
                    module: self.m as u32,
                    class: c as u32,
                };
                return if decorated("classmethod") {
                    Val::Kind(Kind::ClassObj(class))
                } else {
                    Val::Kind(Kind::Instance(class))
                };
            }
        }
        if let Some(i) = def.params.iter().position(|p| p.name == name) {
            let annotated = def.params[i]
                .annotation
                .as_deref()
                .and_then(|a| self.annotation_kind(a));
            // An annotation naming a project class is more precise than what the calls
            // pass; one naming a catalog type says less than they do (whether the object
            // passed was converted), and so does a container's (the calls may pass a
            // project object that iterates).
            if let Some(kind @ (Kind::Instance(_) | Kind::ClassObj(_))) = annotated {
                return Val::Kind(kind);
            }
            match (self.known_param(self.fid(f), i), annotated) {
                // `[a, b]` passed to `xs: list[Conn]`: a builtin container, whose
                // elements the annotation types.
                (Some(Kind::Ext(t)), Some(kind @ Kind::Seq(_))) if t.starts_with("builtins.") => {
                    return Val::Kind(kind);
                }
                (Some(Kind::Tuple(_)), Some(kind @ Kind::Seq(_))) => return Val::Kind(kind),
                (Some(kind), _) => return Val::Kind(kind.clone()),
                (None, Some(kind)) => return Val::Kind(kind),
                (None, None) => {}
            }
        }
        match self.known_local((self.m as u32, Some(f as u32), name.into())) {
            Some(kind) => Val::Kind(kind.clone()),
            None => Val::Unknown,
        }
    }

    /// A name bound by `from X import *`: a public name of a project module X, or a
    /// catalog name `X.name` (`from time import *; sleep(1)`).
    pub(super) fn star_imported(&self, name: &str) -> Option<Val> {
        if name.starts_with('_') {
            return None;
        }
        self.ix.imports.iter().filter(|s| s.wildcard).find_map(|s| {
            let from = s.from_module.as_deref()?;
            let qualified = format!("{from}.{name}");
            match self.p.module_named(from) {
                Some(m) => self.p.modules[m]
                    .index
                    .binding(name)
                    .map(|_| Val::Sym(self.p.resolve(&qualified))),
                None => self
                    .cat
                    .call(&qualified)
                    .map(|_| Val::Sym(Sym::External(qualified))),
            }
        })
    }

    /// A name from another module: a module-level value of a project module
    /// (`from pkg.shared import jobs`) has the kind learnt for it there.
    pub(super) fn imported(&self, sym: Sym) -> Val {
        if let Sym::External(q) = &sym
            && let Some((module, name)) = q.rsplit_once('.')
            && let Sym::Module(mi) = self.p.resolve(module)
            && let Some(kind) = self.known_local((mi as u32, None, name.into()))
        {
            return Val::Kind(kind.clone());
        }
        Val::Sym(sym)
    }

    /// What a parameter's annotation says its value is.
    pub(super) fn annotation_kind(&self, ann: &str) -> Option<Kind> {
        self.ann_kind(self.m, &annotation::parse(ann), true)
    }

    /// What annotation `a`, written in module `m`, says a value is. With `catalog` false only
    /// project and inert types count: a declared attribute or return type says what the value
    /// was, not whether the call that made it was converted, and no observation of the value
    /// stands behind it.
    pub(super) fn ann_kind(&self, m: usize, a: &annotation::Ann, catalog: bool) -> Option<Kind> {
        use annotation::Ann;
        match a {
            Ann::Name(n) => self.named_kind(m, n, catalog),
            Ann::Union(members) => self.union_kind(m, members, catalog),
            Ann::Generic(head, args) => {
                if let Sym::Class(c) = self.p.resolve_in_module(m, head) {
                    return Some(Kind::Instance(c));
                }
                let q = crate::external::qualified_name(self.p, m, head)?;
                let Some(generic) = annotation::typing_name(&q) else {
                    // `re.Pattern[str]`: the class, whatever its parameters.
                    return self.named_kind(m, head, catalog);
                };
                match generic {
                    "Optional" | "Union" => self.union_kind(m, args, catalog),
                    "Annotated" | "ClassVar" | "Final" => self.ann_kind(m, args.first()?, catalog),
                    "type" | "Type" => match self.ann_kind(m, args.first()?, false)? {
                        Kind::Instance(c) => Some(Kind::ClassObj(c)),
                        _ => None,
                    },
                    // Elements of project classes; and, for a parameter, of a catalog type
                    // whose objects a family converts only where it traces them from their
                    // creation (a socket): one in a list is kept, its uses stay as they are
                    // and call no project method. A list of objects that convert with all
                    // their uses (locks) is a family's business, decided where they are made.
                    s if annotation::SEQUENCES.contains(&s)
                        || (matches!(s, "tuple" | "Tuple")
                            && args.len() == 2
                            && args[1] == Ann::Other) =>
                    {
                        Some(Kind::Seq(Box::new(self.elem_kind(
                            m,
                            args.first()?,
                            catalog,
                        )?)))
                    }
                    // `dict[K, V]`: the keys' and values' kinds, as a list's elements are
                    // typed. Not when a project class derives from dict: its `__iter__` or
                    // `items` may be a project method.
                    "dict" | "Dict" if !self.project_derives("builtins.dict") => {
                        self.dict_kind(m, args, catalog)
                    }
                    _ => self.named_kind(m, head, catalog),
                }
            }
            Ann::None | Ann::Other => None,
        }
    }

    /// `dict[K, V]`'s arguments `args`: a [`Kind::Map`] if the keys or the values are of a
    /// kind an element may be ([`Self::elem_kind`]).
    fn dict_kind(&self, m: usize, args: &[annotation::Ann], catalog: bool) -> Option<Kind> {
        let [k, v] = args else { return None };
        let (k, v) = (self.elem_kind(m, k, catalog), self.elem_kind(m, v, catalog));
        (k.is_some() || v.is_some()).then(|| Kind::Map(k.map(Box::new), v.map(Box::new)))
    }

    /// What the declaration `a` of a name says of the builtin container made where it is
    /// bound (`d: dict[socket.socket, set[str]] = {}`): its elements' kinds. The value is
    /// the builtin itself, not a project subclass that the declaration would also admit.
    pub(super) fn made_container_kind(&self, a: &annotation::Ann) -> Option<Kind> {
        if let annotation::Ann::Generic(head, args) = a
            && let Some(q) = crate::external::qualified_name(self.p, self.m, head)
            && matches!(annotation::typing_name(&q), Some("dict" | "Dict"))
        {
            return self.dict_kind(self.m, args, true);
        }
        self.ann_kind(self.m, a, true)
            .filter(|k| matches!(k, Kind::Seq(_)))
    }

    /// The kind of an element of a container annotated as holding `a`: an instance of a
    /// project class, or a kept object of a catalog type that a family converts only where
    /// it traces it from its creation.
    fn elem_kind(&self, m: usize, a: &annotation::Ann, catalog: bool) -> Option<Kind> {
        match self.ann_kind(m, a, catalog)? {
            k @ Kind::Instance(_) => Some(k),
            Kind::Ext(t)
                if t.strip_suffix(KEPT)
                    .is_some_and(|q| !self.cat.object_type(q)) =>
            {
                Some(Kind::Ext(t))
            }
            _ => None,
        }
    }

    /// `A | None`, `Union[A, B]`: the one kind every member but `None` has.
    pub(super) fn union_kind(
        &self,
        m: usize,
        members: &[annotation::Ann],
        catalog: bool,
    ) -> Option<Kind> {
        let kinds = members
            .iter()
            .filter(|a| **a != annotation::Ann::None)
            .map(|a| self.ann_kind(m, a, catalog));
        // `A | B` of project classes: their common project base, whose methods resolve
        // with their overrides (each member's methods among them).
        let kinds: Vec<Kind> = kinds.collect::<Option<_>>()?;
        self.common_kind(&kinds)
    }

    pub(super) fn named_kind(&self, m: usize, name: &str, catalog: bool) -> Option<Kind> {
        if let Some((am, alias)) = self.p.type_alias(m, name) {
            return self.alias_kind(am, alias, catalog);
        }
        let q = match self.p.resolve_in_module(m, name) {
            Sym::Class(c) => return Some(Kind::Instance(c)),
            Sym::External(q) if name.contains('.') => q,
            _ => crate::external::qualified_name(self.p, m, name)?,
        };
        self.qualified_kind(q, catalog)
    }

    /// What a value of the outside type `q` (a qualified name) is known to be: a kept
    /// object of a catalog type, a catalog value, or an [`INERT`] one.
    fn qualified_kind(&self, q: String, catalog: bool) -> Option<Kind> {
        match q {
            // `r: requests.Response`: an annotation says what the value was, not whether the
            // call that made it was converted; its uses stay as they are (`.reason` is not
            // renamed on a response a sync session returned). Calls that pass converted
            // values type the parameter through the call sites instead (`known_param`).
            q if catalog && self.cat.converts_uses(&q) => Some(Kind::Ext(kept_tag(&q))),
            // `p: pathlib.Path`: its blocking methods go to a thread, whatever made the value.
            q if catalog && self.cat.knows_type(&q) => Some(Kind::Ext(q)),
            // `log: logging.Logger`: no project method is called through it.
            q if OPAQUE_TYPES.contains(&q.as_str()) && !self.project_derives(&q) => {
                Some(Kind::Ext(q))
            }
            q if (INERT_TYPES.contains(&q.as_str()) && !self.project_derives(&q))
                || self.in_value_module(&q) =>
            {
                Some(Kind::Ext(INERT.into()))
            }
            _ => None,
        }
    }

    /// What type alias `text`, written in module `m`, says a value is: what its right side
    /// says as an annotation (`_Conn = Union["Conn", "Store"]` types `c: _Conn` as the
    /// union). Nested a few deep at most, so an alias through itself ends.
    fn alias_kind(&self, m: usize, text: &str, catalog: bool) -> Option<Kind> {
        let open = self.aliases_open.get();
        if open >= 4 {
            return None;
        }
        self.aliases_open.set(open + 1);
        let kind = self.ann_kind(m, &annotation::parse(text), catalog);
        self.aliases_open.set(open);
        kind
    }

    /// Whether some project class derives from the outside class `q` (written as a base).
    pub(super) fn project_derives(&self, q: &str) -> bool {
        self.p.derives_from(q)
    }

    /// `q` names a function or class of a [`VALUE_MODULES`] module, none of whose classes a
    /// project class derives from: what calling it returns is a plain value.
    pub(super) fn in_value_module(&self, q: &str) -> bool {
        VALUE_MODULES.iter().any(|m| {
            q.strip_prefix(m).is_some_and(|r| r.starts_with('.')) && !self.p.derives_from_module(m)
        })
    }

    /// The kind of attribute `attr` of a value typed as an instance of `c`, which at run time
    /// may be an instance of a subclass: what every class of [`Project::hierarchy`] assigns
    /// (`self.x = ...` in any method) or declares (`x: T` in the class body, a dataclass
    /// field, `self.x: T` in a method) must agree. Known only if `c` or a base assigns or
    /// declares it: the kind a subclass alone gives says nothing of a plain `c`. A
    /// declaration is the contract, as a type checker has it: an assignment of unknown kind
    /// is taken to conform to it, and one of a subclass of the declared class does (the
    /// declared class's methods resolve with their overrides); one of another kind breaks
    /// it, and the attribute is unknown.
    pub(super) fn attr_kind(&self, c: ClassId, attr: &str) -> Option<Kind> {
        let mut own = false;
        let (mut declared, mut assigned) = (Vec::new(), Vec::new());
        let mro = self.p.mro(c).len();
        for (i, &k) in self.p.hierarchy(c).iter().enumerate() {
            // `x: Any` promises nothing: the assignments alone say what the attribute holds.
            let mut decls = self.p.class(k).annotated.iter().filter(|(n, ann)| {
                n == attr && !self.is_any(k.module as usize, &annotation::parse(ann))
            });
            let decl = decls.next();
            for (_, ann) in decl.into_iter().chain(decls) {
                declared.push(self.ann_kind(k.module as usize, &annotation::parse(ann), false));
            }
            let obs = self.known_attr(k, attr);
            if let Some(o) = obs {
                assigned.extend(o.iter().map(Option::as_ref));
            }
            own |= i < mro && (decl.is_some() || obs.is_some());
        }
        if !own {
            return None;
        }
        if !declared.is_empty() {
            assigned.retain(Option::is_some);
            for a in &mut assigned {
                let contract = declared
                    .iter()
                    .flatten()
                    .find(|d| a.is_some_and(|a| self.conforms(a, d)));
                if let Some(d) = contract {
                    *a = Some(d);
                }
            }
        }
        let mut kinds = declared.iter().map(Option::as_ref).chain(assigned);
        let first = kinds.next()??;
        kinds.all(|k| k == Some(first)).then(|| first.clone())
    }

    /// The class of `c`'s instances, or of a subclass's, has a `__getattr__` that forwards
    /// every missing name to one attribute (`return getattr(self.conn, name)`): that attribute.
    pub(super) fn proxy_of(&self, c: ClassId) -> Option<(ClassId, crate::index::Name)> {
        let g = self.p.method(c, "__getattr__")?;
        let owner = ClassId {
            module: g.module,
            class: self.p.func(g).class? as u32,
        };
        Some((owner, self.p.class(owner).forwards.clone()?))
    }

    /// `proxy.attr` on an instance of `c`, whose class lacks `attr` and whose `__getattr__`
    /// forwards every missing name to one attribute of a known project class `T`
    /// ([`Walker::proxy_of`]): `attr` of `T`, read as on a `T`. Only if nothing else can
    /// answer the read first: no class of `c`'s hierarchy (subclasses included) defines,
    /// assigns or declares `attr`, overrides the forwarding or reads attributes its own
    /// way (`__getattribute__`), or has a base outside the project.
    pub(super) fn forwarded(&self, c: ClassId, attr: &str) -> Option<Val> {
        if attr.starts_with("__") {
            return None;
        }
        let (owner, to) = self.proxy_of(c)?;
        for &k in self.p.hierarchy(c) {
            let class = self.p.class(k);
            let outside = class
                .bases
                .iter()
                .filter(|b| b.as_str() != "object")
                .count();
            if class.methods.contains_key(attr)
                || class.methods.contains_key("__getattribute__")
                || (k != owner && class.methods.contains_key("__getattr__"))
                || class.annotated.iter().any(|(n, _)| n == attr)
                || self.known_attr(k, attr).is_some()
                || self.p.bases(k).len() != outside
            {
                return None;
            }
        }
        let Some(Kind::Instance(t)) = self.attr_kind(c, &to) else {
            return None;
        };
        match self.p.method(t, attr) {
            Some(f) => Some(Val::Bound(f)),
            None => self.attr_kind(t, attr).map(Val::Kind),
        }
    }

    /// Annotation `a`, written in module `m`, is `typing.Any`: a declaration without a
    /// contract.
    fn is_any(&self, m: usize, a: &annotation::Ann) -> bool {
        let annotation::Ann::Name(n) = a else {
            return false;
        };
        let q = crate::external::qualified_name(self.p, m, n);
        matches!(q.as_deref(), Some("typing.Any" | "typing_extensions.Any"))
    }

    /// A value of kind `k` is also of the declared kind `d`: an instance (or the class, or a
    /// list of instances) of a project subclass of `d`'s class.
    pub(super) fn conforms(&self, k: &Kind, d: &Kind) -> bool {
        match (k, d) {
            (Kind::Instance(s), Kind::Instance(b)) | (Kind::ClassObj(s), Kind::ClassObj(b)) => {
                self.p.mro(*s).contains(b)
            }
            (Kind::Seq(k), Kind::Seq(d)) => self.conforms(k, d),
            _ => k == d,
        }
    }

    /// What a call of project function `g` returns: learnt from its `return`s, else its
    /// return annotation (not a coroutine's: calling it makes a coroutine).
    pub(super) fn return_kind(&self, g: FuncId) -> Option<Kind> {
        if let Some(k) = self.known_return(g) {
            return Some(k.clone());
        }
        let def = self.p.func(g);
        if def.is_async {
            return None;
        }
        let ann = def.returns.as_deref()?;
        self.ann_kind(g.module as usize, &annotation::parse(ann), false)
    }

    /// A `@property` (or `cached_property`) of a project class.
    pub(super) fn is_property(&self, f: FuncId) -> bool {
        self.p.func(f).decorators.iter().any(|d| {
            matches!(
                d.rsplit('.').next(),
                Some("property" | "cached_property" | "cached_property_")
            )
        })
    }

    /// What reading property `f` gives: its return kind; for one that only raises (abstract
    /// by convention, pymongo's `_aggregation_command_class`), the kind every override in
    /// a subclass of its class returns, class objects of different project classes counting
    /// as their nearest common project base (whose methods resolve with their overrides).
    /// A class that keeps the raising one never yields a value, so it adds nothing; an
    /// override of unknown kind, or classes with no common project base, leave it unknown.
    pub(super) fn property_kind(&self, f: FuncId) -> Option<Kind> {
        if let Some(k) = self.return_kind(f) {
            return Some(k);
        }
        let def = self.p.func(f);
        let c = ClassId {
            module: f.module,
            class: def.class? as u32,
        };
        if !def.only_raises {
            return None;
        }
        let mut kinds: Vec<Kind> = Vec::new();
        for &k in self.p.hierarchy(c) {
            if !self.p.mro(k).contains(&c) {
                continue;
            }
            let Some(g) = self.p.method(k, &def.name).filter(|&g| g != f) else {
                continue;
            };
            if !self.is_property(g) {
                return None;
            }
            let kind = self.return_kind(g)?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        self.common_kind(&kinds)
    }

    /// The one kind `kinds` share: all equal, or instances (or class objects) of project
    /// classes with a common project base: that base's.
    fn common_kind(&self, kinds: &[Kind]) -> Option<Kind> {
        let (first, rest) = kinds.split_first()?;
        if rest.iter().all(|k| k == first) {
            return Some(first.clone());
        }
        let class_of = |k: &Kind| match (k, first) {
            (Kind::ClassObj(c), Kind::ClassObj(_)) | (Kind::Instance(c), Kind::Instance(_)) => {
                Some(*c)
            }
            _ => None,
        };
        let classes: Vec<ClassId> = kinds.iter().map(class_of).collect::<Option<_>>()?;
        let base = *self
            .p
            .mro(classes[0])
            .iter()
            .find(|b| classes[1..].iter().all(|c| self.p.mro(*c).contains(b)))?;
        Some(match first {
            Kind::ClassObj(_) => Kind::ClassObj(base),
            _ => Kind::Instance(base),
        })
    }

    /// The value `obj` holds as a receiver: reading a property gives what it returns, not
    /// the method (its return unknown: an unknown receiver); a name of unknown kind, what an
    /// `isinstance` guard before it says (looked for on receivers only: the walk is not free).
    pub(super) fn receiver(&self, obj: Node, caller: Option<usize>) -> Val {
        match self.resolve(obj, caller) {
            Val::Bound(f) if self.is_property(f) => {
                self.property_kind(f).map_or(Val::Unknown, Val::Kind)
            }
            Val::Unknown if obj.kind() == "identifier" => {
                self.narrowed(obj, caller).map_or(Val::Unknown, Val::Kind)
            }
            v => v,
        }
    }

    pub(super) fn resolve(&self, node: Node, caller: Option<usize>) -> Val {
        match node.kind() {
            "identifier" => self.resolve_name(text(node, self.src), caller),
            "parenthesized_expression" => node
                .named_child(0)
                .map_or(Val::Unknown, |n| self.resolve(n, caller)),
            // `await helper()`: what the project coroutine returns (the form a second run
            // sees after `helper` became async).
            "await" => match node.named_child(0) {
                Some(call) if call.kind() == "call" => match self.resolve(call, caller) {
                    v @ Val::Kind(Kind::Ext(_) | Kind::Instance(_)) => v,
                    _ => Val::Unknown,
                },
                _ => Val::Unknown,
            },
            "attribute" => self.resolve_attribute(node, caller),
            "binary_operator" => self.resolve_operator(node, caller),
            "list" => {
                let mut cursor = node.walk();
                let kinds: Vec<Option<Kind>> = node
                    .named_children(&mut cursor)
                    .map(|e| self.kind_of(e, caller))
                    .collect();
                match kinds.first() {
                    Some(Some(k)) if kinds.iter().all(|x| x.as_ref() == Some(k)) => {
                        Val::Kind(Kind::Seq(Box::new(k.clone())))
                    }
                    _ => Val::Kind(Kind::Ext("builtins.list".into())),
                }
            }
            "list_comprehension" => node
                .child_by_field_name("body")
                .and_then(|b| {
                    self.comprehension_var(node, b, caller)
                        .unwrap_or_else(|| self.kind_of(b, caller))
                })
                .map_or(Val::Kind(Kind::Ext("builtins.list".into())), |k| {
                    Val::Kind(Kind::Seq(Box::new(k)))
                }),
            // Containers: their methods are not project methods, though what they hold may be.
            "dictionary" | "dictionary_comprehension" => {
                Val::Kind(Kind::Ext("builtins.dict".into()))
            }
            "set" | "set_comprehension" => Val::Kind(Kind::Ext("builtins.set".into())),
            "tuple" | "expression_list" => self.resolve_tuple(node, caller),
            "subscript" => match node
                .child_by_field_name("value")
                .map(|v| self.resolve(v, caller))
            {
                Some(Val::Kind(Kind::Seq(elem) | Kind::Map(_, Some(elem)))) => Val::Kind(*elem),
                // `client["db"]` on a project object: what its `__getitem__` returns.
                Some(Val::Kind(Kind::Instance(c))) => self
                    .p
                    .method(c, "__getitem__")
                    .and_then(|g| self.return_kind(g))
                    .map_or(Val::Unknown, Val::Kind),
                _ => Val::Unknown,
            },
            "call" => self.resolve_call(node, caller),
            // `a = b = Conn()`: the inner assignment's value.
            "assignment" => node
                .child_by_field_name("right")
                .map_or(Val::Unknown, |r| self.resolve(r, caller)),
            "conditional_expression" | "boolean_operator" => self.resolve_either(node, caller),
            k if INERT_LITERALS.contains(&k) => Val::Kind(Kind::Ext(INERT.into())),
            _ => Val::Unknown,
        }
    }

    /// `obj.attr`: a module's member, a class's or an instance's method, an attribute's
    /// kind, a catalog method.
    pub(super) fn resolve_attribute(&self, node: Node, caller: Option<usize>) -> Val {
        let (Some(obj), Some(attr)) = (
            node.child_by_field_name("object"),
            node.child_by_field_name("attribute"),
        ) else {
            return Val::Unknown;
        };
        let attr = text(attr, self.src);
        match self.receiver(obj, caller) {
            Val::Sym(Sym::Module(mi)) => {
                // Under its other names too: a package reached by its name relative
                // to the walked root (`app`) may have none of its own.
                let module = &self.p.modules[mi];
                let names = std::iter::once(&module.name).chain(&module.aliases);
                let mut found = Sym::External(format!("{}.{attr}", module.name));
                for name in names.filter(|n| !n.is_empty()) {
                    found = self.p.resolve(&format!("{name}.{attr}"));
                    if !matches!(found, Sym::External(_)) {
                        break;
                    }
                }
                self.imported(found)
            }
            // `import app.store` where `app` has no `__init__.py` (a namespace package):
            // `app` is not a project module, `app.store` is.
            Val::Sym(Sym::External(q)) => self.imported(self.p.resolve(&format!("{q}.{attr}"))),
            // `Cls._lock`: a class attribute, known as an instance's is.
            Val::Sym(Sym::Class(c)) | Val::Kind(Kind::ClassObj(c)) => {
                match self.p.method(c, attr) {
                    Some(f) => Val::Sym(Sym::Func(f)),
                    None => self.attr_kind(c, attr).map_or(Val::Unknown, Val::Kind),
                }
            }
            Val::Kind(Kind::Instance(c)) => match self.p.method(c, attr) {
                Some(f) => Val::Bound(f),
                None => self
                    .attr_kind(c, attr)
                    .map(Val::Kind)
                    .or_else(|| self.forwarded(c, attr))
                    .unwrap_or(Val::Unknown),
            },
            Val::Kind(Kind::Super(c)) => self
                .p
                .super_method(c, attr)
                .map_or(Val::Unknown, Val::Bound),
            Val::Kind(Kind::Ext(ty)) => Val::ExtMethod(ty, attr.to_string()),
            _ => Val::Unknown,
        }
    }

    /// An operator on a catalog value is its dunder method: `Path(d) / "x"` is a
    /// `[[method]]` named `__truediv__` whose `returns` types the result.
    pub(super) fn resolve_operator(&self, node: Node, caller: Option<usize>) -> Val {
        let (Some(left), Some(op)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("operator"),
        ) else {
            return Val::Unknown;
        };
        let dunder = match op.kind() {
            "/" => "__truediv__",
            "+" => "__add__",
            "%" => "__mod__",
            _ => return Val::Unknown,
        };
        match self.resolve(left, caller) {
            // `"%s" % x`, `"a" + b`: text.
            Val::Kind(Kind::Ext(ty)) if ty == INERT => Val::Kind(Kind::Ext(ty)),
            Val::Kind(Kind::Ext(ty)) => self
                .cat
                .method(&ty, dunder)
                .and_then(|e| e.returns.clone())
                .map_or(Val::Unknown, |t| Val::Kind(Kind::Ext(t))),
            _ => Val::Unknown,
        }
    }

    /// What a call returns: a project function's return kind, an instance of the class
    /// called, a catalog call's or method's `returns`.
    pub(super) fn resolve_call(&self, node: Node, caller: Option<usize>) -> Val {
        let Some(f) = node.child_by_field_name("function") else {
            return Val::Unknown;
        };
        if let Some(val) = self.dict_method(f, caller) {
            return val;
        }
        let callee = self.resolve_callee(f, caller);
        match callee {
            // `self.command_class(...)` where `command_class` is a property: calling the
            // class it gives.
            Val::Bound(g) if self.is_property(g) => match self.property_kind(g) {
                Some(Kind::ClassObj(c)) => Val::Kind(Kind::Instance(c)),
                _ => Val::Unknown,
            },
            Val::Sym(Sym::Func(g)) | Val::Bound(g) => {
                if self.p.func(g).is_generator {
                    Val::Kind(Kind::Gen(g))
                } else {
                    self.return_kind(g).map_or(Val::Unknown, Val::Kind)
                }
            }
            // `cls(...)`, `factory: type[Conn]` called: an instance of that class (or
            // of a subclass, whose overrides share the family's colour).
            Val::Sym(Sym::Class(c)) | Val::Kind(Kind::ClassObj(c)) => Val::Kind(Kind::Instance(c)),
            Val::Sym(Sym::External(q)) if q == "super" => self.super_call(node, caller),
            // `type(self)`: the class of an instance of C is C or a subclass of it.
            Val::Sym(Sym::External(q)) if q == "type" => {
                let args = node.child_by_field_name("arguments");
                match args
                    .filter(|a| a.named_child_count() == 1)
                    .and_then(|a| a.named_child(0).and_then(|x| self.kind_of(x, caller)))
                {
                    Some(Kind::Instance(c)) => Val::Kind(Kind::ClassObj(c)),
                    _ => Val::Unknown,
                }
            }
            Val::Sym(Sym::External(q)) => match self.cat.call(&q) {
                Some(e) if self.kept_creation(e, node.start_byte()) => e
                    .returns
                    .as_deref()
                    .map_or(Val::Unknown, |t| Val::Kind(Kind::Ext(kept_tag(t)))),
                Some(e) => e
                    .returns
                    .clone()
                    .map_or(Val::Unknown, |t| Val::Kind(Kind::Ext(t))),
                None if is_inert_result(&q) || self.in_value_module(&q) => {
                    Val::Kind(Kind::Ext(INERT.into()))
                }
                None if CONTAINERS.contains(&q.as_str()) => {
                    let ty = if q == "sorted" { "list" } else { &q };
                    Val::Kind(Kind::Ext(format!("builtins.{ty}")))
                }
                None => self
                    .tuple_result(&q)
                    .or_else(|| self.outside_instance(&q))
                    .map_or(Val::Unknown, Val::Kind),
            },
            Val::ExtMethod(ty, name) => match self.cat.method(&ty, &name) {
                Some(e) => e
                    .returns
                    .clone()
                    .map_or(Val::Unknown, |t| Val::Kind(Kind::Ext(t))),
                None if ty == INERT => Val::Kind(Kind::Ext(INERT.into())),
                None => OPAQUE_RESULTS
                    .iter()
                    .find(|(t, m, _)| *t == ty && *m == name)
                    .and_then(|(_, _, r)| self.qualified_kind(r.to_string(), true))
                    .map_or(Val::Unknown, Val::Kind),
            },
            _ => Val::Unknown,
        }
    }

    /// `(a, b)`, `a, b`: a [`Kind::Tuple`] of its elements' kinds when one of them is known,
    /// which a tuple target of the same length unpacks and a loop binds to their common
    /// kind ([`Self::element_kind`]). A starred element (`(*xs, y)`) hides the length.
    fn resolve_tuple(&self, node: Node, caller: Option<usize>) -> Val {
        let mut cursor = node.walk();
        let elems: Vec<Node> = node
            .named_children(&mut cursor)
            .filter(|e| e.kind() != "comment")
            .collect();
        let kinds: Vec<Option<Kind>> = elems.iter().map(|e| self.kind_of(*e, caller)).collect();
        let starred = elems.iter().any(|e| e.kind() == "list_splat");
        if starred || kinds.iter().all(Option::is_none) {
            return Val::Kind(Kind::Ext("builtins.tuple".into()));
        }
        Val::Kind(Kind::Tuple(kinds))
    }

    /// The kind of every element of a container of kind `k`, what iterating it binds: a
    /// list's, a dict's keys, a tuple's when its elements have one common kind.
    pub(super) fn element_kind(&self, k: &Kind) -> Option<Kind> {
        match k {
            Kind::Seq(e) | Kind::Map(Some(e), _) => Some((**e).clone()),
            Kind::Tuple(elems) => {
                let elems: Vec<Kind> = elems.iter().cloned().collect::<Option<_>>()?;
                self.common_kind(&elems)
            }
            _ => None,
        }
    }

    /// `socket.socket(...)`, `ContextVar("x")`: calling an outside class whose values the
    /// analysis knows makes one: a kept catalog object (no catalog creation made it, so no
    /// family converts it), an [`OPAQUE_TYPES`] one or an inert one. Not a catalog type
    /// known for its methods alone, whose calls the catalog lists where it means them.
    fn outside_instance(&self, q: &str) -> Option<Kind> {
        self.qualified_kind(q.to_string(), true).filter(|k| {
            matches!(k, Kind::Ext(t) if t == INERT
                || t.ends_with(KEPT)
                || OPAQUE_TYPES.contains(&t.as_str()))
        })
    }

    /// What outside function `q` returns when it is one of [`TUPLE_RESULTS`].
    fn tuple_result(&self, q: &str) -> Option<Kind> {
        let (_, types) = TUPLE_RESULTS.iter().find(|(name, _)| *name == q)?;
        let kinds = types
            .iter()
            .map(|t| self.qualified_kind(t.to_string(), true));
        Some(Kind::Tuple(kinds.collect()))
    }

    /// `[s for s, marks in d.items()]`: a body naming a variable of the comprehension's own
    /// `for` clauses is an element of what that clause iterates (the comprehension's scope
    /// is its own, so a name of the function spelt the same says nothing of it). `None` if
    /// no clause binds the body's name; `Some(None)` if one does, with an element of
    /// unknown kind.
    fn comprehension_var(
        &self,
        comp: Node,
        body: Node,
        caller: Option<usize>,
    ) -> Option<Option<Kind>> {
        if body.kind() != "identifier" {
            return None;
        }
        let name = text(body, self.src);
        let mut cursor = comp.walk();
        let clauses: Vec<Node> = comp
            .named_children(&mut cursor)
            .filter(|c| c.kind() == "for_in_clause")
            .collect();
        // The last clause binding the name wins, as it would in Python.
        clauses.into_iter().rev().find_map(|clause| {
            let left = clause.child_by_field_name("left")?;
            let elem = || {
                let right = clause.child_by_field_name("right")?;
                self.element_kind(&self.kind_of(right, caller)?)
            };
            match left.kind() {
                "identifier" => (text(left, self.src) == name).then(elem),
                "pattern_list" | "tuple_pattern" => {
                    let mut cursor = left.walk();
                    let kids: Vec<Node> = left.named_children(&mut cursor).collect();
                    let i = kids.iter().position(|k| text(*k, self.src) == name);
                    let bound_inside = kids
                        .iter()
                        .any(|k| k.kind() != "identifier" && text(*k, self.src).contains(name));
                    match i {
                        Some(i) if kids.iter().all(|k| k.kind() == "identifier") => {
                            Some(match elem() {
                                Some(Kind::Tuple(elems)) if elems.len() == kids.len() => {
                                    elems[i].clone()
                                }
                                _ => None,
                            })
                        }
                        // A starred or nested target: of unknown kind.
                        _ if i.is_some() || bound_inside => Some(None),
                        _ => None,
                    }
                }
                // Any other target naming it binds it too, to something unknown.
                _ => text(left, self.src).contains(name).then_some(None),
            }
        })
    }

    /// `d.items()`, `d.keys()`, `d.values()`, `d.get(k)`, `d.copy()` on a dict of known
    /// key or value kinds (a [`Kind::Map`]).
    fn dict_method(&self, f: Node, caller: Option<usize>) -> Option<Val> {
        if f.kind() != "attribute" {
            return None;
        }
        let Val::Kind(Kind::Map(k, v)) = self.resolve(f.child_by_field_name("object")?, caller)
        else {
            return None;
        };
        let seq = |e: Option<Box<Kind>>| e.map_or(Val::Unknown, |e| Val::Kind(Kind::Seq(e)));
        Some(match text(f.child_by_field_name("attribute")?, self.src) {
            "items" => Val::Kind(Kind::Seq(Box::new(Kind::Tuple(vec![
                k.map(|k| *k),
                v.map(|v| *v),
            ])))),
            "keys" => seq(k),
            "values" => seq(v),
            // With a default, the default's kind would join in.
            "get"
                if f.parent()
                    .and_then(|c| c.child_by_field_name("arguments"))
                    .is_some_and(|a| a.named_child_count() == 1) =>
            {
                v.map_or(Val::Unknown, |v| Val::Kind(*v))
            }
            "copy" => Val::Kind(Kind::Map(k, v)),
            _ => Val::Unknown,
        })
    }

    /// `A() if b is None else b`, `x or Default()`: the kind both sides have (a `None`
    /// side adds none: a method call on it fails either way).
    pub(super) fn resolve_either(&self, node: Node, caller: Option<usize>) -> Val {
        let sides = if node.kind() == "conditional_expression" {
            [node.named_child(0), node.named_child(2)]
        } else {
            let mut cursor = node.walk();
            let or = node.children(&mut cursor).any(|o| o.kind() == "or");
            if !or {
                return Val::Unknown;
            }
            [
                node.child_by_field_name("left"),
                node.child_by_field_name("right"),
            ]
        };
        let kinds: Vec<Option<Kind>> = sides
            .into_iter()
            .flatten()
            .filter(|n| n.kind() != "none")
            .map(|n| self.kind_of(n, caller))
            .collect();
        match kinds.first() {
            Some(Some(k)) if kinds.iter().all(|x| x.as_ref() == Some(k)) => Val::Kind(k.clone()),
            _ => Val::Unknown,
        }
    }

    /// `super()` in a method: the methods after its class in the MRO. `super(C, self)` names
    /// the class itself; a first argument that is not a project class is not followed.
    pub(super) fn super_call(&self, node: Node, caller: Option<usize>) -> Val {
        let first = node
            .child_by_field_name("arguments")
            .and_then(|a| a.named_child(0));
        match first {
            None => {
                let class = caller.and_then(|c| self.func(c).class);
                class.map_or(Val::Unknown, |c| {
                    Val::Kind(Kind::Super(ClassId {
                        module: self.m as u32,
                        class: c as u32,
                    }))
                })
            }
            Some(a) => match self.resolve(a, caller) {
                Val::Sym(Sym::Class(c)) => Val::Kind(Kind::Super(c)),
                _ => Val::Unknown,
            },
        }
    }

    /// Like [`resolve`], plus the last resort for `x.method()` with `x` of unknown type: a
    /// method name that only one override family in the project defines.
    pub(super) fn resolve_callee(&self, f: Node, caller: Option<usize>) -> Val {
        let val = self.resolve(f, caller);
        // Calling an instance calls its class's `__call__`.
        if let Val::Kind(Kind::Instance(c)) = val {
            return self.p.method(c, "__call__").map_or(val, Val::Bound);
        }
        if val != Val::Unknown || f.kind() != "attribute" {
            return val;
        }
        let Some(attr) = f.child_by_field_name("attribute") else {
            return val;
        };
        let name = text(attr, self.src);
        if BUILTIN_METHODS.contains(&name) || name.starts_with("__") {
            return val;
        }
        // Only if the receiver itself is unknown, not e.g. a module or a catalog value.
        let recv = f
            .child_by_field_name("object")
            .map(|o| self.receiver(o, caller));
        if !matches!(recv, Some(Val::Unknown)) {
            return val;
        }
        match self.k.methods_by_name.get(name) {
            Some(ms) if !ms.is_empty() => {
                let fam = |f: &FuncId| self.k.family.get(f).copied().unwrap_or(*f);
                let first = fam(&ms[0]);
                if ms.iter().all(|m| fam(m) == first) {
                    Val::Bound(ms[0])
                } else {
                    val
                }
            }
            _ => val,
        }
    }

    pub(super) fn kind_of(&self, node: Node, caller: Option<usize>) -> Option<Kind> {
        match self.resolve(node, caller) {
            Val::Kind(k) => Some(k),
            Val::Sym(Sym::Class(c)) => Some(Kind::ClassObj(c)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::qualified_name;
    use crate::parse::parse;
    use crate::syntax::Syntax;

    /// What the `nth` occurrence of `expr` in `src` resolves to, read where it stands.
    fn resolved(src: &str, expr: &str, nth: usize) -> Option<String> {
        let tree = parse(src).unwrap();
        let ix = crate::index::build(&Syntax::new(&tree, src), src, "m", false);
        let start = src.match_indices(expr).nth(nth).unwrap().0;
        let end = start + expr.len();
        let mut node = tree.root_node().descendant_for_byte_range(start, end)?;
        while node.byte_range() != (start..end) {
            node = node.parent()?;
        }
        qualified_name(&ix, ix.function_at(start), node, src)
    }

    #[test]
    fn names_resolve_through_the_imports_of_their_scope() {
        let src = "import subprocess as sp\nfrom subprocess import PIPE\n\ndef f():\n    return sp.PIPE, PIPE, BaseException\n\ndef g(PIPE):\n    import subprocess\n    def h():\n        return subprocess.DEVNULL, PIPE\n    return h\n\nsp.x.y\n";
        let q = |expr, nth| resolved(src, expr, nth);
        assert_eq!(q("sp.PIPE", 0).as_deref(), Some("subprocess.PIPE"));
        assert_eq!(q("PIPE", 2).as_deref(), Some("subprocess.PIPE"));
        assert_eq!(
            q("BaseException", 0).as_deref(),
            Some("builtins.BaseException")
        );
        // A function-level import, seen from a nested function.
        assert_eq!(
            q("subprocess.DEVNULL", 0).as_deref(),
            Some("subprocess.DEVNULL")
        );
        // A parameter shadows the module's import, in nested functions too.
        assert_eq!(q("PIPE", 4), None);
        assert_eq!(q("sp.x.y", 0).as_deref(), Some("subprocess.x.y"));
    }
}
