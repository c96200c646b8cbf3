// One real release through a production-shaped, closed Temporal: temporal-server 1.29.1 on PostgreSQL (default
// and visibility stores), set up by the same scripts as docker-compose.yml's one-shot jobs, with mutual TLS on the
// frontend and internode (certificates from deploy/tls/make-certs.sh) and JWT authorization (tokens from the
// module behind `sigrelease token`). The control and compose-host queues are served by separate workers as in
// deploy/site.yaml, under its approval rules (signatures required, self-approval forbidden): one operator starts
// the run signed, another approves it with a signed decision. Then the run's history is replayed against the
// prebuilt workflow bundle (deploy/bundle-workflows.ts), as a deployed worker would load it.
//
// Needs scripts/build-temporal-server.sh (temporal-server, temporal-sql-tool) and Debian's postgresql;
// skipped, saying what is missing, without them. Ignores the shared dev server of the integration setup.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, connectClient, decide, startRelease } from '../../src/client.js';
import { signedDecision } from '../../src/cli/runs.js';
import { SSH_KEYGEN_EXITS } from '../../src/tools/exit-codes.js';
import { runToolChecked } from '../../src/tools/run.js';
import { DECISION_NAMESPACE, START_NAMESPACE } from '../../workflows/signedMessages.js';
import { temporalCliPath } from '../../src/devserver.js';
import { productionSigDir, stagingSigDir } from '../../src/paths.js';
import { createWorkers, workerAccess } from '../../src/worker.js';
import { SEARCH_ATTRIBUTES, statusQuery } from '../../workflows/messages.js';
import { writeWorkflowBundle } from '../../deploy/bundle-workflows.js';
import { replayOpenRuns } from '../../deploy/replay-open-runs.js';
import { buildYumrepofs, defaultCoreFixture, startYumrepofs, type YumrepofsServer } from '../fixtures/yumrepofs.js';
import { testCatalogue, testSite, uniqueQueue, waitFor } from '../helpers/temporal.js';
import { treeDigest } from '../helpers/trees.js';
import { missingPrerequisites, startPostgresTemporal, type PostgresTemporal } from './postgres-server.js';
import { makeCerts, type ClientFolder } from './secure-access.js';

const missing = missingPrerequisites();
if (missing.length) console.warn(`postgres-release: skipped; missing:\n  ${missing.join('\n  ')}`);

/**
 * Throwaway SSH keys for `names` and an allowed_signers naming each (as the demo makes them, src/cli/demo.ts),
 * confined to our two signature namespaces as deploy/approvers/allowed_signers advises.
 */
