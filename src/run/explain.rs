//! `--explain NAME`: why a function becomes async (the chain down to its blocking call) or
//! stays sync (the pin, or the callers up to it).

use crate::colour::{Colouring, Why};
use crate::project::{FuncId, Project};
use std::collections::BTreeSet;

/// `--explain NAME`: the chain from each matching function down to its blocking call.
pub(super) fn explain(p: &Project, c: &Colouring, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut matches: Vec<FuncId> = p
        .func_ids()
        .filter(|f| {
            p.func(*f).name == name || p.func(*f).qualname == name || p.func_name(*f) == name
        })
        .collect();
    matches.sort();
    for f in matches {
        let mut lines = vec![];
        if let Some(pin) = c.pinned.get(&f) {
            lines.push(format!(
                "{} stays sync: {} ({}:{})",
                p.func_name(f),
                pin.reason,
                p.modules[pin.module].display,
                pin.line
            ));
        } else if c.pinned_below.contains_key(&f) {
            lines.extend(pinned_by_callers(p, c, f));
        } else if !c.async_funcs.contains(&f) {
            lines.push(format!(
                "{} stays sync: nothing it calls blocks",
                p.func_name(f)
            ));
        }
        let mut cur = f;
        let mut seen = BTreeSet::new();
        while c.async_funcs.contains(&cur) && seen.insert(cur) {
            let head = format!("{} ({})", p.func_name(cur), p.func_location(cur));
            match c.why.get(&cur) {
                Some(Why::Seed {
                    rule,
                    what,
                    module,
                    line,
                }) => {
                    lines.push(format!(
                        "{head} is async because it calls {what} at {}:{line} [{rule}]",
                        p.modules[*module].display
                    ));
                    break;
                }
                Some(Why::Calls {
                    callee,
                    module,
                    line,
                }) => {
                    lines.push(format!(
                        "{head} is async because it awaits {} at {}:{line}",
                        p.func_name(*callee),
                        p.modules[*module].display
                    ));
                    cur = *callee;
                }
                Some(Why::Callback { member, owner }) => {
                    lines.push(format!(
                        "{head} is async because it is passed, as {} is, to a parameter of {} that awaits its calls",
                        p.func_name(*member),
                        p.func_name(*owner)
                    ));
                    cur = *member;
                }
                Some(Why::Family { member }) => {
                    lines.push(format!(
                        "{head} is async because it overrides or is overridden by {}",
                        p.func_name(*member)
                    ));
                    cur = *member;
                }
                Some(Why::Existing) | None => {
                    lines.push(format!("{head} was already async"));
                    break;
                }
            }
        }
        out.push(lines.join("\n  "));
    }
    if out.is_empty() {
        out.push(format!("no function named `{name}` in the files scanned"));
    }
    out
}

/// `--explain` for a function kept sync by a pinned caller: the callers up to the pin.
fn pinned_by_callers(p: &Project, c: &Colouring, f: FuncId) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut cur, mut seen) = (f, BTreeSet::new());
    while let Some(&above) = c.pinned_below.get(&cur) {
        if !seen.insert(cur) {
            break;
        }
        let at = c
            .pinned_below_at
            .get(&cur)
            .map(|&(m, line)| format!(" at {}:{line}", p.modules[m].display))
            .unwrap_or_default();
        lines.push(format!(
            "{} stays sync: {} ({}) calls it{at} and must stay sync",
            p.func_name(cur),
            p.func_name(above),
            p.func_location(above)
        ));
        cur = above;
    }
    let pin = c
        .pinned
        .iter()
        .find(|(g, _)| c.family.get(g).copied().unwrap_or(**g) == cur || **g == cur);
    if let Some((g, pin)) = pin {
        lines.push(format!(
            "{} stays sync: {} ({}:{})",
            p.func_name(*g),
            pin.reason,
            p.modules[pin.module].display,
            pin.line
        ));
    }
    lines
}
