import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  contractDocument,
  FEATURE_NAME_PATTERN,
  FeatureContract,
  featureContract,
  featureGroupFeatureDefinitions,
  featureNames,
  glueColumns,
  labelNames,
  modelInputs,
  RESERVED_FEATURE_NAMES,
  schemaHash,
} from '../../lib/contracts/feature-contract.js';
import { CONTRACT_OUTPUTS, REPO_ROOT, staleOutputs } from '../../scripts/export-contracts.js';

describe('feature contract', () => {
  it('exported JSON files equal the TypeScript contract (export-contracts --check)', () => {
    expect(staleOutputs()).toEqual([]);
    for (const rel of CONTRACT_OUTPUTS) {
      const onDisk = JSON.parse(readFileSync(join(REPO_ROOT, rel), 'utf8'));
      expect(onDisk).toEqual(contractDocument());
    }
  });

  it('--check exits 1 and names the file when the JSON on disk differs', () => {
    const root = mkdtempSync(join(tmpdir(), 'contract-'));
    mkdirSync(join(root, 'contracts'));
    mkdirSync(join(root, 'glue-scripts/clv_glue/features'), { recursive: true });
    mkdirSync(join(root, 'sagemaker/clv_model'), { recursive: true });
    const doc = contractDocument();
    writeFileSync(join(root, CONTRACT_OUTPUTS[0]), JSON.stringify(doc));
    writeFileSync(join(root, CONTRACT_OUTPUTS[2]), JSON.stringify(doc));
    const changed = { ...doc, features: doc.features.map((f, i) => (i === 5 ? { ...f, type: 'String' } : f)) };
    writeFileSync(join(root, CONTRACT_OUTPUTS[1]), JSON.stringify(changed));
    expect(staleOutputs(root)).toEqual([`${CONTRACT_OUTPUTS[1]} (differs from lib/contracts/feature-contract.ts)`]);

    const cli = (dir: string) =>
      spawnSync('npx', ['tsx', 'scripts/export-contracts.ts', '--check', '--root', dir], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      });
    const stale = cli(root);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain(CONTRACT_OUTPUTS[1]);
    const ok = cli(REPO_ROOT);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`${CONTRACT_OUTPUTS.length} files up to date`);
  });

  it('has unique Feature Store names, none reserved', () => {
    const names = featureNames();
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) {
      expect(n).toMatch(FEATURE_NAME_PATTERN);
      expect(RESERVED_FEATURE_NAMES as readonly string[]).not.toContain(n);
    }
    expect(FEATURE_NAME_PATTERN.test('a'.repeat(65))).toBe(false);
    expect(FEATURE_NAME_PATTERN.test('_x')).toBe(false);
  });

  it('has the record identifier and event time with valid types', () => {
    const byName = new Map(featureContract.features.map((f) => [f.name, f]));
    expect(featureContract.record_identifier).toBe('customer_id');
    expect(byName.get('customer_id')?.type).toBe('String');
    expect(featureContract.event_time_feature).toBe('event_time');
    expect(byName.get('event_time')?.type).toBe('String');
    expect(byName.get('event_time')?.null_policy).toBe('never');
    expect(labelNames()).toEqual(['label_revenue_12m', 'label_churn_6m']);
    expect(modelInputs()).not.toContain('customer_id');
    expect(modelInputs().some((n) => labelNames().includes(n))).toBe(false);
  });

  it('rejects contracts that break the rules', () => {
    const base = structuredClone(featureContract);
    const dup = { ...base, features: [...base.features, base.features[4]] };
    expect(() => FeatureContract.parse(dup)).toThrow(/duplicate feature names/);
    const badEventTime = {
      ...base,
      features: base.features.map((f) => (f.name === 'event_time' ? { ...f, type: 'Integral' } : f)),
    };
    expect(() => FeatureContract.parse(badEventTime)).toThrow(/event time/);
    const reserved = { ...base, features: [...base.features, { ...base.features[4], name: 'write_time' }] };
    expect(() => FeatureContract.parse(reserved)).toThrow(/reserved/);
    const labelAsInput = {
      ...base,
      features: base.features.map((f) => (f.group === 'label' ? { ...f, model_input: true } : f)),
    };
    expect(() => FeatureContract.parse(labelAsInput)).toThrow(/cannot be model inputs/);
  });

  it('hashes the canonical JSON (sorted keys) with sha256', () => {
    expect(canonicalJson({ b: 1, a: [{ d: null, c: 'x' }] })).toBe('{"a":[{"c":"x","d":null}],"b":1}');
    expect(schemaHash()).toMatch(/^[0-9a-f]{64}$/);
    const reordered = { ...featureContract, features: [...featureContract.features].reverse() };
    expect(schemaHash(reordered)).not.toBe(schemaHash());
    expect(contractDocument().schema_hash).toBe(schemaHash());
  });

  it('derives the Feature Group definitions and the Glue columns', () => {
    const defs = featureGroupFeatureDefinitions();
    expect(defs).toHaveLength(featureContract.features.length);
    expect(defs[0]).toEqual({ featureName: 'customer_id', featureType: 'String' });
    expect(defs.find((d) => d.featureName === 'recency_days')?.featureType).toBe('Integral');
    expect(defs.find((d) => d.featureName === 'spend_30d')?.featureType).toBe('Fractional');

    const cols = glueColumns();
    expect(cols.map((c) => c.name)).toEqual(featureNames());
    expect(new Set(cols.map((c) => c.type))).toEqual(new Set(['string', 'bigint', 'double']));
    expect(cols.find((c) => c.name === 'label_churn_6m')?.type).toBe('bigint');
    const offline = glueColumns({ offlineStore: true });
    expect(offline.slice(-3)).toEqual([
      expect.objectContaining({ name: 'write_time', type: 'timestamp' }),
      expect.objectContaining({ name: 'api_invocation_time', type: 'timestamp' }),
      expect.objectContaining({ name: 'is_deleted', type: 'boolean' }),
    ]);
    for (const c of offline) expect((c.comment ?? '').length).toBeLessThanOrEqual(255);
  });
});
