import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/setup/sequencer.js';

// Two projects: `unit` needs no Temporal server (pure logic, and real tools on temp trees);
// `integration` (*.int.test.ts) gets one dev server per run from the global setup, and each of its files a
// namespace of its own on it (test/helpers/namespaces.ts).
export default defineConfig({
  test: {
    pool: 'forks',
    // Longest files first on every worker (test/setup/sequencer.ts), the same order on a fresh clone as here.
    sequence: { sequencer: LongestFirstSequencer },
    // Three test processes on two cores: many integration tests wait (retry back-off, heartbeat timeouts, grace
    // periods, slowed fixture servers), and with two processes the cores stood idle 14% of a run (vmstat); with
    // three, 1-5%, and vitest took 873-948 s over four runs instead of 940-1,072 s (process accounting: the same
    // CPU either way).
    maxWorkers: 3,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Before every test file: no TEMPORAL_* or site/webhook variable from the developer's shell steers a test.
    setupFiles: ['test/setup/clean-env.ts'],
    // The client's gRPC retry interceptor may fire a queued retry after its connection was closed in teardown
    // (seen once after a server-restart test). That timer's "Channel has been shut down" is teardown noise; every
    // other unhandled error still fails the run.
    onUnhandledError(error) {
      if (error.message === 'Channel has been shut down' && /grpc-retry/.test(error.stack ?? '')) return false;
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.int.test.ts', 'node_modules/**'],
          // Unit files share their worker process instead of a fresh one each (the module imports were a fifth of
          // the unit run's time). clean-env.ts still runs before every file; integration files stay isolated
          // (each installs its own SDK runtime and workers).
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          // A whole release (real dnf, rsync, a workflow bundle, a dev server) on a 2-core machine shared with the
          // other test process: at a load of 15 several took 80-120 s, right at the 120 s default. The timeout is
          // there to end a hung test, not to judge speed (bench/ does that), so integration tests get 6 minutes.
          testTimeout: 360_000,
          globalSetup: ['test/setup/temporal-server.ts'],
          // Integration files share their worker process too: importing the SDK and our modules afresh cost each
          // of the 40 files a second or more of CPU on a run that is CPU-bound. Nothing in them is per process:
          // namespaces are per file (testNamespace() reads the running file's path), no file installs an SDK
          // runtime of its own, and every file ends the workers, servers and processes it starts.
          isolate: false,
        },
      },
    ],
  },
});
