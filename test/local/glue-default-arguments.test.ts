/** The local Glue stand-in merges each job's default arguments (lib/contracts/glue-jobs.ts) under the run's. */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GLUE_JOBS, glueJobSpec, LOCAL_ONLY_PII_SALT } from '../../lib/contracts/glue-jobs.js';
import { repoRoot } from '../../lib/paths.js';
import { effectiveArguments, glueScript, localDefaultArguments } from '../../local/integrations/glue.js';

describe('Glue default arguments, locally', () => {
  it('declares every platform job with an existing script', async () => {
    const fs = await import('node:fs');
    for (const spec of Object.values(GLUE_JOBS)) expect(fs.existsSync(glueScript(spec.scriptName))).toBe(true);
    expect(glueJobSpec('no_such_job')).toBeUndefined();
    expect(glueJobSpec('toString')).toBeUndefined();
  });

  it('gives the ingest job a local-only salt of 32 bytes and the contracts folder', () => {
    expect(Buffer.byteLength(LOCAL_ONLY_PII_SALT, 'utf8')).toBe(32);
    expect(localDefaultArguments('ingest_transactions')).toEqual({
      '--contracts-dir': path.join(repoRoot, 'contracts'),
      '--outlier-percentile': '0.999',
      '--reference-days': '30',
      '--pii-salt-secret': `local:${LOCAL_ONLY_PII_SALT}`,
    });
    expect(localDefaultArguments('build_features')).toMatchObject({ '--store': 'local', '--online-store': 'false' });
    expect(localDefaultArguments('not_a_platform_job')).toEqual({});
  });

  it('lets the run arguments replace the defaults key by key, as Glue merges them', () => {
    const args = effectiveArguments('ingest_transactions', {
      '--date': '2024-03-01',
      '--reference-days': '7',
      '--pii-salt-secret': 'env:MY_SALT',
    });
    expect(args).toMatchObject({
      '--date': '2024-03-01',
      '--reference-days': '7',
      '--outlier-percentile': '0.999',
      '--pii-salt-secret': 'env:MY_SALT',
    });
  });
});
