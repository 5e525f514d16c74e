#!/usr/bin/env node
// Entry for `npx stepjobs`: run the TypeScript CLI through tsx (npm puts the project's Node 24 first on PATH).
require('tsx/cjs');
const { main } = require('./stepjobs.ts');
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
