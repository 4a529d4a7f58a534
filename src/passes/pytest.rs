//! `async-test`: pytest tests and fixtures that now await become pytest-asyncio ones.
//!
//! Why: pytest calls a test function and ignores a returned coroutine (with a warning), so
//! an `async def` test without pytest-asyncio's marker silently passes without running.
//!
//! ```python
//! def test_add():                      @pytest.mark.asyncio
//!     assert slow_add(2, 3) == 5   ->  async def test_add():
//!                                          assert await slow_add(2, 3) == 5
//! @pytest.fixture                      @pytest_asyncio.fixture
//! ```
//!
//! Explicit markers work in pytest-asyncio's default strict mode without touching the
//! project's configuration.

use super::{PassCx, PassOut};
use crate::edit::Edit;

pub fn run(cx: &PassCx, out: &mut PassOut) {
    let module = cx.module();
    if !module.is_test {
        return;
    }
    let src = cx.src();
    for (i, def) in module.index.functions.iter().enumerate() {
        if !cx.colour.coloured.contains(&cx.fid(i)) {
            continue;
        }
        let is_fixture = def
            .decorators
            .iter()
            .any(|d| d == "pytest.fixture" || d == "fixture");
        if is_fixture {
            // Replace the decorator's callee text, keeping its arguments.
            let head = &src[..def.start];
            if let Some(at) = head
                .rfind("pytest.fixture")
                .filter(|&at| at >= line_start(src, first_line_offset(src, def.first_line)))
            {
                out.edits.push(Edit::replace(
                    at,
                    at + "pytest.fixture".len(),
                    "pytest_asyncio.fixture",
                    "async-test",
                ));
                out.imports.insert("pytest_asyncio".into());
                out.packages.insert("pytest-asyncio".into());
            }
            continue;
        }
        let is_test = def.name.starts_with("test") && (def.parent.is_none() || def.class.is_some());
        if !is_test || def.decorators.iter().any(|d| d.ends_with("mark.asyncio")) {
            continue;
        }
        let at = first_line_offset(src, def.first_line);
        let indent = cx.line_indent(at);
        let nl = module.source.newline;
        // Before the `async ` that the async-def pass inserts at the same offset.
        out.edits.push(Edit {
            rank: -1,
            ..Edit::insert(
                at + indent.len(),
                format!("@pytest.mark.asyncio{nl}{indent}"),
                "async-test",
            )
        });
        out.imports.insert("pytest".into());
        out.packages.insert("pytest-asyncio".into());
    }
}

/// Byte offset of the start of 1-based `line`.
fn first_line_offset(src: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    src.match_indices('\n')
        .nth(line - 2)
        .map_or(src.len(), |(i, _)| i + 1)
}

fn line_start(src: &str, offset: usize) -> usize {
    src[..offset].rfind('\n').map_or(0, |i| i + 1)
}
