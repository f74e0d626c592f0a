/**
 * Step Functions: `arn:aws:states:::states:startExecution[.sync|.sync:2]` runs another file of state-machines/
 * (StateMachineArn …:stateMachine:clv-local-<name> ↔ state-machines/<name>.asl.json) with the local runner.
 * `.sync` returns DescribeExecution with Output as a string, `.sync:2` with Output as JSON; a failed child is
 * States.TaskFailed with that description as Cause. The plain (asynchronous) form also runs the child to the end
 * before returning {ExecutionArn, StartDate}: locally there is no background to run it in.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { jobFailed, serviceError } from '../errors.js';
import type { Integration, Json } from './types.js';

const BASE = 'arn:aws:states:::states:startExecution';

const StartExecution = z.looseObject({
  StateMachineArn: z.string(),
  Input: z.unknown().optional(),
  Name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,80}$/)
    .optional(),
});

export const statesStartExecution: Integration = {
  id: 'states:startExecution',
  matches: (r) => r === BASE || r === `${BASE}.sync` || r === `${BASE}.sync:2`,
  transientError: 'StepFunctions.AWSStepFunctionsException',
  target: (call) => {
    const arn = (call.parameters as Record<string, Json> | null)?.StateMachineArn;
    return typeof arn === 'string' ? arn : undefined;
  },
  async invoke(call, rt) {
    const r = StartExecution.safeParse(call.parameters);
    if (!r.success) throw serviceError('StepFunctions', 'InvalidExecutionInputException', z.prettifyError(r.error));
    const p = r.data;
    let input: Json = {};
    if (typeof p.Input === 'string') {
      try {
        input = JSON.parse(p.Input) as Json;
      } catch {
        throw serviceError('StepFunctions', 'InvalidExecutionInputException', 'Input is not valid JSON');
      }
    } else if (p.Input !== undefined) {
      input = p.Input as Json;
    }
    const child = await rt.startExecution(p.StateMachineArn, input, p.Name ?? randomUUID());
    if (call.resource === BASE) return { ExecutionArn: child.executionArn, StartDate: child.startDate };
    const description: Record<string, Json> = {
      ExecutionArn: child.executionArn,
      StateMachineArn: p.StateMachineArn,
      Name: child.executionArn.split(':').pop() as string,
      Status: child.status,
      StartDate: child.startDate,
      StopDate: child.stopDate,
      Input: JSON.stringify(input),
      InputDetails: { Included: true },
    };
    if (child.status !== 'SUCCEEDED') {
      description.Error = child.error ?? 'States.TaskFailed';
      description.Cause = child.cause ?? '';
      throw jobFailed(description);
    }
    description.Output = call.resource.endsWith(':2') ? (child.output ?? null) : JSON.stringify(child.output ?? null);
    description.OutputDetails = { Included: true };
    return description;
  },
};
