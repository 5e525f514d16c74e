/** What every simulated service shares: the inventory, where the account is, and how long its pages are. */
import type { Inventory } from './inventory';

export interface SimulatedAccountOptions {
  /** Items per page of every list call, whatever MaxResults asks for (AWS may return fewer). @default 5 */
  pageSize?: number;
  /** Clock for what the simulation creates (snapshot start times). @default the system clock */
  now?: () => Date;
}

const DEFAULT_PAGE_SIZE = 5;

/** A service of the account: its commands are answered from the inventory (each subclass names them). */
export abstract class SimulatedService {
  protected readonly pageSize: number;
  protected readonly now: () => Date;

  constructor(
    protected readonly inventory: Inventory,
    readonly region: string,
    readonly account: string,
    options: SimulatedAccountOptions,
  ) {
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.now = options.now ?? (() => new Date());
  }

  protected limit(maxResults: number | undefined): number {
    return Math.min(maxResults ?? this.pageSize, this.pageSize);
  }
}
