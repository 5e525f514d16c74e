/**
 * Import first in a test file: Powertools reads its settings when shared/powertools.ts is loaded, and tests
 * should neither print every log line and metric nor try to reach X-Ray. Tests that assert a log line or a
 * metric spy on the logger or the metrics object instead.
 */
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'stepjobs-test';
process.env.POWERTOOLS_SERVICE_NAME = 'stepjobs-test';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';

export {};
