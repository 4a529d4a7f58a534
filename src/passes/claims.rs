//! Claims: which pass owns a call site, a `with` or a name, decided before any edit is made.
//!
//! A family pass (threads, sockets, requests) rewrites some calls whole, keeps others as
//! blocking calls, and enters some in an `async with` it writes itself. The passes that add
//! `await`s, `async with`s and catalog renames ask the claims first and leave what another
//! pass owns alone, so no pass removes or rewrites another pass's edit (the model is
//! rust-analyzer's assists, each of which owns its whole edit). A claim is made from the
//! facts and the colouring alone, never from edits.

use super::PassCx;
use crate::edit::Origin;
use crate::matcher::{CallFact, WithFact};
use std::collections::{HashMap, HashSet};

/// How the owner of a call site wants it left by the `await` pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// No `await`: the owner rewrites the call into a sync call (`q.get_nowait()`), into
    /// statements that await inside (`writer.write(d)` then `await writer.drain()`), or keeps
    /// it a blocking call of an object that stays sync.
    Unawaited,
    /// No `await`: the owner enters the call's result with an `async with` it writes (a
    /// streamed response), and counts the call as rewritten itself.
    Entered,
}

/// The claims of one module, made by [`Claims::of`] before the passes run.
#[derive(Debug, Default)]
pub struct Claims {
    /// Call sites by `(start, end)`: how their owner wants them, and who owns them.
    calls: HashMap<(usize, usize), (Claim, Origin)>,
    /// `with` items (by their range) that enter an object kept sync: they stay `with`.
    sync_withs: HashSet<(usize, usize)>,
    /// Names (`queue.Empty`) of a family kept sync here: the catalog does not rename them.
    kept_names: HashSet<(usize, usize)>,
    /// Catalog types the threads family keeps as `threading`/`queue` objects in this module.
    pub kept_types: HashSet<String>,
}

impl Claims {
    /// Every family pass declares what it owns, in [`super::FAMILIES`] order.
    pub fn of(cx: &PassCx) -> Claims {
        let mut claims = Claims::default();
        for family in super::FAMILIES {
            family.claim(cx, &mut claims);
        }
        claims
    }

    /// Claims call `c` for `owner`. A call has one owner: a second claim on it is a bug,
    /// unless it is the same claim by the same owner.
    pub fn call(&mut self, c: &CallFact, claim: Claim, owner: Origin) {
        let prev = self.calls.insert((c.start, c.end), (claim, owner));
        debug_assert!(
            prev.is_none_or(|p| p == (claim, owner)),
            "call at {}..{} claimed by {prev:?} and by {:?}",
            c.start,
            c.end,
            (claim, owner)
        );
    }

    /// The claim on call `c`, if a family owns it.
    pub fn on_call(&self, c: &CallFact) -> Option<(Claim, Origin)> {
        self.calls.get(&(c.start, c.end)).copied()
    }

    /// Whether the `await` pass leaves call `c` alone.
    pub fn unawaited(&self, c: &CallFact) -> bool {
        self.on_call(c).is_some()
    }

    /// Keeps the `with` item `w` a sync one.
    pub fn sync_with(&mut self, w: &WithFact) {
        self.sync_withs.insert(w.item);
    }

    /// Whether the `with` item `w` stays sync (it enters an object kept sync).
    pub fn with_stays_sync(&self, w: &WithFact) -> bool {
        self.sync_withs.contains(&w.item)
    }

    /// Keeps the name at `start..end` as it is.
    pub fn keep_name(&mut self, start: usize, end: usize) {
        self.kept_names.insert((start, end));
    }

    /// Whether the name at `start..end` stays as it is.
    pub fn name_kept(&self, start: usize, end: usize) -> bool {
        self.kept_names.contains(&(start, end))
    }
}
