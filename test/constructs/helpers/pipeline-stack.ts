/**
 * A stack for one pipeline construct's tests, over imported lake resources named as the ML stack sees the Lake
 * stack's, with the shared parts a pipeline construct takes (alerts topic, registry Lambda, SageMaker role and code):
 * the construct is synthesized alone, without the platform.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { EnvironmentName } from '../../../lib/config/environment-config.js';
import type { LakeRefs } from '../../../lib/stacks/platform-stack-props.js';
import { CDK_CONTEXT } from '../../helpers/platform.js';

export const ACCOUNT = '111111111111';
export const REGION = 'eu-west-1';
export const TRAINING_IMAGE_URI = '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5';

export interface PipelineStack {
  stack: Stack;
  lake: LakeRefs;
  alertsTopic: sns.ITopic;
  modelPackageGroupName: string;
  modelRegistryFunction: lambda.IFunction;
  sagemakerRole: iam.IRole;
  sagemakerCode: Construct;
}

/** A stack `<name>-<env>` in account ACCOUNT, region REGION, with the imported lake and shared parts. */
export function pipelineStack(name: string, env: EnvironmentName): PipelineStack {
  process.env.CDK_VALIDATION = 'false';
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, `${name}-${env}`, { env: { account: ACCOUNT, region: REGION } });
  const bucket = (id: string) => s3.Bucket.fromBucketName(stack, id, `clv-${env}-${id.toLowerCase()}`);
  const lake: LakeRefs = {
    key: kms.Key.fromKeyArn(stack, 'Key', `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`),
    rawBucket: bucket('Raw'),
    curatedBucket: bucket('Curated'),
    goldBucket: bucket('Gold'),
    featuresBucket: bucket('Features'),
    artifactsBucket: bucket('Artifacts'),
    athenaResultsBucket: bucket('AthenaResults'),
    databaseName: `clv_${env}`,
    workGroupName: `clv-${env}`,
    glueContractFiles: [],
  };
  return {
    stack,
    lake,
    alertsTopic: sns.Topic.fromTopicArn(stack, 'Alerts', `arn:aws:sns:${REGION}:${ACCOUNT}:clv-${env}-alerts`),
    modelPackageGroupName: `clv-${env}-clv-models`,
    modelRegistryFunction: lambda.Function.fromFunctionArn(
      stack,
      'Registry',
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:clv-${env}-model-registry`,
    ),
    sagemakerRole: iam.Role.fromRoleArn(stack, 'SageMakerRole', `arn:aws:iam::${ACCOUNT}:role/clv-${env}-sagemaker`),
    sagemakerCode: new Construct(stack, 'Code'),
  };
}
