package wormhole

import (
	"bytes"
	"testing"
)

func TestCPace(t *testing.T) {
	tests := []struct {
		name         string
		passA, passB string
		bindA, bindB string
		same         bool
	}{
		{"same code", "7-guitarist-revenge", "7-guitarist-revenge", "7", "7", true},
		{"another word", "7-guitarist-revenge", "7-guitarist-reward", "7", "7", false},
		{"another nameplate", "7-guitarist-revenge", "7-guitarist-revenge", "7", "8", false},
	}
	var p PAKE = CPace{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, finish, err := p.Start(tt.passA, binding(AppID, tt.bindA))
			if err != nil {
				t.Fatal(err)
			}
			reply, keyB, err := p.Reply(tt.passB, binding(AppID, tt.bindB), msg)
			if err != nil {
				t.Fatal(err)
			}
			keyA, err := finish(reply)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(keyA, keyB) != tt.same {
				t.Errorf("keys equal: %v, want %v", !tt.same, tt.same)
			}
		})
	}
}

// TestBoxKeysPerSideAndPhase checks that a sealed message opens only as
// the side and phase it was sealed for, under the same key.
func TestBoxKeysPerSideAndPhase(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	b := box{key: key}
	sealed, err := b.seal(cpaceA, phaseOffer, []byte("blob"))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := b.open(cpaceA, phaseOffer, sealed); err != nil || string(plain) != "blob" {
		t.Fatalf("open: %q, %v", plain, err)
	}
	for _, tt := range []struct {
		name        string
		b           box
		side, phase string
	}{
		{"reflected to its sender", b, cpaceB, phaseOffer},
		{"replayed in another phase", b, cpaceA, phaseAnswer},
		{"another key", box{key: bytes.Repeat([]byte{8}, 32)}, cpaceA, phaseOffer},
	} {
		if _, err := tt.b.open(tt.side, tt.phase, sealed); err != errOpen {
			t.Errorf("%s: got %v, want errOpen", tt.name, err)
		}
	}
	for i := range sealed {
		changed := bytes.Clone(sealed)
		changed[i] ^= 0x80
		if _, err := b.open(cpaceA, phaseOffer, changed); err != errOpen {
			t.Fatalf("byte %d changed: got %v, want errOpen", i, err)
		}
	}
}
