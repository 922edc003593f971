#!/usr/bin/env bash
# The project's one check: formatting, clippy with warnings denied, every test
# (unit tests, the CLI, mapping and check tests, and the parity tests against
# `go tool pprof`), then the editor tests (dev/editors-test.sh: the VS Code extension in
# code-server and the Neovim module in Neovim 0.11 and 0.7, against the real server).
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
if [[ ${HEAPSPOT_SKIP_EDITOR_TESTS:-} == 1 && ${CI:-} != true ]]; then
	echo "== editor tests skipped (HEAPSPOT_SKIP_EDITOR_TESTS=1; CI always runs them)"
else
	echo "== editor tests (dev/editors-test.sh)"
	dev/editors-test.sh
fi
