//! Annotations read as a type checker reads them, as far as receivers need: `X`,
//! `Optional[X]`, `X | None`, `Union[X, None]`, string forward references (whole or in
//! part), and generics (`list[X]`, `tuple[X, ...]`, `Conn[Any]`). The parse is of the text as
//! written; what each name stands for is resolved by the matcher, in the annotation's module.

/// An annotation's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ann<'a> {
    /// A dotted name (`Conn`, `logging.Logger`).
    Name(&'a str),
    None,
    /// `head[args]`.
    Generic(&'a str, Vec<Ann<'a>>),
    /// `A | B`.
    Union(Vec<Ann<'a>>),
    /// Anything else (`...`, a literal, `Callable[[int], str]`'s argument list): says nothing.
    Other,
}

pub fn parse(text: &str) -> Ann<'_> {
    let s = text.trim();
    if s.is_empty() {
        return Ann::Other;
    }
    let members = split_top(s, b'|');
    if members.len() > 1 {
        return Ann::Union(members.into_iter().map(parse).collect());
    }
    let quoted = s.len() >= 2
        && (s.starts_with('"') || s.starts_with('\''))
        && s.ends_with(&s[..1])
        && !s.starts_with("\"\"\"");
    if quoted {
        return parse(&s[1..s.len() - 1]);
    }
    if s == "None" {
        return Ann::None;
    }
    if let (Some(open), true) = (s.find('['), s.ends_with(']')) {
        let head = s[..open].trim();
        if dotted(head) {
            let args = split_top(&s[open + 1..s.len() - 1], b',');
            return Ann::Generic(head, args.into_iter().map(parse).collect());
        }
        return Ann::Other;
    }
    if dotted(s) { Ann::Name(s) } else { Ann::Other }
}

fn dotted(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && !s.ends_with('.')
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
}

/// `s` split at `sep` outside brackets and quotes.
fn split_top(s: &str, sep: u8) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    for (i, b) in s.bytes().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'[' | b'(' | b'{') => depth += 1,
            (None, b']' | b')' | b'}') => depth -= 1,
            (None, _) if b == sep && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// The last segment of a `typing` (or `collections.abc`, builtin) generic's qualified name:
/// `typing.Optional` is `Optional`, `builtins.list` is `list`. `None` for other modules.
pub fn typing_name(q: &str) -> Option<&str> {
    [
        "typing.",
        "typing_extensions.",
        "collections.abc.",
        "builtins.",
        "collections.",
    ]
    .iter()
    .find_map(|m| q.strip_prefix(m))
    .filter(|n| !n.contains('.'))
}

/// Builtin containers whose iteration (or indexing) yields their first argument. Not the
/// abstract ones (`Iterator[X]`, `Iterable[X]`, `Sequence[X]`): a project class may stand
/// for them, and iterating it calls its `__iter__` and `__next__`.
pub const SEQUENCES: &[&str] = &[
    "list",
    "List",
    "set",
    "Set",
    "frozenset",
    "FrozenSet",
    "deque",
    "Deque",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_unions_forward_references_and_generics_parse() {
        assert_eq!(parse("Conn"), Ann::Name("Conn"));
        assert_eq!(parse("'Conn'"), Ann::Name("Conn"));
        assert_eq!(
            parse("Conn | None"),
            Ann::Union(vec![Ann::Name("Conn"), Ann::None])
        );
        assert_eq!(
            parse("\"Optional['db.Conn']\""),
            Ann::Generic("Optional", vec![Ann::Name("db.Conn")])
        );
        assert_eq!(
            parse("dict[str, list[Conn]]"),
            Ann::Generic(
                "dict",
                vec![
                    Ann::Name("str"),
                    Ann::Generic("list", vec![Ann::Name("Conn")])
                ]
            )
        );
        assert_eq!(
            parse("Callable[[int], str]"),
            Ann::Generic("Callable", vec![Ann::Other, Ann::Name("str")])
        );
        assert_eq!(parse("tuple[int, ...]").clone(), {
            Ann::Generic("tuple", vec![Ann::Name("int"), Ann::Other])
        });
        assert_eq!(parse("3"), Ann::Other);
    }
}
