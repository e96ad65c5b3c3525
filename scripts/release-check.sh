#!/usr/bin/env bash
# Checks the release in dist/ (make release) the way a user would meet it,
# on this machine, as root:
#
#  1. each binary needs only the C library: its NEEDED entries (readelf -d)
#     are exactly libc.so.6, libm.so.6 and the loader, nothing of libvpx, libopus,
#     libturbojpeg or SDL;
#  2. each .deb installs with dpkg into a clean Debian bookworm root
#     (debootstrap --variant=minbase, amd64 and arm64; the arm64 root runs
#     under qemu-aarch64-static, through a binfmt_misc registered in a
#     private user namespace, so the machine's own binfmt is left alone),
#     where `p2pcam version` and `p2pcam devices` run;
#  3. a call over loopback between the arm64 binary (in its root, emulated)
#     and the native one, arm64 first offering then answering; the answer
#     records a WebM that ffprobe must find VP8 320x240 with enough frames
#     and Opus beside it;
#  4. the arm64 unit tests of the codecs, the blob format and the recorder
#     (pkg/vp8 pkg/opus signal pkg/record) under go test -exec
#     qemu-aarch64-static (7 minutes here at load 5, 28 at load 20; pkg/vp8 most;
#     its rate tests run on the encoder's timestamps, not the wall clock,
#     so emulation slows them down without failing them).
#
#   scripts/release-check.sh [roots|elf|install|call|tests]...   (default: all)
#
# The roots are made once and kept in ~/.cache/p2pcam/roots (about 200 MB
# each; debootstrap needs the Debian mirror apt uses, found with
# apt-cache policy, or P2PCAM_DEBIAN_MIRROR). Each check installs into a
# throwaway copy, so the kept roots stay clean.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${P2PCAM_CACHE:-$HOME/.cache/p2pcam}
roots=$cache/roots
dist=${DIST:-dist}
native=$(dpkg --print-architecture)
suite=bookworm

log() { echo "release-check: $*" >&2; }
die() { log "FAILED: $*"; exit 1; }

need_root() {
	[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot); run it with sudo"
}

# need_tools: install what the checks use, as .ci/run does.
need_tools() {
	local need=""
	command -v debootstrap >/dev/null || need="$need debootstrap"
	command -v qemu-aarch64-static >/dev/null || need="$need qemu-user-static"
	command -v readelf >/dev/null || need="$need binutils"
	command -v ffprobe >/dev/null || need="$need ffmpeg"
	command -v unshare >/dev/null || need="$need util-linux"
	[ -z "$need" ] && return 0
	log "installing:$need"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
}

# mirror: the Debian mirror apt already uses for this suite.
mirror() {
	if [ -n "${P2PCAM_DEBIAN_MIRROR:-}" ]; then echo "$P2PCAM_DEBIAN_MIRROR"; return; fi
	local m
	m=$(apt-cache policy | awk -v s=" $suite/main " 'index($0, s) && $2 ~ /^https?:/ {print $2; exit}')
	[ -n "$m" ] || die "no Debian $suite mirror in apt's sources (/etc/apt/sources.list*); set P2PCAM_DEBIAN_MIRROR"
	echo "$m"
}

