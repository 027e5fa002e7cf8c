#!/usr/bin/env bash
# Vector search benchmark: the `vector` resource's exact scan over N vectors of dim 384
# against FAISS IndexFlatIP on the same vectors in the same run (when the build found
# Debian's libfaiss-dev; otherwise against a naive scalar loop only, and it says so).
#
#   bench/run_vector.sh [N [QUERIES]]      defaults 100000 200
#
# Environment: BUILD (default: build).
set -euo pipefail

N=${1:-100000}
QUERIES=${2:-200}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=$ROOT/bench/out

die() { echo "run_vector: $*" >&2; exit 1; }

mkdir -p "$OUT"
ninja -C "$BUILD" >"$OUT/ninja.log" 2>&1 || { cat "$OUT/ninja.log" >&2; die "build failed"; }
[ -x "$BUILD/bench/vector_bench" ] || die "$BUILD/bench/vector_bench missing"
"$BUILD/bench/vector_bench" "$OUT/vector_bench.db" "$N" 384 "$QUERIES" 10
rm -f "$OUT/vector_bench.db" "$OUT/vector_bench.db-wal" "$OUT/vector_bench.db-shm"
