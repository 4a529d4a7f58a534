//! `requests`: `requests` calls and sessions, and `urllib.request.urlopen`, become
//! `httpx.AsyncClient` requests.
//!
//! Why: `requests` and `urlopen` do DNS, connect, send and read the whole answer on the
//! calling thread, so in a coroutine every other task stops for the round trip.
//! `httpx.AsyncClient` has the same request API as coroutines.
//!
//! ```python
//! def get_doc():                          async def get_doc():
//!     r = requests.get(URL, params=q)  ->     async with httpx.AsyncClient(follow_redirects=True, timeout=None) as client:
//!     return r.json()                             r = await client.get(URL, params=q)
//!                                             return r.json()
//! ```
//!
//! Design. Module-level helpers (`requests.get`, `urlopen`) open a connection pool per call;
//! the rewrite gives each function that makes such calls one client, shared by all of them:
//! the statements of the body from the first to the last that makes such a call (a loop
//! counts as one statement) are wrapped in `async with httpx.AsyncClient(...) as client:`, so
//! a loop of requests shares one pool instead of building a client per call, and the client
//! is closed as soon as the last request is done. The wrapped lines are re-indented with
//! line-start insertions in the file's indent unit, never touching the content lines of
//! multi-line strings; comments and blank lines stay. A response used after the
//! `async with` still works: httpx reads the body before `client.get` returns (no
//! streaming). `requests.Session()` becomes the client
//! itself (`with requests.Session() as s` -> `async with httpx.AsyncClient(...) as s`,
//! `s.close()` -> `await s.aclose()`), wherever the session is passed.
//!
//! Behaviour kept on purpose: requests follows redirects (except `head`) and has no default
//! timeout, httpx does neither, so clients get `follow_redirects=True, timeout=None` and
//! `head` calls `follow_redirects=False`; `allow_redirects=` becomes `follow_redirects=`;
//! a raw `data=` body (a string, bytes, `.encode()`, `json.dumps`) becomes `content=`; extra
//! positional arguments (`requests.post(url, body)`) become keywords; `verify=`/`cert=` move
//! to the function's client; a body on `get`/`head`/`options`/`delete` goes through
//! `client.request(...)`, the only httpx method that takes one. `urlopen(url)` raises for an
//! error status, so it becomes `(await client.get(url)).raise_for_status()`.
//!
//! Unsafe or declined: `stream=True` drops streaming (the body is read at once; reported);
//! `**kwargs`, `proxies=`, `hooks=`, a list as `data=`, or `verify=`/`cert=` that differ
//! between calls of one function keep the original call in a worker thread
//! (`await asyncio.to_thread(requests.get, ...)`, reported): that response and its
//! exceptions are requests' own, not httpx's. A session configured through attributes httpx
//! lacks (`s.verify = False`, `s.mount(...)`), made outside a coroutine, or with a call httpx
//! cannot take stays a `requests.Session` with every use of it (see `passes::Keep`). `params` values of `None` are
//! sent as empty strings by httpx, where requests drops them.

use super::claims::{Claim, Claims};
use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin, Reindent};
use crate::matcher::{CallFact, Ctx, Target};
use crate::rules::{Action, CallEntry, PassName};
use std::collections::{BTreeMap, BTreeSet};
use tree_sitter::Node;

/// The names this pass writes and recognises (`[names]` of `transforms/requests-call.toml`).
fn names<'a>(cx: &PassCx<'a>) -> &'a crate::names::Requests {
    &cx.cat.names().requests
}

/// The client every `requests` call in a function shares, without its closing `)`:
/// requests' defaults kept.
fn client_ctor(cx: &PassCx) -> String {
    format!(
        "{}(follow_redirects=True, timeout=None",
        names(cx).async_client
    )
}

/// Why a call keeps requests in a worker thread instead of moving to httpx.
type Decline = String;

/// One function whose module-level requests calls share a client.
struct Scope {
    client: String,
    /// `verify=...`/`cert=...` for the client constructor.
    ctor: Vec<String>,
    /// Helper calls by start offset: the reason if the call stays in a thread.
    calls: BTreeMap<usize, Option<Decline>>,
}

