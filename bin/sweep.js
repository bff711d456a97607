#!/usr/bin/env node
// The `sweep` CLI, run through tsx so no build step is needed.
require('tsx/cjs');
require('../cli/sweep.ts').run();
