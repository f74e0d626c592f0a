import { Stack } from 'aws-cdk-lib';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import type { BatchScoringSettings } from '../../contracts/pipeline-inputs.js';
import { sqlQuerySubstitution } from '../../contracts/sql-queries.js';
import type { TeamFunction } from '../compute/team-function.js';
import type { AslStateMachine } from '../orchestration/asl-state-machine.js';
import type { BatchScoringPipelineProps } from './batch-scoring-pipeline-props.js';
import { athenaContext, pipelineSchedule, pipelineStateMachine, validateInputFunction } from './pipeline-parts.js';
import { SCORING_NAME_PREFIXES } from './prefixes.js';

/** The ValidateInput settings of batch scoring (C2), from the environment config. */
export function batchScoringSettings(config: EnvironmentConfig): BatchScoringSettings {
  const t = config.batchScoring.transform;
  return {
    transform: {
      instance_type: t.instanceType,
      instance_count: t.instanceCount,
      max_concurrent_transforms: t.maxConcurrentTransforms,
      max_payload_in_mb: t.maxPayloadInMB,
      batch_strategy: t.batchStrategy,
      split_type: t.splitType,
    },
  };
}

/**
 * The weekly batch scoring (state-machines/batch-scoring.asl.json): ValidateInput → the Production model (registry
 * Lambda) → SageMaker model (network isolation) → scoring set (Athena, offline store) → Batch Transform → publish
 * (processing job: gold predictions and monitoring_metrics) → summary → ScoringCompleted event → SNS. It owns its
 * ValidateInput Lambda, its role (from the file's Tasks), log group and weekly schedule.
 */
export class BatchScoringPipeline extends Construct {
  readonly machine: AslStateMachine;
  readonly validateInputFunction: TeamFunction;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: BatchScoringPipelineProps) {
    super(scope, id);
    const { config, lake } = props;
    const env = config.name;

    this.validateInputFunction = validateInputFunction(
      this,
      'batch-scoring',
      batchScoringSettings(config),
      config,
      lake.key,
    );

    this.machine = pipelineStateMachine(this, Stack.of(this), {
      pipeline: 'batch-scoring',
      config,
      key: lake.key,
      timeoutMinutes: config.batchScoring.timeoutMinutes,
      substitutions: {
        ValidateInputFunctionArn: this.validateInputFunction.functionArn,
        ModelRegistryFunctionArn: props.modelRegistryFunction.functionArn,
        ModelPackageGroupName: props.modelPackageGroupName,
        SageMakerRoleArn: props.sagemakerRole.roleArn,
        TrainingImageUri: props.trainingImageUri,
        ScoringSetQuery: sqlQuerySubstitution('ScoringSetQuery'),
        GlueDatabase: lake.databaseName,
        AthenaWorkGroup: lake.workGroupName,
        ArtifactsBucket: lake.artifactsBucket.bucketName,
        GoldBucket: lake.goldBucket.bucketName,
        AthenaResultsBucket: lake.athenaResultsBucket.bucketName,
        KmsKeyArn: lake.key.keyArn,
        AlertsTopicArn: props.alertsTopic.topicArn,
        EnvironmentName: env,
      },
      context: {
        functions: {
          ValidateInputFunctionArn: this.validateInputFunction,
          ModelRegistryFunctionArn: props.modelRegistryFunction,
        },
        athena: athenaContext(lake, [['customer_features_offline', lake.featuresBucket]]),
        sagemaker: { role: props.sagemakerRole, namePrefixes: SCORING_NAME_PREFIXES },
        catalog: { databaseName: lake.databaseName },
        alertsTopic: props.alertsTopic,
        buckets: { ArtifactsBucket: lake.artifactsBucket, AthenaResultsBucket: lake.athenaResultsBucket },
      },
    });
    this.machine.node.addDependency(props.sagemakerCode);

    this.schedule = pipelineSchedule(this, this.machine, {
      scheduleName: `clv-${env}-batch-scoring-weekly`,
      description:
        'Weekly batch scoring; the input carries the scheduled time only: ValidateInput scores the day before',
      cron: config.batchScoring.scheduleCron,
      enabled: props.scheduleEnabled ?? config.batchScoring.scheduleEnabled,
    });
  }
}
