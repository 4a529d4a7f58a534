//! `threads`: threads, thread pools, threading primitives and queues become asyncio tasks,
//! task groups, asyncio primitives and asyncio queues.
//!
//! Why: a thread that waits (`time.sleep`, `q.get()`, `lock.acquire()`) blocks only itself;
//! in a coroutine the same wait blocks every task. Once the code it runs is async, a thread
//! becomes a task, a pool a `TaskGroup`, and each blocking wait an `await`:
//!
//! ```python
//! t = threading.Thread(target=work, args=(1,))    t = asyncio.create_task(work(1))
//! t.start()                                  ->   (removed: a task starts by itself)
//! t.join()                                        await t
//! with ThreadPoolExecutor(max_workers=3) as p:    pool_slots = asyncio.Semaphore(3)
//!     rs = list(p.map(f, xs))                     async with asyncio.TaskGroup() as p:
//!                                                     rs = list(await asyncio.gather(*(
//!                                                         _bounded(p_slots, f(arg)) for arg in xs)))
//! item = jobs.get(timeout=1)                 ->   item = await asyncio.wait_for(jobs.get(), 1)
//! except queue.Empty:                             except (asyncio.QueueEmpty, asyncio.TimeoutError):
//! ```
//!
//! A target that stays sync (pure CPU, or pinned) runs with `asyncio.to_thread` inside the
//! task, so it still runs beside the event loop. `max_workers` stays a bound through an
//! `asyncio.Semaphore` and the module helper `_bounded`.
//!
//! Unsafe when: an exception in a thread was printed and swallowed, while `await t` raises
//! it in the joiner (and a `TaskGroup` cancels its other tasks and raises an
//! `ExceptionGroup`); a thread created where the code stays sync but joined in code that
//! becomes async (`await t` on a `Thread`); a primitive or queue shared with code that stays
//! sync (reported); a timed `wait`/`acquire` raises `TimeoutError` instead of returning
//! `False` (reported).

use super::args::Args;
use super::awaits::needs_parens;
use super::claims::{Claim, Claims};
use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin};
use crate::matcher::{CallFact, Ctx, Kind, Target};
use crate::parse::text;
use std::collections::{HashMap, HashSet};
use tree_sitter::Node;

/// The names this pass writes and recognises (`[names]` of `transforms/threading-thread.toml`).
fn names<'a>(cx: &PassCx<'a>) -> &'a crate::names::Threads {
    &cx.cat.names().threads
}

/// The type tag of every queue (`[names]` of `transforms/queue-asyncio.toml`).
fn queue<'a>(cx: &PassCx<'a>) -> &'a str {
    &cx.cat.names().queue.queue
}
/// Name of the module helper that holds a pool slot around one task.
const BOUNDED: &str = "_bounded";

/// A pool turned into a task group: where its `with` is and its slot semaphore, if bounded.
struct Pool {
    caller: Option<usize>,
    alias: String,
    /// Byte range of the `with` statement: its methods are rewritten inside it only.
    range: (usize, usize),
    slots: Option<String>,
}

struct State {
    pools: Vec<Pool>,
    /// `with` statements over an executor in async code that could not become a task group.
    declined_withs: HashSet<usize>,
    need_bounded: Option<usize>,
    timed_get: bool,
    timed_put: bool,
}

pub fn run(cx: &PassCx, out: &mut PassOut) {
    let mut st = State {
        pools: Vec::new(),
        declined_withs: HashSet::new(),
        need_bounded: None,
        timed_get: false,
        timed_put: false,
    };
    let (kept, keeps) = kept_types(cx);
    out.keep.extend(keeps);
    // Pools first: their methods need to know the task group they belong to.
    for c in cx.calls {
        if matches!(&c.target, Target::Rule(q) if *q == names(cx).pool) {
            pool_creation(cx, c, &mut st, out);
        }
    }
    for w in &cx.facts.withs {
        if w.kind == Kind::Ext(names(cx).pool.clone())
            && !st.pools.iter().any(|p| p.range.0 == w.with_kw)
            && cx.can_await(w.caller, w.ctx)
            && !w.already_async
        {
            st.declined_withs.insert(w.with_kw);
        }
    }
    for c in cx.calls {
        let Some(node) = cx.node(c.start, c.end) else {
            continue;
        };
        match &c.target {
            Target::Rule(q) if *q == names(cx).thread => thread_creation(cx, c, node, out),
            // Over the tasks of a pool this pass converted in the same function only.
            Target::Rule(q)
                if *q == names(cx).as_completed
                    && st.pools.iter().any(|p| p.caller == c.caller)
                    && cx.can_await(c.caller, c.ctx) =>
            {
                let new = names(cx).async_as_completed.as_str();
                out.edits
                    .push(Edit::replace(c.callee.0, c.callee.1, new, Origin::Threads));
                out.imports.insert(crate::names::module(new).into());
                out.rewritten += 1;
            }
            Target::Rule(_) => {
                if let Some(new) = converted_to(cx, &kept, c) {
                    out.edits.push(Edit::replace(
                        c.callee.0,
                        c.callee.1,
                        new.to_string(),
                        Origin::Threads,
                    ));
                    super::catalog::need_import(new, out);
                    out.rewritten += 1;
                }
            }
            Target::Method { ty, name } => match (ty.as_str(), name.as_str()) {
                (t, m) if t == names(cx).thread => thread_method(cx, c, node, m, out),
                (t, m) if t == names(cx).pool_entered => pool_method(cx, c, node, m, &mut st, out),
                (t, "result")
                    if t == names(cx).future && st.pools.iter().any(|p| p.caller == c.caller) =>
                {
                    future_result(cx, c, node, out)
                }
                (ty, _) if kept.contains(ty) => {}
                (ty, m) => {
                    if cx
                        .cat
                        .method(ty, m)
                        .is_some_and(|e| e.action == crate::rules::Action::Pass)
                    {
                        timed_wait(cx, c, node, ty, m, &mut st, out);
                    }
                }
            },
            _ => {}
        }
    }
    for &w in &st.declined_withs {
        let (line, col) = line_col(cx, w);
        out.diagnostics.push(cx.diag(
            line,
            col,
            "thread-pool-kept",
            "this executor is not created in the `with` itself; left as a thread pool",
        ));
    }
    except_timeouts(cx, &st, out);
    if let Some(at) = st.need_bounded {
        insert_bounded(cx, at, out);
    }
}

