//! Callbacks: a project function passed to a parameter of another project function that
//! only calls it (`retry(fetch)`, `def retry(func): ... func(i)`). Every value passed at that
//! parameter, over every call site, forms a group that changes colour together: when one
//! member becomes async, all do, the parameter's calls are awaited and the function holding
//! them becomes async by the usual rules. A parameter forwarded unchanged to another one
//! (`P(k)` -> `Q(k)` -> `k()`) joins its group, and so does an attribute a method stores it
//! in (`self.k = k`, then `self.k()`; see `stored.rs`); a construction (`Box(k)`) is a call
//! of the `__init__` it runs.
//!
//! Unsound, so the group stays sync with a pin on each member: a value awaitify cannot follow
//! (a lambda, an external function, `functools.partial(...)`), a call site it cannot map
//! (`*args`), a default other than `None`, or a function whose calls are not all known. A
//! function under a project decorator whose wrapper calls it with the wrapper's own
//! arguments untouched (`fn(self, *args, **kwargs)`) is called as if undecorated; any other
//! decorator hides what the parameter receives. A
//! parameter used otherwise than called, tested or forwarded (stored, returned, called from
//! a nested function) is opaque: what is passed to it is pinned as before.

mod stored;
mod tables;

use crate::matcher::{ModuleFacts, PackedCall, Target};
use crate::parse::{line, text};
use crate::project::{ClassId, FuncId, Project};
use crate::wrappers::{Decorators, def_node};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use tree_sitter::{Node, Tree};

/// Where a group's values are passed or stored: a parameter (the function and its name), or
/// an attribute of the instances of a class (`self.on_error = on_error`, see `stored.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Slot {
    Param(FuncId, String),
    Attr(ClassId, String),
    /// A module-level dict of functions looked up and called (see `tables.rs`).
    Table(usize, String),
}
/// A call site: `(module, call start, call end, caller)`.
type Site = (usize, usize, usize, Option<usize>);

/// One group of values passed to callback parameters that change colour together.
#[derive(Debug, Default)]
pub struct Group {
    /// The parameters, the first one found first (the one messages name).
    pub slots: Vec<Slot>,
    /// The project functions passed, each with where first: `(function, module, line)`.
    pub members: Vec<(FuncId, usize, usize)>,
    /// The calls of the parameters: `(caller, module, call start, line)`.
    pub calls: Vec<(FuncId, usize, usize, usize)>,
    /// The calls of stored attributes (`self.on_error(e)`): `(module, start, end)`, awaited
    /// when the group turns async.
    pub attr_calls: Vec<(usize, usize, usize)>,
    /// Why the group must stay sync: a clause naming the value or call at fault.
    pub blocked: Option<String>,
    /// A parameter is used otherwise than called: its values are pinned as before.
    pub opaque: bool,
}

impl Group {
    pub fn sound(&self) -> bool {
        self.blocked.is_none() && !self.opaque
    }

    /// The first parameter found (the one messages name): a group starts at the parameter a
    /// function is passed to, or at a dispatch table.
    fn head(&self) -> Option<(FuncId, &str)> {
        self.slots.iter().find_map(|s| match s {
            Slot::Param(f, k) => Some((*f, k.as_str())),
            Slot::Attr(..) | Slot::Table(..) => None,
        })
    }

    /// Where the group's functions go, for messages: "passed to parameter `k` of `f`", or
    /// "a value of the dispatch table `T`".
    fn place(&self, p: &Project) -> Option<String> {
        if let Some((owner, k)) = self.head() {
            return Some(format!(
                "passed to parameter `{k}` of `{}`",
                p.func(owner).name
            ));
        }
        self.slots.iter().find_map(|s| match s {
            Slot::Table(_, t) => Some(format!("a value of the dispatch table `{t}`")),
            _ => None,
        })
    }
}

#[derive(Debug, Default)]
pub struct Callbacks {
    pub groups: Vec<Group>,
    /// The references passed at a group's parameter: `(module, start)` -> group.
    refs: HashMap<(usize, usize), usize>,
}

