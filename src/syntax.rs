//! A compact, read-only copy of a tree-sitter tree, built once per module after parsing.
//!
//! The knowledge fixed point walks a module's syntax several times. A tree-sitter tree costs
//! about 30 bytes of memory per byte of source and every step through it is a call into C that
//! re-derives hidden nodes; this copy keeps the named nodes (but a string's delimiters and text)
//! and the few anonymous tokens the analysis reads ([`KEPT_TOKENS`]) in one preorder array of
//! 12-byte entries, so a walk is a loop over memory and the tree-sitter tree can be dropped right
//! after indexing.
//! Between the fixed point's rounds a module keeps it packed in about 5 bytes a node
//! ([`PackedSyntax`]), and a round unpacks the modules it walks.
//!
//! [`Node`] offers the subset of `tree_sitter::Node`'s API the matcher and the index use, with
//! the same meaning over the kept nodes, so they read like any tree-sitter code. `parent()` is
//! found by descending from the root (no parent pointers, to keep entries small): fine for the
//! few places that ask, not for a walk over every node.

use std::sync::OnceLock;
use tree_sitter::{Point, Tree};

/// Anonymous tokens the analysis looks at: `async for`/`async with`/`async def`, the `for` of a
/// loop or comprehension, `yield from`, the operators with a catalog dunder (`Path / "x"`), and
/// `or` (`x or Default()` has the kind both sides have).
/// Every other anonymous token (punctuation, other keywords and operators) is left out.
pub const KEPT_TOKENS: &[&str] = &["async", "for", "from", "/", "+", "or"];

/// Named nodes nothing reads: the delimiters and literal text inside a string (its
/// `interpolation`s are kept, they hold expressions).
pub const DROPPED_KINDS: &[&str] = &[
    "string_start",
    "string_content",
    "string_end",
    "escape_sequence",
];

/// One node: 12 bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Raw {
    kind: u16,
    /// Field id within its parent (0: none).
    field: u8,
    /// Nodes in this subtree, this one included; [`BIG`] if there are that many or more, and
    /// the subtree's end is then in [`Syntax::big`]. Most subtrees are small, and four bytes
    /// more per node would be a quarter of the syntax's memory.
    size: u8,
    start: u32,
    end: u32,
}

const BIG: u8 = u8::MAX;

/// The syntax of one module. The default is an empty stand-in that must not be walked.
#[derive(Default, PartialEq)]
pub struct Syntax {
    nodes: Vec<Raw>,
    /// `(node, one past the last node of its subtree)` for the subtrees of [`BIG`] nodes or
    /// more, by node.
    big: Vec<(u32, u32)>,
    /// Byte offset of each line's start, for row/column positions.
    line_starts: Vec<u32>,
}

struct Language {
    kinds: Vec<&'static str>,
    named: Vec<bool>,
    /// Named kinds but [`DROPPED_KINDS`], and [`KEPT_TOKENS`].
    kept: Vec<bool>,
    /// A kept kind's one-byte code in a [`PackedSyntax`], by kind id, and back.
    code: Vec<u8>,
    kinds_by_code: Vec<u16>,
    /// Field ids by name: looked up for every `child_by_field_name`.
    fields: rustc_hash::FxHashMap<&'static str, u8>,
}

fn language() -> &'static Language {
    static LANG: OnceLock<Language> = OnceLock::new();
    LANG.get_or_init(|| {
        // Once per process: the names it hands out live as long as the language.
        let lang: &'static tree_sitter::Language =
            Box::leak(Box::new(tree_sitter_python::LANGUAGE.into()));
        let n = lang.node_kind_count();
        let kinds: Vec<&'static str> = (0..n as u16)
            .map(|id| lang.node_kind_for_id(id).unwrap_or(""))
            .collect();
        let named: Vec<bool> = (0..n as u16)
            .map(|id| lang.node_kind_is_named(id))
            .collect();
        let kept: Vec<bool> = kinds
            .iter()
            .zip(&named)
            .map(|(k, &named)| {
                (named && !DROPPED_KINDS.contains(k)) || (!named && KEPT_TOKENS.contains(k))
            })
            .collect();
        let kinds_by_code: Vec<u16> = (0..n as u16).filter(|&id| kept[id as usize]).collect();
        let mut code = vec![0u8; n];
        for (c, &id) in kinds_by_code.iter().enumerate() {
            code[id as usize] = u8::try_from(c).expect("fewer than 256 kept node kinds");
        }
        let fields = (1..=lang.field_count() as u16)
            .filter_map(|id| Some((lang.field_name_for_id(id)?, u8::try_from(id).ok()?)))
            .collect();
        Language {
            kinds,
            named,
            kept,
            code,
            kinds_by_code,
            fields,
        }
    })
}

