import { Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { MonitoringStackProps } from './monitoring-stack-props.js';

/** Monitoring: the alerts topic every pipeline publishes to (KMS-encrypted, TLS only). */
export class MonitoringStack extends Stack {
  readonly alertsTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    this.alertsTopic = new sns.Topic(this, 'Alerts', {
      topicName: `clv-${props.config.name}-alerts`,
      displayName: `CLV platform alerts (${props.config.name})`,
      masterKey: props.key,
      enforceSSL: true,
    });
  }
}
