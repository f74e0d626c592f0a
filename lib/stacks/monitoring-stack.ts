import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { AlertRouting } from '../constructs/monitoring/alert-routing.js';
import type { MonitoringStackProps } from './monitoring-stack-props.js';
import { statefulRemovalPolicy } from './removal.js';

/**
 * Monitoring: the alerts topic every pipeline publishes to (KMS-encrypted, TLS only) and its severity routing
 * (lib/constructs/monitoring/alert-routing.ts): the alert-router Lambda, the de-duplication table, the PagerDuty and
 * Slack secrets, the email digest topic, the dead-letter queues and their alarms. The platform's other alarms and
 * the dashboard are in the Observability stack.
 */
export class MonitoringStack extends Stack {
  readonly alertsTopic: sns.Topic;
  readonly alertRouting: AlertRouting;
  /** The condition table (ConditionStore on DynamoDB): alert de-duplication, retraining cool-down. */
  readonly conditionTable: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    // grants on the Lake stack's key then go to this stack's roles (identity policies), not to the key policy
    this.addStackDependency(Stack.of(props.key));
    this.alertsTopic = new sns.Topic(this, 'Alerts', {
      topicName: `clv-${props.config.name}-alerts`,
      displayName: `CLV platform alerts (${props.config.name})`,
      masterKey: props.key,
      enforceSSL: true,
    });
    // CloudWatch alarm actions publish to the KMS-encrypted topics, and SNS writes undeliverable messages to the
    // KMS-encrypted dead-letter queue: both services need the key, for this account's resources only.
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlarmsAndSnsDeadLetters',
        principals: [
          new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
          new iam.ServicePrincipal('sns.amazonaws.com'),
        ],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(props.key).account } },
      }),
    );
    this.alertRouting = new AlertRouting(this, 'AlertRouting', {
      environmentName: props.config.name,
      alertsTopic: this.alertsTopic,
      key: props.key,
      alerting: props.config.alerting,
      logRetentionDays: props.config.logRetentionDays,
      removalPolicy: statefulRemovalPolicy(props.config),
    });
    this.conditionTable = this.alertRouting.table;
  }
}
