/**
 * Errors the stand-ins raise. aws-local-stepfunctions matches Retry/Catch `ErrorEquals` against `error.name`
 * and reports `error.message` as the Cause, so a stand-in throws a TaskError named as AWS names the error.
 */
export class TaskError extends Error {
  constructor(errorName: string, cause: string) {
    super(cause);
    this.name = errorName;
  }
}

/** A `.sync` job that ended FAILED: Step Functions reports States.TaskFailed with the job description as Cause. */
export function jobFailed(description: Record<string, unknown>): TaskError {
  return new TaskError('States.TaskFailed', JSON.stringify(description));
}

/** A rejected service API call (validation, missing entity): `<Service>.<Exception>`, as Step Functions names it. */
export function serviceError(service: string, exception: string, message: string): TaskError {
  return new TaskError(`${service}.${exception}`, message);
}
