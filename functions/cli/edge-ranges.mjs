#!/usr/bin/env node
// The `edge-ranges` command: runs functions/cli/edge-ranges.ts.
//
// Starting through tsx's loader costs about half a second here (a loader
// thread, esbuild behind it), a lot for a command line tool. So the entry is
// bundled once with esbuild (a devDependency, as tsx is) into
// node_modules/.cache/edge-ranges/, and rebuilt whenever a source file it was
// built from changes. Without esbuild, tsx runs the TypeScript as it is.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const entry = `${root}functions/cli/edge-ranges.ts`;
const cache = `${root}node_modules/.cache/edge-ranges`;
const bundle = `${cache}/cli.mjs`;
const manifest = `${cache}/cli.json`;

/** Whether the bundle was built from the sources as they are now (each input's mtime). */
function fresh() {
  try {
    const { inputs } = JSON.parse(readFileSync(manifest, 'utf8'));
    return Object.entries(inputs).every(([file, mtime]) => statSync(`${root}${file}`).mtimeMs === mtime);
  } catch {
    return false;
  }
}

async function rebuild() {
  const { build } = await import('esbuild');
  const temp = `${bundle}.${process.pid}.tmp`;
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: temp,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.fromEntries(Object.keys(result.metafile.inputs).map((file) => [file, statSync(`${root}${file}`).mtimeMs]));
  // Bundle first, then the manifest that vouches for it; both by rename, so
  // commands started at the same time never read half a file.
  renameSync(temp, bundle);
  writeFileSync(`${manifest}.${process.pid}.tmp`, JSON.stringify({ inputs }));
  renameSync(`${manifest}.${process.pid}.tmp`, manifest);
}

let target = pathToFileURL(bundle).href;
if (!fresh()) {
  try {
    mkdirSync(cache, { recursive: true });
    await rebuild();
  } catch {
    const { register } = await import('tsx/esm/api');
    register();
    target = pathToFileURL(entry).href;
  }
}
await import(target);
