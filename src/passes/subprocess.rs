//! `subprocess`: `subprocess.run` / `call` / `check_call` / `check_output` and `Popen` become
//! `asyncio.create_subprocess_exec` / `create_subprocess_shell` with awaited
//! `communicate()` / `wait()`.
//!
//! Why: the sync helpers fork, exec and then wait for the child (and read its pipes) on the
//! calling thread, so in a coroutine the event loop stops for the child's whole lifetime.
//!
//! ```python
//! result = subprocess.run(["ls", "-1"], capture_output=True, text=True)
//! ```
//! becomes
//! ```python
//! proc = await asyncio.create_subprocess_exec("ls", "-1", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
//! stdout, stderr = await proc.communicate()
//! result = subprocess.CompletedProcess(["ls", "-1"], proc.returncode, stdout.decode(), stderr.decode())
//! ```
//!
//! asyncio pipes carry bytes only, so text mode (`text`, `universal_newlines`, `encoding`,
//! `errors`) becomes `.encode()` of the input and `.decode()` of what was captured;
//! `check=True` / `check_*` raise the same `subprocess.CalledProcessError`, `timeout=` becomes
//! `asyncio.wait_for` plus a kill and `subprocess.TimeoutExpired`. A result used as a value
//! is rebuilt as a `subprocess.CompletedProcess` with the same fields. A `Popen` bound to a
//! local is converted with every use of it (`communicate`, `wait`, `returncode`, `pid`,
//! `kill`, `terminate`, `send_signal`, `stdout.read()`), or not at all.
//!
//! A call that a statement expansion cannot reach (inside a larger expression, a
//! comprehension), a list command with `shell=True`, a dynamic `shell=`/`text=` or an
//! argument asyncio does not take runs unchanged in a worker thread,
//! `await asyncio.to_thread(subprocess.run, ...)`, with a diagnostic. A `Popen` whose object
//! escapes (returned, stored, used with `with`, `poll()`) is left alone and reported.
//!
//! Unsafe when: the command is a variable holding a *string* without `shell=True` (it is
//! splatted as `*cmd`); text mode decodes with UTF-8 (or the given encoding) where
//! `subprocess` uses the locale's encoding, and it does not translate `\r\n` to `\n`; on a
//! timeout, `TimeoutExpired` carries no partial output.

use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin};
use crate::matcher::{CallFact, Target, qualified_name};
use crate::parse::text;
use crate::rules::{Action, CallEntry};
use std::collections::HashSet;
use tree_sitter::Node;

/// Keywords `asyncio.create_subprocess_*` passes on to `Popen` unchanged.
const PASS_THROUGH: &[&str] = &[
    "cwd",
    "env",
    "executable",
    "start_new_session",
    "process_group",
    "preexec_fn",
    "close_fds",
    "pass_fds",
    "restore_signals",
    "user",
    "group",
    "extra_groups",
    "umask",
];

/// Longest line an expansion writes on one line (black's default).
const WIDTH: usize = 88;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Run,
    Call,
    CheckCall,
    CheckOutput,
    Popen,
}

/// Where a standard stream goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stream {
    /// Inherited, `DEVNULL`, `STDOUT`, a file: nothing is captured.
    Free,
    /// `PIPE`: captured.
    Pipe,
    /// Unknown until run time.
    Dynamic,
}

/// A call understood well enough to rewrite.
struct Spec {
    api: Api,
    shell: bool,
    /// Source text of the command expression.
    cmd: String,
    /// Whether `cmd` may be evaluated twice (literals, names, attribute chains).
    cmd_simple: bool,
    /// Arguments of the `create_subprocess_*` call, each as source text.
    creator: Vec<String>,
    /// How many of `creator`'s first arguments spell the command.
    cmd_items: usize,
    /// `(".decode(...)", ".encode(...)")` in text mode.
    text: Option<(String, String)>,
    /// The input expression, parenthesised when it is not a primary.
    input: Option<String>,
    stdout: Stream,
    stderr: Stream,
    check: bool,
    timeout: Option<String>,
}

/// Entry point from `passes::family`. Returns whether the call was handled (rewritten, or
/// deliberately kept with its own diagnostic).
pub fn rewrite(cx: &PassCx, c: &CallFact, _entry: &CallEntry, out: &mut PassOut) -> bool {
    match &c.target {
        Target::Rule(q) => {
            let n = &cx.cat.names().subprocess;
            let api = [
                (&n.run, Api::Run),
                (&n.call, Api::Call),
                (&n.check_call, Api::CheckCall),
                (&n.check_output, Api::CheckOutput),
                (&n.popen, Api::Popen),
            ];
            let Some(&(_, api)) = api.iter().find(|(name, _)| *name == q) else {
                return false;
            };
            if api == Api::Popen {
                popen(cx, c, out)
            } else {
                helper(cx, c, api, out)
            }
        }
        Target::Method { name, .. } => popen_method(cx, c, name, out),
        _ => false,
    }
}

// ---- run / call / check_call / check_output ---------------------------------------------

