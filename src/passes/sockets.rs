//! `sockets`: a TCP client socket becomes an asyncio stream pair.
//!
//! Why: `sock.recv()` and `sock.sendall()` block the whole thread until the peer answers;
//! inside a coroutine every other task stops meanwhile. `asyncio.open_connection` gives a
//! reader and a writer whose waits are awaited:
//!
//! ```python
//! s = socket.create_connection((host, port))   reader, writer = await asyncio.open_connection(host, port)
//! s.sendall(data)                         ->   writer.write(data)
//!                                              await writer.drain()
//! reply = s.recv(1024)                         reply = await reader.read(1024)
//! f = s.makefile("rb"); f.readline()           f = reader; await f.readline()
//! s.shutdown(socket.SHUT_WR)                   writer.write_eof()
//! s.close()                                    writer.close()
//!                                              await writer.wait_closed()
//! with socket.create_connection(a) as s:       reader, writer = await asyncio.open_connection(...)
//!     ...                                      try:
//!                                                  ...
//!                                              finally:
//!                                                  writer.close()
//!                                                  await writer.wait_closed()
//! ```
//!
//! Only a socket bound to a local name and used in that function through these methods is
//! converted; any other use (passed on, `settimeout`, `setsockopt`, a text-mode `makefile`,
//! `socket.socket()` + `connect`) keeps it a socket, reported as `socket-kept`.
//!
//! A connection made with a `timeout` is kept too: that timeout bounds every later read and
//! write, which asyncio streams have no counterpart for.
//!
//! Unsafe when: `send` returned a partial count that the code used.

use super::args::Args;
use super::claims::{Claim, Claims};
use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin};
use crate::matcher::{CallFact, Target};
use crate::parse::text;
use std::collections::HashSet;
use tree_sitter::Node;

/// One `create_connection` this pass converts, and the names of its stream pair.
struct Conn<'a> {
    caller: usize,
    name: String,
    reader: String,
    writer: String,
    call: &'a CallFact,
    /// The `with` statement when the socket is the `as` target of one.
    with: Option<Node<'a>>,
    /// The name bound to `makefile("rb")`, now the reader itself.
    files: Vec<String>,
}

/// The connections this pass converts (with the names `makefile("rb")` binds), and the
/// creations it keeps, with why, in the order they are reported.
type Plan<'a> = (Vec<Conn<'a>>, Vec<(&'a CallFact, String)>);

fn plan<'a>(cx: &PassCx<'a>) -> Plan<'a> {
    let mut conns: Vec<Conn> = Vec::new();
    let mut kept = Vec::new();
    let connect = &cx.cat.names().sockets.create_connection;
    for c in cx.calls {
        if matches!(&c.target, Target::Rule(q) if q == connect) && cx.call_is_awaited(c) {
            match connection(cx, c) {
                Ok(conn) => conns.push(conn),
                Err(why) => kept.push((c, why)),
            }
        }
    }
    conns.retain(|conn| match uses_ok(cx, conn) {
        Ok(()) => true,
        Err(why) => {
            kept.push((conn.call, why));
            false
        }
    });
    for conn in &mut conns {
        let files: Vec<String> = methods(cx, conn)
            .filter(|(_, name)| *name == "makefile")
            .filter_map(|(c, _)| binary_file(cx, c))
            .collect();
        conn.files = files;
    }
    (conns, kept)
}

/// The socket method calls on `conn` in its function, with the method's name.
fn methods<'a, 'c>(
    cx: &'c PassCx<'a>,
    conn: &'c Conn<'a>,
) -> impl Iterator<Item = (&'a CallFact, &'a str)> + 'c {
    cx.calls.iter().filter_map(move |c| {
        let Target::Method { ty, name } = &c.target else {
            return None;
        };
        if *ty != cx.cat.names().sockets.socket || c.caller != Some(conn.caller) {
            return None;
        }
        let recv = receiver(cx, c)?;
        (text(recv, cx.src()) == conn.name).then_some((c, name.as_str()))
    })
}

/// Whether `sock.makefile(...)` opens a binary reader (`"rb"`): asyncio's stream reader.
fn binary_mode(call: Node, src: &str) -> bool {
    Args::of(call, src)
        .and_then(|a| a.get(Some(0), "mode"))
        .is_some_and(|m| {
            let m = text(m, src);
            m.contains('b') && m.contains('r') && !m.contains('w')
        })
}

