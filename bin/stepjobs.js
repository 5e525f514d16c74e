#!/usr/bin/env node
// Entry for `npx stepjobs`: run the TypeScript CLI through tsx (npm puts the project's Node 24 first on PATH).
require('tsx/cjs');
require('./stepjobs.ts').runAsProcess(process.argv.slice(2));
