// The approval gate's rules without a server: who may decide and when, what is recorded, when reminders fall
// due and when the gate closes; and the workflow-side checks that go with them (runtime options, failures).
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { innermostMessage, isUnexpected } from '../../workflows/failures.js';
import { ApprovalGate, gateWakes, previewText, type RunView } from '../../workflows/gate.js';
import type { PreviewSummary } from '../../workflows/messages.js';
import { checkRuntimeOptions, runtimeOptionsProblem } from '../../workflows/runtimeOptions.js';

const counts = (files: number, bytes = files * 10) => ({ files, bytes });
const preview = (guard: PreviewSummary['guard'] = { ok: true }): PreviewSummary =>
  ({
    added: counts(2),
    changed: counts(1),
    deleted: counts(guard.ok ? 0 : 9),
    repos: { 'x86_64/core-common': { added: counts(2), changed: counts(1), deleted: counts(guard.ok ? 0 : 9) } },
    guard,
  }) as unknown as PreviewSummary;
const atGate = (p = preview()): RunView => ({ stage: 'awaiting-approval', productionPreview: p });

describe('ApprovalGate.refusal', () => {
  it('refuses a decision before the gate opens, naming the stage', () => {
    const gate = new ApprovalGate('core 9');
    for (const stage of ['validating', 'composing', 'staging'] as const) {
      expect(gate.refusal({ by: 'alice' }, true, { stage, productionPreview: null })).toBe(`core 9 is not waiting for approval (stage: ${stage})`);
    }
  });

  it('refuses a decision that does not say who decides', () => {
    const gate = new ApprovalGate('core 9');
    const want = 'say who decides: {"by": "<name>", "comment": "..."}';
    expect(gate.refusal(undefined, true, atGate())).toBe(want);
    expect(gate.refusal({ by: '   ' }, true, atGate())).toBe(want);
    expect(gate.refusal({ by: 42 } as never, false, atGate())).toBe(want);
  });

  it('refuses names outside the allowlist, and lets anyone who names themselves decide when the list is empty', () => {
    const gate = new ApprovalGate('core 9');
    expect(gate.refusal({ by: 'mallory' }, true, atGate())).toBeNull();
    gate.rules = { approvers: ['alice', 'bob'], allowLargeDeletion: false };
    expect(gate.refusal({ by: 'mallory' }, true, atGate())).toBe('"mallory" may not approve or reject core 9; allowed approvers: alice, bob');
    expect(gate.refusal({ by: ' alice ' }, true, atGate())).toBeNull();
    expect(gate.refusal({ by: 'bob' }, false, atGate())).toBeNull();
  });

  it('refuses an approval over a tripped deletion guard unless the decision or the request allows the deletion; a rejection is always possible', () => {
    const gate = new ApprovalGate('core 9');
    const tripped = atGate(preview({ ok: false, reason: 'would delete 9 of 10 files' }));
    expect(gate.refusal({ by: 'alice' }, true, tripped)).toBe(
      'the production preview tripped the deletion guard; approve with allowLargeDeletion: true if these deletions are intended. would delete 9 of 10 files',
    );
    expect(gate.refusal({ by: 'alice', allowLargeDeletion: true }, true, tripped)).toBeNull();
    expect(gate.refusal({ by: 'alice' }, false, tripped)).toBeNull();
    gate.rules = { approvers: [], allowLargeDeletion: true };
    expect(gate.refusal({ by: 'alice' }, true, tripped)).toBeNull();
  });

  it('refuses every later decision once one was taken, naming who took it and when', () => {
    const gate = new ApprovalGate('core 9');
    gate.record({ by: 'alice', comment: 'looks good' }, true, 'update', '2026-11-30T10:00:00.000Z');
    const why = 'core 9 was already approved by alice at 2026-11-30T10:00:00.000Z';
    expect(gate.refusal({ by: 'bob' }, false, atGate())).toBe(why);
    expect(gate.refusal({ by: 'alice' }, true, atGate())).toBe(why);
  });

  it('does not change the gate (validators must not)', () => {
    const gate = new ApprovalGate('core 9');
    gate.rules = { approvers: ['alice'], allowLargeDeletion: false };
    const before = JSON.stringify(gate);
    gate.refusal({ by: 'mallory' }, true, atGate());
    gate.refusal({ by: 'alice' }, true, atGate());
    expect(JSON.stringify(gate)).toBe(before);
  });
});

describe('ApprovalGate.record', () => {
  it('records the trimmed name, the comment, the deletion allowance, the verdict, the time and the path it came by', () => {
    const gate = new ApprovalGate('core 9');
    const d = gate.record({ by: ' alice ', comment: 'ok', allowLargeDeletion: true }, true, 'signal', '2026-11-30T10:00:00.000Z');
    expect(d).toEqual({ by: 'alice', comment: 'ok', allowLargeDeletion: true, approved: true, at: '2026-11-30T10:00:00.000Z', via: 'signal' });
    expect(gate.decision).toBe(d);
  });

  it('leaves out an empty comment and a deletion allowance that was not given', () => {
    const d = new ApprovalGate('core 9').record({ by: 'bob', comment: '', allowLargeDeletion: false }, false, 'update', 't');
    expect(d).toEqual({ by: 'bob', approved: false, at: 't', via: 'update' });
  });

  it('says why a refused signal was ignored, and who sent it', () => {
    expect(ApprovalGate.ignoredSignal({ by: 'mallory' }, true, 'no')).toBe('ignored approve signal from mallory: no');
    expect(ApprovalGate.ignoredSignal(undefined, false, 'no')).toBe('ignored reject signal from (nobody): no');
  });
});