/// The name `f = sock.makefile("rb")` binds: the stream reader itself from now on.
fn binary_file(cx: &PassCx, c: &CallFact) -> Option<String> {
    let src = cx.src();
    let node = cx.node(c.start, c.end)?;
    let binary = binary_mode(node, src);
    let left = node
        .parent()
        .filter(|p| p.kind() == "assignment")
        .and_then(|p| p.child_by_field_name("left"))
        .filter(|l| l.kind() == "identifier")?;
    binary.then(|| text(left, src).to_string())
}

/// What this family owns before anything is edited: a kept socket's creation, a `with`
/// creation (its `await` goes in the new statement), the writes and closes that become two
/// statements, and every socket method this pass does not convert stay without `await`.
pub fn claim(cx: &PassCx, claims: &mut Claims) {
    let (conns, kept) = plan(cx);
    for (c, _) in kept {
        claims.call(c, Claim::Unawaited, Origin::Sockets);
    }
    let mut handled: HashSet<usize> = HashSet::new();
    for conn in &conns {
        if conn.with.is_some() {
            claims.call(conn.call, Claim::Unawaited, Origin::Sockets);
        }
        for (c, name) in methods(cx, conn) {
            handled.insert(c.start);
            if matches!(name, "sendall" | "send" | "close") {
                claims.call(c, Claim::Unawaited, Origin::Sockets);
            }
        }
    }
    // Socket methods on anything else stay blocking calls.
    let names = &cx.cat.names().sockets;
    for c in cx.calls {
        let Target::Method { ty, .. } = &c.target else {
            continue;
        };
        let (socket, file) = (*ty == names.socket, *ty == names.socket_file);
        let file_of_conn = file
            && receiver(cx, c).is_some_and(|r| {
                conns.iter().any(|k| {
                    Some(k.caller) == c.caller && k.files.iter().any(|f| f == text(r, cx.src()))
                })
            });
        if (socket && !handled.contains(&c.start) || file && !file_of_conn)
            && cx.call_is_awaited(c)
            && !c.awaited
        {
            claims.call(c, Claim::Unawaited, Origin::Sockets);
        }
    }
}

pub fn run(cx: &PassCx, out: &mut PassOut) {
    let (conns, kept) = plan(cx);
    for (c, why) in kept {
        keep(cx, c, &why, out);
    }
    for conn in &conns {
        rewrite_creation(cx, conn, out);
        for (c, name) in methods(cx, conn) {
            method(cx, c, name, conn, out);
        }
    }
}

fn receiver<'a>(cx: &PassCx<'a>, c: &CallFact) -> Option<Node<'a>> {
    cx.node(c.callee.0, c.callee.1)?
        .child_by_field_name("object")
}

/// A kept creation: the socket and all of its uses stay as they are, and what was async only
/// for them is coloured again without them (the next round).
fn keep(cx: &PassCx, c: &CallFact, why: &str, out: &mut PassOut) {
    out.keep.push(cx.keep_creation(
        c,
        "socket-kept",
        format!("this socket stays a blocking socket: {why}"),
    ));
}