async function approverKeys(dir: string, names: string[]): Promise<{ key: (name: string) => string; allowedSigners: string }> {
  const key = (name: string) => path.join(dir, `${name}-key`);
  const lines: string[] = [];
  for (const name of names) {
    await runToolChecked('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name} (postgres-release test)`, '-f', key(name)], SSH_KEYGEN_EXITS);
    const [type, blob] = fs.readFileSync(`${key(name)}.pub`, 'utf8').split(' ');
    lines.push(`${name} namespaces="${DECISION_NAMESPACE},${START_NAMESPACE}" ${type} ${blob}`);
  }
  const allowedSigners = path.join(dir, 'allowed_signers');
  fs.writeFileSync(allowedSigners, `${lines.join('\n')}\n`);
  return { key, allowedSigners };
}

/** An approval signed with `approver`'s key for the run at the gate (what `sigrelease approve --key` sends), as an update. */
async function approveSigned(client: Client, release: string, sig: string, approver: string, keyFile: string) {
  return decide(client, release, sig, true, await signedDecision(client, release, sig, 'approve', { by: approver, comment: 'checked staging' }, keyFile));
}

/** The failure chain of a rejected call says the server denied it (gRPC PERMISSION_DENIED, "Request unauthorized."). */
async function expectDenied(call: Promise<unknown>): Promise<void> {
  const err = await call.then(
    () => new Error('the call succeeded, but authorization should have denied it'),
    (e: unknown) => e,
  );
  const chain: string[] = [];
  for (let e = err as { code?: unknown; message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) chain.push(`${String(e.code)} ${e.message}`);
  expect(chain.join('\n')).toMatch(/^7 .*Request unauthorized/m);
}

describe.skipIf(missing.length > 0)('a release on a closed Temporal 1.29.1 (mTLS + JWT) backed by PostgreSQL', () => {
  let server: PostgresTemporal;
  let yum: YumrepofsServer;
  let bundleDir = '';
  let bundleFile = '';
  const connections: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    const t0 = Date.now();
    const fixtureRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-yum-'));
    bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigrelease-bundle-'));
    bundleFile = path.join(bundleDir, 'workflow-bundle.js');
    [server] = await Promise.all([
      startPostgresTemporal({ namespace: 'sigrelease', secure: { operators: ['alice', 'bob', 'rita'] } }),
      // The prebuilt bundle a deployed worker loads (Dockerfile: deploy/bundle-workflows.ts).
      writeWorkflowBundle(bundleFile),
      (async () => {
        const fixture = await buildYumrepofs(fixtureRoot, defaultCoreFixture());
        yum = await startYumrepofs({ root: fixture.root });
      })(),
    ]);
    console.info(`postgres-release: server + fixture ready in ${Date.now() - t0} ms (${JSON.stringify(server.timings)})`);
  }, 300_000);

  afterAll(async () => {
    await Promise.allSettled(connections.map((c) => c.close()));
    await yum?.close();
    await server?.stop();
    if (bundleDir) fs.rmSync(bundleDir, { recursive: true, force: true });
  }, 120_000);

  const access = () => server.access!;
  /** A client with this folder's certificate (or none) and this token (or none). */
  async function clientAs(tls: TLSConfig | false, apiKey?: string): Promise<Client> {
    const connection = await Connection.connect({ address: server.address, tls, connectTimeout: 5_000, ...(apiKey ? { apiKey } : {}) });
    connections.push(connection);
    return new Client({ connection, namespace: server.namespace });
  }
  /** The environment a person's shell has for both CLIs: their certificate and token (src/config/connection.ts). */
  const personEnv = (folder: ClientFolder, token: string) => ({ TEMPORAL_ADDRESS: server.address, ...access().cliEnv(folder, token) });

  it('refuses clients without a certificate the frontend trusts, and callers without a token', async () => {
    const adminToken = await access().token('probe', { role: 'admin', namespace: server.namespace });
    const noCert = access().clientTls(null);
    await expect(Connection.connect({ address: server.address, tls: noCert, apiKey: adminToken, connectTimeout: 3_000 })).rejects.toThrow(/Failed to connect/);
    // The worker's connection (Rust core). In TLS 1.3 the client's handshake is done before the server has checked
    // its certificate, so the refusal reaches it in one of three ways, by timing alone: the alert "certificate
    // required", the connection closed under its first call (a read), or a broken pipe or reset (a write). A full
    // run met the third once; each is the server hanging up on a client without a certificate.
    await expect(NativeConnection.connect({ address: server.address, tls: noCert, apiKey: adminToken })).rejects.toThrow(
      /CertificateRequired|certificate required|GetSystemInfo.*(connection closed|broken pipe|connection reset)/i,
    );
    await expect(Connection.connect({ address: server.address, tls: false, connectTimeout: 3_000 })).rejects.toThrow(/Failed to connect/);

    // A certificate from another CA (another run of make-certs.sh) is refused like none at all.
    const foreign = path.join(server.dir, 'foreign-tls');
    makeCerts(foreign, ['operator', 'mallory']);
    const foreignTls: TLSConfig = {
      ...noCert,
      clientCertPair: { crt: fs.readFileSync(path.join(foreign, 'operators/mallory/cert.pem')), key: fs.readFileSync(path.join(foreign, 'operators/mallory/key.pem')) },
    };
    await expect(Connection.connect({ address: server.address, tls: foreignTls, apiKey: adminToken, connectTimeout: 3_000 })).rejects.toThrow(/Failed to connect/);

    // The internal-frontend answers without authorization: it must refuse even our own client certificates.
    await expect(Connection.connect({ address: server.internalFrontendAddress!, tls: access().clientTls('operators/alice'), connectTimeout: 3_000 })).rejects.toThrow(/Failed to connect/);

    // A trusted certificate without a token gets no further than the server's identity.
    const anonymous = await clientAs(access().clientTls('operators/alice'));
    await expectDenied(anonymous.workflowService.describeNamespace({ namespace: server.namespace }));
    // A token for another namespace grants nothing here.
    const elsewhere = await clientAs(access().clientTls('operators/alice'), await access().token('alice', { role: 'operator', namespace: 'other' }));
    await expectDenied(elsewhere.workflowService.describeNamespace({ namespace: server.namespace }));
  });

  it('runs the release with a worker token, lets a reader look but not act, refuses unsigned and self-approval, and promotes on another operator\'s signed approval', async () => {
    const t0 = Date.now();
    const taskQueue = uniqueQueue('pg-control');
    const hostTaskQueue = uniqueQueue('pg-host');
    // The worker's credentials come from its site config, as in deploy/site.yaml: CA, certificate, key, token file.
    const tokenFile = path.join(server.dir, 'worker.token');
    fs.writeFileSync(tokenFile, `${await access().token('worker-host-1', { role: 'worker', namespace: server.namespace })}\n`, { mode: 0o600 });
    const tlsFile = (name: string) => path.join(access().tlsDir, 'worker', name);
    const temporal = {
      namespace: server.namespace,
      taskQueue,
      hostTaskQueue,
      tls: { ca: tlsFile('ca.pem'), cert: tlsFile('cert.pem'), key: tlsFile('key.pem'), serverName: access().serverName },
      apiKeyFile: tokenFile,
    };
    // deploy/site.yaml's approval semantics: only signed decisions, and nobody approves a run they started.
    const keys = await approverKeys(fs.mkdtempSync(path.join(server.dir, 'approvers-')), ['alice', 'bob']);
    const approval = { requireSignature: true, forbidSelfApproval: true, allowedSigners: keys.allowedSigners };
    const { site } = testSite({ repoBaseUrl: yum.baseUrl, gitBaseUrl: yum.gitBaseUrl, overrides: { temporal, approval } });
    const { workers, close } = await createWorkers({
      ...workerAccess(site, { TEMPORAL_ADDRESS: server.address }),
      site,
      catalogue: testCatalogue(),
      queues: ['control', 'host'],
    });
    expect(workers.map((w) => w.options.taskQueue).sort()).toEqual([taskQueue, hostTaskQueue].sort());
    const runs = workers.map((w) => w.run());

    const operatorToken = await access().token('alice', { role: 'operator', namespace: server.namespace });
    const approverToken = await access().token('bob', { role: 'operator', namespace: server.namespace });
    const readerToken = await access().token('rita', { role: 'reader', namespace: server.namespace });
    const operator = await connectClient(site, personEnv('operators/alice', operatorToken));
    const approver = await connectClient(site, personEnv('operators/bob', approverToken));
    const reader = await connectClient(site, personEnv('operators/rita', readerToken));
    connections.push(operator.connection, approver.connection, reader.connection);
    let workflowId = '';
    try {
      const request = { release: '9', sig: 'core', hashed: true, fullRun: true, ignoreDebug: true, arches: ['x86_64'], requestedBy: 'alice' };
      // Starting is a write: the reader is refused, the operator is not.
      await expectDenied(startRelease(reader, site, testCatalogue(), request, { taskQueue, workflowId: `${uniqueQueue('denied')}` }));
      // alice starts the run with a signed start, so the worker knows who may not approve it.
      const handle = await startRelease(operator, site, testCatalogue(), request, { taskQueue, sign: { by: 'alice', keyFile: keys.key('alice') } });
      workflowId = handle.workflowId;

      const gate = await waitFor(
        'the run to wait at the approval gate',
        async () => {
          const st = await reader.workflow.getHandle(workflowId).query(statusQuery);
          if (st.stage === 'failed') throw new Error(`run failed: ${st.error}`);
          return st.stage === 'awaiting-approval' ? st : undefined;
        },
        240_000,
        500,
      );
      expect(gate.productionPreview).not.toBeNull();
      expect(fs.existsSync(productionSigDir(site, '9', 'core'))).toBe(false);

      // The reader lists by our search attributes (SQL visibility) and queries, but cannot signal or cancel.
      const listed = await waitFor(
        'the run to be listed as awaiting approval',
        async () => {
          const ids: string[] = [];
          for await (const wf of reader.workflow.list({ query: `SigName = "core" AND SigRelease = "9" AND SigStage = "awaiting-approval"` })) ids.push(wf.workflowId);
          return ids.includes(workflowId) ? ids : undefined;
        },
        30_000,
        500,
      );
      expect(listed).toContain(workflowId);
      await expectDenied(decide(reader, '9', 'core', true, { by: 'rita' }, 'signal'));
      await expectDenied(decide(reader, '9', 'core', true, { by: 'rita' }, 'update'));
      await expectDenied(reader.workflow.getHandle(workflowId).cancel());
      // The same holds on the `temporal` CLI with the same variables.
      const cli = (args: string[]) => spawnSync(temporalCliPath(), [...args, '--namespace', server.namespace], { encoding: 'utf8', env: { ...process.env, ...personEnv('operators/rita', readerToken) } });
      const list = cli(['workflow', 'list', '--query', `WorkflowId = "${workflowId}"`]);
      expect(`${list.status} ${list.stdout}`).toMatch(new RegExp(`^0 [\\s\\S]*${workflowId}`));
      const signal = cli(['workflow', 'signal', '--workflow-id', workflowId, '--name', 'approve', '--input', '{"by":"rita"}']);
      expect(signal.status).not.toBe(0);
      expect(signal.stderr).toMatch(/Request unauthorized/);
      expect((await reader.workflow.getHandle(workflowId).query(statusQuery)).stage).toBe('awaiting-approval');

      // The pre-deploy check (deploy/replay-open-runs.ts) with a reader's rights: the open runs (the waiting
      // release and the pipeline turn it holds) replay on the prebuilt bundle.
      const check = await replayOpenRuns(reader, { bundlePath: bundleFile });
      expect(check).toEqual({ replayed: 2, failures: [] });

      expect(gate.startedBy).toMatchObject({ kind: 'signed', principal: 'alice' });
      // Unsigned, or signed by the starter: refused, with the reason, though alice may write to the namespace.
      const refusal = (call: Promise<unknown>) => call.then(() => 'accepted', (e: unknown) => (e instanceof CliError ? e.message : `unexpected: ${String(e)}`));
      expect(await refusal(decide(operator, '9', 'core', true, { by: 'alice' }))).toMatch(/^refused: core 9 takes only signed decisions \(approval.requireSignature\); sign it: /);
      expect(await refusal(approveSigned(operator, '9', 'core', 'alice', keys.key('alice')))).toBe(
        'refused: alice started core 9 and may not approve it too (approval.forbidSelfApproval); ask another approver',
      );
      // bob, another operator with his own certificate, token and key, approves what he reviewed.
      const ack = await approveSigned(approver, '9', 'core', 'bob', keys.key('bob'));
      const bobKey = (await runToolChecked('ssh-keygen', ['-l', '-f', `${keys.key('bob')}.pub`], SSH_KEYGEN_EXITS)).stdout.split(' ')[1];
      expect(ack).toMatchObject({ accepted: true, decision: { approved: true, by: 'bob', via: 'update', signed: { principal: 'bob', keyFingerprint: bobKey } } });
      const result = await handle.result();
      expect(result.outcome).toBe('promoted');

      const production = treeDigest(productionSigDir(site, '9', 'core'));
      const rpms = [...production.keys()].filter((f) => f.endsWith('.rpm'));
      expect(rpms.length).toBeGreaterThan(0);
      expect(rpms.some((f) => /^x86_64\/core-common\/Packages\/.+\.rpm$/.test(f))).toBe(true);
      expect(production).toEqual(treeDigest(stagingSigDir(site, '9', 'core')));

      const described = await reader.workflow.getHandle(workflowId).describe();
      expect(described.status.name).toBe('COMPLETED');
      expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.stage)).toBe('promoted');
      expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.approver)).toBe('bob');
      console.info(`postgres-release: release ${workflowId} promoted in ${Date.now() - t0} ms`);
    } finally {
      for (const w of workers) w.shutdown();
      await Promise.allSettled(runs);
      await close();
    }

    // A deployed worker loads the prebuilt bundle: it must replay the whole run recorded by the bundle built at start.
    const history = await reader.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: { codePath: bundleFile } }, history, workflowId);
  }, 420_000);

  it('survives the one-shot jobs running again, as on every `docker compose up`', () => {
    const out = server.rerunSetupJobs();
    expect(out.schema).toMatch(/setup-schema: done/);
    expect(out.namespace).toMatch(/sigrelease exists; setting retention 30d/);
    const described = JSON.parse(server.cli(['operator', 'namespace', 'describe', '--namespace', server.namespace, '--output', 'json'])) as {
      config: { workflowExecutionRetentionTtl: string };
    };
    expect(described.config.workflowExecutionRetentionTtl).toBe(`${30 * 24 * 3600}s`);
  });
});
