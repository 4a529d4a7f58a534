//! Byte-range edits and their conflict-free application.
//!
//! Passes never touch text: they return [`Edit`]s against the original source. Insertions at
//! the same offset are ordered by `rank` so that nested rewrites compose, e.g. the outer
//! `(await ` of `(await (await c.execute(q)).fetchone())` comes before the inner one.

use std::fmt;

/// Which pass or rule an [`Edit`] comes from. Conflict and verification reports name it by
/// [`Origin::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    AsyncDef,
    AsyncFor,
    AsyncTest,
    AsyncWith,
    AwaitCall,
    CatalogAttribute,
    CatalogCall,
    CatalogName,
    DanglingTask,
    DeprecatedLoopApi,
    EntryPoint,
    Files,
    GenexpToList,
    Imports,
    JsonIo,
    NeverAwaited,
    Reindent,
    Requests,
    RequestsClient,
    Sockets,
    SqliteTransaction,
    Subprocess,
    SwallowedCancellation,
    Threads,
    ToThread,
    /// A family pass of the registry that has no origin of its own (`redis`).
    Family(crate::passes::PassName),
}

impl Origin {
    /// The name reports use (the pass's or rule's id).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::AsyncDef => "async-def",
            Origin::AsyncFor => "async-for",
            Origin::AsyncTest => "async-test",
            Origin::AsyncWith => "async-with",
            Origin::AwaitCall => "await-call",
            Origin::CatalogAttribute => "catalog-attribute",
            Origin::CatalogCall => "catalog-call",
            Origin::CatalogName => "catalog-name",
            Origin::DanglingTask => "dangling-task",
            Origin::DeprecatedLoopApi => "deprecated-loop-api",
            Origin::EntryPoint => "entry-point",
            Origin::Files => "files",
            Origin::GenexpToList => "genexp-to-list",
            Origin::Imports => "imports",
            Origin::JsonIo => "json-io",
            Origin::NeverAwaited => "never-awaited",
            Origin::Reindent => "reindent",
            Origin::Requests => "requests",
            Origin::RequestsClient => "requests-client",
            Origin::Sockets => "sockets",
            Origin::SqliteTransaction => "sqlite-transaction",
            Origin::Subprocess => "subprocess",
            Origin::SwallowedCancellation => "swallowed-cancellation",
            Origin::Threads => "threads",
            Origin::ToThread => "to-thread",
            Origin::Family(p) => p.as_str(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Replace `start..end` of the original text with `text`. `start == end` is an insertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// Orders insertions at one offset: lower first.
    pub rank: i64,
    /// The pass or rule that produced the edit, for conflict reports.
    pub origin: Origin,
}

impl Edit {
    pub fn replace(start: usize, end: usize, text: impl Into<String>, origin: Origin) -> Edit {
        Edit {
            start,
            end,
            text: text.into(),
            rank: 0,
            origin,
        }
    }

    pub fn insert(at: usize, text: impl Into<String>, origin: Origin) -> Edit {
        Edit {
            start: at,
            end: at,
            text: text.into(),
            rank: 0,
            origin,
        }
    }

    /// An opening insertion before a node spanning `len` bytes: wider nodes open first.
    pub fn open(at: usize, len: usize, text: impl Into<String>, origin: Origin) -> Edit {
        Edit {
            start: at,
            end: at,
            text: text.into(),
            rank: 1_000_000_000 - len as i64,
            origin,
        }
    }

    /// A closing insertion after a node spanning `len` bytes: narrower nodes close first.
    pub fn close(at: usize, len: usize, text: impl Into<String>, origin: Origin) -> Edit {
        Edit {
            start: at,
            end: at,
            text: text.into(),
            rank: -1_000_000_000 + len as i64,
            origin,
        }
    }

    fn is_insert(&self) -> bool {
        self.start == self.end
    }
}

/// Lines that move one indentation level in because a pass wraps them in a new block
/// (`async with client:`). The edit layer ([`reindent`]) indents every edit inside, whichever
/// pass made it, so that no pass rewrites another's edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reindent {
    pub start: usize,
    pub end: usize,
    /// One indentation level.
    pub unit: String,
    /// The line starts inside that move: not blank, not inside a multi-line string.
    pub lines: Vec<usize>,
    /// The block's header, inserted at `start` before anything else there.
    pub header: String,
    pub origin: Origin,
}

/// Applies `regions`, inner ones first, to `edits`: the text inserted inside a region gets
/// the extra level after each newline, and each of its lines that no edit deletes gets an
/// indentation insertion. A region's own edits are added after it is applied, so an outer
/// region indents an inner one's header too.
pub fn reindent(src: &str, edits: &mut Vec<Edit>, regions: &[Reindent]) {
    for r in regions {
        let deleted: std::collections::BTreeSet<usize> = edits
            .iter()
            .filter(|e| e.text.is_empty() && e.end > e.start && src[e.start..e.end].ends_with('\n'))
            .filter(|e| e.start == 0 || src.as_bytes()[e.start - 1] == b'\n')
            .map(|e| e.start)
            .collect();
        for e in edits.iter_mut() {
            if r.start <= e.start && e.end <= r.end {
                e.text = indent_after_newlines(&e.text, &r.unit);
            }
        }
        for &at in r.lines.iter().filter(|at| !deleted.contains(at)) {
            edits.push(Edit {
                rank: -1_500_000_000,
                ..Edit::insert(at, r.unit.clone(), r.origin)
            });
        }
        // Before anything else inserted at the first line (`await`, `async def`).
        edits.push(Edit {
            rank: -2_000_000_000,
            ..Edit::insert(r.start, r.header.clone(), r.origin)
        });
    }
}

