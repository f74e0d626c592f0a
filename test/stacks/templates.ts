import { Template } from 'aws-cdk-lib/assertions';
import type { EnvironmentName } from '../../lib/config/environment-config.js';
import type { Platform } from '../../lib/platform.js';
import { buildPlatform } from '../helpers/platform.js';

export type PlatformTemplates = Record<keyof Platform, Template> & { platform: Platform };

/**
 * Synthesizes one environment once and returns the template of every stack. CDK's built-in CloudFormation schema
 * validation is off here (it takes seconds per synth); `cdk synth` runs it, and these tests check properties.
 */
export function synthTemplates(env: EnvironmentName): PlatformTemplates {
  process.env.CDK_VALIDATION = 'false';
  const { platform } = buildPlatform(env);
  return {
    platform,
    lake: Template.fromStack(platform.lake),
    ingestion: Template.fromStack(platform.ingestion),
    features: Template.fromStack(platform.features),
    ml: Template.fromStack(platform.ml),
    monitoring: Template.fromStack(platform.monitoring),
    observability: Template.fromStack(platform.observability),
  };
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown; Sid?: string };

/** Every IAM policy statement of a template, with the logical id of its policy. */
export function policyStatements(template: Template): (Statement & { policy: string })[] {
  const policies = template.findResources('AWS::IAM::Policy') as Record<
    string,
    { Properties: { PolicyDocument: { Statement: Statement[] } } }
  >;
  return Object.entries(policies).flatMap(([policy, p]) =>
    p.Properties.PolicyDocument.Statement.map((s) => ({ ...s, policy })),
  );
}

export const asArray = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

/** A CloudFormation value as text: Fn::Join flattened, Fn::Sub's text, Ref/GetAtt/ImportValue as <name>. */
export function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const o = value as Record<string, unknown>;
  if (o['Fn::Join']) return ((o['Fn::Join'] as [string, unknown[]])[1] ?? []).map(flat).join('');
  if (o.Ref) return `<${String(o.Ref)}>`;
  if (o['Fn::GetAtt']) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  if (o['Fn::ImportValue']) return `<${flat(o['Fn::ImportValue'])}>`;
  if (o['Fn::Sub']) return flat(o['Fn::Sub']);
  return JSON.stringify(value);
}
