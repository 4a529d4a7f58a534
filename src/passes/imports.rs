//! `imports`: adds the imports the new code needs and removes sync imports it emptied.
//!
//! Why: `await asyncio.sleep(...)` needs `import asyncio`, and a `import time` whose last
//! use was rewritten is now dead weight that linters flag. Only imports whose every use
//! awaitify replaced are removed; an import that was already unused is the user's business.
//!
//! Placement reads like a person did it: a new import takes the place of the sync import it
//! replaces; otherwise standard-library imports join the existing standard-library ones in
//! sorted position, and others go after the last import. Module docstrings, `__future__`
//! imports and comments stay first.

use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin};
use crate::index::ImportStmt;
use std::collections::HashMap;
use tree_sitter::Node;

pub fn run(cx: &PassCx, out: &mut PassOut) {
    let imports = &cx.module().index.imports;
    let nl = cx.module().source.newline;
    let wanted = reference_counts(cx, out);
    let removed_whole = remove_dead(imports, &wanted, out);

    // What is still missing.
    let mut missing: Vec<String> = out
        .imports
        .iter()
        .filter(|m| !already_imported(cx, m))
        .cloned()
        .collect();
    missing.sort();

    let (inserts, mut substitutes) = place(cx, &missing, &removed_whole, out);
    for stmt in removed_whole {
        if let Some(lines) = substitutes.remove(&stmt.start) {
            out.edits.push(Edit::replace(
                stmt.start,
                stmt.end,
                lines.join(nl),
                Origin::Imports,
            ));
        } else {
            out.edits.push(removal(cx, stmt));
        }
    }
    for (at, text) in inserts {
        // Before any other insertion at the same offset (`async ` of a first-line `def`).
        out.edits
            .push(Edit::open(at, usize::MAX / 4, text, Origin::Imports));
    }
}

/// References per imported name, before and after the edits.
fn reference_counts<'a>(cx: &PassCx<'a>, out: &PassOut) -> HashMap<&'a str, (usize, usize)> {
    let module = cx.module();
    let src = cx.src();
    let replaced: Vec<(usize, usize)> = out
        .edits
        .iter()
        .filter(|e| e.start < e.end)
        .map(|e| (e.start, e.end))
        .collect();
    let imports = &module.index.imports;
    let mut wanted: HashMap<&str, (usize, usize)> = imports
        .iter()
        .flat_map(|s| s.names.iter().map(|n| (n.local.as_str(), (0, 0))))
        .collect();
    count_refs(cx.tree, src, &replaced, &mut wanted);
    // A pass that rebuilds an expression keeps some of its names in the new text
    // (`Thread(target=job)` -> `create_task(job())`): those are still uses.
    for e in &out.edits {
        for name in bare_names(&e.text) {
            if let Some(entry) = wanted.get_mut(name)
                && entry.0 > 0
            {
                entry.1 += 1;
            }
        }
    }

    wanted
}

/// Removes the imported names whose every use the edits replaced; returns the statements
/// that go whole (removed, or replaced by a new import, by the caller).
fn remove_dead<'a>(
    imports: &'a [ImportStmt],
    wanted: &HashMap<&str, (usize, usize)>,
    out: &mut PassOut,
) -> Vec<&'a ImportStmt> {
    let mut removed_whole: Vec<&ImportStmt> = Vec::new();
    for stmt in imports {
        let dead: Vec<usize> = (0..stmt.names.len())
            .filter(|&i| {
                let name = &stmt.names[i];
                let (before, after) = wanted[name.local.as_str()];
                // A replacement in the same module (`httpx.Client` → `httpx.AsyncClient`)
                // still needs the import it rewrote.
                let still_needed =
                    stmt.from_module.is_none() && out.imports.contains(name.qualified.as_str());
                before > 0 && after == 0 && !still_needed
            })
            .collect();
        if dead.is_empty() {
            continue;
        }
        if dead.len() == stmt.names.len() {
            removed_whole.push(stmt);
        } else {
            // One removal per run of adjacent dead names: from a run's first name to the next
            // live one, or, for a run at the end, from the live name before it.
            let names = &stmt.names;
            let mut i = 0;
            while i < dead.len() {
                let mut j = i;
                while j + 1 < dead.len() && dead[j + 1] == dead[j] + 1 {
                    j += 1;
                }
                let (first, last) = (dead[i], dead[j]);
                let (s, e) = if last + 1 < names.len() {
                    (names[first].start, names[last + 1].start)
                } else {
                    (names[first - 1].end, names[last].end)
                };
                out.edits.push(Edit::replace(s, e, "", Origin::Imports));
                i = j + 1;
            }
        }
    }

    removed_whole
}

