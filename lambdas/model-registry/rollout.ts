/**
 * Registry actions of the safe rollout (docs/model-registry.md, docs/runbooks/promotion-and-rollback.md), pure
 * over a ModelRegistry:
 * - find-stage: the newest Approved-or-pending package of a stage (Canary for the campaign experiment);
 * - describe: one package (the shadow pipeline's challenger);
 * - find-previous-production: the newest Archived package that was Production (rollback target);
 * - plan-promotion: the promotion rule. A package is promoted on evidence (shadow_passed=true and canary_decision
 *   ship|waived), on an operator's override reason, or as the bootstrap of a group without a Production package;
 *   otherwise PromotionRefused. A rollback promotes the previous Production package with a reason. The plan holds
 *   the metadata to write (the state machine writes it with UpdateModelPackage) and the audit record.
 */
import {
  type DescribeEvent,
  type FindPreviousProductionEvent,
  type FindProductionResult,
  type FindStageEvent,
  InvalidRegistryRequestError,
  type ModelRegistry,
  type PackageDetail,
  type PlanPromotionEvent,
} from './registry.js';

/** The canary decisions that allow a promotion on evidence (campaign experiment: ship; an operator: waived). */
export const PROMOTABLE_CANARY_DECISIONS = ['ship', 'waived'] as const;

/** A Step Functions Catch matches on this name: the package may not be promoted (the message says why). */
export class PromotionRefusedError extends Error {
  override name = 'PromotionRefused';
}

/** No package in the requested stage (find-stage with required=true). */
export class NoPackageInStageError extends Error {
  override name = 'NoPackageInStage';
}

/** No earlier Production package to roll back to. */
export class NoPreviousProductionError extends Error {
  override name = 'NoPreviousProduction';
}

export type PackageResult = Extract<FindProductionResult, { found: true }>;

export interface DescribeResult extends PackageResult {
  approval_status: string;
  stage: string;
  model_package_group: string;
}

export function packageResult(d: PackageDetail): PackageResult {
  return {
    found: true,
    model_package_arn: d.arn,
    version: d.version,
    model_version: d.metadata.model_version ?? '',
    model_data_url: d.modelDataUrl,
    image: d.image,
    environment: d.environment,
    metadata: d.metadata,
  };
}

/** The group of a versioned model package ARN (lower case in ARNs). */
export function groupOfArn(arn: string): string {
  const m = /model-package\/([^/]+)\/\d+$/.exec(arn);
  return m ? (m[1] as string) : '';
}

async function describeAll(registry: ModelRegistry, group: string): Promise<PackageDetail[]> {
  const refs = await registry.listAll(group);
  return Promise.all(refs.map((r) => registry.describe(r.arn)));
}

const isProduction = (d: PackageDetail) => d.approvalStatus === 'Approved' && d.metadata.stage === 'Production';

export async function findStage(registry: ModelRegistry, event: FindStageEvent): Promise<FindProductionResult> {
  const all = await describeAll(registry, event.model_package_group);
  const chosen = all
    .filter(
      (d) =>
        d.metadata.stage === event.stage &&
        (d.approvalStatus === 'Approved' || d.approvalStatus === 'PendingManualApproval'),
    )
    .sort((a, b) => b.version - a.version)[0];
  if (chosen) return packageResult(chosen);
  if (event.required) {
    throw new NoPackageInStageError(
      `model package group ${event.model_package_group} has no Approved or PendingManualApproval package with ` +
        `CustomerMetadataProperties.stage=${event.stage} (${all.length} package(s) looked at)`,
    );
  }
  return { found: false };
}

export async function describePackage(registry: ModelRegistry, event: DescribeEvent): Promise<DescribeResult> {
  const group = groupOfArn(event.model_package_arn);
  if (event.model_package_group && group.toLowerCase() !== event.model_package_group.toLowerCase()) {
    throw new InvalidRegistryRequestError(
      `model-registry: model_package_arn ${event.model_package_arn} belongs to group ${group}, not ${event.model_package_group}`,
    );
  }
  const d = await registry.describe(event.model_package_arn);
  return {
    ...packageResult(d),
    approval_status: d.approvalStatus,
    stage: d.metadata.stage ?? '',
    model_package_group: event.model_package_group ?? group,
  };
}

