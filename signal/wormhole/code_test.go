package wormhole

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWordLists(t *testing.T) {
	seen := map[string]bool{}
	for _, list := range []*[256]string{&oddWords, &evenWords} {
		for _, w := range list {
			if !letters(w) || strings.ToLower(w) != w {
				t.Errorf("word %q is not lowercase letters", w)
			}
			if seen[w] {
				t.Errorf("word %q twice", w)
			}
			seen[w] = true
		}
	}
	// The example, and magic-wormhole's: the first word from the
	// three-syllable list, the second from the two-syllable one.
	if oddWords[0x69] != "guitarist" || evenWords[0xa9] != "revenge" {
		t.Errorf("0x69 is %q, 0xa9 is %q: the lists are not the PGP word list", oddWords[0x69], evenWords[0xa9])
	}
}

func TestParseCode(t *testing.T) {
	tests := []struct {
		in     string
		want   string // the code, or "" for an error
		reason string // part of the error's reason
	}{
		{in: "7-guitarist-revenge", want: "7-guitarist-revenge"},
		{in: "  7-Guitarist-REVENGE\n", want: "7-guitarist-revenge"},
		{in: "7 guitarist revenge", want: "7-guitarist-revenge"},
		{in: "7 - guitarist - revenge", want: "7-guitarist-revenge"},
		{in: "123456-adroitness-aardvark-yucatan-zulu", want: "123456-adroitness-aardvark-yucatan-zulu"},
		{in: "", reason: "empty"},
		{in: "guitarist-revenge", reason: "starts with the number"},
		{in: "7", reason: "0 word(s)"},
		{in: "7-guitarist", reason: "1 word(s)"},
		{in: "07-guitarist-revenge", reason: "not a number the server gives"},
		{in: "12345678-guitarist-revenge", reason: "not a number the server gives"},
		{in: "7-revenge-guitarist", reason: "swapped"},
		{in: "7-guitarst-revenge", reason: `did you mean "guitarist"`},
		{in: "7-guitarist-revneg", reason: `not a code word`},
		{in: "7-xylophone-revenge", reason: "not a code word"},
		{in: "7-a-b-c-d-e-f-g-h-i", reason: "at most"},
		{in: "p2pcam1:AAAA", reason: "starts with the number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := ParseCode(tt.in)
			if tt.want != "" {
				if err != nil || c.String() != tt.want {
					t.Fatalf("got %q, %v; want %q", c, err, tt.want)
				}
				return
			}
			var ce *CodeError
			if !errors.As(err, &ce) || !strings.Contains(ce.Reason, tt.reason) {
				t.Fatalf("got %v, want a CodeError saying %q", err, tt.reason)
			}
		})
	}
}

func TestIsCodeTellsCodesFromBlobs(t *testing.T) {
	codes := []string{"7-guitarist-revenge", "7 guitarist revenge", " 12-a-b ", "7-guitarst-revenge"}
	for _, s := range codes {
		if !IsCode(s) {
			t.Errorf("IsCode(%q) = false", s)
		}
	}
	notCodes := []string{"", "7", "7-", "guitarist-revenge", "7-guitar1st", "eyJ0eXBlIjoib2ZmZXIifQ==", `{"type":"offer"}`, "-"}
	golden, _ := filepath.Glob(filepath.Join("..", "testdata", "golden", "*"))
	if len(golden) == 0 {
		t.Fatal("no blobs in ../testdata/golden")
	}
	for _, name := range golden {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		notCodes = append(notCodes, string(b))
	}
	for _, s := range notCodes {
		if IsCode(s) {
			t.Errorf("IsCode(%.40q) = true", s)
		}
	}
}

func TestNewCode(t *testing.T) {
	for n := MinWords; n <= MaxWords; n++ {
		c, err := newCode("42", n)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseCode(c.String())
		if err != nil || back.String() != c.String() || len(back.Words) != n {
			t.Errorf("%s parses as %q, %v", c, back, err)
		}
	}
}
