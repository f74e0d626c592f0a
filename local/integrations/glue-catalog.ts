/**
 * The Glue Data Catalog's partitions (`arn:aws:states:::aws-sdk:glue:batchCreatePartition`): partitions of the
 * lake tables of lib/contracts/lake-tables.ts, recorded in <root>/_local/glue/partitions/<database>/<table>.json
 * (one GetPartitions-shaped record per partition, oldest first).
 *
 * As Glue does: an unknown database or table fails the whole call (`Glue.EntityNotFoundException`), a partition
 * whose values count differs from the table's partition keys fails it too (`Glue.InvalidInputException`), an
 * existing partition is not changed and comes back as an `Errors` entry with `AlreadyExistsException`, and the
 * partition's S3 location is not read (Glue never checks that data is there).
 *
 * Local checks Glue does not make, because a partition that breaks them reads wrongly in Athena while the local
 * DuckDB views (hive partitioning over the table prefix) would not notice: the Location must be the partition's
 * hive folder under the table's prefix (`s3://<zone bucket>/<prefix>/<key>=<value>/.../`), and the storage
 * descriptor's formats, SerDe and columns, when given, must be the table's (glueTableInput of
 * lib/constructs/catalog/glue-table.ts, what the CDK creates the table with).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { glueTableInput } from '../../lib/constructs/catalog/glue-table.js';
import { LAKE_TABLES, type LakeTable } from '../../lib/contracts/lake-tables.js';
import { bucketName, type LakeZone, LOCAL_ACCOUNT } from '../constants.js';
import { serviceError } from '../errors.js';
import { localSubstitution } from '../substitutions.js';
import { type Integration, type Json, toJson } from './types.js';

export const GLUE_BATCH_CREATE_PARTITION = 'arn:aws:states:::aws-sdk:glue:batchCreatePartition';

/** Glue's name rules for databases and tables (single-line string, 1 to 255 characters). */
const NAME = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\u0020-\uD7FF\uE000-\uFFFD\t]*$/, 'expected a single-line name');

const Column = z.strictObject({
  Name: NAME,
  Type: z.string().max(131072).optional(),
  Comment: z.string().max(255).optional(),
  Parameters: z.record(z.string(), z.string()).optional(),
});

const SerDeInfo = z.strictObject({
  Name: NAME.optional(),
  SerializationLibrary: z.string().max(255).optional(),
  Parameters: z.record(z.string(), z.string()).optional(),
});

/** Glue's StorageDescriptor (every field optional, unknown fields refused as the SDK model does). */
const StorageDescriptor = z.strictObject({
  Columns: z.array(Column).optional(),
  Location: z.string().max(2056).optional(),
  AdditionalLocations: z.array(z.string()).optional(),
  InputFormat: z.string().max(128).optional(),
  OutputFormat: z.string().max(128).optional(),
  Compressed: z.boolean().optional(),
  NumberOfBuckets: z.number().int().optional(),
  SerdeInfo: SerDeInfo.optional(),
  BucketColumns: z.array(z.string()).optional(),
  SortColumns: z.array(z.strictObject({ Column: NAME, SortOrder: z.number().int().min(0).max(1) })).optional(),
  Parameters: z.record(z.string(), z.string()).optional(),
  SkewedInfo: z.looseObject({}).optional(),
  StoredAsSubDirectories: z.boolean().optional(),
  SchemaReference: z.looseObject({}).optional(),
});

const PartitionInput = z.strictObject({
  Values: z.array(z.string().max(1024)),
  LastAccessTime: z.union([z.number(), z.string()]).optional(),
  StorageDescriptor: StorageDescriptor.optional(),
  Parameters: z.record(z.string(), z.string()).optional(),
  LastAnalyzedTime: z.union([z.number(), z.string()]).optional(),
});

/** BatchCreatePartition's request (Glue API: at most 100 partitions per call). */
export const BatchCreatePartitionRequest = z.strictObject({
  CatalogId: z.string().min(1).max(255).optional(),
  DatabaseName: NAME,
  TableName: NAME,
  PartitionInputList: z.array(PartitionInput).max(100),
});
export type BatchCreatePartitionRequest = z.infer<typeof BatchCreatePartitionRequest>;