fn is_mine(cx: &PassCx, rule: usize) -> bool {
    cx.cat.rule(rule).pass == Some(crate::rules::PassName::Threads)
}

fn line_col(cx: &PassCx, offset: usize) -> (usize, usize) {
    let src = cx.src();
    let line = src[..offset].matches('\n').count() + 1;
    let col = offset - src[..offset].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// The arguments of a call; `None` if it has `*`/`**` splats, which may hold any of them.
fn args_of<'a>(cx: &PassCx<'a>, call: Node<'a>) -> Option<Args<'a>> {
    Args::of(call, cx.src()).filter(|a| !a.splat)
}

fn receiver<'a>(cx: &PassCx<'a>, c: &CallFact) -> Option<Node<'a>> {
    cx.node(c.callee.0, c.callee.1)?
        .child_by_field_name("object")
}

/// Wraps `new` in `await`, parenthesised where the call stands in a primary position.
fn awaited(node: Node, new: String) -> String {
    if needs_parens(node) {
        format!("(await {new})")
    } else {
        format!("await {new}")
    }
}

/// The call text of `f(args...)`, or `asyncio.to_thread(f, args...)` for a sync `f`.
fn call_of(
    cx: &PassCx,
    callable: &str,
    args: &[String],
    is_async: bool,
    out: &mut PassOut,
) -> String {
    if is_async {
        format!("{callable}({})", args.join(", "))
    } else {
        let to_thread = &cx.cat.names().core.to_thread;
        out.imports.insert(crate::names::module(to_thread).into());
        let mut all = vec![callable.to_string()];
        all.extend(args.iter().cloned());
        format!("{to_thread}({})", all.join(", "))
    }
}

/// Whether the project function passed at `arg` is async in the output.
fn target_is_async(cx: &PassCx, arg: Node) -> bool {
    cx.facts.refs.iter().any(|r| {
        r.called
            && r.start == arg.start_byte()
            && r.end == arg.end_byte()
            && cx.colour.async_funcs.contains(&r.target)
            && !cx.p.func(r.target).is_generator
    })
}

/// Whether the project function passed at `arg` runs code that depends on thread identity.
fn thread_bound(cx: &PassCx, arg: Node) -> bool {
    cx.facts.refs.iter().any(|r| {
        r.start == arg.start_byte()
            && r.end == arg.end_byte()
            && cx.colour.thread_bound.contains(&r.target)
    })
}

// ---- threads ------------------------------------------------------------------------------

fn thread_creation(cx: &PassCx, c: &CallFact, node: Node, out: &mut PassOut) {
    if !cx.can_await(c.caller, c.ctx) {
        return;
    }
    let src = cx.src();
    // The thread stays a thread with all of its uses (`start`, `join`), and its target runs
    // in it, so stays sync: a kept creation, decided again in the next round.
    let decline = |out: &mut PassOut, why: &str| {
        out.keep.push(cx.keep_creation(
            c,
            "thread-kept",
            format!("this thread stays a thread: {why}"),
        ));
    };
    let Some(a) = args_of(cx, node) else {
        return decline(out, "its arguments use `*`/`**` unpacking");
    };
    let Some(target) = a.get(Some(1), "target") else {
        return decline(
            out,
            "it has no `target` (a `Thread` subclass is not converted)",
        );
    };
    if a.positional.len() > 5
        || a.keywords
            .iter()
            .any(|(k, _)| !["group", "target", "name", "args", "kwargs", "daemon"].contains(k))
    {
        return decline(out, "it has arguments awaitify does not know");
    }
    let waits = thread_waits(cx, node, &a);
    if let Some(what) = &waits.other_use {
        return decline(out, &format!("{what}, which a task has no counterpart for"));
    }
    let target_async = target_is_async(cx, target);
    let core = &cx.cat.names().core;
    let (to_thread, run) = (&core.to_thread, &core.run);
    if thread_bound(cx, target) {
        return decline(
            out,
            &format!(
                "its code depends on thread identity, and a pool thread of `{to_thread}` \
                 may be reused by another call"
            ),
        );
    }
    if !(waits.joined || (waits.daemon && target_async)) {
        return decline(
            out,
            &if waits.daemon {
                format!(
                    "it is a daemon thread nothing joins, running sync code: in \
                     `{to_thread}` it would keep `{run}` from returning until it ends"
                )
            } else {
                format!(
                    "nothing joins it where it is made: Python waits for it at exit, where \
                     `{run}` would cancel its task"
                )
            },
        );
    }
    let mut call_args: Vec<String> = Vec::new();
    if let Some(args) = a.get(Some(3), "args") {
        match args.kind() {
            "tuple" | "list" => {
                let mut cursor = args.walk();
                for e in args.named_children(&mut cursor) {
                    if e.kind() != "comment" {
                        call_args.push(text(e, src).to_string());
                    }
                }
            }
            _ => call_args.push(format!("*{}", text(args, src))),
        }
    }
    if let Some(kwargs) = a.get(Some(4), "kwargs") {
        match dict_as_keywords(kwargs, src) {
            Some(kws) => call_args.extend(kws),
            None if kwargs.kind() == "none" => {}
            None => call_args.push(format!("**{}", text(kwargs, src))),
        }
    }
    let inner = call_of(cx, text(target, src), &call_args, target_async, out);
    let name = a
        .get(Some(2), "name")
        .filter(|n| n.kind() != "none")
        .map(|n| format!(", name={}", text(n, src)))
        .unwrap_or_default();
    let create_task = &cx.cat.names().dangling_task.create_task;
    out.edits.push(Edit::replace(
        c.start,
        c.end,
        format!("{create_task}({inner}{name})"),
        Origin::Threads,
    ));
    out.imports.insert(crate::names::module(create_task).into());
    out.rewritten += 1;
    remove_daemon_flags(cx, c, node, out);
}

