//! Dispatch tables: a module-level dict of project functions (`_AUTH_MAP = {"PLAIN":
//! _auth_plain, "SCRAM": functools.partial(_auth_scram, mechanism="SCRAM")}`) that the
//! module only looks up and calls (`_AUTH_MAP[mech](creds)`, or `fn = _AUTH_MAP.get(mech)`
//! then `fn(creds)`). The table is one more slot: its functions change colour together and
//! every call of a looked-up value awaits them when they turn async.
//!
//! Sound only when every use of the table is known, so it keeps its functions pinned as
//! before when the table is public (no leading `_`: importers may call its values), its
//! name appears in another module, it is bound more than once or in a function, it holds
//! anything but project functions (or `functools.partial` of them), it is read otherwise
//! than by a lookup, a membership test, `len` or a loop over its keys, or a looked-up value
//! is used otherwise than called or tested.

use super::stored::{enclosing_method, walk};
use super::{Index, Slot, SlotFacts, is_test};
use crate::parse::{line, text};
use crate::project::FuncId;
use tree_sitter::Node;

/// The table a reference at `start..end` of module `m` is a value of, if any.
pub(super) fn table_of(ix: &mut Index, m: usize, start: usize, end: usize) -> Option<Slot> {
    let src = ix.p.modules[m].source.text.as_str();
    let tree = ix.tree(m)?;
    let mut value = super::node_at(tree.root_node(), start, end)?;
    if let Some(call) = partial_of(value, src) {
        value = call;
    }
    let pair = value.parent().filter(|p| p.kind() == "pair")?;
    let dict = pair.parent().filter(|d| d.kind() == "dictionary")?;
    let assign = dict.parent().filter(|a| a.kind() == "assignment")?;
    let name = assign
        .child_by_field_name("left")
        .filter(|l| l.kind() == "identifier")?;
    let top = assign
        .parent()
        .and_then(|s| s.parent())
        .is_some_and(|r| r.kind() == "module");
    top.then(|| Slot::Table(m, text(name, src).to_string()))
}

/// `functools.partial(f, ...)` around the reference `f`: the call.
fn partial_of<'t>(f: Node<'t>, src: &str) -> Option<Node<'t>> {
    let args = f.parent().filter(|a| a.kind() == "argument_list")?;
    let first = args.named_child(0)?;
    let call = args.parent().filter(|c| c.kind() == "call")?;
    let callee = call.child_by_field_name("function")?;
    (first.id() == f.id() && matches!(text(callee, src), "functools.partial" | "partial"))
        .then_some(call)
}