fn helper(cx: &PassCx, c: &CallFact, api: Api, out: &mut PassOut) -> bool {
    let Some(call) = cx.node(c.start, c.end) else {
        return false;
    };
    let spec = match parse_spec(cx, c, call, api) {
        Ok(s) => s,
        Err(why) => return to_thread(cx, c, call, &why, "subprocess-argument", out),
    };
    let Some(stmt) = statement_of(cx, call) else {
        let why = "it sits inside a larger expression, where the statements an asyncio \
                   subprocess needs cannot go";
        return to_thread(cx, c, call, why, "subprocess-in-expression", out);
    };
    if nested_edits(cx, c) {
        let why = "its arguments hold other calls that change";
        return to_thread(cx, c, call, why, "subprocess-in-expression", out);
    }
    let names = Names::new(cx, c);
    let lines = expand(cx, &spec, &stmt, &names);
    let indent = cx.line_indent(stmt.node.start_byte());
    let nl = cx.module().source.newline;
    let text = lines
        .iter()
        .map(|l| l.render(indent, &cx.module().source.indent, nl))
        .collect::<Vec<_>>()
        .join(nl);
    out.edits.push(Edit::replace(
        stmt.node.start_byte(),
        stmt.node.end_byte(),
        &text[indent.len()..],
        Origin::Subprocess,
    ));
    out.imports
        .insert(crate::names::module(&cx.cat.names().subprocess.create_exec).into());
    if text.contains(&format!("{}.", subprocess_name(cx))) {
        need_subprocess(cx, out);
    }
    out.rewritten += 1;
    true
}

/// What the statement holding the call does with its value.
enum Use<'a> {
    Discard,
    Assign(&'a str),
    Return,
}

struct Stmt<'a> {
    node: Node<'a>,
    kind: Use<'a>,
}

/// The statement the call is the whole value of, if it stands on its own lines.
fn statement_of<'a>(cx: &PassCx<'a>, call: Node<'a>) -> Option<Stmt<'a>> {
    let src = cx.src();
    let parent = call.parent()?;
    let (node, kind) = match parent.kind() {
        "expression_statement" => (parent, Use::Discard),
        "return_statement" => (parent, Use::Return),
        "assignment" => {
            let left = parent.child_by_field_name("left")?;
            if parent.child_by_field_name("type").is_some()
                || !matches!(left.kind(), "identifier" | "attribute" | "subscript")
                || parent.child_by_field_name("right")?.id() != call.id()
            {
                return None;
            }
            let stmt = parent.parent()?;
            if stmt.kind() != "expression_statement" || stmt.named_child_count() != 1 {
                return None;
            }
            (stmt, Use::Assign(text(left, src)))
        }
        _ => return None,
    };
    if !matches!(node.parent()?.kind(), "block" | "module") {
        return None;
    }
    // Alone on its lines: nothing but indentation before, nothing but a comment after.
    let start = node.start_byte();
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let rest = &src[node.end_byte()..];
    let tail = rest.split('\n').next().unwrap_or("").trim();
    if !src[line_start..start].trim().is_empty() || !(tail.is_empty() || tail.starts_with('#')) {
        return None;
    }
    Some(Stmt { node, kind })
}

/// Whether another pass edits something inside this call (an awaited call in its
/// arguments): a statement expansion would overwrite those edits.
fn nested_edits(cx: &PassCx, c: &CallFact) -> bool {
    let inside = |s: usize, e: usize| c.start <= s && e <= c.end && (s, e) != (c.start, c.end);
    let rewritten = |o: &CallFact| {
        let entry = match &o.target {
            Target::Rule(q) => cx.cat.call(q),
            Target::Method { ty, name } => cx.cat.method(ty, name),
            _ => None,
        };
        entry.is_some_and(|e| !matches!(e.action, Action::Keep | Action::Report))
    };
    cx.calls
        .iter()
        .any(|o| inside(o.start, o.end) && (cx.call_is_awaited(o) || rewritten(o)))
        || cx.facts.names.iter().any(|n| inside(n.start, n.end))
}

/// One generated line, or a block header with its body.
enum Line {
    Code(String),
    Block(String, Vec<Line>),
}

impl Line {
    fn render(&self, indent: &str, unit: &str, nl: &str) -> String {
        match self {
            Line::Code(s) => indent_lines(s, indent, nl),
            Line::Block(head, body) => {
                let inner = format!("{indent}{unit}");
                let mut s = format!("{indent}{head}");
                for l in body {
                    s.push_str(nl);
                    s.push_str(&l.render(&inner, unit, nl));
                }
                s
            }
        }
    }
}

/// Indents every line of `s` (a call may wrap over several).
fn indent_lines(s: &str, indent: &str, nl: &str) -> String {
    s.split('\n')
        .map(|l| format!("{indent}{l}"))
        .collect::<Vec<_>>()
        .join(nl)
}

/// Fresh local names for the expansion, avoiding every identifier the function uses.
struct Names {
    proc: String,
    stdout: String,
    stderr: String,
    cmd: String,
    indent_width: usize,
}

impl Names {
    fn new(cx: &PassCx, c: &CallFact) -> Names {
        let mut used = HashSet::new();
        if let Some(f) = c.caller {
            let def = &cx.module().index.functions[f];
            if let Some(n) = cx.node(def.start, def.end) {
                identifiers(n, cx.src(), &mut used);
            }
        }
        let pick = |options: &[&str]| -> String {
            for o in options {
                if !used.contains(*o) {
                    return o.to_string();
                }
            }
            (2..)
                .map(|i| format!("{}{i}", options[0]))
                .find(|n| !used.contains(n.as_str()))
                .unwrap_or_default()
        };
        Names {
            proc: pick(&["proc", "process", "child"]),
            stdout: pick(&["stdout", "out", "output"]),
            stderr: pick(&["stderr", "err", "errors"]),
            cmd: pick(&["cmd", "command", "argv"]),
            indent_width: cx.line_indent(c.start).len(),
        }
    }
}

