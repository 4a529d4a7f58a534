//! Match: walks one module with the project's current knowledge and records every fact the
//! colouring and the rewrite passes need: resolved call sites, value references, loops and
//! `with` blocks over known types, and the types that flow through names.
//!
//! Matching is on resolved names, never on raw text: `import time as t; t.sleep()` and
//! `from time import sleep as nap; nap()` both resolve to `time.sleep`, and a parameter or
//! local that shadows the import is not a match.

mod annotation;
mod getattr;

use crate::index::{FuncDef, ModuleIndex};
use crate::parse::{line, text};
use crate::project::{ClassId, FuncId, Project, Sym};
use crate::rules::Catalog;
use crate::syntax::Node;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// The abstract type of a value, as far as the migration cares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An instance of a project class.
    Instance(ClassId),
    /// A value of a catalog type (`sqlite3.Connection`).
    Ext(String),
    /// The result of calling a project generator function.
    Gen(FuncId),
    /// `super()` inside a method of this class.
    Super(ClassId),
    /// A project class object itself (`cls`).
    ClassObj(ClassId),
    /// A list whose elements all have this kind (`[Thread(...), ...]`, `xs.append(t)`).
    Seq(Box<Kind>),
}

/// A name's scope for type facts: `(module, function)`; `None` is module scope.
pub type ScopeKey = (u32, Option<u32>, crate::index::Name);

/// One knowledge entry the matcher looked up for a module.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Read {
    Local(ScopeKey),
    Attr(ClassId, String),
    Param(FuncId, usize),
    Return(FuncId),
    /// Whether the object created by the call at `(module, start)` is kept as it is.
    Kept(u32, u32),
    /// Whether every object of a catalog type is kept as it is.
    KeptType(String),
}

impl Read {
    /// A 64-bit hash standing for the key. Two keys sharing one can only make a module be
    /// matched again needlessly, never skipped.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        self.hash(&mut h);
        h.finish()
    }
}

/// Project knowledge that the matcher reads; rebuilt from facts until it stops changing.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Knowledge {
    /// Functions that are async in the output (already async, or coloured).
    pub async_funcs: HashSet<FuncId>,
    pub locals: HashMap<ScopeKey, Kind>,
    /// `None`: assigned values of different or unknown kinds (which a receiver typed through
    /// a subclass or base must not ignore, as it may not ignore the class's own).
    pub attrs: HashMap<(ClassId, String), Option<Kind>>,
    pub params: HashMap<(FuncId, usize), Kind>,
    pub returns: HashMap<FuncId, Kind>,
    /// Method name -> the methods of that name, for receivers of unknown type.
    pub methods_by_name: HashMap<String, Vec<FuncId>>,
    /// Representative of each method's override family.
    pub family: HashMap<FuncId, FuncId>,
    /// Object creations (`object = true` calls, by module and start offset) that stay as
    /// they are because some use of the object cannot convert: decided by the passes, before
    /// the final colouring (see `run::migrate`).
    pub kept: HashSet<(u32, u32)>,
    /// Catalog types of which every object is kept (a use the passes could not trace back to
    /// its creation).
    pub kept_types: HashSet<String>,
}

/// The type tag of a kept object: no catalog rule knows it, so its uses match nothing, seed
/// nothing and are left as they are.
pub fn kept_tag(ty: &str) -> String {
    format!("{ty}{KEPT}")
}

const KEPT: &str = " (kept)";

/// Where a call or reference sits, which decides whether it may become an `await`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    /// A function body (including comprehensions inside it).
    Body,
    Lambda,
    /// A parameter's default value.
    Default,
    Decorator,
    ClassBody,
    Module,
    /// Inside `if __name__ == "__main__":`.
    Main,
}

impl Ctx {
    pub fn describe(self) -> &'static str {
        match self {
            Ctx::Body => "a function body",
            Ctx::Lambda => "a lambda",
            Ctx::Default => "a default argument",
            Ctx::Decorator => "a decorator expression",
            Ctx::ClassBody => "a class body",
            Ctx::Module => "module level",
            Ctx::Main => "the __main__ block",
        }
    }
}

/// What a call resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Func(FuncId),
    Class(ClassId),
    /// A catalog function, by qualified name.
    Rule(String),
    /// A catalog method on a value of a catalog type.
    Method {
        ty: String,
        name: String,
    },
}

#[derive(Debug, Clone)]
pub struct CallFact {
    pub caller: Option<usize>,
    pub target: Target,
    pub start: usize,
    pub end: usize,
    /// The callee expression (`time.sleep` in `time.sleep(1)`).
    pub callee: (usize, usize),
    pub line: usize,
    pub col: usize,
    pub ctx: Ctx,
    /// Already the operand of `await`.
    pub awaited: bool,
    /// The whole expression statement: the result is dropped.
    pub statement: bool,
}

/// A [`CallFact`] as the fixed point and colouring keep it: 48 bytes instead of 120. There
/// is one per resolved call site of the project, the largest of the fact vectors; the
/// rewrite unpacks a module's when it gets to it.
#[derive(Debug, Clone)]
pub struct PackedCall {
    target: PackedTarget,
    /// [`NO_CALLER`]: at module or class level.
    caller: u32,
    start: u32,
    end: u32,
    callee: (u32, u32),
    line: u32,
    col: u32,
    ctx: Ctx,
    awaited: bool,
    statement: bool,
}

const NO_CALLER: u32 = u32::MAX;

/// [`Target`] in 16 bytes: the catalog names are rare next to project calls, and boxed.
#[derive(Debug, Clone)]
enum PackedTarget {
    Func(FuncId),
    Class(ClassId),
    #[allow(
        clippy::box_collection,
        reason = "a thin pointer: `Box<str>` would make this 24 bytes"
    )]
    Rule(Box<String>),
    Method(Box<(String, String)>),
}

impl PackedCall {
    /// Offsets and lines fit in `u32`: files are read whole and capped far below 4 GiB.
    fn new(c: CallFact) -> PackedCall {
        let n = |x: usize| u32::try_from(x).expect("offsets fit in u32");
        PackedCall {
            target: match c.target {
                Target::Func(f) => PackedTarget::Func(f),
                Target::Class(k) => PackedTarget::Class(k),
                Target::Rule(q) => PackedTarget::Rule(Box::new(q)),
                Target::Method { ty, name } => PackedTarget::Method(Box::new((ty, name))),
            },
            caller: c.caller.map_or(NO_CALLER, n),
            start: n(c.start),
            end: n(c.end),
            callee: (n(c.callee.0), n(c.callee.1)),
            line: n(c.line),
            col: n(c.col),
            ctx: c.ctx,
            awaited: c.awaited,
            statement: c.statement,
        }
    }

