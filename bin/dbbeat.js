#!/usr/bin/env node
// The `dbbeat` command. The sources are TypeScript; tsx compiles them on load, so the
// command works from a fresh clone without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
