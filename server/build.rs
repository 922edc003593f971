//! Compiles `proto/profile.proto` into Rust with prost-build, parsing it with protox so
//! that no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../proto");
    let proto = format!("{proto_dir}/profile.proto");
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto.as_str()], [proto_dir])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
