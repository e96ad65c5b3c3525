#!/bin/sh
# Installs what p2pcam needs to build and test on Debian/Ubuntu: libvpx and
# pkg-config for the VP8 encoder (cgo), libopus for sound, libjpeg-turbo
# for MJPEG cameras, ffmpeg/ffprobe to judge recordings; and SDL2's runtime
# library for the --view tests (p2pcam loads it for --view only: building
# needs neither it nor libsdl2-dev).
# As root it installs them; otherwise it prints the command to run. On
# macOS it checks what building needs and prints the brew command.
set -eu
need=""
if [ "$(uname -s)" = Darwin ]; then
	# macOS: what make build needs, from Homebrew (not tested on a Mac,
	# only cross-vetted); sdl2 only for --view, at run time.
	command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
	pkg-config --exists vpx 2>/dev/null || need="$need libvpx"
	pkg-config --exists opus 2>/dev/null || need="$need opus"
	pkg-config --exists libturbojpeg 2>/dev/null || need="$need jpeg-turbo"
	[ -z "$need" ] && exit 0
	echo "p2pcam needs these Homebrew packages to build:$need" >&2
	echo "run: brew install$need (and brew install sdl2 for --view)" >&2
	exit 1
fi
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
pkg-config --exists vpx 2>/dev/null || need="$need libvpx-dev"
pkg-config --exists libturbojpeg 2>/dev/null || need="$need libturbojpeg0-dev"
pkg-config --exists opus 2>/dev/null || need="$need libopus-dev"
/sbin/ldconfig -p 2>/dev/null | grep -q 'libSDL2-2\.0\.so\.0 ' || need="$need libsdl2-2.0-0"
command -v ffprobe >/dev/null 2>&1 || need="$need ffmpeg"
command -v gcc >/dev/null 2>&1 || need="$need gcc"
[ -z "$need" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "p2pcam needs these packages:$need" >&2
	echo "run: sudo apt-get install -y$need" >&2
	exit 1
fi
echo "installing:$need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq $need >/dev/null
