/**
 * `-r FILE` as tshark and tcpdump users type it: `rstscope analyze -r f.pcap`
 * is `rstscope analyze f.pcap` (also `--read FILE`, `--read=FILE`, and `-r`
 * given more than once), and `rstscope -r f.pcap` without a command is
 * `rstscope analyze f.pcap`. Only for the commands that read capture files;
 * a command's own `-r` (none today) would come first.
 */
const READS = new Set(['analyze', 'flows', 'report', 'show']);

export function acceptReadFlag(args: readonly string[]): string[] {
  const command = args.find((a) => !a.startsWith('-'));
  const hasRead = args.some((a) => a === '-r' || a === '--read' || a.startsWith('--read='));
  if (!hasRead) return [...args];
  if (command !== undefined && !READS.has(command) && args.indexOf(command) < args.findIndex((a) => a === '-r' || a.startsWith('--read'))) return [...args];
  const files: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if ((a === '-r' || a === '--read') && i + 1 < args.length) files.push(args[++i]);
    else if (a.startsWith('--read=')) files.push(a.slice('--read='.length));
    else rest.push(a);
  }
  const named = rest.find((a) => !a.startsWith('-'));
  if (named === undefined || !READS.has(named)) return ['analyze', ...rest, ...files];
  return [...rest, ...files];
}
