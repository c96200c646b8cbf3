// Turns files on disk into a validated catalogue and site config. A broken file is rejected with the
// file, the field and the reason; an unknown SIG, release, repo or arch lists what is known.
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../root.js';
import YAML from 'yaml';
import type { z } from 'zod';
import { describeZodError, sigFileSchema, siteSchema, type SigFile, type SigReleaseEntry, type SiteConfig } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The repository's own `config/` folder, whatever the current directory is. */
export const DEFAULT_CONFIG_DIR = path.join(PROJECT_ROOT, 'config');

function parseFile<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  let raw: unknown;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read: ${(e as Error).message}`);
  }
  try {
    raw = YAML.parse(text, { prettyErrors: true });
  } catch (e) {
    throw new ConfigError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const res = schema.safeParse(raw, { reportInput: true });
  if (!res.success) throw new ConfigError(describeZodError(file, res.error));
  return res.data;
}

export type Catalogue = Record<string, SigFile>;

/**
 * Reads every `<dir>/*.yaml`; the file name must match the `sig:` inside it. With `only`, reads just those SIGs'
 * files (a command about one SIG need not parse the others); a name in `only` is matched against the folder's
 * listing, never joined into a path, and one without a file is an unknown SIG that lists the known ones.
 */
export function loadCatalogue(dir = path.join(DEFAULT_CONFIG_DIR, 'sigs'), only?: readonly string[]): Catalogue {
  const out: Catalogue = {};
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort();
  } catch (e) {
    throw new ConfigError(`${dir}: cannot read the SIG catalogue folder: ${(e as Error).message}`);
  }
  if (names.length === 0) throw new ConfigError(`${dir}: no SIG files (*.yaml) found`);
  const stemOf = (n: string) => n.replace(/\.ya?ml$/, '');
  if (only) {
    const stems = new Set(names.map(stemOf));
    const missing = only.find((sig) => !stems.has(sig));
    if (missing !== undefined) throw unknownSig(missing, [...stems]);
  }
  for (const n of names) {
    const stem = stemOf(n);
    if (only && !only.includes(stem)) continue;
    const file = path.join(dir, n);
    const sig = parseFile(file, sigFileSchema);
    if (sig.sig !== stem) throw new ConfigError(`${file}: sig: "${sig.sig}" does not match the file name "${stem}"`);
    out[sig.sig] = sig;
  }
  return out;
}

function unknownSig(sig: string, known: string[]): ConfigError {
  return new ConfigError(`unknown SIG ${JSON.stringify(sig)}; known: ${[...new Set(known)].sort().join(', ')}`);
}

export function loadSite(file: string): SiteConfig {
  return parseFile(file, siteSchema);
}

export function parseSite(raw: unknown, where = 'site config'): SiteConfig {
  const res = siteSchema.safeParse(raw, { reportInput: true });
  if (!res.success) throw new ConfigError(describeZodError(where, res.error));
  return res.data;
}

export interface ResolvedSigRelease {
  sigFile: SigFile;
  entry: SigReleaseEntry;
  revision: string;
}

/** Finds the catalogue entry for one SIG and release, or says which ones exist. */
export function resolveSigRelease(catalogue: Catalogue, site: SiteConfig, sig: string, release: string): ResolvedSigRelease {
  const sigFile = catalogue[sig];
  if (!sigFile) {
    throw unknownSig(sig, Object.keys(catalogue));
  }
  const entry = sigFile.releases[release];
  if (!entry) {
    throw new ConfigError(
      `SIG "${sig}" has no release ${JSON.stringify(release)}; known for ${sig}: ${Object.keys(sigFile.releases).sort().join(', ')}`,
    );
  }
  const rel = site.releases[release];
  if (!rel) {
    throw new ConfigError(
      `release ${JSON.stringify(release)} has no revision in the site config (releases:); known: ${Object.keys(site.releases).sort().join(', ')}`,
    );
  }
  return { sigFile, entry, revision: rel.revision };
}

/** Applies the site's URL rewrites (longest matching prefix wins). */
export function rewriteUrl(site: Pick<SiteConfig, 'urlRewrites'>, url: string): string {
  const hit = [...site.urlRewrites].sort((a, b) => b.from.length - a.from.length).find((r) => url.startsWith(r.from));
  return hit ? hit.to + url.slice(hit.from.length) : url;
}
