import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { repoRoot } from '../../paths.js';
import type { TeamFunctionProps } from './team-function-props.js';

/** The Node.js runtime every platform Lambda runs on (the latest Lambda supports). */
export const TEAM_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * The team's Lambda function: fixes the defaults once — latest Node.js runtime, ARM64, esbuild bundling (ESM,
 * minified, source maps), X-Ray tracing, its own log group with retention, and the Powertools environment.
 */
export class TeamFunction extends nodejs.NodejsFunction {
  readonly logGroupRef: logs.LogGroup;

  constructor(scope: Construct, id: string, props: TeamFunctionProps) {
    if (!props.entry.endsWith('.ts')) {
      throw new Error(`TeamFunction ${id}: entry must be a TypeScript file, got '${props.entry}'`);
    }
    const memorySize = props.memorySize ?? 512;
    if (memorySize < 128 || memorySize > 10_240) {
      throw new Error(`TeamFunction ${id}: memorySize must be between 128 and 10240 MiB, got ${memorySize}`);
    }
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: path.join(repoRoot, props.entry),
      handler: props.handler ?? 'handler',
      runtime: TEAM_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout: props.timeout ?? Duration.seconds(60),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      environmentEncryption: props.encryptionKey,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      projectRoot: repoRoot,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? 'ClvPlatform',
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        CLV_ENVIRONMENT: props.environmentName,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
        externalModules: ['@aws-sdk/*'],
      },
    });
    this.logGroupRef = logGroup;
  }
}
