/**
 * The EventBridge rules that start pipelines, declared once: the pipeline constructs create them on AWS
 * (lib/constructs/pipelines/pipeline-parts.ts `pipelineEventRules`), and the local runtime's event bus
 * (local/events.ts) runs the matching state machines after an execution has put events. A rule passes the whole
 * event to the state machine as its input; the pipeline's ValidateInput Lambda accepts that shape.
 */
import type { PipelineName } from './pipeline-inputs.js';

/** The source of every event the platform's own pipelines put on the default bus. */
export const PLATFORM_EVENT_SOURCE = 'clv.platform';

/** The source of the SageMaker Model Registry's events. */
export const SAGEMAKER_EVENT_SOURCE = 'aws.sagemaker';
/** The detail-type of a model package's approval or metadata change. */
export const MODEL_PACKAGE_STATE_CHANGE = 'SageMaker Model Package State Change';

/** What a rule's pattern may depend on (per environment). */
export interface EventRuleContext {
  /** The environment name (dev, staging, prod, local): platform events carry it in detail.environment. */
  readonly environmentName: string;
  /** The Model Package Group of the environment. */
  readonly modelPackageGroupName: string;
}

/**
 * The subset of EventBridge event patterns the rules use: exact string values, OR within a field, AND across
 * fields. `detail` fields match top-level keys of the event's detail.
 */
export interface EventPattern {
  readonly source: readonly string[];
  readonly 'detail-type': readonly string[];
  readonly detail?: Readonly<Record<string, readonly string[]>>;
}

/** One rule: which events start which pipeline. */
export interface PipelineEventRule {
  /** Short name; the deployed rule is `clv-<env>-<name>`. */
  readonly name: string;
  readonly description: string;
  /** The pipeline (state-machines/<target>.asl.json) the rule starts, with the whole event as its input. */
  readonly target: PipelineName;
  readonly pattern: (ctx: EventRuleContext) => EventPattern;
}

/** Every rule of the platform. */
export const PIPELINE_EVENT_RULES: readonly PipelineEventRule[] = [
  {
    name: 'monitoring-on-scoring',
    description: 'Starts the monitoring pipeline (drift, proxy performance) when batch scoring has published a run',
    target: 'monitoring',
    pattern: (ctx) => ({
      source: [PLATFORM_EVENT_SOURCE],
      'detail-type': ['ScoringCompleted'],
      detail: { environment: [ctx.environmentName] },
    }),
  },
  {
    name: 'promotion-on-approval',
    description:
      'Starts the promotion pipeline when a model package of this environment is Approved in the Model Registry',
    target: 'promotion',
    pattern: (ctx) => ({
      source: [SAGEMAKER_EVENT_SOURCE],
      'detail-type': [MODEL_PACKAGE_STATE_CHANGE],
      detail: { ModelPackageGroupName: [ctx.modelPackageGroupName], ModelApprovalStatus: ['Approved'] },
    }),
  },
];

/** An event as EventBridge delivers it to a target (the fields the patterns look at, and the rest). */
export interface BusEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** Whether an event matches a pattern (the subset above: exact values; a missing detail field never matches). */
export function matchesPattern(pattern: EventPattern, event: BusEvent): boolean {
  if (!pattern.source.includes(event.source)) return false;
  if (!pattern['detail-type'].includes(event['detail-type'])) return false;
  for (const [field, values] of Object.entries(pattern.detail ?? {})) {
    const value = event.detail?.[field];
    if (typeof value !== 'string' || !values.includes(value)) return false;
  }
  return true;
}

/** The rules an event starts, in declaration order. */
export function rulesMatching(event: BusEvent, ctx: EventRuleContext): PipelineEventRule[] {
  return PIPELINE_EVENT_RULES.filter((r) => matchesPattern(r.pattern(ctx), event));
}
