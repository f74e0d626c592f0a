import { afterEach, describe, expect, it, vi } from 'vitest';
import { withPowertools } from '../../lambdas/shared/middleware.js';
import { logger, metrics } from '../../lambdas/shared/powertools.js';

const context = {
  functionName: 'clv-test-fn',
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:clv-test-fn',
  memoryLimitInMB: '128',
  functionVersion: '$LATEST',
  getRemainingTimeInMillis: () => 1000,
} as unknown as import('aws-lambda').Context;

describe('withPowertools', () => {
  afterEach(() => vi.restoreAllMocks());

  it('returns the result, with or without a context, and flushes metrics even when none were added', async () => {
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    const handler = withPowertools(async (event: { n: number }) => event.n * 2);
    expect(await handler({ n: 2 }, context)).toBe(4);
    expect(await handler({ n: 3 })).toBe(6);
    expect(publish).toHaveBeenCalledTimes(2);
  });

  it('flushes metrics and rethrows the same error when the handler throws', async () => {
    const publish = vi.spyOn(metrics, 'publishStoredMetrics');
    class Named extends Error {
      override readonly name = 'InvalidPipelineInput';
    }
    const error = new Named('bad input');
    const handler = withPowertools(async () => {
      metrics.addMetric('Probe', 'Count', 1);
      throw error;
    });
    await expect(handler({}, context)).rejects.toBe(error);
    expect(publish).toHaveBeenCalledTimes(1);
  });

  it('adds the Lambda context to the logger', async () => {
    const addContext = vi.spyOn(logger, 'addContext');
    await withPowertools(async () => 1)({}, context);
    expect(addContext).toHaveBeenCalledWith(context);
  });
});