# qemu_ns CMD...: run CMD in a private user and mount namespace, with all
# uids mapped to themselves (dpkg chowns files to system users) and its own
# binfmt_misc, where aarch64 ELF files run through qemu-aarch64-static (F:
# the interpreter is opened now, so it works inside a chroot too).
qemu_ns() {
	local qemu
	qemu=$(command -v qemu-aarch64-static)
	# Run in the background (the uid map is written from here), on this
	# stdin: an asynchronous command would otherwise read /dev/null.
	exec 5<&0
	unshare --user --mount -- sh -c '
		while [ -z "$(cat /proc/self/uid_map)" ]; do sleep 0.02; done
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || exit 125
		printf "%b" ":qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:$0:F" \
			>/proc/sys/fs/binfmt_misc/register || exit 125
		exec "$@"' "$qemu" "$@" <&5 5<&- &
	local pid=$!
	exec 5<&-
	# The child waits until its uid_map is written.
	for _ in $(seq 100); do
		if echo '0 0 4294967295' >"/proc/$pid/uid_map" 2>/dev/null; then break; fi
		sleep 0.02
	done
	echo '0 0 4294967295' >"/proc/$pid/gid_map"
	local rc=0
	wait "$pid" || rc=$?
	[ "$rc" -ne 125 ] || die "could not register qemu-aarch64 in a private binfmt_misc (needs Linux 6.7 or later)"
	return "$rc"
}

# make_root ARCH: a clean minbase root of the suite for ARCH, made once.
make_root() {
	local arch=$1 dir=$roots/$suite-$1
	[ -f "$dir/.p2pcam-root-ok" ] && return 0
	local m
	m=$(mirror)
	log "making a clean $suite $arch root in $dir from $m (once; a few minutes)"
	rm -rf "$dir.tmp"
	mkdir -p "$roots" "$cache/debs-$arch"
	if [ "$arch" = "$native" ]; then
		debootstrap --variant=minbase --cache-dir="$cache/debs-$arch" "$suite" "$dir.tmp" "$m" >"$roots/$suite-$arch.log" 2>&1 ||
			die "debootstrap $arch (see $roots/$suite-$arch.log)"
	else
		debootstrap --foreign --arch="$arch" --variant=minbase --cache-dir="$cache/debs-$arch" "$suite" "$dir.tmp" "$m" >"$roots/$suite-$arch.log" 2>&1 ||
			die "debootstrap --foreign $arch (see $roots/$suite-$arch.log)"
		# container=lxc: debootstrap skips its mknod test (a user namespace may
		# not make device files; the first stage made them as real root).
		container=lxc qemu_ns chroot "$dir.tmp" /debootstrap/debootstrap --second-stage >>"$roots/$suite-$arch.log" 2>&1 ||
			die "debootstrap --second-stage $arch under qemu (see $roots/$suite-$arch.log)"
	fi
	touch "$dir.tmp/.p2pcam-root-ok"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
}

step_roots() {
	need_root
	need_tools
	make_root "$native"
	make_root arm64
}

