/** Job-specific run summaries, printed after the generic one. A job without an entry gets the generic one only. */
import type { ActionRecord } from '../../shared/ledger/items';
import type { RunDetail } from '../../shared/ledger/runs-repository';
import { digestReportText } from './digest-report';
import { releaseReportText } from './release-report';
import type { Target } from './target';
import { actionsOf } from '../../shared/ledger/actions-repository';

type Reporter = (target: Target, detail: RunDetail) => Promise<string>;

export const jobReports: Readonly<Record<string, Reporter>> = {
  'release-idle-resources': async (target, detail) => {
    const actions: ActionRecord[] = [];
    for await (const action of actionsOf(target.ledger).allByRun(detail.run.runId)) actions.push(action);
    return releaseReportText(detail, actions);
  },
  'audit-digest': async (_target, detail) => digestReportText(detail),
};
