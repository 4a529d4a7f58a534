//! Decoding a file's bytes into text we can edit, and encoding it back byte-for-byte.
//!
//! Edits work on the text after the BOM; everything outside the edits must come back
//! identical, so the BOM, the encoding (PEP 263 coding cookie), the line-ending style and
//! the indentation unit are recorded here and reused for every line a pass inserts.

use encoding_rs::Encoding;
use thiserror::Error;

const BOM: &str = "\u{feff}";

/// Why a file's bytes cannot be migrated.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("file is not valid UTF-8 (byte {0}) and declares no encoding; skipped")]
    NotUtf8(usize),
    #[error("file looks binary (contains a NUL byte); skipped")]
    Binary,
    #[error("declares encoding `{0}`, which awaitify does not rewrite; skipped")]
    UnsupportedEncoding(String),
    #[error("is not valid `{0}` as its coding cookie declares; skipped")]
    Undecodable(String),
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
    /// `None` for UTF-8; otherwise the single-byte (or other ASCII-compatible) encoding a
    /// PEP 263 cookie declared, used again to write the file back.
    pub encoding: Option<&'static Encoding>,
}

impl SourceText {
    /// [`SourceText::decode`] that keeps the buffer as the text in the common case (UTF-8,
    /// no other coding cookie): no copy of the file.
    pub fn decode_owned(bytes: Vec<u8>) -> Result<SourceText, DecodeError> {
        if bytes.contains(&0) || coding_cookie(&bytes).is_some_and(|n| !is_utf8_name(&n)) {
            return SourceText::decode(&bytes);
        }
        let mut text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => return SourceText::decode(e.as_bytes()),
        };
        let bom = text.starts_with(BOM);
        if bom {
            text.drain(..BOM.len());
        }
        Ok(SourceText {
            bom,
            newline: detect_newline(&text),
            indent: detect_indent(&text),
            text,
            encoding: None,
        })
    }

    pub fn decode(bytes: &[u8]) -> Result<SourceText, DecodeError> {
        if bytes.contains(&0) {
            return Err(DecodeError::Binary);
        }
        let has_bom = bytes.starts_with(BOM.as_bytes());
        let cookie = coding_cookie(bytes);
        let encoding = match &cookie {
            Some(name) if !is_utf8_name(name) => {
                if has_bom {
                    // Python refuses a BOM together with a non-UTF-8 cookie.
                    return Err(DecodeError::UnsupportedEncoding(name.clone()));
                }
                Some(lookup(name).ok_or_else(|| DecodeError::UnsupportedEncoding(name.clone()))?)
            }
            _ => None,
        };
        let text = match encoding {
            None => std::str::from_utf8(bytes)
                .map_err(|e| DecodeError::NotUtf8(e.valid_up_to()))?
                .to_string(),
            Some(enc) => {
                let name = cookie.clone().unwrap_or_default();
                let (text, had_errors) = enc.decode_without_bom_handling(bytes);
                if had_errors {
                    return Err(DecodeError::Undecodable(name));
                }
                let text = text.into_owned();
                // Only an exact round trip lets every byte outside the edits come back as it was.
                let (back, _, unmappable) = enc.encode(&text);
                if unmappable || back.as_ref() != bytes {
                    return Err(DecodeError::UnsupportedEncoding(name));
                }
                text
            }
        };
        let (bom, body) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest.to_string()),
            None => (false, text),
        };
        Ok(SourceText {
            bom,
            newline: detect_newline(&body),
            indent: detect_indent(&body),
            text: body,
            encoding,
        })
    }

    /// Builds the bytes to write for `new_text`, restoring the BOM and the declared encoding.
    /// `Err` if the new text has a character the file's encoding cannot represent.
    pub fn encode(&self, new_text: &str) -> Result<Vec<u8>, String> {
        self.codec().encode(new_text)
    }

    /// How the text is written back.
    pub fn codec(&self) -> Codec {
        Codec {
            bom: self.bom,
            encoding: self.encoding,
        }
    }
}

/// How a file's text becomes bytes again: its BOM and its encoding.
#[derive(Debug, Clone, Copy, Default)]
pub struct Codec {
    pub bom: bool,
    /// `None` for UTF-8.
    pub encoding: Option<&'static Encoding>,
}

impl Codec {
    pub fn encode(&self, new_text: &str) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(new_text.len() + 3);
        if self.bom {
            out.extend_from_slice(BOM.as_bytes());
        }
        match self.encoding {
            None => out.extend_from_slice(new_text.as_bytes()),
            Some(enc) => {
                let (bytes, _, unmappable) = enc.encode(new_text);
                if unmappable {
                    return Err(format!(
                        "the rewritten text cannot be written as {}",
                        enc.name()
                    ));
                }
                out.extend_from_slice(&bytes);
            }
        }
        Ok(out)
    }
}