/// Names a new local could clash with (not attribute or keyword names).
fn identifiers(n: Node, src: &str, out: &mut HashSet<String>) {
    if n.kind() == "identifier" {
        let field_of = |kind: &str, field: &str| {
            n.parent().is_some_and(|p| {
                p.kind() == kind
                    && p.child_by_field_name(field)
                        .is_some_and(|c| c.id() == n.id())
            })
        };
        if !field_of("attribute", "attribute") && !field_of("keyword_argument", "name") {
            out.insert(text(n, src).to_string());
        }
        return;
    }
    let mut cursor = n.walk();
    for ch in n.children(&mut cursor) {
        identifiers(ch, src, out);
    }
}

/// The statements replacing `stmt`.
fn expand(cx: &PassCx, spec: &Spec, stmt: &Stmt, n: &Names) -> Vec<Line> {
    let sp = subprocess_name(cx);
    let mut lines = Vec::new();
    let cmd =
        if spec.cmd_simple || !(spec.check || spec.timeout.is_some() || needs_result(spec, stmt)) {
            spec.cmd.clone()
        } else {
            lines.push(Line::Code(format!("{} = {}", n.cmd, spec.cmd)));
            n.cmd.clone()
        };
    let creator_fn = creator_function(cx, spec);
    let mut creator = spec.creator.clone();
    if !spec.cmd_simple && cmd == n.cmd {
        let bound = if spec.shell {
            n.cmd.clone()
        } else {
            format!("*{}", n.cmd)
        };
        creator.splice(0..spec.cmd_items, [bound]);
    }
    let head = format!("{} = await ", n.proc);
    lines.push(Line::Code(format!(
        "{head}{}",
        format_call(creator_fn, &creator, n.indent_width, head.len())
    )));

    let captured = spec.stdout == Stream::Pipe || spec.stderr == Stream::Pipe;
    let p = &n.proc;
    let waits = wait_call(spec, stmt, n, captured);
    let decode = |s: &Stream, name: &str| match (s, &spec.text) {
        (Stream::Pipe, Some((dec, _))) => format!("{name}{dec}"),
        (Stream::Pipe, None) => name.to_string(),
        _ => "None".to_string(),
    };
    let out_val = decode(&spec.stdout, &n.stdout);
    let err_val = decode(&spec.stderr, &n.stderr);

    // The value the statement used, and whether `wait()` can hand it over directly.
    let plain_call = matches!(spec.api, Api::Call) && waits.0.is_empty() && spec.timeout.is_none();
    if let Some(t) = &spec.timeout {
        let t = t.clone();
        let core = &cx.cat.names().core;
        lines.push(Line::Block(
            "try:".into(),
            vec![Line::Code(format!(
                "{}await {}({}, {t})",
                waits.0, core.wait_for, waits.1
            ))],
        ));
        lines.push(Line::Block(
            format!("except {}:", core.timeout_error),
            vec![
                Line::Code(format!("{p}.kill()")),
                Line::Code(format!("await {p}.wait()")),
                Line::Code(format!("raise {sp}.TimeoutExpired({cmd}, {t}) from None")),
            ],
        ));
    } else if plain_call && !matches!(stmt.kind, Use::Discard) {
        let lead = match stmt.kind {
            Use::Assign(t) => format!("{t} = "),
            _ => "return ".into(),
        };
        lines.push(Line::Code(format!("{lead}await {}", waits.1)));
        return lines;
    } else {
        lines.push(Line::Code(format!("{}await {}", waits.0, waits.1)));
    }

    if spec.check {
        let mut fields = vec![format!("{p}.returncode"), cmd.clone()];
        if spec.api == Api::CheckOutput || captured {
            fields.push(out_val.clone());
        }
        if spec.stderr == Stream::Pipe {
            fields.push(err_val.clone());
        }
        lines.push(raise_if_failed(&sp, p, fields, n.indent_width));
    }

    let value = match spec.api {
        Api::Run => {
            let mut fields = vec![cmd.clone(), format!("{p}.returncode"), out_val, err_val];
            while fields.len() > 2 && fields.last().is_some_and(|f| f == "None") {
                fields.pop();
            }
            Some((format!("{sp}.CompletedProcess"), fields))
        }
        Api::CheckOutput => Some((out_val, Vec::new())),
        _ => Some((format!("{p}.returncode"), Vec::new())),
    };
    let Some((head, fields)) = value else {
        return lines;
    };
    let lead = match stmt.kind {
        Use::Discard => return lines,
        Use::Assign(t) => format!("{t} = "),
        Use::Return => "return ".into(),
    };
    let expr = if fields.is_empty() {
        head
    } else {
        format_call(&head, &fields, n.indent_width, lead.len())
    };
    lines.push(Line::Code(format!("{lead}{expr}")));
    lines
}

