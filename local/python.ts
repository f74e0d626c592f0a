/** Runs the project's Python (.venv/bin/python) as a child process, streaming its output to a log file. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../lib/paths.js';

export const PYTHON_ENV = 'CLV_PYTHON';

export function projectPython(env: NodeJS.ProcessEnv = process.env): string {
  const python = env[PYTHON_ENV] ?? path.join(repoRoot, '.venv', 'bin', 'python');
  if (!fs.existsSync(python)) {
    throw new Error(
      `the project's Python is missing at ${python}; run \`npm run setup:python\` (or set ${PYTHON_ENV})`,
    );
  }
  return python;
}

export interface PythonRun {
  exitCode: number;
  /** Everything the process wrote (stdout and stderr interleaved). */
  log: string;
}

export interface PythonOptions {
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
  onLine?: (line: string) => void;
}

export function runPython(options: PythonOptions): Promise<PythonRun> {
  const python = projectPython(options.env);
  fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
  const out = fs.createWriteStream(options.logFile);
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const child = spawn(python, options.args, {
      cwd: options.cwd ?? repoRoot,
      env: { ...options.env, PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    const onData = (b: Buffer): void => {
      chunks.push(b);
      out.write(b);
      if (options.onLine) {
        pending += b.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) options.onLine(l);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => {
      out.end();
      reject(err);
    });
    child.on('close', (code, signal) => {
      if (options.onLine && pending !== '') options.onLine(pending);
      out.end(() => resolve({ exitCode: code ?? (signal ? 128 : 1), log: Buffer.concat(chunks).toString('utf8') }));
    });
  });
}

/** The last lines of a log, for error causes. */
export function tail(log: string, lines = 20): string {
  return log.trimEnd().split('\n').slice(-lines).join('\n');
}
