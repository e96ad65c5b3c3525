package serve

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// A token the user gives (so that the page's URL survives restarts) must
// be as hard to guess as the random one NewToken draws: at least
// MinTokenBits, estimated from its length and the smallest usual alphabet
// that holds all its characters (hex, base32, base64url).
const (
	MinTokenBits = 128
	maxTokenLen  = 128
)

// ErrWeakToken means a given token is too short, has characters a URL path
// would have to escape, or repeats too few characters to be random.
var ErrWeakToken = errors.New("the token is too weak")

// tokenChars are the characters a token may have: RFC 3986's unreserved
// characters, which a path carries as they are.
const tokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

// CheckToken returns nil when tok may serve as the secret in every URL,
// and an error wrapping ErrWeakToken saying why not otherwise.
func CheckToken(tok string) error {
	if len(tok) > maxTokenLen {
		return fmt.Errorf("%w: longer than %d characters", ErrWeakToken, maxTokenLen)
	}
	distinct := map[rune]bool{}
	for _, r := range tok {
		if !strings.ContainsRune(tokenChars, r) {
			return fmt.Errorf("%w: %q cannot stand in a URL path as it is; use letters, digits and - . _ ~", ErrWeakToken, r)
		}
		distinct[r] = true
	}
	if bits := TokenBits(tok); bits < MinTokenBits {
		return fmt.Errorf("%w: about %d bits; it needs at least %d (e.g. 32 hex digits: openssl rand -hex 16)", ErrWeakToken, int(bits), MinTokenBits)
	}
	if len(distinct) < 8 {
		return fmt.Errorf("%w: only %d different characters; a random one has many more", ErrWeakToken, len(distinct))
	}
	return nil
}

// TokenBits estimates the bits of a random token spelled like tok: its
// length times the bits per character of the smallest alphabet among
// decimal, hex, base32, base64url and RFC 3986's unreserved characters
// that holds every character of it.
func TokenBits(tok string) float64 {
	alphabets := []string{
		"0123456789",
		"0123456789abcdef",
		"0123456789ABCDEF",
		"abcdefghijklmnopqrstuvwxyz234567",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
		tokenChars,
	}
	for _, a := range alphabets {
		if strings.Trim(tok, a) == "" {
			return float64(len(tok)) * math.Log2(float64(len(a)))
		}
	}
	return 0
}
