#!/usr/bin/env bash
# The project's one check: formatting, clippy with warnings denied, and every test
# (unit tests, the CLI, mapping and check tests, and the parity tests against
# `go tool pprof`).
# Run it before each commit; .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export GOTOOLCHAIN=local GOFLAGS=
if [[ ! -f tests/sarif/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json ]]; then
	echo "== npm ci (the SARIF 2.1.0 schema for the check tests)"
	npm ci --prefix tests/sarif --no-audit --no-fund --ignore-scripts --loglevel=error
fi
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
