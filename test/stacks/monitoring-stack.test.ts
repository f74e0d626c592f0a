/**
 * The Monitoring stack: alert routing (subscription with DLQ, the function's on-failure DLQ, digest topic, table,
 * secrets, DLQ alarms) and least privilege. Built with the Lake stack only (its key), so it does not depend on the
 * pipelines; the full platform's nag test covers it in every environment too.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type EnvironmentName, environmentConfigSchema } from '../../lib/config/environment-config.js';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { LakeStack } from '../../lib/stacks/lake-stack.js';
import { MonitoringStack } from '../../lib/stacks/monitoring-stack.js';
import { ALL_ENVIRONMENTS, CDK_CONTEXT, nagFindings } from '../helpers/platform.js';
import { asArray, policyStatements } from './templates.js';

function build(env: EnvironmentName, digestEmails?: string[]) {
  process.env.CDK_VALIDATION = 'false';
  const loaded = loadEnvironmentConfig(env);
  const config = digestEmails
    ? environmentConfigSchema.parse({ ...loaded, alerting: { ...loaded.alerting, digestEmails } })
    : loaded;
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const base = { config, env: { account: config.account, region: config.region } };
  const lake = new LakeStack(app, `Clv-${env}-Lake`, base);
  const monitoring = new MonitoringStack(app, `Clv-${env}-Monitoring`, { ...base, key: lake.key });
  return { lake, monitoring, template: Template.fromStack(monitoring), lakeTemplate: Template.fromStack(lake) };
}

describe('Monitoring stack', () => {
  const { template, lakeTemplate, monitoring } = build('dev', ['ops@example.com', 'ml@example.com']);
  const ref = (id: string) => ({ Ref: id });
  const idOf = (type: string, props: Record<string, unknown>) => {
    const found = Object.keys(template.findResources(type, { Properties: props }));
    expect(found, `${type} ${JSON.stringify(props)}`).toHaveLength(1);
    return found[0] as string;
  };

  it('subscribes the router to the alerts topic with a KMS-encrypted, TLS-only dead-letter queue', () => {
    const dlq = idOf('AWS::SQS::Queue', { QueueName: 'clv-dev-alert-router-subscription-dlq' });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'clv-dev-alert-router-subscription-dlq',
      KmsMasterKeyId: Match.anyValue(),
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: ref(idOf('AWS::SNS::Topic', { TopicName: 'clv-dev-alerts' })),
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(dlq)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Action: 'sqs:SendMessage', Principal: { Service: 'sns.amazonaws.com' } }),
        ]),
      },
    });
  });

  it("sends the function's failed async invocations to its own DLQ after 2 retries", () => {
    const failed = idOf('AWS::SQS::Queue', { QueueName: 'clv-dev-alert-router-failed' });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failed, 'Arn'] } } },
    });
  });

  it('creates the digest topic (KMS, TLS only) with the configured email subscriptions', () => {
    const digest = idOf('AWS::SNS::Topic', { TopicName: 'clv-dev-alerts-digest', KmsMasterKeyId: Match.anyValue() });
    const emails = template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'email' } });
    expect(Object.values(emails).map((s) => s.Properties.Endpoint)).toEqual(['ops@example.com', 'ml@example.com']);
    for (const s of Object.values(emails)) expect(s.Properties.TopicArn).toEqual(ref(digest));
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [ref(digest)],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    // no email configured: no subscription
    const none = build('prod').template;
    none.resourceCountIs('AWS::SNS::Subscription', 1); // the router's only
  });

  it('creates the de-duplication table: customer-managed key, PITR, TTL on expires_at, on-demand', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'clv-dev-conditions',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
    });
    expect(build('prod').template.findResources('AWS::DynamoDB::Table')).toSatisfy((r: Record<string, unknown>) =>
      Object.values(r).every((t) => (t as { DeletionPolicy: string }).DeletionPolicy === 'Retain'),
    );
  });

  it('creates the two secrets with the configured names, encrypted with the platform key', () => {
    for (const name of ['clv/dev/alerting/pagerduty-routing-key', 'clv/dev/alerting/slack-webhook-url']) {
      template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: name, KmsKeyId: Match.anyValue() });
    }
  });

  it('gives the router its settings and exactly the grants it needs, on named resources', () => {
    const fn = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { ALERT_ROUTER_SETTINGS: Match.anyValue() } } },
    });
    expect(Object.keys(fn)).toHaveLength(1);
    const statements = policyStatements(template).filter((s) => s.policy.includes('Router'));
    const actions = statements.flatMap((s) => asArray(s.Action)).sort();
    expect(new Set(actions)).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'dynamodb:PutItem',
        'dynamodb:GetItem',
        'dynamodb:DeleteItem',
        'kms:Decrypt',
        'kms:Encrypt',
        'kms:GenerateDataKey*',
        'kms:ReEncrypt*',
        'secretsmanager:GetSecretValue',
        'secretsmanager:DescribeSecret',
        'sns:Publish',
        'sqs:SendMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
      ]),
    );
    for (const s of statements) {
      if (asArray(s.Action).some((a) => a.startsWith('xray:'))) continue;
      expect(JSON.stringify(s.Resource), JSON.stringify(s.Action)).not.toBe('"*"');
    }
    const publish = statements.find((s) => asArray(s.Action).includes('sns:Publish'));
    expect(publish?.Resource).toEqual(ref(idOf('AWS::SNS::Topic', { TopicName: 'clv-dev-alerts-digest' })));
  });

  it('alarms when either DLQ is not empty, notifying the digest topic AND the alerts topic', () => {
    const alerts = ref(idOf('AWS::SNS::Topic', { TopicName: 'clv-dev-alerts' }));
    const digest = ref(idOf('AWS::SNS::Topic', { TopicName: 'clv-dev-alerts-digest' }));
    for (const queue of ['clv-dev-alert-router-subscription-dlq', 'clv-dev-alert-router-failed']) {
      const q = idOf('AWS::SQS::Queue', { QueueName: queue });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [q, 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'notBreaching',
        AlarmActions: [digest, alerts],
        AlarmDescription: Match.stringLikeRegexp('docs/runbooks/dlq-not-empty.md'),
      });
    }
  });

  it('lets CloudWatch and SNS of this account use the platform key (alarm actions, dead letters)', () => {
    lakeTemplate.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AlarmsAndSnsDeadLetters',
            Principal: { Service: ['cloudwatch.amazonaws.com', 'sns.amazonaws.com'] },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
    expect(monitoring.alertRouting.dlqAlarms).toHaveLength(2);
  });

  it('validates the alerting config at its boundaries, naming the field', () => {
    const loaded = loadEnvironmentConfig('dev');
    const parse = (alerting: Record<string, unknown>) =>
      environmentConfigSchema.safeParse({ ...loaded, alerting: { ...loaded.alerting, ...alerting } });
    const problem = (alerting: Record<string, unknown>) => {
      const r = parse(alerting);
      return r.success ? 'ok' : r.error.issues.map((i) => i.path.join('.')).join(',');
    };
    expect(problem({ retry: { maxAttempts: 1, baseDelayMs: 1 } })).toBe('ok');
    expect(problem({ retry: { maxAttempts: 0, baseDelayMs: 1 } })).toBe('alerting.retry.maxAttempts');
    expect(problem({ retry: { maxAttempts: 11, baseDelayMs: 1 } })).toBe('alerting.retry.maxAttempts');
    expect(problem({ dedupTtlMinutes: 0 })).toBe('alerting.dedupTtlMinutes');
    expect(problem({ digestEmails: ['not-an-email'] })).toBe('alerting.digestEmails.0');
    expect(problem({ pagerDutyEventsUrl: 'http://events.pagerduty.com' })).toBe('alerting.pagerDutyEventsUrl');
    expect(problem({ slackSecretName: 'has space' })).toBe('alerting.slackSecretName');
    expect(problem({ firehoseMaxDataFreshnessSeconds: 59 })).toBe('alerting.firehoseMaxDataFreshnessSeconds');
    const { pagerDutyEventsUrl: _, ...withoutUrl } = loaded.alerting;
    const defaulted = environmentConfigSchema.parse({ ...loaded, alerting: withoutUrl });
    expect(defaulted.alerting.pagerDutyEventsUrl).toBe('https://events.pagerduty.com');
  });

  it.each(ALL_ENVIRONMENTS)('is cdk-nag clean in %s', (env) => {
    const { lake, monitoring: m } = build(env, ['ops@example.com']);
    expect(nagFindings(m)).toEqual([]);
    expect(nagFindings(lake)).toEqual([]);
  });
});
