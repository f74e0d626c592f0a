/**
 * The drift-features contract: its Python export is up to date, the monitored inputs are model inputs of the
 * feature contract with the matching type, and the lake table of the baselines has the contract's columns.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DRIFT_BASELINES_PREFIX as PIPELINE_PREFIX } from '../../lib/constructs/pipelines/prefixes.js';
import {
  DRIFT_BASELINE_COLUMNS,
  DRIFT_BASELINES_PREFIX,
  DRIFT_CATEGORICAL_FEATURES,
  DRIFT_NUMERIC_INPUTS,
  driftKind,
} from '../../lib/contracts/drift-features.js';
import { featureContract, modelInputs } from '../../lib/contracts/feature-contract.js';
import { lakeTable } from '../../lib/contracts/lake-tables.js';
import { repoRoot } from '../../lib/paths.js';
import { driftFeaturesStale, main } from '../../scripts/export-drift-features.js';

describe('drift-features contract', () => {
  it('sagemaker/clv_model/drift_features.json is up to date (npx tsx scripts/export-drift-features.ts)', () => {
    expect(driftFeaturesStale()).toBeUndefined();
    expect(main(['--check'])).toBe(0);
    expect(main(['--bogus'])).toBe(2);
  });

  it('monitored inputs are model inputs: numeric ones numeric, categorical ones strings', () => {
    const inputs = modelInputs();
    const type = (name: string) => featureContract.features.find((f) => f.name === name)?.type;
    for (const f of DRIFT_NUMERIC_INPUTS) {
      expect(inputs).toContain(f);
      expect(['Integral', 'Fractional']).toContain(type(f));
    }
    for (const f of DRIFT_CATEGORICAL_FEATURES) {
      expect(inputs).toContain(f);
      expect(type(f)).toBe('String');
    }
    expect(driftKind('predicted_revenue_12m')).toBe('numeric');
    expect(driftKind('country')).toBe('categorical');
    expect(driftKind('loyalty_status')).toBeUndefined();
  });

  it('the drift_baselines lake table: gold CSV, unpartitioned, the contract columns, the pipelines prefix', () => {
    const t = lakeTable('drift_baselines');
    expect(t).toMatchObject({ zone: 'gold', format: 'csv', partitionKeys: [] });
    expect(t.columns.map((c) => c.name)).toEqual([...DRIFT_BASELINE_COLUMNS]);
    expect(`${t.prefix}/`).toBe(DRIFT_BASELINES_PREFIX);
    expect(PIPELINE_PREFIX).toBe(DRIFT_BASELINES_PREFIX);
  });
});

describe('training pipeline: the evaluation job fixes the drift baseline, the registration records it', () => {
  const asl = JSON.parse(readFileSync(join(repoRoot, 'state-machines/training-pipeline.asl.json'), 'utf8')) as {
    States: Record<string, { Parameters: Record<string, unknown> }>;
  };

  it.each(['EvaluateModel', 'EvaluateWithChampion'])(
    '%s: the baseline from the test channel (--drift-baseline-dir, no train input), gold output',
    (name) => {
      const p = asl.States[name]?.Parameters as {
        AppSpecification: { 'ContainerArguments.$': string };
        ProcessingInputs: { InputName: string; S3Input: Record<string, string> }[];
        ProcessingOutputConfig: { Outputs: { OutputName: string; S3Output: Record<string, string> }[] };
      };
      // decision 0035: the baseline is fixed on the test snapshot (the latest the model was judged on)
      expect(p.ProcessingInputs.map((i) => i.InputName)).not.toContain('train');
      expect(p.ProcessingInputs.find((i) => i.InputName === 'test')?.S3Input).toMatchObject({
        LocalPath: '/opt/ml/processing/test',
      });
      expect(p.AppSpecification['ContainerArguments.$']).toContain("'--test', '/opt/ml/processing/test',");
      expect(p.AppSpecification['ContainerArguments.$']).toContain(
        "'--drift-baseline-dir', '/opt/ml/processing/drift_baseline'",
      );
      expect(p.AppSpecification['ContainerArguments.$']).not.toContain("'--train'");
      const outputs = p.ProcessingOutputConfig.Outputs;
      expect(outputs[0]?.OutputName).toBe('evaluation'); // the ResultSelector reads Outputs[0]
      expect(outputs.find((o) => o.OutputName === 'drift_baseline')?.S3Output).toMatchObject({
        S3Uri: `s3://\${GoldBucket}/${DRIFT_BASELINES_PREFIX}`,
        LocalPath: '/opt/ml/processing/drift_baseline',
      });
    },
  );

  it('RegisterModel records drift_baseline_uri = the file the evaluation job wrote', () => {
    const params = asl.States.RegisterModel?.Parameters as { CustomerMetadataProperties: Record<string, string> };
    const meta = params.CustomerMetadataProperties;
    expect(meta['drift_baseline_uri.$']).toBe(
      `States.Format('s3://\${GoldBucket}/${DRIFT_BASELINES_PREFIX}{}.csv', $.gate_result.model_version)`,
    );
  });
});
