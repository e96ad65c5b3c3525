package wormhole

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// FuzzParseCode checks that ParseCode never panics, that what it accepts
// has a code's shape and reads back the same, and that IsCode holds for
// it.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"7-guitarist-revenge", "7 Guitarist revenge", "07-a-b", "7-guitarst-revenge", "", "-", "1-adroitness-aardvark-adroitness-aardvark-adroitness-aardvark-adroitness-aardvark"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		if err != nil {
			return
		}
		if !IsCode(s) {
			t.Errorf("ParseCode accepts %q, IsCode does not", s)
		}
		back, err := ParseCode(c.String())
		if err != nil || back.String() != c.String() {
			t.Errorf("%q reads back as %q, %v", c, back, err)
		}
	})
}

// FuzzDecodeMessage feeds decodeMessage what a server (or someone in
// between) could send, and opens the bodies it accepts: no input may
// panic, and a body that opens must be one sealed under the key.
func FuzzDecodeMessage(f *testing.F) {
	b := box{key: bytes.Repeat([]byte{1}, 32)}
	sealed, err := b.seal(cpaceA, phaseOffer, []byte("p2pcam1:blob"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"type":"welcome","welcome":{"motd":"hi"},"server_tx":1.5}`,
		`{"type":"welcome","welcome":{"permission-required":{"hashcash":{"bits":6}}}}`,
		`{"type":"message","side":"a","phase":"offer","body":"` + hex.EncodeToString(sealed) + `","id":null}`,
		`{"type":"message","side":"a","phase":"offer","body":"zz"}`,
		`{"type":"error","error":"crowded","orig":{"type":"claim"}}`,
		`{"type":"nameplates","nameplates":[{"id":"7"}]}`,
		`{"type":"pong","pong":1}`,
		`{}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMessage(data)
		if err != nil || m.Type != "message" {
			return
		}
		plain, err := b.open(cpaceA, m.Phase, m.body())
		if err == nil && (m.Phase != phaseOffer || string(plain) != "p2pcam1:blob") {
			t.Errorf("%q opened as %q", data, plain)
		}
		_ = peerError(m)
	})
}
