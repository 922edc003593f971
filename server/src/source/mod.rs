//! The Go side of the join: locating profile file paths in a checkout, reading `go.mod`
//! and `go.work`, summarizing Go files with tree-sitter and indexing a workspace of them.

pub mod constraint;
pub mod document;
pub mod gomod;
pub mod index;
pub mod locate;
pub mod model;
pub mod names;
pub mod parse;

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod profile_names_tests;
#[cfg(test)]
mod tests;