/** One entry of the response's `Errors` (PartitionError). */
export interface PartitionError {
  PartitionValues: string[];
  ErrorDetail: { ErrorCode: string; ErrorMessage: string };
}

/** A recorded partition, as GetPartitions returns it. */
export interface PartitionRecord {
  CatalogId: string;
  DatabaseName: string;
  TableName: string;
  Values: string[];
  StorageDescriptor: Json;
  Parameters: Record<string, string>;
  CreationTime: string;
}

/** The file holding a table's partitions. */
export const partitionsFile = (root: string, database: string, table: string): string =>
  path.join(root, '_local', 'glue', 'partitions', database, `${table}.json`);

/** The recorded partitions of a table, oldest first ([] when none). */
export function gluePartitions(root: string, database: string, table: string): PartitionRecord[] {
  const file = partitionsFile(root, database, table);
  if (!fs.existsSync(file)) return [];
  return JSON.parse(fs.readFileSync(file, 'utf8')) as PartitionRecord[];
}

function writePartitions(root: string, database: string, table: string, records: PartitionRecord[]): void {
  const file = partitionsFile(root, database, table);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(records, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

const ZONE_BUCKET: Record<LakeTable['zone'], LakeZone> = {
  raw: 'Raw',
  curated: 'Curated',
  gold: 'Gold',
  features: 'Features',
  artifacts: 'Artifacts',
};

/** s3://<zone bucket>/<prefix>/ of a lake table in the local account. */
export const localTableLocation = (table: LakeTable): string =>
  `s3://${bucketName(ZONE_BUCKET[table.zone])}/${table.prefix}/`;

const withSlash = (uri: string): string => (uri.endsWith('/') ? uri : `${uri}/`);

/** Local check: the partition's Location is its hive folder under the table's prefix. */
function checkLocation(table: LakeTable, values: string[], location: string | undefined, where: string): void {
  const tableLocation = localTableLocation(table);
  if (location === undefined) {
    throw serviceError(
      'Glue',
      'InvalidInputException',
      `${where}: StorageDescriptor.Location: expected the partition's folder under ${tableLocation} (local check)`,
    );
  }
  const given = withSlash(location);
  if (!given.startsWith(tableLocation) || given === tableLocation) {
    throw serviceError(
      'Glue',
      'InvalidInputException',
      `${where}: StorageDescriptor.Location: '${location}' is outside the table prefix ${tableLocation} of ${table.name} (local check)`,
    );
  }
  const expected = `${tableLocation}${table.partitionKeys.map((k, i) => `${k.name}=${values[i]}`).join('/')}/`;
  if (given !== expected) {
    throw serviceError(
      'Glue',
      'InvalidInputException',
      `${where}: StorageDescriptor.Location: expected ${expected} (the hive folder of the values), got '${location}' (local check)`,
    );
  }
}

/** Local check: formats, SerDe and columns, when given, are the table's. */
function checkStorage(
  table: LakeTable,
  sd: NonNullable<z.infer<typeof PartitionInput>['StorageDescriptor']>,
  where: string,
): void {
  const own = glueTableInput(table, localTableLocation(table)).storageDescriptor as {
    inputFormat?: string;
    outputFormat?: string;
    serdeInfo?: { serializationLibrary?: string };
    columns?: { name: string; type?: string }[];
  };
  const mismatch = (field: string, expected: unknown, got: unknown) =>
    serviceError(
      'Glue',
      'InvalidInputException',
      `${where}: StorageDescriptor.${field}: expected ${JSON.stringify(expected)} (table ${table.name}), got ${JSON.stringify(got)} (local check: Athena reads a partition with its own descriptor)`,
    );
  if (sd.InputFormat !== undefined && sd.InputFormat !== own.inputFormat) {
    throw mismatch('InputFormat', own.inputFormat, sd.InputFormat);
  }
  if (sd.OutputFormat !== undefined && sd.OutputFormat !== own.outputFormat) {
    throw mismatch('OutputFormat', own.outputFormat, sd.OutputFormat);
  }
  const serde = sd.SerdeInfo?.SerializationLibrary;
  if (serde !== undefined && serde !== own.serdeInfo?.serializationLibrary) {
    throw mismatch('SerdeInfo.SerializationLibrary', own.serdeInfo?.serializationLibrary, serde);
  }
  if (sd.Columns !== undefined) {
    const expected = (own.columns ?? []).map((c) => `${c.name} ${c.type}`);
    const got = sd.Columns.map((c) => `${c.Name} ${c.Type ?? ''}`.trim());
    if (JSON.stringify(expected) !== JSON.stringify(got)) throw mismatch('Columns', expected, got);
  }
}

/**
 * BatchCreatePartition on the local catalog: validates the request, records the new partitions, returns
 * `{Errors}` with an AlreadyExistsException entry for each partition that was there already.
 */
export function batchCreatePartition(
  root: string,
  parameters: Json,
  where = 'BatchCreatePartition',
): { Errors: PartitionError[] } {
  const parsed = BatchCreatePartitionRequest.safeParse(parameters);
  if (!parsed.success) {
    throw serviceError('Glue', 'InvalidInputException', `${where}: ${z.prettifyError(parsed.error)}`);
  }
  const p = parsed.data;
  const database = localSubstitution('GlueDatabase');
  if (p.CatalogId !== undefined && p.CatalogId !== LOCAL_ACCOUNT) {
    throw serviceError('Glue', 'EntityNotFoundException', `${where}: Catalog ${p.CatalogId} not found.`);
  }
  if (p.DatabaseName !== database) {
    throw serviceError(
      'Glue',
      'EntityNotFoundException',
      `${where}: Database ${p.DatabaseName} not found. (the local catalog has ${database})`,
    );
  }
  const table = LAKE_TABLES.find((t) => t.name === p.TableName);
  if (!table) {
    throw serviceError(
      'Glue',
      'EntityNotFoundException',
      `${where}: Table ${p.TableName} not found. (lake tables: ${LAKE_TABLES.map((t) => t.name).join(', ')})`,
    );
  }
  p.PartitionInputList.forEach((input, i) => {
    const at = `${where}: PartitionInputList[${i}]`;
    if (input.Values.length !== table.partitionKeys.length) {
      throw serviceError(
        'Glue',
        'InvalidInputException',
        `${at}.Values: expected ${table.partitionKeys.length} values (${table.partitionKeys.map((k) => k.name).join(', ')}), got ${input.Values.length}: The number of partition keys do not match the number of partition values`,
      );
    }
    checkLocation(table, input.Values, input.StorageDescriptor?.Location, at);
    if (input.StorageDescriptor) checkStorage(table, input.StorageDescriptor, at);
  });

  const records = gluePartitions(root, database, table.name);
  const key = (values: readonly string[]) => JSON.stringify(values);
  const existing = new Set(records.map((r) => key(r.Values)));
  const errors: PartitionError[] = [];
  for (const input of p.PartitionInputList) {
    if (existing.has(key(input.Values))) {
      errors.push({
        PartitionValues: input.Values,
        ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' },
      });
      continue;
    }
    existing.add(key(input.Values));
    records.push({
      CatalogId: LOCAL_ACCOUNT,
      DatabaseName: database,
      TableName: table.name,
      Values: input.Values,
      StorageDescriptor: toJson(input.StorageDescriptor ?? {}),
      Parameters: input.Parameters ?? {},
      CreationTime: new Date().toISOString(),
    });
  }
  writePartitions(root, database, table.name, records);
  return { Errors: errors };
}

export const glueBatchCreatePartition: Integration = {
  id: 'glue:batchCreatePartition',
  matches: (r) => r === GLUE_BATCH_CREATE_PARTITION,
  transientError: 'Glue.ThrottlingException',
  target: (call) => {
    const p = call.parameters as Record<string, Json> | null;
    return typeof p?.DatabaseName === 'string' && typeof p.TableName === 'string'
      ? `${p.DatabaseName}.${p.TableName}`
      : undefined;
  },
  async invoke(call, rt) {
    const out = batchCreatePartition(rt.root, call.parameters, `${call.stateName} (BatchCreatePartition)`);
    const created = (call.parameters as { PartitionInputList?: unknown[] }).PartitionInputList?.length ?? 0;
    rt.log(
      `glue catalog: ${created - out.Errors.length} partition(s) created, ` +
        `${out.Errors.length} error(s)${out.Errors.map((e) => ` ${e.ErrorDetail.ErrorCode} ${e.PartitionValues.join('/')}`).join(',')}`,
    );
    return toJson(out);
  },
};
