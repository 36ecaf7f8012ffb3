/**
 * Writes docs/campaign-message.schema.json from the zod message schema (`npm run generate`).
 * A test fails when the checked-in file differs from what this would write.
 */
import { writeFile } from 'node:fs/promises';
import { campaignMessageJsonSchema } from '../core/campaigns/message.ts';

export const MESSAGE_SCHEMA_FILE = new URL('../../docs/campaign-message.schema.json', import.meta.url);

export function messageSchemaText(): string {
  return `${JSON.stringify(campaignMessageJsonSchema(), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(MESSAGE_SCHEMA_FILE, messageSchemaText());
  process.stdout.write(`wrote ${MESSAGE_SCHEMA_FILE.pathname}\n`);
}
