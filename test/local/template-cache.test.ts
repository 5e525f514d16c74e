import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cachedTemplate, templateKey } from '../../local/template-cache';
import type { CfnTemplate } from '../../local/template';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'stepjobs-cache-'));
  mkdirSync(path.join(root, 'stacks'), { recursive: true });
  writeFileSync(path.join(root, 'stacks', 'app.ts'), 'export const a = 1;');
  writeFileSync(path.join(root, 'cdk.json'), '{"app":"x"}');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const key = () => templateKey(root, ['stacks'], ['cdk.json']);
const template = (n: number): CfnTemplate =>
  ({ Resources: { [`R${n}`]: { Type: 'AWS::SNS::Topic' } } }) as never;

describe('templateKey', () => {
  it('is stable, and changes with any source file, its name or cdk.json', () => {
    const first = key();
    expect(key()).toBe(first);
    writeFileSync(path.join(root, 'stacks', 'app.ts'), 'export const a = 2;');
    const edited = key();
    expect(edited).not.toBe(first);
    writeFileSync(path.join(root, 'stacks', 'new.ts'), '');
    const added = key();
    expect(added).not.toBe(edited);
    writeFileSync(path.join(root, 'cdk.json'), '{"app":"y"}');
    expect(key()).not.toBe(added);
  });
});

describe('cachedTemplate', () => {
  it('synthesizes once per key, then reads the cache; a new key synthesizes again', () => {
    const cacheDir = path.join(root, 'cache');
    let calls = 0;
    const synthesize = jest.fn((): CfnTemplate => template((calls += 1)));
    const first = cachedTemplate({ cacheDir, key: 'k1', synthesize });
    const again = cachedTemplate({ cacheDir, key: 'k1', synthesize });
    expect(first.cached).toBe(false);
    expect(again).toEqual({ template: first.template, cached: true });
    expect(synthesize).toHaveBeenCalledTimes(1);
    expect(cachedTemplate({ cacheDir, key: 'k2', synthesize }).cached).toBe(false);
    expect(synthesize).toHaveBeenCalledTimes(2);
  });

  it('rebuilds a cache file that does not parse, and keeps only the newest five', () => {
    const cacheDir = path.join(root, 'cache');
    mkdirSync(cacheDir);
    writeFileSync(path.join(cacheDir, 'broken.json'), '{"Resources":');
    const synthesize = jest.fn(() => template(1));
    expect(cachedTemplate({ cacheDir, key: 'broken', synthesize })).toEqual({
      template: template(1),
      cached: false,
    });
    for (let i = 0; i < 7; i += 1) cachedTemplate({ cacheDir, key: `k${i}`, synthesize });
    expect(readdirSync(cacheDir).filter((n) => n.endsWith('.json'))).toHaveLength(5);
  });
});
