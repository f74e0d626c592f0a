/**
 * Fault injection for tests and drills: make a stand-in fail its first N calls with the error AWS would report
 * for a transient failure, so the ASL's Retry and Catch run as they would when deployed.
 *
 * A plan maps a key to a count or {count, error?, cause?}. A key matches a Task when it equals the Task's
 * Resource (after substitutions), the integration id (e.g. `glue:startJobRun.sync`) or its target (the Lambda
 * function name, the Glue job name, the SageMaker job name's base, the SQL query's placeholder).
 * From the environment: CLV_LOCAL_FAILURES='{"clv-local-model-gate": 2}'.
 */
import { z } from 'zod';
import { TaskError } from './errors.js';

export const FaultSpec = z.union([
  z.number().int().min(0),
  z.object({ count: z.number().int().min(0), error: z.string().min(1).optional(), cause: z.string().optional() }),
]);
export const FaultPlan = z.record(z.string().min(1), FaultSpec);
export type FaultPlan = z.infer<typeof FaultPlan>;

export const FAULTS_ENV = 'CLV_LOCAL_FAILURES';

export function faultPlanFromEnv(env: NodeJS.ProcessEnv = process.env): FaultPlan {
  const raw = env[FAULTS_ENV];
  if (raw === undefined || raw.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new Error(`${FAULTS_ENV} is not JSON: ${(err as Error).message}`);
  }
  const parsed = FaultPlan.safeParse(json);
  if (!parsed.success) throw new Error(`${FAULTS_ENV} is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export class FaultInjector {
  private readonly remaining = new Map<string, { count: number; error?: string; cause?: string }>();
  /** Injected failures so far, per key. */
  readonly injected: Record<string, number> = {};

  constructor(plan: FaultPlan) {
    for (const [key, spec] of Object.entries(FaultPlan.parse(plan))) {
      this.remaining.set(key, typeof spec === 'number' ? { count: spec } : { ...spec });
    }
  }

  /** Throws the injected error when one of the keys still has failures left. */
  maybeFail(keys: string[], defaultError: string): void {
    for (const key of keys) {
      const spec = this.remaining.get(key);
      if (spec === undefined || spec.count <= 0) continue;
      spec.count -= 1;
      this.injected[key] = (this.injected[key] ?? 0) + 1;
      throw new TaskError(spec.error ?? defaultError, spec.cause ?? `injected failure for '${key}' (local runtime)`);
    }
  }
}