    pub fn unpack(&self) -> CallFact {
        let n = |x: u32| x as usize;
        CallFact {
            caller: (self.caller != NO_CALLER).then(|| n(self.caller)),
            target: match &self.target {
                PackedTarget::Func(f) => Target::Func(*f),
                PackedTarget::Class(k) => Target::Class(*k),
                PackedTarget::Rule(q) => Target::Rule(String::clone(q)),
                PackedTarget::Method(m) => Target::Method {
                    ty: m.0.clone(),
                    name: m.1.clone(),
                },
            },
            start: n(self.start),
            end: n(self.end),
            callee: (n(self.callee.0), n(self.callee.1)),
            line: n(self.line),
            col: n(self.col),
            ctx: self.ctx,
            awaited: self.awaited,
            statement: self.statement,
        }
    }
}

/// A project function used as a value (`sorted(key=f)`, `Thread(target=f)`).
#[derive(Debug, Clone)]
pub struct RefFact {
    pub target: FuncId,
    pub line: usize,
    pub col: usize,
    pub ctx: Ctx,
    pub caller: Option<usize>,
    /// The call it is an argument of, by callee qualified name, if any (`sorted`).
    pub passed_to: Option<String>,
    pub start: usize,
    pub end: usize,
    /// Passed where the catalog says the rewritten code calls it (`Thread(target=f)`):
    /// a call edge from `caller`, not a value reference.
    pub called: bool,
}

/// A non-call reference to a catalog name (`requests.HTTPError`).
#[derive(Debug, Clone)]
pub struct NameFact {
    pub qualified: String,
    pub start: usize,
    pub end: usize,
    pub caller: Option<usize>,
}

/// A read of an attribute that a catalog `[[attribute]]` rule rewrites (`response.ok`).
#[derive(Debug, Clone)]
pub struct AttrFact {
    pub ty: String,
    pub name: String,
    /// The whole `value.name` expression.
    pub start: usize,
    pub end: usize,
    /// The receiver expression.
    pub object: (usize, usize),
    pub caller: Option<usize>,
    pub ctx: Ctx,
}

/// `for` (statement or comprehension clause) over a value of a known kind.
#[derive(Debug, Clone)]
pub struct ForFact {
    pub caller: Option<usize>,
    /// Offset of the `for` keyword.
    pub for_kw: usize,
    pub kind: Kind,
    pub line: usize,
    pub ctx: Ctx,
    pub already_async: bool,
}

/// A method call awaitify could not resolve, whose name some project method has.
#[derive(Debug, Clone)]
pub struct UnresolvedFact {
    pub caller: Option<usize>,
    pub ctx: Ctx,
    pub name: crate::index::Name,
    /// The receiver is an instance of this class, which does not define the method: it can
    /// only be a subclass's.
    pub within: Option<ClassId>,
    pub line: usize,
    pub col: usize,
}

/// A blocking method called on an object a family keeps as it is (`self.session.get(u)` on a
/// kept `requests.Session`): it still blocks, so a coroutine calling it is reported.
#[derive(Debug, Clone)]
pub struct KeptUseFact {
    pub caller: Option<usize>,
    pub ctx: Ctx,
    pub callee: (usize, usize),
    /// The catalog type the object had (`requests.Session`).
    pub ty: String,
    pub line: usize,
    pub col: usize,
    /// A use of a converted object that keeps it (the fact is then not a blocking call).
    pub escape: Option<Escape>,
}

/// A use of a converted object that its new type would not serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// A method used as a value (`to_thread(ev.wait)`): whoever calls it would not await it.
    Value,
    /// A method no rule maps (`session.mount(...)`).
    Unmapped,
    /// An attribute set after construction that the new type ignores or lacks
    /// (`session.verify = False`).
    Set,
}

/// Attributes that keep their meaning when set on the converted object.
const SAFE_SETS: &[(&str, &[&str])] = &[
    (
        "requests.Session",
        &["headers", "auth", "cookies", "params"],
    ),
    (
        "httpx.Client",
        &[
            "headers", "auth", "cookies", "params", "base_url", "timeout",
        ],
    ),
    (
        "sqlite3.Connection",
        &["row_factory", "text_factory", "isolation_level"],
    ),
];

/// `getattr(obj, name)`: the functions it may return are used as values.
#[derive(Debug, Clone)]
pub struct DynAttrFact {
    /// The name: known, known up to a prefix (`"_load_" + kind`), or not at all.
    pub name: DynName,
    pub on: DynOn,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DynName {
    Exact(crate::index::Name),
    Prefix(crate::index::Name),
    Any,
}

/// What `getattr` reads from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DynOn {
    /// An instance of this project class (or of a subclass), or the class itself.
    Class(ClassId),
    Module(usize),
    Unknown,
}

/// A call of a parameter: of an enclosing function's (`fn(*a, **k)` in a decorator's
/// wrapper), or of the caller's own (a callback, `owner == caller`).
#[derive(Debug, Clone)]
pub struct ParamCallFact {
    pub caller: usize,
    /// The function whose parameter is called: the caller or one enclosing it.
    pub owner: usize,
    pub param: usize,
    pub start: usize,
    pub end: usize,
    pub ctx: Ctx,
    pub awaited: bool,
}

/// `yield from X` as a statement: a generator that turns async must loop instead.
#[derive(Debug, Clone)]
pub struct YieldFromFact {
    pub caller: usize,
    /// The expression statement holding the `yield from`.
    pub stmt: (usize, usize),
    pub expr: (usize, usize),
    pub kind: Option<Kind>,
}

/// `with` over a value of a known kind.
#[derive(Debug, Clone)]
pub struct WithFact {
    pub caller: Option<usize>,
    pub with_kw: usize,
    /// The `with_item` this fact is about.
    pub item: (usize, usize),
    /// The context expression of this item (`open(p)` in `with open(p) as f:`).
    pub expr: (usize, usize),
    pub kind: Kind,
    pub line: usize,
    pub ctx: Ctx,
    pub already_async: bool,
}

/// `list(gen)`, `sum(gen)`, `next(gen)` ... over a project generator.
#[derive(Debug, Clone)]
pub struct ConsumeFact {
    pub caller: Option<usize>,
    pub generator: FuncId,
    pub consumer: String,
    pub call: (usize, usize),
    pub arg: (usize, usize),
    pub ctx: Ctx,
    pub line: usize,
}

/// A generator call whose result goes somewhere awaitify cannot follow.
#[derive(Debug, Clone)]
pub struct EscapeFact {
    pub generator: FuncId,
    pub line: usize,
    pub col: usize,
}