impl Syntax {
    /// Copies the named nodes (but [`DROPPED_KINDS`]) and [`KEPT_TOKENS`] of `tree`.
    pub fn new(tree: &Tree, src: &str) -> Syntax {
        let lang = language();
        let mut nodes: Vec<Raw> = Vec::with_capacity(src.len() / 6);
        let mut big: Vec<(u32, u32)> = Vec::new();
        let mut open: Vec<u32> = Vec::new();
        let mut close = |nodes: &mut Vec<Raw>, p: u32| {
            let end = nodes.len() as u32;
            match u8::try_from(end - p) {
                Ok(size) if size < BIG => nodes[p as usize].size = size,
                _ => {
                    nodes[p as usize].size = BIG;
                    big.push((p, end));
                }
            }
        };
        let mut cursor = tree.walk();
        'outer: loop {
            let n = cursor.node();
            let kind = n.kind_id();
            if lang.kept.get(kind as usize) == Some(&true) {
                let i = nodes.len() as u32;
                nodes.push(Raw {
                    kind,
                    field: cursor
                        .field_id()
                        .and_then(|f| u8::try_from(f.get()).ok())
                        .unwrap_or(0),
                    size: 1,
                    start: n.start_byte() as u32,
                    end: n.end_byte() as u32,
                });
                if cursor.goto_first_child() {
                    open.push(i);
                    continue;
                }
            }
            // Tokens have no children.
            loop {
                if cursor.goto_next_sibling() {
                    continue 'outer;
                }
                if !cursor.goto_parent() {
                    break 'outer;
                }
                if let Some(p) = open.pop() {
                    close(&mut nodes, p);
                }
            }
        }
        while let Some(p) = open.pop() {
            close(&mut nodes, p);
        }
        nodes.shrink_to_fit();
        big.sort_unstable();
        big.shrink_to_fit();
        Syntax {
            nodes,
            big,
            line_starts: line_starts(src),
        }
    }

    /// The form a module keeps between the fixed point's rounds.
    pub fn pack(&self) -> PackedSyntax {
        let lang = language();
        let mut bytes = Vec::with_capacity(self.nodes.len() * 6);
        let mut prev = 0u32;
        for n in &self.nodes {
            bytes.extend([lang.code[n.kind as usize], n.field, n.size]);
            // Preorder starts never decrease; wrapping keeps any order exact all the same.
            put_varint(&mut bytes, n.start.wrapping_sub(prev));
            put_varint(&mut bytes, n.end - n.start);
            prev = n.start;
        }
        bytes.shrink_to_fit();
        PackedSyntax {
            bytes,
            nodes: self.nodes.len() as u32,
            big: self.big.clone(),
        }
    }

    /// One past the last node of node `i`'s subtree (preorder).
    fn subtree_end(&self, i: u32) -> u32 {
        match self.nodes[i as usize].size {
            BIG => {
                let at = self.big.partition_point(|&(j, _)| j < i);
                self.big[at].1
            }
            size => i + u32::from(size),
        }
    }

    pub fn root_node(&self) -> Node<'_> {
        Node { s: self, i: 0 }
    }
}

fn line_starts(src: &str) -> Vec<u32> {
    let mut starts = vec![0u32];
    starts.extend(memchr::memchr_iter(b'\n', src.as_bytes()).map(|i| i as u32 + 1));
    starts.shrink_to_fit();
    starts
}

/// A [`Syntax`] as a module keeps it between the fixed point's rounds: per node its kind,
/// field and size (a byte each), then its start (from the previous node's) and its length as
/// LEB128 varints. That is about 5 bytes where a node of [`Syntax`] takes 12, and the syntax
/// is the largest thing the fixed point holds. A round unpacks only the modules it walks
/// again, in well under a millisecond for most; the line table is rebuilt from the source.
#[derive(Default)]
pub struct PackedSyntax {
    bytes: Vec<u8>,
    nodes: u32,
    big: Vec<(u32, u32)>,
}

impl PackedSyntax {
    /// Dropped (every parsed module has at least its root node).
    pub fn is_empty(&self) -> bool {
        self.nodes == 0
    }