/// Adds `unit` after every newline of `text` that a non-empty line follows.
fn indent_after_newlines(text: &str, unit: &str) -> String {
    let mut s = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('\n') {
        s.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        if !rest.is_empty() && !rest.starts_with(['\n', '\r']) {
            s.push_str(unit);
        }
    }
    s.push_str(rest);
    s
}

/// Two edits that both want to change the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// `None` when the conflict is with the first edit.
    pub first: Option<Origin>,
    pub second: Origin,
    pub offset: usize,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "edits from `{}` and `{}` overlap at byte {}",
            self.first.map_or("?", Origin::as_str),
            self.second,
            self.offset
        )
    }
}

/// Sorts the edits and applies them in one pass. Identical duplicates are merged; any
/// other overlap is a conflict (a bug in a pass), reported rather than guessed at.
/// The edits in the order [`apply`] applies them, duplicates removed.
pub fn in_order(mut edits: Vec<Edit>) -> Vec<Edit> {
    edits.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            // At one offset, insertions go before a replacement that starts there.
            .then_with(|| b.is_insert().cmp(&a.is_insert()))
            .then(a.rank.cmp(&b.rank))
            .then(a.end.cmp(&b.end))
    });
    edits.dedup();
    edits
}

pub fn apply(src: &str, edits: Vec<Edit>) -> Result<String, Conflict> {
    let edits = in_order(edits);
    let mut out = String::with_capacity(src.len() + 64);
    let mut pos = 0;
    let mut last: Option<&Edit> = None;
    for edit in &edits {
        if edit.start < pos {
            return Err(Conflict {
                first: last.map(|e| e.origin),
                second: edit.origin,
                offset: edit.start,
            });
        }
        out.push_str(&src[pos..edit.start]);
        out.push_str(&edit.text);
        pos = edit.end;
        last = Some(edit);
    }
    out.push_str(&src[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_parens_compose() {
        // c.execute(q).fetchone()[0] with both calls awaited.
        let src = "c.execute(q).fetchone()[0]";
        let outer = 0..23;
        let inner = 0..12;
        let edits = vec![
            Edit::open(inner.start, inner.len(), "(await ", Origin::AwaitCall),
            Edit::close(inner.end, inner.len(), ")", Origin::AwaitCall),
            Edit::open(outer.start, outer.len(), "(await ", Origin::AwaitCall),
            Edit::close(outer.end, outer.len(), ")", Origin::AwaitCall),
        ];
        assert_eq!(
            apply(src, edits).unwrap(),
            "(await (await c.execute(q)).fetchone())[0]"
        );
    }

    #[test]
    fn insert_before_replacement_at_same_offset() {
        let edits = vec![
            Edit::replace(0, 10, "asyncio.sleep", Origin::CatalogCall),
            Edit::open(0, 13, "await ", Origin::AwaitCall),
        ];
        assert_eq!(
            apply("time.sleep(1)", edits).unwrap(),
            "await asyncio.sleep(1)"
        );
    }

    #[test]
    fn a_reindented_region_indents_every_edit_inside_it() {
        let src = "def f():\n    a = g()\n    x = 1\n    b = h()\n";
        let mut edits = vec![
            // Another pass's `await`, a deleted line and a multi-line insertion.
            Edit::open(17, 3, "await ", Origin::AwaitCall),
            Edit::replace(21, 31, "", Origin::Threads),
            Edit::insert(42, "\n    print(b)", Origin::Threads),
        ];
        let before = edits.clone();
        let region = Reindent {
            start: 13,
            end: 42,
            unit: "    ".into(),
            lines: vec![21, 31],
            header: "async with C() as client:\n        ".into(),
            origin: Origin::RequestsClient,
        };
        reindent(src, &mut edits, &[region]);
        assert_eq!(
            apply(src, edits.clone()).unwrap(),
            "def f():\n    async with C() as client:\n        a = await g()\n        b = h()\n        print(b)\n"
        );
        // Only the text of the multi-line insertion changes; its owner and range stay.
        assert_eq!(edits[..2], before[..2]);
        assert_eq!(edits[2].origin, Origin::Threads);
    }

    #[test]
    fn overlap_is_a_conflict() {
        let edits = vec![
            Edit::replace(0, 4, "a", Origin::Threads),
            Edit::replace(2, 6, "b", Origin::Sockets),
        ];
        assert_eq!(apply("abcdefg", edits).unwrap_err().second, Origin::Sockets);
    }

    #[test]
    fn duplicates_merge() {
        let e = Edit::insert(0, "import asyncio\n", Origin::Imports);
        assert_eq!(
            apply("x\n", vec![e.clone(), e]).unwrap(),
            "import asyncio\nx\n"
        );
    }
}
