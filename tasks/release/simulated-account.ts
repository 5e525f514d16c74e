/**
 * The simulated account: what local mode releases, instead of a real one. The clients are real `EC2Client`,
 * `CloudWatchLogsClient` and `STSClient` instances (the SDK paginators check `instanceof`), so the adapters
 * run unchanged, but a middleware at the `initialize` step answers every command in-process, before anything
 * is serialized, signed or sent: no request leaves the process.
 *
 * The inventory lives in a DynamoDB table (the embedded one in local mode), one item per resource, keyed by
 * type (partition) and resource id (sort key), tags as a map. Every write is conditional or touches single map
 * entries, so concurrent apply batches never lose each other's writes. Lists paginate for real (small pages by
 * default, so local runs exercise pagination); missing resources fail with AWS's error names; releases change
 * state as AWS would. A command the adapters do not use fails with {@link UnsupportedBySimulatedAccount}.
 *
 * `vanishOnApply`: a resource seeded with it is deleted just before the first mutating call that targets it
 * (CreateTags, CreateSnapshot, DeleteVolume, PutRetentionPolicy...), which then answers NotFound, as if someone
 * deleted it between the plan and the apply. Describe calls leave it alone, so discovery and dry runs see it.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client, type Filter, type InstanceState, type Tag } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { StepJobsError } from '../../shared/errors';
import { isConditionFailed } from '../../shared/ledger/dynamo';
import { LOG_RETENTION_DAYS } from './input';
import type { Clients } from './model';

interface SimulatedBase {
  id: string;
  tags: Record<string, string>;
  /** Deleted just before the first mutating call on it, which then answers NotFound (see the module doc). */
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
type Of<T extends SimulatedType> = Extract<SimulatedResource, { type: T }>;

export interface SimulatedAccountOptions {
  /** Items per page of every list call, whatever MaxResults asks for (AWS may return fewer). @default 5 */
  pageSize?: number;
  /** Clock for what the simulation creates (snapshot start times). @default the system clock */
  now?: () => Date;
}