impl Index<'_> {
    /// The module-level table `name` of module `m`: its functions and the calls of the
    /// values looked up in it.
    pub(super) fn analyse_table(&mut self, m: usize, name: &str) -> (SlotFacts, Vec<Slot>) {
        let p = self.p;
        let mut out = SlotFacts::default();
        let linked = Vec::new();
        if !name.starts_with('_') {
            out.blocked = Some(format!(
                "the table `{name}` is public: code outside the project may call its values"
            ));
            return (out, linked);
        }
        if let Some(other) = p
            .modules
            .iter()
            .enumerate()
            .find(|(k, module)| *k != m && mentions(&module.source.text, name))
        {
            out.blocked = Some(format!(
                "the table `{name}` is named in {} too",
                other.1.display
            ));
            return (out, linked);
        }
        let Some(tree) = self.tree(m).cloned() else {
            return (out, linked);
        };
        let src = p.modules[m].source.text.as_str();
        let mut hits = Vec::new();
        walk(tree.root_node(), &mut |n| {
            if n.kind() == "identifier" && text(n, src) == name {
                hits.push(n);
            }
        });
        let mut bound = 0;
        for n in hits {
            if let Err(why) = self.table_use(m, n, &mut bound, &mut out) {
                out.blocked = Some(format!("the table `{name}` {why}"));
                return (out, linked);
            }
        }
        if bound != 1 {
            out.blocked = Some(format!("the table `{name}` is bound more than once"));
        }
        (out, linked)
    }

    /// One mention of the table in its module.
    fn table_use(
        &mut self,
        m: usize,
        n: Node,
        bound: &mut usize,
        out: &mut SlotFacts,
    ) -> Result<(), String> {
        let p = self.p;
        let src = p.modules[m].source.text.as_str();
        let at = format!("{}:{}", p.modules[m].display, line(n));
        let parent = n.parent().ok_or_else(String::new)?;
        let is = |field: &str| {
            parent
                .child_by_field_name(field)
                .is_some_and(|c| c.id() == n.id())
        };
        if parent.kind() == "assignment" && is("left") {
            *bound += 1;
            let top = parent
                .parent()
                .and_then(|s| s.parent())
                .is_some_and(|r| r.kind() == "module");
            let dict = parent
                .child_by_field_name("right")
                .filter(|d| d.kind() == "dictionary");
            return match dict {
                Some(d) if top => self.table_entries(m, d, out),
                _ => Err(format!("is bound otherwise at {at}")),
            };
        }
        let Some((g, nested)) = enclosing_method(p, m, n) else {
            return Err(format!("is read outside a function at {at}"));
        };
        if nested {
            return Err(format!(
                "is read in a nested function or comprehension at {at}"
            ));
        }
        match parent.kind() {
            "subscript" if is("value") => self.looked_up(m, g, parent, out),
            "attribute" if is("object") => {
                let attr = parent
                    .child_by_field_name("attribute")
                    .map_or("", |a| text(a, src));
                let call = parent.parent().filter(|c| {
                    c.kind() == "call"
                        && c.child_by_field_name("function").map(|f| f.id()) == Some(parent.id())
                });
                match (attr, call) {
                    ("get", Some(c)) if one_lookup(c, src) => self.looked_up(m, g, c, out),
                    ("keys", Some(_)) => Ok(()),
                    _ => Err(format!("is read as `{}` at {at}", text(parent, src))),
                }
            }
            // `k in TABLE`, `for k in TABLE`, `len(TABLE)`: keys only.
            "comparison_operator" => Ok(()),
            "for_statement" if is("right") => Ok(()),
            "argument_list"
                if parent
                    .parent()
                    .and_then(|c| c.child_by_field_name("function"))
                    .is_some_and(|f| KEYS_ONLY.contains(&text(f, src))) =>
            {
                Ok(())
            }
            _ => Err(format!("is used as a value at {at}")),
        }
    }

    /// The entries of the table's dict display: each a project function, or
    /// `functools.partial` of one.
    fn table_entries(&mut self, m: usize, dict: Node, out: &mut SlotFacts) -> Result<(), String> {
        let p = self.p;
        let src = p.modules[m].source.text.as_str();
        let mut cursor = dict.walk();
        for entry in dict.named_children(&mut cursor) {
            if entry.kind() == "comment" {
                continue;
            }
            let at = format!("{}:{}", p.modules[m].display, line(entry));
            let value = entry
                .child_by_field_name("value")
                .filter(|_| entry.kind() == "pair")
                .ok_or_else(|| format!("holds `{}` at {at}", super::short(text(entry, src))))?;
            let func = match value.kind() {
                "call" => value
                    .child_by_field_name("arguments")
                    .and_then(|a| a.named_child(0))
                    .filter(|f| partial_of(*f, src).is_some()),
                _ => Some(value),
            };
            let target = func.and_then(|f| {
                let g = self.refs_at.get(&(m, f.start_byte(), f.end_byte()))?;
                Some((*g, f))
            });
            let Some((g, f)) = target else {
                return Err(format!(
                    "holds `{}` at {at}, which awaitify cannot follow",
                    super::short(text(value, src))
                ));
            };
            let def = p.func(g);
            if def.is_async || def.is_generator {
                return Err(format!(
                    "holds `{}`, a coroutine or generator function, at {at}",
                    def.name
                ));
            }
            if !out.members.iter().any(|x| x.0 == g) {
                out.members.push((g, m, line(f)));
            }
            out.refs.push((m, f.start_byte()));
        }
        Ok(())
    }

    /// A value looked up in the table (`TABLE[k]`, `TABLE.get(k)`) inside function `g`:
    /// called, tested, or bound to a local that is only called or tested.
    fn looked_up(
        &mut self,
        m: usize,
        g: FuncId,
        v: Node,
        out: &mut SlotFacts,
    ) -> Result<(), String> {
        let p = self.p;
        let src = p.modules[m].source.text.as_str();
        let at = format!("{}:{}", p.modules[m].display, line(v));
        let parent = v.parent().ok_or_else(String::new)?;
        let is = |field: &str| {
            parent
                .child_by_field_name(field)
                .is_some_and(|c| c.id() == v.id())
        };
        if parent.kind() == "call" && is("function") {
            call(g, m, parent, out);
            return Ok(());
        }
        if is_test(v, src) {
            return Ok(());
        }
        let local = parent
            .child_by_field_name("left")
            .filter(|l| parent.kind() == "assignment" && is("right") && l.kind() == "identifier");
        let Some(local) = local else {
            return Err(format!("has a value looked up and used at {at}"));
        };
        let name = text(local, src);
        let def = p.func(g);
        let body = super::def_node(
            self.tree(m)
                .map(|t| t.root_node())
                .ok_or_else(String::new)?,
            def.start,
        )
        .ok_or_else(String::new)?;
        let mut uses = Vec::new();
        walk(body, &mut |n| {
            if n.kind() == "identifier" && text(n, src) == name {
                uses.push(n);
            }
        });
        for u in uses {
            if u.id() == local.id() {
                continue;
            }
            let up = u.parent().ok_or_else(String::new)?;
            let called = up.kind() == "call"
                && up.child_by_field_name("function").map(|f| f.id()) == Some(u.id());
            let nested = enclosing_method(p, m, u).is_none_or(|(h, nested)| h != g || nested);
            if nested {
                return Err(format!(
                    "has a value looked up at {at} and read in a nested scope"
                ));
            }
            if called {
                call(g, m, up, out);
            } else if !is_test(u, src) {
                return Err(format!(
                    "has a value looked up at {at} and used otherwise than called, as `{name}` at {}:{}",
                    p.modules[m].display,
                    line(u)
                ));
            }
        }
        Ok(())
    }
}