/// What one slot's analysis found, before slots are merged into groups.
#[derive(Default)]
struct SlotFacts {
    members: Vec<(FuncId, usize, usize)>,
    calls: Vec<(FuncId, usize, usize, usize)>,
    attr_calls: Vec<(usize, usize, usize)>,
    blocked: Option<String>,
    opaque: bool,
    refs: Vec<(usize, usize)>,
}

/// The facts the analysis looks things up in, by position.
struct Index<'a> {
    p: &'a Project,
    /// The project decorators: a call of a function under one that passes its arguments
    /// through reaches the function's parameters.
    decorators: &'a Decorators,
    /// Calls of project functions: `(module, call start)` -> callee. A construction
    /// (`Outbox(sock, on_error)`) is a call of the `__init__` it runs.
    calls_at: HashMap<(usize, usize), FuncId>,
    /// Constructions: `(module, call start)` -> the class constructed.
    constructs: HashMap<(usize, usize), ClassId>,
    facts: &'a [ModuleFacts],
    /// The calls of each project function: `(module, call start, call end, caller)`.
    calls_of: HashMap<FuncId, Vec<Site>>,
    /// Members of override families with more than one member.
    overridden: HashSet<FuncId>,
    /// The names of project classes (`Name.method(...)` may be an unbound call).
    class_names: HashSet<&'a str>,
    /// Calls of project functions by module, to skip references outside them unparsed:
    /// `(start, end)`.
    spans: Vec<Vec<(usize, usize)>>,
    params: HashMap<FuncId, Option<Vec<Param>>>,
    /// References: `(module, start, end)` -> target.
    refs_at: HashMap<(usize, usize, usize), FuncId>,
    /// Where each function is first used as a value: `(module, line)`.
    used_at: HashMap<FuncId, (usize, usize)>,
    trees: HashMap<usize, Option<Tree>>,
}

impl Callbacks {
    /// The groups of the parameters the functions in `wanted` are passed to (the others
    /// cannot become async: pinning them as before costs nothing).
    pub fn new(
        p: &Project,
        facts: &[ModuleFacts],
        wanted: &HashSet<FuncId>,
        decorators: &Decorators,
    ) -> Callbacks {
        let mut ix = Index::new(p, facts, decorators);
        // Parameters a project function is passed to: where the analysis starts.
        let mut work: Vec<Slot> = Vec::new();
        for (m, mf) in facts.iter().enumerate() {
            let seeds = mf
                .refs
                .iter()
                .filter(|r| r.passed_to.is_some() && !r.called);
            for r in seeds.filter(|r| wanted.contains(&r.target)) {
                if let Some(slot) = ix.slot_of_arg(m, r.start, r.end) {
                    work.push(slot);
                }
            }
            // Values of a dispatch table: `{"k": f}`, `{"k": functools.partial(f, ...)}`.
            let values = mf.refs.iter().filter(|r| {
                !r.called
                    && wanted.contains(&r.target)
                    && r.passed_to
                        .as_deref()
                        .is_none_or(|q| q == "functools.partial")
            });
            for r in values {
                if let Some(slot) = tables::table_of(&mut ix, m, r.start, r.end) {
                    work.push(slot);
                }
            }
        }
        if work.is_empty() {
            return Callbacks::default();
        }
        let mut slots: HashMap<Slot, usize> = HashMap::default();
        let mut found: Vec<SlotFacts> = Vec::new();
        let mut parent: Vec<usize> = Vec::new();
        let mut order: Vec<Slot> = Vec::new();
        let mut links: Vec<(Slot, Slot)> = Vec::new();
        while let Some(slot) = work.pop() {
            if slots.contains_key(&slot) {
                continue;
            }
            slots.insert(slot.clone(), found.len());
            parent.push(found.len());
            order.push(slot.clone());
            let (facts, linked) = ix.analyse(&slot);
            found.push(facts);
            for other in linked {
                work.push(other.clone());
                links.push((slot.clone(), other));
            }
        }
        for (a, b) in &links {
            let (ra, rb) = (root(&mut parent, slots[a]), root(&mut parent, slots[b]));
            parent[ra.max(rb)] = ra.min(rb);
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut group_of: HashMap<usize, usize> = HashMap::default();
        let mut refs = HashMap::default();
        for (i, facts) in found.into_iter().enumerate() {
            let r = root(&mut parent, i);
            let g = *group_of.entry(r).or_insert_with(|| {
                groups.push(Group::default());
                groups.len() - 1
            });
            let group = &mut groups[g];
            group.slots.push(order[i].clone());
            for mem in facts.members {
                if !group.members.iter().any(|x| x.0 == mem.0) {
                    group.members.push(mem);
                }
            }
            group.calls.extend(facts.calls);
            group.attr_calls.extend(facts.attr_calls);
            group.blocked = group.blocked.take().or(facts.blocked);
            group.opaque |= facts.opaque;
            refs.extend(facts.refs.into_iter().map(|at| (at, g)));
        }
        Callbacks { groups, refs }
    }

    /// The group a reference is passed to a callback parameter of, if any.
    pub fn group_of(&self, m: usize, start: usize) -> Option<&Group> {
        self.refs.get(&(m, start)).map(|&g| &self.groups[g])
    }

    /// Ties the members of each sound group into one family: they change colour together.
    pub fn tie(&self, family: &mut HashMap<FuncId, FuncId>) {
        let mut up: HashMap<FuncId, FuncId> = HashMap::default();
        fn find(up: &HashMap<FuncId, FuncId>, mut x: FuncId) -> FuncId {
            while let Some(&y) = up.get(&x) {
                x = y;
            }
            x
        }
        for g in self.groups.iter().filter(|g| g.sound()) {
            let rep = |f: FuncId| family.get(&f).copied().unwrap_or(f);
            let mut roots: Vec<FuncId> = g.members.iter().map(|m| find(&up, rep(m.0))).collect();
            roots.sort();
            roots.dedup();
            for &r in &roots[1..] {
                up.insert(r, roots[0]);
            }
        }
        if up.is_empty() {
            return;
        }
        for v in family.values_mut() {
            *v = find(&up, *v);
        }
    }

    /// Call edges: the function calling a sound group's parameter calls every member.
    pub fn edges(&self) -> impl Iterator<Item = (FuncId, FuncId, u32, u32)> + '_ {
        self.groups.iter().filter(|g| g.sound()).flat_map(|g| {
            g.calls.iter().flat_map(move |&(caller, m, _, line)| {
                g.members
                    .iter()
                    .map(move |mem| (caller, mem.0, m as u32, line as u32))
            })
        })
    }

