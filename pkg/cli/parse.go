package cli

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/pion/webrtc/v4"
)

// defaultSTUN is the public STUN server used when no --ice-server is given.
const defaultSTUN = "stun:stun.l.google.com:19302"

// parseBitrate reads "800k", "2.5M", "1500000" or "900kbps" as bits per
// second.
func parseBitrate(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "bps"), "bit/s")
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1e3, strings.TrimSuffix(t, "k")
	case strings.HasSuffix(t, "m"):
		mult, t = 1e6, strings.TrimSuffix(t, "m")
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("bad bitrate %q: use bits per second like 800k, 2.5M or 1500000", s)
	}
	bps := v * mult
	if bps < 50e3 || bps > 50e6 {
		return 0, fmt.Errorf("bitrate %q out of range: use 50k to 50M", s)
	}
	return int(bps), nil
}

// formatBitrate writes bps the way parseBitrate reads it: 1.5M, 800k.
func formatBitrate(bps int) string {
	if bps >= 1_000_000 {
		return strconv.FormatFloat(float64(bps)/1e6, 'g', -1, 64) + "M"
	}
	return strconv.FormatFloat(float64(bps)/1e3, 'g', -1, 64) + "k"
}

// parseICEServers turns --ice-server values into pion's form. "none" (alone)
// means no servers. TURN credentials come inline (turn:user:pass@host:port)
// or from user and pass.
func parseICEServers(urls []string, user, pass string) ([]webrtc.ICEServer, error) {
	if len(urls) == 1 && urls[0] == "none" {
		return nil, nil
	}
	var out []webrtc.ICEServer
	for _, raw := range urls {
		srv, err := parseICEServer(raw, user, pass)
		if err != nil {
			return nil, err
		}
		out = append(out, srv)
	}
	return out, nil
}

func parseICEServer(raw, user, pass string) (webrtc.ICEServer, error) {
	if raw == "none" {
		return webrtc.ICEServer{}, fmt.Errorf("bad ICE server %q: none must be the only --ice-server", raw)
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok || rest == "" {
		return webrtc.ICEServer{}, fmt.Errorf("bad ICE server %q: use stun:HOST:PORT or turn:[USER:PASS@]HOST:PORT[?transport=udp|tcp]", raw)
	}
	switch scheme {
	case "stun", "stuns":
		if strings.Contains(rest, "@") || strings.Contains(rest, "?") {
			return webrtc.ICEServer{}, fmt.Errorf("bad ICE server %q: a STUN server takes no credentials or options", raw)
		}
		if err := checkHostPort(raw, rest); err != nil {
			return webrtc.ICEServer{}, err
		}
		return webrtc.ICEServer{URLs: []string{raw}}, nil
	case "turn", "turns":
	default:
		return webrtc.ICEServer{}, fmt.Errorf("bad ICE server %q: use a stun: or turn: URL", raw)
	}
	if cred, hostport, found := strings.Cut(rest, "@"); found {
		u, p, ok := strings.Cut(cred, ":")
		if !ok || u == "" {
			return webrtc.ICEServer{}, fmt.Errorf("bad ICE server %q: inline credentials are USER:PASS@", raw)
		}
		var err error
		if user, err = url.PathUnescape(u); err != nil {
			return webrtc.ICEServer{}, fmt.Errorf("bad ICE server %q: %w", raw, err)
		}
		if pass, err = url.PathUnescape(p); err != nil {
			return webrtc.ICEServer{}, fmt.Errorf("bad ICE server %q: %w", raw, err)
		}
		rest = hostport
	}
	hostport, query, _ := strings.Cut(rest, "?")
	if err := checkHostPort(raw, hostport); err != nil {
		return webrtc.ICEServer{}, err
	}
	if query != "" && query != "transport=udp" && query != "transport=tcp" {
		return webrtc.ICEServer{}, fmt.Errorf("bad ICE server %q: the only option is ?transport=udp or ?transport=tcp", raw)
	}
	if user == "" || pass == "" {
		return webrtc.ICEServer{}, fmt.Errorf("TURN server %q needs credentials: add --ice-user and --ice-password, or write turn:USER:PASS@HOST:PORT", raw)
	}
	u := scheme + ":" + hostport
	if query != "" {
		u += "?" + query
	}
	return webrtc.ICEServer{URLs: []string{u}, Username: user, Credential: pass}, nil
}

func checkHostPort(raw, hp string) error {
	host, port := hp, ""
	if i := strings.LastIndex(hp, ":"); i >= 0 && !strings.HasSuffix(hp, "]") {
		host, port = hp[:i], hp[i+1:]
	}
	if host == "" || strings.ContainsAny(host, " /") {
		return fmt.Errorf("bad ICE server %q: missing host", raw)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("bad ICE server %q: bad port %q", raw, port)
		}
	}
	return nil
}
