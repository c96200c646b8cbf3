import { describe, expect, it } from 'vitest';
import { parseRepomdRevision } from '../../src/compose/repodata.js';
import { assessStaleness, formatAge, staleText } from '../../src/compose/staleness.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 30, 12, 0, 0);
const at = (msAgo: number) => Math.floor((NOW - msAgo) / 1000);

describe('parseRepomdRevision', () => {
  it('reads the revision and the newest data timestamp', () => {
    const xml = `<?xml version="1.0"?><repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1764500000</revision>
      <data type="primary"><location href="repodata/p.xml.gz"/><timestamp>1764400000</timestamp></data>
      <data type="filelists"><location href="repodata/f.xml.gz"/><timestamp>1764450000</timestamp></data></repomd>`;
    expect(parseRepomdRevision(xml)).toEqual({ revision: '1764500000', timestamp: 1764450000 });
  });
  it('says null for what is not there', () => {
    expect(parseRepomdRevision('<repomd><data type="primary"/></repomd>')).toEqual({ revision: null, timestamp: null });
  });
});

describe('assessStaleness', () => {
  const current = [
    { relDir: 'x86_64/fresh', revision: 'r2', timestamp: at(DAY) },
    { relDir: 'x86_64/old', revision: 'r1', timestamp: at(9 * DAY) },
    { relDir: 'source/same', revision: 'r5', timestamp: at(2 * DAY) },
    { relDir: 'aarch64/unknown', revision: null, timestamp: null },
    { relDir: 'aarch64/by-revision', revision: String(at(8 * DAY)), timestamp: null },
  ];
  const previous = { composeId: 'core-9-20261128.020000', repos: [{ relDir: 'x86_64/fresh', revision: 'r1', timestamp: at(3 * DAY) }, { relDir: 'source/same', revision: 'r5', timestamp: at(2 * DAY) }, { relDir: 'aarch64/unknown', revision: null, timestamp: null }] };

  it('flags repos older than staleAfter, and repos unchanged since the previous compose', () => {
    const r = assessStaleness(current, previous, NOW, 7 * DAY);
    const byDir = Object.fromEntries(r.repos.map((x) => [x.relDir, [x.olderThanLimit, x.unchangedSincePrevious, x.ageMs === null ? null : Math.round(x.ageMs / DAY)]]));
    expect(byDir).toEqual({
      'x86_64/fresh': [false, false, 1],
      'x86_64/old': [true, false, 9],
      'source/same': [false, true, 2],
      'aarch64/unknown': [false, false, null], // nothing known: never "unchanged"
      'aarch64/by-revision': [true, false, 8], // a numeric revision is a time when there is no timestamp
    });
    expect(r.flagged).toBe(3);
    expect(r.previousComposeId).toBe('core-9-20261128.020000');
  });
  it('with no previous compose only age counts', () => {
    const r = assessStaleness(current, null, NOW, 7 * DAY);
    expect(r.repos.some((x) => x.unchangedSincePrevious)).toBe(false);
    expect(r.previousComposeId).toBeNull();
    expect(r.flagged).toBe(2);
  });
  it('tells people which repos are stale and why', () => {
    const text = staleText(assessStaleness(current, previous, NOW, 7 * DAY));
    expect(text).toMatch(/^\*\*Stale source metadata: 3 of 5 repos\*\*/);
    expect(text).toContain('- STALE x86_64/old: metadata revision r1, 9d old (older than 7d)');
    expect(text).toContain('- STALE source/same: metadata revision r5, 2d old (unchanged since core-9-20261128.020000)');
    expect(text).toContain('- x86_64/fresh: metadata revision r2, 1d old');
    expect(staleText(null)).toBe('');
    expect(staleText({ staleAfterMs: 0, previousComposeId: null, repos: [], flagged: 0, problem: 'ages unknown: x' })).toBe('ages unknown: x');
  });
  it('says which repos were carried over from the previous compose, on the gate\'s and status\'s line', () => {
    const carried = [{ relDir: 'x86_64/same', revision: 'r5', timestamp: at(2 * DAY), repomdSha256: 'ab', carriedOverFrom: 'core-9-20261128.020000' }];
    const text = staleText(assessStaleness(carried, null, NOW, 7 * DAY));
    expect(text).toContain('- x86_64/same: metadata revision r5, 2d old, carried over from core-9-20261128.020000');
  });
  it('formats ages in two units at most', () => {
    expect(formatAge(3 * DAY + 4 * 3_600_000 + 5 * 60_000)).toBe('3d 4h');
    expect(formatAge(40_000)).toBe('40s');
    expect(formatAge(0)).toBe('0s');
  });
});