/// Recognises `s = socket.create_connection(...)` and `with ... as s:`.
fn connection<'a>(cx: &PassCx<'a>, c: &'a CallFact) -> Result<Conn<'a>, String> {
    let node = cx.node(c.start, c.end).ok_or("no node")?;
    // `create_connection(address, timeout)`: the timeout bounds every later read and write
    // too, which asyncio streams have no counterpart for (`wait_for` on the connect alone
    // would let a read hang).
    let a = Args::of(node, cx.src()).ok_or("its arguments could not be read")?;
    // A `*args`/`**kwargs` may hold a timeout.
    let timed = a.get(Some(1), "timeout").is_some() || a.splat;
    if timed {
        return Err(
            "it has a timeout, which bounds each later read and write too; asyncio streams have none"
                .into(),
        );
    }
    let caller = c.caller.ok_or("not in a function")?;
    let parent = node.parent().ok_or("no parent")?;
    let (name, with) = match parent.kind() {
        "assignment" => {
            let left = parent
                .child_by_field_name("left")
                .filter(|l| l.kind() == "identifier")
                .ok_or("it is not bound to a plain name")?;
            if parent
                .parent()
                .is_none_or(|s| s.kind() != "expression_statement")
            {
                return Err("it is not bound by a plain assignment".into());
            }
            (text(left, cx.src()).to_string(), None)
        }
        "as_pattern" => {
            let alias = parent
                .child_by_field_name("alias")
                .map(|a| a.named_child(0).unwrap_or(a))
                .filter(|a| a.kind() == "identifier")
                .ok_or("its `as` target is not a plain name")?;
            let with = parent
                .parent()
                .filter(|i| i.kind() == "with_item")
                .and_then(|i| i.parent())
                .filter(|cl| cl.kind() == "with_clause" && cl.named_child_count() == 1)
                .and_then(|cl| cl.parent())
                .filter(|w| w.kind() == "with_statement")
                .ok_or("it is entered together with other context managers")?;
            (text(alias, cx.src()).to_string(), Some(with))
        }
        _ => return Err("it is not bound to a name".into()),
    };
    let def = &cx.module().index.functions[caller];
    let body = &cx.src()[def.start..def.end];
    let used = |n: &str| {
        body.split(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
            .any(|w| w == n)
    };
    let (reader, writer) = if !used("reader") && !used("writer") {
        ("reader".to_string(), "writer".to_string())
    } else {
        (format!("{name}_reader"), format!("{name}_writer"))
    };
    Ok(Conn {
        caller,
        name,
        reader,
        writer,
        call: c,
        with,
        files: Vec::new(),
    })
}

/// Every use of the socket's name in its function must be a method this pass maps.
fn uses_ok(cx: &PassCx, conn: &Conn) -> Result<(), String> {
    let def = &cx.module().index.functions[conn.caller];
    let func = cx.node(def.start, def.end).ok_or("no function node")?;
    let src = cx.src();
    let mut stack = vec![func];
    let binding = cx
        .node(conn.call.start, conn.call.end)
        .and_then(|n| n.parent())
        .and_then(|p| {
            p.child_by_field_name(if p.kind() == "assignment" {
                "left"
            } else {
                "alias"
            })
        })
        .map(|n| n.named_child(0).unwrap_or(n).id());
    while let Some(n) = stack.pop() {
        if n.kind() == "identifier" && text(n, src) == conn.name && Some(n.id()) != binding {
            let method = n
                .parent()
                .filter(|p| {
                    p.kind() == "attribute"
                        && p.child_by_field_name("object")
                            .is_some_and(|o| o.id() == n.id())
                })
                .filter(|a| a.parent().is_some_and(|c| c.kind() == "call"))
                .and_then(|a| a.child_by_field_name("attribute"))
                .map(|a| text(a, src));
            let call = n.parent().and_then(|a| a.parent());
            let is_stmt = call
                .and_then(|c| c.parent())
                .is_some_and(|p| p.kind() == "expression_statement");
            let shut_wr = &cx.cat.names().sockets.shut_wr;
            let shuts_writing = call
                .and_then(|c| Args::of(c, src))
                .and_then(|a| a.positional(0))
                .is_some_and(|f| cx.qualified(Some(conn.caller), f).as_ref() == Some(shut_wr));
            match method {
                Some("recv") => {}
                Some("sendall" | "send" | "close") if is_stmt => {}
                Some("shutdown") if is_stmt && shuts_writing => {}
                Some("makefile")
                    if call.is_some_and(|c| binary_mode(c, src))
                        && call
                            .and_then(|c| c.parent())
                            .is_some_and(|p| p.kind() == "assignment") => {}
                Some(m) => {
                    return Err(format!(
                        "`{}.{m}(...)` has no stream equivalent here (line {})",
                        conn.name,
                        n.start_position().row + 1
                    ));
                }
                None => {
                    return Err(format!(
                        "`{}` is used other than through its methods (line {})",
                        conn.name,
                        n.start_position().row + 1
                    ));
                }
            }
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    Ok(())
}

/// `create_connection((h, p))` -> `asyncio.open_connection(h, p)`, in its statement.
fn rewrite_creation(cx: &PassCx, conn: &Conn, out: &mut PassOut) {
    let src = cx.src();
    let Some(node) = cx.node(conn.call.start, conn.call.end) else {
        return;
    };
    let Some(address) = Args::of(node, src).and_then(|a| a.get(Some(0), "address")) else {
        return;
    };
    let target = if address.kind() == "tuple" && address.named_child_count() == 2 {
        let mut cursor = address.walk();
        let parts: Vec<&str> = address
            .named_children(&mut cursor)
            .map(|n| text(n, src))
            .collect();
        parts.join(", ")
    } else {
        format!("*{}", text(address, src))
    };
    // A timed connection is kept (see `connection`): the address is all there is.
    let open_connection = &cx.cat.names().sockets.open_connection;
    let open = format!("{open_connection}({target})");
    let pair = format!("{}, {}", conn.reader, conn.writer);
    out.imports
        .insert(crate::names::module(open_connection).into());
    out.rewritten += 1;
    let Some(with) = conn.with else {
        // `s = create_connection(...)`: the call is not claimed, so `await-call` awaits it.
        let Some(assign) = node.parent() else { return };
        let Some(left) = assign.child_by_field_name("left") else {
            return;
        };
        out.edits.push(Edit::replace(
            left.start_byte(),
            left.end_byte(),
            pair,
            Origin::Sockets,
        ));
        out.edits.push(Edit::replace(
            conn.call.start,
            conn.call.end,
            open,
            Origin::Sockets,
        ));
        return;
    };
    // `with create_connection(...) as s:` -> the pair, then `try:`/`finally:` closing it
    // (the call's `await` is claimed away: it goes in the new statement).
    let Some(body) = with.child_by_field_name("body") else {
        return;
    };
    let nl = cx.module().source.newline;
    let indent = cx.line_indent(with.start_byte());
    let inner = body
        .named_child(0)
        .map_or("    ", |first| cx.line_indent(first.start_byte()));
    let header_end = body.start_byte();
    let header = &src[with.start_byte()..header_end];
    let colon = header
        .rfind(':')
        .map_or(header_end, |i| with.start_byte() + i + 1);
    out.edits.push(Edit::replace(
        with.start_byte(),
        colon,
        format!("{pair} = await {open}{nl}{indent}try:"),
        Origin::Sockets,
    ));
    let end = with.end_byte();
    out.edits.push(Edit::insert(
        end,
        format!(
            "{nl}{indent}finally:{nl}{inner}{w}.close(){nl}{inner}await {w}.wait_closed()",
            w = conn.writer
        ),
        Origin::Sockets,
    ));
}

fn method(cx: &PassCx, c: &CallFact, name: &str, conn: &Conn, out: &mut PassOut) {
    let src = cx.src();
    let Some(node) = cx.node(c.start, c.end) else {
        return;
    };
    let a = Args::of(node, src);
    let arg = |i: usize| {
        a.as_ref()
            .and_then(|a| a.positional(i))
            .map_or("", |n| text(n, src))
    };
    let stmt = node.parent().filter(|p| p.kind() == "expression_statement");
    let nl = cx.module().source.newline;
    let indent = cx.line_indent(c.start);
    let (r, w) = (&conn.reader, &conn.writer);
    let statement_only = |out: &mut PassOut, new: String| {
        if stmt.is_none() {
            out.diagnostics.push(cx.diag_at(
                c,
                "socket-kept",
                format!("the result of `.{name}()` is used; left as is"),
            ));
            return;
        }
        out.edits
            .push(Edit::replace(c.start, c.end, new, Origin::Sockets));
    };
    match name {
        "sendall" | "send" => statement_only(
            out,
            format!("{w}.write({}){nl}{indent}await {w}.drain()", arg(0)),
        ),
        "close" => statement_only(
            out,
            format!("{w}.close(){nl}{indent}await {w}.wait_closed()"),
        ),
        "shutdown" => {
            let shut_wr = &cx.cat.names().sockets.shut_wr;
            let first = a.as_ref().and_then(|a| a.positional(0));
            let shuts_writing =
                first.is_some_and(|f| cx.qualified(c.caller, f).as_ref() == Some(shut_wr));
            if stmt.is_some() && shuts_writing {
                out.edits.push(Edit::replace(
                    c.start,
                    c.end,
                    format!("{w}.write_eof()"),
                    Origin::Sockets,
                ));
            } else {
                out.diagnostics.push(cx.diag_at(
                    c,
                    "socket-kept",
                    format!("only `shutdown({shut_wr})` maps to `writer.write_eof()`; left as is"),
                ));
            }
        }
        "recv" => {
            out.edits.push(Edit::replace(
                c.start,
                c.end,
                format!("{r}.read({})", arg(0)),
                Origin::Sockets,
            ));
        }
        "makefile" => {
            let binary = binary_mode(node, src);
            let bound = node
                .parent()
                .filter(|p| p.kind() == "assignment")
                .and_then(|p| p.child_by_field_name("left"))
                .filter(|l| l.kind() == "identifier");
            match (binary, bound) {
                // `conn.files` has the name (see [`plan`]).
                (true, Some(_)) => {
                    out.edits
                        .push(Edit::replace(c.start, c.end, r.clone(), Origin::Sockets));
                }
                _ => out.diagnostics.push(cx.diag_at(
                    c,
                    "socket-kept",
                    "only `f = sock.makefile(\"rb\")` maps to the stream reader; left as is",
                )),
            }
        }
        _ => {}
    }
    out.rewritten += 1;
}