/// Waiting: `communicate` when there are pipes or input, else `wait`; the assignment
/// target for the captured streams the statement uses, and the call.
fn wait_call(spec: &Spec, stmt: &Stmt, n: &Names, captured: bool) -> (String, String) {
    let p = &n.proc;
    if !(captured || spec.input.is_some()) {
        return (String::new(), format!("{p}.wait()"));
    }
    let input = spec
        .input
        .as_ref()
        .map(|i| match &spec.text {
            Some((_, enc)) => format!("{i}{enc}"),
            None => i.clone(),
        })
        .unwrap_or_default();
    let used = spec.check || !matches!(stmt.kind, Use::Discard);
    let target = match (&spec.stdout, &spec.stderr) {
        _ if !used => String::new(),
        (Stream::Pipe, Stream::Pipe) => format!("{}, {} = ", n.stdout, n.stderr),
        (Stream::Pipe, _) => format!("{}, _ = ", n.stdout),
        (_, Stream::Pipe) => format!("_, {} = ", n.stderr),
        _ => String::new(),
    };
    (target, format!("{p}.communicate({input})"))
}

/// `if p.returncode: raise subprocess.CalledProcessError(...)`, without trailing `None`s.
fn raise_if_failed(sp: &str, p: &str, mut fields: Vec<String>, indent_width: usize) -> Line {
    while fields.len() > 2 && fields.last().is_some_and(|f| f == "None") {
        fields.pop();
    }
    let name = format!("{sp}.CalledProcessError");
    let raise = format!("raise {}", format_call(&name, &fields, indent_width + 4, 6));
    Line::Block(format!("if {p}.returncode:"), vec![Line::Code(raise)])
}

fn needs_result(spec: &Spec, stmt: &Stmt) -> bool {
    spec.api == Api::Run && !matches!(stmt.kind, Use::Discard)
}

/// `name(args)` on one line if it fits, else the arguments on a line of their own, else one
/// argument a line (black's shapes). `indent` is the line's indentation, `lead` the width
/// of what precedes `name` on the line.
fn format_call(name: &str, args: &[String], indent: usize, lead: usize) -> String {
    let joined = args.join(", ");
    if indent + lead + name.len() + joined.len() + 2 <= WIDTH
        || args.iter().any(|a| a.contains('\n'))
    {
        return format!("{name}({joined})");
    }
    if indent + 4 + joined.len() <= WIDTH {
        return format!("{name}(\n    {joined}\n)");
    }
    let mut s = format!("{name}(\n");
    for a in args {
        s.push_str(&format!("    {a},\n"));
    }
    s.push(')');
    s
}

/// `expr.method()` needs `(expr)` unless the expression is a primary.
fn paren(n: Node, src: &str) -> String {
    let t = text(n, src);
    match n.kind() {
        "identifier"
        | "attribute"
        | "call"
        | "subscript"
        | "string"
        | "parenthesized_expression"
        | "list"
        | "tuple"
        | "dictionary"
        | "set" => t.to_string(),
        _ => format!("({t})"),
    }
}

/// The name the file uses for the `subprocess` module.
fn subprocess_name(cx: &PassCx) -> String {
    cx.module()
        .index
        .imports
        .iter()
        .filter(|s| s.top_level && s.from_module.is_none())
        .flat_map(|s| s.names.iter())
        .find(|n| n.qualified == subprocess_module(cx))
        .map_or_else(
            || subprocess_module(cx).to_string(),
            |n| n.local.to_string(),
        )
}

/// `subprocess`, the module of the names a rewrite keeps (`TimeoutExpired`).
fn subprocess_module<'c>(cx: &PassCx<'c>) -> &'c str {
    crate::names::module(&cx.cat.names().subprocess.popen)
}

fn need_subprocess(cx: &PassCx, out: &mut PassOut) {
    let module = subprocess_module(cx);
    if subprocess_name(cx) == module {
        out.imports.insert(module.into());
    }
}

/// Leaves the call as it is, in a worker thread: `await asyncio.to_thread(f, ...)`.
fn to_thread(
    cx: &PassCx,
    c: &CallFact,
    call: Node,
    why: &str,
    code: &'static str,
    out: &mut PassOut,
) -> bool {
    let Some(args) = call.child_by_field_name("arguments") else {
        return false;
    };
    if args.kind() != "argument_list" {
        return false;
    }
    let what = &cx.src()[c.callee.0..c.callee.1];
    let sep = super::argument_separator(cx.src(), args);
    let to_thread = cx.cat.names().core.to_thread.as_str();
    out.edits.push(Edit::replace(
        c.callee.0,
        c.callee.1,
        to_thread,
        Origin::Subprocess,
    ));
    out.edits.push(Edit::insert(
        args.start_byte() + 1,
        format!("{what}{sep}"),
        Origin::Subprocess,
    ));
    out.imports.insert(crate::names::module(to_thread).into());
    super::awaits::await_node(call, out);
    out.diagnostics.push(cx.diag_at(
        c,
        code,
        format!("`{what}(...)` runs unchanged in a worker thread (`await {to_thread}`): {why}"),
    ));
    true
}

/// `asyncio.create_subprocess_shell` or `_exec`, as the call runs a shell or not.
fn creator_function<'a>(cx: &PassCx<'a>, spec: &Spec) -> &'a str {
    let n = &cx.cat.names().subprocess;
    if spec.shell {
        &n.create_shell
    } else {
        &n.create_exec
    }
}

// ---- reading the arguments --------------------------------------------------------------

