/**
 * Address formatting (once per connection, never per packet). IPv6 per RFC 5952.
 * IPv4 strings are cached (hosts recur across connections); the cache is
 * cleared when it reaches V4_CACHE_MAX entries, so it stays bounded.
 */
const V4_CACHE_MAX = 65536;
const v4Cache = new Map<number, string>();

/** "ip:port", with IPv6 addresses in brackets ("[::1]:80"). */
export function formatEndpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function formatAddress(version: number, w0: number, w1: number, w2: number, w3: number): string {
  if (version === 4) {
    let s = v4Cache.get(w0);
    if (s === undefined) {
      if (v4Cache.size >= V4_CACHE_MAX) v4Cache.clear();
      s = `${w0 >>> 24}.${(w0 >>> 16) & 255}.${(w0 >>> 8) & 255}.${w0 & 255}`;
      v4Cache.set(w0, s);
    }
    return s;
  }
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // IPv4-mapped ::ffff:a.b.c.d
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatAddress(4, w3, 0, 0, 0)}`;
  }
  // longest run of zero groups (length >= 2), first one on ties
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