/// Dispatched from the catalog pass for every `action = "pass"` entry of the requests
/// rules. Returns false when the call is left as is (the catalog pass reports it).
pub fn rewrite_call(cx: &PassCx, c: &CallFact, _entry: &CallEntry, out: &mut PassOut) -> bool {
    let n = names(cx);
    match &c.target {
        Target::Rule(q) if *q == n.session => session_ctor(cx, c, out),
        Target::Rule(q) if *q == n.client => httpx_client(cx, c, out),
        Target::Rule(q) if n.helpers.contains(q) => helper(cx, c, q, out),
        Target::Method { ty, name } if *ty == n.session => {
            let Some(method) = http_method(name) else {
                return false;
            };
            let form = match with_form(cx, c) {
                Ok(form) => form,
                Err(why) => {
                    keep_session(cx, c, &why, out);
                    return true;
                }
            };
            match map_args(cx, c, method, "", true, form.is_some()) {
                Ok(m) => {
                    let streamed = m.stream;
                    m.apply(out);
                    match form {
                        Some(form) => {
                            enter_stream(cx, c, &form, Entered::Requests { streamed }, out)
                        }
                        None if streamed => out.diagnostics.push(stream_note(cx, c)),
                        None => {}
                    }
                    true
                }
                Err(why) => {
                    keep_session(cx, c, &why, out);
                    true
                }
            }
        }
        Target::Method { ty, name } if *ty == n.response => response_iter(cx, c, name, "", out),
        Target::Method { ty, name } if *ty == n.stream_response => {
            response_iter(cx, c, name, "a", out)
        }
        Target::Method { ty, name } if *ty == n.urllib_stream_response && name == "read" => {
            // `r.read()` on a streamed httpx response reads the rest of the body.
            let Some(node) = cx.node(c.start, c.end) else {
                return false;
            };
            let no_args = node
                .child_by_field_name("arguments")
                .is_some_and(|a| a.named_child_count() == 0);
            let Some(attr) = cx
                .node(c.callee.0, c.callee.1)
                .and_then(|f| f.child_by_field_name("attribute"))
            else {
                return false;
            };
            if no_args {
                out.edits.push(Edit::replace(
                    attr.start_byte(),
                    attr.end_byte(),
                    "aread",
                    Origin::Requests,
                ));
            }
            no_args
        }
        _ => false,
    }
}

/// What this family owns before anything is edited: a request entered by
/// `with <call> as r:` becomes `async with client.stream(...) as r:`, entered and not
/// awaited. Claimed where the `await` pass would await it and [`rewrite_call`] takes it
/// there.
pub fn claim(cx: &PassCx, claims: &mut Claims) {
    let mut scopes = None;
    for c in cx.calls {
        if c.awaited || !cx.call_is_awaited(c) {
            continue;
        }
        let Some((entry, _)) = super::catalog::entry(cx.cat, c) else {
            continue;
        };
        let rule = cx.cat.rule(entry.rule);
        if entry.action != Action::Pass
            || entry.pass_awaits
            || rule.pass != Some(PassName::Requests)
            || !super::catalog::dispatched(cx, c, entry)
        {
            continue;
        }
        let entered = match &c.target {
            Target::Rule(q) if names(cx).helpers.contains(q) => {
                let scopes = scopes.get_or_insert_with(|| plan(cx));
                helper_enters(cx, c, q, scopes)
            }
            Target::Method { ty, name } if *ty == names(cx).session => http_method(name)
                .is_some_and(|method| {
                    matches!(with_form(cx, c), Ok(Some(_)))
                        && map_args(cx, c, method, "", true, true).is_ok()
                }),
            _ => false,
        };
        if entered {
            claims.call(c, Claim::Entered, Origin::Requests);
        }
    }
}

/// Whether [`helper`] rewrites this call as a `with` it enters.
fn helper_enters(cx: &PassCx, c: &CallFact, q: &str, scopes: &BTreeMap<usize, Scope>) -> bool {
    let Some(scope) = c.caller.and_then(|f| scopes.get(&f)) else {
        return false;
    };
    if let Some(Some(_)) = scope.calls.get(&c.start) {
        return false;
    }
    let Ok(Some(_)) = with_form(cx, c) else {
        return false;
    };
    if q == names(cx).urlopen {
        urlopen_args(cx, c, &scope.client, true).is_ok()
    } else {
        let method = q.rsplit('.').next().unwrap_or("get");
        map_args(cx, c, method, &scope.client, false, true).is_ok()
    }
}

/// A session call httpx cannot take as it is keeps the session requests, with every use of
/// it: converting the session but not this call would call an `httpx.AsyncClient` without
/// await.
fn keep_session(cx: &PassCx, c: &CallFact, why: &str, out: &mut PassOut) {
    let what = format!("its call at line {} cannot move to httpx ({why})", c.line);
    out.keep.extend(super::catalog::keep_all(
        cx.keeper(),
        &names(cx).session,
        c.caller,
        &what,
        (c.line, c.col),
        "requests-session-call",
        super::catalog::receiver(&cx.src()[c.callee.0..c.callee.1]),
    ));
}

