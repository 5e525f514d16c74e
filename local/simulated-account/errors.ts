/** How the simulated account fails: its own limits, and AWS's errors under AWS's names. */
import { StepJobsError } from '../../shared/errors';
import type { SimulatedType } from './resources';

/** The simulated account was asked for something it does not simulate. */
export class UnsupportedBySimulatedAccount extends StepJobsError {
  constructor(
    readonly command: string,
    detail?: string,
  ) {
    super(
      `The simulated account does not implement ${command}${detail ? ` (${detail})` : ''}. ` +
        'It answers the calls the release adapters make; add the command in tasks/release/simulated-account/.',
    );
    this.name = 'UnsupportedBySimulatedAccount';
  }
}

/** An AWS service error as the SDK throws it: the name is AWS's error code. */
export class SimulatedServiceError extends Error {
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 400 };

  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export const fail = (name: string, message: string) => new SimulatedServiceError(name, message);

export const NOT_FOUND: Record<SimulatedType, (id: string) => SimulatedServiceError> = {
  'ec2-instance': (id) => fail('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`),
  'ebs-volume': (id) => fail('InvalidVolume.NotFound', `The volume '${id}' does not exist.`),
  'ebs-snapshot': (id) => fail('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`),
  'elastic-ip': (id) => fail('InvalidAllocationID.NotFound', `The allocation ID '${id}' does not exist`),
  'ec2-image': (id) => fail('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`),
  'log-group': () => fail('ResourceNotFoundException', 'The specified log group does not exist.'),
};
