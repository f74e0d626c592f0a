import { ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import { TeamFunction } from '../compute/team-function.js';
import { AslStateMachine } from '../orchestration/asl-state-machine.js';
import type { PlatformAlarmsProps } from './platform-alarms-props.js';

/** What the alarms and the dashboard watch, found by walking construct trees. */
export interface WatchedResources {
  readonly stateMachines: { readonly name: string; readonly construct: AslStateMachine; readonly arn: string }[];
  readonly functions: { readonly name: string; readonly construct: TeamFunction }[];
  readonly deliveryStreams: { readonly name: string; readonly construct: firehose.CfnDeliveryStream }[];
}

/** A readable, alarm-name-safe id of a construct from its path (stack id and construct ids, lower case). */
export function constructSlug(c: IConstruct): string {
  return c.node.path
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}

/**
 * Every AslStateMachine, TeamFunction and Firehose delivery stream under the scopes. A state machine's ARN is built
 * from its literal name in `scope`'s stack (no cross-stack export); functions are referenced by name.
 */
export function findWatchedResources(scope: Construct, watched: readonly IConstruct[]): WatchedResources {
  const all = watched.flatMap((w) => w.node.findAll());
  const stack = Stack.of(scope);
  const stateMachines = all
    .filter((c): c is AslStateMachine => c instanceof AslStateMachine)
    .map((construct) => {
      const cfn = construct.stateMachine.node.defaultChild as sfn.CfnStateMachine;
      const literal = cfn.stateMachineName !== undefined && !Token.isUnresolved(cfn.stateMachineName);
      const name = literal ? (cfn.stateMachineName as string) : constructSlug(construct);
      const arn = literal
        ? stack.formatArn({
            service: 'states',
            resource: 'stateMachine',
            resourceName: name,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          })
        : construct.stateMachine.stateMachineArn;
      return { name, construct, arn };
    });
  const functions = all
    .filter((c): c is TeamFunction => c instanceof TeamFunction)
    .map((construct) => ({ name: constructSlug(construct), construct }));
  const deliveryStreams = all
    .filter((c): c is firehose.CfnDeliveryStream => c instanceof firehose.CfnDeliveryStream)
    .map((construct) => ({
      name:
        construct.deliveryStreamName !== undefined && !Token.isUnresolved(construct.deliveryStreamName)
          ? construct.deliveryStreamName
          : constructSlug(construct),
      construct,
    }));
  return { stateMachines, functions, deliveryStreams };
}

/** The Step Functions metric of a state machine (dimension StateMachineArn). */
export function stateMachineMetric(
  arn: string,
  metricName: string,
  statistic: string,
  period: Duration,
  label?: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/States',
    metricName,
    dimensionsMap: { StateMachineArn: arn },
    statistic,
    period,
    label,
  });
}

/** The Firehose metric of a delivery stream (dimension DeliveryStreamName). */
export function firehoseMetric(
  name: string,
  metricName: string,
  statistic: string,
  period: Duration,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Firehose',
    metricName,
    dimensionsMap: { DeliveryStreamName: name },
    statistic,
    period,
  });
}

/**
 * The platform's operational alarms, each sending ALARM and OK to the alerts topic (High: it pages; OK resolves):
 * per state machine ExecutionsFailed, ExecutionsTimedOut and ExecutionsAborted; per Lambda Errors and Throttles; per
 * Firehose delivery stream DeliveryToS3.DataFreshness and DeliveryToS3.Success (delivery failures).
 */
export class PlatformAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly watched: WatchedResources;

  constructor(scope: Construct, id: string, props: PlatformAlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(props.periodMinutes ?? 5);
    const evaluationPeriods = props.evaluationPeriods ?? 1;
    this.watched = findWatchedResources(this, props.watched);
    const action = new actions.SnsAction(props.alertsTopic);

    const alarm = (
      aid: string,
      name: string,
      metric: cloudwatch.IMetric,
      description: string,
      comparisonOperator: cloudwatch.ComparisonOperator,
      threshold: number,
    ) => {
      const a = new cloudwatch.Alarm(this, aid, {
        alarmName: name.slice(0, 255),
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator,
        evaluationPeriods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };
    const atLeastOne = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;

    for (const sm of this.watched.stateMachines) {
      for (const [metricName, what] of [
        ['ExecutionsFailed', 'failed'],
        ['ExecutionsTimedOut', 'timed-out'],
        ['ExecutionsAborted', 'aborted'],
      ] as const) {
        alarm(
          `${sm.name}-${metricName}`,
          `${sm.name}-executions-${what}`,
          stateMachineMetric(sm.arn, metricName, 'Sum', period),
          `State machine ${sm.name}: an execution ${what.replace('-', ' ')}. Runbook: docs/runbooks/ (the pipeline's).`,
          atLeastOne,
          1,
        );
      }
    }
    for (const fn of this.watched.functions) {
      alarm(
        `${fn.name}-Errors`,
        `${fn.name}-errors`,
        fn.construct.metricErrors({ period, statistic: 'Sum' }),
        `Lambda ${fn.construct.node.path}: invocation errors.`,
        atLeastOne,
        1,
      );
      alarm(
        `${fn.name}-Throttles`,
        `${fn.name}-throttles`,
        fn.construct.metricThrottles({ period, statistic: 'Sum' }),
        `Lambda ${fn.construct.node.path}: throttled invocations.`,
        atLeastOne,
        1,
      );
    }
    for (const ds of this.watched.deliveryStreams) {
      alarm(
        `${ds.name}-DataFreshness`,
        `${ds.name}-data-freshness`,
        firehoseMetric(ds.name, 'DeliveryToS3.DataFreshness', 'Maximum', period),
        `Firehose ${ds.name}: the oldest record is more than ${props.firehoseMaxDataFreshnessSeconds} s from S3 (delivery stalled).`,
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        props.firehoseMaxDataFreshnessSeconds,
      );
      alarm(
        `${ds.name}-DeliveryFailures`,
        `${ds.name}-delivery-failures`,
        firehoseMetric(ds.name, 'DeliveryToS3.Success', 'Minimum', period),
        `Firehose ${ds.name}: S3 deliveries failed (DeliveryToS3.Success < 1; failed records go to the error prefix).`,
        cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        1,
      );
    }
  }
}
