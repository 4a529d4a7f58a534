//! `files`: the file-I/O calls whose aiofiles form is not a callee swap.
//!
//! Why: a file from `aiofiles.open` does its reads and writes in a worker thread and returns
//! coroutines. Code that hands the file to a sync API expecting `.read()`/`.write()` to do
//! the work (`json.load(f)`, `print(..., file=f)`) would get coroutine objects back and read
//! or write nothing, and `Path.open` has no method form in aiofiles. So these calls are
//! rewritten around the file's own awaited methods:
//!
//! ```python
//! p.open("w")                    ->  aiofiles.open(p, "w")
//! data = json.load(f)            ->  data = json.loads(await f.read())
//! json.dump(obj, f, indent=2)    ->  await f.write(json.dumps(obj, indent=2))
//! print(name, score, file=f)     ->  await f.write(" ".join(map(str, (name, score))) + "\n")
//! ```
//!
//! `json.load`/`json.dump`/`print` only match when the file argument is known to be a file
//! the migration opens (the `arg` guard of their rules), so `json.load(sys.stdin)` and
//! `print(x, file=sys.stderr)` stay as they are.
//!
//! Unsafe when: `json.dump` fails half-way (the sync form may have written a prefix, the new
//! form writes nothing); `print(..., flush=True)` is left alone (and reported) because the
//! flush would need its own await.

use super::{PassCx, PassOut, awaits::needs_parens};
use crate::edit::{Edit, Origin};
use crate::matcher::{CallFact, Target};
use tree_sitter::Node;

/// Rewrites one call of a `files`/`json-io` rule; false if this form is not handled.
pub fn call(cx: &PassCx, c: &CallFact, out: &mut PassOut) -> bool {
    let Some(node) = cx.node(c.start, c.end) else {
        return false;
    };
    let Some(args) = node
        .child_by_field_name("arguments")
        .filter(|a| a.kind() == "argument_list")
    else {
        return false;
    };
    let names = &cx.cat.names().files;
    let done = match &c.target {
        Target::Method { name, .. } if name == "open" => path_open(cx, c, args, out),
        Target::Rule(q) if *q == names.json_load => json_load(cx, c, args, out),
        Target::Rule(q) if *q == names.json_dump => json_dump(cx, node, args, out),
        Target::Rule(q) if *q == names.print => print_to_file(cx, node, args, out),
        _ => false,
    };
    if done {
        out.rewritten += 1;
    }
    done
}

/// The arguments of a call, split into positionals and keywords; `None` if it has splats.
struct Args<'a> {
    positional: Vec<Node<'a>>,
    keywords: Vec<(&'a str, Node<'a>)>,
}

fn split_args<'a>(cx: &PassCx<'a>, args: Node<'a>) -> Option<Args<'a>> {
    let mut a = Args {
        positional: Vec::new(),
        keywords: Vec::new(),
    };
    let mut cursor = args.walk();
    for n in args.named_children(&mut cursor) {
        match n.kind() {
            "keyword_argument" => {
                let name = n.child_by_field_name("name")?;
                let value = n.child_by_field_name("value")?;
                a.keywords.push((&cx.src()[name.byte_range()], value));
            }
            "list_splat" | "dictionary_splat" => return None,
            "comment" => {}
            _ => a.positional.push(n),
        }
    }
    Some(a)
}

/// `p.open(mode)` -> `aiofiles.open(p, mode)`; the `await` (or `async with`) comes from the
/// generic passes, as for a builtin `open`.
fn path_open(cx: &PassCx, c: &CallFact, args: Node, out: &mut PassOut) -> bool {
    let Some(recv) = cx
        .node(c.callee.0, c.callee.1)
        .and_then(|f| f.child_by_field_name("object"))
    else {
        return false;
    };
    // Around the receiver, not over it: its own edits and import uses stay intact.
    let open = cx.cat.names().files.aiofiles_open.as_str();
    super::wrap_as_first_argument(
        cx.src(),
        c.callee,
        recv.end_byte(),
        args,
        open,
        Origin::Files,
        out,
    );
    out.imports.insert(crate::names::module(open).into());
    true
}

