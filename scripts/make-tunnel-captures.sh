#!/usr/bin/env bash
# Records test/fixtures/tunnels/vxlan-two-vnis.pcap: real VXLAN made by the
# kernel (this kernel's `ip link` makes VXLAN; GENEVE, GRE, ERSPAN, IPIP, SIT
# and GTP are wrapped byte by byte instead: scripts/wrap-tunnels.ts).
#
# Four namespaces on one bridge (the underlay, 192.0.2.0/24, captured on the
# bridge: what a mirror port sees). Two VXLAN segments, VNI 42 (A1-B1) and
# VNI 43 (A2-B2), carry the SAME inner addresses and ports
# (10.42.0.1:40000 > 10.42.0.2:8080): two connections that only the VNI tells
# apart. In VNI 42 the server closes with unread data (the kernel answers with
# RST: rst-with-unread-data); in VNI 43 the exchange ends with FINs (normal).
#
# Needs root, ip (iproute2), tcpdump, python3. Usage: scripts/make-tunnel-captures.sh
set -euo pipefail
[ -n "${TRACE:-}" ] && set -x
cd "$(dirname "$0")/.."
OUT=test/fixtures/tunnels
mkdir -p "$OUT"
NS=(rsv-u rsv-a1 rsv-b1 rsv-a2 rsv-b2)
CAP=
cleanup() {
  [ -n "$CAP" ] && kill "$CAP" 2>/dev/null || true
  [ -n "${FIFO:-}" ] && rm -f "$FIFO"
  for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT
cleanup
for n in "${NS[@]}"; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n rsv-u link add br0 type bridge
ip -n rsv-u link set br0 up
i=0
for pair in "rsv-a1 192.0.2.11" "rsv-b1 192.0.2.12" "rsv-a2 192.0.2.21" "rsv-b2 192.0.2.22"; do
  set -- $pair
  ip -n rsv-u link add "p$i" type veth peer name eth0 netns "$1"
  ip -n rsv-u link set "p$i" master br0 up
  ip -n "$1" addr add "$2/24" dev eth0
  ip -n "$1" link set eth0 up
  i=$((i + 1))
done
vx() { # ns vni local remote overlay-address
  ip -n "$1" link add vx type vxlan id "$2" local "$3" remote "$4" dstport 4789 dev eth0
  ip -n "$1" addr add "$5/24" dev vx
  ip -n "$1" link set vx up
}
vx rsv-a1 42 192.0.2.11 192.0.2.12 10.42.0.1
vx rsv-b1 42 192.0.2.12 192.0.2.11 10.42.0.2
vx rsv-a2 43 192.0.2.21 192.0.2.22 10.42.0.1
vx rsv-b2 43 192.0.2.22 192.0.2.21 10.42.0.2

PCAP="$OUT/vxlan-two-vnis.pcap"
ip netns exec rsv-u tcpdump -i br0 -U -s 0 -w "$PCAP" 'udp port 4789' 2>/dev/null &
CAP=$!
sleep 1

# server: mode "unread" reads 5 bytes of the request and closes (RST: bytes unread); "clean" reads all, answers, closes
SERVER='
import socket, sys
mode = sys.argv[1]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.42.0.2", 8080)); s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
if mode == "unread":
    c.recv(5)
    import time; time.sleep(0.2)
    c.close()
else:
    data = b""
    while not data.endswith(b"\n"):
        data += c.recv(100)
    c.sendall(b"ok\n"); c.shutdown(socket.SHUT_WR)
    while c.recv(100): pass
    c.close()
'
CLIENT='
import socket, sys, time
mode = sys.argv[1]
c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
c.bind(("10.42.0.1", 40000)); c.connect(("10.42.0.2", 8080))
c.sendall(b"hello, this request has more bytes than the server reads\n")
if mode == "unread":
    time.sleep(0.6)
    try:
        c.recv(100)
        print("client read EOF")
    except ConnectionResetError:
        print("client recv: ECONNRESET")
else:
    while c.recv(100): pass
    c.close()
    print("client done")
'
FIFO=$(mktemp -u)
mkfifo "$FIFO"
run_pair() { # server-ns client-ns mode
  ip netns exec "$1" python3 -c "$SERVER" "$3" > "$FIFO" &
  local srv=$!
  read -r _ < "$FIFO" # the server listens
  ip netns exec "$2" python3 -c "$CLIENT" "$3"
  wait "$srv"
}
run_pair rsv-b1 rsv-a1 unread
run_pair rsv-b2 rsv-a2 clean
sleep 1
kill -INT "$CAP"; wait "$CAP" || true; CAP=
tcpdump -r "$PCAP" -nn 2>/dev/null | wc -l | xargs echo "frames:"

# The IPv6 base for the byte-by-byte wraps (6in4, 6in6, Teredo): the same
# "unread" exchange on ::1 in its own namespace, captured on its loopback.
ip netns add rsv-v6
NS+=(rsv-v6)
ip -n rsv-v6 link set lo up
V6=$OUT/base-v6.pcap
ip netns exec rsv-v6 tcpdump -i lo -U -s 0 -w "$V6" 'tcp port 8080' 2>/dev/null &
CAP=$!
sleep 1
SERVER=${SERVER//socket.socket()/socket.socket(socket.AF_INET6)}
SERVER=${SERVER//'"10.42.0.2"'/'"::1"'}
CLIENT=${CLIENT//socket.socket()/socket.socket(socket.AF_INET6)}
CLIENT=${CLIENT//'"10.42.0.1"'/'"::1"'}
CLIENT=${CLIENT//'"10.42.0.2"'/'"::1"'}
run_pair rsv-v6 rsv-v6 unread
sleep 1
kill -INT "$CAP"; wait "$CAP" || true; CAP=
tcpdump -r "$V6" -nn 2>/dev/null | wc -l | xargs echo "frames:"
