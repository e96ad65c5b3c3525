#!/usr/bin/env bash
# Measures one call on this machine, both peers on loopback with the test
# pattern: time from pasting the answer blob to the first frame written,
# frames sent vs received, bitrate, glass-to-glass latency and PSNR (the
# answer runs with --measure), and each side's CPU and peak memory from
# /usr/bin/time -v, with memory sampled every 5 s to show growth.
#
#   scripts/call-figures.sh [WIDTH] [HEIGHT] [SECONDS] [BITRATE]
#
# ROW=1 prints one tab-separated line instead (for scripts/bench.sh):
# w h secs paste_ms sent recv send_bps target_bps encode_ms lat_p50 lat_p95
# lat_max psnr offer_cpu% offer_rss_mb answer_cpu% answer_rss_mb
# offer_rss_first_mb offer_rss_last_mb answer_rss_first_mb answer_rss_last_mb
set -euo pipefail
bin=${BIN:-bin/p2pcam}
w=${1:-640} h=${2:-480} secs=${3:-10} rate=${4:-1.5M}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time: apt-get install -y time" >&2; exit 1; }
dir=$(mktemp -d)
cleanup() {
	exec 3>&- 4>&- 2>/dev/null || true
	pkill -P $$ 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
mkfifo "$dir/oin" "$dir/ain"
common=(--ice-server none --interface lo --stats)
/usr/bin/time -v -o "$dir/offer.time" "$bin" offer --source test --width "$w" --height "$h" --fps 30 \
	--bitrate "$rate" --duration "${secs}s" "${common[@]}" "$dir/offer.jsonl" \
	<"$dir/oin" >"$dir/offer.blob" 2>"$dir/offer.err" &
otime=$!
exec 3>"$dir/oin"
/usr/bin/time -v -o "$dir/answer.time" "$bin" answer --measure -o "$dir/call.webm" "${common[@]}" "$dir/answer.jsonl" \
	<"$dir/ain" >"$dir/answer.blob" 2>"$dir/answer.err" &
atime=$!
exec 4>"$dir/ain"
until [ -s "$dir/offer.blob" ] && [ -z "$(tail -c1 "$dir/offer.blob")" ]; do sleep 0.01; done
cat "$dir/offer.blob" >&4
until [ -s "$dir/answer.blob" ] && [ -z "$(tail -c1 "$dir/answer.blob")" ]; do sleep 0.01; done
t0=$(date +%s%N)
cat "$dir/answer.blob" >&3
until grep -q "^receiving" "$dir/answer.err"; do sleep 0.002; done
t1=$(date +%s%N)

# Resident memory of each p2pcam (the child of its /usr/bin/time), every 5 s.
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$(pgrep -P "$1" | head -1)/status" 2>/dev/null || true; }
osamples=() asamples=()
while kill -0 "$otime" 2>/dev/null; do
	o=$(rss "$otime") a=$(rss "$atime")
	[ -n "$o" ] && osamples+=("$o")
	[ -n "$a" ] && asamples+=("$a")
	sleep 5 & wait $! || true
done
wait "$otime" "$atime"

final() { grep '"final":true' "$1" | tail -1; }
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }
of=$(final "$dir/offer.jsonl") af=$(final "$dir/answer.jsonl")
cpu() { sed -n 's/.*Percent of CPU this job got: \([0-9]*\)%.*/\1/p' "$1"; }
peak() { awk -F': ' '/Maximum resident/ {printf "%.1f", $2/1024}' "$1"; }
paste_ms=$(((t1 - t0) / 1000000))
row=("$w" "$h" "$secs" "$paste_ms" "$(field "$of" frames_sent)" "$(field "$af" frames_recv)"
	"$(field "$of" send_bps)" "$(field "$of" target_bps)" "$(field "$of" encode_ms)"
	"$(field "$af" latency_ms_p50)" "$(field "$af" latency_ms_p95)" "$(field "$af" latency_ms_max)" "$(field "$af" psnr_db)"
	"$(cpu "$dir/offer.time")" "$(peak "$dir/offer.time")" "$(cpu "$dir/answer.time")" "$(peak "$dir/answer.time")"
	"${osamples[0]:-?}" "${osamples[-1]:-?}" "${asamples[0]:-?}" "${asamples[-1]:-?}")
if [ "${ROW:-}" = 1 ]; then
	(IFS=$'\t'; echo "${row[*]}")
	exit 0
fi
printf '%dx%d@30 %s for %ss on loopback\n' "$w" "$h" "$rate" "$secs"
printf '  answer pasted -> first frame written: %s ms\n' "${row[3]}"
printf '  frames sent %s, received %s\n' "${row[4]}" "${row[5]}"
printf '  send %s bit/s (target %s), encode %s ms/frame\n' "${row[6]}" "${row[7]}" "${row[8]}"
printf '  glass-to-glass latency p50 %s ms, p95 %s ms, max %s ms; PSNR %s dB\n' "${row[9]}" "${row[10]}" "${row[11]}" "${row[12]}"
printf '  offer:  CPU %s%% of one core, peak RSS %s MB (RSS %s -> %s MB)\n' "${row[13]}" "${row[14]}" "${row[17]}" "${row[18]}"
printf '  answer: CPU %s%% of one core, peak RSS %s MB (RSS %s -> %s MB)\n' "${row[15]}" "${row[16]}" "${row[19]}" "${row[20]}"
