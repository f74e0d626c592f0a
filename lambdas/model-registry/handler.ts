/**
 * Model registry Lambda (docs/model-registry.md): one event, one action —
 * `find-production`, `find-stage`, `describe`, `find-previous-production`, `plan-promotion` (./registry.ts,
 * ./rollout.ts). SageMaker in AWS; the local registry files when CLV_LOCAL_ROOT is set. Errors keep their names
 * (NoProductionModel, NoPackageInStage, NoPreviousProduction, PromotionRefused, InvalidRegistryRequest) for the
 * state machines' Catch.
 */
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { withPowertools } from '../shared/middleware.js';
import { logger } from '../shared/powertools.js';
import { LocalModelRegistry } from './local-registry.js';
import { findProduction, type ModelRegistry, parseRegistryEvent } from './registry.js';
import { describePackage, findPreviousProduction, findStage, planPromotion } from './rollout.js';
import { SageMakerModelRegistry } from './sagemaker-registry.js';

let sagemaker: SageMakerModelRegistry | undefined;

function registry(): ModelRegistry {
  const root = process.env.CLV_LOCAL_ROOT;
  if (root) return new LocalModelRegistry(root);
  sagemaker ??= new SageMakerModelRegistry(new SageMakerClient({}));
  return sagemaker;
}

export const handler = withPowertools(async (event: unknown): Promise<unknown> => {
  const request = parseRegistryEvent(event);
  const warn = (message: string, details: Record<string, unknown>) => logger.warn(message, details);
  switch (request.action) {
    case 'find-production': {
      const result = await findProduction(registry(), request, warn);
      logger.info('model registry lookup', {
        group: request.model_package_group,
        found: result.found,
        ...(result.found ? { modelPackageArn: result.model_package_arn, modelVersion: result.model_version } : {}),
      });
      return result;
    }
    case 'find-stage': {
      const result = await findStage(registry(), request);
      logger.info('model registry stage lookup', { group: request.model_package_group, stage: request.stage });
      return result;
    }
    case 'describe':
      return describePackage(registry(), request);
    case 'find-previous-production':
      return findPreviousProduction(registry(), request);
    case 'plan-promotion': {
      const plan = await planPromotion(registry(), request, new Date());
      logger.info('promotion planned', {
        group: request.model_package_group,
        noop: plan.noop,
        target: plan.target.model_package_arn,
        ...(plan.noop ? {} : { basis: plan.basis, previous: plan.previous?.model_package_arn ?? null }),
      });
      return plan;
    }
  }
});
