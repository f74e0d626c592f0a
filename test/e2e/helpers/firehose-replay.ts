/**
 * What Kinesis Data Firehose does with the clickstream in AWS, done locally for tests: every line of the generator's
 * events_<day>.jsonl.gz files goes through the transformation Lambda's core (lambdas/clickstream-transform) in
 * batches; accepted records are written, gzip JSON lines, under the delivery stream's prefix
 * `landing/clickstream/dt=<event date>/hour=<HH>/` of the raw bucket, rejected ones as Firehose error records under
 * `landing/clickstream-errors/processing-failed/dt=<day>/`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { type InputRecord, transformRecords } from '../../../lambdas/clickstream-transform/transform.js';

export interface ReplayCounts {
  /** Lines read from the generator's files (= records sent). */
  sent: number;
  accepted: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  /** Accepted events per event date (the dt= partition Firehose writes them to). */
  acceptedByDate: Record<string, number>;
}

/** The JSON lines of a gzip file, without the final empty string of a trailing newline. */
export function gzipLines(file: string): string[] {
  const text = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * Replays every events_*.jsonl.gz under `generatorClickstreamDir` (dt=<day>/ folders) into `rawBucketDir`
 * (the local raw bucket), in batches of `batchSize` records as Firehose invokes the Lambda.
 */
export function replayClickstream(
  generatorClickstreamDir: string,
  rawBucketDir: string,
  batchSize = 500,
): ReplayCounts {
  const counts: ReplayCounts = { sent: 0, accepted: 0, rejected: 0, rejectedByReason: {}, acceptedByDate: {} };
  const accepted = new Map<string, string[]>();
  const rejected = new Map<string, string[]>();
  const days = fs
    .readdirSync(generatorClickstreamDir)
    .filter((d) => d.startsWith('dt='))
    .sort();
  let recordNo = 0;
  for (const day of days) {
    const deliveryDay = day.slice('dt='.length);
    const dir = path.join(generatorClickstreamDir, day);
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl.gz'))) {
      const lines = gzipLines(path.join(dir, file));
      for (let start = 0; start < lines.length; start += batchSize) {
        const batch: InputRecord[] = lines.slice(start, start + batchSize).map((line) => ({
          recordId: String(recordNo++).padStart(12, '0'),
          data: Buffer.from(line, 'utf8').toString('base64'),
        }));
        const result = transformRecords(batch);
        counts.sent += batch.length;
        counts.accepted += result.counts.accepted;
        counts.rejected += result.counts.rejected;
        for (const [reason, n] of Object.entries(result.counts.rejectedByReason)) {
          counts.rejectedByReason[reason] = (counts.rejectedByReason[reason] ?? 0) + (n ?? 0);
        }
        for (const out of result.records) {
          if (out.result === 'Ok') {
            const { event_date: date, event_hour: hour } = out.metadata.partitionKeys;
            const key = `dt=${date}/hour=${hour}`;
            const list = accepted.get(key) ?? [];
            list.push(Buffer.from(out.data, 'base64').toString('utf8'));
            accepted.set(key, list);
            counts.acceptedByDate[date] = (counts.acceptedByDate[date] ?? 0) + 1;
          } else {
            // Firehose's error record for a ProcessingFailed record (original bytes base64 in rawData).
            const list = rejected.get(deliveryDay) ?? [];
            list.push(
              JSON.stringify({
                attemptsMade: 1,
                errorCode: 'Lambda.ProcessingFailed',
                errorMessage: 'The record was marked ProcessingFailed by the transformation Lambda',
                rawData: out.data,
                lambdaArn: 'arn:aws:lambda:eu-west-1:000000000000:function:clv-local-clickstream-transform',
              }),
            );
            rejected.set(deliveryDay, list);
          }
        }
      }
    }
  }
  for (const [key, lines] of accepted) {
    const dir = path.join(rawBucketDir, 'landing', 'clickstream', ...key.split('/'));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'clv-local-clickstream-1.gz'), zlib.gzipSync(lines.join('')));
  }
  for (const [day, lines] of rejected) {
    const dir = path.join(rawBucketDir, 'landing', 'clickstream-errors', 'processing-failed', `dt=${day}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'clv-local-clickstream-1.gz'), zlib.gzipSync(`${lines.join('\n')}\n`));
  }
  return counts;
}
