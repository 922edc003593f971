//! The pprof wire types generated from `proto/profile.proto` at build time.
#![allow(missing_docs, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/perftools.profiles.rs"));
