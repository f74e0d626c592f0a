/**
 * A stack holding the shadow and promotion pipelines over imported lake resources (named, as the ML stack sees the
 * lake stack's), for the construct tests: test/constructs/shadow-pipeline.test.ts, promotion-pipeline.test.ts.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { EnvironmentName } from '../../../lib/config/environment-config.js';
import { loadEnvironmentConfig } from '../../../lib/config/load-config.js';
import { PromotionPipeline } from '../../../lib/constructs/pipelines/promotion-pipeline.js';
import { ShadowPipeline } from '../../../lib/constructs/pipelines/shadow-pipeline.js';
import type { LakeRefs } from '../../../lib/stacks/platform-stack-props.js';
import { CDK_CONTEXT } from '../../helpers/platform.js';

export const ACCOUNT = '111111111111';
export const REGION = 'eu-west-1';

export function rolloutStack(env: EnvironmentName): {
  stack: Stack;
  shadow: ShadowPipeline;
  promotion: PromotionPipeline;
} {
  process.env.CDK_VALIDATION = 'false';
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, `Rollout-${env}`, { env: { account: ACCOUNT, region: REGION } });
  const config = loadEnvironmentConfig(env);
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
  const group = `clv-${env}-clv-models`;
  const alertsTopic = sns.Topic.fromTopicArn(stack, 'Alerts', `arn:aws:sns:${REGION}:${ACCOUNT}:clv-${env}-alerts`);
  const modelRegistryFunction = lambda.Function.fromFunctionArn(
    stack,
    'Registry',
    `arn:aws:lambda:${REGION}:${ACCOUNT}:function:clv-${env}-model-registry`,
  );
  const shadow = new ShadowPipeline(stack, 'Shadow', {
    config,
    lake,
    alertsTopic,
    modelPackageGroupName: group,
    sagemakerRole: iam.Role.fromRoleArn(stack, 'SageMakerRole', `arn:aws:iam::${ACCOUNT}:role/clv-${env}-sagemaker`),
    sagemakerCode: new Construct(stack, 'Code'),
    modelRegistryFunction,
    trainingImageUri: '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:3.0-5',
  });
  const promotion = new PromotionPipeline(stack, 'Promotion', {
    config,
    lake,
    alertsTopic,
    modelPackageGroupName: group,
    modelRegistryFunction,
  });
  return { stack, shadow, promotion };
}
