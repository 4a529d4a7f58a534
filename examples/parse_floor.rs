//! Parse-only floor for the awaitify benchmark (`bench/run.sh`).
//!
//! awaitify's cost on a code base is "find the Python files, parse them with
//! tree-sitter-python, then analyse and rewrite". This example does only the
//! first two steps, with awaitify's own walk (`awaitify::walk::discover`) and
//! parser (`awaitify::parse`, one tree-sitter `Parser` per rayon thread) on
//! all cores, so the two can never drift apart. Its wall time
//! is therefore a lower bound for any tree-sitter based pass over the same
//! files: the benchmark reports awaitify's time as a ratio to it, so the
//! number says how much the analysis and rewriting add on top of the parse
//! that cannot be avoided.
//!
//! It does no other work and prints a single line:
//!
//! ```text
//! files=N lines=L bytes=B error_files=E
//! ```
//!
//! `error_files` counts files whose tree contains an ERROR or MISSING node
//! (the CPython test suite ships some deliberately broken files, for example).
//! Files that cannot be read are reported on stderr and not counted.
//!
//! Usage: `cargo run --release --example parse_floor -- [PATH ...]`
//! (default: the current directory).

use std::path::PathBuf;
use std::process::ExitCode;

use awaitify::walk::{Found, WalkOptions, build_excludes, discover};
use rayon::prelude::*;

#[derive(Default, Clone, Copy)]
struct Totals {
    files: u64,
    lines: u64,
    bytes: u64,
    error_files: u64,
}

impl Totals {
    fn add(self, other: Self) -> Self {
        Self {
            files: self.files + other.files,
            lines: self.lines + other.lines,
            bytes: self.bytes + other.bytes,
            error_files: self.error_files + other.error_files,
        }
    }
}

/// Lines as `wc -l` would count them, plus a final line without a newline.
fn count_lines(src: &[u8]) -> u64 {
    let newlines = src.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(src.last().is_some_and(|&b| b != b'\n'))
}

fn parse_one(path: &PathBuf) -> Totals {
    let src = match std::fs::read(path) {
        Ok(src) => src,
        Err(err) => {
            eprintln!("parse_floor: {}: {err}", path.display());
            return Totals::default();
        }
    };
    // Invalid UTF-8 is parsed lossily: the floor measures parsing, not decoding rules.
    let text = String::from_utf8_lossy(&src);
    let tree = awaitify::parse::parse(&text).expect("parse without a timeout returns a tree");
    Totals {
        files: 1,
        lines: count_lines(&src),
        bytes: src.len() as u64,
        error_files: u64::from(tree.root_node().has_error()),
    }
}

fn main() -> ExitCode {
    let mut roots: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if roots.iter().any(|r| r == "-h" || r == "--help") {
        println!("usage: parse_floor [PATH ...]\nprints: files=N lines=L bytes=B error_files=E");
        return ExitCode::SUCCESS;
    }
    if roots.is_empty() {
        roots.push(PathBuf::from("."));
    }
    let excludes = build_excludes(&[]).expect("no globs");
    let opts = WalkOptions {
        no_ignore: false,
        exclude: &excludes,
    };
    let mut failed = false;
    let mut files = Vec::new();
    for found in discover(&roots, &opts) {
        match found {
            Found::File(path) => files.push(path),
            Found::Error(path, err) => {
                eprintln!("parse_floor: {}: {err}", path.display());
                failed = true;
            }
        }
    }
    let totals = files
        .par_iter()
        .map(parse_one)
        .reduce(Totals::default, Totals::add);
    println!(
        "files={} lines={} bytes={} error_files={}",
        totals.files, totals.lines, totals.bytes, totals.error_files
    );
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
