// Package codecs is the table of the codecs p2pcam carries: the one place
// that names them. The command line and the session pick codecs from here
// and hand their descriptors down; the pipeline below (capture, peer,
// record, decode) takes whatever descriptor it is given.
package codecs

import (
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/opus"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// All lists every codec p2pcam can send and receive, preferred first
// within each kind. Registering a codec offers nothing by itself: a
// description gets an audio section only when a call sends or asks for
// sound, so calls without sound describe themselves as before.
func All() []codec.Descriptor {
	return []codec.Descriptor{vp8.Descriptor, opus.Descriptor}
}

// Default returns the preferred codec of a kind, and false when p2pcam
// has none of that kind.
func Default(kind codec.Kind) (codec.Descriptor, bool) {
	for _, d := range All() {
		if d.Kind == kind {
			return d, true
		}
	}
	return codec.Descriptor{}, false
}

// ByMime returns the codec named by an SDP MIME type ("video/VP8"), and
// false when p2pcam has none by that name.
func ByMime(mimeType string) (codec.Descriptor, bool) {
	for _, d := range All() {
		if d.Is(mimeType) {
			return d, true
		}
	}
	return codec.Descriptor{}, false
}
