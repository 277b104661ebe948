#!/usr/bin/env node
// Incremental TypeScript build into dist/, then path aliases (@app/*) rewritten to relative paths.
// tsc still emits when it reports type errors; the alias rewrite runs anyway so dist/ is never
// left with unresolvable `@app/...` imports, and the build then fails with tsc's status.
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const root = path.join(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const tsc = spawnSync(bin('tsc'), ['-p', 'tsconfig.build.json'], { stdio: 'inherit', cwd: root });
const alias = spawnSync(bin('tsc-alias'), ['-p', 'tsconfig.build.json'], { stdio: 'inherit', cwd: root });
const status = tsc.status || alias.status || (tsc.error || alias.error ? 1 : 0);
if (status !== 0) process.exit(status);
