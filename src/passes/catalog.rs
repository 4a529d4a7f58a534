//! `catalog-call`: applies the data rules of `transforms/` to matched calls and names.
//!
//! Why: each catalog entry names a blocking API and its asyncio equivalent; this pass does
//! what the entry says: swap the callee (`time.sleep` → `asyncio.sleep`), move the call off
//! the event loop (`await asyncio.to_thread(shutil.copyfile, a, b)`), rename a method, or
//! report a call that has no faithful async form. Awaiting is the `await-call` pass's job.
//!
//! A blocking call inside a function that must stay sync is left alone and reported.

use super::{Keep, Kept, PassCx, PassOut};
use crate::colour::Colouring;
use crate::edit::{Edit, Origin};
use crate::matcher::{AttrFact, CallFact, Ctx, Kind, Target};
use crate::project::{FuncId, Project};
use crate::report::Diagnostic;
use crate::rules::PassName;
use crate::rules::{Action, CallEntry, Catalog};

pub fn run(cx: &PassCx, out: &mut PassOut) {
    for c in cx.calls {
        let Some((entry, blocking)) = entry(cx.cat, c) else {
            continue;
        };
        if blocking && !cx.call_is_awaited(c) && !cx.entered_by_async_with(c) {
            report_kept(cx, c, out);
            out.keep
                .extend(keep_unawaited(cx.p, cx.cat, cx.colour, cx.m, c));
            out.keep.extend(keep_for_use(cx.keeper(), c));
            continue;
        }
        // An auth class whose calls stay requests' keeps its requests name.
        if !names_follow(cx, c, entry) {
            continue;
        }
        if entry.object && !creation_binds(cx, c) {
            let what = &cx.src()[c.callee.0..c.callee.1];
            out.keep.push(cx.keep_creation(
                c,
                "object-kept",
                format!(
                    "`{what}(...)` stays as it is, with every use of it: its object goes \
                     where awaitify cannot follow it (a conditional expression, a container, \
                     an argument, a name that also holds other values), and may meet code \
                     that uses it without await"
                ),
            ));
            continue;
        }
        if dropped_writer(cx, c, entry) {
            let what = &cx.src()[c.callee.0..c.callee.1];
            out.keep.push(cx.keep_creation(
                c,
                "object-kept",
                format!(
                    "`{what}(...)` stays as it is: a file opened for writing and dropped in \
                     the same expression is closed, and its data written out, as soon as the \
                     statement ends; the async file would be closed later, when it is \
                     collected, and the next read could miss the data"
                ),
            ));
            continue;
        }
        apply(cx, c, entry, out);
        out.packages
            .extend(cx.cat.rule(entry.rule).packages.iter().cloned());
    }
    for u in cx.facts.kept_uses.iter().filter(|u| u.escape.is_some()) {
        out.keep.extend(keep_for_escape(cx.keeper(), u));
    }
    for u in cx.facts.kept_uses.iter().filter(|u| owns_kept_use(cx, u)) {
        if !kept_use_to_thread(cx, u, out) {
            let what = &cx.src()[u.callee.0..u.callee.1];
            let to_thread = &cx.cat.names().core.to_thread;
            out.diagnostics.push(cx.diag(
                u.line,
                u.col,
                "blocking-call-in-coroutine",
                format!(
                    "`{what}(...)` blocks the event loop: its `{}` is kept as it is (the \
                     note at its creation says why); run it with `await {to_thread}(...)` \
                     if that is safe for the object",
                    u.ty
                ),
            ));
        }
    }
    for w in &cx.facts.withs {
        if !w.already_async && !cx.can_await(w.caller, w.ctx) {
            out.keep.extend(keep_for_with(cx.keeper(), w));
        } else if !w.already_async {
            out.keep.extend(keep_returned(cx, w));
        }
    }
    for a in &cx.facts.attrs {
        // Inside functions, where typed values come from rewritten calls (a response passed
        // to a sync helper is an httpx response too); module-level code keeps its calls.
        if a.caller.is_none() {
            continue;
        }
        if let Some((rule, replace)) = cx.cat.attribute(&a.ty, &a.name) {
            attribute(cx, a, replace, out);
            out.packages
                .extend(cx.cat.rule(*rule).packages.iter().cloned());
        }
    }
    // A class constructed where it cannot be renamed keeps its name in the whole module, so
    // that its `except` clauses still catch it.
    let unrenamed: std::collections::HashSet<&str> = cx
        .facts
        .names
        .iter()
        .filter(|n| !constructible(cx, n))
        .map(|n| n.qualified.as_str())
        .collect();
    for n in &cx.facts.names {
        if let Some((rule, replace)) = cx.cat.name(&n.qualified)
            && names_apply(cx, *rule, None)
            && !unrenamed.contains(n.qualified.as_str())
            && !cx.claims.name_kept(n.start, n.end)
        {
            out.edits.push(Edit::replace(
                n.start,
                n.end,
                replace.clone(),
                Origin::CatalogName,
            ));
            need_import(replace, out);
            out.packages
                .extend(cx.cat.rule(*rule).packages.iter().cloned());
        }
    }
}

