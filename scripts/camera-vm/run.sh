#!/usr/bin/env bash
# Exercises p2pcam's real V4L2 camera path where no camera exists: boots
# Debian's kernel under qemu (software emulation, TCG) with Linux's vivid
# virtual camera and runs, inside the guest, on its own loopback (about a
# minute warm, two with a cold cache):
#   1. `p2pcam devices` (and --json), which must list vivid's formats;
#   2. a call: offer --source camera (640x360 at 30 fps, 3 s) to
#      answer -o call.ivf, blobs through fifos;
#   3. a fault: the same call without --duration, and vivid's "Disconnect"
#      control pressed mid-stream; p2pcam must end with a clear error,
#      neither hang nor panic (the guest gives it 30 s, then SIGINT);
#      then, each in a call of its own, hiccups (an errored buffer, a
#      failed QBUF) and a camera that stops delivering (vivid drops every buffer): reported,
#      judged only for hangs and crashes;
#   4. `--source camera:NAME` with the name `p2pcam devices` printed, and
#      a camera that does not exist;
#   5. an MJPEG webcam: v4l2loopback (built here from Debian's
#      v4l2loopback-dkms source against the guest kernel's headers) fed by
#      `vmtool feed` with 640x360 4:2:2 JPEG frames without Huffman
#      tables at 15 fps, every 15th cut short; a call from it, whose
#      mode line, dropped-frame count and recording are checked.
# Every guest file comes back over the serial console as base64 into $OUT;
# the recording is checked here with ffprobe and ffmpeg.
#
# Run as root (it installs qemu-system-x86 busybox-static cpio kmod,
# libturbojpeg0-dev and the guest kernel's linux-headers with apt-get). The kernel package and its media modules are cached in $CACHE.
#
#   scripts/camera-vm/run.sh            # OUT=<temp dir, removed>
#   OUT=/tmp/camvm scripts/camera-vm/run.sh
#
# Exit status: 0 when every check passed, 1 when one failed (each failure
# is a "camera-vm: FAIL:" line on stderr), 2 when it could not run at all.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/p2pcam-camera-vm}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-400}
say() { echo "camera-vm: $*" >&2; }
die() { say "$*"; exit 2; }

need=""
for p in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static cpio:cpio depmod:kmod \
	ffprobe:ffmpeg pkg-config:pkg-config; do
	command -v "${p%%:*}" >/dev/null 2>&1 || need="$need ${p#*:}"
done
# Debian's plain busybox is linked dynamically: useless in an initramfs.
dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need="$need busybox-static"
# A static p2pcam needs libvpx.a (libvpx-dev) and libturbojpeg.a.
pkg-config --exists vpx 2>/dev/null || need="$need libvpx-dev"
pkg-config --exists libturbojpeg 2>/dev/null || need="$need libturbojpeg0-dev"
if [ -n "$need" ]; then
	[ "$(id -u)" -eq 0 ] || die "needs$need; run: sudo apt-get install -y$need"
	say "installing$need"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null; } ||
		die "apt-get install$need failed"
fi
busybox=$(command -v busybox)

