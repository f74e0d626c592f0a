import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  conditionStoreFor,
  DynamoDbConditionStore,
  LocalConditionStore,
} from '../../lambdas/shared/condition-store.js';
import { repoRoot } from '../../lib/paths.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

describe('LocalConditionStore', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'cond-store-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('records a key once within its ttl and again once it expired (boundary: expired strictly after expiresAt)', async () => {
    const store = new LocalConditionStore(root, 'alerts');
    expect(await store.acquire('p|m', 60, { a: '1' }, T0)).toBe(true);
    expect(await store.acquire('p|m', 60, {}, at(30))).toBe(false);
    expect(await store.acquire('p|m', 60, {}, at(60))).toBe(false); // expiresAt = T0+60 still counts
    expect(await store.get('p|m', at(60))).toEqual({
      key: 'p|m',
      expiresAt: at(60).getTime() / 1000,
      attributes: { a: '1' },
    });
    expect(await store.get('p|m', at(61))).toBeUndefined();
    expect(await store.acquire('p|m', 60, { a: '2' }, at(61))).toBe(true);
    expect((await store.get('p|m', at(62)))?.attributes).toEqual({ a: '2' });
    expect(
      readdirSync(path.join(root, '_local', 'condition-store', 'alerts')).filter((f) => f.endsWith('.json')),
    ).toHaveLength(1);
  });

  it('release makes the key acquirable again; releasing an absent key is a no-op', async () => {
    const store = new LocalConditionStore(root, 'alerts');
    await store.release('absent');
    expect(await store.acquire('k', 600, {}, T0)).toBe(true);
    await store.release('k');
    expect(await store.get('k', T0)).toBeUndefined();
    expect(await store.acquire('k', 600, {}, T0)).toBe(true);
  });

  it('exactly one of many concurrent acquirers wins', async () => {
    const stores = [new LocalConditionStore(root, 't'), new LocalConditionStore(root, 't')];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (stores[i % 2] as LocalConditionStore).acquire('same', 60, {}, T0)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('exactly one of two processes wins', async () => {
    const run = promisify(execFile);
    const script = `
      import { LocalConditionStore } from ${JSON.stringify(path.join(repoRoot, 'lambdas/shared/condition-store.ts'))};
      const s = new LocalConditionStore(process.argv[2], 'proc');
      const won = await Promise.all(Array.from({ length: 10 }, (_, i) => s.acquire('k' + i, 60)));
      console.log(JSON.stringify(won));`;
    const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');
    const file = path.join(root, 'acquire.mts');
    writeFileSync(file, script);
    const outs = await Promise.all(
      [0, 1].map(() => run(tsx, [file, root], { cwd: repoRoot }).then((r) => JSON.parse(r.stdout))),
    );
    const [a, b] = outs as boolean[][];
    for (let i = 0; i < 10; i++) expect(Number(a?.[i]) + Number(b?.[i])).toBe(1);
  });

  it('refuses bad arguments naming them', async () => {
    const store = new LocalConditionStore(root, 't');
    await expect(store.acquire('', 60)).rejects.toThrow(/key/);
    await expect(store.acquire('k', 0)).rejects.toThrow(/ttlSeconds/);
    expect(() => new LocalConditionStore(root, '../x')).toThrow(/table/);
  });

  it('conditionStoreFor picks the local store when CLV_LOCAL_ROOT is set and DynamoDB otherwise', () => {
    expect(conditionStoreFor('t', { CLV_LOCAL_ROOT: root })).toBeInstanceOf(LocalConditionStore);
    expect(conditionStoreFor('t', {})).toBeInstanceOf(DynamoDbConditionStore);
  });
});

describe('DynamoDbConditionStore', () => {
  const ddb = mockClient(DynamoDBClient);
  beforeEach(() => ddb.reset());

  it('puts conditionally on absence or expiry with the TTL attribute', async () => {
    ddb.on(PutItemCommand).resolves({});
    const store = new DynamoDbConditionStore('tbl', new DynamoDBClient({ region: 'eu-west-1' }));
    expect(await store.acquire('p|m', 90, { status: 'firing' }, T0)).toBe(true);
    const input = ddb.commandCalls(PutItemCommand)[0]?.args[0].input;
    const now = T0.getTime() / 1000;
    expect(input).toMatchObject({
      TableName: 'tbl',
      Item: { pk: { S: 'p|m' }, expires_at: { N: String(now + 90) }, attributes: { M: { status: { S: 'firing' } } } },
      ConditionExpression: 'attribute_not_exists(#pk) OR #exp < :now',
      ExpressionAttributeNames: { '#pk': 'pk', '#exp': 'expires_at' },
      ExpressionAttributeValues: { ':now': { N: String(now) } },
    });
  });

  it('returns false when the condition fails and rethrows other errors', async () => {
    const store = new DynamoDbConditionStore('tbl', new DynamoDBClient({ region: 'eu-west-1' }));
    ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'x', $metadata: {} }));
    expect(await store.acquire('k', 60)).toBe(false);
    ddb.on(PutItemCommand).rejects(new Error('throttled'));
    await expect(store.acquire('k', 60)).rejects.toThrow('throttled');
  });

  it('get hides expired items; release deletes', async () => {
    const store = new DynamoDbConditionStore('tbl', new DynamoDBClient({ region: 'eu-west-1' }));
    const now = T0.getTime() / 1000;
    ddb.on(GetItemCommand).resolves({
      Item: { pk: { S: 'k' }, expires_at: { N: String(now + 10) }, attributes: { M: { a: { S: 'b' } } } },
    });
    expect(await store.get('k', T0)).toEqual({ key: 'k', expiresAt: now + 10, attributes: { a: 'b' } });
    expect(await store.get('k', at(11))).toBeUndefined();
    ddb.on(DeleteItemCommand).resolves({});
    await store.release('k');
    expect(ddb.commandCalls(DeleteItemCommand)[0]?.args[0].input).toEqual({
      TableName: 'tbl',
      Key: { pk: { S: 'k' } },
    });
  });
});
