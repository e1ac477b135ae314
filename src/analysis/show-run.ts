/**
 * The analysis behind `rstscope show FILE STREAM|UID`: the input is read once
 * in this thread (the ladder is copied out of the tracker's Connection) with
 * only the connection asked for handed out (select.ts). Problems with the
 * input are data in the model.
 */
import { connectionLadder } from '../report/collector.js';
import type { ShowModel, ShownConnection } from '../report/show.js';
import type { TrackerOptions } from '../tcp/tracker.js';
import { analyze } from './analyze.js';
import type { PacketSelection } from './select.js';

/** The connection: its stream number in the input, or its uid. */
export type ConnectionRef = { stream: number } | { uid: string };

export interface ShowRunOptions extends Partial<TrackerOptions> {
  /** --filter, --since, --until (select.ts) */
  packets?: PacketSelection;
  /** progress: bytes read of the input's size, frames so far */
  onProgress?: (file: string, bytesRead: number, fileBytes: number, frames: number) => void;
}

export async function showConnection(file: string, which: ConnectionRef, run: ShowRunOptions = {}): Promise<ShowModel> {
  let conn: ShownConnection | null = null;
  const res = await analyze([file], {
    ...run,
    keepRecords: false,
    records: 'stream' in which ? { streams: [which.stream] } : { uids: [which.uid] },
    onCloseOut: (rec, findings, c) => {
      conn ??= { rec, findings, ladder: connectionLadder(c) };
    },
  });
  return { input: res.inputs[0] ?? null, problems: res.infos.flatMap((i) => i.problems), connections: res.stats.connections, conn };
}
