import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { acknowledgeNag } from '../../lib/constructs/security/acknowledge.js';
import { ALL_ENVIRONMENTS, buildPlatform, nagFindings, stacksOf } from '../helpers/platform.js';

describe('cdk-nag AWS Solutions pack', () => {
  for (const env of ALL_ENVIRONMENTS) {
    it(`reports no unacknowledged finding in any stack of ${env}`, () => {
      const { platform } = buildPlatform(env);
      for (const stack of stacksOf(platform)) {
        expect(nagFindings(stack), stack.stackName).toEqual([]);
      }
    });
  }

  it('fails on an unacknowledged finding and passes once it is acknowledged with a reason', () => {
    const app = new App();
    const stack = new Stack(app, 'Probe');
    const bucket = new s3.Bucket(stack, 'Unsafe');
    const before = nagFindings(stack);
    expect(before.some((f) => f.startsWith('AwsSolutions-S1 '))).toBe(true);
    expect(before.some((f) => f.startsWith('AwsSolutions-S10 '))).toBe(true);

    acknowledgeNag(bucket, 'AwsSolutions-S1', 'Probe bucket in a unit test; no access logs wanted here.');
    const after = nagFindings(stack);
    expect(after.some((f) => f.startsWith('AwsSolutions-S1 '))).toBe(false);
    expect(after.some((f) => f.startsWith('AwsSolutions-S10 '))).toBe(true);
  });

  it('refuses an acknowledgement without a real reason', () => {
    const stack = new Stack(new App(), 'Probe');
    expect(() => acknowledgeNag(stack, 'AwsSolutions-S1', 'because')).toThrow(/needs a real reason/);
  });
});
