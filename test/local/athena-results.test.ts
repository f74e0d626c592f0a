/** Athena's result formats and the local Athena stand-in over fixture tables. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { duckDbType, type LakeTableLike } from '../../local/athena/catalog.js';
import { referencedTables } from '../../local/athena/engine.js';
import { athenaTimestamp, javaDouble, parseAthenaCsv, toAthenaCsv } from '../../local/athena/results.js';
import { FaultInjector } from '../../local/faults.js';
import {
  athenaGetQueryResults,
  athenaStartQueryExecution,
  WORKGROUP_OUTPUT_LOCATION,
} from '../../local/integrations/athena.js';
import type { Json, RuntimeServices } from '../../local/integrations/types.js';
import { readObject } from '../../local/storage.js';

describe('Athena CSV', () => {
  it('quotes every value and the header, doubles inner quotes, writes NULL as an empty unquoted field', () => {
    const csv = toAthenaCsv(
      [
        { name: 'id', type: 'varchar', precision: 0, scale: 0 },
        { name: 'note', type: 'varchar', precision: 0, scale: 0 },
        { name: 'n', type: 'bigint', precision: 0, scale: 0 },
      ],
      [
        ['a', 'say "hi", ok', '1'],
        ['b', '', null],
        ['c', 'two\nlines', '3'],
      ],
    );
    expect(csv).toBe('"id","note","n"\n"a","say ""hi"", ok","1"\n"b","",\n"c","two\nlines","3"\n');
    expect(parseAthenaCsv(csv)).toEqual({
      header: ['id', 'note', 'n'],
      rows: [
        ['a', 'say "hi", ok', '1'],
        ['b', '', null],
        ['c', 'two\nlines', '3'],
      ],
    });
  });

  it('renders doubles as Java does and timestamps with milliseconds', () => {
    expect([1.5, 100, 0.1 * 3, 1e7, 1.25e-5, -2e21, 0, 0.001].map(javaDouble)).toEqual([
      '1.5',
      '100.0',
      '0.30000000000000004',
      '1.0E7',
      '1.25E-5',
      '-2.0E21',
      '0.0',
      '0.001',
    ]);
    expect(athenaTimestamp('2024-01-02 03:04:05')).toBe('2024-01-02 03:04:05.000');
    expect(athenaTimestamp('2024-01-02 03:04:05.123456')).toBe('2024-01-02 03:04:05.123');
    expect(athenaTimestamp('2024-01-02 03:04:05.5+00')).toBe('2024-01-02 03:04:05.500 UTC');
  });
});

describe('local Athena over lake tables', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-athena-'));
  const orders: LakeTableLike = {
    name: 'orders',
    zone: 'curated',
    prefix: 'silver/orders',
    format: 'parquet',
    columns: [
      { name: 'order_id', type: 'string' },
      { name: 'amount', type: 'double' },
      { name: 'qty', type: 'int' },
      { name: 'ts', type: 'timestamp' },
    ],
    partitionKeys: [{ name: 'dt', type: 'string' }],
  };
  const empty: LakeTableLike = { ...orders, name: 'nothing_yet', prefix: 'silver/none' };
  const events: LakeTableLike = {
    name: 'raw_events',
    zone: 'raw',
    prefix: 'landing/events',
    format: 'json',
    columns: [
      { name: 'event_id', type: 'string' },
      { name: 'n', type: 'int' },
      { name: 'tags', type: 'array<string>' },
      { name: 'top', type: 'struct<feature:string,contribution:double>' },
    ],
    partitionKeys: [{ name: 'dt', type: 'string' }],
  };
  const broken: LakeTableLike = { ...orders, name: 'broken_parquet', prefix: 'silver/broken' };
  const logs: string[] = [];
  const rt: RuntimeServices = {
    root,
    env: {},
    execution: { name: 'e', arn: 'arn:e', stateMachineName: 'sm', startTime: '' },
    faults: new FaultInjector({}),
    extraTables: [orders, empty, events, broken],
    log: (m) => logs.push(m),
    startExecution: () => Promise.reject(new Error('unused')),
  };

  beforeAll(async () => {
    const inst = await DuckDBInstance.create(':memory:');
    const c = await inst.connect();
    for (const [dt, rows] of [
      [
        '2024-01-01',
        "('o1', 10.5, 2, TIMESTAMP '2024-01-01 10:00:00'), ('o2', NULL, 1, TIMESTAMP '2024-01-01 11:30:00')",
      ],
      ['2024-01-02', "('o3', 7.25, 3, TIMESTAMP '2024-01-02 09:00:00.123456')"],
    ] as const) {
      const dir = path.join(root, 'clv-local-curated', 'silver', 'orders', `dt=${dt}`);
      fs.mkdirSync(dir, { recursive: true });
      await c.run(
        `COPY (SELECT * FROM (VALUES ${rows}) v(order_id, amount, qty, ts)) TO '${dir}/part-0.parquet' (FORMAT PARQUET)`,
      );
      fs.writeFileSync(path.join(dir, '_SUCCESS'), '');
    }
    c.closeSync();
    inst.closeSync();
    const ev = path.join(root, 'clv-local-raw', 'landing', 'events', 'dt=2024-01-01');
    fs.mkdirSync(ev, { recursive: true });
    fs.writeFileSync(
      path.join(ev, 'events.jsonl'),
      [
        '{"event_id": "e1", "n": 1, "tags": ["a", "b"], "top": {"feature": "f", "contribution": 0.5}, "extra": true}',
        '{"event_id": "e2", "n": 2',
        '{"event_id": "e3", "n": 3, "tags": [], "top": null}',
      ].join('\n'),
    );
    const bad = path.join(root, 'clv-local-curated', 'silver', 'broken');
    fs.mkdirSync(bad, { recursive: true });
    fs.writeFileSync(path.join(bad, 'part-0.parquet'), 'not parquet');
  });

  const start = (params: Record<string, Json>) =>
    athenaStartQueryExecution.invoke(
      { stateName: 'Q', resource: 'arn:aws:states:::athena:startQueryExecution.sync', parameters: params },
      rt,
    ) as Promise<{ QueryExecution: Record<string, Json> & { ResultConfiguration: { OutputLocation: string } } }>;

  it('runs a query with parameters, writes <OutputLocation>/<id>.csv and returns the QueryExecution', async () => {
    const out = await start({
      QueryString: 'SELECT dt, order_id, amount, qty, ts FROM orders WHERE dt >= ? ORDER BY order_id',
      QueryExecutionContext: { Database: 'clv_local' },
      WorkGroup: 'clv-local',
      ExecutionParameters: ["'2024-01-01'"],
      ResultConfiguration: { OutputLocation: 's3://clv-local-athena-results/tests/' },
    });
    const qe = out.QueryExecution;
    expect(qe.Status).toMatchObject({ State: 'SUCCEEDED' });
    expect(qe.ResultConfiguration.OutputLocation).toBe(
      `s3://clv-local-athena-results/tests/${qe.QueryExecutionId}.csv`,
    );
    expect(qe.Statistics).toMatchObject({ DataScannedInBytes: 0 });
    expect(readObject(qe.ResultConfiguration.OutputLocation, root).toString()).toBe(
      [
        '"dt","order_id","amount","qty","ts"',
        '"2024-01-01","o1","10.5","2","2024-01-01 10:00:00.000"',
        '"2024-01-01","o2",,"1","2024-01-01 11:30:00.000"',
        '"2024-01-02","o3","7.25","3","2024-01-02 09:00:00.123"',
        '',
      ].join('\n'),
    );
  });

  it('uses the workgroup location when the request names none; an empty table is a typed empty view', async () => {
    const out = await start({
      QueryString: 'SELECT count(*) AS n, sum(amount) AS s FROM nothing_yet',
      QueryExecutionContext: { Database: 'clv_local' },
    });
    expect(out.QueryExecution.ResultConfiguration.OutputLocation.startsWith(WORKGROUP_OUTPUT_LOCATION)).toBe(true);
    expect(readObject(out.QueryExecution.ResultConfiguration.OutputLocation, root).toString()).toBe('"n","s"\n"0",\n');
  });

  it('returns GetQueryResults pages: header row first, NULL as {}, types in ResultSetMetadata', async () => {
    const out = await start({
      QueryString: 'SELECT order_id, amount FROM orders ORDER BY order_id',
      QueryExecutionContext: { Database: 'clv_local' },
    });
    const get = (p: Record<string, Json>) =>
      athenaGetQueryResults.invoke(
        { stateName: 'G', resource: 'arn:aws:states:::athena:getQueryResults', parameters: p },
        rt,
      ) as Promise<Record<string, Record<string, unknown>> & { NextToken?: string }>;
    const page1 = await get({ QueryExecutionId: out.QueryExecution.QueryExecutionId as string, MaxResults: 2 });
    expect(page1.ResultSet?.Rows).toEqual([
      { Data: [{ VarCharValue: 'order_id' }, { VarCharValue: 'amount' }] },
      { Data: [{ VarCharValue: 'o1' }, { VarCharValue: '10.5' }] },
    ]);
    expect(
      (
        page1.ResultSet?.ResultSetMetadata as { ColumnInfo: { Name: string; Type: string }[] } | undefined
      )?.ColumnInfo.map((c) => [c.Name, c.Type]),
    ).toEqual([
      ['order_id', 'varchar'],
      ['amount', 'double'],
    ]);
    const page2 = await get({
      QueryExecutionId: out.QueryExecution.QueryExecutionId as string,
      MaxResults: 2,
      NextToken: page1.NextToken as string,
    });
    expect(page2.ResultSet?.Rows).toEqual([
      { Data: [{ VarCharValue: 'o2' }, {}] },
      { Data: [{ VarCharValue: 'o3' }, { VarCharValue: '7.25' }] },
    ]);
    expect(page2.NextToken).toBeUndefined();
    await expect(get({ QueryExecutionId: 'no-such-id' })).rejects.toMatchObject({
      name: 'Athena.InvalidRequestException',
    });
  });

  it('reads JSON tables with the declared (nested) columns, a malformed line as NULLs (ignore.malformed.json)', async () => {
    const out = await start({
      QueryString: 'SELECT event_id, n, tags, top.feature AS f, dt FROM raw_events ORDER BY event_id NULLS LAST',
      QueryExecutionContext: { Database: 'clv_local' },
    });
    expect(readObject(out.QueryExecution.ResultConfiguration.OutputLocation, root).toString()).toBe(
      // the malformed line is a row of NULLs, as the JSON SerDe with ignore.malformed.json reads it
      '"event_id","n","tags","f","dt"\n"e1","1","[a, b]","f","2024-01-01"\n"e3","3","[]",,"2024-01-01"\n,,,,"2024-01-01"\n',
    );
  });

  it('prints rows and maps as Trino does', async () => {
    const out = await start({
      QueryString: "SELECT top, MAP(['k'], [1.5]) AS m FROM raw_events WHERE event_id = 'e1'",
      QueryExecutionContext: { Database: 'clv_local' },
    });
    expect(readObject(out.QueryExecution.ResultConfiguration.OutputLocation, root).toString()).toBe(
      '"top","m"\n"{feature=f, contribution=0.5}","{k=1.5}"\n',
    );
  });

  it('creates views only for the tables a query names, so an unrelated broken table does not fail it', async () => {
    expect(
      referencedTables('SELECT * FROM "Orders" o JOIN nothing_yet USING (order_id)', [orders, empty, broken]).map(
        (t) => t.name,
      ),
    ).toEqual(['orders', 'nothing_yet']);
    const ok = await start({
      QueryString: 'SELECT count(*) AS n FROM orders',
      QueryExecutionContext: { Database: 'clv_local' },
    });
    expect(ok.QueryExecution.Status).toMatchObject({ State: 'SUCCEEDED' });
    await expect(
      start({ QueryString: 'SELECT count(*) FROM broken_parquet', QueryExecutionContext: { Database: 'clv_local' } }),
    ).rejects.toMatchObject({
      name: 'States.TaskFailed',
    });
  });

  it('maps Glue types to DuckDB, nested ones included', () => {
    expect(duckDbType('array<struct<feature:string,contribution:double>>')).toBe(
      'STRUCT("feature" VARCHAR, "contribution" DOUBLE)[]',
    );
    expect(duckDbType('map<string,bigint>')).toBe('MAP(VARCHAR, BIGINT)');
    expect(duckDbType('decimal(10, 2)')).toBe('DECIMAL(10, 2)');
    expect(duckDbType('varchar(12)')).toBe('VARCHAR');
    expect(() => duckDbType('uniontype<int>')).toThrow("unsupported Glue column type 'uniontype<int>'");
  });

  it('fails a bad query as States.TaskFailed with the FAILED QueryExecution, a bad request as InvalidRequestException', async () => {
    const err = await start({
      QueryString: 'SELECT no_such_column FROM orders',
      QueryExecutionContext: { Database: 'clv_local' },
    }).catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'States.TaskFailed' });
    const cause = JSON.parse((err as Error).message) as {
      QueryExecution: { Status: { State: string; StateChangeReason: string } };
    };
    expect(cause.QueryExecution.Status.State).toBe('FAILED');
    expect(cause.QueryExecution.Status.StateChangeReason).toContain('no_such_column');
    await expect(start({ QueryExecutionContext: { Database: 'clv_local' } })).rejects.toMatchObject({
      name: 'Athena.InvalidRequestException',
    });
  });
});
