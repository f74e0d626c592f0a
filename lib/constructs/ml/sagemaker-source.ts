/**
 * The SageMaker source bundle: what of sagemaker/ ships to AWS and how. Script mode (train, serve) takes a
 * `sourcedir.tar.gz` (hyperparameter `sagemaker_submit_directory`, env `SAGEMAKER_SUBMIT_DIRECTORY`) whose root holds
 * the entry point (`sagemaker_program`) and the clv_model package; the evaluation processing job takes the loose
 * files (an S3 prefix input). Both come from one folder, so s3://<artifacts>/code/sagemaker/ holds the files and the
 * tarball side by side, as the local runtime lays it out (local/code.ts: the same file selection).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

/** Folders never shipped (tests and caches); dot-files are skipped too. */
const SKIP_DIRS = new Set(['tests', '__pycache__', '.pytest_cache', '.ruff_cache']);
/** Only Python modules and JSON (model contract files) are part of the code. */
const SHIPPED = /\.(py|json)$/;
/** File name of the script-mode bundle. */
export const SOURCE_TARBALL = 'sourcedir.tar.gz';

/** Repository-independent list of the files that ship, as POSIX paths relative to `dir`, sorted. */
export function sagemakerSourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) throw new Error(`SageMaker source folder not found: ${dir}`);
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name)) continue;
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && SHIPPED.test(entry.name)) out.push(child);
    }
  };
  walk('');
  if (out.length === 0) throw new Error(`SageMaker source folder ${dir} holds no .py or .json file`);
  return out.sort();
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header block (regular file, mode 0644, owner 0:0, mtime 0). */
function tarHeader(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name longer than 100 bytes: ${name}`);
  const block = Buffer.alloc(512, 0);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(0o644, 8), 100, 8, 'ascii');
  block.write(octal(0, 8), 108, 8, 'ascii');
  block.write(octal(0, 8), 116, 8, 'ascii');
  block.write(octal(size, 12), 124, 12, 'ascii');
  block.write(octal(0, 12), 136, 12, 'ascii');
  block.write('        ', 148, 8, 'ascii');
  block.write('0', 156, 1, 'ascii');
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
}

/** One file of the bundle: its path in the bundle (POSIX, relative) and where it is read from. */
export interface BundleEntry {
  readonly name: string;
  readonly file: string;
}

/**
 * What the bundle holds: the shipped files of `srcDir`, sorted by name. Fails, naming them, when a `required` file
 * is not among them (an entry point, or clv_model/feature_contract.json, which clv_model.spec.load_spec reads in the
 * SageMaker containers where neither clv_glue nor the repository's contracts/ folder exists).
 */
export function bundleEntries(srcDir: string, required: readonly string[] = []): BundleEntry[] {
  const names = sagemakerSourceFiles(srcDir);
  const missing = required.filter((r) => !names.includes(r));
  if (missing.length > 0) {
    throw new Error(`SageMaker bundle: ${srcDir} lacks ${missing.join(', ')}, which the jobs need`);
  }
  return names.map((name) => ({ name, file: path.join(srcDir, ...name.split('/')) }));
}

/** A content hash of the entries (names and bytes): the asset's fingerprint, so any shipped change redeploys. */
export function bundleHash(entries: BundleEntry[]): string {
  const hash = crypto.createHash('sha256');
  for (const e of entries) {
    const data = fs.readFileSync(e.file);
    hash.update(`${e.name}\0${data.length}\0`).update(data);
  }
  return hash.digest('hex');
}

/**
 * A gzip'd ustar archive of the entries, byte-for-byte reproducible: sorted entries, fixed owner, mode and
 * timestamps, gzip header without a timestamp.
 */
export function tarGz(entries: BundleEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const data = fs.readFileSync(entry.file);
    parts.push(tarHeader(entry.name, data.length), data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad > 0) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return zlib.gzipSync(Buffer.concat(parts), { level: 9 });
}

/**
 * Writes the bundle into `outDir`: every entry at its path plus `sourcedir.tar.gz` of the same entries. Returns the
 * entry names. Used as the asset's local bundling step (no Docker needed).
 */
export function writeSageMakerBundle(entries: BundleEntry[], outDir: string): string[] {
  for (const entry of entries) {
    const to = path.join(outDir, ...entry.name.split('/'));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(entry.file, to);
  }
  fs.writeFileSync(path.join(outDir, SOURCE_TARBALL), tarGz(entries));
  return entries.map((e) => e.name);
}
