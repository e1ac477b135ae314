"""One-socket blocking python3 agent for what Node cannot do (TCP_SYNCNT,
TCP_KEEPINTVL/TCP_KEEPCNT, a listener that never accepts). One command per
stdin line, exactly one JSON reply line per command, errno reported by name."""
import errno, json, signal, socket, sys

def emit(**k):
    print(json.dumps(k), flush=True)

s = None
ls = None
fillers = []
for line in sys.stdin:
    cmd = line.split()
    if not cmd:
        continue
    op = cmd[0]
    try:
        if op == 'listen':  # listen BACKLOG: a listener that never accepts
            ls = socket.socket()
            ls.bind(('127.0.0.1', 0))
            ls.listen(int(cmd[1]))
            emit(ev='listening', port=ls.getsockname()[1])
        elif op == 'filler':  # fill the accept queue of our own listener
            f = socket.create_connection(('127.0.0.1', ls.getsockname()[1]))
            fillers.append(f)
            emit(ev='filler', port=f.getsockname()[1])
        elif op == 'bind':
            s = socket.socket()
            s.bind(('127.0.0.1', 0))
            emit(ev='bound', port=s.getsockname()[1])
        elif op == 'sigpipe-default':  # python3 ignores SIGPIPE at start-up; restore the C default (terminate)
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            emit(ev='sigpipe default')
        elif op == 'syncnt':
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, int(cmd[1]))
            emit(ev='syncnt', n=int(cmd[1]))
        elif op == 'keepalive':  # keepalive IDLE_S INTVL_S CNT
            s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, int(cmd[1]))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, int(cmd[2]))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, int(cmd[3]))
            emit(ev='keepalive', idle=int(cmd[1]), intvl=int(cmd[2]), cnt=int(cmd[3]))
        elif op == 'connect':
            s.connect((cmd[1], int(cmd[2])))
            emit(ev='connect ok')
        elif op == 'send':
            n = s.send(b'a' * int(cmd[1]))
            emit(ev='send', n=n)
        elif op == 'recv':
            d = s.recv(65536)
            emit(ev='recv', n=len(d))
        elif op == 'shutdown':
            s.shutdown(socket.SHUT_WR)
            emit(ev='shutdown')
        elif op == 'close':
            s.close()
            emit(ev='close')
        elif op == 'quit':
            for f in fillers:
                f.close()
            if ls:
                ls.close()
            emit(ev='bye')
            break
        else:
            emit(ev='unknown', op=op)
    except OSError as e:
        emit(ev=op + ' error', errno=errno.errorcode.get(e.errno, str(e.errno)))
