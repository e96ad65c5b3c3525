package decode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/p2pcam/p2pcam/internal/testcodec"
	"github.com/p2pcam/p2pcam/internal/testutil"
	"github.com/p2pcam/p2pcam/pkg/codec"
	"github.com/p2pcam/p2pcam/pkg/vp8"
)

// firstFrame returns the first frame of a shared IVF fixture: a keyframe.
func firstFrame(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/testsrc2-160x120-30fps-1s.ivf")
	if err != nil {
		t.Fatal(err)
	}
	off := int(binary.LittleEndian.Uint16(b[6:]))
	n := int(binary.LittleEndian.Uint32(b[off:]))
	return b[off+12 : off+12+n]
}

// TestNewDecodesWithTheDescriptorsDecoder: New builds the decoder the
// descriptor offers and nothing else.
func TestNewDecodesWithTheDescriptorsDecoder(t *testing.T) {
	testutil.NeedCodec(t)
	d, err := New(vp8.Descriptor)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	img, err := d.Decode(firstFrame(t))
	if err != nil {
		t.Fatal(err)
	}
	if w, h := img.Rect.Dx(), img.Rect.Dy(); w != 160 || h != 120 {
		t.Errorf("picture %dx%d; want 160x120", w, h)
	}
	if err := Check(vp8.Descriptor); err != nil {
		t.Errorf("Check(VP8) = %v", err)
	}
}

// TestNewErrors: a codec this build lacks is ErrNoDecoder (and
// codec.ErrUnavailable) in the codec's own words; a codec that is not
// video, or whose decoder fails otherwise, is another error.
func TestNewErrors(t *testing.T) {
	missing := codec.Descriptor{Name: "Missing", Kind: codec.Video, MimeType: "video/x-missing",
		NewVideoDecoder: func() (codec.VideoDecoder, error) {
			return nil, fmt.Errorf("%w: Missing needs a library", codec.ErrUnavailable)
		}}
	broken := codec.Descriptor{Name: "Broken", Kind: codec.Video, MimeType: "video/x-broken",
		NewVideoDecoder: func() (codec.VideoDecoder, error) { return nil, errors.New("out of memory") }}
	for _, tc := range []struct {
		name        string
		desc        codec.Descriptor
		noDecoder   bool
		wantMessage string
	}{
		{name: "unavailable", desc: missing, noDecoder: true, wantMessage: "codec not in this build: Missing needs a library"},
		{name: "audio", desc: testcodec.Audio, wantMessage: "decode: TestAudio is not a video codec"},
		{name: "failing", desc: broken, wantMessage: "decode: new Broken decoder: out of memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := New(tc.desc)
			if err == nil {
				d.Close()
				t.Fatal("New succeeded")
			}
			if errors.Is(err, ErrNoDecoder) != tc.noDecoder || errors.Is(err, codec.ErrUnavailable) != tc.noDecoder {
				t.Errorf("New = %v: ErrNoDecoder %v, ErrUnavailable %v; want %v", err,
					errors.Is(err, ErrNoDecoder), errors.Is(err, codec.ErrUnavailable), tc.noDecoder)
			}
			if err.Error() != tc.wantMessage {
				t.Errorf("New = %q; want %q", err, tc.wantMessage)
			}
			if cerr := Check(tc.desc); cerr == nil || cerr.Error() != err.Error() {
				t.Errorf("Check = %v; want %v", cerr, err)
			}
		})
	}
	if !errors.Is(ErrNoDecoder, codec.ErrUnavailable) {
		t.Error("ErrNoDecoder does not wrap codec.ErrUnavailable")
	}
}
