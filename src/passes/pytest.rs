//! `async-test`: tests and fixtures that now await become async tests their runner awaits.
//!
//! Why: pytest calls a test function and ignores a returned coroutine (with a warning), so
//! an `async def` test without pytest-asyncio's marker passes without running its body;
//! `unittest.TestCase` does the same. pytest tests get pytest-asyncio's marker (it works in
//! the default strict mode, so the project's configuration is left alone), fixtures get
//! `pytest_asyncio.fixture`, and `unittest.TestCase` classes become
//! `unittest.IsolatedAsyncioTestCase` with `asyncSetUp`/`asyncTearDown`.
//!
//! ```python
//! def test_add():                      @pytest.mark.asyncio
//!     assert slow_add(2, 3) == 5   ->  async def test_add():
//!                                          assert await slow_add(2, 3) == 5
//! @pytest.fixture                      @pytest_asyncio.fixture
//! class T(unittest.TestCase):          class T(unittest.IsolatedAsyncioTestCase):
//!     def setUp(self): ...                 async def asyncSetUp(self): ...
//! ```
//!
//! Unsafe when: a fixture is shared with sync tests of another module that call it
//! directly (rare; pytest forbids calling fixtures directly).

use super::async_def::first_line_start;
use super::{PassCx, PassOut};
use crate::edit::{Edit, Origin};
use crate::project::{ClassId, Sym};
use std::collections::BTreeSet;

pub fn run(cx: &PassCx, out: &mut PassOut) {
    let module = cx.module();
    let src = cx.src();
    let ix = &module.index;
    let mut unittest_classes = BTreeSet::new();
    for (c, class) in ix.classes.iter().enumerate() {
        let id = ClassId {
            module: cx.m as u32,
            class: c as u32,
        };
        let coloured = class
            .methods
            .values()
            .any(|&f| cx.colour.coloured.contains(&cx.fid(f)));
        // A base class of the project converts for its subclasses' async tests.
        if (coloured && is_test_case(cx, id)) || cx.colour.test_bases.contains(&id) {
            unittest_classes.insert(c);
            convert_test_case(cx, c, out);
        }
    }
    if !module.is_test {
        return;
    }
    for (i, def) in ix.functions.iter().enumerate() {
        if !cx.colour.coloured.contains(&cx.fid(i))
            || def.class.is_some_and(|c| unittest_classes.contains(&c))
        {
            continue;
        }
        let core = &cx.cat.names().core;
        if let Some(fixture) = cx.decorator(def, &core.fixture) {
            // Replace the decorator's callee, keeping its arguments.
            let new = core.async_fixture.as_str();
            out.edits.push(Edit::replace(
                fixture.start_byte(),
                fixture.end_byte(),
                new,
                Origin::AsyncTest,
            ));
            out.imports.insert(crate::names::module(new).into());
            out.packages.insert("pytest-asyncio".into());
            continue;
        }
        let is_test = def.name.starts_with("test") && (def.parent.is_none() || def.class.is_some());
        let mark = core.pytest_asyncio_mark.as_str();
        if !is_test || cx.decorator(def, mark).is_some() {
            continue;
        }
        let at = first_line_start(src, def);
        let indent = cx.line_indent(at);
        let nl = module.source.newline;
        // Before the `async ` that the async-def pass inserts at the same offset.
        out.edits.push(Edit {
            rank: -1,
            ..Edit::insert(
                at + indent.len(),
                format!("@{mark}{nl}{indent}"),
                Origin::AsyncTest,
            )
        });
        // The mark is an attribute of the top module: `import pytest`.
        out.imports
            .insert(mark.split('.').next().unwrap_or(mark).into());
        out.packages.insert("pytest-asyncio".into());
    }
}

fn is_test_case(cx: &PassCx, class: ClassId) -> bool {
    cx.p.mro(class).iter().any(|&k| {
        cx.p.class(k)
            .bases
            .iter()
            .any(|b| match cx.p.resolve_in_module(k.module as usize, b) {
                Sym::External(q) => cx.cat.names().core.is_test_case(&q),
                _ => false,
            })
    })
}

fn convert_test_case(cx: &PassCx, c: usize, out: &mut PassOut) {
    let ix = &cx.module().index;
    let class = &ix.classes[c];
    let Some(node) = cx
        .root()
        .descendant_for_byte_range(class.start, class.start + 1)
        .and_then(|mut n| {
            loop {
                if n.kind() == "class_definition" {
                    break Some(n);
                }
                n = n.parent()?;
            }
        })
    else {
        return;
    };
    if let Some(args) = node.child_by_field_name("superclasses") {
        let mut cursor = args.walk();
        for base in args.named_children(&mut cursor) {
            let written = &cx.src()[base.byte_range()];
            if let Sym::External(q) = cx.p.resolve_in_module(cx.m, written)
                && cx.cat.names().core.is_test_case(&q)
            {
                let new = cx.cat.names().core.async_test_case.as_str();
                out.edits.push(Edit::replace(
                    base.start_byte(),
                    base.end_byte(),
                    new,
                    Origin::AsyncTest,
                ));
                out.imports.insert(crate::names::module(new).into());
            }
        }
    }
    for (name, new) in [("setUp", "asyncSetUp"), ("tearDown", "asyncTearDown")] {
        if let Some(&f) = class.methods.get(name)
            && cx.colour.coloured.contains(&cx.fid(f))
        {
            let r = ix.functions[f].name_range;
            out.edits
                .push(Edit::replace(r.0, r.1, new, Origin::AsyncTest));
        }
    }
}
