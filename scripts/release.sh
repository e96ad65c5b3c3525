#!/usr/bin/env bash
# Builds the release into dist/: for each architecture (linux amd64 and
# arm64) a tar.gz with the binary and the README, and a .deb; then
# SHA256SUMS over them.
#
# The binaries carry libvpx, libopus and libjpeg-turbo inside (linked from
# Debian's static archives, through pkg-config files written here that name
# the .a files), and link only the C library dynamically (libc, libm and
# the loader; --view's window loads libSDL2 only when it opens), so they
# run on any Debian/Ubuntu/Raspberry Pi OS with that
# glibc or newer, without any codec package. The lowest glibc they need
# (the highest GLIBC_ symbol version, objdump -T) is printed and becomes
# the .deb's Depends: libc6 (>= ...).
#
# Same commit, same machine, same Debian packages: same bytes. The version,
# commit and date stamped in come from git (the date is the commit's, also
# SOURCE_DATE_EPOCH for the archives' file times); -trimpath and an empty
# build ID keep paths and randomness out.
#
#   scripts/release.sh                   # every architecture
#   ARCHES=arm64 scripts/release.sh      # one
#   VERSION=v1.2.0 scripts/release.sh    # default: git describe, or v0.0.0-DATE-COMMIT
#   TAGS=nosdl scripts/release.sh        # go build -tags (make release passes RELEASE_TAGS)
#
# As root it installs what it needs (cross compiler, the codec packages of
# the other architecture through Debian multiarch); otherwise it says what
# to install.
set -euo pipefail
cd "$(dirname "$0")/.."

arches=${ARCHES:-amd64 arm64}
tags=${TAGS-}
dist=${DIST:-dist}
cache=${P2PCAM_CACHE:-$HOME/.cache/p2pcam}
pkg=github.com/p2pcam/p2pcam/pkg/cli

log() { echo "release: $*" >&2; }
die() { log "FAILED: $*"; exit 1; }

native=$(dpkg --print-architecture)

# triple ARCH: Debian's multiarch triple (library directory, compiler prefix).
triple() {
	case $1 in
	amd64) echo x86_64-linux-gnu ;;
	arm64) echo aarch64-linux-gnu ;;
	*) die "architecture $1 is not built (amd64, arm64)" ;;
	esac
}

# deps: the cross compiler and each architecture's codec packages.
deps() {
	local need="" a t
	command -v pkg-config >/dev/null || need="$need pkg-config"
	command -v dpkg-deb >/dev/null || need="$need dpkg"
	for a in $arches; do
		t=$(triple "$a")
		command -v "$t-gcc" >/dev/null || need="$need gcc-$(echo "$t" | tr _ -)"
		command -v "$t-objdump" >/dev/null || need="$need binutils-$(echo "$t" | tr _ -)"
		for p in libvpx-dev libopus-dev libturbojpeg0-dev; do
			dpkg -s "$p:$a" >/dev/null 2>&1 || need="$need $p:$a"
		done
	done
	[ -z "$need" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		log "needs these packages:$need"
		for a in $arches; do
			[ "$a" = "$native" ] || dpkg --print-foreign-architectures | grep -qx "$a" || log "first: sudo dpkg --add-architecture $a"
		done
		die "run: sudo apt-get update && sudo apt-get install -y$need"
	fi
	for a in $arches; do
		if [ "$a" != "$native" ] && ! dpkg --print-foreign-architectures | grep -qx "$a"; then
			log "adding Debian architecture $a (multiarch)"
			dpkg --add-architecture "$a"
		fi
	done
	log "installing:$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -qq $need >/dev/null
}

# pcdir ARCH DIR: pkg-config files for the three codecs of ARCH that name
# their static archives, so cgo links them in.
pcdir() {
	local lib l
	lib=/usr/lib/$(triple "$1")
	mkdir -p "$2"
	for l in libvpx libopus libturbojpeg; do
		[ -f "$lib/$l.a" ] || die "$lib/$l.a missing (the $l dev package for $1)"
	done
	cat >"$2/vpx.pc" <<-EOF
		Name: vpx
		Description: libvpx, static
		Version: 0
		Libs: $lib/libvpx.a -lm -lpthread
		Cflags: -I/usr/include
	EOF
	cat >"$2/opus.pc" <<-EOF
		Name: opus
		Description: libopus, static
		Version: 0
		Libs: $lib/libopus.a -lm
		Cflags: -I/usr/include/opus
	EOF
	cat >"$2/libturbojpeg.pc" <<-EOF
		Name: libturbojpeg
		Description: libjpeg-turbo's TurboJPEG, static
		Version: 0
		Libs: $lib/libturbojpeg.a
		Cflags: -I/usr/include
	EOF
}

# glibc_floor BINARY: the newest GLIBC_ symbol version BINARY needs.
glibc_floor() {
	objdump -T "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1
}

deps

commit=$(git rev-parse HEAD)
epoch=$(git show -s --format=%ct HEAD)
date=$(TZ=UTC0 git show -s --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd HEAD)
dirty=""
git diff --quiet HEAD -- || dirty=-dirty
if [ -z "${VERSION:-}" ]; then
	VERSION=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null) ||
		VERSION=v0.0.0-$(TZ=UTC0 git show -s --date=format-local:%Y%m%d%H%M%S --format=%cd HEAD)-${commit:0:12}$dirty
