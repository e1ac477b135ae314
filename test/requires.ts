/**
 * What a test needs beyond Node and the repository: an oracle tool on PATH
 * (tshark, chromium, tcpdump, ...), root, Linux, the optional npm package cap.
 *
 *   test('x', { ...requires('tshark') }, ...)
 *
 * Everything present: no options, the test runs. Something missing: the test
 * is skipped, and its one result line names what is missing and how to get it
 * (`# SKIP tshark not installed (apt-get install tshark)`). Under CI=true
 * nothing may be skipped: requires() throws instead, so the test file fails
 * with the same message. Tools are found by searching PATH, the way the tests
 * start them; nothing is run to find them.
 */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/** A tool the tests start: its command name and the Debian package that installs it. */
const TOOLS = {
  tshark: 'apt-get install tshark',
  tcpdump: 'apt-get install tcpdump',
  chromium: 'apt-get install chromium',
  ip: 'apt-get install iproute2',
  script: 'apt-get install bsdutils',
  setpriv: 'apt-get install util-linux',
} as const;

export type Tool = keyof typeof TOOLS;
export type Requirement = Tool | 'root' | 'linux' | 'cap';

/** The full path of `name` on PATH, or null. */
export function toolPath(name: Tool): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** Why `r` is not available here (with what to install), or null when it is. */
export function missing(r: Requirement): string | null {
  switch (r) {
    case 'root':
      return process.getuid?.() === 0 ? null : 'needs root (run npm test as root)';
    case 'linux':
      return process.platform === 'linux' ? null : 'needs Linux (loopback capture and network namespaces)';
    case 'cap':
      try {
        createRequire(import.meta.url)('cap');
        return null;
      } catch {
        return 'optional npm package cap did not build (apt-get install libpcap-dev build-essential, then npm install)';
      }
    default:
      return toolPath(r) ? null : `${r} not installed (${TOOLS[r]})`;
  }
}

/**
 * node:test options for a test that needs `needs`: {} when all are present,
 * { skip: reason } when not. Under CI=true a missing requirement throws.
 */
export function requires(...needs: Requirement[]): { skip?: string } {
  const why = needs.map(missing).filter((x): x is string => x !== null);
  if (why.length === 0) return {};
  const reason = why.join('; ');
  if (process.env.CI === 'true') throw new Error(`CI=true forbids skipping tests: ${reason}`);
  return { skip: reason };
}