fn apply(cx: &PassCx, c: &CallFact, entry: &CallEntry, out: &mut PassOut) {
    let src = cx.src();
    let what = &src[c.callee.0..c.callee.1];
    match entry.action {
        Action::Keep => {}
        Action::Replace => {
            let new = entry.replace.as_deref().unwrap_or_default();
            match &c.target {
                // A method keeps its receiver: only the attribute name changes.
                Target::Method { .. } => {
                    let attr = cx
                        .node(c.callee.0, c.callee.1)
                        .and_then(|n| n.child_by_field_name("attribute"));
                    if let Some(attr) = attr {
                        out.edits.push(Edit::replace(
                            attr.start_byte(),
                            attr.end_byte(),
                            new,
                            Origin::CatalogCall,
                        ));
                    }
                }
                _ => {
                    out.edits.push(Edit::replace(
                        c.callee.0,
                        c.callee.1,
                        new,
                        Origin::CatalogCall,
                    ));
                    need_import(new, out);
                }
            }
            if !entry.awaited {
                out.rewritten += 1;
            }
        }
        Action::ToThread => {
            to_thread(cx, c, out);
        }
        Action::Report => {
            let msg = entry.message.clone().unwrap_or_else(|| {
                format!("`{what}` has no faithful async equivalent; left as is")
            });
            out.diagnostics
                .push(cx.diag_at(c, "unconvertible-call", msg));
        }
        Action::Pass => {
            let rule = cx.cat.rule(entry.rule);
            let handled = rule
                .pass
                .is_some_and(|p| crate::passes::family(p, cx, c, entry, out));
            if !handled {
                let msg = format!(
                    "`{what}` ({}) could not be rewritten here; left as is",
                    rule.id
                );
                out.diagnostics
                    .push(cx.diag_at(c, "unconvertible-call", msg));
            }
        }
    }
}

/// Whether an auth class's call keeps its rule: only where its names are renamed.
fn names_follow(cx: &PassCx, c: &CallFact, entry: &CallEntry) -> bool {
    cx.cat.rule(entry.rule).names_follow.is_empty() || names_apply(cx, entry.rule, c.caller)
}

/// Whether [`run`] applies `entry` to call `c` (dispatching an `action = "pass"` entry to
/// its family), given that the call is awaited in the output.
pub fn dispatched(cx: &PassCx, c: &CallFact, entry: &CallEntry) -> bool {
    names_follow(cx, c, entry) && (!entry.object || creation_binds(cx, c))
}

