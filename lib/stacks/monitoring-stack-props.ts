import type * as kms from 'aws-cdk-lib/aws-kms';
import type { PlatformStackProps } from './platform-stack-props.js';

/** Properties of the Monitoring stack. */
export interface MonitoringStackProps extends PlatformStackProps {
  /** Platform KMS key (Lake stack). */
  readonly key: kms.IKey;
}
