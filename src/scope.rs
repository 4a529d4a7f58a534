//! Scoping a migration: the functions kept sync on purpose (`--keep-sync` names, dotted
//! paths, globs and decorators, and `# awaitify: keep-sync` comments), the files `--only`
//! lets change, and the public API whose colour changed (`--public-api`).
//!
//! Keeping a function sync and leaving a file alone both end in colouring's pins, so what
//! they keep sync propagates to everything the function would have to await, as every other
//! pin does.

use crate::colour::Colouring;
use crate::project::{FuncId, Project, Sym};
use crate::report::Diagnostic;
use globset::{Glob, GlobMatcher};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The comment that keeps the `def` it is on (or directly above) sync.
const MARKER: &str = "awaitify: keep-sync";

/// One `--keep-sync` pattern (or `[tool.awaitify] keep-sync` entry).
#[derive(Debug, Clone)]
pub struct KeepSync {
    /// As written.
    pub text: String,
    matcher: Matcher,
    /// Whether matching nothing is an error (the command line's always are; the project's
    /// only when the run is not limited to named files, as pre-commit runs it).
    pub required: bool,
    /// Where it was given, for the error: `--keep-sync` or `[tool.awaitify] keep-sync`.
    pub origin: &'static str,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// A name, a qualified name inside its module (`Class.method`) or a dotted path.
    Exact(String),
    /// The same, as a glob: `*` matches any run of characters, dots included.
    Glob(GlobMatcher),
    /// `@deco`: functions with a decorator that resolves to (or is written as) this.
    Decorator(GlobMatcher),
}

impl KeepSync {
    pub fn parse(text: &str, required: bool, origin: &'static str) -> anyhow::Result<KeepSync> {
        let glob = |g: &str| {
            Glob::new(g)
                .map(|g| g.compile_matcher())
                .map_err(|e| anyhow::anyhow!("{origin} `{text}`: {e}"))
        };
        let matcher = match text.strip_prefix('@') {
            Some(deco) if !deco.is_empty() => Matcher::Decorator(glob(deco)?),
            _ if text.contains(['*', '?', '[']) => Matcher::Glob(glob(text)?),
            _ if !text.is_empty() => Matcher::Exact(text.to_string()),
            _ => anyhow::bail!("{origin}: an empty pattern"),
        };
        Ok(KeepSync {
            text: text.to_string(),
            matcher,
            required,
            origin,
        })
    }

    fn matches(&self, p: &Project, f: FuncId) -> bool {
        let def = p.func(f);
        match &self.matcher {
            Matcher::Exact(k) => *k == def.name || *k == def.qualname || *k == p.func_name(f),
            Matcher::Glob(g) => {
                g.is_match(def.name.as_str())
                    || g.is_match(def.qualname.as_str())
                    || g.is_match(p.func_name(f))
            }
            Matcher::Decorator(g) => decorator_names(p, f).iter().any(|d| g.is_match(d.as_str())),
        }
    }

    /// How a pin's message names it: exact names as before (`--keep-sync`).
    fn how(&self) -> String {
        match self.matcher {
            Matcher::Exact(_) => "--keep-sync".to_string(),
            _ => format!("--keep-sync `{}`", self.text),
        }
    }
}

/// The names each decorator of `f` goes by: as written (`app.route`), through the imports
/// of its module (`from click import command` makes `@command` `click.command`), and the
/// project function or class it resolves to (`pkg.deco.traced`).
fn decorator_names(p: &Project, f: FuncId) -> Vec<String> {
    let m = f.module as usize;
    let mut out = Vec::new();
    for written in &p.func(f).decorators {
        out.push(written.to_string());
        out.extend(crate::external::qualified_name(p, m, written));
        match p.resolve_in_module(m, written) {
            Sym::Func(g) => out.push(p.func_name(g)),
            Sym::Class(c) => {
                let module = &p.modules[c.module as usize].name;
                out.push(format!("{module}.{}", p.class(c).qualname));
            }
            Sym::Module(_) | Sym::External(_) => {}
        }
    }
    out
}

/// What `--keep-sync` and the comments keep sync.
pub struct Kept {
    /// The functions kept sync on purpose, each with how: `--keep-sync` (an exact name),
    /// `--keep-sync` and the pattern (a glob or a decorator), or a comment.
    pub funcs: BTreeMap<FuncId, String>,
    /// The required patterns that match nothing (a usage error).
    pub unmatched: Vec<String>,
    /// `unattached-keep-sync`: comments on no `def`.
    pub diagnostics: Vec<Diagnostic>,
}