/// `f(a, b)` -> `asyncio.to_thread(f, a, b)` (the `await-call` pass adds the `await`).
/// Returns false when the call has no plain argument list to extend.
pub fn to_thread(cx: &PassCx, c: &CallFact, out: &mut PassOut) -> bool {
    let Some(args) = cx
        .node(c.start, c.end)
        .and_then(|n| n.child_by_field_name("arguments"))
    else {
        return false;
    };
    if args.kind() != "argument_list" {
        return false;
    }
    // The callee's text stays where it is (so its import stays counted as used): the call's
    // `(` becomes the separator after it.
    let to_thread = cx.cat.names().core.to_thread.as_str();
    super::wrap_as_first_argument(
        cx.src(),
        c.callee,
        args.start_byte(),
        args,
        to_thread,
        Origin::ToThread,
        out,
    );
    out.imports.insert(crate::names::module(to_thread).into());
    true
}

/// `with helper() as f:` where `helper` returns a converted object: `async with` would enter
/// the coroutine `helper()`, and an awaited aiofiles file is no async context manager. The
/// objects `helper` makes stay as they are.
fn keep_returned(cx: &PassCx, w: &crate::matcher::WithFact) -> Option<Keep> {
    let crate::matcher::Kind::Ext(ty) = &w.kind else {
        return None;
    };
    if !cx.cat.object_type(ty) {
        return None;
    }
    // `helper()`, or `await helper()` on a second run.
    let g = cx.calls.iter().find_map(|c| match c.target {
        Target::Func(g) if c.end == w.expr.1 && w.expr.0 <= c.start => Some(g),
        _ => None,
    })?;
    let name = &cx.p.func(g).name;
    Some(Keep {
        what: Kept::InFunc(g, ty.clone()),
        diagnostic: cx.diag(
            w.line,
            1,
            "object-kept",
            format!(
                "the `{ty}` that `{name}` returns stays as it is, with every use of it: this \
                 `with` enters it, and the async form cannot enter the result of an awaited call"
            ),
        ),
    })
}

/// `open(p, "w").write(s)`: a file the files pass would open, used once and dropped, in a
/// mode that may write (or a mode it cannot read). CPython closes `open`'s file, flushing
/// it, when the expression drops it; an `aiofiles` file holds on to it in the thread pool's
/// machinery, so it is closed some time later.
fn dropped_writer(cx: &PassCx, c: &CallFact, entry: &CallEntry) -> bool {
    if cx.cat.rule(entry.rule).pass != Some(PassName::Files) {
        return false;
    }
    let Some(mut n) = cx.node(c.start, c.end) else {
        return false;
    };
    let call = n;
    while let Some(p) = n
        .parent()
        .filter(|p| p.kind() == "parenthesized_expression")
    {
        n = p;
    }
    let dropped = n.parent().is_some_and(|p| {
        p.kind() == "attribute"
            && p.child_by_field_name("object")
                .is_some_and(|o| o.id() == n.id())
    });
    if !dropped {
        return false;
    }
    // `open(file, mode)`, `path.open(mode)`.
    let at = if matches!(c.target, Target::Method { .. }) {
        0
    } else {
        1
    };
    let Some(args) = crate::passes::args::Args::of(call, cx.src()) else {
        return true;
    };
    match args.get(Some(at), "mode") {
        None => args.splat,
        Some(mode) => {
            let mode = crate::parse::text(mode, cx.src());
            !mode.starts_with(['"', '\'']) || mode.contains(['w', 'a', 'x', '+'])
        }
    }
}

