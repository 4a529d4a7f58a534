//! The set of parsed modules, their dotted names, and project-wide name resolution.

use crate::index::{Binding, ModuleIndex};
use crate::source::SourceText;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::PathBuf;

/// A function or method anywhere in the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FuncId {
    pub module: u32,
    pub func: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassId {
    pub module: u32,
    pub class: u32,
}

/// One parsed, indexed source file.
pub struct Module {
    pub path: PathBuf,
    /// The path as shown in diffs and diagnostics.
    pub display: String,
    /// Dotted module name relative to its import root (`pkg.a`).
    pub name: String,
    /// Other names the module is importable as (from another import root).
    pub aliases: Vec<String>,
    pub is_package: bool,
    /// A pytest test module (`test_*.py`, `*_test.py`, `conftest.py`).
    pub is_test: bool,
    pub source: SourceText,
    /// The compact syntax the knowledge fixed point walks; emptied after it (the tree-sitter
    /// tree is dropped after indexing, and the rewrite parses again).
    pub syntax: crate::syntax::PackedSyntax,
    pub index: ModuleIndex,
}

/// What a dotted name refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sym {
    Module(usize),
    Func(FuncId),
    Class(ClassId),
    /// Outside the project (stdlib, third party, builtins): its qualified name.
    External(String),
}

pub struct Project {
    pub modules: Vec<Module>,
    by_name: HashMap<String, usize>,
    /// Method resolution orders, computed once: method lookups are on the hot path.
    mros: HashMap<ClassId, Vec<ClassId>>,
    /// For a class with project subclasses: every class in the MRO of it or of one of them
    /// (its own MRO first). Only classes that have subclasses are in the table.
    hierarchies: HashMap<ClassId, Vec<ClassId>>,
    /// Module-level functions by name: what `x.name()` may reach when `x` may be a module.
    top_level: HashMap<crate::index::Name, Vec<FuncId>>,
    /// The qualified names of the classes outside the project that a project class names as
    /// a base: whether an outside class can have project instances.
    outside_bases: HashSet<String>,
}

impl Project {
    pub fn new(modules: Vec<Module>) -> Project {
        let mut by_name = HashMap::default();
        for (i, m) in modules.iter().enumerate() {
            // First one wins: two roots can give one file two names, never two files one name.
            for name in std::iter::once(&m.name).chain(&m.aliases) {
                by_name.entry(name.clone()).or_insert(i);
            }
        }
        let mut p = Project {
            modules,
            by_name,
            mros: HashMap::default(),
            hierarchies: HashMap::default(),
            top_level: HashMap::default(),
            outside_bases: HashSet::default(),
        };
        p.mros = p.class_ids().map(|c| (c, p.compute_mro(c))).collect();
        p.hierarchies = p.compute_hierarchies();
        let mut top_level: HashMap<crate::index::Name, Vec<FuncId>> = HashMap::default();
        for f in p.func_ids() {
            let def = p.func(f);
            if def.class.is_none() && def.parent.is_none() {
                top_level.entry(def.name.clone()).or_default().push(f);
            }
        }
        p.top_level = top_level;
        p.outside_bases = p.compute_outside_bases();
        p
    }

    /// Some project class names the outside class `q` as a base (written as imported, or as
    /// the qualified name the project's resolution gives it).
    pub fn derives_from(&self, q: &str) -> bool {
        self.outside_bases.contains(q)
    }

    /// Some project class names a class of the outside module `module` (or of a module
    /// under it) as a base.
    pub fn derives_from_module(&self, module: &str) -> bool {
        self.outside_bases
            .iter()
            .any(|b| b.strip_prefix(module).is_some_and(|r| r.starts_with('.')))
    }

    fn compute_outside_bases(&self) -> HashSet<String> {
        let mut out = HashSet::default();
        for c in self.class_ids() {
            let m = c.module as usize;
            for b in &self.class(c).bases {
                let b = b.split('[').next().unwrap_or_default();
                out.extend(crate::external::qualified_name(self, m, b));
                if let Sym::External(x) = self.resolve_in_module(m, b) {
                    out.insert(x);
                }
            }
        }
        out
    }

