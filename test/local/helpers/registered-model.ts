/**
 * Trains a model with the SageMaker training entry (the local createTrainingJob stand-in) on two offline-store
 * snapshot files and registers it in the local Model Registry as the training pipeline does (stage Staging, the
 * inference program in the container environment), for the end-to-end tests that need a model without running
 * the training pipeline: batch scoring and the rollout.
 */
import * as path from 'node:path';
import { createModelPackage } from '../../../local/integrations/durable.js';
import { createTrainingJob } from '../../../local/integrations/sagemaker-training.js';
import type { Json } from '../../../local/integrations/types.js';
import { stubRuntime } from './runtime.js';

export interface RegisteredModelOptions {
  /** The training job name, also the package's model_version. */
  jobName: string;
  /** Files written by writeOfflineSnapshot (their folders are the channels). */
  trainFile: string;
  validationFile: string;
  rounds: number;
  /** Other hyperparameters (strings, as SageMaker passes them). */
  hyperparameters?: Record<string, string>;
  /** CustomerMetadataProperties besides stage and model_version. */
  metadata?: Record<string, string>;
  group?: string;
}

/** The s3:// folder of a file under the local root. */
export const s3Folder = (root: string, file: string): string =>
  `s3://${path.relative(root, path.dirname(file)).split(path.sep).join('/')}/`;

export async function trainAndRegister(root: string, o: RegisteredModelOptions): Promise<void> {
  const runtime = stubRuntime(root, {
    execution: {
      name: 'setup',
      arn: 'arn:aws:states:eu-west-1:000000000000:execution:x:setup',
      stateMachineName: 'x',
      startTime: '',
    },
  });
  const channel = (name: string, file: string) => ({
    ChannelName: name,
    DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: s3Folder(root, file) } },
  });
  const trained = (await createTrainingJob.invoke(
    {
      stateName: 'TrainModel',
      resource: 'arn:aws:states:::sagemaker:createTrainingJob.sync',
      parameters: {
        TrainingJobName: o.jobName,
        AlgorithmSpecification: { TrainingImage: 'local/xgboost:3.0-5', TrainingInputMode: 'File' },
        HyperParameters: { num_round: String(o.rounds), sagemaker_program: '"train.py"', ...(o.hyperparameters ?? {}) },
        InputDataConfig: [channel('train', o.trainFile), channel('validation', o.validationFile)],
        OutputDataConfig: { S3OutputPath: 's3://clv-local-artifacts/models/training' },
      },
    },
    runtime,
  )) as { ModelArtifacts: { S3ModelArtifacts: string } };
  await createModelPackage.invoke(
    {
      stateName: 'RegisterModel',
      resource: 'arn:aws:states:::aws-sdk:sagemaker:createModelPackage',
      parameters: {
        ModelPackageGroupName: o.group ?? 'clv-local-clv-models',
        ModelApprovalStatus: 'PendingManualApproval',
        InferenceSpecification: {
          Containers: [
            {
              Image: 'local/xgboost:3.0-5',
              ModelDataUrl: trained.ModelArtifacts.S3ModelArtifacts,
              // as the training pipeline registers it: the batch-scoring model overrides the submit directory
              Environment: {
                SAGEMAKER_PROGRAM: 'inference.py',
                SAGEMAKER_SUBMIT_DIRECTORY: 's3://clv-local-artifacts/code/sagemaker/sourcedir.tar.gz',
              },
            },
          ],
        },
        CustomerMetadataProperties: { stage: 'Staging', model_version: o.jobName, ...(o.metadata ?? {}) },
      } as Json,
    },
    runtime,
  );
}
