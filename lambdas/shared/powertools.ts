/**
 * The Powertools instances every Lambda shares. Service name, namespace and log level come from the environment
 * TeamFunction sets (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const logger = new Logger();
export const metrics = new Metrics({ defaultDimensions: { environment: process.env.CLV_ENVIRONMENT ?? 'local' } });
export const tracer = new Tracer();
