//! Verify: a rewritten file must parse at least as cleanly as the original.
//!
//! If a transform produced broken Python, the file is kept as it was and the transforms
//! involved are named in an internal-error diagnostic: never emit broken code.

use crate::edit::Edit;
use crate::parse::{error_count, first_error, parse, reparse};
use tree_sitter::{InputEdit, Node, Point, Tree};

/// `Err` names the passes whose edits were involved and where the new error is.
pub fn check(new_text: &str, edits: &[Edit]) -> Result<(), String> {
    parse_clean(new_text, edits).map(|_| ())
}

/// Parses the output once; `Ok` holds its tree when it has no syntax error.
fn parse_clean(new_text: &str, edits: &[Edit]) -> Result<Tree, String> {
    let Some(tree) = parse(new_text) else {
        return Err("the output could not be parsed".into());
    };
    judge(tree, edits)
}

/// Like [`parse_clean`], but re-parses incrementally from the original's tree: only the
/// regions the edits touched are parsed again. Debug builds check the tree against a fresh parse.
fn reparse_clean(old_tree: &Tree, old: &str, new: &str, edits: &[Edit]) -> Result<Tree, String> {
    let mut edited = old_tree.clone();
    for e in input_edits(old, new, edits).into_iter().rev() {
        edited.edit(&e);
    }
    let Some(tree) = reparse(new, &edited) else {
        return Err("the output could not be parsed".into());
    };
    debug_assert!(
        parse(new).is_some_and(|fresh| outline(&fresh) == outline(&tree)),
        "an incremental parse differs from a fresh one"
    );
    judge(tree, edits)
}

/// The edits as regions `(old start, old end, new length)`, in ascending order: adjacent
/// edits (insertions at one offset, touching replacements) make one region.
fn regions(edits: &[Edit]) -> Vec<(usize, usize, usize)> {
    let mut regions: Vec<(usize, usize, usize)> = Vec::new();
    for e in crate::edit::in_order(edits.to_vec()) {
        match regions.last_mut() {
            // In order and without conflicts, so `e.start` is exactly the region's end.
            Some(r) if e.start <= r.1 => {
                r.2 += e.text.len();
                r.1 = r.1.max(e.end);
            }
            _ => regions.push((e.start, e.end, e.text.len())),
        }
    }
    regions
}

/// The edits as tree-sitter input edits, in ascending order; each is expressed in the
/// coordinates of a text where only the edits after it are applied (apply them last first).
fn input_edits(old: &str, new: &str, edits: &[Edit]) -> Vec<InputEdit> {
    let regions = regions(edits);
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', old.as_bytes()).map(|i| i + 1))
        .collect();
    let point = |at: usize| {
        let row = line_starts.partition_point(|&s| s <= at) - 1;
        Point {
            row,
            column: at - line_starts[row],
        }
    };
    let mut out = Vec::with_capacity(regions.len());
    let mut shift: isize = 0;
    for (start, end, new_len) in regions {
        let new_start = (start as isize + shift) as usize;
        let inserted = &new.as_bytes()[new_start..new_start + new_len];
        let start_position = point(start);
        let new_end_position = match memchr::memrchr(b'\n', inserted) {
            None => Point {
                row: start_position.row,
                column: start_position.column + new_len,
            },
            Some(i) => Point {
                row: start_position.row + memchr::memchr_iter(b'\n', inserted).count(),
                column: new_len - i - 1,
            },
        };
        out.push(InputEdit {
            start_byte: start,
            old_end_byte: end,
            new_end_byte: start + new_len,
            start_position,
            old_end_position: point(end),
            new_end_position,
        });
        shift += new_len as isize - (end - start) as isize;
    }
    out
}

/// Every node's kind, byte range and start position, in preorder: two trees with the same
/// outline are the same parse.
fn outline(tree: &Tree) -> Vec<(u16, usize, usize, Point)> {
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        out.push((
            n.kind_id(),
            n.start_byte(),
            n.end_byte(),
            n.start_position(),
        ));
        let mut c = n.walk();
        stack.extend(n.children(&mut c));
    }
    out
}

/// `Ok(tree)` if the output tree has no syntax error.
fn judge(tree: Tree, edits: &[Edit]) -> Result<Tree, String> {
    if error_count(&tree) == 0 {
        return Ok(tree);
    }
    let mut origins: Vec<&str> = edits.iter().map(|e| e.origin.as_str()).collect();
    origins.sort();
    origins.dedup();
    let at = first_error(&tree).map_or(0, |n| n.start_position().row + 1);
    Err(format!(
        "the rewrite would introduce a syntax error at output line {at} (passes: {}); file left unchanged",
        origins.join(", ")
    ))
}

