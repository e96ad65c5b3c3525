package signal

import "unicode/utf8"

// charAt returns the character that starts at byte i of s and its
// position in s counted in characters, for error messages: one byte of a
// multi-byte character, printed alone, shows as another character
// ("Ã" for the first byte of "é").
func charAt(s string, i int) (rune, int) {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r, utf8.RuneCountInString(s[:i])
}
