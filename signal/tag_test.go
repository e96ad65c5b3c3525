package signal

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

func readSDP(t *testing.T, name string, typ webrtc.SDPType) webrtc.SessionDescription {
	t.Helper()
	b, err := os.ReadFile("testdata/sdp/" + name + ".sdp")
	if err != nil {
		t.Fatal(err)
	}
	return webrtc.SessionDescription{Type: typ, SDP: string(b)}
}

// TestTagAnswerMatchesGolden: the answer p2pcam prints for offer-2 is
// answer-2 with the tag line, as testdata/gensdp.py writes it.
func TestTagAnswerMatchesGolden(t *testing.T) {
	offer := readSDP(t, "offer-2", webrtc.SDPTypeOffer)
	tagged, err := TagAnswer(readSDP(t, "answer-2", webrtc.SDPTypeAnswer), offer)
	if err != nil {
		t.Fatal(err)
	}
	if want := readSDP(t, "answer-2-tagged", webrtc.SDPTypeAnswer); tagged.SDP != want.SDP {
		t.Errorf("tagged answer:\n%s\nwant:\n%s", tagged.SDP, want.SDP)
	}
}

func TestCheckAnswer(t *testing.T) {
	offer := readSDP(t, "offer-2", webrtc.SDPTypeOffer)
	otherUfrag := offer
	otherUfrag.SDP = strings.ReplaceAll(offer.SDP, "kQvTzRbNwHmLpXcY", "Zz9TzRbNwHmLpXcY")
	otherFP := offer
	otherFP.SDP = strings.Replace(offer.SDP, "3C:4E:8A", "3C:4E:8B", 1)
	tagged := readSDP(t, "answer-2-tagged", webrtc.SDPTypeAnswer)
	plain := readSDP(t, "answer-2", webrtc.SDPTypeAnswer)
	lf := tagged
	lf.SDP = strings.ReplaceAll(tagged.SDP, "\r\n", "\n")
	lower := tagged
	lower.SDP = strings.Replace(tagged.SDP, "3E:F3", "3e:f3", 1)
	// A tag below the session section is not the session's tag.
	inMedia := plain
	inMedia.SDP = strings.Replace(plain.SDP, "a=rtcp-mux\r\n", "a=rtcp-mux\r\na=p2pcam-offer:00:00:00:00\r\n", 1)
	tests := []struct {
		name          string
		answer, offer webrtc.SessionDescription
		want          error
	}{
		{"tagged answer, its offer", tagged, offer, nil},
		{"tagged answer, LF line ends", lf, offer, nil},
		{"tag in lower case", lower, offer, nil},
		{"tagged answer, offer with another ufrag", tagged, otherUfrag, ErrOtherOffer},
		{"tagged answer, offer with another fingerprint", tagged, otherFP, ErrOtherOffer},
		{"untagged answer (browser, older p2pcam)", plain, otherUfrag, nil},
		{"tag line in a media section is ignored", inMedia, offer, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := CheckAnswer(tt.answer, tt.offer); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("CheckAnswer = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestTagSurvivesEveryFormat: the tag comes through each blob format, and
// in the compact one it is a value (a few bytes), not text.
func TestTagSurvivesEveryFormat(t *testing.T) {
	offer := readSDP(t, "offer-2", webrtc.SDPTypeOffer)
	tagged := readSDP(t, "answer-2-tagged", webrtc.SDPTypeAnswer)
	for _, f := range allFormats {
		blob, err := Encode(tagged, f)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := DecodeAs(blob, webrtc.SDPTypeAnswer)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := CheckAnswer(got, offer); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	plain, _ := Encode(readSDP(t, "answer-2", webrtc.SDPTypeAnswer), FormatCompact)
	blob, _ := Encode(tagged, FormatCompact)
	if extra := len(blob) - len(plain); extra > 30 {
		t.Errorf("the tag costs %d characters of a compact blob (%d -> %d), want at most 30", extra, len(plain), len(blob))
	}
}
