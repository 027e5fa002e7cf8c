#!/usr/bin/env bash
# Runs the Python quick start against the module in the build tree and compares what it
# prints with expected.txt.
set -euo pipefail
python=$1
module_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
out=$(PYTHONPATH="$module_dir" PYTHONDONTWRITEBYTECODE=1 "$python" "$here/quickstart.py")
diff -u "$here/expected.txt" <(printf '%s\n' "$out")
