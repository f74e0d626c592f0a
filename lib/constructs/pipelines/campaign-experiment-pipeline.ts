import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import type { CampaignExperimentSettings } from '../../contracts/pipeline-inputs.js';
import { sqlQuerySubstitution } from '../../contracts/sql-queries.js';
import { TeamFunction } from '../compute/team-function.js';
import type { AslStateMachine } from '../orchestration/asl-state-machine.js';
import { acknowledgeNag } from '../security/acknowledge.js';
import { nagBucketArn, prefixStatement } from '../security/s3-prefix-access.js';
import type { CampaignExperimentPipelineProps } from './campaign-experiment-pipeline-props.js';
import { athenaContext, pipelineStateMachine, validateInputFunction } from './pipeline-parts.js';
import { CAMPAIGN_ARTIFACTS_PREFIX, CAMPAIGN_NAME_PREFIXES, CAMPAIGN_REPORTS_PREFIX } from './prefixes.js';

/** The ValidateInput settings of the campaign experiment, from the environment config `campaigns`. */
export function campaignExperimentSettings(config: EnvironmentConfig): CampaignExperimentSettings {
  const c = config.campaigns;
  return {
    canary_share: c.canaryShare,
    ab_share: c.abShare,
    alpha: c.alpha,
    default_max_days: c.defaultMaxDays,
    max_campaign_days: c.maxCampaignDays,
  };
}

/** The actions the completer policy allows on the campaign experiment's state machine. */
export const CAMPAIGN_COMPLETER_ACTIONS = [
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
  'states:SendTaskHeartbeat',
] as const;

/**
 * The campaign experiment (state-machines/campaign-experiment.asl.json), started by hand for a campaign: champion and
 * challenger from the registry → audience export (processing job) → campaign_audiences partition → wait for the
 * outcomes (task token stored by the campaign-token Lambda) → campaign_outcomes partition → Athena arm aggregates →
 * experiment-analysis Lambda → decision in the challenger's metadata → SNS. No schedule. It owns its ValidateInput,
 * campaign-token and experiment-analysis Lambdas, its role (from the file's Tasks), and the managed policy
 * `clv-<env>-campaign-completer` that lets whoever holds the outcomes resume (or fail) a waiting execution.
 * Runbook: docs/runbooks/campaign-experiment.md.
 */
