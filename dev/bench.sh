#!/usr/bin/env bash
# Benchmarks heapspot against `go tool pprof` on synthetic Go heap profiles and prints the
# speed and memory ratios next to heapspot's targets (50x faster, 1/10th the memory).
# Not part of dev/check.sh: timings depend on the machine and its load.
#
#   dev/bench.sh                      # 1 and 10 MiB profiles, 3 timed runs each
#   dev/bench.sh --sizes 1,10,50      # add the large one (pprof: ~40 s and ~3 GB per run)
#   dev/bench.sh --repeat 1 --keep /tmp/bench   # see `--help` for the rest
#
# Profiles are generated once per size and seed into target/bench-profiles/ and reused.
# Needs Go (for `go tool pprof`) and /usr/bin/time (for peak RSS).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export GOTOOLCHAIN=local GOFLAGS=
# `run` itself builds target/release/heapspot (cargo build --release -p heapspot) first.
exec cargo run --release --quiet -p heapspot-bench -- run "$@"
