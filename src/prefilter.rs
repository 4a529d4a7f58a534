//! The pre-filter: decide from bytes alone which modules can be affected by a migration, so
//! only those are indexed and matched (every module is still parsed once, for the syntax check,
//! and its tree dropped at once).
//!
//! Opt-in (`--prefilter`): it is exact for what the catalog and colouring do, but passes with
//! name tables of their own outside the catalog are only covered when they act on modules that
//! contain `async`/`await` or a catalog word.
//!
//! A module is a *seed* if its bytes contain, as a whole word, a catalog trigger word (the
//! last segment of every catalog call or name: `sleep`, `get`, `urlopen`) or `async`/`await`. Colour flows from a
//! callee to its callers, which import it, so every importer of a selected module is selected.
//! Two flows skip imports: `x.name()` on an unknown receiver resolves by the method name alone
//! (to an existing `async def`, or one that becomes async), and a value a selected module holds
//! can be passed into a module it imports. The first is closed by name before the run (every
//! module naming a coroutine some selected module names) and after it (methods that became
//! async); the second after the run, from the matcher's facts. The selection grows and the run
//! repeats until nothing is added, so results are the same as indexing everything.

use crate::colour::Colouring;
use crate::matcher::ModuleFacts;
use crate::project::{Project, Sym};
use crate::report::Diagnostic;
use crate::rules::Catalog;
use crate::run::Input;
use aho_corasick::{AhoCorasick, MatchKind};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};

/// What the byte scan found in one module.
pub struct Scanned {
    pub seed: bool,
    /// Names after `async def`: existing coroutines that `x.name()` may resolve to.
    pub async_defs: Vec<String>,
    /// Dotted names the module's import statements mention (absolute, relative ones resolved),
    /// with every prefix: `import a.b.c` gives `a`, `a.b`, `a.b.c`; `from a import b` gives
    /// `a` and `a.b` (which may be a submodule).
    pub imports: Vec<String>,
}

/// A word automaton: finds whole identifiers among `words` in Python source bytes.
pub struct Words(Option<AhoCorasick>);

impl Words {
    pub fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Words {
        let words: Vec<String> = words
            .into_iter()
            .map(|w| w.as_ref().to_string())
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() {
            return Words(None);
        }
        Words(
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&words)
                .ok(),
        )
    }

    /// Whether any word occurs with no identifier character on either side.
    pub fn any_in(&self, bytes: &[u8]) -> bool {
        let Some(ac) = &self.0 else { return false };
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
        ac.find_overlapping_iter(bytes).any(|m| {
            let before = m.start().checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(m.end()).copied();
            !before.is_some_and(ident) && !after.is_some_and(ident)
        })
    }
}

/// Scans one module. `name` is its dotted name and `is_package` whether it is an `__init__`,
/// to resolve relative imports.
pub fn scan(bytes: &[u8], triggers: &Words, name: &str, is_package: bool) -> Scanned {
    Scanned {
        seed: triggers.any_in(bytes),
        async_defs: async_defs(bytes),
        imports: imports(bytes, name, is_package),
    }
}

