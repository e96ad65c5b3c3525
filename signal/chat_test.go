package signal

import (
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// TestBlobFromAChat decodes blobs as people copy them out of a chat or a
// mail: with the sentence's full stop or comma after them, in typographic
// quotes, or both.
func TestBlobFromAChat(t *testing.T) {
	compact := testutil.ReadTrimmed(t, "testdata/golden/offer-4.compact")
	pion := testutil.ReadTrimmed(t, "testdata/golden/offer-4.pion")
	json := testutil.ReadTrimmed(t, "testdata/golden/offer-4.json")
	tests := []struct {
		name string
		blob string
		want Format
	}{
		{"full stop", compact + ".", FormatCompact},
		{"comma and space", compact + ", ", FormatCompact},
		{"full stop on the next line", compact + "\n.", FormatCompact},
		{"semicolon", compact + ";", FormatCompact},
		{"typographic double quotes", "“" + compact + "”", FormatCompact},
		{"typographic single quotes and a full stop", "‘" + compact + "’.", FormatCompact},
		{"quotes then a comma", `"` + compact + `",`, FormatCompact},
		{"guillemets", "« " + compact + " »", FormatCompact},
		{"pion with a full stop", pion + ".", FormatPion},
		{"json with a full stop", json + ".", FormatJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, f, err := DecodeAs(tt.blob, webrtc.SDPTypeOffer)
			if err != nil {
				t.Fatalf("%q: %v", tt.blob, err)
			}
			if f != tt.want {
				t.Errorf("format %s, want %s", f, tt.want)
			}
		})
	}
}
