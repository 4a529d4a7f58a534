//! Byte-range edits and their conflict-free application.
//!
//! Passes never touch text: they return [`Edit`]s against the original source. Insertions at
//! the same offset are ordered by `rank` so that nested rewrites compose, e.g. the outer
//! `(await ` of `(await (await c.execute(q)).fetchone())` comes before the inner one.

use std::fmt;

/// Replace `start..end` of the original text with `text`. `start == end` is an insertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// Orders insertions at one offset: lower first.
    pub rank: i64,
    /// The pass or rule that produced the edit, for conflict reports.
    pub origin: &'static str,
}

impl Edit {
    pub fn replace(
        start: usize,
        end: usize,
        text: impl Into<String>,
        origin: &'static str,
    ) -> Edit {
        Edit {
            start,
            end,
            text: text.into(),
            rank: 0,
            origin,
        }
    }

    pub fn insert(at: usize, text: impl Into<String>, origin: &'static str) -> Edit {
        Edit {
            start: at,
            end: at,
            text: text.into(),
            rank: 0,
            origin,
        }
    }

    /// An opening insertion before a node spanning `len` bytes: wider nodes open first.
    pub fn open(at: usize, len: usize, text: impl Into<String>, origin: &'static str) -> Edit {
        Edit {
            start: at,
            end: at,
            text: text.into(),
            rank: 1_000_000_000 - len as i64,
            origin,
        }
    }

    /// A closing insertion after a node spanning `len` bytes: narrower nodes close first.
    pub fn close(at: usize, len: usize, text: impl Into<String>, origin: &'static str) -> Edit {
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
    pub first: &'static str,
    pub second: &'static str,
    pub offset: usize,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "edits from `{}` and `{}` overlap at byte {}",
            self.first, self.second, self.offset
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
            let prev = last.map_or("?", |e| e.origin);
            return Err(Conflict {
                first: prev,
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
            Edit::open(inner.start, inner.len(), "(await ", "t"),
            Edit::close(inner.end, inner.len(), ")", "t"),
            Edit::open(outer.start, outer.len(), "(await ", "t"),
            Edit::close(outer.end, outer.len(), ")", "t"),
        ];
        assert_eq!(
            apply(src, edits).unwrap(),
            "(await (await c.execute(q)).fetchone())[0]"
        );
    }

    #[test]
    fn insert_before_replacement_at_same_offset() {
        let edits = vec![
            Edit::replace(0, 10, "asyncio.sleep", "sleep"),
            Edit::open(0, 13, "await ", "await"),
        ];
        assert_eq!(
            apply("time.sleep(1)", edits).unwrap(),
            "await asyncio.sleep(1)"
        );
    }

    #[test]
    fn overlap_is_a_conflict() {
        let edits = vec![Edit::replace(0, 4, "a", "x"), Edit::replace(2, 6, "b", "y")];
        assert_eq!(apply("abcdefg", edits).unwrap_err().second, "y");
    }

    #[test]
    fn duplicates_merge() {
        let e = Edit::insert(0, "import asyncio\n", "imports");
        assert_eq!(
            apply("x\n", vec![e.clone(), e]).unwrap(),
            "import asyncio\nx\n"
        );
    }
}