/// How the function that makes a thread waits for it, read from that function's body.
#[derive(Debug, Default)]
struct Waits {
    /// `t.join()` (or a timed join of a daemon) on a name that holds the thread: the name
    /// it is assigned to, or the loop variable over a list it is appended to.
    joined: bool,
    /// `daemon=True`, `t.daemon = True`.
    daemon: bool,
    /// A use a task has no counterpart for (`t.name`, `t.setDaemon(...)`, the thread
    /// returned, stored or passed on): the thread stays a thread.
    other_use: Option<String>,
}

fn thread_waits(cx: &PassCx, node: Node, a: &Args) -> Waits {
    let src = cx.src();
    let mut w = Waits {
        daemon: a
            .get(None, "daemon")
            .is_some_and(|d| text(d, src) == "True"),
        ..Waits::default()
    };
    let mut timed = false;
    let Some(body) =
        ancestor(node, "function_definition").and_then(|f| f.child_by_field_name("body"))
    else {
        return w;
    };
    let mut h = holders(node, src, &mut w);
    // The uses, until no new name holds the thread (a loop variable over a list it joined).
    let mut ids = Vec::new();
    identifiers(body, &mut ids);
    let mut changed = true;
    while changed && w.other_use.is_none() {
        changed = false;
        for &id in &ids {
            let name = text(id, src);
            let holder = h.names.contains(&name);
            let list = h.lists.contains(&name);
            if !holder && !list {
                continue;
            }
            let Some(p) = id.parent() else { continue };
            let field_is = |f: &str| p.child_by_field_name(f).is_some_and(|n| n.id() == id.id());
            match p.kind() {
                // The binding itself (`t = Thread(...)`, `threads = []`, `for t in threads`).
                "assignment" | "for_statement" | "for_in_clause" if field_is("left") => {}
                "for_statement" | "for_in_clause" if list && field_is("right") => {
                    if let Some(v) = p
                        .child_by_field_name("left")
                        .filter(|l| l.kind() == "identifier")
                    {
                        let v = text(v, src);
                        if !h.names.contains(&v) {
                            h.names.push(v);
                            changed = true;
                        }
                    }
                }
                "attribute" if field_is("object") => {
                    attribute_use(cx, &ids, p, (name, holder), &h, &mut w, &mut timed);
                }
                "argument_list" => {
                    // `threads.append(t)`: that list holds it too.
                    match appended_to(Some(p), src) {
                        Some(l) if holder => {
                            if !h.lists.contains(&l) {
                                h.lists.push(l);
                                changed = true;
                            }
                        }
                        _ => {
                            w.other_use = Some(format!("`{name}` is passed to other code"));
                        }
                    }
                }
                _ => {
                    w.other_use = Some(format!(
                        "`{name}` is used where awaitify does not follow it"
                    ))
                }
            }
            if w.other_use.is_some() {
                break;
            }
        }
    }
    // A timed join returns while the thread runs on; only a daemon is then dropped at exit.
    w.joined |= timed && w.daemon;
    w
}

/// The names that hold the thread made at `node`, from where it goes: assigned to a name,
/// or into a list (`threads = [Thread(...)]`, `threads.append(Thread(...))`).
struct Holders<'s> {
    names: Vec<&'s str>,
    lists: Vec<&'s str>,
}

fn holders<'s>(node: Node, src: &'s str, w: &mut Waits) -> Holders<'s> {
    let mut h = Holders {
        names: Vec::new(),
        lists: Vec::new(),
    };
    let parent = node.parent();
    let assigned = |p: Option<Node<'_>>| {
        p.filter(|p| p.kind() == "assignment")
            .and_then(|p| p.child_by_field_name("left"))
            .filter(|l| l.kind() == "identifier")
            .map(|l| text(l, src))
    };
    match parent.map(|p| p.kind()) {
        Some("assignment") => match assigned(parent) {
            Some(n) => h.names.push(n),
            None => w.other_use = Some("it is stored where awaitify does not follow it".into()),
        },
        // `Thread(...).start()`: nothing can join it.
        Some("attribute") => {}
        Some("list_comprehension" | "list") => match assigned(parent.and_then(|p| p.parent())) {
            Some(l) => h.lists.push(l),
            None => w.other_use = Some("its list is not kept in a name".into()),
        },
        // `threads.append(Thread(...))`.
        Some("argument_list") if appended_to(parent, src).is_some() => {
            h.lists.extend(appended_to(parent, src));
        }
        _ => w.other_use = Some("it is passed on where awaitify does not follow it".into()),
    }
    h
}

/// `name.attr` (the attribute node `p`), where `name` holds the thread (`holder`) or a list
/// of threads: a join, a daemon flag, an append, or a use a task has no counterpart for.
fn attribute_use(
    cx: &PassCx,
    ids: &[Node],
    p: Node,
    (name, holder): (&str, bool),
    h: &Holders,
    w: &mut Waits,
    timed: &mut bool,
) {
    let src = cx.src();
    let attr = p
        .child_by_field_name("attribute")
        .map_or("", |n| text(n, src));
    let call = p.parent().filter(|c| c.kind() == "call").filter(|c| {
        c.child_by_field_name("function")
            .is_some_and(|f| f.id() == p.id())
    });
    let nargs = call
        .and_then(|c| c.child_by_field_name("arguments"))
        .map_or(0, |l| l.named_child_count());
    match (holder, attr, call) {
        (true, "start" | "is_alive", Some(_)) => {}
        (true, "join", Some(_)) if nargs == 0 => w.joined = true,
        (true, "join", Some(_)) => *timed = true,
        (true, "daemon", None)
            if p.parent().is_some_and(|a| {
                a.kind() == "assignment"
                    && a.child_by_field_name("left")
                        .is_some_and(|l| l.id() == p.id())
            }) =>
        {
            w.daemon |= p
                .parent()
                .and_then(|a| a.child_by_field_name("right"))
                .is_some_and(|r| text(r, src) == "True");
        }
        (false, "append", Some(c)) => {
            let arg = c
                .child_by_field_name("arguments")
                .and_then(|l| l.named_child(0))
                .map(|n| text(n, src));
            // Another thread (made here, or held by a name made from
            // one) may share the list: a thread kept in a later round is
            // neither, so the list's threads are kept together.
            let thread = c
                .child_by_field_name("arguments")
                .and_then(|l| l.named_child(0))
                .is_some_and(|n| {
                    is_thread_creation(cx, n)
                        || (n.kind() == "identifier" && holds_thread(cx, ids, text(n, src)))
                });
            if let Some(arg) =
                arg.filter(|a| !thread && !h.names.contains(a) && !h.lists.contains(a))
            {
                w.other_use = Some(format!("`{name}` also holds `{arg}`"));
            }
        }
        _ => w.other_use = Some(format!("it is used as `{name}.{attr}`")),
    }
}