/// Whether the object a creation makes goes where the type knowledge follows it: a name or
/// attribute, `with ... as`, a method call on it, a `return`, or an argument of a call
/// awaitify resolved. `f = sys.stdin if p == "-" else open(p)` is not: `f` then has no one
/// type, and its uses would not be converted.
fn creation_binds(cx: &PassCx, c: &CallFact) -> bool {
    let Some(mut n) = cx.node(c.start, c.end) else {
        return false;
    };
    while let Some(p) = n
        .parent()
        .filter(|p| matches!(p.kind(), "await" | "parenthesized_expression"))
    {
        n = p;
    }
    let Some(p) = n.parent() else { return false };
    let is = |field: &str| {
        p.child_by_field_name(field)
            .is_some_and(|x| x.id() == n.id())
    };
    // A local bound to it must have a catalog type in the end: bound elsewhere to another
    // value (`f` of two `with` blocks, one of them kept), it has none, and its uses stay.
    let local_typed = |name: tree_sitter::Node| {
        name.kind() != "identifier" || {
            let key = (
                cx.m as u32,
                c.caller.map(|f| f as u32),
                cx.src()[name.byte_range()].into(),
            );
            matches!(cx.knowledge.locals.get(&key), Some(Kind::Ext(t)) if cx.cat.knows_type(t))
        }
    };
    match p.kind() {
        "assignment" => {
            is("right")
                && p.child_by_field_name("left").is_some_and(|l| {
                    matches!(l.kind(), "identifier" | "attribute") && local_typed(l)
                })
        }
        "attribute" => is("object"),
        "as_pattern" => p
            .child_by_field_name("alias")
            .and_then(|a| a.named_child(0))
            .is_none_or(local_typed),
        "with_item" | "return_statement" | "expression_statement" => true,
        "argument_list" | "keyword_argument" => {
            let call = if p.kind() == "argument_list" {
                p.parent()
            } else {
                p.parent().and_then(|a| a.parent())
            };
            call.is_some_and(|call| {
                cx.calls
                    .iter()
                    .any(|f| (f.start, f.end) == (call.start_byte(), call.end_byte()))
            })
        }
        _ => false,
    }
}

/// A renamed class that the code constructs (`raise requests.TooManyRedirects(...)`) keeps
/// its name unless the call passes one positional argument: httpx's exceptions need their
/// message, and take `request=`/`response=` only as keywords of their own.
fn constructible(cx: &PassCx, n: &crate::matcher::NameFact) -> bool {
    let Some(node) = cx.node(n.start, n.end) else {
        return true;
    };
    let Some(call) = node.parent().filter(|p| {
        p.kind() == "call"
            && p.child_by_field_name("function")
                .is_some_and(|f| f.id() == node.id())
    }) else {
        return true;
    };
    call.child_by_field_name("arguments").is_some_and(|a| {
        let mut cursor = a.walk();
        let args: Vec<_> = a.named_children(&mut cursor).collect();
        args.len() == 1
            && !matches!(
                args[0].kind(),
                "keyword_argument" | "list_splat" | "dictionary_splat"
            )
    })
}

/// A rule's `[[name]]` renames apply in a module where a call of the rules it follows is
/// converted: an exception class of code that keeps its sync calls (a kept session, a
/// function that stays sync) keeps its name.
/// With `within`, only that function's calls count (an auth object goes to a call of its
/// own function).
fn names_apply(cx: &PassCx, rule: crate::rules::RuleId, within: Option<usize>) -> bool {
    let r = cx.cat.rule(rule);
    let follows = |id: &str| {
        if r.names_follow.is_empty() {
            id == r.id
        } else {
            r.names_follow.iter().any(|f| f == id)
        }
    };
    cx.calls.iter().any(|c| {
        (within.is_none() || c.caller == within)
            && entry(cx.cat, c).is_some_and(|(e, blocking)| {
                follows(&cx.cat.rule(e.rule).id)
                    && if blocking {
                        cx.call_is_awaited(c) || cx.entered_by_async_with(c)
                    } else {
                        cx.can_await(c.caller, c.ctx) || c.ctx == Ctx::Module
                    }
            })
    })
}

/// Whether this pass owns the call site of kept use `u`: a method of an object kept sync,
/// called where the output can await. The pass moves it to a thread or reports it, naming
/// the object kept, which says more than the generic `[[blocking]]` report of its method
/// (ASYNC212 for a kept `httpx.Client`), so `blocking_in_coroutine` leaves the site alone.
pub fn owns_kept_use(cx: &PassCx, u: &crate::matcher::KeptUseFact) -> bool {
    u.escape.is_none() && cx.can_await(u.caller, u.ctx)
}

