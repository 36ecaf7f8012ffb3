#!/usr/bin/env node
// The `pipeline` command. Runs the TypeScript sources through tsx's loader, so there is no
// build step between a checkout and a working command.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