fn parse_spec(cx: &PassCx, c: &CallFact, call: Node, api: Api) -> Result<Spec, String> {
    let src = cx.src();
    let pipe = &cx.cat.names().subprocess.async_pipe;
    let (cmd_node, kw) = call_arguments(call, src)?;
    let flag = |name: &str| -> Result<Option<bool>, String> {
        match kw.iter().find(|(k, _)| *k == name) {
            None => Ok(None),
            Some((_, v)) => match v.kind() {
                "true" => Ok(Some(true)),
                "false" | "none" => Ok(Some(false)),
                _ => Err(format!("`{name}=` is only known at run time")),
            },
        }
    };
    let shell = flag("shell")?.unwrap_or(false);
    let text_flag = flag("text")?.unwrap_or(false) || flag("universal_newlines")?.unwrap_or(false);
    let capture = flag("capture_output")?.unwrap_or(false);
    let check = flag("check")?.unwrap_or(false);
    let value = |name: &str| keyword_value(&kw, name);
    let encoding = value("encoding").map(|v| text(v, src).to_string());
    let errors = value("errors").map(|v| text(v, src).to_string());
    check_keywords(&kw, api)?;
    let text_mode = (text_flag || encoding.is_some() || errors.is_some()).then(|| {
        let a = match (&encoding, &errors) {
            (Some(e), Some(r)) => format!("{e}, {r}"),
            (Some(e), None) => e.clone(),
            (None, Some(r)) => format!("errors={r}"),
            (None, None) => String::new(),
        };
        (format!(".decode({a})"), format!(".encode({a})"))
    });

    let cmd_text = text(cmd_node, src).to_string();
    let mut creator = command_items(cmd_node, shell, src)?;

    let input = value("input").map(|v| match text_mode {
        Some(_) => paren(v, src),
        None => text(v, src).to_string(),
    });
    let (stdout, stderr) = streams(cx, c, &kw, api, capture)?;
    if text_mode.is_some() && (stdout == Stream::Dynamic || stderr == Stream::Dynamic) {
        return Err("in text mode, whether a stream is captured must be known".into());
    }
    if input.is_some() && value("stdin").is_some() {
        return Err("`input=` together with `stdin=`".into());
    }
    if api != Api::Popen && (stdout == Stream::Dynamic || stderr == Stream::Dynamic) {
        return Err("whether a stream is captured is only known at run time".into());
    }

    let cmd_items = creator.len();
    // Keyword arguments of the creator, in the order they were written.
    for (k, v) in &kw {
        let v = text(*v, src);
        match *k {
            "capture_output" if capture => {
                creator.push(format!("stdout={pipe}"));
                creator.push(format!("stderr={pipe}"));
            }
            "input" if input.is_some() => creator.push(format!("stdin={pipe}")),
            "stdin" | "stdout" | "stderr" => creator.push(format!("{k}={v}")),
            k if PASS_THROUGH.contains(&k) => creator.push(format!("{k}={v}")),
            _ => {}
        }
    }
    if api == Api::CheckOutput {
        creator.push(format!("stdout={pipe}"));
    }
    let timeout = value("timeout").map(|v| text(v, src).to_string());
    if value("timeout").is_some_and(|v| !simple(v)) {
        return Err("`timeout=` is not a plain value".into());
    }
    Ok(Spec {
        api,
        shell,
        cmd_simple: simple(cmd_node),
        cmd: cmd_text,
        creator,
        cmd_items,
        text: text_mode,
        input,
        stdout,
        stderr,
        check: check || matches!(api, Api::CheckCall | Api::CheckOutput),
        timeout,
    })
}

/// The value of keyword `name`, unless it is absent or `None`.
fn keyword_value<'a>(kw: &[(&str, Node<'a>)], name: &str) -> Option<Node<'a>> {
    kw.iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| *v)
        .filter(|v| v.kind() != "none")
}

/// Where the child's stdout and stderr go, from `stdout=`/`stderr=`, `capture_output` and
/// the API (`check_output` captures stdout).
fn streams(
    cx: &PassCx,
    c: &CallFact,
    kw: &[(&str, Node)],
    api: Api,
    capture: bool,
) -> Result<(Stream, Stream), String> {
    let (src, n) = (cx.src(), &cx.cat.names().subprocess);
    let value = |name: &str| keyword_value(kw, name);
    let stream = |name: &str| -> Stream {
        match value(name) {
            None => Stream::Free,
            Some(v) => match qualified_name(&cx.module().index, c.caller, v, src) {
                Some(q) if q == n.pipe || q == n.async_pipe => Stream::Pipe,
                Some(q)
                    if [&n.devnull, &n.stdout, &n.async_devnull, &n.async_stdout].contains(&&q) =>
                {
                    Stream::Free
                }
                _ if v.kind() == "integer" && text(v, src) != "-1" => Stream::Free,
                _ => Stream::Dynamic,
            },
        }
    };
    let mut stdout = stream("stdout");
    let mut stderr = stream("stderr");
    if capture {
        if value("stdout").is_some() || value("stderr").is_some() {
            return Err("`capture_output` together with `stdout`/`stderr`".into());
        }
        stdout = Stream::Pipe;
        stderr = Stream::Pipe;
    }
    if api == Api::CheckOutput {
        if value("stdout").is_some() {
            return Err("`check_output` with `stdout=`".into());
        }
        stdout = Stream::Pipe;
    }
    Ok((stdout, stderr))
}

