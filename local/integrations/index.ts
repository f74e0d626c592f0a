/** Every service integration the local runtime can run, chosen by a Task's Resource (never by state name). */
import { athenaGetQueryResults, athenaStartQueryExecution } from './athena.js';
import {
  createModelPackage,
  describeModelPackage,
  eventsPutEvents,
  listModelPackages,
  s3CopyObject,
  s3GetObject,
  s3PutObject,
  snsPublish,
  updateModelPackage,
} from './durable.js';
import { glueStartJobRun } from './glue.js';
import { glueBatchCreatePartition } from './glue-catalog.js';
import { lambdaArn, lambdaInvoke } from './lambda.js';
import { createModel, createTransformJob } from './sagemaker-inference.js';
import { createProcessingJob } from './sagemaker-processing.js';
import { createTrainingJob } from './sagemaker-training.js';
import { createHyperParameterTuningJob } from './sagemaker-tuning.js';
import { statesStartExecution } from './states.js';
import { lambdaInvokeWaitForTaskToken } from './task-token.js';
import type { Integration } from './types.js';

export const INTEGRATIONS: Integration[] = [
  lambdaInvoke,
  lambdaArn,
  lambdaInvokeWaitForTaskToken,
  glueStartJobRun,
  glueBatchCreatePartition,
  createTrainingJob,
  createHyperParameterTuningJob,
  createModel,
  createTransformJob,
  createProcessingJob,
  athenaStartQueryExecution,
  athenaGetQueryResults,
  createModelPackage,
  updateModelPackage,
  describeModelPackage,
  listModelPackages,
  snsPublish,
  eventsPutEvents,
  statesStartExecution,
  s3GetObject,
  s3PutObject,
  s3CopyObject,
];

/** The stand-in for a Resource, or undefined when the local runtime cannot run it. */
export function integrationFor(resource: string): Integration | undefined {
  return INTEGRATIONS.find((i) => i.matches(resource));
}
