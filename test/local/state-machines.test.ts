/**
 * Every ASL file in state-machines/ is valid (asl-validator), has a local rule for each placeholder and a local
 * stand-in for each Task resource, names targets that exist (Lambda handlers, Glue scripts, SQL files), and
 * catches failures on every Task. Written over the directory, so a new file is checked without a new test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { placeholdersOf, readAslFile, STATE_MACHINES_DIR } from '../../lib/constructs/orchestration/asl-definition.js';
import { SQL_QUERIES } from '../../lib/contracts/sql-queries.js';
import { repoRoot } from '../../lib/paths.js';
import { forEachState, loadDefinition, taskStates } from '../../local/definition.js';
import { glueScript } from '../../local/integrations/glue.js';
import { integrationFor } from '../../local/integrations/index.js';
import { handlerFile, lambdaFolder } from '../../local/integrations/lambda.js';
import type { Json } from '../../local/integrations/types.js';

const FILES = fs
  .readdirSync(STATE_MACHINES_DIR)
  .filter((f) => f.endsWith('.asl.json'))
  .sort();

describe('state-machines/', () => {
  it('holds at least the training pipeline', () => {
    expect(FILES).toContain('training-pipeline.asl.json');
  });

  describe.each(FILES)('%s', (file) => {
    it('is valid ASL after the local substitutions (asl-validator, ARNs and paths checked)', () => {
      const { definition } = loadDefinition(file);
      const result = aslValidator(definition, { checkArn: true, checkPaths: true });
      expect(result.errorsText('\n')).toBe('');
      expect(result.isValid).toBe(true);
    });

    it('has a local stand-in for every Task resource, nested states included', () => {
      const { json } = readAslFile(file);
      const unsupported = taskStates(json)
        .filter((t) => !t.resource.includes('${') && integrationFor(t.resource) === undefined)
        .map((t) => `${t.path}: ${t.resource}`);
      expect(unsupported).toEqual([]);
      // and after substitutions (resources built from placeholders, e.g. a bare function ARN)
      expect(() => loadDefinition(file)).not.toThrow();
    });

    it('names only targets that exist locally (Lambda handlers, Glue job scripts, SQL files)', () => {
      const { text } = readAslFile(file);
      const missing: string[] = [];
      for (const name of placeholdersOf(text)) {
        if (name.endsWith('FunctionArn')) {
          const folder = lambdaFolder(loadDefinition(file).substitutions[name] as string);
          if (!fs.existsSync(handlerFile(folder))) missing.push(`\${${name}} → lambdas/${folder}/handler.ts`);
        } else if (name.endsWith('JobName')) {
          const job = loadDefinition(file).substitutions[name] as string;
          if (!fs.existsSync(glueScript(job))) missing.push(`\${${name}} → glue-scripts/jobs/${job}.py`);
        } else if (name.endsWith('Query')) {
          const sql = SQL_QUERIES[name];
          if (!sql || !fs.existsSync(path.join(repoRoot, sql)))
            missing.push(`\${${name}} → ${sql ?? '(not in SQL_QUERIES)'}`);
        }
      }
      expect(missing).toEqual([]);
    });

    it('catches every error of every Task (on the Task or on its enclosing Map/Parallel)', () => {
      const { definition } = loadDefinition(file);
      const uncaught: string[] = [];
      const visit = (def: Record<string, unknown>, enclosingCatches: boolean): void => {
        const states = (def.States ?? {}) as Record<string, Record<string, Json>>;
        for (const [name, state] of Object.entries(states)) {
          const catches =
            Array.isArray(state.Catch) &&
            state.Catch.some((c) => ((c as { ErrorEquals: string[] }).ErrorEquals ?? []).includes('States.ALL'));
          if (state.Type === 'Task' && !catches && !enclosingCatches) uncaught.push(name);
          for (const key of ['Iterator', 'ItemProcessor']) {
            const sub = state[key];
            if (sub && typeof sub === 'object' && !Array.isArray(sub)) visit(sub, enclosingCatches || catches);
          }
          if (Array.isArray(state.Branches)) {
            for (const b of state.Branches) visit(b as Record<string, unknown>, enclosingCatches || catches);
          }
        }
      };
      visit(definition, false);
      expect(uncaught).toEqual([]);
    });
  });
});

describe('training-pipeline.asl.json agrees with the model code', () => {
  const { definition } = loadDefinition('training-pipeline');
  const states = definition.States as Record<string, Record<string, Record<string, unknown>>>;
  const read = (f: string): unknown =>
    JSON.parse(fs.readFileSync(path.join(repoRoot, 'sagemaker', 'clv_model', f), 'utf8'));

  it('uses the metric definitions of sagemaker/clv_model/metric_definitions.json for training and tuning', () => {
    const expected = read('metric_definitions.json');
    const train = states.TrainModel?.Parameters?.AlgorithmSpecification as Record<string, unknown>;
    const tuneJob = states.TuneModel?.Parameters?.TrainingJobDefinition as
      | Record<string, Record<string, unknown>>
      | undefined;
    const tune = tuneJob?.AlgorithmSpecification as Record<string, unknown>;
    expect(train.MetricDefinitions).toEqual(expected);
    expect(tune.MetricDefinitions).toEqual(expected);
  });

  it('tunes over sagemaker/clv_model/tuning_ranges.json towards tuning_objective.json', () => {
    const cfg = states.TuneModel?.Parameters?.HyperParameterTuningJobConfig as Record<string, unknown>;
    expect(cfg.ParameterRanges).toEqual(read('tuning_ranges.json'));
    expect(cfg.HyperParameterTuningJobObjective).toEqual(read('tuning_objective.json'));
  });

  it('registers only after the gate passed', () => {
    const gate = states.GatePassed as unknown as {
      Choices: { Variable: string; BooleanEquals: boolean; Next: string }[];
      Default: string;
    };
    expect(gate.Choices).toEqual([{ Variable: '$.gate_result.passed', BooleanEquals: true, Next: 'RegisterModel' }]);
    expect(gate.Default).toBe('NotifyGateFailed');
    const into = new Set<string>();
    forEachState(definition, (_n, s) => {
      if (typeof s.Next === 'string') into.add(`${_n}->${s.Next}`);
    });
    expect([...into].filter((e) => e.endsWith('->RegisterModel'))).toEqual([]);
  });
});
