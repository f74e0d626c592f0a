import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RouterSettings } from '../../../lambdas/alert-router/core.js';
import { ROUTER_SETTINGS_ENV } from '../../../lambdas/alert-router/core.js';
import {
  CONDITION_TABLE_PARTITION_KEY,
  CONDITION_TABLE_TTL_ATTRIBUTE,
} from '../../../lambdas/shared/condition-store.js';
import { TeamFunction } from '../compute/team-function.js';
import { acknowledgeNag } from '../security/acknowledge.js';
import type { AlertRoutingProps } from './alert-routing-props.js';

/**
 * Severity routing of the alerts topic (docs/decisions/0032-alert-routing.md): the alert-router Lambda subscribed to
 * the alerts topic with a dead-letter queue on the subscription (SNS could not invoke it) and an on-failure
 * destination queue on the function (it failed after its retries), the de-duplication table (DynamoDB, TTL), the
 * PagerDuty and Slack secrets (values put by operators), the Low-severity email digest topic, and one alarm per
 * dead-letter queue ("DLQ not empty") that notifies both the digest topic and the alerts topic
 * (docs/runbooks/dlq-not-empty.md).
 */
export class AlertRouting extends Construct {
  readonly digestTopic: sns.Topic;
  /**
   * The condition table (ConditionStore): alert de-duplication (keys `alert#...`) and other one-shot conditions such
   * as the monitoring pipeline's retraining cool-down (`monitoring#...`).
   */
  readonly table: dynamodb.Table;
  readonly pagerDutySecret: secretsmanager.Secret;
  readonly slackSecret: secretsmanager.Secret;
  readonly function: TeamFunction;
  /** Messages SNS could not deliver to the function. */
  readonly subscriptionDlq: sqs.Queue;
  /** Invocations that failed after Lambda's async retries (the SNS event in requestPayload). */
  readonly functionDlq: sqs.Queue;
  readonly dlqAlarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: AlertRoutingProps) {
    super(scope, id);
    const env = props.environmentName;
    const { alerting, key } = props;
    const retention = Duration.days(props.dlqRetentionDays ?? 14);

    this.digestTopic = new sns.Topic(this, 'Digest', {
      topicName: `clv-${env}-alerts-digest`,
      displayName: `CLV platform low-severity digest (${env})`,
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of alerting.digestEmails) {
      this.digestTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    this.table = new dynamodb.Table(this, 'Conditions', {
      tableName: `clv-${env}-conditions`,
      partitionKey: { name: CONDITION_TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: CONDITION_TABLE_TTL_ATTRIBUTE,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });

    const secret = (sid: string, name: string, what: string) => {
      const s = new secretsmanager.Secret(this, sid, {
        secretName: name,
        description: `${what} for the alert router (${env}); put the value: docs/runbooks/alert-delivery.md`,
        encryptionKey: key,
      });
      acknowledgeNag(
        s,
        'AwsSolutions-SMG4',
        `${what} is issued by a third party (no Secrets Manager rotation function can renew it); rotated by hand as docs/runbooks/alert-delivery.md says.`,
      );
      return s;
    };
    this.pagerDutySecret = secret(
      'PagerDutyRoutingKey',
      alerting.pagerDutySecretName,
      'PagerDuty Events v2 routing key',
    );
    this.slackSecret = secret('SlackWebhookUrl', alerting.slackSecretName, 'Slack incoming-webhook URL');

    const queue = (qid: string, name: string) => {
      const q = new sqs.Queue(this, qid, {
        queueName: name,
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: key,
        enforceSSL: true,
        retentionPeriod: retention,
      });
      acknowledgeNag(
        q,
        'AwsSolutions-SQS3',
        'This queue is itself a dead-letter queue (alert router); its depth is alarmed on.',
      );
      return q;
    };
    this.subscriptionDlq = queue('SubscriptionDlq', `clv-${env}-alert-router-subscription-dlq`);
    this.functionDlq = queue('FunctionDlq', `clv-${env}-alert-router-failed`);

    const settings: RouterSettings = {
      environment: env,
      region: Stack.of(this).region,
      dedupTableName: this.table.tableName,
      dedupTtlSeconds: alerting.dedupTtlMinutes * 60,
      retry: alerting.retry,
      pagerDutyEventsUrl: alerting.pagerDutyEventsUrl,
      pagerDutySecretName: alerting.pagerDutySecretName,
      slackSecretName: alerting.slackSecretName,
      secretsCacheSeconds: alerting.secretsCacheSeconds,
      digestTopicArn: this.digestTopic.topicArn,
    };
    this.function = new TeamFunction(this, 'Router', {
      entry: 'lambdas/alert-router/handler.ts',
      serviceName: 'alert-router',
      environmentName: env,
      logRetentionDays: props.logRetentionDays,
      encryptionKey: key,
      memorySize: 256,
      timeout: Duration.seconds(props.timeoutSeconds ?? 60),
      environment: { [ROUTER_SETTINGS_ENV]: Stack.of(this).toJsonString(settings) },
    });
    this.function.configureAsyncInvoke({
      retryAttempts: props.asyncRetryAttempts ?? 2,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(this.functionDlq),
    });
    props.alertsTopic.addSubscription(
      new subscriptions.LambdaSubscription(this.function, { deadLetterQueue: this.subscriptionDlq }),
    );

    // exactly what the router does: conditional put / get / delete of its table, read its two secrets, publish
    // the digest; the DLQ destination grant comes with SqsDestination
    this.table.grant(this.function, 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem');
    key.grant(this.function, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*');
    // not Secret.grantRead: its key grant (kms:ViaService) would put this role into the Lake stack's key policy (a
    // dependency cycle); the key grant above covers the decryption
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadAlertingSecrets',
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [this.pagerDutySecret.secretArn, this.slackSecret.secretArn],
      }),
    );
    this.digestTopic.grantPublish(this.function);
    const role = this.function.role as iam.IRole;
    for (const group of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      acknowledgeNag(
        role,
        `AwsSolutions-IAM5[Action::${group}]`,
        'KMS action groups of the SQS/SNS/DynamoDB encryption grants, on the one named platform key only (no key wildcard).',
      );
    }

    this.dlqAlarms = [
      [this.subscriptionDlq, 'SubscriptionDlqNotEmpty', 'SNS could not deliver alerts to the alert router'],
      [this.functionDlq, 'FunctionDlqNotEmpty', 'the alert router failed to deliver alerts after its retries'],
    ].map(([q, aid, what]) => {
      const alarm = new cloudwatch.Alarm(this, aid as string, {
        alarmName: `clv-${env}-${(q as sqs.Queue).node.id === 'SubscriptionDlq' ? 'alert-router-subscription-dlq' : 'alert-router-failed'}-not-empty`,
        alarmDescription: `DLQ not empty: ${what as string}. Runbook: docs/runbooks/dlq-not-empty.md`,
        metric: (q as sqs.Queue).metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      // the digest (email, no Lambda in the path) reaches people even when the router is what is broken
      alarm.addAlarmAction(new actions.SnsAction(this.digestTopic), new actions.SnsAction(props.alertsTopic));
      alarm.addOkAction(new actions.SnsAction(props.alertsTopic));
      return alarm;
    });
  }
}
