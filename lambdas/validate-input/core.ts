/**
 * ValidateInput (the first state of every state machine): parses the execution input of one pipeline with
 * lib/contracts/pipeline-inputs.ts and returns the normalized input the rest of the ASL reads.
 *
 * - The event is `{pipeline, input, execution_name}` (the ASL's Payload); a malformed event is a wiring error.
 * - Settings come from env CLV_PIPELINE_SETTINGS (JSON, the pipeline's settings schema; set by the pipeline's CDK
 *   construct from the environment config) or, when it is absent (the local runtime), LOCAL_PIPELINE_SETTINGS.
 *   A bad settings value is a configuration error (PipelineSettingsError), never InvalidPipelineInput: the Catch
 *   sends it to the alerting failure path, not to the quiet InvalidInput Fail state.
 * - A bad input throws InvalidPipelineInputError (name InvalidPipelineInput) naming the field.
 */
import { z } from 'zod';
import {
  LOCAL_PIPELINE_SETTINGS,
  type PipelineName,
  type PipelineNormalizedInput,
  type PipelineSettings,
  parsePipelineInput,
  pipelineNameSchema,
  pipelineSettingsSchemas,
} from '../../lib/contracts/pipeline-inputs.js';

export const SETTINGS_ENV = 'CLV_PIPELINE_SETTINGS';

/**
 * Local runtime only (CLV_PIPELINE_SETTINGS absent): JSON keyed by pipeline whose values are merged over the local
 * settings (LOCAL_PIPELINE_SETTINGS), objects key by key, e.g. {"training-pipeline": {"gate": {"min_gini": 0.2}}}:
 * what an environment's config sets on AWS, for a local "environment" (the demo uses it). The merged settings are
 * checked with the pipeline's schema like a deployed configuration.
 */
export const LOCAL_SETTINGS_ENV = 'CLV_LOCAL_PIPELINE_SETTINGS';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

/** The local settings of `pipeline` with the overrides of CLV_LOCAL_PIPELINE_SETTINGS (absent: none). */
export function localPipelineSettings<P extends PipelineName>(
  pipeline: P,
  overrides: string | undefined,
): PipelineSettings[P] {
  const base = LOCAL_PIPELINE_SETTINGS[pipeline];
  if (overrides === undefined || overrides.trim() === '') return base;
  let json: unknown;
  try {
    json = JSON.parse(overrides);
  } catch (err) {
    throw new PipelineSettingsError(`${LOCAL_SETTINGS_ENV} is not JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(json)) {
    throw new PipelineSettingsError(`${LOCAL_SETTINGS_ENV} must be a JSON object keyed by pipeline name`);
  }
  const unknown = Object.keys(json).filter((k) => !(k in LOCAL_PIPELINE_SETTINGS));
  if (unknown.length > 0) {
    throw new PipelineSettingsError(
      `${LOCAL_SETTINGS_ENV}: unknown pipeline(s) ${unknown.join(', ')} (known: ${Object.keys(LOCAL_PIPELINE_SETTINGS).join(', ')})`,
    );
  }
  if (json[pipeline] === undefined) return base;
  const parsed = pipelineSettingsSchemas[pipeline].safeParse(deepMerge(base, json[pipeline]));
  if (!parsed.success) {
    throw new PipelineSettingsError(
      `${LOCAL_SETTINGS_ENV} gives invalid ${pipeline} settings: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data as PipelineSettings[P];
}

export const validateInputEventSchema = z.strictObject({
  pipeline: pipelineNameSchema,
  input: z.unknown(),
  execution_name: z.string().min(1).max(80),
});
export type ValidateInputEvent = z.infer<typeof validateInputEventSchema>;

/** The function's configuration (CLV_PIPELINE_SETTINGS) is wrong: a deployment error, not the caller's. */
export class PipelineSettingsError extends Error {
  override readonly name = 'PipelineSettingsError';
}

/** The event is not what the ASL's ValidateInput Payload sends: a wiring error. */
export class ValidateInputEventError extends Error {
  override readonly name = 'ValidateInputEventError';
}

export function parseEvent(event: unknown): ValidateInputEvent {
  const parsed = validateInputEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new ValidateInputEventError(
      `validate-input: the event must be {pipeline, input, execution_name} (the ASL's ValidateInput Payload): ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

/** The settings of `pipeline` from the env value (JSON), or the local defaults when the value is absent. */
export function pipelineSettings<P extends PipelineName>(
  pipeline: P,
  envValue: string | undefined,
  localOverrides?: string,
): PipelineSettings[P] {
  if (envValue === undefined || envValue === '') return localPipelineSettings(pipeline, localOverrides);
  let json: unknown;
  try {
    json = JSON.parse(envValue);
  } catch (err) {
    throw new PipelineSettingsError(
      `${SETTINGS_ENV} (the ${pipeline} settings) is not JSON: ${(err as Error).message}`,
    );
  }
  const parsed = pipelineSettingsSchemas[pipeline].safeParse(json);
  if (!parsed.success) {
    throw new PipelineSettingsError(
      `${SETTINGS_ENV} does not hold the ${pipeline} settings: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data as PipelineSettings[P];
}

/** The normalized input of one execution (throws InvalidPipelineInputError on a bad input). */
export function validateInput(
  event: unknown,
  envValue: string | undefined,
  now: Date = new Date(),
  localOverrides?: string,
): PipelineNormalizedInput[PipelineName] {
  const { pipeline, input, execution_name } = parseEvent(event);
  const settings = pipelineSettings(pipeline, envValue, localOverrides);
  return parsePipelineInput(pipeline, input, settings, now, execution_name);
}
