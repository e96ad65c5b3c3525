package signal

import (
	"bytes"
	"testing"
)

func TestEveryKindHasACodec(t *testing.T) {
	for k, c := range kinds {
		if c.encode == nil || c.decode == nil {
			t.Errorf("kind %d lacks an encode or decode function", k)
		}
	}
}

// TestValuesRoundTrip: a canonical token decodes back to itself; a
// non-canonical one is refused, so the SDP keeps it as text.
func TestValuesRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		kind      int
		tok       string
		canonical bool
	}{
		{kindU32, "4294967295", true},
		{kindU32, "4294967296", false},
		{kindU32, "007", false},
		{kindU64, "18446744073709551615", true},
		{kindU64, "+1", false},
		{kindPort, "65535", true},
		{kindPort, "65536", false},
		{kindAddr, "192.0.2.1", true},
		{kindAddr, "2001:db8::1", true},
		{kindAddr, "2001:DB8::1", false},
		{kindAddr, "fe80::1%eth0", false},
		{kindAddr, "0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6.local", true},
		{kindICE, "a", true},
		{kindICE, "AbC+/09zz", true},
		{kindICE, "no-dash", false},
		{kindHex, "AB:CD:EF", true},
		{kindHex, "ab:cd", false},
		{kindUUID, "0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6", true},
		{kindUUID, "0D1E2F3A-4B5C-4D6E-8F90-A1B2C3D4E5F6", false},
	} {
		b, ok := kinds[tc.kind].encode(tc.tok)
		if ok != tc.canonical {
			t.Errorf("kind %d: encode(%q) ok = %v; want %v", tc.kind, tc.tok, ok, tc.canonical)
			continue
		}
		if !ok {
			continue
		}
		r := bytes.NewReader(b)
		got, err := kinds[tc.kind].decode(r)
		if err != nil || got != tc.tok || r.Len() != 0 {
			t.Errorf("kind %d: decode(encode(%q)) = %q, %v, %d bytes left", tc.kind, tc.tok, got, err, r.Len())
		}
		if _, err := kinds[tc.kind].decode(bytes.NewReader(b[:len(b)-1])); err == nil {
			t.Errorf("kind %d: decoding %q cut by a byte succeeded", tc.kind, tc.tok)
		}
	}
}
