/** The shadow and promotion pipeline inputs (lib/contracts/pipeline-inputs.ts), as ValidateInput parses them. */
import { describe, expect, it } from 'vitest';
import { LOCAL_PIPELINE_SETTINGS, parsePipelineInput } from '../../lib/contracts/pipeline-inputs.js';

const ARN = 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/clv-prod-clv-models/8';
const NOW = new Date('2026-01-10T00:00:00Z');
const shadow = (input: unknown, name = 'shadow-1') =>
  parsePipelineInput('shadow', input, LOCAL_PIPELINE_SETTINGS.shadow, NOW, name);
const promotion = (input: unknown) => parsePipelineInput('promotion', input, {}, NOW, 'p1');

describe('shadow input', () => {
  it('normalizes {model_package_arn, cutoff?} with the transform and thresholds of the settings', () => {
    expect(shadow({ model_package_arn: ARN, cutoff: '2025-12-31' })).toEqual({
      model_package_arn: ARN,
      cutoff: '2025-12-31',
      transform: LOCAL_PIPELINE_SETTINGS.shadow.transform,
      thresholds: { max_runtime_increase: 0.1, max_mean_shift: 0.15, runtime_tolerance_seconds: 30 },
    });
    expect(shadow({ model_package_arn: ARN }).cutoff).toBeNull();
  });

  it('refuses a bad ARN, a future cutoff, unknown fields and an execution name too long for the job names', () => {
    expect(() => shadow({ model_package_arn: 'model-8' })).toThrow(
      /model_package_arn: expected a versioned model package ARN/,
    );
    expect(() => shadow({ model_package_arn: ARN, cutoff: '2026-02-01' })).toThrow(
      /cutoff: expected a date on or before/,
    );
    expect(() => shadow({ model_package_arn: ARN, extra: 1 })).toThrow(/extra: unknown field/);
    expect(() => shadow({ model_package_arn: ARN }, 'x'.repeat(42))).toThrow(/at most 41/);
    expect(shadow({ model_package_arn: ARN }, 'x'.repeat(41)).model_package_arn).toBe(ARN);
  });
});

describe('promotion input', () => {
  const event = {
    version: '0',
    id: 'e1',
    source: 'aws.sagemaker',
    'detail-type': 'SageMaker Model Package State Change',
    account: '123456789012',
    region: 'eu-west-1',
    time: '2026-01-09T10:00:00Z',
    resources: [ARN],
    detail: { ModelPackageGroupName: 'clv-prod-clv-models', ModelPackageArn: ARN, ModelApprovalStatus: 'Approved' },
  };

  it('the approval event', () => {
    expect(promotion(event)).toEqual({
      model_package_arn: ARN,
      rollback: false,
      override_reason: null,
      reason: null,
      operator: 'model-registry-approval',
      source: 'approval-event',
    });
    expect(() => promotion({ ...event, detail: { ...event.detail, ModelApprovalStatus: 'Rejected' } })).toThrow(
      /detail\.ModelApprovalStatus: expected "Approved"/,
    );
  });

  it('by hand, with an override reason that must not be empty', () => {
    expect(promotion({ model_package_arn: ARN, override_reason: ' hotfix INC-42 ', operator: 'alice' })).toMatchObject({
      override_reason: 'hotfix INC-42',
      operator: 'alice',
      source: 'manual',
    });
    expect(promotion({ model_package_arn: ARN })).toMatchObject({ override_reason: null, operator: 'unknown' });
    expect(() => promotion({ model_package_arn: ARN, override_reason: '  ' })).toThrow(
      /override_reason: expected a non-empty reason/,
    );
  });

  it('rollback needs a reason', () => {
    expect(promotion({ rollback: true, reason: 'conversion dropped' })).toMatchObject({
      model_package_arn: null,
      rollback: true,
      reason: 'conversion dropped',
      source: 'rollback',
    });
    expect(() => promotion({ rollback: true })).toThrow(/reason: required/);
    expect(() => promotion({ rollback: false, reason: 'x' })).toThrow(/rollback: expected true/);
  });
});
