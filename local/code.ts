/**
 * Local "deployment" of the SageMaker source: copies sagemaker/ (entry points and the clv_model package, no tests
 * or caches) to s3://clv-local-artifacts/code/sagemaker/, where the state machines' processing jobs read their
 * code from (in AWS the CDK uploads the same folder). Runs before each local execution, so code edits apply.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bucketName } from './constants.js';
import { SAGEMAKER_DIR } from './integrations/sagemaker-common.js';
import { resolveS3Uri } from './storage.js';

export const CODE_PREFIX = `s3://${bucketName('Artifacts')}/code/sagemaker/`;
const SKIP = new Set(['tests', '__pycache__', '.pytest_cache', '.ruff_cache']);

export function publishSagemakerCode(root: string): number {
  const dest = resolveS3Uri(CODE_PREFIX, root);
  fs.rmSync(dest, { recursive: true, force: true });
  let n = 0;
  const copy = (src: string, out: string): void => {
    for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
      if (SKIP.has(entry.name) || entry.name.startsWith('.')) continue;
      const from = path.join(src, entry.name);
      const to = path.join(out, entry.name);
      if (entry.isDirectory()) {
        copy(from, to);
      } else if (entry.isFile() && /\.(py|json)$/.test(entry.name)) {
        fs.mkdirSync(out, { recursive: true });
        fs.copyFileSync(from, to);
        n += 1;
      }
    }
  };
  if (fs.existsSync(SAGEMAKER_DIR)) copy(SAGEMAKER_DIR, dest);
  return n;
}
