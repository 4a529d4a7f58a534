//! The type-knowledge loop: type facts flow through names, parameters, attributes and
//! returns across modules, so matching repeats, with what the last round learnt, until the
//! knowledge stops changing. A round walks again only the modules (and chunks) that read a
//! key that changed.

use super::chunk::match_module;
use super::facts::{ModuleFacts, Observed};
use crate::project::{ClassId, FuncId, Project};
use crate::rules::Catalog;
use rayon::prelude::*;
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
    /// A builtin dict whose keys and values have these kinds, where known: what iterating
    /// it, `.keys()`, `.values()`, `.items()`, `d[k]` and `d.get(k)` give.
    Map(Option<Box<Kind>>, Option<Box<Kind>>),
    /// A tuple of values of these kinds, where known (what `dict.items()` yields): a tuple
    /// target of the same length, with no starred name, unpacks it.
    Tuple(Vec<Option<Kind>>),
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
    /// The distinct kinds assigned to an attribute, in the order first seen, `None` for a
    /// value of unknown kind (which a receiver typed through a subclass or base must not
    /// ignore, as it may not ignore the class's own). Kept apart rather than joined: a
    /// declaration of the attribute's type decides which of them conform to it.
    pub attrs: HashMap<(ClassId, String), Vec<Option<Kind>>>,
    pub params: HashMap<(FuncId, usize), Kind>,
    pub returns: HashMap<FuncId, Kind>,
    /// Method name -> the methods of that name, for receivers of unknown type.
    pub methods_by_name: HashMap<String, Vec<FuncId>>,
    /// Representative of each method's override family.
    pub family: HashMap<FuncId, FuncId>,
    /// Object creations (`object = true` calls, by module and start offset) that stay as
    /// they are because some use of the object cannot convert: decided by the passes, before
    /// the final colouring (the rounds of `run::keep`).
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

pub(super) const KEPT: &str = " (kept)";

/// The cap on [`fixed_point`]'s rounds: a binding typed by itself (`x = [x]`) has a type
/// that grows every round and never settles.
const TYPE_ROUNDS: usize = 8;

/// Rounds of matching until the type knowledge stops changing (or `TYPE_ROUNDS`). `dirty` modules are walked
/// again; with `changed`, only their chunks that read one of those keys.
pub fn fixed_point(
    project: &mut Project,
    cat: &Catalog,
    knowledge: &mut Knowledge,
    facts: &mut [ModuleFacts],
    dirty: &[bool],
    mut changed: Option<HashSet<u64>>,
) {
    let mut dirty = dirty.to_vec();
    for round in 1..=TYPE_ROUNDS {
        // After a family kept an object, a module walked again may have had its syntax
        // dropped: parse it again (only those).
        project
            .modules
            .par_iter_mut()
            .zip(dirty.par_iter())
            .filter(|(m, d)| **d && m.syntax.is_empty())
            .for_each(|(m, _)| m.syntax = syntax_of(&m.source.text));
        let project = &*project;
        // In place: a module's old facts are freed as soon as its new ones exist. After
        // the first round a module walks again only the chunks that read a changed key.
        facts
            .par_iter_mut()
            .enumerate()
            .filter(|(m, _)| dirty[*m])
            .for_each(|(m, f)| {
                let previous = changed.as_ref().map(|c| (std::mem::take(f), c));
                let again = previous.is_some();
                *f = match_module(project, cat, knowledge, m, previous);
                // The tests check that keeping the clean chunks is the same as walking all.
                if cfg!(debug_assertions) && again {
                    let fresh = match_module(project, cat, knowledge, m, None);
                    debug_assert_eq!(format!("{f:?}"), format!("{fresh:?}"));
                }
            });
        let next = learn(facts);
        // A module's facts depend on its syntax, the project and the knowledge keys it read:
        // only modules that read a changed key can see a difference in the next round.
        let now = changed_keys(knowledge, &next);
        // At the cap the knowledge stays the one the facts were walked with: taking `next`
        // unwalked would leave facts a walk with it does not give, and the next call (a
        // family kept an object) would keep chunks that read one of `now`'s keys as clean.
        if now.is_empty() || round == TYPE_ROUNDS {
            break;
        }
        dirty = facts
            .iter()
            .map(|f| f.reads.iter().any(|r| now.contains(r)))
            .collect();
        changed = Some(now);
        knowledge.locals = next.locals;
        knowledge.attrs = next.attrs;
        knowledge.params = next.params;
        knowledge.returns = next.returns;
    }
}

