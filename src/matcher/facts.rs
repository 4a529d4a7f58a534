//! The facts a module's walk records (calls, references, loops, `with`s, type observations)
//! and their compact forms, which live for the whole run.

use super::chunk::Chunk;
use super::knowledge::{Kind, ScopeKey};
use crate::project::{ClassId, FuncId};

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
    /// Where the call starts.
    pub fn start(&self) -> usize {
        self.start as usize
    }

    /// The project function called, if that is the target.
    pub fn func(&self) -> Option<FuncId> {
        match self.target {
            PackedTarget::Func(f) => Some(f),
            _ => None,
        }
    }

    /// Offsets and lines fit in `u32`: files are read whole and capped far below 4 GiB.
    pub(super) fn new(c: CallFact) -> PackedCall {
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
    /// `__getstate__ = f` in this class's body: `f` is one of its methods by another name.
    pub bound_in: Option<ClassId>,
}

/// An expression naming an API outside the project that the catalog knows: a `[[blocking]]`
/// callee (`os.system` in `os.system(c)`, `iterdir` on a `pathlib.Path`), or a catalog or
/// `[[blocking]]` function used as a value (`partial(time.sleep, 1)`). What
/// `blocking-call-in-coroutine` reports where no rule rewrote it.
#[derive(Debug, Clone)]
pub struct OutsideFact {
    pub start: usize,
    pub end: usize,
    pub what: Outside,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outside {
    /// A function, by qualified name.
    Name(String),
    /// A method of a value of a catalog type (kept objects by their type: still blocking).
    Method { ty: String, name: String },
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
    /// An attribute read that no rule maps or keeps (`q.queue`).
    Attribute,
    /// Passed to a project function whose parameter other callers give another kind: its
    /// uses there are not converted.
    Passed,
    /// An attribute set after construction that the new type ignores or lacks
    /// (`session.verify = False`).
    Set,
    /// Stored in an attribute that another assignment gives another type
    /// (`self.lock = Conn()` elsewhere): its uses through the attribute cannot be followed.
    Stored,
    /// Read into a value that may also be something else (`lock if c else nullcontext()`,
    /// `lock or other`): the uses of that value are of unknown type and stay as they are.
    Mixed,
}

/// Attributes that keep their meaning when set on the converted object.
pub(super) const SAFE_SETS: &[(&str, &[&str])] = &[
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
    ("sqlite3.Cursor", &["row_factory", "arraysize"]),
];

/// `getattr(obj, name)`: the functions it may return are used as values.
#[derive(Debug, Clone)]
pub struct DynAttrFact {
    /// The name: known, known up to a prefix (`"_load_" + kind`), or not at all.
    pub name: DynName,
    pub on: DynOn,
    pub line: usize,
    /// What reads it, for the reason: `getattr`, `globals()`, `vars()`, `__dict__`.
    pub via: &'static str,
    /// `getattr(self.conn, name)` in a `__getattr__(self, name)`: that `__getattr__`, the
    /// attribute it reads from, and whether it only returns what it read
    /// ([`crate::index::ClassDef::forwards`]), so that reads through the proxy resolve to it.
    pub proxy: Option<(FuncId, crate::index::Name, bool)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DynName {
    Exact(crate::index::Name),
    Prefix(crate::index::Name),
    /// Whatever string literal every call passes to this parameter of this private function
    /// (`self._inherit_option("read_concern", v)`).
    Param(FuncId, usize),
    Any,
}

/// A project module used as a value (`run(tasks)`, `importlib.import_module(name)`,
/// `sys.modules`): `x.name()` on a value of unknown type may then reach a module-level
/// function `name`, of that module or, through its attributes, of any other.
#[derive(Debug, Clone)]
pub struct ModuleValueFact {
    /// The module, or `None` for any project module.
    pub module: Option<usize>,
    pub line: usize,
}

/// What `getattr` reads from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DynOn {
    /// An instance of this project class (or of a subclass), or the class itself.
    Class(ClassId),
    Module(usize),
    /// The first parameter of this module-level function (`def _getstate(self)`): an
    /// instance of whichever classes bind the function in their body, if that is its only use.
    FirstParam(FuncId),
    /// Some project module, imported at run time (`importlib.import_module(name)`).
    AnyModule,
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
            /// Fingerprints ([`crate::matcher::Read::fingerprint`]) of the knowledge keys the walk looked up,
            /// chunk after chunk, each chunk's sorted: the module is matched again only when
            /// one of these keys changes, and then only the chunks that read it.
            pub reads: Vec<u64>,
            pub(super) chunks: Vec<Chunk>,
        }

        pub(super) const FIELDS: usize = [$(stringify!($f)),*].len();

        impl ModuleFacts {
            pub(super) fn lens(&self) -> [u32; FIELDS] {
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
        pub(super) struct Old {
            $($f: std::vec::IntoIter<$t>,)*
            pub(super) reads: Vec<u64>,
            pub(super) chunks: Vec<Chunk>,
        }

        impl Old {
            pub(super) fn new(f: ModuleFacts) -> Old {
                Old {
                    $($f: f.$f.into_iter(),)*
                    reads: f.reads,
                    chunks: f.chunks,
                }
            }

            /// Moves the next `n[i]` facts of each vector into `to`, or drops them.
            pub(super) fn take(&mut self, n: [u32; FIELDS], to: &mut ModuleFacts, keep: bool) {
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
    outside: OutsideFact,
    attrs: AttrFact,
    yield_froms: YieldFromFact,
    unresolved: UnresolvedFact,
    kept_uses: KeptUseFact,
    param_calls: ParamCallFact,
    dyn_attrs: DynAttrFact,
    module_values: ModuleValueFact,
    /// String literals passed to private project functions: `(callee, parameter)`, and the
    /// call's start with the value.
    arg_literals: ((FuncId, usize), (usize, crate::index::Name)),
    /// Type observations: `None` means this binding's type is not known.
    local_obs: (ScopeKey, Observed),
    attr_obs: ((ClassId, String), Observed),
    param_obs: ((FuncId, usize), Observed),
    return_obs: (FuncId, Observed),
}

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
