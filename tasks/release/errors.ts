/**
 * Named errors of the release job. The state machine and the ledger see them by `name`, so each class sets it.
 */
import { StepJobsError } from '../../shared/errors';
import type { ResourceTypeId } from './model';

/** One cap one resource type went over. */
export interface CapViolation {
  type: ResourceTypeId;
  cap: 'maxReleasesPerType' | 'maxPercentPerType';
  /** Releases planned for the type. */
  planned: number;
  /** Releases the cap allows. */
  allowed: number;
  /** The operator-readable line, e.g. `ebs-volume: 40 releases planned, cap maxReleasesPerType is 25 (15 over)`. */
  message: string;
}

/**
 * The plan would release more of a type than the policy's blast-radius caps allow. Thrown before anything is
 * touched or recorded: a policy or tagging mistake that selects half the account must stop the run, not run.
 */
export class BlastRadiusExceeded extends StepJobsError {
  constructor(readonly violations: CapViolation[]) {
    super(`Planned releases exceed the blast-radius caps: ${violations.map((v) => v.message).join('; ')}`);
    this.name = 'BlastRadiusExceeded';
  }
}

/**
 * A discovered resource whose facts do not have the shape its type documents (`FactsByType` in model.ts).
 * That is a bug in the type's adapter; the policy will not guess what a malformed resource means.
 */
export class InvalidFacts extends StepJobsError {
  constructor(
    readonly type: ResourceTypeId,
    readonly resourceId: string,
    readonly problems: string[],
  ) {
    super(`${type} ${resourceId} has invalid facts: ${problems.join('; ')}`);
    this.name = 'InvalidFacts';
  }
}

/** The inventory lists the same resource twice: discovery is broken, and counts and caps would be wrong. */
export class DuplicateResource extends StepJobsError {
  constructor(
    readonly type: ResourceTypeId,
    readonly resourceId: string,
  ) {
    super(`${type} ${resourceId} appears more than once in the inventory`);
    this.name = 'DuplicateResource';
  }
}

/** The run's policy asks for an action this deployment does not allow (its IAM grants no permission for it). */
export class ActionNotAllowed extends StepJobsError {
  constructor(field: string, value: string, switchName: string) {
    super(
      `${field} "${value}" is not allowed by this deployment: set ${switchName} in workflows/release-idle-resources.ts and deploy again (IAM grants it only then)`,
    );
    this.name = 'ActionNotAllowed';
  }
}
