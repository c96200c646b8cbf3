import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectedSeconds, longestFirst } from './sequencer.js';

describe('longest-first test order', () => {
  const weights = { 'test/a.int.test.ts': 100, 'test/b.test.ts': 5, 'test/c.test.ts': 50 };

  it('puts the longest recorded file first, across projects', () => {
    const order = longestFirst(['test/b.test.ts', 'test/c.test.ts', 'test/a.int.test.ts'], (f) => f, weights);
    expect(order).toEqual(['test/a.int.test.ts', 'test/c.test.ts', 'test/b.test.ts']);
  });

  it('takes a file it has no time for as a long one of its kind, and breaks ties by path', () => {
    expect(expectedSeconds('test/new.int.test.ts', weights)).toBe(60);
    expect(expectedSeconds('test/new.test.ts', weights)).toBe(20);
    const order = longestFirst(['test/z.test.ts', 'test/new.int.test.ts', 'test/y.test.ts', 'test/b.test.ts'], (f) => f, weights);
    expect(order).toEqual(['test/new.int.test.ts', 'test/y.test.ts', 'test/z.test.ts', 'test/b.test.ts']);
  });

  it('has a recorded time for the suite\'s longest files', () => {
    expect(expectedSeconds('test/cli/stop-signals.int.test.ts')).toBeGreaterThan(60);
  });

  it('has a recorded time for every test file, above zero for each integration file', () => {
    const weights: Record<string, number> = JSON.parse(readFileSync(new URL('./file-weights.json', import.meta.url), 'utf8'));
    const files = (readdirSync('test', { recursive: true }) as string[])
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => `test/${f}`);
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((f) => !(f in weights))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.int.test.ts') && !(weights[f]! > 0))).toEqual([]);
  });
});