/** The simulated account was asked for something it does not simulate. */
export class UnsupportedBySimulatedAccount extends StepJobsError {
  constructor(
    readonly command: string,
    detail?: string,
  ) {
    super(
      `The simulated account does not implement ${command}${detail ? ` (${detail})` : ''}. ` +
        'It answers the calls the release adapters make; add the command to tasks/release/simulated-account.ts.',
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

const fail = (name: string, message: string) => new SimulatedServiceError(name, message);

const NOT_FOUND: Record<SimulatedType, (id: string) => SimulatedServiceError> = {
  'ec2-instance': (id) => fail('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`),
  'ebs-volume': (id) => fail('InvalidVolume.NotFound', `The volume '${id}' does not exist.`),
  'ebs-snapshot': (id) => fail('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`),
  'elastic-ip': (id) => fail('InvalidAllocationID.NotFound', `The allocation ID '${id}' does not exist`),
  'ec2-image': (id) => fail('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`),
  'log-group': () => fail('ResourceNotFoundException', 'The specified log group does not exist.'),
};

const EC2_ID_PREFIXES: readonly [string, SimulatedType][] = [
  ['i-', 'ec2-instance'],
  ['vol-', 'ebs-volume'],
  ['snap-', 'ebs-snapshot'],
  ['eipalloc-', 'elastic-ip'],
  ['ami-', 'ec2-image'],
];

function ec2TypeOf(id: string): SimulatedType {
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

function instanceState(name: Of<'ec2-instance'>['state']): InstanceState {
  return { Name: name, Code: INSTANCE_STATE_CODES[name] };
}

const DEFAULT_PAGE_SIZE = 5;
/** Items read per inventory query when paging; pages returned to callers still hold `pageSize` at most. */
const READ_AHEAD = 100;
const DYNAMO_BATCH = 25;

/** The table of the inventory: one item per resource, `type` + `id`, `tags` a map. */
class Inventory {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(type: SimulatedType, id: string) {
    return { TableName: this.tableName, Key: { type, id } };
  }

  async get<T extends SimulatedType>(type: T, id: string): Promise<Of<T> | undefined> {
    const out = await this.doc.send(new GetCommand({ ...this.key(type, id), ConsistentRead: true }));
    return out.Item as Of<T> | undefined;
  }

  /** Every listed resource, or AWS's NotFound for the first missing one (AWS validates a list as a whole). */
  async getAll<T extends SimulatedType>(type: T, ids: readonly string[]): Promise<Of<T>[]> {
    const found = await Promise.all(ids.map((id) => this.get(type, id)));
    const missing = ids.find((_id, i) => !found[i]);
    if (missing !== undefined) throw NOT_FOUND[type](missing);
    return found as Of<T>[];
  }

  /**
   * One page of `type` in id order after `after`, of at most `limit` resources that `keep` accepts. `next` is
   * the last id returned when more may follow.
   */
  async page<T extends SimulatedType>(
    type: T,
    options: { after?: string; limit: number; keep: (resource: Of<T>) => boolean; prefix?: string },
  ): Promise<{ items: Of<T>[]; next?: string }> {
    const items: Of<T>[] = [];
    let start: Record<string, unknown> | undefined = options.after ? { type, id: options.after } : undefined;
    for (;;) {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: options.prefix
            ? '#type = :type AND begins_with(#id, :prefix)'
            : '#type = :type',
          ExpressionAttributeNames: { '#type': 'type', ...(options.prefix ? { '#id': 'id' } : {}) },
          ExpressionAttributeValues: {
            ':type': type,
            ...(options.prefix ? { ':prefix': options.prefix } : {}),
          },
          ExclusiveStartKey: start,
          // Read ahead: a filter may skip most of what is read, and reading `limit + 1` at a time made a
          // filtered describe (a safety snapshot looked up by tag) cost one query per few resources.
          Limit: Number.isFinite(options.limit) ? Math.max(options.limit + 1, READ_AHEAD) : undefined,
          ConsistentRead: true,
        }),
      );
      const batch = (out.Items ?? []) as Of<T>[];
      for (const [index, resource] of batch.entries()) {
        if (!options.keep(resource)) continue;
        items.push(resource);
        if (items.length === options.limit) {
          const more = index < batch.length - 1 || out.LastEvaluatedKey !== undefined;
          return more ? { items, next: resource.id } : { items };
        }
      }
      if (!out.LastEvaluatedKey) return { items };
      start = out.LastEvaluatedKey;
    }
  }

  async all<T extends SimulatedType>(
    type: T,
    keep: (resource: Of<T>) => boolean = () => true,
  ): Promise<Of<T>[]> {
    return (await this.page(type, { limit: Infinity, keep })).items;
  }

  async create(resource: SimulatedResource): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: resource,
        ConditionExpression: 'attribute_not_exists(#id)',
        ExpressionAttributeNames: { '#id': 'id' },
      }),
    );
  }

