import { Duration, Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import type { MonitoringSettings } from '../../contracts/pipeline-inputs.js';
import { sqlQuerySubstitution } from '../../contracts/sql-queries.js';
import { TeamFunction } from '../compute/team-function.js';
import type { AslStateMachine } from '../orchestration/asl-state-machine.js';
import { prefixStatement } from '../security/s3-prefix-access.js';
import type { MonitoringPipelineProps } from './monitoring-pipeline-props.js';
import {
  athenaContext,
  pipelineEventRules,
  pipelineStateMachine,
  pipelineStateMachineArn,
  validateInputFunction,
} from './pipeline-parts.js';
import { MONITORING_METRICS_PREFIX } from './prefixes.js';

/** The ValidateInput settings of the monitoring pipeline, from the environment config. */
export function monitoringSettings(config: EnvironmentConfig): MonitoringSettings {
  const m = config.monitoring;
  return {
    drift: { psi_low: m.drift.psiLow, psi_medium: m.drift.psiMedium },
    proxy: {
      window_days: m.proxy.windowDays,
      max_correlation_drop: m.proxy.maxCorrelationDrop,
      min_customers: m.proxy.minCustomers,
    },
    matured_after_days: m.maturedAfterDays,
    retraining: {
      enabled: m.retraining.enabled,
      prediction_psi: m.retraining.predictionPsi,
      on_input_drift: m.retraining.onInputDrift,
      cooldown_hours: m.retraining.cooldownHours,
    },
  };
}

/**
 * The monitoring pipeline (state-machines/monitoring.asl.json), started by batch scoring's ScoringCompleted event:
 * drift (Athena bins → the drift Lambda), proxy performance and the matured cohort (Athena → the monitoring
 * Lambda), alerts through the alerts topic, and a retraining run of the training pipeline on prediction drift or a
 * proxy drop, with a cool-down in the condition table. It owns its ValidateInput, drift and monitoring Lambdas, its
 * role (from the file's Tasks), log group and event rule. Runbooks: docs/runbooks/drift-alert.md, proxy-drop.md.
 */
export class MonitoringPipeline extends Construct {
  readonly machine: AslStateMachine;
  readonly validateInputFunction: TeamFunction;
  readonly driftFunction: TeamFunction;
  readonly monitoringFunction: TeamFunction;
  readonly eventRules: events.Rule[];

  constructor(scope: Construct, id: string, props: MonitoringPipelineProps) {
    super(scope, id);
    const { config, lake } = props;
    const env = config.name;
    const stack = Stack.of(this);

    this.validateInputFunction = validateInputFunction(
      this,
      'monitoring',
      monitoringSettings(config),
      config,
      lake.key,
    );

    const writesMetrics = (fn: TeamFunction, sid: string, namedBy: string) => {
      fn.addToRolePolicy(
        prefixStatement(fn.role as iam.Role, {
          sid,
          bucket: lake.goldBucket,
          prefixes: [MONITORING_METRICS_PREFIX],
          actions: ['s3:PutObject'],
          namedBy,
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'PlatformKey',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [lake.key.keyArn],
        }),
      );
    };

    this.driftFunction = new TeamFunction(this, 'Drift', {
      entry: 'lambdas/drift/handler.ts',
      serviceName: 'drift',
      environmentName: env,
      logRetentionDays: config.logRetentionDays,
      encryptionKey: lake.key,
      memorySize: 512,
      timeout: Duration.seconds(60),
    });
    writesMetrics(
      this.driftFunction,
      'WriteDriftMetrics',
      'the drift Lambda (run_date=<d>/<execution name>-drift.parquet)',
    );

    this.monitoringFunction = new TeamFunction(this, 'MonitoringLambda', {
      entry: 'lambdas/monitoring/handler.ts',
      serviceName: 'monitoring',
      environmentName: env,
      logRetentionDays: config.logRetentionDays,
      encryptionKey: lake.key,
      memorySize: 512,
      timeout: Duration.seconds(60),
      environment: { CLV_CONDITION_TABLE: props.conditionTable.tableName },
    });
    writesMetrics(
      this.monitoringFunction,
      'WriteMonitoringMetrics',
      'the monitoring Lambda (run_date=<d>/<execution name>-proxy|matured|retraining.parquet)',
    );
    // The retraining cool-down: one item of the condition table (get, conditional put, delete), nothing else.
    this.monitoringFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RetrainingCooldown',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [props.conditionTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['monitoring#retraining-trigger'] } },
      }),
    );
    if (props.conditionTable.encryptionKey) {
      this.monitoringFunction.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ConditionTableKey',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [props.conditionTable.encryptionKey.keyArn],
        }),
      );
    }

    const trainingArn = pipelineStateMachineArn(this, env, 'training-pipeline');

    this.machine = pipelineStateMachine(this, stack, {
      pipeline: 'monitoring',
      config,
      key: lake.key,
      timeoutMinutes: config.monitoring.timeoutMinutes,
      substitutions: {
        ValidateInputFunctionArn: this.validateInputFunction.functionArn,
        DriftFunctionArn: this.driftFunction.functionArn,
        MonitoringFunctionArn: this.monitoringFunction.functionArn,
        DriftBinsQuery: sqlQuerySubstitution('DriftBinsQuery'),
        ProxyPerformanceQuery: sqlQuerySubstitution('ProxyPerformanceQuery'),
        MaturedCohortQuery: sqlQuerySubstitution('MaturedCohortQuery'),
        GlueDatabase: lake.databaseName,
        AthenaWorkGroup: lake.workGroupName,
        GoldBucket: lake.goldBucket.bucketName,
        AlertsTopicArn: props.alertsTopic.topicArn,
        TrainingPipelineStateMachineArn: trainingArn,
      },
      context: {
        functions: {
          ValidateInputFunctionArn: this.validateInputFunction,
          DriftFunctionArn: this.driftFunction,
          MonitoringFunctionArn: this.monitoringFunction,
        },
        athena: athenaContext(lake, [
          ['drift_baselines', lake.goldBucket],
          ['customer_features_offline', lake.featuresBucket],
          ['predictions', lake.goldBucket],
          ['monitoring_metrics', lake.goldBucket],
          ['silver_transactions', lake.curatedBucket],
        ]),
        alertsTopic: props.alertsTopic,
        stateMachines: { TrainingPipelineStateMachineArn: trainingArn },
      },
    });

    this.eventRules = pipelineEventRules(this, this.machine, {
      pipeline: 'monitoring',
      environmentName: env,
      context: { environmentName: env, modelPackageGroupName: props.modelPackageGroupName },
      alertsTopic: props.alertsTopic,
      enabled: props.eventRuleEnabled ?? true,
    });
  }
}
