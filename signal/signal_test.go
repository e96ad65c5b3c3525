package signal

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

var update = flag.Bool("update", false, "rewrite the golden blobs in testdata/golden")

var allFormats = []Format{FormatCompact, FormatPion, FormatJSON}

// roundTrip encodes sd in f, decodes it and checks nothing changed.
func roundTrip(t *testing.T, sd webrtc.SessionDescription, f Format) string {
	t.Helper()
	blob, err := Encode(sd, f)
	if err != nil {
		t.Fatalf("Encode(%s): %v", f, err)
	}
	got, gotF, err := DecodeAs(blob, sd.Type)
	if err != nil {
		t.Fatalf("Decode(%s blob %q): %v", f, blob, err)
	}
	if gotF != f {
		t.Errorf("Decode detected %s, want %s", gotF, f)
	}
	if got.Type != sd.Type || got.SDP != sd.SDP {
		t.Errorf("%s round trip changed the description:\n got %q\nwant %q", f, got.SDP, sd.SDP)
	}
	return blob
}

func TestRoundTripPionDescriptions(t *testing.T) {
	api := newAPI(t)
	dirs := []webrtc.RTPTransceiverDirection{
		webrtc.RTPTransceiverDirectionSendonly,
		webrtc.RTPTransceiverDirectionRecvonly,
		webrtc.RTPTransceiverDirectionSendrecv,
	}
	for _, dir := range dirs {
		t.Run(dir.String(), func(t *testing.T) {
			ctx := deadline(t, 20*time.Second)
			_, offer := pionOffer(ctx, t, api, dir)
			answerDir := webrtc.RTPTransceiverDirectionRecvonly
			if dir == webrtc.RTPTransceiverDirectionRecvonly {
				answerDir = webrtc.RTPTransceiverDirectionSendonly
			}
			_, answer := pionAnswer(ctx, t, api, answerDir, offer)
			for _, sd := range []webrtc.SessionDescription{offer, answer} {
				for _, f := range allFormats {
					blob := roundTrip(t, sd, f)
					t.Logf("%s %s: %d characters", sd.Type, f, len(blob))
				}
			}
		})
	}
}

func TestGoldenBlobs(t *testing.T) {
	files, err := filepath.Glob("testdata/sdp/*.sdp")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata SDPs: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".sdp")
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		typ := webrtc.SDPTypeOffer
		if strings.HasPrefix(name, "answer") {
			typ = webrtc.SDPTypeAnswer
		}
		sd := webrtc.SessionDescription{Type: typ, SDP: string(raw)}
		for _, f := range allFormats {
			t.Run(name+"/"+f.String(), func(t *testing.T) {
				blob := roundTrip(t, sd, f)
				golden := filepath.Join("testdata", "golden", name+"."+f.String())
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(blob+"\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update)", err)
				}
				if blob != strings.TrimSpace(string(want)) {
					t.Errorf("blob differs from %s (format changed?)\n got %s\nwant %s", golden, blob, want)
				}
				// The golden blob, as stored, still decodes to the SDP.
				got, _, err := Decode(string(want))
				if err != nil || got.SDP != sd.SDP {
					t.Errorf("golden %s decodes to %q, %v", golden, got.SDP, err)
				}
			})
		}
	}
}

// TestBlobLengths holds the compact format to its size goals and logs
// the lengths the report quotes.
func TestBlobLengths(t *testing.T) {
	tests := []struct {
		file string
		max  int
	}{
		{"offer-2.sdp", 300},
		{"offer-4.sdp", 300}, // four host candidates
		{"offer-8.sdp", 1000},
		// With sound (p2pcam2:), as p2pcam writes them on loopback.
		{"offer-av.sdp", 300},
		{"offer-av-srflx.sdp", 300},
		{"answer-av-tagged.sdp", 300},
		{"answer-av-sendrecv.sdp", 300},
	}
	for _, tt := range tests {
		raw, err := os.ReadFile(filepath.Join("testdata", "sdp", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		sd := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(raw)}
		compact, err := Encode(sd, FormatCompact)
		if err != nil {
			t.Fatal(err)
		}
		pion, err := Encode(sd, FormatPion)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: compact %d, pion %d characters (SDP %d bytes)", tt.file, len(compact), len(pion), len(raw))
		if len(compact) > tt.max {
			t.Errorf("%s: compact blob is %d characters, want at most %d", tt.file, len(compact), tt.max)
		}
	}
}

// TestCompactOfferNegotiates runs a whole exchange through compact blobs:
// the answerer accepts the decoded offer, the offerer the decoded answer,
// and ICE connects over loopback.
func TestCompactOfferNegotiates(t *testing.T) {
	ctx := deadline(t, 30*time.Second)
	api := newAPI(t)
	offerer, offer := pionOffer(ctx, t, api, webrtc.RTPTransceiverDirectionSendonly)
	offerBlob, err := Encode(offer, FormatCompact)
	if err != nil {
		t.Fatal(err)
	}
	decodedOffer, _, err := DecodeAs(offerBlob, webrtc.SDPTypeOffer)
	if err != nil {
		t.Fatal(err)
	}
	answerer, answer := pionAnswer(ctx, t, api, webrtc.RTPTransceiverDirectionRecvonly, decodedOffer)
	answerBlob, err := Encode(answer, FormatCompact)
	if err != nil {
		t.Fatal(err)
	}
	decodedAnswer, _, err := DecodeAs(answerBlob, webrtc.SDPTypeAnswer)
	if err != nil {
		t.Fatal(err)
	}

	connected := make(chan struct{}, 2)
	for _, pc := range []*webrtc.PeerConnection{offerer, answerer} {
		pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
			if s == webrtc.ICEConnectionStateConnected {
				select {
				case connected <- struct{}{}:
				default:
				}
			}
		})
	}
	if err := offerer.SetRemoteDescription(decodedAnswer); err != nil {
		t.Fatalf("offerer SetRemoteDescription: %v", err)
	}
	for range 2 {
		select {
		case <-connected:
		case <-ctx.Done():
			t.Fatal("ICE did not connect")
		}
	}
	code1, err := VerificationCode(offer, decodedAnswer)
	if err != nil {
		t.Fatal(err)
	}
	code2, err := VerificationCode(answer, decodedOffer)
	if err != nil {
		t.Fatal(err)
	}
	if code1 != code2 {
		t.Errorf("verification codes differ: %q vs %q", code1, code2)
	}
}

