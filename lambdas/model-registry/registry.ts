/**
 * Model registry core (pure over a ModelRegistry): finds the Production model package of a group.
 *
 * Stage convention (docs/model-registry.md): the stage lives in the package's CustomerMetadataProperties.stage —
 * Staging (set at registration), Shadow, Canary, Production, Archived — and a Production package must also be
 * ModelApprovalStatus=Approved. Only Approved packages are looked at; among those whose stage is Production the
 * newest version wins (several Production packages are a registry inconsistency and are logged as a warning).
 */
import { z } from 'zod';

export const MODEL_STAGES = ['Staging', 'Shadow', 'Canary', 'Production', 'Archived'] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];

const GROUP = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export const registryEventSchema = z.strictObject({
  action: z.literal('find-production'),
  model_package_group: z.string().regex(GROUP, 'expected a model package group name (1-63 letters, digits, -)'),
  required: z.boolean(),
});
export type RegistryEvent = z.infer<typeof registryEventSchema>;

/** A Step Functions Catch matches on this name (`NoProductionModel`). */
export class NoProductionModelError extends Error {
  override name = 'NoProductionModel';
}

/** A bad event; the message names the field and what was expected. */
export class InvalidRegistryRequestError extends Error {
  override name = 'InvalidRegistryRequest';
}

export interface PackageRef {
  arn: string;
  version: number;
}

export interface PackageDetail extends PackageRef {
  approvalStatus: string;
  metadata: Record<string, string>;
  image: string;
  modelDataUrl: string;
  environment: Record<string, string>;
}

/** What the core needs from a registry (SageMaker or the local files). */
export interface ModelRegistry {
  /** Every package of the group with ModelApprovalStatus=Approved (all pages). */
  listApproved(group: string): Promise<PackageRef[]>;
  describe(arn: string): Promise<PackageDetail>;
}

export type FindProductionResult =
  | { found: false }
  | {
      found: true;
      model_package_arn: string;
      version: number;
      model_version: string;
      model_data_url: string;
      image: string;
      environment: Record<string, string>;
      metadata: Record<string, string>;
    };

export type Warn = (message: string, details: Record<string, unknown>) => void;

/** Parses an event, throwing InvalidRegistryRequest with the field and what was expected. */
export function parseRegistryEvent(event: unknown): RegistryEvent {
  const r = registryEventSchema.safeParse(event);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');
    throw new InvalidRegistryRequestError(`model-registry: invalid event: ${issues}`);
  }
  return r.data;
}

export async function findProduction(
  registry: ModelRegistry,
  event: RegistryEvent,
  warn: Warn,
): Promise<FindProductionResult> {
  const group = event.model_package_group;
  const approved = await registry.listApproved(group);
  const details = await Promise.all(approved.map((p) => registry.describe(p.arn)));
  const production = details
    .filter((d) => d.approvalStatus === 'Approved' && d.metadata.stage === 'Production')
    .sort((a, b) => b.version - a.version);
  const chosen = production[0];
  if (!chosen) {
    if (event.required) {
      throw new NoProductionModelError(
        `model package group ${group} has no Approved package with CustomerMetadataProperties.stage=Production ` +
          `(${approved.length} Approved package(s) looked at); approve one (docs/model-registry.md)`,
      );
    }
    return { found: false };
  }
  if (production.length > 1) {
    warn('several Production packages; the newest version wins', {
      group,
      chosen: chosen.arn,
      others: production.slice(1).map((p) => p.arn),
    });
  }
  return {
    found: true,
    model_package_arn: chosen.arn,
    version: chosen.version,
    model_version: chosen.metadata.model_version ?? '',
    model_data_url: chosen.modelDataUrl,
    image: chosen.image,
    environment: chosen.environment,
    metadata: chosen.metadata,
  };
}
