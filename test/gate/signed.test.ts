// Signed decisions without a server: the signed-message format, real `ssh-keygen -Y sign|verify` with throwaway
// keys, the refusal reasons, replay of an earlier signature, self-approval, and the bounds at the gate.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { signMessage, verifyMessage } from '../../src/approval/sshsig.js';
import { parseSite } from '../../src/config/load.js';
import { localSiteRaw } from '../../src/config/local.js';
import { ApprovalGate, MAX_REFUSAL_WARNINGS, boundsProblem, type RunView } from '../../workflows/gate.js';
import type { PreviewSummary } from '../../workflows/messages.js';
import { DECISION_NAMESPACE, START_NAMESPACE, decisionMessage, signedAtProblem, startMessage, type DecisionSubject } from '../../workflows/signedMessages.js';

let dir: string;
let allowedSigners: string;
const key = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-signed-'));
  for (const name of ['alice', 'bob', 'mallory']) {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key(name)]);
  }
  // alice and bob are approvers; mallory's key is not in the file.
  const line = (name: string) => `${name} ${fs.readFileSync(`${key(name)}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}`;
  allowedSigners = path.join(dir, 'allowed_signers');
  fs.writeFileSync(allowedSigners, `${line('alice')}\n${line('bob')}\n`);
});

const subject: DecisionSubject = {
  workflowId: 'sigrelease-core-9',
  runId: '01a22c6c-b6c0-78b4-855c-563a864b0de9',
  composeId: 'core-9-20261130.120000',
  preview: { added: { files: 2, bytes: 20 }, changed: { files: 1, bytes: 10 }, deleted: { files: 0, bytes: 0 } },
};
const claims = { by: 'alice', comment: 'staging checked', signedAt: '2026-11-30T12:00:00.000Z' };

describe('the decision message', () => {
  it('is one line of JSON in a fixed order, naming the run, the compose, the preview, the verdict and every claim', () => {
    const m = decisionMessage(subject, 'approve', claims);
    expect(m.endsWith('\n')).toBe(true);
    expect(m.split('\n')).toHaveLength(2);
    expect(JSON.parse(m)).toEqual({
      kind: 'sigrelease-decision',
      version: 1,
      ...subject,
      verdict: 'approve',
      by: 'alice',
      comment: 'staging checked',
      allowLargeDeletion: false,
      signedAt: '2026-11-30T12:00:00.000Z',
    });
    expect(Object.keys(JSON.parse(m))).toEqual(['kind', 'version', 'workflowId', 'runId', 'composeId', 'preview', 'verdict', 'by', 'comment', 'allowLargeDeletion', 'signedAt']);
  });

  it('differs for another run, compose, preview, verdict, comment or deletion allowance', () => {
    const base = decisionMessage(subject, 'approve', claims);
    const others = [
      decisionMessage({ ...subject, runId: 'another-run' }, 'approve', claims),
      decisionMessage({ ...subject, composeId: 'core-9-20261129.120000' }, 'approve', claims),
      decisionMessage({ ...subject, preview: { ...subject.preview, deleted: { files: 5, bytes: 50 } } }, 'approve', claims),
      decisionMessage(subject, 'reject', claims),
      decisionMessage(subject, 'approve', { ...claims, comment: 'staging checked!' }),
      decisionMessage(subject, 'approve', { ...claims, allowLargeDeletion: true }),
    ];
    for (const m of others) expect(m).not.toBe(base);
  });

  it('binds the staging digest the gate took, right after the preview, and differs for another digest', () => {
    const digest = 'sha256:' + 'a'.repeat(64);
    const m = decisionMessage({ ...subject, stagingDigest: digest }, 'approve', claims);
    expect(JSON.parse(m).stagingDigest).toBe(digest);
    expect(Object.keys(JSON.parse(m)).slice(5, 7)).toEqual(['preview', 'stagingDigest']);
    expect(decisionMessage({ ...subject, stagingDigest: 'sha256:' + 'b'.repeat(64) }, 'approve', claims)).not.toBe(m);
    // A run that took no digest (begun before the check existed) signs what it signed before.
    expect(m).not.toBe(decisionMessage(subject, 'approve', claims));
    expect(JSON.parse(decisionMessage(subject, 'approve', claims))).not.toHaveProperty('stagingDigest');
  });

  it('signs the same request the same, whatever order its keys came in', () => {
    const a = startMessage('sigrelease-core-9', { sig: 'core', release: '9', hashed: true, arches: ['x86_64'] }, { by: 'alice', signedAt: claims.signedAt });
    const b = startMessage('sigrelease-core-9', { arches: ['x86_64'], hashed: true, release: '9', sig: 'core' }, { by: 'alice', signedAt: claims.signedAt });
    expect(a).toBe(b);
  });
});

describe('ssh-keygen signatures of decisions', () => {
  const verify = (message: string, signature: string, principal: string, namespace = DECISION_NAMESPACE) =>
    verifyMessage({ message, signature, principal, namespace, allowedSigners });

  it('verifies a decision signed by an approver, naming the principal and the key fingerprint', async () => {
    const message = decisionMessage(subject, 'approve', claims);
    const signature = await signMessage(message, DECISION_NAMESPACE, key('alice'));
    expect(signature).toContain('-----BEGIN SSH SIGNATURE-----');
    const fingerprint = (await execa('ssh-keygen', ['-l', '-f', `${key('alice')}.pub`])).stdout.split(' ')[1];
    expect(await verify(message, signature, 'alice')).toEqual({ ok: true, principal: 'alice', keyFingerprint: fingerprint });
  });

  it('signs with a public key whose private half is in the ssh-agent', async () => {
    const agent = await execa('ssh-agent', ['-s']);
    const sock = /SSH_AUTH_SOCK=([^;]+);/.exec(agent.stdout)![1]!;
    const pid = /SSH_AGENT_PID=(\d+);/.exec(agent.stdout)![1]!;
    try {
      await execa('ssh-add', [key('bob')], { env: { SSH_AUTH_SOCK: sock } });
      const pubOnly = path.join(dir, 'agent-only');
      fs.copyFileSync(`${key('bob')}.pub`, `${pubOnly}.pub`);
      const message = decisionMessage(subject, 'reject', { ...claims, by: 'bob' });
      const previous = process.env.SSH_AUTH_SOCK;
      process.env.SSH_AUTH_SOCK = sock;
      try {
        const signature = await signMessage(message, DECISION_NAMESPACE, `${pubOnly}.pub`);
        expect(await verify(message, signature, 'bob')).toMatchObject({ ok: true, principal: 'bob' });
      } finally {
        if (previous === undefined) delete process.env.SSH_AUTH_SOCK;
        else process.env.SSH_AUTH_SOCK = previous;
      }
    } finally {
      process.kill(Number(pid));
    }
  });

  it('refuses a replay of a valid signature from an earlier run, compose, or for the other verdict', async () => {
    const earlier = decisionMessage({ ...subject, runId: 'an-earlier-run', composeId: 'core-9-20261101.020000' }, 'approve', claims);
    const signature = await signMessage(earlier, DECISION_NAMESPACE, key('alice'));
    expect(await verify(earlier, signature, 'alice')).toMatchObject({ ok: true });
    const now = await verify(decisionMessage(subject, 'approve', claims), signature, 'alice');
    expect(now).toEqual({ ok: false, reason: 'the signature does not verify: Signature verification failed: incorrect signature' });
    const otherVerdict = await signMessage(decisionMessage(subject, 'reject', claims), DECISION_NAMESPACE, key('alice'));
    expect(await verify(decisionMessage(subject, 'approve', claims), otherVerdict, 'alice')).toMatchObject({ ok: false });
  });

  it('refuses a key that is not in allowed_signers, another principal, another namespace and garbage, each with a reason', async () => {
    const message = decisionMessage(subject, 'approve', { ...claims, by: 'mallory' });
    const byMallory = await signMessage(message, DECISION_NAMESPACE, key('mallory'));
    expect(await verify(message, byMallory, 'mallory')).toEqual({ ok: false, reason: 'no key of mallory in approval.allowedSigners made this signature for this message' });
    // alice's key claiming to be bob
    const byAlice = await signMessage(message, DECISION_NAMESPACE, key('alice'));
    expect(await verify(message, byAlice, 'bob')).toMatchObject({ ok: false });
    // a start signature is not a decision signature
    const asStart = await signMessage(message, START_NAMESPACE, key('alice'));
    expect(await verify(message, asStart, 'alice')).toEqual({ ok: false, reason: 'the signature does not verify: Couldn\'t verify signature: namespace does not match' });
    expect(await verify(message, 'not a signature', 'alice')).toMatchObject({ ok: false, reason: expect.stringContaining('the signature does not verify') });
  });
});

describe('allowed_signers as deploy/README.md "Approvers" keeps it', () => {
  /** An allowed_signers holding `lines`, each `<principal> <options> <key of name>`. */
  const signersFile = (lines: Array<[principal: string, options: string, keyOf: string]>) => {
    const file = path.join(dir, `allowed_signers-${lines.map((l) => l.join('-')).join('_').replace(/[^A-Za-z0-9_-]/g, '')}`);
    fs.writeFileSync(file, lines.map(([p, o, k]) => `${p} ${o ? `${o} ` : ''}${fs.readFileSync(`${key(k)}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}`).join('\n') + '\n');
    return file;
  };
  const verifyAs = async (file: string, by: string, keyOf: string, namespace = DECISION_NAMESPACE) => {
    const message = decisionMessage(subject, 'approve', { ...claims, by });
    return verifyMessage({ message, signature: await signMessage(message, namespace, key(keyOf)), principal: by, namespace, allowedSigners: file });
  };
  const ours = `namespaces="${DECISION_NAMESPACE},${START_NAMESPACE}"`;

  it('rotates a key: the old line with valid-before, the new one with valid-after; each counts only in its time', async () => {
    // alice's old key (alice) ran out yesterday; her new key (bob's key file stands in) counts from today on.
    const past = '20200101Z';
    const future = '20990101Z';
    const rotated = signersFile([
      ['alice', `${ours},valid-before="${past}"`, 'alice'],
      ['alice', `${ours},valid-after="${past}"`, 'bob'],
    ]);
    expect(await verifyAs(rotated, 'alice', 'alice')).toMatchObject({ ok: false });
    expect(await verifyAs(rotated, 'alice', 'bob')).toMatchObject({ ok: true, principal: 'alice' });
    // During the overlap both lines count; a new key dated later does not count yet.
    const overlap = signersFile([
      ['alice', `${ours},valid-before="${future}"`, 'alice'],
      ['alice', `${ours},valid-after="${future}"`, 'bob'],
    ]);
    expect(await verifyAs(overlap, 'alice', 'alice')).toMatchObject({ ok: true });
    expect(await verifyAs(overlap, 'alice', 'bob')).toMatchObject({ ok: false });
  });

  it('confines a key to our namespaces, and a removed line verifies nothing', async () => {
    const file = signersFile([['alice', ours, 'alice']]);
    expect(await verifyAs(file, 'alice', 'alice')).toMatchObject({ ok: true });
    expect(await verifyAs(file, 'alice', 'alice', 'git')).toMatchObject({ ok: false });
    const removed = signersFile([['bob', ours, 'bob']]);
    expect(await verifyAs(removed, 'alice', 'alice')).toEqual({ ok: false, reason: 'no key of alice in approval.allowedSigners made this signature for this message' });
  });
});

