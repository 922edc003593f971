//! The profile engine: decoding (gzip or raw protobuf, size limits, validation), folding
//! samples into per-site totals, merging replicas, diffing against a base, trends over
//! snapshots and pprof-style value formatting. No LSP types and no network IO here.

pub mod aggregate;
pub mod decode;
#[cfg(test)]
mod decode_tests;
pub mod error;
pub mod pb;
pub mod trend;
pub mod units;
pub mod wire;

pub use aggregate::{Aggregate, Granularity, Site, SiteKey, SiteTable};
pub use decode::{Limits, Profile, ValueType};
pub use error::{ErrorKind, ProfileError};
pub use trend::{trend, SiteTrend, Trend};

/// Loads a profile file and folds it.
pub fn load_aggregate(path: &std::path::Path, limits: Limits) -> error::Result<Aggregate> {
    let p = Profile::from_path(path, limits)?;
    Aggregate::from_profile(&p)
}
