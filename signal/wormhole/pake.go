package wormhole

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"

	"filippo.io/cpace"
	"golang.org/x/crypto/chacha20poly1305"
)

// PAKE is a password-authenticated key exchange in two messages: the
// offering side starts it, the answering side replies, and both get the
// same key when they used the same password and binding, unrelated keys
// otherwise (a wrong password is not an error here: it shows when a
// message sealed under one key does not open under the other). Someone
// who sees or changes the messages learns nothing that lets them test a
// password offline: they get one guess per exchange.
type PAKE interface {
	// Start makes the first message for password, bound to binding, and
	// returns the function that turns the reply into the key.
	Start(password string, binding []byte) (msg []byte, finish func(reply []byte) (key []byte, err error), err error)
	// Reply answers the first message msg and returns this side's reply
	// and the key.
	Reply(password string, binding []byte, msg []byte) (reply, key []byte, err error)
}

// CPace is the PAKE p2pcam uses: CPace over ristretto255
// (filippo.io/cpace, after draft-haase-cpace-01), with the offering side
// as party A and the answering side as party B.
type CPace struct{}

// cpaceA and cpaceB name the two parties in CPace's context.
const (
	cpaceA = "offer"
	cpaceB = "answer"
)

// Start implements PAKE.
func (CPace) Start(password string, binding []byte) ([]byte, func([]byte) ([]byte, error), error) {
	msg, s, err := cpace.Start(password, cpace.NewContextInfo(cpaceA, cpaceB, binding))
	if err != nil {
		return nil, nil, fmt.Errorf("start cpace: %w", err)
	}
	return msg, s.Finish, nil
}

// Reply implements PAKE.
func (CPace) Reply(password string, binding []byte, msg []byte) ([]byte, []byte, error) {
	return cpace.Exchange(password, cpace.NewContextInfo(cpaceA, cpaceB, binding), msg)
}

// binding is what the PAKE is bound to: p2pcam's application ID and the
// nameplate, so that a key made for another application or another
// nameplate is another key.
func binding(appID, nameplate string) []byte {
	return []byte(appID + "\x00" + nameplate)
}

// Phases of the exchange: each side sends each at most once.
const (
	phasePAKE    = "pake"    // the PAKE message, in clear
	phaseConfirm = "confirm" // sealed confirmText: proves the key
	phaseOffer   = "offer"   // sealed offer blob (offering side)
	phaseAnswer  = "answer"  // sealed answer blob (answering side)
	phaseDone    = "done"    // sealed, empty: the offering side has the answer
	phaseError   = "error"   // in clear: why this side gave up (errWrongCode...)
)

// Reasons sent in clear in phaseError. A server can forge them, but one
// that wants to stop a call can do that anyway.
const (
	reasonWrongCode = "wrong-code"
	reasonTampered  = "tampered"
	reasonStopped   = "stopped"
)

// confirmText is what each side seals in phaseConfirm.
const confirmText = "p2pcam sdp-v1 key confirmation"

// errOpen means a sealed message did not open: wrong key, or changed.
var errOpen = errors.New("message does not open")

// box seals and opens one exchange's messages. The key of each message is
// derived from the PAKE's key, the sending side and the phase (HKDF-SHA256,
// RFC 5869), so no key seals two messages and a message cannot be
// reflected to its sender or replayed in another phase; each key is used
// once, so the AEAD (ChaCha20-Poly1305, RFC 8439) takes a zero nonce.
type box struct {
	key []byte
}

// phaseKey derives the key side (cpaceA or cpaceB) seals phase under.
func (b box) phaseKey(side, phase string) ([]byte, error) {
	return hkdf.Key(sha256.New, b.key, nil, AppID+"/"+side+"/"+phase, chacha20poly1305.KeySize)
}

// aead returns the cipher for side's message of phase, keyed by phaseKey.
func (b box) aead(side, phase string) (cipher.AEAD, error) {
	k, err := b.phaseKey(side, phase)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	aead, err := chacha20poly1305.New(k)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	return aead, nil
}

// seal encrypts and authenticates plain as side's message of phase.
func (b box) seal(side, phase string, plain []byte) ([]byte, error) {
	aead, err := b.aead(side, phase)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	return aead.Seal(nil, nonce, plain, []byte(phase)), nil
}

// open checks and decrypts side's message of phase; errOpen when it is not
// one sealed under this exchange's key.
func (b box) open(side, phase string, sealed []byte) ([]byte, error) {
	aead, err := b.aead(side, phase)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	plain, err := aead.Open(nil, nonce, sealed, []byte(phase))
	if err != nil {
		return nil, errOpen
	}
	return plain, nil
}