  /**
   * Set and remove fields and tags of an existing resource, one map entry at a time (so concurrent changes to
   * other tags are kept). Throws `onConflict(current)` when the resource is missing or `condition`
   * is false. Returns the resource as it was before.
   */
  async update<T extends SimulatedType>(
    type: T,
    id: string,
    change: {
      set?: Record<string, unknown>;
      setTags?: Record<string, string>;
      removeTags?: readonly string[];
      remove?: readonly string[];
      condition?: { expression: string; names?: Record<string, string>; values?: Record<string, unknown> };
    },
    onConflict: (current: Of<T> | undefined) => Error,
  ): Promise<Of<T>> {
    const names: Record<string, string> = { '#id': 'id', ...change.condition?.names };
    if (change.setTags || change.removeTags) names['#tags'] = 'tags';
    const values: Record<string, unknown> = { ...change.condition?.values };
    const sets: string[] = [];
    const removes: string[] = [];
    let n = 0;
    for (const [field, value] of Object.entries(change.set ?? {})) {
      names[`#f${n}`] = field;
      values[`:f${n}`] = value;
      sets.push(`#f${n} = :f${n}`);
      n++;
    }
    for (const [key, value] of Object.entries(change.setTags ?? {})) {
      names[`#t${n}`] = key;
      values[`:t${n}`] = value;
      sets.push(`#tags.#t${n} = :t${n}`);
      n++;
    }
    for (const key of change.removeTags ?? []) {
      names[`#t${n}`] = key;
      removes.push(`#tags.#t${n}`);
      n++;
    }
    for (const field of change.remove ?? []) {
      names[`#f${n}`] = field;
      removes.push(`#f${n}`);
      n++;
    }
    const update = [
      sets.length ? `SET ${sets.join(', ')}` : '',
      removes.length ? `REMOVE ${removes.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const condition = ['attribute_exists(#id)', change.condition?.expression].filter(Boolean).join(' AND ');
    if (!update) {
      const current = await this.get(type, id);
      if (!current) throw onConflict(undefined);
      return current;
    }
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          ...this.key(type, id),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes as Of<T>;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      throw onConflict(await this.get(type, id));
    }
  }

  /** Delete the resource if it exists and `condition` holds; otherwise throw `onConflict(current)`. */
  async remove<T extends SimulatedType>(
    type: T,
    id: string,
    condition: { expression?: string; names?: Record<string, string>; values?: Record<string, unknown> },
    onConflict: (current: Of<T> | undefined) => Error,
  ): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          ...this.key(type, id),
          ConditionExpression: ['attribute_exists(#id)', condition.expression].filter(Boolean).join(' AND '),
          ExpressionAttributeNames: { '#id': 'id', ...condition.names },
          ...(condition.values ? { ExpressionAttributeValues: condition.values } : {}),
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      throw onConflict(await this.get(type, id));
    }
  }

  /** A resource seeded with `vanishOnApply` disappears now, before the mutating call that targets it. */
  async vanishIfArmed(type: SimulatedType, id: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          ...this.key(type, id),
          ConditionExpression: '#vanish = :yes',
          ExpressionAttributeNames: { '#vanish': 'vanishOnApply' },
          ExpressionAttributeValues: { ':yes': true },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }
}

function toTags(tags: Record<string, string>): Tag[] | undefined {
  const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  return list.length ? list : undefined;
}

function checkTagKeys(keys: readonly string[], errorName: string): void {
  const reserved = keys.find((key) => key.toLowerCase().startsWith('aws:'));
  if (reserved !== undefined)
    throw fail(errorName, `Tag keys starting with 'aws:' are reserved: ${reserved}`);
}

/** EC2 `Filters` as a predicate (all filters must hold, any value of each); unknown filter names fail at once. */
function matcher(
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

function encodeToken(id: string | undefined): string | undefined {
  return id === undefined ? undefined : Buffer.from(id).toString('base64url');
}

function decodeToken(token: string | undefined, errorName: string): string | undefined {
  if (!token) return undefined;
  const id = Buffer.from(token, 'base64url').toString('utf8');
  if (!id || encodeToken(id) !== token) throw fail(errorName, `Invalid pagination token: ${token}`);
  return id;
}

/** AWS-looking ids for what the simulation creates: `<prefix>-0` and 16 hex digits. */
function newId(prefix: string): string {
  return `${prefix}-0${randomBytes(8).toString('hex')}`;
}

/** Requests are plain objects; each handler reads the fields it needs. */
type Input = Record<string, unknown>;
type Handler = (input: Input) => Promise<Record<string, unknown>>;

const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) ? value.map((v) => String(v)) : undefined;
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The account: every command the adapters send, answered from the inventory. */
class SimulatedAccount {
  private readonly pageSize: number;
  private readonly now: () => Date;

  constructor(
    private readonly inventory: Inventory,
    readonly region: string,
    readonly account: string,
    options: SimulatedAccountOptions,
  ) {
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.now = options.now ?? (() => new Date());
  }

  private limit(maxResults: number | undefined): number {
    return Math.min(maxResults ?? this.pageSize, this.pageSize);
  }

  /** Describe one EC2 type: by ids (all or NotFound), or paginated, both through the filters. */
  private async describe<T extends SimulatedType>(
    type: T,
    command: string,
    input: Input,
    idsField: string,
  ): Promise<{ items: Of<T>[]; NextToken?: string }> {
    const accept = matcher(input.Filters as Filter[] | undefined, command);
    const ids = strings(input[idsField]);
    if (ids?.length) return { items: (await this.inventory.getAll(type, ids)).filter(accept) };
    const page = await this.inventory.page(type, {
      after: decodeToken(str(input.NextToken), 'InvalidPaginationToken'),
      limit: this.limit(num(input.MaxResults)),
      keep: accept,
    });
    return { items: page.items, NextToken: encodeToken(page.next) };
  }

  private ownedBySelf(owners: string[] | undefined): boolean {
    return !owners?.length || owners.some((owner) => owner === 'self' || owner === this.account);
  }

  private logGroupArn(name: string): string {
    return `arn:aws:logs:${this.region}:${this.account}:log-group:${name}`;
  }

  /** The group named by a tagging ARN (without `:*`, as the tagging APIs require). */
  private groupNameOf(arn: string | undefined): string {
    const match = /^arn:[\w-]+:logs:([\w-]+):(\d{12}):log-group:(.+)$/.exec(arn ?? '');
    if (!match) throw fail('InvalidParameterException', `Invalid resource ARN: ${arn}`);
    const [, region, account, name = ''] = match;
    if (name.endsWith(':*')) {
      throw fail('InvalidParameterException', `Use the log group ARN without the trailing :* (${arn})`);
    }
    if (region !== this.region || account !== this.account) throw NOT_FOUND['log-group'](name);
    return name;
  }

  /** Tag changes on any EC2 resource id; every id must exist (AWS checks them all first). */
  private async ec2Tags(input: Input, change: (tags: Tag[]) => Parameters<Inventory['update']>[2]) {
    const ids = strings(input.Resources) ?? [];
    const tags = (input.Tags as Tag[] | undefined) ?? [];
    for (const id of ids) await this.inventory.vanishIfArmed(ec2TypeOf(id), id);
    for (const id of ids) await this.inventory.getAll(ec2TypeOf(id), [id]);
    for (const id of ids) {
      const type = ec2TypeOf(id);
      await this.inventory.update(type, id, change(tags), () => NOT_FOUND[type](id));
    }
    return {};
  }

  readonly ec2: Record<string, Handler> = {
    DescribeInstances: async (input) => {
      const { items, NextToken } = await this.describe(
        'ec2-instance',
        'DescribeInstances',
        input,
        'InstanceIds',
      );
      const Reservations = items.map((i) => ({
        ReservationId: `r-${i.id.slice(2)}`,
        OwnerId: this.account,
        Instances: [
          {
            InstanceId: i.id,
            InstanceType: i.instanceType,
            State: instanceState(i.state),
            LaunchTime: new Date(i.launchTime),
            Placement: { AvailabilityZone: `${this.region}a` },
            Tags: toTags(i.tags),
          },
        ],
      }));
      return { Reservations, NextToken };
    },

    StopInstances: async (input) => this.changeInstances(input, 'stopped'),
    TerminateInstances: async (input) => this.changeInstances(input, 'terminated'),

    DescribeVolumes: async (input) => {
      const { items, NextToken } = await this.describe('ebs-volume', 'DescribeVolumes', input, 'VolumeIds');
      const Volumes = items.map((v) => ({
        VolumeId: v.id,
        OwnerId: this.account,
        Size: v.sizeGiB,
        VolumeType: v.volumeType,
        ...(v.iops === null ? {} : { Iops: v.iops }),
        State: v.state,
        CreateTime: new Date(v.createdAt),
        AvailabilityZone: `${this.region}a`,
        Encrypted: false,
        Attachments: v.attachedTo
          ? [{ VolumeId: v.id, InstanceId: v.attachedTo, Device: '/dev/sdf', State: 'attached' }]
          : [],
        Tags: toTags(v.tags),
      }));
      return { Volumes, NextToken };
    },

    DeleteVolume: async (input) => {
      const id = str(input.VolumeId) ?? '';
      await this.inventory.vanishIfArmed('ebs-volume', id);
      await this.inventory.remove(
        'ebs-volume',
        id,
        {
          expression: '#state = :available',
          names: { '#state': 'state' },
          values: { ':available': 'available' },
        },
        (current) =>
          current
            ? fail(
                'VolumeInUse',
                `Volume ${id} is currently attached to ${current.attachedTo ?? 'an instance'}`,
              )
            : NOT_FOUND['ebs-volume'](id),
      );
      return {};
    },

    CreateSnapshot: async (input) => {
      const volumeId = str(input.VolumeId) ?? '';
      await this.inventory.vanishIfArmed('ebs-volume', volumeId);
      const [volume] = await this.inventory.getAll('ebs-volume', [volumeId]);
      const specs = (input.TagSpecifications as { ResourceType?: string; Tags?: Tag[] }[] | undefined) ?? [];
      const tags: Record<string, string> = {};
      for (const spec of specs.filter((s) => s.ResourceType === 'snapshot')) {
        for (const { Key, Value } of spec.Tags ?? []) if (Key !== undefined) tags[Key] = Value ?? '';
      }
      checkTagKeys(Object.keys(tags), 'InvalidParameterValue');
      const now = this.now();
      const snapshot: Of<'ebs-snapshot'> = {
        type: 'ebs-snapshot',
        id: newId('snap'),
        tags,
        state: 'pending',
        sizeGiB: volume?.sizeGiB ?? 0,
        startedAt: now.toISOString(),
        volumeId,
        completesAt: new Date(now.getTime() + 1000).toISOString(),
        ...(str(input.Description) ? { description: str(input.Description) } : {}),
      };
      await this.inventory.create(snapshot);
      return { ...this.snapshotOutput(snapshot), State: 'pending' };
    },

    DescribeSnapshots: async (input) => {
      if (!this.ownedBySelf(strings(input.OwnerIds))) return { Snapshots: [] };
      const { items, NextToken } = await this.describe(
        'ebs-snapshot',
        'DescribeSnapshots',
        input,
        'SnapshotIds',
      );
      return { Snapshots: items.map((s) => this.snapshotOutput(s)), NextToken };
    },

    DeleteSnapshot: async (input) => {
      const id = str(input.SnapshotId) ?? '';
      await this.inventory.vanishIfArmed('ebs-snapshot', id);
      const [image] = await this.inventory.all('ec2-image', (i) => i.snapshotIds.includes(id));
      if (image) throw fail('InvalidSnapshot.InUse', `The snapshot ${id} is currently in use by ${image.id}`);
      await this.inventory.remove('ebs-snapshot', id, {}, () => NOT_FOUND['ebs-snapshot'](id));
      return { Return: true };
    },

    DescribeImages: async (input) => {
      if (!this.ownedBySelf(strings(input.Owners))) return { Images: [] };
      const { items, NextToken } = await this.describe('ec2-image', 'DescribeImages', input, 'ImageIds');
      const Images = items.map((image) => ({
        ImageId: image.id,
        Name: image.name,
        OwnerId: this.account,
        State: 'available',
        ImageType: 'machine',
        Public: false,
        CreationDate: image.createdAt,
        BlockDeviceMappings: image.snapshotIds.map((SnapshotId, i) => ({
          DeviceName: i === 0 ? '/dev/xvda' : `/dev/sd${String.fromCharCode(102 + i)}`,
          Ebs: { SnapshotId, DeleteOnTermination: true },
        })),
        Tags: toTags(image.tags),
      }));
      return { Images, NextToken };
    },

    DescribeAddresses: async (input) => {
      // DescribeAddresses does not paginate: every matching address in one answer.
      const keep = matcher(input.Filters as Filter[] | undefined, 'DescribeAddresses');
      const ids = strings(input.AllocationIds);
      const items = ids?.length
        ? (await this.inventory.getAll('elastic-ip', ids)).filter(keep)
        : await this.inventory.all('elastic-ip', keep);
      const Addresses = items.map((a) => ({
        AllocationId: a.id,
        PublicIp: a.publicIp,
        Domain: 'vpc',
        PublicIpv4Pool: 'amazon',
        NetworkBorderGroup: this.region,
        ...(a.associatedWith
          ? { AssociationId: `eipassoc-0${hex(a.id)}`, InstanceId: a.associatedWith }
          : {}),
        Tags: toTags(a.tags),
      }));
      return { Addresses };
    },

    ReleaseAddress: async (input) => {
      const id = str(input.AllocationId);
      if (!id) throw new UnsupportedBySimulatedAccount('ReleaseAddress', 'only by AllocationId');
      await this.inventory.vanishIfArmed('elastic-ip', id);
      await this.inventory.remove(
        'elastic-ip',
        id,
        { expression: 'attribute_not_exists(#assoc)', names: { '#assoc': 'associatedWith' } },
        (current) =>
          current
            ? fail(
                'InvalidIPAddress.InUse',
                `Address ${current.publicIp} is associated with ${current.associatedWith}`,
              )
            : NOT_FOUND['elastic-ip'](id),
      );
      return {};
    },

    CreateTags: async (input) => {
      checkTagKeys(
        ((input.Tags as Tag[] | undefined) ?? []).map((t) => t.Key ?? ''),
        'InvalidParameterValue',
      );
      return this.ec2Tags(input, (tags) => ({
        setTags: Object.fromEntries(tags.map((t) => [t.Key ?? '', t.Value ?? ''])),
      }));
    },

    DeleteTags: async (input) => {
      const tags = (input.Tags as Tag[] | undefined) ?? [];
      if (tags.some((t) => t.Value !== undefined)) {
        throw new UnsupportedBySimulatedAccount('DeleteTags', 'tags with a Value; give keys only');
      }
      if (!tags.length)
        throw new UnsupportedBySimulatedAccount('DeleteTags', 'without Tags (delete all tags)');
      return this.ec2Tags(input, () => ({ removeTags: tags.map((t) => t.Key ?? '') }));
    },
  };

  readonly logs: Record<string, Handler> = {
    DescribeLogGroups: async (input) => {
      const page = await this.inventory.page('log-group', {
        after: decodeToken(str(input.nextToken), 'InvalidParameterException'),
        limit: this.limit(num(input.limit)),
        keep: () => true,
        ...(str(input.logGroupNamePrefix) ? { prefix: str(input.logGroupNamePrefix) } : {}),
      });
      const logGroups = page.items.map((g) => ({
        logGroupName: g.id,
        creationTime: Date.parse(g.createdAt),
        ...(g.retentionDays === null ? {} : { retentionInDays: g.retentionDays }),
        storedBytes: g.storedBytes,
        metricFilterCount: 0,
        logGroupClass: 'STANDARD',
        arn: `${this.logGroupArn(g.id)}:*`,
        logGroupArn: this.logGroupArn(g.id),
      }));
      return { logGroups, nextToken: encodeToken(page.next) };
    },

    ListTagsForResource: async (input) => {
      const name = this.groupNameOf(str(input.resourceArn));
      const [group] = await this.inventory.getAll('log-group', [name]);
      return { tags: { ...group?.tags } };
    },

    TagResource: async (input) => {
      const name = this.groupNameOf(str(input.resourceArn));
      const tags = (input.tags as Record<string, string> | undefined) ?? {};
      checkTagKeys(Object.keys(tags), 'InvalidParameterException');
      await this.inventory.vanishIfArmed('log-group', name);
      await this.inventory.update('log-group', name, { setTags: tags }, () => NOT_FOUND['log-group'](name));
      return {};
    },

    UntagResource: async (input) => {
      const name = this.groupNameOf(str(input.resourceArn));
      await this.inventory.vanishIfArmed('log-group', name);
      await this.inventory.update('log-group', name, { removeTags: strings(input.tagKeys) ?? [] }, () =>
        NOT_FOUND['log-group'](name),
      );
      return {};
    },

    PutRetentionPolicy: async (input) => {
      const name = str(input.logGroupName) ?? '';
      const days = num(input.retentionInDays);
      if (days === undefined || !(LOG_RETENTION_DAYS as readonly number[]).includes(days)) {
        throw fail('InvalidParameterException', `Invalid retentionInDays: ${days}`);
      }
      await this.inventory.vanishIfArmed('log-group', name);
      await this.inventory.update('log-group', name, { set: { retentionDays: days } }, () =>
        NOT_FOUND['log-group'](name),
      );
      return {};
    },
  };

  readonly sts: Record<string, Handler> = {
    GetCallerIdentity: async () => ({
      Account: this.account,
      Arn: `arn:aws:sts::${this.account}:assumed-role/stepjobs-local/simulated`,
      UserId: 'AROASIMULATEDACCOUNT:simulated',
    }),
  };

  private snapshotOutput(s: Of<'ebs-snapshot'>): Record<string, unknown> {
    const completed =
      s.state === 'pending' && s.completesAt !== undefined && this.now() >= new Date(s.completesAt);
    const state = completed ? 'completed' : s.state;
    return {
      SnapshotId: s.id,
      VolumeId: s.volumeId,
      VolumeSize: s.sizeGiB,
      State: state,
      Progress: state === 'completed' ? '100%' : '0%',
      StartTime: new Date(s.startedAt),
      OwnerId: this.account,
      Encrypted: false,
      StorageTier: 'standard',
      ...(s.description ? { Description: s.description } : {}),
      Tags: toTags(s.tags),
    };
  }

  /** Stop or terminate: every id must exist; a terminated instance cannot be stopped. */
  private async changeInstances(input: Input, to: 'stopped' | 'terminated') {
    const ids = strings(input.InstanceIds) ?? [];
    for (const id of ids) await this.inventory.vanishIfArmed('ec2-instance', id);
    await this.inventory.getAll('ec2-instance', ids);
    const changes = [];
    for (const id of ids) {
      const before = await this.inventory.update(
        'ec2-instance',
        id,
        {
          set: { state: to },
          ...(to === 'stopped'
            ? {
                condition: {
                  expression: '#state IN (:running, :stopping, :stopped)',
                  names: { '#state': 'state' },
                  values: { ':running': 'running', ':stopping': 'stopping', ':stopped': 'stopped' },
                },
              }
            : {}),
        },
        (current) =>
          current
            ? fail(
                'IncorrectInstanceState',
                `The instance '${id}' is not in a state from which it can be stopped.`,
              )
            : NOT_FOUND['ec2-instance'](id),
      );
      const previous = before.state;
      const current =
        to === 'stopped'
          ? previous === 'stopped'
            ? 'stopped'
            : 'stopping'
          : previous === 'terminated'
            ? 'terminated'
            : 'shutting-down';
      changes.push({
        InstanceId: id,
        PreviousState: instanceState(previous),
        CurrentState: instanceState(current),
      });
    }
    if (to === 'terminated') for (const id of ids) await this.detachFrom(id);
    return to === 'stopped' ? { StoppingInstances: changes } : { TerminatingInstances: changes };
  }

  /** A terminated instance lets go of its Elastic IPs and (non-root) volumes, as EC2 does. */
  private async detachFrom(instanceId: string): Promise<void> {
    for (const address of await this.inventory.all('elastic-ip', (a) => a.associatedWith === instanceId)) {
      await this.inventory.update('elastic-ip', address.id, { remove: ['associatedWith'] }, () =>
        NOT_FOUND['elastic-ip'](address.id),
      );
    }
    for (const volume of await this.inventory.all('ebs-volume', (v) => v.attachedTo === instanceId)) {
      await this.inventory.update(
        'ebs-volume',
        volume.id,
        { set: { state: 'available' }, remove: ['attachedTo'] },
        () => NOT_FOUND['ebs-volume'](volume.id),
      );
    }
  }
}

function hex(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The shape of a client's middleware stack this module needs (every SDK v3 client has it). */
interface Stackable {
  middlewareStack: {
    add(
      middleware: (
        next: unknown,
        context: { commandName?: string },
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
}

/** Answer every command of `client` with `handlers`, in-process, at the first middleware step. */
function answerInProcess<C>(client: C, service: string, handlers: Record<string, Handler>): C {
  (client as unknown as Stackable).middlewareStack.add(
    (_next, context) => async (args) => {
      const command = (context.commandName ?? 'an unnamed command').replace(/Command$/, '');
      const handler = handlers[command];
      if (!handler) throw new UnsupportedBySimulatedAccount(`${service} ${command}`);
      const output = await handler((args.input ?? {}) as Input);
      return {
        output: {
          $metadata: { httpStatusCode: 200, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 },
          ...output,
        },
        response: {},
      };
    },
    { step: 'initialize', name: 'stepjobsSimulatedAccount', priority: 'high' },
  );
  return client;
}

function documentClient(dynamo: DynamoDBClient | DynamoDBDocumentClient): DynamoDBDocumentClient {
  if (dynamo instanceof DynamoDBDocumentClient) return dynamo;
  return DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** Credentials the clients never use (nothing is signed), set so the SDK never looks for real ones. */
const NO_CREDENTIALS = { accessKeyId: 'simulated', secretAccessKey: 'simulated' };

/**
 * Clients for the simulated account whose inventory is in `tableName`. Real SDK client instances: every
 * command is answered in-process from the table, and nothing is sent anywhere.
 */
export function simulatedClients(
  dynamo: DynamoDBClient | DynamoDBDocumentClient,
  tableName: string,
  region = 'us-east-1',
  account = '000000000000',
  options: SimulatedAccountOptions = {},
): Clients {
  const simulated = new SimulatedAccount(
    new Inventory(documentClient(dynamo), tableName),
    region,
    account,
    options,
  );
  const config = { region, credentials: NO_CREDENTIALS, maxAttempts: 1 };
  return {
    ec2: answerInProcess(new EC2Client(config), 'EC2', simulated.ec2),
    logs: answerInProcess(new CloudWatchLogsClient(config), 'CloudWatchLogs', simulated.logs),
    sts: answerInProcess(new STSClient(config), 'STS', simulated.sts),
  };
}

const ACTIVE_POLL_MS = 10;
const ACTIVE_TIMEOUT_MS = 30_000;

/** Create the inventory table unless it exists, and wait until it is ACTIVE (dynalite, too, creates lazily). */
export async function ensureSimulatedAccountTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const attribute = (AttributeName: string) => ({ AttributeName, AttributeType: 'S' as const });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [attribute('type'), attribute('id')],
        KeySchema: [
          { AttributeName: 'type', KeyType: 'HASH' },
          { AttributeName: 'id', KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') {
      throw new StepJobsError(`Could not create the simulated account table ${tableName}`, { cause: error });
    }
  }
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) {
      throw new StepJobsError(
        `Table ${tableName} is still ${Table?.TableStatus} after ${ACTIVE_TIMEOUT_MS} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, ACTIVE_POLL_MS));
  }
}