fn is_utf8_name(name: &str) -> bool {
    let norm = name.to_ascii_lowercase().replace('_', "-");
    matches!(
        norm.as_str(),
        "utf-8" | "utf8" | "utf-8-sig" | "ascii" | "us-ascii" | "646"
    ) || norm.starts_with("utf-8-")
}

/// Maps a Python codec name to an ASCII-compatible encoding that can write text back.
fn lookup(name: &str) -> Option<&'static Encoding> {
    let lower = name.to_ascii_lowercase().replace('_', "-");
    // Python spellings that the WHATWG label table lacks.
    let alias = match lower.as_str() {
        "latin-1" | "latin1" | "l1" | "iso-8859-1" | "iso8859-1" | "8859" | "cp819" => {
            "windows-1252"
        }
        "iso-8859-15" | "iso8859-15" | "latin-9" | "latin9" => "iso-8859-15",
        "cp1250" | "cp1251" | "cp1253" | "cp1254" | "cp1255" | "cp1256" | "cp1257" | "cp1258" => {
            return Encoding::for_label(format!("windows-{}", &lower[2..]).as_bytes());
        }
        other => other,
    };
    let enc = Encoding::for_label(alias.as_bytes())
        .or_else(|| Encoding::for_label(alias.replace('-', "").as_bytes()))?;
    // UTF-16 and friends are not ASCII-compatible, and encoding_rs writes them as UTF-8.
    (enc.output_encoding() == enc && enc.is_ascii_compatible() && enc != encoding_rs::UTF_8)
        .then_some(enc)
}

/// PEP 263: `coding[:=]NAME` in a comment on line 1, or on line 2 if line 1 is a comment or
/// blank. Read from the raw bytes: the cookie itself is ASCII in every legal encoding.
fn coding_cookie(bytes: &[u8]) -> Option<String> {
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    let mut lines = bytes.split(|b| *b == b'\n');
    for _ in 0..2 {
        let line = lines.next()?;
        let trimmed = line.trim_ascii_start();
        if !trimmed.starts_with(b"#") {
            if trimmed.trim_ascii().is_empty() {
                continue;
            }
            return None;
        }
        let line = String::from_utf8_lossy(trimmed);
        if let Some(pos) = line.find("coding") {
            let rest = &line[pos + 6..];
            if let Some(rest) = rest.strip_prefix([':', '=']) {
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
    fn owned_decoding_agrees_with_borrowed() {
        let cases: &[&[u8]] = &[
            b"x = 1\n",
            b"\xef\xbb\xbfx = 1\r\n",
            b"# -*- coding: utf-8 -*-\n\xef\xbb\xbf",
            b"\xef\xbb\xbf# coding: latin-1\nx = 1\n",
            b"# coding: latin-1\nx = '\xe9'\n",
            b"x = '\xe9'\n",
            b"x = 1\n\0",
            b"",
            b"\tif x:\n\t\ty = 1\n",
        ];
        for &bytes in cases {
            let show = |r: Result<SourceText, DecodeError>| {
                r.map(|s| {
                    (
                        s.bom,
                        s.text,
                        s.newline,
                        s.indent,
                        s.encoding.map(|e| e.name()),
                    )
                })
            };
            assert_eq!(
                show(SourceText::decode_owned(bytes.to_vec())),
                show(SourceText::decode(bytes)),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn keeps_bom_and_crlf() {
        let s = SourceText::decode("\u{feff}x = 1\r\nif x:\r\n\tpass\r\n".as_bytes()).unwrap();
        assert!(s.bom);
        assert_eq!(s.newline, "\r\n");
        assert_eq!(s.indent, "\t");
        assert_eq!(
            s.encode(&s.text).unwrap(),
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
    fn latin1_cookie_round_trips() {
        let bytes = b"# -*- coding: latin-1 -*-\nx = '\xe9\x80'\n";
        let s = SourceText::decode(bytes).unwrap();
        assert!(s.text.contains('\u{e9}'));
        assert_eq!(s.encode(&s.text).unwrap(), bytes);
        let cp = SourceText::decode(
            b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx = '\x93'\n",
        )
        .unwrap();
        assert_eq!(cp.encoding.map(|e| e.name()), Some("windows-1252"));
    }

    #[test]
    fn unknown_or_wide_cookies_are_refused() {
        assert_eq!(
            SourceText::decode(b"# coding: klingon\nx = 1\n").unwrap_err(),
            DecodeError::UnsupportedEncoding("klingon".into())
        );
        assert!(SourceText::decode(b"# coding: utf-16\nx = 1\n").is_err());
        // The cookie only counts on line 1 or 2.
        assert!(SourceText::decode(b"x = 1\n# coding: latin-1\ny = '\xe9'\n").is_err());
        assert!(SourceText::decode("# coding: utf-8\nx = '\u{e9}'\n".as_bytes()).is_ok());
    }
}
