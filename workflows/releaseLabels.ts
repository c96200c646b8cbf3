// Workflow interceptors (bundled through src/bundleOptions.ts): every activity a pipeline run schedules carries
// the run's SIG and release in a header, so the activities' metrics are labelled sig/release whatever their
// input looks like. Headers are not part of what replay compares, so this adds no command and changes no history
// a running workflow would check against.
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { RELEASE_LABELS_HEADER, releaseLabelsOf } from '../src/metrics/labels.js';
import type { ReleaseLabels } from '../src/metrics/names.js';

export const interceptors: WorkflowInterceptorsFactory = () => {
  // One factory call per workflow execution: this closure is the run's own state.
  let header: Payload | null = null;
  const remember = (labels: ReleaseLabels | null) => {
    header = labels ? defaultPayloadConverter.toPayload(labels) : null;
  };
  return {
    inbound: [
      {
        async execute(input, next) {
          remember(releaseLabelsOf(input.args[0]));
          return next(input);
        },
      },
    ],
    outbound: [
      {
        async scheduleActivity(input, next) {
          return next(header ? { ...input, headers: { ...input.headers, [RELEASE_LABELS_HEADER]: header } } : input);
        },
      },
    ],
  };
};
