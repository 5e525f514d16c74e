/**
 * Powertools singletons. Created once per Lambda container; their settings come from the POWERTOOLS_*
 * environment set by the TaskFunction construct (service name, log level, metrics namespace).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const logger = new Logger();
export const tracer = new Tracer();
export const metrics = new Metrics({ defaultDimensions: {} });
export { MetricUnit } from '@aws-lambda-powertools/metrics';