// TestDecodedTestdataOffersNegotiate feeds every hand-made offer, through
// a compact blob, to a pion answerer.
func TestDecodedTestdataOffersNegotiate(t *testing.T) {
	api := newAPI(t)
	files, _ := filepath.Glob("testdata/sdp/offer-*.sdp")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			blob, err := Encode(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(raw)}, FormatCompact)
			if err != nil {
				t.Fatal(err)
			}
			sd, _, err := DecodeAs(blob, webrtc.SDPTypeOffer)
			if err != nil {
				t.Fatal(err)
			}
			pc := newPC(t, api, webrtc.RTPTransceiverDirectionRecvonly)
			if err := pc.SetRemoteDescription(sd); err != nil {
				t.Fatalf("SetRemoteDescription: %v", err)
			}
			if _, err := pc.CreateAnswer(nil); err != nil {
				t.Fatalf("CreateAnswer: %v", err)
			}
		})
	}
}

// TestPionExampleBlob decodes a blob made exactly as pion's examples
// make them, and its URL-alphabet, unpadded, wrapped and quoted variants.
func TestPionExampleBlob(t *testing.T) {
	raw, err := os.ReadFile("testdata/sdp/offer-8.sdp")
	if err != nil {
		t.Fatal(err)
	}
	sd := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(raw)}
	js, err := json.Marshal(sd)
	if err != nil {
		t.Fatal(err)
	}
	std := base64.StdEncoding.EncodeToString(js)
	url := base64.RawURLEncoding.EncodeToString(js)
	wrap := func(s string, n int, sep string) string {
		var parts []string
		for len(s) > n {
			parts = append(parts, s[:n])
			s = s[n:]
		}
		return strings.Join(append(parts, s), sep)
	}
	tests := map[string]struct {
		blob string
		want Format
	}{
		"pion example":      {std, FormatPion},
		"url alphabet":      {url, FormatPion},
		"unpadded std":      {strings.TrimRight(std, "="), FormatPion},
		"wrapped crlf":      {wrap(std, 76, "\r\n"), FormatPion},
		"quoted":            {"'" + std + "'\n", FormatPion},
		"bracketed paste":   {"\x1b[200~" + std + "\x1b[201~\n", FormatPion},
		"raw json":          {string(js), FormatJSON},
		"json wrapped":      {"`" + wrap(string(js), 80, "\n") + "`", FormatJSON},
		"json pretty":       {"{\n  \"type\": \"offer\",\n  \"sdp\": " + string(js[strings.Index(string(js), `"sdp":`)+6:]), FormatJSON},
		"btoa style (type)": {base64.StdEncoding.EncodeToString([]byte(`{"type":"offer","sdp":` + string(js[strings.Index(string(js), `"sdp":`)+6:]))), FormatPion},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, f, err := DecodeAs(tt.blob, webrtc.SDPTypeOffer)
			if err != nil {
				t.Fatal(err)
			}
			if f != tt.want || got.SDP != sd.SDP {
				t.Errorf("got format %s, SDP equal %v", f, got.SDP == sd.SDP)
			}
		})
	}
}

