// What the Temporal Web UI shows of a release run, in Temporal markdown: the static summary and details set when
// the run starts (our CLI, the demo, schedules), and the current details at the approval gate. Everything that
// came from a person or a request goes through markdownText/markdownCode, so it shows exactly as typed.
// Pure, and free of Node imports: the workflow bundle imports it for the gate's details.
import { markdownCode, markdownText } from './markdown.js';

/** The part of a release request the summary names (a validated ReleaseRequest, or a schedule's). */
export interface RunRequest {
  release: string;
  sig: string;
  fullRun?: boolean;
  dryRun?: boolean;
  composeOnly?: boolean;
  requestedBy?: string;
  repos?: readonly string[];
  arches?: readonly string[];
  [flag: string]: unknown;
}

/** Where the run stops: a dry run composes nothing; compose only stops before staging; else at the gate and on. */
export function runMode(request: RunRequest): 'dry run' | 'compose only' | 'full pipeline' {
  if (request.dryRun) return 'dry run';
  if (request.composeOnly) return 'compose only';
  return 'full pipeline';
}

const whoStarted = (request: RunRequest) => (request.requestedBy?.trim() ? request.requestedBy.trim() : 'an unnamed client');

/** One line for the workflow list: `core 9: full pipeline, new compose; started by neil`. */
export function runSummary(request: RunRequest): string {
  // Runs that enter after the compose (src/lifecycle/names.ts) say so instead of describing a compose.
  if (request.from === 'staging' && typeof request.composeId === 'string') return markdownText(`${request.sig} ${request.release}: rollback to ${request.composeId}; started by ${whoStarted(request)}`);
  if (request.from === 'staging' || request.from === 'gate' || request.from === 'lists') {
    return markdownText(`${request.sig} ${request.release}: from ${request.from}, no compose; started by ${whoStarted(request)}`);
  }
  const compose = request.dryRun ? 'nothing written' : request.fullRun ? 'new compose' : 'in-place compose';
  return markdownText(`${request.sig} ${request.release}: ${runMode(request)}, ${compose}; started by ${whoStarted(request)}`);
}

/** The request as `start` flags, e.g. `--hashed --full-run --arch x86_64` (boolean keys are the flags in camelCase). */
export function requestAsFlags(request: RunRequest): string {
  const out: string[] = [];
  if (request.repos?.length) out.push(`--repo ${request.repos.join(',')}`);
  if (request.arches?.length) out.push(`--arch ${request.arches.join(',')}`);
  for (const [key, value] of Object.entries(request)) {
    if (value === true) out.push(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  }
  return out.join(' ');
}

/** Several lines for the run's page: what was asked for and by whom. */
export function runDetails(request: RunRequest): string {
  const flags = requestAsFlags(request);
  return [
    `**${markdownText(`${request.sig} ${request.release}`)}**: ${runMode(request)}`,
    '',
    `- flags: ${flags ? markdownCode(flags) : 'none'}`,
    `- started by: ${markdownText(whoStarted(request))}`,
  ].join('\n');
}

export interface GateDetailsInput {
  /** `<sig> <release>`. */
  title: string;
  /** ISO time the approval expires. */
  deadline: string;
  /** The production preview as a markdown table (built by the workflow, shared with the notification). */
  previewTable: string;
  /** The compose's JSON manifest, when the compose wrote one. */
  manifest: string | null;
  /** Full itemized reports of the staging sync and of the production preview. */
  reports: { staging?: string; production?: string };
  /** What an approval approves: the compose and the staging digest (workflows/approvedStaging.ts). */
  fingerprint?: { composeId: string; stagingDigest: string; stagingEntries: number } | null;
}

/** The run's current details while it waits at the approval gate. */
export function gateDetails(g: GateDetailsInput): string {
  const example = '{"by": "<you>", "comment": "..."}';
  const paths = [
    g.manifest ? `- compose manifest: ${markdownCode(g.manifest)}` : '',
    g.reports.staging ? `- staging sync report: ${markdownCode(g.reports.staging)}` : '',
    g.reports.production ? `- production preview report: ${markdownCode(g.reports.production)}` : '',
  ].filter(Boolean);
  return [
    `**${markdownText(g.title)}** waits for approval until ${markdownText(g.deadline)}.`,
    '',
    `Send signal ${markdownCode('approve')} (or ${markdownCode('reject')}) with input ${markdownCode(example)}.`,
    ...(paths.length ? ['', ...paths] : []),
    ...(g.fingerprint
      ? [
          '',
          `You approve compose ${markdownCode(g.fingerprint.composeId)} with staging digest ${markdownCode(g.fingerprint.stagingDigest)} (${g.fingerprint.stagingEntries} entries). ` +
            `If staging changes before production is written, the run fails and production is not touched. A decision may name the compose: ${markdownCode(`"composeId": "${g.fingerprint.composeId}"`)}.`,
        ]
      : []),
    '',
    g.previewTable,
  ].join('\n');
}