/// The import statements of a module, read line by line. Deliberately loose: an `import` in a
/// docstring only adds an edge, which costs time, never correctness.
fn imports(bytes: &[u8], name: &str, is_package: bool) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut stmt = line.trim_start().to_string();
        let is_from = stmt.starts_with("from ") || stmt.starts_with("from.");
        if !is_from && !stmt.starts_with("import ") {
            continue;
        }
        // Join continuation lines: a parenthesised name list or a trailing backslash.
        while (stmt.contains('(') && !stmt.contains(')')) || stmt.trim_end().ends_with('\\') {
            let Some(next) = lines.next() else { break };
            stmt = format!("{} {}", stmt.trim_end().trim_end_matches('\\'), next);
        }
        let stmt = stmt.split('#').next().unwrap_or_default();
        for part in stmt.split(';') {
            let part = part.trim();
            if let Some(rest) = part.strip_prefix("import ") {
                for item in rest.split(',') {
                    let module = item.split_whitespace().next().unwrap_or_default();
                    push_prefixes(&mut out, module);
                }
            } else if let Some(rest) = part.strip_prefix("from") {
                let Some((module, names)) = rest.split_once(" import") else {
                    continue;
                };
                let Some(base) = absolute(module.trim(), name, is_package) else {
                    continue;
                };
                push_prefixes(&mut out, &base);
                let names = names.replace(['(', ')', '\\'], " ");
                for item in names.split(',') {
                    let Some(n) = item.split_whitespace().next() else {
                        continue;
                    };
                    if n != "*" {
                        out.push(if base.is_empty() {
                            n.to_string()
                        } else {
                            format!("{base}.{n}")
                        });
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn async_defs(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let finder = memchr::memmem::Finder::new(b"async def ");
    for at in finder.find_iter(bytes) {
        // Only methods resolve by name, and a method is indented.
        if at == 0 || matches!(bytes[at - 1], b'\n' | b'\r') {
            continue;
        }
        let rest = &bytes[at + 10..];
        let rest = &rest[rest.len() - rest.trim_ascii_start().len()..];
        let end = rest
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .unwrap_or(rest.len());
        let name = String::from_utf8_lossy(&rest[..end]).to_string();
        if !name.is_empty() && !name.starts_with("__") {
            out.push(name);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn push_prefixes(out: &mut Vec<String>, module: &str) {
    let mut acc = String::new();
    for seg in module.split('.').filter(|s| !s.is_empty()) {
        if !acc.is_empty() {
            acc.push('.');
        }
        acc.push_str(seg);
        out.push(acc.clone());
    }
}

/// `..mod` seen from `pkg.sub.m` is `pkg.mod`. `None` if it climbs above the top.
fn absolute(module: &str, name: &str, is_package: bool) -> Option<String> {
    let dots = module.chars().take_while(|c| *c == '.').count();
    if dots == 0 {
        return Some(module.to_string());
    }
    let mut parts: Vec<&str> = name.split('.').filter(|s| !s.is_empty()).collect();
    if !is_package {
        parts.pop();
    }
    for _ in 1..dots {
        parts.pop()?;
    }
    let rest = &module[dots..];
    if !rest.is_empty() {
        parts.push(rest);
    }
    Some(parts.join("."))
}

/// Unselected modules that call (`.name`) or define (`def name`) one of `method_names`.
pub fn by_async_method_names<'a>(
    method_names: impl IntoIterator<Item = &'a str>,
    unselected: impl Iterator<Item = (usize, &'a [u8])>,
) -> HashSet<usize> {
    let names: HashSet<&str> = method_names
        .into_iter()
        .filter(|n| !n.starts_with("__"))
        .collect();
    if names.is_empty() {
        return HashSet::new();
    }
    let names: Vec<String> = names.into_iter().map(str::to_string).collect();
    let (idx, bytes): (Vec<usize>, Vec<&[u8]>) = unselected.unzip();
    words_per_module(&names, &bytes)
        .into_iter()
        .zip(idx)
        .filter(|(found, _)| !found.is_empty())
        .map(|(_, i)| i)
        .collect()
}

/// Finds, in each module, which of a set of names it contains as whole words.
fn words_per_module(names: &[String], bytes: &[&[u8]]) -> Vec<Vec<usize>> {
    if names.is_empty() {
        return vec![Vec::new(); bytes.len()];
    }
    let Ok(ac) = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(names)
    else {
        return vec![(0..names.len()).collect(); bytes.len()];
    };
    bytes
        .par_iter()
        .map(|b| {
            let mut found: Vec<usize> = ac
                .find_overlapping_iter(*b)
                .filter(|m| method_word(b, m.start(), m.end()))
                .map(|m| m.pattern().as_usize())
                .collect();
            found.sort_unstable();
            found.dedup();
            found
        })
        .collect()
}

/// A method name where it matters for resolution by name: after `.` (a call `x.name(`) or
/// after `def` (a definition, which can make the name ambiguous).
fn method_word(bytes: &[u8], start: usize, end: usize) -> bool {
    if !whole_word(bytes, start, end) {
        return false;
    }
    let before = bytes[..start].trim_ascii_end();
    before.ends_with(b".")
        || (before.ends_with(b"def") && whole_word(before, before.len() - 3, before.len()))
}

fn whole_word(bytes: &[u8], start: usize, end: usize) -> bool {
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    let before = start.checked_sub(1).map(|i| bytes[i]);
    let after = bytes.get(end).copied();
    !before.is_some_and(ident) && !after.is_some_and(ident)
}

/// The files of one run, split into those loaded so far and the rest (kept as bytes).
pub struct Selection {
    pool: Vec<Option<Input>>,
    selected: Vec<bool>,
    enabled: bool,
    /// `importers[j]`: the modules whose imports name module `j`.
    importers: Vec<Vec<usize>>,
    /// Every dotted name a module is importable as.
    by_name: HashMap<String, usize>,
    /// Names of existing coroutines (`async def`), and for each the modules containing it.
    async_names: Vec<String>,
    holders: Vec<Vec<usize>>,
    contains: Vec<Vec<usize>>,
    active: Vec<bool>,
}

impl Selection {
    /// Scans every input; with `enabled == false` everything is selected (the full pipeline).
    pub fn new(inputs: Vec<Input>, cat: &Catalog, enabled: bool) -> Selection {
        let n = inputs.len();
        let mut sel = Selection {
            selected: vec![!enabled; n],
            enabled,
            importers: vec![Vec::new(); n],
            by_name: HashMap::new(),
            async_names: Vec::new(),
            holders: Vec::new(),
            contains: vec![Vec::new(); n],
            active: Vec::new(),
            pool: Vec::new(),
        };
        if enabled {
            // `async`/`await`: passes that inspect existing coroutines (blocking calls,
            // dangling tasks) act on modules no catalog word names.
            let triggers = Words::new(
                cat.trigger_words
                    .iter()
                    .map(String::as_str)
                    .chain(["async", "await"]),
            );
            let (scans, names): (Vec<Scanned>, Vec<Vec<String>>) = inputs
                .par_iter()
                .map(|i| {
                    let (name, aliases, is_package) = crate::run::module_names(&i.path, &i.root);
                    let scanned = scan(&i.bytes, &triggers, &name, is_package);
                    (scanned, std::iter::once(name).chain(aliases).collect())
                })
                .unzip();
            for (i, ns) in names.into_iter().enumerate() {
                for name in ns {
                    // First one wins, as in `Project::new`.
                    sel.by_name.entry(name).or_insert(i);
                }
            }
            for (i, s) in scans.iter().enumerate() {
                for imp in &s.imports {
                    if let Some(&j) = sel.by_name.get(imp.as_str())
                        && j != i
                    {
                        sel.importers[j].push(i);
                    }
                }
            }
            let mut names: Vec<String> = scans.iter().flat_map(|s| s.async_defs.clone()).collect();
            names.sort();
            names.dedup();
            let bytes: Vec<&[u8]> = inputs.iter().map(|i| i.bytes.as_slice()).collect();
            sel.contains = words_per_module(&names, &bytes);
            sel.holders = vec![Vec::new(); names.len()];
            for (m, ws) in sel.contains.iter().enumerate() {
                for &w in ws {
                    sel.holders[w].push(m);
                }
            }
            sel.active = vec![false; names.len()];
            sel.async_names = names;
            let seeds: Vec<usize> = (0..n).filter(|&i| scans[i].seed).collect();
            sel.add(seeds);
        }
        sel.pool = inputs.into_iter().map(Some).collect();
        sel
    }

    /// Selects `new` and closes the selection: importers of a selected module, and every module
    /// naming an existing coroutine that a selected module names (`x.name()` resolves by name
    /// alone, and a second definition makes the name ambiguous).
    fn add(&mut self, new: Vec<usize>) -> bool {
        let mut stack: Vec<usize> = new.into_iter().filter(|&i| !self.selected[i]).collect();
        let grew = !stack.is_empty();
        for &i in &stack {
            self.selected[i] = true;
        }
        while let Some(i) = stack.pop() {
            let mut next: Vec<usize> = self.importers[i].clone();
            for &w in &self.contains[i] {
                if !self.active[w] {
                    self.active[w] = true;
                    next.extend(&self.holders[w]);
                }
            }
            for j in next {
                if !self.selected[j] {
                    self.selected[j] = true;
                    stack.push(j);
                }
            }
        }
        grew
    }

    /// The project module a qualified name lives in (longest prefix).
    fn module_of(&self, qualified: &str) -> Option<usize> {
        let mut q = qualified;
        loop {
            if let Some(&m) = self.by_name.get(q) {
                return Some(m);
            }
            q = &q[..q.rfind('.')?];
        }
    }

    /// The selected inputs not loaded yet, taken out of the pool.
    pub fn take_selected(&mut self) -> Vec<Input> {
        self.pool
            .iter_mut()
            .zip(&self.selected)
            .filter(|(_, s)| **s)
            .filter_map(|(i, _)| i.take())
            .collect()
    }

    /// Runs `check` on every unselected input; one that fails leaves the pool with its
    /// diagnostic, exactly as it would have failed to load.
    pub fn check_unselected(
        &mut self,
        check: impl Fn(&Input) -> Option<Diagnostic> + Sync,
    ) -> Vec<Diagnostic> {
        let failed: Vec<(usize, Diagnostic)> = self
            .pool
            .par_iter()
            .enumerate()
            .filter(|(i, _)| !self.selected[*i])
            .filter_map(|(i, input)| Some((i, check(input.as_ref()?)?)))
            .collect();
        failed
            .into_iter()
            .map(|(i, d)| {
                self.pool[i] = None;
                d
            })
            .collect()
    }

    /// After a run over the selection, selects the skipped modules its results reach without
    /// an import: those naming a method that is async or pinned (resolution by name), those a
    /// catalog-typed value or generator is passed into, and those holding a base class of a
    /// selected class. `true` if any were added: the caller loads them and runs again.
    pub fn grow(&mut self, p: &Project, facts: &[ModuleFacts], colouring: &Colouring) -> bool {
        if !self.enabled {
            return false;
        }
        let names = colouring
            .async_funcs
            .iter()
            .chain(colouring.pinned.keys())
            .map(|f| p.func(*f))
            .filter(|def| def.is_method())
            .map(|def| def.name.as_str());
        let rest = self
            .pool
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.selected[*i])
            .filter_map(|(i, input)| Some((i, input.as_ref()?.bytes.as_slice())));
        let mut more: Vec<usize> = by_async_method_names(names, rest).into_iter().collect();
        for f in facts {
            more.extend(f.typed_ext_args.iter().filter_map(|q| self.module_of(q)));
        }
        for (m, module) in p.modules.iter().enumerate() {
            for class in &module.index.classes {
                for base in &class.bases {
                    if let Sym::External(q) = p.resolve_in_module(m, base) {
                        more.extend(self.module_of(&q));
                    }
                }
            }
        }
        more.retain(|&i| self.pool.get(i).is_some_and(Option::is_some));
        self.add(more)
    }

    /// The files that were only checked, never indexed: they do not change.
    pub fn into_unloaded(self) -> Vec<Input> {
        self.pool.into_iter().flatten().collect()
    }

    /// How many files were only parsed, never indexed.
    pub fn skipped(&self) -> usize {
        self.pool.iter().filter(|i| i.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_only() {
        let w = Words::new(["sleep", "async"]);
        assert!(w.any_in(b"time.sleep(1)"));
        assert!(w.any_in(b"x = 1\nasync def f(): pass"));
        assert!(!w.any_in(b"asleep = sleeper + sleep_x + _sleep"));
        assert!(!w.any_in(b"sleep\xc3\xa9 = 1"));
        assert!(w.any_in(b"asleep sleep"));
    }

    #[test]
    fn reads_imports() {
        let src = b"import os, a.b.c as d\nfrom . import x\nfrom ..up import (\n    y,\n    z as w,\n)\nfrom q import *  # c\n    import lazy\nx = 1; import semi\n";
        let got = imports(src, "pkg.sub.m", false);
        for want in [
            "os",
            "a",
            "a.b",
            "a.b.c",
            "pkg.sub",
            "pkg.sub.x",
            "pkg.up",
            "pkg.up.y",
            "pkg.up.z",
            "q",
            "lazy",
        ] {
            assert!(got.contains(&want.to_string()), "{want} in {got:?}");
        }
        assert_eq!(absolute(".", "pkg", true).as_deref(), Some("pkg"));
        assert_eq!(absolute("...", "a.m", false), None);
    }
}
