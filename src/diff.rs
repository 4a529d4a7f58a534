//! Unified diffs of the changes, optionally coloured.

use similar::TextDiff;

/// A unified diff from `a/<path>` to `b/<path>` with three lines of context.
pub fn unified(path: &str, old: &str, new: &str, color: bool) -> String {
    let diff = TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{}", strip(path)), &format!("b/{}", strip(path)))
        .to_string();
    if !color {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 256);
    for line in text.split_inclusive('\n') {
        let code = match line.as_bytes().first() {
            Some(b'+') if !line.starts_with("+++") => "32",
            Some(b'-') if !line.starts_with("---") => "31",
            Some(b'@') => "36",
            Some(b'+' | b'-') => "1",
            _ => "",
        };
        if code.is_empty() {
            out.push_str(line);
        } else {
            let body = line.trim_end_matches(['\n', '\r']);
            out.push_str(&format!("\x1b[{code}m{body}\x1b[0m{}", &line[body.len()..]));
        }
    }
    out
}

/// `a/` and `b/` prefixes read best on a relative path.
fn strip(path: &str) -> &str {
    path.trim_start_matches("./").trim_start_matches('/')
}

#[cfg(test)]
mod tests {
    #[test]
    fn headers_and_hunks() {
        let d = super::unified("m.py", "a\nb\n", "a\nc\n", false);
        assert_eq!(d, "--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n");
    }
}
