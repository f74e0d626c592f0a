/**
 * The Observability stack in the real platform: every state machine, Lambda and delivery stream of the other stacks
 * has its alarms (so a pipeline added by anyone is covered), and the stack is nag-clean in every environment.
 */
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { TeamFunction } from '../../lib/constructs/compute/team-function.js';
import { AslStateMachine } from '../../lib/constructs/orchestration/asl-state-machine.js';
import { ALL_ENVIRONMENTS, buildPlatform, nagFindings } from '../helpers/platform.js';

describe('Observability stack in the platform', () => {
  it.each(ALL_ENVIRONMENTS)('%s: is created last, covers every state machine and function, nag-clean', (env) => {
    process.env.CDK_VALIDATION = 'false';
    const { platform } = buildPlatform(env);
    const names = Object.values(platform).map((s) => s.stackName);
    expect(names.at(-1)).toBe(`Clv-${env}-Observability`);
    const others = Object.values(platform).filter((s) => s !== platform.observability);
    const machines = others.flatMap((s) => s.node.findAll().filter((c: IConstruct) => c instanceof AslStateMachine));
    const functions = others.flatMap((s) => s.node.findAll().filter((c: IConstruct) => c instanceof TeamFunction));
    expect(machines.length).toBeGreaterThanOrEqual(3);
    const alarms = Object.values(Template.fromStack(platform.observability).findResources('AWS::CloudWatch::Alarm'));
    const count = (metric: string) => alarms.filter((a) => a.Properties.MetricName === metric).length;
    expect(count('ExecutionsFailed')).toBe(machines.length);
    expect(count('ExecutionsTimedOut')).toBe(machines.length);
    expect(count('ExecutionsAborted')).toBe(machines.length);
    expect(count('Errors')).toBe(functions.length);
    expect(count('Throttles')).toBe(functions.length);
    expect(count('DeliveryToS3.DataFreshness')).toBe(1);
    expect(nagFindings(platform.observability)).toEqual([]);
    // nothing depends on it
    for (const s of others) expect(s.dependencies).not.toContain(platform.observability);
  });
});
