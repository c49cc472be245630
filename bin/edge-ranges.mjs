#!/usr/bin/env node
// The `edge-ranges` command: runs the TypeScript entry through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../functions/cli/edge-ranges.ts');
