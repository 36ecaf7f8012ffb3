#!/usr/bin/env node
// The `pipeline` command. Its TypeScript sources are bundled with esbuild as it starts
// (functions/local/source-bundle.mjs), so there is no build step between a checkout and a
// working command.
import { bundledModuleUrl } from '../local/source-bundle.mjs';

// Stack traces name the TypeScript sources, through the source map beside the bundle.
process.setSourceMapsEnabled(true);

// A reader that stops early (`pipeline query ... | head`) closes the pipe: that is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { main } = await import((await bundledModuleUrl(new URL('./main.ts', import.meta.url))).href);
process.exitCode = await main(process.argv.slice(2));
