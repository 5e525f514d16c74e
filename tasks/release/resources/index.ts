/** Every resource type's AWS half, by type id. Adding a type means a module here and its rules. */
import type { ResourceAdapter, ResourceTypeId } from '../model';
import { ebsSnapshot } from './ebs-snapshot';
import { ebsVolume } from './ebs-volume';
import { ec2Instance } from './ec2-instance';
import { elasticIp } from './elastic-ip';
import { logGroup } from './log-group';

export const adapters: Record<ResourceTypeId, ResourceAdapter> = {
  'ec2-instance': ec2Instance,
  'ebs-volume': ebsVolume,
  'ebs-snapshot': ebsSnapshot,
  'elastic-ip': elasticIp,
  'log-group': logGroup,
};