/// The fixed point over a project built afresh (the soundness check's index of the output):
/// only the modules `only` marks are matched (all if `None`); the others have no facts.
pub(crate) fn index_fresh(
    project: &mut Project,
    cat: &Catalog,
    only: Option<&[bool]>,
) -> (Vec<ModuleFacts>, Knowledge) {
    let n = project.modules.len();
    let mut knowledge = base_knowledge(project);
    let mut facts: Vec<ModuleFacts> = Vec::new();
    facts.resize_with(n, ModuleFacts::default);
    let dirty = only.map_or_else(|| vec![true; n], <[bool]>::to_vec);
    fixed_point(project, cat, &mut knowledge, &mut facts, &dirty, None);
    (facts, knowledge)
}

/// The compact syntax of a module's text, which parsed before.
fn syntax_of(text: &str) -> crate::syntax::PackedSyntax {
    let tree = crate::parse::parse(text).expect("tree-sitter parses what it parsed before");
    crate::syntax::Syntax::new(&tree, text).pack()
}

/// The knowledge before any walk: the method families and the methods by name.
pub fn base_knowledge(p: &Project) -> Knowledge {
    let mut k = Knowledge {
        family: crate::colour::families(p),
        ..Knowledge::default()
    };
    for f in p.func_ids() {
        let def = p.func(f);
        if def.is_method() {
            k.methods_by_name
                .entry(def.name.to_string())
                .or_default()
                .push(f);
        }
    }
    k
}

/// The knowledge keys whose value differs between two rounds.
fn changed_keys(a: &Knowledge, b: &Knowledge) -> HashSet<u64> {
    fn diff<K: std::hash::Hash + Eq + Clone, V: PartialEq>(
        x: &HashMap<K, V>,
        y: &HashMap<K, V>,
        read: impl Fn(K) -> Read,
        out: &mut HashSet<u64>,
    ) {
        for (k, v) in x {
            if y.get(k) != Some(v) {
                out.insert(read(k.clone()).fingerprint());
            }
        }
        for k in y.keys() {
            if !x.contains_key(k) {
                out.insert(read(k.clone()).fingerprint());
            }
        }
    }
    let mut out = HashSet::default();
    diff(&a.locals, &b.locals, Read::Local, &mut out);
    diff(&a.params, &b.params, |(f, i)| Read::Param(f, i), &mut out);
    diff(&a.attrs, &b.attrs, |(c, n)| Read::Attr(c, n), &mut out);
    diff(&a.returns, &b.returns, Read::Return, &mut out);
    out
}

/// Joins the type observations of every module: a binding seen with two types is unknown.
/// Only the learnt maps are filled in; the rest stays empty.
fn learn(facts: &[ModuleFacts]) -> Knowledge {
    // Runs every round over every observation: joined by reference, cloning only the result.
    fn join<'f, K>(obs: impl Iterator<Item = &'f (K, Observed)>) -> HashMap<K, Kind>
    where
        K: std::hash::Hash + Eq + Clone + 'f,
    {
        let mut seen: HashMap<&K, Option<&Kind>> = HashMap::default();
        for (k, v) in obs {
            let v = v.as_deref();
            seen.entry(k)
                .and_modify(|old| {
                    if *old != v {
                        *old = None;
                    }
                })
                .or_insert(v);
        }
        seen.into_iter()
            .filter_map(|(k, v)| Some((k.clone(), v?.clone())))
            .collect()
    }
    // Keeps every distinct kind, and the bindings of unknown type too.
    fn distinct<'f, K>(
        obs: impl Iterator<Item = &'f (K, Observed)>,
    ) -> HashMap<K, Vec<Option<Kind>>>
    where
        K: std::hash::Hash + Eq + Clone + 'f,
    {
        let mut seen: HashMap<&K, Vec<Option<&Kind>>> = HashMap::default();
        for (k, v) in obs {
            let v = v.as_deref();
            let kinds = seen.entry(k).or_default();
            if !kinds.contains(&v) {
                kinds.push(v);
            }
        }
        seen.into_iter()
            .map(|(k, v)| (k.clone(), v.into_iter().map(|x| x.cloned()).collect()))
            .collect()
    }
    let ((locals, attrs), (params, returns)) = rayon::join(
        || {
            rayon::join(
                || join(facts.iter().flat_map(|f| &f.local_obs)),
                || distinct(facts.iter().flat_map(|f| &f.attr_obs)),
            )
        },
        || {
            rayon::join(
                || join(facts.iter().flat_map(|f| &f.param_obs)),
                || join(facts.iter().flat_map(|f| &f.return_obs)),
            )
        },
    );
    Knowledge {
        locals,
        attrs,
        params,
        returns,
        ..Knowledge::default()
    }
}
