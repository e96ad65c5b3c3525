#!/usr/bin/env bash
# The p2pcam demo: both peers on this machine, the built-in test pattern as
# the camera and its beep as the microphone, blobs handed over exactly as a person would paste them (each
# side reads the other's blob on its standard input), a few seconds recorded
# into a file in the current folder, and the file checked with ffprobe.
# Traffic stays on loopback (--interface lo).
#
#   scripts/demo.sh [SECONDS] [OUTPUT.webm]
set -euo pipefail

bin=${BIN:-bin/p2pcam}
secs=${1:-5}
out=${2:-demo.webm}
[ -x "$bin" ] || { echo "demo: $bin not built; run make build" >&2; exit 1; }

dir=$(mktemp -d)
pids=()
cleanup() {
	exec 3>&- 4>&- 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$dir"
}
trap cleanup EXIT
mkfifo "$dir/offer.in" "$dir/answer.in"

# wait_line FILE: wait (up to 20 s) until FILE holds a whole line.
wait_line() {
	for _ in $(seq 200); do
		if [ -s "$1" ] && [ -z "$(tail -c1 "$1")" ]; then return 0; fi
		sleep 0.1
	done
	echo "demo: no blob in $1 after 20 s" >&2
	return 1
}

common=(--ice-server none --interface lo)
echo "== offer: test pattern 640x480@30 and a beep each second, hanging up after ${secs}s" >&2
"$bin" offer --source test --audio test --duration "${secs}s" "${common[@]}" \
	<"$dir/offer.in" >"$dir/offer.blob" 2> >(sed 's/^/[offer]  /' >&2) &
pids+=($!)
exec 3>"$dir/offer.in"
wait_line "$dir/offer.blob"

echo "== answer: recording into $out" >&2
"$bin" answer --force -o "$out" "${common[@]}" \
	<"$dir/answer.in" >"$dir/answer.blob" 2> >(sed 's/^/[answer] /' >&2) &
pids+=($!)
exec 4>"$dir/answer.in"
echo "== pasting the offer blob ($(wc -c <"$dir/offer.blob") bytes) into answer" >&2
cat "$dir/offer.blob" >&4
wait_line "$dir/answer.blob"
echo "== pasting the answer blob ($(wc -c <"$dir/answer.blob") bytes) into offer" >&2
cat "$dir/answer.blob" >&3

status=0
for p in "${pids[@]}"; do wait "$p" || status=$?; done
pids=()
[ "$status" -eq 0 ] || { echo "demo: a peer failed (exit $status)" >&2; exit "$status"; }

echo "== checking $out with ffprobe" >&2
probe=$(ffprobe -v error -count_frames -select_streams v:0 \
	-show_entries stream=codec_name,width,height,nb_read_frames -of csv=p=0 "$out")
echo "codec,width,height,frames: $probe" >&2
IFS=, read -r codec w h frames <<<"$probe"
min=$((secs * 30 * 7 / 10))
if [ "$codec" != vp8 ] || [ "$w" != 640 ] || [ "$h" != 480 ] || [ "$frames" -lt "$min" ]; then
	echo "demo: FAILED: expected vp8 640x480 with at least $min frames" >&2
	exit 1
fi
sound=$(ffprobe -v error -select_streams a:0 -show_entries stream=codec_name,sample_rate -of csv=p=0 "$out")
echo "sound codec,rate: $sound" >&2
if [ "$sound" != "opus,48000" ]; then
	echo "demo: FAILED: expected the beep as 48 kHz Opus beside the video" >&2
	exit 1
fi
# -enc_time_base -1: judge the recording's own (variable) frame times.
if ! ffmpeg -v error -i "$out" -enc_time_base -1 -f null - 2>"$dir/decode.err" || [ -s "$dir/decode.err" ]; then
	echo "demo: FAILED: $out does not decode cleanly:" >&2
	cat "$dir/decode.err" >&2
	exit 1
fi
echo "demo: OK: $out holds $frames VP8 frames at ${w}x${h} and the beep in Opus; play it with: ffplay $out" >&2
