/**
 * Model registry Lambda: `{action: "find-production", model_package_group, required}` → the Production package
 * (docs/model-registry.md). SageMaker in AWS; the local registry files when CLV_LOCAL_ROOT is set.
 */
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { logger } from '../shared/powertools.js';
import { LocalModelRegistry } from './local-registry.js';
import { type FindProductionResult, findProduction, type ModelRegistry, parseRegistryEvent } from './registry.js';
import { SageMakerModelRegistry } from './sagemaker-registry.js';

let sagemaker: SageMakerModelRegistry | undefined;

function registry(): ModelRegistry {
  const root = process.env.CLV_LOCAL_ROOT;
  if (root) return new LocalModelRegistry(root);
  sagemaker ??= new SageMakerModelRegistry(new SageMakerClient({}));
  return sagemaker;
}

export const handler = async (event: unknown): Promise<FindProductionResult> => {
  const request = parseRegistryEvent(event);
  const result = await findProduction(registry(), request, (message, details) => logger.warn(message, details));
  logger.info('model registry lookup', {
    group: request.model_package_group,
    found: result.found,
    ...(result.found ? { modelPackageArn: result.model_package_arn, modelVersion: result.model_version } : {}),
  });
  return result;
};
