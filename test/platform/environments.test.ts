import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ALL_ENVIRONMENTS, buildPlatform, stacksOf } from '../helpers/platform.js';

describe('stacks per environment', () => {
  it.each(ALL_ENVIRONMENTS)('%s has the six stacks, named with the environment', (env) => {
    const { platform } = buildPlatform(env);
    expect(stacksOf(platform).map((s) => s.stackName)).toEqual([
      `Clv-${env}-Lake`,
      `Clv-${env}-Ingestion`,
      `Clv-${env}-Features`,
      `Clv-${env}-Ml`,
      `Clv-${env}-Monitoring`,
      `Clv-${env}-Observability`,
    ]);
  });

  it('turns termination protection on in prod only', () => {
    for (const env of ALL_ENVIRONMENTS) {
      const { platform } = buildPlatform(env);
      for (const stack of stacksOf(platform)) expect(stack.terminationProtection, stack.stackName).toBe(env === 'prod');
    }
  });

  it('retains stateful data in staging and prod and lets dev delete it, as configured', () => {
    const policyOf = (env: (typeof ALL_ENVIRONMENTS)[number]) => {
      const lake = Template.fromStack(buildPlatform(env).platform.lake);
      const buckets = Object.values(lake.findResources('AWS::S3::Bucket'));
      const keys = Object.values(lake.findResources('AWS::KMS::Key'));
      return new Set([...buckets, ...keys].map((r) => r.DeletionPolicy as string));
    };
    expect(policyOf('prod')).toEqual(new Set(['Retain']));
    expect(policyOf('staging')).toEqual(new Set(['Retain']));
    expect(policyOf('dev')).toEqual(new Set(['Delete']));
  });
});