/// [`check`], plus the errors Python reports when compiling that a tree-sitter parse does not
/// see: the output must not have more of them than the original (`await` outside a coroutine,
/// `async for`/`async with` outside one, `yield from` or `return value` in an async generator,
/// a `from __future__` import that is no longer first).
pub fn check_with_original(
    old_tree: &Tree,
    old_text: &str,
    new_text: &str,
    edits: &[Edit],
) -> Result<(), String> {
    let new_tree = reparse_clean(old_tree, old_text, new_text, edits)?;
    // Such an error is decided inside its top-level statement, so only the statements an
    // edit touches are compared, in the output and (if it has errors there) in the original:
    // the others are the same text on both sides. The message then names an error the
    // edits brought, not merely the first in the file.
    let (mut old_ranges, mut new_ranges) = (Vec::new(), Vec::new());
    let mut shift = 0isize;
    for (start, end, new_len) in regions(edits) {
        let new_start = start.wrapping_add_signed(shift);
        old_ranges.push((start, end));
        new_ranges.push((new_start, new_start + new_len));
        shift += new_len as isize - (end - start) as isize;
    }
    let after = compile_errors_in(&new_tree, &new_ranges);
    if after.is_empty() || after.len() <= compile_errors_in(old_tree, &old_ranges).len() {
        return Ok(());
    }
    let mut origins: Vec<&str> = edits.iter().map(|e| e.origin.as_str()).collect();
    origins.sort();
    origins.dedup();
    let (line, what) = after[0];
    Err(format!(
        "the rewrite would make Python reject the file ({what}, output line {line}; passes: {}); file left unchanged",
        origins.join(", ")
    ))
}

/// Compile-time errors tree-sitter accepts, as (line, what).
pub fn compile_errors(tree: &Tree, _text: &str) -> Vec<(usize, &'static str)> {
    compile_errors_in(tree, &[(0, usize::MAX)])
}

/// [`compile_errors`] in the top-level statements that overlap or touch one of `ranges`
/// (sorted), and the `from __future__` placement, which is checked over the whole module.
fn compile_errors_in(tree: &Tree, ranges: &[(usize, usize)]) -> Vec<(usize, &'static str)> {
    let mut out = Vec::new();
    let root = tree.root_node();
    // `from __future__` imports must come first (after a docstring and comments).
    let mut cursor = root.walk();
    let mut seen_other = false;
    let mut first = true;
    for child in root.named_children(&mut cursor) {
        match child.kind() {
            "comment" => continue,
            "future_import_statement" if seen_other => {
                out.push((
                    child.start_position().row + 1,
                    "`from __future__` import not first",
                ));
            }
            "future_import_statement" => {}
            "expression_statement" if first && is_docstring(child) => {}
            _ => seen_other = true,
        }
        first = false;
    }
    let mut cursor = root.walk();
    let touched = root.named_children(&mut cursor).filter(|stmt| {
        let (s, e) = (stmt.start_byte(), stmt.end_byte());
        let at = ranges.partition_point(|r| r.1 < s);
        ranges.get(at).is_some_and(|r| r.0 <= e)
    });
    for stmt in touched {
        // One cursor over the statement: no child list per node.
        let mut cursor = stmt.walk();
        'walk: loop {
            let node = cursor.node();
            if node.is_named() {
                compile_error_at(node, &mut out);
            }
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    break 'walk;
                }
            }
        }
    }
    out
}

