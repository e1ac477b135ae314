/** `rstscope show FILE STREAM|UID`: one connection in the terminal (ladder, history, RSTs, findings with evidence). */
import type { CommandModule } from 'yargs';
import { showConnection, type ConnectionRef } from '../../analysis/show-run.js';
import { renderShow } from '../../report/show.js';
import { packetFlags, printProblems, trackerFlags, type CaptureArgs } from '../common.js';
import { EXIT_USAGE, exitCodeFor, UsageError } from '../exit.js';
import { selectionOptions, trackerOptions } from '../options.js';
import { err, out } from '../output.js';
import { makeProgress } from '../progress.js';

interface ShowArgs extends CaptureArgs {
  file: string;
  connection: string;
}

/** STREAM (a whole number) or UID (C...). */
export function connectionRef(text: string): ConnectionRef {
  if (/^\d+$/.test(text)) return { stream: Number(text) };
  if (/^C[0-9A-Za-z]{1,32}$/.test(text)) return { uid: text };
  throw new UsageError(`show takes the connection as a stream number (the # column of flows) or a uid (C..., as flows -f json shows it), not "${text}"`);
}

export const showCommand: CommandModule<object, ShowArgs> = {
  command: 'show <file> <connection>',
  describe: 'Print one connection: its packets as a ladder, its history, every RST with its shape and acceptance, and the findings with their evidence',
  builder: (y) => trackerFlags(packetFlags(y
    .positional('file', { type: 'string', demandOption: true, describe: 'pcap or pcapng file (- reads standard input)' })
    .positional('connection', { type: 'string', demandOption: true, describe: 'stream number (as flows numbers them) or uid (C...)' })))
    .example('$0 show captures/stale-connection.pcap 1', 'the second connection of the capture')
    .example('$0 show incident.pcap CABCCl0MzVgNOHYZ7', 'a connection by the uid analyze -f json or a conn.log gave') as never,
  handler: async (argv) => {
    const which = connectionRef(String(argv.connection));
    const tracker = trackerOptions(argv);
    const { packets } = selectionOptions(argv);
    const progress = makeProgress(argv.quiet);
    const model = await showConnection(String(argv.file), which, { ...tracker, packets, onProgress: progress?.update });
    progress?.done();
    const readable = model.problems.every((p) => p.kind !== 'unreadable');
    if (model.conn !== null) out(renderShow(model));
    else if (readable) {
      const what = 'stream' in which ? `stream ${which.stream}` : `uid ${which.uid}`;
      const has = model.connections === 0 ? 'it has no TCP connection' : `it has ${model.connections} connection(s): streams 0 to ${model.connections - 1}`;
      err(`rstscope: no connection with ${what} in ${argv.file} (${has})\n`);
    }
    printProblems(model.problems);
    process.exitCode = model.conn === null && readable ? EXIT_USAGE : exitCodeFor(model.problems, 1, false);
  },
};
