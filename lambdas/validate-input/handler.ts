/**
 * ValidateInput Lambda: the first Task of every state machine. Thin: the parsing is lib/contracts/pipeline-inputs.ts
 * (via ./core.ts); this logs the outcome with the Powertools logger.
 */
import type { PipelineName, PipelineNormalizedInput } from '../../lib/contracts/pipeline-inputs.js';
import { withPowertools } from '../shared/middleware.js';
import { logger } from '../shared/powertools.js';
import { LOCAL_SETTINGS_ENV, SETTINGS_ENV, validateInput } from './core.js';

export const handler = withPowertools(async (event: unknown): Promise<PipelineNormalizedInput[PipelineName]> => {
  const pipeline = (event as { pipeline?: unknown } | null)?.pipeline;
  try {
    const output = validateInput(event, process.env[SETTINGS_ENV], new Date(), process.env[LOCAL_SETTINGS_ENV]);
    logger.info('pipeline input valid', { pipeline, output });
    return output;
  } catch (err) {
    logger.warn('pipeline input refused', { pipeline, error: (err as Error).name, message: (err as Error).message });
    throw err;
  }
});
