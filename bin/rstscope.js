#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm install` / `npm run build`).
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('rstscope: not built yet; run `npm install` (or `npm run build`) in the checkout first\n');
  } else {
    process.stderr.write(`rstscope: ${err && err.message ? err.message : err}\n`);
  }
  process.exitCode = 2;
});
