/**
 * Object storage behind one interface: S3 in AWS, a directory tree locally (s3://bucket/key ↔ <root>/bucket/key,
 * the local runtime's layout), an in-memory map in tests.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

export interface ObjectStore {
  /** The object's text (UTF-8); fails naming the URI when it does not exist. */
  getText(uri: string): Promise<string>;
  putText(uri: string, body: string, contentType: string): Promise<void>;
  /** Writes binary content (e.g. a Parquet file). */
  putBytes(uri: string, body: Uint8Array, contentType: string): Promise<void>;
}

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/** Splits s3://bucket/key; fails naming the URI when it is not one. */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (!match) throw new Error(`not an s3://bucket/key URI: '${uri}'`);
  return { bucket: match[1] as string, key: match[2] as string };
}

/** Joins an s3:// prefix and a relative key with exactly one slash. */
export function joinS3(prefix: string, ...parts: string[]): string {
  return [prefix.replace(/\/+$/, ''), ...parts.map((p) => p.replace(/^\/+|\/+$/g, ''))].join('/');
}

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly client: S3Client = new S3Client({})) {}

  async getText(uri: string): Promise<string> {
    const { bucket, key } = parseS3Uri(uri);
    const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!response.Body) throw new Error(`${uri}: empty response body`);
    return response.Body.transformToString('utf-8');
  }

  async putText(uri: string, body: string, contentType: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async putBytes(uri: string, body: Uint8Array, contentType: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  }
}

/** The local runtime's object storage: a directory with one folder per bucket. */
export class DirectoryObjectStore implements ObjectStore {
  constructor(private readonly root: string) {}

  pathOf(uri: string): string {
    const { bucket, key } = parseS3Uri(uri);
    const resolved = path.resolve(this.root, bucket, key);
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`${uri} escapes ${this.root}`);
    return resolved;
  }

  async getText(uri: string): Promise<string> {
    try {
      return await readFile(this.pathOf(uri), 'utf8');
    } catch (err) {
      throw new Error(`${uri}: cannot read ${this.pathOf(uri)}: ${(err as Error).message}`);
    }
  }

  async putText(uri: string, body: string): Promise<void> {
    const file = this.pathOf(uri);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, body, 'utf8');
  }

  async putBytes(uri: string, body: Uint8Array): Promise<void> {
    const file = this.pathOf(uri);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, body);
  }
}

/** The directory store when CLV_LOCAL_ROOT is set (local runtime), S3 otherwise. */
export function defaultObjectStore(env: NodeJS.ProcessEnv = process.env): ObjectStore {
  const root = env.CLV_LOCAL_ROOT;
  return root ? new DirectoryObjectStore(root) : new S3ObjectStore();
}

let cached: { store: ObjectStore; root: string | undefined } | undefined;

/**
 * The handlers' object store, made once per container and made again when CLV_LOCAL_ROOT changes (the local
 * runtime runs every handler in one process, one local root per execution).
 */
export function currentObjectStore(env: NodeJS.ProcessEnv = process.env): ObjectStore {
  const root = env.CLV_LOCAL_ROOT;
  if (cached === undefined || cached.root !== root) cached = { store: defaultObjectStore(env), root };
  return cached.store;
}
