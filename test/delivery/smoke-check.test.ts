import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deliverySettings, toGithubOutput } from '../../.github/scripts/delivery-settings.js';
import { DELIVERY } from '../../lib/config/delivery.js';
import { LOCAL_PIPELINE_SETTINGS, parsePipelineInput } from '../../lib/contracts/pipeline-inputs.js';
import { repoRoot } from '../../lib/paths.js';

const script = path.join(repoRoot, '.github', 'scripts', 'smoke-check.sh');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs smoke-check.sh with a stand-in `aws` on PATH: it logs each call and answers describe-execution with the
 * given statuses in turn (the last one repeats).
 */
function runSmoke(statuses: string[], args: string[], env: Record<string, string> = { AWS_REGION: 'eu-west-1' }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-smoke-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'statuses'), `${statuses.join('\n')}\n`);
  const aws = `#!/usr/bin/env bash
echo "$*" >> "${dir}/calls"
case "$1 $2" in
  "sts get-caller-identity") echo "arn:aws:sts::123456789012:assumed-role/clv-dev-github-deploy/s" ;;
  "stepfunctions start-execution") echo "arn:aws:states:eu-west-1:123456789012:execution:clv-dev-data-pipeline:smoke-1-1" ;;
  "stepfunctions describe-execution")
    if [[ "$*" == *"--query status"* ]]; then
      status="$(head -n1 "${dir}/statuses")"
      [ "$(wc -l < "${dir}/statuses")" -gt 1 ] && sed -i 1d "${dir}/statuses"
      echo "$status"
    else
      echo '{"error": "States.TaskFailed", "cause": "no landing files"}'
    fi ;;
  *) echo "unexpected aws call: $*" >&2; exit 99 ;;
esac
`;
  fs.writeFileSync(path.join(dir, 'aws'), aws, { mode: 0o755 });
  const result = spawnSync('bash', [script, ...args], {
    encoding: 'utf8',
    env: { PATH: `${dir}:${process.env.PATH}`, ...env },
  });
  const callsFile = path.join(dir, 'calls');
  const calls = fs.existsSync(callsFile) ? fs.readFileSync(callsFile, 'utf8').trim().split('\n') : [];
  return { status: result.status, out: `${result.stdout}${result.stderr}`, calls };
}

const INPUT = '{"date":"2024-03-01","clickstream":false}';
const args = (timeout = '60', poll = '1') => ['clv-dev-data-pipeline', 'smoke-1-1', INPUT, timeout, poll];

describe('smoke-check.sh', () => {
  it('starts the execution of the state machine of this account and region and passes when it succeeds', () => {
    const { status, out, calls } = runSmoke(['RUNNING', 'SUCCEEDED'], args());
    expect(status, out).toBe(0);
    expect(calls[1]).toBe(
      `stepfunctions start-execution --state-machine-arn arn:aws:states:eu-west-1:123456789012:stateMachine:clv-dev-data-pipeline --name smoke-1-1 --input ${INPUT} --query executionArn --output text`,
    );
    expect(calls.filter((c) => c.includes('describe-execution'))).toHaveLength(2);
    expect(out).toContain('SUCCEEDED');
  });

  for (const ended of ['FAILED', 'TIMED_OUT', 'ABORTED']) {
    it(`fails when the execution ends ${ended}, printing its error and cause`, () => {
      const { status, out } = runSmoke(['RUNNING', ended], args());
      expect(status).toBe(1);
      expect(out).toContain(`ended ${ended}`);
      expect(out).toContain('no landing files');
    });
  }

  it('fails when the execution is still running at the timeout', () => {
    const { status, out } = runSmoke(['RUNNING'], args('1', '1'));
    expect(status).toBe(1);
    expect(out).toContain('still RUNNING after 1 s');
  });

  it('refuses bad arguments before calling AWS', () => {
    for (const bad of [
      ['clv-dev-data-pipeline', 'smoke-1-1', INPUT, '60'],
      ['clv-dev-data-pipeline', 'smoke-1-1', INPUT, 'soon', '1'],
      ['clv-dev-data-pipeline', 'smoke-1-1', INPUT, '60', '0'],
      ['arn:aws:states:x', 'smoke-1-1', INPUT, '60', '1'],
      ['clv-dev-data-pipeline', 'smoke 1', INPUT, '60', '1'],
    ]) {
      const { status, calls } = runSmoke(['SUCCEEDED'], bad);
      expect(status, bad.join(' ')).toBe(2);
      expect(calls).toEqual([]);
    }
    const noRegion = runSmoke(['SUCCEEDED'], args(), {});
    expect(noRegion.status).toBe(2);
    expect(noRegion.out).toContain('AWS_REGION is not set');
  });
});

describe('delivery-settings.ts', () => {
  it('gives each environment its region, data pipeline and smoke input from the validated configs', () => {
    expect(deliverySettings('staging')).toEqual({
      region: 'eu-west-1',
      state_machine: 'clv-staging-data-pipeline',
      smoke_input: INPUT,
      timeout_seconds: 2700,
      poll_seconds: 20,
      execution_prefix: 'smoke-',
    });
    expect(toGithubOutput(deliverySettings('dev'))).toBe(
      [
        'region=eu-west-1',
        'state_machine=clv-dev-data-pipeline',
        `smoke_input=${INPUT}`,
        'timeout_seconds=2700',
        'poll_seconds=20',
        'execution_prefix=smoke-',
        '',
      ].join('\n'),
    );
  });

  it('refuses an unknown environment, naming the allowed ones', () => {
    expect(() => deliverySettings('qa')).toThrow(
      /Unknown environment 'qa': allowed environments are dev, staging, prod/,
    );
  });

  it("gives the smoke check an input the data pipeline's ValidateInput accepts", () => {
    const normalized = parsePipelineInput(
      'data-pipeline',
      JSON.parse(deliverySettings('dev').smoke_input),
      LOCAL_PIPELINE_SETTINGS['data-pipeline'],
      new Date('2026-01-01T00:00:00Z'),
      'smoke-1-1',
    );
    expect(normalized).toMatchObject({ date: DELIVERY.smokeCheck.input.date, clickstream: false });
  });
});
