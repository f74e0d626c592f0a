import { z } from 'zod';
import { ENVIRONMENT_NAMES, type EnvironmentName } from './environment-config.js';

/**
 * Delivery settings: which GitHub repository may deploy, through which roles, and what the post-deploy smoke check
 * runs. Read by `bin/app.ts` (the `Clv-<env>-Delivery` stack) and by the deployment workflow
 * (`.github/scripts/smoke-settings.ts`). Validated with zod; errors name the field and what was expected.
 */

/** The issuer of GitHub Actions OIDC tokens (host only, as IAM and the token's claim keys use it). */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
/** The audience `aws-actions/configure-aws-credentials` requests. */
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';
/** The roles `cdk bootstrap` creates (`cdk-<qualifier>-<kind>-<account>-<region>`) that the CLI assumes. */
export const CDK_BOOTSTRAP_ROLE_KINDS = ['deploy', 'file-publishing', 'image-publishing', 'lookup'] as const;

const githubName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be a GitHub owner or repository name (1-100 of letters, digits, ., _, -)');
const roleName = z
  .string()
  .regex(/^[A-Za-z0-9+=,.@_-]{1,64}$/, 'must be an IAM role name (1-64 of letters, digits, +=,.@_-)');
const githubEnvironment = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,255}$/, 'must be a GitHub environment name (letters, digits, ., _, -)');

const deliveryEnvironmentSchema = z.strictObject({
  /** The GitHub environment whose jobs may assume the deploy role (the token's `sub` names it). */
  githubEnvironment,
  /** Role the deployment workflow assumes: it can only assume the CDK bootstrap roles and run the smoke check. */
  deployRoleName: roleName,
  /** Role pull-request workflows assume for `cdk diff`: it can only assume the CDK lookup role (read only). */
  diffRoleName: roleName,
  /**
   * Whether this environment's Delivery stack creates the account's GitHub OIDC provider. An account holds one
   * provider per issuer: when several environments share an account, exactly one of them creates it.
   */
  createOidcProvider: z.boolean(),
});

export const deliveryConfigSchema = z.strictObject({
  github: z.strictObject({ owner: githubName, repo: githubName }),
  /** The CDK bootstrap qualifier (`cdk bootstrap --qualifier`; the default is hnb659fds). */
  cdkBootstrapQualifier: z.string().regex(/^[a-z0-9]{1,10}$/, 'must be 1-10 lowercase letters or digits'),
  environments: z.strictObject({
    dev: deliveryEnvironmentSchema,
    staging: deliveryEnvironmentSchema,
    prod: deliveryEnvironmentSchema,
  }),
  smokeCheck: z.strictObject({
    /** Input of the data-pipeline execution: a tiny fixture date (its landing file is uploaded once, docs/delivery.md). */
    input: z.strictObject({
      date: z.iso.date({ message: 'must be a date YYYY-MM-DD' }),
      clickstream: z.boolean(),
    }),
    /** How long the workflow waits for the execution before it fails the deployment. */
    timeoutMinutes: z.number().int().min(1).max(360),
    /** Seconds between two DescribeExecution calls. */
    pollSeconds: z.number().int().min(5).max(300),
  }),
});

export type DeliveryConfig = z.infer<typeof deliveryConfigSchema>;
export type DeliveryEnvironment = DeliveryConfig['environments'][EnvironmentName];

/**
 * The project's delivery settings. The repository can be overridden per synth with `-c github=<owner>/<repo>`
 * (a fork deploys from its own repository without editing this file).
 */
export const DELIVERY: DeliveryConfig = {
  github: { owner: 'clv-platform', repo: 'clv-platform' },
  cdkBootstrapQualifier: 'hnb659fds',
  environments: {
    dev: {
      githubEnvironment: 'dev',
      deployRoleName: 'clv-dev-github-deploy',
      diffRoleName: 'clv-dev-github-diff',
      createOidcProvider: true,
    },
    staging: {
      githubEnvironment: 'staging',
      deployRoleName: 'clv-staging-github-deploy',
      diffRoleName: 'clv-staging-github-diff',
      createOidcProvider: true,
    },
    prod: {
      githubEnvironment: 'prod',
      deployRoleName: 'clv-prod-github-deploy',
      diffRoleName: 'clv-prod-github-diff',
      createOidcProvider: true,
    },
  },
  // 2024-03-01 is the tiny transactions fixture glue-scripts/tests/fixtures/transactions_generic_2024-03-01.csv.
  smokeCheck: { input: { date: '2024-03-01', clickstream: false }, timeoutMinutes: 45, pollSeconds: 20 },
};

/** Raised when the delivery settings are invalid; the message names every bad field. */
export class DeliveryConfigError extends Error {
  override readonly name = 'DeliveryConfigError';
}

/** Values that replace the file's: `github` is `<owner>/<repo>` (from `-c github=...`). */
export interface DeliveryOverrides {
  readonly github?: unknown;
}

/** Validates the delivery settings, applying the overrides. */
export function loadDeliveryConfig(overrides: DeliveryOverrides = {}, raw: unknown = DELIVERY): DeliveryConfig {
  let merged = raw;
  if (overrides.github !== undefined) {
    const match = typeof overrides.github === 'string' ? /^([^/\s]+)\/([^/\s]+)$/.exec(overrides.github) : null;
    if (!match) {
      throw new DeliveryConfigError(
        `Invalid delivery configuration:\n  - github: expected <owner>/<repo>, got ${JSON.stringify(overrides.github)}`,
      );
    }
    merged = { ...(raw as Record<string, unknown>), github: { owner: match[1], repo: match[2] } };
  }
  const parsed = deliveryConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join('.') : '(root)';
      return `  - ${field}: ${issue.message}`;
    });
    throw new DeliveryConfigError(`Invalid delivery configuration:\n${lines.join('\n')}`);
  }
  const roles = ENVIRONMENT_NAMES.flatMap((env) => [
    parsed.data.environments[env].deployRoleName,
    parsed.data.environments[env].diffRoleName,
  ]);
  const duplicate = roles.find((role, i) => roles.indexOf(role) !== i);
  if (duplicate) {
    throw new DeliveryConfigError(
      `Invalid delivery configuration:\n  - environments: role name '${duplicate}' is used twice; each role must be unique`,
    );
  }
  return parsed.data;
}

/** Smoke-check executions are named `<prefix><GitHub run id>-<attempt>`: the deploy role may describe only those. */
export const SMOKE_EXECUTION_PREFIX = 'smoke-';

/** The name the ML stack gives the data pipeline's state machine (`AslStateMachine`: `clv-<env>-<pipeline>`). */
export function dataPipelineStateMachineName(env: EnvironmentName): string {
  return `clv-${env}-data-pipeline`;
}

/** The OIDC `sub` claim of a job that runs in a GitHub environment of the repository. */
export function githubEnvironmentSubject(config: DeliveryConfig, env: EnvironmentName): string {
  return `repo:${config.github.owner}/${config.github.repo}:environment:${config.environments[env].githubEnvironment}`;
}

/** The OIDC `sub` claim of a pull-request job of the repository. */
export function githubPullRequestSubject(config: DeliveryConfig): string {
  return `repo:${config.github.owner}/${config.github.repo}:pull_request`;
}
