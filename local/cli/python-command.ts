/** CLI commands implemented by a Python module of the project, run in the project's environment (.venv). */
import { spawn } from 'node:child_process';
import { repoRoot } from '../../lib/paths.js';
import { projectPython } from '../python.js';
import type { Command } from './commands.js';

/** A command that hands its arguments to `python -m <module> [...prefix] <args>`, streaming its output. */
export function pythonModuleCommand(summary: string, usage: string, module: string, prefix: string[] = []): Command {
  return {
    summary,
    usage,
    run: (argv) =>
      new Promise<number>((resolve, reject) => {
        const child = spawn(projectPython(), ['-m', module, ...prefix, ...argv], {
          cwd: repoRoot,
          stdio: 'inherit',
          env: { ...process.env, PYTHONUNBUFFERED: '1' },
        });
        child.on('error', reject);
        child.on('close', (code) => resolve(code ?? 1));
      }),
  };
}

export const generateCommand = pythonModuleCommand(
  'generate a synthetic shop (transactions, CRM extract, clickstream, manifest)',
  `usage: npm run clv -- generate --customers N --start YYYY-MM-DD --months M --seed S --out <s3-or-local-uri>
                          [--scenario drift-channel|drift-spend|pipeline-bug] [--scenario-start YYYY-MM-DD]
                          [--truth-horizon-days D] [--clickstream-share F] [--workers W]

  See docs/data-generator.md for the files, the generating process and the mess it adds.`,
  'datagen',
  ['generate'],
);
