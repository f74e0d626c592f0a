import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { PlatformAlarms } from '../constructs/monitoring/platform-alarms.js';
import { PlatformDashboard } from '../constructs/monitoring/platform-dashboard.js';
import type { ObservabilityStackProps } from './observability-stack-props.js';

/**
 * Observability (`Clv-<env>-Observability`, created last): alarms on every state machine, Lambda and Firehose
 * delivery stream found in the other stacks (to the alerts topic) and the platform dashboard. It only references
 * the other stacks, never the reverse, so it can be changed or redeployed on its own.
 */
export class ObservabilityStack extends Stack {
  readonly alarms: PlatformAlarms;
  readonly dashboard: PlatformDashboard;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    for (const stack of props.watched) this.addStackDependency(stack);
    this.alarms = new PlatformAlarms(this, 'Alarms', {
      watched: props.watched,
      alertsTopic: props.alertsTopic,
      firehoseMaxDataFreshnessSeconds: props.config.alerting.firehoseMaxDataFreshnessSeconds,
    });
    this.dashboard = new PlatformDashboard(this, 'Dashboard', {
      environmentName: props.config.name,
      watched: this.alarms.watched,
      alarms: [...this.alarms.alarms, ...(props.extraAlarms ?? [])],
      deadLetterQueues: props.deadLetterQueues,
    });
  }
}
