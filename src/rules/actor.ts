/**
 * Which side of a connection did something, as findings name it. Its own
 * file so the rule contract (types.ts) and the teardown analysis
 * (teardown.ts, which types.ts names for RstVerdict) share it without
 * importing each other.
 */
export type Actor = 'orig' | 'resp' | 'client' | 'server';
