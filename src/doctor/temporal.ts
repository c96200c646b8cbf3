// Temporal as the worker sees it: the frontend answers, the namespace exists, our search attributes are
// registered with the right type, and a worker polls each task queue the site uses.
import type { Connection, ConnectionOptions } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../workflows/messages.js';
import { check, type Check } from './report.js';

// Wire values of the Temporal API enums (temporal/api/enums/v1), so that no proto package is needed here.
const INDEXED_VALUE_TYPE_KEYWORD = 2;
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE = { workflow: 1, activity: 2 } as const;

export interface TemporalTarget {
  /** As every other client connects (TLS and token included): src/config/connection.ts. */
  connect: ConnectionOptions;
  address: string;
  namespace: string;
  /** Queues and what must poll them: workflows and activities on the control queue, activities on the host queue. */
  queues: Array<{ name: string; role: string; types: Array<keyof typeof TASK_QUEUE_TYPE> }>;
}

const CALL_TIMEOUT_MS = 5_000;

export async function checkTemporal(target: TemporalTarget): Promise<Check[]> {
  const { Connection } = await import('@temporalio/client');
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...target.connect, connectTimeout: CALL_TIMEOUT_MS });
  } catch (e) {
    return [
      check('temporal', 'server', 'fail', `cannot reach Temporal at ${target.address} (${oneLine(e)}): start it, or set temporal.address in the site config (or TEMPORAL_ADDRESS)`),
      check('temporal', 'search attributes', 'skip', 'needs the server'),
      check('temporal', 'workers', 'skip', 'needs the server'),
    ];
  }
  try {
    const call = <T>(fn: () => Promise<T>) => connection.withDeadline(Date.now() + CALL_TIMEOUT_MS, fn);
    try {
      await call(() => connection.workflowService.describeNamespace({ namespace: target.namespace }));
    } catch (e) {
      return [
        check('temporal', 'server', 'fail', `Temporal at ${target.address} answers, but namespace "${target.namespace}" cannot be described (${oneLine(e)}): create it, or fix temporal.namespace (or TEMPORAL_NAMESPACE)`),
        check('temporal', 'search attributes', 'skip', 'needs the namespace'),
        check('temporal', 'workers', 'skip', 'needs the namespace'),
      ];
    }
    const out = [check('temporal', 'server', 'ok', `${target.address}, namespace "${target.namespace}"`)];
    out.push(...(await searchAttributeChecks(target.namespace, call, connection)));
    for (const q of target.queues) out.push(...(await pollerChecks(target.namespace, q, call, connection)));
    return out;
  } finally {
    await connection.close();
  }
}

type Call = <T>(fn: () => Promise<T>) => Promise<T>;

async function searchAttributeChecks(namespace: string, call: Call, connection: Connection): Promise<Check[]> {
  let registered: Record<string, unknown>;
  try {
    registered = (await call(() => connection.operatorService.listSearchAttributes({ namespace }))).customAttributes ?? {};
  } catch (e) {
    return [check('temporal', 'search attributes', 'fail', `cannot list the search attributes of "${namespace}": ${oneLine(e)}`)];
  }
  return Object.values(SEARCH_ATTRIBUTES).map((key) => {
    const what = `search attribute ${key.name}`;
    const type = registered[key.name];
    const create = `temporal operator search-attribute create --namespace ${namespace} --name ${key.name} --type Keyword`;
    if (type === undefined) return check('temporal', what, 'fail', `not registered in "${namespace}", so runs cannot be listed by it: ${create}`);
    if (Number(type) !== INDEXED_VALUE_TYPE_KEYWORD) return check('temporal', what, 'fail', `registered in "${namespace}" with another type than Keyword; remove it and run: ${create}`);
    return check('temporal', what, 'ok', 'Keyword');
  });
}

async function pollerChecks(namespace: string, queue: TemporalTarget['queues'][number], call: Call, connection: Connection): Promise<Check[]> {
  const out: Check[] = [];
  for (const type of queue.types) {
    const what = `${type} worker on ${queue.name}`;
    try {
      const res = await call(() =>
        connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: queue.name, kind: TASK_QUEUE_KIND_NORMAL },
          taskQueueType: TASK_QUEUE_TYPE[type],
        }),
      );
      const pollers = (res.pollers ?? []).map((p) => p.identity ?? '?');
      out.push(
        pollers.length > 0
          ? check('temporal', what, 'ok', `polled by ${pollers.join(', ')}`)
          : check('temporal', what, 'fail', `nobody polls the ${queue.role} queue "${queue.name}" for ${type} tasks: releases would wait for ever. Start one: sigrelease worker --queues ${queue.role}`),
      );
    } catch (e) {
      out.push(check('temporal', what, 'fail', `cannot describe task queue "${queue.name}": ${oneLine(e)}`));
    }
  }
  return out;
}

const oneLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n')[0];
