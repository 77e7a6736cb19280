#!/usr/bin/env -S node --max-semi-space-size=8
// Entry point: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
import { setFlagsFromString } from 'node:v8';

// A long-lived agent allocates a few KB per reading that die young; by default V8 lets the heap
// grow to several times the live data before a full collection, and RSS keeps that high-water
// mark. Starting the next full GC at +50 % of the live heap keeps RSS near what is in use
// (measured in docs/benchmarks.md: 10k tags 226 → 160 MB). Not a hard cap: it cannot cause an
// out-of-memory crash. It is not allowed in NODE_OPTIONS, hence here, before anything is loaded.
setFlagsFromString('--heap-growing-percent=50');
// The young generation's size is fixed when the heap is set up, so it is set where node starts: the
// shebang above, the npm scripts and the systemd unit pass --max-semi-space-size=8 (V8 lets each
// semi-space grow to 16 MB, 32 MB or more of RSS for data that dies within a cycle; 8 MB: 10k tags
// 153 → 136 MB peak RSS, same CPU and latency — docs/benchmarks.md).

const argv = process.argv.slice(2);
import('../dist/agent/cli.js').then((cli) => cli.main(argv)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
    // On Node 20–21 loading node-opcua starts a one-off self-test on the thread pool (a 4096-bit RSA
    // key, seconds of CPU) that would keep a finished `allbit opcua …` waiting; stdout and stderr
    // are synchronous on Linux, so exiting loses nothing.
    if (argv[0] === 'opcua') process.exit();
  },
  (err) => { console.error(err instanceof Error ? err.message : err); process.exitCode = 1; },
);
