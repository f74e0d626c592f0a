/** Fixed identifiers of the local "account" (the values the local substitutions and stand-ins use). */
export const LOCAL_REGION = 'eu-west-1';
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_PREFIX = 'clv-local';
/** The environment name of the local runtime (`${EnvironmentName}`; platform events carry it in detail.environment). */
export const LOCAL_ENVIRONMENT_NAME = 'local';

export const LAKE_ZONES = ['Raw', 'Curated', 'Gold', 'Features', 'Artifacts', 'AthenaResults'] as const;
export type LakeZone = (typeof LAKE_ZONES)[number];

/** PascalCase → kebab-case (QualityGate → quality-gate, AthenaResults → athena-results). */
export function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** PascalCase → snake_case (IngestTransactions → ingest_transactions). */
export function snake(name: string): string {
  return kebab(name).replace(/-/g, '_');
}

/** kebab-case or snake_case → PascalCase (quality-gate → QualityGate). */
export function pascal(name: string): string {
  return name
    .split(/[-_]/)
    .filter(Boolean)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

export const bucketName = (zone: LakeZone): string => `${LOCAL_PREFIX}-${kebab(zone)}`;
export const lambdaArn = (folder: string): string =>
  `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${LOCAL_PREFIX}-${folder}`;
export const topicArn = (name: string): string =>
  `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${LOCAL_PREFIX}-${name}`;
export const stateMachineArn = (name: string): string =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${LOCAL_PREFIX}-${name}`;
export const executionArn = (stateMachine: string, execution: string): string =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${LOCAL_PREFIX}-${stateMachine}:${execution}`;
export const roleArn = (name: string): string => `arn:aws:iam::${LOCAL_ACCOUNT}:role/${LOCAL_PREFIX}-${name}`;
/** The lake's KMS key in the local "account" (the local stand-ins record it; nothing is encrypted locally). */
export const LOCAL_KMS_KEY_ARN = `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT}:key/00000000-0000-4000-8000-000000000000`;
