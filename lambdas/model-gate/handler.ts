/**
 * Model gate Lambda (training pipeline): validates its input, reads evaluation.json from the object store and
 * returns whether the model may be registered (the state machine's Choice branches on `passed`), with the champion
 * comparison and the fairness ratios for the alert and the model package metadata.
 */
import { z } from 'zod';
import { withPowertools } from '../shared/middleware.js';
import { currentObjectStore } from '../shared/object-store.js';
import { logger } from '../shared/powertools.js';
import { evaluationSchema, type GateOutput, gateInputSchema, runGate } from './gate.js';

export const handler = withPowertools(async (event: unknown): Promise<GateOutput> => {
  const input = gateInputSchema.safeParse(event);
  if (!input.success) throw new Error(`model-gate: invalid input: ${z.prettifyError(input.error)}`);
  const text = await currentObjectStore().getText(input.data.evaluation_uri);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`model-gate: ${input.data.evaluation_uri} is not JSON: ${(err as Error).message}`);
  }
  const evaluation = evaluationSchema.safeParse(json);
  if (!evaluation.success) {
    throw new Error(
      `model-gate: ${input.data.evaluation_uri} is not an evaluation report: ${z.prettifyError(evaluation.error)}`,
    );
  }
  const output = runGate(evaluation.data, input.data.thresholds, input.data.champion);
  logger.info('model gate evaluated', {
    passed: output.passed,
    reasons: output.reasons,
    modelVersion: output.model_version,
    champion: output.champion,
    fairness: output.fairness,
  });
  return output;
});
