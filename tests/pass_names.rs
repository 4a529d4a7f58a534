//! The Python API names the passes use come from `transforms/` (`[names]` tables and rule
//! entries), never from string literals in `src/passes/`: the sync->async table is data.

mod support;

use awaitify::rules::Catalog;
use std::collections::BTreeSet;
use std::path::Path;

/// The top-level modules a qualified name may start with: the standard library's and every
/// package or module a rule names.
fn modules() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let stdlib = std::fs::read_to_string(root.join("transforms/stdlib-modules.txt")).unwrap();
    let mut out: BTreeSet<String> = stdlib
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect();
    let cat = Catalog::builtin().unwrap();
    for id in cat.rule_ids() {
        let rule = cat.rule(id);
        let replaced = rule.calls.iter().filter_map(|c| c.replace.as_deref());
        let renamed = rule.names.iter().map(|n| n.replace.as_str());
        for name in cat
            .matched_names(id)
            .into_iter()
            .chain(replaced)
            .chain(renamed)
        {
            out.extend(name.split('.').next().map(str::to_string));
        }
        out.extend(rule.packages.iter().map(|p| p.replace('-', "_")));
        // The `[names]` table's own (`pytest.mark.asyncio`).
        let names = rule.pass_names.values().flat_map(|v| match v {
            toml::Value::String(s) => vec![s.as_str()],
            toml::Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
            _ => Vec::new(),
        });
        out.extend(names.filter_map(|n| n.split('.').next().map(str::to_string)));
    }
    out
}

/// The contents of the ordinary string literals of Rust source `src` (not raw strings,
/// which hold Python test fixtures), with their line numbers.
fn string_literals(src: &str) -> Vec<(usize, String)> {
    let b = src.as_bytes();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    while i < b.len() {
        match b[i] {
            b'\n' => line += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            // A char literal (`'"'`, `'\''`); a lifetime is skipped as a lone `'`.
            b'\'' if b.get(i + 2) == Some(&b'\'') => i += 2,
            b'\'' if b.get(i + 1) == Some(&b'\\') && b.get(i + 3) == Some(&b'\'') => i += 3,
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#')) && !ident(b, i) => {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                let close = format!("\"{}", "#".repeat(hashes));
                let body = i + 2 + hashes;
                let end = body + src[body..].find(&close).unwrap();
                line += src[i..end].matches('\n').count();
                i = end + close.len();
                continue;
            }
            b'"' => {
                let start = i + 1;
                i += 1;
                while b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                out.push((line, src[start..i].to_string()));
                line += src[start..i].matches('\n').count();
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Whether the byte before `i` continues an identifier (`for"` is not a raw string's `r"`).
fn ident(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// Whether `s` is a qualified name `a.b[.c...]` under one of `modules`.
fn qualified(s: &str, modules: &BTreeSet<String>) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
        && modules.contains(parts[0])
}

/// The qualified names under one of `modules` written inside `s` (`asyncio.wait_for` in
/// `"await asyncio.wait_for({call}, {t})"`), each starting at a word boundary.
fn embedded(s: &str, modules: &BTreeSet<String>) -> Vec<String> {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find(|c: char| word(c)) {
        let before = rest[..at].chars().last();
        let end = rest[at..]
            .find(|c: char| !(word(c) || c == '.'))
            .map_or(rest.len(), |e| at + e);
        let name = rest[at..end].trim_end_matches('.');
        // Not the tail of a longer chain (`self.queue.get`) or a placeholder (`{q}.x`).
        let free = !matches!(before, Some('.' | '}' | '{'));
        if free && qualified(name, modules) {
            out.push(name.to_string());
        }
        rest = &rest[end..];
    }
    out
}

#[test]
fn the_scanner_finds_names_and_skips_raw_strings_comments_and_chars() {
    let modules = modules();
    let src = "let q = '\"'; // \"time.sleep\"\nlet a = r#\"json.dumps\"#;\nlet b = \"subprocess.Popen\";\nlet c = \"not.a.module\";\n";
    let found: Vec<(usize, String)> = string_literals(src)
        .into_iter()
        .filter(|(_, s)| qualified(s, &modules))
        .collect();
    assert_eq!(found, vec![(3, "subprocess.Popen".to_string())]);
    let inside = |s: &str| embedded(s, &modules);
    assert_eq!(
        inside("{x}await asyncio.wait_for({call}, {t}) or `time.sleep`"),
        vec!["asyncio.wait_for", "time.sleep"]
    );
    assert!(inside("self.queue.get() and {q}.socket.x, or e.g. foo.bar").is_empty());
    assert!(modules.contains("httpx") && modules.contains("aiofiles"));
}

#[test]
fn no_python_api_name_is_a_string_literal_in_the_passes() {
    let modules = modules();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/passes");
    let mut found = Vec::new();
    for path in support::rust_files(&dir) {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        for (line, s) in string_literals(&src) {
            if qualified(&s, &modules) {
                found.push(format!("src/passes/{file}:{line}: \"{s}\""));
            } else {
                for name in embedded(&s, &modules) {
                    found.push(format!("src/passes/{file}:{line}: `{name}` in \"{s}\""));
                }
            }
        }
    }
    found.sort();
    assert!(
        found.is_empty(),
        "Python API names belong in transforms/ (a `[names]` table, see src/names.rs):\n{}",
        found.join("\n")
    );
}