/// The command node and the keyword arguments of a subprocess call.
#[allow(clippy::type_complexity)]
fn call_arguments<'a>(
    call: Node<'a>,
    src: &'a str,
) -> Result<(Node<'a>, Vec<(&'a str, Node<'a>)>), String> {
    let args = call
        .child_by_field_name("arguments")
        .filter(|a| a.kind() == "argument_list")
        .ok_or("it has no plain argument list")?;
    let mut positional = Vec::new();
    let mut kw: Vec<(&str, Node)> = Vec::new();
    let mut cursor = args.walk();
    for a in args.named_children(&mut cursor) {
        match a.kind() {
            "keyword_argument" => {
                let (Some(k), Some(v)) = (
                    a.child_by_field_name("name"),
                    a.child_by_field_name("value"),
                ) else {
                    return Err("an argument could not be read".into());
                };
                kw.push((text(k, src), v));
            }
            "comment" => return Err("a comment inside the call would be lost".into()),
            "list_splat" | "dictionary_splat" => {
                return Err("`*args` / `**kwargs` hide which options it uses".into());
            }
            _ => positional.push(a),
        }
    }
    let cmd_node = match (
        positional.as_slice(),
        kw.iter().position(|(k, _)| *k == "args"),
    ) {
        ([one], None) => *one,
        ([], Some(i)) => kw.remove(i).1,
        _ => return Err("options passed by position are not supported".into()),
    };
    Ok((cmd_node, kw))
}

/// Every keyword has an asyncio counterpart for `api`, and the text-mode ones are plain.
fn check_keywords(kw: &[(&str, Node)], api: Api) -> Result<(), String> {
    for (k, v) in kw {
        let ok = PASS_THROUGH.contains(k)
            || matches!(
                *k,
                "shell" | "text" | "universal_newlines" | "encoding" | "errors"
            )
            || matches!(*k, "stdin" | "stdout" | "stderr")
            || (matches!(*k, "input" | "timeout") && api != Api::Popen)
            || (matches!(*k, "capture_output" | "check") && api == Api::Run);
        if !ok {
            return Err(format!("asyncio's subprocesses do not take `{k}=`"));
        }
        if (*k == "encoding" || *k == "errors") && !simple(*v) {
            return Err(format!("`{k}=` is not a plain value"));
        }
    }
    Ok(())
}

/// The command as the creator's leading arguments: the shell string, the list's items, a
/// string, or `*cmd` for a value.
fn command_items(cmd_node: Node, shell: bool, src: &str) -> Result<Vec<String>, String> {
    let cmd_text = text(cmd_node, src).to_string();
    let list = matches!(cmd_node.kind(), "list" | "tuple");
    if shell && list {
        return Err("a list command with `shell=True` runs its first item as the script".into());
    }
    if shell || matches!(cmd_node.kind(), "string" | "concatenated_string") {
        return Ok(vec![cmd_text]);
    }
    if !list {
        return Ok(vec![format!("*{cmd_text}")]);
    }
    let mut cursor = cmd_node.walk();
    let items: Vec<Node> = cmd_node.named_children(&mut cursor).collect();
    if items.is_empty() || items.iter().any(|i| i.kind() == "comment") {
        return Err("the command list is empty or holds comments".into());
    }
    Ok(items.iter().map(|i| text(*i, src).to_string()).collect())
}

/// Whether evaluating `n` twice is the same as once: literals, names, attribute chains,
/// and lists, tuples and f-strings of those.
fn simple(n: Node) -> bool {
    match n.kind() {
        "identifier" | "integer" | "float" | "true" | "false" | "none" | "string_start"
        | "string_content" | "string_end" | "escape_sequence" => true,
        "attribute" => n.child_by_field_name("object").is_some_and(simple),
        "string"
        | "concatenated_string"
        | "list"
        | "tuple"
        | "interpolation"
        | "parenthesized_expression"
        | "format_specifier" => {
            let mut cursor = n.walk();
            let kids: Vec<Node> = n.named_children(&mut cursor).collect();
            kids.into_iter().all(simple)
        }
        _ => false,
    }
}

// ---- Popen ------------------------------------------------------------------------------

/// A `Popen` bound to a local, with every use of that local understood.
struct Popen<'a> {
    call: Node<'a>,
    spec: Spec,
    /// Every `name.<method>(...)` call and `name.<attr>` read, by node.
    uses: Vec<PopenUse<'a>>,
}

enum PopenUse<'a> {
    /// `.communicate(...)`: its own catalog call, converted where it stands.
    Communicate,
    /// `.stdout.read()` / `.stderr.read()` call node.
    Read(Node<'a>),
    /// Anything that needs no change (`wait()`, `returncode`, `kill()`).
    Same,
}

fn popen(cx: &PassCx, c: &CallFact, out: &mut PassOut) -> bool {
    let Some(call) = cx.node(c.start, c.end) else {
        return false;
    };
    let analysed = match popen_binding(cx, c, call) {
        Ok(Some(name)) => analyse_popen(cx, c, call, name),
        Ok(None) => parse_spec(cx, c, call, Api::Popen).map(|spec| Popen {
            call,
            spec,
            uses: Vec::new(),
        }),
        Err(e) => Err(e),
    };
    let p = match analysed {
        Ok(p) => p,
        Err(why) => {
            keep_popen(cx, c, &why, out);
            return true;
        }
    };
    let Some(args) = p.call.child_by_field_name("arguments") else {
        return false;
    };
    let creator = creator_function(cx, &p.spec);
    out.edits.push(Edit::replace(
        c.callee.0,
        c.callee.1,
        creator,
        Origin::Subprocess,
    ));
    super::awaits::await_node(call, out);
    let indent = cx.line_indent(c.start).len();
    let lead = c.start - line_start(cx.src(), c.start) - indent + "await ".len() + creator.len();
    let nl = cx.module().source.newline;
    let new_args = format_call("", &p.spec.creator, indent, lead)
        .replace('\n', &format!("{nl}{}", cx.line_indent(c.start)));
    out.edits.push(Edit::replace(
        args.start_byte(),
        args.end_byte(),
        new_args,
        Origin::Subprocess,
    ));
    out.imports
        .insert(crate::names::module(&cx.cat.names().subprocess.create_exec).into());
    // `proc.stdout.read()` is not a catalog call: await it here (and decode in text mode).
    for u in &p.uses {
        let PopenUse::Read(read) = u else { continue };
        let (s, e) = (read.start_byte(), read.end_byte());
        match &p.spec.text {
            Some((dec, _)) => {
                out.edits
                    .push(Edit::open(s, e - s, "(await ", Origin::Subprocess));
                out.edits
                    .push(Edit::close(e, e - s, format!("){dec}"), Origin::Subprocess));
            }
            None if super::awaits::needs_parens(*read) => {
                out.edits
                    .push(Edit::open(s, e - s, "(await ", Origin::Subprocess));
                out.edits
                    .push(Edit::close(e, e - s, ")", Origin::Subprocess));
            }
            None => out
                .edits
                .push(Edit::open(s, e - s, "await ", Origin::Subprocess)),
        }
    }
    true
}

