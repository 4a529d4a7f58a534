//! `blocking-call-in-coroutine`: a known blocking call left inside code that is async in the
//! output, which no catalog rule rewrote or reported, is reported.
//!
//! Why: one blocking call in a coroutine stops every task on the loop for its duration
//! (ruff's flake8-async rules ASYNC210–251 flag them). The catalog rewrites most of them
//! (`time.sleep` → `asyncio.sleep`, `to_thread`, httpx, aiofiles); this pass is the safety
//! net that keeps the promise "rewritten or reported" for the names of those ruff rules that
//! the catalog does not (yet) cover, so no blocking call in a coroutine passes silently.
//!
//! ```python
//! async def handler():
//!     subprocess.run(["ls"])   # reported: ASYNC221, suggest asyncio.create_subprocess_exec
//! ```
//!
//! Names are matched after resolving imports (`from os import system as sh`), builtins by
//! their bare name when not rebound, and methods on receivers whose type is plain from the
//! code: a constructor call (`Path(p).read_text()`), a local bound only to one, or a
//! parameter annotation (`client: httpx.Client | None`). Calls inside a nested `def` or a
//! `lambda` (`to_thread(lambda: input())`) are not in the coroutine and are not reported.
//! Only reports; never rewrites.

use super::{PassCx, PassOut};
use tree_sitter::Node;

/// Blocking functions by qualified name, the ruff rule that flags them, and the advice.
const FUNCTIONS: &[(&[&str], &str, &str)] = &[
    (
        &[
            "urllib.request.urlopen",
            "urllib3.request",
            "requests.get",
            "requests.post",
            "requests.put",
            "requests.patch",
            "requests.delete",
            "requests.head",
            "requests.options",
            "requests.connect",
            "requests.trace",
            "httpx.get",
            "httpx.post",
            "httpx.put",
            "httpx.patch",
            "httpx.delete",
            "httpx.head",
            "httpx.options",
            "httpx.connect",
            "httpx.trace",
        ],
        "ASYNC210",
        "use `httpx.AsyncClient`, or `await asyncio.to_thread(...)`",
    ),
    (
        &[
            "subprocess.Popen",
            "os.popen",
            "os.spawnl",
            "os.spawnle",
            "os.spawnlp",
            "os.spawnlpe",
            "os.spawnv",
            "os.spawnve",
            "os.spawnvp",
            "os.spawnvpe",
        ],
        "ASYNC220",
        "use `asyncio.create_subprocess_exec` / `create_subprocess_shell`",
    ),
    (
        &[
            "os.system",
            "os.posix_spawn",
            "os.posix_spawnp",
            "subprocess.run",
            "subprocess.call",
            "subprocess.check_call",
            "subprocess.check_output",
            "subprocess.getoutput",
            "subprocess.getstatusoutput",
        ],
        "ASYNC221",
        "use `asyncio.create_subprocess_exec`, or `await asyncio.to_thread(...)`",
    ),
    (
        &["os.wait", "os.wait3", "os.wait4", "os.waitid", "os.waitpid"],
        "ASYNC222",
        "use `await proc.wait()` on an asyncio process, or `await asyncio.to_thread(...)`",
    ),
    (
        &["open", "builtins.open", "io.open", "io.open_code"],
        "ASYNC230",
        "use `aiofiles.open`, or read/write the file in `await asyncio.to_thread(...)`",
    ),
    (
        &[
            "os.path.abspath",
            "os.path.exists",
            "os.path.expanduser",
            "os.path.getatime",
            "os.path.getctime",
            "os.path.getmtime",
            "os.path.getsize",
            "os.path.isdevdrive",
            "os.path.isdir",
            "os.path.isfile",
            "os.path.isjunction",
            "os.path.islink",
            "os.path.ismount",
            "os.path.lexists",
            "os.path.realpath",
            "os.path.relpath",
            "os.path.samefile",
            "os.path.sameopenfile",
        ],
        "ASYNC240",
        "use `aiofiles.os.path`, or `await asyncio.to_thread(...)`",
    ),
    (
        &["input", "builtins.input"],
        "ASYNC250",
        "use `await asyncio.to_thread(input, ...)`",
    ),
    (
        &["time.sleep"],
        "ASYNC251",
        "use `await asyncio.sleep(...)`",
    ),
];

const PATH_TYPES: &[&str] = &[
    "pathlib.Path",
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
    "pathlib.PurePath",
    "pathlib.PurePosixPath",
    "pathlib.PureWindowsPath",
];

