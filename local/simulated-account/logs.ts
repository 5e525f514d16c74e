/** The simulated CloudWatch Logs: the commands the log group adapter sends, answered from the inventory. */
import { LOG_RETENTION_DAYS } from '../../tasks/release/input';
import { fail, NOT_FOUND } from './errors';
import { checkTagKeys, decodeToken, encodeToken, num, str, strings, type Handler } from './requests';
import { SimulatedService } from './service';

/** The CloudWatch Logs commands the log group adapter sends. */
export class SimulatedLogs extends SimulatedService {
  private logGroupArn(name: string): string {
    return `arn:aws:logs:${this.region}:${this.account}:log-group:${name}`;
  }

  /** The group named by a tagging ARN (without `:*`, as the tagging APIs require). */
  groupNameOf(arn: string | undefined): string {
    const match = /^arn:[\w-]+:logs:([\w-]+):(\d{12}):log-group:(.+)$/.exec(arn ?? '');
    if (!match) throw fail('InvalidParameterException', `Invalid resource ARN: ${arn}`);
    const [, region, account, name = ''] = match;
    if (name.endsWith(':*')) {
      throw fail('InvalidParameterException', `Use the log group ARN without the trailing :* (${arn})`);
    }
    if (region !== this.region || account !== this.account) throw NOT_FOUND['log-group'](name);
    return name;
  }

  readonly handlers: Record<string, Handler> = {
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
}
