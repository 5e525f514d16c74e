import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
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

test('the app synthesizes with the AwsSolutions checks registered (an unacknowledged finding fails synth)', () => {
  expect(() => app.synth()).not.toThrow();
});

test('no unacknowledged AwsSolutions finding, errors and warnings alike', () => {
  const report = new AwsSolutionsChecks().validateScope(app);
  const findings = report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
  );
  expect(findings).toEqual([]);
});

test('every acknowledgement gives a specific reason', () => {
  const acks = acknowledgements(app);
  expect(acks.length).toBeGreaterThan(0);
  for (const ack of acks) {
    expect(ack.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
    // A sentence that explains, not "OK" or "suppressed".
    expect(ack.reason.trim().length).toBeGreaterThanOrEqual(60);
  }
});

test('every acknowledgement matches a finding it suppresses (none is stale)', () => {
  const pack = new AwsSolutionsChecks();
  // Report everything, acknowledged or not, to see what each acknowledgement is for.
  Object.assign(pack, { isAcknowledged: () => false });
  const raw = pack
    .validateScope(app)
    .violations.flatMap((v) => v.violatingResources.map((r) => ({ id: v.ruleName, path: r.constructPath })));
  const stale = acknowledgements(app).filter(
    (ack) => !raw.some((finding) => finding.id === ack.id && `${finding.path}/`.startsWith(`${ack.path}/`)),
  );
  expect(stale).toEqual([]);
});
