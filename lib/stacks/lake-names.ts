import type { Stack } from 'aws-cdk-lib';
import type { LakeZone } from '../contracts/lake-tables.js';

/** The buckets of the lake by zone key (the ASL's <Zone>Bucket placeholders use the PascalCase of these). */
export const LAKE_BUCKETS = {
  raw: 'raw',
  curated: 'curated',
  gold: 'gold',
  features: 'features',
  artifacts: 'artifacts',
  athenaResults: 'athena-results',
} as const satisfies Record<LakeZone | 'athenaResults', string>;
export type LakeBucketKey = keyof typeof LAKE_BUCKETS;

/**
 * Deterministic bucket name: clv-<env>-<zone>-<account>-<region> (globally unique per account and region; at most
 * 52 characters). Every stack computes the same name with its own account token, so no export is needed.
 */
export function lakeBucketName(environmentName: string, key: LakeBucketKey, stack: Stack): string {
  return `clv-${environmentName}-${LAKE_BUCKETS[key]}-${stack.account}-${stack.region}`;
}
