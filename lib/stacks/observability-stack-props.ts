import type { Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { PlatformStackProps } from './platform-stack-props.js';

/** Properties of the Observability stack. */
export interface ObservabilityStackProps extends PlatformStackProps {
  /** The platform's other stacks: their construct trees are searched for state machines, functions and streams. */
  readonly watched: readonly Stack[];
  /** The alerts topic (Monitoring stack): every alarm's ALARM and OK actions. */
  readonly alertsTopic: sns.ITopic;
  /** Dead-letter queues charted on the dashboard (the alert router's). @default - none */
  readonly deadLetterQueues?: readonly sqs.IQueue[];
  /** Alarms defined elsewhere shown in the dashboard's alarm widget (the DLQ alarms). @default - none */
  readonly extraAlarms?: readonly cloudwatch.IAlarm[];
}
