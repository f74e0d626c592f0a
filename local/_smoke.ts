import '/work/main/local/polyfills.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatProgress } from '/work/main/local/cli/run-command.js';
import { runLocal } from '/work/main/local/runner.js';
import { featureRows, offlineStoreTable, writeOfflineSnapshot } from '/work/main/test/local/helpers/feature-fixture.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'clv-smoke-'));
const table = offlineStoreTable();
for (const [i, c] of ['2022-01-01', '2022-07-01', '2023-01-01'].entries()) {
  await writeOfflineSnapshot(root, table, c, featureRows(c, 300, 100 + i, true));
}
const r = await runLocal({
  stateMachine: 'training-pipeline',
  root,
  extraTables: [table],
  waits: 'none',
  executionName: 'smoke-1',
  input: {
    training_cutoff: '2022-01-01',
    validation_cutoff: '2022-07-01',
    test_cutoff: '2023-01-01',
    hyperparameters: { num_round: '50' },
    gate: {
      min_gini: -1,
      min_churn_auc: 0,
      min_top_decile_capture: 0,
      min_heuristic_rmse_reduction: -10,
      min_test_rows: 10,
    },
  },
  onProgress: (e) => {
    const l = formatProgress(e);
    if (l) console.log(l);
  },
});
console.log(r.status, r.error, r.cause?.slice(0, 3000));
console.log(JSON.stringify(r.output, null, 1)?.slice(0, 3000));
console.log(root);
