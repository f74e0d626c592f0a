import type { z } from 'zod';
import { ENVIRONMENT_NAMES, type EnvironmentConfig, environmentConfigSchema } from './environment-config.js';
import { ENVIRONMENTS } from './environments.js';

/** Raised when the environment name or its configuration is invalid; the message names every bad field. */
export class EnvironmentConfigError extends Error {
  override readonly name = 'EnvironmentConfigError';
}

function describeIssues(error: z.ZodError, envName: string): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.length > 0 ? issue.path.join('.') : '(root)';
      const allowed = 'values' in issue && Array.isArray(issue.values) ? ` (allowed: ${issue.values.join(', ')})` : '';
      return `  - ${envName}.${field}: ${issue.message}${allowed}`;
    })
    .join('\n');
}

/**
 * Resolves and validates the configuration of an environment.
 * @param envName the value of `-c env=NAME`
 * @param overrides values that replace the file's (for example the account from `-c account=...`)
 * @param environments the raw environment table (defaults to `lib/config/environments.ts`; tests pass their own)
 */
export function loadEnvironmentConfig(
  envName: unknown,
  overrides: Record<string, unknown> = {},
  environments: Record<string, unknown> = ENVIRONMENTS,
): EnvironmentConfig {
  if (typeof envName !== 'string' || envName.length === 0) {
    throw new EnvironmentConfigError(
      `No environment given: pass -c env=NAME where NAME is one of ${ENVIRONMENT_NAMES.join(', ')}.`,
    );
  }
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(envName) || !(envName in environments)) {
    throw new EnvironmentConfigError(
      `Unknown environment '${envName}': allowed environments are ${ENVIRONMENT_NAMES.join(', ')}.`,
    );
  }
  const raw = environments[envName];
  const merged = { ...(raw as Record<string, unknown>), ...stripUndefined(overrides) };
  const parsed = environmentConfigSchema.safeParse(merged);
  if (!parsed.success) {
    throw new EnvironmentConfigError(
      `Invalid configuration for environment '${envName}':\n${describeIssues(parsed.error, envName)}`,
    );
  }
  if (parsed.data.name !== envName) {
    throw new EnvironmentConfigError(
      `Invalid configuration for environment '${envName}': name is '${parsed.data.name}', expected '${envName}'.`,
    );
  }
  return parsed.data;
}

function stripUndefined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}
