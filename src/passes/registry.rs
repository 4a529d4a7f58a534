//! The registry of family passes: a rule names one with `pass = "..."`, and `passes/mod.rs`
//! lists each on one line of [`family_passes!`]. The line declares the pass's module, its
//! name in the TOML and its handlers, and the macro derives the rest:
//! the [`PassName`] variant, its parsing (a misspelt name fails when the catalog loads, with
//! the known names listed) and the dispatch. A new family pass is its file plus its line.
//!
//! A pass that writes or recognises Python names of its own (`redis.asyncio.Redis`) names
//! their type too, `names: redis::Names`: the rule file's `[names]` table is read into it
//! when the catalog loads (a missing or unknown key fails there), and the pass gets it with
//! [`crate::rules::Catalog::family_names`].
//!
//! Passes that also run over whole modules (`threads`, `sockets`, `never_awaited`, `files`)
//! are declared with the phases; their lines name no module.

use super::{PassCx, PassName, PassOut};
use crate::matcher::{CallFact, WithFact};
use crate::rules::CallEntry;

/// Rewrites one catalog call whose action is `pass`; false when the pass declines it (the
/// call is then reported as unconvertible).
pub(super) type CallPass = fn(&PassCx, &CallFact, &CallEntry, &mut PassOut) -> bool;
/// Rewrites one `[[with]]` whose action is `pass`; false when the pass declines it.
pub(super) type WithPass = fn(&PassCx, &WithFact, &mut PassOut) -> bool;

macro_rules! family_passes {
    (@with) => { registry::declines };
    (@with $with:expr) => { $with };
    (@names $table:ident) => { None };
    (@names $table:ident $names:ty) => { Some(registry::load_names::<$names>($table)) };
    ($($(#[$doc:meta])* $variant:ident = $name:literal $(in $module:ident)?
        { call: $call:expr $(, with: $with:expr)? $(, names: $names:ty)? $(,)? })+) => {
        $($(pub mod $module;)?)+

        /// The Rust passes a rule can name with `pass = "..."`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum PassName {
            $($(#[$doc])* $variant,)+
        }

        impl PassName {
            /// Every pass, in registry order.
            pub const ALL: &'static [PassName] = &[$(PassName::$variant),+];
            pub(crate) const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name a rule file uses.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(PassName::$variant => $name,)+
                }
            }

            pub(crate) fn call_pass(self) -> registry::CallPass {
                match self {
                    $(PassName::$variant => $call,)+
                }
            }

            pub(crate) fn with_pass(self) -> registry::WithPass {
                match self {
                    $(PassName::$variant => family_passes!(@with $($with)?),)+
                }
            }

            /// The pass's own `[names]` type read from `table`, or `None` when the pass has
            /// no names of its own (its section, if any, is one of [`crate::names::Names`]).
            pub(crate) fn load_names(self, table: &toml::Table) -> Option<registry::Loaded> {
                match self {
                    $(PassName::$variant => family_passes!(@names table $($names)?),)+
                }
            }
        }
    };
}

/// A pass's own `[names]`, typed by the struct its registry line names.
pub(crate) type Loaded = Result<std::sync::Arc<dyn std::any::Any + Send + Sync>, String>;

pub(super) fn load_names<T>(table: &toml::Table) -> Loaded
where
    T: serde::de::DeserializeOwned + Send + Sync + 'static,
{
    let names: T = toml::Value::Table(table.clone())
        .try_into()
        .map_err(|e| e.to_string())?;
    Ok(std::sync::Arc::new(names))
}

pub(super) fn declines(_: &PassCx, _: &WithFact, _: &mut PassOut) -> bool {
    false
}

impl<'de> serde::Deserialize<'de> for PassName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        let found = PassName::ALL.iter().find(|p| p.as_str() == name);
        found
            .copied()
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, PassName::NAMES))
    }
}

/// Dispatches a catalog entry with `action = "pass"` to the Rust pass its rule names.
/// Returns false when the pass declined the call (it is then reported as unconvertible).
pub fn family(
    name: PassName,
    cx: &PassCx,
    c: &CallFact,
    entry: &CallEntry,
    out: &mut PassOut,
) -> bool {
    name.call_pass()(cx, c, entry, out)
}

/// Dispatches a `[[with]]` with `action = "pass"` to the Rust pass its rule names.
/// Returns false when the pass declined (the `with` is then reported as unconvertible).
pub fn family_with(name: PassName, cx: &PassCx, w: &WithFact, out: &mut PassOut) -> bool {
    name.with_pass()(cx, w, out)
}

#[cfg(test)]
mod tests {
    use super::PassName;

    #[test]
    fn every_pass_parses_from_its_own_name_and_no_two_share_one() {
        for &p in PassName::ALL {
            let parsed: PassName =
                serde::Deserialize::deserialize(serde::de::value::StrDeserializer::<
                    serde::de::value::Error,
                >::new(p.as_str()))
                .unwrap();
            assert_eq!(parsed, p);
        }
        let mut names: Vec<_> = PassName::ALL.iter().map(|p| p.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PassName::ALL.len());
    }
}
