/**
 * The synthesized template for local mode, kept between commands: `.stepjobs/templates/<hash>.json`, keyed by a
 * SHA-256 of everything synthesis reads (the app's sources, cdk.json, the locked dependency versions, the Node
 * version). A command whose inputs have not changed reads the JSON instead of loading the CDK and
 * synthesizing; any change to a source file gives a new key, so a stale template is never used.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { CfnTemplate } from './template';

const REPO_ROOT = path.resolve(__dirname, '..');
/** What synthesis reads: the source trees it imports and the files that pin its configuration. */
const SOURCE_DIRS = ['stacks', 'workflows', 'tasks', 'shared'];
const SOURCE_FILES = ['cdk.json', 'package-lock.json', 'local/synth.ts'];
export const TEMPLATE_CACHE_DIR = path.join(REPO_ROOT, '.stepjobs', 'templates');
/** Templates kept: the newest few, so switching branches back and forth still hits. */
const KEEP = 5;

function sourceFiles(root: string, dirs: readonly string[], files: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(path.join(root, dir)).sort()) {
      const relative = path.join(dir, name);
      if (statSync(path.join(root, relative)).isDirectory()) walk(relative);
      else if (/\.(ts|json)$/.test(name)) found.push(relative);
    }
  };
  for (const dir of dirs) if (existsSync(path.join(root, dir))) walk(dir);
  return [...found, ...files.filter((file) => existsSync(path.join(root, file)))];
}

/** The cache key: every input file's path and content, and the Node version. */
export function templateKey(
  root = REPO_ROOT,
  dirs: readonly string[] = SOURCE_DIRS,
  files: readonly string[] = SOURCE_FILES,
): string {
  const hash = createHash('sha256').update(process.version);
  for (const file of sourceFiles(root, dirs, files)) {
    hash.update(`\0${file}\0`).update(readFileSync(path.join(root, file)));
  }
  return hash.digest('hex').slice(0, 32);
}

export interface TemplateCacheOptions {
  cacheDir?: string;
  key?: string;
  /** @default the in-process synthesis of local/synth.ts, loaded only on a miss */
  synthesize?: () => CfnTemplate;
}

/** The template for `key`, from the cache or synthesized (and then cached). Reports whether it was cached. */
export function cachedTemplate(options: TemplateCacheOptions = {}): {
  template: CfnTemplate;
  cached: boolean;
} {
  const cacheDir = options.cacheDir ?? TEMPLATE_CACHE_DIR;
  const key = options.key ?? templateKey();
  const file = path.join(cacheDir, `${key}.json`);
  if (existsSync(file)) {
    try {
      return { template: JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate, cached: true };
    } catch {
      // A cache file that does not parse (a crash mid-write on a file system without atomic rename): rebuild.
    }
  }
  // Loaded on a miss only: requiring the CDK is most of what a hit saves.
  const synthesize =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    options.synthesize ?? (require('./synth') as typeof import('./synth')).synthesizeTemplate;
  const template = synthesize();
  mkdirSync(cacheDir, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(template));
  renameSync(temporary, file);
  prune(cacheDir);
  return { template, cached: false };
}

function prune(cacheDir: string): void {
  const entries = readdirSync(cacheDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => ({ name, mtime: statSync(path.join(cacheDir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const stale of entries.slice(KEEP)) rmSync(path.join(cacheDir, stale.name), { force: true });
}
