import '../helpers/quiet';
import { LocalRuntime } from '../../local/runtime';
import { synthesizeTemplate } from '../../local/synth';
import { heartbeat } from '../../workflows/heartbeat';
import { fixtureJob, fixtureJobInputs } from '../fixtures/workflows/fixture-job';

jest.mock('../../tasks/lifecycle/job-inputs', () => jest.requireActual('../fixtures/tasks/job-inputs'));

test('smoke', async () => {
  let t = Date.now();
  const template = synthesizeTemplate({ jobs: [heartbeat, fixtureJob], jobInputs: fixtureJobInputs });
  console.log('synth', Date.now() - t);
  t = Date.now();
  const runtime = await LocalRuntime.start({ template, logLevel: 'SILENT' });
  console.log('start', Date.now() - t);
  try {
    const f = await runtime.run('fixture', { failTimes: 2 }, { retryIntervalOverrides: { Work: 0 } });
    console.log(JSON.stringify(f, null, 1));
    console.log(JSON.stringify(await runtime.ledger.runs.detail(f.runId), null, 1));
    const p = await runtime.run('fixture', { permanent: true, errorName: 'Boom' }, { retryIntervalOverrides: { Work: 0 } });
    console.log(JSON.stringify(p, null, 1));
    console.log(JSON.stringify(await runtime.ledger.runs.detail(p.runId), null, 1));
    console.log(JSON.stringify(await runtime.ledger.jobs.getState('fixture'), null, 1));
    const r = await runtime.run('heartbeat', [1]);
    console.log(JSON.stringify(r, null, 1));
    console.log(JSON.stringify(await runtime.ledger.runs.detail(r.runId), null, 1));
    let h: ReturnType<LocalRuntime['start']> | undefined = undefined;
    h = runtime.start('fixture', { sleepMs: 1500 }, { onEvent: (e) => { if (e.type === 'StateEntered' && e.state.name === 'Work') h?.abort(); } });
    const a = await h.result;
    console.log(JSON.stringify(a, null, 1));
    console.log(JSON.stringify(await runtime.ledger.runs.detail(a.runId), null, 1));
    await new Promise((r) => setTimeout(r, 2000));
    console.log(JSON.stringify(await runtime.ledger.runs.detail(a.runId), null, 1));
  } finally {
    await runtime.stop();
  }
  const second = await LocalRuntime.start({ template, logLevel: 'SILENT' });
  try {
    const r = await second.run('heartbeat', {});
    console.log('second runtime', JSON.stringify(r, null, 1));
  } finally {
    await second.stop();
  }
});