/// A blocking wait on a kept `threading`/`queue` object inside a coroutine runs in a worker
/// thread: `await asyncio.to_thread(ev.wait, 5)`. Blocking the loop there could wait forever
/// for a task that sets the event. Other kept objects (an SQLite connection is tied to its
/// thread) are only reported. True when rewritten.
fn kept_use_to_thread(cx: &PassCx, u: &crate::matcher::KeptUseFact, out: &mut PassOut) -> bool {
    let name = cx.src()[u.callee.0..u.callee.1]
        .rsplit('.')
        .next()
        .unwrap_or_default();
    let threads = cx
        .cat
        .method(&u.ty, name)
        .is_some_and(|e| cx.cat.rule(e.rule).pass == Some(PassName::Threads));
    let Some(call) = cx
        .node(u.callee.0, u.callee.1)
        .and_then(|f| f.parent())
        .filter(|c| c.kind() == "call")
    else {
        return false;
    };
    if !threads || call.parent().is_some_and(|p| p.kind() == "await") {
        return false;
    }
    let fact = CallFact {
        caller: u.caller,
        target: Target::Method {
            ty: u.ty.clone(),
            name: name.to_string(),
        },
        start: call.start_byte(),
        end: call.end_byte(),
        callee: u.callee,
        line: u.line,
        col: u.col,
        ctx: u.ctx,
        awaited: false,
        statement: false,
    };
    if !to_thread(cx, &fact, out) {
        return false;
    }
    super::awaits::await_node(call, out);
    true
}

/// `[[attribute]]` rules: a rename of the attribute, or a template around the receiver.
/// The receiver's own text is never replaced, so edits inside it (an `await`) compose.
fn attribute(cx: &PassCx, a: &AttrFact, replace: &str, out: &mut PassOut) {
    let Some((prefix, suffix)) = replace.split_once("{value}") else {
        // A plain rename: only the name after the dot changes.
        let dot = cx.src()[a.object.1..a.end]
            .rfind('.')
            .map(|i| a.object.1 + i);
        if let Some(dot) = dot {
            out.edits.push(Edit::replace(
                dot + 1,
                a.end,
                replace,
                Origin::CatalogAttribute,
            ));
        }
        return;
    };
    let len = a.end - a.start;
    let simple = |t: &str| {
        t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.".contains(c))
    };
    let parens = !(simple(prefix) && simple(suffix))
        && cx.node(a.start, a.end).is_some_and(|n| !stands_alone(n));
    // Wider than the receiver's own `(await ` so that the template's text goes outside it.
    let (open, close) = if parens { ("(", ")") } else { ("", "") };
    if !prefix.is_empty() || parens {
        out.edits.push(Edit::open(
            a.start,
            len + 1,
            format!("{open}{prefix}"),
            Origin::CatalogAttribute,
        ));
    }
    out.edits.push(Edit::replace(
        a.object.1,
        a.end,
        format!("{suffix}{close}"),
        Origin::CatalogAttribute,
    ));
}

/// Whether an expression in this position needs no parentheses whatever operators it holds
/// (a comparison or `not` expression stays one operand there).
fn stands_alone(n: tree_sitter::Node) -> bool {
    let Some(p) = n.parent() else { return true };
    match p.kind() {
        "expression_statement"
        | "return_statement"
        | "argument_list"
        | "keyword_argument"
        | "parenthesized_expression"
        | "boolean_operator"
        | "not_operator"
        | "list"
        | "tuple"
        | "set"
        | "assert_statement"
        | "pair"
        | "interpolation"
        | "conditional_expression"
        | "expression_list" => true,
        "if_statement" | "elif_clause" | "while_statement" => p
            .child_by_field_name("condition")
            .is_some_and(|c| c.id() == n.id()),
        "assignment" => p
            .child_by_field_name("right")
            .is_some_and(|c| c.id() == n.id()),
        _ => false,
    }
}

