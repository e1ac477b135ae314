#!/usr/bin/env bash
# Before/after timing in one sitting, interleaved (a change on the per-packet path carries these figures):
#
#   scripts/ab-bench.sh BEFORE_CHECKOUT AFTER_CHECKOUT CAPTURE [ROUNDS]
#
# Each checkout must be built (dist/). Per round: analyze and flows (`--format ndjson --quiet` to /dev/null)
# with each build, then argus where installed (argus -r CAPTURE -w /dev/null). Prints wall time and peak RSS.
# Make a "before" checkout with: git worktree add --detach ../before REV && (cd ../before && npm ci && npm run build)
set -uo pipefail
[ $# -ge 3 ] || { echo "usage: $0 BEFORE_CHECKOUT AFTER_CHECKOUT CAPTURE [ROUNDS]" >&2; exit 2; }
A=$1 B=$2 F=$3 N=${4:-3}
MC="--max-connections 40000"
t() { /usr/bin/time -f "%e s %M KB" "$@" >/dev/null 2>/tmp/ab-bench.$$.err; tail -1 /tmp/ab-bench.$$.err; }
for i in $(seq 1 "$N"); do
  echo "round $i"
  for cmd in analyze flows; do
    echo "  before $cmd: $(t node "$A/bin/rstscope.js" $cmd --format ndjson --quiet $MC "$F")"
    echo "  after  $cmd: $(t node "$B/bin/rstscope.js" $cmd --format ndjson --quiet $MC "$F")"
  done
  command -v argus >/dev/null && echo "  argus:        $(t argus -r "$F" -w /dev/null)"
done
rm -f /tmp/ab-bench.$$.err
