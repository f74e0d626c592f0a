#!/usr/bin/env -S npx tsx
/**
 * The `clv` command line (`npm run clv -- <command>`). Commands live in a table so others (generate, bench)
 * can be added beside `run`.
 */
import '../node-version.js';
import { type CommandTable, dispatch } from './commands.js';
import { modelsCommand } from './models-command.js';
import { generateCommand } from './python-command.js';
import { runCommand } from './run-command.js';

export const COMMANDS: CommandTable = {
  run: runCommand,
  generate: generateCommand,
  models: modelsCommand,
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
