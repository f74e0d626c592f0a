import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { TeamFunction } from '../../lib/constructs/compute/team-function.js';
import { CDK_CONTEXT } from '../helpers/platform.js';

function synth(props: Partial<ConstructorParameters<typeof TeamFunction>[2]> = {}) {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'FnStack', { env: { region: 'eu-west-1', account: '111111111111' } });
  const key = new kms.Key(stack, 'Key');
  new TeamFunction(stack, 'Fn', {
    entry: 'bench/bench.ts',
    serviceName: 'probe',
    environmentName: 'dev',
    logRetentionDays: 30,
    encryptionKey: key,
    ...props,
  });
  return Template.fromStack(stack);
}

describe('TeamFunction', () => {
  it('fixes runtime, architecture, tracing, Powertools environment and encryption', () => {
    const template = synth({ environment: { EXTRA: '1' } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      KmsKeyArn: Match.anyValue(),
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'probe',
          POWERTOOLS_METRICS_NAMESPACE: 'ClvPlatform',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          CLV_ENVIRONMENT: 'dev',
          EXTRA: '1',
        }),
      },
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
  });

  it('gives the function its own log group with the configured retention, encrypted', () => {
    synth().hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30, KmsKeyId: Match.anyValue() });
  });

  it('validates its props', () => {
    expect(() => synth({ entry: 'lambdas/x/handler.js' })).toThrow(/entry must be a TypeScript file/);
    expect(() => synth({ memorySize: 64 })).toThrow(/memorySize must be between 128 and 10240 MiB, got 64/);
  });
});