/// The file argument: the one at `position` or the keyword `kw`.
fn file_arg<'a>(a: &Args<'a>, position: usize, kw: &str) -> Option<Node<'a>> {
    a.positional
        .get(position)
        .copied()
        .or_else(|| a.keywords.iter().find(|(k, _)| *k == kw).map(|(_, v)| *v))
}

/// `json.load(f, **kw)` -> `json.loads(await f.read(), **kw)`.
fn json_load(cx: &PassCx, c: &CallFact, args: Node, out: &mut PassOut) -> bool {
    let Some(a) = split_args(cx, args) else {
        return false;
    };
    let Some(f) = file_arg(&a, 0, "fp") else {
        return false;
    };
    rename_callee(cx, c.callee, &cx.cat.names().files.json_loads, out);
    if a.positional.is_empty() {
        // `fp=f` -> `await f.read()` as the first positional argument, `s`.
        let kw = f.parent().map_or(f, |p| p);
        out.edits.push(Edit::replace(
            kw.start_byte(),
            f.start_byte(),
            "",
            Origin::JsonIo,
        ));
    }
    await_method(f, "read()", out, Origin::JsonIo);
    true
}

/// `await <f>.<method>`, wrapping `f` in parentheses unless it is a plain name or attribute;
/// sized one byte wider than `f` so that edits inside `f` (an awaited `open`) nest inside.
fn await_method(f: Node, method: &str, out: &mut PassOut, origin: Origin) {
    let len = f.end_byte() - f.start_byte() + 1;
    let simple = matches!(f.kind(), "identifier" | "attribute");
    let (open, close) = if simple {
        ("await ".to_string(), format!(".{method}"))
    } else {
        ("await (".to_string(), format!(").{method}"))
    };
    out.edits
        .push(Edit::open(f.start_byte(), len, open, origin));
    out.edits
        .push(Edit::close(f.end_byte(), len, close, origin));
}

/// `json.dump(obj, f, **kw)` -> `await f.write(json.dumps(obj, **kw))`.
fn json_dump(cx: &PassCx, node: Node, args: Node, out: &mut PassOut) -> bool {
    let Some(a) = split_args(cx, args) else {
        return false;
    };
    if file_arg(&a, 0, "obj").is_none() {
        return false;
    }
    let Some(f) = file_arg(&a, 1, "fp") else {
        return false;
    };
    if !matches!(f.kind(), "identifier" | "attribute") {
        return false;
    }
    let src = cx.src();
    let file = &src[f.byte_range()];
    // Remove the file argument (as `f` or `fp=f`) with one of its commas.
    let f_item = if a.positional.len() > 1 {
        f
    } else {
        f.parent().unwrap_or(f)
    };
    let mut cursor = args.walk();
    let items: Vec<Node> = args
        .named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect();
    let Some(i) = items.iter().position(|n| n.id() == f_item.id()) else {
        return false;
    };
    let cut = if i > 0 {
        (items[i - 1].end_byte(), f_item.end_byte())
    } else if let Some(next) = items.get(1) {
        (f_item.start_byte(), next.start_byte())
    } else {
        return false;
    };
    let (lead, trail) = if needs_parens(node) {
        ("(await ", "))")
    } else {
        ("await ", ")")
    };
    let len = node.end_byte() - node.start_byte();
    out.edits.push(Edit::open(
        node.start_byte(),
        len,
        format!("{lead}{file}.write("),
        Origin::JsonIo,
    ));
    if let Some(f) = node.child_by_field_name("function") {
        let dumps = &cx.cat.names().files.json_dumps;
        rename_callee(cx, (f.start_byte(), f.end_byte()), dumps, out);
    }
    out.edits
        .push(Edit::replace(cut.0, cut.1, "", Origin::JsonIo));
    out.edits
        .push(Edit::close(node.end_byte(), len, trail, Origin::JsonIo));
    true
}

