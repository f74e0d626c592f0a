import type { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';

/** Properties of {@link TeamFunction}. */
export interface TeamFunctionProps {
  /** Path of the handler file (TypeScript) relative to the repository root, e.g. `lambdas/alert/handler.ts`. */
  readonly entry: string;
  /** Exported handler name. @default 'handler' */
  readonly handler?: string;
  /** Powertools service name (also the function's purpose in logs and metrics). */
  readonly serviceName: string;
  /** Powertools metrics namespace. @default 'ClvPlatform' */
  readonly metricsNamespace?: string;
  /** Environment name (dev, staging, prod); part of the function name and the POWERTOOLS environment. */
  readonly environmentName: string;
  /** Log retention in days (from the environment config). */
  readonly logRetentionDays: number;
  /** KMS key that encrypts the function's log group and environment. @default - AWS managed keys */
  readonly encryptionKey?: kms.IKey;
  /** Memory size in MiB. @default 512 */
  readonly memorySize?: number;
  /** Timeout. @default Duration.seconds(60) */
  readonly timeout?: Duration;
  /** Extra environment variables. @default - none */
  readonly environment?: Record<string, string>;
  /** Log level. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}
