/**
 * The Powertools middleware every handler is wrapped in (middy): the Lambda context in every log line, metrics
 * flushed after each invocation (also when the handler throws) with a ColdStart metric, and the handler traced.
 * Uses the shared instances of ./powertools.ts. The wrapped handler may be called without a context (tests, the
 * local runtime calls handler(event, context) in-process): middy then uses an empty context.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from './powertools.js';

/** A handler as written in lambdas/<name>/handler.ts. */
export type PlainHandler<E, R> = (event: E, context: Context) => Promise<R>;

/** The wrapped handler: context optional (the Lambda runtime always passes one). */
export type WrappedHandler<E, R> = (event: E, context?: Context) => Promise<R>;

export function withPowertools<E = unknown, R = unknown>(handler: PlainHandler<E, R>): WrappedHandler<E, R> {
  const wrapped = middy<E, R, Error, Context>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(captureLambdaHandler(tracer))
    .handler(handler);
  return (event: E, context?: Context) => wrapped(event, context ?? ({} as Context));
}