fn compile_error_at(node: Node, out: &mut Vec<(usize, &'static str)>) {
    let line = node.start_position().row + 1;
    match node.kind() {
        "await" if !in_coroutine(node) => out.push((line, "`await` outside a coroutine")),
        "for_statement" | "with_statement" if starts_with_async(node) && !in_coroutine(node) => {
            out.push((line, "`async for`/`async with` outside a coroutine"))
        }
        "yield" => {
            let from = node.child(1).is_some_and(|n| n.kind() == "from");
            if from && enclosing_async(node) {
                out.push((line, "`yield from` in an async function"));
            }
        }
        "return_statement" if node.named_child_count() > 0 && enclosing_async(node) => {
            if let Some(f) = enclosing_function(node)
                && has_own_yield(f)
            {
                out.push((line, "`return` with a value in an async generator"));
            }
        }
        _ => {}
    }
}

fn is_docstring(stmt: Node) -> bool {
    stmt.named_child_count() == 1
        && stmt
            .named_child(0)
            .is_some_and(|n| matches!(n.kind(), "string" | "concatenated_string"))
}

fn starts_with_async(node: Node) -> bool {
    node.child(0).is_some_and(|c| c.kind() == "async")
}

/// The innermost scope around `node` that is a function, lambda or class.
fn enclosing_scope(node: Node) -> Option<Node> {
    let mut cur = node.parent();
    while let Some(n) = cur {
        if matches!(
            n.kind(),
            "function_definition" | "lambda" | "class_definition"
        ) {
            return Some(n);
        }
        cur = n.parent();
    }
    None
}

fn enclosing_function(node: Node) -> Option<Node> {
    enclosing_scope(node).filter(|n| n.kind() == "function_definition")
}

fn enclosing_async(node: Node) -> bool {
    enclosing_function(node).is_some_and(starts_with_async)
}

fn in_coroutine(node: Node) -> bool {
    enclosing_scope(node).is_some_and(|s| s.kind() == "function_definition" && starts_with_async(s))
}

/// Whether `f`'s own body (not nested functions) yields.
fn has_own_yield(f: Node) -> bool {
    let mut stack = vec![f];
    while let Some(n) = stack.pop() {
        if n.kind() == "yield" && enclosing_function(n).is_some_and(|g| g.id() == f.id()) {
            return true;
        }
        let mut c = n.walk();
        stack.extend(n.named_children(&mut c));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::Origin;

    fn errors(src: &str) -> Vec<&'static str> {
        compile_errors(&parse(src).unwrap(), src)
            .into_iter()
            .map(|(_, w)| w)
            .collect()
    }

    #[test]
    fn incremental_reparse_matches_a_fresh_parse() {
        // Untouched code after each edit: its nodes are reused, at shifted positions.
        let filler: String = (0..40)
            .map(|i| format!("\n\ndef h{i}(a, b):\n    return [a, b, {{'k': a}}]\n"))
            .collect();
        let old = &format!(
            "import os\r\n\ndef f(x):\n    with open(x) as fh:\n        return fh.read()\n{filler}\n\ndef g():\n    return f(1) + f(2)\n{filler}"
        );
        let def_f = old.find("def f").unwrap();
        let def_g = old.find("def g").unwrap();
        let with = old.find("with open").unwrap();
        let call = old.find("f(1)").unwrap();
        let edits = vec![
            Edit::insert(0, "import asyncio\n", Origin::Imports),
            Edit::insert(def_f, "async ", Origin::AsyncDef),
            Edit::insert(with, "async ", Origin::AsyncWith),
            // Two insertions at one offset, then a replacement right after them.
            Edit::insert(def_g, "async ", Origin::AsyncDef),
            Edit::insert(call, "(await ", Origin::AwaitCall),
            Edit::replace(call, call + 4, "f(1))", Origin::AwaitCall),
            Edit::replace(old.len() - 1, old.len(), "\n# end\n", Origin::Imports),
        ];
        let new = crate::edit::apply(old, edits.clone()).unwrap();
        let old_tree = parse(old).unwrap();
        let fresh = parse(&new).unwrap();
        let tree = reparse_clean(&old_tree, old, &new, &edits).unwrap();
        assert_eq!(outline(&tree), outline(&fresh));
        assert!(new.contains("async def g():\n    return (await f(1)) + f(2)"));
    }

    /// An error an edit brings is caught, and named, even next to one the original already had:
    /// only the top-level statements an edit touches are compared.
    #[test]
    fn compile_errors_the_edits_bring_are_caught() {
        let old = "def a():\n    await x()\n\n\ndef b():\n    y()\n\n\nclass C:\n    def m(self):\n        yield from z()\n";
        let tree = parse(old).unwrap();
        let check = |edits: Vec<Edit>| {
            let new = crate::edit::apply(old, edits.clone()).unwrap();
            check_with_original(&tree, old, &new, &edits)
        };
        let at = |code: &str| old.find(code).unwrap();
        // Each inserted text, where, and the error the message must name.
        let cases = [
            (
                "await ",
                at("y()"),
                "`await` outside a coroutine, output line 6",
            ),
            // `m` made async: its untouched `yield from` is now an error.
            ("async ", at("def m"), "`yield from` in an async function"),
            // A new statement between two others.
            (
                "await w()\n",
                at("class C"),
                "`await` outside a coroutine, output line 9",
            ),
        ];
        for (text, offset, named) in cases {
            let err = check(vec![Edit::insert(offset, text, Origin::Imports)]).unwrap_err();
            assert!(err.contains(named), "{err}");
        }
        let y = at("y()");
        // The error `a` already had is not the edit's.
        let x = at("x()");
        assert_eq!(
            check(vec![Edit::replace(x, x + 1, "xx", Origin::Imports)]),
            Ok(())
        );
        assert_eq!(
            check(vec![Edit::insert(y, "z = 1\n    ", Origin::Imports)]),
            Ok(())
        );
    }

    #[test]
    fn compile_level_errors() {
        assert!(
            errors("#!/bin/python\n# c\n\"\"\"doc\"\"\"\nfrom __future__ import annotations\n")
                .is_empty()
        );
        assert!(errors("\"\"\"doc\"\"\"\n# c\nfrom __future__ import annotations\nasync def f():\n    await g()\n    async with x:\n        pass\n").is_empty());
        assert_eq!(
            errors("import asyncio\n\"\"\"doc\"\"\"\nfrom __future__ import annotations\n"),
            ["`from __future__` import not first"]
        );
        assert_eq!(
            errors("def f():\n    await g()\n"),
            ["`await` outside a coroutine"]
        );
        assert_eq!(
            errors("async def f():\n    return [lambda: await g()]\n"),
            ["`await` outside a coroutine"]
        );
        assert_eq!(
            errors("def f():\n    async for x in y:\n        pass\n"),
            ["`async for`/`async with` outside a coroutine"]
        );
        assert_eq!(
            errors("async def f():\n    yield 1\n    return 2\n"),
            ["`return` with a value in an async generator"]
        );
        assert_eq!(
            errors("async def f():\n    yield from g()\n"),
            ["`yield from` in an async function"]
        );
    }
}
