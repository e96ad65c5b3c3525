package paste

// Other is something a person may give an answering side instead of the
// offer blob, such as a short code: Takes tells it from a bad blob by its
// shape, Name says what it is in the prompt ("the code").
type Other struct {
	Name  string
	Takes func(text string) bool
}

// OtherError ends ExchangeAnswer when the person gave, at the prompt or on
// the pipe, the Other the Signaler takes instead of an offer blob; Text is
// what they gave, trimmed. The caller goes on with it.
type OtherError struct {
	Text string
}

func (e *OtherError) Error() string { return "not an offer blob but " + e.Text }

// takes reports whether o takes text (trimmed), when there is an o.
func (o *Other) takes(text string) bool {
	return o != nil && o.Takes != nil && o.Takes(text)
}
