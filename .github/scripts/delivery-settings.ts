/**
 * Prints what a workflow job needs about one environment as `key=value` lines for $GITHUB_OUTPUT, from the
 * validated configs (lib/config/environments.ts, lib/config/delivery.ts), so no workflow repeats a setting.
 *
 *   npx tsx .github/scripts/delivery-settings.ts <dev|staging|prod>
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataPipelineStateMachineName, loadDeliveryConfig, SMOKE_EXECUTION_PREFIX } from '../../lib/config/delivery.js';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';

export interface DeliverySettings {
  readonly region: string;
  readonly state_machine: string;
  readonly smoke_input: string;
  readonly timeout_seconds: number;
  readonly poll_seconds: number;
  readonly execution_prefix: string;
}

/** The settings of one environment; throws (naming the field) when the name or a config is invalid. */
export function deliverySettings(envName: unknown): DeliverySettings {
  const config = loadEnvironmentConfig(envName);
  const delivery = loadDeliveryConfig();
  return {
    region: config.region,
    state_machine: dataPipelineStateMachineName(config.name),
    smoke_input: JSON.stringify(delivery.smokeCheck.input),
    timeout_seconds: delivery.smokeCheck.timeoutMinutes * 60,
    poll_seconds: delivery.smokeCheck.pollSeconds,
    execution_prefix: SMOKE_EXECUTION_PREFIX,
  };
}

/** `key=value` lines; every value is one line (the JSON input has no newline). */
export function toGithubOutput(settings: DeliverySettings): string {
  return Object.entries(settings)
    .map(([key, value]) => `${key}=${value}\n`)
    .join('');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(toGithubOutput(deliverySettings(process.argv[2])));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