    pub fn unpack(&self, src: &str) -> Syntax {
        let lang = language();
        let b = &self.bytes;
        let mut nodes = Vec::with_capacity(self.nodes as usize);
        let (mut at, mut start) = (0, 0u32);
        while at < b.len() {
            let (kind, field, size) = (lang.kinds_by_code[b[at] as usize], b[at + 1], b[at + 2]);
            at += 3;
            start = start.wrapping_add(get_varint(b, &mut at));
            let end = start + get_varint(b, &mut at);
            nodes.push(Raw {
                kind,
                field,
                size,
                start,
                end,
            });
        }
        Syntax {
            nodes,
            big: self.big.clone(),
            line_starts: line_starts(src),
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(b: &[u8], at: &mut usize) -> u32 {
    let (mut v, mut shift) = (0u32, 0);
    loop {
        let x = b[*at];
        *at += 1;
        v |= u32::from(x & 0x7f) << shift;
        if x < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// A node of a [`Syntax`]; `Copy`, like `tree_sitter::Node`.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    s: &'a Syntax,
    i: u32,
}

impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.i == other.i && std::ptr::eq(self.s, other.s)
    }
}

impl Eq for Node<'_> {}

impl std::fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} [{}..{}]",
            self.kind(),
            self.start_byte(),
            self.end_byte()
        )
    }
}

/// Stands in for `tree_sitter::TreeCursor` in the `children(&mut cursor)` idiom; iteration
/// here needs no state.
pub struct Cursor;

impl<'a> Node<'a> {
    fn raw(&self) -> &'a Raw {
        &self.s.nodes[self.i as usize]
    }

    pub fn id(&self) -> usize {
        self.i as usize
    }

    pub fn kind(&self) -> &'static str {
        language().kinds[self.raw().kind as usize]
    }

    pub fn is_named(&self) -> bool {
        language().named[self.raw().kind as usize]
    }

    pub fn start_byte(&self) -> usize {
        self.raw().start as usize
    }

    pub fn end_byte(&self) -> usize {
        self.raw().end as usize
    }

    pub fn byte_range(&self) -> std::ops::Range<usize> {
        self.start_byte()..self.end_byte()
    }

    /// Row and byte column, as tree-sitter counts them.
    pub fn start_position(&self) -> Point {
        let at = self.raw().start;
        let row = self.s.line_starts.partition_point(|&s| s <= at) - 1;
        Point {
            row,
            column: (at - self.s.line_starts[row]) as usize,
        }
    }

    /// The parent, found by descending from the root through the children whose subtree
    /// holds this node.
    pub fn parent(&self) -> Option<Node<'a>> {
        let mut cur = self.s.root_node();
        if self.i == 0 {
            return None;
        }
        loop {
            let next = cur
                .children(&mut Cursor)
                .find(|c| c.i <= self.i && self.i < self.s.subtree_end(c.i))?;
            if next.i == self.i {
                return Some(cur);
            }
            cur = next;
        }
    }

    pub fn walk(&self) -> Cursor {
        Cursor
    }

    /// Every kept child: named nodes, keywords and field tokens.
    pub fn children(&self, _cursor: &mut Cursor) -> Children<'a> {
        Children {
            s: self.s,
            next: self.i + 1,
            end: self.s.subtree_end(self.i),
        }
    }

    pub fn named_children(&self, cursor: &mut Cursor) -> impl Iterator<Item = Node<'a>> + use<'a> {
        self.children(cursor).filter(|c| c.is_named())
    }

    pub fn child(&self, i: usize) -> Option<Node<'a>> {
        self.children(&mut Cursor).nth(i)
    }

    pub fn named_child(&self, i: usize) -> Option<Node<'a>> {
        self.named_children(&mut Cursor).nth(i)
    }

    pub fn named_child_count(&self) -> usize {
        self.named_children(&mut Cursor).count()
    }

    pub fn child_by_field_name(&self, name: &str) -> Option<Node<'a>> {
        self.children_by_field_name(name, &mut Cursor).next()
    }

    pub fn children_by_field_name(
        &self,
        name: &str,
        cursor: &mut Cursor,
    ) -> impl Iterator<Item = Node<'a>> + use<'a> {
        let id = language().fields.get(name).copied();
        // A misspelt field would silently find nothing; tests/grammar_names.rs checks the
        // literals in `src/`, this catches computed names.
        debug_assert!(
            id.is_some(),
            "`{name}` is not a field of tree-sitter-python"
        );
        let id = id.unwrap_or(u8::MAX);
        self.children(cursor).filter(move |c| c.raw().field == id)
    }
}

pub struct Children<'a> {
    s: &'a Syntax,
    next: u32,
    end: u32,
}