    /// The module-level functions called `name`, in every module.
    pub fn top_level_named(&self, name: &str) -> &[FuncId] {
        self.top_level.get(name).map_or(&[], Vec::as_slice)
    }

    /// The type alias that `name`, read as an annotation in module `m`, stands for: the
    /// module it is written in and its text. Followed through imports (`from .typings
    /// import Conn`); only a name bound once, by that assignment.
    pub fn type_alias(&self, m: usize, name: &str) -> Option<(usize, &str)> {
        let (mut m, mut name) = (m, name);
        for _ in 0..4 {
            let index = &self.modules[m].index;
            match index.bindings.get(name).map(Vec::as_slice) {
                Some([Binding::Value]) => {
                    let mut found = index.type_aliases.iter().filter(|(n, _)| n == name);
                    return match (found.next(), found.next()) {
                        (Some((_, text)), None) => Some((m, text.as_str())),
                        _ => None,
                    };
                }
                Some([Binding::Import(q)]) => {
                    let (module, member) = q.rsplit_once('.')?;
                    m = self.module_named(module)?;
                    name = member;
                }
                _ => return None,
            }
        }
        None
    }

    pub fn module_named(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub fn func(&self, id: FuncId) -> &crate::index::FuncDef {
        &self.modules[id.module as usize].index.functions[id.func as usize]
    }

    pub fn class(&self, id: ClassId) -> &crate::index::ClassDef {
        &self.modules[id.module as usize].index.classes[id.class as usize]
    }

    /// Resolves a fully qualified dotted name to a project symbol, following re-exports.
    pub fn resolve(&self, qualified: &str) -> Sym {
        self.resolve_depth(qualified, 0)
    }

    fn resolve_depth(&self, qualified: &str, depth: usize) -> Sym {
        if depth > 8 {
            return Sym::External(qualified.to_string());
        }
        // Longest module prefix first; prefixes are slices of `qualified`, nothing allocated.
        let cuts =
            std::iter::once(qualified.len()).chain(qualified.rmatch_indices('.').map(|(i, _)| i));
        for cut in cuts {
            let Some(&m) = self.by_name.get(&qualified[..cut]) else {
                continue;
            };
            if cut == qualified.len() {
                return Sym::Module(m);
            }
            return self
                .member(m, &qualified[cut + 1..], depth)
                .unwrap_or_else(|| Sym::External(qualified.to_string()));
        }
        Sym::External(qualified.to_string())
    }

    /// What the dotted `rest` names in module `m`.
    fn member(&self, m: usize, rest: &str, depth: usize) -> Option<Sym> {
        let index: &ModuleIndex = &self.modules[m].index;
        let (head, tail) = match rest.split_once('.') {
            Some((head, tail)) => (head, Some(tail)),
            None => (rest, None),
        };
        match index.binding(head)? {
            Binding::Function(f) if tail.is_none() => Some(Sym::Func(FuncId {
                module: m as u32,
                func: *f as u32,
            })),
            Binding::Class(c) => {
                let class = ClassId {
                    module: m as u32,
                    class: *c as u32,
                };
                match tail {
                    None => Some(Sym::Class(class)),
                    Some(method) if !method.contains('.') => {
                        self.method(class, method).map(Sym::Func)
                    }
                    _ => None,
                }
            }
            Binding::Import(q) => {
                let full = match tail {
                    Some(tail) => format!("{q}.{tail}"),
                    None => q.to_string(),
                };
                Some(self.resolve_depth(&full, depth + 1))
            }
            _ => None,
        }
    }

    /// Resolves a base-class expression written in module `m`.
    pub fn resolve_in_module(&self, m: usize, dotted: &str) -> Sym {
        let mut parts = dotted.splitn(2, '.');
        let head = parts.next().unwrap_or_default();
        let tail = parts.next();
        let index = &self.modules[m].index;
        let base = match index.binding(head) {
            Some(Binding::Import(q)) => q.to_string(),
            Some(Binding::Class(c)) if tail.is_none() => {
                return Sym::Class(ClassId {
                    module: m as u32,
                    class: *c as u32,
                });
            }
            Some(Binding::Function(f)) if tail.is_none() => {
                return Sym::Func(FuncId {
                    module: m as u32,
                    func: *f as u32,
                });
            }
            _ => format!("{}.{head}", self.modules[m].name),
        };
        match tail {
            Some(t) => self.resolve(&format!("{base}.{t}")),
            None => self.resolve(&base),
        }
    }

    /// Project base classes of a class, in order.
    pub fn bases(&self, c: ClassId) -> Vec<ClassId> {
        self.class(c)
            .bases
            .iter()
            .filter_map(|b| match self.resolve_in_module(c.module as usize, b) {
                Sym::Class(base) if base != c => Some(base),
                _ => None,
            })
            .collect()
    }

    /// Method resolution order restricted to project classes (depth-first, left to right).
    pub fn mro(&self, c: ClassId) -> &[ClassId] {
        // Every class of the project is in the table.
        self.mros.get(&c).map_or(&[], Vec::as_slice)
    }

    /// The classes whose attribute assignments can reach an object that a value of class `c`
    /// may be at run time: the MRO of `c` and of each of its project subclasses (`c`'s own
    /// MRO first, the rest in class order).
    pub fn hierarchy(&self, c: ClassId) -> &[ClassId] {
        self.hierarchies
            .get(&c)
            .map_or_else(|| self.mro(c), Vec::as_slice)
    }

    fn compute_hierarchies(&self) -> HashMap<ClassId, Vec<ClassId>> {
        let mut out: HashMap<ClassId, Vec<ClassId>> = HashMap::default();
        for r in self.class_ids() {
            for &k in self.mro(r).iter().skip(1) {
                if k == r {
                    continue;
                }
                let h = out.entry(k).or_insert_with(|| self.mro(k).to_vec());
                for &x in self.mro(r) {
                    if !h.contains(&x) {
                        h.push(x);
                    }
                }
            }
        }
        out
    }

    fn compute_mro(&self, c: ClassId) -> Vec<ClassId> {
        let mut out = Vec::new();
        let mut stack = vec![c];
        while let Some(k) = stack.pop() {
            if out.contains(&k) || out.len() > 64 {
                continue;
            }
            out.push(k);
            let mut bases = self.bases(k);
            bases.reverse();
            stack.extend(bases);
        }
        out
    }

    /// Finds `name` on the class or its project bases.
    pub fn method(&self, c: ClassId, name: &str) -> Option<FuncId> {
        self.mro(c).iter().find_map(|&k| {
            self.class(k).methods.get(name).map(|&f| FuncId {
                module: k.module,
                func: f as u32,
            })
        })
    }

    /// Finds `name` on the bases of `c` (what `super().name` calls).
    pub fn super_method(&self, c: ClassId, name: &str) -> Option<FuncId> {
        self.mro(c).iter().skip(1).find_map(|&k| {
            self.class(k).methods.get(name).map(|&f| FuncId {
                module: k.module,
                func: f as u32,
            })
        })
    }

    pub fn func_ids(&self) -> impl Iterator<Item = FuncId> + '_ {
        self.modules.iter().enumerate().flat_map(|(m, module)| {
            (0..module.index.functions.len()).map(move |f| FuncId {
                module: m as u32,
                func: f as u32,
            })
        })
    }

    pub fn class_ids(&self) -> impl Iterator<Item = ClassId> + '_ {
        self.modules.iter().enumerate().flat_map(|(m, module)| {
            (0..module.index.classes.len()).map(move |c| ClassId {
                module: m as u32,
                class: c as u32,
            })
        })
    }

    /// `path:line` of a function, for explanations.
    pub fn func_location(&self, f: FuncId) -> String {
        format!(
            "{}:{}",
            self.modules[f.module as usize].display,
            self.func(f).line
        )
    }

    /// `module.qualname` of a function.
    pub fn func_name(&self, f: FuncId) -> String {
        let m = &self.modules[f.module as usize];
        if m.name.is_empty() {
            self.func(f).qualname.to_string()
        } else {
            format!("{}.{}", m.name, self.func(f).qualname)
        }
    }
}
