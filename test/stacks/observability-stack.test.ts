/**
 * The Observability stack on a small app (Lake, Monitoring, Ingestion and a probe stack with a state machine and a
 * function added "later"): it finds what to watch by walking the other stacks' construct trees.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import type { EnvironmentName } from '../../lib/config/environment-config.js';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { TeamFunction } from '../../lib/constructs/compute/team-function.js';
import { placeholdersOf } from '../../lib/constructs/orchestration/asl-definition.js';
import { AslStateMachine } from '../../lib/constructs/orchestration/asl-state-machine.js';
import { repoRoot } from '../../lib/paths.js';
import { IngestionStack } from '../../lib/stacks/ingestion-stack.js';
import { LakeStack } from '../../lib/stacks/lake-stack.js';
import { MonitoringStack } from '../../lib/stacks/monitoring-stack.js';
import { ObservabilityStack } from '../../lib/stacks/observability-stack.js';
import { ALL_ENVIRONMENTS, CDK_CONTEXT, nagFindings } from '../helpers/platform.js';

function build(env: EnvironmentName) {
  process.env.CDK_VALIDATION = 'false';
  const config = loadEnvironmentConfig(env);
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const base = { config, env: { account: config.account, region: config.region } };
  const lake = new LakeStack(app, `Clv-${env}-Lake`, base);
  const monitoring = new MonitoringStack(app, `Clv-${env}-Monitoring`, { ...base, key: lake.key });
  const ingestion = new IngestionStack(app, `Clv-${env}-Ingestion`, { ...base, key: lake.key, lake });
  // a pipeline another team adds later, in a stack of its own
  const probe = new Stack(app, `Clv-${env}-Probe`, base);
  const file = 'batch-scoring.asl.json';
  const text = fs.readFileSync(path.join(repoRoot, 'state-machines', file), 'utf8');
  new AslStateMachine(probe, 'Later', {
    definitionFile: file,
    definitionSubstitutions: Object.fromEntries(placeholdersOf(text).map((p) => [p, `probe-${p}`])),
    stateMachineName: 'later-pipeline',
    environmentName: env,
    policyStatements: [
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [monitoring.alertsTopic.topicArn] }),
    ],
    timeout: Duration.hours(1),
    logRetentionDays: config.logRetentionDays,
    encryptionKey: lake.key,
  });
  new TeamFunction(probe, 'LaterFunction', {
    entry: 'lambdas/validate-input/handler.ts',
    serviceName: 'later',
    environmentName: env,
    logRetentionDays: config.logRetentionDays,
    encryptionKey: lake.key,
  });
  const observability = new ObservabilityStack(app, `Clv-${env}-Observability`, {
    ...base,
    watched: [lake, monitoring, ingestion, probe],
    alertsTopic: monitoring.alertsTopic,
    deadLetterQueues: [monitoring.alertRouting.subscriptionDlq, monitoring.alertRouting.functionDlq],
    extraAlarms: monitoring.alertRouting.dlqAlarms,
  });
  return { observability, monitoring, template: Template.fromStack(observability) };
}

type AlarmProps = {
  AlarmName: string;
  MetricName: string;
  Namespace: string;
  Dimensions: { Name: string; Value: unknown }[];
  Threshold: number;
  ComparisonOperator: string;
  AlarmActions: unknown[];
  OKActions: unknown[];
};

describe('Observability stack', () => {
  const { template, observability } = build('dev');
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties as AlarmProps);
  const byName = new Map(alarms.map((a) => [a.AlarmName, a]));

  it('alarms on failed, timed-out and aborted executions of a state machine found in another stack', () => {
    for (const [metric, what] of [
      ['ExecutionsFailed', 'failed'],
      ['ExecutionsTimedOut', 'timed-out'],
      ['ExecutionsAborted', 'aborted'],
    ]) {
      const a = byName.get(`clv-dev-later-pipeline-executions-${what}`);
      expect(a, what).toBeDefined();
      expect(a).toMatchObject({ Namespace: 'AWS/States', MetricName: metric, Threshold: 1 });
      expect(a?.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      // the ARN is built from the literal name: no cross-stack export
      expect(JSON.stringify(a?.Dimensions)).toContain(':stateMachine:clv-dev-later-pipeline');
    }
  });

  it("alarms on every TeamFunction's errors and throttles (the router and the clickstream transform included)", () => {
    for (const fn of [
      'clv-dev-probe-laterfunction',
      'clv-dev-monitoring-alertrouting-router',
      'clv-dev-ingestion-clickstreamtransform',
    ]) {
      expect(byName.get(`${fn}-errors`)).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 1 });
      expect(byName.get(`${fn}-throttles`)).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Throttles' });
    }
  });

  it('alarms on Firehose data freshness (config threshold) and delivery failures', () => {
    expect(byName.get('clv-dev-clickstream-data-freshness')).toMatchObject({
      Namespace: 'AWS/Firehose',
      MetricName: 'DeliveryToS3.DataFreshness',
      Dimensions: [{ Name: 'DeliveryStreamName', Value: 'clv-dev-clickstream' }],
      Threshold: loadEnvironmentConfig('dev').alerting.firehoseMaxDataFreshnessSeconds,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(byName.get('clv-dev-clickstream-delivery-failures')).toMatchObject({
      MetricName: 'DeliveryToS3.Success',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
    });
  });

  it('sends every alarm (ALARM and OK) to the alerts topic', () => {
    expect(alarms.length).toBe(3 + 2 * 3 + 2);
    for (const a of alarms) {
      expect(a.AlarmActions).toHaveLength(1);
      expect(JSON.stringify(a.AlarmActions)).toMatch(/Fn::ImportValue.*Alerts/);
      expect(a.OKActions).toEqual(a.AlarmActions);
    }
  });

  it('has one dashboard with pipeline status, durations, PSI, prediction PSI, proxy correlation and data quality', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'clv-dev-platform' });
    const body = JSON.stringify(Object.values(dashboards)[0]?.Properties.DashboardBody);
    for (const text of [
      'Pipeline status: executions succeeded',
      'ExecutionsSucceeded',
      'ExecutionTime',
      'MetricName=\\\\\\"FeaturePsi\\\\\\" environment=\\\\\\"dev\\\\\\"',
      'PredictionPsi',
      'ProxySpearman',
      'ProxyPearson',
      'ExpectationsFailedCritical',
      'AlertsRouted',
      'DeliveryToS3.DataFreshness',
      'ApproximateNumberOfMessagesVisible',
      'Namespace=\\\\\\"ClvPlatform\\\\\\"',
      'clv-dev-later-pipeline',
    ]) {
      expect(body, text).toContain(text);
    }
    // the alarm status widget lists the DLQ alarms of the Monitoring stack too
    expect(body).toMatch(/"title\\":\\"Alarms\\"/);
    expect(body).toContain('AlertRoutingFunctionDlqNotEmpty');
  });

  it('depends on the stacks it watches and nothing depends on it', () => {
    const deps = observability.dependencies.map((s) => s.stackName).sort();
    expect(deps).toEqual(['Clv-dev-Ingestion', 'Clv-dev-Lake', 'Clv-dev-Monitoring', 'Clv-dev-Probe']);
  });

  it.each(ALL_ENVIRONMENTS)('is cdk-nag clean in %s', (env) => {
    const built = build(env);
    expect(nagFindings(built.observability)).toEqual([]);
  });

  it('keeps the alarm list precise: no alarm without a matching resource', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', alarms.length);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { TreatMissingData: Match.exact('notBreaching') });
  });
});
