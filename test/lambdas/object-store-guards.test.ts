/**
 * The object-store port's guards (lambdas/shared/object-store.ts): the s3:// URI rule, prefix joining, the directory
 * store refusing a key that escapes its root and naming the URI when a read fails, and the S3 store's requests
 * (aws-sdk-client-mock).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DirectoryObjectStore,
  defaultObjectStore,
  joinS3,
  parseS3Uri,
  S3ObjectStore,
} from '../../lambdas/shared/object-store.js';

describe('parseS3Uri', () => {
  it('splits bucket and key', () => {
    expect(parseS3Uri('s3://clv-lake/silver/t/part-0.parquet')).toEqual({
      bucket: 'clv-lake',
      key: 'silver/t/part-0.parquet',
    });
    expect(parseS3Uri('s3://a.b/k')).toEqual({ bucket: 'a.b', key: 'k' });
    expect(parseS3Uri(`s3://${'a'.repeat(63)}/k`).bucket).toHaveLength(63);
  });
  it.each([
    's3://bucket',
    's3://bucket/',
    's3://ab/k',
    `s3://${'a'.repeat(64)}/k`,
    's3://Bucket/k',
    's3://-bucket/k',
    's3://bucket-/k',
    'https://bucket/k',
    ' s3://bucket/k',
  ])('refuses %s, naming it', (uri) => {
    expect(() => parseS3Uri(uri)).toThrow(`not an s3://bucket/key URI: '${uri}'`);
  });
});

describe('joinS3', () => {
  it('joins with exactly one slash, whatever the parts carry', () => {
    expect(joinS3('s3://b/p', 'dt=2024-03-01', 'result.json')).toBe('s3://b/p/dt=2024-03-01/result.json');
    expect(joinS3('s3://b/p//', '/dt=1/', '//x//')).toBe('s3://b/p/dt=1/x');
    expect(joinS3('s3://b/p/')).toBe('s3://b/p');
    expect(joinS3('s3://b/p', 'a/b')).toBe('s3://b/p/a/b');
  });
});

describe('DirectoryObjectStore', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'object-store-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('maps s3://bucket/key under its root and refuses a key that escapes it', () => {
    const store = new DirectoryObjectStore(root);
    expect(store.pathOf('s3://bucket/a/b.json')).toBe(path.join(root, 'bucket', 'a', 'b.json'));
    expect(() => store.pathOf('s3://bucket/../../etc/passwd')).toThrow(`s3://bucket/../../etc/passwd escapes ${root}`);
    expect(() => store.pathOf('s3://bucket/../other-bucket/x')).not.toThrow();
    expect(() => store.pathOf('s3://bucket/../..')).toThrow(/escapes/);
  });

  it('writes text and bytes, creating folders, and reads text back', async () => {
    const store = new DirectoryObjectStore(root);
    await store.putText('s3://bucket/deep/er/a.txt', 'héllo');
    expect(await store.getText('s3://bucket/deep/er/a.txt')).toBe('héllo');
    await store.putBytes('s3://bucket/bin/b.bin', new Uint8Array([0, 1, 255]));
    expect([...readFileSync(path.join(root, 'bucket', 'bin', 'b.bin'))]).toEqual([0, 1, 255]);
  });

  it('names the URI and the path when a read fails', async () => {
    const store = new DirectoryObjectStore(root);
    const file = path.join(root, 'bucket', 'missing.json');
    await expect(store.getText('s3://bucket/missing.json')).rejects.toThrow(
      new RegExp(`^s3://bucket/missing\\.json: cannot read ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ENOENT`),
    );
  });

  it('is the default store when CLV_LOCAL_ROOT is set, S3 otherwise', () => {
    expect(defaultObjectStore({ CLV_LOCAL_ROOT: root })).toBeInstanceOf(DirectoryObjectStore);
    expect(defaultObjectStore({ CLV_LOCAL_ROOT: '' })).toBeInstanceOf(S3ObjectStore);
    expect(defaultObjectStore({})).toBeInstanceOf(S3ObjectStore);
  });
});

describe('S3ObjectStore', () => {
  const s3 = mockClient(S3Client);
  beforeEach(() => s3.reset());

  it('gets text as UTF-8 and fails naming the URI on an empty body', async () => {
    s3.on(GetObjectCommand, { Bucket: 'clv-lake', Key: 'a/b.json' }).resolves({
      Body: { transformToString: async (encoding?: string) => (encoding === 'utf-8' ? '{"ok":1}' : 'wrong') },
    } as never);
    const store = new S3ObjectStore(new S3Client({}));
    expect(await store.getText('s3://clv-lake/a/b.json')).toBe('{"ok":1}');
    s3.on(GetObjectCommand, { Bucket: 'clv-lake', Key: 'empty' }).resolves({});
    await expect(store.getText('s3://clv-lake/empty')).rejects.toThrow('s3://clv-lake/empty: empty response body');
    await expect(store.getText('not-a-uri')).rejects.toThrow("not an s3://bucket/key URI: 'not-a-uri'");
  });

  it('puts text and bytes with bucket, key and content type', async () => {
    s3.on(PutObjectCommand).resolves({});
    const store = new S3ObjectStore(new S3Client({}));
    await store.putText('s3://clv-lake/r/result.json', '{}', 'application/json');
    await store.putBytes('s3://clv-lake/r/x.parquet', new Uint8Array([1]), 'application/vnd.apache.parquet');
    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'clv-lake', Key: 'r/result.json', Body: '{}', ContentType: 'application/json' },
      {
        Bucket: 'clv-lake',
        Key: 'r/x.parquet',
        Body: new Uint8Array([1]),
        ContentType: 'application/vnd.apache.parquet',
      },
    ]);
  });
});
