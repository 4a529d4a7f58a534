//! tree-sitter-python parsing, and the error count that decides whether a file is safe to edit.

use std::cell::RefCell;
use tree_sitter::{Node, Parser, Tree};

thread_local! {
    // One parser per rayon worker: creating a parser is cheap, but not free per file.
    static PARSER: RefCell<Parser> = RefCell::new(new_parser());
}

fn new_parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .expect("tree-sitter-python is compatible with the linked tree-sitter");
    parser
}

/// Parses Python source. `None` only if tree-sitter gives up (it never does without a timeout).
pub fn parse(text: &str) -> Option<Tree> {
    PARSER.with(|p| p.borrow_mut().parse(text, None))
}

/// Parses `text`, reusing the parts of `old` that its edits (already applied with
/// `Tree::edit`) did not touch.
pub fn reparse(text: &str, old: &Tree) -> Option<Tree> {
    PARSER.with(|p| p.borrow_mut().parse(text, Some(old)))
}

/// Number of ERROR and MISSING nodes: zero means the file parsed cleanly.
pub fn error_count(tree: &Tree) -> usize {
    if !tree.root_node().has_error() {
        return 0;
    }
    let mut count = 0;
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            count += 1;
        }
        if node.has_error() {
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
    }
    count
}

/// The first ERROR or MISSING node, for the diagnostic's position.
pub fn first_error(tree: &Tree) -> Option<Node<'_>> {
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            return Some(node);
        }
        if node.has_error() {
            let mut cursor = node.walk();
            let mut kids: Vec<_> = node.children(&mut cursor).collect();
            kids.reverse();
            stack.extend(kids);
        }
    }
    None
}

/// Where a node sits in the source: tree-sitter's nodes and the compact syntax's
/// ([`crate::syntax::Node`]) both have it, so [`text`] and [`line()`] serve both.
pub trait Spanned {
    fn byte_range(&self) -> std::ops::Range<usize>;
    fn start_position(&self) -> tree_sitter::Point;
}

impl Spanned for Node<'_> {
    fn byte_range(&self) -> std::ops::Range<usize> {
        Node::byte_range(self)
    }

    fn start_position(&self) -> tree_sitter::Point {
        Node::start_position(self)
    }
}

impl Spanned for crate::syntax::Node<'_> {
    fn byte_range(&self) -> std::ops::Range<usize> {
        crate::syntax::Node::byte_range(self)
    }

    fn start_position(&self) -> tree_sitter::Point {
        crate::syntax::Node::start_position(self)
    }
}

/// The little of a node's shape that name resolution reads, for both node types: an
/// attribute chain is resolved the same whether the pass or the matcher holds it.
pub trait TreeNode: Spanned + Copy {
    fn kind(&self) -> &str;
    fn field(&self, name: &str) -> Option<Self>;
}

impl TreeNode for Node<'_> {
    fn kind(&self) -> &str {
        Node::kind(self)
    }

    fn field(&self, name: &str) -> Option<Self> {
        self.child_by_field_name(name)
    }
}

impl TreeNode for crate::syntax::Node<'_> {
    fn kind(&self) -> &str {
        crate::syntax::Node::kind(self)
    }

    fn field(&self, name: &str) -> Option<Self> {
        self.child_by_field_name(name)
    }
}

/// The names of a dotted expression (`a.b.c` -> `[a, b, c]`); `None` for anything but an
/// identifier or a chain of attributes on one.
pub fn dotted_parts<N: TreeNode>(node: N, src: &str) -> Option<Vec<&str>> {
    match node.kind() {
        "identifier" => Some(vec![text(node, src)]),
        "attribute" => {
            let mut parts = dotted_parts(node.field("object")?, src)?;
            parts.push(text(node.field("attribute")?, src));
            Some(parts)
        }
        _ => None,
    }
}

/// Text of a node.
pub fn text(node: impl Spanned, src: &str) -> &str {
    &src[node.byte_range()]
}

/// 1-based line of a node's start.
pub fn line(node: impl Spanned) -> usize {
    node.start_position().row + 1
}

/// Whether a node of this kind opens a scope of its own (a function, a lambda, a class body,
/// a comprehension): code in it may run later than the statement around it, or not at all.
pub fn opens_scope(kind: &str) -> bool {
    matches!(
        kind,
        "function_definition"
            | "lambda"
            | "class_definition"
            | "generator_expression"
            | "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_errors() {
        assert_eq!(error_count(&parse("def f():\n    return 1\n").unwrap()), 0);
        assert!(error_count(&parse("def f(:\n").unwrap()) > 0);
    }
}