/// The functions the patterns and the `# awaitify: keep-sync` comments keep sync.
pub fn kept(p: &Project, patterns: &[KeepSync]) -> Kept {
    let mut out = BTreeMap::new();
    let mut matched = vec![false; patterns.len()];
    for f in p.func_ids() {
        for (i, k) in patterns.iter().enumerate() {
            if k.matches(p, f) {
                matched[i] = true;
                out.entry(f).or_insert_with(|| k.how());
            }
        }
    }
    let mut diagnostics = Vec::new();
    for (m, module) in p.modules.iter().enumerate() {
        let (funcs, stray) = commented(p, m, &module.source.text);
        for f in funcs {
            out.entry(f)
                .or_insert_with(|| "a `# awaitify: keep-sync` comment".to_string());
        }
        for (line, col) in stray {
            diagnostics.push(Diagnostic::new(
                &module.display,
                line,
                col,
                "unattached-keep-sync",
                "`# awaitify: keep-sync` keeps nothing sync: put it at the end of a `def` line, or alone on the line directly above the `def` or its decorators",
            ));
        }
    }
    let unmatched = patterns
        .iter()
        .zip(matched)
        .filter(|(k, hit)| k.required && !hit)
        .map(|(k, _)| {
            format!(
                "{} `{}` matches no function in the files scanned",
                k.origin, k.text
            )
        })
        .collect();
    Kept {
        funcs: out,
        unmatched,
        diagnostics,
    }
}

/// The functions of module `m` with a `# awaitify: keep-sync` comment at the end of their
/// `def` line, or alone on the line directly above the `def` or its decorators. Comments are
/// found with the parser (a `#` in a string does not count); files without the marker are
/// not parsed again. Also the `(line, column)` of the comments on no function.
fn commented(p: &Project, m: usize, text: &str) -> (Vec<FuncId>, Vec<(usize, usize)>) {
    if !text.contains(MARKER) {
        return Default::default();
    }
    let Some(tree) = crate::parse::parse(text) else {
        return Default::default();
    };
    // (line, column, alone on its line)
    let mut comments: Vec<(usize, usize, bool)> = Vec::new();
    let mut cursor = tree.walk();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.kind() == "comment" && is_marker(&text[node.byte_range()]) {
            let start = node.start_byte();
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let alone = text[line_start..start].trim().is_empty();
            let at = node.start_position();
            comments.push((at.row + 1, at.column + 1, alone));
        }
        stack.extend(node.children(&mut cursor));
    }
    let ix = &p.modules[m].index;
    let on = |def: &crate::index::FuncDef, line: usize, alone: bool| {
        (!alone && line == def.line)
            || (alone && (line + 1 == def.first_line || line + 1 == def.line))
    };
    let funcs = (0..ix.functions.len())
        .filter(|&i| {
            let def = &ix.functions[i];
            comments
                .iter()
                .any(|&(line, _, alone)| on(def, line, alone))
        })
        .map(|i| FuncId {
            module: m as u32,
            func: i as u32,
        })
        .collect();
    let mut stray: Vec<(usize, usize)> = comments
        .iter()
        .filter(|&&(line, _, alone)| !ix.functions.iter().any(|def| on(def, line, alone)))
        .map(|&(line, col, _)| (line, col))
        .collect();
    stray.sort();
    (funcs, stray)
}

/// `# awaitify: keep-sync`, possibly after another comment (`# noqa # awaitify: keep-sync`);
/// `keep-synced` is not the marker.
fn is_marker(comment: &str) -> bool {
    comment.match_indices(MARKER).any(|(at, _)| {
        let rest = &comment[at + MARKER.len()..];
        rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || c == '#')
    })
}

/// The `--only` paths, made absolute so that `./pkg` and `pkg` name the same files.
pub fn resolve_only(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    paths
        .iter()
        .map(|p| {
            std::fs::canonicalize(p).map_err(|e| anyhow::anyhow!("--only {}: {e}", p.display()))
        })
        .collect()
}

/// Whether the file at `path` may be edited: always without `--only`, else when it is under
/// one of the (resolved) `only` paths.
pub fn in_scope(path: &Path, only: &[PathBuf]) -> bool {
    if only.is_empty() {
        return true;
    }
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    only.iter().any(|o| path.starts_with(o))
}

/// One function of the public API whose colour changed (sync to async).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ApiChange {
    /// `pkg.module.Class.method`.
    pub name: String,
    pub path: String,
    pub line: usize,
    /// `function`, `method` or `extension point`.
    pub kind: &'static str,
}