/// A blocking call that stays because its function must stay sync.
fn report_kept(cx: &PassCx, c: &CallFact, out: &mut PassOut) {
    out.diagnostics.extend(kept(cx.p, cx.colour, cx.m, c));
}

/// The report of a blocking call left in a function that must stay sync, if it is one. Needs
/// no tree: [`super::quiet_reports`] makes it for modules the rewrite skips.
pub fn kept(p: &Project, colour: &Colouring, m: usize, c: &CallFact) -> Option<Diagnostic> {
    let f = c.caller?;
    let fid = FuncId {
        module: m as u32,
        func: f as u32,
    };
    let module = &p.modules[m];
    let what = &module.source.text[c.callee.0..c.callee.1];
    let name = &module.index.functions[f].name;
    let why = if let Some(pin) = colour.pinned.get(&fid) {
        format!("`{name}` must stay sync: {}", pin.reason)
    } else if let Some(&above) = colour.pinned_below.get(&fid).or_else(|| {
        // Keyed by override family: a member other than the family's first is found by it.
        colour.pinned_below.get(colour.family.get(&fid)?)
    }) {
        let rep = colour.family.get(&fid).copied().unwrap_or(fid);
        let at = colour
            .pinned_below_at
            .get(&fid)
            .or_else(|| colour.pinned_below_at.get(&rep))
            .map(|&(m, line)| format!(" at {}:{line}", p.modules[m].display))
            .unwrap_or_default();
        format!(
            "`{name}` must stay sync because `{}` calls it{at} and must stay sync",
            p.func(above).name
        )
    } else {
        return None;
    };
    Some(Diagnostic::new(
        &module.display,
        c.line,
        c.col,
        "blocking-call-kept",
        format!("blocking call `{what}` left in place: {why}"),
    ))
}

/// An object whose creation cannot be awaited where it is (a sync function, module level)
/// stays as it is, with all of its uses: converting those would await methods of the old
/// object.
pub fn keep_unawaited(
    p: &Project,
    cat: &Catalog,
    colour: &Colouring,
    m: usize,
    c: &CallFact,
) -> Option<Keep> {
    let (e, _) =
        entry(cat, c).filter(|(e, blocking)| (e.object || e.converted_result) && *blocking)?;
    let module = &p.modules[m];
    let what = &module.source.text[c.callee.0..c.callee.1];
    let ty = e.returns.as_deref().unwrap_or_default();
    let here = match c.caller {
        Some(f) if c.ctx == Ctx::Body => {
            let name = &module.index.functions[f].name;
            let fid = FuncId {
                module: m as u32,
                func: f as u32,
            };
            match colour.pinned.get(&fid) {
                Some(pin) => format!("`{name}`, which must stay sync ({})", pin.reason),
                None => format!("`{name}`, which stays sync"),
            }
        }
        _ => c.ctx.describe().to_string(),
    };
    // A call whose result only keeps its names (`r.reason`) is the blocking call kept.
    let diagnostic = match kept(p, colour, m, c).filter(|_| !e.object) {
        Some(d) => d,
        None => Diagnostic::new(
            &module.display,
            c.line,
            c.col,
            if e.object {
                "object-kept"
            } else {
                "blocking-call-kept"
            },
            format!(
                "`{what}(...)` stays as it is, and so does every use of the `{ty}` it makes: \
                 it is created in {here}, where it cannot be awaited"
            ),
        ),
    };
    Some(Keep {
        what: Kept::Creation(c.start),
        diagnostic,
    })
}

/// What deciding which objects stay as they are reads: module `m` and its resolved calls.
#[derive(Clone, Copy)]
pub struct Keeper<'a> {
    pub p: &'a Project,
    pub cat: &'a Catalog,
    pub m: usize,
    pub calls: &'a [CallFact],
}

