/**
 * Imported first by the CLI entry and the local runtime, before anything that could load a handler module: Powertools reads its
 * settings from the environment when its singletons are built, and in local mode handlers run inside the
 * CLI's process. Metrics and tracing have no local destination; logs stay quiet unless --verbose (the local
 * runtime sets the level). Values the user set are kept.
 */
const defaults: Record<string, string> = {
  POWERTOOLS_SERVICE_NAME: 'stepjobs',
  POWERTOOLS_METRICS_NAMESPACE: 'StepJobs',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};
for (const [name, value] of Object.entries(defaults)) process.env[name] ??= value;