fi
[ -z "$dirty" ] || log "warning: the work tree has uncommitted changes; the version says $VERSION"
# A Debian version starts with a digit; ~ sorts a pre-release before the release.
debver=${VERSION#v}
case $debver in
0.0.0-*) debver=0.0.0~git${debver#0.0.0-} ;;
esac
# After a tag (git describe: 1.2.0-3-gabc123), + sorts it after 1.2.0.
debver=$(echo "$debver" | sed -E 's/^([0-9][0-9.]*)-([0-9]+)-g([0-9a-f]+)/\1+git\2.\3/' | tr - '~')
export SOURCE_DATE_EPOCH=$epoch

# The Go build cache does not notice a changed .a behind pkg-config
# (golang/go#24544): release builds get a cache of their own, named after
# the archives they link, so new Debian codec packages start a fresh one.
sum=$(for a in $arches; do t=$(triple "$a"); sha256sum /usr/lib/"$t"/{libvpx,libopus,libturbojpeg}.a; done | sha256sum | cut -c1-16)
gocache=$cache/gocache-release-$sum
for old in "$cache"/gocache-release-*; do
	[ "$old" = "$gocache" ] || [ ! -d "$old" ] || rm -rf "$old"
done
mkdir -p "$gocache"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$dist"
mkdir -p "$dist"

ldflags="-s -w -buildid= -X $pkg.Version=$VERSION -X $pkg.Commit=$commit$dirty -X $pkg.Date=$date"
for a in $arches; do
	t=$(triple "$a")
	pcdir "$a" "$work/pc-$a"
	log "building linux/$a ($VERSION, tags '$tags')"
	start=$(date +%s)
	CGO_ENABLED=1 GOOS=linux GOARCH="$a" CC="$t-gcc" \
		PKG_CONFIG_LIBDIR="$work/pc-$a" PKG_CONFIG_PATH="" GOCACHE="$gocache" GOFLAGS=-buildvcs=false \
		go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$work/$a/p2pcam" ./cmd/p2pcam
	log "built linux/$a in $(($(date +%s) - start)) s: $(stat -c %s "$work/$a/p2pcam") bytes, glibc $(glibc_floor "$work/$a/p2pcam") or newer"
done

# Completion scripts for the .deb, from a binary this machine runs.
comp=$work/$native/p2pcam
[ -x "$comp" ] || comp=$(ls "$work"/*/p2pcam | head -n1)

# stamp DIR: every file's time is the commit's, for the same bytes.
stamp() { find "$1" -exec touch -h -d "@$epoch" {} +; }

for a in $arches; do
	name=p2pcam-$VERSION-linux-$a
	mkdir -p "$work/tar/$name"
	install -m 0755 "$work/$a/p2pcam" "$work/tar/$name/p2pcam"
	install -m 0644 README.md "$work/tar/$name/README.md"
	stamp "$work/tar/$name"
	tar -C "$work/tar" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --format=gnu -c "$name" |
		gzip -n -9 >"$dist/$name.tar.gz"

	root=$work/deb-$a
	install -D -m 0755 "$work/$a/p2pcam" "$root/usr/bin/p2pcam"
	install -D -m 0644 README.md "$root/usr/share/doc/p2pcam/README.md"
	mkdir -p "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d"
	"$comp" completion bash >"$root/usr/share/bash-completion/completions/p2pcam"
	"$comp" completion zsh >"$root/usr/share/zsh/vendor-completions/_p2pcam"
	"$comp" completion fish >"$root/usr/share/fish/vendor_completions.d/p2pcam.fish"
	mkdir -p "$root/DEBIAN"
	cat >"$root/DEBIAN/control" <<-EOF
		Package: p2pcam
		Version: $debver
		Architecture: $a
		Maintainer: p2pcam developers <p2pcam@users.noreply.github.com>
		Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
		Depends: libc6 (>= $(glibc_floor "$work/$a/p2pcam"))
		Suggests: ffmpeg, libsdl2-2.0-0
		Section: video
		Priority: optional
		Homepage: https://github.com/p2pcam/p2pcam
		Description: stream a camera peer to peer over WebRTC
		 p2pcam sends a camera (or a test pattern, a file, a pipe) and a
		 microphone to another machine over WebRTC, with copy-paste or
		 short-code signaling, and records or shows what it receives. VP8 and
		 Opus are built in.
	EOF
	chmod -R u=rwX,go=rX "$root"
	stamp "$root"
	dpkg-deb --root-owner-group -Zxz --build "$root" "$dist/p2pcam_${debver}_$a.deb" >/dev/null
done

(cd "$dist" && sha256sum -- *.tar.gz *.deb >SHA256SUMS)
log "done: $dist/"
(cd "$dist" && ls -l -- *.tar.gz *.deb SHA256SUMS | awk '{print "  " $5 "\t" $9}') >&2
