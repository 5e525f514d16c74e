/** Tag keys the job reads and writes. The opt-in and protect keys are configurable; these are the defaults. */
export const TAGS = {
  /** Opt-in selector default: only resources with this tag (and value) are ever candidates. */
  OPT_IN: 'stepjobs:release',
  OPT_IN_VALUE: 'true',
  /** A resource with this tag (any value) is never touched. It always wins over the opt-in. */
  PROTECT: 'stepjobs:protect',
  /** Set by the job when it first sees a candidate: the ISO time after which it may be released. */
  RELEASE_AFTER: 'stepjobs:release-after',
  /** EC2 instances: the ISO date after which the instance counts as expired. */
  EXPIRES_AT: 'stepjobs:expires-at',
} as const;