/// `requests.get(...)` -> `client.get(...)` on the function's client.
fn helper(cx: &PassCx, c: &CallFact, q: &str, out: &mut PassOut) -> bool {
    let Some(f) = c.caller else { return false };
    let scopes = plan(cx);
    let Some(scope) = scopes.get(&f) else {
        return false;
    };
    if let Some(Some(why)) = scope.calls.get(&c.start) {
        out.diagnostics.push(cx.diag_at(
            c,
            "requests-kept-in-thread",
            format!(
                "the call runs in a worker thread ({why}); its response and exceptions are \
                 the original library's, not httpx's"
            ),
        ));
        return super::catalog::to_thread(cx, c, out);
    }
    let urlopen = q == names(cx).urlopen;
    let Ok(form) = with_form(cx, c) else {
        return false;
    };
    let Ok(mapped) = (if urlopen {
        urlopen_args(cx, c, &scope.client, form.is_some())
    } else {
        let method = q.rsplit('.').next().unwrap_or("get");
        map_args(cx, c, method, &scope.client, false, form.is_some())
    }) else {
        return false;
    };
    let stream = mapped.stream;
    mapped.apply(out);
    out.imports.insert(httpx_module(cx).into());
    out.packages.insert("httpx".into());
    if let Some(form) = form {
        let how = if urlopen {
            Entered::Urlopen
        } else {
            Entered::Requests { streamed: stream }
        };
        enter_stream(cx, c, &form, how, out);
        return true;
    }
    if urlopen {
        // urlopen raises for an error status; httpx returns the response.
        let node = cx.node(c.start, c.end);
        let len = c.end - c.start;
        let parenthesised = node.is_some_and(super::awaits::needs_parens);
        if !parenthesised {
            out.edits
                .push(Edit::open(c.start, len + 1, "(", Origin::Requests));
        }
        let close = if parenthesised { "" } else { ")" };
        out.edits.push(Edit::close(
            c.end,
            len + 1,
            format!("{close}.raise_for_status()"),
            Origin::Requests,
        ));
    }
    if stream {
        out.diagnostics.push(stream_note(cx, c));
    }
    true
}

/// `with <call> as r:` over a request: the response is a context manager that releases the
/// connection, and the body may be read lazily inside (`stream=True`, `urlopen`).
struct WithForm {
    /// Offset of the `with` keyword.
    with_kw: usize,
    alias: String,
    /// Where the first statement of the body starts, and its indentation.
    body_first: usize,
    indent: String,
}

/// How the request was used in the `with`.
enum Entered {
    /// `requests.get(...)`/`session.get(...)`: read at once unless `stream=True` was given.
    Requests { streamed: bool },
    /// `urlopen(...)`: raises for an error status; the body is read by `r.read()`.
    Urlopen,
}

/// `Ok(None)`: not a `with` item; `Ok(Some)`: `with <call> as name:` alone, body on its own
/// lines; `Err`: another shape of `with`.
fn with_form(cx: &PassCx, c: &CallFact) -> Result<Option<WithForm>, Decline> {
    let node = cx.node(c.start, c.end).ok_or("no call node")?;
    let Some(item) = node.parent().filter(|p| p.kind() == "as_pattern") else {
        return if with_item(cx, c) {
            Err("the response is used as a context manager without `as`".into())
        } else {
            Ok(None)
        };
    };
    let Some(with_item) = item.parent().filter(|p| p.kind() == "with_item") else {
        return Ok(None);
    };
    let declined = || Decline::from("only `with <request> as name:` alone is rewritten");
    let clause = with_item.parent().ok_or_else(declined)?;
    let stmt = clause
        .parent()
        .filter(|s| s.kind() == "with_statement")
        .ok_or_else(declined)?;
    let mut cursor = clause.walk();
    if clause.named_children(&mut cursor).count() != 1
        || stmt.child(0).is_some_and(|k| k.kind() == "async")
    {
        return Err(declined());
    }
    let src = cx.src();
    let alias = item
        .child_by_field_name("alias")
        .and_then(|a| {
            if a.kind() == "as_pattern_target" {
                a.named_child(0)
            } else {
                Some(a)
            }
        })
        .filter(|a| a.kind() == "identifier")
        .ok_or_else(declined)?;
    let body = stmt.child_by_field_name("body").ok_or_else(declined)?;
    let first = body.named_child(0).ok_or_else(declined)?;
    if !src[clause.end_byte()..body.start_byte()].contains('\n') {
        return Err(declined());
    }
    Ok(Some(WithForm {
        with_kw: stmt.start_byte(),
        alias: src[alias.byte_range()].to_string(),
        body_first: first.start_byte(),
        indent: cx.line_indent(first.start_byte()).to_string(),
    }))
}

/// `with requests.get(u) as r:` -> `async with client.stream("GET", u) as r:`: the stream
/// context manager is entered, not awaited (the call is claimed, see [`claim`]).
fn enter_stream(cx: &PassCx, c: &CallFact, form: &WithForm, how: Entered, out: &mut PassOut) {
    if cx.claims.on_call(c) == Some((Claim::Entered, Origin::Requests)) {
        out.rewritten += 1;
    }
    out.edits
        .push(Edit::insert(form.with_kw, "async ", Origin::Requests));
    let nl = cx.module().source.newline;
    let (alias, indent) = (&form.alias, &form.indent);
    let first = match how {
        // requests reads the body before the block runs unless told to stream.
        Entered::Requests { streamed: false } => format!("await {alias}.aread(){nl}{indent}"),
        Entered::Requests { streamed: true } => return,
        Entered::Urlopen => format!("{alias}.raise_for_status(){nl}{indent}"),
    };
    out.edits.push(Edit {
        rank: -1_900_000_000,
        ..Edit::insert(form.body_first, first, Origin::Requests)
    });
}

