// What `sigrelease status` says about a run's pipeline turn, without a server.
import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/cli/format.js';
import type { ReleaseStatus } from '../../workflows/messages.js';

const base: ReleaseStatus = {
  release: '9',
  sig: 'core',
  stage: 'validating',
  stageSince: '2026-11-30T02:00:05.000Z',
  composeWorkflowId: null,
  compose: null,
  stagingPreview: null,
  productionPreview: null,
  decision: null,
  remindersSent: 0,
  approvalDeadline: null,
  error: null,
  warnings: [],
};
const holder = { workflowId: 'sigrelease-core-9', runId: 'run-1', since: '2026-11-29T10:00:00.000Z' };
const turnWorkflowId = 'sigrelease-pipeline@/srv/compose/core/9';

describe('status of a run\'s pipeline turn', () => {
  it('says a holding run keeps other runs of its SIG and release out', () => {
    const text = formatStatus({ ...base, stage: 'awaiting-approval', pipelineTurn: { turnWorkflowId, state: 'held' } });
    expect(text).toContain(`holds the pipeline turn of core 9 (${turnWorkflowId})`);
  });

  it('names the run holding the turn when this one was refused or skipped', () => {
    expect(formatStatus({ ...base, stage: 'failed', pipelineTurn: { turnWorkflowId, state: 'refused', holder } })).toContain(
      'refused: another pipeline of core 9 holds the turn: workflow sigrelease-core-9 (run run-1, since 2026-11-29T10:00:00.000Z)',
    );
    expect(formatStatus({ ...base, stage: 'skipped', pipelineTurn: { turnWorkflowId, state: 'skipped', holder } })).toContain('skipped: another pipeline of core 9 holds the turn: workflow sigrelease-core-9');
  });

  it('says nothing of a turn for runs that have none (dry runs, runs begun before turns)', () => {
    expect(formatStatus(base)).not.toContain('turn');
  });
});
