package whip

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// parseICEServers returns the ICE servers announced in Link header values
// with rel="ice-server" (RFC 9725 §4.6), in order:
//
//	Link: <stun:stun.example.net>; rel="ice-server"
//	Link: <turn:turn.example.net?transport=udp>; rel="ice-server";
//	      username="user"; credential="pass"; credential-type="password"
//
// Values follow RFC 8288 §3: several links may share one value, separated
// by commas; parameter names are case-insensitive; values are tokens or
// quoted strings. Links with another relation, a scheme other than
// stun/stuns/turn/turns, a credential type other than "password", or a
// TURN server without credentials are left out, so the result can go
// straight into a webrtc.Configuration. Parsing a value stops at the first
// malformed link; the links before it are kept.
func parseICEServers(values []string) []webrtc.ICEServer {
	var servers []webrtc.ICEServer
	for _, v := range values {
		p := linkParser{s: v}
		for {
			l, ok := p.next()
			if !ok {
				break
			}
			if s, ok := l.iceServer(); ok {
				servers = append(servers, s)
			}
		}
	}
	return servers
}

// link is one parsed link-value: its target and its parameters (names
// lowercased, the first occurrence of each kept).
type link struct {
	target string
	params map[string]string
}

// iceServer converts l when it announces a usable ICE server.
func (l link) iceServer() (webrtc.ICEServer, bool) {
	if !hasRel(l.params["rel"], "ice-server") {
		return webrtc.ICEServer{}, false
	}
	scheme, _, ok := strings.Cut(l.target, ":")
	if !ok {
		return webrtc.ICEServer{}, false
	}
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "stun", "stuns", "turn", "turns":
	default:
		return webrtc.ICEServer{}, false
	}
	if ct, ok := l.params["credential-type"]; ok && !strings.EqualFold(ct, "password") {
		return webrtc.ICEServer{}, false
	}
	s := webrtc.ICEServer{URLs: []string{l.target}}
	user, hasUser := l.params["username"]
	cred, hasCred := l.params["credential"]
	if hasUser || hasCred {
		s.Username = user
		s.Credential = cred
		s.CredentialType = webrtc.ICECredentialTypePassword
	}
	if strings.HasPrefix(scheme, "turn") && (user == "" || !hasCred) {
		return webrtc.ICEServer{}, false
	}
	return s, true
}

// hasRel reports whether the space-separated relation list rels contains
// want (RFC 8288 §3.3, compared case-insensitively).
func hasRel(rels, want string) bool {
	for _, r := range strings.Fields(rels) {
		if strings.EqualFold(r, want) {
			return true
		}
	}
	return false
}

// linkParser walks one Link header value.
type linkParser struct {
	s   string
	pos int
}

// next parses the next link-value; ok is false at the end of the value or
// at a malformed link.
func (p *linkParser) next() (l link, ok bool) {
	// Empty list elements are allowed (RFC 9110 §5.6.1).
	for p.pos < len(p.s) && (isSpace(p.s[p.pos]) || p.s[p.pos] == ',') {
		p.pos++
	}
	if p.pos >= len(p.s) || p.s[p.pos] != '<' {
		return link{}, false
	}
	end := strings.IndexByte(p.s[p.pos+1:], '>')
	if end < 0 {
		return link{}, false
	}
	l.target = strings.TrimSpace(p.s[p.pos+1 : p.pos+1+end])
	p.pos += end + 2
	l.params = map[string]string{}
	for {
		p.skipSpace()
		if p.pos >= len(p.s) {
			return l, true
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
			return l, true
		case ';':
			p.pos++
		default:
			p.pos = len(p.s)
			return link{}, false
		}
		p.skipSpace()
		name := strings.ToLower(p.token())
		if name == "" {
			p.pos = len(p.s)
			return link{}, false
		}
		p.skipSpace()
		value := ""
		if p.pos < len(p.s) && p.s[p.pos] == '=' {
			p.pos++
			p.skipSpace()
			if p.pos < len(p.s) && p.s[p.pos] == '"' {
				v, ok := p.quoted()
				if !ok {
					p.pos = len(p.s)
					return link{}, false
				}
				value = v
			} else {
				value = p.token()
			}
		}
		if _, seen := l.params[name]; !seen {
			l.params[name] = value
		}
	}
}

func (p *linkParser) skipSpace() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

// token reads up to the next delimiter of a link-param.
func (p *linkParser) token() string {
	start := p.pos
	for p.pos < len(p.s) {
		switch c := p.s[p.pos]; {
		case c == ';', c == ',', c == '=', c == '"', isSpace(c):
			return p.s[start:p.pos]
		}
		p.pos++
	}
	return p.s[start:p.pos]
}

// quoted reads a quoted-string (RFC 9110 §5.6.4) starting at its opening
// quote and returns its unescaped content.
func (p *linkParser) quoted() (string, bool) {
	var b strings.Builder
	for i := p.pos + 1; i < len(p.s); i++ {
		switch c := p.s[i]; c {
		case '\\':
			if i+1 >= len(p.s) {
				return "", false
			}
			i++
			b.WriteByte(p.s[i])
		case '"':
			p.pos = i + 1
			return b.String(), true
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }
