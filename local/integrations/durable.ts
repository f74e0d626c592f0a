/**
 * Durable local equivalents of the control-plane services, as JSON files under <root>/_local/ that later steps
 * and later runs read:
 * - SageMaker Model Registry (aws-sdk:sagemaker:createModelPackage, updateModelPackage, describeModelPackage,
 *   listModelPackages): <root>/_local/registry/<group>/<version>.json; the stage convention of
 *   docs/model-registry.md (CustomerMetadataProperties.stage: Staging, Shadow, Canary, Production, Archived) is
 *   kept and checked, and `clv models` approves/rejects packages (setPackageDecision);
 * - SNS (sns:publish): one JSON line per message in <root>/_local/sns/<topic>.jsonl;
 * - EventBridge (events:putEvents): one JSON line per entry in <root>/_local/events.jsonl;
 * - S3 (aws-sdk:s3:getObject, putObject, copyObject): the local object store.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { MODEL_STAGES } from '../../lambdas/model-registry/registry.js';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../constants.js';
import { serviceError } from '../errors.js';
import { resolveS3Uri, writeObject } from '../storage.js';
import { type Integration, type Json, toJson } from './types.js';

function parse<T>(service: string, schema: z.ZodType<T>, value: Json, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw serviceError(service, 'ValidationException', `${what}: ${z.prettifyError(r.error)}`);
  return r.data;
}

function appendJsonLine(file: string, record: Json): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, `${JSON.stringify(record)}\n`);
}

// ---------------------------------------------------------------- model registry

const GROUP = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const APPROVAL = z.enum(['Approved', 'Rejected', 'PendingManualApproval']);

/** Customer metadata: string values; `stage`, when given, one of MODEL_STAGES. */
const CustomerMetadata = z
  .record(z.string(), z.string())
  .refine((m) => m.stage === undefined || (MODEL_STAGES as readonly string[]).includes(m.stage), {
    message: `CustomerMetadataProperties.stage must be one of ${MODEL_STAGES.join(', ')}`,
  });

export const registryDir = (root: string, group: string): string => path.join(root, '_local', 'registry', group);

export function packageArn(group: string, version: number): string {
  return `arn:aws:sagemaker:${LOCAL_REGION}:${LOCAL_ACCOUNT}:model-package/${group.toLowerCase()}/${version}`;
}

function parsePackageArn(arn: string): { group: string; version: number } {
  const m = /^arn:aws:sagemaker:[a-z0-9-]+:\d{12}:model-package\/([^/]+)\/(\d+)$/.exec(arn);
  if (!m) throw serviceError('SageMaker', 'ValidationException', `'${arn}' is not a versioned model package ARN`);
  return { group: m[1] as string, version: Number(m[2]) };
}

/** Every registered version of a group, oldest first. */
export function listPackages(root: string, group: string): Record<string, Json>[] {
  const dir = registryDir(root, group);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d+\.json$/.test(f))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Record<string, Json>)
    .sort((a, b) => (a.ModelPackageVersion as number) - (b.ModelPackageVersion as number));
}

function findGroupDir(root: string, lowerGroup: string): string | undefined {
  const base = path.join(root, '_local', 'registry');
  if (!fs.existsSync(base)) return undefined;
  return fs.readdirSync(base).find((g) => g.toLowerCase() === lowerGroup);
}

const CreateModelPackage = z.looseObject({
  ModelPackageGroupName: z.string().regex(GROUP),
  ModelApprovalStatus: APPROVAL.optional(),
  ModelPackageDescription: z.string().optional(),
  InferenceSpecification: z.looseObject({}).optional(),
  ModelMetrics: z.looseObject({}).optional(),
  CustomerMetadataProperties: CustomerMetadata.optional(),
  MetadataProperties: z.looseObject({}).optional(),
});

export const createModelPackage: Integration = {
  id: 'sagemaker:createModelPackage',
  matches: (r) => r === 'arn:aws:states:::aws-sdk:sagemaker:createModelPackage',
  transientError: 'SageMaker.SageMakerException',
  target: (call) => {
    const g = (call.parameters as Record<string, Json> | null)?.ModelPackageGroupName;
    return typeof g === 'string' ? g : undefined;
  },
  async invoke(call, rt) {
    const p = parse('SageMaker', CreateModelPackage, call.parameters, `${call.stateName} (CreateModelPackage)`);
    const group = p.ModelPackageGroupName;
    const version = listPackages(rt.root, group).length + 1;
    const arn = packageArn(group, version);
    const now = Date.now();
    const record: Record<string, Json> = {
      ...(toJson(p) as Record<string, Json>),
      ModelPackageName: group,
      ModelPackageGroupName: group,
      ModelPackageVersion: version,
      ModelPackageArn: arn,
      ModelApprovalStatus: p.ModelApprovalStatus ?? 'PendingManualApproval',
      ModelPackageStatus: 'Completed',
      CreationTime: now,
      LastModifiedTime: now,
      CreatedBy: { UserProfileName: rt.execution.arn },
    };
    const file = path.join(registryDir(rt.root, group), `${version}.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx' });
    rt.log(`model registry: ${group} v${version} (${record.ModelApprovalStatus})`);
    return { ModelPackageArn: arn };
  },
};

function packageFile(root: string, arn: string): string {
  const { group, version } = parsePackageArn(arn);
  const dir = findGroupDir(root, group);
  const file = dir ? path.join(root, '_local', 'registry', dir, `${version}.json`) : '';
  if (!dir || !fs.existsSync(file))
    throw serviceError('SageMaker', 'ResourceNotFoundException', `Model package ${arn} does not exist.`);
  return file;
}

const UpdateModelPackage = z.looseObject({
  ModelPackageArn: z.string(),
  ModelApprovalStatus: APPROVAL.optional(),
  ApprovalDescription: z.string().optional(),
  CustomerMetadataProperties: CustomerMetadata.optional(),
  CustomerMetadataPropertiesToRemove: z.array(z.string()).optional(),
});

export const updateModelPackage: Integration = {
  id: 'sagemaker:updateModelPackage',
  matches: (r) => r === 'arn:aws:states:::aws-sdk:sagemaker:updateModelPackage',
  transientError: 'SageMaker.SageMakerException',
  target: () => undefined,
  async invoke(call, rt) {
    const p = parse('SageMaker', UpdateModelPackage, call.parameters, `${call.stateName} (UpdateModelPackage)`);
    const file = packageFile(rt.root, p.ModelPackageArn);
    const record = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Json>;
    if (p.ModelApprovalStatus) record.ModelApprovalStatus = p.ModelApprovalStatus;
    if (p.ApprovalDescription !== undefined) record.ApprovalDescription = p.ApprovalDescription;
    if (p.CustomerMetadataProperties) {
      record.CustomerMetadataProperties = {
        ...((record.CustomerMetadataProperties as Record<string, Json>) ?? {}),
        ...p.CustomerMetadataProperties,
      };
    }
    if (p.CustomerMetadataPropertiesToRemove) {
      const meta = { ...((record.CustomerMetadataProperties as Record<string, Json>) ?? {}) };
      for (const k of p.CustomerMetadataPropertiesToRemove) delete meta[k];
      record.CustomerMetadataProperties = meta;
    }
    record.LastModifiedTime = Date.now();
    fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    return { ModelPackageArn: p.ModelPackageArn };
  },
};

export const describeModelPackage: Integration = {
  id: 'sagemaker:describeModelPackage',
  matches: (r) => r === 'arn:aws:states:::aws-sdk:sagemaker:describeModelPackage',
  transientError: 'SageMaker.SageMakerException',
  target: () => undefined,
  async invoke(call, rt) {
    const p = parse(
      'SageMaker',
      z.looseObject({ ModelPackageName: z.string() }),
      call.parameters,
      `${call.stateName} (DescribeModelPackage)`,
    );
    return JSON.parse(fs.readFileSync(packageFile(rt.root, p.ModelPackageName), 'utf8')) as Json;
  },
};

const ListModelPackages = z.looseObject({
  ModelPackageGroupName: z.string(),
  ModelApprovalStatus: APPROVAL.optional(),
  SortBy: z.enum(['Name', 'CreationTime']).optional(),
  SortOrder: z.enum(['Ascending', 'Descending']).optional(),
  MaxResults: z.number().int().min(1).max(100).optional(),
});

export const listModelPackages: Integration = {
  id: 'sagemaker:listModelPackages',
  matches: (r) => r === 'arn:aws:states:::aws-sdk:sagemaker:listModelPackages',
  transientError: 'SageMaker.SageMakerException',
  target: () => undefined,
  async invoke(call, rt) {
    const p = parse('SageMaker', ListModelPackages, call.parameters, `${call.stateName} (ListModelPackages)`);
    let all = listPackages(rt.root, p.ModelPackageGroupName).filter(
      (r) => !p.ModelApprovalStatus || r.ModelApprovalStatus === p.ModelApprovalStatus,
    );
    if ((p.SortOrder ?? 'Ascending') === 'Descending') all = all.reverse();
    return {
      ModelPackageSummaryList: all.slice(0, p.MaxResults ?? 100).map((r) => ({
        ModelPackageGroupName: r.ModelPackageGroupName as string,
        ModelPackageVersion: r.ModelPackageVersion as number,
        ModelPackageArn: r.ModelPackageArn as string,
        ModelPackageDescription: (r.ModelPackageDescription as string | undefined) ?? null,
        CreationTime: r.CreationTime as number,
        ModelPackageStatus: r.ModelPackageStatus as string,
        ModelApprovalStatus: r.ModelApprovalStatus as string,
      })),
    };
  },
};

/** One registry record as `clv models` shows it. */
export interface PackageView {
  version: number;
  arn: string;
  approval: string;
  stage: string;
  model_version: string;
  metadata: Record<string, string>;
  created: string;
  record: Record<string, Json>;
}

export function packageView(record: Record<string, Json>): PackageView {
  const metadata = (record.CustomerMetadataProperties as Record<string, string> | undefined) ?? {};
  return {
    version: record.ModelPackageVersion as number,
    arn: record.ModelPackageArn as string,
    approval: record.ModelApprovalStatus as string,
    stage: metadata.stage ?? '',
    model_version: metadata.model_version ?? '',
    metadata,
    created: new Date(record.CreationTime as number).toISOString(),
    record,
  };
}

/** One version of a group, or an error naming the versions there are. */
export function getPackage(root: string, group: string, version: number): PackageView {
  const all = listPackages(root, group);
  const found = all.find((r) => r.ModelPackageVersion === version);
  if (!found) {
    const known = all.map((r) => r.ModelPackageVersion).join(', ');
    throw new Error(
      `model package version ${version} not found in group ${group} ` +
        `(${known ? `versions: ${known}` : `no packages under ${registryDir(root, group)}`})`,
    );
  }
  return packageView(found);
}

function writePackage(root: string, group: string, record: Record<string, Json>): void {
  record.LastModifiedTime = Date.now();
  const file = path.join(registryDir(root, group), `${record.ModelPackageVersion as number}.json`);
  fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

export interface DecisionResult {
  package: PackageView;
  /** Packages that left Production because of an approval. */
  archived: PackageView[];
}

/**
 * A person's decision on a package, as the console's UpdateModelPackage does it: approve = Approved and stage
 * Production (the previous Production package becomes Archived); reject = Rejected and stage Archived.
 */
export function setPackageDecision(
  root: string,
  group: string,
  version: number,
  decision: 'approve' | 'reject',
  description?: string,
): DecisionResult {
  const target = getPackage(root, group, version).record;
  const meta = { ...((target.CustomerMetadataProperties as Record<string, Json>) ?? {}) };
  const archived: PackageView[] = [];
  if (decision === 'approve') {
    for (const other of listPackages(root, group)) {
      const m = (other.CustomerMetadataProperties as Record<string, Json> | undefined) ?? {};
      if (other.ModelPackageVersion === version || m.stage !== 'Production') continue;
      other.CustomerMetadataProperties = { ...m, stage: 'Archived' };
      writePackage(root, group, other);
      archived.push(packageView(other));
    }
    target.ModelApprovalStatus = 'Approved';
    meta.stage = 'Production';
  } else {
    target.ModelApprovalStatus = 'Rejected';
    meta.stage = 'Archived';
  }
  target.CustomerMetadataProperties = meta;
  if (description !== undefined) target.ApprovalDescription = description;
  writePackage(root, group, target);
  return { package: packageView(target), archived };
}

// ---------------------------------------------------------------- SNS, EventBridge

const TOPIC_ARN = /^arn:aws:sns:[a-z0-9-]+:\d{12}:([A-Za-z0-9_-]{1,256})$/;

export const snsTopicLog = (root: string, topic: string): string => path.join(root, '_local', 'sns', `${topic}.jsonl`);

export const snsPublish: Integration = {
  id: 'sns:publish',
  matches: (r) => r === 'arn:aws:states:::sns:publish',
  transientError: 'SNS.AmazonSNSException',
  target: (call) => {
    const t = (call.parameters as Record<string, Json> | null)?.TopicArn;
    return typeof t === 'string' ? t : undefined;
  },
  async invoke(call, rt) {
    const p = parse(
      'SNS',
      z.looseObject({
        TopicArn: z.string(),
        Message: z.union([z.string(), z.looseObject({})]),
        Subject: z.string().max(100).optional(),
        MessageAttributes: z.looseObject({}).optional(),
      }),
      call.parameters,
      `${call.stateName} (Publish)`,
    );
    const m = TOPIC_ARN.exec(p.TopicArn);
    if (!m) throw serviceError('SNS', 'InvalidParameterException', `Invalid parameter: TopicArn ${p.TopicArn}`);
    const messageId = randomUUID();
    // An object Message is serialized as Step Functions does before calling SNS.
    const message = typeof p.Message === 'string' ? p.Message : JSON.stringify(p.Message);
    appendJsonLine(snsTopicLog(rt.root, m[1] as string), {
      MessageId: messageId,
      TopicArn: p.TopicArn,
      Subject: p.Subject ?? null,
      Message: message,
      MessageAttributes: toJson(p.MessageAttributes ?? {}),
      Timestamp: new Date().toISOString(),
      Execution: rt.execution.arn,
    });
    rt.log(`sns ${m[1]}: ${p.Subject ?? message.slice(0, 80)}`);
    return {
      MessageId: messageId,
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: randomUUID() },
    };
  },
};

export const eventsLog = (root: string): string => path.join(root, '_local', 'events.jsonl');

export const eventsPutEvents: Integration = {
  id: 'events:putEvents',
  matches: (r) => r === 'arn:aws:states:::events:putEvents',
  transientError: 'EventBridge.AmazonEventBridgeException',
  target: () => undefined,
  async invoke(call, rt) {
    const p = parse(
      'EventBridge',
      z.looseObject({
        Entries: z
          .array(
            z.looseObject({
              Source: z.string().min(1),
              DetailType: z.string().min(1),
              Detail: z.union([z.string(), z.looseObject({})]),
              EventBusName: z.string().optional(),
              Resources: z.array(z.string()).optional(),
            }),
          )
          .min(1)
          .max(10),
      }),
      call.parameters,
      `${call.stateName} (PutEvents)`,
    );
    const ids = p.Entries.map((e) => {
      const id = randomUUID();
      appendJsonLine(eventsLog(rt.root), {
        id,
        source: e.Source,
        'detail-type': e.DetailType,
        detail: typeof e.Detail === 'string' ? (JSON.parse(e.Detail) as Json) : toJson(e.Detail),
        'event-bus-name': e.EventBusName ?? 'default',
        resources: e.Resources ?? [],
        time: new Date().toISOString(),
        account: LOCAL_ACCOUNT,
        region: LOCAL_REGION,
      });
      return { EventId: id };
    });
    return { Entries: ids, FailedEntryCount: 0 };
  },
};

// ---------------------------------------------------------------- S3 (AWS SDK integration)

const ObjectRef = z.looseObject({ Bucket: z.string().min(3), Key: z.string().min(1) });

export const s3GetObject: Integration = {
  id: 's3:getObject',
  matches: (r) => r === 'arn:aws:states:::aws-sdk:s3:getObject',
  transientError: 'S3.S3Exception',
  target: () => undefined,
  async invoke(call, rt) {
    const p = parse('S3', ObjectRef, call.parameters, `${call.stateName} (GetObject)`);
    const file = resolveS3Uri(`s3://${p.Bucket}/${p.Key}`, rt.root);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw serviceError('S3', 'NoSuchKeyException', `The specified key does not exist. (s3://${p.Bucket}/${p.Key})`);
    }
    const body = fs.readFileSync(file);
    return { Body: body.toString('utf8'), ContentLength: body.length, ContentType: 'application/octet-stream' };
  },
};

