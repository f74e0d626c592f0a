import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../../lib/config/environment-config.js';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { repoRoot } from '../../lib/paths.js';
import { createPlatform, type Platform } from '../../lib/platform.js';

/** The feature flags of cdk.json, so tests synthesize exactly what `cdk synth` does. */
export const CDK_CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8'),
).context;

/** A synthesizable app with every stack of one environment. Asset bundling is skipped (tests need no esbuild run). */
export function buildPlatform(env: EnvironmentName): { app: App; platform: Platform } {
  const app = new App({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const platform = createPlatform(app, loadEnvironmentConfig(env));
  return { app, platform };
}

export const ALL_ENVIRONMENTS = ENVIRONMENT_NAMES;

/** Unacknowledged cdk-nag (AWS Solutions) findings under a scope, as readable lines. */
export function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map(
      (r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId ?? '?'}: ${v.description}`,
    ),
  );
}

export function stacksOf(platform: Platform): Stack[] {
  return Object.values(platform);
}