export class CampaignExperimentPipeline extends Construct {
  readonly machine: AslStateMachine;
  readonly validateInputFunction: TeamFunction;
  readonly campaignTokenFunction: TeamFunction;
  readonly experimentAnalysisFunction: TeamFunction;
  /** Attach to the people or roles that complete campaigns (SendTask* on this state machine, the token records). */
  readonly completerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: CampaignExperimentPipelineProps) {
    super(scope, id);
    const { config, lake } = props;
    const env = config.name;

    this.validateInputFunction = validateInputFunction(
      this,
      'campaign-experiment',
      campaignExperimentSettings(config),
      config,
      lake.key,
    );

    // Stores the task token record: writes artifacts campaigns/<id>/task-token.json, nothing else.
    this.campaignTokenFunction = new TeamFunction(this, 'CampaignToken', {
      entry: 'lambdas/campaign-token/handler.ts',
      serviceName: 'campaign-token',
      environmentName: env,
      logRetentionDays: config.logRetentionDays,
      encryptionKey: lake.key,
      memorySize: 256,
      timeout: Duration.seconds(10),
    });
    this.campaignTokenFunction.addToRolePolicy(
      prefixStatement(this.campaignTokenFunction.role as iam.Role, {
        sid: 'WriteTaskTokens',
        bucket: lake.artifactsBucket,
        prefixes: [CAMPAIGN_ARTIFACTS_PREFIX],
        actions: ['s3:PutObject'],
        namedBy: 'the campaign id (<campaign id>/task-token.json)',
      }),
    );
    this.campaignTokenFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PlatformKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [lake.key.keyArn],
      }),
    );

    // Analyses the aggregates the state machine passes in; writes analysis.json and report.html to gold reports.
    this.experimentAnalysisFunction = new TeamFunction(this, 'ExperimentAnalysis', {
      entry: 'lambdas/experiment-analysis/handler.ts',
      serviceName: 'experiment-analysis',
      environmentName: env,
      logRetentionDays: config.logRetentionDays,
      encryptionKey: lake.key,
      memorySize: 512,
      timeout: Duration.seconds(30),
    });
    this.experimentAnalysisFunction.addToRolePolicy(
      prefixStatement(this.experimentAnalysisFunction.role as iam.Role, {
        sid: 'WriteReports',
        bucket: lake.goldBucket,
        prefixes: [CAMPAIGN_REPORTS_PREFIX],
        actions: ['s3:PutObject'],
        namedBy: 'the campaign id (campaign_id=<id>/analysis.json, report.html)',
      }),
    );
    this.experimentAnalysisFunction.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PlatformKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [lake.key.keyArn],
      }),
    );

    const campaigns = config.campaigns;
    this.machine = pipelineStateMachine(this, Stack.of(this), {
      pipeline: 'campaign-experiment',
      config,
      key: lake.key,
      // the longest wait for outcomes plus a day for the steps around it
      timeoutMinutes: (campaigns.maxCampaignDays + 1) * 24 * 60,
      substitutions: {
        ValidateInputFunctionArn: this.validateInputFunction.functionArn,
        ModelRegistryFunctionArn: props.modelRegistryFunction.functionArn,
        CampaignTokenFunctionArn: this.campaignTokenFunction.functionArn,
        ExperimentAnalysisFunctionArn: this.experimentAnalysisFunction.functionArn,
        ModelPackageGroupName: props.modelPackageGroupName,
        SageMakerRoleArn: props.sagemakerRole.roleArn,
        TrainingImageUri: props.trainingImageUri,
        CampaignLatestCommonScoringDateQuery: sqlQuerySubstitution('CampaignLatestCommonScoringDateQuery'),
        CampaignArmAggregatesQuery: sqlQuerySubstitution('CampaignArmAggregatesQuery'),
        GlueDatabase: lake.databaseName,
        AthenaWorkGroup: lake.workGroupName,
        ArtifactsBucket: lake.artifactsBucket.bucketName,
        GoldBucket: lake.goldBucket.bucketName,
        KmsKeyArn: lake.key.keyArn,
        AlertsTopicArn: props.alertsTopic.topicArn,
      },
      context: {
        functions: {
          ValidateInputFunctionArn: this.validateInputFunction,
          ModelRegistryFunctionArn: props.modelRegistryFunction,
          CampaignTokenFunctionArn: this.campaignTokenFunction,
          ExperimentAnalysisFunctionArn: this.experimentAnalysisFunction,
        },
        athena: athenaContext(lake, [
          ['predictions', lake.goldBucket],
          ['campaign_audiences', lake.goldBucket],
          ['campaign_outcomes', lake.goldBucket],
        ]),
        sagemaker: { role: props.sagemakerRole, namePrefixes: CAMPAIGN_NAME_PREFIXES },
        catalog: { databaseName: lake.databaseName },
        modelPackageGroupName: props.modelPackageGroupName,
        alertsTopic: props.alertsTopic,
        buckets: { ArtifactsBucket: lake.artifactsBucket },
      },
    });
    this.machine.node.addDependency(props.sagemakerCode);

    // Whoever holds a campaign's outcomes resumes its execution: read the token record, report the task.
    const tokenRecords = lake.artifactsBucket.arnForObjects(`${CAMPAIGN_ARTIFACTS_PREFIX}*/task-token.json`);
    this.completerPolicy = new iam.ManagedPolicy(this, 'CompleterPolicy', {
      managedPolicyName: `clv-${env}-campaign-completer`,
      description: `Completes campaign experiments (${env}): reads campaigns/<id>/task-token.json and reports the waiting task of clv-${env}-campaign-experiment (docs/runbooks/campaign-experiment.md)`,
      statements: [
        new iam.PolicyStatement({
          sid: 'ReportCampaignTasks',
          actions: [...CAMPAIGN_COMPLETER_ACTIONS],
          resources: [this.machine.stateMachine.stateMachineArn],
        }),
        new iam.PolicyStatement({ sid: 'ReadTaskTokens', actions: ['s3:GetObject'], resources: [tokenRecords] }),
        // The token records are encrypted with the platform key, and so is the state machine's data.
        new iam.PolicyStatement({
          sid: 'PlatformKey',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [lake.key.keyArn],
        }),
      ],
    });
    acknowledgeNag(
      this.completerPolicy,
      `AwsSolutions-IAM5[Resource::${nagBucketArn(lake.artifactsBucket, this.completerPolicy)}/${CAMPAIGN_ARTIFACTS_PREFIX}*/task-token.json]`,
      'Named at run time by the campaign id: the grant (s3:GetObject) is the task-token.json records of campaigns/ only.',
    );
  }
}