    /// The pin of a function passed to a callback parameter whose group must stay sync.
    pub fn blocked_reason(p: &Project, g: &Group, f: FuncId) -> Option<String> {
        let why = g.blocked.as_ref()?;
        let place = g.place(p)?;
        Some(format!(
            "`{}` is {place}, which must stay sync: {why}",
            p.func(f).name
        ))
    }

    /// After colouring: awaits the parameter calls of the groups that became async, and
    /// says of each member of a group kept sync which member keeps it sync.
    pub fn finish(&self, p: &Project, out: &mut crate::colour::Colouring) {
        for g in self.groups.iter().filter(|g| g.sound()) {
            if g.members.iter().all(|m| out.async_funcs.contains(&m.0)) {
                for &(_, m, start, _) in &g.calls {
                    out.awaited_param_calls.insert((m, start));
                }
                out.awaited_attr_calls.extend(g.attr_calls.iter().copied());
                continue;
            }
            let Some(&(culprit, ..)) = g.members.iter().find(|m| out.pinned.contains_key(&m.0))
            else {
                continue;
            };
            let Some(place) = g.place(p) else {
                continue;
            };
            for &(f, m, line) in &g.members {
                if f == culprit || out.pinned.contains_key(&f) {
                    continue;
                }
                let reason = format!(
                    "`{}` stays sync with `{}`, {} at {}:{line}",
                    p.func(f).name,
                    p.func(culprit).name,
                    place
                        .replacen("passed to ", "passed to the same ", 1)
                        .replacen("a value of the", "a value of the same", 1),
                    p.modules[m].display
                );
                let pin = crate::colour::Pin {
                    reason,
                    module: m,
                    line,
                };
                out.pinned.insert(f, pin);
            }
        }
    }

