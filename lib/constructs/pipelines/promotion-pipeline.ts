import { Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { PIPELINE_EVENT_RULES } from '../../contracts/event-rules.js';
import type { TeamFunction } from '../compute/team-function.js';
import type { AslStateMachine } from '../orchestration/asl-state-machine.js';
import { pipelineEventRules, pipelineStateMachine, validateInputFunction } from './pipeline-parts.js';
import type { PromotionPipelineProps } from './promotion-pipeline-props.js';

/** The rule of lib/contracts/event-rules.ts that starts the promotion pipeline. */
export const PROMOTION_RULE = PIPELINE_EVENT_RULES.find((r) => r.target === 'promotion');

/**
 * Promotion and rollback (state-machines/promotion.asl.json): the promotion rule (model-registry plan-promotion) →
 * audit record (gold audit/promotions/) → previous Production package Archived → the package Production → SNS. Started
 * by the Model Registry's approval event (the `promotion-on-approval` rule of lib/contracts/event-rules.ts, this
 * environment's group, ModelApprovalStatus Approved) or by hand (a promotion with an override reason, a rollback).
 * The rule's role may start this state machine only. Runbook: docs/runbooks/promotion-and-rollback.md.
 */
export class PromotionPipeline extends Construct {
  readonly machine: AslStateMachine;
  readonly validateInputFunction: TeamFunction;
  readonly approvalRule: events.Rule;

  constructor(scope: Construct, id: string, props: PromotionPipelineProps) {
    super(scope, id);
    const { config, lake } = props;
    const env = config.name;

    this.validateInputFunction = validateInputFunction(this, 'promotion', {}, config, lake.key);

    this.machine = pipelineStateMachine(this, Stack.of(this), {
      pipeline: 'promotion',
      config,
      key: lake.key,
      timeoutMinutes: config.shadow.promotionTimeoutMinutes,
      substitutions: {
        ValidateInputFunctionArn: this.validateInputFunction.functionArn,
        ModelRegistryFunctionArn: props.modelRegistryFunction.functionArn,
        ModelPackageGroupName: props.modelPackageGroupName,
        GoldBucket: lake.goldBucket.bucketName,
        AlertsTopicArn: props.alertsTopic.topicArn,
      },
      context: {
        functions: {
          ValidateInputFunctionArn: this.validateInputFunction,
          ModelRegistryFunctionArn: props.modelRegistryFunction,
        },
        modelPackageGroupName: props.modelPackageGroupName,
        alertsTopic: props.alertsTopic,
        buckets: { GoldBucket: lake.goldBucket },
      },
    });

    if (!PROMOTION_RULE) throw new Error('lib/contracts/event-rules.ts has no rule targeting the promotion pipeline');
    // The rule of the shared table (this environment's group, Approved), with the retries, dead-letter queue and
    // alarm every event-started pipeline has; its target role may start this state machine only.
    const rules = pipelineEventRules(this, this.machine, {
      pipeline: 'promotion',
      environmentName: env,
      context: { environmentName: env, modelPackageGroupName: props.modelPackageGroupName },
      alertsTopic: props.alertsTopic,
      enabled: props.approvalRuleEnabled ?? true,
    });
    this.approvalRule = rules[0] as events.Rule;
  }
}