/// `L` of `L.append(...)`, given its argument list.
fn appended_to<'s>(args: Option<Node>, src: &'s str) -> Option<&'s str> {
    args?
        .parent()
        .and_then(|c| c.child_by_field_name("function"))
        .filter(|f| f.kind() == "attribute")
        .filter(|f| {
            f.child_by_field_name("attribute")
                .is_some_and(|a| text(a, src) == "append")
        })
        .and_then(|f| f.child_by_field_name("object"))
        .filter(|o| o.kind() == "identifier")
        .map(|o| text(o, src))
}

/// Whether `name` is assigned a thread creation in the function (every binding of it is).
fn holds_thread(cx: &PassCx, ids: &[Node], name: &str) -> bool {
    let mut bindings = ids.iter().filter_map(|id| {
        let p = id.parent().filter(|p| p.kind() == "assignment")?;
        let left = p.child_by_field_name("left")?;
        (left.id() == id.id() && text(*id, cx.src()) == name)
            .then(|| p.child_by_field_name("right"))
    });
    let mut any = false;
    bindings.all(|right| {
        any = true;
        right.is_some_and(|r| is_thread_creation(cx, r))
    }) && any
}

fn is_thread_creation(cx: &PassCx, node: Node) -> bool {
    cx.calls.iter().any(|c| {
        c.start == node.start_byte()
            && c.end == node.end_byte()
            && matches!(&c.target, Target::Rule(q) if *q == names(cx).thread)
    })
}

fn ancestor<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut n = node.parent();
    while let Some(p) = n {
        if p.kind() == kind {
            return Some(p);
        }
        n = p.parent();
    }
    None
}

fn identifiers<'t>(node: Node<'t>, out: &mut Vec<Node<'t>>) {
    if node.kind() == "identifier" {
        out.push(node);
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        identifiers(child, out);
    }
}

/// `task`, or a numbered variant that the enclosing function does not use.
fn fresh_task_name(cx: &PassCx, c: &CallFact) -> String {
    let body = c
        .caller
        .map(|f| &cx.module().index.functions[f])
        .map_or("", |d| &cx.src()[d.start..d.end]);
    let used = |n: &str| {
        body.split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
            .any(|w| w == n)
            || cx.module().index.bindings.contains_key(n)
    };
    ["task".to_string(), "thread_task".to_string()]
        .into_iter()
        .chain((2..).map(|i| format!("task_{i}")))
        .find(|n| !used(n))
        .expect("an unused name exists")
}

/// `{"k": v}` as `k=v` keywords, when every key is a string that is an identifier.
fn dict_as_keywords(dict: Node, src: &str) -> Option<Vec<String>> {
    if dict.kind() != "dictionary" {
        return None;
    }
    let mut out = Vec::new();
    let mut cursor = dict.walk();
    for pair in dict.named_children(&mut cursor) {
        match pair.kind() {
            "pair" => {
                let key = pair.child_by_field_name("key")?;
                let value = pair.child_by_field_name("value")?;
                let k = text(key, src);
                let inner = k
                    .strip_prefix('"')
                    .and_then(|k| k.strip_suffix('"'))
                    .or_else(|| k.strip_prefix('\'').and_then(|k| k.strip_suffix('\'')))?;
                let ident = inner
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_')
                    && inner.chars().all(|c| c.is_alphanumeric() || c == '_');
                if key.kind() != "string" || !ident {
                    return None;
                }
                out.push(format!("{inner}={}", text(value, src)));
            }
            "dictionary_splat" => out.push(text(pair, src).to_string()),
            "comment" => {}
            _ => return None,
        }
    }
    Some(out)
}

/// `t.daemon = True` after `t = Thread(...)`: a task has no such flag (tasks left running
/// are cancelled when `asyncio.run` returns, as daemon threads are dropped at exit).
fn remove_daemon_flags(cx: &PassCx, c: &CallFact, node: Node, out: &mut PassOut) {
    let Some(assign) = node.parent().filter(|p| p.kind() == "assignment") else {
        return;
    };
    let Some(name) = assign
        .child_by_field_name("left")
        .filter(|l| l.kind() == "identifier")
    else {
        return;
    };
    let name = text(name, cx.src());
    let Some(block) = assign.parent().and_then(|s| s.parent()) else {
        return;
    };
    let mut cursor = block.walk();
    for stmt in block.named_children(&mut cursor) {
        if stmt.start_byte() < c.end || stmt.kind() != "expression_statement" {
            continue;
        }
        let Some(a) = stmt.named_child(0).filter(|a| a.kind() == "assignment") else {
            continue;
        };
        let is_flag = a.child_by_field_name("left").is_some_and(|l| {
            l.kind() == "attribute"
                && l.child_by_field_name("object")
                    .is_some_and(|o| text(o, cx.src()) == name)
                && l.child_by_field_name("attribute")
                    .is_some_and(|at| text(at, cx.src()) == "daemon")
        });
        if is_flag {
            remove_statement(cx, stmt, out);
        }
    }
}

