import { describe, expect, it } from 'vitest';
import { ComposeSlots, SlotAbortedError } from '../../src/compose/slots.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('ComposeSlots', () => {
  it('grants at most the limit per compose, the rest in arrival order as slots free up', async () => {
    const slots = new ComposeSlots();
    const granted: string[] = [];
    const releases = new Map<string, () => void>();
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      void slots.acquire('core-9', 2).then((release) => {
        granted.push(name);
        releases.set(name, release);
      });
    }
    await tick();
    expect(granted).toEqual(['a', 'b']);
    expect(slots.running('core-9')).toBe(2);
    expect(slots.waiting('core-9')).toBe(3);

    releases.get('b')!();
    await tick();
    expect(granted).toEqual(['a', 'b', 'c']);
    // Releasing twice frees one slot, not two.
    releases.get('b')!();
    await tick();
    expect(granted).toEqual(['a', 'b', 'c']);
    expect(slots.running('core-9')).toBe(2);

    releases.get('a')!();
    releases.get('c')!();
    await tick();
    expect(granted).toEqual(['a', 'b', 'c', 'd', 'e']);
    releases.get('d')!();
    releases.get('e')!();
    expect(slots.running('core-9')).toBe(0);
    expect(slots.waiting('core-9')).toBe(0);
  });

  it('keeps composes apart: one compose at its limit does not hold back another', async () => {
    const slots = new ComposeSlots();
    const first = await slots.acquire('core-9', 1);
    let otherGranted = false;
    void slots.acquire('core-9', 1).then(() => undefined);
    void slots.acquire('kernel-9', 1).then(() => {
      otherGranted = true;
    });
    await tick();
    expect(otherGranted).toBe(true);
    expect(slots.waiting('core-9')).toBe(1);
    first();
  });

  it('a waiter whose signal aborts gives up without taking a slot, and the next one gets it', async () => {
    const slots = new ComposeSlots();
    const held = await slots.acquire('core-9', 1);
    const cancel = new AbortController();
    const gaveUp = slots.acquire('core-9', 1, cancel.signal);
    let thirdGranted = false;
    void slots.acquire('core-9', 1).then(() => {
      thirdGranted = true;
    });
    cancel.abort(new Error('cancelled'));
    await expect(gaveUp).rejects.toBeInstanceOf(SlotAbortedError);
    expect(slots.waiting('core-9')).toBe(1);
    held();
    await tick();
    expect(thirdGranted).toBe(true);
    expect(slots.running('core-9')).toBe(1);
  });

  it('refuses at once when the signal has already aborted', async () => {
    const slots = new ComposeSlots();
    const cancel = new AbortController();
    cancel.abort();
    await expect(slots.acquire('core-9', 4, cancel.signal)).rejects.toBeInstanceOf(SlotAbortedError);
    expect(slots.running('core-9')).toBe(0);
  });

  it('treats a limit below 1 as 1', async () => {
    const slots = new ComposeSlots();
    await slots.acquire('core-9', 0);
    let second = false;
    void slots.acquire('core-9', 0).then(() => {
      second = true;
    });
    await tick();
    expect(second).toBe(false);
  });
});
