import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/paths.js';
import { dispatch, helpText } from '../../local/cli/commands.js';
import { formatProgress, inputRefusal, parseFailures, parseInput } from '../../local/cli/run-command.js';

describe('clv CLI helpers', () => {
  it('reads input as JSON text or @file, naming the problem', () => {
    expect(parseInput(undefined)).toEqual({});
    expect(parseInput('{"a": 1}')).toEqual({ a: 1 });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'clv-cli-')), 'in.json');
    fs.writeFileSync(file, '{"b": [1]}');
    expect(parseInput(`@${file}`)).toEqual({ b: [1] });
    expect(() => parseInput('{nope')).toThrow('--input is not valid JSON');
    expect(() => parseInput('@/no/such/file.json')).toThrow('--input file not found: /no/such/file.json');
  });

  it.each([
    ['data-pipeline', { date: '2024-02-30' }, 'data-pipeline: invalid input: date: expected a date YYYY-MM-DD'],
    ['training-pipeline.asl.json', { test_cutoff: 1 }, 'training-pipeline: invalid input: training_cutoff: required'],
    ['batch-scoring', { cutoff: '2024-03-01', extra: true }, 'batch-scoring: invalid input: extra: unknown field'],
  ])('checks the input of %s before a run', (machine, input, message) => {
    expect(inputRefusal(machine, input)).toContain(message);
  });

  it('passes a valid input and state machines without an input schema', () => {
    expect(inputRefusal('batch-scoring', { cutoff: '2024-03-01' })).toBeUndefined();
    expect(inputRefusal('data-pipeline', { scheduledTime: '2024-03-01T23:45:00Z' })).toBeUndefined();
    expect(inputRefusal('some-other-machine', { anything: 1 })).toBeUndefined();
  });

  it('parses --fail KEY[=N]', () => {
    expect(parseFailures(['athena:startQueryExecution.sync=2', 'clv-local-model-gate'])).toEqual({
      'athena:startQueryExecution.sync': 2,
      'clv-local-model-gate': 1,
    });
  });

  it('formats progress lines per state', () => {
    expect(formatProgress({ kind: 'exited', state: 'TrainModel', type: 'Task', ms: 1500, at: 0, depth: 0 })).toBe(
      '  ✓ TrainModel  1.5s',
    );
    expect(formatProgress({ kind: 'retried', state: 'Q', attempt: 1, at: 0, depth: 1 })).toBe('    ↻ Q  retry 1');
  });

  it('dispatches through a command table and refuses unknown commands', async () => {
    const calls: string[][] = [];
    const table = {
      run: {
        summary: 'run one',
        usage: 'usage: run',
        run: async (a: string[]) => {
          calls.push(a);
          return 0;
        },
      },
    };
    expect(helpText(table)).toContain('run  run one');
    expect(await dispatch(table, ['run', 'x', '--input', '{}'])).toBe(0);
    expect(calls).toEqual([['x', '--input', '{}']]);
    expect(await dispatch(table, ['bench'])).toBe(2);
  });
});

describe('npm run clv -- run', () => {
  it('runs a state machine, prints progress per state and the error, writes the history, exits 1 on failure', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-cli-'));
    const r = spawnSync(
      path.join(repoRoot, 'node_modules', '.bin', 'tsx'),
      [
        'local/cli/clv.ts',
        'run',
        'training-pipeline',
        '--input',
        '{"training_cutoff":"2022-01-01","validation_cutoff":"2022-07-01","test_cutoff":"2023-01-01"}',
        '--name',
        'cli-run',
        '--root',
        root,
        '--fail',
        'athena:startQueryExecution.sync=9',
        '--no-waits',
        '--output',
        path.join(root, 'out.json'),
      ],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('→ QueryTrainingSet (Task)');
    expect(r.stderr).toContain('↻ QueryTrainingSet  retry');
    expect(r.stderr).toContain('⤷ QueryTrainingSet  caught → NotifyFailure');
    expect(r.stderr).toContain('■ FAILED');
    expect(JSON.parse(r.stdout)).toEqual({
      error: 'TrainingPipelineFailed',
      cause: 'A step failed; the alert carries its error and cause.',
    });
    expect(fs.existsSync(path.join(root, '_local', 'executions', 'training-pipeline', 'cli-run.json'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'out.json'), 'utf8'))).toMatchObject({
      error: 'TrainingPipelineFailed',
    });
    const help = execFileSync(
      path.join(repoRoot, 'node_modules', '.bin', 'tsx'),
      ['local/cli/clv.ts', 'run', '--help'],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(help).toContain('usage: npm run clv -- run <state-machine>');
  });

  it('refuses a bad pipeline input before starting an execution: exit 2, the field named, no history', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-cli-'));
    const r = spawnSync(
      path.join(repoRoot, 'node_modules', '.bin', 'tsx'),
      ['local/cli/clv.ts', 'run', 'batch-scoring', '--input', '{"cutoff":"2024-13-01"}', '--root', root],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('batch-scoring: invalid input: cutoff: expected a date YYYY-MM-DD, got "2024-13-01"');
    expect(r.stderr).not.toContain('▶');
    expect(fs.existsSync(path.join(root, '_local', 'executions'))).toBe(false);
  });
});
