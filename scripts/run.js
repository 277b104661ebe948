#!/usr/bin/env node
// Runs a compiled entry point from dist/ (`node scripts/run.js apps/ingestor/src/main [args]`),
// building first (incremental tsc, a few seconds when nothing changed) unless PORTRAIT_NO_BUILD=1.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.js <path under dist without .js> [args...]');
  process.exit(2);
}
if (process.env.PORTRAIT_NO_BUILD !== '1') {
  try {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: 'inherit', cwd: root });
  } catch {
    process.exit(1);
  }
}
const file = path.join(root, 'dist', `${entry}.js`);
if (!fs.existsSync(file)) {
  console.error(`not built: ${file} (run npm run build)`);
  process.exit(1);
}
process.argv = [process.argv[0], file, ...args];
require(file);