impl<'a> Iterator for Children<'a> {
    type Item = Node<'a>;

    fn next(&mut self) -> Option<Node<'a>> {
        if self.next >= self.end {
            return None;
        }
        let n = Node {
            s: self.s,
            i: self.next,
        };
        self.next = self.s.subtree_end(self.next);
        Some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One line of an outline: kind, field, range, position and the parent's range.
    fn entry(
        kind: &str,
        field: Option<&str>,
        n: impl crate::parse::Spanned,
        parent: Option<impl crate::parse::Spanned>,
    ) -> String {
        format!(
            "{kind} {field:?} {:?} {:?} {:?}",
            n.byte_range(),
            n.start_position(),
            parent.map(|p| p.byte_range())
        )
    }

    /// Every kept node, with its field, position and parent, as tree-sitter has it.
    fn outline_ts(n: tree_sitter::Node, field: Option<&str>, out: &mut Vec<String>) {
        if language().kept[n.kind_id() as usize] {
            out.push(entry(n.kind(), field, n, n.parent()));
        }
        let mut c = n.walk();
        if c.goto_first_child() {
            loop {
                outline_ts(c.node(), c.field_name(), out);
                if !c.goto_next_sibling() {
                    break;
                }
            }
        }
    }

    fn outline(n: Node, field: Option<&str>, out: &mut Vec<String>) {
        out.push(entry(n.kind(), field, n, n.parent()));
        for c in n.children(&mut n.walk()) {
            let f = language()
                .fields
                .iter()
                .find(|(_, id)| **id == c.raw().field)
                .map(|(name, _)| *name);
            outline(c, f, out);
        }
    }

    #[test]
    fn same_nodes_fields_and_positions_as_tree_sitter() {
        let src = "import os\ny = -(a / b) + c % d\n\nasync def f(a, b=1, *c, **d) -> int:\n    async with x as y, z:\n        async for i in y:\n            await g(i, k=[j for j in i if j])\n    return (lambda q: q)(a)\n\n\nclass C(B, metaclass=M):\n    @property\n    def p(self):\n        from . import z\n        return self.z\r\nx = 'é' + f\"{a!r}\"\n\ndef g():\n    yield from range(3)\n    for i in x: pass\n";
        let tree = crate::parse::parse(src).unwrap();
        let syntax = Syntax::new(&tree, src);
        let (mut want, mut got) = (Vec::new(), Vec::new());
        outline_ts(tree.root_node(), None, &mut want);
        outline(syntax.root_node(), None, &mut got);
        assert_eq!(got, want);
        let root = syntax.root_node();
        let def = root.named_child(2).unwrap();
        assert_eq!(def.kind(), "function_definition");
        assert_eq!(def.child(0).unwrap().kind(), "async");
        let ts_def = tree.root_node().named_child(2).unwrap();
        for field in ["name", "parameters", "return_type", "body"] {
            assert_eq!(
                def.child_by_field_name(field).map(|n| n.byte_range()),
                ts_def.child_by_field_name(field).map(|n| n.byte_range()),
                "{field}"
            );
        }
        assert_eq!(
            def.child_by_field_name("parameters")
                .unwrap()
                .named_child_count(),
            4
        );
    }

    #[test]
    fn packing_keeps_every_node_and_offset() {
        // Subtrees of 255 nodes or more (the side table), offsets past 2^21 (four-byte
        // varints), a CRLF line and non-ASCII text.
        let mut src = String::from("x = 'é'\r\ndef f():\n    return [\n");
        for i in 0..300 {
            src.push_str(&format!("        g({i}, k=h.a),\n"));
        }
        src.push_str("    ]\n");
        src.push_str(&format!(
            "s = '{}'\nclass C(B):\n    y = f()\n",
            "a".repeat(3_000_000)
        ));
        let tree = crate::parse::parse(&src).unwrap();
        let syntax = Syntax::new(&tree, &src);
        assert!(!syntax.big.is_empty());
        assert!(syntax.nodes.last().unwrap().start > 1 << 21);
        let packed = syntax.pack();
        assert!(
            packed.bytes.len() < syntax.nodes.len() * 7,
            "{}",
            packed.bytes.len()
        );
        let back = packed.unpack(&src);
        assert!(back == syntax);
        let (mut want, mut got) = (Vec::new(), Vec::new());
        outline_ts(tree.root_node(), None, &mut want);
        outline(back.root_node(), None, &mut got);
        assert_eq!(got, want);
    }
}
