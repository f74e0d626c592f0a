import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAGEMAKER_REQUIRED_FILES } from '../../lib/constructs/ml/sagemaker-code.js';
import {
  bundleEntries,
  bundleHash,
  SOURCE_TARBALL,
  sagemakerSourceFiles,
  tarGz,
  writeSageMakerBundle,
} from '../../lib/constructs/ml/sagemaker-source.js';
import {
  XGBOOST_REGISTRY_ACCOUNTS,
  xgboostImageUri,
  xgboostRepositoryArn,
} from '../../lib/constructs/ml/xgboost-image.js';
import { repoRoot } from '../../lib/paths.js';

let tmp: string;
let src: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-sm-code-'));
  src = path.join(tmp, 'src');
  const files: Record<string, string> = {
    'train.py': 'print("train")\n',
    'evaluate.py': 'x = 1\n'.repeat(200),
    'pkg/__init__.py': '',
    'pkg/spec.json': '{"a": 1}\n',
    'pkg/__pycache__/spec.cpython-311.pyc': 'bytecode',
    'pkg/notes.md': 'not code',
    'tests/test_train.py': 'def test(): pass\n',
    '.ruff_cache/x.json': '{}',
    '.hidden.py': '',
  };
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), text);
  }
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Entries of a gzip'd ustar archive: name → content, checking every header checksum. */
function untar(buffer: Buffer): Map<string, string> {
  const raw = zlib.gunzipSync(buffer);
  const out = new Map<string, string>();
  let offset = 0;
  while (offset + 512 <= raw.length) {
    const header = raw.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) =>
      header
        .subarray(start, start + len)
        .toString('ascii')
        .replace(/\0.*$/s, '');
    const stored = Number.parseInt(field(148, 8).trim(), 8);
    const copy = Buffer.from(header);
    copy.fill(0x20, 148, 156);
    expect(copy.reduce((a, b) => a + b, 0)).toBe(stored);
    expect(field(257, 6)).toBe('ustar');
    const size = Number.parseInt(field(124, 12), 8);
    out.set(field(0, 100), raw.subarray(offset + 512, offset + 512 + size).toString('utf8'));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe('SageMaker source bundle', () => {
  it('ships .py and .json files only, without tests, caches or dot-files, sorted', () => {
    expect(sagemakerSourceFiles(src)).toEqual(['evaluate.py', 'pkg/__init__.py', 'pkg/spec.json', 'train.py']);
  });

  it("ships the repository's entry points and the clv_model package, not its tests", () => {
    const files = sagemakerSourceFiles(path.join(repoRoot, 'sagemaker'));
    expect(files).toEqual(expect.arrayContaining(['train.py', 'evaluate.py', 'inference.py', 'clv_model/__init__.py']));
    expect(files).toContain('clv_model/metric_definitions.json');
    expect(files.filter((f) => f.startsWith('tests/') || f.includes('__pycache__'))).toEqual([]);
  });

  it('fails clearly on a missing or empty folder', () => {
    expect(() => sagemakerSourceFiles(path.join(tmp, 'nope'))).toThrow(/SageMaker source folder not found/);
    fs.mkdirSync(path.join(tmp, 'empty'), { recursive: true });
    expect(() => sagemakerSourceFiles(path.join(tmp, 'empty'))).toThrow(/holds no \.py or \.json file/);
  });

  it('holds every file the jobs need (entry points, the feature contract copy) and names a missing one', () => {
    const names = bundleEntries(path.join(repoRoot, 'sagemaker'), SAGEMAKER_REQUIRED_FILES).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining([...SAGEMAKER_REQUIRED_FILES]));
    expect(() => bundleEntries(src, ['train.py', 'pkg/contract.json', 'serve.py'])).toThrow(
      /lacks pkg\/contract\.json, serve\.py, which the jobs need/,
    );
  });

  it('fingerprints the shipped content: an edit changes the hash, a test file does not', () => {
    const before = bundleHash(bundleEntries(src));
    fs.writeFileSync(path.join(src, 'tests', 'test_more.py'), 'x = 2\n');
    expect(bundleHash(bundleEntries(src))).toBe(before);
    fs.writeFileSync(path.join(src, 'train.py'), 'print("train v2")\n');
    expect(bundleHash(bundleEntries(src))).not.toBe(before);
    fs.writeFileSync(path.join(src, 'train.py'), 'print("train")\n');
    expect(bundleHash(bundleEntries(src))).toBe(before);
  });

  it('writes a reproducible tar.gz whose entries are the shipped files with their content', () => {
    const entries = bundleEntries(src);
    const a = tarGz(entries);
    const b = tarGz([...entries].reverse());
    expect(a.equals(b)).toBe(true);
    const files = untar(a);
    expect([...files.keys()]).toEqual(sagemakerSourceFiles(src));
    expect(files.get('evaluate.py')).toBe('x = 1\n'.repeat(200));
    expect(files.get('pkg/spec.json')).toBe('{"a": 1}\n');
  });

  it("is read by Python's tarfile (what the SageMaker toolkits extract it with)", () => {
    const out = path.join(tmp, 'py-check');
    fs.mkdirSync(out, { recursive: true });
    const tarball = path.join(out, SOURCE_TARBALL);
    fs.writeFileSync(tarball, tarGz(bundleEntries(src)));
    const python = path.join(repoRoot, '.venv', 'bin', 'python');
    const listed = execFileSync(python, [
      '-c',
      'import sys, tarfile\nwith tarfile.open(sys.argv[1], "r:gz") as t:\n  print("\\n".join(f"{m.name} {m.size} {oct(m.mode)}" for m in t.getmembers()))',
      tarball,
    ]).toString();
    expect(listed.trim().split('\n')).toEqual([
      'evaluate.py 1200 0o644',
      'pkg/__init__.py 0 0o644',
      'pkg/spec.json 9 0o644',
      'train.py 15 0o644',
    ]);
  });

  it('lays out the loose files and sourcedir.tar.gz side by side', () => {
    const out = path.join(tmp, 'bundle');
    fs.mkdirSync(out, { recursive: true });
    const names = writeSageMakerBundle(bundleEntries(src), out);
    expect(names).toEqual(sagemakerSourceFiles(src));
    expect(fs.readFileSync(path.join(out, 'pkg', 'spec.json'), 'utf8')).toBe('{"a": 1}\n');
    expect(fs.existsSync(path.join(out, 'tests'))).toBe(false);
    expect([...untar(fs.readFileSync(path.join(out, SOURCE_TARBALL))).keys()]).toEqual(names);
  });
});

describe('SageMaker XGBoost image', () => {
  it('builds the 3.0-5 image URI and repository ARN from the region', () => {
    expect(xgboostImageUri('eu-west-1')).toBe('141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5');
    expect(xgboostImageUri('us-east-1')).toBe('683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5');
    expect(xgboostRepositoryArn('us-west-2')).toBe('arn:aws:ecr:us-west-2:246618743249:repository/sagemaker-xgboost');
    for (const account of Object.values(XGBOOST_REGISTRY_ACCOUNTS)) expect(account).toMatch(/^\d{12}$/);
  });

  it('fails on an unsupported region, naming it and the supported ones', () => {
    expect(() => xgboostImageUri('xx-nowhere-1')).toThrow(/region 'xx-nowhere-1'; supported regions: af-south-1, /);
  });

  it('fails on an unresolved (environment-agnostic) region', () => {
    const stack = new Stack(new App(), 'Agnostic');
    expect(() => xgboostImageUri(stack.region)).toThrow(/needs a concrete region/);
  });
});