/// A blocking method of an object type called where it cannot be awaited keeps the objects
/// of that type: those made in this module, or, if none is, every one in the project (the
/// value came from elsewhere, and awaitify does not know which creation made it).
pub fn keep_for_use(k: Keeper, c: &CallFact) -> Vec<Keep> {
    let Keeper { p, cat, m, .. } = k;
    let Target::Method { ty, name } = &c.target else {
        return Vec::new();
    };
    // A derived object (a cursor) answers to the creation of its root (the connection).
    let Some(ty) = cat.closed_root(ty) else {
        return Vec::new();
    };
    let module = &p.modules[m];
    let here = match c.caller {
        Some(f) if c.ctx == Ctx::Body => {
            format!("in `{}`, which stays sync", module.index.functions[f].name)
        }
        _ => format!("in {}", c.ctx.describe()),
    };
    let what = format!(
        "its `.{name}()` at line {} {here} cannot be awaited",
        c.line
    );
    keep_all(
        k,
        ty,
        c.caller,
        &what,
        (c.line, c.col),
        "object-kept",
        receiver(&module.source.text[c.callee.0..c.callee.1]),
    )
}

/// A `with` over an object that stays sync (its function cannot await) keeps the objects of
/// that type, as [`keep_for_use`] does.
pub fn keep_for_with(k: Keeper, w: &crate::matcher::WithFact) -> Vec<Keep> {
    let Keeper { p, cat, m, calls } = k;
    let crate::matcher::Kind::Ext(ty) = &w.kind else {
        return Vec::new();
    };
    let converts = cat
        .with_use(ty)
        .is_some_and(|(_, u)| u.make_async || u.action == Some(Action::Pass));
    let Some(ty) = cat.closed_root(ty).filter(|_| converts) else {
        return Vec::new();
    };
    // `with open(p) as f:` enters the object it makes: that creation is the one kept.
    if calls.iter().any(|c| (c.start, c.end) == w.expr) {
        return Vec::new();
    }
    let what = format!(
        "a `with` over it at line {} cannot become `async with`",
        w.line
    );
    keep_all(
        k,
        ty,
        w.caller,
        &what,
        (w.line, 1),
        "object-kept",
        &p.modules[m].source.text[w.expr.0..w.expr.1],
    )
}

/// A method of a converted object used as a value keeps the objects of that type, as
/// [`keep_for_use`] does.
pub fn keep_for_escape(k: Keeper, u: &crate::matcher::KeptUseFact) -> Vec<Keep> {
    let Keeper { p, m, .. } = k;
    let text = &p.modules[m].source.text[u.callee.0..u.callee.1];
    let what = match u.escape {
        Some(crate::matcher::Escape::Unmapped) => format!(
            "`{text}(...)` at line {} has no counterpart that awaitify maps",
            u.line
        ),
        Some(crate::matcher::Escape::Passed) => format!(
            "`{text}` is passed at line {} to a parameter that other calls give another kind \
             of value, so its uses there are not converted",
            u.line
        ),
        Some(crate::matcher::Escape::Attribute) => format!(
            "`{text}` is read at line {}, an attribute the converted object may not have",
            u.line
        ),
        Some(crate::matcher::Escape::Stored) => format!(
            "`{text}` is stored at line {} in an attribute that is also given another type, \
             so its uses through that attribute cannot be followed",
            u.line
        ),
        Some(crate::matcher::Escape::Set) => format!(
            "`{text}` is set at line {}, which the converted object would not honour",
            u.line
        ),
        Some(crate::matcher::Escape::Mixed) => format!(
            "`{text}` is read at line {} into a value that may also be another object, whose \
             uses awaitify cannot follow",
            u.line
        ),
        _ => format!(
            "`{text}` is used as a value at line {}, and whoever calls it would not await it",
            u.line
        ),
    };
    keep_all(
        k,
        &u.ty,
        u.caller,
        &what,
        (u.line, u.col),
        "object-kept",
        receiver(text),
    )
}