/// Where each missing import goes: insertions, and new imports that take the place of a
/// removed one (by its start).
#[allow(clippy::type_complexity)]
fn place(
    cx: &PassCx,
    missing: &[String],
    removed_whole: &[&ImportStmt],
    out: &PassOut,
) -> (Vec<(usize, String)>, HashMap<usize, Vec<String>>) {
    let src = cx.src();
    let nl = cx.module().source.newline;
    let leading = leading_imports(cx.root());
    let mut free_slots: Vec<&ImportStmt> = removed_whole
        .iter()
        .copied()
        .filter(|s| s.top_level)
        .collect();
    let mut inserts: Vec<(usize, String)> = Vec::new();
    let mut substitutes: HashMap<usize, Vec<String>> = HashMap::new();
    for m in missing {
        let line = format!("import {m}");
        let stdlib = is_stdlib(m);
        let kept: Vec<Node> = leading
            .iter()
            .copied()
            .filter(|n| n.kind() == "import_statement")
            .filter(|n| !removed_whole.iter().any(|r| r.start == n.start_byte()))
            .filter(|n| is_stdlib(first_module(*n, src)) == stdlib)
            .collect();
        let slot = free_slots.iter().position(|s| stmt_is_stdlib(s) == stdlib);
        // isort order: a section's plain imports come before its from-imports.
        let first_from = leading.iter().find(|n| {
            n.kind() == "import_from_statement" && is_stdlib(from_module(**n, src)) == stdlib
        });
        let first_non_future = leading
            .iter()
            .find(|n| n.kind() != "future_import_statement");
        let before = |n: &Node| (above_comments(*n, src), format!("{line}{nl}"));
        let after = |n: &Node| (line_end(src, n.end_byte()), format!("{line}{nl}"));
        // isort's sections are apart by a blank line: a first import of its section next
        // to the other section's imports opens its own.
        let before_other = |n: &Node| (above_comments(*n, src), format!("{line}{nl}{nl}"));
        let after_other = |n: &Node| (line_end(src, n.end_byte()), format!("{nl}{line}{nl}"));
        if let Some(next) = kept.iter().find(|n| first_module(**n, src) > m.as_str()) {
            // 1. Sorted among the kept plain imports of its section.
            inserts.push(before(next));
        } else if let Some(last) = kept.last() {
            inserts.push(after(last));
        } else if let Some(pos) = slot {
            // 2. The place of the removed import it replaces.
            substitutes
                .entry(free_slots[pos].start)
                .or_default()
                .push(line);
            if !stdlib {
                free_slots.remove(pos);
            }
        } else if let Some(from) = first_from {
            inserts.push(before(from));
        } else if let (true, Some(first)) = (stdlib, first_non_future) {
            // 3. The standard library section comes first.
            let goes = removed_whole.iter().any(|r| r.start == first.start_byte());
            inserts.push(if goes {
                before(first)
            } else {
                before_other(first)
            });
        } else if let Some(last) = leading.last() {
            // The section of the last import that stays; with none, nothing to set apart.
            let stays = leading
                .iter()
                .rev()
                .find(|n| !removed_whole.iter().any(|r| r.start == n.start_byte()));
            let other_new = missing.iter().any(|x| is_stdlib(x) != stdlib);
            let same_section = stays.map_or(!other_new, |n| match n.kind() {
                "import_from_statement" => is_stdlib(from_module(*n, src)) == stdlib,
                "future_import_statement" => false,
                _ => is_stdlib(first_module(*n, src)) == stdlib,
            });
            inserts.push(if same_section {
                after(last)
            } else {
                after_other(last)
            });
        } else {
            let at = top_insertion_point(cx.root(), src);
            inserts.push((
                at,
                format!(
                    "{line}{nl}{}",
                    blank_lines_before(cx.root(), at, &out.edits, nl)
                ),
            ));
        }
    }

    (inserts, substitutes)
}

/// Identifiers of a piece of new code that are not attribute names or inside strings.
fn bare_names(code: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let bytes = code.as_bytes();
    let mut quote: Option<u8> = None;
    let mut fstring = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 1;
            } else if b == q {
                quote = None;
            } else if b == b'{' && fstring {
                // A replacement field of an f-string is code: `f"{shlex.quote(x)}"` uses `shlex`.
                if bytes.get(i + 1) == Some(&b'{') {
                    i += 1;
                } else {
                    let end = field_end(bytes, i + 1);
                    names.extend(bare_names(&code[i + 1..end]));
                    i = end;
                    continue;
                }
            }
            i += 1;
            continue;
        }
        if b == b'"' || b == b'\'' {
            quote = Some(b);
            let prefix = code[..i].bytes().rev().take_while(u8::is_ascii_alphabetic);
            fstring = prefix.into_iter().any(|c| c == b'f' || c == b'F');
            i += 1;
        } else if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let after_dot = code[..start].trim_end().ends_with('.');
            if !after_dot {
                names.push(&code[start..i]);
            }
        } else {
            i += 1;
        }
    }
    names
}