fn stream_note(cx: &PassCx, c: &CallFact) -> crate::report::Diagnostic {
    cx.diag_at(
        c,
        "requests-stream-buffered",
        "`stream=True` dropped: httpx reads the whole body before returning (use \
         `client.stream(...)` by hand if the body is large)",
    )
}

/// `requests.Session()` -> `httpx.AsyncClient(...)`.
fn session_ctor(cx: &PassCx, c: &CallFact, out: &mut PassOut) -> bool {
    let Some(args) = cx
        .node(c.start, c.end)
        .and_then(|n| n.child_by_field_name("arguments"))
    else {
        return false;
    };
    if args.named_child_count() > 0 {
        return false;
    }
    if outside_coroutine(cx, c, out) {
        return true;
    }
    out.edits.push(Edit::replace(
        c.start,
        c.end,
        format!("{})", client_ctor(cx)),
        Origin::Requests,
    ));
    out.imports.insert(httpx_module(cx).into());
    out.packages.insert("httpx".into());
    out.rewritten += 1;
    true
}

/// Module level is fine (one `asyncio.run` drives every use); elsewhere outside a
/// coroutine the client could be neither entered with `async with` nor closed with an
/// await, and the sync code around it (`__init__`, a factory) goes on using it: the session
/// stays, with every use of it. True when it does.
fn outside_coroutine(cx: &PassCx, c: &CallFact, out: &mut PassOut) -> bool {
    if c.ctx == Ctx::Module || cx.can_await(c.caller, c.ctx) {
        return false;
    }
    let here = match c.caller {
        Some(f) if c.ctx == Ctx::Body => {
            format!(
                "`{}`, which stays sync",
                cx.module().index.functions[f].name
            )
        }
        _ => c.ctx.describe().to_string(),
    };
    let what = &cx.src()[c.callee.0..c.callee.1];
    let client = &cx.cat.names().requests.async_client;
    out.keep.push(cx.keep_creation(
        c,
        "requests-session-outside-coroutine",
        format!(
            "`{what}()` stays as it is, with every use of it: it is created in {here}, where \
             an `{client}` could not be entered or closed; create it in an async \
             function (e.g. `main`) and pass it on to convert it"
        ),
    ));
    true
}

/// `httpx.Client(...)` -> `httpx.AsyncClient(...)`: same constructor, same defaults.
fn httpx_client(cx: &PassCx, c: &CallFact, out: &mut PassOut) -> bool {
    if outside_coroutine(cx, c, out) {
        return true;
    }
    let Some(callee) = cx.node(c.callee.0, c.callee.1) else {
        return false;
    };
    // Only the class name changes, so `import httpx` stays counted as used.
    let new = names(cx).async_client.as_str();
    match callee.child_by_field_name("attribute") {
        Some(attr) => out.edits.push(Edit::replace(
            attr.start_byte(),
            attr.end_byte(),
            crate::names::last(new),
            Origin::Requests,
        )),
        None => {
            out.edits
                .push(Edit::replace(c.callee.0, c.callee.1, new, Origin::Requests));
            out.imports.insert(crate::names::module(new).into());
        }
    }
    out.packages.insert("httpx".into());
    out.rewritten += 1;
    true
}

/// `r.iter_content(n)` -> `r.iter_bytes(n)`, `r.iter_lines()` -> `r.content.splitlines()`:
/// the body is already read, and these give requests' chunks and byte lines exactly.
/// `prefix` is `"a"` on a streamed response: `async for chunk in r.aiter_bytes(n)`.
fn response_iter(cx: &PassCx, c: &CallFact, name: &str, prefix: &str, out: &mut PassOut) -> bool {
    // As for `[[attribute]]` rules: inside functions only.
    if c.caller.is_none() {
        return true;
    }
    let Some(node) = cx.node(c.start, c.end) else {
        return false;
    };
    let (Some(callee), Some(args)) = (
        node.child_by_field_name("function"),
        node.child_by_field_name("arguments"),
    ) else {
        return false;
    };
    let Some(attr) = callee.child_by_field_name("attribute") else {
        return false;
    };
    let mut cursor = args.walk();
    let list: Vec<Node> = args.named_children(&mut cursor).collect();
    let src = cx.src();
    let positional = |n: &Node| n.kind() != "keyword_argument";
    match name {
        "iter_lines" if list.is_empty() && prefix.is_empty() => {
            out.edits.push(Edit::replace(
                attr.start_byte(),
                args.end_byte(),
                "content.splitlines()",
                Origin::Requests,
            ));
            true
        }
        "iter_content" if list.len() <= 1 => {
            // requests' default chunk is one byte; httpx's is the whole body.
            let size = match list.first() {
                None => "1".to_string(),
                Some(a) if positional(a) => src[a.byte_range()].to_string(),
                Some(a)
                    if a.child_by_field_name("name")
                        .is_some_and(|n| &src[n.byte_range()] == "chunk_size") =>
                {
                    a.child_by_field_name("value")
                        .map_or("1".to_string(), |v| src[v.byte_range()].to_string())
                }
                Some(_) => return false,
            };
            out.edits.push(Edit::replace(
                attr.start_byte(),
                args.end_byte(),
                format!("{prefix}iter_bytes({size})"),
                Origin::Requests,
            ));
            true
        }
        _ => false,
    }
}

