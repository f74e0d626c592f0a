import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import type { TrainingPipelineSettings } from '../../contracts/pipeline-inputs.js';
import { sqlQuerySubstitution } from '../../contracts/sql-queries.js';
import { TeamFunction } from '../compute/team-function.js';
import type { AslStateMachine } from '../orchestration/asl-state-machine.js';
import { prefixStatement } from '../security/s3-prefix-access.js';
import {
  athenaContext,
  pipelineSchedule,
  pipelineStateMachine,
  pipelineStateMachineArn,
  validateInputFunction,
} from './pipeline-parts.js';
import { EVALUATIONS_PREFIX, TRAINING_JOB_PREFIXES } from './prefixes.js';
import type { TrainingPipelineProps } from './training-pipeline-props.js';

/** The ValidateInput settings of the training pipeline (C2), from the environment config. */
export function trainingPipelineSettings(config: EnvironmentConfig): TrainingPipelineSettings {
  const { tune, rollingCutoffs: r, gates: g } = config.trainingPipeline;
  return {
    tune,
    rolling_cutoffs: {
      label_horizon_days: r.labelHorizonDays,
      spacing_days: r.spacingDays,
      stacked_snapshots: r.stackedSnapshots,
    },
    gate: {
      min_gini: g.minGini,
      min_churn_auc: g.minChurnAuc,
      min_top_decile_capture: g.minTopDecileCapture,
      min_heuristic_rmse_reduction: g.minHeuristicRmseReduction,
      min_test_rows: g.minTestRows,
      champion_max_rmse_increase: g.championMaxRmseIncrease,
      champion_max_gini_decrease: g.championMaxGiniDecrease,
      fairness_min_ratio: g.fairnessMinRatio,
      fairness_min_slice_customers: g.fairnessMinSliceCustomers,
    },
  };
}

/**
 * The weekly training pipeline (state-machines/training-pipeline.asl.json): ValidateInput (rolling cutoffs) →
 * Athena training/validation/test sets from the offline store → SageMaker training (or tuning) → champion lookup →
 * evaluation → model gate → Model Registry (stage Staging) → SNS. It owns its ValidateInput and model-gate Lambdas,
 * its role (from the file's Tasks), log group and weekly schedule. Runbook: docs/runbooks/training-pipeline.md.
 */
export class TrainingPipeline extends Construct {
  readonly machine: AslStateMachine;
  readonly validateInputFunction: TeamFunction;
  readonly modelGateFunction: TeamFunction;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id);
    const { config, lake } = props;
    const env = config.name;

    this.validateInputFunction = validateInputFunction(
      this,
      'training-pipeline',
      trainingPipelineSettings(config),
      config,
      lake.key,
    );

    const fn = new TeamFunction(this, 'ModelGate', {
      entry: 'lambdas/model-gate/handler.ts',
      serviceName: 'model-gate',
      environmentName: env,
      logRetentionDays: config.logRetentionDays,
      encryptionKey: lake.key,
      memorySize: 256,
      timeout: Duration.seconds(30),
    });
    fn.addToRolePolicy(
      prefixStatement(fn.role as iam.Role, {
        sid: 'ReadEvaluations',
        bucket: lake.artifactsBucket,
        prefixes: [EVALUATIONS_PREFIX],
        actions: ['s3:GetObject'],
        namedBy: 'the evaluation processing job (<execution name>/evaluation.json)',
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'PlatformKey', actions: ['kms:Decrypt'], resources: [lake.key.keyArn] }),
    );
    this.modelGateFunction = fn;

    // The shadow run a registered challenger starts (StartShadow): the ARN from the deterministic name, so the
    // shadow construct may be created after this one.
    const shadowStateMachineArn = pipelineStateMachineArn(this, env, 'shadow');

    this.machine = pipelineStateMachine(this, Stack.of(this), {
      pipeline: 'training-pipeline',
      config,
      key: lake.key,
      timeoutMinutes: config.trainingPipeline.timeoutMinutes,
      substitutions: {
        TrainingSetQuery: sqlQuerySubstitution('TrainingSetQuery'),
        GlueDatabase: lake.databaseName,
        AthenaWorkGroup: lake.workGroupName,
        ArtifactsBucket: lake.artifactsBucket.bucketName,
        GoldBucket: lake.goldBucket.bucketName,
        KmsKeyArn: lake.key.keyArn,
        TrainingImageUri: props.trainingImageUri,
        SageMakerRoleArn: props.sagemakerRole.roleArn,
        ValidateInputFunctionArn: this.validateInputFunction.functionArn,
        ModelRegistryFunctionArn: props.modelRegistryFunction.functionArn,
        ModelGateFunctionArn: fn.functionArn,
        ModelPackageGroupName: props.modelPackageGroupName,
        AlertsTopicArn: props.alertsTopic.topicArn,
        ShadowStateMachineArn: shadowStateMachineArn,
      },
      context: {
        functions: {
          ValidateInputFunctionArn: this.validateInputFunction,
          ModelRegistryFunctionArn: props.modelRegistryFunction,
          ModelGateFunctionArn: fn,
        },
        athena: athenaContext(lake, [['customer_features_offline', lake.featuresBucket]]),
        sagemaker: { role: props.sagemakerRole, namePrefixes: TRAINING_JOB_PREFIXES },
        modelPackageGroupName: props.modelPackageGroupName,
        alertsTopic: props.alertsTopic,
        stateMachines: { ShadowStateMachineArn: shadowStateMachineArn },
      },
    });
    // Executions must not start before the code they run is in place.
    this.machine.node.addDependency(props.sagemakerCode);

    this.schedule = pipelineSchedule(this, this.machine, {
      scheduleName: `clv-${env}-training-pipeline-weekly`,
      description:
        'Weekly training run; the input carries the scheduled time only: ValidateInput derives the rolling cutoffs',
      cron: config.trainingPipeline.scheduleCron,
      enabled: props.scheduleEnabled ?? config.trainingPipeline.scheduleEnabled,
    });
  }
}
