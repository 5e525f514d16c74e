/** What the simulated account holds: its resource types, as stored in the inventory table. */
interface SimulatedBase {
  id: string;
  tags: Record<string, string>;
  /** Deleted just before the first mutating call on it, which then answers NotFound (see index.ts). */
  vanishOnApply?: boolean;
}

/** One resource of the simulated account, as stored. Times are ISO strings. */
export type SimulatedResource =
  | (SimulatedBase & {
      type: 'ec2-instance';
      state: 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
      instanceType: string;
      launchTime: string;
    })
  | (SimulatedBase & {
      type: 'ebs-volume';
      state: 'creating' | 'available' | 'in-use' | 'deleting' | 'error';
      sizeGiB: number;
      volumeType: string;
      iops: number | null;
      createdAt: string;
      /** The instance it is attached to (state `in-use`). */
      attachedTo?: string;
    })
  | (SimulatedBase & {
      type: 'ebs-snapshot';
      state: 'pending' | 'completed' | 'error';
      sizeGiB: number;
      startedAt: string;
      volumeId: string;
      description?: string;
      /** A `pending` snapshot reads as `completed` from this time on (snapshots the simulation takes). */
      completesAt?: string;
    })
  | (SimulatedBase & {
      type: 'elastic-ip';
      publicIp: string;
      /** The instance it is associated with. */
      associatedWith?: string;
    })
  | (SimulatedBase & {
      type: 'log-group';
      /** The group's name is its id. */
      retentionDays: number | null;
      storedBytes: number;
      createdAt: string;
    })
  | (SimulatedBase & {
      /** An AMI: not a resource type the job releases, but its block devices make snapshots "in use". */
      type: 'ec2-image';
      name: string;
      snapshotIds: string[];
      createdAt: string;
    });
export type SimulatedType = SimulatedResource['type'];
export type Of<T extends SimulatedType> = Extract<SimulatedResource, { type: T }>;