/// One type observation: `None` when the type is not known, which most are; boxed, so that
/// those cost 8 bytes rather than a whole `Kind`.
pub type Observed = Option<Box<Kind>>;

/// Declares [`ModuleFacts`] from its list of fact vectors, with what the chunked walk needs
/// to move each vector's facts chunk by chunk: one list, so no vector can be forgotten.
macro_rules! module_facts {
    ($($(#[$doc:meta])* $f:ident: $t:ty,)*) => {
        #[derive(Debug, Default)]
        pub struct ModuleFacts {
            $($(#[$doc])* pub $f: Vec<$t>,)*
            /// Fingerprints ([`Read::fingerprint`]) of the knowledge keys the walk looked up,
            /// chunk after chunk, each chunk's sorted: the module is matched again only when
            /// one of these keys changes, and then only the chunks that read it.
            pub reads: Vec<u64>,
            chunks: Vec<Chunk>,
        }

        const FIELDS: usize = [$(stringify!($f)),*].len();

        impl ModuleFacts {
            fn lens(&self) -> [u32; FIELDS] {
                [$(self.$f.len() as u32),*]
            }

            /// After the fixed point: frees what only its rounds read (the type observations,
            /// the knowledge keys read, the chunks), before colouring needs the memory.
            pub fn end_rounds(&mut self) {
                self.local_obs = Vec::new();
                self.attr_obs = Vec::new();
                self.param_obs = Vec::new();
                self.return_obs = Vec::new();
                self.reads = Vec::new();
                self.chunks = Vec::new();
            }
        }

        /// The facts of a previous walk, consumed chunk by chunk.
        struct Old {
            $($f: std::vec::IntoIter<$t>,)*
            reads: Vec<u64>,
            chunks: Vec<Chunk>,
        }

        impl Old {
            fn new(f: ModuleFacts) -> Old {
                Old {
                    $($f: f.$f.into_iter(),)*
                    reads: f.reads,
                    chunks: f.chunks,
                }
            }

            /// Moves the next `n[i]` facts of each vector into `to`, or drops them.
            fn take(&mut self, n: [u32; FIELDS], to: &mut ModuleFacts, keep: bool) {
                let mut n = n.into_iter();
                $(
                    let k = n.next().unwrap_or_default() as usize;
                    if keep {
                        to.$f.extend(self.$f.by_ref().take(k));
                    } else {
                        self.$f.by_ref().take(k).for_each(drop);
                    }
                )*
            }
        }
    };
}

module_facts! {
    /// Unpacked by the rewrite ([`PackedCall::unpack`]).
    calls: PackedCall,
    refs: RefFact,
    fors: ForFact,
    withs: WithFact,
    consumes: ConsumeFact,
    escapes: EscapeFact,
    names: NameFact,
    attrs: AttrFact,
    yield_froms: YieldFromFact,
    unresolved: UnresolvedFact,
    kept_uses: KeptUseFact,
    param_calls: ParamCallFact,
    dyn_attrs: DynAttrFact,
    /// Type observations: `None` means this binding's type is not known.
    local_obs: (ScopeKey, Observed),
    attr_obs: ((ClassId, String), Observed),
    param_obs: ((FuncId, usize), Observed),
    return_obs: (FuncId, Observed),
}

/// Where one chunk of a module's walk ends in each fact vector and in `reads`.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    ends: [u32; FIELDS],
    reads_end: u32,
}

/// The value an expression evaluates to, as far as it can be resolved.
#[derive(Debug, Clone, PartialEq)]
enum Val {
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
const BUILTIN_METHODS: &[&str] = &[
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
const INERT: &str = "builtins.object";

/// Outside callables whose result is [`INERT`] (the catalog's own `returns` come first).
const INERT_RESULTS: &[&str] = &[
    "str",
    "bytes",
    "int",
    "float",
    "bool",
    "complex",
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
const INERT_TYPES: &[&str] = &[
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
];

/// Outside callables that build a container (eagerly: what they drain is a consumer's
/// business): its methods are not project methods, and iterating it calls none.
const CONTAINERS: &[&str] = &[
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

/// Tree-sitter kinds of literals whose value is [`INERT`].
const INERT_LITERALS: &[&str] = &[
    "string",
    "concatenated_string",
    "integer",
    "float",
    "true",
    "false",
];

/// Walks a module. With the facts of the previous round and the knowledge keys that changed
/// since, walks again only the chunks that read one of them, and keeps the rest: a chunk's
/// facts depend only on its syntax, the project and the keys it read.
pub fn match_module(
    p: &Project,
    cat: &Catalog,
    k: &Knowledge,
    m: usize,
    previous: Option<(ModuleFacts, &HashSet<u64>)>,
) -> ModuleFacts {
    let module = &p.modules[m];
    let ix = &module.index;
    let func_by_start: HashMap<usize, usize> = ix
        .functions
        .iter()
        .enumerate()
        .map(|(i, f)| (f.start, i))
        .collect();
    let mut w = Walker {
        p,
        cat,
        k,
        m,
        src: &module.source.text,
        ix,
        func_by_start,
        facts: ModuleFacts::default(),
        ancestors: Vec::new(),
        reads: Default::default(),
    };
    let (mut old, changed) = match previous {
        Some((facts, changed)) => (Some(Old::new(facts)), Some(changed)),
        None => (None, None),
    };
    let syntax = module.syntax.unpack(&module.source.text);
    let units = units(syntax.root_node());
    let (mut ends, mut reads_start) = ([0u32; FIELDS], 0usize);
    for (c, chunk) in chunks(&units).enumerate() {
        let kept = old.as_mut().zip(changed).and_then(|(old, changed)| {
            let was = old.chunks[c];
            let reads = &old.reads[reads_start..was.reads_end as usize];
            reads_start = was.reads_end as usize;
            let n = std::array::from_fn(|i| was.ends[i] - ends[i]);
            ends = was.ends;
            let clean = !reads.iter().any(|r| changed.contains(r));
            let reads = clean.then(|| reads.to_vec());
            old.take(n, &mut w.facts, clean);
            reads
        });
        match kept {
            Some(reads) => w.facts.reads.extend(reads),
            None => {
                for u in chunk {
                    w.ancestors.clear();
                    w.ancestors.extend_from_slice(&u.path);
                    w.walk(u.node, u.ctx, None);
                }
                let mut reads: Vec<u64> = w.reads.take().into_iter().collect();
                reads.sort_unstable();
                w.facts.reads.extend(reads);
            }
        }
        let chunk = Chunk {
            ends: w.facts.lens(),
            reads_end: w.facts.reads.len() as u32,
        };
        w.facts.chunks.push(chunk);
    }
    shrink(&mut w.facts);
    if cfg!(debug_assertions) {
        // The tests check that the units cover the module as one walk from the root would.
        let mut whole = Walker {
            facts: ModuleFacts::default(),
            ancestors: Vec::new(),
            reads: Default::default(),
            func_by_start: std::mem::take(&mut w.func_by_start),
            ..w
        };
        whole.walk(syntax.root_node(), Ctx::Module, None);
        shrink(&mut whole.facts);
        let (reads, chunks) = (
            std::mem::take(&mut w.facts.reads),
            std::mem::take(&mut w.facts.chunks),
        );
        debug_assert_eq!(
            format!("{:?}", whole.facts),
            format!("{:?}", w.facts),
            "{}: the chunked walk differs from a walk from the root",
            module.display
        );
        (w.facts.reads, w.facts.chunks) = (reads, chunks);
    }
    w.facts
}

/// A piece of a module the walk can visit on its own: a top-level statement, or, for a
/// top-level class, its decorators, its bases and each statement of its body (the methods).
/// `path` is the walk's ancestors above `node`, as in a walk from the root.
struct Unit<'a> {
    node: Node<'a>,
    ctx: Ctx,
    path: Vec<Node<'a>>,
}

fn units(root: Node<'_>) -> Vec<Unit<'_>> {
    let mut out = Vec::new();
    let mut cursor = root.walk();
    for c in root.named_children(&mut cursor) {
        let (decorated, class) = match c.kind() {
            "class_definition" => (None, Some(c)),
            "decorated_definition" => match c.child_by_field_name("definition") {
                Some(d) if d.kind() == "class_definition" => (Some(c), Some(d)),
                _ => (None, None),
            },
            _ => (None, None),
        };
        let Some(class) = class else {
            out.push(Unit {
                node: c,
                ctx: Ctx::Module,
                path: vec![root],
            });
            continue;
        };
        let mut path = vec![root];
        if let Some(d) = decorated {
            path.push(d);
            let mut cursor = d.walk();
            for deco in d.named_children(&mut cursor).filter(|n| *n != class) {
                out.push(Unit {
                    node: deco,
                    ctx: Ctx::Module,
                    path: path.clone(),
                });
            }
        }
        path.push(class);
        if let Some(sup) = class.child_by_field_name("superclasses") {
            out.push(Unit {
                node: sup,
                ctx: Ctx::Module,
                path: path.clone(),
            });
        }
        if let Some(body) = class.child_by_field_name("body") {
            path.push(body);
            let mut cursor = body.walk();
            for stmt in body.named_children(&mut cursor) {
                out.push(Unit {
                    node: stmt,
                    ctx: Ctx::ClassBody,
                    path: path.clone(),
                });
            }
        }
    }
    out
}

/// Consecutive units grouped into chunks of at least `CHUNK_BYTES` of source (or the rest of
/// the module): finer chunks walk less again, but each costs its bookkeeping for the run.
fn chunks<'u, 'a>(units: &'u [Unit<'a>]) -> impl Iterator<Item = &'u [Unit<'a>]> {
    const CHUNK_BYTES: usize = 2048;
    let mut rest = units;
    std::iter::from_fn(move || {
        let first = rest.first()?;
        let start = first.node.start_byte();
        let n = rest
            .iter()
            .position(|u| u.node.end_byte() - start >= CHUNK_BYTES)
            .map_or(rest.len(), |i| i + 1);
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

/// Facts live for the whole run: no spare capacity.
fn shrink(f: &mut ModuleFacts) {
    f.calls.shrink_to_fit();
    f.refs.shrink_to_fit();
    f.unresolved.shrink_to_fit();
    f.local_obs.shrink_to_fit();
    f.attr_obs.shrink_to_fit();
    f.param_obs.shrink_to_fit();
    f.return_obs.shrink_to_fit();
}

struct Walker<'a> {
    p: &'a Project,
    cat: &'a Catalog,
    k: &'a Knowledge,
    m: usize,
    src: &'a str,
    ix: &'a ModuleIndex,
    func_by_start: HashMap<usize, usize>,
    facts: ModuleFacts,
    /// The path from the root to the node being walked: tree-sitter's `parent()` walks
    /// down from the root each time, which is quadratic over a file.
    ancestors: Vec<Node<'a>>,
    /// Knowledge keys looked up so far (lookups happen behind `&self`).
    reads: std::cell::RefCell<HashSet<u64>>,
}

impl<'a> Walker<'a> {
    fn fid(&self, f: usize) -> FuncId {
        FuncId {
            module: self.m as u32,
            func: f as u32,
        }
    }

    // Knowledge lookups go through these four, which record the key (found or not): a module
    // whose recorded keys did not change between two rounds would produce the same facts.
    fn read(&self, r: Read) {
        self.reads.borrow_mut().insert(r.fingerprint());
    }

    fn known_local(&self, key: ScopeKey) -> Option<&'a Kind> {
        let found = self.k.locals.get(&key);
        self.read(Read::Local(key));
        found
    }

    fn known_param(&self, f: FuncId, i: usize) -> Option<&'a Kind> {
        self.read(Read::Param(f, i));
        self.k.params.get(&(f, i))
    }

    /// `Some(None)` when the attribute is assigned in `c` with a kind not known.
    fn known_attr(&self, c: ClassId, attr: &str) -> Option<&'a Option<Kind>> {
        let key = (c, attr.to_string());
        let found = self.k.attrs.get(&key);
        self.read(Read::Attr(key.0, key.1));
        found
    }

    fn known_return(&self, f: FuncId) -> Option<&'a Kind> {
        self.read(Read::Return(f));
        self.k.returns.get(&f)
    }

    /// `obj.attr = v` on a converted object, for an attribute its new type does not honour.
    fn object_set(&mut self, node: Node, ctx: Ctx, caller: Option<usize>) {
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
        if self.cat.object_type(&ty) && !safe {
            self.escape(node, &ty, Escape::Set, ctx, caller);
        }
    }

    fn escape(&mut self, node: Node, ty: &str, escape: Escape, ctx: Ctx, caller: Option<usize>) {
        let pos = node.start_position();
        self.facts.kept_uses.push(KeptUseFact {
            caller,
            ctx,
            callee: (node.start_byte(), node.end_byte()),
            ty: ty.to_string(),
            line: pos.row + 1,
            col: pos.column + 1,
            escape: Some(escape),
        });
    }

    /// Records a blocking method called on a kept object.
    fn kept_use(
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
            let pos = node.start_position();
            self.facts.kept_uses.push(KeptUseFact {
                caller,
                ctx,
                callee: (f.start_byte(), f.end_byte()),
                ty: base.to_string(),
                line: pos.row + 1,
                col: pos.column + 1,
                escape: None,
            });
        }
    }

    /// Whether the call at `start` creates an object that is kept as it is.
    fn kept_creation(&self, e: &crate::rules::CallEntry, start: usize) -> bool {
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

    fn func(&self, f: usize) -> &'a FuncDef {
        &self.ix.functions[f]
    }

    fn walk(&mut self, node: Node<'a>, ctx: Ctx, caller: Option<usize>) {
        self.ancestors.push(node);
        self.walk_node(node, ctx, caller);
        self.ancestors.pop();
    }

    /// The `k`-th ancestor of `node`, which must be on the walk's path.
    fn up(&self, node: Node, k: usize) -> Option<Node<'a>> {
        let idx = self.ancestors.iter().rposition(|n| n.id() == node.id())?;
        idx.checked_sub(k).map(|i| self.ancestors[i])
    }

    fn walk_node(&mut self, node: Node<'a>, ctx: Ctx, caller: Option<usize>) {
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
            "assignment" => self.assignment(node, caller),
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

    fn children(&mut self, node: Node<'a>, ctx: Ctx, caller: Option<usize>) {
        for child in node.named_children(&mut node.walk()) {
            self.walk(child, ctx, caller);
        }
    }

    // ---- resolution -------------------------------------------------------------------

    fn scope_chain(&self, caller: Option<usize>) -> Vec<usize> {
        let mut chain = Vec::new();
        let mut cur = caller;
        while let Some(f) = cur {
            chain.push(f);
            cur = self.func(f).parent;
        }
        chain
    }

    fn resolve_name(&self, name: &str, caller: Option<usize>) -> Val {
        for f in self.scope_chain(caller) {
            let def = self.func(f);
            if !def.locals.contains(name) {
                continue;
            }
            // A nested def bound in this scope. Functions are indexed in preorder, so f's
            // nested defs are the ones right after it that start inside it.
            if let Some(i) = self.ix.functions[f + 1..]
                .iter()
                .take_while(|g| g.start < def.end)
                .position(|g| g.parent == Some(f) && g.class.is_none() && g.name == name)
            {
                return Val::Sym(Sym::Func(self.fid(f + 1 + i)));
            }
            if let Some((_, q)) = def.imports.iter().find(|(n, _)| n == name) {
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
                    (Some(Kind::Ext(t)), Some(kind @ Kind::Seq(_)))
                        if t.starts_with("builtins.") =>
                    {
                        return Val::Kind(kind);
                    }
                    (Some(kind), _) => return Val::Kind(kind.clone()),
                    (None, Some(kind)) => return Val::Kind(kind),
                    (None, None) => {}
                }
            }
            return match self.known_local((self.m as u32, Some(f as u32), name.into())) {
                Some(kind) => Val::Kind(kind.clone()),
                None => Val::Unknown,
            };
        }
        match self.ix.bindings.get(name) {
            None => self
                .star_imported(name)
                .unwrap_or_else(|| Val::Sym(Sym::External(name.to_string()))),
            Some(_) => match self.ix.binding(name) {
                Some(crate::index::Binding::Import(q)) => self.imported(self.p.resolve(q)),
                Some(crate::index::Binding::Function(f)) => Val::Sym(Sym::Func(self.fid(*f))),
                Some(crate::index::Binding::Class(c)) => Val::Sym(Sym::Class(ClassId {
                    module: self.m as u32,
                    class: *c as u32,
                })),
                _ => match self.known_local((self.m as u32, None, name.into())) {
                    Some(kind) => Val::Kind(kind.clone()),
                    None => Val::Unknown,
                },
            },
        }
    }

    /// A name bound by `from X import *`: a public name of a project module X, or a
    /// catalog name `X.name` (`from time import *; sleep(1)`).
    fn star_imported(&self, name: &str) -> Option<Val> {
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
    fn imported(&self, sym: Sym) -> Val {
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
    fn annotation_kind(&self, ann: &str) -> Option<Kind> {
        self.ann_kind(self.m, &annotation::parse(ann), true)
    }

    /// What annotation `a`, written in module `m`, says a value is. With `catalog` false only
    /// project and inert types count: a declared attribute or return type says what the value
    /// was, not whether the call that made it was converted, and no observation of the value
    /// stands behind it.
    fn ann_kind(&self, m: usize, a: &annotation::Ann, catalog: bool) -> Option<Kind> {
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
                    // Only elements of project classes: a list of catalog objects is a family's
                    // business, decided where they are made.
                    s if annotation::SEQUENCES.contains(&s)
                        || (matches!(s, "tuple" | "Tuple")
                            && args.len() == 2
                            && args[1] == Ann::Other) =>
                    {
                        match self.ann_kind(m, args.first()?, false)? {
                            k @ Kind::Instance(_) => Some(Kind::Seq(Box::new(k))),
                            _ => None,
                        }
                    }
                    _ => self.named_kind(m, head, catalog),
                }
            }
            Ann::None | Ann::Other => None,
        }
    }

    /// `A | None`, `Union[A, B]`: the one kind every member but `None` has.
    fn union_kind(&self, m: usize, members: &[annotation::Ann], catalog: bool) -> Option<Kind> {
        let mut kinds = members
            .iter()
            .filter(|a| **a != annotation::Ann::None)
            .map(|a| self.ann_kind(m, a, catalog));
        let first = kinds.next()??;
        kinds.all(|k| k.as_ref() == Some(&first)).then_some(first)
    }

    fn named_kind(&self, m: usize, name: &str, catalog: bool) -> Option<Kind> {
        let q = match self.p.resolve_in_module(m, name) {
            Sym::Class(c) => return Some(Kind::Instance(c)),
            Sym::External(q) if name.contains('.') => q,
            _ => crate::external::qualified_name(self.p, m, name)?,
        };
        match q {
            // `r: requests.Response`: an annotation says what the value was, not whether the
            // call that made it was converted; its uses stay as they are (`.reason` is not
            // renamed on a response a sync session returned). Calls that pass converted
            // values type the parameter through the call sites instead (`known_param`).
            q if catalog && self.cat.converts_uses(&q) => Some(Kind::Ext(kept_tag(&q))),
            // `p: pathlib.Path`: its blocking methods go to a thread, whatever made the value.
            q if catalog && self.cat.knows_type(&q) => Some(Kind::Ext(q)),
            // `log: logging.Logger`: no project method is called through it.
            q if INERT_TYPES.contains(&q.as_str()) && !self.project_derives(&q) => {
                Some(Kind::Ext(INERT.into()))
            }
            _ => None,
        }
    }

    /// Whether some project class derives from the outside class `q` (written as a base).
    fn project_derives(&self, q: &str) -> bool {
        self.p.modules.iter().enumerate().any(|(m, module)| {
            module.index.classes.iter().any(|k| {
                k.bases.iter().any(|b| {
                    let b = b.split('[').next().unwrap_or_default();
                    crate::external::qualified_name(self.p, m, b).as_deref() == Some(q)
                        || matches!(self.p.resolve_in_module(m, b), Sym::External(x) if x == q)
                })
            })
        })
    }

    /// The kind of attribute `attr` of a value typed as an instance of `c`, which at run time
    /// may be an instance of a subclass: what every class of [`Project::hierarchy`] assigns
    /// (`self.x = ...` in any method) or declares (`x: T` in the class body, a dataclass
    /// field) must agree. Known only if `c` or a base assigns or declares it: the kind a
    /// subclass alone gives says nothing of a plain `c`. With a declaration, an assignment of
    /// unknown kind is taken to conform to it, as a type checker would have it.
    fn attr_kind(&self, c: ClassId, attr: &str) -> Option<Kind> {
        let mut own = false;
        let (mut declared, mut assigned) = (Vec::new(), Vec::new());
        let mro = self.p.mro(c).len();
        for (i, &k) in self.p.hierarchy(c).iter().enumerate() {
            let decl = self.p.class(k).annotated.iter().find(|(n, _)| n == attr);
            if let Some((_, ann)) = decl {
                declared.push(self.ann_kind(k.module as usize, &annotation::parse(ann), false));
            }
            let obs = self.known_attr(k, attr);
            if let Some(o) = obs {
                assigned.push(o.as_ref());
            }
            own |= i < mro && (decl.is_some() || obs.is_some());
        }
        if !own {
            return None;
        }
        if !declared.is_empty() {
            assigned.retain(Option::is_some);
        }
        let mut kinds = declared.iter().map(Option::as_ref).chain(assigned);
        let first = kinds.next()??;
        kinds.all(|k| k == Some(first)).then(|| first.clone())
    }

    /// What a call of project function `g` returns: learnt from its `return`s, else its
    /// return annotation (not a coroutine's: calling it makes a coroutine).
    fn return_kind(&self, g: FuncId) -> Option<Kind> {
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
    fn is_property(&self, f: FuncId) -> bool {
        self.p.func(f).decorators.iter().any(|d| {
            matches!(
                d.rsplit('.').next(),
                Some("property" | "cached_property" | "cached_property_")
            )
        })
    }

    /// The value `obj` holds as a receiver: reading a property gives what it returns, not
    /// the method (its return unknown: an unknown receiver).
    fn receiver(&self, obj: Node, caller: Option<usize>) -> Val {
        match self.resolve(obj, caller) {
            Val::Bound(f) if self.is_property(f) => {
                self.return_kind(f).map_or(Val::Unknown, Val::Kind)
            }
            v => v,
        }
    }

    fn resolve(&self, node: Node, caller: Option<usize>) -> Val {
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
            "attribute" => {
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
                    Val::Sym(Sym::External(q)) => {
                        self.imported(self.p.resolve(&format!("{q}.{attr}")))
                    }
                    Val::Sym(Sym::Class(c)) | Val::Kind(Kind::ClassObj(c)) => {
                        match self.p.method(c, attr) {
                            Some(f) => Val::Sym(Sym::Func(f)),
                            None => Val::Unknown,
                        }
                    }
                    Val::Kind(Kind::Instance(c)) => match self.p.method(c, attr) {
                        Some(f) => Val::Bound(f),
                        None => self.attr_kind(c, attr).map_or(Val::Unknown, Val::Kind),
                    },
                    Val::Kind(Kind::Super(c)) => self
                        .p
                        .super_method(c, attr)
                        .map_or(Val::Unknown, Val::Bound),
                    Val::Kind(Kind::Ext(ty)) => Val::ExtMethod(ty, attr.to_string()),
                    _ => Val::Unknown,
                }
            }
            // An operator on a catalog value is its dunder method: `Path(d) / "x"` is a
            // `[[method]]` named `__truediv__` whose `returns` types the result.
            "binary_operator" => {
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
                .and_then(|b| self.kind_of(b, caller))
                .map_or(Val::Kind(Kind::Ext("builtins.list".into())), |k| {
                    Val::Kind(Kind::Seq(Box::new(k)))
                }),
            // Containers: their methods are not project methods, though what they hold may be.
            "dictionary" | "dictionary_comprehension" => {
                Val::Kind(Kind::Ext("builtins.dict".into()))
            }
            "set" | "set_comprehension" => Val::Kind(Kind::Ext("builtins.set".into())),
            "tuple" => Val::Kind(Kind::Ext("builtins.tuple".into())),
            "subscript" => match node
                .child_by_field_name("value")
                .map(|v| self.resolve(v, caller))
            {
                Some(Val::Kind(Kind::Seq(elem))) => Val::Kind(*elem),
                _ => Val::Unknown,
            },
            "call" => {
                let Some(f) = node.child_by_field_name("function") else {
                    return Val::Unknown;
                };
                let callee = self.resolve_callee(f, caller);
                match callee {
                    Val::Sym(Sym::Func(g)) | Val::Bound(g) => {
                        if self.p.func(g).is_generator {
                            Val::Kind(Kind::Gen(g))
                        } else {
                            self.return_kind(g).map_or(Val::Unknown, Val::Kind)
                        }
                    }
                    // `cls(...)`, `factory: type[Conn]` called: an instance of that class (or
                    // of a subclass, whose overrides share the family's colour).
                    Val::Sym(Sym::Class(c)) | Val::Kind(Kind::ClassObj(c)) => {
                        Val::Kind(Kind::Instance(c))
                    }
                    Val::Sym(Sym::External(q)) if q == "super" => self.super_call(node, caller),
                    Val::Sym(Sym::External(q)) => match self.cat.call(&q) {
                        Some(e) if self.kept_creation(e, node.start_byte()) => e
                            .returns
                            .as_deref()
                            .map_or(Val::Unknown, |t| Val::Kind(Kind::Ext(kept_tag(t)))),
                        Some(e) => e
                            .returns
                            .clone()
                            .map_or(Val::Unknown, |t| Val::Kind(Kind::Ext(t))),
                        None if INERT_RESULTS.contains(&q.as_str()) => {
                            Val::Kind(Kind::Ext(INERT.into()))
                        }
                        None if CONTAINERS.contains(&q.as_str()) => {
                            let ty = if q == "sorted" { "list" } else { &q };
                            Val::Kind(Kind::Ext(format!("builtins.{ty}")))
                        }
                        None => Val::Unknown,
                    },
                    Val::ExtMethod(ty, name) => match self.cat.method(&ty, &name) {
                        Some(e) => e
                            .returns
                            .clone()
                            .map_or(Val::Unknown, |t| Val::Kind(Kind::Ext(t))),
                        None if ty == INERT => Val::Kind(Kind::Ext(INERT.into())),
                        None => Val::Unknown,
                    },
                    _ => Val::Unknown,
                }
            }
            // `a = b = Conn()`: the inner assignment's value.
            "assignment" => node
                .child_by_field_name("right")
                .map_or(Val::Unknown, |r| self.resolve(r, caller)),
            // `A() if b is None else b`, `x or Default()`: the kind both sides have (a `None`
            // side adds none: a method call on it fails either way).
            "conditional_expression" | "boolean_operator" => {
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
                    Some(Some(k)) if kinds.iter().all(|x| x.as_ref() == Some(k)) => {
                        Val::Kind(k.clone())
                    }
                    _ => Val::Unknown,
                }
            }
            k if INERT_LITERALS.contains(&k) => Val::Kind(Kind::Ext(INERT.into())),
            _ => Val::Unknown,
        }
    }

    /// `super()` in a method: the methods after its class in the MRO. `super(C, self)` names
    /// the class itself; a first argument that is not a project class is not followed.
    fn super_call(&self, node: Node, caller: Option<usize>) -> Val {
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
    fn resolve_callee(&self, f: Node, caller: Option<usize>) -> Val {
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

    /// `fn(*args)` where `fn` is a parameter of the caller (a callback) or of an enclosing
    /// function (the shape of a decorator's wrapper).
    fn param_call(&mut self, node: Node, f: Node, ctx: Ctx, caller: Option<usize>) {
        let name = text(f, self.src);
        let chain = self.scope_chain(caller);
        for &g in &chain {
            let def = self.func(g);
            if !def.locals.contains(name) {
                continue;
            }
            if let Some(param) = def.params.iter().position(|p| p.name == name) {
                let parent = self.up(node, 1);
                self.facts.param_calls.push(ParamCallFact {
                    caller: chain[0],
                    owner: g,
                    param,
                    start: node.start_byte(),
                    end: node.end_byte(),
                    ctx,
                    awaited: parent.is_some_and(|p| p.kind() == "await"),
                });
            }
            return;
        }
    }

    /// `x.name()` on a receiver of unknown type, where some project method is called `name`.
    fn unresolved(&mut self, node: Node, f: Node, ctx: Ctx, caller: Option<usize>) {
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
    fn unknown_receiver(
        &mut self,
        node: Node,
        name: &str,
        within: Option<ClassId>,
        ctx: Ctx,
        caller: Option<usize>,
    ) {
        if self.k.methods_by_name.contains_key(name) {
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

    fn kind_of(&self, node: Node, caller: Option<usize>) -> Option<Kind> {
        match self.resolve(node, caller) {
            Val::Kind(k) => Some(k),
            Val::Sym(Sym::Class(c)) => Some(Kind::ClassObj(c)),
            _ => None,
        }
    }

    // ---- facts --------------------------------------------------------------------------

    fn call(&mut self, node: Node, ctx: Ctx, caller: Option<usize>) {
        let Some(f) = node.child_by_field_name("function") else {
            return;
        };
        let target = match self.resolve_callee(f, caller) {
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
                if self.cat.object_type(&ty) && self.cat.method(&ty, &name).is_none() {
                    self.escape(f, &ty, Escape::Unmapped, ctx, caller);
                }
                self.cat
                    .method(&ty, &name)
                    .is_some()
                    .then_some(Target::Method { ty, name })
            }
            _ => None,
        };
        let parent = self.up(node, 1);
        let args = node.child_by_field_name("arguments");
        // Argument kinds flow into the callee's parameters.
        // A class call passes its arguments to `__init__`, after `self`.
        let receiver = match &target {
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
        if let (Some((g, offset)), Some(args)) = (receiver, args) {
            let g = &g;
            let def = self.p.func(*g);
            let mut cursor = args.walk();
            let mut pos = 0;
            for a in args.named_children(&mut cursor) {
                match a.kind() {
                    "keyword_argument" => {
                        let (Some(n), Some(v)) = (
                            a.child_by_field_name("name"),
                            a.child_by_field_name("value"),
                        ) else {
                            continue;
                        };
                        if let Some(i) = def.params.iter().position(|p| p.name == text(n, self.src))
                        {
                            let kind = self.kind_of(v, caller);
                            self.facts.param_obs.push(((*g, i), kind.map(Box::new)));
                        }
                    }
                    "list_splat" | "dictionary_splat" | "comment" => {}
                    _ => {
                        let kind = self.kind_of(a, caller);
                        self.facts
                            .param_obs
                            .push(((*g, pos + offset), kind.map(Box::new)));
                        pos += 1;
                    }
                }
            }
        }
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

    /// `getattr(obj, name[, default])` on a project object, a project module or an object of
    /// unknown type: which functions its name may pick.
    fn getattr(&mut self, node: Node, caller: Option<usize>) {
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
        if getattr::result_dies(node, self.src) {
            return;
        }
        let on = match self.resolve(obj, caller) {
            Val::Kind(Kind::Instance(c) | Kind::ClassObj(c)) | Val::Sym(Sym::Class(c)) => {
                DynOn::Class(c)
            }
            Val::Sym(Sym::Module(m)) => DynOn::Module(m),
            Val::Unknown if self.annotated_outside(obj, caller) => return,
            Val::Unknown => DynOn::Unknown,
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
                });
            }
            return;
        }
        let name = match name.kind() {
            "string" => string_prefix(name, self.src),
            "binary_operator" => name
                .child_by_field_name("left")
                .filter(|l| l.kind() == "string")
                .map(|l| match string_prefix(l, self.src) {
                    DynName::Exact(p) | DynName::Prefix(p) => DynName::Prefix(p),
                    DynName::Any => DynName::Any,
                })
                .unwrap_or(DynName::Any),
            _ => DynName::Any,
        };
        self.facts.dyn_attrs.push(DynAttrFact {
            name,
            on,
            line: line(node),
        });
    }

    /// `obj` is a parameter annotated with a class outside the project that no project class
    /// derives from (`options: argparse.Namespace`): like a type checker, awaitify takes the
    /// annotation's word that the value is not a project object.
    fn annotated_outside(&self, obj: Node, caller: Option<usize>) -> bool {
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
        getattr::holds_no_project_object(&q)
            && !self.p.modules.iter().enumerate().any(|(m, module)| {
                module.index.classes.iter().any(|k| {
                    k.bases.iter().any(|b| {
                        let b = b.split('[').next().unwrap_or_default();
                        matches!(self.p.resolve_in_module(m, b), Sym::External(x) if x == q)
                    })
                })
            })
    }

    /// A `[[call]]` with an `arg` guard matches only when that argument has the named type.
    fn arg_guard_holds(
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
    fn callable_params(&mut self, node: Node, f: Node, caller: Option<usize>) {
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
    fn gen_use_followed(&self, node: Node, caller: Option<usize>) -> bool {
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
    fn consumer(&mut self, node: Node, q: &str, ctx: Ctx, caller: Option<usize>) {
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

    fn reference(&mut self, node: Node, ctx: Ctx, caller: Option<usize>) {
        // Parts of a larger attribute chain are handled at the top of the chain.
        if let Some(p) = self.up(node, 1) {
            if p.kind() == "attribute"
                && p.child_by_field_name("attribute")
                    .is_some_and(|a| a.id() == node.id())
            {
                return;
            }
            if matches!(
                p.kind(),
                "parameters"
                    | "default_parameter"
                    | "typed_parameter"
                    | "function_definition"
                    | "class_definition"
            ) {
                return;
            }
            if p.kind() == "keyword_argument"
                && p.child_by_field_name("name")
                    .is_some_and(|n| n.id() == node.id())
            {
                return;
            }
            if matches!(p.kind(), "assignment" | "augmented_assignment")
                && p.child_by_field_name("left")
                    .is_some_and(|l| l.id() == node.id())
            {
                self.object_set(node, ctx, caller);
                return;
            }
        }
        let val = match self.class_body_method(node, ctx) {
            Some(f) => Val::Sym(Sym::Func(f)),
            None => self.resolve(node, caller),
        };
        // `to_thread(ev.wait, 5)`: a method of a converted object used as a value; whoever
        // calls it would not await it.
        if let Val::ExtMethod(ty, name) = &val
            && self.cat.object_type(ty)
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
                ty: ty.clone(),
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
        let target = match val {
            Val::Sym(Sym::Func(f)) | Val::Bound(f) => f,
            Val::Sym(Sym::External(q)) => {
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
        let arg_list_depth = if self
            .up(node, 1)
            .is_some_and(|p| p.kind() == "keyword_argument")
        {
            2
        } else {
            1
        };
        let passed_to = self
            .up(node, arg_list_depth)
            .filter(|p| p.kind() == "argument_list")
            .and_then(|_| self.up(node, arg_list_depth + 1))
            .and_then(|call| call.child_by_field_name("function"))
            .map(|f| match self.resolve(f, caller) {
                Val::Sym(Sym::External(q)) => q,
                _ => text(f, self.src).to_string(),
            });
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
        });
    }

    /// A name in a class body that is one of the class's methods (`__call__ = run`,
    /// `alias = run`): an alias awaitify cannot follow.
    fn class_body_method(&self, node: Node, ctx: Ctx) -> Option<FuncId> {
        if ctx != Ctx::ClassBody || node.kind() != "identifier" {
            return None;
        }
        let class = self
            .ancestors
            .iter()
            .rev()
            .find(|n| n.kind() == "class_definition")?;
        let c = self
            .ix
            .classes
            .iter()
            .position(|k| k.start == class.start_byte())?;
        let f = *self.ix.classes[c].methods.get(text(node, self.src))?;
        Some(self.fid(f))
    }

    /// Whether `node` is an argument that a catalog entry's `callable` names.
    fn callable_arg(&self, node: Node, caller: Option<usize>) -> bool {
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

    fn assignment(&mut self, node: Node, caller: Option<usize>) {
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
        let kind = self.kind_of(right, caller).or_else(|| {
            let ann = node.child_by_field_name("type")?;
            self.ann_kind(self.m, &annotation::parse(text(ann, self.src)), false)
        });
        self.bind_target(left, kind, caller);
    }

    /// `xs.append(v)` on a local list: an observation of its element kind.
    fn append(&mut self, node: Node, caller: Option<usize>) {
        let Some(f) = node.child_by_field_name("function") else {
            return;
        };
        let (Some(obj), Some(attr)) = (
            f.child_by_field_name("object"),
            f.child_by_field_name("attribute"),
        ) else {
            return;
        };
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

    fn bind_target(&mut self, left: Node, kind: Option<Kind>, caller: Option<usize>) {
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
                let (Some(obj), Some(attr)) = (
                    left.child_by_field_name("object"),
                    left.child_by_field_name("attribute"),
                ) else {
                    return;
                };
                if let Val::Kind(Kind::Instance(c)) = self.resolve(obj, caller) {
                    self.facts
                        .attr_obs
                        .push(((c, text(attr, self.src).to_string()), kind.map(Box::new)));
                }
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list" => {
                let mut cursor = left.walk();
                let kids: Vec<Node> = left.named_children(&mut cursor).collect();
                for k in kids {
                    self.bind_target(k, None, caller);
                }
            }
            _ => {}
        }
    }

    fn yield_from(&mut self, node: Node, caller: Option<usize>) {
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

    fn for_loop(&mut self, node: Node, ctx: Ctx, caller: Option<usize>) {
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
            Some(Kind::Seq(elem)) => Some((**elem).clone()),
            _ => None,
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

    fn with_stmt(&mut self, node: Node, ctx: Ctx, caller: Option<usize>) {
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

/// What a string literal says of an attribute name: all of it, or (an f-string, a `%`
/// template) the text before its first placeholder.
fn string_prefix(node: Node, src: &str) -> DynName {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_call_is_48_bytes_and_unpacks_to_what_was_packed() {
        assert_eq!(std::mem::size_of::<PackedCall>(), 48);
        let targets = [
            Target::Func(FuncId { module: 3, func: 7 }),
            Target::Class(ClassId {
                module: 1,
                class: 2,
            }),
            Target::Rule("time.sleep".into()),
            Target::Method {
                ty: "requests.Session".into(),
                name: "get".into(),
            },
        ];
        for (i, target) in targets.into_iter().enumerate() {
            let call = CallFact {
                caller: (i % 2 == 0).then_some(i + 5),
                target,
                start: 100 + i,
                end: 200 + i,
                callee: (100 + i, 150),
                line: 4_000_000_000,
                col: 80,
                ctx: [Ctx::Body, Ctx::Module, Ctx::Main, Ctx::Decorator][i],
                awaited: i == 1,
                statement: i == 2,
            };
            let got = PackedCall::new(call.clone()).unpack();
            assert_eq!(format!("{got:?}"), format!("{call:?}"));
        }
    }
}