# unpack: each architecture's binary from its tar.gz, into $work/ARCH/.
unpack() {
	[ -f "$dist/SHA256SUMS" ] || die "no release in $dist; run make release first"
	(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || die "$dist does not match its SHA256SUMS"
	local a t
	for a in $native arm64; do
		t=$(ls "$dist"/p2pcam-*-linux-"$a".tar.gz 2>/dev/null | head -n1)
		[ -n "$t" ] || die "no linux-$a tar.gz in $dist"
		mkdir -p "$work/$a"
		tar -C "$work/$a" --strip-components=1 -xzf "$t"
		[ -x "$work/$a/p2pcam" ] || die "$t holds no executable p2pcam"
	done
}

step_elf() {
	local a needed interp others want="libc.so.6 libm.so.6"
	for a in $native arm64; do
		interp=$(readelf -l "$work/$a/p2pcam" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
		needed=$(readelf -d "$work/$a/p2pcam" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | xargs)
		log "linux/$a needs: $needed (loader $interp), glibc $(objdump -T "$work/$a/p2pcam" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n1)"
		# The loader itself may be named too: a few symbols come from ld.so.
		others=$(echo "$needed" | tr ' ' '\n' | grep -vx "$(basename "$interp")" | xargs)
		[ "$others" = "$want" ] || die "linux/$a binary needs '$others' besides the loader; want exactly '$want' (codecs built in, SDL loaded only by --view)"
		case $a/$interp in
		amd64//lib64/ld-linux-x86-64.so.2 | arm64//lib/ld-linux-aarch64.so.1) ;;
		*) die "linux/$a binary asks for loader '$interp'" ;;
		esac
	done
}

# inroot ROOT CMD...: run CMD chrooted in ROOT (through qemu_ns, so an
# arm64 root works; /proc and /sys are the machine's).
inroot() {
	qemu_ns sh -c 'r=$1; shift; mount --rbind /proc "$r/proc" && mount --rbind /sys "$r/sys" && exec chroot "$r" "$@"' sh "$@"
}

# fresh ARCH: a throwaway copy of the clean root, in $work.
fresh() {
	local r=$work/root-$1
	rm -rf "$r"
	cp -a "$roots/$suite-$1" "$r"
	echo "$r"
}

step_install() {
	local a r deb out
	for a in $native arm64; do
		deb=$(ls "$dist"/p2pcam_*_"$a".deb 2>/dev/null | head -n1)
		[ -n "$deb" ] || die "no $a .deb in $dist"
		r=$(fresh "$a")
		if ls "$r"/usr/lib/*/libvpx* "$r"/usr/lib/*/libopus* "$r"/usr/lib/*/libturbojpeg* >/dev/null 2>&1; then
			die "the clean $a root has codec libraries; remove $roots/$suite-$a to make it again"
		fi
		cp "$deb" "$r/tmp/p2pcam.deb"
		inroot "$r" dpkg -i /tmp/p2pcam.deb >"$work/dpkg-$a.log" 2>&1 || { cat "$work/dpkg-$a.log" >&2; die "dpkg -i $(basename "$deb") in a clean $suite $a root"; }
		out=$(inroot "$r" p2pcam version) || die "p2pcam version in the $a root"
		log "$a root: $out"
		case $out in *", linux/$a)") ;; *) die "p2pcam version in the $a root says '$out'" ;; esac
		out=$(inroot "$r" p2pcam version --json) || die "p2pcam version --json in the $a root"
		echo "$out" | grep -q '"arch": "'"$a"'"' || die "p2pcam version --json in the $a root: $out"
		inroot "$r" p2pcam devices >"$work/devices-$a.out" 2>"$work/devices-$a.err" ||
			{ cat "$work/devices-$a.err" >&2; die "p2pcam devices in the $a root"; }
		grep -q "no camera found" "$work/devices-$a.err" || die "p2pcam devices in the $a root said: $(cat "$work/devices-$a.err")"
		inroot "$r" sh -c 'test -s /usr/share/bash-completion/completions/p2pcam && dpkg -r p2pcam >/dev/null && ! test -e /usr/bin/p2pcam' ||
			die "the $a package's completion, or dpkg -r"
		log "$a: .deb installs into a clean $suite root; version and devices run; dpkg -r removes it"
	done
}

# wait_line FILE: wait (up to 60 s: emulation is slow) for a whole line.
wait_line() {
	for _ in $(seq 600); do
		if [ -s "$1" ] && [ -z "$(tail -c1 "$1")" ]; then return 0; fi
		sleep 0.1
	done
	die "no blob in $1 after 60 s"
}

# call OFFERER ANSWERER: a call over loopback, each side "arm64" (in the
# arm64 root, emulated) or "native" (this machine's binary from dist/); the
# answer records; the recording is judged with ffprobe.
call() {
	local secs=8 d=$work/call-$1-$2 r=$work/root-arm64 rec
	mkdir -p "$d"
	mkfifo "$d/offer.in" "$d/answer.in"
	rec=$d/call.webm
	side() { # side WHO ARGS...: the command line of one side
		local who=$1
		shift
		if [ "$who" = arm64 ]; then
			echo inroot "$r" /usr/bin/p2pcam "$@"
		else
			echo "$work/$native/p2pcam" "$@"
		fi
	}
	local common="--ice-server none --interface lo --connect-timeout 60s --paste-timeout 2m"
	local out=$rec
	[ "$2" = arm64 ] && out=/tmp/call.webm
	# shellcheck disable=SC2046
	$(side "$1" offer --source test --audio test --width 320 --height 240 --fps 30 --duration "${secs}s" $common) \
		<"$d/offer.in" >"$d/offer.blob" 2>"$d/offer.err" &
	local po=$!
	exec 3>"$d/offer.in"
	wait_line "$d/offer.blob"
	# shellcheck disable=SC2046
	$(side "$2" answer --force -o "$out" $common) <"$d/answer.in" >"$d/answer.blob" 2>"$d/answer.err" &
	local pa=$!
	exec 4>"$d/answer.in"
	cat "$d/offer.blob" >&4 || true
	wait_line "$d/answer.blob"
	cat "$d/answer.blob" >&3 || true
	local so=0 sa=0
	wait "$po" || so=$?
	wait "$pa" || sa=$?
	exec 3>&- 4>&-
	if [ "$so" -ne 0 ] || [ "$sa" -ne 0 ]; then
		tail -n5 "$d/offer.err" "$d/answer.err" >&2
		die "call $1 offer -> $2 answer: exit $so / $sa"
	fi
	[ "$2" = arm64 ] && cp "$r/tmp/call.webm" "$rec"
	local v a
	v=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=codec_name,width,height,nb_read_frames -of csv=p=0 "$rec")
	a=$(ffprobe -v error -select_streams a:0 -show_entries stream=codec_name,sample_rate -of csv=p=0 "$rec")
	log "call $1 offer -> $2 answer, ${secs} s of 320x240@30: video $v (codec,w,h,frames), sound $a"
	local codec w h frames
	IFS=, read -r codec w h frames <<<"$v"
	# At least a quarter of the frames: the emulated side is ~40x slower.
	[ "$codec" = vp8 ] && [ "$w" = 320 ] && [ "$h" = 240 ] && [ "${frames:-0}" -ge $((secs * 30 / 4)) ] ||
		die "call $1 -> $2: want vp8 320x240 with at least $((secs * 30 / 4)) frames, got $v"
	[ "$a" = "opus,48000" ] || die "call $1 -> $2: want 48 kHz Opus beside the video, got '$a'"
}

step_call() {
	local r
	r=$(fresh arm64)
	cp "$(ls "$dist"/p2pcam_*_arm64.deb | head -n1)" "$r/tmp/p2pcam.deb"
	inroot "$r" dpkg -i /tmp/p2pcam.deb >/dev/null 2>&1 || die "dpkg -i in the arm64 root"
	call arm64 native
	call native arm64
}

# The arm64 unit tests of the codecs, the blob format and the recorder,
# built against the arm64 codec packages (multiarch) and run by qemu.
step_tests() {
	[ "$native" != arm64 ] || { log "this machine is arm64: its own make test covers them"; return 0; }
	log "arm64 unit tests under qemu-aarch64-static (7 to 30 minutes)"
	CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc \
		PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig PKG_CONFIG_PATH="" \
		go test -count=1 -timeout 40m -exec qemu-aarch64-static ./pkg/vp8 ./pkg/opus ./signal ./pkg/record ||
		die "arm64 unit tests"
}

main() {
	local steps=("$@")
	[ ${#steps[@]} -gt 0 ] || steps=(elf roots install call tests)
	work=$(mktemp -d)
	trap 'for j in $(jobs -p); do kill "$j" 2>/dev/null || true; done; rm -rf "$work"' EXIT
	case " ${steps[*]} " in *" elf "* | *" install "* | *" call "*) unpack ;; esac
	case " ${steps[*]} " in *" install "* | *" call "*) need_root; need_tools; make_root "$native"; make_root arm64 ;; esac
	for s in "${steps[@]}"; do
		case $s in
		roots | elf | install | call | tests) "step_$s" ;;
		*) die "unknown step $s (roots, elf, install, call, tests)" ;;
		esac
	done
}

main "$@"
