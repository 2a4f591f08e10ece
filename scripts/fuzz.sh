#!/usr/bin/env bash
# Runs every fuzz target of the module for the given time each, one after
# another, and prints a summary; exits non-zero if any target failed.
#
#   scripts/fuzz.sh 60s                       # every target, 60 s each (make fuzz)
#   scripts/fuzz.sh 10m                       # a campaign (make fuzz-long)
#   scripts/fuzz.sh 30s ./internal/storage/   # the targets of some packages
#
# A failing input is written by Go to the package's testdata/fuzz/<Fuzz…>/:
# commit it (renamed to say what it found) with the fix, as a regression
# seed. A run that ends with a bare "context deadline exceeded" at the
# -fuzztime boundary and writes no input is Go's own coordinator race
# (golang/go#75804, fixed in Go 1.27): it is reported as "deadline race",
# not as a failure. Temporary files go to TMPDIR: FUZZ_TMPDIR (default /dev/shm when it
# exists) keeps the storage and raft targets from waiting on fsync.
set -uo pipefail
t=${1:-60s}
shift || true
pkgs=("$@")
[ ${#pkgs[@]} -eq 0 ] && pkgs=(./...)
tmp=${FUZZ_TMPDIR:-}
[ -z "$tmp" ] && [ -d /dev/shm ] && tmp=/dev/shm
log=$(mktemp)
failed=0
summary=()
for line in $(go list -f '{{.ImportPath}}:{{.Dir}}' "${pkgs[@]}"); do
  pkg=${line%%:*} dir=${line#*:}
  grep -qs '^func Fuzz' "$dir"/*_test.go || continue # listing builds the tests (and what their TestMain builds)
  for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "== $pkg $f ($t)"
    start=$(date +%s)
    before=$(ls "$dir/testdata/fuzz/$f" 2>/dev/null | wc -l)
    TMPDIR=${tmp:-${TMPDIR:-/tmp}} go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" -fuzzminimizetime 2000x -timeout 0 "$pkg" >"$log" 2>&1
    rc=$?
    execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    line="$(printf '%-52s %-30s %5ss %12s execs' "${pkg#github.com/sluice-io/sluice/}" "$f" $(( $(date +%s) - start )) "${execs:-?}")"
    after=$(ls "$dir/testdata/fuzz/$f" 2>/dev/null | wc -l)
    if [ $rc -ne 0 ] && [ "$after" -eq "$before" ] && grep -q '^    context deadline exceeded$' "$log" && ! grep -q -e '^panic' -e 'Failing input' "$log"; then
      line="$line  deadline race (golang/go#75804), no input written"
      rc=0
    fi
    if [ $rc -ne 0 ]; then
      failed=1
      line="$line  FAIL"
      grep -v '^fuzz: elapsed' "$log" | tail -30
    fi
    echo "$line"
    summary+=("$line")
  done
done
rm -f "$log"
echo
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $failed