# The generic kernel has the media drivers; the cloud kernel has none.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
[ -n "$kpkg" ] || { apt-get update -qq && kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1); }
[ -n "$kpkg" ] || die "cannot tell which kernel linux-image-amd64 depends on"
kver=${kpkg#linux-image-}
kdir=$CACHE/$kver
mods="mc videodev rc-core cec v4l2-dv-timings v4l2-tpg videobuf2-common videobuf2-memops
	videobuf2-v4l2 videobuf2-vmalloc videobuf2-dma-contig vivid"
if [ ! -f "$kdir/vmlinuz" ]; then
	say "downloading $kpkg (once; cached in $kdir)"
	dl=$(mktemp -d)
	(cd "$dl" && { apt-get download -qq "$kpkg" 2>/dev/null || { apt-get update -qq && apt-get download -qq "$kpkg"; }; }) ||
		{ rm -rf "$dl"; die "apt-get download $kpkg failed"; }
	dpkg-deb --fsys-tarfile "$dl"/*.deb | tar -x -C "$dl" --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/drivers/media/*'
	mkdir -p "$kdir/modules"
	for m in $mods; do
		f=$(find "$dl/lib/modules" -name "$m.ko*" | head -1)
		[ -n "$f" ] || { rm -rf "$dl"; die "module $m not in $kpkg"; }
		cp "$f" "$kdir/modules/"
	done
	mv "$dl/boot/vmlinuz-$kver" "$kdir/vmlinuz.tmp" && mv "$kdir/vmlinuz.tmp" "$kdir/vmlinuz"
	rm -rf "$dl"
fi

# v4l2loopback, built once for the guest kernel from Debian's dkms source.
if [ ! -f "$kdir/v4l2loopback.ko" ]; then
	hdr=/usr/src/linux-headers-$kver
	if [ ! -d "$hdr" ]; then
		[ "$(id -u)" -eq 0 ] || die "needs linux-headers-$kver; run: sudo apt-get install -y linux-headers-$kver"
		say "installing linux-headers-$kver (once, to build v4l2loopback)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "linux-headers-$kver" >/dev/null ||
			die "apt-get install linux-headers-$kver failed"
	fi
	say "building v4l2loopback for $kver (once; cached in $kdir)"
	lb=$(mktemp -d)
	(cd "$lb" && { apt-get download -qq v4l2loopback-dkms 2>/dev/null || { apt-get update -qq && apt-get download -qq v4l2loopback-dkms; }; }) ||
		{ rm -rf "$lb"; die "apt-get download v4l2loopback-dkms failed"; }
	dpkg-deb -x "$lb"/v4l2loopback-dkms_*.deb "$lb/x"
	src=$(dirname "$(find "$lb/x/usr/src" -name v4l2loopback.c | head -1)")
	make -s -C "$hdr" M="$src" modules >"$lb/build.log" 2>&1 ||
		{ tail -20 "$lb/build.log" >&2; rm -rf "$lb"; die "building v4l2loopback failed"; }
	cp "$src/v4l2loopback.ko" "$kdir/v4l2loopback.ko"
	rm -rf "$lb"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
OUT=${OUT:-$work/out}
mkdir -p "$OUT"
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules/"$kver"}
cp "$busybox" "$root/bin/busybox"
cp "$kdir"/modules/* "$kdir/v4l2loopback.ko" "$root/lib/modules/$kver/"
# depmod wants these lists; empty ones do (nothing is built in that matters).
touch "$root/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo}
depmod -b "$root" "$kver"

say "building a static p2pcam and vmtool"
# The V4L2 driver in mediadevices needs cgo: without it the binary finds no
# camera and says nothing.
CGO_ENABLED=1 go build -tags netgo,osusergo,nosdl -ldflags '-linkmode external -extldflags "-static"' \
	-o "$root/p2pcam" ./cmd/p2pcam
CGO_ENABLED=0 go build -o "$root/vmtool" ./internal/cameravm/vmtool
# Webcam-like frames for the MJPEG camera: 4:2:2, standard tables (the
# feeder strips them), two seconds of testsrc2 at 15 fps. 640x360, not
# 720p: emulated, VP8 takes over 400 ms per 720p frame.
mkdir -p "$root/frames"
ffmpeg -v error -f lavfi -i testsrc2=size=640x360:rate=15 -frames:v 30 -pix_fmt yuvj422p \
	-huffman default -q:v 5 "$root/frames/%02d.jpg" || die "ffmpeg could not make the MJPEG frames"

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
# Guest side. Lines starting "== " are for the host; "== file NAME" is
# followed by NAME in base64 and "== end".
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
ip link set lo up
export HOME=/tmp
cd /tmp
up() { cut -d' ' -f1 /proc/uptime; }
emit() { for f in "$@"; do [ -f "$f" ] || continue; echo "== file $f"; base64 "$f"; echo "== end"; done; }
# lines FILE: how many whole lines FILE has.
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
# waitfor FILE TEXT SECONDS: poll until FILE contains TEXT.
waitfor() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt $(($3 * 5)) ] && return 1; sleep 0.2
	done
}
# alive PID SECONDS: wait up to SECONDS for PID to end; true if it still runs.
alive() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt $(($2 * 5)) ] && return 0; sleep 0.2
	done
	return 1
}
# call NAME OFFER-ARGS...: start an offer and an answer recording NAME.ivf
# and hand each one's blob to the other through fifos. Sets opid, apid.
call() {
	n=$1; shift
	mkfifo $n.oin $n.ain
	/p2pcam offer --ice-server none --interface lo --connect-timeout 90s "$@" \
		<$n.oin >$n.offer.blob 2>$n.offer.err &
	opid=$!
	exec 3>$n.oin
	/p2pcam answer -o $n.ivf --ice-server none --interface lo \
		<$n.ain >$n.answer.blob 2>$n.answer.err &
	apid=$!
	exec 4>$n.ain
	while [ "$(lines $n.offer.blob)" -lt 1 ] && kill -0 $opid 2>/dev/null; do sleep 0.2; done
	cat $n.offer.blob >&4
	while [ "$(lines $n.answer.blob)" -lt 1 ] && kill -0 $apid 2>/dev/null; do sleep 0.2; done
	cat $n.answer.blob >&3
}

if modprobe vivid n_devs=1 node_types=0x1 input_types=0x0; then
	echo "== vivid loaded at $(up)"
else
	echo "== vivid failed to load"
fi

/vmtool ctrls /dev/video0 >controls.txt 2>&1
/p2pcam devices >devices.txt 2>devices.err; echo $? >devices.rc
/p2pcam devices --json >devices.json 2>>devices.err
emit controls.txt devices.txt devices.err devices.rc devices.json

# 2. A plain call.
call call --source camera --width 640 --height 360 --fps 30 --duration 3s
# What p2pcam asked the camera for, read while the call runs.
waitfor call.answer.err receiving 90 && /vmtool fmt /dev/video0 >call.format 2>&1
wait $opid; echo $? >call.offer.rc
wait $apid; echo $? >call.answer.rc
exec 3>&- 4>&-
/vmtool ivf call.ivf >call.ivfinfo 2>&1
echo "== call done at $(up): $(cat call.ivfinfo)"
emit call.format call.offer.err call.answer.err call.offer.rc call.answer.rc call.ivfinfo call.ivf

# finish NAME SECONDS: wait for NAME's offer, then its answer, to end;
# each gets SECONDS, then SIGINT, then 10 s more before SIGKILL. Notes what
# happened, with guest uptimes, in NAME.events; reports the rest.
finish() {
	n=$1
	if alive $opid $2; then
		echo "offer still running after ${2}s; SIGINT $(up)" >>$n.events
		kill -INT $opid
		alive $opid 10 && { echo "offer ignored SIGINT; SIGKILL $(up)" >>$n.events; kill -KILL $opid; }
	fi
	echo "offer ended $(up)" >>$n.events
	wait $opid; echo $? >$n.offer.rc
	if alive $apid 20; then
		echo "answer still running 20s after the offer ended; SIGINT $(up)" >>$n.events
		kill -INT $apid
		alive $apid 10 && kill -KILL $apid
	fi
	echo "answer ended $(up)" >>$n.events
	wait $apid; echo $? >$n.answer.rc
	exec 3>&- 4>&-
	/vmtool ivf $n.ivf >$n.ivfinfo 2>&1
	echo "== $n done at $(up)"
	emit $n.events $n.offer.err $n.answer.err $n.offer.rc $n.answer.rc $n.ivfinfo $n.ivf
}
# midcall NAME: wait for NAME's answer to receive video, then 2 s more.
midcall() {
	if waitfor $1.answer.err receiving 90; then
		sleep 2
	else
		echo "no video before the fault $(up)" >>$1.events
	fi
}
ctrl() { echo "$2=$3 $(up)" >>$1.events; /vmtool ctrl /dev/video0 "$2" "$3" >>$1.events 2>&1; }

# 3. The camera goes away mid-call (no --duration: only the fault ends it).
call fault --source camera --width 640 --height 360 --fps 30
midcall fault
ctrl fault Disconnect 0
finish fault 30

# 3b. Hiccups, the camera stays: a buffer flagged as errored, 1 s later
# a failed VIDIOC_QBUF (the driver loses that buffer).
call hiccup --source camera --width 640 --height 360 --fps 30 --duration 6s
midcall hiccup
ctrl hiccup "Inject V4L2_BUF_FLAG_ERROR" 0
sleep 1
ctrl hiccup "Inject VIDIOC_QBUF Error" 0
finish hiccup 40

# 3c. The camera stops delivering for good (vivid drops every buffer):
# mediadevices gives up on a read after 5 s.
call stall --source camera --width 640 --height 360 --fps 30
midcall stall
ctrl stall "Percentage of Dropped Buffers" 100
finish stall 40

# 4. The name `p2pcam devices` printed, in another process, and a missing one.
name=$(sed -n '1s/.*(--source camera:\(.*\))$/\1/p' devices.txt)
echo "$name" >byname.name
timeout 60 /p2pcam offer --source "camera:$name" --width 640 --height 360 --fps 30 \
	--ice-server none --interface lo </dev/null >byname.blob 2>byname.err
echo $? >byname.rc
timeout 60 /p2pcam offer --source camera:video9 --ice-server none --interface lo \
	</dev/null >missing.blob 2>missing.err
echo $? >missing.rc
emit byname.name byname.err byname.rc missing.err missing.rc

# 5. An MJPEG webcam: v4l2loopback fed with JPEG frames without Huffman
# tables, at 15 fps (the rate p2pcam keeps up with here), every 15th
# cut short.
if modprobe v4l2loopback video_nr=1 exclusive_caps=1 card_label=p2pcam-mjpeg; then
	echo "== v4l2loopback loaded at $(up)"
	/vmtool feed /dev/video1 15 15 /frames/*.jpg >feed.out 2>&1 &
	fpid=$!
	sleep 1
	/p2pcam devices >mdevices.txt 2>&1
	call mjpeg --source camera:video1 --width 640 --height 360 --fps 15 --duration 6s --stats mjpeg.stats
	waitfor mjpeg.answer.err receiving 120 && /vmtool fmt /dev/video1 >mjpeg.format 2>&1
	finish mjpeg 120
	# The mode chosen for other requests (only the writer's size exists).
	for req in "640 480 15" "1280 720 30"; do
		set -- $req
		timeout 20 /p2pcam offer --source camera:video1 --width $1 --height $2 --fps $3 \
			--ice-server none --interface lo </dev/null >/dev/null 2>mode.err
		grep -m1 '^camera:' mode.err >>mjpeg.modes
	done
	kill $fpid; wait $fpid
	emit feed.out mdevices.txt mjpeg.format mjpeg.stats mjpeg.modes
else
	echo "== v4l2loopback failed to load"
fi

echo "== guest done at $(up)"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initramfs.gz"

say "booting $kpkg under qemu (TCG; a few minutes at most)"
start=$(date +%s)
timeout "$QEMU_TIMEOUT" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1024 -smp 2 \
	-kernel "$kdir/vmlinuz" -initrd "$work/initramfs.gz" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1" \
	-nographic -no-reboot -nodefaults -serial stdio -monitor none </dev/null |
	tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' >"$OUT/serial.log" || true
say "qemu ran $(($(date +%s) - start))s"

# Unpack the guest's files.
awk -v dir="$OUT" '
	/^== file / { name = dir "/" substr($0, 9) ".b64"; printf "" > name; next }
	/^== end$/  { if (name != "") close(name); name = ""; next }
	name != ""  { print >> name; next }
	/^== /      { print "camera-vm: guest: " substr($0, 4) > "/dev/stderr" }
' "$OUT/serial.log"
for f in "$OUT"/*.b64; do
	[ -e "$f" ] || continue
	base64 -d "$f" >"${f%.b64}" 2>/dev/null || say "bad base64 in $(basename "$f")"
	rm -f "$f"
done

fails=0
fail() { say "FAIL: $*"; fails=$((fails + 1)); }
get() { cat "$OUT/$1" 2>/dev/null || true; }

# 1. devices
grep -q 'vivid failed' "$OUT/serial.log" && fail "modprobe vivid failed"
nfmt=$(grep -Ec '^ +(YUYV|I420|NV12) +640x360 ' "$OUT/devices.txt" 2>/dev/null || true)
if [ "$(get devices.rc)" = 0 ] && [ "${nfmt:-0}" -ge 1 ]; then
	say "devices: $(head -1 "$OUT/devices.txt") with $(grep -c '^  [A-Z0-9]' "$OUT/devices.txt") format lines"
else
	fail "p2pcam devices did not list vivid's 640x360 formats (exit $(get devices.rc)): $(get devices.err | head -3)"
fi

# 2. the call, judged here by ffprobe
probe=$(ffprobe -v error -count_frames -select_streams v:0 \
	-show_entries stream=codec_name,width,height,nb_read_frames -of csv=p=0 "$OUT/call.ivf" 2>&1 || true)
say "call: camera set to $(get call.format)"
say "call: offer exit $(get call.offer.rc), answer exit $(get call.answer.rc); ffprobe: $probe; guest: $(get call.ivfinfo)"
IFS=, read -r codec w h frames <<<"$probe"
if [ "$codec" != vp8 ] || [ "$w" != 640 ] || [ "$h" != 360 ] || [ "${frames:-0}" -lt 15 ]; then
	fail "call: recording is not 640x360 VP8 with at least 15 frames"
fi
[ "$(get call.offer.rc)" = 0 ] && [ "$(get call.answer.rc)" = 0 ] || fail "call: a side exited non-zero"
for f in call fault; do
	if [ -s "$OUT/$f.ivf" ] && [ -n "$(ffmpeg -v error -i "$OUT/$f.ivf" -f null - 2>&1)" ]; then
		fail "$f: ffmpeg reports decode errors in $f.ivf"
	fi
done

# 3. the fault
say "fault: $(get fault.events | tr '\n' ';')"
say "fault: offer exit $(get fault.offer.rc); its last lines: $(tail -3 "$OUT/fault.offer.err" 2>/dev/null | tr '\n' '|')"
say "fault: answer exit $(get fault.answer.rc); recorded: $(get fault.ivfinfo)"
grep -qs 'still running\|ignored SIGINT\|no video before\|vmtool:' "$OUT/fault.events" &&
	fail "fault: p2pcam offer did not end by itself after the camera disconnected"
grep -qs '^panic:\|^goroutine \|SIGSEGV' "$OUT/fault.offer.err" "$OUT/fault.answer.err" &&
	fail "fault: a panic or crash"
[ "$(get fault.offer.rc)" = 1 ] || fail "fault: offer exit $(get fault.offer.rc), want 1"
grep -qs '^p2pcam: .*camera\|^p2pcam: .*video source' "$OUT/fault.offer.err" ||
	fail "fault: no one-line error naming the camera"

# 3b, 3c: reported; judged only for hangs and crashes.
for n in hiccup stall; do
	say "$n: $(get $n.events | tr '\n' ';')"
	say "$n: offer exit $(get $n.offer.rc): $(grep -E '^p2pcam:|^sent ' "$OUT/$n.offer.err" 2>/dev/null | tr '\n' '|')"
	say "$n: answer exit $(get $n.answer.rc); recorded: $(get $n.ivfinfo)"
	grep -qs 'ignored SIGINT\|no video before\|vmtool:' "$OUT/$n.events" && fail "$n: see $n.events"
	grep -qs '^panic:\|^goroutine \|SIGSEGV' "$OUT/$n.offer.err" "$OUT/$n.answer.err" && fail "$n: a panic or crash"
done

# 4. camera:NAME
say "camera:$(get byname.name): exit $(get byname.rc): $(grep -m1 'offer blob\|^p2pcam:' "$OUT/byname.err" 2>/dev/null)"
grep -qs 'offer blob' "$OUT/byname.err" ||
	fail "camera:NAME: the name p2pcam devices printed did not open the camera"
say "camera:video9: exit $(get missing.rc): $(grep '^p2pcam:' "$OUT/missing.err" 2>/dev/null | tr '\n' '|')"
[ "$(get missing.rc)" = 1 ] && grep -qs '^p2pcam: .*video9' "$OUT/missing.err" ||
	fail "camera:video9: want exit 1 and an error naming video9"

# 5. the MJPEG camera
grep -q 'v4l2loopback failed' "$OUT/serial.log" && fail "modprobe v4l2loopback failed"
say "mjpeg: feeder: $(get feed.out | tr '\n' '|')"
say "mjpeg: devices: $(grep -A3 '^video1' "$OUT/mdevices.txt" 2>/dev/null | tr '\n' '|')"
say "mjpeg: $(grep -m1 '^camera:' "$OUT/mjpeg.offer.err" 2>/dev/null); camera set to $(get mjpeg.format)"
say "mjpeg: other requests: $(get mjpeg.modes | tr '\n' '|')"
mprobe=$(ffprobe -v error -count_frames -select_streams v:0 \
	-show_entries stream=codec_name,width,height,nb_read_frames -of csv=p=0 "$OUT/mjpeg.ivf" 2>&1 || true)
dropped=$(grep '"final":true' "$OUT/mjpeg.stats" 2>/dev/null | sed -n 's/.*"frames_dropped_camera":\([0-9]*\).*/\1/p')
say "mjpeg: offer exit $(get mjpeg.offer.rc), answer exit $(get mjpeg.answer.rc); ffprobe: $mprobe; frames_dropped_camera ${dropped:-none}"
grep -qs '^camera: video1 MJPEG 640x360@15 (asked 640x360@15)$' "$OUT/mjpeg.offer.err" ||
	fail "mjpeg: no line 'camera: video1 MJPEG 640x360@15 (asked 640x360@15)'"
IFS=, read -r codec w h frames <<<"$mprobe"
if [ "$codec" != vp8 ] || [ "$w" != 640 ] || [ "$h" != 360 ] || [ "${frames:-0}" -lt 10 ]; then
	fail "mjpeg: recording is not 640x360 VP8 with at least 10 frames"
fi
[ -s "$OUT/mjpeg.ivf" ] && [ -n "$(ffmpeg -v error -i "$OUT/mjpeg.ivf" -f null - 2>&1)" ] &&
	fail "mjpeg: ffmpeg reports decode errors in mjpeg.ivf"
[ "$(get mjpeg.offer.rc)" = 0 ] && [ "$(get mjpeg.answer.rc)" = 0 ] || fail "mjpeg: a side exited non-zero"
[ "${dropped:-0}" -ge 1 ] || fail "mjpeg: the cut-short frame was not counted in frames_dropped_camera"
grep -qs '^panic:\|^goroutine \|SIGSEGV' "$OUT/mjpeg.offer.err" "$OUT/mjpeg.answer.err" && fail "mjpeg: a panic or crash"

if [ "$fails" -gt 0 ]; then
	say "$fails check(s) failed; guest files in $OUT"
	[ "$OUT" != "$work/out" ] || { say "the serial console said:"; grep -v '^[A-Za-z0-9+/=]\{40,\}$' "$OUT/serial.log" | tail -40 >&2; }
	exit 1
fi
say "OK"
