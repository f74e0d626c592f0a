/**
 * A stack holding the shadow and promotion pipelines over imported lake resources (./pipeline-stack.ts), for the
 * construct tests: test/constructs/shadow-pipeline.test.ts, promotion-pipeline.test.ts.
 */
import type { Stack } from 'aws-cdk-lib';
import type { EnvironmentName } from '../../../lib/config/environment-config.js';
import { loadEnvironmentConfig } from '../../../lib/config/load-config.js';
import { PromotionPipeline } from '../../../lib/constructs/pipelines/promotion-pipeline.js';
import { ShadowPipeline } from '../../../lib/constructs/pipelines/shadow-pipeline.js';
import { pipelineStack, TRAINING_IMAGE_URI } from './pipeline-stack.js';

export { ACCOUNT, REGION } from './pipeline-stack.js';

export function rolloutStack(env: EnvironmentName): {
  stack: Stack;
  shadow: ShadowPipeline;
  promotion: PromotionPipeline;
} {
  const { stack, ...parts } = pipelineStack('Rollout', env);
  const config = loadEnvironmentConfig(env);
  const shadow = new ShadowPipeline(stack, 'Shadow', {
    config,
    lake: parts.lake,
    alertsTopic: parts.alertsTopic,
    modelPackageGroupName: parts.modelPackageGroupName,
    sagemakerRole: parts.sagemakerRole,
    sagemakerCode: parts.sagemakerCode,
    modelRegistryFunction: parts.modelRegistryFunction,
    trainingImageUri: TRAINING_IMAGE_URI,
  });
  const promotion = new PromotionPipeline(stack, 'Promotion', {
    config,
    lake: parts.lake,
    alertsTopic: parts.alertsTopic,
    modelPackageGroupName: parts.modelPackageGroupName,
    modelRegistryFunction: parts.modelRegistryFunction,
  });
  return { stack, shadow, promotion };
}