// TestVerificationCode checks the code is symmetric, formatted, and
// changes when a fingerprint is rewritten.
func TestVerificationCode(t *testing.T) {
	read := func(name string, typ webrtc.SDPType) webrtc.SessionDescription {
		raw, err := os.ReadFile(filepath.Join("testdata", "sdp", name))
		if err != nil {
			t.Fatal(err)
		}
		return webrtc.SessionDescription{Type: typ, SDP: string(raw)}
	}
	offer := read("offer-2.sdp", webrtc.SDPTypeOffer)
	answer := read("answer-2.sdp", webrtc.SDPTypeAnswer)
	answer.SDP = strings.Replace(answer.SDP, "3C:4E:8A", "77:4E:8A", 1) // its own certificate
	a, err := VerificationCode(offer, answer)
	if err != nil {
		t.Fatal(err)
	}
	b, err := VerificationCode(answer, offer)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("codes differ by side: %q vs %q", a, b)
	}
	if len(a) != 7 || a[3] != ' ' || strings.Trim(a[:3]+a[4:], "0123456789") != "" {
		t.Errorf("code %q is not \"ddd ddd\"", a)
	}
	mitm := answer
	mitm.SDP = strings.Replace(answer.SDP, "77:4E:8A", "78:4E:8A", 1)
	c, err := VerificationCode(offer, mitm)
	if err != nil {
		t.Fatal(err)
	}
	if c == a {
		t.Errorf("rewritten fingerprint gives the same code %q", c)
	}
	none := offer
	none.SDP = strings.Replace(offer.SDP, "a=fingerprint:", "a=x-fingerprint:", 1)
	if _, err := VerificationCode(none, answer); !errors.Is(err, ErrNoFingerprint) {
		t.Errorf("no fingerprint: got %v, want ErrNoFingerprint", err)
	}
}

func TestBase64Alphabets(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		want := alphabets(0)
		if strings.IndexByte(stdChars, c) >= 0 {
			want |= stdAlphabet
		}
		if strings.IndexByte(urlChars, c) >= 0 {
			want |= urlAlphabet
		}
		if got := base64Alphabets(c); got != want {
			t.Errorf("base64Alphabets(%q) = %b; want %b", c, got, want)
		}
	}
}

const (
	stdChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	urlChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// TestCompactVersions checks which version Encode writes (1 without
// sound, so older p2pcams read it; 2 with an audio section), that both
// versions of every testdata description decode to it unchanged, and that
// version 2 is the shorter for a call with sound.
func TestCompactVersions(t *testing.T) {
	files, err := filepath.Glob("testdata/sdp/*.sdp")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata SDPs: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".sdp")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sd := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(raw)}
			audio := strings.Contains(sd.SDP, "\nm=audio ")
			blob, err := Encode(sd, FormatCompact)
			if err != nil {
				t.Fatal(err)
			}
			want := CompactPrefix
			if audio {
				want = CompactPrefixV2
			}
			if !strings.HasPrefix(blob, want) {
				t.Errorf("Encode wrote %.8s..., want %s", blob, want)
			}
			lens := map[string]int{}
			for _, v := range compactVersions() {
				b, err := encodeCompactAs(sd, v)
				if err != nil {
					t.Fatal(err)
				}
				got, _, err := Decode(b)
				if err != nil || got != sd {
					t.Fatalf("%s blob decodes to %q, %v", v.prefix, got.SDP, err)
				}
				lens[v.prefix] = len(b)
			}
			t.Logf("v1 %d, v2 %d characters", lens[CompactPrefix], lens[CompactPrefixV2])
			if audio && lens[CompactPrefixV2] >= lens[CompactPrefix] {
				t.Errorf("with sound, v2 (%d) is not shorter than v1 (%d)", lens[CompactPrefixV2], lens[CompactPrefix])
			}
		})
	}
}

// TestVersionsOutOfRange checks a prefix of a version this build does
// not write is a VersionError, a lower one too.
func TestVersionsOutOfRange(t *testing.T) {
	for _, blob := range []string{"p2pcam3:AAAA", "p2pcam0:AAAA", "p2pcam12:AAAA"} {
		var ve *VersionError
		if _, _, err := Decode(blob); !errors.As(err, &ve) {
			t.Errorf("Decode(%q) = %v, want a VersionError", blob, err)
		}
	}
}

// TestVersion1BlobsWithSound decodes blobs with sound that a p2pcam
// before version 2 wrote (p2pcam1:, kept in testdata/golden/*.compact1)
// to their descriptions, byte for byte.
func TestVersion1BlobsWithSound(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.compact1")
	if err != nil || len(files) == 0 {
		t.Fatalf("no version 1 blobs with sound: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".compact1")
		t.Run(name, func(t *testing.T) {
			blob, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "sdp", name+".sdp"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(blob), CompactPrefix) {
				t.Fatalf("%s is not a version 1 blob", file)
			}
			sd, _, err := Decode(string(blob))
			if err != nil {
				t.Fatal(err)
			}
			if sd.SDP != string(want) {
				t.Errorf("decodes to\n%q\nwant\n%q", sd.SDP, want)
			}
			again, err := encodeCompactAs(sd, compactVersions()[0])
			if err != nil || again != strings.TrimSpace(string(blob)) {
				t.Errorf("version 1 encoder no longer writes %s: %v", file, err)
			}
		})
	}
}
