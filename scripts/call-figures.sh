#!/usr/bin/env bash
# Measures one call on this machine, both peers on loopback with the test
# pattern: time from pasting the answer blob to the first frame written,
# frames sent vs received, and each side's CPU and peak memory from
# /usr/bin/time -v.
#
#   scripts/call-figures.sh [WIDTH] [HEIGHT] [SECONDS] [BITRATE]
set -euo pipefail
bin=${BIN:-bin/p2pcam}
w=${1:-640} h=${2:-480} secs=${3:-10} rate=${4:-1.5M}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time: apt-get install -y time" >&2; exit 1; }
dir=$(mktemp -d)
trap 'exec 3>&- 4>&- 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT
mkfifo "$dir/oin" "$dir/ain"
common=(--ice-server none --interface lo --stats)
/usr/bin/time -v -o "$dir/offer.time" "$bin" offer --source test --width "$w" --height "$h" --fps 30 \
	--bitrate "$rate" --duration "${secs}s" "${common[@]}" "$dir/offer.jsonl" \
	<"$dir/oin" >"$dir/offer.blob" 2>"$dir/offer.err" &
exec 3>"$dir/oin"
/usr/bin/time -v -o "$dir/answer.time" "$bin" answer -o "$dir/call.webm" "${common[@]}" "$dir/answer.jsonl" \
	<"$dir/ain" >"$dir/answer.blob" 2>"$dir/answer.err" &
exec 4>"$dir/ain"
until [ -s "$dir/offer.blob" ] && [ -z "$(tail -c1 "$dir/offer.blob")" ]; do sleep 0.01; done
cat "$dir/offer.blob" >&4
until [ -s "$dir/answer.blob" ] && [ -z "$(tail -c1 "$dir/answer.blob")" ]; do sleep 0.01; done
t0=$(date +%s%N)
cat "$dir/answer.blob" >&3
until grep -q "^receiving" "$dir/answer.err"; do sleep 0.002; done
t1=$(date +%s%N)
wait
final() { grep '"final":true' "$1" | tail -1; }
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }
of=$(final "$dir/offer.jsonl") af=$(final "$dir/answer.jsonl")
frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$dir/call.webm")
cpu() { sed -n 's/.*Percent of CPU this job got: \(.*\)/\1/p' "$1"; }
rss() { awk -F': ' '/Maximum resident/ {printf "%.1f MB", $2/1024}' "$1"; }
printf '%dx%d@30 %s for %ss on loopback\n' "$w" "$h" "$rate" "$secs"
printf '  answer pasted -> first frame written: %d ms\n' $(((t1 - t0) / 1000000))
printf '  frames sent %s, received %s, in the file %s\n' "$(field "$of" frames_sent)" "$(field "$af" frames_recv)" "$frames"
printf '  send %s bit/s (target %s), encode %s ms/frame\n' "$(field "$of" send_bps)" "$(field "$of" target_bps)" "$(field "$of" encode_ms)"
printf '  offer:  CPU %s of one core, peak RSS %s\n' "$(cpu "$dir/offer.time")" "$(rss "$dir/offer.time")"
printf '  answer: CPU %s of one core, peak RSS %s\n' "$(cpu "$dir/answer.time")" "$(rss "$dir/answer.time")"
