import type * as sns from 'aws-cdk-lib/aws-sns';
import type { EnvironmentConfig } from '../../config/environment-config.js';
import type { LakeRefs } from '../../stacks/platform-stack-props.js';

/** Properties of {@link DataPipeline}. */
export interface DataPipelineProps {
  /**
   * The environment config: `dataPipeline` (schedule, timeout, training snapshots weekday), `trainingPipeline.
   * rollingCutoffs` (which labelled snapshots to build), `logRetentionDays` and `name`.
   */
  readonly config: EnvironmentConfig;
  /** The lake as seen from the stack that holds the pipeline (buckets, key, catalog, workgroup). */
  readonly lake: LakeRefs;
  /** Topic of every alert (`${AlertsTopicArn}`). */
  readonly alertsTopic: sns.ITopic;
  /** Glue job ingesting transactions and customers (`${IngestTransactionsJobName}`, Ingestion stack). */
  readonly ingestTransactionsJobName: string;
  /** Glue job sessionizing the clickstream (`${SessionizeClickstreamJobName}`, Ingestion stack). */
  readonly sessionizeClickstreamJobName: string;
  /** Glue job building the features and snapshots (`${BuildFeaturesJobName}`, Features stack). */
  readonly buildFeaturesJobName: string;
  /** Feature Group the build writes (`${FeatureGroupName}`, Features stack). */
  readonly featureGroupName: string;
  /**
   * Start the pipeline on its schedule.
   * @default config.dataPipeline.scheduleEnabled
   */
  readonly scheduleEnabled?: boolean;
  /**
   * Memory of the quality-gate Lambda (MiB).
   * @default 512
   */
  readonly qualityGateMemorySize?: number;
}
