package signal

// compactDict is the DEFLATE preset dictionary for compact skeletons
// (RFC 1951 §3.2.5 distances reach into it): the skeleton of a typical
// p2pcam offer and answer, VP8 only, with markers where per-session values
// go. Rarer lines come first, the most likely text last, because nearer
// matches cost fewer bits. It is part of format version 1: changing it
// breaks every blob in the wild, so a change needs a new version.
const compactDict = "" +
	"a=ssrc-group:FID \x10 \x10\r\n" +
	"a=ssrc:\x10 cname:\r\n" +
	"a=msid:- \x16\r\n" +
	"a=inactive\r\n" +
	"a=setup:passive\r\n" +
	"a=candidate:\x10 1 tcp \x10 \x13 9 typ host tcptype active ufrag \x1c\x00 generation 0\r\n" +
	"a=candidate:\x10 1 tcp \x10 \x13 \x12 typ host tcptype passive ufrag \x1c\x00 generation 0\r\n" +
	"a=candidate:\x10 1 udp \x10 \x13 \x12 typ prflx raddr \x1b\x00 rport \x1a\x00 ufrag \x1c\x00 generation 0\r\n" +
	"a=candidate:\x10 1 udp \x10 \x13 \x12 typ relay raddr \x1b\x01 rport \x1a\x01 ufrag \x1c\x00 generation 0\r\n" +
	"a=candidate:\x10 1 udp \x10 \x13 \x12 typ srflx raddr \x1b\x00 rport \x1a\x00 ufrag \x1c\x00 generation 0\r\n" +
	"a=candidate:\x10 1 udp \x10 \x13 \x12 typ srflx raddr 0.0.0.0 rport 0 ufrag \x1c\x00 generation 0\r\n" +
	"v=0\r\n" +
	"o=- \x11 \x11 IN IP4 0.0.0.0\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=msid-semantic:WMS *\r\n" +
	"a=fingerprint:sha-256 \x15\r\n" +
	"a=extmap-allow-mixed\r\n" +
	"a=cryptex\r\n" +
	"a=group:BUNDLE 0\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=setup:active\r\n" +
	"a=mid:0\r\n" +
	"a=ice-ufrag:\x14\r\n" +
	"a=ice-pwd:\x14\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtcp-rsize\r\n" +
	"a=rtpmap:96 VP8/90000\r\n" +
	"a=rtcp-fb:96 goog-remb\r\n" +
	"a=rtcp-fb:96 ccm fir\r\n" +
	"a=rtcp-fb:96 nack\r\n" +
	"a=rtcp-fb:96 nack pli\r\n" +
	"a=rtcp-fb:96 transport-cc\r\n" +
	"a=extmap:1 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
	"a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:mid\r\n" +
	"a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n" +
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n" +
	"a=recvonly\r\n" +
	"a=candidate:\x10 1 udp \x10 \x13 \x12 typ host ufrag \x1c\x00 generation 0\r\n" +
	"a=candidate:\x18\x00 2 udp \x18\x01 \x1b\x00 \x1a\x00 typ host ufrag \x1c\x00 generation 0\r\n" +
	"a=end-of-candidates\r\n" +
	"v=0\r\n" +
	"o=- \x11 \x11 IN IP4 0.0.0.0\r\n" +
	"s=-\r\n" +
	"t=0 0\r\n" +
	"a=msid-semantic:WMS *\r\n" +
	"a=fingerprint:sha-256 \x15\r\n" +
	"a=extmap-allow-mixed\r\n" +
	"a=cryptex\r\n" +
	"a=group:BUNDLE 0\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" +
	"c=IN IP4 0.0.0.0\r\n" +
	"a=setup:actpass\r\n" +
	"a=mid:0\r\n" +
	"a=ice-ufrag:\x14\r\n" +
	"a=ice-pwd:\x14\r\n" +
	"a=rtcp-mux\r\n" +
	"a=rtcp-rsize\r\n" +
	"a=rtpmap:96 VP8/90000\r\n" +
	"a=rtcp-fb:96 goog-remb\r\n" +
	"a=rtcp-fb:96 ccm fir\r\n" +
	"a=rtcp-fb:96 nack\r\n" +
	"a=rtcp-fb:96 nack pli\r\n" +
	"a=rtcp-fb:96 transport-cc\r\n" +
	"a=extmap:1 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
	"a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:mid\r\n" +
	"a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n" +
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n" +
	"a=ssrc:\x10 cname:p2pcam\r\n" +
	"a=ssrc:\x18\x00 msid:p2pcam video\r\n" +
	"a=ssrc:\x18\x00 mslabel:p2pcam\r\n" +
	"a=ssrc:\x18\x00 label:video\r\n" +
	"a=msid:p2pcam video\r\n" +
	"a=sendonly\r\n" +
	"a=sendrecv\r\n" +
	"a=candidate:\x10 1 udp \x10 \x13 \x12 typ host ufrag \x1c\x00 generation 0\r\n" +
	"a=candidate:\x18\x01 2 udp \x18\x02 \x1b\x00 \x1a\x00 typ host ufrag \x1c\x00 generation 0\r\n" +
	"a=end-of-candidates\r\n"