/// Deletes a statement: its whole line when alone on it, `pass` when alone in its block.
fn remove_statement(cx: &PassCx, stmt: Node, out: &mut PassOut) {
    let src = cx.src();
    let alone_in_block = stmt
        .parent()
        .is_some_and(|b| b.kind() == "block" && b.named_child_count() == 1);
    let line_start = src[..stmt.start_byte()].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[stmt.end_byte()..]
        .find('\n')
        .map_or(src.len(), |i| stmt.end_byte() + i + 1);
    let before_blank = src[line_start..stmt.start_byte()].trim().is_empty();
    let after_blank = src[stmt.end_byte()..line_end].trim().is_empty();
    if alone_in_block || !before_blank || !after_blank {
        out.edits.push(Edit::replace(
            stmt.start_byte(),
            stmt.end_byte(),
            "pass",
            Origin::Threads,
        ));
    } else {
        out.edits
            .push(Edit::replace(line_start, line_end, "", Origin::Threads));
    }
}

fn thread_method(cx: &PassCx, c: &CallFact, node: Node, method: &str, out: &mut PassOut) {
    if !cx.can_await(c.caller, c.ctx) {
        return;
    }
    let src = cx.src();
    let Some(recv) = receiver(cx, c) else { return };
    let recv_text = text(recv, src);
    let Some(a) = args_of(cx, node) else { return };
    match method {
        "start" => {
            let stmt = node.parent().filter(|p| p.kind() == "expression_statement");
            if recv.kind() == "call" {
                // `Thread(...).start()`: nothing joins it, so the task is kept in the
                // module's task set, as the `dangling-task` pass does for `create_task`.
                let own_line = stmt.is_some_and(|s| {
                    let line_start = src[..s.start_byte()].rfind('\n').map_or(0, |i| i + 1);
                    let line_end = src[s.end_byte()..]
                        .find('\n')
                        .map_or(src.len(), |i| s.end_byte() + i);
                    src[line_start..s.start_byte()].trim().is_empty()
                        && src[s.end_byte()..line_end].trim().is_empty()
                });
                let set = super::dangling_task::TASK_SET;
                if !own_line {
                    out.edits
                        .push(Edit::replace(recv.end_byte(), c.end, "", Origin::Threads));
                    out.diagnostics.push(cx.diag_at(c, "dangling-task",
                        "a thread started and never joined becomes a task nothing keeps; keep a reference",
                    ));
                } else {
                    let name = fresh_task_name(cx, c);
                    let indent = cx.line_indent(c.start);
                    let nl = cx.module().source.newline;
                    out.edits
                        .push(Edit::insert(c.start, format!("{name} = "), Origin::Threads));
                    out.edits.push(Edit::replace(
                        recv.end_byte(),
                        c.end,
                        format!(
                            "{nl}{indent}{set}.add({name}){nl}{indent}{name}.add_done_callback({set}.discard)"
                        ),
                        Origin::Threads,
                    ));
                    out.edits
                        .extend(super::dangling_task::task_set_definition(cx));
                }
            } else if let Some(stmt) = stmt {
                // `for t in threads: t.start()` goes as a whole.
                let whole_loop = stmt
                    .parent()
                    .filter(|b| b.kind() == "block" && b.named_child_count() == 1)
                    .and_then(|b| b.parent())
                    .filter(|f| {
                        f.kind() == "for_statement"
                            && f.child_by_field_name("alternative").is_none()
                            && f.child_by_field_name("right")
                                .is_some_and(|r| r.kind() == "identifier")
                            && f.child_by_field_name("left")
                                .is_some_and(|l| text(l, src) == recv_text)
                    });
                remove_statement(cx, whole_loop.unwrap_or(stmt), out);
            } else {
                return;
            }
        }
        "join" => {
            let new = match a.get(Some(0), "timeout").filter(|t| t.kind() != "none") {
                None => recv_text.to_string(),
                Some(t) => format!(
                    "{}({{{recv_text}}}, timeout={})",
                    names(cx).wait,
                    text(t, src)
                ),
            };
            out.edits.push(Edit::replace(
                c.start,
                c.end,
                awaited(node, new),
                Origin::Threads,
            ));
        }
        "is_alive" => {
            let new = format!("not {recv_text}.done()");
            // `not` binds looser than operators, comparisons and primaries.
            let tight = needs_parens(node)
                || node.parent().is_some_and(|p| {
                    matches!(
                        p.kind(),
                        "binary_operator"
                            | "comparison_operator"
                            | "unary_operator"
                            | "await"
                            | "not_operator"
                    )
                });
            let new = if tight { format!("({new})") } else { new };
            out.edits
                .push(Edit::replace(c.start, c.end, new, Origin::Threads));
        }
        _ => return,
    }
    out.imports
        .insert(crate::names::module(&names(cx).wait).into());
    out.rewritten += 1;
}

// ---- pools --------------------------------------------------------------------------------

fn pool_creation(cx: &PassCx, c: &CallFact, st: &mut State, out: &mut PassOut) {
    let Some(node) = cx.node(c.start, c.end) else {
        return;
    };
    // `with ThreadPoolExecutor(...) [as pool]:` only.
    let mut item = node.parent();
    let alias = match item {
        Some(p) if p.kind() == "as_pattern" => {
            item = p.parent();
            p.child_by_field_name("alias")
                .map(|a| a.named_child(0).unwrap_or(a))
                .filter(|a| a.kind() == "identifier")
                .map(|a| text(a, cx.src()).to_string())
        }
        _ => None,
    };
    let Some(with) = item
        .filter(|i| i.kind() == "with_item")
        .and_then(|i| i.parent())
        .and_then(|cl| cl.parent())
        .filter(|w| w.kind() == "with_statement")
    else {
        return;
    };
    if !cx.can_await(c.caller, c.ctx) || with.child(0).is_some_and(|k| k.kind() == "async") {
        return;
    }
    let Some(a) = args_of(cx, node) else {
        st.declined_withs.insert(with.start_byte());
        return;
    };
    // `thread_name_prefix` only names threads; anything else changes what runs.
    if a.positional.len() > 2
        || a.keywords
            .iter()
            .any(|(k, _)| *k != "max_workers" && *k != "thread_name_prefix")
    {
        st.declined_withs.insert(with.start_byte());
        return;
    }
    let alias_name = alias.clone().unwrap_or_else(|| "pool".into());
    let slots = a
        .get(Some(0), "max_workers")
        .filter(|n| n.kind() != "none")
        .map(|n| {
            let name = format!("{alias_name}_slots");
            let indent = cx.line_indent(with.start_byte());
            let nl = cx.module().source.newline;
            let line_start = with.start_byte() - indent.len();
            out.edits.push(Edit::insert(
                line_start,
                format!(
                    "{indent}{name} = {}({}){nl}",
                    names(cx).semaphore,
                    text(n, cx.src())
                ),
                Origin::Threads,
            ));
            name
        });
    out.edits
        .push(Edit::insert(with.start_byte(), "async ", Origin::Threads));
    out.edits.push(Edit::replace(
        c.start,
        c.end,
        format!("{}()", names(cx).task_group),
        Origin::Threads,
    ));
    out.imports
        .insert(crate::names::module(&names(cx).task_group).into());
    out.rewritten += 1;
    if let Some(alias) = alias {
        st.pools.push(Pool {
            caller: c.caller,
            alias,
            range: (with.start_byte(), with.end_byte()),
            slots,
        });
    } else {
        st.pools.push(Pool {
            caller: c.caller,
            alias: String::new(),
            range: (with.start_byte(), with.end_byte()),
            slots,
        });
    }
}

