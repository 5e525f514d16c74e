/**
 * A Mermaid flowchart of a synthesized state machine definition, so the docs show the graph that deploys
 * (`npm run docs:graphs` writes docs/workflows/<job>.md; a test keeps them in step with the code).
 */

type States = Record<string, Record<string, unknown>>;

const SHAPES: Record<string, [string, string]> = {
  Task: ['[', ']'],
  Choice: ['{', '}'],
  Succeed: ['([', '])'],
  Fail: ['([', '])'],
  Map: ['[[', ']]'],
  Parallel: ['[[', ']]'],
  Pass: ['>', ']'],
  Wait: ['[/', '/]'],
};

function nodeId(prefix: string, name: string): string {
  return `${prefix}${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

function label(name: string, state: Record<string, unknown>): string {
  const extra =
    state.Type === 'Fail'
      ? ` ✖`
      : state.Type === 'Map'
        ? ` · Map, ${String(state.MaxConcurrency ?? 'unbounded')} at a time`
        : state.Type === 'Task' && state.TimeoutSeconds
          ? ` · ${String(state.TimeoutSeconds)} s`
          : '';
  return `"${name}${extra}"`;
}

function render(definition: Record<string, unknown>, prefix: string, lines: string[], indent: string): void {
  const states = (definition.States ?? {}) as States;
  for (const [name, state] of Object.entries(states)) {
    const [open, close] = SHAPES[String(state.Type)] ?? ['[', ']'];
    const id = nodeId(prefix, name);
    const processor = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined;
    if (processor) {
      lines.push(`${indent}subgraph ${id}_items["${name}: each item"]`);
      render(processor, `${id}_`, lines, `${indent}  `);
      lines.push(`${indent}end`);
      lines.push(
        `${indent}${id}${open}${label(name, state)}${close} -.-> ${nodeId(`${id}_`, String(processor.StartAt))}`,
      );
    } else {
      lines.push(`${indent}${id}${open}${label(name, state)}${close}`);
    }
    for (const choice of (state.Choices ?? []) as Array<Record<string, unknown>>) {
      const value = choice.StringEquals ?? choice.BooleanEquals ?? choice.NumericEquals ?? '';
      lines.push(`${indent}${id} -- "${String(value)}" --> ${nodeId(prefix, String(choice.Next))}`);
    }
    if (state.Default)
      lines.push(`${indent}${id} -- "otherwise" --> ${nodeId(prefix, String(state.Default))}`);
    if (state.Next) lines.push(`${indent}${id} --> ${nodeId(prefix, String(state.Next))}`);
    for (const catcher of (state.Catch ?? []) as Array<Record<string, unknown>>) {
      const errors = (catcher.ErrorEquals as string[]).join(', ');
      lines.push(`${indent}${id} -. "${errors}" .-> ${nodeId(prefix, String(catcher.Next))}`);
    }
  }
}

export function definitionToMermaid(definition: Record<string, unknown>): string {
  const lines = ['flowchart TD'];
  lines.push(`  start(( )) --> ${nodeId('', String(definition.StartAt))}`);
  render(definition, '', lines, '  ');
  return lines.join('\n');
}
