/**
 * The Glue jobs of the platform, declared once: the CDK (PlatformGlueJob) and the local runtime's Glue stand-in
 * (local/integrations/glue.ts) both read this table. `defaultArguments` are the environment-agnostic
 * DefaultArguments the CDK sets on the job; `localDefaultArguments` are what the local stand-in adds in place of
 * the environment-specific ones (a secret ARN, the SageMaker feature group, ...). The arguments a state machine
 * passes (StartJobRun Arguments) override both, as Glue merges them.
 */

/**
 * The PII salt of the local runtime: 32 bytes, fixed, public. LOCAL ONLY, NOT A SECRET: it keys the hashes of
 * generated demo data on one machine. In AWS the salt is the Secrets Manager secret clv/<env>/pii-salt.
 */
export const LOCAL_ONLY_PII_SALT = 'LOCAL-ONLY-clv-demo-pii-salt-v01';

export interface GlueJobSpec {
  /** glue-scripts/jobs/<scriptName>.py; also the job name of the local runtime. */
  readonly scriptName: string;
  readonly description: string;
  /** DefaultArguments that are the same in every environment. */
  readonly defaultArguments: Readonly<Record<string, string>>;
  /** What the local runtime sets instead of the environment-specific DefaultArguments. */
  readonly localDefaultArguments: Readonly<Record<string, string>>;
}

export const GLUE_JOBS = {
  ingest_transactions: {
    scriptName: 'ingest_transactions',
    description:
      'Daily transactional batch: landing CSV -> silver transactions/customers + quarantine + reconciliation',
    defaultArguments: { '--outlier-percentile': '0.999', '--reference-days': '30' },
    // AWS: --pii-salt-secret = the ARN of the clv/<env>/pii-salt secret.
    localDefaultArguments: { '--pii-salt-secret': `local:${LOCAL_ONLY_PII_SALT}` },
  },
  sessionize_clickstream: {
    scriptName: 'sessionize_clickstream',
    description: 'Daily clickstream: raw JSON lines -> silver sessions (30-minute rule) + quarantine + reconciliation',
    defaultArguments: {},
    localDefaultArguments: {},
  },
  build_features: {
    scriptName: 'build_features',
    description: 'Customer feature snapshot for a cutoff date: silver -> Feature Group offline store + snapshot record',
    defaultArguments: {},
    // AWS: --store sagemaker, --region/--account-id of the stack, --online-store from config, the feature group
    // and its offline-store URI. Locally the job writes the offline-store layout itself under
    // --offline-store-uri (account 000000000000, region "local").
    localDefaultArguments: { '--store': 'local', '--online-store': 'false' },
  },
} as const satisfies Record<string, GlueJobSpec>;

export type GlueJobName = keyof typeof GLUE_JOBS;

/** The job's spec, or undefined for a script that is not a platform job. */
export function glueJobSpec(scriptName: string): GlueJobSpec | undefined {
  return Object.hasOwn(GLUE_JOBS, scriptName) ? GLUE_JOBS[scriptName as GlueJobName] : undefined;
}
