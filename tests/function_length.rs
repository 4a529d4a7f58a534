//! No function in `src/` is over [`MAX_LINES`] lines (issue 14): a long function is a pipeline
//! whose phases have no names. Each `fn` body is found by matching braces, with the braces in
//! strings, characters and comments left out.

mod support;

use std::path::Path;

/// The longest a function may be, from its `fn` line to its closing brace.
const MAX_LINES: usize = 120;

#[test]
fn no_function_is_over_the_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = support::rust_files(&root.join("src"));
    assert!(!files.is_empty(), "no Rust files under src/");
    let mut long = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        for (name, line, n) in functions(&text) {
            if n > MAX_LINES {
                long.push(format!("{rel}:{line} {name} ({n} lines)"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn braces_in_strings_chars_and_comments_do_not_count() {
    let text = "fn a<'x>(s: &'x str) {\n    let t = \"}\";\n    // }\n    /* } */\n    let c = '}';\n    let r = r#\"}\"#;\n    let e = '\\'';\n}\nfn b();\nfn c() {}\nfn d() -> [u8; 2] {\n    [0; 2]\n}\n";
    assert_eq!(
        functions(text),
        [
            ("a".to_string(), 1, 8),
            ("c".to_string(), 10, 1),
            ("d".to_string(), 11, 3)
        ]
    );
}

/// Each function with a body: its name, the line of its `fn` and its length in lines.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let code = blank_out(text);
    let b = code.as_bytes();
    let line_at = |i: usize| 1 + b[..i].iter().filter(|&&c| c == b'\n').count();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(at) = code[i..].find("fn ").map(|k| k + i) {
        i = at + 3;
        if at > 0 && (b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_') {
            continue;
        }
        let rest = code[i..].trim_start();
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        // The body opens at the first `{` after the signature outside brackets (`-> [u8; 4]`);
        // a `;` first is a declaration.
        let mut nesting = 0i32;
        let Some(open) = (i..b.len()).find(|&k| {
            match b[k] {
                b'(' | b'[' => nesting += 1,
                b')' | b']' => nesting -= 1,
                _ => {}
            }
            nesting == 0 && matches!(b[k], b'{' | b';')
        }) else {
            break;
        };
        if b[open] == b';' {
            continue;
        }
        let mut depth = 0;
        let close = (open..b.len()).find(|&k| {
            match b[k] {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                _ => {}
            }
            depth == 0
        });
        let Some(close) = close else { break };
        out.push((name, line_at(at), line_at(close) - line_at(at) + 1));
    }
    out
}

/// The text with every comment, string and character literal turned into spaces (newlines
/// kept), so that only the code's own braces remain.
fn blank_out(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |out: &mut String, s: &[char]| {
        out.extend(s.iter().map(|&ch| if ch == '\n' { '\n' } else { ' ' }));
    };
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    while i < c.len() {
        let end = match c[i] {
            '/' if c.get(i + 1) == Some(&'/') => {
                (i..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len())
            }
            '/' if c.get(i + 1) == Some(&'*') => block_comment_end(&c, i),
            'r' if (i == 0 || !ident(c[i - 1])) && matches!(c.get(i + 1), Some('"' | '#')) => {
                raw_string_end(&c, i).unwrap_or(i + 1)
            }
            '"' => string_end(&c, i),
            '\'' => char_end(&c, i).unwrap_or(i + 1),
            _ => i + 1,
        };
        if end == i + 1 {
            out.push(c[i]);
        } else {
            blank(&mut out, &c[i..end]);
        }
        i = end;
    }
    out
}

/// The end of a `/* */` comment opening at `i` (they nest).
fn block_comment_end(c: &[char], i: usize) -> usize {
    let (mut k, mut depth) = (i, 0);
    while k + 1 < c.len() {
        match (c[k], c[k + 1]) {
            ('/', '*') => (depth, k) = (depth + 1, k + 2),
            ('*', '/') => {
                (depth, k) = (depth - 1, k + 2);
                if depth == 0 {
                    return k;
                }
            }
            _ => k += 1,
        }
    }
    c.len()
}

/// The end of `r"..."` or `r#"..."#` opening at `i`, if it is one.
fn raw_string_end(c: &[char], i: usize) -> Option<usize> {
    let hashes = c[i + 1..].iter().take_while(|&&ch| ch == '#').count();
    let quote = i + 1 + hashes;
    if c.get(quote) != Some(&'"') {
        return None;
    }
    (quote + 1..c.len())
        .find(|&k| {
            c[k] == '"'
                && c[k + 1..]
                    .iter()
                    .take(hashes)
                    .filter(|&&h| h == '#')
                    .count()
                    == hashes
        })
        .map(|k| k + 1 + hashes)
}

/// The end of the string opening at `i`.
fn string_end(c: &[char], i: usize) -> usize {
    let mut k = i + 1;
    while k < c.len() && c[k] != '"' {
        k += if c[k] == '\\' { 2 } else { 1 };
    }
    k + 1
}

/// The end of the character literal opening at `i`; `None` for a lifetime (`'a`).
fn char_end(c: &[char], i: usize) -> Option<usize> {
    if c.get(i + 1) == Some(&'\\') {
        return (i + 3..c.len()).find(|&k| c[k] == '\'').map(|k| k + 1);
    }
    (c.get(i + 2) == Some(&'\'')).then_some(i + 3)
}
