/**
 * Timers on capture time (never the wall clock): the capture clock, deadline
 * queues for close/reset/attempt timers, and the least-recently-active order
 * used for eviction and the idle sweep.
 */
import type { Connection } from './connection.js';

/**
 * Capture time of the frame being processed, seconds (float), shared by the
 * tracker's parts. Kept in a field, not passed as an argument: a double
 * argument to a function V8 does not inline is boxed (a heap allocation per call).
 */
export class Clock {
  now = 0.5;
}

/**
 * Deadlines armed with one fixed delay, kept in arrival order: since capture
 * time only moves forward (Connection.lastTime never goes back), deadlines
 * come out in order and expiring them is O(1) per connection. Entries whose
 * connection was closed out or re-armed are skipped when they come up.
 */
export class TimerQueue {
  // A ring (capacity a power of two, doubled when full): entry n lives at n & mask.
  private deadlines = new Float64Array(1024);
  private conns: (Connection | null)[] = new Array<Connection | null>(1024).fill(null);
  private mask = 1023;
  /** sequence numbers of the oldest entry and of the next one pushed (handles) */
  private head = 0;
  private tail = 0;

  /** Queues a deadline; returns a handle for cancel(). */
  push(deadline: number, c: Connection): number {
    if (this.tail - this.head > this.mask) this.grow();
    const i = this.tail & this.mask;
    this.deadlines[i] = deadline;
    this.conns[i] = c;
    return this.tail++;
  }

  /** Drops the entry (the queue keeps no reference to a closed connection). */
  cancel(handle: number): void {
    if (handle >= this.head && handle < this.tail) this.conns[handle & this.mask] = null;
  }

  /** The next connection whose deadline is <= now, or null. */
  pop(now: number): Connection | null {
    while (this.head < this.tail) {
      const i = this.head & this.mask;
      if (this.deadlines[i] > now) return null;
      const c = this.conns[i];
      this.conns[i] = null;
      this.head++;
      if (c !== null) return c;
    }
    return null;
  }

  clear(): void {
    this.conns.fill(null);
    this.head = this.tail;
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    const deadlines = new Float64Array(size);
    const conns = new Array<Connection | null>(size).fill(null);
    const mask = size - 1;
    for (let n = this.head; n < this.tail; n++) {
      deadlines[n & mask] = this.deadlines[n & this.mask];
      conns[n & mask] = this.conns[n & this.mask];
    }
    this.deadlines = deadlines;
    this.conns = conns;
    this.mask = mask;
  }
}


/**
 * Deadlines in any order (TimerQueue needs them in arrival order): a binary
 * min-heap of (deadline, handle, connection), ties broken by handle (push
 * order), so expiry order is a function of the deadlines and the push order
 * alone: the same in one process and in every --workers lane. Used for the
 * SYN retry horizon, whose re-armed deadline (the last SYN's time plus the
 * horizon) can fall before deadlines queued earlier (measured: in a FIFO such
 * an entry waited behind them and fired late, which changed records).
 * Handles are unique per push; an entry whose connection no longer holds its
 * handle (Connection.synTimer: cancelled, fired or the connection reused) is
 * skipped when it reaches the top, so cancel() costs nothing. Stale entries
 * live at most until their own deadline: the heap is bounded by the
 * attempts armed within one horizon.
 */
export class DeadlineHeap {
  private deadlines: number[] = [];
  private handles: number[] = [];
  private conns: Connection[] = [];
  private next = 0;

  get size(): number {
    return this.deadlines.length;
  }

  /** Queues a deadline; returns its handle (store it in Connection.synTimer). */
  push(deadline: number, c: Connection): number {
    const h = this.next++;
    this.deadlines.push(deadline);
    this.handles.push(h);
    this.conns.push(c);
    this.up(this.deadlines.length - 1);
    return h;
  }

  /** Nothing to do: the entry is skipped once its connection no longer holds the handle. */
  cancel(_handle: number): void {}

  /** The next connection whose deadline is <= now and which still holds that entry's handle, or null. */
  pop(now: number): Connection | null {
    while (this.deadlines.length > 0 && this.deadlines[0] <= now) {
      const c = this.conns[0];
      const h = this.handles[0];
      this.removeTop();
      if (c.synTimer === h) return c;
    }
    return null;
  }

