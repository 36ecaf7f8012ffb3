// Preloaded into a child process by the stress tests: reports the process's peak resident set
// size on exit, so a test can hold a command to a memory bound.
import { writeSync } from 'node:fs';

process.on('exit', () => writeSync(2, `\npeak-rss-bytes ${process.resourceUsage().maxRSS * 1024}\n`));
