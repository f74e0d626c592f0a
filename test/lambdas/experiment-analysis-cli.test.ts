/**
 * `clv experiment analyze` (local/cli/experiment-command.ts): validation of the per-customer file with row numbers
 * and values, aggregation per arm, the table, --json, --html, and argument errors. scipy agreement is in
 * local/py/tests/test_experiment_scipy.py.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withCampaignOutcomes } from '../../local/cli/campaign-outcomes-command.js';
import { aggregateOutcomeFile, experimentMain, OutcomeFileError } from '../../local/cli/experiment-command.js';

let dir: string;
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const HEADER = 'customer_id,arm,converted,revenue,unsubscribed,extra';
const GOOD = [
  HEADER,
  'a,control,1,10,0,x',
  'b,control,0,0,1,x',
  'c,control,1,30,0,x',
  'd,treatment,1,20.5,0,x',
  'e,treatment,1,40,0,x',
  'f,treatment,0,0,0,x',
].join('\n');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'exp-cli-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('clv experiment analyze', () => {
  it('aggregates a CSV per arm (other columns ignored)', async () => {
    const agg = await aggregateOutcomeFile(file('good.csv', GOOD));
    expect(agg.control).toEqual({ n: 3, conversions: 2, revenue_sum: 40, revenue_sum_sq: 1000, unsubscribes: 1 });
    expect(agg.treatment).toEqual({
      n: 3,
      conversions: 2,
      revenue_sum: 60.5,
      revenue_sum_sq: 2020.25,
      unsubscribes: 0,
    });
    expect(agg.rows).toBe(6);
  });

  it('prints a table, or JSON with the contracted fields, and writes the HTML report', async () => {
    const input = file('good2.csv', GOOD);
    const table = await experimentMain(['analyze', '--input', input, '--expected-share', '0.5']);
    expect(table).toMatch(/revenue per user\s+13\.33\s+20\.17/);
    expect(table).toMatch(/decision: no_difference/);
    const html = join(dir, 'out', 'report.html');
    const json = JSON.parse(
      await experimentMain([
        'analyze',
        '--input',
        input,
        '--expected-share',
        '0.5',
        '--alpha',
        '0.1',
        '--json',
        '--html',
        html,
      ]),
    );
    expect(json.alpha).toBe(0.1);
    expect(json.srm).toMatchObject({ expected_share: 0.5, observed_share: 0.5, valid: true });
    for (const k of ['control_rate', 'treatment_rate', 'diff', 'ci_low', 'ci_high', 'p_value']) {
      expect(typeof json.conversion[k]).toBe('number');
    }
    for (const k of ['control_mean', 'treatment_mean', 'diff', 'ci_low', 'ci_high', 'p_value']) {
      expect(typeof json.revenue_per_user[k]).toBe('number');
    }
    expect(json.guardrail.unsubscribe).toHaveProperty('worse', false);
    expect(json.n).toEqual({ control: 3, treatment: 3 });
    expect(existsSync(html)).toBe(true);
    expect(readFileSync(html, 'utf8')).toContain('NO DIFFERENCE');
  });

  it('reports every bad row by number and value, all problems at once', async () => {
    const bad = file(
      'bad.csv',
      [
        HEADER,
        'a,control,1,10,0,x',
        'b,Control,0,0,0,x',
        'c,treatment,yes,0,0,x',
        'd,treatment,1,-3,0,x',
        ',treatment,0,,2,x',
        'a,treatment,0,0,0,x',
      ].join('\n'),
    );
    const err = await aggregateOutcomeFile(bad).catch((e: Error) => e);
    expect(err).toBeInstanceOf(OutcomeFileError);
    const m = (err as Error).message;
    expect(m).toContain('6 problem(s)');
    expect(m).toContain('customer_id is empty (row 5: empty)');
    expect(m).toContain('arm is not control or treatment (row 2: "Control")');
    expect(m).toContain('converted is not 0 or 1 (row 3: "yes")');
    expect(m).toContain('revenue is not a non-negative number (row 4: "-3", row 5: empty)');
    expect(m).toContain('unsubscribed is not 0 or 1 (row 5: "2")');
    expect(m).toContain('1 duplicate customer id(s) ("a" at rows 1, 6)');
  });

  it.each([
    [
      'a missing column',
      'nocol.csv',
      'customer_id,arm,converted,revenue\na,control,1,1',
      /missing column\(s\) unsubscribed/,
    ],
    ['an unsupported type', 'x.json', '{}', /unsupported file type/],
  ])('%s is a clear error', async (_, name, text, message) => {
    await expect(aggregateOutcomeFile(file(name, text))).rejects.toThrow(message);
  });

  it('a missing file, an empty arm and bad options are clear errors', async () => {
    await expect(aggregateOutcomeFile(join(dir, 'nope.csv'))).rejects.toThrow(/no such file/);
    const oneArm = file('one.csv', [HEADER, 'a,control,1,1,0,x', 'b,control,0,0,0,x'].join('\n'));
    await expect(experimentMain(['analyze', '--input', oneArm])).rejects.toThrow(/the treatment arm has 0 customer/);
    await expect(experimentMain(['analyze', '--input', oneArm, '--alpha', '0'])).rejects.toThrow(
      /--alpha must be a number strictly between 0 and 1/,
    );
    await expect(experimentMain(['analyze'])).rejects.toThrow(/--input FILE is required/);
    await expect(experimentMain(['compare'])).rejects.toThrow(/unknown subcommand "compare"/);
  });
});

describe('clv generate campaign-outcomes', () => {
  const calls: string[][] = [];
  const generate = withCampaignOutcomes({
    summary: 'generate a shop',
    usage: 'usage: generate ...',
    run: async (argv) => {
      calls.push(argv);
      return 0;
    },
  });

  it('documents the subcommand beside generate and leaves every other call to generate', async () => {
    expect(generate.usage).toContain('usage: generate ...');
    expect(generate.usage).toContain('generate campaign-outcomes --campaign ID');
    expect(await generate.run(['--customers', '10'])).toBe(0);
    expect(calls).toEqual([['--customers', '10']]);
  });

  it('hands campaign-outcomes to python -m datagen campaign-outcomes (exit 2 on a bad argument)', async () => {
    const code = await generate.run([
      'campaign-outcomes',
      '--campaign',
      'Bad_Id',
      '--audience',
      'a',
      '--truth-dir',
      't',
      '--out',
      'o',
    ]);
    expect(code).toBe(2);
    expect(calls).toHaveLength(1);
  });
});