/// The httpx method for a requests method name.
fn http_method(name: &str) -> Option<&'static str> {
    Some(match name {
        "get" => "get",
        "post" => "post",
        "put" => "put",
        "patch" => "patch",
        "delete" => "delete",
        "head" => "head",
        "options" => "options",
        "request" => "request",
        _ => return None,
    })
}

/// The edits that map one call's arguments, built completely before any is kept.
struct Mapped {
    edits: Vec<Edit>,
    verify: Vec<String>,
    stream: bool,
}

impl Mapped {
    fn apply(self, out: &mut PassOut) {
        out.edits.extend(self.edits);
    }
}

/// requests' positional parameters after the URL (httpx's are keyword-only): how many
/// lead (the URL, and the method for `request`), and the names of the rest in order.
fn positional_names(method: &str, session: bool) -> (usize, &'static [&'static str]) {
    match method {
        "get" if !session => (1, &["params"]),
        "post" => (1, &["data", "json"]),
        "put" | "patch" => (1, &["data"]),
        "request" if session => (
            2,
            &[
                "params",
                "data",
                "headers",
                "cookies",
                "files",
                "auth",
                "timeout",
                "allow_redirects",
                "proxies",
                "hooks",
                "stream",
                "verify",
                "cert",
                "json",
            ],
        ),
        "request" => (2, &[]),
        _ => (1, &[]),
    }
}

/// What the arguments said beyond their own edits.
#[derive(Default)]
struct Seen {
    has_body: bool,
    follow: bool,
}

/// Maps requests keywords to httpx ones. `client` is the receiver to put in place of the
/// module (`requests.get` -> `client.get`); empty for a session method, whose receiver
/// stays. On a session, `verify=`/`cert=` cannot move to the constructor.
fn map_args(
    cx: &PassCx,
    c: &CallFact,
    method: &str,
    client: &str,
    session: bool,
    stream_form: bool,
) -> Result<Mapped, Decline> {
    let src = cx.src();
    let (args, list) = arguments(cx, c)?;
    let (fixed, extra) = positional_names(method, session);
    let mut m = Mapped {
        edits: Vec::new(),
        verify: Vec::new(),
        stream: false,
    };
    let mut seen = Seen::default();
    let mut pos = 0;
    for (i, a) in list.iter().enumerate() {
        let (name, value) = match a.kind() {
            "keyword_argument" => {
                let n = a.child_by_field_name("name").ok_or("bad keyword")?;
                let v = a.child_by_field_name("value").ok_or("bad keyword")?;
                (src[n.byte_range()].to_string(), v)
            }
            "list_splat" | "dictionary_splat" => {
                return Err("arguments passed with `*`/`**` cannot be mapped".into());
            }
            _ => {
                pos += 1;
                if pos <= fixed {
                    continue;
                }
                let name = extra
                    .get(pos - fixed - 1)
                    .ok_or("too many positional arguments")?;
                (name.to_string(), *a)
            }
        };
        let at = ArgAt {
            list: &list,
            i,
            scope: c.caller,
        };
        map_arg(cx, at, &name, value, session, &mut m, &mut seen)?;
    }
    rename_verb(
        cx,
        c,
        method,
        client,
        stream_form,
        (args, &list),
        &seen,
        &mut m,
    )?;
    Ok(m)
}

/// Where an argument stands: the `i`-th of `list`, in a call read in function `scope`.
#[derive(Clone, Copy)]
struct ArgAt<'l, 'n> {
    list: &'l [Node<'n>],
    i: usize,
    scope: Option<usize>,
}

/// Maps one argument `name=value` (by keyword or position).
fn map_arg(
    cx: &PassCx,
    ArgAt { list, i, scope }: ArgAt,
    name: &str,
    value: Node,
    session: bool,
    m: &mut Mapped,
    seen: &mut Seen,
) -> Result<(), Decline> {
    let (a, src) = (list[i], cx.src());
    let keyword = a.kind() == "keyword_argument";
    let rename = |to: &str, m: &mut Mapped| {
        if keyword {
            let n = a.child_by_field_name("name").expect("checked above");
            m.edits.push(Edit::replace(
                n.start_byte(),
                n.end_byte(),
                to.to_string(),
                Origin::Requests,
            ));
        } else {
            m.edits.push(Edit::insert(
                a.start_byte(),
                format!("{to}="),
                Origin::Requests,
            ));
        }
    };
    match name {
        "allow_redirects" => {
            seen.follow = true;
            rename("follow_redirects", m);
        }
        "data" => {
            seen.has_body = true;
            match body_kind(cx, scope, value) {
                Body::Raw => rename("content", m),
                Body::Form | Body::Unknown => {
                    if !keyword {
                        rename("data", m);
                    }
                }
                Body::Pairs => {
                    return Err("a list as `data=` is form-encoded only by requests".into());
                }
            }
        }
        "json" | "files" => {
            seen.has_body = true;
            if !keyword {
                rename(name, m);
            }
        }
        "verify" | "cert" if session => {
            return Err(format!("`{name}=` is a client setting in httpx"));
        }
        "verify" | "cert" => {
            // `verify=True` is the default of both libraries.
            let v = &src[value.byte_range()];
            if !(name == "verify" && v == "True") {
                m.verify.push(format!("{name}={v}"));
            }
            m.edits.push(remove_arg(list, i));
        }
        "stream" => {
            m.stream = &src[value.byte_range()] != "False";
            m.edits.push(remove_arg(list, i));
        }
        "proxies" | "hooks" => {
            return Err(format!("`{name}=` has no per-request httpx equivalent"));
        }
        other => {
            if !keyword {
                rename(other, m);
            }
        }
    }
    Ok(())
}

