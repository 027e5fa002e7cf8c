#!/usr/bin/env bash
# Runs the game-npc example for a few hundred frames and checks its summary.
# Usage: examples/game-npc/run_test.sh GAME_NPC_BINARY
set -euo pipefail
out=$("$1" 300 240)
echo "$out"
grep -qx '240 frames, 300 NPCs, [0-9]* transitions' <<<"$out"
# Every NPC is in some state, and some got bored, chased, fled or died.
total=$(awk '$1 ~ /^npc\// { n += $2 } END { print n }' <<<"$out")
[[ $total -eq 300 ]]
grep -q '^npc/patrol ' <<<"$out"
grep -q '^npc/dead ' <<<"$out"
