/**
 * The quality gate: reads the aggregates CSV (Athena's result, or the local runtime's), evaluates the suite,
 * writes result.json and report.html under <reportPrefix>/dt=<date>/ (a rerun overwrites its own partition) and
 * answers the state machine with the status it branches on.
 */
import { z } from 'zod';
import { joinS3, type ObjectStore } from '../shared/object-store.js';
import { Aggregates, parseAggregatesCsv } from './aggregates.js';
import { evaluateSuite, type GateStatus, type GateSummary, summarize } from './evaluate.js';
import { type Expectation, TRANSACTIONS_SUITE } from './expectations.js';
import { type ResultDocument, renderHtmlReport } from './report.js';

const s3Uri = z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.*$/, 'must be an s3://bucket/key URI');

/** What the state machine passes the gate. */
export const gateInputSchema = z.object({
  /** The partition checked (the pipeline's run date). */
  date: z.iso.date(),
  /** The pipeline execution (name), for lineage. */
  runId: z.string().min(1),
  /** The aggregates query's result CSV. */
  aggregatesUri: s3Uri,
  /** Where result.json and report.html go (a dt=<date>/ folder is added). */
  reportPrefix: s3Uri,
});
export type GateInput = z.infer<typeof gateInputSchema>;

export interface GateOutput {
  readonly status: GateStatus;
  readonly date: string;
  readonly runId: string;
  readonly summary: GateSummary;
  readonly resultUri: string;
  readonly reportUri: string;
  /** Failed expectations (critical first), at most 20, for the alert. */
  readonly failures: { id: string; severity: string; message: string }[];
  /** One line for the alert subject/body. */
  readonly message: string;
}

export interface GateDependencies {
  readonly store: ObjectStore;
  readonly now?: () => Date;
  readonly suite?: readonly Expectation[];
}

export async function runGate(input: GateInput, deps: GateDependencies): Promise<GateOutput> {
  const suite = deps.suite ?? TRANSACTIONS_SUITE;
  const csv = await deps.store.getText(input.aggregatesUri);
  const aggregates = new Aggregates(parseAggregatesCsv(csv, input.date));
  const results = evaluateSuite(suite, aggregates);
  const summary = summarize(results);

  const folder = joinS3(input.reportPrefix, `dt=${input.date}`);
  const resultUri = joinS3(folder, 'result.json');
  const reportUri = joinS3(folder, 'report.html');
  const doc: ResultDocument = {
    suite: 'silver-transactions',
    dataset: 'silver_transactions',
    date: input.date,
    runId: input.runId,
    evaluatedAt: (deps.now ?? (() => new Date()))().toISOString(),
    aggregatesUri: input.aggregatesUri,
    summary,
    results,
  };
  await deps.store.putText(resultUri, `${JSON.stringify(doc, null, 2)}\n`, 'application/json');
  await deps.store.putText(reportUri, renderHtmlReport(doc), 'text/html; charset=utf-8');

  const failures = results
    .filter((r) => r.status === 'fail')
    .sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'critical' ? -1 : 1))
    .slice(0, 20)
    .map((r) => ({ id: r.id, severity: r.severity, message: r.message }));
  const message =
    summary.status === 'pass'
      ? `Quality gate passed for silver_transactions dt=${input.date} (${summary.passed}/${summary.total}, ${summary.skipped} skipped)`
      : `Quality gate ${summary.status.toUpperCase()} for silver_transactions dt=${input.date}: ${summary.failedCritical} critical, ${summary.failedWarning} warning failures; report ${reportUri}`;
  return {
    status: summary.status,
    date: input.date,
    runId: input.runId,
    summary,
    resultUri,
    reportUri,
    failures,
    message,
  };
}
