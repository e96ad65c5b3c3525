package serve

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckToken: tokens of 128 bits or more in URL-safe characters pass;
// short, repetitive or escaped ones do not.
func TestCheckToken(t *testing.T) {
	tests := []struct {
		name string
		tok  string
		ok   bool
	}{
		{"NewToken's", NewToken(), true},
		{"32 hex digits", "0f3a9c5be1d2478a6b0c9e3f5a7d1b2c", true},
		{"31 hex digits", "0f3a9c5be1d2478a6b0c9e3f5a7d1b2", false},
		{"22 base64url characters", "Zq3_x9-KpL2mVb7TnR4wYe", true},
		{"21 base64url characters", "Zq3_x9-KpL2mVb7TnR4wY", false},
		{"a word", "secret", false},
		{"empty", "", false},
		{"one character repeated", strings.Repeat("a", 64), false},
		{"a slash", "0f3a9c5be1d2478a/6b0c9e3f5a7d1b2c", false},
		{"a percent sign", "0f3a9c5be1d2478a%6b0c9e3f5a7d1b2c", false},
		{"a space", "0f3a9c5be1d2478a 6b0c9e3f5a7d1b2c", false},
		{"too long", strings.Repeat("0123456789abcdef", 9), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckToken(tt.tok)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckToken(%q) = %v; want ok=%v", tt.tok, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrWeakToken) {
				t.Fatalf("CheckToken(%q) = %v; want ErrWeakToken", tt.tok, err)
			}
		})
	}
}