/**
 * Write `resources` into the inventory (batched; a resource already there is replaced). The table must exist:
 * {@link ensureSimulatedAccountTable}.
 */
export async function seedSimulatedAccount(
  dynamo: DynamoDBClient | DynamoDBDocumentClient,
  tableName: string,
  resources: readonly SimulatedResource[],
): Promise<void> {
  const seen = new Set<string>();
  for (const resource of resources) {
    const key = `${resource.type}#${resource.id}`;
    if (seen.has(key)) throw new StepJobsError(`The seed lists ${resource.type} ${resource.id} twice`);
    seen.add(key);
  }
  const doc = documentClient(dynamo);
  for (let i = 0; i < resources.length; i += DYNAMO_BATCH) {
    let requests: Record<string, unknown>[] | undefined = resources
      .slice(i, i + DYNAMO_BATCH)
      .map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests?.length; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests as never } }));
      requests = out.UnprocessedItems?.[tableName] as Record<string, unknown>[] | undefined;
    }
  }
}

/** The whole inventory as stored now (every type, in type and id order), for tests and local reports. */
export async function readSimulatedAccount(
  dynamo: DynamoDBClient | DynamoDBDocumentClient,
  tableName: string,
): Promise<SimulatedResource[]> {
  const inventory = new Inventory(documentClient(dynamo), tableName);
  const types: SimulatedType[] = [
    'ec2-instance',
    'ebs-volume',
    'ebs-snapshot',
    'elastic-ip',
    'log-group',
    'ec2-image',
  ];
  return (await Promise.all(types.map((type) => inventory.all(type)))).flat();
}
