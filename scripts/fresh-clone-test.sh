#!/usr/bin/env bash
# The README's promise, checked: a fresh clone with nothing beside it (no sibling shared folder), no oracle tools on PATH
# (no tshark, tcpdump, chromium, script, ip), not root: `npm install && npm start` and `npm test` exit 0, and
# every skipped test names what to install.
#
#   sudo scripts/fresh-clone-test.sh [REPO]     # REPO defaults to this checkout (its committed HEAD)
#
# Needs root only to drop to user nobody (setpriv) and to hand the clone to it. Prints the exit codes, the test
# totals and the skip reasons with their counts; the full log stays in the temporary folder it names.
set -u
repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
D=$(mktemp -d /tmp/fresh-clone-XXXX); H=$D/home; S=$D/bin
mkdir -p "$H" "$S"
# a PATH with node, npm, git and the basic tools only
for t in node npm npx git sh bash dash env cat cp mv rm ln ls mkdir rmdir mktemp chmod chown touch sed grep head tail \
  tr cut sort uniq wc find xargs dirname basename readlink realpath date sleep test true false expr printf echo id \
  uname nproc stat tee cmp diff du; do
  p=$(command -v "$t" 2>/dev/null) && ln -sf "$p" "$S/$t"
done
git clone -q "$repo" "$D/repo"
chown -R 65534:65534 "$D"
cd "$D/repo" || exit 2
run() { setpriv --reuid=65534 --regid=65534 --clear-groups env -i HOME="$H" PATH="$S" "$@"; }
run bash -c 'npm install --no-audit --no-fund >'"$D"'/install.log 2>&1; echo "npm install: exit $?"'
run bash -c 'npm start >'"$D"'/start.log 2>&1; echo "npm start: exit $?"; tail -1 '"$D"'/start.log'
run bash -c 'npm test >'"$D"'/test.log 2>&1; echo "npm test: exit $?"'
grep -E "^# (tests|pass|fail|skipped|cancelled)" "$D/test.log"
grep "# SKIP" "$D/test.log" | sed 's/.*# SKIP//' | sort | uniq -c
echo "logs: $D"
