/**
 * Powertools singletons. Created once per Lambda container; their settings come from the POWERTOOLS_*
 * environment set by the TaskFunction construct (service name, log level, metrics namespace).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const logger = new Logger();
export const tracer = new Tracer();
/** Metrics' own warnings go through the logger: structured on AWS, and quiet in local mode's CLI output. */
export const metrics = new Metrics({ defaultDimensions: {}, logger });
export { MetricUnit } from '@aws-lambda-powertools/metrics';
