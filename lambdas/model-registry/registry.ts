/**
 * Model registry core (pure over a ModelRegistry): finds the Production model package of a group; the other actions
 * (find-stage, describe, find-previous-production, plan-promotion) live in ./rollout.ts.
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

const groupName = z.string().regex(GROUP, 'expected a model package group name (1-63 letters, digits, -)');
const packageArnSchema = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package\/[a-zA-Z0-9-]{1,63}\/\d+$/,
    'expected a versioned model package ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)',
  );
/** A person's reason (override, rollback): 1-256 characters after trimming (a SageMaker metadata value's limit). */
const reasonSchema = z
  .string()
  .trim()
  .min(1, 'expected a non-empty reason')
  .max(256, 'expected at most 256 characters (a model package metadata value)');

export const registryEventSchema = z.strictObject({
  action: z.literal('find-production'),
  model_package_group: groupName,
  required: z.boolean(),
});
export type RegistryEvent = z.infer<typeof registryEventSchema>;

export const findStageEventSchema = z.strictObject({
  action: z.literal('find-stage'),
  stage: z.enum(MODEL_STAGES),
  model_package_group: groupName,
  required: z.boolean(),
});
export type FindStageEvent = z.infer<typeof findStageEventSchema>;

export const describeEventSchema = z.strictObject({
  action: z.literal('describe'),
  model_package_arn: packageArnSchema,
  /** When given, the package must belong to this group (a package of another group is refused). */
  model_package_group: groupName.optional(),
});
export type DescribeEvent = z.infer<typeof describeEventSchema>;

export const findPreviousProductionEventSchema = z.strictObject({
  action: z.literal('find-previous-production'),
  model_package_group: groupName,
  required: z.boolean(),
});
export type FindPreviousProductionEvent = z.infer<typeof findPreviousProductionEventSchema>;

export const planPromotionEventSchema = z.strictObject({
  action: z.literal('plan-promotion'),
  model_package_group: groupName,
  /** The package to promote; null for a rollback (the previous Production package is promoted). */
  model_package_arn: packageArnSchema.nullable(),
  rollback: z.boolean(),
  override_reason: reasonSchema.nullable(),
  /** Why a rollback is made (required when rollback is true). */
  reason: reasonSchema.nullable(),
  operator: z.string().trim().min(1).max(128),
  /** How the promotion was started: the registry's approval event or a person. */
  source: z.enum(['approval-event', 'manual', 'rollback']),
  /** The promotion execution's id, recorded in the metadata. */
  execution: z.string().min(1).max(2048),
});
export type PlanPromotionEvent = z.infer<typeof planPromotionEventSchema>;

export const REGISTRY_ACTIONS = [
  'find-production',
  'find-stage',
  'describe',
  'find-previous-production',
  'plan-promotion',
] as const;

const requestSchemas = {
  'find-production': registryEventSchema,
  'find-stage': findStageEventSchema,
  describe: describeEventSchema,
  'find-previous-production': findPreviousProductionEventSchema,
  'plan-promotion': planPromotionEventSchema,
} as const;

export type RegistryRequest =
  | RegistryEvent
  | FindStageEvent
  | DescribeEvent
  | FindPreviousProductionEvent
  | PlanPromotionEvent;

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
  /** Every package of the group, whatever its approval status (all pages). */
  listAll(group: string): Promise<PackageRef[]>;
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

/** Parses an event of any action, throwing InvalidRegistryRequest with the field and what was expected. */
export function parseRegistryEvent(event: unknown): RegistryRequest {
  const action =
    typeof event === 'object' && event !== null && !Array.isArray(event)
      ? (event as Record<string, unknown>).action
      : undefined;
  if (typeof action !== 'string' || !(REGISTRY_ACTIONS as readonly string[]).includes(action)) {
    throw new InvalidRegistryRequestError(
      `model-registry: invalid event: action: expected one of ${REGISTRY_ACTIONS.join(', ')}, got ${JSON.stringify(action ?? null)}`,
    );
  }
  const r = requestSchemas[action as (typeof REGISTRY_ACTIONS)[number]].safeParse(event);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');
    throw new InvalidRegistryRequestError(`model-registry: invalid event: ${issues}`);
  }
  return r.data as RegistryRequest;
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