fn pool_method(
    cx: &PassCx,
    c: &CallFact,
    node: Node,
    method: &str,
    st: &mut State,
    out: &mut PassOut,
) {
    let src = cx.src();
    let Some(recv) = receiver(cx, c) else { return };
    let Some(pool) = st.pools.iter().find(|p| {
        p.caller == c.caller
            && !p.alias.is_empty()
            && p.alias == text(recv, src)
            && p.range.0 <= c.start
            && c.end <= p.range.1
    }) else {
        return;
    };
    if !cx.can_await(c.caller, c.ctx) {
        return;
    }
    let decline = |out: &mut PassOut| {
        out.diagnostics.push(cx.diag_at(
            c,
            "unconvertible-call",
            format!(
                "`{}.{method}(...)` has arguments awaitify cannot map; left as is",
                pool.alias
            ),
        ));
    };
    let Some(a) = args_of(cx, node) else {
        return decline(out);
    };
    let Some(f) = a.positional.first() else {
        return decline(out);
    };
    let is_async = target_is_async(cx, *f);
    let bound = |inner: String, st_need: &mut Option<usize>| match &pool.slots {
        Some(slots) => {
            *st_need = Some(st_need.map_or(c.start, |x: usize| x.min(c.start)));
            format!("{BOUNDED}({slots}, {inner})")
        }
        None => inner,
    };
    let mut need = st.need_bounded;
    let new = match method {
        "submit" => {
            let mut args: Vec<String> = a.positional[1..]
                .iter()
                .map(|n| text(*n, src).to_string())
                .collect();
            args.extend(
                a.keywords
                    .iter()
                    .map(|(k, v)| format!("{k}={}", text(*v, src))),
            );
            let inner = bound(call_of(cx, text(*f, src), &args, is_async, out), &mut need);
            format!("{}.create_task({inner})", pool.alias)
        }
        "map" => {
            if !a.keywords.is_empty() || a.positional.len() < 2 {
                return decline(out);
            }
            let iterables: Vec<&str> = a.positional[1..].iter().map(|n| text(*n, src)).collect();
            let whole = text(node, src);
            let var = ["arg", "item", "value", "each"]
                .into_iter()
                .find(|v| !whole.contains(v))
                .unwrap_or("arg_");
            let (args, over) = if iterables.len() == 1 {
                (vec![var.to_string()], iterables[0].to_string())
            } else {
                (
                    vec![format!("*{var}")],
                    format!("zip({})", iterables.join(", ")),
                )
            };
            let inner = bound(call_of(cx, text(*f, src), &args, is_async, out), &mut need);
            awaited(
                node,
                format!("{}(*({inner} for {var} in {over}))", names(cx).gather),
            )
        }
        _ => return,
    };
    st.need_bounded = need;
    out.edits
        .push(Edit::replace(c.start, c.end, new, Origin::Threads));
    out.imports
        .insert(crate::names::module(&names(cx).gather).into());
    out.rewritten += 1;
}

/// `fut.result()` -> `await fut`.
fn future_result(cx: &PassCx, c: &CallFact, node: Node, out: &mut PassOut) {
    if !cx.can_await(c.caller, c.ctx) {
        return;
    }
    let Some(recv) = receiver(cx, c) else { return };
    let Some(a) = args_of(cx, node) else { return };
    let recv = text(recv, cx.src());
    let new = match a.get(Some(0), "timeout").filter(|t| t.kind() != "none") {
        None => recv.to_string(),
        // The shield keeps the task running past the timeout, as a future's would.
        Some(t) => format!(
            "{}({}({recv}), {})",
            cx.cat.names().core.wait_for,
            names(cx).shield,
            text(t, cx.src())
        ),
    };
    out.edits.push(Edit::replace(
        c.start,
        c.end,
        awaited(node, new),
        Origin::Threads,
    ));
    out.imports
        .insert(crate::names::module(&names(cx).shield).into());
    out.rewritten += 1;
    if let Some(g) = super::enclosing_genexp(node) {
        super::genexp_to_list(g, out);
    }
}

/// The `_bounded` helper, once per module, before the top-level statement of its first use.
fn insert_bounded(cx: &PassCx, at: usize, out: &mut PassOut) {
    let root = cx.root();
    let mut cursor = root.walk();
    let Some(top) = root
        .named_children(&mut cursor)
        .find(|n| n.start_byte() <= at && at < n.end_byte())
    else {
        return;
    };
    if cx.module().index.bindings.contains_key(BOUNDED) {
        return;
    }
    let nl = cx.module().source.newline;
    let indent = if cx.src().contains('\t') && !cx.src().contains("\n    ") {
        "\t"
    } else {
        "    "
    };
    let helper = [
        format!("async def {BOUNDED}(slots, aw):"),
        format!(
            "{indent}\"\"\"Awaits `aw` holding one of `slots` (a thread pool's max_workers).\"\"\""
        ),
        format!("{indent}async with slots:"),
        format!("{indent}{indent}return await aw"),
        String::new(),
        String::new(),
        String::new(),
    ]
    .join(nl);
    // Before any other insertion there (such as the `async ` of the function below).
    out.edits.push(Edit {
        rank: -2_000_000_000,
        ..Edit::insert(top.start_byte(), helper, Origin::Threads)
    });
}