fn line_start(src: &str, at: usize) -> usize {
    src[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// A Popen that stays: it is not awaited, and the user is told why.
fn keep_popen(cx: &PassCx, c: &CallFact, why: &str, out: &mut PassOut) {
    let n = &cx.cat.names().subprocess;
    out.diagnostics.push(cx.diag_at(
        c,
        "subprocess-popen-kept",
        format!(
            "`{}` left as is (it blocks the event loop while it runs): {why}; \
             use `{}` by hand",
            n.popen, n.create_exec
        ),
    ));
}

/// The local the Popen is bound to (`Ok(None)`: an expression statement, nothing to follow).
fn popen_binding<'a>(
    cx: &PassCx<'a>,
    _c: &CallFact,
    call: Node<'a>,
) -> Result<Option<&'a str>, String> {
    let parent = call.parent().ok_or("no parent")?;
    match parent.kind() {
        "expression_statement" => Ok(None),
        "assignment"
            if parent
                .child_by_field_name("left")
                .is_some_and(|l| l.kind() == "identifier")
                && parent.child_by_field_name("type").is_none() =>
        {
            let left = parent.child_by_field_name("left").ok_or("no target")?;
            Ok(Some(text(left, cx.src())))
        }
        _ => Err("the process object is not bound to a local name".into()),
    }
}

fn analyse_popen<'a>(
    cx: &PassCx<'a>,
    c: &CallFact,
    call: Node<'a>,
    name: &str,
) -> Result<Popen<'a>, String> {
    let spec = parse_spec(cx, c, call, Api::Popen)?;
    let f = c.caller.ok_or("not in a function")?;
    let def = &cx.module().index.functions[f];
    let body = cx
        .node(def.start, def.end)
        .and_then(|d| d.child_by_field_name("body"))
        .ok_or("no body")?;
    let binding = call.parent().and_then(|p| p.child_by_field_name("left"));
    let mut occurrences = Vec::new();
    find_names(body, cx.src(), name, true, &mut occurrences)?;
    let mut uses = Vec::new();
    for occ in occurrences {
        if binding.is_some_and(|b| b.id() == occ.id()) {
            continue;
        }
        uses.push(classify_use(cx, occ, &spec)?);
    }
    Ok(Popen { call, spec, uses })
}

/// Identifiers named `name` in this scope; one in a nested scope makes the Popen unfollowable.
fn find_names<'a>(
    n: Node<'a>,
    src: &str,
    name: &str,
    top: bool,
    out: &mut Vec<Node<'a>>,
) -> Result<(), String> {
    if n.kind() == "identifier" && text(n, src) == name {
        let is_attr_name = n.parent().is_some_and(|p| {
            p.kind() == "attribute"
                && p.child_by_field_name("attribute")
                    .is_some_and(|a| a.id() == n.id())
        });
        let is_kw = n.parent().is_some_and(|p| {
            p.kind() == "keyword_argument"
                && p.child_by_field_name("name")
                    .is_some_and(|a| a.id() == n.id())
        });
        if !is_attr_name && !is_kw {
            if !top {
                return Err(format!("`{name}` is used in a nested function or lambda"));
            }
            out.push(n);
        }
        return Ok(());
    }
    let nested = matches!(
        n.kind(),
        "function_definition" | "lambda" | "class_definition"
    );
    let mut cursor = n.walk();
    let kids: Vec<Node<'a>> = n.children(&mut cursor).collect();
    for ch in kids {
        find_names(ch, src, name, top && !nested, out)?;
    }
    Ok(())
}

