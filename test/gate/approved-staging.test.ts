// The rule that a decision naming a compose must name the one at the gate, without a server.
import { describe, expect, it } from 'vitest';
import { composeRefusal } from '../../workflows/approvedStaging.js';

describe('composeRefusal', () => {
  const atGate = 'core-9-20261130.120000';
  it('takes a decision that names no compose, or the one at the gate', () => {
    expect(composeRefusal({ by: 'alice' }, atGate)).toBeNull();
    expect(composeRefusal({ by: 'alice', composeId: atGate }, atGate)).toBeNull();
  });
  it('refuses a decision naming another compose, or a compose that is not a string, naming both', () => {
    expect(composeRefusal({ by: 'alice', composeId: 'core-9-20200101.000000' }, atGate)).toBe(
      `the decision names compose "core-9-20200101.000000", but this run waits with compose ${atGate}; check \`sigrelease status\` and decide on what it shows`,
    );
    expect(composeRefusal({ by: 'alice', composeId: 42 as unknown as string }, atGate)).toMatch(/names compose 42,/);
  });
  it('checks nothing for runs whose gate bound no compose (begun before the check existed)', () => {
    expect(composeRefusal({ by: 'alice', composeId: 'anything' }, null)).toBeNull();
  });
});
