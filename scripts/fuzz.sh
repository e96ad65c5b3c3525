#!/bin/sh
# Runs every fuzz target in the module for FUZZTIME each (default 1m).
# New crashers land in the package's testdata/fuzz and fail the run.
set -eu
time=${FUZZTIME:-1m}
grep -rl --include='*_test.go' '^func Fuzz' . | while read -r file; do
	pkg=$(dirname "$file")
	for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
		echo "== $pkg $target ($time)"
		go test "$pkg" -run '^$' -fuzz "^$target\$" -fuzztime "$time" -fuzzminimizetime 5s
	done
done