fn classify_use<'a>(cx: &PassCx<'a>, occ: Node<'a>, spec: &Spec) -> Result<PopenUse<'a>, String> {
    let src = cx.src();
    let name = text(occ, src);
    let attr = occ
        .parent()
        .filter(|p| p.kind() == "attribute")
        .ok_or_else(|| format!("`{name}` is used other than through its methods"))?;
    let what = attr
        .child_by_field_name("attribute")
        .map_or("", |a| text(a, src));
    let called = attr.parent().filter(|p| {
        p.kind() == "call"
            && p.child_by_field_name("function")
                .is_some_and(|f| f.id() == attr.id())
    });
    let no_args = |call: Node| {
        call.child_by_field_name("arguments")
            .is_some_and(|a| a.named_child_count() == 0)
    };
    match (what, called) {
        ("returncode" | "pid", None) => Ok(PopenUse::Same),
        ("kill" | "terminate" | "send_signal", Some(_)) => Ok(PopenUse::Same),
        ("wait", Some(call)) if no_args(call) => Ok(PopenUse::Same),
        ("communicate", Some(call)) => {
            let args = call
                .child_by_field_name("arguments")
                .ok_or("no arguments")?;
            let mut cursor = args.walk();
            let ok = args.named_children(&mut cursor).all(|a| {
                a.kind() != "keyword_argument"
                    || a.child_by_field_name("name")
                        .is_some_and(|k| text(k, src) == "input")
            });
            if !ok || args.named_child_count() > 1 {
                return Err("`communicate(timeout=...)` is not supported".into());
            }
            if spec.text.is_some() && communicate_target(call).is_none() && !is_discarded(call) {
                return Err("a text-mode `communicate()` result must be unpacked".into());
            }
            Ok(PopenUse::Communicate)
        }
        ("stdout" | "stderr", None) => {
            let read = attr
                .parent()
                .filter(|p| p.kind() == "attribute")
                .filter(|p| {
                    p.child_by_field_name("attribute")
                        .is_some_and(|a| text(a, src) == "read")
                })
                .and_then(|p| p.parent())
                .filter(|c| c.kind() == "call" && no_args(*c));
            let stream = if what == "stdout" {
                &spec.stdout
            } else {
                &spec.stderr
            };
            match read {
                Some(call) if *stream == Stream::Pipe => Ok(PopenUse::Read(call)),
                _ => Err(format!("`{name}.{what}` is used other than by `.read()`")),
            }
        }
        _ => Err(format!("`{name}.{what}` has no asyncio counterpart here")),
    }
}

fn is_discarded(call: Node) -> bool {
    call.parent()
        .is_some_and(|p| p.kind() == "expression_statement")
}

/// `out, err = proc.communicate(...)`: the two target names.
fn communicate_target(call: Node) -> Option<(Node, Node)> {
    let a = call.parent().filter(|p| p.kind() == "assignment")?;
    if a.child_by_field_name("right")?.id() != call.id() {
        return None;
    }
    let left = a.child_by_field_name("left")?;
    if !matches!(left.kind(), "pattern_list" | "tuple_pattern") || left.named_child_count() != 2 {
        return None;
    }
    let (x, y) = (left.named_child(0)?, left.named_child(1)?);
    (x.kind() == "identifier" && y.kind() == "identifier").then_some((x, y))
}

/// `proc.communicate()` / `proc.wait()`: converted with the Popen they belong to.
fn popen_method(cx: &PassCx, c: &CallFact, method: &str, out: &mut PassOut) -> bool {
    let src = cx.src();
    let Some(call) = cx.node(c.start, c.end) else {
        return false;
    };
    let recv = call
        .child_by_field_name("function")
        .and_then(|f| f.child_by_field_name("object"))
        .filter(|o| o.kind() == "identifier");
    // The Popen this receiver was bound to, in the same function.
    let origin = recv.and_then(|r| {
        let name = text(r, src);
        cx.calls.iter().find(|o| {
            o.caller == c.caller
                && matches!(&o.target, Target::Rule(q) if *q == cx.cat.names().subprocess.popen)
                && cx
                    .node(o.start, o.end)
                    .is_some_and(|n| popen_binding(cx, o, n).ok().flatten() == Some(name))
        })
    });
    let analysed = match (origin, recv) {
        (Some(o), Some(r)) => cx
            .node(o.start, o.end)
            .ok_or_else(|| "no node".to_string())
            .and_then(|n| analyse_popen(cx, o, n, text(r, src))),
        _ => Err(format!(
            "the process object does not come from a `{}` here",
            cx.cat.names().subprocess.popen
        )),
    };
    let Ok(p) = analysed else {
        // Left sync along with its Popen (which carries the diagnostic).
        return true;
    };
    super::awaits::await_node(call, out);
    if method != "communicate" {
        // `wait()`: awaiting is all it needs.
        return true;
    }
    let input = call
        .child_by_field_name("arguments")
        .and_then(|a| a.named_child(0))
        .map(|a| {
            if a.kind() == "keyword_argument" {
                a.child_by_field_name("value").unwrap_or(a)
            } else {
                a
            }
        });
    let Some((dec, enc)) = &p.spec.text else {
        return true;
    };
    // Text mode: encode the input, decode what comes back.
    if let Some(i) = input.filter(|i| i.kind() != "none") {
        out.edits.push(Edit::replace(
            i.start_byte(),
            i.end_byte(),
            format!("{}{enc}", paren(i, src)),
            Origin::Subprocess,
        ));
    }
    if let Some((o, e)) = communicate_target(call) {
        let stmt = call.parent().and_then(|a| a.parent());
        let Some(stmt) = stmt else { return true };
        let indent = cx.line_indent(stmt.start_byte());
        let nl = cx.module().source.newline;
        let mut tail = String::new();
        for (node, stream) in [(o, &p.spec.stdout), (e, &p.spec.stderr)] {
            if *stream == Stream::Pipe {
                let n = text(node, src);
                tail.push_str(&format!("{nl}{indent}{n} = {n}{dec}"));
            }
        }
        out.edits
            .push(Edit::insert(stmt.end_byte(), tail, Origin::Subprocess));
    }
    true
}