  clear(): void {
    this.deadlines = [];
    this.handles = [];
    this.conns = [];
  }

  private less(i: number, j: number): boolean {
    const a = this.deadlines[i];
    const b = this.deadlines[j];
    return a < b || (a === b && this.handles[i] < this.handles[j]);
  }

  private swap(i: number, j: number): void {
    const d = this.deadlines[i]; this.deadlines[i] = this.deadlines[j]; this.deadlines[j] = d;
    const h = this.handles[i]; this.handles[i] = this.handles[j]; this.handles[j] = h;
    const c = this.conns[i]; this.conns[i] = this.conns[j]; this.conns[j] = c;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private removeTop(): void {
    const last = this.deadlines.length - 1;
    this.swap(0, last);
    this.deadlines.pop();
    this.handles.pop();
    this.conns.pop();
    let i = 0;
    const n = last;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const m = r < n && this.less(r, l) ? r : l;
      if (!this.less(m, i)) return;
      this.swap(i, m);
      i = m;
    }
  }
}

/**
 * Least-recently-active order without touching other connections on every
 * packet (a linked LRU list costs two random memory writes per packet): a
 * binary min-heap of entries (lastFrame when pushed, connection, its id).
 * Frames are processed in order and one frame touches one connection, so the
 * live connection with the smallest lastFrame is the one a linked LRU list
 * would have at its head. An entry goes stale when its connection saw more
 * packets (lastFrame grew), was closed out, or was reused under a new id;
 * stale entries are fixed (re-keyed) or dropped only when they reach the top,
 * so each packet costs nothing here and each connection a few O(log n) steps.
 */
export class IdleHeap {
  private keys: number[] = [];
  private conns: Connection[] = [];
  private ids: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(c: Connection): void {
    this.keys.push(c.lastFrame);
    this.conns.push(c);
    this.ids.push(c.id);
    this.up(this.keys.length - 1);
  }

  /** The live connection whose last packet is the oldest, or null (fixes or drops stale entries on the way). */
  top(): Connection | null {
    const keys = this.keys;
    while (keys.length > 0) {
      const c = this.conns[0];
      if (c.id !== this.ids[0] || c.closedOut) {
        this.removeTop();
        continue;
      }
      if (c.lastFrame === keys[0]) return c;
      keys[0] = c.lastFrame;
      this.down(0);
    }
    return null;
  }

  /** Drops stale entries and rebuilds (bounds the heap when many closed connections never reached the top). */
  compact(): void {
    const { keys, conns, ids } = this;
    let n = 0;
    for (let i = 0; i < keys.length; i++) {
      const c = conns[i];
      if (c.id !== ids[i] || c.closedOut) continue;
      keys[n] = c.lastFrame;
      conns[n] = c;
      ids[n] = ids[i];
      n++;
    }
    keys.length = n;
    conns.length = n;
    ids.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.down(i);
  }

  clear(): void {
    this.keys = [];
    this.conns = [];
    this.ids = [];
  }

  private removeTop(): void {
    const last = this.keys.length - 1;
    const k = this.keys.pop()!;
    const c = this.conns.pop()!;
    const id = this.ids.pop()!;
    if (last > 0) {
      this.keys[0] = k;
      this.conns[0] = c;
      this.ids[0] = id;
      this.down(0);
    }
  }

  private up(i: number): void {
    const { keys, conns, ids } = this;
    const k = keys[i];
    const c = conns[i];
    const id = ids[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= k) break;
      keys[i] = keys[parent];
      conns[i] = conns[parent];
      ids[i] = ids[parent];
      i = parent;
    }
    keys[i] = k;
    conns[i] = c;
    ids[i] = id;
  }

  private down(i: number): void {
    const { keys, conns, ids } = this;
    const n = keys.length;
    const k = keys[i];
    const c = conns[i];
    const id = ids[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1] < keys[child]) child++;
      if (keys[child] >= k) break;
      keys[i] = keys[child];
      conns[i] = conns[child];
      ids[i] = ids[child];
      i = child;
    }
    keys[i] = k;
    conns[i] = c;
    ids[i] = id;
  }
}