/// The httpx method and receiver: httpx's get/head/options/delete take no body; `request`
/// and `stream` do, and take the method first. A HEAD does not follow redirects in requests.
#[allow(clippy::too_many_arguments)]
fn rename_verb(
    cx: &PassCx,
    c: &CallFact,
    method: &str,
    client: &str,
    stream_form: bool,
    (args, list): (Node, &[Node]),
    seen: &Seen,
    m: &mut Mapped,
) -> Result<(), Decline> {
    let verb = if stream_form {
        "stream"
    } else if seen.has_body && matches!(method, "get" | "head" | "options" | "delete") {
        "request"
    } else {
        method
    };
    if verb != method && method != "request" {
        let first = list.first().ok_or("no URL")?;
        m.edits.push(Edit::insert(
            first.start_byte(),
            format!("\"{}\", ", method.to_uppercase()),
            Origin::Requests,
        ));
    }
    if method == "head" && !seen.follow {
        let text = if list.is_empty() {
            "follow_redirects=False"
        } else {
            ", follow_redirects=False"
        };
        let at = list.last().map_or(args.start_byte() + 1, |l| l.end_byte());
        m.edits.push(Edit::insert(at, text, Origin::Requests));
    }
    if !client.is_empty() {
        m.edits.push(Edit::replace(
            c.callee.0,
            c.callee.1,
            format!("{client}.{verb}"),
            Origin::Requests,
        ));
    } else if verb != method {
        let callee = cx.node(c.callee.0, c.callee.1).ok_or("no callee")?;
        let attr = callee
            .child_by_field_name("attribute")
            .ok_or("no method name")?;
        m.edits.push(Edit::replace(
            attr.start_byte(),
            attr.end_byte(),
            verb,
            Origin::Requests,
        ));
    }
    Ok(())
}

/// The argument list of call `c` and its arguments, comments left out.
fn arguments<'t>(cx: &PassCx<'t>, c: &CallFact) -> Result<(Node<'t>, Vec<Node<'t>>), Decline> {
    let node = cx.node(c.start, c.end).ok_or("no call node")?;
    let args = node
        .child_by_field_name("arguments")
        .filter(|a| a.kind() == "argument_list")
        .ok_or("not a plain argument list")?;
    let mut cursor = args.walk();
    let list = args
        .named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect();
    Ok((args, list))
}

/// `urlopen(url[, timeout=t])` -> `client.get(url[, timeout=t])`.
fn urlopen_args(
    cx: &PassCx,
    c: &CallFact,
    client: &str,
    stream_form: bool,
) -> Result<Mapped, Decline> {
    let src = cx.src();
    let (args, list) = arguments(cx, c)?;
    for (i, a) in list.iter().enumerate() {
        let ok = match a.kind() {
            "keyword_argument" => a
                .child_by_field_name("name")
                .is_some_and(|n| matches!(&src[n.byte_range()], "timeout" | "url")),
            "list_splat" | "dictionary_splat" => false,
            // A `Request` object or a body would need more than a GET.
            _ => i == 0 && is_url_like(cx, c.caller, a),
        };
        if !ok {
            return Err("only `urlopen(url)` and `urlopen(url, timeout=...)` are rewritten".into());
        }
    }
    let mut edits = vec![Edit::replace(
        c.callee.0,
        c.callee.1,
        format!("{client}.{}", if stream_form { "stream" } else { "get" }),
        Origin::Requests,
    )];
    if stream_form {
        let first = args.named_child(0).ok_or("no URL")?;
        edits.push(Edit::insert(
            first.start_byte(),
            "\"GET\", ",
            Origin::Requests,
        ));
    }
    Ok(Mapped {
        edits,
        verify: Vec::new(),
        stream: false,
    })
}