/// Whether `name` occurs in `src` as a whole word (`_AUTH_MAP` is not in
/// `_SPECULATIVE_AUTH_MAP`).
fn mentions(src: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    src.match_indices(name).any(|(i, _)| {
        !src[..i].chars().next_back().is_some_and(word)
            && !src[i + name.len()..].chars().next().is_some_and(word)
    })
}

/// Builtins that read only a dict's keys (or its size) when given the dict.
const KEYS_ONLY: &[&str] = &["len", "sorted", "list", "set", "tuple", "frozenset", "iter"];

/// `TABLE.get(k)` or `TABLE.get(k, None)`: a lookup that gives a table value or `None`.
fn one_lookup(call: Node, src: &str) -> bool {
    let Some(args) = call.child_by_field_name("arguments") else {
        return false;
    };
    let mut cursor = args.walk();
    let values: Vec<Node> = args.named_children(&mut cursor).collect();
    match values.as_slice() {
        [k] => k.kind() != "list_splat" && k.kind() != "dictionary_splat",
        [k, d] => k.kind() != "list_splat" && text(*d, src) == "None",
        _ => false,
    }
}

/// A call of a looked-up value in function `g`: an edge to every function of the table,
/// awaited when they turn async.
fn call(g: FuncId, m: usize, c: Node, out: &mut SlotFacts) {
    out.calls.push((g, m, c.start_byte(), line(c)));
    out.attr_calls.push((m, c.start_byte(), c.end_byte()));
}
