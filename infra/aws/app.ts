/**
 * The CDK app. Two ways in:
 *
 * - `npm run infra:synth [-- -c bucketName=… -c keyPrefix=… -c originSecret=…]`: builds the
 *   Lambda packages (infra/aws/build), synthesizes to infra/aws/cdk.out (failing on any finding
 *   of the CloudFormation validator, see STRICT_VALIDATION) and prints each stack's template
 *   (JSON) to stdout, its name and path to stderr. Offline: no AWS account, no credentials, no
 *   network (no lookups; the CDK CLI, which checks versions and notices, is not involved).
 * - `npm run infra:deploy -- -c bucketName=…`: the aws-cdk CLI runs this file (infra/aws/cdk.json)
 *   with CDK_OUTDIR and the context in its environment; no template is printed then.
 */
import { join } from 'node:path';
import { ROOT } from './bundle.ts';
import { PLACEHOLDER_BUCKET, buildApp } from './stack.ts';

const DEFAULT_OUTDIR = join(ROOT, 'infra', 'aws', 'cdk.out');

/** `-c key=value` / `--context key=value` pairs (the CLI passes its own through CDK_CONTEXT_JSON). */
function contextFromArgv(argv: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg !== '-c' && arg !== '--context') throw new Error(`infra/aws/app.ts: unknown argument ${arg}; use -c key=value`);
    const pair = argv[++i] ?? '';
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`infra/aws/app.ts: -c wants key=value, got "${pair}"`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
}

const underCli = process.env.CDK_OUTDIR !== undefined;
const { app, settings } = await buildApp({
  outdir: process.env.CDK_OUTDIR ?? DEFAULT_OUTDIR,
  context: underCli ? {} : contextFromArgv(process.argv.slice(2)),
});
const assembly = app.synth();

const caveats = [
  settings.bucketName === PLACEHOLDER_BUCKET ? 'placeholder bucket name (deploy with -c bucketName=<globally unique name>)' : undefined,
  settings.originSecretDerived ? 'origin secret derived from the bucket name (pass -c originSecret=$(openssl rand -hex 32))' : undefined,
].filter((c) => c !== undefined);
if (caveats.length > 0) console.error(`infra/aws: ${caveats.join('; ')}`);
if (!underCli) {
  for (const stack of assembly.stacks) {
    // The name to stderr: with one stack, stdout is exactly its template (`| jq` works).
    console.error(`infra/aws: ${stack.stackName} (${stack.environment.region}): ${stack.templateFullPath}`);
    console.log(JSON.stringify(stack.template, null, 2));
  }
}