// ---- primitives and queues ----------------------------------------------------------------

/// The asyncio callee this pass puts in place of a primitive's or queue's creation
/// (`asyncio.Queue` for `queue.Queue`), unless its type is kept.
pub fn converted_to<'c>(cx: &PassCx<'c>, kept: &HashSet<String>, c: &CallFact) -> Option<&'c str> {
    let entry = creation(cx, c)?;
    match (&entry.replace, &entry.returns) {
        (Some(new), Some(ty)) if !kept.contains(ty) => Some(new),
        _ => None,
    }
}

/// The creation rules of this pass that swap the callee (`threading.Lock` -> `asyncio.Lock`).
fn creation<'c>(cx: &PassCx<'c>, c: &CallFact) -> Option<&'c crate::rules::CallEntry> {
    let Target::Rule(q) = &c.target else {
        return None;
    };
    if *q == names(cx).as_completed {
        return None;
    }
    cx.cat.call(q).filter(|e| {
        e.action == crate::rules::Action::Pass && e.replace.is_some() && is_mine(cx, e.rule)
    })
}

/// Primitive and queue types that stay `threading`/`queue` here: some use in this module
/// stays sync, and one object cannot serve both worlds. Their creations are reported.
fn kept_types(cx: &PassCx) -> (HashSet<String>, Vec<super::Keep>) {
    let mut kept = HashSet::new();
    let mut keeps = Vec::new();
    for c in cx.calls {
        let Some(ty) = creation(cx, c).and_then(|e| e.returns.as_deref()) else {
            continue;
        };
        // A blocking use left sync, or any use in a function that stays sync: that code may
        // run in a thread, where an asyncio primitive is not safe (`ev.set()` from a thread
        // does not wake the loop).
        let sync_use = cx.calls.iter().find(|u| {
            matches!(&u.target, Target::Method { ty: t, name }
                if t == ty && ((cx.cat.method(t, name).is_some_and(|e| e.awaited)
                    && !cx.call_is_awaited(u))
                    || (u.ctx == Ctx::Body && !cx.can_await(u.caller, u.ctx))))
        });
        let sync_with = cx
            .facts
            .withs
            .iter()
            .find(|w| w.kind == Kind::Ext(ty.to_string()) && !cx.can_await(w.caller, w.ctx));
        let line = sync_use
            .map(|u| u.line)
            .or_else(|| sync_with.map(|w| w.line));
        if let Some(line) = line {
            let what = &cx.src()[c.callee.0..c.callee.1];
            let to_thread = &cx.cat.names().core.to_thread;
            keeps.push(cx.keep_creation(
                c,
                "primitive-kept",
                format!(
                    "`{what}` stays, with every use of it: it is also used by code that stays \
                     sync (line {line}); where that code runs in a thread, a coroutine waits \
                     on it with `await {to_thread}(...)`, and a thread hands values to \
                     the loop with `loop.call_soon_threadsafe(...)`"
                ),
            ));
            kept.insert(ty.to_string());
        }
    }
    (kept, keeps)
}

/// What this family owns before anything is edited: the uses of a kept type stay as they
/// are (no `await`, no `async with`, no `asyncio` exception names), and a wait this pass
/// turns into a sync call or leaves as is gets no `await`.
pub fn claim(cx: &PassCx, claims: &mut Claims) {
    let (kept, _) = kept_types(cx);
    for u in cx.calls {
        if let Target::Method { ty, .. } = &u.target
            && kept.contains(ty)
            && cx.call_is_awaited(u)
            && !u.awaited
        {
            claims.call(u, Claim::Unawaited, Origin::Threads);
        }
    }
    for w in &cx.facts.withs {
        if matches!(&w.kind, Kind::Ext(t) if kept.contains(t)) {
            claims.sync_with(w);
        }
    }
    let q = &cx.cat.names().queue;
    if kept.contains(&q.queue) {
        for n in &cx.facts.names {
            if n.qualified == q.empty || n.qualified == q.full {
                claims.keep_name(n.start, n.end);
            }
        }
    }
    for c in cx.calls {
        let Target::Method { ty, name } = &c.target else {
            continue;
        };
        if !waits(cx, &kept, ty, name) {
            continue;
        }
        let Some(node) = cx.node(c.start, c.end) else {
            continue;
        };
        if let Some(Wait::NonBlocking { .. } | Wait::Computed) = wait_form(cx, c, node, ty, name) {
            claims.call(c, Claim::Unawaited, Origin::Threads);
        }
    }
    claims.kept_types = kept;
}

/// Whether a call of `ty.name` is a wait [`timed_wait`] handles: a `pass` method of a type
/// this pass converts, other than a thread's or a pool's.
fn waits(cx: &PassCx, kept: &HashSet<String>, ty: &str, name: &str) -> bool {
    let n = names(cx);
    ty != n.thread
        && ty != n.pool_entered
        && !(ty == n.future && name == "result")
        && !kept.contains(ty)
        && cx
            .cat
            .method(ty, name)
            .is_some_and(|e| e.action == crate::rules::Action::Pass)
}

