import type { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';

/** Properties of {@link AslStateMachine}. */
export interface AslStateMachineProps {
  /** File name in `state-machines/`, e.g. `data-pipeline.asl.json`. */
  readonly definitionFile: string;
  /** Values for every `${Name}` placeholder of the definition (checked: none missing, none unknown). */
  readonly definitionSubstitutions: Record<string, string>;
  /** State machine name; the environment name is appended. */
  readonly stateMachineName: string;
  /** Environment name (dev, staging, prod). */
  readonly environmentName: string;
  /** Exactly what the definition does, as IAM statements for the state machine's role. */
  readonly policyStatements: iam.PolicyStatement[];
  /** Maximum run time of an execution. */
  readonly timeout: Duration;
  /** Log retention in days (from the environment config). */
  readonly logRetentionDays: number;
  /** KMS key that encrypts the execution log group and the state machine's data. */
  readonly encryptionKey: kms.IKey;
}
