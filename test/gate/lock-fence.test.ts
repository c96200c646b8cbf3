// The production lock's fencing token and operator rules, without a server: the pure rules of
// workflows/lockRequests.ts and the fence the production root keeps (src/lock/fence.ts, on a real temp folder).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishFileLists } from '../../src/filelists/publish.js';
import { admitProductionWrite, FENCE_DIR, FencedOutError, fenceVerdict, readFence } from '../../src/lock/fence.js';
import { appendBounded, forceReleaseProblem, isFenceToken, isLockOperator, nextFenceToken, requestState } from '../../workflows/lockRequests.js';

const req = (workflowId: string, runId: string, requestId: string) => ({ workflowId, runId, requestId });
const productionRoot = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-fence-'));

describe('fencing tokens', () => {
  it('numbers grants above the last one and never below the workflow clock, so a restarted lock keeps rising', () => {
    expect(nextFenceToken(undefined, 1_700_000_000_000)).toBe(1_700_000_000_000);
    // Two grants in one millisecond still differ.
    expect(nextFenceToken(1_700_000_000_000, 1_700_000_000_000)).toBe(1_700_000_000_001);
    // A lock that forgot everything (terminated, idle-closed) starts from the clock, above the old grants.
    const old = nextFenceToken(nextFenceToken(undefined, 1_000), 1_000);
    expect(nextFenceToken(undefined, 5_000)).toBeGreaterThan(old);
    expect([1, 1_700_000_000_000].every(isFenceToken)).toBe(true);
    expect([0, -1, 1.5, '7', Number.MAX_SAFE_INTEGER + 2, null].some(isFenceToken)).toBe(false);
  });

  it('raises the fence for a higher token, admits the same token again, refuses a lower one', () => {
    expect(fenceVerdict(null, 5)).toBe('raise');
    expect(fenceVerdict(4, 5)).toBe('raise');
    expect(fenceVerdict(5, 5)).toBe('current');
    expect(fenceVerdict(6, 5)).toBe('fenced-out');
  });

  it('keeps the highest token in the production root and refuses a writer whose grant is older, naming both numbers', async () => {
    const root = productionRoot();
    expect(await readFence(root)).toBeNull();
    expect(await admitProductionWrite(root, 100)).toBe('raise');
    expect(await admitProductionWrite(root, 100)).toBe('current');
    expect(await admitProductionWrite(root, 200)).toBe('raise');
    const refused = await admitProductionWrite(root, 100).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FencedOutError);
    expect((refused as FencedOutError).message).toMatch(/grant is number 100.*grant 200/);
    expect(await readFence(root)).toBe(200);
    // Lower numbers are cleared by the writer that raised past them; only the fence is left.
    expect(fs.readdirSync(path.join(root, FENCE_DIR))).toEqual(['200']);
  });

  it('never lowers the fence when writers with different grants raise it at the same moment', async () => {
    const root = productionRoot();
    const tokens = Array.from({ length: 20 }, (_, i) => 1000 + i);
    const results = await Promise.allSettled(tokens.map((t) => admitProductionWrite(root, t)));
    expect(await readFence(root)).toBe(1019);
    // The highest grant is always admitted; whoever else is refused was refused for a higher number.
    expect(results.at(-1)!.status).toBe('fulfilled');
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(FencedOutError);
  });

  it('is never listed in the mirror file lists of the production root', async () => {
    const root = productionRoot();
    fs.writeFileSync(path.join(root, 'README'), 'hello\n');
    await admitProductionWrite(root, 7);
    await publishFileLists({ dir: root, module: 'rocky' });
    const plain = fs.readFileSync(path.join(root, 'fullfilelist'), 'utf8').trimEnd().split('\n');
    expect(plain).toContain('./README');
    expect(plain.filter((l) => l.includes(FENCE_DIR))).toEqual([]);
    expect(fs.readFileSync(path.join(root, 'fullfiletimelist-rocky'), 'utf8')).not.toContain(FENCE_DIR);
  });
});

describe('the lock as a waiting run sees it', () => {
  it('says whether a request is held, queued or unknown to the lock', () => {
    const a = req('w1', 'r1', 'q1');
    const b = req('w2', 'r2', 'q2');
    expect(requestState(a, [b], a)).toBe('held');
    expect(requestState(a, [b], b)).toBe('queued');
    expect(requestState(null, [], a)).toBe('absent');
    // The same workflow's earlier acquisition is not this one.
    expect(requestState(a, [], req('w1', 'r1', 'q9'))).toBe('absent');
  });
});

describe('forceRelease', () => {
  it('needs a principal name and a reason', () => {
    expect(forceReleaseProblem({ by: 'olivia', reason: 'holder stuck in rsync since Monday' })).toBeNull();
    expect(forceReleaseProblem({ by: 'olivia' })).toMatch(/"reason"/);
    expect(forceReleaseProblem({ by: 'olivia', reason: '   ' })).toMatch(/"reason"/);
    expect(forceReleaseProblem({ by: 'o livia', reason: 'x' })).toMatch(/"by" must be a principal name, .*"o livia"|principal name.*"o livia"/);
    expect(forceReleaseProblem({ by: 'olivia', reason: 'x'.repeat(2001) })).toMatch(/2001 characters/);
    expect(forceReleaseProblem('olivia')).toMatch(/takes \{ by, reason \}/);
  });

  it('lets only the site\'s operators force the lock; an empty list lets nobody', () => {
    expect(isLockOperator(['olivia'], 'olivia')).toBe(true);
    expect(isLockOperator(['olivia'], 'mallory')).toBe(false);
    expect(isLockOperator([], 'olivia')).toBe(false);
  });

  it('keeps the last entries of a status history', () => {
    expect(appendBounded([1, 2, 3], 4, 3)).toEqual([2, 3, 4]);
    expect(appendBounded([], 'a')).toEqual(['a']);
  });
});