/// `pathlib.Path` methods that do I/O (ASYNC240's, plus `open` from ASYNC230).
const PATH_METHODS: &[&str] = &[
    "absolute",
    "chmod",
    "exists",
    "expanduser",
    "glob",
    "group",
    "hardlink_to",
    "is_block_device",
    "is_char_device",
    "is_dir",
    "is_fifo",
    "is_file",
    "is_junction",
    "is_mount",
    "is_socket",
    "is_symlink",
    "iterdir",
    "lchmod",
    "link_to",
    "lstat",
    "mkdir",
    "open",
    "owner",
    "read_bytes",
    "read_text",
    "readlink",
    "rename",
    "replace",
    "resolve",
    "rglob",
    "rmdir",
    "samefile",
    "stat",
    "symlink_to",
    "touch",
    "unlink",
    "walk",
    "write_bytes",
    "write_text",
];

const HTTPX_CLIENT_METHODS: &[&str] = &[
    "close", "delete", "get", "head", "options", "patch", "post", "put", "request", "send",
    "stream",
];

pub fn run(cx: &PassCx, out: &mut PassOut) {
    // By range: `Path(p).iterdir()` starts where its receiver call `Path(p)` does.
    let handled: std::collections::HashSet<(usize, usize)> =
        cx.calls.iter().map(|c| (c.start, c.end)).collect();
    for (i, def) in cx.module().index.functions.iter().enumerate() {
        if !cx.colour.async_funcs.contains(&cx.fid(i)) {
            continue;
        }
        let Some(func) = cx.node(def.start, def.end) else {
            continue;
        };
        let Some(body) = func.child_by_field_name("body") else {
            continue;
        };
        let mut calls = Vec::new();
        own_calls(body, &mut calls);
        for call in calls {
            if handled.contains(&(call.start_byte(), call.end_byte())) || already_awaited(call) {
                continue;
            }
            if let Some((what, rule, advice)) = blocking(cx, i, func, call) {
                let pos = call.start_position();
                out.diagnostics.push(cx.diag(
                    pos.row + 1,
                    pos.column + 1,
                    "blocking-call-in-coroutine",
                    format!("`{what}` blocks the event loop inside a coroutine ({rule}); {advice}"),
                ));
            }
            passed_blocking(cx, i, call, out);
        }
    }
}

/// A blocking function handed on as a value inside a coroutine (`partial(time.sleep, 1)`,
/// `loop.call_soon(time.sleep, 1)`): whoever calls it blocks the event loop, and nothing
/// here can await it. Reported, not rewritten.
fn passed_blocking(cx: &PassCx, f: usize, call: Node, out: &mut PassOut) {
    let Some(args) = call.child_by_field_name("arguments") else {
        return;
    };
    let callee = call
        .child_by_field_name("function")
        .map_or("", |c| &cx.src()[c.byte_range()]);
    // Handed to a thread: the way to call it from a coroutine.
    let last = callee.rsplit('.').next().unwrap_or_default();
    if matches!(
        last,
        "to_thread" | "run_in_executor" | "submit" | "Thread" | "map"
    ) {
        return;
    }
    let mut cursor = args.walk();
    for a in args.named_children(&mut cursor) {
        let value = match a.kind() {
            "keyword_argument" => a.child_by_field_name("value"),
            _ => Some(a),
        };
        let Some(q) = value.and_then(|v| qualified(cx, f, v)) else {
            continue;
        };
        let blocks = cx.cat.call(&q).is_some_and(|e| {
            e.action != crate::rules::Action::Report
                && (e.awaited || e.action == crate::rules::Action::ToThread)
        }) || FUNCTIONS
            .iter()
            .any(|(names, ..)| names.contains(&q.as_str()));
        if blocks {
            let pos = a.start_position();
            out.diagnostics.push(cx.diag(
                pos.row + 1,
                pos.column + 1,
                "blocking-callable-passed",
                format!(
                    "the blocking `{q}` is passed as a value to `{callee}` inside a coroutine: whatever calls it blocks the event loop, and awaitify cannot rewrite it (pass an async function instead, or run it with `asyncio.to_thread`)"
                ),
            ));
        }
    }
}

/// Calls in this function's own code: not in nested functions, lambdas or classes.
fn own_calls<'a>(node: Node<'a>, out: &mut Vec<Node<'a>>) {
    match node.kind() {
        "function_definition" | "class_definition" | "lambda" => return,
        "call" => out.push(node),
        _ => {}
    }
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        own_calls(child, out);
    }
}

/// `await x.open()` on something async already (aiofiles, anyio) is not blocking.
fn already_awaited(call: Node) -> bool {
    call.parent().is_some_and(|p| p.kind() == "await")
}