describe('gateWakes', () => {
  const wakes = (opened: number, every: number, deadline: number, cap?: number) => [...gateWakes(opened, every, deadline, cap)];

  it('reminds once per interval and closes at the deadline, never reminding at the deadline itself', () => {
    expect(wakes(1000, 1000, 3500)).toEqual([
      { wakeAt: 2000, closes: false },
      { wakeAt: 3000, closes: false },
      { wakeAt: 3500, closes: true },
    ]);
  });

  it('does not remind when a reminder would fall on the deadline', () => {
    expect(wakes(0, 1000, 2000)).toEqual([
      { wakeAt: 1000, closes: false },
      { wakeAt: 2000, closes: true },
    ]);
  });

  it('stops reminding after the cap and closes at the deadline', () => {
    expect(wakes(0, 1000, 10_000, 2)).toEqual([
      { wakeAt: 1000, closes: false },
      { wakeAt: 2000, closes: false },
      { wakeAt: 10_000, closes: true },
    ]);
  });

  it('only closes when the interval is longer than the wait or not set', () => {
    expect(wakes(0, 5000, 2000)).toEqual([{ wakeAt: 2000, closes: true }]);
    expect(wakes(0, 0, 2000)).toEqual([{ wakeAt: 2000, closes: true }]);
  });
});

describe('runtime options from the workflow input', () => {
  it('accepts what the CLI and the tests send, and nothing at all', () => {
    expect(runtimeOptionsProblem(undefined)).toBeNull();
    expect(runtimeOptionsProblem({ approval: { reminderInterval: '1s', expireAfter: '2.5s' }, timeouts: { heartbeat: '30s', maxAttempts: 2 }, hostTaskQueue: 'q' })).toBeNull();
  });

  it('refuses each bad value with its name, as a non-retryable BadRequest', () => {
    expect(runtimeOptionsProblem({ approval: { expireAfter: 'soon' } })).toBe('runtime.approval.expireAfter must be a duration such as "30s", "10m", "3d", got "soon"');
    expect(runtimeOptionsProblem({ approval: { reminderInterval: '0s' } })).toMatch(/^runtime\.approval\.reminderInterval must be a duration/);
    expect(runtimeOptionsProblem({ timeouts: { maxAttempts: 0 } })).toBe('runtime.timeouts.maxAttempts must be a whole number of 1 or more, got 0');
    expect(runtimeOptionsProblem({ timeouts: { longsync: '1h' } })).toBe('unknown option runtime.timeouts.longsync; known: heartbeat, longSync, retryInitial, maxAttempts');
    expect(runtimeOptionsProblem({ productionRoot: '/' })).toBe('unknown runtime option "productionRoot"; known: approval, timeouts, hostTaskQueue, lock');
    expect(runtimeOptionsProblem('fast')).toBe('runtime must be an object, got "fast"');
    expect(runtimeOptionsProblem({ hostTaskQueue: 3 })).toBe('runtime.hostTaskQueue must be a non-empty string, got 3');
    let thrown: unknown;
    try {
      checkRuntimeOptions({ approval: { expireAfter: 'soon' } });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    expect(thrown).toMatchObject({ type: 'BadRequest', nonRetryable: true });
  });
});

describe('failures', () => {
  it('counts Temporal failures as known, and any other error as a bug', () => {
    const app = ApplicationFailure.create({ type: 'DeletionGuardTripped', nonRetryable: true, message: 'too many' });
    const activity = new ActivityFailure('activity failed', 'syncToProduction', '7', RetryState.NON_RETRYABLE_FAILURE, 'worker', app);
    expect(isUnexpected(app)).toBe(false);
    expect(isUnexpected(activity)).toBe(false);
    expect(isUnexpected(new TypeError("Cannot read properties of undefined (reading 'plan')"))).toBe(true);
    expect(isUnexpected(new Error('not a duration'))).toBe(true);
    expect(isUnexpected('a string')).toBe(true);
  });

  it('finds the innermost message of a chain', () => {
    const app = ApplicationFailure.create({ type: 'DeletionGuardTripped', nonRetryable: true, message: 'would delete 9 files' });
    const activity = new ActivityFailure('activity failed', 'syncToProduction', '7', RetryState.NON_RETRYABLE_FAILURE, 'worker', app);
    expect(innermostMessage(activity)).toBe('would delete 9 files');
    expect(innermostMessage(new Error('plain'))).toBe('plain');
    expect(innermostMessage('text')).toBe('text');
  });
});

describe('the preview table', () => {
  it('counts what production will get, per repo, with the names escaped for markdown', () => {
    const p = preview();
    p.repos = { 'x86_64/core-common': p.repos['x86_64/core-common']!, 'a|b*': p.repos['x86_64/core-common']! };
    const text = previewText(p);
    expect(text).toContain('Production will get 2 new, 1 changed and 0 deleted files (30 bytes).');
    expect(text).toContain('| x86_64/core-common | 2 | 1 | 0 | 30 |');
    expect(text).toContain('| a\\|b\\* | 2 | 1 | 0 | 30 |');
  });
});
