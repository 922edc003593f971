//! The Go side of the join: locating profile file paths in a checkout (and, as the
//! workspace model grows, modules, packages and declarations).

pub mod locate;
pub mod model;
