#!/usr/bin/env -S npx tsx
/**
 * The `clv` command line (`npm run clv -- <command>`). Commands live in a table so others (generate, bench)
 * can be added beside `run`.
 */
import '../node-version.js';
import { alertsCommand } from './alerts-command.js';
import { campaignCommand } from './campaign-command.js';
import { withCampaignOutcomes } from './campaign-outcomes-command.js';
import { type CommandTable, dispatch } from './commands.js';
import { driftCommand } from './drift-command.js';
import { experimentCommand } from './experiment-command.js';
import { modelsCommand } from './models-command.js';
import { generateCommand } from './python-command.js';
import { queryCommand } from './query-command.js';
import { runCommand } from './run-command.js';

export const COMMANDS: CommandTable = {
  run: runCommand,
  generate: withCampaignOutcomes(generateCommand),
  models: modelsCommand,
  alerts: alertsCommand,
  drift: driftCommand,
  campaign: campaignCommand,
  experiment: experimentCommand,
  query: queryCommand,
};

dispatch(COMMANDS, process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`clv: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
