//! awaitify migrates synchronous Python to asyncio.
//!
//! The pipeline, one module per stage: discover ([`walk`]) → parse ([`source`], [`parse`]) →
//! index ([`index`], [`project`]) → match ([`matcher`] against the [`rules`] catalog) →
//! colour ([`colour`]) → rewrite ([`passes`] producing [`edit`]s) → verify ([`verify`], [`soundness`]) →
//! report ([`diff`], [`report`]). [`run`] drives it.

pub mod callbacks;
pub mod cli;
pub mod colour;
pub mod config;
pub mod diff;
pub mod edit;
pub mod external;
pub mod fileio;
pub mod index;
pub mod matcher;
pub mod mocks;
pub mod names;
pub mod parse;
pub mod passes;
pub mod project;
pub mod report;
pub mod rules;
pub mod run;
pub mod scope;
pub mod selection;
pub mod soundness;
pub mod source;
pub mod syntax;
pub mod target;
pub mod verify;
pub mod walk;
pub mod wrappers;