/// A string expression or a name, read in function `scope`: not obviously a
/// `urllib.request.Request(...)`. A call only when it resolves to one of `text_calls`.
fn is_url_like(cx: &PassCx, scope: Option<usize>, n: &Node) -> bool {
    match n.kind() {
        "string" | "concatenated_string" | "binary_operator" | "identifier" | "attribute" => true,
        "call" => n
            .child_by_field_name("function")
            .and_then(|f| cx.qualified(scope, f))
            .is_some_and(|q| names(cx).text_calls.contains(&q)),
        _ => false,
    }
}

enum Body {
    /// Bytes or text: httpx's `content=`.
    Raw,
    /// A mapping: form-encoded by both.
    Form,
    /// A list of pairs: form-encoded by requests, not by httpx.
    Pairs,
    /// httpx's `data=` still sends bytes or text as they are (with a deprecation warning).
    Unknown,
}

/// What body `v`, read in function `scope`, is: a call by what its callee resolves to
/// (`from json import dumps`; a local `dict` is not the builtin).
fn body_kind(cx: &PassCx, scope: Option<usize>, v: Node) -> Body {
    match v.kind() {
        "string" | "concatenated_string" => Body::Raw,
        "dictionary" | "dictionary_comprehension" => Body::Form,
        "list" | "tuple" | "list_comprehension" => Body::Pairs,
        "call" => {
            let Some(f) = v.child_by_field_name("function") else {
                return Body::Unknown;
            };
            let method = f
                .child_by_field_name("attribute")
                .filter(|_| f.kind() == "attribute")
                .map(|a| &cx.src()[a.byte_range()]);
            let q = cx.qualified(scope, f).unwrap_or_default();
            let n = names(cx);
            if method.is_some_and(|m| n.raw_methods.iter().any(|r| r == m))
                || n.raw_bodies.contains(&q)
            {
                Body::Raw
            } else if n.form_bodies.contains(&q) {
                Body::Form
            } else {
                Body::Unknown
            }
        }
        _ => Body::Unknown,
    }
}

/// Removes argument `i` of `list` with the comma that separates it.
fn remove_arg(list: &[Node], i: usize) -> Edit {
    let a = list[i];
    let (s, e) = if i > 0 {
        (list[i - 1].end_byte(), a.end_byte())
    } else if let Some(next) = list.get(1) {
        (a.start_byte(), next.start_byte())
    } else {
        (a.start_byte(), a.end_byte())
    };
    Edit::replace(s, e, "", Origin::Requests)
}

/// The functions whose helper calls share a client, decided the same way for every call of
/// one module (the catalog pass rewrites calls one by one; [`run`] wraps the bodies).
fn plan(cx: &PassCx) -> BTreeMap<usize, Scope> {
    let mut scopes: BTreeMap<usize, Scope> = BTreeMap::new();
    let mut verifies: BTreeMap<usize, Vec<(usize, Vec<String>)>> = BTreeMap::new();
    for c in cx.calls {
        let Target::Rule(q) = &c.target else { continue };
        let Some(f) = c.caller else { continue };
        if !names(cx).helpers.contains(q) || !cx.call_is_awaited(c) {
            continue;
        }
        let scope = scopes.entry(f).or_insert_with(|| Scope {
            client: client_name(cx, f),
            ctor: Vec::new(),
            calls: BTreeMap::new(),
        });
        let result = with_form(cx, c).and_then(|form| {
            if *q == names(cx).urlopen {
                urlopen_args(cx, c, "client", form.is_some()).map(|_| Vec::new())
            } else {
                let method = q.rsplit('.').next().unwrap_or("get");
                map_args(cx, c, method, "client", false, form.is_some()).map(|m| m.verify)
            }
        });
        match result {
            Ok(v) => {
                verifies.entry(f).or_default().push((c.start, v));
                scope.calls.insert(c.start, None);
            }
            Err(why) => {
                scope.calls.insert(c.start, Some(why));
            }
        }
    }
    for (f, scope) in scopes.iter_mut() {
        if !wrappable(cx, *f) {
            for why in scope.calls.values_mut() {
                why.get_or_insert_with(|| "the function body is on its `def` line".into());
            }
            continue;
        }
        let calls = verifies.remove(f).unwrap_or_default();
        let distinct: BTreeSet<&Vec<String>> = calls.iter().map(|(_, v)| v).collect();
        if distinct.len() == 1 {
            scope.ctor = calls[0].1.clone();
        } else {
            for (start, v) in &calls {
                if !v.is_empty() {
                    scope.calls.insert(
                        *start,
                        Some("`verify=`/`cert=` differ between the calls of this function".into()),
                    );
                }
            }
        }
    }
    scopes
}

/// Whether the call is the value of a `with` item (`with urlopen(url) as r:`).
fn with_item(cx: &PassCx, c: &CallFact) -> bool {
    let mut n = cx.node(c.start, c.end).and_then(|n| n.parent());
    while let Some(p) = n {
        match p.kind() {
            "as_pattern" | "parenthesized_expression" => n = p.parent(),
            "with_item" => return true,
            _ => return false,
        }
    }
    false
}

