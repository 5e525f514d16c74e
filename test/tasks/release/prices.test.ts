import {
  EC2_HOURLY_USD,
  HOURS_PER_MONTH,
  ebsSnapshotMonthlyUsd,
  ebsVolumeMonthlyUsd,
  ec2HourlyUsd,
  ec2InstanceMonthlyUsd,
  logStorageMonthlyUsd,
  publicIpv4MonthlyUsd,
  roundCents,
} from '../../../tasks/release/prices';

describe('EC2 prices', () => {
  it('prices an instance for a 730-hour month at its hourly list price, rounded to cents', () => {
    expect(HOURS_PER_MONTH).toBe(730);
    expect(ec2HourlyUsd('t3.micro')).toBe(0.0104);
    expect(ec2InstanceMonthlyUsd('t3.micro')).toBe(7.59); // 0.0104 × 730 = 7.592
    expect(ec2InstanceMonthlyUsd('m5.large')).toBe(70.08); // 0.096 × 730
    expect(ec2InstanceMonthlyUsd('m7g.large')).toBe(59.57); // 0.0816 × 730 = 59.568
  });

  it('knows nothing about a type not in the table, rather than guessing', () => {
    expect(ec2HourlyUsd('x9.mega')).toBeNull();
    expect(ec2InstanceMonthlyUsd('p5.48xlarge')).toBeNull();
    // Own keys only: a type named like an Object.prototype member is just unknown.
    expect(ec2HourlyUsd('constructor')).toBeNull();
    expect(ec2HourlyUsd('toString')).toBeNull();
  });

  it('lists every size of the common families', () => {
    const sizes = (family: string, list: string[]) => list.map((size) => `${family}.${size}`);
    const burstable = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge'];
    const expected = [
      ...['t2', 't3', 't3a', 't4g'].flatMap((f) => sizes(f, burstable)),
      ...['m5', 'm6i', 'm6g', 'm7g', 'c5', 'c6i', 'c6g', 'c7g'].flatMap((f) =>
        sizes(f, ['large', 'xlarge', '2xlarge', '4xlarge']),
      ),
      ...['r5', 'r6i', 'r6g'].flatMap((f) => sizes(f, ['large', 'xlarge', '2xlarge'])),
    ];
    expect(Object.keys(EC2_HOURLY_USD).sort()).toEqual(expected.sort());
  });

  it('roughly doubles from one size to the next within a family (a typo catcher)', () => {
    const order = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge', '4xlarge'];
    const byFamily = new Map<string, { rank: number; price: number }[]>();
    for (const [type, price] of Object.entries(EC2_HOURLY_USD)) {
      const [family = '', size = ''] = type.split('.');
      byFamily.set(family, [...(byFamily.get(family) ?? []), { rank: order.indexOf(size), price }]);
    }
    for (const [family, entries] of byFamily) {
      const sorted = entries.sort((a, b) => a.rank - b.rank);
      for (let i = 1; i < sorted.length; i += 1) {
        const ratio = (sorted[i]?.price ?? 0) / (sorted[i - 1]?.price ?? 1);
        expect({ family, step: i, doubles: ratio > 1.95 && ratio < 2.05 }).toEqual({
          family,
          step: i,
          doubles: true,
        });
      }
    }
  });
});

describe('EBS prices', () => {
  it('prices storage per GB-month by volume type', () => {
    expect(ebsVolumeMonthlyUsd({ volumeType: 'gp3', sizeGiB: 100, iops: 3000 })).toBe(8);
    expect(ebsVolumeMonthlyUsd({ volumeType: 'gp2', sizeGiB: 100, iops: 300 })).toBe(10);
    expect(ebsVolumeMonthlyUsd({ volumeType: 'st1', sizeGiB: 500, iops: null })).toBe(22.5);
    expect(ebsVolumeMonthlyUsd({ volumeType: 'sc1', sizeGiB: 1000, iops: null })).toBe(15);
    expect(ebsVolumeMonthlyUsd({ volumeType: 'standard', sizeGiB: 10, iops: null })).toBe(0.5);
  });

  it('adds provisioned IOPS: flat for io1, tiered for io2, and above the included 3,000 for gp3', () => {
    // 100 × 0.125 + 1,000 × 0.065
    expect(ebsVolumeMonthlyUsd({ volumeType: 'io1', sizeGiB: 100, iops: 1000 })).toBe(77.5);
    expect(ebsVolumeMonthlyUsd({ volumeType: 'io2', sizeGiB: 100, iops: 1000 })).toBe(77.5);
    // 32,000 × 0.065 + 8,000 × 0.0455 = 2,080 + 364, plus 12.50 of storage
    expect(ebsVolumeMonthlyUsd({ volumeType: 'io2', sizeGiB: 100, iops: 40_000 })).toBe(2456.5);
    // ... + 32,000 × 0.0455 + 6,000 × 0.032 = 2,080 + 1,456 + 192
    expect(ebsVolumeMonthlyUsd({ volumeType: 'io2', sizeGiB: 100, iops: 70_000 })).toBe(3740.5);
    expect(ebsVolumeMonthlyUsd({ volumeType: 'gp3', sizeGiB: 100, iops: 4000 })).toBe(13); // 8 + 1,000 × 0.005
    // gp2's iops are a baseline that comes with the size, not a charge.
    expect(ebsVolumeMonthlyUsd({ volumeType: 'gp2', sizeGiB: 100, iops: 16_000 })).toBe(10);
  });

  it('has no estimate for a volume type it does not know', () => {
    expect(ebsVolumeMonthlyUsd({ volumeType: 'gp9', sizeGiB: 100, iops: null })).toBeNull();
  });

  it('prices a snapshot at the standard tier as if it held every block', () => {
    expect(ebsSnapshotMonthlyUsd(100)).toBe(5);
    expect(ebsSnapshotMonthlyUsd(8)).toBe(0.4);
  });
});

describe('other prices', () => {
  it('charges a public IPv4 address 0.005 an hour: an idle Elastic IP is 3.65 a month', () => {
    expect(publicIpv4MonthlyUsd()).toBe(3.65);
  });

  it('prices CloudWatch Logs storage per GB (10^9 bytes) at 0.03', () => {
    expect(logStorageMonthlyUsd(1e9)).toBe(0.03);
    expect(logStorageMonthlyUsd(5e9)).toBe(0.15);
    expect(logStorageMonthlyUsd(250e9)).toBe(7.5);
    expect(logStorageMonthlyUsd(0)).toBe(0);
  });
});

describe('roundCents', () => {
  it('rounds half away from zero despite binary floating point, and never returns -0', () => {
    expect(roundCents(7.592)).toBe(7.59);
    expect(roundCents(1.005)).toBe(1.01);
    expect(roundCents(-1.005)).toBe(-1.01);
    expect(roundCents(0.1 + 0.2)).toBe(0.3);
    expect(Object.is(roundCents(-0.001), 0)).toBe(true);
  });
});
