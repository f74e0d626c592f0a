import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/paths.js';
import {
  DEFAULT_LOCAL_ROOT,
  downloadPrefix,
  listObjects,
  localRoot,
  readObject,
  resolveS3Uri,
  toS3Uri,
  uploadDir,
  writeObject,
} from '../../local/storage.js';

interface Case {
  uri: string;
  path?: string;
  error?: string;
}
const CASES = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/local/fixtures/resolver-cases.json'), 'utf8')) as {
  root: string;
  cases: Case[];
};

describe('s3:// resolver (same cases as local/py/tests/test_storage.py)', () => {
  it.each(CASES.cases)('$uri', (c) => {
    if (c.error !== undefined) {
      expect(() => resolveS3Uri(c.uri, CASES.root)).toThrow(c.error);
    } else {
      expect(resolveS3Uri(c.uri, CASES.root)).toBe(path.join(CASES.root, c.path as string));
    }
  });

  it('takes the root from an explicit value, then CLV_LOCAL_ROOT, then <repo>/.clv-local', () => {
    expect(localRoot('/x/y', { CLV_LOCAL_ROOT: '/a' })).toBe('/x/y');
    expect(localRoot(undefined, { CLV_LOCAL_ROOT: '/a/b/' })).toBe('/a/b');
    expect(localRoot(undefined, { CLV_LOCAL_ROOT: '  ' })).toBe(DEFAULT_LOCAL_ROOT);
    expect(localRoot(undefined, {})).toBe(path.join(repoRoot, '.clv-local'));
  });

  it('maps local paths back to URIs and refuses paths outside the root', () => {
    const uri = 's3://clv-local-gold/predictions/dt=2024-01-01/part-0.json';
    expect(toS3Uri(resolveS3Uri(uri, '/r'), '/r')).toBe(uri);
    expect(() => toS3Uri('/elsewhere/file', '/r')).toThrow('not inside the local object store');
  });
});

describe('object operations', () => {
  it('writes, lists, reads, downloads and uploads under prefixes', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-storage-'));
    writeObject('s3://clv-local-raw/a/x.txt', 'x', root);
    writeObject('s3://clv-local-raw/a/sub/y.txt', 'y', root);
    writeObject('s3://clv-local-raw/b/z.txt', 'z', root);
    expect(listObjects('s3://clv-local-raw/a/', root).map((f) => path.relative(root, f))).toEqual([
      'clv-local-raw/a/sub/y.txt',
      'clv-local-raw/a/x.txt',
    ]);
    expect(listObjects('s3://clv-local-raw/missing/', root)).toEqual([]);
    expect(readObject('s3://clv-local-raw/b/z.txt', root).toString()).toBe('z');
    expect(() => readObject('s3://clv-local-raw/b/none', root)).toThrow('no such object: s3://clv-local-raw/b/none');

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-dl-'));
    expect(downloadPrefix('s3://clv-local-raw/a', dir, root)).toBe(2);
    expect(fs.readFileSync(path.join(dir, 'sub/y.txt'), 'utf8')).toBe('y');
    // a single object as the prefix lands under its own name
    expect(downloadPrefix('s3://clv-local-raw/b/z.txt', dir, root)).toBe(1);
    expect(fs.readFileSync(path.join(dir, 'z.txt'), 'utf8')).toBe('z');

    expect(uploadDir(dir, 's3://clv-local-gold/copy/', root)).toBe(3);
    expect(readObject('s3://clv-local-gold/copy/sub/y.txt', root).toString()).toBe('y');
  });
});
