"""Inject one forged TCP segment with a raw socket (root): inject.py SRC SPORT DST DPORT SEQ ACK TTL IPID FLAGS
FLAGS is a string of R/A/F/S/P letters. The segment has no TCP options (no timestamp), window 0."""
import socket, struct, sys

src, sport, dst, dport, seq, ack, ttl, ipid, flags = sys.argv[1:10]
bits = {'F': 1, 'S': 2, 'R': 4, 'P': 8, 'A': 16}
fl = sum(bits[c] for c in flags)

def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

tcp = struct.pack('!HHIIBBHHH', int(sport), int(dport), int(seq) & 0xffffffff, int(ack) & 0xffffffff, 5 << 4, fl, 0, 0, 0)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), int(ipid), 0, int(ttl), 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
r.sendto(ip + tcp, (dst, 0))
print('injected', flush=True)
