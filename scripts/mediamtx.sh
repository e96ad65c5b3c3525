#!/bin/sh
# Builds mediamtx, the WHIP/WHEP server of the interop tests, into the
# cache internal/mediamtx reads (${XDG_CACHE_HOME:-~/.cache}/p2pcam/
# mediamtx-v1.20.1/mediamtx), reusing a binary already there, and prints
# its path. The recipe lives in internal/mediamtx/build.go; this only runs
# it, so CI can build ahead of the tests. Needs the Go module proxy and npm.
set -eu
cd "$(dirname "$0")/.."
exec go run ./internal/mediamtx/build
