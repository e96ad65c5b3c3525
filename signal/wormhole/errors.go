package wormhole

import (
	"errors"
	"fmt"
)

// Errors an exchange returns, matched with errors.Is; each message reads
// as the tail of a one-line report, and each calls for different advice.
var (
	// ErrWrongCode means the two sides did not hold the same code: the
	// other side's messages do not open under the key the PAKE gave this
	// side, or the other side said the same of ours. A typo, or someone
	// who tried to guess the code (and used up its one guess).
	ErrWrongCode = errors.New("the code did not match: a typo, or someone tried to guess it")
	// ErrTampered means a message opened with the code's key before, but a
	// later one did not: it was changed on the way.
	ErrTampered = errors.New("a message was changed on the way through the rendezvous server")
	// ErrCrowded means two other sides already hold the code's nameplate:
	// the code is in use (or was used and not yet released).
	ErrCrowded = errors.New("the code is already in use by two other sides")
	// ErrNoSuchCode means nobody is waiting behind the code's nameplate:
	// it was mistyped, has expired, or was used already.
	ErrNoSuchCode = errors.New("nobody is waiting with this code: it was mistyped, has expired, or was used already")
	// ErrTimeout means the other side did not arrive, or did not finish
	// the exchange, within the time allowed.
	ErrTimeout = errors.New("the other side did not come in time")
	// ErrPeerGone means the other side stopped during the exchange (it
	// was interrupted, or failed to make its description).
	ErrPeerGone = errors.New("the other side stopped before the exchange was done")

	// ErrUnreachable means no connection to the server could be made.
	ErrUnreachable = errors.New("cannot reach it")
	// ErrRefused means the server turned the client away with a message
	// in its welcome (ServerError.Message says what).
	ErrRefused = errors.New("it refused the connection")
	// ErrProofOfWork means the server asks for a proof of work (hashcash)
	// before it serves a client, which p2pcam does not do.
	ErrProofOfWork = errors.New("it asks for a proof of work, which p2pcam does not do")
	// ErrServerGone means the connection to the server dropped before the
	// exchange was done.
	ErrServerGone = errors.New("it went away during the exchange")
	// ErrProtocol means the server said something the mailbox protocol
	// does not (ServerError.Message holds its words when it sent an
	// error).
	ErrProtocol = errors.New("it does not speak magic-wormhole's mailbox protocol as expected")
)

// ServerError is a failure of the rendezvous server or of the way to it.
// It wraps one of ErrUnreachable, ErrRefused, ErrProofOfWork,
// ErrServerGone or ErrProtocol, and names the server.
type ServerError struct {
	// URL is the server's address.
	URL string
	// Message is what the server said, when it said something.
	Message string
	// Err is the sentinel, possibly wrapping the cause.
	Err error
}

func (e *ServerError) Error() string {
	s := fmt.Sprintf("rendezvous server %s: %v", e.URL, e.Err)
	if e.Message != "" {
		s += fmt.Sprintf(" (it says: %s)", e.Message)
	}
	return s
}

func (e *ServerError) Unwrap() error { return e.Err }

// CodeError reports text that is not a p2pcam code.
type CodeError struct {
	// Input is the text as given.
	Input string
	// Reason says what is wrong, e.g. `"guitarst" is not a code word
	// (did you mean "guitarist"?)`.
	Reason string
}

func (e *CodeError) Error() string {
	return fmt.Sprintf("%q is not a code: %s", e.Input, e.Reason)
}
