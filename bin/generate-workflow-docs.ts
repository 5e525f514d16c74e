/**
 * Writes docs/workflows/<job>.md: each job's state machine graph, drawn from the synthesized definition.
 *   npm run docs:graphs          write the files
 *   npm run docs:graphs -- --check   exit 1 when a file is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { definitionToMermaid } from '../local/definition-graph';
import { synthesizeTemplate } from '../local/synth';
import { stateMachines, resolve } from '../local/template';
import { STACK_OUTPUT } from '../shared/constants';
import { jobs } from '../workflows';

export const DOCS_DIR = path.resolve(__dirname, '..', 'docs', 'workflows');

/** The docs page of every job, by file name. */
export function workflowDocs(): Map<string, string> {
  const template = synthesizeTemplate();
  const listed = JSON.parse(
    String(resolve(template, template.Outputs?.[STACK_OUTPUT.JOBS]?.Value)),
  ) as Array<{
    id: string;
    stateMachineArn: string;
  }>;
  const machines = stateMachines(template);
  const pages = new Map<string, string>();
  for (const job of jobs) {
    const arn = listed.find((j) => j.id === job.id)?.stateMachineArn;
    const machine = machines.find((m) => m.arn === arn);
    if (!machine) throw new Error(`No state machine for job ${job.id}`);
    pages.set(
      `${job.id}.md`,
      [
        `# Workflow: ${job.id}`,
        '',
        job.description,
        '',
        `Schedule: \`${job.schedule.expression}\` (${job.schedule.timeZone ?? 'UTC'}) · overlap: \`${job.overlap ?? 'skip'}\` · timeout: ${job.timeout.toHumanString()}`,
        '',
        'Generated from the synthesized state machine definition by `npm run docs:graphs`; do not edit by hand.',
        '',
        '```mermaid',
        definitionToMermaid(machine.definition),
        '```',
        '',
      ].join('\n'),
    );
  }
  return pages;
}

if (require.main === module) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, text] of workflowDocs()) {
    const target = path.join(DOCS_DIR, file);
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // a new job: no page yet
    }
    if (current === text) continue;
    if (check) {
      process.stderr.write(`docs/workflows/${file} is out of date; run npm run docs:graphs\n`);
      stale += 1;
    } else {
      writeFileSync(target, text);
      process.stdout.write(`wrote docs/workflows/${file}\n`);
    }
  }
  process.exitCode = stale ? 1 : 0;
}
