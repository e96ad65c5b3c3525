package serve

import (
	"errors"
	"fmt"

	"github.com/pion/sdp/v3"
)

// checkOffer refuses an offer that is not SDP, or asks for more than a
// viewer needs: more than maxSections media sections, or more than
// maxCandidates remote candidates (each one is an address this side
// would send connectivity checks to: a reflection lever).
func checkOffer(offer string) error {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return fmt.Errorf("the offer is not an sdp session description: %w", err)
	}
	if n := len(d.MediaDescriptions); n > maxSections {
		return fmt.Errorf("the offer has %d media sections; a viewer needs at most %d", n, maxSections)
	}
	if len(d.MediaDescriptions) == 0 {
		return errors.New("the offer has no media section")
	}
	n := 0
	for _, a := range d.Attributes {
		if a.Key == "candidate" {
			n++
		}
	}
	for _, m := range d.MediaDescriptions {
		for _, a := range m.Attributes {
			if a.Key == "candidate" {
				n++
			}
		}
	}
	if n > maxCandidates {
		return fmt.Errorf("the offer has %d candidates; at most %d are taken", n, maxCandidates)
	}
	return nil
}