/// `json.load` -> `json.loads` (`new`, qualified): only the attribute name changes, so
/// `json` (or its alias) stays in use; a bare `load` from `from json import load` becomes
/// `json.loads`.
fn rename_callee(cx: &PassCx, callee: (usize, usize), new: &str, out: &mut PassOut) {
    match cx
        .node(callee.0, callee.1)
        .and_then(|f| f.child_by_field_name("attribute"))
    {
        Some(attr) => out.edits.push(Edit::replace(
            attr.start_byte(),
            attr.end_byte(),
            crate::names::last(new),
            Origin::JsonIo,
        )),
        None => {
            out.edits
                .push(Edit::replace(callee.0, callee.1, new, Origin::JsonIo));
            out.imports.insert(crate::names::module(new).into());
        }
    }
}

/// `print(*values, sep=s, end=e, file=f)` -> `await f.write(<what print would write>)`.
fn print_to_file(cx: &PassCx, node: Node, args: Node, out: &mut PassOut) -> bool {
    let Some(a) = split_args(cx, args) else {
        return false;
    };
    let src = cx.src();
    let kw = |name: &str| {
        a.keywords
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| &src[v.byte_range()])
            .filter(|v| *v != "None")
    };
    if a.keywords
        .iter()
        .any(|(k, _)| !matches!(*k, "sep" | "end" | "file"))
    {
        return false;
    }
    let Some(file) = kw("file") else {
        return false;
    };
    let sep = match a.keywords.iter().find(|(k, _)| *k == "sep") {
        Some((_, v)) if !matches!(v.kind(), "string" | "identifier" | "none") => {
            format!("({})", &src[v.byte_range()])
        }
        _ => kw("sep").unwrap_or("\" \"").to_string(),
    };
    let end = kw("end").unwrap_or("\"\\n\"");
    let is_str = |n: Node| n.kind() == "string" || n.kind() == "concatenated_string";
    let (lead, trail) = if needs_parens(node) {
        ("(await ", "))")
    } else {
        ("await ", ")")
    };
    let head = format!("{lead}{file}.write(");
    let end_empty = matches!(end, "\"\"" | "''");
    let tail = |close: &str| {
        if end_empty {
            format!("{close}{trail}")
        } else {
            format!("{close} + {end}{trail}")
        }
    };
    match a.positional.as_slice() {
        [] => {
            out.edits.push(Edit::replace(
                node.start_byte(),
                node.end_byte(),
                format!("{head}{end}{trail}"),
                Origin::Files,
            ));
        }
        [one] => {
            let (open, close) = if is_str(*one) {
                ("", "")
            } else {
                ("str(", ")")
            };
            let (before, after) = (format!("{head}{open}"), tail(close));
            around(node, (*one, *one), (before, after), out);
        }
        [first, .., last] => {
            let before = format!("{head}{sep}.join(map(str, (");
            around(node, (*first, *last), (before, tail(")))")), out);
        }
    }
    true
}

/// Replaces what `node` has before `first` and after `last` (the arguments kept).
fn around(
    node: Node,
    (first, last): (Node, Node),
    (before, after): (String, String),
    out: &mut PassOut,
) {
    out.edits.push(Edit::replace(
        node.start_byte(),
        first.start_byte(),
        before,
        Origin::Files,
    ));
    out.edits.push(Edit::replace(
        last.end_byte(),
        node.end_byte(),
        after,
        Origin::Files,
    ));
}

