import '../helpers/quiet';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DOCS_DIR, workflowDocs } from '../../bin/generate-workflow-docs';

const pages = workflowDocs();

test('every job has a generated workflow page', () => {
  expect([...pages.keys()]).toContain('heartbeat.md');
});

test.each([...pages.keys()])(
  'docs/workflows/%s matches the synthesized definition (npm run docs:graphs)',
  (file) => {
    expect(readFileSync(path.join(DOCS_DIR, file), 'utf8')).toBe(pages.get(file));
  },
);

test('the graph shows the lifecycle around the steps', () => {
  const page = pages.get('heartbeat.md') ?? '';
  expect(page).toContain('StartRun --> Decide');
  expect(page).toContain('Decide -- "RUN" --> Heartbeat');
  expect(page).toContain('Heartbeat -. "States.ALL" .-> HeartbeatCaught');
  expect(page).toContain('HeartbeatCaught --> FailRun');
  // FailRun fails the execution itself; a redrive restarts it, and Resume goes back to the failed state.
  expect(page).toContain('FailRun --> Resume');
  expect(page).toContain('Resume -- "Heartbeat" --> Heartbeat');
  expect(page).toContain('FinishRun -. "States.ALL" .-> SucceededUnrecorded');
});
