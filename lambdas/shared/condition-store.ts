/**
 * A store of "conditions seen recently": a key recorded with an expiry, acquired atomically so that two concurrent
 * callers agree on which of them saw the condition first (used to de-duplicate alerts and similar one-shot actions).
 * DynamoDB in AWS (a conditional PutItem; the table's TTL attribute expires_at removes old items), files under the
 * local root in the local runtime (exclusive create of a lock file, write-then-rename of the record).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { z } from 'zod';

export interface ConditionRecord {
  key: string;
  /** Epoch seconds after which the record no longer counts. */
  expiresAt: number;
  attributes: Record<string, string>;
}

export interface ConditionStore {
  /** Atomically records key when it is absent or expired; true when this call recorded it (first occurrence within ttl). */
  acquire(key: string, ttlSeconds: number, attributes?: Record<string, string>, now?: Date): Promise<boolean>;
  /** The record; undefined when absent or expired. */
  get(key: string, now?: Date): Promise<ConditionRecord | undefined>;
  release(key: string): Promise<void>;
}

/** DynamoDB attribute names of the table (partition key pk, TTL attribute expires_at). */
export const CONDITION_TABLE_PARTITION_KEY = 'pk';
export const CONDITION_TABLE_TTL_ATTRIBUTE = 'expires_at';

function epochSeconds(now: Date): number {
  return Math.floor(now.getTime() / 1000);
}

function checkArguments(key: string, ttlSeconds: number): void {
  if (typeof key !== 'string' || key.length === 0) throw new Error('condition store: key must be a non-empty string');
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new Error(`condition store: ttlSeconds must be a positive number, got ${ttlSeconds}`);
  }
}

export class DynamoDbConditionStore implements ConditionStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = new DynamoDBClient({}),
  ) {}

  async acquire(key: string, ttlSeconds: number, attributes: Record<string, string> = {}, now = new Date()) {
    checkArguments(key, ttlSeconds);
    const nowS = epochSeconds(now);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            [CONDITION_TABLE_PARTITION_KEY]: { S: key },
            [CONDITION_TABLE_TTL_ATTRIBUTE]: { N: String(nowS + Math.ceil(ttlSeconds)) },
            attributes: { M: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { S: v }])) },
          },
          // the TTL sweeper deletes expired items late (up to days): an expired item counts as absent
          ConditionExpression: 'attribute_not_exists(#pk) OR #exp < :now',
          ExpressionAttributeNames: { '#pk': CONDITION_TABLE_PARTITION_KEY, '#exp': CONDITION_TABLE_TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': { N: String(nowS) } },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException') {
        return false;
      }
      throw err;
    }
  }

  async get(key: string, now = new Date()): Promise<ConditionRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [CONDITION_TABLE_PARTITION_KEY]: { S: key } },
        ConsistentRead: true,
      }),
    );
    const item = out.Item;
    if (!item) return undefined;
    const expiresAt = Number(item[CONDITION_TABLE_TTL_ATTRIBUTE]?.N);
    if (!Number.isFinite(expiresAt) || expiresAt < epochSeconds(now)) return undefined;
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(item.attributes?.M ?? {})) if (v.S !== undefined) attributes[k] = v.S;
    return { key, expiresAt, attributes };
  }

  async release(key: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: { [CONDITION_TABLE_PARTITION_KEY]: { S: key } } }),
    );
  }
}

const localRecordSchema = z.object({
  key: z.string(),
  expiresAt: z.number(),
  attributes: z.record(z.string(), z.string()),
});

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 15_000;

/**
 * The local runtime's store: one JSON file per key (named by the key's SHA-256) under
 * <root>/_local/condition-store/<table>/. A per-key lock file taken by exclusive create serialises the
 * read-check-write of acquire and release between processes; records are written to a temporary file and renamed
 * into place, so a reader never sees half a record. A lock older than 10 s (a crashed holder) is broken.
 */
export class LocalConditionStore implements ConditionStore {
  readonly dir: string;

  constructor(root: string, table: string) {
    if (!/^[A-Za-z0-9_.-]+$/.test(table)) throw new Error(`condition store: invalid table name '${table}'`);
    this.dir = path.join(path.resolve(root), '_local', 'condition-store', table);
  }

  private fileOf(key: string): string {
    return path.join(this.dir, `${createHash('sha256').update(key).digest('hex')}.json`);
  }

  private async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    await mkdir(this.dir, { recursive: true });
    const lock = `${this.fileOf(key)}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        const handle = await open(lock, 'wx');
        await handle.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = await stat(lock).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > LOCK_STALE_MS) {
          await unlink(lock).catch(() => undefined);
          continue;
        }
        if (Date.now() > deadline) throw new Error(`condition store: timed out waiting for lock ${lock}`);
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      }
    }
    try {
      return await fn();
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }

  private async read(key: string): Promise<ConditionRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.fileOf(key), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = localRecordSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`condition store: ${this.fileOf(key)} is not a condition record`);
    return parsed.data;
  }

  async acquire(key: string, ttlSeconds: number, attributes: Record<string, string> = {}, now = new Date()) {
    checkArguments(key, ttlSeconds);
    const nowS = epochSeconds(now);
    return this.withLock(key, async () => {
      const existing = await this.read(key);
      if (existing && existing.expiresAt >= nowS) return false;
      const record: ConditionRecord = { key, expiresAt: nowS + Math.ceil(ttlSeconds), attributes: { ...attributes } };
      const tmp = `${this.fileOf(key)}.${randomUUID()}.tmp`;
      await writeFile(tmp, JSON.stringify(record), 'utf8');
      await rename(tmp, this.fileOf(key));
      return true;
    });
  }

  async get(key: string, now = new Date()): Promise<ConditionRecord | undefined> {
    const record = await this.read(key);
    if (!record || record.expiresAt < epochSeconds(now)) return undefined;
    return record;
  }

  async release(key: string): Promise<void> {
    await this.withLock(key, async () => {
      await unlink(this.fileOf(key)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    });
  }
}

let dynamoClient: DynamoDBClient | undefined;

/** LocalConditionStore when CLV_LOCAL_ROOT is set (local runtime), DynamoDB (table name = table) otherwise. */
export function conditionStoreFor(table: string, env: NodeJS.ProcessEnv = process.env): ConditionStore {
  const root = env.CLV_LOCAL_ROOT;
  if (root) return new LocalConditionStore(root, table);
  dynamoClient ??= new DynamoDBClient({});
  return new DynamoDbConditionStore(table, dynamoClient);
}
