/**
 * Shadow gate Lambda (state-machines/shadow.asl.json): validates its input and judges the challenger (./core.ts).
 * The state machine's Choice branches on `passed`; `metadata` goes onto the challenger package.
 */
import { z } from 'zod';
import { withPowertools } from '../shared/middleware.js';
import { logger } from '../shared/powertools.js';
import { gateInputSchema, runShadowGate, type ShadowGateOutput } from './core.js';

/** A bad event (a wiring error): the message names the field. */
export class InvalidShadowGateInputError extends Error {
  override name = 'InvalidShadowGateInput';
}

export const handler = withPowertools(async (event: unknown): Promise<ShadowGateOutput> => {
  const input = gateInputSchema.safeParse(event);
  if (!input.success) {
    throw new InvalidShadowGateInputError(`shadow-gate: invalid input: ${z.prettifyError(input.error)}`);
  }
  const output = runShadowGate(input.data);
  logger.info('shadow gate evaluated', { passed: output.passed, reasons: output.reasons, summary: output.summary });
  return output;
});