    /// Whether `f` is passed to a sound group's parameter, and the function named with it.
    pub fn partner(&self, f: FuncId) -> Option<FuncId> {
        self.groups
            .iter()
            .filter(|g| g.sound())
            .find(|g| g.members.iter().any(|m| m.0 == f))
            .and_then(|g| Some(g.head()?.0))
    }
}

/// Module `m`'s tree, parsed once.
fn tree_in<'t>(
    trees: &'t mut HashMap<usize, Option<Tree>>,
    p: &Project,
    m: usize,
) -> Option<&'t Tree> {
    // A few at a time: a big project's trees do not fit in memory together.
    if trees.len() >= 32 && !trees.contains_key(&m) {
        trees.clear();
    }
    trees
        .entry(m)
        .or_insert_with(|| crate::parse::parse(&p.modules[m].source.text))
        .as_ref()
}

fn root(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// A parameter's use in its function's body.
enum Use {
    Call {
        start: usize,
        line: usize,
    },
    Test,
    /// Passed on as an argument of the call starting there.
    Forward {
        call: usize,
        arg: (usize, usize),
    },
    /// Stored on the instance: `self.<attr> = k`.
    Store(String),
    Opaque,
}

impl<'a> Index<'a> {
    fn new(p: &'a Project, facts: &'a [ModuleFacts], decorators: &'a Decorators) -> Index<'a> {
        let mut calls_at = HashMap::default();
        let mut constructs = HashMap::default();
        let mut calls_of: HashMap<FuncId, Vec<Site>> = HashMap::default();
        let mut refs_at = HashMap::default();
        let mut used_at: HashMap<FuncId, (usize, usize)> = HashMap::default();
        let mut spans = vec![Vec::new(); facts.len()];
        for (m, mf) in facts.iter().enumerate() {
            for c in mf.calls.iter().map(PackedCall::unpack) {
                let callee = match c.target {
                    Target::Func(g) => Some(g),
                    Target::Class(k) => {
                        constructs.insert((m, c.start), k);
                        p.method(k, "__init__")
                    }
                    _ => None,
                };
                if let Some(g) = callee {
                    spans[m].push((c.start, c.end));
                    calls_at.insert((m, c.start), g);
                    calls_of
                        .entry(g)
                        .or_default()
                        .push((m, c.start, c.end, c.caller));
                }
            }
            for r in &mf.refs {
                refs_at.insert((m, r.start, r.end), r.target);
                used_at.entry(r.target).or_insert((m, r.line));
            }
        }
        let family = crate::colour::families(p);
        let mut size: HashMap<FuncId, usize> = HashMap::default();
        for r in family.values() {
            *size.entry(*r).or_default() += 1;
        }
        let overridden = family
            .iter()
            .filter(|(_, r)| size[*r] > 1)
            .map(|(f, _)| *f)
            .collect();
        let class_names = p
            .modules
            .iter()
            .flat_map(|m| m.index.classes.iter().map(|c| c.name.as_str()))
            .collect();
        Index {
            p,
            decorators,
            calls_at,
            constructs,
            facts,
            calls_of,
            overridden,
            class_names,
            spans,
            params: HashMap::default(),
            refs_at,
            used_at,
            trees: HashMap::default(),
        }
    }

    fn tree(&mut self, m: usize) -> Option<&Tree> {
        tree_in(&mut self.trees, self.p, m)
    }

    /// The parameters of `f`, from its definition.
    fn params_of(&mut self, f: FuncId) -> Option<&[Param]> {
        if !self.params.contains_key(&f) {
            let p = self.p;
            let m = f.module as usize;
            let src = p.modules[m].source.text.as_str();
            let ps = self
                .tree(m)
                .and_then(|t| def_node(t.root_node(), p.func(f).start))
                .map(|d| params(d, src));
            self.params.insert(f, ps);
        }
        self.params[&f].as_deref()
    }

    /// The parameter a reference at `start..end` is passed to, when it is an argument of a
    /// call of a project function.
    fn slot_of_arg(&mut self, m: usize, start: usize, end: usize) -> Option<Slot> {
        if !self.spans[m].iter().any(|&(s, e)| s < start && end <= e) {
            return None;
        }
        let p = self.p;
        let src = p.modules[m].source.text.as_str();
        let (call_start, call_end) = {
            let tree = self.tree(m)?;
            let node = node_at(tree.root_node(), start, end)?;
            let arg = match node.parent()? {
                k if k.kind() == "keyword_argument" => k,
                _ => node,
            };
            let call = arg
                .parent()
                .filter(|a| a.kind() == "argument_list")?
                .parent()?;
            (call.start_byte(), call.end_byte())
        };
        let callee = *self.calls_at.get(&(m, call_start))?;
        let ps: Vec<Param> = self.params_of(callee)?.to_vec();
        let names = &self.class_names;
        let tree = tree_in(&mut self.trees, p, m)?;
        let node = node_at(tree.root_node(), start, end)?;
        let arg = match node.parent()? {
            k if k.kind() == "keyword_argument" => k,
            _ => node,
        };
        let call = node_at(tree.root_node(), call_start, call_end)?;
        let k = param_at(p, names, callee, &ps, call, arg, src)?;
        Some(Slot::Param(callee, k))
    }

    /// One parameter: its uses in its function, its default and the values passed at every
    /// call site; and the parameters it is linked with (forwarded to, or forwarded from).
    fn analyse(&mut self, slot: &Slot) -> (SlotFacts, Vec<Slot>) {
        match slot {
            Slot::Param(f, k) => self.analyse_param(*f, k),
            Slot::Attr(c, a) => self.analyse_attr(*c, a),
            Slot::Table(m, name) => self.analyse_table(*m, name),
        }
    }

    fn analyse_param(&mut self, f: FuncId, k: &str) -> (SlotFacts, Vec<Slot>) {
        let p = self.p;
        let f = &f;
        let mut out = SlotFacts::default();
        let mut linked = Vec::new();
        let def = p.func(*f);
        let m = f.module as usize;
        let src = p.modules[m].source.text.as_str();
        if let Some(&(um, uline)) = self.used_at.get(f) {
            let at = format!("{}:{uline}", p.modules[um].display);
            out.blocked = Some(format!(
                "`{}` is used as a value at {at}, so not every call of it is known",
                def.name
            ));
        } else if def.is_async || def.is_generator {
            out.blocked = Some(format!("`{}` is a coroutine or a generator", def.name));
        } else if !self.decorators.forwards_calls(p, *f) {
            out.blocked = Some(format!(
                "`{}` is decorated, and awaitify cannot tell that the decorator passes the function's arguments through unchanged",
                def.name
            ));
        } else if let Some(why) = self.construction(*f) {
            out.blocked = Some(why);
        } else if self.overridden.contains(f) && def.name != "__init__" {
            // A construction runs the `__init__` its class resolves to: an override is the
            // subclass's own, with its own parameters.
            out.blocked = Some(format!(
                "`{}` is overridden, and an override may use `{k}` otherwise",
                def.name
            ));
        }
        if out.blocked.is_some() {
            // What is passed is pinned as before; its call sites need not be read.
            out.opaque = true;
            return (out, linked);
        }
        let param = self
            .params_of(*f)
            .and_then(|ps| ps.iter().find(|x| x.name == k));
        match param.map(|x| x.default.clone()) {
            Some(Some((d, dline))) if d != "None" => {
                let at = format!("{}:{dline}", p.modules[m].display);
                out.blocked
                    .get_or_insert(format!("its default is `{}` ({at})", short(&d)));
            }
            Some(_) => {}
            None => {
                out.opaque = true;
                return (out, linked);
            }
        }
        let Some(node) = self
            .tree(m)
            .and_then(|t| def_node(t.root_node(), def.start))
        else {
            out.opaque = true;
            return (out, linked);
        };
        let mut forwards = Vec::new();
        let this = stored::receiver(def);
        for u in uses(node, k, this, src) {
            match u {
                Use::Call { start, line } => out.calls.push((*f, m, start, line)),
                Use::Test => {}
                Use::Forward { call, arg } => forwards.push((call, arg)),
                Use::Store(attr) => match def.class {
                    Some(c) => linked.push(Slot::Attr(
                        ClassId {
                            module: f.module,
                            class: c as u32,
                        },
                        attr,
                    )),
                    None => out.opaque = true,
                },
                Use::Opaque => out.opaque = true,
            }
        }
        for (call, (start, end)) in forwards {
            match self.forward_slot(m, call, start, end) {
                Some(s) => linked.push(s),
                None => out.opaque = true,
            }
        }
        let sites = self.calls_of.get(f).cloned().unwrap_or_default();
        for site in sites {
            self.site(*f, k, site, &mut out, &mut linked);
        }
        (out, linked)
    }

    /// The parameter of the project function called at `call` that the argument at
    /// `start..end` goes to.
    fn forward_slot(&mut self, m: usize, call: usize, start: usize, end: usize) -> Option<Slot> {
        let callee = *self.calls_at.get(&(m, call))?;
        let p = self.p;
        let src = p.modules[m].source.text.as_str();
        let ps: Vec<Param> = self.params_of(callee)?.to_vec();
        let names = &self.class_names;
        let tree = tree_in(&mut self.trees, p, m)?;
        let arg = node_at(tree.root_node(), start, end)?;
        let call = arg.parent()?.parent()?;
        let k = param_at(p, names, callee, &ps, call, arg, src)?;
        Some(Slot::Param(callee, k))
    }

    /// The value one call site passes at `slot`.
    fn site(
        &mut self,
        f: FuncId,
        k: &str,
        site: Site,
        out: &mut SlotFacts,
        linked: &mut Vec<Slot>,
    ) {
        let p = self.p;
        let f = &f;
        let (m, start, end, caller) = site;
        let src = p.modules[m].source.text.as_str();
        let display = &p.modules[m].display;
        let ps: Vec<Param> = self
            .params_of(*f)
            .map(<[Param]>::to_vec)
            .unwrap_or_default();
        let names = &self.class_names;
        let call = tree_in(&mut self.trees, p, m).and_then(|t| node_at(t.root_node(), start, end));
        let Some(call) = call.filter(|c| c.kind() == "call") else {
            out.blocked
                .get_or_insert(format!("awaitify cannot read the call at {display}"));
            return;
        };
        let refs_at = &self.refs_at;
        let at = format!("{display}:{}", line(call));
        let value = match arg_for(p, names, *f, &ps, call, k, src) {
            Err(()) => {
                out.blocked.get_or_insert(format!(
                    "awaitify cannot tell what the call at {at} passes to it"
                ));
                return;
            }
            Ok(None) => return,
            Ok(Some(v)) => v,
        };
        value_reaching(p, refs_at, (m, caller), value, &at, out, linked);
    }
}

/// One value that reaches a group's slot, passed at a call or assigned to a stored
/// attribute (at `at`, in module `m`, inside function `caller`): `None` adds nothing, a
/// project function is a member, the enclosing function's own parameter links its slot,
/// and anything else keeps the group sync.
fn value_reaching(
    p: &Project,
    refs_at: &HashMap<(usize, usize, usize), FuncId>,
    (m, caller): (usize, Option<usize>),
    value: Node,
    at: &str,
    out: &mut SlotFacts,
    linked: &mut Vec<Slot>,
) {
    let src = p.modules[m].source.text.as_str();
    if text(value, src) == "None" {
        return;
    }
    if let Some(&g) = refs_at.get(&(m, value.start_byte(), value.end_byte())) {
        let def = p.func(g);
        if def.is_async || def.is_generator {
            out.blocked.get_or_insert(format!(
                "it is also passed `{}`, a coroutine or generator function, at {at}",
                def.name
            ));
        }
        if !out.members.iter().any(|x| x.0 == g) {
            out.members.push((g, m, line(value)));
        }
        out.refs.push((m, value.start_byte()));
        return;
    }
    // The caller's own parameter, forwarded: its values are this one's.
    if let Some(h) = caller
        && value.kind() == "identifier"
        && p.modules[m].index.functions[h]
            .params
            .iter()
            .any(|x| x.name == text(value, src))
    {
        let h = FuncId {
            module: m as u32,
            func: h as u32,
        };
        linked.push(Slot::Param(h, text(value, src).to_string()));
        return;
    }
    out.blocked.get_or_insert(format!(
        "it is also passed `{}` at {at}, which awaitify cannot follow",
        short(text(value, src))
    ));
}

fn short(s: &str) -> String {
    let first = s.lines().next().unwrap_or("");
    if first.len() > 40 || first.len() < s.len() {
        format!("{}...", first.chars().take(40).collect::<String>())
    } else {
        first.to_string()
    }
}

#[derive(Clone)]
struct Param {
    name: String,
    /// Before any `*`: can be passed by position.
    positional: bool,
    /// The default value as written, and its line.
    default: Option<(String, usize)>,
}

/// A function's parameters in order.
fn params(def: Node, src: &str) -> Vec<Param> {
    let mut out = Vec::new();
    let Some(ps) = def.child_by_field_name("parameters") else {
        return out;
    };
    let mut positional = true;
    let mut cursor = ps.walk();
    for x in ps.named_children(&mut cursor) {
        let (name, default) = match x.kind() {
            "identifier" => (Some(x), None),
            "typed_parameter" => (x.named_child(0).filter(|n| n.kind() == "identifier"), None),
            "default_parameter" | "typed_default_parameter" => (
                x.child_by_field_name("name"),
                x.child_by_field_name("value"),
            ),
            "list_splat_pattern" | "keyword_separator" | "dictionary_splat_pattern" => {
                positional = false;
                (None, None)
            }
            _ => (None, None),
        };
        if let Some(n) = name {
            out.push(Param {
                name: text(n, src).to_string(),
                positional,
                default: default.map(|d| (text(d, src).to_string(), line(d))),
            });
        }
    }
    out
}

/// How many leading parameters a call fills implicitly (`self`), or `None` when the call's
/// shape does not say (`Class.method(obj, ...)`).
fn implicit(p: &Project, names: &HashSet<&str>, f: FuncId, call: Node, src: &str) -> Option<usize> {
    let def = p.func(f);
    if def.class.is_none() || def.decorators.iter().any(|d| d == "staticmethod") {
        return Some(0);
    }
    let callee = call.child_by_field_name("function")?;
    if callee.kind() != "attribute" {
        // `Outbox(sock, on_error)` runs `__init__(self, sock, on_error)`.
        return (def.name == "__init__").then_some(1);
    }
    let object = callee.child_by_field_name("object")?;
    let obj = text(object, src);
    let is_class = object.kind() == "identifier" && names.contains(obj);
    (def.decorators.iter().any(|d| d == "classmethod") || !is_class).then_some(1)
}

/// The parameter of `f` an argument of `call` goes to.
fn param_at(
    p: &Project,
    names: &HashSet<&str>,
    f: FuncId,
    ps: &[Param],
    call: Node,
    arg: Node,
    src: &str,
) -> Option<String> {
    let args = call.child_by_field_name("arguments")?;
    if arg.kind() == "keyword_argument" {
        let name = text(arg.child_by_field_name("name")?, src);
        return ps.iter().any(|x| x.name == name).then(|| name.to_string());
    }
    let mut i = implicit(p, names, f, call, src)?;
    let mut cursor = args.walk();
    for a in args.named_children(&mut cursor) {
        if a.id() == arg.id() {
            return ps.get(i).filter(|x| x.positional).map(|x| x.name.clone());
        }
        match a.kind() {
            "list_splat" | "dictionary_splat" => return None,
            "keyword_argument" => {}
            _ => i += 1,
        }
    }
    None
}

/// The value a call passes at parameter `k` of `f`: `Ok(None)` when it passes none (the
/// default), `Err` when awaitify cannot tell (`*args`, an unbound method call).
fn arg_for<'t>(
    p: &Project,
    names: &HashSet<&str>,
    f: FuncId,
    ps: &[Param],
    call: Node<'t>,
    k: &str,
    src: &str,
) -> Result<Option<Node<'t>>, ()> {
    let args = call.child_by_field_name("arguments").ok_or(())?;
    if args.kind() != "argument_list" {
        return Err(());
    }
    let pos = ps.iter().position(|x| x.name == k).ok_or(())?;
    let mut i = implicit(p, names, f, call, src).ok_or(())?;
    let mut cursor = args.walk();
    for a in args.named_children(&mut cursor) {
        match a.kind() {
            "list_splat" | "dictionary_splat" => return Err(()),
            "keyword_argument" => {
                if a.child_by_field_name("name")
                    .is_some_and(|n| text(n, src) == k)
                {
                    return a.child_by_field_name("value").map(Some).ok_or(());
                }
            }
            _ => {
                if i == pos && ps[pos].positional {
                    return Ok(Some(a));
                }
                i += 1;
            }
        }
    }
    Ok(None)
}

