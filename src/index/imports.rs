//! Import statements: what each imported name stands for, and where it sits in the text
//! (so a now-unused name can be removed without touching its neighbours).

use crate::parse::{line, text};
use crate::syntax::Node;

#[derive(Debug, Clone)]
pub struct ImportStmt {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    /// Directly in the module body (not inside a function, class, `if` or `try`).
    pub top_level: bool,
    /// `from X import ...`: the absolute module X. `None` for `import X`.
    pub from_module: Option<super::Name>,
    pub names: Vec<ImportName>,
    pub wildcard: bool,
}

#[derive(Debug, Clone)]
pub struct ImportName {
    /// The name bound in the importing scope.
    pub local: super::Name,
    /// What it stands for: `time` for `import time as t`, `time.sleep` for `from time import sleep`.
    pub qualified: super::Name,
    /// The `dotted_name` / `aliased_import` node.
    pub start: usize,
    pub end: usize,
}

pub fn parse(
    node: Node,
    src: &str,
    module: &str,
    is_package: bool,
    top_level: bool,
) -> Option<ImportStmt> {
    let mut stmt = ImportStmt {
        start: node.start_byte(),
        end: node.end_byte(),
        line: line(node),
        top_level: top_level && node.parent().is_some_and(|p| p.kind() == "module"),
        from_module: None,
        names: Vec::new(),
        wildcard: false,
    };
    match node.kind() {
        "import_statement" => {
            let mut cursor = node.walk();
            for child in node.children_by_field_name("name", &mut cursor) {
                let (dotted, alias) = split_alias(child, src);
                let (local, qualified) = match alias {
                    Some(a) => (a, dotted),
                    // `import a.b` binds `a`, which stands for the package `a`.
                    None => (
                        dotted.split('.').next().unwrap_or_default().to_string(),
                        dotted.split('.').next().unwrap_or_default().to_string(),
                    ),
                };
                stmt.names.push(ImportName {
                    local: local.into(),
                    qualified: qualified.into(),
                    start: child.start_byte(),
                    end: child.end_byte(),
                });
            }
        }
        "import_from_statement" | "future_import_statement" => {
            let from = if node.kind() == "future_import_statement" {
                "__future__".to_string()
            } else {
                let m = node.child_by_field_name("module_name")?;
                if m.kind() == "relative_import" {
                    resolve_relative(text(m, src), module, is_package)?
                } else {
                    text(m, src).to_string()
                }
            };
            let mut cursor = node.walk();
            for child in node.children_by_field_name("name", &mut cursor) {
                let (dotted, alias) = split_alias(child, src);
                let local = alias.unwrap_or_else(|| dotted.clone());
                stmt.names.push(ImportName {
                    local: local.into(),
                    qualified: format!("{from}.{dotted}").into(),
                    start: child.start_byte(),
                    end: child.end_byte(),
                });
            }
            let mut cursor = node.walk();
            stmt.wildcard = node
                .named_children(&mut cursor)
                .any(|c| c.kind() == "wildcard_import");
            stmt.from_module = Some(from.into());
        }
        _ => return None,
    }
    Some(stmt)
}

fn split_alias(node: Node, src: &str) -> (String, Option<String>) {
    if node.kind() == "aliased_import" {
        let name = node
            .child_by_field_name("name")
            .map(|n| text(n, src).to_string())
            .unwrap_or_default();
        let alias = node
            .child_by_field_name("alias")
            .map(|n| text(n, src).to_string());
        (name, alias)
    } else {
        (text(node, src).to_string(), None)
    }
}

/// `from ..x import y` inside `pkg.sub.mod` → `pkg.x`.
pub fn resolve_relative(spec: &str, module: &str, is_package: bool) -> Option<String> {
    let dots = spec.chars().take_while(|c| *c == '.').count();
    let rest = spec[dots..].trim();
    let mut parts: Vec<&str> = if module.is_empty() {
        Vec::new()
    } else {
        module.split('.').collect()
    };
    // A package's own `__init__` is its package; a plain module's package is its parent.
    let up = if is_package { dots - 1 } else { dots };
    if up > parts.len() {
        return None;
    }
    parts.truncate(parts.len() - up);
    if !rest.is_empty() {
        parts.push(rest);
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports() {
        assert_eq!(
            resolve_relative(".", "pkg.a", false).as_deref(),
            Some("pkg")
        );
        assert_eq!(
            resolve_relative(".c", "pkg.a", false).as_deref(),
            Some("pkg.c")
        );
        assert_eq!(
            resolve_relative("..x", "pkg.sub.m", false).as_deref(),
            Some("pkg.x")
        );
        assert_eq!(resolve_relative(".", "pkg", true).as_deref(), Some("pkg"));
        assert_eq!(resolve_relative("..", "m", false), None);
    }
}
