import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { buildApp } from '../../stacks/build-app';
import { SKIP_BUNDLING } from './synth';

/** Every `Validations.of(x).acknowledge(...)` in the app: where, which finding, and why. */
function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          // aws-cdk-lib records acknowledgements without a plugin prefix as annotations.
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

const { app } = buildApp({ context: SKIP_BUNDLING });

const packs = () => [new AwsSolutionsChecks(), new ServerlessChecks()];

test('the app synthesizes with the AwsSolutions and Serverless checks registered (an unacknowledged finding fails synth)', () => {
  expect(() => app.synth()).not.toThrow();
});

test.each(packs().map((pack) => [pack.constructor.name, pack] as const))(
  'no unacknowledged %s finding, errors and warnings alike',
  (_name, pack) => {
    const report = pack.validateScope(app);
    const findings = report.violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
    );
    expect(findings).toEqual([]);
  },
);

test('every acknowledgement gives a specific reason', () => {
  const acks = acknowledgements(app);
  expect(acks.length).toBeGreaterThan(0);
  for (const ack of acks) {
    expect(ack.id).toMatch(/^(AwsSolutions-[A-Z]+\d+|Serverless-[A-Za-z]+)(\[.+\])?$/);
    // A sentence that explains, not "OK" or "suppressed".
    expect(ack.reason.trim().length).toBeGreaterThanOrEqual(60);
  }
});

test('every acknowledgement matches a finding it suppresses (none is stale)', () => {
  const raw = packs().flatMap((pack) => {
    // Report everything, acknowledged or not, to see what each acknowledgement is for.
    Object.assign(pack, { isAcknowledged: () => false });
    return pack
      .validateScope(app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => ({ id: v.ruleName, path: r.constructPath })),
      );
  });
  const stale = acknowledgements(app).filter(
    (ack) => !raw.some((finding) => finding.id === ack.id && `${finding.path}/`.startsWith(`${ack.path}/`)),
  );
  expect(stale).toEqual([]);
});
