// Bundles the built CLI (dist/src/cli/main.js, made by tsc) into dist/cli/: one module graph in a few files
// instead of about two hundred, with the parts no command uses (zod's locales among them) left out. Short
// commands (start, approve, status, list, a refusal of any of them) start from it; bin/sigrelease keeps the
// unbundled dist/src/ for the long-running ones (worker, server, demo, filelist), whose worker threads and
// workflow bundling find their modules by file path. The Temporal SDK and gRPC stay outside the bundle and load
// from node_modules only in the commands that connect.
//
//   node scripts/bundle-cli.mjs [outdir [entry]]   (default dist/cli from dist/src/cli/main.js: run after
//                                                   `tsc -p tsconfig.build.json`; the tests bundle src/cli/main.ts)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.resolve(process.argv[2] ?? path.join(root, 'dist/cli'));
const entry = path.resolve(process.argv[3] ?? path.join(root, 'dist/src/cli/main.js'));
if (!fs.existsSync(entry)) {
  console.error(`bundle-cli: ${entry} does not exist${process.argv[3] ? '' : '; run tsc -p tsconfig.build.json first'}`);
  process.exit(2);
}

// Built beside the target and swapped in, so that a failed bundle never leaves half a folder to start from.
const tmp = `${outdir}.next`;
fs.rmSync(tmp, { recursive: true, force: true });
await build({
  entryPoints: { main: entry },
  outdir: tmp,
  bundle: true,
  splitting: true, // each command's dynamic import stays a chunk of its own, loaded when that command runs
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@temporalio/*', '@grpc/*'],
  // CommonJS packages in the bundle (commander) call require() for Node's own modules.
  banner: { js: "import { createRequire as __sigreleaseRequire } from 'node:module'; const require = __sigreleaseRequire(import.meta.url);" },
  logLevel: 'warning',
});
fs.rmSync(outdir, { recursive: true, force: true });
fs.renameSync(tmp, outdir);
