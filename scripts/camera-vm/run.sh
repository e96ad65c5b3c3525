#!/usr/bin/env bash
# Exercises p2pcam's real V4L2 camera path where no camera exists: boots
# Debian's kernel under qemu (software emulation) with Linux's vivid
# virtual camera, runs `p2pcam devices` and a whole call inside the guest
# (offer --source camera, answer -o cam.ivf, on the guest's loopback), then
# brings the recording out over the serial console and checks it with
# ffprobe here. Run as root (it installs its packages with apt-get);
# downloads are cached in $CACHE. About a minute with a warm cache.
#
#   scripts/camera-vm/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/p2pcam-camera-vm}
mkdir -p "$CACHE"
need=""
for p in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static cpio:cpio depmod:kmod ffprobe:ffmpeg; do
	command -v "${p%%:*}" >/dev/null 2>&1 || need="$need ${p#*:}"
done
if [ -n "$need" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "camera-vm: run: sudo apt-get install -y$need" >&2; exit 1; }
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
busybox=$(command -v busybox)

# Debian's generic kernel has the media drivers (the cloud kernel does not).
kpkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
kver=${kpkg#linux-image-}
if [ ! -f "$CACHE/vmlinuz-$kver" ]; then
	(cd "$CACHE" && apt-get download "$kpkg" 2>/dev/null && mkdir -p x &&
		dpkg-deb --fsys-tarfile "$kpkg"_*.deb | tar -x -C x --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/drivers/media/*' &&
		mv "x/boot/vmlinuz-$kver" "vmlinuz-$kver" && rm -f "$kpkg"_*.deb)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules/"$kver"}
cp "$busybox" "$root/bin/busybox"
for m in mc videodev rc-core cec v4l2-dv-timings v4l2-tpg videobuf2-common videobuf2-memops \
	videobuf2-v4l2 videobuf2-vmalloc videobuf2-dma-contig vivid; do
	find "$CACHE/x/lib/modules/$kver" -name "$m.ko*" -exec cp {} "$root/lib/modules/$kver/" \;
done
depmod -b "$root" "$kver" 2>/dev/null

echo "camera-vm: building a static p2pcam" >&2
CGO_ENABLED=1 go build -tags netgo,osusergo -ldflags '-linkmode external -extldflags "-static"' -o "$root/p2pcam" ./cmd/p2pcam

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
ip link set lo up
modprobe vivid n_devs=1 node_types=0x1 input_types=0x0
echo "== devices"
/p2pcam devices 2>&1
cd /tmp
mkfifo oin ain
# vivid at 640x360 runs at most 40 fps; emulated encoding is slow: ask 15.
/p2pcam offer --source camera:/dev/video0 --width 640 --height 360 --fps 15 --bitrate 500k --duration 4s \
	--ice-server none --interface lo --connect-timeout 60s <oin >offer.blob 2>offer.err &
exec 3>oin
/p2pcam answer -o cam.ivf --ice-server none --interface lo <ain >answer.blob 2>answer.err &
exec 4>ain
until [ -s offer.blob ]; do sleep 0.2; done; sleep 0.2; cat offer.blob >&4
until [ -s answer.blob ]; do sleep 0.2; done; sleep 0.2; cat answer.blob >&3
wait
echo "== offer"; cat offer.err
echo "== answer"; cat answer.err
echo "== ivf"; base64 cam.ivf; echo "== end"
poweroff -f
INIT
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initramfs.gz"

echo "camera-vm: booting $kpkg under qemu" >&2
timeout 300 qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m 1024 -smp 2 \
	-kernel "$CACHE/vmlinuz-$kver" -initrd "$work/initramfs.gz" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1" \
	-nographic -no-reboot -nodefaults -serial stdio -monitor none </dev/null |
	tr -d '\r' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' >"$work/serial.log" || true
cp "$work/serial.log" "$CACHE/last-serial.log"

sed -n '/== devices/,/== ivf/p' "$work/serial.log" | sed '$d'
sed -n '/^== ivf/,/^== end/p' "$work/serial.log" | sed '1d;$d' | base64 -d >"$work/cam.ivf" 2>/dev/null || true
probe=$(ffprobe -v error -count_frames -select_streams v:0 \
	-show_entries stream=codec_name,width,height,nb_read_frames -of csv=p=0 "$work/cam.ivf" 2>&1 || true)
echo "camera-vm: recording from the vivid camera: $probe"
IFS=, read -r codec w h frames <<<"$probe"
if [ "$codec" = vp8 ] && [ "$w" = 640 ] && [ "$h" = 360 ] && [ "${frames:-0}" -ge 10 ]; then
	echo "camera-vm: OK"
else
	echo "camera-vm: FAILED; the guest's serial console said:" >&2
	tail -40 "$work/serial.log" >&2
	exit 1
fi
