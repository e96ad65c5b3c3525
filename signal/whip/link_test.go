package whip

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestParseICEServers(t *testing.T) {
	stun := func(u string) webrtc.ICEServer { return webrtc.ICEServer{URLs: []string{u}} }
	turn := func(u, user, cred string) webrtc.ICEServer {
		return webrtc.ICEServer{URLs: []string{u}, Username: user, Credential: cred, CredentialType: webrtc.ICECredentialTypePassword}
	}
	tests := []struct {
		name   string
		values []string
		want   []webrtc.ICEServer
	}{
		{"none", nil, nil},
		{"rfc 9725 example", []string{
			`<stun:stun.example.net>; rel="ice-server"`,
			`<turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; credential="myPassword"; credential-type="password"`,
			`<turn:turn.example.net?transport=tcp>; rel="ice-server"; username="user"; credential="myPassword"; credential-type="password"`,
			`<turns:turn.example.net?transport=tcp>; rel="ice-server"; username="user"; credential="myPassword"; credential-type="password"`,
		}, []webrtc.ICEServer{
			stun("stun:stun.example.net"),
			turn("turn:turn.example.net?transport=udp", "user", "myPassword"),
			turn("turn:turn.example.net?transport=tcp", "user", "myPassword"),
			turn("turns:turn.example.net?transport=tcp", "user", "myPassword"),
		}},
		{"several links in one value", []string{
			`<stun:a.example>; rel="ice-server", <stun:b.example>;rel=ice-server`,
		}, []webrtc.ICEServer{stun("stun:a.example"), stun("stun:b.example")}},
		{"mediamtx form", []string{
			`<turn:127.0.0.1:3478>; rel="ice-server"; username="u\"q"; credential="p\\w"; credential-type="password"`,
		}, []webrtc.ICEServer{turn("turn:127.0.0.1:3478", `u"q`, `p\w`)}},
		{"comma and semicolon inside quotes", []string{
			`<turn:t.example>; rel="ice-server"; username="a,b;c"; credential="x, y"`,
		}, []webrtc.ICEServer{turn("turn:t.example", "a,b;c", "x, y")}},
		{"case-insensitive names and rel list", []string{
			`<stun:a.example>; REL="preconnect ICE-SERVER"`,
		}, []webrtc.ICEServer{stun("stun:a.example")}},
		{"whitespace everywhere", []string{
			"  < stun:a.example >\t;\trel = \"ice-server\"  ,  ",
		}, []webrtc.ICEServer{stun("stun:a.example")}},
		{"other relations left out", []string{
			`<https://example.com/whip/abc>; rel="urn:ietf:params:whip:ice-server"`,
			`<stun:a.example>; rel="preconnect"`,
			`<stun:b.example>`,
		}, nil},
		{"first rel wins", []string{
			`<stun:a.example>; rel="ice-server"; rel="other"`,
			`<stun:b.example>; rel="other"; rel="ice-server"`,
		}, []webrtc.ICEServer{stun("stun:a.example")}},
		{"non-ice schemes left out", []string{
			`<https://a.example>; rel="ice-server"`,
			`<a.example>; rel="ice-server"`,
		}, nil},
		{"turn without credentials left out", []string{
			`<turn:t.example>; rel="ice-server"`,
			`<turn:t.example>; rel="ice-server"; username="u"`,
		}, nil},
		{"oauth credential type left out", []string{
			`<turn:t.example>; rel="ice-server"; username="u"; credential="c"; credential-type="oauth"`,
		}, nil},
		{"stun with credentials kept", []string{
			`<stun:a.example>; rel="ice-server"; username="u"; credential="c"`,
		}, []webrtc.ICEServer{turn("stun:a.example", "u", "c")}},
		{"malformed link ends its value, keeps earlier ones and other values", []string{
			`<stun:a.example>; rel="ice-server", <stun:b.example; rel="ice-server"`,
			`<stun:c.example>; rel="ice-server"; username="unterminated`,
			`garbage, <stun:d.example>; rel="ice-server"`,
			`<stun:e.example>; rel="ice-server"`,
		}, []webrtc.ICEServer{stun("stun:a.example"), stun("stun:e.example")}},
		{"valueless parameter", []string{
			`<stun:a.example>; anchor; rel="ice-server"`,
		}, []webrtc.ICEServer{stun("stun:a.example")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseICEServers(tt.values)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseICEServers(%q)\n got %#v\nwant %#v", tt.values, got, tt.want)
			}
		})
	}
}

// FuzzParseICEServers checks that any Link value parses without panicking
// into servers pion accepts in a configuration, and that the servers
// mediamtx-style marshalling writes parse back unchanged.
func FuzzParseICEServers(f *testing.F) {
	f.Add(`<stun:stun.example.net>; rel="ice-server"`, "user", "pa\"ss")
	f.Add(`<turn:t.example?transport=udp>; rel="ice-server"; username="u"; credential="c"; credential-type="password", <stun:x>;rel=ice-server`, "", "")
	f.Add(`<stun:a>; rel="ice-server"; username="\`, "a,b", "c;d")
	f.Add(`<<>>;;;,,=""`, "\\", "\"")
	f.Fuzz(func(t *testing.T, value, user, cred string) {
		for _, s := range parseICEServers([]string{value}) {
			if len(s.URLs) != 1 || s.URLs[0] == "" {
				t.Fatalf("server %#v: want exactly one url", s)
			}
			if strings.HasPrefix(strings.ToLower(s.URLs[0]), "turn") && (s.Username == "" || s.Credential == nil) {
				t.Fatalf("turn server %#v without credentials", s)
			}
		}
		if user == "" || strings.ContainsAny(user+cred, "\x00") {
			return
		}
		q := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
		link := `<turn:t.example:3478>; rel="ice-server"; username="` + q.Replace(user) +
			`"; credential="` + q.Replace(cred) + `"; credential-type="password"`
		got := parseICEServers([]string{link})
		want := []webrtc.ICEServer{{URLs: []string{"turn:t.example:3478"}, Username: user, Credential: cred, CredentialType: webrtc.ICECredentialTypePassword}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip of %q:\n got %#v\nwant %#v", link, got, want)
		}
	})
}
