//! The report of the colouring: each function kept sync (a pin) where it is pinned, the calls
//! from outside `--only` that keep one sync, half-async decorators, and the pins a coroutine
//! reaches (`blocking-sync-call`).

use crate::colour::{self, Colouring};
use crate::project::{FuncId, Project};
use crate::report::Diagnostic;
use rustc_hash::FxHashSet as HashSet;

/// The colouring's diagnostics. `reverted`: the functions pinned because their colour made
/// the output unsound (their reason already opens with the code).
pub(super) fn diagnostics(
    project: &Project,
    colouring: &Colouring,
    scope: &colour::Scope,
    reverted: &HashSet<FuncId>,
) -> Vec<Diagnostic> {
    let mut diagnostics = pinned(project, colouring, scope, reverted);
    for &(caller, callee, m, line) in &colouring.outside_callers {
        let display = &project.modules[m].display;
        let caller = match caller {
            Some(f) => format!("`{}`", project.func(f).name),
            None => "the __main__ block".to_string(),
        };
        diagnostics.push(Diagnostic::new(
            display,
            line,
            1,
            colour::CALLER_OUTSIDE_SCOPE,
            format!(
                "{caller} calls `{}` ({}) without await and is outside --only, so `{}` stays sync; add {display} to --only to convert it",
                project.func_name(callee),
                project.func_location(callee),
                project.func(callee).name,
            ),
        ));
    }
    for (m, line, message) in &colouring.notes {
        diagnostics.push(Diagnostic::new(
            &project.modules[*m].display,
            *line,
            1,
            "mixed-decorator",
            message.clone(),
        ));
    }
    diagnostics
}

/// A diagnostic at each pin, and `blocking-sync-call` where a coroutine reaches it.
fn pinned(
    project: &Project,
    colouring: &Colouring,
    scope: &colour::Scope,
    reverted: &HashSet<FuncId>,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (f, pin) in &colouring.pinned {
        // A file outside `--only` is not migrated: its calls into it are reported below.
        if scope.is_outside(f.module as usize) {
            continue;
        }
        let m = &project.modules[pin.module];
        let def = project.func(*f);
        let code = colouring
            .pin_codes
            .get(f)
            .copied()
            .unwrap_or("sync-boundary");
        // A revert's reason already opens with its code.
        let reason = match pin.reason.strip_prefix("unsound-change-reverted: ") {
            Some(reason) if reverted.contains(f) => reason,
            _ => pin.reason.as_str(),
        };
        // Pinned by a `__main__` block outside `--only`: reported there, as a call from outside.
        if code != colour::CALLER_OUTSIDE_SCOPE {
            diagnostics.push(Diagnostic::new(
                &m.display,
                pin.line,
                1,
                code,
                format!(
                    "`{}` stays sync and keeps its blocking calls: {}",
                    def.name, reason
                ),
            ));
        }
        diagnostics.extend(blocking_sync_call(
            project, colouring, *f, pin, code, reason,
        ));
    }
    diagnostics
}

/// `blocking-sync-call`: a pinned function that code async in the output calls (or uses,
/// at the pin's site, inside a coroutine). Unlike a pin that only sync code reaches, its
/// blocking calls now block the event loop: the one kind of pin a migration must look at.
fn blocking_sync_call(
    p: &Project,
    c: &Colouring,
    f: FuncId,
    pin: &colour::Pin,
    code: &str,
    reason: &str,
) -> Option<Diagnostic> {
    let fam = c.family.get(&f).copied().unwrap_or(f);
    let name = &p.func(f).name;
    let pinned_at = format!(" ({}:{})", p.modules[pin.module].display, pin.line);
    let diag = |module: usize, line: usize, message: String| {
        let display = &p.modules[module].display;
        Some(Diagnostic::new(
            display,
            line,
            1,
            "blocking-sync-call",
            message,
        ))
    };
    let reached = c
        .called_from_async
        .get(&fam)
        .copied()
        .or_else(|| Some((site_function(p, pin)?, pin.module, pin.line)));
    match reached {
        Some((caller, module, line)) if c.async_funcs.contains(&caller) => {
            // Where the pin is this very line, its location says nothing new.
            let at = if (module, line) == (pin.module, pin.line) {
                ""
            } else {
                &pinned_at
            };
            diag(
                module,
                line,
                format!(
                    "the coroutine `{}` reaches `{name}`{at}, which stays sync and keeps its blocking calls: they block the event loop here ({reason})",
                    p.func(caller).name
                ),
            )
        }
        // A property is read, not called, and no read is followed: in a run with
        // coroutines, one may reach it. (Other pins at a definition, a test runner's hook
        // or `__del__`, are called by code that is not a coroutine.)
        None if code == "sync-boundary"
            && c.pinned_uncalled.contains(&fam)
            && is_property(p.func(f))
            && !c.async_funcs.is_empty() =>
        {
            diag(
                pin.module,
                pin.line,
                format!(
                    "`{name}` stays sync and keeps its blocking calls, and awaitify sees no call to it ({reason}): if a coroutine reaches it, the event loop blocks there"
                ),
            )
        }
        _ => None,
    }
}

fn is_property(def: &crate::index::FuncDef) -> bool {
    def.decorators.iter().any(|d| {
        let last = d.rsplit('.').next().unwrap_or(d);
        last == "property" || last == "cached_property"
    })
}

/// The function whose body holds the pin's line (a lambda or a `key=` inside it).
fn site_function(p: &Project, pin: &colour::Pin) -> Option<FuncId> {
    let m = &p.modules[pin.module];
    let text = &m.source.text;
    let start = text
        .split_inclusive('\n')
        .take(pin.line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let indent = text[start..].len() - text[start..].trim_start().len();
    let func = m.index.function_at(start + indent)?;
    Some(FuncId {
        module: pin.module as u32,
        func: func as u32,
    })
}
