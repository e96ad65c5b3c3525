package signal

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// TestDecodeErrors gives each bad input the exact one-line message the
// user sees and the error the CLI maps to a hint.
func TestDecodeErrors(t *testing.T) {
	compactOffer := testutil.ReadTrimmed(t, "testdata/golden/offer-4.compact")
	compactAnswer := testutil.ReadTrimmed(t, "testdata/golden/answer-2.compact")
	pionOffer := testutil.ReadTrimmed(t, "testdata/golden/offer-8.pion") // 4100 characters
	if len(pionOffer) <= 4096 {
		t.Fatalf("offer-8.pion is %d characters, the 4095 case needs more", len(pionOffer))
	}
	corrupt := []byte(compactOffer)
	corrupt[100] ^= 'A' ^ 'B' // letters stay in the alphabet
	if corrupt[100] == compactOffer[100] {
		t.Fatal("no corruption made")
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	data := "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"

	tests := []struct {
		name  string
		blob  string
		want  webrtc.SDPType
		msg   string
		match func(error) bool
	}{
		{"empty", "", webrtc.SDPTypeOffer, "no blob: the input is empty", is(ErrEmpty)},
		{"only whitespace, quotes and markers", " \r\n\x1b[200~''\x1b[201~\n", webrtc.SDPTypeOffer, "no blob: the input is empty", is(ErrEmpty)},
		{"prose", "hello, here is my offer", webrtc.SDPTypeOffer, "does not look like a p2pcam or WebRTC blob", is(ErrNotBlob)},
		{"sdp text", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n", webrtc.SDPTypeOffer, "does not look like a p2pcam or WebRTC blob", is(ErrNotBlob)},
		{"newer version", "p2pcam3:AAAAAAAA", webrtc.SDPTypeOffer, "blob was made by a newer p2pcam (format version 3)", as[*VersionError]},
		{"compact cut in half", compactOffer[:150], webrtc.SDPTypeOffer, "blob is truncated: got only 150 characters", as[*TruncatedError]},
		{"compact cut by one", compactOffer[:len(compactOffer)-1], webrtc.SDPTypeOffer, "blob is truncated: got only 286 characters", as[*TruncatedError]},
		{"compact corrupted", string(corrupt), webrtc.SDPTypeOffer, "blob is corrupted: checksum mismatch", is(ErrChecksum)},
		{"compact bad character", compactOffer[:50] + "*" + compactOffer[51:], webrtc.SDPTypeOffer, "malformed blob: character '*' at position 50 is not in a p2pcam blob", is(ErrMalformed)},
		{"compact with a non-ASCII character", compactOffer[:50] + "é" + compactOffer[51:], webrtc.SDPTypeOffer, "malformed blob: character 'é' at position 50 is not in a p2pcam blob", is(ErrMalformed)},
		{"compact with non-ASCII before the bad character", compactOffer[:8] + "éé" + compactOffer[10:], webrtc.SDPTypeOffer, "malformed blob: character 'é' at position 8 is not in a p2pcam blob", is(ErrMalformed)},
		{"compact with junk after", compactOffer + "AAAA", webrtc.SDPTypeOffer, "blob is corrupted: checksum mismatch", is(ErrChecksum)},
		{"pion cut at 4095", pionOffer[:4095] + "\n", webrtc.SDPTypeOffer, "blob is truncated: your terminal cut the paste at 4095 characters", as[*TruncatedError]},
		{"pion cut at 1024", pionOffer[:1024], webrtc.SDPTypeOffer, "blob is truncated: your terminal cut the paste at 1024 characters", as[*TruncatedError]},
		{"pion cut elsewhere", pionOffer[:2000], webrtc.SDPTypeOffer, "blob is truncated: got only 2000 characters", as[*TruncatedError]},
		{"pion bad base64", pionOffer[:10] + "!" + pionOffer[11:], webrtc.SDPTypeOffer, "malformed blob: invalid base64: character '!' at position 10", is(ErrMalformed)},
		{"pion non-ASCII", pionOffer[:10] + "ß" + pionOffer[11:], webrtc.SDPTypeOffer, "malformed blob: invalid base64: character 'ß' at position 10", is(ErrMalformed)},
		{"pion bad json", b64(`{"type":"offer","sdp":1}`), webrtc.SDPTypeOffer, "malformed blob: invalid JSON: json: cannot unmarshal number into Go struct field .sdp of type string", is(ErrMalformed)},
		{"pion json without sdp", b64(`{"type":"offer"}`), webrtc.SDPTypeOffer, `malformed blob: JSON lacks "type" or "sdp"`, is(ErrMalformed)},
		{"json rollback", `{"type":"rollback","sdp":""}`, webrtc.SDPTypeOffer, `malformed blob: unsupported session description type "rollback"`, is(ErrMalformed)},
		{"json bad sdp", `{"type":"offer","sdp":"hello"}`, webrtc.SDPTypeOffer, `malformed blob: invalid SDP: sdp: syntax error at pos 1: "e"`, is(ErrMalformed)},
		{"json data channel only", `{"type":"offer","sdp":"` + strings.ReplaceAll(data, "\r\n", `\r\n`) + `"}`, webrtc.SDPTypeOffer, "session description has no video or audio section", is(ErrNoMedia)},
		{"answer where offer belongs", compactAnswer, webrtc.SDPTypeOffer, "this is an answer blob; an offer blob belongs here", as[*TypeError]},
		{"offer where answer belongs", compactOffer, webrtc.SDPTypeAnswer, "this is an offer blob; an answer blob belongs here", as[*TypeError]},
		{"too large", strings.Repeat("A", MaxBlobSize+1), webrtc.SDPTypeOffer, "input is larger than 64 KiB, too large for a blob", is(ErrTooLarge)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := DecodeAs(tt.blob, tt.want)
			if err == nil {
				t.Fatal("decoded without error")
			}
			if err.Error() != tt.msg {
				t.Errorf("message\n got %q\nwant %q", err.Error(), tt.msg)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("message is not one line: %q", err)
			}
			if !tt.match(err) {
				t.Errorf("error %#v has the wrong type", err)
			}
		})
	}
}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func as[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

// TestSoundOnlyDescriptionsTravel: a description with an audio section and
// no video (a call of sound alone) encodes and decodes in every format.
func TestSoundOnlyDescriptionsTravel(t *testing.T) {
	audio := "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n"
	sd := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: audio}
	for _, f := range []Format{FormatCompact, FormatPion, FormatJSON} {
		blob, err := Encode(sd, f)
		if err != nil {
			t.Fatalf("Encode(%s): %v", f, err)
		}
		got, gf, err := DecodeAs(blob, webrtc.SDPTypeOffer)
		if err != nil || gf != f || got != sd {
			t.Errorf("DecodeAs(%s blob) = %+v, %s, %v; want the description back", f, got, gf, err)
		}
	}
}
