//! Decoding a file's bytes into text we can edit, and encoding it back byte-for-byte.
//!
//! Edits work on the text after the BOM; everything outside the edits must come back
//! identical, so the BOM, the line-ending style and the indentation unit are recorded here
//! and reused for every line a pass inserts.

use thiserror::Error;

const BOM: &str = "\u{feff}";

/// Why a file's bytes cannot be migrated.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("file is not valid UTF-8 (byte {0}); skipped")]
    NotUtf8(usize),
    #[error("file looks binary (contains a NUL byte); skipped")]
    Binary,
    #[error("declares encoding `{0}`, which awaitify does not rewrite; skipped")]
    UnsupportedEncoding(String),
}

/// The editable text of one file plus what is needed to write it back unchanged.
#[derive(Debug, Clone)]
pub struct SourceText {
    pub bom: bool,
    /// The text after the BOM. All byte offsets in the pipeline refer to this string.
    pub text: String,
    /// The newline used by the file (`"\n"` or `"\r\n"`), for inserted lines.
    pub newline: &'static str,
    /// One level of indentation as the file writes it (a tab, or N spaces).
    pub indent: String,
}

impl SourceText {
    pub fn decode(bytes: &[u8]) -> Result<SourceText, DecodeError> {
        if bytes.contains(&0) {
            return Err(DecodeError::Binary);
        }
        let text = std::str::from_utf8(bytes).map_err(|e| DecodeError::NotUtf8(e.valid_up_to()))?;
        if let Some(enc) = coding_cookie(text) {
            let norm = enc.to_ascii_lowercase().replace('_', "-");
            if !matches!(
                norm.as_str(),
                "utf-8" | "utf8" | "ascii" | "us-ascii" | "utf-8-sig"
            ) {
                // A file that decodes as UTF-8 but declares latin-1 only round-trips if it
                // is pure ASCII; otherwise Python would read different characters than we do.
                if !text.is_ascii() {
                    return Err(DecodeError::UnsupportedEncoding(enc));
                }
            }
        }
        let (bom, body) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        Ok(SourceText {
            bom,
            newline: detect_newline(body),
            indent: detect_indent(body),
            text: body.to_string(),
        })
    }

    /// Builds the bytes to write for `new_text`, restoring the BOM.
    pub fn encode(&self, new_text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(new_text.len() + 3);
        if self.bom {
            out.extend_from_slice(BOM.as_bytes());
        }
        out.extend_from_slice(new_text.as_bytes());
        out
    }
}

/// PEP 263: a coding declaration in a comment on line 1 or 2.
fn coding_cookie(text: &str) -> Option<String> {
    for line in text.lines().take(2) {
        let line = line.trim_start_matches(BOM).trim_start();
        if !line.starts_with('#') {
            // Only comment lines can carry the cookie; a non-comment first line ends the search.
            if !line.is_empty() {
                return None;
            }
            continue;
        }
        if let Some(pos) = line.find("coding") {
            let rest = &line[pos + 6..];
            let rest = rest.strip_prefix([':', '='])?;
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            if !name.is_empty() {
                return Some(name);
            }
        }
    }
    None
}

fn detect_newline(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

fn detect_indent(text: &str) -> String {
    for line in text.lines() {
        let ws: String = line
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        if ws.is_empty() || ws.len() == line.len() {
            continue;
        }
        if ws.starts_with('\t') {
            return "\t".to_string();
        }
        return ws;
    }
    "    ".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bom_and_crlf() {
        let s = SourceText::decode("\u{feff}x = 1\r\nif x:\r\n\tpass\r\n".as_bytes()).unwrap();
        assert!(s.bom);
        assert_eq!(s.newline, "\r\n");
        assert_eq!(s.indent, "\t");
        assert_eq!(
            s.encode(&s.text),
            "\u{feff}x = 1\r\nif x:\r\n\tpass\r\n".as_bytes()
        );
    }

    #[test]
    fn rejects_binary_and_non_utf8() {
        assert_eq!(
            SourceText::decode(b"a\0b").unwrap_err(),
            DecodeError::Binary
        );
        assert_eq!(
            SourceText::decode(b"x = '\xff'").unwrap_err(),
            DecodeError::NotUtf8(5)
        );
    }

    #[test]
    fn latin1_cookie_only_when_ascii() {
        assert!(SourceText::decode(b"# -*- coding: latin-1 -*-\nx = 1\n").is_ok());
        let err = SourceText::decode("# coding: latin-1\nx = 'é'\n".as_bytes()).unwrap_err();
        assert_eq!(err, DecodeError::UnsupportedEncoding("latin-1".into()));
    }
}
