// Test files do not see each other: each works in its own namespace on the one dev server, with our search
// attributes usable from its first query, and what one file starts is invisible from any other namespace,
// to clients and to the CLI alike. The end-of-run tripwire on the server's `default` namespace is tried here
// on this file's own namespace (it must catch a run).
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { releaseWorkflowId } from '../../src/client.js';
import type { RunRow } from '../../src/cli/runs.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages.js';
import { namespaceForTestFile } from '../helpers/namespaces.js';
import { serverAddress, testClient, testNamespace, testSite, uniqueQueue, waitFor } from '../helpers/temporal.js';
import { cliFor } from '../operations/cli.js';
import { checkNamespaceUnused } from './temporal-server.js';

const started: string[] = [];
afterAll(async () => {
  const client = await testClient();
  for (const id of started) await client.workflow.getHandle(id).terminate('isolation test finished').catch(() => undefined);
});

/** A sigRelease run that no worker picks up: visible to queries, search attributes and all, for as long as needed. */
async function startIdleRun(client: Client, sig: string, release: string): Promise<string> {
  const workflowId = `${releaseWorkflowId(sig, release)}-isolation-${randomUUID().slice(0, 8)}`;
  await client.workflow.start('sigRelease', {
    workflowId,
    taskQueue: uniqueQueue('nobody-polls'),
    args: [{ release, sig }],
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.sig, value: sig },
      { key: SEARCH_ATTRIBUTES.release, value: release },
      { key: SEARCH_ATTRIBUTES.stage, value: 'awaiting-approval' },
    ],
  });
  started.push(workflowId);
  return workflowId;
}

async function idsFor(client: Client, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids;
}

describe('an integration test file', () => {
  it('works in a namespace of its own, named after the file, never the server default', () => {
    expect(testNamespace()).toBe(namespaceForTestFile('test/setup/isolation.int.test.ts'));
    expect(testNamespace()).toBe('it-setup-isolation');
    expect(serverAddress().namespace).toBe('it-setup-isolation');
    expect(testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' }).site.temporal.namespace).toBe('it-setup-isolation');
  });

  it('can query by our search attributes before it has started anything', async () => {
    const client = await testClient();
    const query = Object.values(SEARCH_ATTRIBUTES)
      .map((k) => `${k.name} = "none"`)
      .join(' AND ');
    expect(await idsFor(client, query)).toEqual([]);
  });

  it('starts runs that no other namespace lists, and that its own CLI lists', async () => {
    const client = await testClient();
    const mine = await startIdleRun(client, 'hpc', '9');
    const query = `SigName = "hpc" AND SigRelease = "9" AND SigStage = "awaiting-approval"`;
    await waitFor('visibility to list the run in this file’s namespace', async () => ((await idsFor(client, query)).includes(mine) ? true : undefined));

    // The same query from the server's default namespace (read only) finds nothing of ours.
    const { address } = serverAddress();
    const connection = await Connection.connect({ address });
    try {
      const elsewhere = new Client({ connection, namespace: 'default' });
      expect(await idsFor(elsewhere, `WorkflowId = "${mine}"`)).toEqual([]);
      await expect(elsewhere.workflow.getHandle(mine).describe()).rejects.toThrow(/not found/i);
    } finally {
      await connection.close();
    }

    // `sigrelease list` with a site file naming this namespace sees it; the CLI reads nothing from the environment.
    const { site } = testSite({ repoBaseUrl: 'http://127.0.0.1:9/unused' });
    const listed = await cliFor(site, uniqueQueue('isolation')).json<RunRow[]>(['list', '--sig', 'hpc', '--stage', 'awaiting-approval']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.data.map((r) => r.workflowId)).toContain(mine);
  }, 120_000);

  it('trips the end-of-run check once a run exists in the namespace it watches, naming the run', async () => {
    const client = await testClient();
    const { address } = serverAddress();
    const connection = await Connection.connect({ address });
    try {
      const id = await startIdleRun(client, 'kernel', '8');
      const message = await waitFor('the check to find the run', async () => {
        const err = await checkNamespaceUnused(connection, testNamespace()).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        return err?.message.includes(id) ? err.message : undefined;
      });
      expect(message).toContain(`integration tests used the dev server's "it-setup-isolation" namespace (`);
      expect(message).toContain(`workflow ${id}`);
    } finally {
      await connection.close();
    }
  });
});