/// The offset of the `}` closing the f-string field that starts at `start` (or the end).
fn field_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'{' | b'(' | b'[') => depth += 1,
            (None, b'}') if depth == 0 => return i,
            (None, b'}' | b')' | b']') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    bytes.len()
}

/// Counts each imported name's references (`.0`) and those no edit replaces (`.1`); an
/// attribute's or a keyword argument's name is not a reference, nor is an import's own name.
fn count_refs(
    tree: &tree_sitter::Tree,
    src: &str,
    replaced: &[(usize, usize)],
    wanted: &mut HashMap<&str, (usize, usize)>,
) {
    for (name, entry) in wanted.iter_mut() {
        // A module imports a handful of names: finding each in the text and descending to it
        // is cheaper than visiting every node (most files are mostly identifiers).
        for s in memchr::memmem::find_iter(src.as_bytes(), name.as_bytes()) {
            let e = s + name.len();
            if !is_reference(tree, s, e) {
                continue;
            }
            entry.0 += 1;
            if !replaced.iter().any(|&(rs, re)| rs <= s && e <= re) {
                entry.1 += 1;
            }
        }
    }
}

/// Whether `s..e` is an identifier that names a value: not in a string, a comment or a
/// longer name, not an attribute's or a keyword argument's name, not in an import.
fn is_reference(tree: &tree_sitter::Tree, s: usize, e: usize) -> bool {
    let mut cursor = tree.walk();
    let mut parent = "";
    loop {
        let node = cursor.node();
        match node.kind() {
            "import_statement" | "import_from_statement" | "future_import_statement" => {
                return false;
            }
            "identifier" if node.byte_range() == (s..e) => {
                let field = cursor.field_name();
                return !(parent == "attribute" && field == Some("attribute")
                    || parent == "keyword_argument" && field == Some("name"));
            }
            kind if node.start_byte() <= s && e <= node.end_byte() => {
                parent = kind;
                if cursor.goto_first_child_for_byte(s).is_none() {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

fn already_imported(cx: &PassCx, module: &str) -> bool {
    cx.module()
        .index
        .imports
        .iter()
        .filter(|s| s.top_level && s.from_module.is_none())
        .any(|s| {
            s.names.iter().any(|n| {
                let written = &cx.src()[n.start..n.end];
                written == module || (n.local == module && n.qualified == module)
            })
        })
}

/// Deletes an import statement with its line, or leaves `pass` where a block would be empty.
fn removal(cx: &PassCx, stmt: &ImportStmt) -> Edit {
    let src = cx.src();
    let node = cx.node(stmt.start, stmt.end);
    let alone_in_block = node.and_then(|n| n.parent()).is_some_and(|p| {
        let mut cursor = p.walk();
        p.kind() == "block"
            && p.named_children(&mut cursor)
                .filter(|c| c.kind() != "comment")
                .count()
                == 1
    });
    if alone_in_block {
        return Edit::replace(stmt.start, stmt.end, "pass", Origin::Imports);
    }
    let ls = line_start(src, stmt.start);
    let le = line_end(src, stmt.end);
    let own_line =
        src[ls..stmt.start].trim().is_empty() && !src[stmt.end..le].trim_start().starts_with(';');
    if own_line {
        Edit::replace(ls, le, "", Origin::Imports)
    } else {
        Edit::replace(stmt.start, stmt.end, "pass", Origin::Imports)
    }
}

/// Top-level import statements at the head of the module (after docstring and comments).
fn leading_imports(root: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut cursor = root.walk();
    for (i, child) in statements(root, &mut cursor).enumerate() {
        match child.kind() {
            "import_statement" | "import_from_statement" | "future_import_statement" => {
                out.push(child)
            }
            _ if i == 0 && is_docstring(child) => {}
            _ => break,
        }
    }
    out
}

/// Where a line inserted before `stmt` goes: above the comment lines directly over it (a
/// `# noinspection` or `# isort: skip` belongs to the import below it), but never above a
/// shebang or an encoding line.
fn above_comments(stmt: Node, src: &str) -> usize {
    let mut at = line_start(src, stmt.start_byte());
    let mut node = stmt;
    while let Some(prev) = node.prev_named_sibling() {
        let attached = prev.kind() == "comment"
            && prev.end_position().row + 1 == node.start_position().row
            && src[line_start(src, prev.start_byte())..prev.start_byte()]
                .trim()
                .is_empty();
        // A shebang or an encoding declaration must stay on the first lines.
        let text = &src[prev.byte_range()];
        if !attached
            || text.starts_with("#!")
            || (prev.start_position().row < 2 && text.contains("coding"))
        {
            break;
        }
        at = line_start(src, prev.start_byte());
        node = prev;
    }
    at
}

/// PEP 8's two blank lines between an import inserted at `at` and a `def` or `class`
/// right after it.
fn blank_lines_before(root: Node, at: usize, edits: &[Edit], nl: &str) -> String {
    // Another pass's new statement there (`_background_tasks = set()`) brings its own.
    if edits
        .iter()
        .any(|e| e.start == at && e.end == at && !e.text.trim().starts_with("async"))
    {
        return String::new();
    }
    let mut cursor = root.walk();
    let next = root
        .named_children(&mut cursor)
        .find(|n| n.start_byte() >= at && n.kind() != "comment");
    let definition = next.is_some_and(|n| {
        n.start_byte() == at
            && matches!(
                n.kind(),
                "function_definition" | "class_definition" | "decorated_definition"
            )
    });
    if definition {
        nl.repeat(2)
    } else {
        String::new()
    }
}

fn top_insertion_point(root: Node, src: &str) -> usize {
    let mut cursor = root.walk();
    let first = statements(root, &mut cursor).next();
    match first {
        Some(doc) if is_docstring(doc) => line_end(src, doc.end_byte()),
        Some(stmt) => line_start(src, stmt.start_byte()),
        None => src.len(),
    }
}

/// The module's statements, without comments: a docstring is the first *statement*, even
/// after a shebang, a coding line or a licence header.
fn statements<'t>(
    root: Node<'t>,
    cursor: &mut tree_sitter::TreeCursor<'t>,
) -> impl Iterator<Item = Node<'t>> {
    root.named_children(cursor)
        .filter(|c| c.kind() != "comment")
        .collect::<Vec<_>>()
        .into_iter()
}

fn is_docstring(stmt: Node) -> bool {
    stmt.kind() == "expression_statement"
        && stmt.named_child(0).is_some_and(|s| s.kind() == "string")
}

fn first_module<'a>(stmt: Node, src: &'a str) -> &'a str {
    let name = stmt.child_by_field_name("name").map(|n| {
        if n.kind() == "aliased_import" {
            n.child_by_field_name("name").unwrap_or(n)
        } else {
            n
        }
    });
    name.map_or("", |n| &src[n.byte_range()])
}

fn from_module<'a>(stmt: Node, src: &'a str) -> &'a str {
    stmt.child_by_field_name("module_name")
        .map_or("", |n| &src[n.byte_range()])
}

