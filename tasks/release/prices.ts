/**
 * Static price table for the release job's *estimated* monthly savings.
 *
 * ESTIMATE ONLY. These are AWS public on-demand LIST prices for us-east-1 (N. Virginia), Linux, shared
 * tenancy, in USD, as known in June 2026. They are not fetched live: no discounts (Savings Plans, Reserved
 * Instances, Spot, credits, free tier), no other region, no Windows or licensed images. A table in code keeps
 * the plan pure and deterministic and needs no Pricing API permission; the cost is that it ages. Verify
 * against https://aws.amazon.com/ec2/pricing/on-demand/ and https://aws.amazon.com/ebs/pricing/ before
 * quoting a figure anywhere that matters.
 *
 * Every function returns USD per month, rounded to cents, with a month of {@link HOURS_PER_MONTH} hours.
 */

/** AWS's billing convention for a month: 24 × 365 / 12. */
export const HOURS_PER_MONTH = 730;

/** EC2 on-demand hourly price by instance type (us-east-1, Linux, June 2026). A type not listed has no estimate. */
export const EC2_HOURLY_USD: Readonly<Record<string, number>> = {
  // Burstable, Intel (previous generation, still common).
  't2.nano': 0.0058,
  't2.micro': 0.0116,
  't2.small': 0.023,
  't2.medium': 0.0464,
  't2.large': 0.0928,
  't2.xlarge': 0.1856,
  't2.2xlarge': 0.3712,
  // Burstable, Intel.
  't3.nano': 0.0052,
  't3.micro': 0.0104,
  't3.small': 0.0208,
  't3.medium': 0.0416,
  't3.large': 0.0832,
  't3.xlarge': 0.1664,
  't3.2xlarge': 0.3328,
  // Burstable, AMD.
  't3a.nano': 0.0047,
  't3a.micro': 0.0094,
  't3a.small': 0.0188,
  't3a.medium': 0.0376,
  't3a.large': 0.0752,
  't3a.xlarge': 0.1504,
  't3a.2xlarge': 0.3008,
  // Burstable, Graviton2.
  't4g.nano': 0.0042,
  't4g.micro': 0.0084,
  't4g.small': 0.0168,
  't4g.medium': 0.0336,
  't4g.large': 0.0672,
  't4g.xlarge': 0.1344,
  't4g.2xlarge': 0.2688,
  // General purpose.
  'm5.large': 0.096,
  'm5.xlarge': 0.192,
  'm5.2xlarge': 0.384,
  'm5.4xlarge': 0.768,
  'm6i.large': 0.096,
  'm6i.xlarge': 0.192,
  'm6i.2xlarge': 0.384,
  'm6i.4xlarge': 0.768,
  'm6g.large': 0.077,
  'm6g.xlarge': 0.154,
  'm6g.2xlarge': 0.308,
  'm6g.4xlarge': 0.616,
  'm7g.large': 0.0816,
  'm7g.xlarge': 0.1632,
  'm7g.2xlarge': 0.3264,
  'm7g.4xlarge': 0.6528,
  // Compute optimized.
  'c5.large': 0.085,
  'c5.xlarge': 0.17,
  'c5.2xlarge': 0.34,
  'c5.4xlarge': 0.68,
  'c6i.large': 0.085,
  'c6i.xlarge': 0.17,
  'c6i.2xlarge': 0.34,
  'c6i.4xlarge': 0.68,
  'c6g.large': 0.068,
  'c6g.xlarge': 0.136,
  'c6g.2xlarge': 0.272,
  'c6g.4xlarge': 0.544,
  'c7g.large': 0.0725,
  'c7g.xlarge': 0.145,
  'c7g.2xlarge': 0.29,
  'c7g.4xlarge': 0.58,
  // Memory optimized.
  'r5.large': 0.126,
  'r5.xlarge': 0.252,
  'r5.2xlarge': 0.504,
  'r6i.large': 0.126,
  'r6i.xlarge': 0.252,
  'r6i.2xlarge': 0.504,
  'r6g.large': 0.1008,
  'r6g.xlarge': 0.2016,
  'r6g.2xlarge': 0.4032,
};

/** EBS storage, USD per provisioned GB-month, by volume type (us-east-1). */
export const EBS_GB_MONTH_USD: Readonly<Record<string, number>> = {
  gp3: 0.08,
  gp2: 0.1,
  io1: 0.125,
  io2: 0.125,
  st1: 0.045,
  sc1: 0.015,
  /** Magnetic (previous generation); its per-I/O charge is usage-based and left out. */
  standard: 0.05,
};