/// `async-value-passed-to-sync-code`: reports a migrated file or connection passed as an
/// argument to a call that is neither a project function nor a catalog entry.
pub fn escapes(cx: &PassCx, out: &mut PassOut) {
    use crate::matcher::Target;
    let followed: std::collections::HashMap<(usize, usize), Option<&Target>> = cx
        .calls
        .iter()
        .map(|c| {
            let project = matches!(c.target, Target::Func(_) | Target::Class(_));
            ((c.start, c.end), project.then_some(&c.target))
        })
        .collect();
    for (i, def) in cx.module().index.functions.iter().enumerate() {
        if !cx.colour.async_funcs.contains(&cx.fid(i)) {
            continue;
        }
        let Some(body) = cx
            .node(def.start, def.end)
            .and_then(|f| f.child_by_field_name("body"))
        else {
            continue;
        };
        let mut stack = vec![body];
        while let Some(n) = stack.pop() {
            match n.kind() {
                "function_definition" | "class_definition" | "lambda" => continue,
                "call" => match followed.get(&(n.start_byte(), n.end_byte())) {
                    None => check_call(cx, i, n, None, out),
                    Some(Some(project)) => check_call(cx, i, n, Some(project), out),
                    Some(None) => {}
                },
                _ => {}
            }
            let mut cursor = n.walk();
            stack.extend(n.named_children(&mut cursor));
        }
    }
}

/// Checks the arguments of `call`: a call awaitify does not follow, or (`project`) a call of
/// a project function or class, which follows an argument only into a parameter it just
/// uses (see [`callee_keeps`]).
fn check_call(
    cx: &PassCx,
    f: usize,
    call: Node,
    project: Option<&crate::matcher::Target>,
    out: &mut PassOut,
) {
    let Some(args) = call
        .child_by_field_name("arguments")
        .filter(|a| a.kind() == "argument_list")
    else {
        return;
    };
    let src = cx.src();
    let Some(function) = call.child_by_field_name("function") else {
        return;
    };
    let callee = &src[function.byte_range()];
    let inspecting = &cx.cat.names().files.inspecting;
    if cx
        .qualified(Some(f), function)
        .is_some_and(|q| inspecting.contains(&q))
    {
        return;
    }
    let mut cursor = args.walk();
    let mut position = 0;
    for a in args.named_children(&mut cursor) {
        if a.kind() == "comment" {
            continue;
        }
        let keyword = (a.kind() == "keyword_argument")
            .then(|| a.child_by_field_name("name").map(|n| &src[n.byte_range()]))
            .flatten();
        let at = position;
        if a.kind() != "keyword_argument" {
            position += 1;
        }
        let value = if a.kind() == "keyword_argument" {
            a.child_by_field_name("value")
        } else {
            Some(a)
        };
        let Some(v) = value.filter(|v| v.kind() == "identifier") else {
            continue;
        };
        let name = &src[v.byte_range()];
        let def = &cx.module().index.functions[f];
        let kind = match def.params.iter().position(|p| p.name == name) {
            Some(p) => cx.knowledge.params.get(&(cx.fid(f), p)),
            None => cx
                .knowledge
                .locals
                .get(&(cx.m as u32, Some(f as u32), name.into())),
        };
        let Some(crate::matcher::Kind::Ext(ty)) = kind else {
            continue;
        };
        // Handing a file or connection to a call awaitify does not follow (`csv.reader(f)`,
        // `pickle.load(f)`, `pandas.read_sql(q, conn)`) gives that code the async object,
        // whose methods return coroutines.
        if !cx.cat.names().files.followed_types.contains(ty) {
            continue;
        }
        let pos = call.start_position();
        // The object stays sync instead, with every use of it.
        let what = match project {
            Some(target) => {
                let arg = match keyword {
                    Some(k) => Arg::Keyword(k),
                    None if a.kind() == "identifier" => Arg::Position(at),
                    None => Arg::Splat,
                };
                if !callee_keeps(cx, target, arg) {
                    continue;
                }
                format!(
                    "`{name}` is passed to `{callee}` at line {}, which keeps it where awaitify \
                     cannot follow its uses (`*args`/`**kwargs`, an attribute, a container)",
                    pos.row + 1
                )
            }
            None => format!(
                "`{name}` is passed to `{callee}` at line {}, which may call its methods \
                 without await",
                pos.row + 1
            ),
        };
        out.keep.extend(super::catalog::keep_all(
            cx.keeper(),
            ty,
            Some(f),
            &what,
            (pos.row + 1, pos.column + 1),
            "async-value-passed-to-sync-code",
            name,
        ));
    }
}

