import { describe, expect, it } from 'vitest';
import {
  applySubstitutions,
  checkSubstitutions,
  placeholdersOf,
  readAslFile,
} from '../../lib/constructs/orchestration/asl-definition.js';

const text = JSON.stringify({
  StartAt: 'A',
  States: {
    A: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: ASL placeholders are literal ${Name} text
      Parameters: { FunctionName: '${GateFunctionArn}', Bucket: '${RawBucket}', Again: '${RawBucket}' },
      End: true,
    },
  },
});

describe('ASL definitions and substitutions', () => {
  it('lists each placeholder once, sorted', () => {
    expect(placeholdersOf(text)).toEqual(['GateFunctionArn', 'RawBucket']);
  });

  it('fails on a missing or an unknown substitution, naming them', () => {
    expect(() => checkSubstitutions('x.asl.json', text, { GateFunctionArn: 'arn' })).toThrow(
      'state-machines/x.asl.json: missing substitutions: RawBucket',
    );
    expect(() =>
      checkSubstitutions('x.asl.json', text, { GateFunctionArn: 'a', RawBucket: 'b', RawBuckt: 'c' }),
    ).toThrow('substitutions not used by the definition: RawBuckt');
    expect(() => checkSubstitutions('x.asl.json', text, { GateFunctionArn: 'a', RawBucket: 'b' })).not.toThrow();
  });

  it('replaces every occurrence as Step Functions does', () => {
    const out = JSON.parse(applySubstitutions(text, { GateFunctionArn: 'arn:fn', RawBucket: 'raw' }));
    expect(out.States.A.Parameters).toEqual({ FunctionName: 'arn:fn', Bucket: 'raw', Again: 'raw' });
  });

  it('only reads .asl.json files from state-machines/', () => {
    expect(() => readAslFile('../package.json')).toThrow(/must be a file name ending in .asl.json/);
    expect(() => readAslFile('does-not-exist.asl.json')).toThrow(
      'State machine definition not found: state-machines/does-not-exist.asl.json',
    );
  });
});
