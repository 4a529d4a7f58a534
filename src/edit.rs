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
