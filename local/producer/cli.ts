/**
 * Sends a JSONL file of clickstream events (optionally gzip) to a Kinesis stream and prints a JSON report.
 *
 *   npx tsx local/producer/cli.ts --stream clv-dev-clickstream --file events_2024-03-01.jsonl.gz [--region eu-west-1]
 *
 * Exits 0 when every record was sent, 1 when some failed, 2 on bad arguments or an unreadable file.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { z } from 'zod';
import { putAllRecords, recordsFromJsonLines } from './producer.js';

export const cliArgsSchema = z.object({
  stream: z.string().regex(/^[a-zA-Z0-9_.-]{1,128}$/, 'must be a Kinesis stream name'),
  file: z.string().min(1),
  region: z.string().optional(),
  'max-attempts': z.coerce.number().int().min(1).max(20).default(8),
});

/** Reads a JSONL file, gunzipping it when it ends in .gz. */
export function readJsonLines(file: string): string {
  const bytes = readFileSync(file);
  return (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stream: { type: 'string' },
      file: { type: 'string' },
      region: { type: 'string' },
      'max-attempts': { type: 'string' },
    },
    strict: true,
  });
  const args = cliArgsSchema.safeParse(values);
  if (!args.success) {
    console.error(`producer: invalid arguments:\n${z.prettifyError(args.error)}`);
    return 2;
  }
  let text: string;
  try {
    text = readJsonLines(args.data.file);
  } catch (err) {
    console.error(`producer: cannot read ${args.data.file}: ${(err as Error).message}`);
    return 2;
  }
  const client = new KinesisClient(args.data.region ? { region: args.data.region } : {});
  const report = await putAllRecords(client, recordsFromJsonLines(text), {
    streamName: args.data.stream,
    maxAttempts: args.data['max-attempts'],
  });
  console.log(JSON.stringify(report, null, 2));
  return report.failed === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
