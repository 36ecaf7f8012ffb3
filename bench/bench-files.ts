import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { splitLines } from '../functions/core/ingest/lines.ts';

/** A JSON Lines file written in batches of lines, waiting for the disk when it falls behind. */
export class LinesFile {
  readonly lines: string[] = [];
  private readonly stream;

  constructor(path: string) {
    this.stream = createWriteStream(path);
  }

  /** The last line added, to deliver it twice. */
  get last(): string {
    return this.lines[this.lines.length - 1]!;
  }

  async flush(): Promise<void> {
    const text = this.lines.join('');
    this.lines.length = 0;
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

/** The parse floor: seconds to read a JSON Lines file and JSON.parse every line on one thread, nothing else. */
export async function parseFloor(path: string): Promise<{ seconds: number; parsed: number }> {
  const started = process.hrtime.bigint();
  let parsed = 0;
  for await (const lines of splitLines(createReadStream(path, { highWaterMark: 1 << 20 }))) {
    for (const line of lines) {
      if (line.text !== '') {
        JSON.parse(line.text);
        parsed += 1;
      }
    }
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, parsed };
}