/// How an argument reaches the callee.
#[derive(Clone, Copy)]
enum Arg<'a> {
    Position(usize),
    Keyword(&'a str),
    Splat,
}

/// Whether the project function (or the `__init__` of the project class) `target` may keep an
/// argument beyond its own direct uses: the callee stays sync (an `__init__` always does),
/// the argument lands in `*args`/`**kwargs`, or the
/// parameter is used other than as a method receiver, an attribute's object, a call argument
/// or in a test (`self.out = fp`, `return fp`, `[fp]`, a closure). Then the object may be
/// used by code that reaches it through a receiver awaitify cannot type.
fn callee_keeps(cx: &PassCx, target: &crate::matcher::Target, arg: Arg) -> bool {
    use crate::matcher::Target;
    let p = cx.p;
    let (f, bound) = match target {
        Target::Func(f) => {
            let staticmethods = &cx.cat.names().core.staticmethods;
            let bound = p.func(*f).class.is_some() && !cx.decorated_with(*f, staticmethods);
            (*f, bound)
        }
        Target::Class(c) => match p.method(*c, "__init__") {
            Some(f) => (f, true),
            None => return true,
        },
        _ => return true,
    };
    // A callee that stays sync cannot await the object's methods.
    if !cx.colour.async_funcs.contains(&f) {
        return true;
    }
    let def = p.func(f);
    let text = &p.modules[f.module as usize].source.text[def.start..def.end];
    let Some(tree) = crate::parse::parse(text) else {
        return true;
    };
    let Some(function) = tree
        .root_node()
        .named_child(0)
        .filter(|n| n.kind() == "function_definition")
    else {
        return true;
    };
    let Some(params) = function.child_by_field_name("parameters") else {
        return true;
    };
    let mut names: Vec<&str> = Vec::new();
    let mut cursor = params.walk();
    for param in params.named_children(&mut cursor) {
        match param.kind() {
            "identifier" => names.push(&text[param.byte_range()]),
            "typed_parameter" | "default_parameter" | "typed_default_parameter" => {
                let name = param
                    .child_by_field_name("name")
                    .or_else(|| param.named_child(0))
                    .filter(|n| n.kind() == "identifier");
                if let Some(n) = name {
                    names.push(&text[n.byte_range()]);
                }
            }
            _ => {}
        }
    }
    let name = match arg {
        Arg::Keyword(k) => names.iter().find(|n| **n == k).copied(),
        Arg::Position(i) => names.get(i + usize::from(bound)).copied(),
        Arg::Splat => None,
    };
    let Some(name) = name else {
        // `*args`, `**kwargs`, or a call that would fail anyway.
        return true;
    };
    let Some(body) = function.child_by_field_name("body") else {
        return true;
    };
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if matches!(
            n.kind(),
            "function_definition" | "lambda" | "class_definition"
        ) {
            if text[n.byte_range()].contains(name) {
                return true;
            }
            continue;
        }
        if n.kind() == "identifier" && &text[n.byte_range()] == name && !plain_use(n) {
            return true;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

/// A use of a parameter that does not keep the object: `fp.write(x)`, `fp.name`, `g(fp)`,
/// `g(out=fp)`, `if fp`, `fp is None`, `with conn:` (the `with` families check; `with fp as
/// f:` makes another name, and is not plain).
fn plain_use(id: tree_sitter::Node) -> bool {
    let Some(parent) = id.parent() else {
        return false;
    };
    match parent.kind() {
        "attribute" => parent
            .child_by_field_name("object")
            .is_some_and(|o| o.id() == id.id()),
        "argument_list" | "comparison_operator" | "not_operator" | "with_item" => true,
        "keyword_argument" => parent
            .child_by_field_name("value")
            .is_some_and(|v| v.id() == id.id()),
        "if_statement" | "elif_clause" | "while_statement" => parent
            .child_by_field_name("condition")
            .is_some_and(|c| c.id() == id.id()),
        _ => false,
    }
}