/// Every use of parameter `k` in the body of `def`, whose instance parameter (if a
/// method) is `this`.
fn uses(def: Node, k: &str, this: Option<&str>, src: &str) -> Vec<Use> {
    let mut out = Vec::new();
    let Some(body) = def.child_by_field_name("body") else {
        return out;
    };
    let mut stack = vec![(body, false)];
    while let Some((n, nested)) = stack.pop() {
        let inner = nested || crate::parse::opens_scope(n.kind());
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor).map(|c| (c, inner)));
        if n.kind() != "identifier" || text(n, src) != k {
            continue;
        }
        let Some(parent) = n.parent() else { continue };
        let is = |p: Node, field: &str| {
            p.child_by_field_name(field)
                .is_some_and(|c| c.id() == n.id())
        };
        if (parent.kind() == "attribute" && is(parent, "attribute"))
            || (parent.kind() == "keyword_argument" && is(parent, "name"))
        {
            continue;
        }
        if nested {
            out.push(Use::Opaque);
            continue;
        }
        if let Some(attr) = this.and_then(|t| stored::stored_on(n, parent, t, src)) {
            out.push(Use::Store(attr));
            continue;
        }
        out.push(classify(n, parent, src));
    }
    out
}

fn classify(n: Node, parent: Node, src: &str) -> Use {
    let is = |field: &str| {
        parent
            .child_by_field_name(field)
            .is_some_and(|c| c.id() == n.id())
    };
    if parent.kind() == "call" && is("function") {
        return Use::Call {
            start: parent.start_byte(),
            line: line(parent),
        };
    }
    if is_test(n, src) {
        return Use::Test;
    }
    let args = match parent.kind() {
        "argument_list" => Some(parent),
        "keyword_argument" if is("value") => parent.parent(),
        _ => None,
    };
    let arg = if parent.kind() == "keyword_argument" {
        parent
    } else {
        n
    };
    match args
        .filter(|a| a.kind() == "argument_list")
        .and_then(|a| a.parent())
    {
        Some(call) if call.kind() == "call" => Use::Forward {
            call: call.start_byte(),
            arg: (arg.start_byte(), arg.end_byte()),
        },
        _ => Use::Opaque,
    }
}

