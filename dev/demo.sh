#!/usr/bin/env bash
# Builds heapspot and runs it on the bundled example workspace (tests/fixtures/service, a
# small Go shop backend with planted leaks) and the four heap snapshots that were captured
# from its /debug/pprof/heap endpoint while it ran.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release --locked --quiet
hs="${CARGO_TARGET_DIR:-target}/release/heapspot"
ws=tests/fixtures/service
snaps=("$ws"/profiles/heap-1.pb.gz "$ws"/profiles/heap-2.pb.gz "$ws"/profiles/heap-3.pb.gz "$ws"/profiles/heap-4.pb.gz)

run() {
	printf '\n$ heapspot %s\n' "$*"
	"$hs" "$@"
}

# The main job: leak findings on the workspace, weighed with its snapshots
# (.heapspot.toml there names them).
run check "$ws" --fail-on never
run top -n 8 "${snaps[3]}"
run trend -n 8 "${snaps[@]}"
run diff -n 6 "${snaps[0]}" "${snaps[3]}"
run list 'cache\.Touch$' "${snaps[3]}" --source-root "$ws"
