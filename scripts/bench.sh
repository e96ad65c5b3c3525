#!/usr/bin/env bash
# make bench: p2pcam's speed, latency and resource figures in one table,
# measured one after another on this machine (about 4 minutes): the VP8
# encoder against ffmpeg's libvpx, the MJPEG decoder against ffmpeg's, calls on loopback at 480p/720p/1080p
# with glass-to-glass latency, answer paste to first frame, CPU and memory
# of each side at 720p, bitrate against --bitrate. Not a test: it prints
# figures next to their goals and asserts nothing. The driver is
# internal/bench; extra arguments go to it (e.g. -frames 150 -call 8s).
#
#   scripts/bench.sh [DRIVER FLAGS]      BIN=path/to/p2pcam to measure another build
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-bin/p2pcam}
[ -x "$bin" ] || { echo "bench: $bin not found: run make build first" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/p2pcam-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "bench: building the driver and pkg/vp8's test binary" >&2
go build -o "$tmp/bench" ./internal/bench
go test -c -o "$tmp/vp8.test" ./pkg/vp8
go test -c -o "$tmp/mjpeg.test" ./pkg/mjpeg
# Not exec: the trap removes the binaries once the driver is done, also
# after Ctrl-C (the driver stops its calls and exits 130).
"$tmp/bench" -bin "$bin" -vp8-test "$tmp/vp8.test" -mjpeg-test "$tmp/mjpeg.test" "$@"
# The --view rows are read through a virtual screen by cmd/p2pcam's
# TestViewFigures (its own build of p2pcam, 720p30, VIEW_SECONDS long);
# make bench-view runs it alone with the pipe rows too.
if command -v Xvfb >/dev/null 2>&1; then
	echo "bench: --view through a virtual screen (Xvfb), ${VIEW_SECONDS:-20} s at 1280x720" >&2
	P2PCAM_VIEW_FIGURES=1 P2PCAM_VIEW_SECONDS=${VIEW_SECONDS:-20} go test -count=1 -run 'TestViewFigures$' -v ./cmd/p2pcam 2>&1 |
		sed -n 's/^ *view_test.go:[0-9]*: \(| view:.*\)$/\1/p'
else
	echo "bench: the view rows need Xvfb (apt-get install xvfb x11-apps x11-utils)" >&2
fi