fn blocking(
    cx: &PassCx,
    f: usize,
    func: Node,
    call: Node,
) -> Option<(String, &'static str, &'static str)> {
    let callee = call.child_by_field_name("function")?;
    if let Some(q) = qualified(cx, f, callee) {
        for (names, rule, advice) in FUNCTIONS {
            if names.contains(&q.as_str()) {
                return Some((q, rule, advice));
            }
        }
        return None;
    }
    if callee.kind() != "attribute" {
        return None;
    }
    let method = &cx.src()[callee.child_by_field_name("attribute")?.byte_range()];
    let recv = callee.child_by_field_name("object")?;
    let ty = receiver_type(cx, f, func, recv)?;
    if PATH_TYPES.contains(&ty.as_str()) && PATH_METHODS.contains(&method) {
        let rule = if method == "open" {
            "ASYNC230"
        } else {
            "ASYNC240"
        };
        return Some((
            format!("Path.{method}"),
            rule,
            "use `aiofiles`/`aiofiles.os`, or `await asyncio.to_thread(...)`",
        ));
    }
    if ty == "httpx.Client" && HTTPX_CLIENT_METHODS.contains(&method) {
        return Some((
            format!("httpx.Client.{method}"),
            "ASYNC212",
            "use an `httpx.AsyncClient` and await its methods",
        ));
    }
    None
}

/// The qualified name a dotted callee stands for, unless a local or a module value shadows it.
fn qualified(cx: &PassCx, f: usize, callee: Node) -> Option<String> {
    if !matches!(callee.kind(), "identifier" | "attribute") {
        return None;
    }
    let text = &cx.src()[callee.byte_range()];
    if !text
        .split('.')
        .all(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'))
    {
        return None;
    }
    let (head, tail) = match text.split_once('.') {
        Some((h, t)) => (h, Some(t)),
        None => (text, None),
    };
    if shadowed(cx, f, head) {
        return None;
    }
    let index = &cx.module().index;
    let base = match index.binding(head) {
        Some(crate::index::Binding::Import(q)) => q.to_string(),
        None if !index.bindings.contains_key(head) => head.to_string(),
        _ => return None,
    };
    Some(match tail {
        Some(t) => format!("{base}.{t}"),
        None => base,
    })
}

fn shadowed(cx: &PassCx, f: usize, name: &str) -> bool {
    let functions = &cx.module().index.functions;
    let mut cur = Some(f);
    while let Some(g) = cur {
        let def = &functions[g];
        if def.locals.contains(name) || def.params.iter().any(|p| p.name == name) {
            return true;
        }
        cur = def.parent;
    }
    false
}

/// The type of a method receiver when the code makes it plain.
fn receiver_type(cx: &PassCx, f: usize, func: Node, recv: Node) -> Option<String> {
    match recv.kind() {
        "call" => constructed(cx, f, recv),
        "identifier" => {
            let name = &cx.src()[recv.byte_range()];
            let def = &cx.module().index.functions[f];
            if let Some(p) = def.params.iter().find(|p| p.name == name) {
                return annotated(cx, p.annotation.as_deref()?);
            }
            // Every assignment to the name in this function constructs the same type.
            let mut types = Vec::new();
            assignments(cx, func, name, &mut types);
            let first = types.first()?.clone()?;
            types
                .iter()
                .all(|t| t.as_deref() == Some(&first))
                .then_some(first)
        }
        _ => None,
    }
}

fn constructed(cx: &PassCx, f: usize, call: Node) -> Option<String> {
    let callee = call.child_by_field_name("function")?;
    let q = qualified(cx, f, callee)?;
    (PATH_TYPES.contains(&q.as_str()) || q == "httpx.Client").then_some(q)
}

fn assignments(cx: &PassCx, node: Node, name: &str, out: &mut Vec<Option<String>>) {
    if node.kind() == "assignment" {
        let left = node.child_by_field_name("left");
        if left.is_some_and(|l| l.kind() == "identifier" && &cx.src()[l.byte_range()] == name) {
            let f = cx.module().index.function_at(node.start_byte());
            let ty = node
                .child_by_field_name("right")
                .filter(|r| r.kind() == "call")
                .and_then(|r| constructed(cx, f?, r));
            out.push(ty);
        }
    }
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        assignments(cx, child, name, out);
    }
}

/// `Path`, `pathlib.Path | None`, `Optional[httpx.Client]`.
fn annotated(cx: &PassCx, ann: &str) -> Option<String> {
    let ann = ann.trim().trim_matches(['"', '\'']);
    let ann = ann
        .strip_prefix("Optional[")
        .or_else(|| ann.strip_prefix("typing.Optional["))
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(ann);
    let ann = ann
        .split('|')
        .map(str::trim)
        .find(|p| *p != "None")
        .unwrap_or(ann);
    let (head, tail) = match ann.split_once('.') {
        Some((h, t)) => (h, Some(t)),
        None => (ann, None),
    };
    let base = match cx.module().index.binding(head) {
        Some(crate::index::Binding::Import(q)) => q.to_string(),
        _ => return None,
    };
    let q = match tail {
        Some(t) => format!("{base}.{t}"),
        None => base,
    };
    (PATH_TYPES.contains(&q.as_str()) || q == "httpx.Client").then_some(q)
}
