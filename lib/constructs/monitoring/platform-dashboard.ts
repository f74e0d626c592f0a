import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { firehoseMetric, stateMachineMetric } from './platform-alarms.js';
import type { PlatformDashboardProps } from './platform-dashboard-props.js';

/**
 * The platform dashboard `clv-<env>-platform`: pipeline status (executions succeeded / failed per state machine),
 * execution durations, PSI per feature over time, prediction PSI, the proxy correlation (Spearman, Pearson),
 * data-quality failures, alerts routed by severity (Low alerts show here), Lambda errors, Firehose freshness, DLQ
 * depth and the alarms. Custom metrics are found with SEARCH expressions on namespace, metric name and the
 * environment dimension, so every feature appears without listing it, whatever other dimensions (service) a
 * publisher adds.
 */
export class PlatformDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PlatformDashboardProps) {
    super(scope, id);
    const env = props.environmentName;
    const namespace = props.metricsNamespace ?? 'ClvPlatform';
    const custom = Duration.hours(props.customMetricPeriodHours ?? 24);
    const period = Duration.minutes(props.pipelinePeriodMinutes ?? 60);
    const { stateMachines, functions, deliveryStreams } = props.watched;

    /** All series of a custom metric in this environment, one per remaining dimension value (feature, severity). */
    const search = (metricName: string, statistic: string, label?: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('Namespace="${namespace}" MetricName="${metricName}" environment="${env}"', '${statistic}', ${custom.toSeconds()})`,
        ...(label ? { label } : {}),
        period: custom,
        usingMetrics: {},
      });

    const graph = (title: string, left: cloudwatch.IMetric[], options: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 12, height: 6, ...options });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `clv-${env}-platform`,
      defaultInterval: Duration.days(30),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# CLV platform (${env})\nAlarms go to the alerts topic (routed by the alert router); runbooks in docs/runbooks/.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph(
        'Pipeline status: executions succeeded',
        stateMachines.map((sm) => stateMachineMetric(sm.arn, 'ExecutionsSucceeded', 'Sum', period, sm.name)),
        { stacked: true },
      ),
      graph(
        'Pipeline status: executions failed, timed out, aborted',
        stateMachines.flatMap((sm) =>
          ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'].map((m) =>
            stateMachineMetric(sm.arn, m, 'Sum', period, `${sm.name} ${m.replace('Executions', '').toLowerCase()}`),
          ),
        ),
        { stacked: true },
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Execution duration (average, ms)',
        stateMachines.map((sm) => stateMachineMetric(sm.arn, 'ExecutionTime', 'Average', period, sm.name)),
      ),
      graph(
        'Execution duration (maximum, ms)',
        stateMachines.map((sm) => stateMachineMetric(sm.arn, 'ExecutionTime', 'Maximum', period, sm.name)),
      ),
    );
    this.dashboard.addWidgets(
      graph('PSI per feature', [search('FeaturePsi', 'Maximum')], {
        leftAnnotations: [
          { value: 0.1, label: 'Low', color: cloudwatch.Color.ORANGE },
          { value: 0.25, label: 'Medium', color: cloudwatch.Color.RED },
        ],
      }),
      graph('Prediction PSI', [search('PredictionPsi', 'Maximum', 'prediction PSI')], {
        leftAnnotations: [{ value: 0.25, label: 'retraining', color: cloudwatch.Color.RED }],
      }),
    );
    this.dashboard.addWidgets(
      graph('Proxy correlation: predicted CLV vs actual 30-day spend', [
        search('ProxySpearman', 'Average', 'Spearman'),
        search('ProxyPearson', 'Average', 'Pearson'),
      ]),
      graph('Data quality: critical expectation failures', [
        search('ExpectationsFailedCritical', 'Sum', 'critical failures'),
        search('ExpectationsFailedWarning', 'Sum', 'warning failures'),
      ]),
    );
    this.dashboard.addWidgets(
      graph('Alerts routed by severity (Low alerts are listed in the digest)', [
        search('AlertsRouted', 'Sum'),
        search('AlertsDeduplicated', 'Sum'),
      ]),
      graph(
        'Lambda errors and throttles',
        functions.flatMap((fn) => [
          fn.construct.metricErrors({ period, statistic: 'Sum', label: `${fn.name} errors` }),
          fn.construct.metricThrottles({ period, statistic: 'Sum', label: `${fn.name} throttles` }),
        ]),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Firehose: oldest record not yet in S3 (s)',
        deliveryStreams.map((ds) => firehoseMetric(ds.name, 'DeliveryToS3.DataFreshness', 'Maximum', period)),
      ),
      graph(
        'Dead-letter queues: messages waiting',
        (props.deadLetterQueues ?? []).map((q) =>
          q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        ),
      ),
    );
    // an alarm status widget shows at most 100 alarms
    const alarms = [...(props.alarms ?? [])];
    for (let i = 0; i < alarms.length; i += 100) {
      const chunk = alarms.slice(i, i + 100);
      this.dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({
          title: i === 0 ? 'Alarms' : `Alarms (${i + 1}-${i + chunk.length})`,
          alarms: chunk,
          width: 24,
          height: Math.min(12, 2 + Math.ceil(chunk.length / 4)),
        }),
      );
    }
  }
}
