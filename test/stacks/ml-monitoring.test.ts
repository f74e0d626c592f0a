// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ASL placeholders are literal ${Name} text
/**
 * The monitoring pipeline in the ML stack: its substitutions, its Lambdas' grants (the retraining cool-down limited
 * to its one key, monitoring_metrics writes), the role's start of the training pipeline only, and the EventBridge
 * rule on ScoringCompleted of its own environment with a dead-letter queue and its alarm.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from '../../lib/config/environment-config.js';
import { loadEnvironmentConfig } from '../../lib/config/load-config.js';
import { placeholdersOf } from '../../lib/constructs/orchestration/asl-definition.js';
import { monitoringSettings } from '../../lib/constructs/pipelines/monitoring-pipeline.js';
import { pipelineSettingsSchemas } from '../../lib/contracts/pipeline-inputs.js';
import { repoRoot } from '../../lib/paths.js';
import { asArray, flat, policyStatements, synthTemplates } from './templates.js';

const ASL_TEXT = fs.readFileSync(path.join(repoRoot, 'state-machines', 'monitoring.asl.json'), 'utf8');
type Resource = { Type: string; Properties: Record<string, unknown> };

let ml: Template;

beforeAll(() => {
  ml = synthTemplates('prod').ml;
});

function machine(): Resource {
  const found = Object.values(ml.findResources('AWS::StepFunctions::StateMachine')).filter(
    (r) => (r as Resource).Properties.StateMachineName === 'clv-prod-monitoring',
  );
  expect(found).toHaveLength(1);
  return found[0] as Resource;
}

describe('monitoring pipeline (ML stack)', () => {
  it('fills exactly the placeholders of its ASL file', () => {
    const subs = machine().Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(subs).sort()).toEqual(placeholdersOf(ASL_TEXT));
    expect(flat(subs.TrainingPipelineStateMachineArn)).toBe(
      'arn:aws:states:eu-west-1:<AWS::AccountId>:stateMachine:clv-prod-training-pipeline',
    );
    expect(flat(subs.DriftFunctionArn)).toMatch(/^<MonitoringDrift[0-9A-F]+\.Arn>$/);
    expect(flat(subs.MonitoringFunctionArn)).toMatch(/^<MonitoringMonitoringLambda[0-9A-F]+\.Arn>$/);
  });

  it('the config of every environment gives valid ValidateInput settings', () => {
    for (const env of ENVIRONMENT_NAMES) {
      const settings = monitoringSettings(loadEnvironmentConfig(env));
      expect(pipelineSettingsSchemas.monitoring.safeParse(settings).success).toBe(true);
      expect(settings.drift).toEqual({ psi_low: 0.1, psi_medium: 0.25 });
    }
  });

  it('its role starts the training pipeline only, and reads Athena results', () => {
    const statements = policyStatements(ml).filter((s) => s.policy.startsWith('MonitoringRole'));
    const start = statements.find((s) => s.Sid === 'StartPipelines');
    expect(asArray(start?.Action)).toEqual(['states:StartExecution']);
    expect(asArray(start?.Resource).map(flat)).toEqual([
      'arn:aws:states:eu-west-1:<AWS::AccountId>:stateMachine:clv-prod-training-pipeline',
    ]);
    expect(asArray(statements.find((s) => s.Sid === 'AthenaQueryResults')?.Action)).toEqual(['athena:GetQueryResults']);
  });

  it('the monitoring Lambda touches only the retraining key of the condition table', () => {
    const statements = policyStatements(ml).filter((s) => s.policy.startsWith('MonitoringMonitoringLambda'));
    const cooldown = statements.find((s) => s.Sid === 'RetrainingCooldown');
    expect(asArray(cooldown?.Action).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(cooldown?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['monitoring#retraining-trigger'] },
    });
    const fns = Object.values(ml.findResources('AWS::Lambda::Function')) as Resource[];
    const fn = fns.find((f) => {
      const env = (f.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      return env.POWERTOOLS_SERVICE_NAME === 'monitoring';
    });
    expect(fn).toBeDefined();
  });

  it('starts on ScoringCompleted of its own environment, with a dead-letter queue that alarms', () => {
    const rules = Object.values(ml.findResources('AWS::Events::Rule')) as Resource[];
    const rule = rules.find((r) => r.Properties.Name === 'clv-prod-monitoring-on-scoring');
    expect(rule?.Properties.EventPattern).toEqual({
      source: ['clv.platform'],
      'detail-type': ['ScoringCompleted'],
      detail: { environment: ['prod'] },
    });
    const targets = (rule?.Properties.Targets ?? []) as Record<string, unknown>[];
    const target = targets[0] as Record<string, unknown>;
    expect(target.DeadLetterConfig).toBeDefined();
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
    const alarms = Object.values(ml.findResources('AWS::CloudWatch::Alarm')) as Resource[];
    expect(alarms.some((a) => a.Properties.AlarmName === 'clv-prod-monitoring-events-not-delivered')).toBe(true);
  });
});