/// A name for the client that nothing in the function already uses.
fn client_name(cx: &PassCx, f: usize) -> String {
    let def = &cx.module().index.functions[f];
    let mut used = BTreeSet::new();
    if let Some(n) = cx.node(def.start, def.end) {
        identifiers(n, cx.src(), &mut used);
    }
    ["client", "http_client", "http"]
        .iter()
        .map(|s| s.to_string())
        .chain((2..).map(|i| format!("client{i}")))
        .find(|n| !used.contains(n.as_str()))
        .expect("an unused name exists")
}

fn identifiers<'a>(n: Node, src: &'a str, out: &mut BTreeSet<&'a str>) {
    if n.kind() == "identifier" {
        out.insert(&src[n.byte_range()]);
    }
    let mut cursor = n.walk();
    for c in n.children(&mut cursor) {
        identifiers(c, src, out);
    }
}

/// The function's body block, if it starts on a line of its own.
fn body_block<'a>(cx: &PassCx<'a>, f: usize) -> Option<Node<'a>> {
    let def = &cx.module().index.functions[f];
    let node = cx.node(def.start, def.end)?;
    let body = node.child_by_field_name("body")?;
    let mut cursor = node.walk();
    let colon = node
        .children(&mut cursor)
        .filter(|c| c.kind() == ":")
        .last()?;
    cx.src()[colon.end_byte()..body.start_byte()]
        .contains('\n')
        .then_some(body)
}

fn wrappable(cx: &PassCx, f: usize) -> bool {
    body_block(cx, f).is_some()
}

/// Wraps the statements of each planned function that use its client, from the first to the
/// last, in `async with httpx.AsyncClient(...) as client:`.
/// The edit layer indents the text other passes insert in the wrapped lines and skips lines
/// they delete ([`crate::edit::reindent`]).
pub fn run(cx: &PassCx, out: &mut PassOut) {
    let scopes = plan(cx);
    // Inner functions first: the outer wrap then indents the inner one's header too.
    let mut order: Vec<(usize, &Scope)> = scopes
        .iter()
        .filter(|(_, s)| s.calls.values().any(Option::is_none))
        .map(|(f, s)| (*f, s))
        .collect();
    order.sort_by_key(|(f, _)| std::cmp::Reverse(cx.module().index.functions[*f].start));
    for (f, scope) in order {
        wrap(cx, f, scope, out);
    }
}

fn wrap(cx: &PassCx, f: usize, scope: &Scope, out: &mut PassOut) {
    let (Some(body), src) = (body_block(cx, f), cx.src()) else {
        return;
    };
    // The run of statements from the first to the last that uses the client.
    let uses: Vec<usize> = scope
        .calls
        .iter()
        .filter(|(_, why)| why.is_none())
        .map(|(&at, _)| at)
        .collect();
    let mut cursor = body.walk();
    let stmts: Vec<Node> = body
        .named_children(&mut cursor)
        .filter(|s| s.kind() != "comment")
        .filter(|s| {
            uses.iter()
                .any(|&u| s.start_byte() <= u && u < s.end_byte())
        })
        .collect();
    let (Some(first), Some(last)) = (stmts.first(), stmts.last()) else {
        return;
    };
    let module = cx.module();
    let nl = module.source.newline;
    let unit = module.source.indent.as_str();
    let indent = cx.line_indent(first.start_byte());
    let start = first.start_byte();
    let end = last.end_byte();
    let ctor = scope
        .ctor
        .iter()
        .map(|a| format!(", {a}"))
        .collect::<String>();
    let header = format!(
        "async with {}{ctor}) as {}:{nl}{indent}{unit}",
        client_ctor(cx),
        scope.client
    );

    let mut strings = Vec::new();
    string_spans(body, &mut strings);
    // Every later line of the region moves one level in; the edit layer indents what other
    // passes write inside it.
    let mut lines = Vec::new();
    let mut ls = src[start..].find('\n').map(|i| start + i + 1);
    while let Some(at) = ls.filter(|&at| at < end) {
        let line_end = src[at..].find('\n').map_or(src.len(), |i| at + i);
        let blank = src[at..line_end].trim().is_empty();
        let in_string = strings.iter().any(|&(s, e)| s < at && at < e);
        if !blank && !in_string {
            lines.push(at);
        }
        ls = (line_end < src.len()).then_some(line_end + 1);
    }
    out.reindents.push(Reindent {
        start,
        end,
        unit: unit.to_string(),
        lines,
        header,
        origin: Origin::RequestsClient,
    });
    out.imports.insert(httpx_module(cx).into());
    out.packages.insert("httpx".into());
}

fn string_spans(n: Node, out: &mut Vec<(usize, usize)>) {
    if n.kind() == "string" {
        if n.start_position().row != n.end_position().row {
            out.push((n.start_byte(), n.end_byte()));
        }
        return;
    }
    let mut cursor = n.walk();
    for c in n.children(&mut cursor) {
        string_spans(c, out);
    }
}

/// The module the new client lives in (`httpx`).
fn httpx_module<'c>(cx: &PassCx<'c>) -> &'c str {
    crate::names::module(&names(cx).async_client)
}
