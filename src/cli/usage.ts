/**
 * Usage errors in plain sentences: yargs' own messages ("Not enough
 * non-option arguments: got 0, need at least 1", "Invalid values: Argument:
 * format, Given: ...") said in the words of the command the user typed, and
 * the hint that follows a usage error (and only a usage error) pointing at that
 * command's --help.
 */

/** What each command's positional arguments are, for "missing" messages. */
const NEEDS: Record<string, string> = {
  analyze: 'name one or more capture files (pcap or pcapng; - reads standard input), e.g. rstscope analyze capture.pcap',
  flows: 'name one or more capture files (pcap or pcapng; - reads standard input), e.g. rstscope flows capture.pcap',
  report: 'name one or more capture files (pcap or pcapng; - reads standard input), e.g. rstscope report capture.pcap -o report.html',
  show: 'name a capture file and a connection (its stream number or uid), e.g. rstscope show capture.pcap 3',
  explain: 'name a rule, e.g. rstscope explain refused (rstscope rules lists them)',
};

const COMMANDS = ['analyze', 'flows', 'report', 'show', 'live', 'rules', 'explain'];

/** The command the arguments name (the first word that is not an option), or null. */
export function commandOf(args: readonly string[]): string | null {
  const first = args.find((a) => !a.startsWith('-'));
  return first !== undefined && COMMANDS.includes(first) ? first : null;
}

/** An option's name as typed: `-c`, `--count`. */
function flag(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

function list(words: string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** A yargs message said plainly for `command`; other messages unchanged. */
export function plainUsage(msg: string, command: string | null, args: readonly string[]): string {
  let m: RegExpMatchArray | null;
  if (/^Not enough non-option arguments/.test(msg)) {
    return command !== null && NEEDS[command] ? `${command}: ${NEEDS[command]}` : 'something is missing: see --help';
  }
  if ((m = msg.match(/^Invalid values:\s*Argument: ([\w-]+), Given: (.*), Choices: (.*)$/s)) !== null) {
    const choices = m[3].split(', ').map((c) => c.replace(/^"|"$/g, ''));
    return `--${m[1]} cannot be ${m[2].trim()}: choose ${list(choices)}`;
  }
  if ((m = msg.match(/^Unknown arguments?: (.*)$/s)) !== null) {
    const words = m[1].split(', ');
    const typed = args.find((a) => !a.startsWith('-'));
    if (command === null && typed !== undefined && words.includes(typed)) return `no command '${typed}': the commands are ${list(COMMANDS)}`;
    return `${words.length > 1 ? 'unknown options' : 'unknown option'} ${words.map((w) => (args.includes(flag(w)) ? flag(w) : w)).join(', ')}`;
  }
  if ((m = msg.match(/^Did you mean (.*)\?$/)) !== null) {
    const typed = args.find((a) => !a.startsWith('-')) ?? '';
    return `no command '${typed}'; did you mean ${m[1]}?`;
  }
  if ((m = msg.match(/^Missing required arguments?: (.*)$/)) !== null) return `${flag(m[1])} is required`;
  if ((m = msg.match(/^Not enough arguments following: (.*)$/)) !== null) return `${flag(m[1])} needs a value`;
  return msg;
}

/** The line after a usage error: where the help for what was typed is. */
export function usageHint(command: string | null): string {
  return command === null ? "Run 'rstscope --help' for the commands." : `Run 'rstscope ${command} --help' for its options.`;
}