fn stmt_is_stdlib(stmt: &ImportStmt) -> bool {
    let first = stmt
        .from_module
        .clone()
        .or_else(|| stmt.names.first().map(|n| n.qualified.clone()))
        .unwrap_or_default();
    is_stdlib(&first)
}

fn line_start(src: &str, offset: usize) -> usize {
    src[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// Offset just after the newline ending the line that contains `offset`.
fn line_end(src: &str, offset: usize) -> usize {
    src[offset..]
        .find('\n')
        .map_or(src.len(), |i| offset + i + 1)
}

/// Whether `module` is in the standard library (isort's first section), from CPython's
/// `sys.stdlib_module_names`.
pub fn is_stdlib(module: &str) -> bool {
    static NAMES: &str = include_str!("../../transforms/stdlib-modules.txt");
    let top = module.split('.').next().unwrap_or(module);
    NAMES
        .lines()
        .filter(|l| !l.starts_with('#'))
        .any(|l| l == top)
}

#[cfg(test)]
mod tests {
    use super::bare_names;

    #[test]
    fn names_in_f_string_fields_are_uses_and_other_string_text_is_not() {
        // A conversion (`!r`) reads as a name: one use too many only keeps an import.
        assert_eq!(
            bare_names(r#"x = f"echo {shlex.quote(d)} {{json}} {a['k']!r:>{w}}" + "os""#),
            ["x", "f", "shlex", "d", "a", "r", "w"]
        );
        assert_eq!(
            bare_names(r#"y = "{shlex}" + rf'{re.escape(p)}'"#),
            ["y", "rf", "re", "p"]
        );
    }
}