/// Keeps the objects of type `ty` made in function `f` of module `m` (a local), else those
/// made anywhere in the module (an attribute, a global), else every one in the project.
pub fn keep_all(
    k: Keeper,
    ty: &str,
    f: Option<usize>,
    what: &str,
    at: (usize, usize),
    code: &'static str,
    recv: &str,
) -> Vec<Keep> {
    let Keeper { p, cat, m, calls } = k;
    // A derived object (a cursor) is kept by keeping the creation it came from.
    let ty = cat.closed_root(ty).unwrap_or(ty);
    let module = &p.modules[m];
    let of_type = |c: &&CallFact| {
        entry(cat, c).is_some_and(|(e, _)| e.object && e.returns.as_deref() == Some(ty))
    };
    let mut made: Vec<&CallFact> = calls
        .iter()
        .filter(of_type)
        .filter(|c| f.is_some() && c.caller == f)
        .collect();
    if made.is_empty() {
        made = calls.iter().filter(of_type).collect();
    }
    let made: Vec<Keep> = made
        .into_iter()
        .map(|c| Keep {
            what: Kept::Creation(c.start),
            diagnostic: Diagnostic::new(
                &module.display,
                c.line,
                c.col,
                code,
                format!(
                    "`{}(...)` stays as it is, with every use of its `{ty}`: {what}",
                    &module.source.text[c.callee.0..c.callee.1]
                ),
            ),
        })
        .collect();
    if !made.is_empty() {
        return made;
    }
    let keep = |what: Kept, message: String| Keep {
        what,
        diagnostic: Diagnostic::new(&module.display, at.0, at.1, code, message),
    };
    // A parameter or `self` attribute: the creations that flow into it, found by the driver.
    if let Some(what_kept) = f.and_then(|f| receiver_keep(p, m, f, recv, ty)) {
        return vec![keep(
            what_kept,
            format!(
                "the `{ty}` objects that reach `{recv}` here stay as they are, with every use \
                 of them: {what}"
            ),
        )];
    }
    vec![keep(
        Kept::Type(ty.to_string()),
        format!(
            "every `{ty}` of the project stays as it is: {what}, and awaitify cannot tell which \
             creation made the object"
        ),
    )]
}

/// `param` or `self.attr` of function `f`, as the creations flowing into it.
fn receiver_keep(p: &Project, m: usize, f: usize, recv: &str, ty: &str) -> Option<Kept> {
    let def = &p.modules[m].index.functions[f];
    let fid = FuncId {
        module: m as u32,
        func: f as u32,
    };
    if let Some(i) = def.params.iter().position(|x| x.name == recv) {
        return Some(Kept::Param(fid, i, ty.to_string()));
    }
    if !recv.is_empty() && recv.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Some(Kept::Local(fid, ty.to_string()));
    }
    let (obj, attr) = recv.split_once('.')?;
    let class = def.class?;
    let is_self = def.params.first().is_some_and(|x| x.name == obj);
    (is_self && !attr.contains('.')).then(|| {
        Kept::Attr(
            crate::project::ClassId {
                module: m as u32,
                class: class as u32,
            },
            attr.to_string(),
            ty.to_string(),
        )
    })
}

/// The receiver's text of a method callee (`self.fp` of `self.fp.read`).
pub fn receiver(text: &str) -> &str {
    text.rsplit_once('.').map_or("", |(r, _)| r)
}

/// The catalog entry of a call, and whether the entry blocks (its call is awaited or moved to a
/// thread): outside async code such a call is only reported ([`kept`]).
pub fn entry<'c>(cat: &'c Catalog, c: &CallFact) -> Option<(&'c CallEntry, bool)> {
    let entry = match &c.target {
        Target::Rule(q) => cat.call(q),
        Target::Method { ty, name } => cat.method(ty, name),
        _ => None,
    }?;
    Some((entry, entry.awaited || entry.action == Action::ToThread))
}

/// Registers the import a dotted replacement needs (`aiofiles.os.remove` → `aiofiles.os`).
pub fn need_import(dotted: &str, out: &mut PassOut) {
    if let Some((module, _)) = dotted.rsplit_once('.') {
        out.imports.insert(module.to_string());
    }
}
