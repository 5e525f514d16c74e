/**
 * zod for runtime code: the tree-shakable `zod/mini` API, so a task bundles only the schema types and checks it
 * uses (about 20 KB, against about 100 KB for zod's classic API, whose schemas carry every method), with
 * English error messages, which `zod/mini` does not load by itself. Everything a Lambda bundle contains
 * imports it as `import * as z from '.../shared/zod'`: member access on a namespace import keeps esbuild's
 * tree-shaking (re-exporting zod's own `z` object would pull in all of zod, every locale included). The CDK
 * side (stacks/app-config.ts) may use the classic API.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
