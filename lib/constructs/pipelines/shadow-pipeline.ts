import { Duration, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import type { ShadowSettings } from '../../contracts/pipeline-inputs.js';
import { sqlQuerySubstitution } from '../../contracts/sql-queries.js';
import { TeamFunction } from '../compute/team-function.js';
import type { AslStateMachine } from '../orchestration/asl-state-machine.js';
import { batchScoringSettings } from './batch-scoring-pipeline.js';
import { athenaContext, pipelineStateMachine, validateInputFunction } from './pipeline-parts.js';
import { SHADOW_NAME_PREFIXES } from './prefixes.js';
import type { ShadowPipelineProps } from './shadow-pipeline-props.js';

/** The ValidateInput settings of the shadow pipeline: batch scoring's transform and the shadow thresholds. */
export function shadowSettings(config: EnvironmentConfig): ShadowSettings {
  const s = config.shadow;
  return {
    transform: batchScoringSettings(config).transform,
    thresholds: {
      max_runtime_increase: s.maxRuntimeIncrease,
      max_mean_shift: s.maxMeanShift,
      runtime_tolerance_seconds: s.runtimeToleranceSeconds,
    },
  };
}

/**
 * The shadow run of a registered challenger (state-machines/shadow.asl.json, started by the training pipeline):
 * challenger and champion from the registry → stage Shadow → the scoring set as batch scoring builds it → both
 * Batch Transforms in one Parallel → comparison processing job → shadow-gate Lambda → pass: the challenger's
 * predictions partition, stage Canary, SNS; fail: alert. It owns its ValidateInput and shadow-gate Lambdas and its
 * role (from the file's Tasks). Runbook: docs/runbooks/shadow.md.
 */
export class ShadowPipeline extends Construct {
  readonly machine: AslStateMachine;
  readonly validateInputFunction: TeamFunction;
  readonly shadowGateFunction: TeamFunction;

  constructor(scope: Construct, id: string, props: ShadowPipelineProps) {
    super(scope, id);
    const { config, lake } = props;

    this.validateInputFunction = validateInputFunction(this, 'shadow', shadowSettings(config), config, lake.key);

    // Judges facts the state machine passes in (job times, comparison statistics): no AWS access of its own.
    this.shadowGateFunction = new TeamFunction(this, 'ShadowGate', {
      entry: 'lambdas/shadow-gate/handler.ts',
      serviceName: 'shadow-gate',
      environmentName: config.name,
      logRetentionDays: config.logRetentionDays,
      encryptionKey: lake.key,
      memorySize: 256,
      timeout: Duration.seconds(10),
    });

    this.machine = pipelineStateMachine(this, Stack.of(this), {
      pipeline: 'shadow',
      config,
      key: lake.key,
      timeoutMinutes: config.shadow.timeoutMinutes,
      substitutions: {
        ValidateInputFunctionArn: this.validateInputFunction.functionArn,
        ModelRegistryFunctionArn: props.modelRegistryFunction.functionArn,
        ShadowGateFunctionArn: this.shadowGateFunction.functionArn,
        ModelPackageGroupName: props.modelPackageGroupName,
        SageMakerRoleArn: props.sagemakerRole.roleArn,
        TrainingImageUri: props.trainingImageUri,
        ScoringSetQuery: sqlQuerySubstitution('ScoringSetQuery'),
        ChampionLatestScoringDateQuery: sqlQuerySubstitution('ChampionLatestScoringDateQuery'),
        GlueDatabase: lake.databaseName,
        AthenaWorkGroup: lake.workGroupName,
        ArtifactsBucket: lake.artifactsBucket.bucketName,
        GoldBucket: lake.goldBucket.bucketName,
        AthenaResultsBucket: lake.athenaResultsBucket.bucketName,
        KmsKeyArn: lake.key.keyArn,
        AlertsTopicArn: props.alertsTopic.topicArn,
      },
      context: {
        functions: {
          ValidateInputFunctionArn: this.validateInputFunction,
          ModelRegistryFunctionArn: props.modelRegistryFunction,
          ShadowGateFunctionArn: this.shadowGateFunction,
        },
        athena: athenaContext(lake, [
          ['customer_features_offline', lake.featuresBucket],
          ['monitoring_metrics', lake.goldBucket],
        ]),
        sagemaker: { role: props.sagemakerRole, namePrefixes: SHADOW_NAME_PREFIXES },
        catalog: { databaseName: lake.databaseName },
        modelPackageGroupName: props.modelPackageGroupName,
        alertsTopic: props.alertsTopic,
        buckets: { ArtifactsBucket: lake.artifactsBucket, AthenaResultsBucket: lake.athenaResultsBucket },
      },
    });
    // Executions must not start before the code they run is in place.
    this.machine.node.addDependency(props.sagemakerCode);
  }
}
