/**
 * Athena: `arn:aws:states:::athena:startQueryExecution.sync` runs the query on DuckDB (local/athena/) and writes
 * the result CSV to <OutputLocation>/<QueryExecutionId>.csv (ResultConfiguration.OutputLocation, else the
 * workgroup's default location); `arn:aws:states:::athena:getQueryResults` pages through that result.
 * A query that fails is States.TaskFailed with the QueryExecution (Status.State FAILED) as Cause; a malformed
 * request is Athena.InvalidRequestException. The execution record lives in <root>/_local/athena/<id>.json.
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { contractTables } from '../athena/catalog.js';
import { runAthenaQuery } from '../athena/engine.js';
import { type ColumnInfo, parseAthenaCsv, resultSet, toAthenaCsv } from '../athena/results.js';
import { bucketName } from '../constants.js';
import { jobFailed, serviceError } from '../errors.js';
import { readObject, writeObject } from '../storage.js';
import { type Integration, type Json, type RuntimeServices, toJson } from './types.js';

/** The local workgroup's result location: the Lake stack's workgroup ResultConfiguration (…/results/). */
export const WORKGROUP_OUTPUT_LOCATION = `s3://${bucketName('AthenaResults')}/results/`;

const StartQueryExecution = z.looseObject({
  QueryString: z.string().min(1),
  QueryExecutionContext: z.looseObject({ Database: z.string().min(1), Catalog: z.string().optional() }).optional(),
  ResultConfiguration: z.looseObject({ OutputLocation: z.string().startsWith('s3://').optional() }).optional(),
  WorkGroup: z.string().optional(),
  ExecutionParameters: z.array(z.string()).optional(),
});

const GetQueryResults = z.looseObject({
  QueryExecutionId: z.string().min(1),
  MaxResults: z.number().int().min(1).max(1000).optional(),
  NextToken: z.string().optional(),
});

function parse<T>(schema: z.ZodType<T>, value: Json, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw serviceError('Athena', 'InvalidRequestException', `${what}: ${z.prettifyError(r.error)}`);
  return r.data;
}

const recordPath = (root: string, id: string): string => path.join(root, '_local', 'athena', `${id}.json`);

export async function startQuery(
  params: z.infer<typeof StartQueryExecution>,
  rt: RuntimeServices,
): Promise<Record<string, Json>> {
  const id = randomUUID();
  const database = params.QueryExecutionContext?.Database ?? 'default';
  const location = (params.ResultConfiguration?.OutputLocation ?? WORKGROUP_OUTPUT_LOCATION).replace(/\/*$/, '/');
  const outputLocation = `${location}${id}.csv`;
  const submitted = Date.now();
  const execution: Record<string, Json> = {
    QueryExecutionId: id,
    Query: params.QueryString,
    StatementType: 'DML',
    ResultConfiguration: { OutputLocation: outputLocation },
    QueryExecutionContext: { Database: database, Catalog: params.QueryExecutionContext?.Catalog ?? 'AwsDataCatalog' },
    WorkGroup: params.WorkGroup ?? 'primary',
    EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' },
    SubstatementType: 'SELECT',
    ...(params.ExecutionParameters ? { ExecutionParameters: params.ExecutionParameters } : {}),
  };
  let columns: ColumnInfo[] = [];
  try {
    const tables = [...(await contractTables()), ...rt.extraTables];
    const result = await runAthenaQuery({
      sql: params.QueryString,
      parameters: params.ExecutionParameters ?? [],
      database,
      root: rt.root,
      tables,
    });
    columns = result.columns;
    writeObject(outputLocation, toAthenaCsv(result.columns, result.rows), rt.root);
    rt.log(`athena query ${id.slice(0, 8)}…: ${result.rows.length} row(s) → ${outputLocation}`);
  } catch (err) {
    const done = Date.now();
    execution.Status = {
      State: 'FAILED',
      StateChangeReason: (err as Error).message,
      SubmissionDateTime: submitted,
      CompletionDateTime: done,
      AthenaError: { ErrorCategory: 2, ErrorType: 1006, Retryable: false, ErrorMessage: (err as Error).message },
    };
    fs.mkdirSync(path.dirname(recordPath(rt.root, id)), { recursive: true });
    fs.writeFileSync(recordPath(rt.root, id), JSON.stringify({ QueryExecution: execution, Columns: [] }, null, 2));
    throw jobFailed({ QueryExecution: execution });
  }
  const done = Date.now();
  execution.Status = { State: 'SUCCEEDED', SubmissionDateTime: submitted, CompletionDateTime: done };
  execution.Statistics = {
    EngineExecutionTimeInMillis: done - submitted,
    DataScannedInBytes: 0,
    TotalExecutionTimeInMillis: done - submitted,
    QueryQueueTimeInMillis: 0,
    ServicePreProcessingTimeInMillis: 0,
    QueryPlanningTimeInMillis: 0,
    ServiceProcessingTimeInMillis: 0,
    ResultReuseInformation: { ReusedPreviousResult: false },
  };
  fs.mkdirSync(path.dirname(recordPath(rt.root, id)), { recursive: true });
  fs.writeFileSync(
    recordPath(rt.root, id),
    JSON.stringify({ QueryExecution: execution, Columns: toJson(columns) }, null, 2),
  );
  return execution;
}

export const athenaStartQueryExecution: Integration = {
  id: 'athena:startQueryExecution.sync',
  matches: (r) => r === 'arn:aws:states:::athena:startQueryExecution.sync',
  transientError: 'Athena.AmazonAthenaException',
  target: () => undefined,
  async invoke(call, rt) {
    const params = parse(StartQueryExecution, call.parameters, `${call.stateName} (StartQueryExecution)`);
    return { QueryExecution: await startQuery(params, rt) };
  },
};

export const athenaGetQueryResults: Integration = {
  id: 'athena:getQueryResults',
  matches: (r) => r === 'arn:aws:states:::athena:getQueryResults',
  transientError: 'Athena.AmazonAthenaException',
  target: () => undefined,
  async invoke(call, rt) {
    const p = parse(GetQueryResults, call.parameters, `${call.stateName} (GetQueryResults)`);
    const file = recordPath(rt.root, p.QueryExecutionId);
    if (!fs.existsSync(file)) {
      throw serviceError('Athena', 'InvalidRequestException', `QueryExecution ${p.QueryExecutionId} was not found`);
    }
    const record = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      QueryExecution: { Status: { State: string }; ResultConfiguration: { OutputLocation: string } };
      Columns: ColumnInfo[];
    };
    if (record.QueryExecution.Status.State !== 'SUCCEEDED') {
      throw serviceError(
        'Athena',
        'InvalidRequestException',
        `Query has not yet finished. Current state: ${record.QueryExecution.Status.State}`,
      );
    }
    const { rows } = parseAthenaCsv(
      readObject(record.QueryExecution.ResultConfiguration.OutputLocation, rt.root).toString('utf8'),
    );
    const max = p.MaxResults ?? 1000;
    const offset = p.NextToken === undefined ? 0 : Number(p.NextToken);
    if (!Number.isInteger(offset) || offset < 0)
      throw serviceError('Athena', 'InvalidRequestException', 'invalid NextToken');
    // The header row counts toward MaxResults on the first page, as in Athena.
    const take = offset === 0 ? max - 1 : max;
    const page = rows.slice(offset, offset + take);
    const next = offset + take < rows.length ? String(offset + take) : undefined;
    return {
      ResultSet: resultSet(record.Columns, page, offset === 0),
      UpdateCount: 0,
      ...(next ? { NextToken: next } : {}),
    };
  },
};
