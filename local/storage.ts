/**
 * The local object store: `s3://bucket/key` ↔ `<root>/bucket/key`. One resolver for the whole local runtime
 * (the Python side, local/py/clv_local/storage.py, applies the same rule; test/local/storage.test.ts and
 * local/py/tests/test_storage.py check both against test/local/fixtures/resolver-cases.json).
 *
 * The root is $CLV_LOCAL_ROOT, or `.clv-local` in the repository root when unset.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../lib/paths.js';

export const LOCAL_ROOT_ENV = 'CLV_LOCAL_ROOT';
export const DEFAULT_LOCAL_ROOT = path.join(repoRoot, '.clv-local');

/** The local root: an explicit value, else $CLV_LOCAL_ROOT, else `<repo>/.clv-local`; always absolute. */
export function localRoot(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit ?? env[LOCAL_ROOT_ENV];
  return chosen && chosen.trim() !== '' ? path.resolve(chosen) : DEFAULT_LOCAL_ROOT;
}

export interface S3Location {
  bucket: string;
  /** The key or prefix, without a leading slash; '' for the bucket itself. */
  key: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://bucket/key`, failing with the URI when it is not one. */
export function parseS3Uri(uri: string): S3Location {
  if (!uri.startsWith('s3://')) throw new Error(`not an s3:// URI: '${uri}'`);
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1).replace(/^\/+/, '');
  if (!BUCKET_NAME.test(bucket)) throw new Error(`s3 URI '${uri}' has an invalid bucket name '${bucket}'`);
  const parts = key.split('/');
  if (parts.some((p) => p === '..' || p === '.')) {
    throw new Error(`s3 URI '${uri}' has a '.' or '..' path segment, which the local store refuses`);
  }
  return { bucket, key };
}

/** The local path of an object or prefix. A trailing slash in the key is kept out of the path. */
export function resolveS3Uri(uri: string, root: string = localRoot()): string {
  const { bucket, key } = parseS3Uri(uri);
  const trimmed = key.replace(/\/+$/, '');
  return trimmed === '' ? path.join(root, bucket) : path.join(root, bucket, ...trimmed.split('/').filter(Boolean));
}

/** The s3:// URI of a local path under the root (inverse of resolveS3Uri). */
export function toS3Uri(localPath: string, root: string = localRoot()): string {
  const rel = path.relative(root, path.resolve(localPath));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new Error(`'${localPath}' is not inside the local object store '${root}'`);
  }
  const [bucket, ...rest] = rel.split(path.sep);
  return `s3://${bucket}/${rest.join('/')}`;
}

/** Every object (file) under a prefix, as local paths, sorted; [] when the prefix does not exist. */
export function listObjects(prefixUri: string, root: string = localRoot()): string[] {
  const base = resolveS3Uri(prefixUri, root);
  if (!fs.existsSync(base)) return [];
  if (fs.statSync(base).isFile()) return [base];
  return fs
    .readdirSync(base, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name))
    .sort();
}

export function readObject(uri: string, root: string = localRoot()): Buffer {
  const p = resolveS3Uri(uri, root);
  if (!fs.existsSync(p) || !fs.statSync(p).isFile()) throw new Error(`no such object: ${uri} (${p})`);
  return fs.readFileSync(p);
}

export function writeObject(uri: string, body: string | Buffer, root: string = localRoot()): string {
  const p = resolveS3Uri(uri, root);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, body);
  return p;
}

/** Copies every object under an s3 prefix into a directory, keeping relative paths; returns the count. */
export function downloadPrefix(prefixUri: string, dir: string, root: string = localRoot()): number {
  const base = resolveS3Uri(prefixUri, root);
  const files = listObjects(prefixUri, root);
  for (const f of files) {
    const rel = fs.statSync(base).isFile() ? path.basename(f) : path.relative(base, f);
    const dest = path.join(dir, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(f, dest);
  }
  return files.length;
}

/** Copies every file under a directory to an s3 prefix, keeping relative paths; returns the count. */
export function uploadDir(dir: string, prefixUri: string, root: string = localRoot()): number {
  if (!fs.existsSync(dir)) return 0;
  const base = resolveS3Uri(prefixUri, root);
  let n = 0;
  for (const d of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!d.isFile()) continue;
    const src = path.join(d.parentPath, d.name);
    const dest = path.join(base, path.relative(dir, src));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(src, dest);
    n += 1;
  }
  return n;
}