export const s3PutObject: Integration = {
  id: 's3:putObject',
  matches: (r) => r === 'arn:aws:states:::aws-sdk:s3:putObject',
  transientError: 'S3.S3Exception',
  target: () => undefined,
  async invoke(call, rt) {
    const p = parse(
      'S3',
      ObjectRef.extend({ Body: z.union([z.string(), z.looseObject({}), z.array(z.unknown())]) }),
      call.parameters,
      `${call.stateName} (PutObject)`,
    );
    writeObject(`s3://${p.Bucket}/${p.Key}`, typeof p.Body === 'string' ? p.Body : JSON.stringify(p.Body), rt.root);
    return { ETag: `"${randomUUID().replace(/-/g, '')}"` };
  },
};

export const s3CopyObject: Integration = {
  id: 's3:copyObject',
  matches: (r) => r === 'arn:aws:states:::aws-sdk:s3:copyObject',
  transientError: 'S3.S3Exception',
  target: () => undefined,
  async invoke(call, rt) {
    const p = parse(
      'S3',
      ObjectRef.extend({ CopySource: z.string().regex(/^[^/]{3,}\/.+$/, 'expected <bucket>/<key>') }),
      call.parameters,
      `${call.stateName} (CopyObject)`,
    );
    const source = decodeURIComponent(p.CopySource);
    const file = resolveS3Uri(`s3://${source}`, rt.root);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw serviceError('S3', 'NoSuchKeyException', `The specified key does not exist. (s3://${source})`);
    }
    writeObject(`s3://${p.Bucket}/${p.Key}`, fs.readFileSync(file), rt.root);
    return {
      CopyObjectResult: { ETag: `"${randomUUID().replace(/-/g, '')}"`, LastModified: new Date().toISOString() },
    };
  },
};
