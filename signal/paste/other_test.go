package paste

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/p2pcam/p2pcam/internal/testutil"
)

// codeLike takes what starts with a digit, as short codes do and blobs
// do not.
func codeLike() *Other {
	return &Other{Name: "the code", Takes: func(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }}
}

// TestOtherPiped: an answering side reading a pipe takes the Other for
// the offer blob, and still takes a blob.
func TestOtherPiped(t *testing.T) {
	checkRoutines(t)
	tests := []struct {
		name string
		in   string
		want string // the Other's text, or "" for the blob
	}{
		{"code", "7-guitarist-revenge\n", "7-guitarist-revenge"},
		{"code after blank lines, no line break", "\n\n  7 guitarist revenge  ", "7 guitarist revenge"},
		{"blob", "\n" + testutil.ReadTrimmed(t, "../testdata/golden/offer-2.compact") + "\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			p := pasteFor(strings.NewReader(tc.in), &out, &errOut)
			p.Other = codeLike()
			defer p.Close()
			made := false
			err := p.ExchangeAnswer(deadline(t, 10*time.Second), func(_ context.Context, _ webrtc.SessionDescription) (webrtc.SessionDescription, error) {
				made = true
				return golden(t, "../testdata/golden/answer-2.compact"), nil
			})
			var oe *OtherError
			switch {
			case tc.want == "" && (err != nil || !made):
				t.Fatalf("a blob with Other set: %v (answer made: %v)", err, made)
			case tc.want != "" && (!errors.As(err, &oe) || oe.Text != tc.want || made):
				t.Fatalf("got %v (answer made: %v); want an OtherError with %q", err, made, tc.want)
			}
		})
	}
	t.Run("an offering side takes no Other", func(t *testing.T) {
		var out, errOut bytes.Buffer
		p := pasteFor(strings.NewReader("7-guitarist-revenge\n"), &out, &errOut)
		p.Other = codeLike()
		defer p.Close()
		_, err := p.ExchangeOffer(deadline(t, 10*time.Second), golden(t, "../testdata/golden/offer-2.compact"))
		var oe *OtherError
		if err == nil || errors.As(err, &oe) {
			t.Fatalf("ExchangeOffer: %v; want a bad blob", err)
		}
	})
}
