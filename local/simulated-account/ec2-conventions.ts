/** How EC2 spells things: id prefixes, instance state codes, tag lists, `Filters` and new ids. */
import type { Filter, InstanceState, Tag } from '@aws-sdk/client-ec2';
import { createHash, randomBytes } from 'node:crypto';
import { fail, UnsupportedBySimulatedAccount } from './errors';
import type { Of, SimulatedResource, SimulatedType } from './resources';

const EC2_ID_PREFIXES: readonly [string, SimulatedType][] = [
  ['i-', 'ec2-instance'],
  ['vol-', 'ebs-volume'],
  ['snap-', 'ebs-snapshot'],
  ['eipalloc-', 'elastic-ip'],
  ['ami-', 'ec2-image'],
];

export function ec2TypeOf(id: string): SimulatedType {
  const found = EC2_ID_PREFIXES.find(([prefix]) => id.startsWith(prefix));
  if (!found) throw fail('InvalidID', `The ID '${id}' is not valid`);
  return found[1];
}

const INSTANCE_STATE_CODES: Record<Of<'ec2-instance'>['state'], number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export function instanceState(name: Of<'ec2-instance'>['state']): InstanceState {
  return { Name: name, Code: INSTANCE_STATE_CODES[name] };
}

export function toTags(tags: Record<string, string>): Tag[] | undefined {
  const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  return list.length ? list : undefined;
}

/** EC2 `Filters` as a predicate (all filters must hold, any value of each); unknown filter names fail at once. */
export function matcher(
  filters: readonly Filter[] | undefined,
  command: string,
): (resource: SimulatedResource) => boolean {
  const tests = (filters ?? []).map(({ Name = '', Values = [] }): ((r: SimulatedResource) => boolean) => {
    if (Name === 'tag-key') return (r) => Object.keys(r.tags).some((key) => Values.includes(key));
    if (Name.startsWith('tag:')) {
      const key = Name.slice(4);
      return (r) => r.tags[key] !== undefined && Values.includes(r.tags[key] ?? '');
    }
    if (Name === 'instance-state-name') return (r) => r.type === 'ec2-instance' && Values.includes(r.state);
    if (Name === 'volume-id') return (r) => r.type === 'ebs-snapshot' && Values.includes(r.volumeId);
    throw new UnsupportedBySimulatedAccount(command, `filter ${Name}`);
  });
  return (resource) => tests.every((test) => test(resource));
}

/** AWS-looking ids for what the simulation creates: `<prefix>-0` and 16 hex digits. */
export function newId(prefix: string): string {
  return `${prefix}-0${randomBytes(8).toString('hex')}`;
}

export function hex(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