/// `if k:`, `not k`, `k is None`, `callable(k)`: uses that only test the value.
fn is_test(n: Node, src: &str) -> bool {
    let Some(parent) = n.parent() else {
        return false;
    };
    let is = |field: &str| {
        parent
            .child_by_field_name(field)
            .is_some_and(|c| c.id() == n.id())
    };
    match parent.kind() {
        "if_statement" | "elif_clause" | "while_statement" => is("condition"),
        "not_operator" => true,
        "boolean_operator" => is_test(parent, src),
        "parenthesized_expression" => is_test(parent, src),
        "conditional_expression" => parent.named_child(1).is_some_and(|c| c.id() == n.id()),
        "comparison_operator" => {
            let mut cursor = parent.walk();
            let ops: Vec<&str> = parent
                .children_by_field_name("operators", &mut cursor)
                .map(|o| text(o, src))
                .collect();
            let mut cursor = parent.walk();
            let others_none = parent
                .named_children(&mut cursor)
                .all(|c| c.id() == n.id() || text(c, src) == "None");
            !ops.is_empty()
                && ops
                    .iter()
                    .all(|o| matches!(*o, "is" | "is not" | "is\nnot"))
                && others_none
        }
        "argument_list" => parent.parent().is_some_and(|c| {
            c.child_by_field_name("function")
                .is_some_and(|f| text(f, src) == "callable")
                && parent.named_child_count() == 1
        }),
        _ => false,
    }
}

/// The node spanning exactly `start..end`.
fn node_at(root: Node, start: usize, end: usize) -> Option<Node> {
    root.descendant_for_byte_range(start, end)
        .filter(|n| n.start_byte() == start && n.end_byte() == end)
}
