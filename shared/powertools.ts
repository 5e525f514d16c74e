/**
 * Powertools singletons, and the tracing that stands in for its Tracer. Created once per Lambda container; their
 * settings come from the POWERTOOLS_* environment set by the TaskFunction construct (service name, log level,
 * metrics namespace, tracing on or off).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracing } from './tracing';

export const logger = new Logger();
/** X-Ray subsegments for each invocation and each SDK call (see shared/tracing.ts for why not the Tracer). */
export const tracing = new Tracing();
/** Metrics' own warnings go through the logger: structured on AWS, and quiet in local mode's CLI output. */
export const metrics = new Metrics({ defaultDimensions: {}, logger });
export { MetricUnit } from '@aws-lambda-powertools/metrics';