const HINT_APPROVE = 'sign it: `sigrelease approve 9 core --key ~/.ssh/id_ed25519 --comment "..."` (add --print-signed for the Web UI or `temporal workflow signal --input`)';

describe('the gate with signatures required', () => {
  const preview = { added: { files: 2, bytes: 20 }, changed: { files: 1, bytes: 10 }, deleted: { files: 0, bytes: 0 }, repos: {}, guard: { ok: true } } as unknown as PreviewSummary;
  const opened = Date.parse('2026-11-30T11:00:00.000Z');
  const now = Date.parse('2026-11-30T12:00:00.000Z');
  const atGate: RunView = { stage: 'awaiting-approval', productionPreview: preview, now };
  const gate = (over: Partial<ApprovalGate['rules']> = {}) => {
    const g = new ApprovalGate('core 9');
    g.rules = { approvers: [], allowLargeDeletion: false, requireSignature: true, forbidSelfApproval: true, starter: { kind: 'signed', principal: 'carol', keyFingerprint: 'SHA256:x' }, release: '9', sig: 'core', ...over };
    g.openedAt = opened;
    return g;
  };
  const signed = { by: 'alice', comment: 'ok', signedAt: '2026-11-30T11:59:00.000Z', signature: '-----BEGIN SSH SIGNATURE-----\nx\n-----END SSH SIGNATURE-----\n' };

  it('refuses an unsigned decision with a one-line hint on how to sign', () => {
    expect(gate().refusal({ by: 'alice' }, true, atGate)).toBe(
      'core 9 takes only signed decisions (approval.requireSignature); sign it: `sigrelease approve 9 core --key ~/.ssh/id_ed25519 --comment "..."` (add --print-signed for the Web UI or `temporal workflow signal --input`)',
    );
    expect(gate().refusal(signed, true, atGate)).toBeNull();
  });

  it('refuses a signature made before this gate opened (an earlier decision) or in the future', () => {
    expect(gate().refusal({ ...signed, signedAt: '2026-11-29T12:00:00.000Z' }, true, atGate)).toMatch(/^signed at 2026-11-29T12:00:00.000Z, before this gate opened \(2026-11-30T11:00:00.000Z\): a signature from an earlier decision; sign it:/);
    expect(gate().refusal({ ...signed, signedAt: '2026-11-30T13:00:00.000Z' }, true, atGate)).toMatch(/in the future/);
    expect(signedAtProblem('yesterday', opened, now)).toBe('signedAt "yesterday" is not an ISO time');
  });

  it('refuses approval by whoever started the run, but lets them reject it', () => {
    const g = gate({ starter: { kind: 'signed', principal: 'alice', keyFingerprint: 'SHA256:a' } });
    const alice = { principal: 'alice', keyFingerprint: 'SHA256:a' };
    expect(g.verifiedRefusal(signed, true, alice)).toBe('alice started core 9 and may not approve it too (approval.forbidSelfApproval); ask another approver');
    expect(g.verifiedRefusal(signed, false, alice)).toBeNull();
    expect(g.verifiedRefusal({ ...signed, by: 'bob' }, true, { principal: 'bob', keyFingerprint: 'SHA256:b' })).toBeNull();
    expect(gate({ forbidSelfApproval: false, starter: { kind: 'signed', principal: 'alice', keyFingerprint: 'SHA256:a' } }).verifiedRefusal(signed, true, alice)).toBeNull();
  });

  it('lets nobody approve an unsigned start while self-approval is forbidden and signatures are required; a scheduled start is fine', () => {
    expect(gate({ starter: { kind: 'unsigned', claimed: 'alice' } }).refusal(signed, true, atGate)).toBe(
      'core 9 was started without a signature, so nobody can approve it while self-approval is forbidden (approval.forbidSelfApproval); reject it and start a new run with `sigrelease start --key ...`',
    );
    expect(gate({ starter: { kind: 'unsigned' } }).refusal(signed, false, atGate)).toBeNull();
    expect(gate({ starter: { kind: 'schedule', scheduleId: 'sigrelease-core-9-nightly' } }).refusal(signed, true, atGate)).toBeNull();
  });

  it('refuses a signature by someone other than the named approver, saying how to sign', () => {
    expect(gate().verifiedRefusal(signed, true, { principal: 'bob', keyFingerprint: 'SHA256:b' })).toBe(`the signature is by bob, but the decision says it is by alice; ${HINT_APPROVE}`);
  });

  it('gives every refusal of an unsigned or badly signed decision the one-line hint, for the verdict sent', () => {
    const g = gate();
    const unverified = g.unverifiedRefusal("the signature does not verify: Couldn't verify signature: namespace does not match", true);
    expect(unverified).toBe(`the signature does not verify: Couldn't verify signature: namespace does not match; ${HINT_APPROVE}`);
    expect(g.unverifiedRefusal('this site has no approval.allowedSigners, so no signature can be verified', false)).toMatch(/; sign it: `sigrelease reject 9 core --key ~\/\.ssh\/id_ed25519 --comment "\.\.\."`/);
    // Signatures required by the worker's policy after an unsigned decision passed the gate's first look.
    expect(g.verifiedRefusal({ by: 'alice' }, false, null)).toBe(`core 9 takes only signed decisions (approval.requireSignature); ${HINT_APPROVE.replace('approve', 'reject')}`);
    expect(g.refusal({ ...signed, signature: 'garbage' }, true, atGate)).toBe(`the signature is not an armored SSH signature (ssh-keygen -Y sign); ${HINT_APPROVE}`);
    // The signal path: the warning that status shows carries the same hint, once however often it is sent.
    const warning = ApprovalGate.ignoredSignal({ by: 'alice' }, true, unverified);
    g.noteRefusedSignal(warning);
    g.noteRefusedSignal(warning);
    expect(g.refusalWarnings()).toEqual([`ignored approve signal from alice: ${unverified}`]);
    expect(g.refusalWarnings()[0]).toContain('--print-signed');
  });

  it('still refuses a decision before the gate and after a decision, signed or not', () => {
    expect(gate().refusal(signed, true, { ...atGate, stage: 'staging' })).toBe('core 9 is not waiting for approval (stage: staging)');
    const g = gate();
    g.record(signed, true, 'update', '2026-11-30T12:00:00.000Z', { principal: 'alice', keyFingerprint: 'SHA256:a' });
    expect(g.decision?.signed).toEqual({ principal: 'alice', keyFingerprint: 'SHA256:a' });
    expect(g.refusal({ ...signed, by: 'bob' }, false, atGate)).toBe('core 9 was already approved by alice at 2026-11-30T12:00:00.000Z');
  });
});