/** The newest Archived, Approved package that was once Production (promoted_at set), other than `exclude`. */
function previousProduction(all: PackageDetail[], exclude: string | undefined): PackageDetail | undefined {
  return all
    .filter(
      (d) =>
        d.arn !== exclude &&
        d.approvalStatus === 'Approved' &&
        d.metadata.stage === 'Archived' &&
        (d.metadata.promoted_at ?? '') !== '',
    )
    .sort(
      (a, b) => (b.metadata.archived_at ?? '').localeCompare(a.metadata.archived_at ?? '') || b.version - a.version,
    )[0];
}

export async function findPreviousProduction(
  registry: ModelRegistry,
  event: FindPreviousProductionEvent,
): Promise<FindProductionResult> {
  const all = await describeAll(registry, event.model_package_group);
  const current = all.filter(isProduction).sort((a, b) => b.version - a.version)[0];
  const previous = previousProduction(all, current?.arn);
  if (previous) return packageResult(previous);
  if (event.required) {
    throw new NoPreviousProductionError(
      `model package group ${event.model_package_group} has no Archived package that was Production ` +
        '(CustomerMetadataProperties.promoted_at set): nothing to roll back to',
    );
  }
  return { found: false };
}

export type PromotionBasis = 'evidence' | 'override' | 'bootstrap' | 'rollback';

export interface PackageUpdate {
  model_package_arn: string;
  /** CustomerMetadataProperties to merge (string values, as SageMaker stores them). */
  metadata: Record<string, string>;
}

export type PromotionPlan =
  | { noop: true; reason: string; target: PackageResult }
  | {
      noop: false;
      basis: PromotionBasis;
      target: PackageResult;
      /** UpdateModelPackage of the target: Approved and these metadata (stage Production). */
      target_update: PackageUpdate;
      has_previous: boolean;
      /** UpdateModelPackage of the Production package it replaces (stage Archived); null for the first one. */
      previous_update: PackageUpdate | null;
      previous: { model_package_arn: string; model_version: string } | null;
      /** The override reason the promotion rests on (input or package metadata), null otherwise. */
      override_reason: string | null;
      /** The rollback's reason, null otherwise. */
      rollback_reason: string | null;
      /** The audit record (JSON text) written to the gold bucket, audit/promotions/<execution name>.json. */
      audit_json: string;
    };

/** What is missing for a promotion on evidence (empty: the evidence is complete). */
export function missingEvidence(metadata: Record<string, string>): string[] {
  const missing: string[] = [];
  if (metadata.shadow_passed !== 'true') {
    missing.push(`shadow_passed is ${JSON.stringify(metadata.shadow_passed ?? null)}, expected "true"`);
  }
  const canary = metadata.canary_decision;
  if (canary === undefined || !(PROMOTABLE_CANARY_DECISIONS as readonly string[]).includes(canary)) {
    missing.push(
      `canary_decision is ${JSON.stringify(canary ?? null)}, expected one of ${PROMOTABLE_CANARY_DECISIONS.join('|')}`,
    );
  }
  return missing;
}

/**
 * The promotion rule (see the module comment). `now` stamps promoted_at/archived_at. Throws PromotionRefused
 * (named error) with the reasons, NoPreviousProduction for a rollback with nothing to roll back to.
 */