/// The public functions and methods made async, and the extension points among them:
///
/// - a *function* is a module-level function whose name, and every component of its module's
///   name, has no leading underscore, outside test modules and `__main__`;
/// - a *method* is a method of such a class (itself public, at module level), public by name
///   or a dunder (`__enter__` becoming `__aenter__` changes every `with`);
/// - an *extension point* is a method of a public class that code outside may override: one
///   a subclass in the project overrides, or whose docstring mentions overriding or
///   subclassing. A single-underscore name counts here (`_handle` hooks), since overrides
///   written elsewhere must now be `async def` too.
pub fn public_api(p: &Project, c: &Colouring) -> Vec<ApiChange> {
    let private = |s: &str| s.starts_with('_') && !(s.starts_with("__") && s.ends_with("__"));
    let mut out = Vec::new();
    for &f in &c.coloured {
        let module = &p.modules[f.module as usize];
        let def = p.func(f);
        if module.is_test
            || def.parent.is_some()
            || module.name.split('.').any(|s| s.starts_with('_'))
        {
            continue;
        }
        let kind = match def.class {
            None if !private(&def.name) => "function",
            None => continue,
            Some(k) => {
                let class = &module.index.classes[k];
                if class.qualname.contains('.') || class.name.starts_with('_') {
                    continue;
                }
                let mangled = def.name.starts_with("__") && !def.name.ends_with("__");
                if mangled {
                    continue;
                }
                if extension_point(p, f) {
                    "extension point"
                } else if private(&def.name) {
                    continue;
                } else {
                    "method"
                }
            }
        };
        out.push(ApiChange {
            name: p.func_name(f),
            path: module.display.clone(),
            line: def.line,
            kind,
        });
    }
    out.sort();
    out
}

/// The text output's section after the summary: one line per function.
pub fn api_text(api: &[ApiChange]) -> String {
    let mut out = format!("public API made async ({}):\n", api.len());
    for a in api {
        out.push_str(&format!(
            "  {} ({}:{}): {}\n",
            a.name, a.path, a.line, a.kind
        ));
    }
    out
}

/// A method a subclass in the project overrides, or whose docstring says it is meant to be.
fn extension_point(p: &Project, f: FuncId) -> bool {
    let def = p.func(f);
    let Some(k) = def.class else { return false };
    let class = crate::project::ClassId {
        module: f.module,
        class: k as u32,
    };
    let overridden = p.class_ids().any(|sub| {
        sub != class && p.mro(sub).contains(&class) && p.class(sub).methods.contains_key(&def.name)
    });
    overridden || {
        let text = &p.modules[f.module as usize].source.text;
        let doc = docstring(&text[def.body_start.min(def.end)..def.end]).to_lowercase();
        doc.contains("overrid") || doc.contains("subclass")
    }
}

/// The docstring a body starts with, if any (its text between the quotes).
fn docstring(body: &str) -> &str {
    let body = body.trim_start();
    let body = body.trim_start_matches(['r', 'R', 'u', 'U']);
    for quote in ["\"\"\"", "'''", "\"", "'"] {
        if let Some(rest) = body.strip_prefix(quote) {
            return rest.find(quote).map_or(rest, |end| &rest[..end]);
        }
    }
    ""
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_docstrings() {
        assert!(is_marker("# awaitify: keep-sync"));
        assert!(is_marker("# noqa # awaitify: keep-sync  # why"));
        assert!(!is_marker("# awaitify: keep-synced"));
        assert_eq!(
            docstring("\n    \"\"\"Override me.\"\"\"\n    pass"),
            "Override me."
        );
        assert_eq!(docstring("r'x' + y"), "x");
        assert_eq!(docstring("return 1"), "");
    }

    #[test]
    fn patterns() {
        assert!(matches!(
            KeepSync::parse("a.b", true, "--keep-sync").unwrap().matcher,
            Matcher::Exact(_)
        ));
        assert!(matches!(
            KeepSync::parse("a.*", true, "--keep-sync").unwrap().matcher,
            Matcher::Glob(_)
        ));
        assert!(matches!(
            KeepSync::parse("@click.command", true, "--keep-sync")
                .unwrap()
                .matcher,
            Matcher::Decorator(_)
        ));
        assert!(KeepSync::parse("a[", true, "--keep-sync").is_err());
        assert!(KeepSync::parse("", true, "--keep-sync").is_err());
    }
}
