//! Verify: a rewritten file must parse at least as cleanly as the original.
//!
//! If a transform produced broken Python, the file is kept as it was and the transforms
//! involved are named in an internal-error diagnostic: never emit broken code.

use crate::edit::Edit;
use crate::parse::{error_count, first_error, parse};

/// `Err` names the passes whose edits were involved and where the new error is.
pub fn check(new_text: &str, edits: &[Edit]) -> Result<(), String> {
    let Some(tree) = parse(new_text) else {
        return Err("the output could not be parsed".into());
    };
    if error_count(&tree) == 0 {
        return Ok(());
    }
    let mut origins: Vec<&str> = edits.iter().map(|e| e.origin).collect();
    origins.sort();
    origins.dedup();
    let at = first_error(&tree).map_or(0, |n| n.start_position().row + 1);
    Err(format!(
        "the rewrite would introduce a syntax error at output line {at} (passes: {}); file left unchanged",
        origins.join(", ")
    ))
}