describe('bounded input at the gate', () => {
  it('takes principal names of letters, digits and ._@- up to 64 characters, and comments up to 2,000 characters', () => {
    expect(boundsProblem({ by: 'neil.smith@rockylinux.org' })).toBeNull();
    expect(boundsProblem({ by: 'a'.repeat(64), comment: 'x'.repeat(2000) })).toBeNull();
    expect(boundsProblem({ by: 'a'.repeat(65) })).toMatch(/^"by" must be a principal name/);
    expect(boundsProblem({ by: '<you>' })).toBe('"by" must be a principal name (letters, digits and ._@-, at most 64 characters), got "<you>"');
    expect(boundsProblem({ by: 'neil smith' })).toMatch(/^"by" must be a principal name/);
    expect(boundsProblem({ by: 'neil', comment: 'x'.repeat(2001) })).toBe('"comment" is 2001 characters long; at most 2000 are kept');
    expect(boundsProblem({ by: 'neil', comment: 42 as unknown as string })).toBe('"comment" must be text, got 42');
  });

  it('keeps each refused-signal warning once, and only counts them past the cap', () => {
    const g = new ApprovalGate('core 9');
    for (let i = 0; i < 3; i++) g.noteRefusedSignal('ignored approve signal from mallory: no');
    expect(g.refusalWarnings()).toEqual(['ignored approve signal from mallory: no']);
    for (let i = 0; i < 1000; i++) g.noteRefusedSignal(`ignored approve signal from m${i}: no`);
    const shown = g.refusalWarnings();
    expect(shown).toHaveLength(MAX_REFUSAL_WARNINGS + 1);
    expect(shown.at(-1)).toBe(`${1001 - MAX_REFUSAL_WARNINGS} more refused decision signals not shown`);
  });
});

describe('the approval settings of the site config', () => {
  const site = (approval: Record<string, unknown>) => () => parseSite(localSiteRaw('/tmp/sigrelease-site-check', { repoBaseUrl: 'http://127.0.0.1:9/x', overrides: { approval } }), 'site.yaml');

  it('requires allowedSigners when signatures are required, and an hour or more between reminders', () => {
    expect(site({ requireSignature: true })).toThrow(/allowedSigners.*requireSignature needs allowedSigners/s);
    expect(site({ reminderInterval: '30m' })).toThrow(/reminderInterval.*must be at least 1h/s);
    expect(site({ approvers: ['neil smith'] })).toThrow(/must be a principal name/);
    expect(site({ requireSignature: true, allowedSigners: '/etc/sigrelease/allowed_signers', forbidSelfApproval: true, reminderInterval: '1h' })().approval).toMatchObject({
      requireSignature: true,
      forbidSelfApproval: true,
      reminderInterval: '1h',
    });
  });

  it('keeps existing configs working: signatures off, self-approval allowed', () => {
    expect(site({})().approval).toMatchObject({ requireSignature: false, forbidSelfApproval: false, reminderInterval: '1d' });
  });
});
