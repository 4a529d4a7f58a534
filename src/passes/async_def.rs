//! `async-def`: a function that now awaits becomes `async def`.
//!
//! Why: `await` is only legal inside a coroutine, so a function that makes a blocking call
//! the catalog rewrites, or that calls a function that became async, must become one.
//!
//! ```python
//! def tick(n):              async def tick(n):
//!     time.sleep(0.01)  ->      await asyncio.sleep(0.01)
//! ```
//!
//! Context-manager and iterator dunders get their async names (`__enter__` → `__aenter__`).
//! Unsafe when: the function is public API called from outside the project; those callers
//! now get a coroutine (pin it with `--keep-sync`).

use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin};

const RENAMES: &[(&str, &str)] = &[
    ("__enter__", "__aenter__"),
    ("__exit__", "__aexit__"),
    ("__next__", "__anext__"),
    // Only reached for a generator `__iter__`, which becomes an async generator.
    ("__iter__", "__aiter__"),
];

pub fn run(cx: &PassCx, out: &mut PassOut) {
    let ix = &cx.module().index;
    for (i, def) in ix.functions.iter().enumerate() {
        if !cx.colour.coloured.contains(&cx.fid(i)) {
            continue;
        }
        out.edits
            .push(Edit::insert(def.start, "async ", Origin::AsyncDef));
        if cx.colour.scripts.contains(&cx.fid(i)) {
            console_script(cx, def, out);
        }
        if let Some((_, to)) = RENAMES.iter().find(|(from, _)| *from == def.name) {
            out.edits.push(Edit::replace(
                def.name_range.0,
                def.name_range.1,
                *to,
                Origin::AsyncDef,
            ));
        }
        if def.name == "__next__" {
            rename_stop_iteration(cx, i, out);
            // The iterator protocol's other half: a sync `__aiter__` returning the iterator.
            let sibling = def
                .class
                .and_then(|c| ix.classes[c].methods.get("__iter__"));
            if let Some(&it) = sibling.filter(|&&it| !cx.colour.coloured.contains(&cx.fid(it))) {
                let r = ix.functions[it].name_range;
                out.edits
                    .push(Edit::replace(r.0, r.1, "__aiter__", Origin::AsyncDef));
            }
        }
        // `@contextmanager` (however imported) on a generator that now awaits.
        let names = &cx.cat.names().core;
        if let Some(callee) = cx.decorator(def, &names.contextmanager) {
            let new = names.asynccontextmanager.as_str();
            out.edits.push(Edit::replace(
                callee.start_byte(),
                callee.end_byte(),
                new,
                Origin::AsyncDef,
            ));
            out.imports.insert(crate::names::module(new).into());
        }
    }
}

/// `raise StopIteration` inside `__next__` (function `f`) that became `__anext__`: the
/// builtin however written (`builtins.StopIteration`, an alias), and a local of that name
/// with all its uses (`def __next__(self, StopIteration=StopIteration)`), a consistent
/// rename; not an attribute, an import or a module-level name that only share its name.
fn rename_stop_iteration(cx: &PassCx, f: usize, out: &mut PassOut) {
    use crate::index::Scoped;
    let ix = &cx.module().index;
    let Some(node) = cx.node(ix.functions[f].start, ix.functions[f].end) else {
        return;
    };
    let core = &cx.cat.names().core;
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        let written = match n.kind() {
            "attribute" => n.child_by_field_name("attribute"),
            "identifier" if !is_attribute_name(n) => Some(n),
            _ => None,
        };
        if let Some(name) = written {
            let text = &cx.src()[n.byte_range()];
            let local = n.kind() == "identifier"
                && text == crate::names::last(&core.stop_iteration)
                && matches!(ix.lookup(text, Some(f)), Scoped::Local { func, import: None } if func == f);
            if local || cx.qualified(Some(f), n).as_ref() == Some(&core.stop_iteration) {
                out.edits.push(Edit::replace(
                    name.start_byte(),
                    name.end_byte(),
                    crate::names::last(&core.stop_async_iteration),
                    Origin::AsyncDef,
                ));
            }
        }
        if n.id() == node.id() || !matches!(n.kind(), "function_definition" | "class_definition") {
            let mut cursor = n.walk();
            stack.extend(n.children(&mut cursor));
        }
    }
}

/// Whether identifier `n` is the name after the dot of an attribute (`x.StopIteration`).
fn is_attribute_name(n: tree_sitter::Node) -> bool {
    n.parent().is_some_and(|p| {
        p.kind() == "attribute"
            && p.child_by_field_name("attribute")
                .is_some_and(|a| a.id() == n.id())
    })
}

/// Byte offset of the start of a definition's first line (its first decorator's), found
/// backwards from the `def`: a count from the top of the file was quadratic in big modules.
pub fn first_line_start(src: &str, def: &crate::index::FuncDef) -> usize {
    memchr::memrchr_iter(b'\n', &src.as_bytes()[..def.start])
        .nth(def.line - def.first_line)
        .map_or(0, |i| i + 1)
}

/// A console script must stay a sync callable: the coroutine is renamed `<name>_async` and a
/// sync function of the old name runs it with `asyncio.run`.
fn console_script(cx: &PassCx, def: &crate::index::FuncDef, out: &mut PassOut) {
    let (name, nl, unit) = (
        &def.name,
        cx.module().source.newline,
        &cx.module().source.indent,
    );
    let indent = cx.line_indent(def.start);
    out.edits.push(Edit::replace(
        def.name_range.0,
        def.name_range.1,
        format!("{name}_async"),
        Origin::AsyncDef,
    ));
    let run = &cx.cat.names().core.run;
    let wrapper = format!(
        "{nl}{nl}{nl}{indent}def {name}(*args, **kwargs):{nl}{indent}{unit}\"\"\"Console-script entry point: runs `{name}_async` in a new event loop.\"\"\"{nl}{indent}{unit}return {run}({name}_async(*args, **kwargs))"
    );
    out.edits
        .push(Edit::insert(def.end, wrapper, Origin::AsyncDef));
    out.imports.insert(crate::names::module(run).into());
}
