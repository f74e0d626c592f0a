import { beforeAll, describe, expect, it } from 'vitest';
import { asArray, type PlatformTemplates, policyStatements, synthTemplates } from './templates.js';

/** Actions that support no resource-level permissions, so '*' is the only resource there is. */
const STAR_ONLY = [
  /^xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)$/,
  /^logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)$/,
  /^cloudwatch:PutMetricData$/,
  // ECR issues registry tokens per account; the action has no resource-level permissions.
  /^ecr:GetAuthorizationToken$/,
  // Listing model packages has no resource-level permissions (the model-registry Lambda lists one group by name).
  /^sagemaker:ListModelPackages$/,
];

let t: PlatformTemplates;
beforeAll(() => {
  t = synthTemplates('prod');
});

describe('least privilege across the platform', () => {
  it("uses Resource '*' only for actions that have no resource-level permissions", () => {
    for (const stack of ['lake', 'ingestion', 'features', 'ml', 'monitoring'] as const) {
      for (const s of policyStatements(t[stack])) {
        if (!asArray(s.Resource).includes('*') || s.policy.startsWith('CustomCDKBucketDeployment')) continue;
        for (const action of asArray(s.Action)) {
          expect(
            STAR_ONLY.some((re) => re.test(action)),
            `${stack}/${s.policy}: ${action} on '*'`,
          ).toBe(true);
        }
      }
    }
  });

  it('scopes cloudwatch:PutMetricData to the Glue namespace', () => {
    const metrics = [...policyStatements(t.ingestion), ...policyStatements(t.features)].filter((s) =>
      asArray(s.Action).includes('cloudwatch:PutMetricData'),
    );
    expect(metrics.length).toBeGreaterThan(0);
    for (const s of metrics) expect(s.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'Glue' } });
  });

  it('passes roles only to the service named in an iam:PassedToService condition', () => {
    for (const stack of ['lake', 'ingestion', 'features', 'ml', 'monitoring'] as const) {
      for (const s of policyStatements(t[stack]).filter((x) => asArray(x.Action).includes('iam:PassRole'))) {
        expect(JSON.stringify(s.Condition), `${stack}/${s.policy}`).toContain('iam:PassedToService');
      }
    }
  });

  it('grants no wildcard actions in the platform policies', () => {
    for (const stack of ['ingestion', 'features', 'ml'] as const) {
      for (const s of policyStatements(t[stack])) {
        for (const action of asArray(s.Action)) expect(action, `${stack}/${s.policy}`).not.toMatch(/\*/);
      }
    }
  });
});
