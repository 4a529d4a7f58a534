//! The arguments of a call, read once: its positional arguments and its keywords, so that a
//! pass asks for `target` or the second positional argument instead of walking the
//! `argument_list` itself.

use crate::parse::text;
use tree_sitter::Node;

pub struct Args<'a> {
    /// The positional arguments, without `*args`/`**kwargs` and comments.
    pub positional: Vec<Node<'a>>,
    /// `name=value`, in the order written.
    pub keywords: Vec<(&'a str, Node<'a>)>,
    /// Whether some argument is `*args` or `**kwargs`, which may hold any of the others.
    pub splat: bool,
}

impl<'a> Args<'a> {
    /// The arguments of `call`; `None` when it has no plain argument list (a generator
    /// argument) or a keyword cannot be read.
    pub fn of(call: Node<'a>, src: &'a str) -> Option<Args<'a>> {
        let list = call
            .child_by_field_name("arguments")
            .filter(|l| l.kind() == "argument_list")?;
        let mut a = Args {
            positional: Vec::new(),
            keywords: Vec::new(),
            splat: false,
        };
        let mut cursor = list.walk();
        for n in list.named_children(&mut cursor) {
            match n.kind() {
                "keyword_argument" => {
                    let name = n.child_by_field_name("name")?;
                    let value = n.child_by_field_name("value")?;
                    a.keywords.push((text(name, src), value));
                }
                "list_splat" | "dictionary_splat" => a.splat = true,
                "comment" => {}
                _ => a.positional.push(n),
            }
        }
        Some(a)
    }

    /// The `i`-th positional argument.
    pub fn positional(&self, i: usize) -> Option<Node<'a>> {
        self.positional.get(i).copied()
    }

    /// The value of keyword `name`.
    pub fn keyword(&self, name: &str) -> Option<Node<'a>> {
        self.keywords
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    }

    /// The argument passed by keyword `name` or else at position `pos`.
    pub fn get(&self, pos: Option<usize>, name: &str) -> Option<Node<'a>> {
        self.keyword(name)
            .or_else(|| pos.and_then(|p| self.positional(p)))
    }
}
