import { describe, expect, it } from 'vitest';
import { detailsKey } from '../../local/history.js';

describe('execution history event details keys', () => {
  it.each([
    ['TaskStateEntered', 'stateEnteredEventDetails'],
    ['ChoiceStateExited', 'stateExitedEventDetails'],
    ['TaskSucceeded', 'taskSucceededEventDetails'],
    ['ExecutionStarted', 'executionStartedEventDetails'],
    ['MapIterationStarted', 'mapIterationStartedEventDetails'],
  ])('%s carries %s, as Step Functions names it', (type, key) => {
    expect(detailsKey(type)).toBe(key);
  });
});
