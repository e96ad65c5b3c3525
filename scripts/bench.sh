#!/usr/bin/env bash
# make bench: p2pcam's speed, latency and resource figures in one table,
# everything run side by side in one go on this machine (a few minutes).
# Not a test: it asserts nothing, it prints figures next to their goals.
set -euo pipefail
cd "$(dirname "$0")/.."
export BIN=${BIN:-bin/p2pcam}
[ -x /usr/bin/time ] || { [ "$(id -u)" -eq 0 ] && apt-get install -y -qq time >/dev/null; } || true

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(uname -r), $(go version | cut -d' ' -f3), libvpx $(pkg-config --modversion vpx)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

verdict() { if awk "BEGIN {exit !($1)}"; then echo PASS; else echo MISS; fi; }

echo "== VP8 encoder, CPU ms per frame (same frames and settings: CBR, cpu-used -6, 1 thread, lag 0)"
printf '%-10s %10s %10s %7s %12s\n' size p2pcam ffmpeg ratio "max fps"
VP8_COMPARE_FFMPEG=${FRAMES:-150} go test -count=1 ./pkg/vp8 -run CompareWithFFmpeg -v 2>&1 |
	sed -n 's/.*: \([0-9]*x[0-9]*\) .*ours \([0-9.]*\) cpu-ms\/frame, ffmpeg \([0-9.]*\) cpu-ms\/frame, ours\/ffmpeg \([0-9.]*\).*/\1 \2 \3 \4/p' |
	while read -r size ours ff ratio; do
		printf '%-10s %10s %10s %7s %12.0f   goal ratio <= 1.2: %s\n' "$size" "$ours" "$ff" "$ratio" "$(awk "BEGIN {print 1000/$ours}")" "$(verdict "$ratio <= 1.2")"
	done
echo

echo "== calls on loopback, test pattern @30 fps, answer with --measure"
printf '%-10s %5s %7s %9s %9s %8s %8s %8s %6s %9s %9s %9s %9s\n' size secs sent/rcv "send kb/s" "target" "enc ms" "g2g p50" "g2g p95" PSNR "offer CPU" "offer MB" "ans CPU" "ans MB"
rows=()
for spec in "640 480 10 1.5M" "1280 720 30 2.5M" "1920 1080 10 4M"; do
	# shellcheck disable=SC2086
	row=$(ROW=1 scripts/call-figures.sh $spec)
	rows+=("$row")
	IFS=$'\t' read -r w h secs paste sent recv sbps tbps enc p50 p95 pmax psnr ocpu orss acpu arss o1 o2 a1 a2 <<<"$row"
	printf '%-10s %5s %7s %9d %9d %8s %8s %8s %6s %8s%% %9s %8s%% %9s\n' "${w}x${h}" "$secs" "$sent/$recv" "$((sbps / 1000))" "$((tbps / 1000))" "$enc" "$p50" "$p95" "$psnr" "$ocpu" "$orss" "$acpu" "$arss"
done
echo

echo "== answer pasted -> first frame written, 640x480, 5 calls"
pastes=()
for _ in 1 2 3 4 5; do
	pastes+=("$(ROW=1 scripts/call-figures.sh 640 480 2 | cut -f4)")
done
median=$(printf '%s\n' "${pastes[@]}" | sort -n | sed -n 3p)
echo "runs: ${pastes[*]} ms; median $median ms"
echo

IFS=$'\t' read -r _ _ _ _ sent1080 recv1080 _ _ enc1080 _ _ _ _ _ _ _ _ _ _ _ _ <<<"${rows[2]}"
IFS=$'\t' read -r _ _ secs720 _ _ _ sbps720 tbps720 _ p50720 p95720 _ _ ocpu720 orss720 _ arss720 o1 o2 a1 a2 <<<"${rows[1]}"
IFS=$'\t' read -r _ _ _ _ _ _ sbps480 tbps480 _ _ _ _ _ _ _ _ _ _ _ _ _ <<<"${rows[0]}"
echo "== goals"
printf '%-58s %-22s %s\n' \
	"1080p30 sustained (frames received over 10 s)" "$recv1080/$sent1080" "$(verdict "$recv1080 >= 285")" \
	"1080p encode < 40% of a core (ms/frame x 30)" "$(awk "BEGIN {printf \"%.0f%%\", $enc1080*3}")" "$(verdict "$enc1080 * 3 < 40")" \
	"720p30 sender process < 35% of a core" "$ocpu720%" "$(verdict "$ocpu720 < 35")" \
	"720p glass-to-glass p50 < 25 ms" "$p50720 ms" "$(verdict "$p50720 < 25")" \
	"720p glass-to-glass p95 < 50 ms" "$p95720 ms" "$(verdict "$p95720 < 50")" \
	"answer paste -> first frame < 150 ms (median of 5)" "$median ms" "$(verdict "$median < 150")" \
	"bitrate within 10% of target (480p, 720p)" "$(awk "BEGIN {printf \"%+.1f%% %+.1f%%\", ($sbps480/$tbps480-1)*100, ($sbps720/$tbps720-1)*100}")" "$(verdict "($sbps480/$tbps480-1)^2 < 0.01 && ($sbps720/$tbps720-1)^2 < 0.01")" \
	"peak RSS < 80 MB at 720p (offer, answer)" "$orss720 MB, $arss720 MB" "$(verdict "$orss720 < 80 && $arss720 < 80")" \
	"RSS over ${secs720}s at 720p (offer, answer; from 5 s)" "$o1->$o2, $a1->$a2 MB" "-"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
