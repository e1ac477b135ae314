// One-socket Node agent, run inside a network namespace by run.mjs
// (`ip netns exec NS node agent.mjs`). Commands arrive as JSON lines on stdin,
// every socket event leaves as a JSON line on stdout, so the orchestrator can
// await real events and log what the application saw.
import net from 'node:net';
import readline from 'node:readline';

const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let sock = null;
let server = null;
let rxBytes = 0;

function wire(s) {
  sock = s;
  s.on('data', (d) => { rxBytes += d.length; emit({ ev: 'data', n: d.length, total: rxBytes }); });
  s.on('end', () => emit({ ev: 'end' }));
  s.on('error', (e) => emit({ ev: 'error', code: e.code ?? e.message }));
  s.on('close', (hadError) => emit({ ev: 'close', hadError }));
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  switch (c.op) {
    case 'listen':
      server = net.createServer({ allowHalfOpen: true, pauseOnConnect: !!c.pause }, (s) => {
        emit({ ev: 'accept', remote: `${s.remoteAddress}:${s.remotePort}` });
        wire(s);
      });
      server.listen(c.port ?? 0, c.host, () => emit({ ev: 'listening', port: server.address().port }));
      break;
    case 'connect': {
      const s = net.connect({ host: c.host, port: c.port, localAddress: c.localAddress, localPort: c.localPort, allowHalfOpen: true });
      s.on('connect', () => emit({ ev: 'connect', local: `${s.localAddress}:${s.localPort}` }));
      wire(s);
      break;
    }
    case 'write':
      sock.write(Buffer.alloc(c.n, 0x61), (e) => emit({ ev: 'write', n: c.n, ok: !e, code: e?.code }));
      break;
    case 'end': sock.end(); emit({ ev: 'ended' }); break;
    case 'destroy': sock.destroy(); emit({ ev: 'destroyed' }); break;
    case 'reset': sock.resetAndDestroy(); emit({ ev: 'reset-sent' }); break;
    case 'pause': sock.pause(); emit({ ev: 'paused' }); break;
    case 'resume': sock.resume(); emit({ ev: 'resumed' }); break;
    case 'quit': server?.close(); sock?.destroy(); process.stdin.pause(); emit({ ev: 'bye' }); break;
  }
});
