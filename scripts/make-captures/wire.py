"""Userspace delay/drop wire between two network namespaces (stands in for
`tc qdisc netem`, which this kernel does not have: sch_netem is not built).
wire.py NS_A NS_B DEV opens a TUN device named DEV inside each namespace
(setns(2) via ctypes, then TUNSETIFF) and copies IP packets between them.
stdin commands, one reply line each:  delay a2b|b2a MS   drop a2b|b2a 0|1
Packets in one direction keep their order (constant delay, FIFO)."""
import ctypes, fcntl, heapq, os, select, struct, sys, time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454ca
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
libc = ctypes.CDLL(None, use_errno=True)

def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'setns')

def opentun(name):
    fd = os.open('/dev/net/tun', os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    return fd

ns_a, ns_b, dev = sys.argv[1:4]
home = os.open('/proc/self/ns/net', os.O_RDONLY)
fds = {}
for key, ns in (('a', ns_a), ('b', ns_b)):
    nfd = os.open('/run/netns/' + ns, os.O_RDONLY)
    setns(nfd)
    os.close(nfd)
    fds[key] = opentun(dev)
setns(home)
delay = {'a2b': 0.0, 'b2a': 0.0}
drop = {'a2b': False, 'b2a': False}
dropped = {'a2b': 0, 'b2a': 0}
queue = []
n = 0
print('ready', flush=True)
stdin = sys.stdin.fileno()
buf = b''
while True:
    now = time.monotonic()
    while queue and queue[0][0] <= now:
        _, _, out, pkt = heapq.heappop(queue)
        try:
            os.write(out, pkt)
        except OSError:
            pass  # EIO while the far TUN is still down (e.g. early IPv6 router solicitations)
    timeout = max(0.0, queue[0][0] - now) if queue else None
    r, _, _ = select.select([fds['a'], fds['b'], stdin], [], [], timeout)
    for fd in r:
        if fd == stdin:
            chunk = os.read(stdin, 4096)
            if not chunk:
                sys.exit(0)
            buf += chunk
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                w = line.decode().split()
                if w[0] == 'delay':
                    delay[w[1]] = int(w[2]) / 1000.0
                elif w[0] == 'drop':
                    drop[w[1]] = w[2] == '1'
                print('ok %s dropped=%d/%d' % (line.decode(), dropped['a2b'], dropped['b2a']), flush=True)
        else:
            d = 'a2b' if fd == fds['a'] else 'b2a'
            pkt = os.read(fd, 65536)
            if drop[d]:
                dropped[d] += 1
                continue
            n += 1
            heapq.heappush(queue, (time.monotonic() + delay[d], n, fds['b' if d == 'a2b' else 'a'], pkt))
