//! Match: walks one module with the project's current knowledge and records every fact the
//! colouring and the rewrite passes need: resolved call sites, value references, loops and
//! `with` blocks over known types, and the types that flow through names.
//!
//! Matching is on resolved names, never on raw text: `import time as t; t.sleep()` and
//! `from time import sleep as nap; nap()` both resolve to `time.sleep`, and a parameter or
//! local that shadows the import is not a match.
//!
//! The pieces: the facts recorded (`facts`), the walk that records them (`walk`, with the
//! bindings of `bind`), what an expression resolves to (`resolve`, reading annotations with
//! `annotation`), the walk in chunks (`chunk`), and the type-knowledge loop that repeats it
//! until the kinds flowing between modules settle (`knowledge`).

mod annotation;
mod bind;
mod chunk;
mod facts;
mod getattr;
mod knowledge;
mod narrow;
mod resolve;
mod walk;

pub use chunk::match_module;
pub use facts::{
    AttrFact, CallFact, ConsumeFact, Ctx, DynAttrFact, DynName, DynOn, Escape, EscapeFact, ForFact,
    KeptUseFact, ModuleFacts, ModuleValueFact, NameFact, Observed, Outside, OutsideFact,
    PackedCall, ParamCallFact, RefFact, Target, UnresolvedFact, WithFact, YieldFromFact,
};
pub(crate) use knowledge::index_fresh;
pub use knowledge::{Kind, Knowledge, Read, ScopeKey, base_knowledge, fixed_point, kept_tag};
pub use resolve::{qualified_name, qualified_text};
pub use walk::CONSUMERS;
