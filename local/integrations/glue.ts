/**
 * Glue: `arn:aws:states:::glue:startJobRun.sync` runs glue-scripts/jobs/<JobName>.py with the project's Python
 * (local Spark), arguments as Glue passes them (`--JOB_NAME <name> --JOB_RUN_ID <id> --key value ...`) and
 * CLV_LOCAL_ROOT set. As Glue merges a job's DefaultArguments with StartJobRun's Arguments, the script gets the
 * job's local default arguments (lib/contracts/glue-jobs.ts: the environment-agnostic defaults the CDK sets, plus
 * local stand-ins for the environment-specific ones, e.g. a local-only PII salt) overridden by the Task's Arguments.
 * Returns the JobRun of GetJobRun; a failed run is States.TaskFailed with that JobRun
 * (JobRunState FAILED, ErrorMessage) as Cause, as Step Functions reports .sync failures.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { glueJobSpec } from '../../lib/contracts/glue-jobs.js';
import { repoRoot } from '../../lib/paths.js';
import { jobFailed, serviceError } from '../errors.js';
import { runPython, tail } from '../python.js';
import { asObject, type Integration, type Json, type TaskCall } from './types.js';

export const GLUE_RESOURCE = 'arn:aws:states:::glue:startJobRun.sync';
const JOB_NAME = /^[A-Za-z0-9_-]{1,255}$/;

export function glueScript(jobName: string): string {
  return path.join(repoRoot, 'glue-scripts', 'jobs', `${jobName}.py`);
}

/**
 * The DefaultArguments of a job in the local runtime: the CDK's environment-agnostic defaults, the local values of
 * the environment-specific ones and the contracts folder of this checkout (Glue gets the files via --extra-files).
 * Empty for a script that is not a platform job.
 */
export function localDefaultArguments(jobName: string): Record<string, string> {
  const spec = glueJobSpec(jobName);
  if (spec === undefined) return {};
  return {
    '--contracts-dir': path.join(repoRoot, 'contracts'),
    ...spec.defaultArguments,
    ...spec.localDefaultArguments,
  };
}

/** What the script receives: the job's local DefaultArguments, replaced key by key by the run's Arguments. */
export function effectiveArguments(jobName: string, runArguments: Record<string, string>): Record<string, string> {
  return { ...localDefaultArguments(jobName), ...runArguments };
}

/** The command line Glue gives the script (after the script path). */
export function glueArgv(jobName: string, runId: string, args: Record<string, string>): string[] {
  const argv = ['--JOB_NAME', jobName, '--JOB_RUN_ID', runId];
  for (const [key, value] of Object.entries(args)) {
    if (!key.startsWith('--')) {
      throw serviceError('Glue', 'InvalidInputException', `job argument '${key}' must start with '--'`);
    }
    argv.push(key, value);
  }
  return argv;
}

function jobName(call: TaskCall): string {
  const name = asObject(call.parameters, `${call.stateName} (glue parameters)`).JobName;
  if (typeof name !== 'string' || !JOB_NAME.test(name)) {
    throw serviceError('Glue', 'InvalidInputException', `${call.stateName}: JobName is missing or invalid`);
  }
  return name;
}

export const glueStartJobRun: Integration = {
  id: 'glue:startJobRun.sync',
  matches: (r) => r === GLUE_RESOURCE,
  transientError: 'Glue.AWSGlueException',
  target: jobName,
  async invoke(call, rt) {
    const params = asObject(call.parameters, `${call.stateName} (glue parameters)`);
    const name = jobName(call);
    const script = glueScript(name);
    if (!fs.existsSync(script)) {
      throw serviceError(
        'Glue',
        'EntityNotFoundException',
        `Job ${name} not found (${path.relative(repoRoot, script)})`,
      );
    }
    const rawArgs = params.Arguments === undefined ? {} : asObject(params.Arguments, `${call.stateName}.Arguments`);
    const args: Record<string, string> = {};
    for (const [k, v] of Object.entries(rawArgs)) {
      if (typeof v !== 'string') {
        throw serviceError(
          'Glue',
          'InvalidInputException',
          `job argument '${k}' must be a string, got ${JSON.stringify(v)}`,
        );
      }
      args[k] = v;
    }
    // Glue: StartJobRun Arguments replace the job's DefaultArguments key by key.
    const effective = effectiveArguments(name, args);
    const id = `jr_${randomBytes(32).toString('hex')}`;
    const started = Date.now();
    const logFile = path.join(rt.root, '_local', 'logs', 'glue', name, `${id}.log`);
    rt.log(`glue job ${name} run ${id.slice(0, 11)}… (log: ${path.relative(rt.root, logFile)})`);
    const run = await runPython({ args: [script, ...glueArgv(name, id, effective)], env: rt.env, logFile });
    const completed = Date.now();
    const jobRun: Record<string, Json> = {
      Id: id,
      Attempt: 0,
      JobName: name,
      JobMode: 'SCRIPT',
      StartedOn: started,
      LastModifiedOn: completed,
      CompletedOn: completed,
      JobRunState: run.exitCode === 0 ? 'SUCCEEDED' : 'FAILED',
      Arguments: args,
      PredecessorRuns: [],
      AllocatedCapacity: 2,
      ExecutionTime: Math.round((completed - started) / 1000),
      Timeout: typeof params.Timeout === 'number' ? params.Timeout : 2880,
      MaxCapacity: 2,
      WorkerType: typeof params.WorkerType === 'string' ? params.WorkerType : 'G.1X',
      NumberOfWorkers: typeof params.NumberOfWorkers === 'number' ? params.NumberOfWorkers : 2,
      LogGroupName: '/aws-glue/jobs',
      GlueVersion: '5.0',
    };
    if (run.exitCode !== 0) {
      jobRun.ErrorMessage = `exit code ${run.exitCode}: ${tail(run.log, 8)}`;
      throw jobFailed(jobRun);
    }
    return jobRun;
  },
};
