/** Shared pieces of the SageMaker stand-ins: names, ARNs, metric parsing, model archives, job records. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../lib/paths.js';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../constants.js';
import { serviceError } from '../errors.js';
import type { Json } from './types.js';

export const SAGEMAKER_DIR = path.join(repoRoot, 'sagemaker');
const JOB_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export type JobKind = 'training-job' | 'hyper-parameter-tuning-job' | 'transform-job' | 'processing-job' | 'model';

export function sagemakerArn(kind: JobKind, name: string): string {
  return `arn:aws:sagemaker:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${kind}/${name.toLowerCase()}`;
}

/** Rejects a job name SageMaker would reject (pattern, length), as the optimized integration reports it. */
export function checkJobName(name: unknown, field: string, maxLength = 63): string {
  if (typeof name !== 'string' || !JOB_NAME.test(name) || name.length > maxLength) {
    throw serviceError(
      'SageMaker',
      'AmazonSageMakerException',
      `1 validation error detected: Value '${String(name)}' at '${field}' failed to satisfy constraint: ` +
        `Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$ and length <= ${maxLength}`,
    );
  }
  return name;
}

/** Where the local runtime records SageMaker jobs (DescribeXxx results), one JSON file per job. */
export function jobRecordPath(root: string, kind: JobKind, name: string): string {
  return path.join(root, '_local', 'sagemaker', `${kind}s`, `${name}.json`);
}

/** Job names are unique per account and kind, as in SageMaker. */
export function claimJobName(root: string, kind: JobKind, name: string): void {
  const file = jobRecordPath(root, kind, name);
  if (fs.existsSync(file)) {
    throw serviceError(
      'SageMaker',
      kind === 'model' ? 'AmazonSageMakerException' : 'ResourceInUseException',
      `${kind} names must be unique within an AWS account and region, and a ${kind} with this name already exists (${sagemakerArn(kind, name)})`,
    );
  }
  writeJobRecord(root, kind, name, { status: 'InProgress' });
}

export function writeJobRecord(root: string, kind: JobKind, name: string, record: Json): void {
  const file = jobRecordPath(root, kind, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

export function readJobRecord(root: string, kind: JobKind, name: string): Record<string, Json> | undefined {
  const file = jobRecordPath(root, kind, name);
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Json>;
}

export interface MetricDefinition {
  Name: string;
  Regex: string;
}

/**
 * FinalMetricDataList as SageMaker builds it: each metric definition's regex is applied to the training log and
 * the last match's first capture group (a number) is the metric's final value.
 */
export function parseMetrics(log: string, definitions: MetricDefinition[], timestamp: number): Json[] {
  const out: Json[] = [];
  for (const def of definitions) {
    let re: RegExp;
    try {
      re = new RegExp(def.Regex, 'g');
    } catch (err) {
      throw serviceError(
        'SageMaker',
        'AmazonSageMakerException',
        `metric '${def.Name}': invalid Regex: ${(err as Error).message}`,
      );
    }
    let last: number | undefined;
    for (const m of log.matchAll(re)) {
      const value = Number(m[1] ?? m[0]);
      if (Number.isFinite(value)) last = value;
    }
    if (last !== undefined) out.push({ MetricName: def.Name, Value: last, Timestamp: timestamp });
  }
  return out;
}

/** SageMaker's SDK JSON-encodes hyperparameter values ("\"train.py\""); the training toolkit decodes them. */
export function decodeHyperparameter(value: string): Json {
  try {
    return JSON.parse(value) as Json;
  } catch {
    return value;
  }
}

/** Command-line arguments as the training toolkit passes hyperparameters (sagemaker_* ones excluded). */
export function hyperparameterArgs(hps: Record<string, string>): string[] {
  const args: string[] = [];
  for (const [k, v] of Object.entries(hps)) {
    if (k.startsWith('sagemaker_')) continue;
    const decoded = decodeHyperparameter(v);
    args.push(
      `--${k}`,
      typeof decoded === 'string' ? decoded : typeof decoded === 'object' ? JSON.stringify(decoded) : String(decoded),
    );
  }
  return args;
}

/** The entry script: hyperparameter sagemaker_program (a file of sagemaker/), else train.py. */
export function entryScript(hps: Record<string, string>, fallback: string): string {
  const raw = hps.sagemaker_program;
  const program = raw === undefined ? fallback : String(decodeHyperparameter(raw));
  const file = path.join(SAGEMAKER_DIR, path.basename(program));
  if (!fs.existsSync(file)) {
    throw serviceError(
      'SageMaker',
      'AmazonSageMakerException',
      `entry point ${program} not found in sagemaker/ (${file})`,
    );
  }
  return file;
}

/** tar -czf of a directory's contents (as SageMaker packs /opt/ml/model into model.tar.gz). */
export function tarGz(dir: string, archive: string): void {
  fs.mkdirSync(path.dirname(archive), { recursive: true });
  const entries = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const args = entries.length > 0 ? ['-czf', archive, '-C', dir, ...entries] : ['-czf', archive, '-T', '/dev/null'];
  const r = spawnSync('tar', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar failed for ${archive}: ${r.stderr}`);
}

export function untarGz(archive: string, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('tar', ['-xzf', archive, '-C', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tar -x failed for ${archive}: ${r.stderr}`);
}

export function stringRecord(value: Json | undefined, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw serviceError('SageMaker', 'AmazonSageMakerException', `${what} must be a map of strings`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw serviceError(
        'SageMaker',
        'AmazonSageMakerException',
        `${what}.${k} must be a string, got ${JSON.stringify(v)}`,
      );
    }
    out[k] = v;
  }
  return out;
}