/// Arguments of a blocking wait: the kept ones, the `block` flag and the `timeout`.
struct WaitShape {
    kept: usize,
    block: Option<(usize, &'static str)>,
    timeout: usize,
}

/// `queue` is the type tag of queues.
fn wait_shape(queue: &str, ty: &str, method: &str) -> Option<WaitShape> {
    let shape = |kept, block, timeout| {
        Some(WaitShape {
            kept,
            block,
            timeout,
        })
    };
    match (ty, method) {
        (ty, "get") if ty == queue => shape(0, Some((0, "block")), 1),
        (ty, "put") if ty == queue => shape(1, Some((1, "block")), 2),
        (_, "acquire") => shape(0, Some((0, "blocking")), 1),
        (_, "wait") => shape(0, None, 0),
        (_, "wait_for") => shape(1, None, 1),
        _ => None,
    }
}

/// The form of a blocking wait with a `block` flag or a timeout.
enum Wait<'a> {
    /// `block=False`: `q.get_nowait()`; other primitives have no such form.
    NonBlocking { recv: &'a str, kept: String },
    /// A timeout: `asyncio.wait_for(...)`.
    Timed {
        recv: &'a str,
        kept: String,
        timeout: Node<'a>,
    },
    /// `block=True`: the plain awaited call.
    Blocking { recv: &'a str, kept: String },
    /// `block` is a variable: it picks one of two behaviours at run time.
    Computed,
}

fn wait_form<'a>(
    cx: &PassCx<'a>,
    c: &CallFact,
    node: Node<'a>,
    ty: &str,
    method: &str,
) -> Option<Wait<'a>> {
    if !cx.call_is_awaited(c) {
        return None;
    }
    let shape = wait_shape(queue(cx), ty, method)?;
    let src = cx.src();
    let recv = receiver(cx, c)?;
    let a = args_of(cx, node)?;
    let literal = |n: Option<Node>, v: &str| n.is_some_and(|n| text(n, src) == v);
    let block = shape.block.and_then(|(pos, kw)| a.get(Some(pos), kw));
    let timeout = a
        .get(Some(shape.timeout), "timeout")
        .filter(|t| t.kind() != "none");
    if block.is_none() && timeout.is_none() {
        return None;
    }
    let kept: Vec<&str> = a.positional[..shape.kept.min(a.positional.len())]
        .iter()
        .map(|n| text(*n, src))
        .collect();
    let recv = text(recv, src);
    let kept = kept.join(", ");
    Some(if literal(block, "False") || literal(block, "0") {
        Wait::NonBlocking { recv, kept }
    } else if let Some(timeout) = timeout {
        Wait::Timed {
            recv,
            kept,
            timeout,
        }
    } else if literal(block, "True") || literal(block, "1") {
        Wait::Blocking { recv, kept }
    } else {
        Wait::Computed
    })
}

#[allow(clippy::too_many_arguments)]
fn timed_wait(
    cx: &PassCx,
    c: &CallFact,
    node: Node,
    ty: &str,
    method: &str,
    st: &mut State,
    out: &mut PassOut,
) {
    let Some(form) = wait_form(cx, c, node, ty, method) else {
        return;
    };
    let src = cx.src();
    // The `await` of a non-blocking or computed wait is claimed away (see [`claim`]).
    let new = match form {
        Wait::NonBlocking { .. } if ty != queue(cx) => {
            out.diagnostics.push(cx.diag_at(
                c,
                "unconvertible-call",
                format!("a non-blocking `{method}` has no asyncio form; left as is"),
            ));
            return;
        }
        Wait::NonBlocking { recv, kept } => format!("{recv}.{method}_nowait({kept})"),
        Wait::Timed {
            recv,
            kept,
            timeout: t,
        } => {
            if ty == queue(cx) {
                if method == "get" {
                    st.timed_get = true;
                } else {
                    st.timed_put = true;
                }
            } else {
                // `asyncio.wait_for` would raise `TimeoutError` where the call returned False:
                // the primitive stays a `threading` one, with every use of it.
                let why = format!(
                    "stays, with every use of it: `{method}` with a timeout at line {} returns \
                     False on timeout, and asyncio's only timed form raises `TimeoutError`",
                    c.line
                );
                let made: Vec<_> = cx.creations_of(ty, None).collect();
                for m in &made {
                    let what = &src[m.callee.0..m.callee.1];
                    out.keep.push(cx.keep_creation(
                        m,
                        "timeout-raises",
                        format!("`{what}()` {why}"),
                    ));
                }
                if made.is_empty() {
                    out.keep.push(super::Keep {
                        what: super::Kept::Type(ty.to_string()),
                        diagnostic: cx.diag_at(c, "timeout-raises", format!("every `{ty}` {why}")),
                    });
                }
            }
            let wait_for = &cx.cat.names().core.wait_for;
            out.imports.insert(crate::names::module(wait_for).into());
            format!("{wait_for}({recv}.{method}({kept}), {})", text(t, src))
        }
        Wait::Blocking { recv, kept } => format!("{recv}.{method}({kept})"),
        Wait::Computed => {
            out.diagnostics.push(cx.diag_at(
                c,
                "unconvertible-call",
                format!("`{method}` with a computed `block` flag; left as is"),
            ));
            return;
        }
    };
    out.edits
        .push(Edit::replace(c.start, c.end, new, Origin::Threads));
}

/// `except queue.Empty:` must also catch the `TimeoutError` of a timed `get`.
fn except_timeouts(cx: &PassCx, st: &State, out: &mut PassOut) {
    let mut wanted: HashMap<&str, bool> = HashMap::new();
    let q = &cx.cat.names().queue;
    wanted.insert(&q.empty, st.timed_get);
    wanted.insert(&q.full, st.timed_put);
    for n in &cx.facts.names {
        if !wanted.get(n.qualified.as_str()).copied().unwrap_or(false) {
            continue;
        }
        let Some(node) = cx.node(n.start, n.end) else {
            continue;
        };
        let in_except = {
            let mut p = node.parent();
            while p.is_some_and(|p| {
                matches!(
                    p.kind(),
                    "tuple" | "parenthesized_expression" | "as_pattern"
                )
            }) {
                p = p.and_then(|p| p.parent());
            }
            p.is_some_and(|p| p.kind() == "except_clause")
        };
        if !in_except {
            continue;
        }
        out.edits.push(Edit::insert(n.start, "(", Origin::Threads));
        let timeout_error = &cx.cat.names().core.timeout_error;
        out.edits.push(Edit::insert(
            n.end,
            format!(", {timeout_error})"),
            Origin::Threads,
        ));
        out.imports
            .insert(crate::names::module(timeout_error).into());
    }
}
