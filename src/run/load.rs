//! Parse and index: each file read becomes a [`Module`] (its text, compact syntax and index),
//! or the diagnostic saying why it cannot be migrated.

use super::Input;
use crate::index;
use crate::parse;
use crate::project::Module;
use crate::report::Diagnostic;
use crate::source::SourceText;
use rayon::prelude::*;
use std::path::Path;

/// Loads every input on all cores: the modules, and the diagnostics of those that fail.
pub(super) fn load_all(inputs: Vec<Input>) -> (Vec<Module>, Vec<Diagnostic>) {
    inputs.into_par_iter().map(load).partition_map(|r| match r {
        Ok(m) => rayon::iter::Either::Left(m),
        Err(d) => rayon::iter::Either::Right(d),
    })
}

/// Decodes, parses and indexes one file.
pub(crate) fn load(mut input: Input) -> Result<Module, Diagnostic> {
    let bytes = std::mem::take(&mut input.bytes);
    let (source, tree) = decode_parse(&input.display, SourceText::decode_owned(bytes))?;
    let (name, aliases, is_package) = module_names(&input.path, &input.root);
    let file_name = input
        .path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let is_test = file_name.starts_with("test_")
        || file_name.ends_with("_test.py")
        || file_name == "conftest.py";
    let syntax = crate::syntax::Syntax::new(&tree, &source.text);
    drop(tree);
    let index = index::build(&syntax, &source.text, &name, is_package);
    let packed = syntax.pack();
    if cfg!(debug_assertions) {
        // The tests check that packing loses nothing.
        let back = packed.unpack(&source.text);
        debug_assert!(back == syntax, "{}: packed syntax differs", input.display);
    }
    drop(syntax);
    Ok(Module {
        path: input.path,
        display: input.display,
        name,
        aliases,
        is_package,
        is_test,
        source,
        syntax: packed,
        index,
    })
}

/// Parses a decoded file; `Err` is the diagnostic for a file that cannot be migrated.
fn decode_parse(
    display: &str,
    decoded: Result<SourceText, crate::source::DecodeError>,
) -> Result<(SourceText, tree_sitter::Tree), Diagnostic> {
    let err = |code, msg: String| Diagnostic::new(display, 1, 1, code, msg).as_error();
    let source = decoded.map_err(|e| err("decode-error", e.to_string()))?;
    let tree = parse::parse(&source.text)
        .ok_or_else(|| err("parse-error", "tree-sitter could not parse the file".into()))?;
    if parse::error_count(&tree) > 0 {
        let at = parse::first_error(&tree)
            .map(|n| n.start_position())
            .unwrap_or_default();
        return Err(Diagnostic::new(
            display,
            at.row + 1,
            at.column + 1,
            "syntax-error",
            "the file has a syntax error; skipped (awaitify only rewrites files that parse)",
        )
        .as_error());
    }
    Ok((source, tree))
}

/// The dotted name of a module: from the top of its package chain (directories with
/// `__init__.py`), and also relative to the walked root, which covers namespace packages.
fn module_names(path: &Path, root: &Path) -> (String, Vec<String>, bool) {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let is_package = stem == "__init__";
    let mut parts: Vec<String> = if is_package { Vec::new() } else { vec![stem] };
    let mut dir = path.parent();
    while let Some(d) = dir {
        if !d.join("__init__.py").exists() {
            break;
        }
        match d.file_name() {
            Some(n) => parts.push(n.to_string_lossy().to_string()),
            None => break,
        }
        dir = d.parent();
    }
    parts.reverse();
    let name = parts.join(".");
    let mut aliases = Vec::new();
    let rel = path.strip_prefix(root).ok().map(|r| {
        let mut segs: Vec<String> = r.iter().map(|s| s.to_string_lossy().to_string()).collect();
        if let Some(last) = segs.last_mut() {
            *last = last.trim_end_matches(".py").to_string();
        }
        if segs.last().is_some_and(|s| s == "__init__") {
            segs.pop();
        }
        segs.join(".")
    });
    if let Some(rel) = rel.filter(|r| !r.is_empty() && *r != name) {
        aliases.push(rel.clone());
        for prefix in ["src.", "lib."] {
            if let Some(stripped) = rel.strip_prefix(prefix) {
                aliases.push(stripped.to_string());
            }
        }
    }
    (name, aliases, is_package)
}