/**
 * Provisioned IOPS, USD per IOPS-month. io1 is flat. io2 is tiered (cheaper above 32,000 and 64,000 IOPS).
 * gp3 includes 3,000 IOPS and charges for the rest; its provisioned throughput above 125 MB/s is not in the
 * facts and so not in the estimate.
 */
export const EBS_IOPS_MONTH_USD = {
  io1: 0.065,
  io2: [
    { upTo: 32_000, usd: 0.065 },
    { upTo: 64_000, usd: 0.0455 },
    { upTo: Infinity, usd: 0.032 },
  ],
  gp3: { included: 3_000, usd: 0.005 },
} as const;

/** EBS snapshots, standard tier, USD per GB-month of stored snapshot data. */
export const EBS_SNAPSHOT_GB_MONTH_USD = 0.05;

/** Public IPv4 address, USD per hour, whether attached or idle (since February 2024). */
export const PUBLIC_IPV4_HOURLY_USD = 0.005;

/** CloudWatch Logs archived storage, USD per GB-month (compressed bytes, which is what `storedBytes` reports). */
export const LOGS_STORAGE_GB_MONTH_USD = 0.03;

/**
 * Round USD to cents, half away from zero. The epsilon keeps products like 1.005 (stored as 1.00499...) from
 * rounding down through binary floating point; a negative saving rounds like its positive; never returns -0.
 */
export function roundCents(usd: number): number {
  const magnitude = Math.abs(usd);
  const cents = Math.round((magnitude + Number.EPSILON * Math.max(1, magnitude)) * 100) / 100;
  return usd < 0 && cents !== 0 ? -cents : cents;
}

/** Hourly on-demand price of an EC2 instance type, or null when the table does not know it. */
export function ec2HourlyUsd(instanceType: string): number | null {
  return Object.hasOwn(EC2_HOURLY_USD, instanceType) ? (EC2_HOURLY_USD[instanceType] ?? null) : null;
}

/** An instance running all month, or null for a type the table does not know. Compute only: no EBS, no IPv4. */
export function ec2InstanceMonthlyUsd(instanceType: string): number | null {
  const hourly = ec2HourlyUsd(instanceType);
  return hourly === null ? null : roundCents(hourly * HOURS_PER_MONTH);
}

function provisionedIopsMonthlyUsd(volumeType: string, iops: number | null): number {
  if (iops === null || iops <= 0) return 0;
  if (volumeType === 'io1') return iops * EBS_IOPS_MONTH_USD.io1;
  if (volumeType === 'gp3') {
    const { included, usd } = EBS_IOPS_MONTH_USD.gp3;
    return Math.max(0, iops - included) * usd;
  }
  if (volumeType === 'io2') {
    let total = 0;
    let from = 0;
    for (const tier of EBS_IOPS_MONTH_USD.io2) {
      if (iops <= from) break;
      total += (Math.min(iops, tier.upTo) - from) * tier.usd;
      from = tier.upTo;
    }
    return total;
  }
  // gp2, st1, sc1 and standard have no provisioned IOPS; their `iops` is a baseline, not a charge.
  return 0;
}

/**
 * A volume for a month: provisioned size, plus provisioned IOPS for io1, io2 and gp3 above its baseline.
 * Null for a volume type the table does not know.
 */
export function ebsVolumeMonthlyUsd(volume: {
  volumeType: string;
  sizeGiB: number;
  iops: number | null;
}): number | null {
  if (!Object.hasOwn(EBS_GB_MONTH_USD, volume.volumeType)) return null;
  const perGb = EBS_GB_MONTH_USD[volume.volumeType] ?? 0;
  return roundCents(volume.sizeGiB * perGb + provisionedIopsMonthlyUsd(volume.volumeType, volume.iops));
}

/**
 * A snapshot of `sizeGiB` stored for a month at the standard tier, as if it held every block. Snapshots are
 * incremental and store only written blocks, so for a real snapshot this is an upper bound.
 */
export function ebsSnapshotMonthlyUsd(sizeGiB: number): number {
  return roundCents(sizeGiB * EBS_SNAPSHOT_GB_MONTH_USD);
}

/** One public IPv4 address for a month: 0.005 × 730 = 3.65 USD. */
export function publicIpv4MonthlyUsd(): number {
  return roundCents(PUBLIC_IPV4_HOURLY_USD * HOURS_PER_MONTH);
}

/** CloudWatch Logs storage of `storedBytes` for a month (GB = 10^9 bytes, as AWS bills). */
export function logStorageMonthlyUsd(storedBytes: number): number {
  return roundCents((storedBytes / 1e9) * LOGS_STORAGE_GB_MONTH_USD);
}
