/** `rstscope rules` and `rstscope explain <id>`. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import type { CommandModule } from 'yargs';
import { findRule, RULES } from '../../rules/registry.js';
import { UsageError } from '../exit.js';
import { out } from '../output.js';

/** docs/ of the checkout or package (dist/src/cli/commands -> ../../../../docs) */
export function docsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../../docs');
}

export const rulesCommand: CommandModule<object, { format: string }> = {
  command: 'rules',
  describe: 'List the teardown rules with their severity',
  builder: (y) => y.option('format', { alias: 'f', choices: ['table', 'json'], default: 'table' }) as never,
  handler: (argv) => {
    if (argv.format === 'json') {
      out(JSON.stringify(RULES.map((r) => ({ id: r.id, title: r.title, severity: r.severity, explanation: r.explanation })), null, 2) + '\n');
      return;
    }
    const t = new Table({ head: ['id', 'severity', 'title'], style: { head: [], border: [] } });
    for (const r of RULES) t.push([r.id, r.severity, r.title]);
    out(t.toString() + '\nrstscope explain <id> prints a rule\'s page: wire signature, kernel behaviour, what the applications see, how to fix.\n');
  },
};

export const explainCommand: CommandModule<object, { id: string }> = {
  command: 'explain <id>',
  describe: 'Print a rule\'s page: wire signature, kernel behaviour, application symptoms, causes, fixes, references',
  builder: (y) => y.positional('id', { type: 'string', demandOption: true, describe: 'rule id (see rstscope rules)' }) as never,
  handler: (argv) => {
    const rule = findRule(argv.id);
    if (!rule) throw new UsageError(`no rule '${argv.id}'; rules are: ${RULES.map((r) => r.id).join(', ')}`);
    const page = resolve(docsDir(), 'rules', `${rule.id}.md`);
    if (existsSync(page)) out(readFileSync(page, 'utf8'));
    else out(`# ${rule.id}: ${rule.title}\nSeverity: ${rule.severity}\n\n${rule.explanation}\n`);
  },
};
