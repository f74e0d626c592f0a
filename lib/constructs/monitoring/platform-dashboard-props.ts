import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { WatchedResources } from './platform-alarms.js';

/** Properties of {@link PlatformDashboard}. */
export interface PlatformDashboardProps {
  /** Environment name: the dashboard is `clv-<env>-platform`; custom metrics are filtered on dimension environment. */
  readonly environmentName: string;
  /** The state machines, functions and delivery streams to chart (PlatformAlarms.watched). */
  readonly watched: WatchedResources;
  /** Alarms shown in the alarm status widget. @default - none */
  readonly alarms?: readonly cloudwatch.IAlarm[];
  /** Dead-letter queues whose depth is charted. @default - none */
  readonly deadLetterQueues?: readonly sqs.IQueue[];
  /** Namespace of the platform's custom (Powertools) metrics. @default 'ClvPlatform' (TeamFunction's default) */
  readonly metricsNamespace?: string;
  /** Period of the custom-metric charts (PSI, proxy correlation, data quality), in hours. @default 24 */
  readonly customMetricPeriodHours?: number;
  /** Period of the pipeline charts (executions, durations, Lambda, Firehose), in minutes. @default 60 */
  readonly pipelinePeriodMinutes?: number;
}
