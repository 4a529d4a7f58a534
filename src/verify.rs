//! Verify: a rewritten file must parse at least as cleanly as the original.
//!
//! If a transform produced broken Python, the file is kept as it was and the transforms
//! involved are named in an internal-error diagnostic: never emit broken code.

use crate::edit::Edit;
use crate::parse::{error_count, first_error, parse};
use tree_sitter::{Node, Tree};

/// `Err` names the passes whose edits were involved and where the new error is.
pub fn check(new_text: &str, edits: &[Edit]) -> Result<(), String> {
    parse_clean(new_text, edits).map(|_| ())
}

/// Parses the output once; `Ok` holds its tree when it has no syntax error.
fn parse_clean(new_text: &str, edits: &[Edit]) -> Result<Tree, String> {
    let Some(tree) = parse(new_text) else {
        return Err("the output could not be parsed".into());
    };
    if error_count(&tree) == 0 {
        return Ok(tree);
    }
    let mut origins: Vec<&str> = edits.iter().map(|e| e.origin).collect();
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
    let new_tree = parse_clean(new_text, edits)?;
    let before = compile_errors(old_tree, old_text).len();
    let after = compile_errors(&new_tree, new_text);
    if after.len() <= before {
        return Ok(());
    }
    let mut origins: Vec<&str> = edits.iter().map(|e| e.origin).collect();
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
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        let mut c = node.walk();
        stack.extend(node.named_children(&mut c));
        let line = node.start_position().row + 1;
        match node.kind() {
            "await" if !in_coroutine(node) => out.push((line, "`await` outside a coroutine")),
            "for_statement" | "with_statement"
                if starts_with_async(node) && !in_coroutine(node) =>
            {
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
    out
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

    fn errors(src: &str) -> Vec<&'static str> {
        compile_errors(&parse(src).unwrap(), src)
            .into_iter()
            .map(|(_, w)| w)
            .collect()
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
