/**
 * Campaign token Lambda: stores the WaitForOutcomes task token of a campaign experiment (./core.ts) in the artifacts
 * bucket (S3 in AWS, the local object store when CLV_LOCAL_ROOT is set).
 */
import { withPowertools } from '../shared/middleware.js';
import { currentObjectStore } from '../shared/object-store.js';
import { logger } from '../shared/powertools.js';
import { type StoredToken, storeTaskToken } from './core.js';

export const handler = withPowertools(async (event: unknown): Promise<StoredToken> => {
  const stored = await storeTaskToken(currentObjectStore(), event);
  logger.info('campaign task token stored', { ...stored });
  return stored;
});
