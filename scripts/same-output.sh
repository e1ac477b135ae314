#!/usr/bin/env bash
# Byte-identity check for refactors: records every output format of the built CLI
# over the bundled captures, the Zeek corpus and (optionally) bench captures, so a
# refactor can prove it changed no output.
#
#   scripts/same-output.sh record DIR [CAPTURE...]   # outputs of the current build into DIR
#   scripts/same-output.sh check  DIR [CAPTURE...]   # same commands again; exit 1 on any difference
#
# Inputs: captures/*.pcap, the corpus traces ($RSTSCOPE_ZEEK_CORPUS/traces, else the bundled
# test/corpus/zeek/traces), test/fixtures/formats/*, and any extra CAPTURE
# given (bench captures: bench-data/*.pcap). Commands per input:
#   flows -f ndjson; flows -f zeek (minus #open/#close); analyze -f json;
#   analyze -f ndjson --workers 2; report -o X.md; report -o X.html
# Exit codes are recorded with the outputs (a changed exit code is a difference).
set -uo pipefail
shopt -s dotglob  # and should a name still start with a dot, the globs below see it
cd "$(dirname "$0")/.."
mode=${1:-}; dir=${2:-}
[ -n "$mode" ] && [ -n "$dir" ] || { echo "usage: $0 record|check DIR [CAPTURE...]" >&2; exit 2; }
shift 2
# the corpus path is part of every output line that names a file: keep it the same between record and check
corpus=${RSTSCOPE_ZEEK_CORPUS:-test/corpus/zeek}
inputs=(captures/*.pcap)
[ -d "$corpus/traces" ] && inputs+=("$corpus"/traces/*)
[ -d test/fixtures/formats ] && inputs+=(test/fixtures/formats/*)
inputs+=("$@")
out=$dir
[ "$mode" = check ] && out=$(mktemp -d); difflog=$out.diff
[ "$mode" = record ] && { rm -rf "$dir"; mkdir -p "$dir"; }
cli="node bin/rstscope.js"
run() { # name cmd...
  local name=$1; shift
  "$@" >"$out/$name.out" 2>"$out/$name.err"; echo "exit $?" >>"$out/$name.err"
}
for f in "${inputs[@]}"; do
  [ -f "$f" ] || continue
  k=$(echo "$f" | tr '/' '_' | sed 's/^\.*//')  # no dotfile names
  run "$k.flows.ndjson" $cli flows -f ndjson "$f"
  $cli flows -f zeek "$f" 2>"$out/$k.flows.zeek.err" | grep -v '^#open\|^#close' >"$out/$k.flows.zeek.out"
  run "$k.analyze.json" $cli analyze -f json "$f"
  run "$k.analyze.w2.ndjson" $cli analyze -f ndjson --workers 2 "$f"
  run "$k.report.md" $cli report --quiet -o "$out/$k.md" "$f"
  run "$k.report.html" $cli report --quiet -o "$out/$k.html" "$f"
done
# all bundled captures in one invocation, one input each (multi-input numbering); since several files
# are one capture by default, a build that knows --per-file gets it (the outputs are what earlier builds gave)
perfile=(); $cli analyze --help 2>/dev/null | grep -q -- --per-file && perfile=(--per-file)
run "all.analyze.json" $cli analyze -f json "${perfile[@]}" captures/*.pcap
run "all.flows.ndjson" $cli flows -f ndjson "${perfile[@]}" captures/*.pcap
# report files name their own path; normalise the temp dir away
for r in "$out"/*.md "$out"/*.html; do [ -f "$r" ] && sed -i "s#$out#OUT#g" "$r"; done
for e in "$out"/*.err; do sed -i "s#$out#OUT#g" "$e"; done
n=$(ls "$out" | wc -l)
if [ "$mode" = record ]; then echo "recorded $n files in $dir"; exit 0; fi
if diff -r -q "$dir" "$out" >"$difflog"; then
  echo "identical: $n files"; rm -rf "$out"; exit 0
fi
echo "DIFFERENT ($(wc -l <"$difflog") files; kept in $out):"; head -20 "$difflog"; exit 1
