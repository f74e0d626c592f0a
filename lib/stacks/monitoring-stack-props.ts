import type * as kms from 'aws-cdk-lib/aws-kms';
import type { PlatformStackProps } from './platform-stack-props.js';

/** Properties of the Monitoring stack. */
export interface MonitoringStackProps extends PlatformStackProps {
  /**
   * Platform KMS key (Lake stack): encrypts the alerts and digest topics, the dead-letter queues, the
   * de-duplication table, the alerting secrets and the router's logs. The stack adds a key policy statement that
   * lets CloudWatch alarms and SNS (dead-letter delivery) of this account use it.
   */
  readonly key: kms.IKey;
}
