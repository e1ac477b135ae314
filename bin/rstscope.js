#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm run build`, `npm start`, `npm test`, or `npm pack`).
import('../dist/src/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
    process.stderr.write('rstscope: not built yet; run `npm run build` (or `npm start`) in the checkout first\n');
  } else {
    process.stderr.write(`rstscope: ${err && err.message ? err.message : err}\n`);
  }
  process.exitCode = 2;
});
