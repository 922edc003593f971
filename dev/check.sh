#!/usr/bin/env bash
# The project's one check: formatting, clippy with warnings denied, and every test
# (unit tests, the CLI tests and the parity tests against `go tool pprof`).
# Run it before each commit; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export GOTOOLCHAIN=local GOFLAGS=
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
