package wormhole

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// Limits on the number of words in a code. Each word carries 8 bits: an
// attacker's one guess per code succeeds with probability 2^-(8·words).
const (
	DefaultWords = 2
	MinWords     = 2
	MaxWords     = 8
)

// maxNameplate bounds the digits of a nameplate: the server allocates
// 1–999 and, when those are taken, up to 999999.
const maxNameplate = 7

// Code is a short code: the nameplate the server allocated, which says
// where the two sides meet, and words of the PGP word list, the secret the
// PAKE proves both sides know. Its text is "7-guitarist-revenge".
type Code struct {
	Nameplate string
	Words     []string
}

// String returns the code as people read it: the nameplate and the words
// joined by hyphens.
func (c Code) String() string {
	return c.Nameplate + "-" + strings.Join(c.Words, "-")
}

// newCode returns a code on nameplate with n random words, alternating
// between the three-syllable and the two-syllable list.
func newCode(nameplate string, n int) (Code, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return Code{}, fmt.Errorf("choose code words: %w", err)
	}
	c := Code{Nameplate: nameplate, Words: make([]string, n)}
	for i, v := range b {
		c.Words[i] = wordList(i)[v]
	}
	return c, nil
}

// wordList is the list the i-th word (from 0) of a code comes from.
func wordList(i int) *[256]string {
	if i%2 == 0 {
		return &oddWords
	}
	return &evenWords
}

// IsCode reports whether s has the shape of a code (digits, then words of
// letters, separated by hyphens or spaces), which no blob has: it tells a
// code from a blob without deciding whether the code is valid.
func IsCode(s string) bool {
	parts := split(s)
	if len(parts) < 2 || !digits(parts[0]) {
		return false
	}
	for _, w := range parts[1:] {
		if !letters(w) {
			return false
		}
	}
	return true
}

// ParseCode reads a code as a person types or pastes it: case does not
// matter, and hyphens, spaces or both separate the parts. Each word must
// be from the word list, in its place (the three-syllable list first);
// a misspelt word is reported with the nearest word of the list. Errors
// are *CodeError.
func ParseCode(s string) (Code, error) {
	bad := func(format string, args ...any) (Code, error) {
		return Code{}, &CodeError{Input: s, Reason: fmt.Sprintf(format, args...)}
	}
	if len(s) > 256 {
		return bad("too long for a code")
	}
	parts := split(s)
	if len(parts) == 0 {
		return bad("it is empty")
	}
	np := parts[0]
	if !digits(np) {
		return bad("a code starts with the number the server gave, as in 7-guitarist-revenge")
	}
	if len(np) > maxNameplate || (len(np) > 1 && np[0] == '0') {
		return bad("%s is not a number the server gives", np)
	}
	words := parts[1:]
	if len(words) < MinWords {
		return bad("it has %d word(s) after the number; a code has at least %d", len(words), MinWords)
	}
	if len(words) > MaxWords {
		return bad("it has %d words; a code has at most %d", len(words), MaxWords)
	}
	c := Code{Nameplate: np, Words: make([]string, len(words))}
	for i, w := range words {
		w = strings.ToLower(w)
		if indexOf(wordList(i), w) >= 0 {
			c.Words[i] = w
			continue
		}
		if indexOf(wordList(i+1), w) >= 0 {
			return bad("%q cannot be word %d (two words swapped, or one left out?)", w, i+1)
		}
		if near := nearest(wordList(i), w); near != "" {
			return bad("%q is not a code word (did you mean %q?)", w, near)
		}
		return bad("%q is not a code word", w)
	}
	return c, nil
}

// split cuts s at hyphens and spaces, dropping empty parts.
func split(s string) []string {
	return strings.FieldsFunc(strings.TrimSpace(s), func(r rune) bool {
		return r == '-' || r == ' ' || r == '\t'
	})
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func letters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

func indexOf(list *[256]string, w string) int {
	for i, v := range list {
		if v == w {
			return i
		}
	}
	return -1
}

// nearest returns the word of list within two edits of w, the closest
// first, or "" when none is that close.
func nearest(list *[256]string, w string) string {
	best, bestD := "", 3
	for _, v := range list {
		if d := distance(v, w, bestD); d < bestD {
			best, bestD = v, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b, or max when it is
// at least max.
func distance(a, b string, max int) int {
	if len(a)-len(b) >= max || len(b)-len(a) >= max {
		return max
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], max)
}
