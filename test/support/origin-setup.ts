/**
 * Global setup of the `workers` project: nginx serving the fixtures, started
 * on the Node side (workerd cannot spawn it) and stopped by PID afterwards;
 * its URL reaches the tests through `inject('nginxOrigin')`.
 */
/// <reference path="./provided.d.ts" />
import type { TestProject } from 'vitest/node';
import { startNginxOrigin } from './http-origin.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const origin = await startNginxOrigin();
  project.provide('nginxOrigin', origin.nginx.url);
  return () => origin.stop();
}
