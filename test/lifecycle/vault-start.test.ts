// Who started a vault, as the worker sees it: a start signed with `sigrelease vault --key` is verified against
// allowed_signers (real ssh-keygen) and recorded as signed; a forged or foreign one is refused; an unsigned one is
// recorded as unsigned, so that where self-approval is forbidden and signatures are required nobody can approve it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { createLifecycleActivities } from '../../activities/lifecycle.js';
import { loadCatalogue, parseSite } from '../../src/config/load.js';
import { localSiteRaw } from '../../src/config/local.js';
import { initRoots } from '../../src/config/roots.js';
import { signMessage } from '../../src/approval/sshsig.js';
import { START_NAMESPACE, startMessage } from '../../workflows/signedMessages.js';

async function siteWithSigners() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-vault-start-'));
  const key = (name: string) => path.join(dir, name);
  for (const name of ['alice', 'mallory']) await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key(name)]);
  const allowedSigners = path.join(dir, 'allowed_signers');
  fs.writeFileSync(allowedSigners, `alice ${fs.readFileSync(`${key('alice')}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  const site = parseSite(localSiteRaw(dir, { repoBaseUrl: 'http://127.0.0.1:9/unused', overrides: { approval: { requireSignature: true, forbidSelfApproval: true, allowedSigners } } }), 'test site');
  initRoots(site);
  return { site, key };
}

describe('who started a vault', () => {
  it('records a verified signed start, refuses one signed by a key not in allowed_signers or for another request, and records an unsigned start as unsigned', async () => {
    const { site, key } = await siteWithSigners();
    const { resolveVault } = createLifecycleActivities({ site, catalogue: loadCatalogue() });
    const workflowId = 'sigrelease-vault-9';
    const startedAt = new Date().toISOString();
    const request = { release: '9', revision: '9.5', requestedBy: 'alice' };
    const signed = async (by: string, keyFile: string, req: Record<string, unknown>) => {
      const claims = { by, signedAt: new Date().toISOString() };
      return { ...claims, signature: await signMessage(startMessage(workflowId, req, claims), START_NAMESPACE, keyFile) };
    };

    const ok = await resolveVault({ ...request, run: { workflowId, startedAt, start: await signed('alice', key('alice'), request) } });
    expect(ok.starter).toMatchObject({ kind: 'signed', principal: 'alice' });

    // mallory's key is not in allowed_signers, even when she claims to be alice.
    await expect(resolveVault({ ...request, run: { workflowId, startedAt, start: await signed('alice', key('mallory'), request) } })).rejects.toMatchObject({
      type: 'BadRequest',
      message: expect.stringContaining('signed start is refused'),
    });
    // alice's signature over another revision does not start this one.
    const other = await signed('alice', key('alice'), { ...request, revision: '9.4' });
    await expect(resolveVault({ ...request, run: { workflowId, startedAt, start: other } })).rejects.toMatchObject({ type: 'BadRequest' });

    const unsigned = await resolveVault({ ...request, run: { workflowId, startedAt } });
    expect(unsigned.starter).toEqual({ kind: 'unsigned', claimed: 'alice' });
  });
});