export async function planPromotion(
  registry: ModelRegistry,
  event: PlanPromotionEvent,
  now: Date,
): Promise<PromotionPlan> {
  const group = event.model_package_group;
  const all = await describeAll(registry, group);
  const production = all.filter(isProduction).sort((a, b) => b.version - a.version);
  if (production.length > 1) {
    throw new PromotionRefusedError(
      `model package group ${group} has ${production.length} Production packages ` +
        `(${production.map((p) => p.arn).join(', ')}): the registry is inconsistent; archive all but one by hand ` +
        '(docs/runbooks/promotion-and-rollback.md) and retry',
    );
  }
  const current = production[0];
  let target: PackageDetail;
  let basis: PromotionBasis;
  let overrideReason: string | null = null;
  if (event.rollback) {
    if (event.reason === null) {
      throw new PromotionRefusedError('a rollback needs a reason (input field reason): it is recorded in the audit');
    }
    const previous = previousProduction(all, current?.arn);
    if (!previous) {
      throw new NoPreviousProductionError(
        `model package group ${group} has no Archived package that was Production: nothing to roll back to`,
      );
    }
    target = previous;
    basis = 'rollback';
  } else {
    const arn = event.model_package_arn;
    if (arn === null) {
      throw new InvalidRegistryRequestError('model-registry: plan-promotion needs model_package_arn unless rollback');
    }
    if (groupOfArn(arn).toLowerCase() !== group.toLowerCase()) {
      throw new PromotionRefusedError(`${arn} is not a package of group ${group}`);
    }
    target = await registry.describe(arn);
    if (current && current.arn === target.arn) {
      return { noop: true, reason: `${arn} is already Production`, target: packageResult(target) };
    }
    if (event.source === 'approval-event' && target.metadata.stage === 'Archived') {
      // SageMaker emits the state-change event on updates of an Approved package too, e.g. the promotion's own
      // ArchivePrevious: an Archived package never comes back through an event (rollback or by hand only).
      return {
        noop: true,
        reason: `${arn} is Archived: an approval event does not promote it again (use a rollback or promote by hand)`,
        target: packageResult(target),
      };
    }
    if (target.approvalStatus === 'Rejected') {
      throw new PromotionRefusedError(`${arn} is Rejected in the Model Registry; a rejected package is never promoted`);
    }
    const missing = missingEvidence(target.metadata);
    const givenOverride = event.override_reason ?? (target.metadata.promotion_override_reason || '').trim();
    if (missing.length === 0) {
      basis = 'evidence';
    } else if (!current) {
      basis = 'bootstrap';
    } else if (givenOverride !== '') {
      basis = 'override';
      overrideReason = givenOverride;
    } else {
      throw new PromotionRefusedError(
        `${arn} (model_version ${target.metadata.model_version ?? '?'}) has no evidence for Production: ` +
          `${missing.join('; ')}. Run the shadow pipeline and the canary experiment, or promote with an ` +
          'override_reason (recorded in the metadata and the audit log)',
      );
    }
  }
  const at = now.toISOString();
  const targetMetadata: Record<string, string> = {
    stage: 'Production',
    promoted_at: at,
    promotion_basis: basis,
    promotion_execution: event.execution,
    promoted_by: event.operator,
    previous_production: current?.arn ?? 'none',
  };
  if (overrideReason !== null) targetMetadata.promotion_override_reason = overrideReason;
  if (basis === 'rollback' && event.reason !== null) targetMetadata.rollback_reason = event.reason;
  const previousUpdate: PackageUpdate | null = current
    ? {
        model_package_arn: current.arn,
        metadata: { stage: 'Archived', archived_at: at, superseded_by: target.arn },
      }
    : null;
  const audit = {
    execution: event.execution,
    at,
    source: event.source,
    operator: event.operator,
    model_package_group: group,
    basis,
    override_reason: overrideReason,
    rollback_reason: basis === 'rollback' ? event.reason : null,
    evidence: {
      shadow_passed: target.metadata.shadow_passed ?? null,
      canary_decision: target.metadata.canary_decision ?? null,
      missing: missingEvidence(target.metadata),
    },
    promoted: {
      model_package_arn: target.arn,
      version: target.version,
      model_version: target.metadata.model_version ?? '',
    },
    archived: current
      ? {
          model_package_arn: current.arn,
          version: current.version,
          model_version: current.metadata.model_version ?? '',
        }
      : null,
  };
  return {
    noop: false,
    basis,
    target: packageResult(target),
    target_update: { model_package_arn: target.arn, metadata: targetMetadata },
    has_previous: current !== undefined,
    previous_update: previousUpdate,
    previous: current ? { model_package_arn: current.arn, model_version: current.metadata.model_version ?? '' } : null,
    override_reason: overrideReason,
    rollback_reason: basis === 'rollback' ? event.reason : null,
    audit_json: JSON.stringify(audit),
  };
}
