#!/usr/bin/env python3
"""Writes the hand-made SDPs in sdp/ (see README.md). Run in testdata/."""

HEAD = """v=0
o=- 4611731400430051336 1732518243 IN IP4 0.0.0.0
s=-
t=0 0
a=msid-semantic:WMS *
a=fingerprint:sha-256 3C:4E:8A:1F:90:D2:B7:65:0A:E3:5C:21:7F:44:C8:9B:12:6D:F0:AB:38:E5:91:0C:7A:2B:D4:66:83:F1:5E:09
a=extmap-allow-mixed
a=cryptex
a=group:BUNDLE 0
m=video 9 UDP/TLS/RTP/SAVPF 96
c=IN IP4 0.0.0.0
a=setup:actpass
a=mid:0
a=ice-ufrag:kQvTzRbNwHmLpXcY
a=ice-pwd:JdWfGhTsKaPlQmZnXcVbRyEuIoUtYrEw
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtcp-fb:96 transport-cc
a=extmap:1 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=ssrc:2493104857 cname:p2pcam
a=ssrc:2493104857 msid:p2pcam video
a=ssrc:2493104857 mslabel:p2pcam
a=ssrc:2493104857 label:video
a=msid:p2pcam video
a=sendonly
""".splitlines()
UFRAG = "kQvTzRbNwHmLpXcY"
HOST = 2130706431


def cand(found, proto, prio, addr, port, typ, extra=""):
    """Both component lines of one candidate, as pion writes them."""
    out = []
    for comp in (1, 2):
        s = f"a=candidate:{found} {comp} {proto} {prio} {addr} {port} typ {typ}"
        if extra:
            s += " " + extra
        out.append(s + f" ufrag {UFRAG} generation 0")
    return out


CANDS = {
    "h1": cand(3401129576, "udp", HOST, "192.168.1.23", 50001, "host"),
    "h2": cand(1270145911, "udp", HOST, "10.8.0.2", 50002, "host"),
    "h3": cand(2917346521, "udp", HOST, "172.17.0.1", 50003, "host"),
    "h6a": cand(907145273, "udp", HOST, "2001:db8:85a3::8a2e:370:7334", 50004, "host"),
    "h6b": cand(1840276651, "udp", HOST, "fd00::1c2b:3aff:fe4d:5e6f", 50005, "host"),
    "mdns": cand(4120458810, "udp", HOST, "8b3c62e1-5f0a-4c7d-9e21-6a4f0b7d3c95.local", 50006, "host"),
    "tcp": cand(2203951432, "tcp", 1671430143, "192.168.1.23", 9, "host", "tcptype active"),
    "srflx": cand(656204617, "udp", 1694498815, "203.0.113.7", 61234, "srflx", "raddr 192.168.1.23 rport 50001"),
    "relay": cand(2388001524, "udp", 16777215, "198.51.100.9", 49152, "relay", "raddr 203.0.113.7 rport 61234"),
}
SETS = {
    "offer-2": ["h1", "srflx"],
    "offer-4": ["h1", "h2", "h3", "h6a"],
    "offer-8": ["h1", "h2", "h6a", "h6b", "mdns", "tcp", "srflx", "relay"],
}


def write(name, lines):
    with open(f"sdp/{name}.sdp", "w", newline="") as f:
        f.write("\r\n".join(lines) + "\r\n")


for name, keys in SETS.items():
    write(name, HEAD + [l for k in keys for l in CANDS[k]] + ["a=end-of-candidates"])

answer = [l for l in HEAD if not l.startswith(("a=ssrc", "a=msid:"))]
answer = [l.replace("a=setup:actpass", "a=setup:active").replace("a=sendonly", "a=recvonly") for l in answer]
write("answer-2", answer + CANDS["h1"] + CANDS["srflx"] + ["a=end-of-candidates"])

# The same answer as p2pcam prints it: naming offer-2 (every offer here has
# the same ufrag and fingerprint) in a=p2pcam-offer, before the m= line.
import hashlib

FP = next(l for l in HEAD if l.startswith("a=fingerprint:")).split(":", 1)[1]
tag = hashlib.sha256(f"p2pcam offer tag v1\n{UFRAG}\n{FP}".encode()).digest()[:4]
tagged = list(answer)
tagged.insert(tagged.index("m=video 9 UDP/TLS/RTP/SAVPF 96"), "a=p2pcam-offer:" + ":".join(f"{b:02X}" for b in tag))
write("answer-2-tagged", tagged + CANDS["h1"] + CANDS["srflx"] + ["a=end-of-candidates"])
